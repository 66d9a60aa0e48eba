/*
 * Store schema: PRAGMA user_version, the migrations of store_sql.h applied
 * one transaction per step, and the check that a database file is
 * agentwatch's before anything is written to it.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "agentwatch/fileid.h"
#include "store_impl.h"
#include "store_internal.h"
#include "store_sql.h"

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
    SQL_MIGRATE_10,
};


/* aw_head_sums(head BLOB): SQL_MIGRATE_7's conversion of stored heads. */
void aw_store_sql_head_sums(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    unsigned char sums[AW_HEAD_SUMS_MAX];
    const unsigned char *head = sqlite3_value_blob(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);

    (void)argc;
    len = aw_fileid_head_sums(head, head != NULL ? len : 0, sums);
    sqlite3_result_blob(ctx, sums, (int)len, SQLITE_TRANSIENT);
}

/* Read PRAGMA user_version. */
int aw_store_read_version(struct aw_store *s, int *version, struct aw_err *err)
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
int aw_store_migrate(struct aw_store *s, struct aw_err *err)
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
        rc = aw_store_read_version(s, &s->version, err);
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

/* application_id of agentwatch databases ("AgWt"), set by SQL_MIGRATE_7;
 * see https://www.sqlite.org/pragma.html#pragma_application_id. */
#define AW_APPLICATION_ID 0x41675774

static int query_int(struct aw_store *s, const char *sql, long long *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, "cannot read the database");
    }
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? AW_OK
                                                 : aw_store_db_error(s, err, "cannot read the database");
}

/* Is this agentwatch's database (or a new, empty one)?  Another
 * application's SQLite file is refused before anything is written to it:
 * its application_id is someone else's, or it has tables but neither our
 * application_id nor our schema. */
int aw_store_check_ours(struct aw_store *s, struct aw_err *err)
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

