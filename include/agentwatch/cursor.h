/*
 * Export cursors: named marks of how far `export --cursor NAME` has
 * written the findings, kept in the database (schema 5, export_cursors).
 *
 * A cursor is the highest finding id exported under its name.  An export
 * takes a snapshot bound (aw_cursor_snapshot), writes the findings after
 * the mark up to that bound, makes the output durable, and only then moves
 * the mark (aw_cursor_advance).  A crash or kill before the move leaves
 * the mark where it was: the batch is written again next time (repeated,
 * never skipped).  The move is refused when someone else moved the mark
 * meanwhile (a second export under the same name), for the same reason.
 */
#ifndef AGENTWATCH_CURSOR_H
#define AGENTWATCH_CURSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/store.h"

/* Longest cursor name, in bytes. */
#define AW_CURSOR_NAME_MAX 128

/* A name is 1 to AW_CURSOR_NAME_MAX bytes of [A-Za-z0-9._-]. */
bool aw_cursor_name_valid(const char *name);

/* The mark of cursor name (0 and *found false when it does not exist)
 * and the highest finding id now stored, read in one snapshot. */
int aw_cursor_snapshot(struct aw_store *s, const char *name, int64_t *mark, bool *found,
                       int64_t *max_id, struct aw_err *err);

/* Move cursor name from mark `from` (as aw_cursor_snapshot() read it;
 * created when it did not exist) to `to`, adding `count` to its total.
 * AW_EBUSY when the mark is no longer `from`. */
int aw_cursor_advance(struct aw_store *s, const char *name, bool existed, int64_t from,
                      int64_t to, uint64_t count, int64_t now_ms, struct aw_err *err);

struct aw_cursor_row {
    const char *name;
    int64_t last_id;          /* highest finding id passed */
    int64_t exported;         /* findings written under this name */
    int64_t created_ms;
    int64_t updated_ms;
    int64_t pending;          /* stored findings after the mark */
};

typedef int (*aw_cursor_fn)(void *ctx, const struct aw_cursor_row *row, struct aw_err *err);

/* Every cursor, by name. */
int aw_cursor_list(struct aw_store *s, aw_cursor_fn fn, void *ctx, struct aw_err *err);

/* Forget cursor name (the next export under it writes everything);
 * AW_ENOTFOUND when there is none. */
int aw_cursor_reset(struct aw_store *s, const char *name, struct aw_err *err);

#endif
