/*
 * The command line as a black box: the built binary run on real files,
 * checking exit codes, the one-line error contract, the JSON contract and
 * the database it leaves behind.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/time.h>

#include "testutil.h"


static void test_version_and_help(void)
{
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--version", NULL), 0);
    CU_ASSERT_EQUAL(strncmp(out, "agentwatch ", 11), 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 1);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--help", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Usage: agentwatch [--db PATH] <command> [options]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  scan "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  report "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  rules "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Exit status: 0 success, 1 failure, 2 usage error."));
    free(out);
    free(err);
    const char *cmds[] = { "scan", "report", "rules" };
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, cmds[i], "--help", NULL), 0);
        CU_ASSERT_EQUAL(strncmp(out, "Usage: agentwatch", 17), 0);
        CU_ASSERT_STRING_EQUAL(err, "");
        free(out);
        free(err);
    }
}

static void test_help_needs_no_valid_config(void)
{
    char *broken = tu_path(tu_dir(), "broken-config.yaml");
    char *out = NULL, *err = NULL;

    tu_write_str(broken, "database: [not, a, path\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", broken, "scan", "--help", NULL), 0);
    CU_ASSERT_EQUAL(strncmp(out, "Usage: agentwatch", 17), 0);
    free(out);
    free(err);
    /* Anything else still reports the broken file. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", broken, "rules", "list", NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, broken));
    free(out);
    free(err);
    free(broken);
}

static void test_usage_errors(void)
{
    struct {
        const char *args[6];
        const char *stderr_text;
    } cases[] = {
        { { "frobnicate" }, "agentwatch: unknown command 'frobnicate' (see 'agentwatch --help')\n" },
        { { "--bogus" }, "agentwatch: unknown option '--bogus' (see 'agentwatch --help')\n" },
        { { "--db" }, "agentwatch: option '--db' needs a value (see 'agentwatch --help')\n" },
        /* the global options (a table, src/cli.c): no cluster, no "--" */
        { { "-hV" }, "agentwatch: unknown option '-hV' (see 'agentwatch --help')\n" },
        { { "--", "scan" }, "agentwatch: unknown option '--' (see 'agentwatch --help')\n" },
        { { "--version=1" }, "agentwatch: unknown option '--version=1' (see 'agentwatch --help')\n" },
        { { "--db", "", "report" },
          "agentwatch: --db needs a non-empty path (see 'agentwatch --help')\n" },
        /* --config may still follow the command word: an unknown command
         * is found first */
        { { "--config", "", "frobnicate" },
          "agentwatch: unknown command 'frobnicate' (see 'agentwatch --help')\n" },
        { { "report", "--config=" },
          "agentwatch: --config needs a non-empty path (see 'agentwatch --help')\n" },
        { { "report", "--config" },
          "agentwatch: report: option '--config' needs a value (see 'agentwatch report --help')\n" },
        /* after the command as before it (it was taken for a path, "") */
        { { "report", "--db", "" },
          "agentwatch: report: --db needs a non-empty path (see 'agentwatch report --help')\n" },
        { { "scan" }, "agentwatch: scan: no PATH given and no sources in the configuration "
                      "(see 'agentwatch scan --help')\n" },
        { { "scan", "--format", "xml", "x.log" },
          "agentwatch: scan: invalid --format 'xml': expected auto, itms, cmtrace or line"
          " (see 'agentwatch scan --help')\n" },
        { { "scan", "--wat", "x.log" },
          "agentwatch: scan: unknown option '--wat' (see 'agentwatch scan --help')\n" },
        { { "scan", "--rules" },
          "agentwatch: scan: option '--rules' needs a value (see 'agentwatch scan --help')\n" },
        { { "report", "--since", "7x" },
          "agentwatch: report: --since: invalid time '7x': expected a duration (30m, 24h, 7d)"
          " or an ISO-8601 date/time (see 'agentwatch report --help')\n" },
        { { "report", "--format", "xml" },
          "agentwatch: report: invalid --format 'xml': expected table, json or csv"
          " (see 'agentwatch report --help')\n" },
        { { "report", "--since", "2025-03-12", "--until", "2025-03-11" },
          "agentwatch: report: --since is after --until (see 'agentwatch report --help')\n" },
        { { "rules" },
          "agentwatch: rules: missing action: check, list or test (see 'agentwatch rules --help')\n" },
        { { "rules", "lint" },
          "agentwatch: rules: unknown action 'lint': expected check, list or test"
          " (see 'agentwatch rules --help')\n" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL, *err = NULL;
        int rc = tu_run_agentwatch(&out, &err, cases[i].args[0], cases[i].args[1], cases[i].args[2],
                    cases[i].args[3], cases[i].args[4], NULL);
        CU_ASSERT_EQUAL(rc, 2);
        CU_ASSERT_STRING_EQUAL(err, cases[i].stderr_text);
        if (strcmp(err, cases[i].stderr_text) != 0) {
            fprintf(stderr, "case %zu got: %s", i, err);
        }
        CU_ASSERT_STRING_EQUAL(out, "");
        free(out);
        free(err);
    }
    /* No command at all: usage on stderr. */
    {
        char *out = NULL, *err = NULL;
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, NULL), 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "Usage: agentwatch"));
        free(out);
        free(err);
    }
}

/* Options are matched by their exact name only (issue 10): a prefix of
 * every option of every command is an unknown option, with the command's
 * usage exit status (status: 3, UNKNOWN), not an alias that would become
 * part of the contract. */
static void test_exact_option_names(void)
{
    const char *cmds[] = { "scan", "follow", "report", "status", "export", "prune", "rules" };
    char *db = tu_path(tu_dir(), "exact.db");
    size_t checked = 0;

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        char *help = NULL, *err = NULL, *line;
        int usage_exit = strcmp(cmds[i], "status") == 0 ? 3 : 2;

        CU_ASSERT_EQUAL_FATAL(tu_run_agentwatch(&help, &err, cmds[i], "--help", NULL), 0);
        free(err);
        for (line = strstr(help, "\n  --"); line != NULL; line = strstr(line + 1, "\n  --")) {
            char name[64], prefix[64], expected[256], row[80];
            char *out = NULL;
            size_t len = strcspn(line + 5, " \n");

            if (len < 2 || len >= sizeof(name)) {
                continue;
            }
            memcpy(name, line + 5, len);
            name[len] = '\0';
            snprintf(prefix, sizeof(prefix), "--%.*s", (int)len - 1, name);
            snprintf(expected, sizeof(expected), "agentwatch: %s: unknown option '%s' (see "
                     "'agentwatch %s --help')\n", cmds[i], prefix, cmds[i]);
            /* a prefix that is an option of its own ("--rule") is no test */
            snprintf(row, sizeof(row), "\n  %s ", prefix);
            if (strstr(help, row) != NULL) {
                continue;
            }
            CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, cmds[i], prefix, "1", NULL),
                            usage_exit);
            CU_ASSERT_STRING_EQUAL(err, expected);
            checked++;
            free(out);
            free(err);
        }
        free(help);
    }
    CU_ASSERT(checked >= 25);
    {
        /* the examples of the issue, and a flag given a value */
        char *out = NULL, *err = NULL;

        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--form", "json", NULL), 2);
        CU_ASSERT_STRING_EQUAL(err, "agentwatch: report: unknown option '--form' (see 'agentwatch "
                               "report --help')\n");
        free(out);
        free(err);
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "status", "--wa", "0", NULL), 3);
        CU_ASSERT_STRING_EQUAL(out, "UNKNOWN: invalid command line (see 'agentwatch status --help')\n");
        CU_ASSERT_STRING_EQUAL(err, "agentwatch: status: unknown option '--wa' (see 'agentwatch "
                               "status --help')\n");
        free(out);
        free(err);
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "scan", "--quiet=yes", "x.log", NULL), 2);
        CU_ASSERT_STRING_EQUAL(err, "agentwatch: scan: unknown option '--quiet=yes' (see "
                               "'agentwatch scan --help')\n");
        free(out);
        free(err);
        /* the exact names still work, in either spelling */
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "status", "--warn=0", "--crit", "0",
                                          NULL), 3);
        CU_ASSERT_PTR_NULL(strstr(out, "invalid command line"));
        CU_ASSERT_PTR_NULL(strstr(err, "option"));
        free(out);
        free(err);
    }
    free(db);
}

static const char log_text[] =
    "<event date='03/11/2025 08:00:01.0000000 +01:00' severity='4' hostName='WKS-1' source='A' "
    "module='m' process='p' pid='1' thread='2' tickCount='3' ><![CDATA[Agent started]]></event>\n"
    "<event date='03/11/2025 08:00:02.5000000 +01:00' severity='1' hostName='WKS-1' source='A' "
    "module='m' process='p' pid='1' thread='2' tickCount='4' ><![CDATA[The underlying connection "
    "was closed: Could not establish trust relationship for the SSL/TLS secure channel.]]>"
    "</event>\n"
    "<event date='03/11/2025 09:00:00.0000000 +01:00' severity='4' hostName='WKS-1' source='A' "
    "module='m' process='p' pid='1' thread='2' tickCount='5' ><![CDATA[Configuration updated "
    "successfully]]></event>\n";

static void test_scan_report_end_to_end(void)
{
    char *rules = tu_path(tu_dir(), "e2e-rules.yaml");
    char *log = tu_path(tu_dir(), "agent.log");
    char *db = tu_path(tu_dir(), "e2e.db");
    char *out = NULL, *err = NULL;
    const char *expected_json =
        "{\"since\": null, \"until\": null, \"total\": 2, \"time_inferred\": 0,\n"
        " \"categories\": [\n"
        "  {\"category\": \"health\", \"count\": 1, \"first\": \"2025-03-11T08:00:00.000Z\","
        " \"last\": \"2025-03-11T08:00:00.000Z\"},\n"
        "  {\"category\": \"ssl\", \"count\": 1, \"first\": \"2025-03-11T07:00:02.500Z\","
        " \"last\": \"2025-03-11T07:00:02.500Z\"}\n"
        " ],\n"
        " \"rules\": [\n"
        "  {\"rule\": \"config-ok\", \"category\": \"health\", \"count\": 1,"
        " \"first\": \"2025-03-11T08:00:00.000Z\", \"last\": \"2025-03-11T08:00:00.000Z\","
        " \"cause\": \"\", \"remedy\": \"\"},\n"
        "  {\"rule\": \"ssl-trust\", \"category\": \"ssl\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:00:02.500Z\", \"last\": \"2025-03-11T07:00:02.500Z\","
        " \"cause\": \"The client does not trust the server's certificate chain.\","
        " \"remedy\": \"Import the issuing CA on the clients.\"}\n"
        " ],\n \"match_limit\": [],\n \"servers\": [],\n"
        " \"state\": {\"status\": \"healthy\", \"since\": \"2025-03-11T08:00:00.000Z\","
        " \"failures\": 0, \"category\": null, \"last_failure\": \"2025-03-11T07:00:02.500Z\","
        " \"last_success\": \"2025-03-11T08:00:00.000Z\", \"last_record\": null},\n"
        " \"incidents\": [\n"
        "  {\"start\": \"2025-03-11T07:00:02.500Z\", \"end\": \"2025-03-11T08:00:00.000Z\","
        " \"last\": \"2025-03-11T07:00:02.500Z\", \"ongoing\": false, \"duration_ms\": 3597500,"
        " \"category\": \"ssl\", \"count\": 1}\n"
        " ],\n \"more_incidents\": false}\n";

    tu_write_str(rules, tu_rules_trust_health);
    tu_write_str(log, log_text);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules, log, NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "scanned 1 file: 3 records, 2 new findings\n"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--format", "json", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, expected_json);
    free(out);
    free(err);
    /* --db after the command works too, and a second scan adds nothing. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "scan", "--db", db, "--rules", rules, log, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "scanned 1 file: 0 records, 0 new findings\n"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings"), 2);
    /* Filters and the other formats. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--format", "csv", "--category", "ssl",
                       NULL), 0);
    CU_ASSERT_STRING_EQUAL(out,
        "rule,category,count,first,last,cause,remedy\r\n"
        "ssl-trust,ssl,1,2025-03-11T07:00:02.500Z,2025-03-11T07:00:02.500Z,"
        "The client does not trust the server's certificate chain.,"
        "Import the issuing CA on the clients.\r\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--since", "2025-03-11T07:30:00Z",
                       "--format", "json", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"since\": \"2025-03-11T07:30:00.000Z\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\": 1,"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2 findings in 2 categories from 2 rules"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "cause:  The client does not trust"));
    free(out);
    free(err);
    /* $AGENTWATCH_DB is the default database. */
    setenv("AGENTWATCH_DB", db, 1);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "report", "--format", "json", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, expected_json);
    unsetenv("AGENTWATCH_DB");
    free(out);
    free(err);
    free(rules);
    free(log);
    free(db);
}

static void test_failures_are_one_line(void)
{
    char *rules = tu_path(tu_dir(), "f-rules.yaml");
    char *db = tu_path(tu_dir(), "notes.txt");
    char *missing = tu_path(tu_dir(), "gone/agent.log");
    char *log = tu_path(tu_dir(), "f-agent.log");
    char *fresh = tu_path(tu_dir(), "f.db");
    char *out = NULL, *err = NULL, *after;
    const char *notes = "not a database, an admin's notes\n";

    tu_write_str(rules, tu_rules_trust_health);
    tu_write_str(log, log_text);
    /* A missing log. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", fresh, "scan", "--rules", rules,
                       missing, NULL), 1);
    CU_ASSERT_EQUAL(tu_count_lines(err), 1);
    CU_ASSERT_EQUAL(strncmp(err, "agentwatch: ", 12), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, missing));
    free(out);
    free(err);
    /* A database path that is someone else's file: refused, untouched. */
    tu_write_str(db, notes);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules, log, NULL), 1);
    CU_ASSERT_EQUAL(tu_count_lines(err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, db));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "file is not a database"));
    after = tu_read_file(db, NULL);
    CU_ASSERT_STRING_EQUAL(after, notes);
    free(after);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", NULL), 1);
    CU_ASSERT_EQUAL(tu_count_lines(err), 1);
    free(out);
    free(err);
    /* Report without a database. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", missing, "report", NULL), 1);
    CU_ASSERT_EQUAL(tu_count_lines(err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no database here"));
    free(out);
    free(err);
    free(rules);
    free(db);
    free(missing);
    free(log);
    free(fresh);
}

static void test_rules_check(void)
{
    char *bad = tu_path(tu_dir(), "bad-rules.yaml");
    char *good = tu_path(tu_dir(), "good-rules.yaml");
    char *shipped = tu_src_path("rules");
    char *out = NULL, *err = NULL;
    char prefix[512];

    tu_write_str(good, tu_rules_trust_health);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "check", "--rules", good, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2 rules OK"));
    free(out);
    free(err);
    tu_write_str(bad, "rules:\n"
                      "  - id: a\n"
                      "    category: ssl\n"
                      "    severity: error\n"
                      "    patern: 'x'\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "check", "--rules", bad, NULL), 1);
    snprintf(prefix, sizeof(prefix), "%s:5:5: ", bad);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, prefix));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'patern'"));
    free(out);
    free(err);
    /* The shipped rule set is valid and lists in order. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "check", "--rules", shipped, NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "list", "--rules", good, "--format", "tsv", NULL), 0);
    snprintf(prefix, sizeof(prefix),
             "ssl-trust\tssl\terror\t(?i)could not establish trust relationship\tshipped\t%s:3:5\n"
             "config-ok\thealth\tinfo\tConfiguration updated successfully\tshipped\t%s:9:5\n", good, good);
    CU_ASSERT_STRING_EQUAL(out, prefix);
    free(out);
    free(err);
    free(bad);
    free(good);
    free(shipped);
}

static void test_samples(void)
{
    char *db = tu_path(tu_dir(), "samples.db");
    char *rules = tu_src_path("rules");
    char *itms = tu_src_path("samples/itms/agent.log");
    char *ccm = tu_src_path("samples/ccm");
    char *out = NULL, *err = NULL;
    const char *categories[] = { "ssl", "connection", "resolution", "health" };

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules, itms, ccm, NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
    CU_ASSERT_TRUE(tu_sql_int(db, "SELECT count(DISTINCT path) FROM findings") >= 4);
    for (size_t i = 0; i < 4; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM findings WHERE category = '%s'",
                 categories[i]);
        if (tu_sql_int(db, sql) < 1) {
            fprintf(stderr, "no %s finding in the samples\n", categories[i]);
            CU_FAIL("samples lack a category");
        }
    }
    /* Benign lines that merely mention errors are no failures (success
     * markers such as "Configuration unchanged (0 errors)" are health). */
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings WHERE category <> 'health'"
                                   " AND (message LIKE '%error=0x00000000%'"
                                   " OR message LIKE '% 0 errors%')"), 0);
    CU_ASSERT_TRUE(tu_sql_int(db, "SELECT count(*) FROM findings WHERE category = 'health'"
                                  " AND message LIKE '% 0 errors%'") > 0);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Probable causes"));
    free(out);
    free(err);
    free(db);
    free(rules);
    free(itms);
    free(ccm);
}

/* What a person reads after scan: singular counts, "unchanged" for a file
 * read before, and the path as stored: absolute, without "//" or "./",
 * however it was typed. */
static void test_scan_lines_and_paths(void)
{
    char *top = tu_mkdtemp();
    char *sub = tu_path(top, "logs");
    char *log = tu_path(sub, "agent.log");
    char *rules = tu_path(top, "rules.yaml");
    char *db = tu_path(top, "aw.db");
    char *cwd = getcwd(NULL, 0);
    char *out = NULL, *err = NULL, *stored;
    char want[4096];

    CU_ASSERT_FATAL(cwd != NULL && mkdir(sub, 0700) == 0);
    tu_write_str(rules, tu_rules_trust_health);
    tu_write_str(log, "2025-03-11 07:00:02.500 Could not establish trust relationship\n");
    CU_ASSERT_FATAL(chdir(top) == 0);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules,
                                      "./logs//", NULL), 0);
    snprintf(want, sizeof(want), "%s: line utf-8, bytes 0-63 (new file): 1 record, "
             "1 new finding\nscanned 1 file: 1 record, 1 new finding\n", log);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
    free(err);
    stored = tu_sql_text(db, "SELECT path FROM files");
    CU_ASSERT_STRING_EQUAL(stored != NULL ? stored : "(none)", log);
    free(stored);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules,
                                      "logs/agent.log", NULL), 0);
    snprintf(want, sizeof(want), "%s: unchanged, 63 bytes read before\n"
             "scanned 1 file: 0 records, 0 new findings\n", log);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM files"), 1);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 finding in 1 category from 1 rule\n"));
    free(out);
    free(err);
    /* --help names every command's purpose; rules can test too. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--help", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  rules    check, list or test a rule set"));
    free(out);
    free(err);
    CU_ASSERT(chdir(cwd) == 0);
    tu_rmtree(top);
    free(cwd);
    free(top);
    free(sub);
    free(log);
    free(rules);
    free(db);
}

/* Run the built agentwatch on a pseudo-terminal cols columns wide (with
 * $COLUMNS set to columns_env unless NULL); its output, '\r' removed. */
static char *run_on_terminal(unsigned short cols, const char *columns_env, char *const argv[])
{
    struct winsize ws = { .ws_row = 50, .ws_col = cols };
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    int fd, status;
    pid_t pid;

    CU_ASSERT_FATAL(text != NULL);
    pid = forkpty(&fd, NULL, NULL, &ws);
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        if (columns_env != NULL) {
            setenv("COLUMNS", columns_env, 1);
        } else {
            unsetenv("COLUMNS");
        }
        execv(tu_agentwatch_bin(), argv);
        _exit(127);
    }
    for (;;) {
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            break;   /* EIO once the child closed the terminal */
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\r') {
                continue;
            }
            if (len + 1 >= cap) {
                char *bigger = realloc(text, cap *= 2);
                CU_ASSERT_FATAL(bigger != NULL);
                text = bigger;
            }
            text[len++] = buf[i];
        }
    }
    text[len] = '\0';
    close(fd);
    CU_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return text;
}

static size_t longest_line(const char *text)
{
    size_t longest = 0;

    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        longest = n > longest ? n : longest;
        p += n + (nl != NULL);
    }
    return longest;
}

/* report fits the terminal it writes to: 80 columns (the samples' rule
 * ids and times make 111 at full width), $COLUMNS when set, and the full
 * width into a pipe or file. */
static void test_report_terminal_width(void)
{
    char *top;
    char *db = tu_scanned_db("samples/itms/agent.log", &top);
    char *out = NULL, *err = NULL, *text;
    char *argv[] = { (char *)tu_agentwatch_bin(), "--db", db, "report", "--since", "2025-03-10",
                     "--until", "2025-03-12T23:00", "--by", "hour", NULL };

    text = run_on_terminal(80, NULL, argv);
    CU_ASSERT(longest_line(text) <= 80);
    CU_ASSERT(longest_line(text) > 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "FIRST (UTC)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nstate: healthy since 2025-03-12 07:02:33Z; last success"));
    free(text);
    text = run_on_terminal(80, "200", argv);
    CU_ASSERT(longest_line(text) > 80);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "FIRST SEEN"));
    free(text);
    text = run_on_terminal(200, "100", argv);
    CU_ASSERT(longest_line(text) <= 100);
    free(text);
    CU_ASSERT_EQUAL(tu_run(argv, &out, &err), 0);
    CU_ASSERT(longest_line(out) > 100);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "RULE                               CATEGORY"));
    free(out);
    free(err);
    tu_rmtree(top);
    free(top);
    free(db);
}

/* --by hour without --since looks back a week, not to the first finding;
 * --by minute over more than a day is a usage error naming a --since. */
static void test_report_by_windows(void)
{
    char *top;
    char *db = tu_scanned_db("samples/itms/agent.log", &top);
    char *out = NULL, *err = NULL;

    /* The samples are from March 2025: a week back from --until. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--by", "hour", "--until",
                                      "2025-03-12T12:00:00Z", "--format", "csv", NULL), 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 1 + 7 * 24 + 1);
    CU_ASSERT_EQUAL(strncmp(out, "start,total", 11), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n2025-03-05T12:00:00.000Z,"));
    free(out);
    free(err);
    /* Without --until: the week before now holds none of them. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--by", "hour", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no findings"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--by", "minute", "--since",
                                      "2025-03-10", "--until", "2025-03-12T23:00:00Z", NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "use --since 2025-03-11T23:00:00.000Z, or --by hour"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--by", "minute", "--since",
                                      "2025-03-12T00:00:00Z", "--until", "2025-03-12T23:00:00Z",
                                      "--format", "csv", NULL), 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 1 + 23 * 60 + 1);
    free(out);
    free(err);
    tu_rmtree(top);
    free(top);
    free(db);
}

static void test_hostile_input_files(void)
{
    char *rules = tu_path(tu_dir(), "h-rules.yaml");
    char *log = tu_path(tu_dir(), "garbage.log");
    char *db = tu_path(tu_dir(), "h.db");
    unsigned char *junk = malloc(300000);
    uint32_t x = 2463534242u;
    char *out = NULL, *err = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(junk);
    for (size_t i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk[i] = (unsigned char)x;
    }
    tu_write_str(rules, tu_rules_trust_health);
    tu_write_file(log, junk, 300000);
    free(junk);
    for (size_t i = 0; i < 4; i++) {
        const char *fmt[] = { "auto", "itms", "cmtrace", "line" };
        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--format", fmt[i], "--rules", rules,
                           log, NULL), 0);
        CU_ASSERT_STRING_EQUAL(err, "");
        free(out);
        free(err);
    }
    {
        char *check = tu_sql_text(db, "PRAGMA integrity_check");
        CU_ASSERT_PTR_NOT_NULL_FATAL(check);
        CU_ASSERT_STRING_EQUAL(check, "ok");
        free(check);
    }
    free(rules);
    free(log);
    free(db);
}

/* report and export take --since, --until, --category, --rule and --host
 * through one parser: the same values, and the same one-line errors. */
static void test_window_options(void)
{
    char *rules = tu_path(tu_dir(), "w-rules.yaml");
    char *log = tu_path(tu_dir(), "w-agent.log");
    char *db = tu_path(tu_dir(), "w.db");
    char *out = NULL, *err = NULL;
    const char *cmds[] = { "report", "export" };
    struct {
        const char *args[5];
        const char *message;
    } errors[] = {
        { { "--until", "7x" }, "--until: invalid time '7x': expected a duration (30m, 24h, 7d)"
                               " or an ISO-8601 date/time" },
        { { "--until", "2025-03-11", "--since", "2025-03-12" }, "--since is after --until" },
        { { "--rule" }, "option '--rule' needs a value" },
        { { "--host", "WKS-1", "extra" }, "unexpected argument 'extra'" },
        { { "--category", "ssl", "--wat" }, "unknown option '--wat'" },
        { { "-x" }, "unknown option '-x'" },
    };
    struct {
        const char *args[4];
        const char *rules;    /* the rules exported, in order */
    } filters[] = {
        { { "--rule", "ssl-trust" }, "ssl-trust," },
        { { "--category", "health" }, "config-ok," },
        { { "--host", "WKS-1" }, "ssl-trust,config-ok," },
        { { "--host", "nobody" }, "" },
        { { "--since", "2025-03-11T07:30:00Z", "--until", "2025-03-11T08:00:00Z" }, "config-ok," },
        { { "--until", "2025-03-11T07:00:02.499Z" }, "" },
    };

    tu_write_str(rules, tu_rules_trust_health);
    tu_write_str(log, log_text);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules, log, NULL), 0);
    free(out);
    free(err);
    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
            const char *const *a = errors[i].args;
            char expected[512];

            snprintf(expected, sizeof(expected), "agentwatch: %s: %s (see 'agentwatch %s --help')\n",
                     cmds[c], errors[i].message, cmds[c]);
            CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, cmds[c], a[0], a[1], a[2], a[3],
                                              a[4], NULL), 2);
            CU_ASSERT_STRING_EQUAL(err, expected);
            CU_ASSERT_STRING_EQUAL(out, "");
            free(out);
            free(err);
        }
    }
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "export", "--format", "xml", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: export: invalid --format 'xml': expected ndjson, csv or"
                                " ecs (see 'agentwatch export --help')\n");
    free(out);
    free(err);
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        const char *const *a = filters[i].args;
        char got[256] = "";

        CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "export", a[0], a[1], a[2], a[3],
                                          NULL), 0);
        for (const char *p = strstr(out, "\"rule\": \""); p != NULL; p = strstr(p, "\"rule\": \"")) {
            p += strlen("\"rule\": \"");
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%.*s,", (int)strcspn(p, "\""), p);
        }
        CU_ASSERT_STRING_EQUAL(got, filters[i].rules);
        free(out);
        free(err);
    }
    /* The same filters reach the report. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--format", "csv", "--host",
                                      "WKS-1", "--rule", "config-ok", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, "rule,category,count,first,last,cause,remedy\r\n"
                                "config-ok,health,1,2025-03-11T08:00:00.000Z,"
                                "2025-03-11T08:00:00.000Z,,\r\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--format", "csv", "--host",
                                      "nobody", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, "rule,category,count,first,last,cause,remedy\r\n");
    free(out);
    free(err);
    free(rules);
    free(log);
    free(db);
}

static size_t count_substr(const char *s, const char *needle)
{
    size_t n = 0;

    for (const char *p = s; p != NULL && (p = strstr(p, needle)) != NULL; p++) {
        n++;
    }
    return n;
}

/* report lists the --incidents N most recent incidents (default 10) and
 * says in the JSON whether older ones were left out. */
static void test_report_incidents_limit(void)
{
    char *rules = tu_path(tu_dir(), "inc-rules.yaml");
    char *log = tu_path(tu_dir(), "inc-agent.log");
    char *db = tu_path(tu_dir(), "inc.db");
    char *out = NULL, *err = NULL;
    char line[512];
    FILE *f;

    tu_write_str(rules, tu_rules_trust_health);
    f = fopen(log, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    /* 12 incidents: a failure at hh:00, the success that ends it at hh:30. */
    for (int h = 0; h < 12; h++) {
        for (int half = 0; half < 2; half++) {
            snprintf(line, sizeof(line),
                     "<event date='03/11/2025 %02d:%02d:00.0000000 +00:00' severity='1' "
                     "hostName='WKS-1' source='A' module='m' process='p' pid='1' thread='2' "
                     "tickCount='%d' ><![CDATA[%s]]></event>\n", h, half * 30, h * 2 + half,
                     half ? "Configuration updated successfully"
                          : "Could not establish trust relationship for the SSL/TLS channel.");
            fputs(line, f);
        }
    }
    fclose(f);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--quiet", "--rules", rules,
                                      log, NULL), 0);
    free(out);
    free(err);

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--format", "json", NULL),
                    0);
    CU_ASSERT_EQUAL(count_substr(out, "\"ongoing\": "), 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n \"more_incidents\": true}\n"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--format", "json",
                                      "--incidents", "12", NULL), 0);
    CU_ASSERT_EQUAL(count_substr(out, "\"ongoing\": "), 12);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n \"more_incidents\": false}\n"));
    /* most recent first */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n  {\"start\": \"2025-03-11T11:00:00.000Z\""));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--incidents", "2",
                                      NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2025-03-11 10:00:00Z  2025-03-11 10:30:00Z"));
    CU_ASSERT_PTR_NULL(strstr(out, "2025-03-11 09:00:00Z"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "(older incidents not shown)\n"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--incidents", "0",
                                      NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: report: invalid --incidents '0': expected a number "
                                "from 1 to 10000 (see 'agentwatch report --help')\n");
    free(out);
    free(err);
    free(rules);
    free(log);
    free(db);
}

/* The record Broadcom KB 179719 quotes from a real agent.log (no year, no
 * zone, CDATA on its own indented line), in a file last written on
 * 2025-06-01: scanned in a fixed zone, report and export give its time to
 * the second, flagged as inferred. */
static const char kb_record[] =
    "<event date='May 16 11:51:05' severity='2' hostName='pc100' source='CreateDirectoryPath' "
    "module='AeXNSAgent.exe' process='AeXNSAgent.exe' pid='724' thread='1740' "
    "tickCount='495844828' >\r\n"
    "  <![CDATA[Cannot create directory: 0x80070005 [Access is denied] d:]]></event>\r\n";

static const char kb_rules[] =
    "version: 1\n"
    "rules:\n"
    "  - id: agent.create-directory\n"
    "    category: agent\n"
    "    severity: warning\n"
    "    pattern: 'Cannot create directory'\n";

static void write_kb_log(const char *path)
{
    struct timeval tv[2] = { { 1748736000, 0 }, { 1748736000, 0 } };   /* 2025-06-01 */

    tu_write_str(path, kb_record);
    CU_ASSERT_EQUAL(utimes(path, tv), 0);
}

static void expect_kb_time(const char *db)
{
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "report", "--format", "json", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\": 1, \"time_inferred\": 1,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"category\": \"agent\", \"count\": 1,"
                                       " \"first\": \"2025-05-16T09:51:05.000Z\","
                                       " \"last\": \"2025-05-16T09:51:05.000Z\"}"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "export", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"time\": \"2025-05-16T09:51:05.000Z\", \"time_known\": true,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"host\": \"pc100\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"partial\": false, \"time_inferred\": true}\n"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "export", "--format", "csv", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ",partial,time_inferred\r\n2025-05-16T09:51:05.000Z,true,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ",false,true\r\n"));
    free(out);
    free(err);
}

static void test_timezone(void)
{
    char *rules = tu_path(tu_dir(), "kb-rules.yaml"), *log = tu_path(tu_dir(), "kb-agent.log");
    char *db1 = tu_path(tu_dir(), "kb1.db"), *db2 = tu_path(tu_dir(), "kb2.db"), *db3 = tu_path(tu_dir(), "kb3.db");
    char *cfg = tu_path(tu_dir(), "kb.yaml");
    char *out = NULL, *err = NULL;

    tu_write_str(rules, kb_rules);
    write_kb_log(log);
    /* --timezone with a fixed offset */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db1, "scan", "--rules", rules,
                                      "--timezone", "+02:00", log, NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
    expect_kb_time(db1);
    /* the machine's zone, from $TZ */
    setenv("TZ", "Europe/Berlin", 1);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db2, "scan", "--rules", rules, log,
                                      NULL), 0);
    setenv("TZ", "UTC", 1);
    free(out);
    free(err);
    expect_kb_time(db2);
    /* the configuration's timezone */
    tu_write_str(cfg, "timezone: Europe/Berlin\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "--db", db3, "scan", "--rules",
                                      rules, log, NULL), 0);
    free(out);
    free(err);
    expect_kb_time(db3);
    /* rules test prints the time it read */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "test", "--rules", rules, "--timezone",
                                      "+02:00", log, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":0: warning agent.create-directory "
                                       "time=2025-05-16T09:51:05.000Z~: Cannot create directory"));
    free(out);
    free(err);
    /* an unknown zone is a usage error, wherever it comes from */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db1, "scan", "--rules", rules,
                                      "--timezone", "Mars/Olympus", log, NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: scan: invalid --timezone: unknown time zone "
                                "'Mars/Olympus': expected an IANA name (Europe/Berlin) or an "
                                "offset (+01:00, UTC) (see 'agentwatch scan --help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db1, "follow", "--rules", rules,
                                      "--timezone", "+25:00", log, NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "follow: invalid --timezone: unknown time zone '+25:00'"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "check", "--timezone", "UTC", NULL), 2);
    free(out);
    free(err);
    tu_write_str(cfg, "timezone: Mars/Olympus\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "--db", db3, "scan", "--rules",
                                      rules, log, NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "kb.yaml:1:11: key 'timezone': unknown time zone "
                                       "'Mars/Olympus'"));
    free(out);
    free(err);
    free(rules);
    free(log);
    free(db1);
    free(db2);
    free(db3);
    free(cfg);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("cli", tu_suite_setup, tu_suite_teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "version and help", test_version_and_help);
    CU_add_test(s, "usage errors", test_usage_errors);
    CU_add_test(s, "exact option names", test_exact_option_names);
    CU_add_test(s, "help needs no valid configuration", test_help_needs_no_valid_config);
    CU_add_test(s, "scan and report end to end", test_scan_report_end_to_end);
    CU_add_test(s, "failures are one line", test_failures_are_one_line);
    CU_add_test(s, "rules check and list", test_rules_check);
    CU_add_test(s, "shipped samples", test_samples);
    CU_add_test(s, "hostile input files", test_hostile_input_files);
    CU_add_test(s, "scan lines, plurals and stored paths", test_scan_lines_and_paths);
    CU_add_test(s, "report fits the terminal", test_report_terminal_width);
    CU_add_test(s, "report --by windows", test_report_by_windows);
    CU_add_test(s, "report --incidents and more_incidents", test_report_incidents_limit);
    CU_add_test(s, "report and export window options", test_window_options);
    CU_add_test(s, "--timezone, $TZ and the timezone key", test_timezone);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
