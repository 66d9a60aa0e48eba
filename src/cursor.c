/*
 * Export cursors (see cursor.h).  The statements are prepared per call:
 * an export runs them once or twice, never in a loop.
 */
#include "agentwatch/cursor.h"

#include <string.h>

#include "store_internal.h"
#include "store_sql.h"

bool aw_cursor_name_valid(const char *name)
{
    size_t n = strlen(name);

    return n > 0 && n <= AW_CURSOR_NAME_MAX &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int prepare(struct aw_store *s, const char *sql, sqlite3_stmt **st, struct aw_err *err)
{
    if (sqlite3_prepare_v2(aw_store_sqlite(s), sql, -1, st, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, "cannot prepare a cursor statement");
    }
    return AW_OK;
}

static int exec(struct aw_store *s, const char *sql, struct aw_err *err)
{
    if (sqlite3_exec(aw_store_sqlite(s), sql, NULL, NULL, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, sql);
    }
    return AW_OK;
}

/* The first column of the single row of st as an integer; *found false
 * when there is no row. */
static int one_int(struct aw_store *s, sqlite3_stmt *st, int64_t *out, bool *found,
                   struct aw_err *err)
{
    int step = sqlite3_step(st);

    *found = step == SQLITE_ROW;
    *out = *found ? sqlite3_column_int64(st, 0) : 0;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        return aw_store_db_error(s, err, "cannot read an export cursor");
    }
    return AW_OK;
}

int aw_cursor_snapshot(struct aw_store *s, const char *name, int64_t *mark, bool *found,
                       int64_t *max_id, struct aw_err *err)
{
    sqlite3_stmt *get = NULL, *max = NULL;
    bool any;
    int rc = exec(s, "BEGIN", err);

    if (rc != AW_OK) {
        return rc;
    }
    rc = prepare(s, SQL_CURSOR_GET, &get, err);
    if (rc == AW_OK) {
        sqlite3_bind_text(get, 1, name, -1, SQLITE_STATIC);
        rc = one_int(s, get, mark, found, err);
    }
    if (rc == AW_OK) {
        rc = prepare(s, SQL_CURSOR_MAX_ID, &max, err);
    }
    if (rc == AW_OK) {
        rc = one_int(s, max, max_id, &any, err);
    }
    sqlite3_finalize(get);
    sqlite3_finalize(max);
    if (rc == AW_OK) {
        rc = exec(s, "COMMIT", err);
    } else {
        sqlite3_exec(aw_store_sqlite(s), "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

int aw_cursor_advance(struct aw_store *s, const char *name, bool existed, int64_t from,
                      int64_t to, uint64_t count, int64_t now_ms, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, existed ? SQL_CURSOR_ADVANCE : SQL_CURSOR_CREATE, &st, err);

    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int64(st, 4, (int64_t)count);
    sqlite3_bind_int64(st, 5, now_ms);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE && sqlite3_changes(aw_store_sqlite(s)) == 1) {
        rc = AW_OK;
    } else if (rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        /* Created or moved by another export since the snapshot. */
        rc = aw_err_set(err, AW_EBUSY, "%s: export cursor '%s' was moved by another export"
                        " meanwhile; not advanced (the findings written will be written again)",
                        aw_store_path(s), name);
    } else {
        rc = aw_store_db_error(s, err, "cannot advance the export cursor");
    }
    sqlite3_finalize(st);
    return rc;
}

int aw_cursor_list(struct aw_store *s, aw_cursor_fn fn, void *ctx, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, SQL_CURSOR_LIST, &st, err), step = SQLITE_DONE;

    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct aw_cursor_row r;

        r.name = (const char *)sqlite3_column_text(st, 0);
        r.last_id = sqlite3_column_int64(st, 1);
        r.exported = sqlite3_column_int64(st, 2);
        r.created_ms = sqlite3_column_int64(st, 3);
        r.updated_ms = sqlite3_column_int64(st, 4);
        r.pending = sqlite3_column_int64(st, 5);
        rc = fn(ctx, &r, err);
    }
    if (rc == AW_OK && step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot list the export cursors");
    }
    sqlite3_finalize(st);
    return rc;
}

int aw_cursor_reset(struct aw_store *s, const char *name, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, SQL_CURSOR_RESET, &st, err);

    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot reset the export cursor");
    } else if (sqlite3_changes(aw_store_sqlite(s)) == 0) {
        rc = aw_err_set(err, AW_ENOTFOUND, "%s: no export cursor named '%s'", aw_store_path(s),
                        name);
    }
    sqlite3_finalize(st);
    return rc;
}
