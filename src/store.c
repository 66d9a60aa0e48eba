/*
 * Store: SQLite persistence (see store.h).  This file is the handle: the
 * order of checks that opens a database, closing it, transactions with the
 * spool's commit hook, and the SQL door of store_internal.h.  The schema,
 * the file on disk and the rows written are the other store_*.c files
 * (src/store_impl.h).
 *
 * Every error message names the database path and carries SQLite's own
 * message, because "database error" alone helps nobody at 3 a.m.
 *
 * Durability: WAL with synchronous=NORMAL.  A power cut may lose the last
 * committed transactions, but never splits one, and a transaction always
 * holds findings together with the read position that covers them: what is
 * lost is simply read again.
 */
#include "agentwatch/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/platform.h"
#include "store_impl.h"
#include "store_internal.h"
#include "store_sql.h"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_FILE_CANDIDATES] = SQL_FILE_CANDIDATES,
    [STMT_FILE_INSERT] = SQL_FILE_INSERT,
    [STMT_FILE_PROGRESS] = SQL_FILE_PROGRESS,
    [STMT_FILES_UNREAD] = SQL_FILES_UNREAD,
    [STMT_FILE_SETTLE] = SQL_FILE_SETTLE,
    [STMT_FINDING_INSERT] = SQL_FINDING_INSERT,
    [STMT_FINDING_COMPLETE] = SQL_FINDING_COMPLETE,
    [STMT_RULE_UPSERT] = SQL_RULE_UPSERT,
    [STMT_HOURS_UPSERT] = SQL_HOURS_UPSERT,
};

static int db_error(struct aw_store *s, struct aw_err *err, const char *what)
{
#ifdef EFBIG
    /* SQLite reports a write refused for the file-size limit as a plain
     * I/O error; say what it is, as it says "database or disk is full"
     * for ENOSPC.  sqlite3_system_errno() is not always kept for a failed
     * write, but errno still holds the failed write's EFBIG here (it is
     * only read after SQLite reported an I/O error). */
    int saved = errno;

    if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_IOERR &&
        (sqlite3_system_errno(s->db) == EFBIG || saved == EFBIG)) {
        return aw_err_set(err, AW_EDB, "%s: %s: file size limit exceeded (EFBIG; see ulimit -f):"
                          " %s", s->path, what, sqlite3_errmsg(s->db));
    }
#endif
    return aw_err_set(err, AW_EDB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int aw_store_exec(struct aw_store *s, const char *sql, const char *what, struct aw_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        sqlite3_free(msg);
        return db_error(s, err, what);   /* its message is msg */
    }
    return AW_OK;
}

int aw_store_int(struct aw_store *s, const char *sql, int *out, const char *what,
                 struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = AW_OK;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = db_error(s, err, what);
    } else {
        *out = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return rc;
}

static int prepare_all(struct aw_store *s, struct aw_err *err)
{
    /* Read-only stores never write: every statement here writes, and the
     * readers (query.c, export.c) prepare their own. */
    if (s->readonly) {
        return AW_OK;
    }
    for (int i = 0; i < STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK) {
            return db_error(s, err, "cannot prepare a statement");
        }
    }
    return AW_OK;
}

/* The database file itself, before SQLite reads it: a writer checks the
 * folder, takes the lock when exclusive and creates the file private; a
 * reader checks it may read.  Then SQLite opens it. */
static int open_file(struct aw_store *s, const char *path, unsigned flags, struct aw_err *err)
{
    int open_flags;
    int rc;

    if (!s->readonly) {
        rc = aw_store_check_folder(path, flags, err);
        if (rc != AW_OK) {
            return rc;
        }
    }
    if ((flags & AW_STORE_EXCLUSIVE) && !s->readonly) {
        rc = aw_store_take_writer_lock(s, err);
        if (rc != AW_OK) {
            return rc;
        }
    }
    if (s->readonly) {
        rc = aw_store_check_readable(path, err);
        if (rc != AW_OK) {
            return rc;
        }
        open_flags = SQLITE_OPEN_READONLY;
    } else {
        rc = aw_store_create_private(s, path, err);
        if (rc != AW_OK) {
            return rc;
        }
        open_flags = SQLITE_OPEN_READWRITE;
    }
    if (s->readonly && aw_store_readonly_needs_immutable(path)) {
        /* A folder (or -shm) we may not write: SQLite cannot create the
         * WAL index a WAL-mode reader needs.  With no WAL content there is
         * nothing it would tell us, and SQLite documents the immutable
         * URI parameter for exactly this (https://www.sqlite.org/wal.html,
         * "Read-Only Databases"): the file is read as it is, unlocked. */
        return aw_store_open_immutable(s, path, err);
    }
    if (sqlite3_open_v2(path, &s->db, open_flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        return s->db != NULL ? db_error(s, err, "cannot open database")
                             : aw_err_set(err, AW_ENOMEM, "%s: cannot open database", path);
    }
    return AW_OK;
}

/* The open connection's settings, then its schema: a version this build
 * knows, agentwatch's database, and (a writer) the migrations up to
 * AW_STORE_SCHEMA_VERSION; a reader needs the current schema already. */
static int open_schema(struct aw_store *s, const char *path, struct aw_err *err)
{
    int rc;

    sqlite3_extended_result_codes(s->db, 1);
    if (sqlite3_create_function(s->db, "aw_head_sums", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, aw_store_sql_head_sums, NULL, NULL) != SQLITE_OK) {
        return db_error(s, err, "cannot register a function");
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* The first real read tells whether this is an SQLite file at all. */
    rc = aw_store_read_version(s, &s->version, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (s->version > AW_STORE_SCHEMA_VERSION) {
        return aw_err_set(err, AW_EDB,
                          "%s: database schema version %d is newer than this agentwatch supports"
                          " (%d); upgrade agentwatch",
                          path, s->version, AW_STORE_SCHEMA_VERSION);
    }
    rc = aw_store_check_ours(s, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (s->readonly) {
        if (s->version < AW_STORE_SCHEMA_VERSION) {
            return aw_err_set(err, AW_EDB,
                              "%s: database schema version %d is older than %d; run"
                              " 'agentwatch scan' once to upgrade it",
                              path, s->version, AW_STORE_SCHEMA_VERSION);
        }
        return AW_OK;
    }
    /* auto_vacuum only takes effect before the first table exists (a
     * new database); on an older one it is a no-op until prune's
     * one-time VACUUM (see src/retention.c). */
    rc = aw_store_exec(s, "PRAGMA auto_vacuum=INCREMENTAL;"
                     " PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     " PRAGMA foreign_keys=ON;", "cannot configure the database", err);
    if (rc == AW_OK) {
        rc = aw_store_migrate(s, err);
    }
    return rc;
}

int aw_store_open(struct aw_store **out, const char *path, unsigned flags, struct aw_err *err)
{
    struct aw_store *s = NULL;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
        goto out;
    }
    s->lock_fd = -1;
    s->readonly = (flags & AW_STORE_READONLY) != 0;
    rc = open_file(s, path, flags, err);
    if (rc == AW_OK) {
        rc = open_schema(s, path, err);
    }
    if (rc == AW_OK) {
        rc = prepare_all(s, err);
    }
    if (rc != AW_OK) {
        goto out;
    }
    *out = s;
    s = NULL;
out:
    aw_store_close(&s);
    return rc;
}

void aw_store_close(struct aw_store **sp)
{
    struct aw_store *s = sp != NULL ? *sp : NULL;

    if (s == NULL) {
        return;
    }
    aw_store_rollback(s);
    for (int i = 0; i < STMT_COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
    }
    sqlite3_close(s->db);
    if (s->lock_fd >= 0) {
        aw_os_close(s->lock_fd);
    }
    aw_hours_free(&s->hours);
    free(s->path);
    free(s);
    *sp = NULL;
}

const char *aw_store_notice(const struct aw_store *s)
{
    return s->notice[0] != '\0' ? s->notice : NULL;
}

int aw_store_schema_version(const struct aw_store *s)
{
    return s->version;
}

int aw_store_begin(struct aw_store *s, struct aw_err *err)
{
    int rc = aw_store_exec(s, "BEGIN IMMEDIATE", "cannot begin a transaction", err);

    if (rc == AW_OK) {
        s->in_txn = true;
    }
    return rc;
}


void aw_store_set_commit_hook(struct aw_store *s, aw_store_commit_hook fn, void *ctx)
{
    s->hook = fn;
    s->hook_ctx = ctx;
}

int aw_store_commit(struct aw_store *s, struct aw_err *err)
{
    int rc = aw_store_flush_hours(s, err);
    bool hooked = false;

    if (rc == AW_OK && s->hook != NULL && s->in_txn) {
        s->hook(s->hook_ctx, AW_STORE_PRE_COMMIT);
        hooked = true;
    }
    if (rc == AW_OK) {
        rc = aw_store_exec(s, "COMMIT", "cannot commit", err);
    }

    if (rc == AW_OK) {
        s->in_txn = false;
        if (hooked) {
            s->hook(s->hook_ctx, AW_STORE_COMMITTED);
        }
    } else {
        aw_store_rollback(s);
        if (hooked) {
            s->hook(s->hook_ctx, AW_STORE_ROLLED_BACK);
        }
    }
    return rc;
}

void aw_store_rollback(struct aw_store *s)
{
    aw_hours_clear(s->hours);
    if (s->in_txn) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_txn = false;
    }
}

int aw_store_run(struct aw_store *s, sqlite3_stmt *st, const char *what, struct aw_err *err)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE) {
        rc = db_error(s, err, what);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return rc;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return AW_OK;
}

sqlite3 *aw_store_sqlite(struct aw_store *s)
{
    return s->db;
}

const char *aw_store_path(const struct aw_store *s)
{
    return s->path;
}

int aw_store_db_error(struct aw_store *s, struct aw_err *err, const char *what)
{
    return db_error(s, err, what);
}

