/*
 * probe history in report: the last probe per server and the
 * "certificate of X changed at T (old → new); failures began at T'" line,
 * from probes stored with the probe's own store API (probe_store.h) in a
 * real SQLite database, and log findings naming the server by URL.  The
 * same path from real TLS servers is tested by tests/probe/harness.py
 * ("history").
 */
#include "testutil.h"

#include "agentwatch/probe.h"
#include "agentwatch/probe_history.h"
#include "agentwatch/probe_store.h"
#include "agentwatch/report.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define SHA1_A "A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1"
#define SHA1_B "B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2"

/* Store one probe of target at ms with verdict v and, unless sha1 is NULL,
 * a server certificate whose thumbprints derive from sha1. */
static void store_probe_by(struct aw_store *s, const char *host, const char *target, int64_t ms,
                           enum aw_probe_verdict v, const char *sha1)
{
    struct aw_probe_result *r = calloc(1, sizeof(*r));
    struct aw_err err = { 0 };

    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL_FATAL(aw_probe_parse_target(target, &r->target, &err), AW_OK);
    r->verdict = v;
    snprintf(r->detail, sizeof(r->detail), "detail of %s", aw_probe_verdict_info(v)->name);
    r->started_ms = ms;
    if (sha1 != NULL) {
        struct aw_probe_cert *c = &r->chain[0];
        snprintf(c->sha1, sizeof(c->sha1), "%s", sha1);
        snprintf(c->sha256, sizeof(c->sha256), "%s%s", sha1, sha1);
        snprintf(c->serial, sizeof(c->serial), "01");
        snprintf(c->subject, sizeof(c->subject), "CN=%s", r->target.host);
        snprintf(c->issuer, sizeof(c->issuer), "CN=Test CA");
        snprintf(c->not_after, sizeof(c->not_after), "2030-01-01T00:00:00Z");
        r->nchain = r->nsent = 1;
    }
    CU_ASSERT_EQUAL(aw_probe_store_result(s, r, host, &err), AW_OK);
    free(r);
}

static void store_probe(struct aw_store *s, const char *target, int64_t ms,
                        enum aw_probe_verdict v, const char *sha1)
{
    store_probe_by(s, "WKS-1", target, ms, v, sha1);
}

/* A log finding naming the server by URL, as an agent log does. */
static void store_log_failure(struct aw_store *s, int64_t file_id, uint64_t offset, int64_t ms,
                              const char *category, const char *target)
{
    struct aw_finding f;
    struct aw_err err = { 0 };

    memset(&f, 0, sizeof(f));
    f.ts_ms = ms;
    f.read_ms = ms;
    f.host = "WKS-1";
    f.file_id = file_id;
    f.path = "agent.log";
    f.offset = offset;
    f.rule = "ssl-untrusted-root";
    f.category = category;
    f.severity = "error";
    f.level = "error";
    f.message = "Could not establish trust relationship";
    f.message_len = strlen(f.message);
    f.target = target;
    f.target_len = strlen(target);
    CU_ASSERT_EQUAL(aw_store_begin(s, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_store_add_finding(s, &f, NULL, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_store_commit(s, &err), AW_OK);
}

static char *line_of(const struct aw_probe_server *sv)
{
    char *path = tu_path(tu_dir(), "line.txt"), *text;
    FILE *f = fopen(path, "wb");

    CU_ASSERT_FATAL(f != NULL);
    aw_probe_server_change_line(f, sv, NULL);
    fclose(f);
    text = tu_read_file(path, NULL);
    free(path);
    return text;
}

static char *report_filtered(const char *db, enum aw_report_format format,
                             const struct aw_tz *tz, const struct aw_query_filter *filter)
{
    char *path = tu_path(tu_dir(), "report.out"), *text;
    struct aw_report_opts o;
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    FILE *f = fopen(path, "wb");

    CU_ASSERT_FATAL(f != NULL);
    memset(&o, 0, sizeof(o));
    o.format = format;
    o.tz = tz;
    o.filter.since_ms = AW_TIME_NONE;
    o.filter.until_ms = AW_TIME_NONE;
    if (filter != NULL) {
        o.filter = *filter;
    }
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_report_run(s, &o, f, &err), AW_OK);
    aw_store_close(&s);
    fclose(f);
    text = tu_read_file(path, NULL);
    free(path);
    return text;
}

/* A new store at db with the log file the failures come from. */
static struct aw_store *open_with_log(const char *db, int64_t *fid_id)
{
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    struct aw_file_id fid;

    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db, 0, &err), AW_OK);
    tu_make_fid(&fid, "<event date='03/11/2025 08:00:01.1210000 +01:00'>", 0, 0);
    CU_ASSERT_EQUAL_FATAL(aw_store_file_add(s, &fid, "agent.log", "itms", "utf-8", TU_T0,
                                            fid_id, &err), AW_OK);
    return s;
}

static char *report_of(const char *db, enum aw_report_format format, const struct aw_tz *tz)
{
    return report_filtered(db, format, tz, NULL);
}

static void test_change_and_failures(void)
{
    char *db = tu_path(tu_dir(), "history.db"), *text;
    struct aw_probe_servers l;
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    int64_t fid_id;

    s = open_with_log(db, &fid_id);
    /* Certificate A, twice, and a failure before the change (not its). */
    store_probe(s, "mgmt.corp.example", TU_T0, AW_PV_OK, SHA1_A);
    store_log_failure(s, fid_id, 10, TU_T0 + 30 * TU_MIN, "ssl",
                      "https://mgmt.corp.example/ccm_system/request");
    store_probe(s, "mgmt.corp.example:443", TU_T0 + TU_HOUR, AW_PV_OK, SHA1_A);
    /* The server changes; the agent fails first (by URL, and a success of
     * the same server does not count), then a probe sees certificate B. */
    store_log_failure(s, fid_id, 20, TU_T0 + 2 * TU_HOUR, AW_CATEGORY_HEALTH,
                      "https://mgmt.corp.example/");
    store_log_failure(s, fid_id, 30, TU_T0 + 3 * TU_HOUR, "ssl",
                      "https://mgmt.corp.example:443/ccm_system/request");
    store_log_failure(s, fid_id, 40, TU_T0 + 150 * TU_MIN, "ssl", "other.example:443");
    store_probe(s, "mgmt.corp.example", TU_T0 + 4 * TU_HOUR, AW_PV_ROOT_UNTRUSTED, SHA1_B);
    /* Another server: one certificate, a probe without one at the end. */
    store_probe(s, "127.0.0.1:8443", TU_T0, AW_PV_OK, SHA1_A);
    store_probe(s, "127.0.0.1:8443", TU_T0 + TU_HOUR, AW_PV_TCP_REFUSED, NULL);

    CU_ASSERT_EQUAL_FATAL(aw_probe_servers_load(s, NULL, &l, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(l.count, 2);
    CU_ASSERT_STRING_EQUAL(l.items[0].target, "127.0.0.1:8443");
    CU_ASSERT_EQUAL(l.items[0].last_ms, TU_T0 + TU_HOUR);
    CU_ASSERT_STRING_EQUAL(l.items[0].verdict, "tcp-refused");
    CU_ASSERT_FALSE(l.items[0].changed);
    CU_ASSERT_STRING_EQUAL(l.items[0].sha1, SHA1_A);
    CU_ASSERT_STRING_EQUAL(l.items[1].target, "mgmt.corp.example:443");
    CU_ASSERT_EQUAL(l.items[1].last_ms, TU_T0 + 4 * TU_HOUR);
    CU_ASSERT_STRING_EQUAL(l.items[1].verdict, "root-untrusted");
    CU_ASSERT_PTR_NOT_NULL(strstr(l.items[1].detail, "detail of root-untrusted"));
    CU_ASSERT_TRUE(l.items[1].changed);
    CU_ASSERT_STRING_EQUAL(l.items[1].sha1, SHA1_B);
    CU_ASSERT_STRING_EQUAL(l.items[1].old_sha1, SHA1_A);
    CU_ASSERT_EQUAL(l.items[1].changed_ms, TU_T0 + 4 * TU_HOUR);
    CU_ASSERT_EQUAL(l.items[1].failures_ms, TU_T0 + 3 * TU_HOUR);
    text = line_of(&l.items[1]);
    CU_ASSERT_STRING_EQUAL(text, "certificate of mgmt.corp.example:443 changed at "
                           "2025-03-11 11:00:00Z (" SHA1_A " \xe2\x86\x92 " SHA1_B
                           "); failures began at 2025-03-11 10:00:00Z");
    free(text);
    aw_probe_servers_free(&l);

    /* Certificate A put back: the change is dated by the first probe after
     * B was last seen, and no failure came since. */
    store_probe(s, "mgmt.corp.example", TU_T0 + 5 * TU_HOUR, AW_PV_OK, SHA1_A);
    CU_ASSERT_EQUAL_FATAL(aw_probe_servers_load(s, NULL, &l, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(l.count, 2);
    CU_ASSERT_STRING_EQUAL(l.items[1].sha1, SHA1_A);
    CU_ASSERT_STRING_EQUAL(l.items[1].old_sha1, SHA1_B);
    CU_ASSERT_EQUAL(l.items[1].changed_ms, TU_T0 + 5 * TU_HOUR);
    CU_ASSERT_EQUAL(l.items[1].failures_ms, AW_TIME_NONE);
    text = line_of(&l.items[1]);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "(" SHA1_B " \xe2\x86\x92 " SHA1_A "); no failure since"));
    free(text);
    aw_probe_servers_free(&l);
    aw_store_close(&s);

    /* report: the section in the table, the array in JSON. */
    text = report_of(db, AW_REPORT_TABLE, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nServers probed (last probe):\n"
                                        "  127.0.0.1:8443  2025-03-11 08:00:00Z  tcp-refused\n"
                                        "  mgmt.corp.example:443  2025-03-11 12:00:00Z  ok\n"
                                        "    certificate of mgmt.corp.example:443 changed at "
                                        "2025-03-11 12:00:00Z"));
    free(text);
    /* report --local: the section's times in the zone, with its offset. */
    {
        struct aw_tz *tz = NULL;

        CU_ASSERT_EQUAL_FATAL(aw_tz_open("+01:00", &tz, &err), AW_OK);
        text = report_of(db, AW_REPORT_TABLE, tz);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nServers probed (last probe):\n"
                                            "  127.0.0.1:8443  2025-03-11 09:00:00+01:00  tcp-refused\n"
                                            "  mgmt.corp.example:443  2025-03-11 13:00:00+01:00  ok\n"
                                            "    certificate of mgmt.corp.example:443 changed at "
                                            "2025-03-11 13:00:00+01:00"));
        free(text);
        aw_tz_free(&tz);
    }
    text = report_of(db, AW_REPORT_JSON, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ",\n \"servers\": [\n  {\"target\": \"127.0.0.1:8443\","
                                        " \"last_probe\": \"2025-03-11T08:00:00.000Z\","
                                        " \"verdict\": \"tcp-refused\","));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"sha1\": \"" SHA1_A "\", \"certificate_changed\": "
                                        "false, \"changed_at\": null, \"old_sha1\": null,"
                                        " \"failures_began\": null},\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"certificate_changed\": true, \"changed_at\": "
                                        "\"2025-03-11T12:00:00.000Z\", \"old_sha1\": \"" SHA1_B
                                        "\", \"failures_began\": null}\n ]"));
    free(text);
    free(db);
}

/* Load the servers of db as report would for filter. */
static void load_filtered(const char *db, int64_t since, int64_t until, const char *host,
                          struct aw_probe_servers *l)
{
    struct aw_query_filter f = { .since_ms = since, .until_ms = until, .host = host };
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_probe_servers_load(s, &f, l, &err), AW_OK);
    aw_store_close(&s);
}

/* --since, --until and --host apply to the servers as to every other
 * section: the probes in the window, by that host; the certificates
 * those probes saw; the failures in the window. */
static void test_window_and_host(void)
{
    char *db = tu_path(tu_dir(), "window.db"), *text;
    struct aw_store *s = NULL;
    struct aw_probe_servers l;
    struct aw_query_filter f = { .since_ms = AW_TIME_NONE, .until_ms = AW_TIME_NONE,
                                 .host = "WKS-2" };
    int64_t fid_id;

    s = open_with_log(db, &fid_id);
    store_probe(s, "mgmt.corp.example", TU_T0, AW_PV_OK, SHA1_A);
    store_log_failure(s, fid_id, 10, TU_T0 + TU_HOUR, "ssl", "https://mgmt.corp.example/");
    store_probe(s, "mgmt.corp.example", TU_T0 + 2 * TU_HOUR, AW_PV_ROOT_UNTRUSTED, SHA1_B);
    store_probe_by(s, "WKS-2", "other.example", TU_T0 + 3 * TU_HOUR, AW_PV_OK, SHA1_A);
    aw_store_close(&s);

    /* Everything: both servers, the change and its failure. */
    load_filtered(db, AW_TIME_NONE, AW_TIME_NONE, NULL, &l);
    CU_ASSERT_EQUAL_FATAL(l.count, 2);
    CU_ASSERT_TRUE(l.items[0].changed);
    aw_probe_servers_free(&l);
    /* --until before the change: the probe then, one certificate. */
    load_filtered(db, AW_TIME_NONE, TU_T0 + 90 * TU_MIN, NULL, &l);
    CU_ASSERT_EQUAL_FATAL(l.count, 1);
    CU_ASSERT_STRING_EQUAL(l.items[0].target, "mgmt.corp.example:443");
    CU_ASSERT_EQUAL(l.items[0].last_ms, TU_T0);
    CU_ASSERT_STRING_EQUAL(l.items[0].verdict, "ok");
    CU_ASSERT_STRING_EQUAL(l.items[0].sha1, SHA1_A);
    CU_ASSERT_FALSE(l.items[0].changed);
    aw_probe_servers_free(&l);
    /* --since after the change: only certificate B was seen in it. */
    load_filtered(db, TU_T0 + 90 * TU_MIN, AW_TIME_NONE, NULL, &l);
    CU_ASSERT_EQUAL_FATAL(l.count, 2);
    CU_ASSERT_STRING_EQUAL(l.items[0].sha1, SHA1_B);
    CU_ASSERT_FALSE(l.items[0].changed);
    aw_probe_servers_free(&l);
    /* --host WKS-1: its server with the change and the failure. */
    load_filtered(db, AW_TIME_NONE, AW_TIME_NONE, "WKS-1", &l);
    CU_ASSERT_EQUAL_FATAL(l.count, 1);
    CU_ASSERT_TRUE(l.items[0].changed);
    CU_ASSERT_STRING_EQUAL(l.items[0].old_sha1, SHA1_A);
    CU_ASSERT_EQUAL(l.items[0].changed_ms, TU_T0 + 2 * TU_HOUR);
    CU_ASSERT_EQUAL(l.items[0].failures_ms, TU_T0 + TU_HOUR);
    aw_probe_servers_free(&l);
    /* The report passes its filter on: --host WKS-2, the other server. */
    text = report_filtered(db, AW_REPORT_JSON, NULL, &f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"servers\": [\n  {\"target\": \"other.example:443\""));
    CU_ASSERT_PTR_NULL(strstr(text, "mgmt.corp.example"));
    free(text);
    free(db);
}

/* No probe stored: no section, an empty array. */
static void test_no_probes(void)
{
    char *db = tu_path(tu_dir(), "empty.db"), *text;
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db, 0, &err), AW_OK);
    aw_store_close(&s);
    text = report_of(db, AW_REPORT_JSON, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n \"servers\": [],"));
    free(text);
    text = report_of(db, AW_REPORT_TABLE, NULL);
    CU_ASSERT_PTR_NULL(strstr(text, "Servers probed"));
    free(text);
    free(db);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("probe_history", tu_suite_setup, tu_suite_teardown);

    if (s == NULL
        || CU_add_test(s, "certificate change and failures", test_change_and_failures) == NULL
        || CU_add_test(s, "window and host", test_window_and_host) == NULL
        || CU_add_test(s, "no probes", test_no_probes) == NULL) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
