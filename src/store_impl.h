/*
 * The store's own files share this: the handle's layout, its prepared
 * statements and the calls between store.c (the handle: open, close,
 * transactions), store_schema.c (version, migrations, whose database it
 * is), store_access.c (the database file on disk: folder, creation, mode,
 * writer lock, read-only access) and store_write.c (the rows scan and
 * follow write).  Only src/store*.c include it; other modules with SQL of
 * their own use store_internal.h.
 */
#ifndef AGENTWATCH_STORE_IMPL_H
#define AGENTWATCH_STORE_IMPL_H

#include <sqlite3.h>
#include <stdbool.h>

#include "agentwatch/store.h"
#include "hours.h"

/* The write statements, prepared once when the store opens read-write. */
enum stmt_id {
    STMT_FILE_CANDIDATES,
    STMT_FILE_INSERT,
    STMT_FILE_PROGRESS,
    STMT_FILES_UNREAD,
    STMT_FILE_SETTLE,
    STMT_FINDING_INSERT,
    STMT_FINDING_COMPLETE,
    STMT_RULE_UPSERT,
    STMT_HOURS_UPSERT,
    STMT_COUNT
};

struct aw_store {
    sqlite3 *db;
    char *path;
    bool readonly;
    bool in_txn;
    int lock_fd;              /* PATH.lock held by an exclusive store, or -1 */
    int version;
    sqlite3_stmt *stmt[STMT_COUNT];
    char message[AW_FINDING_MESSAGE_MAX + 1];   /* scratch for cleaned text */
    char target[AW_FINDING_CAPTURE_MAX + 1];
    char code[AW_FINDING_CAPTURE_MAX + 1];
    struct aw_hours *hours;   /* new findings per hour, added at commit */
    aw_store_commit_hook hook;   /* the spool (issue 13), or NULL */
    void *hook_ctx;
    char notice[AW_ERR_MSG_MAX];  /* a repair made on open, or "" */
};

/* ---- store_schema.c ---- */

/* Read PRAGMA user_version into *version. */
int aw_store_read_version(struct aw_store *s, int *version, struct aw_err *err);

/* aw_head_sums(head BLOB), the SQL function SQL_MIGRATE_7 calls. */
void aw_store_sql_head_sums(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* Bring the schema from s->version to AW_STORE_SCHEMA_VERSION. */
int aw_store_migrate(struct aw_store *s, struct aw_err *err);

/* Refuse another application's SQLite file (AW_EDB) before writing to it. */
int aw_store_check_ours(struct aw_store *s, struct aw_err *err);

/* ---- store_access.c ---- */

/* Refuse a database folder others may write to, unless flags allow it. */
int aw_store_check_folder(const char *path, unsigned flags, struct aw_err *err);

/* Create the database file 0600 (0640 in a group-shared folder), or check
 * and repair the one there (the repair is said in s->notice). */
int aw_store_create_private(struct aw_store *s, const char *path, struct aw_err *err);

/* Take PATH.lock into s->lock_fd, or fail (AW_EBUSY) naming its holder. */
int aw_store_take_writer_lock(struct aw_store *s, struct aw_err *err);

/* A reader's check that the database exists and this user may read it. */
int aw_store_check_readable(const char *path, struct aw_err *err);

/* Must a read-only open go without the WAL index (read-only folder)? */
bool aw_store_readonly_needs_immutable(const char *path);

/* Open path read-only with SQLite's immutable URI parameter into s->db. */
int aw_store_open_immutable(struct aw_store *s, const char *path, struct aw_err *err);

/* ---- store_write.c ---- */

/* Add the tally of new findings to finding_hours (in their transaction). */
int aw_store_flush_hours(struct aw_store *s, struct aw_err *err);

#endif
