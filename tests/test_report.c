/*
 * Report: exact output of every format on a known database, filters,
 * the empty case, and hostile strings (quotes, newlines, terminal escape
 * sequences, invalid UTF-8) that must come out escaped or defanged.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/report.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "agentwatch/tz.h"
#include "testutil.h"

static char *db_path;


static int add(struct aw_store *s, int64_t file_id, uint64_t offset, int64_t ts, const char *rule,
                const char *category)
{
    struct aw_finding f;
    struct aw_err err = { 0 };

    memset(&f, 0, sizeof(f));
    f.ts_ms = ts;
    f.read_ms = TU_T0;
    f.host = "WKS-0142";
    f.file_id = file_id;
    f.path = "agent.log";
    f.offset = offset;
    f.rule = rule;
    f.category = category;
    f.severity = "error";
    f.level = "error";
    f.message = "m";
    f.message_len = 1;
    return aw_store_add_finding(s, &f, NULL, &err);
}

static int setup(void)
{
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    struct aw_file_id fid;
    sqlite3 *db = NULL;
    int64_t id;
    const char *head = "<event date='03/11/2025 08:00:01.1210000 +01:00' severity='4' x='y'>";

    tu_suite_setup();
    db_path = tu_path(tu_dir(), "report.db");
    if (aw_store_open(&s, db_path, 0, &err) != AW_OK) {
        return 1;
    }
    tu_make_fid(&fid, head, 0, 0);
    if (aw_store_file_add(s, &fid, "agent.log", "itms", "utf-8", TU_T0, &id, &err) != AW_OK ||
        aw_store_begin(s, &err) != AW_OK) {
        return 1;
    }
    if (add(s, id, 10, TU_T0 + 1 * TU_MIN, "ssl-untrusted-root", "ssl") != AW_OK ||
        add(s, id, 20, TU_T0 + 2 * TU_MIN, "ssl-untrusted-root", "ssl") != AW_OK ||
        add(s, id, 30, TU_T0 + 3 * TU_MIN, "dns-not-resolved", "resolution") != AW_OK ||
        add(s, id, 40, TU_T0 + 4 * TU_MIN, "ssl-untrusted-root", "ssl") != AW_OK ||
        add(s, id, 50, TU_T0 + 5 * TU_MIN + 121, "config-updated", "health") != AW_OK ||
        add(s, id, 60, TU_T0 + 6 * TU_MIN, "evil\x1b[31mrule", "ssl") != AW_OK ||
        aw_store_commit(s, &err) != AW_OK) {
        return 1;
    }
    aw_store_close(&s);
    /* Rule metadata as a scan would have stored it, one entry hostile. */
    if (sqlite3_open(db_path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "INSERT INTO rules VALUES ('ssl-untrusted-root', 'ssl', 'error',"
                     " 'The server chain ends in a root the client does not trust.',"
                     " 'Import the issuing CA, incl. intermediates, on the clients.', 'x', 0);"
                     "INSERT INTO rules VALUES ('dns-not-resolved', 'resolution', 'error',"
                     " 'DNS cannot resolve the server name.', 'Check DNS.', 'x', 0);"
                     "INSERT INTO rules VALUES ('evil\x1b[31mrule', 'ssl', 'error',"
                     " 'He said \"no\",' || char(10) || 'then\x1b]0;title\x07 left',"
                     " 'a,b', 'x', 0);",
                     NULL, NULL, NULL) != SQLITE_OK) {
        return 1;
    }
    sqlite3_close(db);
    return 0;
}

static int teardown(void)
{
    free(db_path);
    return tu_suite_teardown();
}

/* Run a report into a string; caller frees. */
static char *run_report(enum aw_report_format format, int64_t since, int64_t until,
                        const char *category)
{
    struct aw_report_opts o;
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    char *out_path = tu_path(tu_dir(), "out.txt");
    FILE *out = fopen(out_path, "wb");
    char *text;

    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    memset(&o, 0, sizeof(o));
    o.format = format;
    o.filter.since_ms = since;
    o.filter.until_ms = until;
    o.filter.category = category;
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db_path, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_report_run(s, &o, out, &err), AW_OK);
    aw_store_close(&s);
    fclose(out);
    text = tu_read_file(out_path, NULL);
    free(out_path);
    return text;
}

static void test_json(void)
{
    char *text = run_report(AW_REPORT_JSON, AW_TIME_NONE, AW_TIME_NONE, NULL);
    const char *expected =
        "{\"since\": null, \"until\": null, \"total\": 6, \"time_inferred\": 0,\n"
        " \"categories\": [\n"
        "  {\"category\": \"ssl\", \"count\": 4, \"first\": \"2025-03-11T07:01:00.000Z\","
        " \"last\": \"2025-03-11T07:06:00.000Z\"},\n"
        "  {\"category\": \"health\", \"count\": 1, \"first\": \"2025-03-11T07:05:00.121Z\","
        " \"last\": \"2025-03-11T07:05:00.121Z\"},\n"
        "  {\"category\": \"resolution\", \"count\": 1, \"first\": \"2025-03-11T07:03:00.000Z\","
        " \"last\": \"2025-03-11T07:03:00.000Z\"}\n"
        " ],\n"
        " \"rules\": [\n"
        "  {\"rule\": \"evil\\u001b[31mrule\", \"category\": \"ssl\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:06:00.000Z\", \"last\": \"2025-03-11T07:06:00.000Z\","
        " \"cause\": \"He said \\\"no\\\",\\nthen\\u001b]0;title\\u0007 left\","
        " \"remedy\": \"a,b\"},\n"
        "  {\"rule\": \"config-updated\", \"category\": \"health\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:05:00.121Z\", \"last\": \"2025-03-11T07:05:00.121Z\","
        " \"cause\": \"\", \"remedy\": \"\"},\n"
        "  {\"rule\": \"ssl-untrusted-root\", \"category\": \"ssl\", \"count\": 3,"
        " \"first\": \"2025-03-11T07:01:00.000Z\", \"last\": \"2025-03-11T07:04:00.000Z\","
        " \"cause\": \"The server chain ends in a root the client does not trust.\","
        " \"remedy\": \"Import the issuing CA, incl. intermediates, on the clients.\"},\n"
        "  {\"rule\": \"dns-not-resolved\", \"category\": \"resolution\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:03:00.000Z\", \"last\": \"2025-03-11T07:03:00.000Z\","
        " \"cause\": \"DNS cannot resolve the server name.\", \"remedy\": \"Check DNS.\"}\n"
        " ],\n \"match_limit\": [],\n \"servers\": [],\n"
        " \"state\": {\"status\": \"failing\", \"since\": \"2025-03-11T07:06:00.000Z\","
        " \"failures\": 1, \"category\": \"ssl\", \"last_failure\": \"2025-03-11T07:06:00.000Z\","
        " \"last_success\": \"2025-03-11T07:05:00.121Z\", \"last_record\": null},\n"
        " \"incidents\": [\n"
        "  {\"start\": \"2025-03-11T07:06:00.000Z\", \"end\": null,"
        " \"last\": \"2025-03-11T07:06:00.000Z\", \"ongoing\": true, \"duration_ms\": 0,"
        " \"category\": \"ssl\", \"count\": 1},\n"
        "  {\"start\": \"2025-03-11T07:01:00.000Z\", \"end\": \"2025-03-11T07:05:00.121Z\","
        " \"last\": \"2025-03-11T07:04:00.000Z\", \"ongoing\": false, \"duration_ms\": 240121,"
        " \"category\": \"ssl\", \"count\": 4}\n"
        " ],\n \"more_incidents\": false}\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    free(text);
}

static void test_json_filtered_and_empty(void)
{
    char *text = run_report(AW_REPORT_JSON, TU_T0 + 2 * TU_MIN, TU_T0 + 3 * TU_MIN, NULL);
    const char *expected =
        "{\"since\": \"2025-03-11T07:02:00.000Z\", \"until\": \"2025-03-11T07:03:00.000Z\","
        " \"total\": 2, \"time_inferred\": 0,\n"
        " \"categories\": [\n"
        "  {\"category\": \"resolution\", \"count\": 1, \"first\": \"2025-03-11T07:03:00.000Z\","
        " \"last\": \"2025-03-11T07:03:00.000Z\"},\n"
        "  {\"category\": \"ssl\", \"count\": 1, \"first\": \"2025-03-11T07:02:00.000Z\","
        " \"last\": \"2025-03-11T07:02:00.000Z\"}\n"
        " ],\n"
        " \"rules\": [\n"
        "  {\"rule\": \"dns-not-resolved\", \"category\": \"resolution\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:03:00.000Z\", \"last\": \"2025-03-11T07:03:00.000Z\","
        " \"cause\": \"DNS cannot resolve the server name.\", \"remedy\": \"Check DNS.\"},\n"
        "  {\"rule\": \"ssl-untrusted-root\", \"category\": \"ssl\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:02:00.000Z\", \"last\": \"2025-03-11T07:02:00.000Z\","
        " \"cause\": \"The server chain ends in a root the client does not trust.\","
        " \"remedy\": \"Import the issuing CA, incl. intermediates, on the clients.\"}\n"
        " ],\n \"match_limit\": [],\n \"servers\": [],\n"
        " \"state\": {\"status\": \"failing\", \"since\": \"2025-03-11T07:02:00.000Z\","
        " \"failures\": 2, \"category\": \"resolution\","
        " \"last_failure\": \"2025-03-11T07:03:00.000Z\", \"last_success\": null, \"last_record\": null},\n"
        " \"incidents\": [\n"
        "  {\"start\": \"2025-03-11T07:02:00.000Z\", \"end\": null,"
        " \"last\": \"2025-03-11T07:03:00.000Z\", \"ongoing\": true, \"duration_ms\": 60000,"
        " \"category\": \"resolution\", \"count\": 2}\n"
        " ],\n \"more_incidents\": false}\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    free(text);
    /* No finding of the category; success markers still tell the state. */
    text = run_report(AW_REPORT_JSON, AW_TIME_NONE, AW_TIME_NONE, "proxy");
    CU_ASSERT_STRING_EQUAL(text, "{\"since\": null, \"until\": null, \"total\": 0, \"time_inferred\": 0,\n"
                                 " \"categories\": [],\n \"rules\": [],\n \"match_limit\": [],\n"
                                 " \"servers\": [],\n"
                                 " \"state\": {\"status\": \"healthy\","
                                 " \"since\": \"2025-03-11T07:05:00.121Z\", \"failures\": 0,"
                                 " \"category\": null, \"last_failure\": null,"
                                 " \"last_success\": \"2025-03-11T07:05:00.121Z\", \"last_record\": null},\n"
                                 " \"incidents\": [],\n \"more_incidents\": false}\n");
    free(text);
}

static void test_csv(void)
{
    char *text = run_report(AW_REPORT_CSV, AW_TIME_NONE, AW_TIME_NONE, "resolution");
    const char *expected =
        "rule,category,count,first,last,cause,remedy\r\n"
        "dns-not-resolved,resolution,1,2025-03-11T07:03:00.000Z,2025-03-11T07:03:00.000Z,"
        "DNS cannot resolve the server name.,Check DNS.\r\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    free(text);
    text = run_report(AW_REPORT_CSV, TU_T0 + 6 * TU_MIN, AW_TIME_NONE, NULL);
    CU_ASSERT_STRING_EQUAL(text,
        "rule,category,count,first,last,cause,remedy\r\n"
        "evil?[31mrule,ssl,1,2025-03-11T07:06:00.000Z,2025-03-11T07:06:00.000Z,"
        "\"He said \"\"no\"\",?then?]0;title? left\",\"a,b\"\r\n");
    free(text);
}

static void test_table(void)
{
    char *text = run_report(AW_REPORT_TABLE, AW_TIME_NONE, AW_TIME_NONE, NULL);
    const char *expected =
        "agentwatch report: all recorded time\n"
        "state: FAILING since 2025-03-11 07:06:00Z: 1 failure, mostly ssl;"
        " last failure 2025-03-11 07:06:00Z; last success 2025-03-11 07:05:00Z\n"
        "6 findings in 3 categories from 4 rules\n"
        "\n"
        "CATEGORY       COUNT  FIRST SEEN            LAST SEEN\n"
        "ssl                4  2025-03-11 07:01:00Z  2025-03-11 07:06:00Z\n"
        "health             1  2025-03-11 07:05:00Z  2025-03-11 07:05:00Z\n"
        "resolution         1  2025-03-11 07:03:00Z  2025-03-11 07:03:00Z\n"
        "\n"
        "RULE                CATEGORY       COUNT  FIRST SEEN            LAST SEEN\n"
        "evil?[31mrule       ssl                1  2025-03-11 07:06:00Z  2025-03-11 07:06:00Z\n"
        "config-updated      health             1  2025-03-11 07:05:00Z  2025-03-11 07:05:00Z\n"
        "ssl-untrusted-root  ssl                3  2025-03-11 07:01:00Z  2025-03-11 07:04:00Z\n"
        "dns-not-resolved    resolution         1  2025-03-11 07:03:00Z  2025-03-11 07:03:00Z\n"
        "\n"
        "Incidents, most recent first:\n"
        "START                 END                   DURATION  FAILURES  CATEGORY\n"
        "2025-03-11 07:06:00Z  ongoing                     0s         1  ssl\n"
        "2025-03-11 07:01:00Z  2025-03-11 07:05:00Z     4m00s         4  ssl\n"
        "\n"
        "Probable causes, most recent problems first:\n"
        "  evil?[31mrule (1, last 2025-03-11 07:06:00Z)\n"
        "    cause:  He said \"no\",?then?]0;title? left\n"
        "    remedy: a,b\n"
        "  ssl-untrusted-root (3, last 2025-03-11 07:04:00Z)\n"
        "    cause:  The server chain ends in a root the client does not trust.\n"
        "    remedy: Import the issuing CA, incl. intermediates, on the clients.\n"
        "  dns-not-resolved (1, last 2025-03-11 07:03:00Z)\n"
        "    cause:  DNS cannot resolve the server name.\n"
        "    remedy: Check DNS.\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    if (strcmp(text, expected) != 0) {
        fprintf(stderr, "---- got:\n%s----\n", text);
    }
    /* Nothing raw reaches a terminal. */
    CU_ASSERT_PTR_NULL(strchr(text, '\x1b'));
    CU_ASSERT_PTR_NULL(strchr(text, '\x07'));
    free(text);
    text = run_report(AW_REPORT_TABLE, AW_TIME_NONE, TU_T0, NULL);
    CU_ASSERT_STRING_EQUAL(text, "agentwatch report: until 2025-03-11 07:00:00Z\nno findings\n");
    free(text);
}

/* Run a report with full options into a string; caller frees. */
static char *run_opts(const char *path, const struct aw_report_opts *o, int expect_rc)
{
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    char *out_path = tu_path(tu_dir(), "out2.txt");
    FILE *out = fopen(out_path, "wb");
    char *text;

    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, path, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_report_run(s, o, out, &err), expect_rc);
    aw_store_close(&s);
    fclose(out);
    text = tu_read_file(out_path, NULL);
    free(out_path);
    return text;
}

static struct aw_report_opts by_opts(enum aw_report_format format, enum aw_report_by by,
                                     int64_t since, int64_t until)
{
    struct aw_report_opts o;

    memset(&o, 0, sizeof(o));
    o.format = format;
    o.by = by;
    o.filter.since_ms = since;
    o.filter.until_ms = until;
    return o;
}

/* --local (issue 15): the table in a zone, each time with its offset;
 * the zone's rules decide the offset per instant. */
static void test_table_local_time(void)
{
    struct aw_report_opts o = by_opts(AW_REPORT_TABLE, AW_REPORT_BY_NONE, AW_TIME_NONE, AW_TIME_NONE);
    struct aw_tz *tz = NULL, *cet = NULL;
    struct aw_err err = { 0 };
    char *text;

    CU_ASSERT_EQUAL_FATAL(aw_tz_open("+05:30", &tz, &err), AW_OK);
    o.tz = tz;
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "times: local, +05:30 (each with its offset from UTC)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "state: FAILING since 2025-03-11 12:36:00+05:30: 1 failure"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "CATEGORY       COUNT  FIRST SEEN                 LAST SEEN\n"
                                        "ssl                4  2025-03-11 12:31:00+05:30  2025-03-11 12:36:00+05:30\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "START                      END                        DURATION"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "2025-03-11 12:31:00+05:30  2025-03-11 12:35:00+05:30     4m00s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "  ssl-untrusted-root (3, last 2025-03-11 12:34:00+05:30)\n"));
    CU_ASSERT_PTR_NULL(strstr(text, ":00Z"));
    free(text);
    /* A POSIX rule: winter +01:00, summer +02:00, by the instant shown. */
    CU_ASSERT_EQUAL_FATAL(aw_tz_system("CET-1CEST,M3.5.0,M10.5.0/3", &cet, &err), AW_OK);
    o.tz = cet;
    o.filter.since_ms = TU_T0;                                 /* 2025-03-11 07:00Z */
    o.filter.until_ms = TU_T0 + (int64_t)112 * 86400000;       /* 2025-07-01 07:00Z */
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "agentwatch report: 2025-03-11 08:00:00+01:00 to "
                                        "2025-07-01 09:00:00+02:00\n"));
    free(text);
    /* JSON stays UTC whatever the zone. */
    o.format = AW_REPORT_JSON;
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "2025-03-11T07:00:00.000Z"));
    CU_ASSERT_PTR_NULL(strstr(text, "+01:00"));
    free(text);
    aw_tz_free(&tz);
    aw_tz_free(&cet);
}

/* The command line: --local and local_time: true in the endpoint's zone
 * ($TZ, or the configuration's timezone); without them UTC. */
static void test_cli_local_time(void)
{
    char *cfg = tu_path(tu_dir(), "local-time.yaml");
    char *out = NULL, *err = NULL;
    const char *old = getenv("TZ");
    char *saved = old != NULL ? strdup(old) : NULL;

    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db_path, "report", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "since 2025-03-11 07:06:00Z"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db_path, "report", "--local", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "since 2025-03-11 08:06:00+01:00"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "times: local, "));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db_path, "report", "--local", "--format", "json",
                                      NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2025-03-11T07:06:00.000Z"));
    CU_ASSERT_PTR_NULL(strstr(out, "+01:00"));
    free(out);
    free(err);
    tu_write_str(cfg, "timezone: '+05:30'\nlocal_time: true\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "--db", db_path, "report", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "since 2025-03-11 12:36:00+05:30"));
    free(out);
    free(err);
    tu_write_str(cfg, "local_time: yes\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "--db", db_path, "report", NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1:13: key 'local_time' must be true or false, not 'yes'"));
    free(out);
    free(err);
    if (saved != NULL) {
        setenv("TZ", saved, 1);
    } else {
        unsetenv("TZ");
    }
    free(saved);
    free(cfg);
}

static void test_buckets_json_csv(void)
{
    struct aw_report_opts o = by_opts(AW_REPORT_JSON, AW_REPORT_BY_HOUR, TU_T0 - 30 * TU_MIN,
                                      TU_T0 + 130 * TU_MIN);
    char *text = run_opts(db_path, &o, AW_OK);
    const char *buckets =
        "],\n \"more_incidents\": false,\n \"by\": \"hour\", \"buckets\": [\n"
        "  {\"start\": \"2025-03-11T06:00:00.000Z\","
        " \"counts\": {\"health\": 0, \"resolution\": 0, \"ssl\": 0}},\n"
        "  {\"start\": \"2025-03-11T07:00:00.000Z\","
        " \"counts\": {\"health\": 1, \"resolution\": 1, \"ssl\": 4}},\n"
        "  {\"start\": \"2025-03-11T08:00:00.000Z\","
        " \"counts\": {\"health\": 0, \"resolution\": 0, \"ssl\": 0}},\n"
        "  {\"start\": \"2025-03-11T09:00:00.000Z\","
        " \"counts\": {\"health\": 0, \"resolution\": 0, \"ssl\": 0}}\n"
        " ]}\n";
    const char *tail = strstr(text, "],\n \"more_incidents\": false,\n \"by\"");

    CU_ASSERT_PTR_NOT_NULL_FATAL(tail);
    CU_ASSERT_STRING_EQUAL(tail, buckets);
    /* The summary part is unchanged by --by. */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"total\": 6,"));
    free(text);
    o.format = AW_REPORT_CSV;
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_STRING_EQUAL(text, "start,total,health,resolution,ssl\r\n"
                                 "2025-03-11T06:00:00.000Z,0,0,0,0\r\n"
                                 "2025-03-11T07:00:00.000Z,6,1,1,4\r\n"
                                 "2025-03-11T08:00:00.000Z,0,0,0,0\r\n"
                                 "2025-03-11T09:00:00.000Z,0,0,0,0\r\n");
    free(text);
}

static void test_bucket_boundaries(void)
{
    /* 07:05:00.121 is in the 07:05 minute; an until one millisecond
     * before 07:06 leaves the 07:06 finding and bucket out. */
    struct aw_report_opts o = by_opts(AW_REPORT_CSV, AW_REPORT_BY_MINUTE, TU_T0 + 4 * TU_MIN,
                                      TU_T0 + 6 * TU_MIN);
    char *text = run_opts(db_path, &o, AW_OK);

    CU_ASSERT_STRING_EQUAL(text, "start,total,health,ssl\r\n"
                                 "2025-03-11T07:04:00.000Z,1,0,1\r\n"
                                 "2025-03-11T07:05:00.000Z,1,1,0\r\n"
                                 "2025-03-11T07:06:00.000Z,1,0,1\r\n");
    free(text);
    o.filter.until_ms = TU_T0 + 6 * TU_MIN - 1;
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_STRING_EQUAL(text, "start,total,health,ssl\r\n"
                                 "2025-03-11T07:04:00.000Z,1,0,1\r\n"
                                 "2025-03-11T07:05:00.000Z,1,1,0\r\n");
    free(text);
    /* Days are UTC days; without bounds they run from the first finding
     * to now. */
    o = by_opts(AW_REPORT_CSV, AW_REPORT_BY_DAY, AW_TIME_NONE, AW_TIME_NONE);
    o.now_ms = TU_T0 + 17 * 60 * TU_MIN;   /* 2025-03-12T00:00:00Z */
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_STRING_EQUAL(text, "start,total,health,resolution,ssl\r\n"
                                 "2025-03-11T00:00:00.000Z,6,1,1,4\r\n"
                                 "2025-03-12T00:00:00.000Z,0,0,0,0\r\n");
    free(text);
    o.now_ms = TU_T0 + 17 * 60 * TU_MIN - 1;
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_PTR_NULL(strstr(text, "2025-03-12"));
    free(text);
    /* A year of minutes is refused, not allocated. */
    o = by_opts(AW_REPORT_CSV, AW_REPORT_BY_MINUTE, TU_T0 - 365 * 24 * 60 * TU_MIN, TU_T0);
    text = run_opts(db_path, &o, AW_ELIMIT);
    free(text);
}

static void test_table_trend(void)
{
    struct aw_report_opts o = by_opts(AW_REPORT_TABLE, AW_REPORT_BY_HOUR, TU_T0 - 30 * TU_MIN,
                                      TU_T0 + 130 * TU_MIN);
    char *text = run_opts(db_path, &o, AW_OK);
    const char *trend =
        "\nFindings per hour (UTC buckets), 2025-03-11 06:00:00Z to 2025-03-11 09:00:00Z:\n"
        "  health             1  | #  |\n"
        "  resolution         1  | #  |\n"
        "  ssl                4  | #  |\n"
        "\n"
        "BUCKET                   TOTAL    health  resolution       ssl\n"
        "2025-03-11 06:00:00Z         0         0           0         0\n"
        "2025-03-11 07:00:00Z         6         1           1         4  ####################\n"
        "2025-03-11 08:00:00Z         0         0           0         0\n"
        "2025-03-11 09:00:00Z         0         0           0         0\n";
    const char *tail = strstr(text, "\nFindings per hour");

    CU_ASSERT_PTR_NOT_NULL_FATAL(tail);
    CU_ASSERT_STRING_EQUAL(tail, trend);
    if (strcmp(tail, trend) != 0) {
        fprintf(stderr, "---- got:\n%s----\n", tail);
    }
    free(text);
}

static void test_hostile_categories(void)
{
    char *path = tu_path(tu_dir(), "hostile.db");
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    struct aw_file_id fid;
    struct aw_report_opts o = by_opts(AW_REPORT_JSON, AW_REPORT_BY_HOUR, TU_T0, TU_T0 + 59 * TU_MIN);
    int64_t id;
    char *text;

    memset(&fid, 0, sizeof(fid));
    fid.head_len = 64;
    memset(fid.head, 'x', 64);
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, path, 0, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_store_file_add(s, &fid, "a.log", "line", "utf-8", TU_T0, &id, &err),
                          AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_store_begin(s, &err), AW_OK);
    CU_ASSERT_EQUAL(add(s, id, 1, TU_T0 + TU_MIN, "r1", "q\"x,y"), AW_OK);
    CU_ASSERT_EQUAL(add(s, id, 2, TU_T0 + 2 * TU_MIN, "r2", "e\x1b[1m\x07"), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_store_commit(s, &err), AW_OK);
    aw_store_close(&s);
    text = run_opts(path, &o, AW_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"counts\": {\"e\\u001b[1m\\u0007\": 1, \"q\\\"x,y\": 1}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"category\": \"e\\u001b[1m\\u0007\""));
    free(text);
    o.format = AW_REPORT_CSV;
    text = run_opts(path, &o, AW_OK);
    CU_ASSERT_STRING_EQUAL(text, "start,total,e?[1m?,\"q\"\"x,y\"\r\n"
                                 "2025-03-11T07:00:00.000Z,2,1,1\r\n");
    free(text);
    o.format = AW_REPORT_TABLE;
    text = run_opts(path, &o, AW_OK);
    CU_ASSERT_PTR_NULL(strchr(text, '\x1b'));
    CU_ASSERT_PTR_NULL(strchr(text, '\x07'));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "state: FAILING since 2025-03-11 07:01:00Z: 2 failures,"
                                        " mostly e?[1m?;"));
    free(text);
    free(path);
}

/* --rule and --host travel in the filter: they narrow the failures, the
 * table names them, and a report with no rule left is the CSV header. */
static void test_rule_and_host_filters(void)
{
    struct aw_report_opts o = by_opts(AW_REPORT_TABLE, AW_REPORT_BY_NONE, AW_TIME_NONE,
                                      AW_TIME_NONE);
    char *text;

    o.filter.rule = "ssl-untrusted-root";
    o.filter.host = "WKS-0142";
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_STRING_EQUAL(text,
        "agentwatch report: all recorded time\n"
        "rule: ssl-untrusted-root\n"
        "host: WKS-0142\n"
        "state: healthy since 2025-03-11 07:05:00Z; last success 2025-03-11 07:05:00Z;"
        " last failure 2025-03-11 07:04:00Z\n"
        "3 findings in 1 category from 1 rule\n"
        "\n"
        "CATEGORY     COUNT  FIRST SEEN            LAST SEEN\n"
        "ssl              3  2025-03-11 07:01:00Z  2025-03-11 07:04:00Z\n"
        "\n"
        "RULE                CATEGORY     COUNT  FIRST SEEN            LAST SEEN\n"
        "ssl-untrusted-root  ssl              3  2025-03-11 07:01:00Z  2025-03-11 07:04:00Z\n"
        "\n"
        "Incidents, most recent first:\n"
        "START                 END                   DURATION  FAILURES  CATEGORY\n"
        "2025-03-11 07:01:00Z  2025-03-11 07:05:00Z     4m00s         3  ssl\n"
        "\n"
        "Probable causes, most recent problems first:\n"
        "  ssl-untrusted-root (3, last 2025-03-11 07:04:00Z)\n"
        "    cause:  The server chain ends in a root the client does not trust.\n"
        "    remedy: Import the issuing CA, incl. intermediates, on the clients.\n");
    free(text);
    /* Another host's findings only: not even the success markers are left. */
    o.format = AW_REPORT_JSON;
    o.filter.host = "nobody";
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_STRING_EQUAL(text, "{\"since\": null, \"until\": null, \"total\": 0, \"time_inferred\": 0,\n"
                                 " \"categories\": [],\n \"rules\": [],\n \"match_limit\": [],\n"
                                 " \"servers\": [],\n"
                                 " \"state\": {\"status\": \"unknown\", \"since\": null,"
                                 " \"failures\": 0, \"category\": null, \"last_failure\": null,"
                                 " \"last_success\": null, \"last_record\": null},\n"
                                 " \"incidents\": [],\n \"more_incidents\": false}\n");
    free(text);
    o.format = AW_REPORT_CSV;
    text = run_opts(db_path, &o, AW_OK);
    CU_ASSERT_STRING_EQUAL(text, "rule,category,count,first,last,cause,remedy\r\n");
    free(text);
}

/* The output of `agentwatch --db DB CMD [o1 .. o4]` (NULL ends the list
 * early); caller frees. */
static char *aw_out(const char *db, const char *cmd, const char *o1, const char *o2,
                    const char *o3, const char *o4)
{
    char *out = NULL, *err = NULL;

    tu_run_agentwatch(&out, &err, "--db", db, cmd, o1, o2, o3, o4, NULL);
    CU_ASSERT_STRING_EQUAL(err != NULL ? err : "?", "");
    free(err);
    return out != NULL ? out : strdup("");
}

static void scan_as(const char *db, const char *rules, const char *host, const char *log)
{
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--quiet", "--rules", rules,
                                      "--host", host, log, NULL), 0);
    free(out);
    free(err);
}

/* Assert that the output of the command contains (or, want false, lacks)
 * text. */
static void expect(const char *db, const char *cmd, const char *o1, const char *o2,
                   const char *o3, const char *o4, const char *text, bool want)
{
    char *out = aw_out(db, cmd, o1, o2, o3, o4);

    if ((strstr(out, text) != NULL) != want) {
        fprintf(stderr, "%s %s %s: %s '%s' in:\n%s\n", cmd, o1 ? o1 : "", o2 ? o2 : "",
                want ? "no" : "unexpected", text, out);
    }
    CU_ASSERT((strstr(out, text) != NULL) == want);
    free(out);
}

#define LR_JSON(t) "\"last_success\": null, \"last_record\": " t "}"
#define LR_LINE "\n       log went on until 2025-03-11 09:30:00Z (2h29m after the last failure)" \
    " with no further failure; no success marker of this agent is known: check its log\n"

/* state.last_record: a failing endpoint whose log went on after its last
 * failure, with no success marker agentwatch knows.  Real scans of real
 * files; the value is the newest record of the last failure's host, not
 * after --until, later than the last failure, unknown where the store
 * cannot know the host. */
static void test_last_record(void)
{
    char *dir = tu_mkdtemp();
    char *db = tu_path(dir, "t.db"), *rules = tu_path(dir, "rules.yaml");
    char *a = tu_path(dir, "a.log"), *b = tu_path(dir, "b.log"), *c = tu_path(dir, "c.log");

    tu_write_str(rules, tu_rules_trust_health);
    tu_write_str(a, "2025-03-11T07:01:00Z Could not establish trust relationship\n"
                    "2025-03-11T07:02:00Z heartbeat sent\n"
                    "2025-03-11T09:30:00Z heartbeat sent\n");
    tu_write_str(b, "2025-03-11T07:00:30Z heartbeat sent\n2025-03-11T12:00:00Z heartbeat sent\n");
    scan_as(db, rules, "WKS-1", a);
    scan_as(db, rules, "WKS-2", b);   /* another host's log: not WKS-1's */
    expect(db, "report", "--format", "json", NULL, NULL, LR_JSON("\"2025-03-11T09:30:00.000Z\""),
           true);
    expect(db, "report", NULL, NULL, NULL, NULL, LR_LINE, true);
    expect(db, "report", "--host", "WKS-1", "--format", "json",
           LR_JSON("\"2025-03-11T09:30:00.000Z\""), true);
    expect(db, "report", "--host", "WKS-1", NULL, NULL, LR_LINE, true);
    /* --until: inclusive; a file whose newest record is after it says
     * nothing about its records up to it */
    expect(db, "report", "--until", "2025-03-11T09:30", "--format", "json",
           LR_JSON("\"2025-03-11T09:30:00.000Z\""), true);
    expect(db, "report", "--until", "2025-03-11T09:29", "--format", "json", LR_JSON("null"),
           true);
    expect(db, "report", "--until", "2025-03-11T09:29", NULL, NULL, "log went on", false);
    /* CSV has no state: unchanged */
    expect(db, "report", "--format", "csv", NULL, NULL, "last_record", false);
    expect(db, "status", "--format", "json", NULL, NULL,
           "\"last_success\": null, \"last_record\": \"2025-03-11T09:30:00.000Z\",", true);
    expect(db, "status", NULL, NULL, NULL, NULL,
           "last failure 2025-03-11 07:01:00Z, log went on until 2025-03-11 09:30:00Z with no"
           " further failure | failures=1", true);
    expect(db, "status", "--format", "intune", NULL, NULL,
           "last success none, log went on until 2025-03-11 09:30:00Z with no further failure", true);
    /* files read before schema 10 (or whose host is not known) */
    tu_sql_exec(db, "UPDATE files SET last_record_host = NULL");
    expect(db, "report", "--format", "json", NULL, NULL, LR_JSON("null"), true);
    expect(db, "status", "--format", "json", NULL, NULL, "\"last_record\": null", true);
    /* the next read of the file knows again, and moves on */
    tu_append_str(a, "2025-03-11T09:45:00Z heartbeat sent\n");
    scan_as(db, rules, "WKS-1", a);
    expect(db, "report", "--format", "json", NULL, NULL,
           LR_JSON("\"2025-03-11T09:45:00.000Z\""), true);
    /* a later failure of a host whose log ends with it: nothing after it */
    tu_write_str(c, "2025-03-11T10:00:00Z Could not establish trust relationship\n");
    scan_as(db, rules, "WKS-3", c);
    expect(db, "report", "--format", "json", NULL, NULL, LR_JSON("null"), true);
    expect(db, "report", NULL, NULL, NULL, NULL, "log went on", false);
    expect(db, "report", "--host", "WKS-1", "--format", "json",
           LR_JSON("\"2025-03-11T09:45:00.000Z\""), true);
    /* healthy: never */
    tu_append_str(a, "2025-03-11T11:00:00Z Configuration updated successfully\n"
                     "2025-03-11T11:30:00Z heartbeat sent\n");
    scan_as(db, rules, "WKS-1", a);
    expect(db, "report", "--host", "WKS-1", "--format", "json",
           "\"last_success\": \"2025-03-11T11:00:00.000Z\", \"last_record\": null}", true);
    expect(db, "report", "--host", "WKS-1", NULL, NULL, "log went on", false);
    /* failing again after a known success marker */
    tu_append_str(a, "2025-03-11T11:40:00Z Could not establish trust relationship\n"
                     "2025-03-11T11:41:00Z heartbeat sent\n");
    scan_as(db, rules, "WKS-1", a);
    expect(db, "report", "--host", "WKS-1", NULL, NULL,
           "log went on until 2025-03-11 11:41:00Z (1m00s after the last failure) with no"
           " further failure; no success marker since: check its log\n", true);
    tu_rmtree(dir);
    free(dir);
    free(db);
    free(rules);
    free(a);
    free(b);
    free(c);
}

static void test_format_names(void)
{
    enum aw_report_format f;

    CU_ASSERT_EQUAL(aw_report_format_from_name("json", &f), AW_OK);
    CU_ASSERT_EQUAL(f, AW_REPORT_JSON);
    CU_ASSERT_EQUAL(aw_report_format_from_name("csv", &f), AW_OK);
    CU_ASSERT_EQUAL(f, AW_REPORT_CSV);
    CU_ASSERT_EQUAL(aw_report_format_from_name("table", &f), AW_OK);
    CU_ASSERT_EQUAL(f, AW_REPORT_TABLE);
    CU_ASSERT_EQUAL(aw_report_format_from_name("xml", &f), AW_ESYNTAX);
    {
        enum aw_report_by by;
        CU_ASSERT_EQUAL(aw_report_by_from_name("minute", &by), AW_OK);
        CU_ASSERT_EQUAL(by, AW_REPORT_BY_MINUTE);
        CU_ASSERT_EQUAL(aw_report_by_from_name("day", &by), AW_OK);
        CU_ASSERT_EQUAL(by, AW_REPORT_BY_DAY);
        CU_ASSERT_EQUAL(aw_report_by_from_name("week", &by), AW_ESYNTAX);
        CU_ASSERT_EQUAL(aw_report_by_from_name("", &by), AW_ESYNTAX);
    }
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("report", setup, teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "json", test_json);
    CU_add_test(s, "json filtered and empty", test_json_filtered_and_empty);
    CU_add_test(s, "csv", test_csv);
    CU_add_test(s, "table", test_table);
    CU_add_test(s, "table in local time", test_table_local_time);
    CU_add_test(s, "cli: --local and local_time", test_cli_local_time);
    CU_add_test(s, "buckets json and csv", test_buckets_json_csv);
    CU_add_test(s, "bucket boundaries", test_bucket_boundaries);
    CU_add_test(s, "table trend", test_table_trend);
    CU_add_test(s, "hostile categories", test_hostile_categories);
    CU_add_test(s, "format names", test_format_names);
    CU_add_test(s, "rule and host filters", test_rule_and_host_filters);
    CU_add_test(s, "last_record: the log went on after the last failure", test_last_record);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
