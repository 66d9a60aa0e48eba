/*
 * Store: the SQLite database of files, findings and rule metadata.
 *
 * One database file, WAL mode, schema versioned by PRAGMA user_version and
 * brought forward by migrations that each run in their own transaction.
 * All SQL lives in src/store_sql.h and runs as prepared statements.
 *
 * The write path is transactional by design: a caller begins a transaction,
 * adds the findings of a stretch of a file, records the file's new read
 * position, and commits.  Because findings and the position they cover are
 * committed together, a crash at any moment leaves the database either
 * before or after that stretch, never in between.  A finding is also unique
 * per (file, byte offset), so a record that was classified once (e.g. a
 * partial final record) is never stored twice.
 */
#ifndef AGENTWATCH_STORE_H
#define AGENTWATCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/fileid.h"
#include "agentwatch/rules.h"

#define AW_STORE_SCHEMA_VERSION 10

/* Longest message kept with a finding, in bytes of UTF-8. */
#define AW_FINDING_MESSAGE_MAX 2048

/* Shortest common head that identifies a file without the inode hint. */
#define AW_HEAD_MIN_MATCH 64

enum aw_store_flags {
    AW_STORE_READONLY = 1 << 0,  /* open an existing database for queries */
    AW_STORE_EXCLUSIVE = 1 << 1, /* be the only writer: take PATH.lock, or
                                    fail with AW_EBUSY naming the holder */
    AW_STORE_ALLOW_UNSAFE_DIR = 1 << 2 /* write even in a folder others may
                                          write to (--allow-unsafe-dir) */
};

struct aw_store;

/* Open (creating it unless read-only, with a mode of 0600) and migrate the
 * database at path.  A file that is not an SQLite database, another
 * application's SQLite database (application_id, tables), or one with a
 * newer schema than this program knows, is refused and left untouched.
 * Writing, the database is refused (AW_EDENIED, one line saying why) when
 * its folder is writable by group or others (unless
 * AW_STORE_ALLOW_UNSAFE_DIR), when the path or PATH.lock is a symbolic
 * link, or when either is owned by another user; a database of ours with
 * a mode open to others is repaired to 0600 (aw_store_notice).  Caller
 * frees with aw_store_close(). */
int aw_store_open(struct aw_store **out, const char *path, unsigned flags,
                  struct aw_err *err);

/* Close the database; an open transaction is rolled back.  Sets *s to
 * NULL. Accepts NULL. */
void aw_store_close(struct aw_store **s);

/* The one line saying what opening repaired, or NULL. */
const char *aw_store_notice(const struct aw_store *s);

/* Schema version of the open database. */
int aw_store_schema_version(const struct aw_store *s);

/* A hook run by aw_store_commit(): before COMMIT, inside the transaction
 * (the spool writes the new findings and its position there, so that both
 * are committed with them), then once more with the outcome.  A hook
 * keeps its own errors: the findings are committed whatever it did. */
enum aw_store_hook_event {
    AW_STORE_PRE_COMMIT,
    AW_STORE_COMMITTED,
    AW_STORE_ROLLED_BACK
};

typedef void (*aw_store_commit_hook)(void *ctx, enum aw_store_hook_event ev);

/* Install (fn) or remove (NULL) the commit hook. */
void aw_store_set_commit_hook(struct aw_store *s, aw_store_commit_hook fn, void *ctx);

int aw_store_begin(struct aw_store *s, struct aw_err *err);
int aw_store_commit(struct aw_store *s, struct aw_err *err);
/* Roll back the open transaction, if any. */
void aw_store_rollback(struct aw_store *s);

/* A file as the store remembers it. */
struct aw_file_row {
    int64_t id;
    uint64_t dev;
    uint64_t ino;
    uint64_t size;            /* size when last read */
    uint64_t offset;          /* where reading resumes */
    uint64_t marker;          /* aw_fileid_marker() at offset */
    size_t head_len;          /* the head's length; its bytes are not
                                 stored, only hashes (fileid.h) */
};

/* Find the stored file that fid is: a row with the same device and inode
 * and a compatible head; else the row whose head shares the longest prefix
 * with fid's, at least AW_HEAD_MIN_MATCH bytes (a renamed copy).  *found
 * tells whether out was filled. */
int aw_store_file_lookup(struct aw_store *s, const struct aw_file_id *fid,
                         struct aw_file_row *out, bool *found, struct aw_err *err);

/* Remember a new file, read from offset 0; *id_out gets its id. */
int aw_store_file_add(struct aw_store *s, const struct aw_file_id *fid, const char *path,
                      const char *format, const char *encoding, int64_t now_ms,
                      int64_t *id_out, struct aw_err *err);

/* Progress on a file, recorded in the same transaction as its findings. */
struct aw_file_progress {
    int64_t id;
    const struct aw_file_id *fid;  /* current identity (head may have grown) */
    const char *path;              /* name it was read under */
    uint64_t offset;
    uint64_t marker;
    uint64_t records;              /* added to the file's totals */
    uint64_t truncated;
    uint64_t findings;
    int64_t now_ms;
    int64_t last_record_ms;        /* the newest record time read in this
                                      stretch (inferred ones included), or
                                      AW_TIME_NONE; kept only when newer
                                      than the stored one */
    const char *last_record_host;  /* the host that record is attributed
                                      to; must be set with last_record_ms */
};

int aw_store_file_progress(struct aw_store *s, const struct aw_file_progress *p,
                           struct aw_err *err);

struct aw_finding {
    int64_t ts_ms;            /* record time; AW_TIME_NONE when unknown */
    bool ts_inferred;         /* its year or zone was guessed (record.h) */
    int64_t read_ms;          /* when agentwatch read it */
    const char *host;
    int64_t file_id;
    const char *path;
    uint64_t offset;
    const char *rule;
    const char *category;
    const char *severity;     /* the rule's severity */
    const char *level;        /* the record's own severity */
    const char *message;      /* raw bytes; cleaned to UTF-8 and cut to
                                 AW_FINDING_MESSAGE_MAX on insert */
    size_t message_len;
    bool partial;             /* from a record still being written */
    const char *target;       /* captured server/URL, or NULL */
    size_t target_len;
    const char *code;         /* captured error code, or NULL */
    size_t code_len;
};

/* Longest captured target or code kept, in bytes of UTF-8. */
#define AW_FINDING_CAPTURE_MAX 255

/* Insert a finding; *inserted is false when the same (file, offset) was
 * stored before (may be NULL).  A finding stored from a partial record is
 * replaced by a later one for the same record; a complete one is kept. */
int aw_store_add_finding(struct aw_store *s, const struct aw_finding *f, bool *inserted,
                         struct aw_err *err);

/* A stored file with content not read yet (offset < size). */
struct aw_unread_row {
    int64_t id;
    const char *path;         /* last name it was read under */
    uint64_t offset;
    uint64_t size;
};

typedef int (*aw_unread_fn)(void *ctx, const struct aw_unread_row *row, struct aw_err *err);

/* Every stored file whose last known size is beyond its read position. */
int aw_store_files_unread(struct aw_store *s, aw_unread_fn fn, void *ctx, struct aw_err *err);

/* Mark the unread content of file id as given up (after a data-gap finding
 * was recorded for it), so it is reported once. */
int aw_store_file_settle(struct aw_store *s, int64_t id, struct aw_err *err);

/* Record the rules' metadata (category, severity, cause, remedy) so that
 * report can explain findings without the rule files. */
int aw_store_sync_rules(struct aw_store *s, const struct aw_ruleset *rs, int64_t now_ms,
                        struct aw_err *err);

/* One row of a grouped count (aw_query_by_category/by_rule, query.h).  Strings are valid during the callback. */
struct aw_count_row {
    const char *rule;         /* NULL for category rows */
    const char *category;
    int64_t count;
    int64_t first_ms;
    int64_t last_ms;
    const char *cause;        /* "" when unknown */
    const char *remedy;
};

typedef int (*aw_count_fn)(void *ctx, const struct aw_count_row *row, struct aw_err *err);

#endif
