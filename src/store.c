/*
 * Store: SQLite persistence (see store.h).
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
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "store_internal.h"
#include "store_sql.h"
#include "hours.h"

static const char *const migrations[AW_STORE_SCHEMA_VERSION] = {
    SQL_MIGRATE_1,
    SQL_MIGRATE_2,
    SQL_MIGRATE_3,
    SQL_MIGRATE_4,
    SQL_MIGRATE_5,
    SQL_MIGRATE_6,
    SQL_MIGRATE_7,
    SQL_MIGRATE_8,
    SQL_MIGRATE_9,
};

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

static const char *column_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return t != NULL ? (const char *)t : "";
}

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

/* aw_head_sums(head BLOB): SQL_MIGRATE_7's conversion of stored heads. */
static void sql_head_sums(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    unsigned char sums[AW_HEAD_SUMS_MAX];
    const unsigned char *head = sqlite3_value_blob(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);

    (void)argc;
    len = aw_fileid_head_sums(head, head != NULL ? len : 0, sums);
    sqlite3_result_blob(ctx, sums, (int)len, SQLITE_TRANSIENT);
}

/* Read PRAGMA user_version. */
static int read_version(struct aw_store *s, int *version, struct aw_err *err)
{
    return aw_store_int(s, "PRAGMA user_version", version, "cannot read the schema version", err);
}

/* A version-1 database from before SQL_MIGRATE_1 had findings.partial
 * (see store_sql.h) gets the column, as the current migration 1 makes it. */
static int repair_v1(struct aw_store *s, struct aw_err *err)
{
    int n = 0;
    int rc = aw_store_int(s, SQL_V1_HAS_PARTIAL, &n, "cannot read the findings columns", err);

    if (rc == AW_OK && n == 0) {
        rc = aw_store_exec(s, SQL_V1_ADD_PARTIAL, "schema upgrade failed", err);
    }
    return rc;
}

/* Bring the schema to AW_STORE_SCHEMA_VERSION, one transaction per step so
 * that an interrupted upgrade resumes where it stopped. */
static int migrate(struct aw_store *s, struct aw_err *err)
{
    char sql[64];
    int rc;

    while (s->version < AW_STORE_SCHEMA_VERSION) {
        int next = s->version + 1;

        rc = aw_store_exec(s, "BEGIN IMMEDIATE", "cannot start the schema upgrade", err);
        if (rc != AW_OK) {
            return rc;
        }
        /* Re-read inside the write lock: another process may have
         * migrated meanwhile. */
        rc = read_version(s, &s->version, err);
        if (rc != AW_OK || s->version >= next) {
            aw_store_exec(s, "ROLLBACK", "rollback", NULL);
            if (rc != AW_OK) {
                return rc;
            }
            continue;
        }
        if (s->version == 1) {
            rc = repair_v1(s, err);
        }
        if (rc == AW_OK) {
            rc = aw_store_exec(s, migrations[s->version], "schema upgrade failed", err);
        }
        if (rc == AW_OK) {
            snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", next);
            rc = aw_store_exec(s, sql, "schema upgrade failed", err);
        }
        if (rc == AW_OK) {
            rc = aw_store_exec(s, "COMMIT", "cannot commit the schema upgrade", err);
        }
        if (rc != AW_OK) {
            aw_store_exec(s, "ROLLBACK", "rollback", NULL);
            return rc;
        }
        s->version = next;
    }
    return AW_OK;
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

/* The folder holding path ("." for a bare name) into dir. */
static void folder_of(const char *path, char *dir, size_t size)
{
    const char *sep = aw_path_last_sep(path);
    size_t n = sep == NULL ? 0 : (sep == path ? 1 : (size_t)(sep - path));

    if (n == 0) {
        snprintf(dir, size, ".");
    } else {
        snprintf(dir, size, "%.*s", (int)n, path);
    }
}

/* Must a read-only open go without the WAL index?  When the -shm file
 * exists and we may read it, or we may create it in the folder, SQLite
 * opens a WAL database read-only by itself (since 3.22.0; a -shm it may
 * only read is replaced by a private copy of the index built from the
 * -wal: https://www.sqlite.org/wal.html, "Read-Only Databases").  That is
 * how a monitoring user of the database's group reads while follow
 * writes. */
static bool readonly_needs_immutable(const char *path)
{
    char shm[4096], dir[4096];
    struct aw_os_stat st;
    int fd;

    if ((size_t)snprintf(shm, sizeof(shm), "%s-shm", path) >= sizeof(shm)) {
        return false;
    }
    if (aw_os_stat(shm, &st) == 0) {
        if (aw_os_writable(shm)) {
            return false;
        }
        fd = aw_os_open_log(shm, &st);
        if (fd >= 0) {
            aw_os_close(fd);
            return false;
        }
        return true;
    }
    folder_of(path, dir, sizeof(dir));
    return !aw_os_writable(dir);
}

/* "file:PATH?immutable=1", with the characters a URI path may not hold
 * raw percent-encoded (https://www.sqlite.org/uri.html). */
static int open_immutable(struct aw_store *s, const char *path, struct aw_err *err)
{
    char wal[4096];
    struct aw_os_stat st;
    size_t len = strlen(path), n = 0;
    char *uri = malloc(len * 3 + 32);
    int rc = AW_OK;

    if (uri == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
    }
    /* Committed content still in the -wal would be invisible without the
     * index: refuse rather than report stale figures. */
    snprintf(wal, sizeof(wal), "%s-wal", path);
    if (aw_os_stat(wal, &st) == 0 && st.size > 0) {
        free(uri);
        return aw_err_set(err, AW_EDB, "%s: cannot read: its write-ahead log holds recent"
                          " changes and the folder is read-only for this user (run report"
                          " as the user that writes the database, or after a scan ended)",
                          path);
    }
    n += (size_t)sprintf(uri, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        if (*p == '?' || *p == '#' || *p == '%' || *p <= 0x20 || *p >= 0x7F) {
            n += (size_t)sprintf(uri + n, "%%%02X", *p);
        } else {
            uri[n++] = (char)*p;
        }
    }
    snprintf(uri + n, 32, "?immutable=1");
    if (sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = s->db != NULL ? db_error(s, err, "cannot open database")
                           : aw_err_set(err, AW_ENOMEM, "%s: cannot open database", path);
    }
    free(uri);
    return rc;
}

/* A folder others may write to lets them plant the database, its -wal,
 * -shm and lock files, or links in their place, before we create them:
 * refuse it unless the user said otherwise (--allow-unsafe-dir).  The
 * sticky bit does not help: it stops others from replacing our files,
 * not from creating theirs under our names first. */
static int check_folder(const char *path, unsigned flags, struct aw_err *err)
{
    char dir[4096];
    struct aw_os_stat st;

    if (flags & AW_STORE_ALLOW_UNSAFE_DIR) {
        return AW_OK;
    }
    folder_of(path, dir, sizeof(dir));
    if (aw_os_stat(dir, &st) != 0) {
        return aw_err_set(err, AW_EIO, "%s: cannot stat the database folder %s: %s", path, dir,
                          strerror(errno));
    }
    if (st.owner_known && (st.perm & 022) != 0) {
        return aw_err_set(err, AW_EDENIED,
                          "%s: refused: the database folder %s is writable by %s (mode %04o),"
                          " so another user could plant files or links there; use a private"
                          " folder, or --allow-unsafe-dir", path, dir,
                          (st.perm & 002) ? "others" : "its group", st.perm);
    }
    return AW_OK;
}

/* May the database's group read it?  Only when the administrator made the
 * folder enterable and readable by its group, and not writable by it
 * (check_folder): the packages make /var/lib/agentwatch 2750
 * root:agentwatch so that a monitoring user in group agentwatch can run
 * status (README, "Read access for monitoring"). */
static bool folder_shares_with_group(const char *path)
{
    char dir[4096];
    struct aw_os_stat st;

    folder_of(path, dir, sizeof(dir));
    return aw_os_stat(dir, &st) == 0 && st.owner_known && (st.perm & 050) == 050 &&
           (st.perm & 022) == 0;
}

/* Make fd's mode 0600, or 0640 when its folder is shared with its group. */
static int set_mode(int fd, bool group_read)
{
    return group_read ? aw_os_fchmod_group_read(fd) : aw_os_fchmod_private(fd);
}

/* Create the database file ourselves so its mode is 0600 from the start
 * (0640 in a folder shared with its group, see above): findings quote log
 * messages, which may name hosts and users.  A file already there must be
 * ours: not a link (never written through), a regular file, owned by this
 * user; a mode open to others is repaired and said so (s->notice).  SQLite
 * gives the -wal and -shm files the database's mode and owner. */
static int create_private(struct aw_store *s, const char *path, struct aw_err *err)
{
    struct aw_os_stat st;
    bool group_read = folder_shares_with_group(path);
    unsigned allowed = group_read ? 040 : 0;
    int fd = aw_os_create_private(path);

    if (fd >= 0) {
        int rc = AW_OK;
        if (group_read && set_mode(fd, true) != 0) {
            rc = aw_err_set(err, AW_EIO, "%s: cannot make it readable by its group: %s", path,
                            strerror(errno));
        }
        aw_os_close(fd);
        return rc;
    }
    if (errno != EEXIST) {
        return aw_err_set(err, AW_EIO, "%s: cannot create database: %s", path, strerror(errno));
    }
    fd = aw_os_open_log(path, &st);
    if (fd < 0) {
        if (st.is_link) {
            return aw_err_set(err, AW_EDENIED, "%s: refused: the database path is a symbolic"
                              " link, which agentwatch never writes through", path);
        }
        return aw_err_set(err, AW_EIO, "%s: cannot open database: %s", path, strerror(errno));
    }
    if (!st.is_reg) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EDENIED, "%s: refused: not a regular file", path);
    }
    if (st.owner_known && st.uid != aw_os_euid()) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EDENIED, "%s: refused: owned by uid %llu, another user, who"
                          " could read or rewrite the findings; remove it or fix its owner",
                          path, (unsigned long long)st.uid);
    }
    if (st.owner_known && (st.perm & 077 & ~allowed) != 0) {
        if (set_mode(fd, group_read) != 0) {
            int saved = errno;
            aw_os_close(fd);
            return aw_err_set(err, AW_EIO, "%s: cannot repair mode %04o: %s", path, st.perm,
                              strerror(saved));
        }
        snprintf(s->notice, sizeof(s->notice), "%s: repaired: mode %04o let others read or"
                 " write the findings; it is now %s", path, st.perm, group_read ? "0640" : "0600");
    }
    aw_os_close(fd);
    return AW_OK;
}

/* application_id of agentwatch databases ("AgWt"), set by SQL_MIGRATE_7;
 * see https://www.sqlite.org/pragma.html#pragma_application_id. */
#define AW_APPLICATION_ID 0x41675774

static int query_int(struct aw_store *s, const char *sql, long long *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return db_error(s, err, "cannot read the database");
    }
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? AW_OK
                                                 : db_error(s, err, "cannot read the database");
}

/* Is this agentwatch's database (or a new, empty one)?  Another
 * application's SQLite file is refused before anything is written to it:
 * its application_id is someone else's, or it has tables but neither our
 * application_id nor our schema. */
static int check_ours(struct aw_store *s, struct aw_err *err)
{
    long long app_id = 0, tables = 0, ours = 0;
    int rc = query_int(s, "PRAGMA application_id", &app_id, err);

    if (rc == AW_OK) {
        rc = query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                          " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", &tables, err);
    }
    if (rc == AW_OK) {
        rc = query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                          " AND name IN ('files', 'findings')", &ours, err);
    }
    if (rc != AW_OK || app_id == AW_APPLICATION_ID) {
        return rc;
    }
    if (app_id != 0) {
        return aw_err_set(err, AW_EDB, "%s: refused: the database of another application"
                          " (application_id 0x%08llx); left untouched", s->path,
                          (unsigned long long)(uint32_t)app_id);
    }
    if (tables > 0 && (s->version == 0 || ours < 2)) {
        return aw_err_set(err, AW_EDB, "%s: refused: an SQLite database of another application"
                          " (%lld tables, not agentwatch's); left untouched", s->path, tables);
    }
    return AW_OK;
}

/* Take PATH.lock for this process, or fail naming the process holding it.
 * The lock file is separate from the database so that it never interferes
 * with SQLite's own locking; the kernel drops it when the process dies, so
 * a killed writer never leaves a stale lock (flock on Linux, LockFileEx on
 * Windows; see platform.h). */
static int take_writer_lock(struct aw_store *s, struct aw_err *err)
{
    char lock_path[4096], pid_text[32] = "";
    struct aw_os_stat st;
    ssize_t n;
    int fd;

    if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s.lock", s->path) >= sizeof(lock_path)) {
        return aw_err_set(err, AW_EIO, "%s: path too long", s->path);
    }
    fd = aw_os_open_lock(lock_path);
    if (fd < 0) {
        if (errno == ELOOP) {
            return aw_err_set(err, AW_EDENIED, "%s: refused: the lock file is a symbolic link,"
                              " which agentwatch never writes through", lock_path);
        }
        return aw_err_set(err, AW_EIO, "%s: cannot open lock file: %s", lock_path,
                          strerror(errno));
    }
    if (aw_os_fstat(fd, &st) == 0 && st.owner_known && st.uid != aw_os_euid()) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EDENIED, "%s: refused: the lock file is owned by uid %llu,"
                          " another user; remove it", lock_path, (unsigned long long)st.uid);
    }
    if (aw_os_try_lock(fd) != 0) {
        int saved = errno;
        n = aw_os_pread(fd, pid_text, sizeof(pid_text) - 1, 0);
        pid_text[n > 0 ? n : 0] = '\0';
        pid_text[strcspn(pid_text, "\n")] = '\0';
        aw_os_close(fd);
        if (saved == EWOULDBLOCK) {
            return aw_err_set(err, AW_EBUSY,
                              "%s: database in use by another agentwatch scan or follow%s%s%s;"
                              " only one may write at a time", s->path,
                              pid_text[0] ? " (pid " : "", pid_text, pid_text[0] ? ")" : "");
        }
        return aw_err_set(err, AW_EIO, "%s: cannot lock: %s", lock_path, strerror(saved));
    }
    n = snprintf(pid_text, sizeof(pid_text), "%ld\n", aw_os_getpid());
    if (aw_os_replace_content(fd, pid_text, (size_t)n) != 0) {
        /* The lock holds without the pid; it only improves the message. */
    }
    s->lock_fd = fd;
    return AW_OK;
}

/* A reader's first check: the database is there and this user may read
 * it.  Said plainly, because SQLite would only say "unable to open
 * database file", and a monitoring user without read access (status, see
 * README "Read access for monitoring") must be told what to fix. */
static int check_readable(const char *path, struct aw_err *err)
{
    struct aw_os_stat st;
    int fd;

    if (aw_os_stat(path, &st) != 0) {
        if (errno == EACCES) {
            return aw_err_set(err, AW_EDENIED, "%s: permission denied (this user may not open"
                              " the database folder)", path);
        }
        return aw_err_set(err, AW_ENOTFOUND, "%s: no database here (run 'agentwatch scan' first)",
                          path);
    }
    fd = aw_os_open_log(path, &st);
    if (fd < 0 && errno == EACCES) {
        return aw_err_set(err, AW_EDENIED, "%s: permission denied (this user may not read the"
                          " database)", path);
    }
    if (fd >= 0) {
        aw_os_close(fd);
    }
    return AW_OK;
}

int aw_store_open(struct aw_store **out, const char *path, unsigned flags, struct aw_err *err)
{
    struct aw_store *s = NULL;
    int open_flags;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
        goto out;
    }
    s->lock_fd = -1;
    s->readonly = (flags & AW_STORE_READONLY) != 0;
    if (!s->readonly) {
        rc = check_folder(path, flags, err);
        if (rc != AW_OK) {
            goto out;
        }
    }
    if ((flags & AW_STORE_EXCLUSIVE) && !s->readonly) {
        rc = take_writer_lock(s, err);
        if (rc != AW_OK) {
            goto out;
        }
    }
    if (s->readonly) {
        rc = check_readable(path, err);
        if (rc != AW_OK) {
            goto out;
        }
        open_flags = SQLITE_OPEN_READONLY;
    } else {
        rc = create_private(s, path, err);
        if (rc != AW_OK) {
            goto out;
        }
        open_flags = SQLITE_OPEN_READWRITE;
    }
    if (s->readonly && readonly_needs_immutable(path)) {
        /* A folder (or -shm) we may not write: SQLite cannot create the
         * WAL index a WAL-mode reader needs.  With no WAL content there is
         * nothing it would tell us, and SQLite documents the immutable
         * URI parameter for exactly this (https://www.sqlite.org/wal.html,
         * "Read-Only Databases"): the file is read as it is, unlocked. */
        rc = open_immutable(s, path, err);
        if (rc != AW_OK) {
            goto out;
        }
    } else if (sqlite3_open_v2(path, &s->db, open_flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = s->db != NULL ? db_error(s, err, "cannot open database")
                           : aw_err_set(err, AW_ENOMEM, "%s: cannot open database", path);
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    if (sqlite3_create_function(s->db, "aw_head_sums", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_head_sums, NULL, NULL) != SQLITE_OK) {
        rc = db_error(s, err, "cannot register a function");
        goto out;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* The first real read tells whether this is an SQLite file at all. */
    rc = read_version(s, &s->version, err);
    if (rc != AW_OK) {
        goto out;
    }
    if (s->version > AW_STORE_SCHEMA_VERSION) {
        rc = aw_err_set(err, AW_EDB,
                        "%s: database schema version %d is newer than this agentwatch supports"
                        " (%d); upgrade agentwatch",
                        path, s->version, AW_STORE_SCHEMA_VERSION);
        goto out;
    }
    rc = check_ours(s, err);
    if (rc != AW_OK) {
        goto out;
    }
    if (s->readonly) {
        if (s->version < AW_STORE_SCHEMA_VERSION) {
            rc = aw_err_set(err, AW_EDB,
                            "%s: database schema version %d is older than %d; run"
                            " 'agentwatch scan' once to upgrade it",
                            path, s->version, AW_STORE_SCHEMA_VERSION);
            goto out;
        }
    } else {
        /* auto_vacuum only takes effect before the first table exists (a
         * new database); on an older one it is a no-op until prune's
         * one-time VACUUM (see src/retention.c). */
        rc = aw_store_exec(s, "PRAGMA auto_vacuum=INCREMENTAL;"
                         " PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         " PRAGMA foreign_keys=ON;", "cannot configure the database", err);
        if (rc == AW_OK) {
            rc = migrate(s, err);
        }
        if (rc != AW_OK) {
            goto out;
        }
    }
    rc = prepare_all(s, err);
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

/* Add the tally of new findings to finding_hours (in their transaction). */
static int flush_hours(struct aw_store *s, struct aw_err *err)
{
    if (aw_hours_flush(s->hours, s->stmt[STMT_HOURS_UPSERT], err) != AW_OK) {
        return db_error(s, err, "cannot update the hourly counts");
    }
    return AW_OK;
}

void aw_store_set_commit_hook(struct aw_store *s, aw_store_commit_hook fn, void *ctx)
{
    s->hook = fn;
    s->hook_ctx = ctx;
}

int aw_store_commit(struct aw_store *s, struct aw_err *err)
{
    int rc = flush_hours(s, err);
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

/* head_key: hash of the first AW_HEAD_MIN_MATCH bytes, which every head
 * compatible with this one (and long enough to match on its own) shares.
 * The head itself is stored as hashes only (SQL_MIGRATE_7). */
static void bind_head(sqlite3_stmt *st, int sums_col, int key_col, int len_col,
                      const struct aw_file_id *fid)
{
    unsigned char sums[AW_HEAD_SUMS_MAX];
    size_t n = aw_fileid_head_sums(fid->head, fid->head_len, sums);

    sqlite3_bind_blob(st, sums_col, sums, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, len_col, (sqlite3_int64)fid->head_len);
    if (fid->head_len >= AW_HEAD_MIN_MATCH) {
        sqlite3_bind_int64(st, key_col, (sqlite3_int64)aw_hash64(fid->head, AW_HEAD_MIN_MATCH));
    } else {
        sqlite3_bind_null(st, key_col);
    }
}

int aw_store_file_lookup(struct aw_store *s, const struct aw_file_id *fid,
                         struct aw_file_row *out, bool *found, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_CANDIDATES];
    size_t best_common = 0;
    bool best_inode = false;
    int rc;

    *found = false;
    if (fid->head_len == 0) {
        return AW_OK;   /* an empty file is nobody yet */
    }
    if (fid->head_len >= AW_HEAD_MIN_MATCH) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)aw_hash64(fid->head, AW_HEAD_MIN_MATCH));
    }
    sqlite3_bind_int64(st, 2, (sqlite3_int64)fid->dev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)fid->ino);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t head_len = (size_t)sqlite3_column_int64(st, 6);
        const unsigned char *sums = sqlite3_column_blob(st, 7);
        size_t sums_len = (size_t)sqlite3_column_bytes(st, 7);
        size_t common;
        bool inode, better;

        if (head_len > AW_HEAD_MAX) {
            head_len = AW_HEAD_MAX;
        }
        common = aw_fileid_head_common(head_len, sums, sums_len, fid->head, fid->head_len);
        if (common == 0) {
            continue;   /* heads disagree: a different file */
        }
        inode = (uint64_t)sqlite3_column_int64(st, 1) == fid->dev &&
                (uint64_t)sqlite3_column_int64(st, 2) == fid->ino;
        if (!inode && common < AW_HEAD_MIN_MATCH) {
            continue;   /* too little content to tell without the inode */
        }
        /* Prefer the inode match, then the longest shared head; rows come
         * in id order, so ties go to the newest row. */
        better = (inode && !best_inode) ||
                 (inode == best_inode && common >= best_common);
        if (!*found || better) {
            out->id = sqlite3_column_int64(st, 0);
            out->dev = (uint64_t)sqlite3_column_int64(st, 1);
            out->ino = (uint64_t)sqlite3_column_int64(st, 2);
            out->size = (uint64_t)sqlite3_column_int64(st, 3);
            out->offset = (uint64_t)sqlite3_column_int64(st, 4);
            out->marker = (uint64_t)sqlite3_column_int64(st, 5);
            out->head_len = head_len;
            best_common = common;
            best_inode = inode;
            *found = true;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = db_error(s, err, "cannot look up a file");
    } else {
        rc = AW_OK;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int aw_store_file_add(struct aw_store *s, const struct aw_file_id *fid, const char *path,
                      const char *format, const char *encoding, int64_t now_ms,
                      int64_t *id_out, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_INSERT];
    int rc;

    sqlite3_bind_int64(st, 1, (sqlite3_int64)fid->dev);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)fid->ino);
    bind_head(st, 3, 4, 9, fid);
    sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, format, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, encoding, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, now_ms);
    rc = aw_store_run(s, st, "cannot record a new file", err);
    if (rc == AW_OK) {
        *id_out = sqlite3_last_insert_rowid(s->db);
    }
    return rc;
}

int aw_store_file_progress(struct aw_store *s, const struct aw_file_progress *p,
                           struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_PROGRESS];

    sqlite3_bind_int64(st, 1, p->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)p->fid->dev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->fid->ino);
    bind_head(st, 4, 5, 14, p->fid);
    sqlite3_bind_text(st, 6, p->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)p->fid->size);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)p->offset);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)p->marker);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)p->records);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)p->truncated);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)p->findings);
    sqlite3_bind_int64(st, 13, p->now_ms);
    return aw_store_run(s, st, "cannot record the read position", err);
}

/* Bind a captured span, cleaned into buf, or NULL when there is none. */
static void bind_capture(sqlite3_stmt *st, int col, const char *text, size_t len, char *buf)
{
    if (text == NULL || len == 0) {
        sqlite3_bind_null(st, col);
        return;
    }
    len = aw_text_utf8_clean(text, len, buf, AW_FINDING_CAPTURE_MAX);
    sqlite3_bind_text(st, col, buf, (int)len, SQLITE_STATIC);
}

/* Bind a finding to st (SQL_FINDING_INSERT's parameter numbers). */
static void bind_finding(struct aw_store *s, sqlite3_stmt *st, const struct aw_finding *f,
                         size_t message_len)
{
    sqlite3_bind_int64(st, 1, f->ts_ms != AW_TIME_NONE ? f->ts_ms : f->read_ms);
    sqlite3_bind_int(st, 2, f->ts_ms != AW_TIME_NONE);
    sqlite3_bind_int64(st, 3, f->read_ms);
    sqlite3_bind_text(st, 4, f->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, f->file_id);
    sqlite3_bind_text(st, 6, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)f->offset);
    sqlite3_bind_text(st, 8, f->rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, f->category, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, f->severity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, f->level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, s->message, (int)message_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 13, f->partial);
    bind_capture(st, 14, f->target, f->target_len, s->target);
    bind_capture(st, 15, f->code, f->code_len, s->code);
    sqlite3_bind_int(st, 16, f->ts_ms != AW_TIME_NONE && f->ts_inferred);
}

int aw_store_add_finding(struct aw_store *s, const struct aw_finding *f, bool *inserted,
                         struct aw_err *err)
{
    size_t len;
    bool added;
    int rc;

    len = aw_text_utf8_clean(f->message, f->message_len, s->message, AW_FINDING_MESSAGE_MAX);
    bind_finding(s, s->stmt[STMT_FINDING_INSERT], f, len);
    rc = aw_store_run(s, s->stmt[STMT_FINDING_INSERT], "cannot store a finding", err);
    if (rc != AW_OK) {
        return rc;
    }
    added = sqlite3_changes(s->db) > 0;
    if (added) {
        rc = aw_hours_add(&s->hours, f->ts_ms != AW_TIME_NONE ? f->ts_ms : f->read_ms, f->host,
                          f->rule, f->category, err);
        if (rc == AW_OK && sqlite3_get_autocommit(s->db)) {
            rc = flush_hours(s, err);   /* no transaction to wait for */
        }
    } else {
        /* The completion trigger recounts from the findings: settle the
         * tally first so nothing is counted twice. */
        rc = flush_hours(s, err);
    }
    /* The record was seen before: only a finding from its partial form
     * may be completed (rare, so the second statement costs nothing). */
    if (!added && rc == AW_OK) {
        bind_finding(s, s->stmt[STMT_FINDING_COMPLETE], f, len);
        rc = aw_store_run(s, s->stmt[STMT_FINDING_COMPLETE], "cannot complete a finding", err);
    }
    if (rc == AW_OK && inserted != NULL) {
        *inserted = added;
    }
    return rc;
}

int aw_store_files_unread(struct aw_store *s, aw_unread_fn fn, void *ctx, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILES_UNREAD];
    int rc = AW_OK, step = SQLITE_DONE;

    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct aw_unread_row row;
        row.id = sqlite3_column_int64(st, 0);
        row.path = column_text(st, 1);
        row.offset = (uint64_t)sqlite3_column_int64(st, 2);
        row.size = (uint64_t)sqlite3_column_int64(st, 3);
        rc = fn(ctx, &row, err);
    }
    if (rc == AW_OK && step != SQLITE_DONE) {
        rc = db_error(s, err, "cannot list files");
    }
    sqlite3_reset(st);
    return rc;
}

int aw_store_file_settle(struct aw_store *s, int64_t id, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_SETTLE];

    sqlite3_bind_int64(st, 1, id);
    return aw_store_run(s, st, "cannot settle a file", err);
}

int aw_store_sync_rules(struct aw_store *s, const struct aw_ruleset *rs, int64_t now_ms,
                        struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_RULE_UPSERT];
    size_t n = aw_rules_count(rs);
    int rc = AW_OK;

    for (size_t i = 0; i < n && rc == AW_OK; i++) {
        const struct aw_rule_info *r = aw_rules_get(rs, i);
        sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->category, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, aw_rule_severity_name(r->severity), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->cause, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->remedy, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->pattern, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, now_ms);
        rc = aw_store_run(s, st, "cannot record rule metadata", err);
    }
    return rc;
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
