/*
 * The configuration file: aw_config_load() on real files with exact
 * diagnostics, and the command line honouring it as a black box (--config,
 * the precedence of --db/$AGENTWATCH_DB/config/default, follow's sources).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentwatch/config.h"
#include "agentwatch/retention.h"
#include "agentwatch/timeutil.h"
#include "testutil.h"


/* Write text to dir/name and load it; returns the status.  The path is
 * returned in *path (caller frees). */
static int load_text(const char *name, const char *text, struct aw_config *cfg,
                     struct aw_diags *diags, char **path)
{
    struct aw_err err = { 0 };

    *path = tu_path(tu_dir(), name);
    tu_write_str(*path, text);
    return aw_config_load(*path, true, cfg, diags, &err);
}

/* Expect exactly these diagnostics (each prefixed with path), in order. */
static void diags_are(const struct aw_diags *d, const char *path, const char *const *want,
                      size_t n)
{
    CU_ASSERT_EQUAL(d->count, n);
    for (size_t i = 0; i < n && i < d->count; i++) {
        char line[1024];
        snprintf(line, sizeof(line), "%s:%s", path, want[i]);
        CU_ASSERT_STRING_EQUAL(d->items[i], line);
        if (strcmp(d->items[i], line) != 0) {
            fprintf(stderr, "\n got: %s\nwant: %s\n", d->items[i], line);
        }
    }
    for (size_t i = n; i < d->count; i++) {
        fprintf(stderr, "\nextra: %s\n", d->items[i]);
    }
}

static void test_missing_file(void)
{
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    char *path = tu_path(tu_dir(), "nope.yaml");

    CU_ASSERT_EQUAL(aw_config_load(path, false, &cfg, &diags, &err), AW_OK);
    CU_ASSERT_PTR_NULL(cfg.file);
    CU_ASSERT_PTR_NULL(cfg.database);
    CU_ASSERT_EQUAL(cfg.nsources, 0);
    CU_ASSERT_EQUAL(cfg.retention_days, AW_RETENTION_DAYS_DEFAULT);
    CU_ASSERT_EQUAL(diags.count, 0);
    aw_config_free(&cfg);

    CU_ASSERT_EQUAL(aw_config_load(path, true, &cfg, &diags, &err), AW_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nope.yaml: cannot open the configuration: "
                                           "No such file or directory"));
    aw_config_free(&cfg);
    aw_config_free(&cfg);      /* twice is harmless */
    aw_config_free(NULL);

    /* A folder is not a configuration, even when it may be missing. */
    CU_ASSERT_EQUAL(aw_config_load(tu_dir(), false, &cfg, &diags, &err), AW_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the configuration is not a regular file"));
    aw_config_free(&cfg);
    free(path);
}

static void test_full(void)
{
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    char *path;

    CU_ASSERT_EQUAL(load_text("full.yaml",
                              "# every key\n"
                              "database: /var/lib/agentwatch/x.db\n"
                              "rules: '/etc/agentwatch/rules'\n"
                              "sources:\n"
                              "  - /logs/agent.log\n"
                              "  - path: /logs/ccm\n"
                              "    format: cmtrace\n"
                              "  - { path: \"/logs/plain.log\", format: line }\n"
                              "host: WKS-0042\n"
                              "retention_days: 0\n"
                              "follow:\n"
                              "  commit_ms: 100\n"
                              "  rescan_seconds: 86400\n"
                              "  poll_interval_ms: 50\n"
                              "  probe_interval_seconds: 900\n",
                              &cfg, &diags, &path), AW_OK);
    CU_ASSERT_EQUAL(diags.count, 0);
    CU_ASSERT_STRING_EQUAL(cfg.file, path);
    CU_ASSERT_STRING_EQUAL(cfg.database, "/var/lib/agentwatch/x.db");
    CU_ASSERT_STRING_EQUAL(cfg.rules, "/etc/agentwatch/rules");
    CU_ASSERT_STRING_EQUAL(cfg.host, "WKS-0042");
    CU_ASSERT_EQUAL(cfg.retention_days, 0);
    CU_ASSERT_EQUAL(cfg.commit_ms, 100);
    CU_ASSERT_EQUAL(cfg.rescan_seconds, 86400);
    CU_ASSERT_EQUAL(cfg.poll_interval_ms, 50);
    CU_ASSERT_EQUAL(cfg.probe_interval_s, 900);
    CU_ASSERT_EQUAL_FATAL(cfg.nsources, 3);
    CU_ASSERT_STRING_EQUAL(cfg.sources[0].path, "/logs/agent.log");
    CU_ASSERT_EQUAL(cfg.sources[0].format, AW_FORMAT_AUTO);
    CU_ASSERT_EQUAL(cfg.sources[0].line, 5);
    CU_ASSERT_EQUAL(cfg.sources[0].column, 5);
    CU_ASSERT_STRING_EQUAL(cfg.sources[1].path, "/logs/ccm");
    CU_ASSERT_EQUAL(cfg.sources[1].format, AW_FORMAT_CMTRACE);
    CU_ASSERT_STRING_EQUAL(cfg.sources[2].path, "/logs/plain.log");
    CU_ASSERT_EQUAL(cfg.sources[2].format, AW_FORMAT_LINE);
    CU_ASSERT_PTR_EQUAL(cfg.source_paths[1], cfg.sources[1].path);
    CU_ASSERT_PTR_NULL(cfg.source_paths[3]);
    aw_config_free(&cfg);
    CU_ASSERT_PTR_NULL(cfg.sources);
    free(path);
}

/* Empty files and empty values are the defaults, never errors. */
static void test_empty_values(void)
{
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    char *path;

    CU_ASSERT_EQUAL(load_text("empty.yaml", "", &cfg, &diags, &path), AW_OK);
    CU_ASSERT_STRING_EQUAL(cfg.file, path);
    CU_ASSERT_EQUAL(cfg.retention_days, 90);
    CU_ASSERT_EQUAL(cfg.probe_interval_s, 600);   /* on by default (issue 12) */
    aw_config_free(&cfg);
    free(path);
    CU_ASSERT_EQUAL(load_text("probe-off.yaml", "follow:\n  probe_interval_seconds: 0\n", &cfg,
                              &diags, &path), AW_OK);
    CU_ASSERT_EQUAL(diags.count, 0);
    CU_ASSERT_EQUAL(cfg.probe_interval_s, 0);
    aw_config_free(&cfg);
    free(path);
    CU_ASSERT_EQUAL(load_text("comments.yaml", "# nothing\n---\n", &cfg, &diags, &path), AW_OK);
    aw_config_free(&cfg);
    free(path);
    CU_ASSERT_EQUAL(load_text("nulls.yaml",
                              "database:\nrules: ~\nsources:\nhost: null\nretention_days:\n"
                              "follow:\n#  commit_ms: 5\n",
                              &cfg, &diags, &path), AW_OK);
    CU_ASSERT_EQUAL(diags.count, 0);
    CU_ASSERT_PTR_NULL(cfg.database);
    CU_ASSERT_PTR_NULL(cfg.rules);
    CU_ASSERT_PTR_NULL(cfg.host);
    CU_ASSERT_EQUAL(cfg.nsources, 0);
    CU_ASSERT_EQUAL(cfg.retention_days, 90);
    CU_ASSERT_EQUAL(cfg.commit_ms, 0);
    CU_ASSERT_EQUAL(cfg.probe_interval_s, 600);
    aw_config_free(&cfg);
    free(path);
}

/* The shipped example must load as it is. */
static void test_shipped_example(void)
{
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    char *path = tu_src_path("packaging/agentwatch.yaml");

    CU_ASSERT_EQUAL(aw_config_load(path, true, &cfg, &diags, &err), AW_OK);
    CU_ASSERT_EQUAL(diags.count, 0);
    CU_ASSERT_EQUAL(cfg.retention_days, 90);
    CU_ASSERT_EQUAL(cfg.commit_ms, 250);
    CU_ASSERT_EQUAL(cfg.rescan_seconds, 30);
    CU_ASSERT_EQUAL(cfg.poll_interval_ms, 0);
    aw_config_free(&cfg);
    aw_diags_free(&diags);
    free(path);
}

/* Every kind of problem, all reported in one run, sorted by position. */
static void test_every_problem(void)
{
    static const char *const want[] = {
        "1:1: unknown key 'databse' (expected database, rules, local_rules, sources, host, retention_days, "
        "follow, spool, timezone, local_time or servers)",
        "2:8: key 'rules' must be an absolute path, not 'rules/'",
        "4:5: source #2 must be a path or a mapping, not a sequence",
        "5:5: duplicate source '/logs/a.log' (first defined at %s:3:11)",
        "6:5: source #4 has no 'path'",
        "6:15: key 'format' must be auto, itms, cmtrace or line, not 'xml'",
        "7:22: unknown key 'colour' in source #5 (expected path or format)",
        "8:17: duplicate key 'path' (first defined at %s:8:7)",
        "9:7: key 'host' must be a string, not a mapping",
        "10:17: key 'retention_days' must be an integer from 0 to 36500, not '36501'",
        "11:1: duplicate key 'host' (first defined at %s:9:1)",
        "13:14: key 'commit_ms' must be an integer, not a quoted string",
        "14:19: key 'rescan_seconds' must be an integer from 1 to 86400, not '-5'",
        "15:21: key 'poll_interval_ms' must be an integer from 50 to 3600000, not '1.5'",
        "16:3: unknown key 'batch' in follow (expected commit_ms, rescan_seconds, "
        "poll_interval_ms or probe_interval_seconds)",
        "17:11: key 'database' must be an absolute path, not 'db.sqlite'",
    };
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    char *path;
    char want_buf[16][512];
    const char *wants[16];

    /* Line numbers in want[] refer to this file. */
    CU_ASSERT_EQUAL(load_text("bad.yaml",
                              "databse: /x.db\n"
                              "rules: rules/\n"
                              "sources: [/logs/a.log,\n"
                              "    [nested],\n"
                              "    /logs/a.log,\n"
                              "    { format: xml },\n"
                              "    { path: /logs/b, colour: red },\n"
                              "    { path: /c, path: /d }]\n"
                              "host: { name: x }\n"
                              "retention_days: 36501\n"
                              "host: again\n"
                              "follow:\n"
                              "  commit_ms: '250'\n"
                              "  rescan_seconds: -5\n"
                              "  poll_interval_ms: 1.5\n"
                              "  batch: 10\n"
                              "database: db.sqlite\n",
                              &cfg, &diags, &path), AW_ESYNTAX);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        snprintf(want_buf[i], sizeof(want_buf[i]), want[i], path);
        wants[i] = want_buf[i];
    }
    diags_are(&diags, path, wants, sizeof(want) / sizeof(want[0]));
    /* Nothing of an invalid file is used. */
    CU_ASSERT_PTR_NULL(cfg.database);
    CU_ASSERT_EQUAL(cfg.nsources, 0);
    CU_ASSERT_EQUAL(cfg.retention_days, 90);
    CU_ASSERT_STRING_EQUAL(cfg.file, path);
    aw_config_free(&cfg);
    aw_diags_free(&diags);
    free(path);
}

/* servers: (probe's targets besides the stored ones): each checked as a
 * TARGET, with its position; duplicates by host and port. */
static void test_servers(void)
{
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    char *path;
    char dup[256];

    CU_ASSERT_EQUAL(load_text("servers.yaml",
                              "servers:\n"
                              "  - https://mgmt.corp.example/agent\n"
                              "  - 127.0.0.1:8443\n"
                              "  - '[::1]:9443'\n",
                              &cfg, &diags, &path), AW_OK);
    CU_ASSERT_EQUAL(diags.count, 0);
    CU_ASSERT_EQUAL_FATAL(cfg.nservers, 3);
    CU_ASSERT_STRING_EQUAL(cfg.servers[0], "https://mgmt.corp.example/agent");
    CU_ASSERT_STRING_EQUAL(cfg.servers[1], "127.0.0.1:8443");
    CU_ASSERT_STRING_EQUAL(cfg.servers[2], "[::1]:9443");
    CU_ASSERT_PTR_NULL(cfg.servers[3]);
    aw_config_free(&cfg);
    CU_ASSERT_PTR_NULL(cfg.servers);
    CU_ASSERT_EQUAL(cfg.nservers, 0);
    free(path);

    CU_ASSERT_EQUAL(load_text("servers-bad.yaml",
                              "servers:\n"
                              "  - ftp://mgmt.corp.example\n"
                              "  - mgmt.corp.example:99999\n"
                              "  - { host: x }\n"
                              "  - https://mgmt.corp.example:443/\n"
                              "  - mgmt.corp.example\n",
                              &cfg, &diags, &path), AW_ESYNTAX);
    CU_ASSERT_EQUAL(diags.count, 4);
    CU_ASSERT_EQUAL(cfg.nservers, 0);
    if (diags.count == 4) {
        CU_ASSERT_PTR_NOT_NULL(strstr(diags.items[0], "servers-bad.yaml:2:5: server #1: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(diags.items[0], "ftp://mgmt.corp.example"));
        CU_ASSERT_PTR_NOT_NULL(strstr(diags.items[1], "servers-bad.yaml:3:5: server #2: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(diags.items[2], "servers-bad.yaml:4:5: key 'servers' "
                                                      "must be a string, not a mapping"));
        snprintf(dup, sizeof(dup), "%s:6:5: duplicate server 'mgmt.corp.example' "
                 "(mgmt.corp.example:443)", path);
        CU_ASSERT_STRING_EQUAL(diags.items[3], dup);
    }
    aw_config_free(&cfg);
    aw_diags_free(&diags);
    free(path);

    CU_ASSERT_EQUAL(load_text("servers-map.yaml", "servers: mgmt.corp.example\n",
                              &cfg, &diags, &path), AW_ESYNTAX);
    CU_ASSERT_EQUAL_FATAL(diags.count, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(diags.items[0], ":1:10: key 'servers' must be a sequence, "
                                                  "not a string"));
    aw_config_free(&cfg);
    aw_diags_free(&diags);
    free(path);
}

static void test_yaml_problems(void)
{
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    char *path;

    CU_ASSERT_EQUAL(load_text("syntax.yaml", "database: /x\nsources:\n  - /a\n - /b\n", &cfg,
                              &diags, &path), AW_ESYNTAX);
    {
        const char *want[] = { "4:2: YAML syntax error: did not find expected key (while "
                               "parsing a block mapping started at line 1, column 1)" };
        diags_are(&diags, path, want, 1);
    }
    aw_diags_free(&diags);
    aw_config_free(&cfg);
    free(path);

    CU_ASSERT_EQUAL(load_text("seq.yaml", "- database\n", &cfg, &diags, &path), AW_ESYNTAX);
    {
        const char *want[] = { "1:1: the configuration must be a mapping, not a sequence" };
        diags_are(&diags, path, want, 1);
    }
    aw_diags_free(&diags);
    aw_config_free(&cfg);
    free(path);

    CU_ASSERT_EQUAL(load_text("alias.yaml",
                              "database: &db /x.db\nrules: *db\nhost: !!str x\n? [k]\n: v\n",
                              &cfg, &diags, &path), AW_ESYNTAX);
    {
        const char *want[] = { "1:11: YAML anchors are not supported (anchor '&db')",
                               "2:8: YAML aliases are not supported (alias '*db')",
                               "3:7: YAML tags are not supported (tag 'tag:yaml.org,2002:str')",
                               "4:3: mapping keys must be strings, not a sequence" };
        diags_are(&diags, path, want, 4);
    }
    aw_diags_free(&diags);
    aw_config_free(&cfg);
    free(path);

    CU_ASSERT_EQUAL(load_text("docs.yaml", "host: a\n---\nhost: b\n", &cfg, &diags, &path),
                    AW_ESYNTAX);
    {
        const char *want[] = { "2:1: multiple YAML documents in one file are not supported" };
        diags_are(&diags, path, want, 1);
    }
    aw_diags_free(&diags);
    aw_config_free(&cfg);
    free(path);

    CU_ASSERT_EQUAL(load_text("host.yaml", "host: \"a\\tb\"\n", &cfg, &diags, &path),
                    AW_ESYNTAX);
    {
        const char *want[] = { "1:7: key 'host' must not contain control characters" };
        diags_are(&diags, path, want, 1);
    }
    aw_diags_free(&diags);
    aw_config_free(&cfg);
    free(path);
}

/* ---- the command line ---------------------------------------------- */

static const char rules_yaml[] =
    "version: 1\n"
    "rules:\n"
    "  - id: trust\n"
    "    category: ssl\n"
    "    severity: error\n"
    "    pattern: '(?i)could not establish trust'\n";

#define TRUST "2025-03-11T07:01:00Z Could not establish trust relationship.\n"

/* A folder with rules, a log and a configuration naming them. */
struct fx {
    char *dir, *rules, *log, *db, *cfg;
};

static void fx_init(struct fx *f, const char *extra)
{
    char text[4096];

    f->dir = tu_mkdtemp();
    f->rules = tu_path(f->dir, "rules.yaml");
    f->log = tu_path(f->dir, "agent.log");
    f->db = tu_path(f->dir, "config.db");
    f->cfg = tu_path(f->dir, "agentwatch.yaml");
    tu_write_str(f->rules, rules_yaml);
    tu_write_str(f->log, TRUST TRUST);
    snprintf(text, sizeof(text), "database: %s\nrules: %s\nretention_days: 0\n%s", f->db,
             f->rules, extra);
    tu_write_str(f->cfg, text);
}

static void fx_fini(struct fx *f)
{
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->rules);
    free(f->log);
    free(f->db);
    free(f->cfg);
}

static void test_cli_config_errors(void)
{
    char *out = NULL, *err = NULL, *path = tu_path(tu_dir(), "broken.yaml");
    char want[2048];

    tu_write_str(path, "retention_days: soon\nfollow: 5\n");
    snprintf(want, sizeof(want),
             "%s:1:17: key 'retention_days' must be an integer from 0 to 36500, not 'soon'\n"
             "%s:2:9: key 'follow' must be a mapping, not a string\n"
             "agentwatch: %s: 2 problems in the configuration\n", path, path, path);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", path, "rules", "list", NULL), 1);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    free(err);
    /* status speaks the monitoring convention: a broken check is UNKNOWN. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config=" "/nonexistent/agentwatch.yaml",
                                      "status", NULL), 3);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: /nonexistent/agentwatch.yaml: cannot open the "
                                "configuration: No such file or directory\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", path, "status", NULL), 3);
    free(out);
    free(err);
    /* A --config that does not exist is an error, unlike the default. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", "/nonexistent/x.yaml", "rules",
                                      "check", NULL), 1);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: /nonexistent/x.yaml: cannot open the "
                                "configuration: No such file or directory\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: option '--config' needs a value (see 'agentwatch "
                                "--help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config=", "report", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: --config needs a non-empty path (see 'agentwatch "
                                "--help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--help", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  --config PATH  configuration file"));
    free(out);
    free(err);
    free(path);
}

/* --db > $AGENTWATCH_DB > the configuration's database; the same for rules. */
static void test_cli_precedence(void)
{
    struct fx f;
    char *out = NULL, *err = NULL, *other = NULL, *envdb = NULL, *bad_rules = NULL;

    fx_init(&f, "");
    other = tu_path(f.dir, "other.db");
    envdb = tu_path(f.dir, "env.db");
    bad_rules = tu_path(f.dir, "bad-rules.yaml");
    unsetenv("AGENTWATCH_DB");
    unsetenv("AGENTWATCH_RULES");

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "scan", "--quiet", f.log,
                                      NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(tu_sql_int(f.db, "SELECT count(*) FROM findings WHERE rule = 'trust'"), 2);
    free(out);
    free(err);

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "--db", other, "scan",
                                      "--quiet", f.log, NULL), 0);
    CU_ASSERT_EQUAL(tu_sql_int(other, "SELECT count(*) FROM findings"), 2);
    free(out);
    free(err);

    setenv("AGENTWATCH_DB", envdb, 1);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "scan", "--quiet", f.log,
                                      NULL), 0);
    unsetenv("AGENTWATCH_DB");
    CU_ASSERT_EQUAL(tu_sql_int(envdb, "SELECT count(*) FROM findings"), 2);
    /* ...and the configured database was not touched again. */
    CU_ASSERT_EQUAL(tu_sql_int(f.db, "SELECT count(*) FROM findings"), 2);
    free(out);
    free(err);

    /* rules: the configuration's are used, $AGENTWATCH_RULES and --rules win. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "rules", "list", "--format",
                                      "tsv", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "trust"));
    free(out);
    free(err);
    tu_write_str(bad_rules, "version: 1\nrules: 5\n");
    setenv("AGENTWATCH_RULES", bad_rules, 1);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "rules", "check", NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad-rules.yaml"));
    free(out);
    free(err);
    unsetenv("AGENTWATCH_RULES");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "rules", "check", "--rules",
                                      bad_rules, NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad-rules.yaml"));
    free(out);
    free(err);

    free(other);
    free(envdb);
    free(bad_rules);
    fx_fini(&f);
}

static void test_cli_follow_without_sources(void)
{
    struct fx f;
    char *out = NULL, *err = NULL, *cfg2;
    char text[1024];

    fx_init(&f, "");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "follow", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: follow: no PATH given and no sources in the "
                                "configuration (see 'agentwatch follow --help')\n");
    free(out);
    free(err);

    /* Sources of different formats cannot be followed together... */
    cfg2 = tu_path(f.dir, "mixed.yaml");
    snprintf(text, sizeof(text), "database: %s\nsources:\n  - %s\n"
             "  - { path: /nonexistent-aw/x.log, format: line }\n", f.db, f.log);
    tu_write_str(cfg2, text);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg2, "follow", NULL), 1);
    snprintf(text, sizeof(text), "agentwatch: %s:4:13: source format line differs from auto "
             "(%s:3:5); follow reads all sources in one format: give them the same format, "
             "or auto\n", cfg2, cfg2);
    CU_ASSERT_STRING_EQUAL(err, text);
    free(out);
    free(err);
    /* ...unless --format says which one (it then fails on a folder that
     * is not there: proof that the configured sources are followed). */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg2, "follow", "--rules", f.rules,
                                      "--format", "line", NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-aw"));
    free(out);
    free(err);
    free(cfg2);
    fx_fini(&f);
}

/* The service's case: follow with no PATH takes the sources, host and
 * settings of the configuration, and stops cleanly on SIGTERM. */
static void test_cli_follow_sources(void)
{
    struct fx f;
    char extra[1024];
    char *out_path, *err_path;
    pid_t pid;
    int status = 0;
    long long got = -1;
    int64_t deadline;

    fx_init(&f, "");
    snprintf(extra, sizeof(extra),
             "sources:\n  - { path: %s, format: line }\nhost: CFG-HOST\n"
             "follow: { commit_ms: 50, rescan_seconds: 1 }\n", f.log);
    {
        char text[4096];
        snprintf(text, sizeof(text), "database: %s\nrules: %s\nretention_days: 0\n%s", f.db,
                 f.rules, extra);
        tu_write_str(f.cfg, text);
    }
    out_path = tu_path(f.dir, "follow.out");
    err_path = tu_path(f.dir, "follow.err");
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int e = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) {
            _exit(127);
        }
        unsetenv("AGENTWATCH_DB");
        unsetenv("AGENTWATCH_RULES");
        execl(tu_agentwatch_bin(), tu_agentwatch_bin(), "--config", f.cfg, "follow",
              (char *)NULL);
        _exit(127);
    }
    deadline = aw_time_now_ms() + 20000;
    while (aw_time_now_ms() < deadline) {
        char *text = tu_read_file(out_path, NULL);
        bool started = text != NULL && strstr(text, "following 1 path with 1 rules") != NULL;
        free(text);
        if (started && access(f.db, F_OK) == 0) {
            /* the count first: the host of findings committed after it
             * was read would be NULL (sanitizer runs saw that race) */
            got = tu_sql_int(f.db, "SELECT count(*) FROM findings WHERE rule = 'trust'");
            char *host = tu_sql_text(f.db, "SELECT group_concat(DISTINCT host) FROM findings");
            if (got == 2) {
                CU_ASSERT_STRING_EQUAL(host, "CFG-HOST");
                free(host);
                break;
            }
            free(host);
        }
        poll(NULL, 0, 20);
    }
    CU_ASSERT_EQUAL(got, 2);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    {
        char *text = tu_read_file(err_path, NULL);
        CU_ASSERT_STRING_EQUAL(text != NULL ? text : "?", "");
        free(text);
    }
    free(out_path);
    free(err_path);
    fx_fini(&f);
}

/* scan with no PATH reads the configured sources, attributes findings to
 * the configured host unless --host says otherwise, and says what is
 * missing when there are none. */
static void test_cli_scan_sources(void)
{
    struct fx f;
    char *out = NULL, *err = NULL, *cfg2;
    char text[1024];

    fx_init(&f, "");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "scan", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: scan: no PATH given and no sources in the "
                                "configuration (see 'agentwatch scan --help')\n");
    free(out);
    free(err);
    fx_fini(&f);

    fx_init(&f, "");
    snprintf(text, sizeof(text), "database: %s\nrules: %s\nretention_days: 0\n"
             "sources:\n  - { path: %s, format: line }\nhost: CFG-HOST\n", f.db, f.rules, f.log);
    tu_write_str(f.cfg, text);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", f.cfg, "scan", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "agent.log: line utf-8, bytes 0-"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "scanned 1 file: 2 records, 2 new findings\n"));
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
    {
        char *host = tu_sql_text(f.db, "SELECT group_concat(DISTINCT host) FROM findings");
        CU_ASSERT_STRING_EQUAL(host != NULL ? host : "?", "CFG-HOST");
        free(host);
    }
    /* --host overrides the configuration's host; --config may also come
     * after the command, and the last one given counts. */
    tu_write_str(f.log, TRUST TRUST TRUST);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", "/nonexistent-aw/x.yaml", "scan",
                                      "--quiet", "--host", "CLI-HOST", "--config", f.cfg, NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "scan", "--config", NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: scan: option '--config' needs a value "
                                "(see 'agentwatch scan --help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_sql_int(f.db, "SELECT count(*) FROM findings WHERE host = 'CLI-HOST'"), 1);

    /* Sources of different formats need --format, as for follow. */
    cfg2 = tu_path(f.dir, "mixed.yaml");
    snprintf(text, sizeof(text), "database: %s\nsources:\n  - %s\n"
             "  - { path: /nonexistent-aw/x.log, format: line }\n", f.db, f.log);
    tu_write_str(cfg2, text);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg2, "scan", NULL), 1);
    snprintf(text, sizeof(text), "agentwatch: %s:4:13: source format line differs from auto "
             "(%s:3:5); scan reads all sources in one format: give them the same format, "
             "or auto\n", cfg2, cfg2);
    CU_ASSERT_STRING_EQUAL(err, text);
    free(out);
    free(err);
    free(cfg2);
    fx_fini(&f);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("config", tu_suite_setup, tu_suite_teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "missing file", test_missing_file);
    CU_add_test(s, "every key", test_full);
    CU_add_test(s, "empty values are defaults", test_empty_values);
    CU_add_test(s, "the shipped example loads", test_shipped_example);
    CU_add_test(s, "every problem in one run", test_every_problem);
    CU_add_test(s, "YAML problems", test_yaml_problems);
    CU_add_test(s, "servers", test_servers);
    CU_add_test(s, "cli: configuration errors", test_cli_config_errors);
    CU_add_test(s, "cli: precedence", test_cli_precedence);
    CU_add_test(s, "cli: follow without sources", test_cli_follow_without_sources);
    CU_add_test(s, "cli: follow the configured sources", test_cli_follow_sources);
    CU_add_test(s, "cli: scan the configured sources", test_cli_scan_sources);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
