/*
 * status, export, prune and report --by as a black box: the built binary
 * on a database filled by a real scan, checking the one line, the exit
 * codes of the monitoring convention, and the usage errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                 " | failures=3;0;10;0\n", NULL, NULL, NULL, NULL);
    status_is(0, "OK: failing since 2025-03-11 07:01:00Z, 3 failures since the last success"
                 " at 2025-03-11 07:00:00Z (mostly ssl), last failure 2025-03-11 07:03:00Z"
                 " | failures=3;3;10;0\n", "--warn", "3", NULL, NULL);
    status_is(2, "CRITICAL: failing since 2025-03-11 07:01:00Z, 3 failures since the last"
                 " success at 2025-03-11 07:00:00Z (mostly ssl), last failure"
                 " 2025-03-11 07:03:00Z | failures=3;1;2;0\n", "--warn", "1", "--crit", "2");
    /* -w and -c, as monitoring plugins spell them (issue 13). */
    status_is(2, "CRITICAL: failing since 2025-03-11 07:01:00Z, 3 failures since the last"
                 " success at 2025-03-11 07:00:00Z (mostly ssl), last failure"
                 " 2025-03-11 07:03:00Z | failures=3;1;2;0\n", "-w", "1", "-c2", NULL);
    /* A window that starts after the success: every failure counts. */
    status_is(1, "WARNING: failing since 2025-03-11 07:02:00Z, 2 failures since no success"
                 " marker (mostly ssl), last failure 2025-03-11 07:03:00Z"
                 " | failures=2;0;10;0\n", "--since", "2025-03-11T08:01:30+01:00", NULL, NULL);
    status_is(3, "UNKNOWN: no findings since 2030-01-01 00:00:00Z\n", "--since", "2030-01-01",
              NULL, NULL);
    /* Recovery. */
    tu_append_str(log_path, "2025-03-11T07:04:00Z Configuration updated successfully\n");
    scan();
    status_is(0, "OK: healthy since 2025-03-11 07:04:00Z, last success 2025-03-11 07:04:00Z"
                 " | failures=0;0;10;0\n", NULL, NULL, NULL, NULL);
    /* No database: UNKNOWN, with the reason on stderr. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", missing, "status", NULL), 3);
    CU_ASSERT_STRING_EQUAL(out, "UNKNOWN: no readable agentwatch database (see stderr)\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no database here"));
    free(out);
    free(err);
    /* Usage errors are UNKNOWN too: a broken check must not page anyone. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "status", "--warn", "-1", NULL), 3);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: status: invalid --warn '-1': expected a count of 0"
                                " or more (see 'agentwatch status --help')\n");
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
                " \"last_success\": \"2025-03-11T07:00:00.000Z\", \"last_probe\": null,"
                " \"warn\": 0, \"crit\": 10, \"error\": null}\n",
             "--db", d, "status", "--format", "json", NULL, NULL);
    shape_is(2, "{\"status\": \"CRITICAL\", \"exit\": 2, \"state\": \"failing\","
                " \"since\": \"2025-03-11T07:03:00.000Z\", \"failures\": 1, \"category\": \"ssl\","
                " \"target\": \"a.example\", \"last_failure\": \"2025-03-11T07:03:00.000Z\","
                " \"last_success\": null, \"last_probe\": null,"
                " \"warn\": 0, \"crit\": 0, \"error\": null}\n",
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
                                " \"last_failure\": null, \"last_success\": null, \"last_probe\": null,"
                                " \"warn\": 0, \"crit\": 10, \"error\": \"no readable agentwatch database"
                                " (see stderr)\"}\n");
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
    shape_is(0, "UNKNOWN: invalid command line: status: invalid --warn 'x': expected a count of 0"
                " or more (see 'agentwatch status --help')\n",
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

static int reg(void)
{
    CU_pSuite s = CU_add_suite("status", setup, teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "status", test_status);
    CU_add_test(s, "status --format json", test_status_json);
    CU_add_test(s, "status --format intune", test_status_intune);
    CU_add_test(s, "report --by on the command line", test_report_by_cli);
    CU_add_test(s, "export and prune", test_export_and_prune);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
