/*
 * Query: the health state and incidents at their edges (same millisecond,
 * same second, no success ever, only successes, filters), the hourly
 * table against plain counts on windows that cut through hours, the
 * triggers (partial completion, delete), migration 4 on an older
 * database, pruning with its recount and vacuum modes, and export of
 * hostile messages, of nothing, and of partial findings.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/export.h"
#include "agentwatch/query.h"
#include "agentwatch/retention.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "testutil.h"


struct fx {
    int64_t ts;
    const char *rule;         /* category is the part before the '.' */
    const char *host;         /* NULL: WKS-1 */
};


static void category_of(const char *rule, char *out, size_t size)
{
    size_t n = strcspn(rule, ".");

    snprintf(out, size, "%.*s", (int)n, rule);
}

/* Add findings in the given order (so ids follow it) to an open store. */
static void add_rows(struct aw_store *s, int64_t file_id, uint64_t *offset, const struct fx *rows,
                     size_t n)
{
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL_FATAL(aw_store_begin(s, &err), AW_OK);
    for (size_t i = 0; i < n; i++) {
        struct aw_finding f;
        char cat[64];

        memset(&f, 0, sizeof(f));
        category_of(rows[i].rule, cat, sizeof(cat));
        f.ts_ms = rows[i].ts;
        f.read_ms = TU_T0;
        f.host = rows[i].host != NULL ? rows[i].host : "WKS-1";
        f.file_id = file_id;
        f.path = "agent.log";
        f.offset = (*offset += 100);
        f.rule = rows[i].rule;
        f.category = cat;
        f.severity = "error";
        f.level = "error";
        f.message = "m";
        f.message_len = 1;
        CU_ASSERT_EQUAL_FATAL(aw_store_add_finding(s, &f, NULL, &err), AW_OK);
    }
    CU_ASSERT_EQUAL_FATAL(aw_store_commit(s, &err), AW_OK);
}

/* A fresh database holding rows; caller frees the path. */
static char *make_db(const char *name, const struct fx *rows, size_t n)
{
    char *path = tu_path(tu_dir(), name);
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    struct aw_file_id fid;
    int64_t id;
    uint64_t offset = 0;

    memset(&fid, 0, sizeof(fid));
    fid.head_len = 70;
    memset(fid.head, 'h', fid.head_len);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, path, 0, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_store_file_add(s, &fid, "agent.log", "itms", "utf-8", TU_T0, &id, &err),
                          AW_OK);
    add_rows(s, id, &offset, rows, n);
    aw_store_close(&s);
    return path;
}

struct result {
    struct aw_incidents inc;
    struct aw_health_state st;
};

static void query(const char *path, const struct aw_query_filter *f, size_t max,
                  struct result *r)
{
    struct aw_store *s = NULL;
    struct aw_query *q = NULL;
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, path, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_query_open(&q, s, f, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_query_incidents(q, max, &r->inc, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_query_state(q, &r->inc, &r->st, &err), AW_OK);
    aw_query_close(&q);
    aw_store_close(&s);
}

static const struct aw_query_filter all = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL };

static void test_same_millisecond(void)
{
    /* Log order decides at the same millisecond. */
    const struct fx fail_then_ok[] = { { TU_T0, "ssl.a", NULL }, { TU_T0, "health.ok", NULL } };
    const struct fx ok_then_fail[] = { { TU_T0, "health.ok", NULL }, { TU_T0, "ssl.a", NULL } };
    struct result r;
    char *p1 = make_db("ms1.db", fail_then_ok, 2);
    char *p2 = make_db("ms2.db", ok_then_fail, 2);

    query(p1, &all, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_HEALTHY);
    CU_ASSERT_EQUAL(r.st.since_ms, TU_T0);
    CU_ASSERT_EQUAL(r.inc.count, 1);
    CU_ASSERT_EQUAL(r.inc.items[0].start_ms, TU_T0);
    CU_ASSERT_EQUAL(r.inc.items[0].end_ms, TU_T0);
    CU_ASSERT_EQUAL(r.inc.items[0].count, 1);
    aw_incidents_free(&r.inc);
    query(p2, &all, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_FAILING);
    CU_ASSERT_EQUAL(r.st.since_ms, TU_T0);
    CU_ASSERT_EQUAL(r.st.failures, 1);
    CU_ASSERT_EQUAL(r.st.last_success_ms, TU_T0);
    CU_ASSERT_EQUAL(r.inc.count, 1);
    CU_ASSERT_EQUAL(r.inc.items[0].end_ms, AW_TIME_NONE);
    aw_incidents_free(&r.inc);
    free(p1);
    free(p2);
}

static void test_same_second_and_bursts(void)
{
    /* Within one second: fail, fail, ok (ms later), fail; several at one
     * instant on both sides of the success. */
    const struct fx rows[] = {
        { TU_T0 + 100, "ssl.a", NULL }, { TU_T0 + 100, "connection.b", NULL },
        { TU_T0 + 100, "health.ok", NULL }, { TU_T0 + 100, "ssl.a", NULL },
        { TU_T0 + 900, "ssl.a", NULL },
    };
    struct result r;
    char *p = make_db("sec.db", rows, 5);

    query(p, &all, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_FAILING);
    CU_ASSERT_EQUAL(r.st.since_ms, TU_T0 + 100);
    CU_ASSERT_EQUAL(r.st.failures, 2);
    CU_ASSERT_STRING_EQUAL(r.st.category, "ssl");
    CU_ASSERT_EQUAL(r.st.last_failure_ms, TU_T0 + 900);
    CU_ASSERT_EQUAL_FATAL(r.inc.count, 2);
    CU_ASSERT_EQUAL(r.inc.items[1].start_ms, TU_T0 + 100);
    CU_ASSERT_EQUAL(r.inc.items[1].end_ms, TU_T0 + 100);
    CU_ASSERT_EQUAL(r.inc.items[1].count, 2);
    /* A tie between ssl and connection goes to the first name. */
    CU_ASSERT_STRING_EQUAL(r.inc.items[1].category, "connection");
    CU_ASSERT_FALSE(r.inc.more);
    aw_incidents_free(&r.inc);
    free(p);
}

static void test_no_success_only_success_nothing(void)
{
    const struct fx fails[] = { { TU_T0, "ssl.a", NULL }, { TU_T0 + 5 * TU_HOUR, "dns.b", NULL },
                                { TU_T0 + 5 * TU_HOUR + 1, "dns.b", NULL } };
    const struct fx oks[] = { { TU_T0, "health.ok", NULL }, { TU_T0 + 2 * TU_HOUR, "health.ok", NULL } };
    struct aw_query_filter cat = all;
    struct result r;
    char *p1 = make_db("nosuccess.db", fails, 3);
    char *p2 = make_db("onlysuccess.db", oks, 2);
    char *p3 = make_db("empty.db", NULL, 0);

    query(p1, &all, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_FAILING);
    CU_ASSERT_EQUAL(r.st.since_ms, TU_T0);
    CU_ASSERT_EQUAL(r.st.failures, 3);
    CU_ASSERT_STRING_EQUAL(r.st.category, "dns");
    CU_ASSERT_EQUAL(r.st.last_success_ms, AW_TIME_NONE);
    CU_ASSERT_EQUAL(r.inc.count, 1);
    aw_incidents_free(&r.inc);
    query(p2, &all, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_HEALTHY);
    CU_ASSERT_EQUAL(r.st.since_ms, TU_T0);
    CU_ASSERT_EQUAL(r.st.last_success_ms, TU_T0 + 2 * TU_HOUR);
    CU_ASSERT_EQUAL(r.st.last_failure_ms, AW_TIME_NONE);
    CU_ASSERT_EQUAL(r.inc.count, 0);
    aw_incidents_free(&r.inc);
    query(p3, &all, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_UNKNOWN);
    CU_ASSERT_EQUAL(r.st.since_ms, AW_TIME_NONE);
    CU_ASSERT_EQUAL(r.inc.count, 0);
    aw_incidents_free(&r.inc);
    /* A category with nothing in it, success markers aside. */
    cat.category = "proxy";
    query(p2, &cat, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_HEALTHY);
    aw_incidents_free(&r.inc);
    query(p1, &cat, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_UNKNOWN);
    aw_incidents_free(&r.inc);
    free(p1);
    free(p2);
    free(p3);
}

/* agentwatch's own data-gap findings are neither failures nor successes:
 * they must not turn a healthy endpoint into a failing one. */
static void test_data_gaps_are_not_failures(void)
{
    const struct fx rows[] = { { TU_T0, "ssl.a", NULL }, { TU_T0 + TU_HOUR, "health.ok", NULL },
                               { TU_T0 + 2 * TU_HOUR, "agentwatch.data-gap", NULL } };
    struct result r;
    char *p = make_db("gaps.db", rows, 3);

    query(p, &all, 10, &r);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_HEALTHY);
    CU_ASSERT_EQUAL(r.st.last_failure_ms, TU_T0);
    CU_ASSERT_EQUAL(r.inc.count, 1);
    aw_incidents_free(&r.inc);
    free(p);
}

/* Incidents spanning many hours, windows that cut them, filters. */
static void test_incidents_across_hours(void)
{
    const struct fx rows[] = {
        { TU_T0 - 30 * TU_MIN, "health.ok", NULL },
        { TU_T0 + 10 * TU_MIN, "ssl.a", NULL },                 /* incident 1: 07:10 .. */
        { TU_T0 + 2 * TU_HOUR, "ssl.a", NULL },
        { TU_T0 + 3 * TU_HOUR + 59 * TU_MIN, "dns.b", NULL },
        { TU_T0 + 4 * TU_HOUR, "health.ok", "OTHER" },          /* another host's success */
        { TU_T0 + 5 * TU_HOUR, "ssl.a", NULL },
        { TU_T0 + 9 * TU_HOUR, "health.ok", NULL },             /* .. ends 16:00 */
        { TU_T0 + 9 * TU_HOUR + 1, "health.ok", NULL },
        { TU_T0 + 30 * TU_HOUR, "connection.c", NULL },         /* incident 2, ongoing */
        { TU_T0 + 30 * TU_HOUR + 5 * TU_SEC, "connection.c", "OTHER" },
    };
    struct aw_query_filter f = all;
    struct result r;
    char *p = make_db("hours.db", rows, sizeof(rows) / sizeof(rows[0]));

    /* Any host: OTHER's success at 11:00 splits the first run. */
    query(p, &all, 10, &r);
    CU_ASSERT_EQUAL_FATAL(r.inc.count, 3);
    CU_ASSERT_FALSE(r.inc.more);
    CU_ASSERT_EQUAL(r.inc.items[2].start_ms, TU_T0 + 10 * TU_MIN);
    CU_ASSERT_EQUAL(r.inc.items[2].last_ms, TU_T0 + 3 * TU_HOUR + 59 * TU_MIN);
    CU_ASSERT_EQUAL(r.inc.items[2].end_ms, TU_T0 + 4 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[2].count, 3);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_FAILING);
    CU_ASSERT_EQUAL(r.st.since_ms, TU_T0 + 30 * TU_HOUR);
    CU_ASSERT_EQUAL(r.st.failures, 2);
    CU_ASSERT_STRING_EQUAL(r.st.category, "connection");
    CU_ASSERT_EQUAL(r.st.last_failure_ms, TU_T0 + 30 * TU_HOUR + 5 * TU_SEC);
    aw_incidents_free(&r.inc);
    query(p, &all, 2, &r);
    CU_ASSERT_EQUAL_FATAL(r.inc.count, 2);
    CU_ASSERT_TRUE(r.inc.more);
    CU_ASSERT_EQUAL(r.inc.items[0].start_ms, TU_T0 + 30 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[0].end_ms, AW_TIME_NONE);
    CU_ASSERT_EQUAL(r.inc.items[0].count, 2);
    CU_ASSERT_EQUAL(r.inc.items[1].start_ms, TU_T0 + 5 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[1].end_ms, TU_T0 + 9 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[1].count, 1);
    aw_incidents_free(&r.inc);
    /* Host WKS-1 only: one incident from 07:10 to 16:00, then ongoing. */
    f.host = "WKS-1";
    query(p, &f, 10, &r);
    CU_ASSERT_EQUAL_FATAL(r.inc.count, 2);
    CU_ASSERT_FALSE(r.inc.more);
    CU_ASSERT_EQUAL(r.inc.items[0].start_ms, TU_T0 + 30 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[0].count, 1);
    CU_ASSERT_EQUAL(r.inc.items[1].start_ms, TU_T0 + 10 * TU_MIN);
    CU_ASSERT_EQUAL(r.inc.items[1].last_ms, TU_T0 + 5 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[1].end_ms, TU_T0 + 9 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[1].count, 4);
    CU_ASSERT_STRING_EQUAL(r.inc.items[1].category, "ssl");
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_FAILING);
    CU_ASSERT_EQUAL(r.st.failures, 1);
    CU_ASSERT_EQUAL(r.st.last_success_ms, TU_T0 + 9 * TU_HOUR + 1);
    aw_incidents_free(&r.inc);
    /* A window that starts inside an hour and ends inside another. */
    f.host = "WKS-1";
    f.since_ms = TU_T0 + 1 * TU_HOUR + 30 * TU_MIN;
    f.until_ms = TU_T0 + 9 * TU_HOUR;
    query(p, &f, 10, &r);
    CU_ASSERT_EQUAL_FATAL(r.inc.count, 1);
    CU_ASSERT_EQUAL(r.inc.items[0].start_ms, TU_T0 + 2 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[0].end_ms, TU_T0 + 9 * TU_HOUR);
    CU_ASSERT_EQUAL(r.inc.items[0].count, 3);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_HEALTHY);
    CU_ASSERT_EQUAL(r.st.since_ms, TU_T0 + 9 * TU_HOUR);
    aw_incidents_free(&r.inc);
    /* Rule and category filters select failures only. */
    f = all;
    f.rule = "dns.b";
    query(p, &f, 10, &r);
    CU_ASSERT_EQUAL_FATAL(r.inc.count, 1);
    CU_ASSERT_EQUAL(r.inc.items[0].start_ms, TU_T0 + 3 * TU_HOUR + 59 * TU_MIN);
    CU_ASSERT_EQUAL(r.inc.items[0].end_ms, TU_T0 + 4 * TU_HOUR);
    CU_ASSERT_EQUAL(r.st.health, AW_HEALTH_HEALTHY);
    aw_incidents_free(&r.inc);
    free(p);
}

struct sum {
    int64_t count;
    int64_t first;
    int64_t last;
};

static int sum_rows(void *ctx, const struct aw_count_row *row, struct aw_err *err)
{
    struct sum *s = ctx;

    (void)err;
    s->count += row->count;
    s->first = row->first_ms < s->first ? row->first_ms : s->first;
    s->last = row->last_ms > s->last ? row->last_ms : s->last;
    return AW_OK;
}

static struct sum summary(struct aw_store *s, int64_t since, int64_t until, const char *host)
{
    struct aw_query_filter f = { since, until, NULL, NULL, host };
    struct sum r = { 0, INT64_MAX, INT64_MIN };
    struct aw_query *q = NULL;
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL_FATAL(aw_query_open(&q, s, &f, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_query_by_category(q, sum_rows, &r, &err), AW_OK);
    aw_query_close(&q);
    return r;
}

/* The hourly table plus the edges give the same answer as the findings. */
static void test_hourly_counts_match_findings(void)
{
    struct fx rows[400];
    uint32_t x = 12345;
    char *p;
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    for (size_t i = 0; i < 400; i++) {
        x = x * 1103515245u + 12345u;
        rows[i].ts = TU_T0 - 2 * TU_HOUR + (int64_t)(x % (uint32_t)(50 * TU_HOUR / TU_SEC)) * TU_SEC +
                     (int64_t)(i % 3) * 999;
        rows[i].rule = (x >> 8) % 3 == 0 ? "health.ok" : (x >> 8) % 3 == 1 ? "ssl.a" : "dns.b";
        rows[i].host = (x >> 12) % 4 == 0 ? "OTHER" : NULL;
    }
    p = make_db("random.db", rows, 400);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, p, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(p, &db), SQLITE_OK);
    CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db,
        "SELECT count(*), min(ts), max(ts) FROM findings WHERE ts >= ?1 AND ts <= ?2"
        " AND (?3 IS NULL OR host = ?3)", -1, &st, NULL), SQLITE_OK);
    for (int k = 0; k < 300; k++) {
        int64_t a, b;
        const char *host = k % 2 ? "OTHER" : NULL;
        struct sum got;

        x = x * 1103515245u + 12345u;
        a = TU_T0 - 3 * TU_HOUR + (int64_t)(x % (uint32_t)(54 * TU_HOUR / TU_SEC)) * TU_SEC;
        x = x * 1103515245u + 12345u;
        /* Edges on, just before and just after hour boundaries too. */
        if (k % 3 == 0) {
            a = a - a % TU_HOUR - (k % 2);
        }
        b = a + (int64_t)(x % (uint32_t)(20 * TU_HOUR / TU_SEC)) * TU_SEC + (k % 5 == 0 ? TU_HOUR - 1 : 0);
        got = summary(s, a, b, host);
        sqlite3_bind_int64(st, 1, a);
        sqlite3_bind_int64(st, 2, b);
        if (host != NULL) {
            sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(st, 3);
        }
        CU_ASSERT_EQUAL_FATAL(sqlite3_step(st), SQLITE_ROW);
        CU_ASSERT_EQUAL(got.count, sqlite3_column_int64(st, 0));
        if (got.count > 0) {
            CU_ASSERT_EQUAL(got.first, sqlite3_column_int64(st, 1));
            CU_ASSERT_EQUAL(got.last, sqlite3_column_int64(st, 2));
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    aw_store_close(&s);
    free(p);
}

static long long hours_sum(const char *path)
{
    return tu_sql_int(path, "SELECT coalesce(sum(count), 0) FROM finding_hours");
}

/* finding_hours equals a fresh GROUP BY of the findings. */
static void assert_hours_exact(const char *path)
{
    CU_ASSERT_EQUAL(tu_sql_int(path,
        "SELECT count(*) FROM (SELECT hour, host, rule, category, count, first, last"
        " FROM finding_hours EXCEPT SELECT ts - ((ts % 3600000) + 3600000) % 3600000, host,"
        " rule, category, count(*), min(ts), max(ts) FROM findings GROUP BY 1, 2, 3, 4)"), 0);
    CU_ASSERT_EQUAL(hours_sum(path), tu_sql_int(path, "SELECT count(*) FROM findings"));
}

static void test_triggers_partial_and_migration(void)
{
    const struct fx rows[] = { { TU_T0, "ssl.a", NULL }, { TU_T0 - 1, "dns.b", NULL },
                               { TU_T0 - TU_HOUR - 1, "ssl.a", NULL } };
    char *p = make_db("trig.db", rows, 3);
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    struct aw_finding f;
    bool inserted = true;

    assert_hours_exact(p);
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT count(*) FROM finding_hours"), 3);
    /* A partial finding, completed with another rule and time. */
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, p, 0, &err), AW_OK);
    memset(&f, 0, sizeof(f));
    f.ts_ms = TU_T0 + 10;
    f.read_ms = TU_T0;
    f.host = "WKS-1";
    f.file_id = 1;
    f.path = "agent.log";
    f.offset = 5000;
    f.rule = "ssl.a";
    f.category = "ssl";
    f.severity = f.level = "error";
    f.message = "partial";
    f.message_len = 7;
    f.partial = true;
    CU_ASSERT_EQUAL(aw_store_begin(s, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_store_add_finding(s, &f, &inserted, &err), AW_OK);
    CU_ASSERT_TRUE(inserted);
    f.partial = false;
    f.ts_ms = TU_T0 + 2 * TU_HOUR;
    f.rule = "dns.b";
    f.category = "dns";
    CU_ASSERT_EQUAL(aw_store_add_finding(s, &f, &inserted, &err), AW_OK);
    CU_ASSERT_FALSE(inserted);
    CU_ASSERT_EQUAL(aw_store_commit(s, &err), AW_OK);
    aw_store_close(&s);
    assert_hours_exact(p);
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT count FROM finding_hours WHERE rule = 'dns.b'"
                                  " AND hour = 1741683600000"), 1);
    /* An older database: schema 3 without the table; migration 4 counts
     * what is there. */
    tu_sql_exec(p, "DROP TRIGGER findings_hours_delete;"
                   " DROP TRIGGER findings_hours_update; DROP TABLE finding_hours;"
                   " DROP TRIGGER findings_marks_delete; DROP TABLE export_cursors;"
                   " DROP TABLE spool_state; DROP TABLE server_certs; DROP TABLE probe_certs;"
                   " ALTER TABLE findings DROP COLUMN ts_inferred;"
                   " ALTER TABLE files DROP COLUMN head_len; ALTER TABLE files DROP COLUMN"
                   " head_sums; ALTER TABLE files ADD COLUMN head BLOB NOT NULL DEFAULT x'';"
                   " ALTER TABLE files DROP COLUMN last_record;"
                   " ALTER TABLE files DROP COLUMN last_record_host;"
                   " PRAGMA user_version = 3;");
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, p, 0, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_store_schema_version(s), AW_STORE_SCHEMA_VERSION);
    aw_store_close(&s);
    assert_hours_exact(p);
    CU_ASSERT_EQUAL(hours_sum(p), 4);
    /* Plain deletes keep the counts. */
    tu_sql_exec(p, "DELETE FROM findings WHERE rule = 'ssl.a'");
    CU_ASSERT_EQUAL(hours_sum(p), 2);
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT count(*) FROM finding_hours WHERE rule = 'ssl.a'"), 0);
    free(p);
}

static void test_prune(void)
{
    struct fx rows[60];
    char *p;
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    uint64_t deleted = 99;

    for (size_t i = 0; i < 60; i++) {
        rows[i].ts = TU_T0 + (int64_t)i * 10 * TU_MIN;   /* 07:00 .. 16:50 */
        rows[i].rule = i % 2 ? "ssl.a" : "health.ok";
        rows[i].host = NULL;
    }
    p = make_db("prune.db", rows, 60);
    /* New databases reclaim space incrementally. */
    CU_ASSERT_EQUAL(tu_sql_int(p, "PRAGMA auto_vacuum"), 2);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, p, 0, &err), AW_OK);
    /* Nothing older than the first finding. */
    CU_ASSERT_EQUAL(aw_store_prune(s, TU_T0, &deleted, &err), AW_OK);
    CU_ASSERT_EQUAL(deleted, 0);
    /* A cut in the middle of an hour (09:25): 07:00 .. 09:20 go (15). */
    CU_ASSERT_EQUAL(aw_store_prune(s, TU_T0 + 2 * TU_HOUR + 25 * TU_MIN, &deleted, &err), AW_OK);
    CU_ASSERT_EQUAL(deleted, 15);
    /* Not inside a transaction. */
    CU_ASSERT_EQUAL(aw_store_begin(s, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_store_prune(s, TU_T0 + 3 * TU_HOUR, &deleted, &err), AW_EUSAGE);
    aw_store_rollback(s);
    /* Retention by days: everything is older than a day before TU_T0 + 2d. */
    CU_ASSERT_EQUAL(aw_retention_run(s, 0, TU_T0, &deleted, &err), AW_EUSAGE);
    aw_store_close(&s);
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT count(*) FROM findings"), 45);
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT min(ts) FROM findings"), TU_T0 + 2 * TU_HOUR + 30 * TU_MIN);
    assert_hours_exact(p);
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT min(first) FROM finding_hours"),
                    TU_T0 + 2 * TU_HOUR + 30 * TU_MIN);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, p, 0, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_retention_run(s, 1, TU_T0 + 2 * 24 * TU_HOUR, &deleted, &err), AW_OK);
    CU_ASSERT_EQUAL(deleted, 45);
    aw_store_close(&s);
    CU_ASSERT_EQUAL(hours_sum(p), 0);
    /* Files and read positions are kept. */
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT count(*) FROM files"), 1);
    free(p);
}

static void test_prune_converts_old_database(void)
{
    const struct fx rows[] = { { TU_T0, "ssl.a", NULL }, { TU_T0 + 3 * TU_HOUR, "ssl.a", NULL } };
    char *p = make_db("oldvac.db", rows, 2);
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    uint64_t deleted = 0;

    /* What a database from before schema 4 looks like. */
    tu_sql_exec(p, "PRAGMA journal_mode=DELETE; PRAGMA auto_vacuum=NONE; VACUUM;");
    CU_ASSERT_EQUAL_FATAL(tu_sql_int(p, "PRAGMA auto_vacuum"), 0);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, p, 0, &err), AW_OK);
    /* Automatic retention never rewrites the file. */
    CU_ASSERT_EQUAL(aw_store_prune(s, TU_T0 + 1, &deleted, &err), AW_OK);
    CU_ASSERT_EQUAL(deleted, 1);
    aw_store_close(&s);
    CU_ASSERT_EQUAL(tu_sql_int(p, "PRAGMA auto_vacuum"), 0);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, p, 0, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_store_prune_ex(s, TU_T0 + 1, AW_PRUNE_CONVERT, &deleted, &err), AW_OK);
    CU_ASSERT_EQUAL(deleted, 0);
    aw_store_close(&s);
    CU_ASSERT_EQUAL(tu_sql_int(p, "PRAGMA auto_vacuum"), 2);
    CU_ASSERT_EQUAL(tu_sql_int(p, "SELECT count(*) FROM findings"), 1);
    free(p);
}

/* Export into a string; caller frees. */
static char *run_export(const char *db, enum aw_export_format format,
                        const struct aw_query_filter *f)
{
    char *out_path = tu_path(tu_dir(), "export.out");
    FILE *out = fopen(out_path, "wb");
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    char *text;

    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_export_run(s, f, format, out, &err), AW_OK);
    aw_store_close(&s);
    fclose(out);
    text = tu_read_file(out_path, NULL);
    free(out_path);
    return text;
}

static void test_export_hostile(void)
{
    const struct fx rows[] = { { TU_T0 + 2500, "ssl.a", NULL }, { TU_T0 + 3000, "health.ok", NULL } };
    struct aw_query_filter f = all;
    char *p = make_db("export.db", rows, 2);
    char *text;

    /* Bytes a cleaning insert would never write, straight into the row:
     * the writers must hold even then.  Quote, backslash, newline, ESC,
     * BEL, DEL, a C1 control, invalid UTF-8, and a valid 'é'. */
    tu_sql_exec(p, "UPDATE findings SET message = CAST(X'4120227122205C0A1B5B33316D07'"
                   " || X'7FC285FFC3A92C' AS TEXT), target = 'srv,\"1\"', code = '0x80'"
                   " WHERE rule = 'ssl.a';"
                   "UPDATE findings SET ts_known = 0 WHERE rule = 'health.ok';");
    text = run_export(p, AW_EXPORT_NDJSON, &f);
    CU_ASSERT_STRING_EQUAL(text,
        "{\"time\": \"2025-03-11T07:00:02.500Z\", \"time_known\": true,"
        " \"read_time\": \"2025-03-11T07:00:00.000Z\", \"host\": \"WKS-1\","
        " \"file\": \"agent.log\", \"file_id\": 1, \"offset\": 100, \"rule\": \"ssl.a\","
        " \"category\": \"ssl\", \"severity\": \"error\", \"level\": \"error\","
        " \"message\": \"A \\\"q\\\" \\\\\\n\\u001b[31m\\u0007\\u007f\xc2\x85\\ufffd\xc3\xa9,\","
        " \"target\": \"srv,\\\"1\\\"\", \"code\": \"0x80\", \"partial\": false, \"time_inferred\": false}\n"
        "{\"time\": \"2025-03-11T07:00:03.000Z\", \"time_known\": false,"
        " \"read_time\": \"2025-03-11T07:00:00.000Z\", \"host\": \"WKS-1\","
        " \"file\": \"agent.log\", \"file_id\": 1, \"offset\": 200, \"rule\": \"health.ok\","
        " \"category\": \"health\", \"severity\": \"error\", \"level\": \"error\","
        " \"message\": \"m\", \"target\": null, \"code\": null, \"partial\": false, \"time_inferred\": false}\n");
    free(text);
    text = run_export(p, AW_EXPORT_CSV, &f);
    CU_ASSERT_STRING_EQUAL(text,
        "time,time_known,read_time,host,file,file_id,offset,rule,category,severity,level,"
        "message,target,code,partial,time_inferred\r\n"
        "2025-03-11T07:00:02.500Z,true,2025-03-11T07:00:00.000Z,WKS-1,agent.log,1,100,ssl.a,"
        "ssl,error,error,\"A \"\"q\"\" \\?" "?[31m???\xef\xbf\xbd\xc3\xa9,\",\"srv,\"\"1\"\"\",0x80,"
        "false,false\r\n"
        "2025-03-11T07:00:03.000Z,false,2025-03-11T07:00:00.000Z,WKS-1,agent.log,1,200,"
        "health.ok,health,error,error,m,,,false,false\r\n");
    free(text);
    /* The window is inclusive at both ends. */
    f.since_ms = TU_T0 + 3000;
    f.until_ms = TU_T0 + 3000;
    text = run_export(p, AW_EXPORT_CSV, &f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "health.ok"));
    CU_ASSERT_PTR_NULL(strstr(text, "ssl.a"));
    free(text);
    free(p);
}

/* The columns come from one table in every format: an empty export is the
 * CSV header alone (or nothing), and every boolean column turns. */
static void test_export_empty_and_flags(void)
{
    const struct fx rows[] = { { TU_T0 + 2500, "ssl.a", NULL }, { TU_T0 + 3000, "health.ok", "WKS-2" } };
    struct aw_query_filter f = all;
    char *p = make_db("export-flags.db", rows, 2);
    char *text;

    f.host = "nobody";
    text = run_export(p, AW_EXPORT_CSV, &f);
    CU_ASSERT_STRING_EQUAL(text,
        "time,time_known,read_time,host,file,file_id,offset,rule,category,severity,level,"
        "message,target,code,partial,time_inferred\r\n");
    free(text);
    text = run_export(p, AW_EXPORT_NDJSON, &f);
    CU_ASSERT_STRING_EQUAL(text, "");
    free(text);
    tu_sql_exec(p, "UPDATE findings SET partial = 1, target = '', code = 'c'"
                   " WHERE rule = 'health.ok';");
    f.host = "WKS-2";
    text = run_export(p, AW_EXPORT_NDJSON, &f);
    CU_ASSERT_STRING_EQUAL(text,
        "{\"time\": \"2025-03-11T07:00:03.000Z\", \"time_known\": true,"
        " \"read_time\": \"2025-03-11T07:00:00.000Z\", \"host\": \"WKS-2\","
        " \"file\": \"agent.log\", \"file_id\": 1, \"offset\": 200, \"rule\": \"health.ok\","
        " \"category\": \"health\", \"severity\": \"error\", \"level\": \"error\","
        " \"message\": \"m\", \"target\": \"\", \"code\": \"c\", \"partial\": true, \"time_inferred\": false}\n");
    free(text);
    text = run_export(p, AW_EXPORT_CSV, &f);
    CU_ASSERT_STRING_EQUAL(text,
        "time,time_known,read_time,host,file,file_id,offset,rule,category,severity,level,"
        "message,target,code,partial,time_inferred\r\n"
        "2025-03-11T07:00:03.000Z,true,2025-03-11T07:00:00.000Z,WKS-2,agent.log,1,200,"
        "health.ok,health,error,error,m,,c,true,false\r\n");
    free(text);
    free(p);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("query", tu_suite_setup, tu_suite_teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "data gaps are not failures", test_data_gaps_are_not_failures);
    CU_add_test(s, "same millisecond", test_same_millisecond);
    CU_add_test(s, "same second and bursts", test_same_second_and_bursts);
    CU_add_test(s, "no success, only success, nothing", test_no_success_only_success_nothing);
    CU_add_test(s, "incidents across hours and filters", test_incidents_across_hours);
    CU_add_test(s, "hourly counts match findings", test_hourly_counts_match_findings);
    CU_add_test(s, "triggers, partial, migration 4", test_triggers_partial_and_migration);
    CU_add_test(s, "prune", test_prune);
    CU_add_test(s, "prune converts an old database", test_prune_converts_old_database);
    CU_add_test(s, "export hostile", test_export_hostile);
    CU_add_test(s, "export empty and flags", test_export_empty_and_flags);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
