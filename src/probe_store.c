/*
 * Probe results in the store (see probe_store.h).  The SQL is here rather
 * than in store_sql.h because no other module runs it; the table it
 * writes is created by the store's migration 8 (store_sql.h).
 */
#include "agentwatch/probe_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_internal.h"

#define PROBE_FILE_PATH "agentwatch probe"

#define SQL_PROBE_FILE \
    "SELECT id FROM files WHERE dev = -1 AND ino = -1 AND path = '" PROBE_FILE_PATH "'"
#define SQL_PROBE_FILE_ADD \
    "INSERT INTO files (dev, ino, head_sums, head_key, path, format, encoding, first_seen, last_read)" \
    " VALUES (-1, -1, X'', NULL, '" PROBE_FILE_PATH "', 'probe', 'utf-8', ?1, ?1)"
#define SQL_PROBE_NEXT_OFFSET \
    "SELECT coalesce(max(offset), -1) + 1 FROM findings WHERE file_id = ?1"
#define SQL_PROBE_RULE \
    "INSERT INTO rules (id, category, severity, cause, remedy, pattern, updated)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, '', ?6) ON CONFLICT(id) DO UPDATE SET" \
    " category = excluded.category, severity = excluded.severity, cause = excluded.cause," \
    " remedy = excluded.remedy, updated = excluded.updated"
#define SQL_PROBE_CERT \
    "INSERT INTO server_certs (target, sha256, sha1, serial, subject, issuer, not_after," \
    " first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)" \
    " ON CONFLICT(target, sha256) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)"
/* The certificate this probe saw, for its finding's ECS tls.* fields
 * (migration 9): the finding is found by its (file, offset) key. */
#define SQL_PROBE_FINDING_CERT \
    "INSERT INTO probe_certs (finding_id, sha256, sha1, serial, subject, issuer, not_before," \
    " not_after, san) SELECT id, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM findings" \
    " WHERE file_id = ?9 AND offset = ?10"
/* Probes are numbered in the pseudo file: the highest offset is the newest
 * (the (file_id, offset) key answers it without reading other findings). */
#define SQL_PROBE_LAST \
    "SELECT ts, coalesce(target, ''), coalesce(code, ''), message FROM findings" \
    " WHERE file_id = (" SQL_PROBE_FILE ") ORDER BY offset DESC LIMIT 1"
#define SQL_PROBE_TARGETS \
    "SELECT DISTINCT target FROM findings WHERE ts >= ?1 AND target IS NOT NULL" \
    " AND target <> '' ORDER BY target"

/* Run sql with the given int64 and text parameters (NULL: none); *out
 * gets the first column of the first row when out is not NULL. */
static int run(struct aw_store *s, const char *sql, const int64_t *ints, size_t nints,
               const char *const *texts, size_t ntexts, int64_t *out, struct aw_err *err)
{
    sqlite3 *db = aw_store_sqlite(s);
    sqlite3_stmt *st = NULL;
    int step, rc = AW_OK;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, "cannot prepare a probe statement");
    }
    for (size_t i = 0; i < ntexts; i++) {
        sqlite3_bind_text(st, (int)i + 1, texts[i], -1, SQLITE_STATIC);
    }
    for (size_t i = 0; i < nints; i++) {
        sqlite3_bind_int64(st, (int)(ntexts + i) + 1, ints[i]);
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && out != NULL) {
        *out = sqlite3_column_int64(st, 0);
    } else if (step == SQLITE_ROW) {
        /* a row nobody asked for */
    } else if (step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot store a probe");
    } else if (out != NULL) {
        *out = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

static int probe_file(struct aw_store *s, int64_t now, int64_t *id, struct aw_err *err)
{
    int rc = run(s, SQL_PROBE_FILE, NULL, 0, NULL, 0, id, err);

    if (rc == AW_OK && *id < 0) {
        rc = run(s, SQL_PROBE_FILE_ADD, &now, 1, NULL, 0, NULL, err);
        if (rc == AW_OK) {
            *id = sqlite3_last_insert_rowid(aw_store_sqlite(s));
        }
    }
    return rc;
}

static int store_one(struct aw_store *s, const struct aw_probe_result *r, const char *host,
                     struct aw_err *err)
{
    const struct aw_probe_verdict_info *vi = aw_probe_verdict_info(r->verdict);
    char rule[64], target[AW_PROBE_HOST_MAX + 16];
    char message[AW_PROBE_DETAIL_MAX + AW_PROBE_HOST_MAX + 128];
    const char *severity = r->verdict == AW_PV_OK ? "info" : "error";
    int64_t file_id = -1, offset = 0;
    struct aw_finding f;
    int rc;

    snprintf(rule, sizeof(rule), "probe.%s", vi->name);
    snprintf(target, sizeof(target), "%s:%u", r->target.host, r->target.port);
    snprintf(message, sizeof(message), "probe %s: %s: %s", target, vi->name, r->detail);
    rc = probe_file(s, r->started_ms, &file_id, err);
    if (rc == AW_OK) {
        rc = run(s, SQL_PROBE_NEXT_OFFSET, &file_id, 1, NULL, 0, &offset, err);
    }
    if (rc == AW_OK) {
        const char *texts[] = { rule, vi->category, severity, vi->cause, vi->remedy };
        rc = run(s, SQL_PROBE_RULE, &r->started_ms, 1, texts, 5, NULL, err);
    }
    if (rc != AW_OK) {
        return rc;
    }
    memset(&f, 0, sizeof(f));
    f.ts_ms = r->started_ms;
    f.read_ms = r->started_ms;
    f.host = host;
    f.file_id = file_id;
    f.path = PROBE_FILE_PATH;
    f.offset = (uint64_t)offset;
    f.rule = rule;
    f.category = vi->category;
    f.severity = severity;
    f.level = r->verdict == AW_PV_OK ? "info" : "error";
    f.message = message;
    f.message_len = strlen(message);
    f.target = target;
    f.target_len = strlen(target);
    f.code = vi->name;
    f.code_len = strlen(vi->name);
    rc = aw_store_add_finding(s, &f, NULL, err);
    if (rc == AW_OK && r->nsent > 0) {
        const struct aw_probe_cert *c = &r->chain[0];
        const char *texts[] = { target, c->sha256, c->sha1, c->serial, c->subject, c->issuer,
                                c->not_after };
        const char *more[] = { c->sha256, c->sha1, c->serial, c->subject, c->issuer,
                               c->not_before, c->not_after, c->san };
        const int64_t key[] = { file_id, offset };

        rc = run(s, SQL_PROBE_CERT, &r->started_ms, 1, texts, 7, NULL, err);
        if (rc == AW_OK) {
            rc = run(s, SQL_PROBE_FINDING_CERT, key, 2, more, 8, NULL, err);
        }
    }
    return rc;
}

int aw_probe_store_result(struct aw_store *s, const struct aw_probe_result *r,
                          const char *host, struct aw_err *err)
{
    int rc = aw_store_begin(s, err);

    if (rc != AW_OK) {
        return rc;
    }
    rc = store_one(s, r, host, err);
    if (rc == AW_OK) {
        return aw_store_commit(s, err);
    }
    aw_store_rollback(s);
    return rc;
}

int aw_probe_store_targets(struct aw_store *s, int64_t since_ms, aw_probe_target_fn fn,
                           void *ctx, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int step = SQLITE_DONE, rc = AW_OK;

    if (sqlite3_prepare_v2(aw_store_sqlite(s), SQL_PROBE_TARGETS, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, "cannot list the targets of findings");
    }
    sqlite3_bind_int64(st, 1, since_ms);
    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        rc = fn(ctx, t ? (const char *)t : "", err);
    }
    if (rc == AW_OK && step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot list the targets of findings");
    }
    sqlite3_finalize(st);
    return rc;
}

void aw_probe_last_free(struct aw_probe_last *p)
{
    if (p == NULL) {
        return;
    }
    free(p->target);
    free(p->verdict);
    free(p->message);
    memset(p, 0, sizeof(*p));
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return strdup(t != NULL ? (const char *)t : "");
}

int aw_probe_store_last(struct aw_store *s, struct aw_probe_last *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, rc = AW_OK;

    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(aw_store_sqlite(s), SQL_PROBE_LAST, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, "cannot read the last probe");
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->found = true;
        out->time_ms = sqlite3_column_int64(st, 0);
        out->target = column_dup(st, 1);
        out->verdict = column_dup(st, 2);
        out->message = column_dup(st, 3);
        if (out->target == NULL || out->verdict == NULL || out->message == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory reading the last probe");
        }
    } else if (step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot read the last probe");
    }
    sqlite3_finalize(st);
    return rc;
}
