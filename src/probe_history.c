/*
 * The stored probes per server, for report (see probe_history.h for the
 * definitions).  Reads only: the probe findings (the pseudo file of
 * probe_store.c), server_certs, and the targets of log findings.
 */
#include "agentwatch/probe_history.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentwatch/fields.h"
#include "agentwatch/rules.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "agentwatch/tz.h"
#include "store_internal.h"

#define PROBE_FILES \
    "(SELECT id FROM files WHERE dev = -1 AND ino = -1 AND path = 'agentwatch probe')"
/* report's window and host (?3 lowest ts, ?4 highest, ?5 host or NULL),
 * as every other section of the report applies them. */
#define IN_WINDOW " ts >= ?3 AND ts <= ?4 AND (?5 IS NULL OR host = ?5)"
/* The last probe per target: SQLite takes the bare columns from the row
 * of max(ts) (and of the highest id among equal times, by the order). */
#define SQL_LAST_PROBES \
    "SELECT target, max(ts), coalesce(code, ''), CAST(message AS TEXT) FROM" \
    " (SELECT * FROM findings WHERE file_id IN " PROBE_FILES " AND target IS NOT NULL" \
    " AND" IN_WINDOW " ORDER BY id) GROUP BY target ORDER BY target"
/* Unfiltered: server_certs, which also holds probes older than
 * probe_certs (migration 9). */
#define SQL_CERTS \
    "SELECT sha1, first_seen, last_seen FROM server_certs WHERE target = ?1" \
    " ORDER BY last_seen DESC, first_seen DESC LIMIT 2"
/* Within a window or for one host: the certificates the probes in it saw,
 * from each probe's own certificate row. */
#define SQL_CERTS_WINDOW \
    "SELECT c.sha1, min(f.ts) AS first_seen, max(f.ts) AS last_seen FROM findings f" \
    " JOIN probe_certs c ON c.finding_id = f.id WHERE f.file_id IN " PROBE_FILES \
    " AND f.target = ?1 AND" IN_WINDOW " GROUP BY c.sha256" \
    " ORDER BY last_seen DESC, first_seen DESC LIMIT 2"
#define SQL_FIRST_PROBE_AFTER \
    "SELECT min(ts) FROM findings WHERE file_id IN " PROBE_FILES " AND target = ?1 AND ts > ?2" \
    " AND" IN_WINDOW
#define SQL_TARGETS \
    "SELECT DISTINCT target FROM findings WHERE target IS NOT NULL AND target <> ''" \
    " AND" IN_WINDOW
#define SQL_FIRST_FAILURE \
    "SELECT min(ts) FROM findings WHERE target = ?1 AND ts > ?2 AND category <> '" \
    AW_CATEGORY_HEALTH "' AND" IN_WINDOW

/* The window of a filter as bound values: lowest and highest ts. */
struct window {
    int64_t lo, hi;
    const char *host;
    bool open;                /* no bound and no host: the whole history */
};

static void copy(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src != NULL ? (const char *)src : "");
}

/* Prepare sql and bind the window to ?3..?5 when it has them. */
static int prepare(struct aw_store *s, const char *sql, const struct window *w,
                   sqlite3_stmt **st, struct aw_err *err)
{
    if (sqlite3_prepare_v2(aw_store_sqlite(s), sql, -1, st, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, "cannot read the stored probes");
    }
    if (sqlite3_bind_parameter_count(*st) < 5) {
        return AW_OK;
    }
    sqlite3_bind_int64(*st, 3, w->lo);
    sqlite3_bind_int64(*st, 4, w->hi);
    if (w->host != NULL) {
        sqlite3_bind_text(*st, 5, w->host, -1, SQLITE_STATIC);
    }
    return AW_OK;
}

/* min(ts) of sql for (text, after); AW_TIME_NONE when there is none. */
static int first_after(struct aw_store *s, const struct window *w, const char *sql,
                       const char *text, int64_t after, int64_t *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, sql, w, &st, err);

    *out = AW_TIME_NONE;
    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = aw_store_db_error(s, err, "cannot read the stored probes");
    } else if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The current and previous certificates of sv's target, and when the
 * change was seen; *old_last the moment the old one was last seen. */
static int load_change(struct aw_store *s, const struct window *w, struct aw_probe_server *sv,
                       int64_t *old_last, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int64_t first[2] = { 0, 0 }, last[2] = { 0, 0 };
    int n = 0, step, rc = prepare(s, w->open ? SQL_CERTS : SQL_CERTS_WINDOW, w, &st, err);

    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, sv->target, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && n < 2) {
        copy(n == 0 ? sv->sha1 : sv->old_sha1, sizeof(sv->sha1), sqlite3_column_text(st, 0));
        first[n] = sqlite3_column_int64(st, 1);
        last[n] = sqlite3_column_int64(st, 2);
        n++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot read the stored certificates");
    }
    sqlite3_finalize(st);
    if (rc != AW_OK || n < 2) {
        return rc;
    }
    sv->changed = true;
    *old_last = last[1];
    sv->changed_ms = first[0];
    if (first[0] <= last[1]) {
        /* The current one was seen before the old one too (a certificate
         * put back): its first sighting says nothing about this change. */
        rc = first_after(s, w, SQL_FIRST_PROBE_AFTER, sv->target, last[1], &sv->changed_ms,
                         err);
    }
    return rc;
}

/* Failures naming sv's target after old_last: every stored target that
 * names the same host and port counts (log findings keep URLs). */
static int load_failures(struct aw_store *s, const struct window *w, struct aw_probe_server *sv,
                         int64_t old_last, struct aw_err *err)
{
    struct aw_probe_target want, t;
    struct aw_err perr = { 0 };
    sqlite3_stmt *st = NULL;
    int step, rc;

    sv->failures_ms = AW_TIME_NONE;
    if (aw_probe_parse_target(sv->target, &want, &perr) != AW_OK) {
        return AW_OK;   /* a stored target of another form: nothing to match */
    }
    rc = prepare(s, SQL_TARGETS, w, &st, err);
    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0);
        int64_t ms;

        if (text == NULL || aw_probe_parse_target(text, &t, &perr) != AW_OK ||
            strcmp(t.host, want.host) != 0 || t.port != want.port) {
            continue;
        }
        rc = first_after(s, w, SQL_FIRST_FAILURE, text, old_last, &ms, err);
        if (rc == AW_OK && ms != AW_TIME_NONE &&
            (sv->failures_ms == AW_TIME_NONE || ms < sv->failures_ms)) {
            sv->failures_ms = ms;
        }
    }
    if (rc == AW_OK && step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot read the targets of findings");
    }
    sqlite3_finalize(st);
    return rc;
}

static int add_server(struct aw_probe_servers *l, size_t *cap, sqlite3_stmt *st,
                      struct aw_err *err)
{
    struct aw_probe_server *sv;

    if (l->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct aw_probe_server *n = realloc(l->items, ncap * sizeof(*n));
        if (n == NULL) {
            return aw_err_set(err, AW_ENOMEM, "out of memory for the probed servers");
        }
        l->items = n;
        *cap = ncap;
    }
    sv = &l->items[l->count++];
    memset(sv, 0, sizeof(*sv));
    copy(sv->target, sizeof(sv->target), sqlite3_column_text(st, 0));
    sv->last_ms = sqlite3_column_int64(st, 1);
    copy(sv->verdict, sizeof(sv->verdict), sqlite3_column_text(st, 2));
    copy(sv->detail, sizeof(sv->detail), sqlite3_column_text(st, 3));
    sv->changed_ms = AW_TIME_NONE;
    sv->failures_ms = AW_TIME_NONE;
    return AW_OK;
}

int aw_probe_servers_load(struct aw_store *s, const struct aw_query_filter *f,
                          struct aw_probe_servers *out, struct aw_err *err)
{
    struct window w = { INT64_MIN, INT64_MAX, NULL, true };
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int step = SQLITE_DONE, rc;

    memset(out, 0, sizeof(*out));
    if (f != NULL) {
        w.lo = f->since_ms != AW_TIME_NONE ? f->since_ms : INT64_MIN;
        w.hi = f->until_ms != AW_TIME_NONE ? f->until_ms : INT64_MAX;
        w.host = f->host;
        w.open = f->since_ms == AW_TIME_NONE && f->until_ms == AW_TIME_NONE && f->host == NULL;
    }
    rc = prepare(s, SQL_LAST_PROBES, &w, &st, err);
    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = add_server(out, &cap, st, err);
    }
    if (rc == AW_OK && step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot read the stored probes");
    }
    sqlite3_finalize(st);
    for (size_t i = 0; rc == AW_OK && i < out->count; i++) {
        struct aw_probe_server *sv = &out->items[i];
        int64_t old_last = 0;

        rc = load_change(s, &w, sv, &old_last, err);
        if (rc == AW_OK && sv->changed) {
            rc = load_failures(s, &w, sv, old_last, err);
        }
    }
    if (rc != AW_OK) {
        aw_probe_servers_free(out);
    }
    return rc;
}

void aw_probe_servers_free(struct aw_probe_servers *l)
{
    if (l != NULL) {
        free(l->items);
        memset(l, 0, sizeof(*l));
    }
}

void aw_probe_server_change_line(FILE *out, const struct aw_probe_server *sv,
                                 const struct aw_tz *tz)
{
    char t[AW_TIME_ISO_MAX], f[AW_TIME_ISO_MAX];

    aw_tz_format_short(tz, sv->changed_ms, t);
    aw_tz_format_short(tz, sv->failures_ms, f);
    aw_text_printf(out, "certificate of %s changed at %s (%s \xe2\x86\x92 %s); ", sv->target,
                   t, sv->old_sha1, sv->sha1);
    if (sv->failures_ms != AW_TIME_NONE) {
        aw_text_printf(out, "failures began at %s", f);
    } else {
        fputs("no failure since", out);
    }
}

void aw_probe_servers_text(FILE *out, const struct aw_probe_servers *l, const struct aw_tz *tz)
{
    char t[AW_TIME_ISO_MAX];

    if (l->count == 0) {
        return;
    }
    fputs("\nServers probed (last probe):\n", out);
    for (size_t i = 0; i < l->count; i++) {
        const struct aw_probe_server *sv = &l->items[i];

        aw_tz_format_short(tz, sv->last_ms, t);
        aw_text_printf(out, "  %s  %s  %s\n", sv->target, t, sv->verdict);
        if (sv->changed) {
            fputs("    ", out);
            aw_probe_server_change_line(out, sv, tz);
            fputc('\n', out);
        }
    }
}

void aw_probe_servers_json(FILE *out, const struct aw_probe_servers *l)
{
    fputs(",\n \"servers\": [", out);
    for (size_t i = 0; i < l->count; i++) {
        const struct aw_probe_server *sv = &l->items[i];
        const struct aw_field f[] = {
            { "target", AW_FIELD_TEXT, .text = sv->target },
            { "last_probe", AW_FIELD_TIME, .num = sv->last_ms },
            { "verdict", AW_FIELD_TEXT, .text = sv->verdict },
            { "detail", AW_FIELD_TEXT, .text = sv->detail },
            { "sha1", AW_FIELD_TEXT, .text = sv->sha1[0] ? sv->sha1 : NULL },
            { "certificate_changed", AW_FIELD_BOOL, .num = sv->changed },
            { "changed_at", AW_FIELD_TIME, .num = sv->changed_ms },
            { "old_sha1", AW_FIELD_TEXT, .text = sv->changed ? sv->old_sha1 : NULL },
            { "failures_began", AW_FIELD_TIME, .num = sv->failures_ms },
        };
        aw_fields_json_item(out, i, f, sizeof(f) / sizeof(f[0]));
    }
    fputs(l->count ? "\n ]" : "]", out);
}
