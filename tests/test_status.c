/*
 * status, export, prune and report --by as a black box: the built binary
 * on a database filled by a real scan, checking the one line, the exit
 * codes of the monitoring convention, and the usage errors.
 */
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

static char *rules;
static char *log_path;
static char *db;

#define TRUST "Could not establish trust relationship for the SSL/TLS secure channel.\n"

static void scan(void)
{
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules, "--format", "line",
                       "--host", "WKS-1", log_path, NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
}

static int setup(void)
{
    tu_suite_setup();
    rules = tu_path(tu_dir(), "rules.yaml");
    log_path = tu_path(tu_dir(), "agent.log");
    db = tu_path(tu_dir(), "status.db");
    tu_write_str(rules, tu_rules_trust_health);
    tu_write_str(log_path, "2025-03-11T07:00:00Z Configuration updated successfully\n"
                           "2025-03-11T07:01:00Z " TRUST
                           "2025-03-11T07:02:00Z " TRUST
                           "2025-03-11T07:03:00Z " TRUST);
    return 0;
}

static int teardown(void)
{
    free(rules);
    free(log_path);
    free(db);
    return tu_suite_teardown();
}

/* Expect exit code rc and exactly this stdout from status with args. */
static void status_is(int rc, const char *expected, const char *a1, const char *a2,
                      const char *a3, const char *a4)
{
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "status", a1, a2, a3, a4, NULL), rc);
    CU_ASSERT_STRING_EQUAL(out, expected);
    if (strcmp(out, expected) != 0) {
        fprintf(stderr, "got: %s", out);
    }
    free(out);
    free(err);
}

static void test_status(void)
{
    char *missing = tu_path(tu_dir(), "none/x.db");
    char *out = NULL, *err = NULL;

    scan();
    status_is(1, "WARNING: failing since 2025-03-11 07:01:00Z, 3 failures since the last success"
                 " at 2025-03-11 07:00:00Z (mostly ssl), last failure 2025-03-11 07:03:00Z"
                 " | failures=3;0;10;0 'ssl'=3;0;10;0;\n", NULL, NULL, NULL, NULL);
    status_is(0, "OK: failing since 2025-03-11 07:01:00Z, 3 failures since the last success"
                 " at 2025-03-11 07:00:00Z (mostly ssl), last failure 2025-03-11 07:03:00Z"
                 " | failures=3;3;10;0 'ssl'=3;3;10;0;\n", "--warn", "3", NULL, NULL);
    status_is(2, "CRITICAL: failing since 2025-03-11 07:01:00Z, 3 failures since the last"
                 " success at 2025-03-11 07:00:00Z (mostly ssl), last failure"
                 " 2025-03-11 07:03:00Z | failures=3;1;2;0 'ssl'=3;1;2;0;\n", "--warn", "1", "--crit", "2");
    /* -w and -c, as monitoring plugins spell them (issue 13). */
    status_is(2, "CRITICAL: failing since 2025-03-11 07:01:00Z, 3 failures since the last"
                 " success at 2025-03-11 07:00:00Z (mostly ssl), last failure"
                 " 2025-03-11 07:03:00Z | failures=3;1;2;0 'ssl'=3;1;2;0;\n", "-w", "1", "-c2", NULL);
    /* A window that starts after the success: every failure counts. */
    status_is(1, "WARNING: failing since 2025-03-11 07:02:00Z, 2 failures since no success"
                 " marker (mostly ssl), last failure 2025-03-11 07:03:00Z"
                 " | failures=2;0;10;0 'ssl'=2;0;10;0;\n", "--since", "2025-03-11T08:01:30+01:00", NULL, NULL);
    status_is(3, "UNKNOWN: no findings since 2030-01-01 00:00:00Z\n", "--since", "2030-01-01",
              NULL, NULL);
    /* Recovery. */
    tu_append_str(log_path, "2025-03-11T07:04:00Z Configuration updated successfully\n");
    scan();
    status_is(0, "OK: healthy since 2025-03-11 07:04:00Z, last success 2025-03-11 07:04:00Z"
                 " | failures=0;0;10;0 'ssl'=0;0;10;0;\n", NULL, NULL, NULL, NULL);
    /* No database: UNKNOWN, with the reason on stderr. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", missing, "status", NULL), 3);
    CU_ASSERT_STRING_EQUAL(out, "UNKNOWN: no readable agentwatch database (see stderr)\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no database here"));
    free(out);
    free(err);
    /* Usage errors are UNKNOWN too: a broken check must not page anyone. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "status", "--warn", "-1", NULL), 3);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: status: invalid --warn '-1': expected a count or a"
                                " range (N, N:, ~:N, N:M, @N:M) (see 'agentwatch status --help')\n");
    CU_ASSERT_STRING_EQUAL(out, "UNKNOWN: invalid command line (see 'agentwatch status --help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "status", "--bogus", NULL), 3);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "status", "--help", NULL), 0);
    CU_ASSERT_EQUAL(strncmp(out, "Usage: agentwatch", 17), 0);
    free(out);
    free(err);
    free(missing);
}

static void test_export_and_prune(void)
{
    char *out = NULL, *err = NULL;

    scan();
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "export", NULL), 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 5);
    CU_ASSERT_EQUAL(strncmp(out, "{\"time\": \"2025-03-11T07:00:00.000Z\", \"time_known\": true,",
                            56), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"host\": \"WKS-1\""));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "export", "--format", "csv", "--category", "ssl",
                       "--since", "2025-03-11T07:02:00Z", NULL), 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 3);
    CU_ASSERT_EQUAL(strncmp(out, "time,time_known,read_time,host,file,", 36), 0);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "export", "--format", "xml", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: export: invalid --format 'xml': expected ndjson,"
                                " csv or ecs (see 'agentwatch export --help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "prune", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: prune: --older-than is required"
                                " (see 'agentwatch prune --help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "prune", "--older-than", "2025-03-11T07:02:00Z",
                       NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, "pruned 2 findings recorded before 2025-03-11T07:02:00.000Z\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings"), 3);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT sum(count) FROM finding_hours"), 3);
    /* A rescan does not bring them back: the read position is kept. */
    scan();
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings"), 3);
}

static void test_report_by_cli(void)
{
    char *out = NULL, *err = NULL;

    scan();
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--by", "week", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: report: invalid --by 'week': expected minute, hour"
                                " or day (see 'agentwatch report --help')\n");
    free(out);
    free(err);
    /* Buckets in UTC whatever the offset of the bounds. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--by", "minute", "--format", "csv",
                       "--since", "2025-03-11T08:02:30+01:00", "--until",
                       "2025-03-11T08:05:00+01:00", NULL), 0);
    /* (test_status added the success at 07:04.) */
    CU_ASSERT_STRING_EQUAL(out, "start,total,health,ssl\r\n"
                                "2025-03-11T07:02:00.000Z,0,0,0\r\n"
                                "2025-03-11T07:03:00.000Z,1,0,1\r\n"
                                "2025-03-11T07:04:00.000Z,1,1,0\r\n"
                                "2025-03-11T07:05:00.000Z,0,0,0\r\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--rule", "ssl-trust", "--host",
                       "WKS-1", "--format", "csv", NULL), 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 2);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--host", "nobody", "--format", "csv",
                       NULL), 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 1);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--help", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  export "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  prune "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  status "));
    free(out);
    free(err);
}

/* A database of its own for the other shapes: failures naming targets. */
static char *shapes_db(const char *name)
{
    char *d = tu_path(tu_dir(), name), *lp = tu_path(tu_dir(), "shapes.log");
    char *rp = tu_path(tu_dir(), "shapes.yaml"), *out = NULL, *err = NULL;

    tu_write_str(rp, "version: 1\n"
                     "rules:\n"
                     "  - id: ssl-trust\n"
                     "    category: ssl\n"
                     "    severity: error\n"
                     "    pattern: '(?i)could not establish trust relationship(?: with (?<target>\\S+))?'\n"
                     "    cause: The client does not trust the server's certificate chain.\n"
                     "    remedy: Import the issuing CA on the clients.\n"
                     "  - id: config-ok\n"
                     "    category: health\n"
                     "    severity: info\n"
                     "    pattern: 'Configuration updated successfully'\n");
    tu_write_str(lp, "2025-03-11T07:00:00Z Configuration updated successfully\n"
                     "2025-03-11T07:01:00Z Could not establish trust relationship with b.example\n"
                     "2025-03-11T07:02:00Z Could not establish trust relationship with a.example\n"
                     "2025-03-11T07:03:00Z Could not establish trust relationship with a.example\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "scan", "--rules", rp, "--format", "line",
                                      "--host", "WKS-1", lp, NULL), 0);
    /* As if the log was last read at 07:00: the newest data is the
     * finding of 07:03. */
    tu_sql_exec(d, "UPDATE files SET last_read = 1741676400000");
    free(out);
    free(err);
    free(lp);
    free(rp);
    return d;
}

/* Expect exit code rc, exactly this stdout and nothing on stderr. */
static void shape_is(int rc, const char *expected, const char *a1, const char *a2, const char *a3,
                     const char *a4, const char *a5, const char *a6, const char *a7)
{
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, a1, a2, a3, a4, a5, a6, a7, NULL), rc);
    CU_ASSERT_STRING_EQUAL(out, expected);
    CU_ASSERT_STRING_EQUAL(err, "");
    if (strcmp(out, expected) != 0 || err[0] != '\0') {
        fprintf(stderr, "got: %s(stderr: %s)\n", out, err);
    }
    free(out);
    free(err);
}

static void test_status_json(void)
{
    char *d = shapes_db("json.db"), *out = NULL, *err = NULL;

    shape_is(1, "{\"status\": \"WARNING\", \"exit\": 1, \"state\": \"failing\","
                " \"since\": \"2025-03-11T07:01:00.000Z\", \"failures\": 3, \"category\": \"ssl\","
                " \"target\": \"a.example\", \"last_failure\": \"2025-03-11T07:03:00.000Z\","
                " \"last_success\": \"2025-03-11T07:00:00.000Z\", \"last_record\": null, \"last_probe\": null,"
                " \"warn\": \"0\", \"crit\": \"10\", \"error\": null,"
                " \"newest\": \"2025-03-11T07:03:00.000Z\", \"categories\": {\"ssl\": 3}}\n",
             "--db", d, "status", "--format", "json", NULL, NULL);
    shape_is(2, "{\"status\": \"CRITICAL\", \"exit\": 2, \"state\": \"failing\","
                " \"since\": \"2025-03-11T07:03:00.000Z\", \"failures\": 1, \"category\": \"ssl\","
                " \"target\": \"a.example\", \"last_failure\": \"2025-03-11T07:03:00.000Z\","
                " \"last_success\": null, \"last_record\": null, \"last_probe\": null,"
                " \"warn\": \"0\", \"crit\": \"0\", \"error\": null,"
                " \"newest\": \"2025-03-11T07:03:00.000Z\", \"categories\": {\"ssl\": 1}}\n",
             "--db", d, "status", "--format=json", "-c0", "--since=2025-03-11T07:02:30Z", NULL);
    /* A probe is remembered: the newest one is last_probe (and its
     * finding a failure that names its target). */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "probe", "--timeout", "1",
                                      "mp.invalid", NULL), 1);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "--format", "json", NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"failures\": 4, \"category\": \"ssl\", \"target\": \"a.example\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"last_probe\": {\"target\": \"mp.invalid:443\", \"time\": \""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"verdict\": \"dns-failure\", \"message\": \"probe mp.invalid:443:"
                                       " dns-failure: "));
    free(out);
    free(err);
    /* No database: UNKNOWN with the reason, as an object too. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", "/nonexistent/x.db", "status", "--format",
                                      "json", NULL), 3);
    CU_ASSERT_STRING_EQUAL(out, "{\"status\": \"UNKNOWN\", \"exit\": 3, \"state\": \"unknown\","
                                " \"since\": null, \"failures\": 0, \"category\": null, \"target\": null,"
                                " \"last_failure\": null, \"last_success\": null, \"last_record\": null, \"last_probe\": null,"
                                " \"warn\": \"0\", \"crit\": \"10\", \"error\": \"no readable"
                                " agentwatch database (see stderr)\", \"newest\": null,"
                                " \"categories\": {}}\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no database here"));
    free(out);
    free(err);
    free(d);
}

static void test_status_intune(void)
{
    char *d = shapes_db("intune.db"), *cfg = tu_path(tu_dir(), "bad.yaml");
    char longdb[3100], *out = NULL, *err = NULL;

    /* Failing: exit 1 runs the remediation. */
    shape_is(1, "WARNING: failing since 2025-03-11 07:01:00Z, 3 failures (mostly ssl, target"
                " a.example), last failure 2025-03-11 07:03:00Z, last success 2025-03-11 07:00:00Z\n",
             "--db", d, "status", "--format", "intune", NULL, NULL);
    /* At or under --warn: OK, exit 0. */
    shape_is(0, "OK: failing since 2025-03-11 07:01:00Z, 3 failures (mostly ssl, target"
                " a.example), last failure 2025-03-11 07:03:00Z, last success 2025-03-11 07:00:00Z\n",
             "--db", d, "status", "--format=intune", "-w", "3", NULL);
    shape_is(0, "UNKNOWN: no findings since 2030-01-01 00:00:00Z\n",
             "--db", d, "status", "--format=intune", "--since", "2030-01-01", NULL);
    /* Every error is one line on stdout, exit 0, and nothing on stderr. */
    shape_is(0, "UNKNOWN: /nonexistent/x.db: no database here (run 'agentwatch scan' first)\n",
             "--db", "/nonexistent/x.db", "status", "--format", "intune", NULL, NULL);
    shape_is(0, "UNKNOWN: invalid command line: status: invalid --warn 'x': expected a count or"
                " a range (N, N:, ~:N, N:M, @N:M) (see 'agentwatch status --help')\n",
             "--db", d, "status", "--warn", "x", "--format=intune", NULL);
    shape_is(0, "UNKNOWN: invalid command line: status: unexpected argument 'extra' (see"
                " 'agentwatch status --help')\n",
             "--db", d, "status", "extra", "--format=intune", NULL, NULL);
    tu_write_str(cfg, "retention_days: soon\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "--db", d, "status", "--format",
                                      "intune", NULL), 0);
    CU_ASSERT_EQUAL(strncmp(out, "UNKNOWN: ", 9), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "bad.yaml"));
    CU_ASSERT_EQUAL(tu_count_lines(out), 1);
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
    /* Not even the text of a very long error passes 2,048 characters. */
    memset(longdb, 'x', sizeof(longdb) - 1);
    longdb[0] = '/';
    longdb[sizeof(longdb) - 1] = '\0';
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", longdb, "status", "--format", "intune",
                                      NULL), 0);
    CU_ASSERT(strlen(out) <= 2049);
    CU_ASSERT_EQUAL(strncmp(out, "UNKNOWN: ", 9), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
    /* Healthy after a success: exit 0. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "--format", "intune",
                                      "--since", "2025-03-11T07:00:30Z", "--crit", "0", NULL), 1);
    CU_ASSERT_EQUAL(strncmp(out, "CRITICAL: failing since 2025-03-11 07:01:00Z", 44), 0);
    free(out);
    free(err);
    free(cfg);
    free(d);
}

/* Thresholds are monitoring-plugin ranges: 3 failures against each shape. */
static void test_status_ranges(void)
{
    static const struct { const char *warn; int rc; } cases[] = {
        { "3", 0 }, { "2", 1 }, { "3:", 0 }, { "4:", 1 }, { "~:3", 0 }, { "~:2", 1 },
        { "1:5", 0 }, { "4:9", 1 }, { "@1:5", 1 }, { "@4:9", 0 }, { "@3", 1 }, { "2.5", 1 },
        { "-1:3", 0 }, { "~:", 0 },
    };
    static const char *const bad[] = { "x", "5:1", "-1", "1:x", "@", ":", "1.", "+", "inf",
                                       " 1", "0x10", "1e3" };
    char *d = shapes_db("ranges.db"), *out = NULL, *err = NULL;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char expected[256];
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "-w", cases[i].warn,
                                          NULL), cases[i].rc);
        /* The range goes into the perfdata as given. */
        snprintf(expected, sizeof(expected), " | failures=3;%s;10;0 'ssl'=3;%s;10;0;\n",
                 cases[i].warn, cases[i].warn);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, expected));
        if (strstr(out, expected) == NULL) {
            fprintf(stderr, "-w %s: %s", cases[i].warn, out);
        }
        free(out);
        free(err);
    }
    /* Critical wins over warning; "@" on crit too. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "-w", "1", "-c", "@3:3",
                                      NULL), 2);
    CU_ASSERT_EQUAL(strncmp(out, "CRITICAL: ", 10), 0);
    free(out);
    free(err);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char expected[256];
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "--crit", bad[i], NULL), 3);
        snprintf(expected, sizeof(expected), "agentwatch: status: invalid --crit '%s': expected a"
                 " count or a range (N, N:, ~:N, N:M, @N:M) (see 'agentwatch status --help')\n",
                 bad[i]);
        CU_ASSERT_STRING_EQUAL(err, expected);
        CU_ASSERT_STRING_EQUAL(out, "UNKNOWN: invalid command line (see 'agentwatch status --help')\n");
        free(out);
        free(err);
    }
    free(d);
}

/* --max-age: old data is UNKNOWN, in every format. */
static void test_status_max_age(void)
{
    char *d = shapes_db("age.db"), *lp = tu_path(tu_dir(), "shapes.log"), *out = NULL, *err = NULL;
    char *rp = tu_path(tu_dir(), "shapes.yaml");

    shape_is(3, "UNKNOWN: no new data since 2025-03-11 07:03:00Z (older than --max-age 30d)\n",
             "--db", d, "status", "--max-age", "30d", NULL, NULL);
    shape_is(0, "UNKNOWN: no new data since 2025-03-11 07:03:00Z (older than --max-age 2w)\n",
             "--db", d, "status", "--max-age=2w", "--format", "intune", NULL);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "--max-age", "90s", "--format",
                                      "json", NULL), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"status\": \"UNKNOWN\", \"exit\": 3, \"state\": \"unknown\","
                                       " \"since\": null, \"failures\": 0, \"category\": null,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"error\": \"no new data since 2025-03-11 07:03:00Z (older"
                                       " than --max-age 90s)\", \"newest\": \"2025-03-11T07:03:00.000Z\""));
    free(out);
    free(err);
    /* Old enough data under a long enough age is judged as usual. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "--max-age", "100000d", NULL), 1);
    CU_ASSERT_EQUAL(strncmp(out, "WARNING: ", 9), 0);
    free(out);
    free(err);
    /* A log read now is new data, even without a new finding: the
     * agent writes, agentwatch reads, nothing went wrong. */
    tu_append_str(lp, "2025-03-11T07:04:00Z nothing to see\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "scan", "--rules", rp, "--format",
                                      "line", lp, NULL), 0);
    free(out);
    free(err);
    free(rp);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "--max-age", "1h", NULL), 1);
    CU_ASSERT_EQUAL(strncmp(out, "WARNING: failing since 2025-03-11 07:01:00Z", 43), 0);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "status", "--max-age", "2025-03-11", NULL), 3);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: status: invalid --max-age '2025-03-11': expected a duration"
                                " (90s, 30m, 24h, 7d, 2w) (see 'agentwatch status --help')\n");
    free(out);
    free(err);
    free(lp);
    free(d);
}

/* Run status as the unprivileged user nobody (setpriv, as root), or as
 * ourselves when we are not root.  -1 when neither is possible. */
static int status_as_nobody(const char *db_path, char **out, char **err)
{
    char *const as_nobody[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                "--clear-groups", (char *)tu_agentwatch_bin(), "--db",
                                (char *)db_path, "status", NULL };

    if (geteuid() != 0) {
        return tu_run_agentwatch(out, err, "--db", db_path, "status", NULL);
    }
    if (access(as_nobody[0], X_OK) != 0) {
        return -1;
    }
    return tu_run(as_nobody, out, err);
}

/* A database that exists but may not be read: one clear UNKNOWN line
 * saying "permission denied", in the folder and in the file case. */
static void test_status_permission_denied(void)
{
    char *d = shapes_db("denied.db"), *shared = NULL, *db2 = NULL, *out = NULL, *err = NULL;
    int rc;

    /* The file: a folder anyone may enter, a database only we may read. */
    shared = tu_path(tu_dir(), "shared");
    db2 = tu_path(shared, "denied.db");
    CU_ASSERT_EQUAL(mkdir(shared, 0755), 0);
    CU_ASSERT_EQUAL(rename(d, db2), 0);
    CU_ASSERT_EQUAL(chmod(tu_dir(), 0711), 0);
    if (geteuid() != 0) {
        CU_ASSERT_EQUAL(chmod(db2, 0), 0);
    }
    rc = status_as_nobody(db2, &out, &err);
    if (rc == -1) {
        fprintf(stderr, "skipped: running as root without /usr/bin/setpriv to drop privileges\n");
    } else {
        char expected[1024];
        snprintf(expected, sizeof(expected), "UNKNOWN: %s: permission denied (this user may not"
                 " read the database)\n", db2);
        CU_ASSERT_EQUAL(rc, 3);
        CU_ASSERT_STRING_EQUAL(out, expected);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "permission denied"));
        free(out);
        free(err);
    }
    /* The folder: not even its entries can be looked at. */
    CU_ASSERT_EQUAL(chmod(shared, geteuid() != 0 ? 0 : 0700), 0);
    rc = status_as_nobody(db2, &out, &err);
    if (rc != -1) {
        char expected[1024];
        snprintf(expected, sizeof(expected), "UNKNOWN: %s: permission denied (this user may not"
                 " open the database folder)\n", db2);
        CU_ASSERT_EQUAL(rc, 3);
        CU_ASSERT_STRING_EQUAL(out, expected);
        free(out);
        free(err);
    }
    chmod(shared, 0700);
    chmod(db2, 0600);
    chmod(tu_dir(), 0700);
    free(shared);
    free(db2);
    free(d);
}

/* A folder shared with its group (2750, as the packages make
 * /var/lib/agentwatch): the database is created 0640 and a member of the
 * group reads it, also while a writer holds changes in the -wal. */
static void test_status_group_read(void)
{
    char *shared = tu_path(tu_dir(), "group"), *d = NULL, *out = NULL, *err = NULL;
    char *lp = tu_path(tu_dir(), "agent.log");
    sqlite3 *writer = NULL;
    struct stat st;
    char *const as_member[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                "--clear-groups", (char *)tu_agentwatch_bin(), "--db", NULL,
                                "status", "--format", "json", NULL };
    int rc;

    if (geteuid() != 0 || access(as_member[0], X_OK) != 0) {
        fprintf(stderr, "skipped: needs root and /usr/bin/setpriv to act as a group member\n");
        free(shared);
        free(lp);
        return;
    }
    d = tu_path(shared, "agentwatch.db");
    CU_ASSERT_EQUAL(mkdir(shared, 0700), 0);
    CU_ASSERT_EQUAL(chown(shared, 0, 65534), 0);
    CU_ASSERT_EQUAL(chmod(shared, 02750), 0);
    CU_ASSERT_EQUAL(chmod(tu_dir(), 0711), 0);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "scan", "--rules", rules, "--format",
                                      "line", lp, NULL), 0);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(stat(d, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
    CU_ASSERT_EQUAL(st.st_gid, 65534);
    /* A writer with a committed change still in the -wal. */
    CU_ASSERT_EQUAL(sqlite3_open(d, &writer), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_exec(writer, "PRAGMA wal_autocheckpoint = 0;"
                                 " UPDATE files SET last_read = 32503680000000", NULL, NULL, NULL),
                    SQLITE_OK);
    ((char **)as_member)[6] = d;
    rc = tu_run(as_member, &out, &err);
    CU_ASSERT_EQUAL(rc, 0);     /* (test_status added the success at 07:04) */
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"newest\": \"3000-01-01T00:00:00.000Z\""));
    if (rc != 0) {
        fprintf(stderr, "got: %s(stderr: %s)\n", out, err);
    }
    free(out);
    free(err);
    sqlite3_close(writer);
    /* Opened again by the writer, a mode wider than 0640 is repaired to
     * 0640 in such a folder, not to 0600. */
    CU_ASSERT_EQUAL(chmod(d, 0644), 0);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", d, "scan", "--rules", rules, "--format",
                                      "line", lp, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "repaired: mode 0644 let others read or write the findings;"
                                       " it is now 0640"));
    CU_ASSERT_EQUAL(stat(d, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
    free(out);
    free(err);
    chmod(tu_dir(), 0700);
    free(shared);
    free(lp);
    free(d);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("status", setup, teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "status", test_status);
    CU_add_test(s, "status --format json", test_status_json);
    CU_add_test(s, "status --format intune", test_status_intune);
    CU_add_test(s, "status thresholds as ranges", test_status_ranges);
    CU_add_test(s, "status --max-age", test_status_max_age);
    CU_add_test(s, "status on a database it may not read", test_status_permission_denied);
    CU_add_test(s, "status by a member of the database's group", test_status_group_read);
    CU_add_test(s, "report --by on the command line", test_report_by_cli);
    CU_add_test(s, "export and prune", test_export_and_prune);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
