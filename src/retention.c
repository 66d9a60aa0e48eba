/*
 * Retention (see retention.h).
 *
 * One hour of record time per transaction: the oldest finding names the
 * hour, its findings before the cut-off are deleted (the delete trigger
 * keeps the hourly counts), and an hour the cut-off goes through is
 * recounted so that its first/last times are exact again.  Jumping from
 * oldest finding to oldest finding skips empty hours, so a sparse
 * database costs one transaction per hour that has findings.
 */
#include "agentwatch/retention.h"

#include <sqlite3.h>
#include <stdbool.h>

#include "agentwatch/query.h"
#include "agentwatch/timeutil.h"
#include "store_internal.h"
#include "store_sql.h"

enum r_stmt {
    R_OLDEST,
    R_DELETE,
    R_UNCOUNT,
    R_RECOUNT,
    R_COUNT
};

/* Delete one hour's worth of findings older than cut in one transaction.
 * *more is false when nothing older than cut is left. */
static int prune_hour(struct aw_store *s, sqlite3_stmt **st, int64_t cut, uint64_t *deleted,
                      bool *more, struct aw_err *err)
{
    int64_t oldest, hour, end;
    int rc;

    *more = false;
    rc = aw_store_exec(s, "BEGIN IMMEDIATE", "cannot begin pruning", err);
    if (rc != AW_OK) {
        return rc;
    }
    if (sqlite3_step(st[R_OLDEST]) != SQLITE_ROW) {
        rc = aw_store_db_error(s, err, "cannot find the oldest finding");
        goto out;
    }
    if (sqlite3_column_type(st[R_OLDEST], 0) == SQLITE_NULL ||
        (oldest = sqlite3_column_int64(st[R_OLDEST], 0)) >= cut) {
        sqlite3_reset(st[R_OLDEST]);
        goto out;   /* nothing (left) to prune */
    }
    sqlite3_reset(st[R_OLDEST]);
    /* Same floor as SQL_HOUR (oldest > INT64_MIN + an hour in practice:
     * stored times come from parsed dates or the clock). */
    hour = oldest - ((oldest % AW_MS_PER_HOUR) + AW_MS_PER_HOUR) % AW_MS_PER_HOUR;
    end = hour + AW_MS_PER_HOUR;
    sqlite3_bind_int64(st[R_DELETE], 1, hour);
    sqlite3_bind_int64(st[R_DELETE], 2, end < cut ? end : cut);
    rc = aw_store_run(s, st[R_DELETE], "cannot delete old findings", err);
    if (rc != AW_OK) {
        goto out;
    }
    *deleted += (uint64_t)sqlite3_changes(aw_store_sqlite(s));
    if (end > cut) {
        /* The cut goes through this hour: its first/last times changed. */
        sqlite3_bind_int64(st[R_UNCOUNT], 1, hour);
        sqlite3_bind_int64(st[R_RECOUNT], 1, hour);
        rc = aw_store_run(s, st[R_UNCOUNT], "cannot recount an hour", err);
        if (rc == AW_OK) {
            rc = aw_store_run(s, st[R_RECOUNT], "cannot recount an hour", err);
        }
    } else {
        *more = true;
    }
out:
    if (rc == AW_OK) {
        rc = aw_store_exec(s, "COMMIT", "cannot commit pruning", err);
    }
    if (rc != AW_OK) {
        sqlite3_exec(aw_store_sqlite(s), "ROLLBACK", NULL, NULL, NULL);
        *more = false;
    }
    return rc;
}

/* Give freed pages back to the file system, converting the database to
 * incremental vacuum first when asked to. */
static int reclaim(struct aw_store *s, unsigned flags, struct aw_err *err)
{
    int mode = 0, rc;

    rc = aw_store_int(s, "PRAGMA auto_vacuum", &mode, "cannot read a database setting", err);
    if (rc != AW_OK) {
        return rc;
    }
    if (mode == 0) {
        if (!(flags & AW_PRUNE_CONVERT)) {
            return AW_OK;   /* freed pages are reused by later inserts */
        }
        rc = aw_store_exec(s, "PRAGMA auto_vacuum=INCREMENTAL", "cannot enable incremental vacuum", err);
        if (rc == AW_OK) {
            rc = aw_store_exec(s, "VACUUM", "cannot vacuum", err);
        }
        return rc;
    }
    return aw_store_exec(s, "PRAGMA incremental_vacuum", "cannot reclaim free pages", err);
}

int aw_store_prune_ex(struct aw_store *s, int64_t older_than_ms, unsigned flags,
                      uint64_t *deleted, struct aw_err *err)
{
    static const char *const sql[R_COUNT] = {
        [R_OLDEST] = SQL_PRUNE_OLDEST,
        [R_DELETE] = SQL_PRUNE_DELETE,
        [R_UNCOUNT] = SQL_PRUNE_UNCOUNT,
        [R_RECOUNT] = SQL_PRUNE_RECOUNT,
    };
    sqlite3_stmt *st[R_COUNT] = { NULL };
    sqlite3 *db = aw_store_sqlite(s);
    uint64_t n = 0;
    bool more = true;
    int rc = AW_OK;

    if (!sqlite3_get_autocommit(db)) {
        rc = aw_err_set(err, AW_EUSAGE, "%s: cannot prune inside an open transaction",
                        aw_store_path(s));
        goto out;
    }
    for (int i = 0; i < R_COUNT; i++) {
        if (sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL) != SQLITE_OK) {
            rc = aw_store_db_error(s, err, "cannot prepare pruning");
            goto out;
        }
    }
    while (rc == AW_OK && more) {
        rc = prune_hour(s, st, older_than_ms, &n, &more, err);
    }
    if (rc == AW_OK) {
        rc = reclaim(s, flags, err);
    }
out:
    for (int i = 0; i < R_COUNT; i++) {
        sqlite3_finalize(st[i]);
    }
    if (deleted != NULL) {
        *deleted = n;
    }
    return rc;
}

int aw_store_prune(struct aw_store *s, int64_t older_than_ms, uint64_t *deleted,
                   struct aw_err *err)
{
    return aw_store_prune_ex(s, older_than_ms, 0, deleted, err);
}

int aw_retention_run(struct aw_store *s, int days, int64_t now_ms, uint64_t *deleted,
                     struct aw_err *err)
{
    if (deleted != NULL) {
        *deleted = 0;
    }
    if (days <= 0 || days > 100000) {
        return aw_err_set(err, AW_EUSAGE, "retention of %d days: expected 1 to 100000", days);
    }
    return aw_store_prune(s, now_ms - (int64_t)days * AW_MS_PER_DAY, deleted, err);
}
