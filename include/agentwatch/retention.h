/*
 * Retention: keep the database bounded by deleting old findings.
 *
 * `agentwatch prune --older-than DUR` and follow's automatic retention
 * (aw_retention_run(), default AW_RETENTION_DAYS_DEFAULT days) both end in
 * aw_store_prune().  Findings are deleted one hour of record time per
 * transaction, oldest first, so a concurrent scan or report never waits
 * long and the hourly counts (finding_hours) stay exact at every commit.
 *
 * Space: SQLite reuses the pages freed by a delete, so a database pruned
 * regularly stops growing even without vacuuming.  Databases created by
 * schema 4 or later use auto_vacuum=INCREMENTAL, and every prune gives the
 * freed pages back to the file system (PRAGMA incremental_vacuum).  An
 * older database (auto_vacuum=NONE) is converted only when the caller
 * asks for it (AW_PRUNE_CONVERT, what `agentwatch prune` does): a one-time
 * VACUUM that rewrites the file and needs as much free disk space as the
 * database, too costly to do behind a follow's back.
 */
#ifndef AGENTWATCH_RETENTION_H
#define AGENTWATCH_RETENTION_H

#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/store.h"

#define AW_RETENTION_DAYS_DEFAULT 90

enum aw_prune_flags {
    AW_PRUNE_CONVERT = 1 << 0   /* convert a database without incremental
                                   vacuum with a one-time VACUUM */
};

/* Delete every finding whose record time is before older_than_ms, keep
 * finding_hours exact, and give the freed pages back (see above).  Must be
 * called outside aw_store_begin()/aw_store_commit() on a writable store.
 * *deleted (may be NULL) gets the number of findings deleted, also when
 * an error stops the prune part-way (what was deleted stays deleted). */
int aw_store_prune(struct aw_store *s, int64_t older_than_ms, uint64_t *deleted,
                   struct aw_err *err);

/* aw_store_prune() with flags. */
int aw_store_prune_ex(struct aw_store *s, int64_t older_than_ms, unsigned flags,
                      uint64_t *deleted, struct aw_err *err);

/* Automatic retention: prune what is older than days (> 0) before now_ms.
 * Cheap when there is nothing to delete (one indexed lookup), so follow
 * may call it at any interval. */
int aw_retention_run(struct aw_store *s, int days, int64_t now_ms, uint64_t *deleted,
                     struct aw_err *err);

#endif
