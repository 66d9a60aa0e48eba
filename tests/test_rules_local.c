/*
 * Tests for the local rules layer (issue 15): aw_rules_load_layers() on
 * real files (replacement in place, appended rules in file-name order,
 * `disable:`, every problem as its exact FILE:LINE:COLUMN), and the
 * command line (--local-rules, the local_rules key, `rules list`'s origin,
 * `rules check`/`rules test` over both layers, scan classifying with a
 * local rule, exit 2 for a named layer that is not there).
 */
#include "testutil.h"

#include "agentwatch/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char shipped_text[] =
    "version: 1\n"
    "rules:\n"
    "  - id: a.first\n"
    "    category: ssl\n"
    "    severity: error\n"
    "    pattern: 'alpha'\n"
    "  - id: b.second\n"
    "    category: connection\n"
    "    severity: warning\n"
    "    pattern: 'beta'\n"
    "  - id: c.third\n"
    "    category: health\n"
    "    severity: info\n"
    "    pattern: 'gamma'\n";

struct fx {
    char *dir, *shipped, *local;
    struct aw_ruleset *rs;
    struct aw_diags diags;
    struct aw_err err;
};


/* A local file that disables c.third, overrides a.first and adds s.site
 * with the match examples MATCH. */
#define SITE_YAML(MATCH)                                               \
    "disable: [c.third]\n"                                             \
    "rules:\n"                                                         \
    "  - id: a.first\n"                                                \
    "    category: ssl\n"                                              \
    "    severity: critical\n"                                         \
    "    pattern: 'alpha local'\n"                                     \
    "  - id: s.site\n"                                                 \
    "    category: connection\n"                                       \
    "    severity: error\n"                                            \
    "    pattern: 'site'\n"                                            \
    "    examples:\n"                                                  \
    "      match: [" MATCH "]\n"

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->dir = tu_mkdtemp();
    f->shipped = tu_path(f->dir, "shipped.yaml");
    f->local = tu_path(f->dir, "rules.d");
    tu_write_str(f->shipped, shipped_text);
    CU_ASSERT_EQUAL(mkdir(f->local, 0700), 0);
}

static void fx_fini(struct fx *f)
{
    aw_rules_free(&f->rs);
    aw_diags_free(&f->diags);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->shipped);
    free(f->local);
}

static void fx_local(struct fx *f, const char *name, const char *text)
{
    char *p = tu_path(f->local, name);

    tu_write_str(p, text);
    free(p);
}

static int fx_load(struct fx *f, const char *local, unsigned flags)
{
    aw_rules_free(&f->rs);
    aw_diags_free(&f->diags);
    aw_err_clear(&f->err);
    return aw_rules_load_layers(f->shipped, local, flags, &f->rs, &f->diags, &f->err);
}

/* The diagnostic i is "<local>/NAME:L:C: msg". */
static void expect_diag(const struct fx *f, size_t i, const char *name_pos_msg)
{
    char want[1024];

    snprintf(want, sizeof(want), "%s/%s", f->local, name_pos_msg);
    CU_ASSERT_FATAL(i < f->diags.count);
    CU_ASSERT_STRING_EQUAL(f->diags.items[i], want);
}

static void test_replace_in_place_and_append(void)
{
    struct fx f;
    const struct aw_rule_info *r;

    fx_init(&f);
    /* 20-b sorts after 10-a: its rule comes last */
    fx_local(&f, "20-b.yaml",
             "rules:\n"
             "  - id: z.site-two\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'zeta'\n");
    fx_local(&f, "10-a.yml",
             "version: 1\n"
             "rules:\n"
             "  - id: b.second\n"
             "    category: connection\n"
             "    severity: critical\n"
             "    pattern: 'beta local'\n"
             "  - id: y.site-one\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'ypsilon'\n");
    fx_local(&f, "README", "not a rule file: ignored\n");
    CU_ASSERT_EQUAL_FATAL(fx_load(&f, f.local, 0), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_rules_count(f.rs), 5);
    CU_ASSERT_STRING_EQUAL(aw_rules_get(f.rs, 0)->id, "a.first");
    CU_ASSERT_FALSE(aw_rules_get(f.rs, 0)->local);
    r = aw_rules_get(f.rs, 1);
    CU_ASSERT_STRING_EQUAL(r->id, "b.second");
    CU_ASSERT_STRING_EQUAL(r->pattern, "beta local");
    CU_ASSERT_EQUAL(r->severity, AW_RULE_CRITICAL);
    CU_ASSERT_TRUE(r->local);
    CU_ASSERT_TRUE(r->replaces);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->file, "rules.d/10-a.yml"));
    CU_ASSERT_EQUAL(r->line, 3);
    CU_ASSERT_EQUAL(r->column, 5);
    CU_ASSERT_STRING_EQUAL(aw_rules_get(f.rs, 2)->id, "c.third");
    r = aw_rules_get(f.rs, 3);
    CU_ASSERT_STRING_EQUAL(r->id, "y.site-one");
    CU_ASSERT_TRUE(r->local);
    CU_ASSERT_FALSE(r->replaces);
    CU_ASSERT_STRING_EQUAL(aw_rules_get(f.rs, 4)->id, "z.site-two");
    fx_fini(&f);
}

/* The replacement is what classifies: the shipped pattern is gone. */
static void test_replacement_classifies(void)
{
    struct fx f;
    struct aw_matcher *m = NULL;
    struct aw_err err = { 0 };

    fx_init(&f);
    fx_local(&f, "site.yaml",
             "rules:\n"
             "  - id: a.first\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'omega'\n");
    CU_ASSERT_EQUAL_FATAL(fx_load(&f, f.local, 0), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(f.rs, &m, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "alpha", 5), -1);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "omega", 5), 0);
    aw_matcher_free(&m);
    fx_fini(&f);
}

static void test_disable(void)
{
    struct fx f;

    fx_init(&f);
    fx_local(&f, "off.yaml", "disable: [a.first, c.third]\n");
    CU_ASSERT_EQUAL_FATAL(fx_load(&f, f.local, 0), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_rules_count(f.rs), 1);
    CU_ASSERT_STRING_EQUAL(aw_rules_get(f.rs, 0)->id, "b.second");
    CU_ASSERT_EQUAL(aw_rules_find(f.rs, "a.first"), -1);
    /* disabling every rule leaves an empty set, which is an error */
    fx_local(&f, "off.yaml", "disable:\n  - a.first\n  - b.second\n  - c.third\n");
    CU_ASSERT_EQUAL(fx_load(&f, f.local, 0), AW_ESYNTAX);
    CU_ASSERT_EQUAL(f.diags.count, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(f.diags.items[0], "empty rule set"));
    fx_fini(&f);
}

static void test_disable_problems(void)
{
    struct fx f;
    char want[1024];

    fx_init(&f);
    /* unknown ids, and a local rule's id (disable is for shipped rules) */
    fx_local(&f, "off.yaml",
             "disable: [a.first, no.such-rule, y.mine]\n"
             "rules:\n"
             "  - id: y.mine\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'ypsilon'\n"
             "  - id: y.other\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'x'\n"
             "disable: [b.second]\n");
    CU_ASSERT_EQUAL(fx_load(&f, f.local, 0), AW_ESYNTAX);
    CU_ASSERT_EQUAL_FATAL(f.diags.count, 3);
    expect_diag(&f, 0, "off.yaml:1:20: disable: unknown rule id 'no.such-rule': no shipped rule has it");
    expect_diag(&f, 1, "off.yaml:1:34: disable: unknown rule id 'y.mine': no shipped rule has it");
    CU_ASSERT_PTR_NOT_NULL(strstr(f.diags.items[2], "off.yaml:11:1: duplicate key 'disable'"));
    /* a non-string entry */
    fx_local(&f, "off.yaml", "disable:\n  - [a.first]\n");
    CU_ASSERT_EQUAL(fx_load(&f, f.local, 0), AW_ESYNTAX);
    CU_ASSERT_EQUAL_FATAL(f.diags.count, 1);
    expect_diag(&f, 0, "off.yaml:2:5: disable: a rule id must be a string, not a sequence");
    /* disable in the shipped rules is a problem there */
    tu_write_str(f.shipped, "disable: [a.first]\nrules: []\n");
    fx_local(&f, "off.yaml", "rules: []\n");
    CU_ASSERT_EQUAL(fx_load(&f, NULL, 0), AW_ESYNTAX);
    CU_ASSERT_FATAL(f.diags.count >= 1);
    snprintf(want, sizeof(want),
             "%s:1:1: 'disable' belongs in a local rules file (--local-rules), not in the shipped rules",
             f.shipped);
    CU_ASSERT_STRING_EQUAL(f.diags.items[0], want);
    fx_fini(&f);
}

static void test_local_problems_positioned(void)
{
    struct fx f;

    fx_init(&f);
    fx_local(&f, "10-a.yaml",
             "rules:\n"
             "  - id: y.one\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'ok'\n"
             "  - id: b.second\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'ok'\n");
    fx_local(&f, "20-b.yaml",
             "rules:\n"
             "  - id: y.one\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'a(b'\n"
             "  - id: b.second\n"
             "    category: ssl\n"
             "    severity: error\n"
             "    pattern: 'again'\n"
             "  - id: y.two\n"
             "    category: ssl\n"
             "    severity: loud\n"
             "    pattern: 'x'\n");
    fx_local(&f, "30-c.yaml", "version: 1\n");
    CU_ASSERT_EQUAL(fx_load(&f, f.local, 0), AW_ESYNTAX);
    CU_ASSERT_EQUAL_FATAL(f.diags.count, 5);
    {
        char want[1024];
        snprintf(want, sizeof(want), "20-b.yaml:2:9: duplicate rule id 'y.one' (first defined at %s/10-a.yaml:2:9)",
                 f.local);
        expect_diag(&f, 0, want);
        /* a second local replacement of one shipped id is a duplicate of
         * the first replacement */
        snprintf(want, sizeof(want),
                 "20-b.yaml:6:9: duplicate rule id 'b.second' (first defined at %s/10-a.yaml:6:9)", f.local);
        expect_diag(&f, 2, want);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(f.diags.items[1], "/rules.d/20-b.yaml:5:18: rule 'y.one': invalid pattern"));
    expect_diag(&f, 3, "20-b.yaml:12:15: invalid severity 'loud': expected info, warning, error or critical");
    expect_diag(&f, 4, "30-c.yaml:1:1: missing required key 'rules' or 'disable'");
    fx_fini(&f);
}

static void test_missing_and_empty(void)
{
    struct fx f;
    char *missing;

    fx_init(&f);
    missing = tu_path(f.dir, "no-such-dir");
    /* the default folder may be missing */
    CU_ASSERT_EQUAL(fx_load(&f, missing, AW_RULES_LOAD_LOCAL_OPTIONAL), AW_OK);
    CU_ASSERT_EQUAL(aw_rules_count(f.rs), 3);
    /* a named one may not */
    CU_ASSERT_EQUAL(fx_load(&f, missing, 0), AW_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(f.err.msg, "no-such-dir"));
    /* an empty folder (what the packages install) is an empty layer */
    CU_ASSERT_EQUAL(fx_load(&f, f.local, 0), AW_OK);
    CU_ASSERT_EQUAL(aw_rules_count(f.rs), 3);
    CU_ASSERT_FALSE(aw_rules_get(f.rs, 2)->local);
    free(missing);
    fx_fini(&f);
}

/* --------------------------------------------------------------- cli */

static void test_cli_list_check_test(void)
{
    struct fx f;
    char *out = NULL, *err = NULL, *missing = tu_path(tu_dir(), "missing.d");
    char want[1024];

    fx_init(&f);
    fx_local(&f, "site.yaml", SITE_YAML("'a site record'"));
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "list", "--rules", f.shipped, "--local-rules", f.local,
                                      "--format", "tsv", NULL), 0);
    snprintf(want, sizeof(want),
             "a.first\tssl\tcritical\talpha local\treplaced\t%s/site.yaml:3:5\n"
             "b.second\tconnection\twarning\tbeta\tshipped\t%s:7:5\n"
             "s.site\tconnection\terror\tsite\tlocal\t%s/site.yaml:7:5\n", f.local, f.shipped, f.local);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "list", "--rules", f.shipped, "--local-rules", f.local,
                                      NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ORIGIN"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "replaced alpha local\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "shipped  beta\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "local    site\n"));
    free(out);
    free(err);
    /* rules test runs the local examples, placed in the local file */
    fx_local(&f, "site.yaml", SITE_YAML("'a site record', 'no such thing'"));
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "test", "--rules", f.shipped, "--local-rules", f.local,
                                      NULL), 1);
    snprintf(want, sizeof(want), "%s/site.yaml:12:32: ", f.local);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "(2 local from "));
    free(out);
    free(err);
    /* rules check: a local problem fails it with its position */
    fx_local(&f, "zz.yaml", "disable: [gone]\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "check", "--rules", f.shipped, "--local-rules", f.local,
                                      NULL), 1);
    snprintf(want, sizeof(want), "%s/zz.yaml:1:11: disable: unknown rule id 'gone'", f.local);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    free(out);
    free(err);
    /* a named local path that is not there: usage error, exit 2 */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "rules", "check", "--rules", f.shipped, "--local-rules", missing,
                                      NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing.d"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "scan", "--rules", f.shipped, "--local-rules", missing,
                                      f.shipped, NULL), 2);
    free(out);
    free(err);
    free(missing);
    fx_fini(&f);
}

/* The configuration's local_rules is the layer when no option names one;
 * scan classifies with it. */
static void test_cli_config_and_scan(void)
{
    struct fx f;
    char *cfg = NULL, *log = NULL, *db = NULL, *out = NULL, *err = NULL, *text = NULL, *empty = NULL;

    fx_init(&f);
    cfg = tu_path(f.dir, "agentwatch.yaml");
    log = tu_path(f.dir, "agent.log");
    db = tu_path(f.dir, "aw.db");
    empty = tu_path(f.dir, "empty.d");
    CU_ASSERT_EQUAL(mkdir(empty, 0700), 0);
    fx_local(&f, "site.yaml",
             "rules:\n"
             "  - id: b.second\n"
             "    category: connection\n"
             "    severity: critical\n"
             "    pattern: 'delta'\n");
    text = malloc(strlen(f.local) + 64);
    CU_ASSERT_FATAL(text != NULL);
    sprintf(text, "local_rules: %s\n", f.local);
    tu_write_str(cfg, text);
    tu_write_str(log, "2024-01-02 03:04:05 ERROR delta happened\n2024-01-02 03:04:06 ERROR beta happened\n");
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "--db", db, "scan", "--quiet", "--rules",
                                      f.shipped, log, NULL), 0);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings WHERE rule = 'b.second'"), 1);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings WHERE message LIKE '%delta%'"), 1);
    free(out);
    free(err);
    /* the option wins over the key */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "rules", "list", "--rules", f.shipped,
                                      "--local-rules", empty, "--format", "tsv", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\tbeta\tshipped\t"));
    CU_ASSERT_PTR_NULL(strstr(out, "delta"));
    free(out);
    free(err);
    /* a configured folder that is not there is exit 2 too */
    sprintf(text, "local_rules: %s/nope\n", f.local);
    tu_write_str(cfg, text);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--config", cfg, "rules", "list", "--rules", f.shipped, NULL),
                    2);
    free(out);
    free(err);
    free(empty);
    free(text);
    free(cfg);
    free(log);
    free(db);
    fx_fini(&f);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("rules_local", tu_suite_setup, tu_suite_teardown);
    static const struct tu_test tests[] = {
        { "replace in place, append in file order", test_replace_in_place_and_append },
        { "replacement classifies", test_replacement_classifies },
        { "disable", test_disable },
        { "disable problems", test_disable_problems },
        { "local problems positioned", test_local_problems_positioned },
        { "missing and empty layer", test_missing_and_empty },
        { "cli: list, check, test", test_cli_list_check_test },
        { "cli: local_rules key, scan", test_cli_config_and_scan },
    };

    return tu_add_tests(s, tests, sizeof(tests) / sizeof(tests[0]));
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
