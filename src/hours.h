/*
 * Hours: the store's per-transaction tally of new findings per hour, host,
 * rule and category, written to finding_hours when the transaction
 * commits (schema 4).  One upsert per group and commit instead of one per
 * finding keeps the summary table nearly free on the scan path.  Private
 * to the store; not installed.
 */
#ifndef AGENTWATCH_HOURS_H
#define AGENTWATCH_HOURS_H

#include <sqlite3.h>
#include <stdint.h>

#include "agentwatch/err.h"

struct aw_hours;

/* Count one finding at ts_ms.  *h is created on first use.  AW_ENOMEM
 * on allocation failure (the finding itself is unaffected). */
int aw_hours_add(struct aw_hours **h, int64_t ts_ms, const char *host, const char *rule,
                 const char *category, struct aw_err *err);

/* Add the tally to finding_hours with st (SQL_HOURS_UPSERT) and empty it;
 * on error the caller rolls back and calls aw_hours_clear(). */
int aw_hours_flush(struct aw_hours *h, sqlite3_stmt *st, struct aw_err *err);

/* Forget the tally (rollback).  Accepts NULL. */
void aw_hours_clear(struct aw_hours *h);

/* Accepts NULL; sets *h to NULL. */
void aw_hours_free(struct aw_hours **h);

#endif
