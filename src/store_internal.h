/*
 * The store's private door for modules that add their own queries (reports,
 * exports, maintenance) without growing store.c: the open SQLite handle and
 * the error helper that names the database.  Not installed.
 */
#ifndef AGENTWATCH_STORE_INTERNAL_H
#define AGENTWATCH_STORE_INTERNAL_H

#include <sqlite3.h>

#include "agentwatch/store.h"

/* The connection; owned by the store, valid until aw_store_close(). */
sqlite3 *aw_store_sqlite(struct aw_store *s);

/* Path the store was opened with. */
const char *aw_store_path(const struct aw_store *s);

/* Set err to "PATH: what: <sqlite message>" and return AW_EDB. */
int aw_store_db_error(struct aw_store *s, struct aw_err *err, const char *what);

/* Run sql (one or more statements without result rows); on failure set
 * err to "PATH: what: <sqlite message>" and return AW_EDB. */
int aw_store_exec(struct aw_store *s, const char *sql, const char *what, struct aw_err *err);

/* Step a bound statement that returns no rows, then reset it and clear
 * its bindings; errors as for aw_store_exec(). */
int aw_store_run(struct aw_store *s, sqlite3_stmt *st, const char *what, struct aw_err *err);

/* The first column of sql's first row as an int (PRAGMA auto_vacuum, ...);
 * errors as for aw_store_exec(). */
int aw_store_int(struct aw_store *s, const char *sql, int *out, const char *what,
                 struct aw_err *err);

#endif
