/*
 * Tests for the rules module: loading and validating YAML rule sets (every
 * diagnostic checked as its exact "FILE:LINE:COLUMN: message"), literal
 * extraction for the prefilter, the prefilter's soundness against plain
 * regex matching, match limits, odd bytes in messages, the shipped
 * rules/ directory (code spellings, captures), named captures, lenient
 * loading, the lint, and `agentwatch rules test/check` run as a binary.
 */
#include "testutil.h"

#include "agentwatch/rules.h"
#include "../src/rules_internal.h"
#include "../src/prefilter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* helpers                                                              */

struct fixture {
    char *dir;
    struct aw_ruleset *rs;
    struct aw_diags diags;
    struct aw_err err;
};

static void fx_init(struct fixture *fx)
{
    memset(fx, 0, sizeof(*fx));
    fx->dir = tu_mkdtemp();
}

static void fx_fini(struct fixture *fx)
{
    aw_rules_free(&fx->rs);
    aw_diags_free(&fx->diags);
    tu_rmtree(fx->dir);
    free(fx->dir);
}

/* Write dir/name; returns the path (caller frees). */
static char *fx_write(struct fixture *fx, const char *name, const char *text)
{
    char *path = tu_path(fx->dir, name);

    tu_write_str(path, text);
    return path;
}

/* Load path (relative names are taken inside the fixture dir). */
static int fx_load(struct fixture *fx, const char *path)
{
    aw_rules_free(&fx->rs);
    aw_diags_free(&fx->diags);
    aw_err_clear(&fx->err);
    return aw_rules_load(path, &fx->rs, &fx->diags, &fx->err);
}

/* Write one file and load it. */
static int fx_load_text(struct fixture *fx, const char *name, const char *text)
{
    char *path = fx_write(fx, name, text);
    int rc = fx_load(fx, path);

    free(path);
    return rc;
}

/* Check diags equal the expected messages.  An expectation is written
 * relative to the fixture directory: "r.yaml:L:C: msg" stands for
 * "<dir>/r.yaml:L:C: msg", and '@' inside it for "<dir>/". */
static void expect_diags(const struct fixture *fx, const char *const *want, size_t n)
{
    CU_ASSERT_EQUAL(fx->diags.count, n);
    for (size_t i = 0; i < n && i < fx->diags.count; i++) {
        char buf[4096];
        size_t o = (size_t)snprintf(buf, sizeof(buf), "%s/", fx->dir);
        for (const char *w = want[i]; *w != '\0' && o + 1 < sizeof(buf); w++) {
            if (*w == '@') {
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s/", fx->dir);
            } else {
                buf[o++] = *w;
            }
        }
        buf[o < sizeof(buf) ? o : sizeof(buf) - 1] = '\0';
        if (strcmp(fx->diags.items[i], buf) != 0) {
            fprintf(stderr, "\n  diag %zu:\n    got  %s\n    want %s\n", i, fx->diags.items[i], buf);
        }
        CU_ASSERT_STRING_EQUAL(fx->diags.items[i], buf);
    }
    if (fx->diags.count != n) {
        for (size_t i = 0; i < fx->diags.count; i++) {
            fprintf(stderr, "\n  got diag: %s", fx->diags.items[i]);
        }
    }
}

#define EXPECT_DIAGS(fx, ...)                                          \
    do {                                                               \
        static const char *const want_[] = { __VA_ARGS__ };            \
        expect_diags((fx), want_, sizeof(want_) / sizeof(want_[0]));   \
    } while (0)

/* A test on a fresh fixture, fx in its body: fx_init() before it,
 * fx_fini() after it. */
#define FX_TEST(name)                                                  \
    static void name##_body(struct fixture *fx);                      \
    static void name(void)                                             \
    {                                                                  \
        struct fixture fx_;                                            \
                                                                       \
        fx_init(&fx_);                                                 \
        name##_body(&fx_);                                             \
        fx_fini(&fx_);                                                 \
    }                                                                  \
    static void name##_body(struct fixture *fx)

/* Loading text as the file name fails with the diagnostics that follow
 * (as EXPECT_DIAGS). */
#define EXPECT_LOAD_ERROR(fx, name, text, ...)                         \
    do {                                                               \
        CU_ASSERT_EQUAL(fx_load_text((fx), (name), (text)), AW_ESYNTAX); \
        EXPECT_DIAGS((fx), __VA_ARGS__);                               \
    } while (0)

/* tests/data/rules/valid.yaml: two rules, the first with examples. */

/* ------------------------------------------------------------------ */
/* loading                                                              */

FX_TEST(test_load_valid)
{
    const struct aw_rule_info *ri;
    char *path;

    path = tu_src_path("tests/data/rules/valid.yaml");
    CU_ASSERT_EQUAL_FATAL(fx_load(fx, path), AW_OK);
    CU_ASSERT_EQUAL(fx->diags.count, 0);
    CU_ASSERT_EQUAL_FATAL(aw_rules_count(fx->rs), 2);

    ri = aw_rules_get(fx->rs, 0);
    CU_ASSERT_STRING_EQUAL(ri->id, "tls.untrusted");
    CU_ASSERT_STRING_EQUAL(ri->category, "ssl");
    CU_ASSERT_EQUAL(ri->severity, AW_RULE_CRITICAL);
    CU_ASSERT_STRING_EQUAL(ri->pattern, "(?i)untrusted root|\\b(?:0x)?800b0109\\b");
    CU_ASSERT_STRING_EQUAL(ri->cause, "The CA is not trusted.");
    CU_ASSERT_STRING_EQUAL(ri->remedy, "");
    CU_ASSERT_STRING_EQUAL(ri->file, path);
    CU_ASSERT_EQUAL(ri->line, 3);
    CU_ASSERT_EQUAL(ri->example_match_count, 2);
    CU_ASSERT_EQUAL(ri->example_no_match_count, 1);
    CU_ASSERT_EQUAL(ri->literal_count, 2);

    ri = aw_rules_get(fx->rs, 1);
    CU_ASSERT_STRING_EQUAL(ri->id, "dns");
    CU_ASSERT_EQUAL(ri->severity, AW_RULE_ERROR);
    CU_ASSERT_STRING_EQUAL(ri->cause, "");
    CU_ASSERT_STRING_EQUAL(ri->remedy, "Fix DNS.");
    CU_ASSERT_EQUAL(ri->line, 15);
    CU_ASSERT_EQUAL(ri->example_match_count, 0);
    CU_ASSERT_EQUAL(ri->literal_count, 1);

    CU_ASSERT_PTR_NULL(aw_rules_get(fx->rs, 2));
    CU_ASSERT_EQUAL(aw_rules_find(fx->rs, "dns"), 1);
    CU_ASSERT_EQUAL(aw_rules_find(fx->rs, "tls.untrusted"), 0);
    CU_ASSERT_EQUAL(aw_rules_find(fx->rs, "nope"), -1);
    free(path);
}

static void test_severity_names(void)
{
    enum aw_rule_severity s = AW_RULE_INFO;

    CU_ASSERT_STRING_EQUAL(aw_rule_severity_name(AW_RULE_INFO), "info");
    CU_ASSERT_STRING_EQUAL(aw_rule_severity_name(AW_RULE_WARNING), "warning");
    CU_ASSERT_STRING_EQUAL(aw_rule_severity_name(AW_RULE_ERROR), "error");
    CU_ASSERT_STRING_EQUAL(aw_rule_severity_name(AW_RULE_CRITICAL), "critical");
    CU_ASSERT_EQUAL(aw_rule_severity_from_name("warning", &s), AW_OK);
    CU_ASSERT_EQUAL(s, AW_RULE_WARNING);
    CU_ASSERT_EQUAL(aw_rule_severity_from_name("Warning", &s), AW_ESYNTAX);
    CU_ASSERT_EQUAL(aw_rule_severity_from_name("fatal", &s), AW_ESYNTAX);
}

static const char *rule_text(const char *id, const char *pattern)
{
    static char buf[4][1024];
    static int k;

    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]),
             "  - id: %s\n    category: test\n    severity: info\n    pattern: '%s'\n", id, pattern);
    return buf[k];
}

FX_TEST(test_directory_order)
{
    char text[2048];
    char *p;

    snprintf(text, sizeof(text), "rules:\n%s", rule_text("b1", "beta"));
    free(fx_write(fx, "b.yaml", text));
    snprintf(text, sizeof(text), "rules:\n%s%s", rule_text("a1", "alpha"), rule_text("a2", "alpha2"));
    free(fx_write(fx, "a.yml", text));
    snprintf(text, sizeof(text), "rules:\n%s", rule_text("n1", "number"));
    free(fx_write(fx, "10-n.yaml", text));
    /* not rule files: wrong suffix, hidden, directory */
    free(fx_write(fx, "c.txt", "not yaml: ["));
    free(fx_write(fx, ".hidden.yaml", "not yaml: ["));
    free(fx_write(fx, "README.md", "# hi\n"));
    p = tu_path(fx->dir, "sub.yaml");
    CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
    free(p);

    CU_ASSERT_EQUAL_FATAL(fx_load(fx, fx->dir), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_rules_count(fx->rs), 4);
    CU_ASSERT_STRING_EQUAL(aw_rules_get(fx->rs, 0)->id, "n1");
    CU_ASSERT_STRING_EQUAL(aw_rules_get(fx->rs, 1)->id, "a1");
    CU_ASSERT_STRING_EQUAL(aw_rules_get(fx->rs, 2)->id, "a2");
    CU_ASSERT_STRING_EQUAL(aw_rules_get(fx->rs, 3)->id, "b1");
    p = tu_path(fx->dir, "a.yml");
    CU_ASSERT_STRING_EQUAL(aw_rules_get(fx->rs, 1)->file, p);
    free(p);
}

FX_TEST(test_first_match_wins)
{
    struct aw_matcher *m = NULL;
    char text[2048];
    const char *msg = "Could not establish trust relationship for the SSL/TLS secure channel";

    snprintf(text, sizeof(text), "rules:\n%s%s", rule_text("generic", "(?i)ssl"),
             rule_text("specific", "(?i)trust relationship"));
    free(fx_write(fx, "20-b.yaml", text));
    snprintf(text, sizeof(text), "rules:\n%s", rule_text("earliest", "secure channel$"));
    free(fx_write(fx, "10-a.yaml", text));
    CU_ASSERT_EQUAL_FATAL(fx_load(fx, fx->dir), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx->rs, &m, &fx->err), AW_OK);
    /* every rule matches; the first in file order wins */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, msg, strlen(msg)), 0);
    CU_ASSERT_TRUE(aw_matcher_rule_matches(m, 1, msg, strlen(msg)));
    CU_ASSERT_TRUE(aw_matcher_rule_matches(m, 2, msg, strlen(msg)));
    /* without the earliest, the next one */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, msg, strlen(msg) - 1), 1);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "trust relationship", 18), 2);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "nothing here", 12), -1);
    aw_matcher_free(&m);
    CU_ASSERT_PTR_NULL(m);
    aw_matcher_free(&m);
}

/* ------------------------------------------------------------------ */
/* diagnostics                                                          */

FX_TEST(test_err_unknown_key)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: x\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    patern: abc\n"
                                 "    pattern: abc\n"),
                    AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(fx->rs);
    EXPECT_DIAGS(fx, "r.yaml:5:5: unknown key 'patern' in rule");
    CU_ASSERT_EQUAL(fx->err.code, AW_ESYNTAX);
    CU_ASSERT_PTR_NOT_NULL(strstr(fx->err.msg, "1 problem"));
}

FX_TEST(test_err_missing_field)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: x\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "  - {category: ssl, severity: info, pattern: abc}\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx, "r.yaml:2:5: rule 'x': missing required key 'pattern'",
                 "r.yaml:5:5: rule #2: missing required key 'id'");
}

FX_TEST(test_err_duplicate_key_exact)
{
    char want[1024];

    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: x\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: abc\n"
                                 "    severity: info\n"),
                    AW_ESYNTAX);
    snprintf(want, sizeof(want), "%s/r.yaml:6:5: duplicate key 'severity' (first defined at %s/r.yaml:4:5)",
             fx->dir, fx->dir);
    CU_ASSERT_EQUAL_FATAL(fx->diags.count, 1);
    CU_ASSERT_STRING_EQUAL(fx->diags.items[0], want);
}

FX_TEST(test_err_duplicate_id_across_files)
{
    char want[1024];
    char text[1024];

    snprintf(text, sizeof(text), "rules:\n%s%s", rule_text("one", "abc"), rule_text("two", "def"));
    free(fx_write(fx, "a.yaml", text));
    snprintf(text, sizeof(text), "version: 1\nrules:\n%s", rule_text("two", "ghi"));
    free(fx_write(fx, "b.yaml", text));
    CU_ASSERT_EQUAL(fx_load(fx, fx->dir), AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(fx->rs);
    snprintf(want, sizeof(want), "%s/b.yaml:3:9: duplicate rule id 'two' (first defined at %s/a.yaml:6:9)",
             fx->dir, fx->dir);
    CU_ASSERT_EQUAL_FATAL(fx->diags.count, 1);
    CU_ASSERT_STRING_EQUAL(fx->diags.items[0], want);
}

FX_TEST(test_err_bad_regex_columns)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: plain\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: ab[c]d)ef\n"
                                 "  - id: single\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: 'x{2,1}'\n"
                                 "  - id: double\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: \"a(?<n>b)(?<n>c)x{3,2}\"\n"
                                 "  - id: escaped\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: \"a\\\\d+(\"\n"
                                 "  - id: quotes\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: 'it''s)'\n"
                                 "  - id: utf8\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: '\xc3\xa9" "a)'\n"
                                 "  - id: folded\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: >-\n"
                                 "      abc)\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx,
                 /* plain: the ')' is byte 6 of the pattern, column 14 + 6 */
                 "r.yaml:5:20: rule 'plain': invalid pattern: unmatched closing parenthesis at pattern offset 6",
                 /* single-quoted: +1 for the quote */
                 "r.yaml:9:20: rule 'single': invalid pattern: numbers out of order in {} quantifier at pattern offset 5",
                 /* duplicate group names are allowed (PCRE2_DUPNAMES) */
                 "r.yaml:13:35: rule 'double': invalid pattern: numbers out of order in {} quantifier at pattern offset 20",
                 /* escapes in the scalar: no exact column, the scalar's own */
                 "r.yaml:17:14: rule 'escaped': invalid pattern: missing closing parenthesis at pattern offset 5",
                 "r.yaml:21:14: rule 'quotes': invalid pattern: unmatched closing parenthesis at pattern offset 4",
                 /* columns count characters, as libyaml does */
                 "r.yaml:25:17: rule 'utf8': invalid pattern: unmatched closing parenthesis at pattern offset 3",
                 "r.yaml:29:14: rule 'folded': invalid pattern: unmatched closing parenthesis at pattern offset 3");
}

FX_TEST(test_err_wrong_types)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: x\n"
                                 "    category: ssl\n"
                                 "    severity: [error]\n"
                                 "    pattern: abc\n"
                                 "    cause:\n"
                                 "    examples: [abc]\n"
                                 "  - id: y\n"
                                 "    category: {a: b}\n"
                                 "    severity: info\n"
                                 "    pattern: abc\n"
                                 "    examples:\n"
                                 "      match: abc\n"
                                 "      no_match: [[abc], ~]\n"
                                 "  - just a string\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx,
                 "r.yaml:4:15: key 'severity' must be a string, not a sequence",
                 "r.yaml:6:11: key 'cause' must be a string, not null",
                 "r.yaml:7:15: key 'examples' must be a mapping, not a sequence",
                 "r.yaml:9:15: key 'category' must be a string, not a mapping",
                 "r.yaml:13:14: key 'match' must be a sequence, not a string",
                 "r.yaml:14:18: rule 'y': examples must be strings, not a sequence",
                 "r.yaml:14:25: rule 'y': examples must be strings, not null",
                 "r.yaml:15:5: rule #3 must be a mapping, not a string");
}

FX_TEST(test_err_null_value)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: x\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: abc\n"
                                 "    cause:\n"
                                 "    remedy: ''\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx, "r.yaml:6:11: key 'cause' must be a string, not null");
}

FX_TEST(test_err_bad_values)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "version: 2\n"
                                 "rules:\n"
                                 "  - id: X-Bad\n"
                                 "    category: 9lives\n"
                                 "    severity: fatal\n"
                                 "    pattern: ''\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx,
                 "r.yaml:1:10: unsupported version '2': expected 1",
                 "r.yaml:3:9: invalid rule id 'X-Bad': expected [a-z0-9][a-z0-9._-]*, at most 64 characters",
                 "r.yaml:4:15: invalid category '9lives': expected [a-z][a-z0-9_-]*, at most 64 characters",
                 "r.yaml:5:15: invalid severity 'fatal': expected info, warning, error or critical",
                 "r.yaml:6:14: rule 'X-Bad': empty pattern");
}

FX_TEST(test_err_failing_examples)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: x\n"
                                 "    category: ssl\n"
                                 "    severity: error\n"
                                 "    pattern: '(?i)no such host'\n"
                                 "    examples:\n"
                                 "      match:\n"
                                 "        - No such host is known\n"
                                 "        - 'No such hots'\n"
                                 "      no_match: [fine, \"NO SUCH HOST\"]\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx,
                 "r.yaml:9:11: rule 'x': example does not match the pattern",
                 "r.yaml:10:24: rule 'x': no_match example matches the pattern");
}

FX_TEST(test_err_yaml_syntax)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: r1\n"
                                 "    category: ssl\n"
                                 "   severity: error\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx, "r.yaml:4:4: YAML syntax error: did not find expected '-' indicator "
                      "(while parsing a block collection started at line 2, column 3)");
    /* invalid UTF-8 in the file itself: a reader error, positioned too */
    EXPECT_LOAD_ERROR(fx, "u.yaml", "rules:\n  - id: \xff\n",
                      "u.yaml:2:9: YAML syntax error: invalid leading UTF-8 octet (byte offset 15)");
    /* a syntax error in one file does not hide problems in the others */
    free(fx_write(fx, "u.yaml", "rules: [\n"));
    free(fx_write(fx, "r.yaml", "rules:\n  - id: x\n"));
    CU_ASSERT_EQUAL(fx_load(fx, fx->dir), AW_ESYNTAX);
    EXPECT_DIAGS(fx,
                 "r.yaml:2:5: rule 'x': missing required key 'category'",
                 "r.yaml:2:5: rule 'x': missing required key 'severity'",
                 "r.yaml:2:5: rule 'x': missing required key 'pattern'",
                 "u.yaml:2:1: YAML syntax error: did not find expected node content "
                 "(while parsing a flow node started at line 2, column 1)");
}

FX_TEST(test_err_empty_set)
{
    EXPECT_LOAD_ERROR(fx, "r.yaml", "version: 1\nrules: []\n",
                      "r.yaml:2:8: empty rule set: no rules defined");
    EXPECT_LOAD_ERROR(fx, "r.yaml", "# nothing here\n",
                      "r.yaml:1:1: empty rule file: expected a mapping with a 'rules' sequence");
    EXPECT_LOAD_ERROR(fx, "r.yaml", "version: 1\n",
                      "r.yaml:1:1: missing required key 'rules'");
    EXPECT_LOAD_ERROR(fx, "r.yaml", "rules:\n",
                      "r.yaml:1:7: key 'rules' must be a sequence, not null");
}

FX_TEST(test_err_not_a_mapping)
{
    EXPECT_LOAD_ERROR(fx, "r.yaml", "- id: x\n- id: y\n",
                      "r.yaml:1:1: top level must be a mapping, not a sequence");
    EXPECT_LOAD_ERROR(fx, "r.yaml", "\n  just text\n",
                      "r.yaml:2:3: top level must be a mapping, not a string");
    EXPECT_LOAD_ERROR(fx, "r.yaml", "rules: {id: x}\n",
                      "r.yaml:1:8: key 'rules' must be a sequence, not a mapping");
}

FX_TEST(test_err_yaml_features)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - &base\n"
                                 "    id: x\n"
                                 "    category: ssl\n"
                                 "    severity: !!str error\n"
                                 "    pattern: abc\n"
                                 "  - *base\n"
                                 "---\n"
                                 "rules: []\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx,
                 "r.yaml:2:5: YAML anchors are not supported (anchor '&base')",
                 "r.yaml:5:15: YAML tags are not supported (tag 'tag:yaml.org,2002:str')",
                 "r.yaml:7:5: YAML aliases are not supported (alias '*base')",
                 "r.yaml:8:1: multiple YAML documents in one file are not supported");
}

FX_TEST(test_err_many_in_one_file)
{
    CU_ASSERT_EQUAL(fx_load_text(fx, "r.yaml",
                                 "rules:\n"
                                 "  - id: a\n"
                                 "    category: ssl\n"
                                 "    severity: fatal\n"
                                 "    pattern: '(abc'\n"
                                 "    colour: blue\n"
                                 "  - id: a\n"
                                 "    category: ssl\n"
                                 "    severity: info\n"
                                 "  - id: c\n"
                                 "    category: ssl\n"
                                 "    severity: info\n"
                                 "    pattern: ok\n"
                                 "    examples: {match: [nope], maybe: [x]}\n"
                                 "extra: 1\n"),
                    AW_ESYNTAX);
    EXPECT_DIAGS(fx,
                 "r.yaml:4:15: invalid severity 'fatal': expected info, warning, error or critical",
                 "r.yaml:5:19: rule 'a': invalid pattern: missing closing parenthesis at pattern offset 4",
                 "r.yaml:6:5: unknown key 'colour' in rule",
                 "r.yaml:7:5: rule 'a': missing required key 'pattern'",
                 "r.yaml:7:9: duplicate rule id 'a' (first defined at @r.yaml:2:9)",
                 "r.yaml:14:24: rule 'c': example does not match the pattern",
                 "r.yaml:14:31: unknown key 'maybe' in examples",
                 "r.yaml:15:1: unknown key 'extra' at top level");
}

FX_TEST(test_err_not_found)
{
    char *p;

    p = tu_path(fx->dir, "missing.yaml");
    CU_ASSERT_EQUAL(fx_load(fx, p), AW_ENOTFOUND);
    CU_ASSERT_PTR_NULL(fx->rs);
    CU_ASSERT_EQUAL(fx->diags.count, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(fx->err.msg, p));
    free(p);
    /* a directory without rule files */
    free(fx_write(fx, "notes.txt", "x"));
    CU_ASSERT_EQUAL(fx_load(fx, fx->dir), AW_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(fx->err.msg, fx->dir));
}

FX_TEST(test_err_too_big)
{
    size_t n = 4u * 1024u * 1024u + 1u;
    char *big = malloc(n);
    char *p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, '#', n);
    big[n - 1] = '\n';
    p = tu_path(fx->dir, "big.yaml");
    tu_write_file(p, big, n);
    CU_ASSERT_EQUAL(fx_load(fx, p), AW_ESYNTAX);
    EXPECT_DIAGS(fx, "big.yaml:1:1: rule file is larger than 4194304 bytes");
    free(p);
    free(big);
}

/* A file with 200,000 aliases has 200,004 problems: the list keeps the
 * first AW_DIAGS_MAX (by position) and one line counting the rest, and
 * the total still counts them all (issue 16). */
FX_TEST(test_err_diags_capped)
{
    size_t n = 200000, len = 0;
    char *text = malloc(64 + n * 8), *p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    len += (size_t)sprintf(text, "version: 1\nrules:\n  - &a {id: x}\n");
    for (size_t i = 0; i < n; i++) {
        memcpy(text + len, "  - *a\n", 7);
        len += 7;
    }
    text[len] = '\0';
    p = fx_write(fx, "aliases.yaml", text);
    CU_ASSERT_EQUAL(fx_load(fx, p), AW_ESYNTAX);
    CU_ASSERT_EQUAL(fx->diags.count, AW_DIAGS_MAX + 1);
    CU_ASSERT_EQUAL(fx->diags.more, 200004 - AW_DIAGS_MAX);
    CU_ASSERT_EQUAL(aw_diags_total(&fx->diags), 200004);
    if (fx->diags.count == AW_DIAGS_MAX + 1) {
        char want[1024];
        snprintf(want, sizeof(want), "%s:3:5: YAML anchors are not supported (anchor '&a')", p);
        CU_ASSERT_STRING_EQUAL(fx->diags.items[0], want);
        snprintf(want, sizeof(want), "%s:99:5: YAML aliases are not supported (alias '*a')", p);
        CU_ASSERT_STRING_EQUAL(fx->diags.items[AW_DIAGS_MAX - 1], want);
        CU_ASSERT_STRING_EQUAL(fx->diags.items[AW_DIAGS_MAX], "... and 199904 more");
    }
    free(p);
    free(text);
}

/* ------------------------------------------------------------------ */
/* prefilter                                                            */

/* A small deterministic PRNG so failures reproduce. */
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void check_literals(const char *pattern, const char *const *want, size_t nwant)
{
    char **lits = NULL;
    size_t n = 0;

    CU_ASSERT_EQUAL_FATAL(aw_rules_extract_literals(pattern, strlen(pattern), &lits, &n), AW_OK);
    if (n != nwant) {
        fprintf(stderr, "\n  pattern %s: %zu literals, want %zu:", pattern, n, nwant);
        for (size_t i = 0; i < n; i++) {
            fprintf(stderr, " [%s]", lits[i]);
        }
    }
    CU_ASSERT_EQUAL(n, nwant);
    for (size_t i = 0; i < n && i < nwant; i++) {
        CU_ASSERT_STRING_EQUAL(lits[i], want[i]);
    }
    aw_rules_literals_free(lits, n);
}

#define LITS(pattern, ...)                                                     \
    do {                                                                       \
        static const char *const w_[] = { __VA_ARGS__ };                       \
        check_literals((pattern), w_, sizeof(w_) / sizeof(w_[0]));             \
    } while (0)
#define NO_LITS(pattern) check_literals((pattern), NULL, 0)

static void test_literal_extraction(void)
{
    LITS("(?i)Could not establish trust relationship", "could not establish trust relationship");
    LITS("(?i)\\b(?:0x)?800B0109\\b|(?:code|error)\\s*[=:]?\\s*12045\\b|invalid_ca\\b",
         "800b0109", "12045", "invalid_ca");
    LITS("server returned[^0-9]{0,40}5[0-9][0-9]\\b", "server returned");
    /* escaped punctuation is literal; classes and groups end the run */
    LITS("ab\\.cd[x]yz", "ab.cd");
    LITS("foo\\ bar\\(baz", "foo bar(baz");
    /* optional characters end the run and are dropped */
    LITS("abc?defg", "defg");
    LITS("abcd*efg", "abc");
    LITS("abcd{0,2}ef", "abc");
    LITS("abcd{,2}ef", "abc");
    /* required repeats are kept but end the run */
    LITS("abcd+efg", "abcd");
    LITS("ab{2}cdef", "cdef");
    LITS("abcde{1,3}fg", "abcde");
    LITS("abc+?def", "abc");
    /* a brace that is no quantifier is not a literal (kept conservative) */
    LITS("abc{x}defg", "defg");
    /* quantified groups and classes are skipped whole */
    LITS("(?:xyz)?abc[0-9]{2,}def", "abc");
    LITS("[]a|b]pqrs", "pqrs");
    LITS("[[:alpha:]]]wxyz", "wxyz");
    LITS("\\x{41}\\p{L}\\cXhello", "hello");
    /* duplicates are dropped */
    LITS("timeout|TIMEOUT|Timeout", "timeout");
    /* a branch without a run of its own takes its first required group's
     * literals (one of them occurs in every match) */
    LITS("(abc|def)", "abc", "def");
    LITS("(?i)\\b(?:0x)?(?:800b0109|80090325)\\b", "800b0109", "80090325");
    LITS("x(?:abc|(?:def|ghi)jk)y", "abc", "def", "ghi");
    LITS("(?:abc|def)+x", "abc", "def");
    LITS("(?:ab|cd)(?:efg|hij)", "efg", "hij");
    /* a small alternation of plain literals beside literal text is
     * distributed over its branch: each alternative keeps its own run */
    LITS("abcd(?:efg|hij)", "abcdefg", "abcdhij");
    LITS("(?:pull|download) complete", "pull complete", "download complete");
    LITS("xyz(?:a|b).|(?:c|d)\\.ef", "xyza", "xyzb", "c.ef", "d.ef");
    LITS("(?:ab|cd)(?:ef|gh)ijk", "abefijk", "cdefijk", "abghijk", "cdghijk");
    /* not when fewer than 3 literal bytes are beside it (the run would
     * gain little: "connection " instead of "timed out"), when it is
     * quantified or
     * holds more than plain literals, or past 16 branches */
    LITS("(?:code|error)\\s*12045", "12045");
    LITS("(?:connection|request) (?:has )?timed out", "timed out");
    NO_LITS("x(?:ab|cd)yz");
    LITS("(?:abc|def)?ghij", "ghij");
    LITS("ab(?:c.d|efg)hijk", "hijk");
    LITS("(?:a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q)xyz", "xyz");
    LITS("\\b(?:to|at)\\b ab", " ab");
    /* the budget is shared: past it, what is left stays a group */
    LITS("(?:a|b|c|d|e|f|g|h)(?:i|j|k)xyz", "aixyz", "bixyz", "cixyz", "dixyz", "eixyz", "fixyz", "gixyz",
         "hixyz", "jxyz", "kxyz");
    /* a positive lookahead must match somewhere in the message: its
     * literals serve as a fallback (the shape rules lead with one) */
    LITS("(?=abc)xy", "abc");
    LITS("^(?!nope)(?=.*?(?:fail|error))x", "fail", "error");
    /* named groups without '|' or quantifier are transparent */
    LITS("error (?<code>0x80072ee7)\\b", "error 0x80072ee7");
    LITS("ab(?<t>cd)ef", "abcdef");
    LITS("abc(?<t>x|y)defg", "abcxdefg", "abcydefg");
    LITS("ab(?<t>c(?<u>de)f)gh", "abcdefgh");
    LITS("\\b(?<code>(?:0x)?800b0109)\\b|(?<code>-2146762487)\\b", "800b0109", "-2146762487");
    LITS("(?:to (?<target>[\\w.-]+)[^\\n]{0,9})?(?:\\b(?<code>80072ee7)\\b|\\((?<code>12007)\\))",
         "80072ee7", "(12007)");
    /* the longest run per branch */
    LITS("ab.cdef.ghijk|\\d+ lmnop", "ghijk", "lmnop");
    /* leading spaces are dropped while the run is longer than 3 bytes */
    LITS("x.  to connect|q. ab", "to connect", " ab");
    LITS("(?:unable|failed) to connect", "unable to connect", "failed to connect");
    /* cases with no prefilter */
    NO_LITS("abc|de");             /* a branch without 3 literal bytes */
    NO_LITS("abc|");               /* an empty branch */
    NO_LITS("(?:abc|def)?xy");     /* an optional group is no fallback */
    NO_LITS("(?:abc|def){0,2}xy");
    NO_LITS("(?:abc|de)\\dxy");     /* a group branch without literals */
    NO_LITS("(?!abc)xy");          /* negative lookarounds and lookbehinds */
    NO_LITS("(?<=abc)xy");         /* are no fallback */
    NO_LITS("(?=abc)?xy");         /* nor an optional lookahead */
    NO_LITS("(?=ab)xy");           /* nor a lookahead without 3 literal bytes */
    NO_LITS("ab(?<t>cd)+ef");      /* a repeated named group is not transparent */
    NO_LITS("^(a+)+$");
    NO_LITS("(?x)abc def");        /* inline options other than a leading (?i) */
    NO_LITS("abc(?i)def");
    NO_LITS("(?-i)abc");
    NO_LITS("(*LIMIT_MATCH=10)abc");
    NO_LITS("abc(*ACCEPT)def");
    NO_LITS("a\\Qbc\\Edef");       /* \Q..\E */
    NO_LITS("(abc)\\1def");        /* back references */
    NO_LITS("(?<n>abc)\\k<n>def");
    NO_LITS("(?<n>abc)\\g{n}def");
    NO_LITS("(?#comment)abcdef");
    NO_LITS("abc++?def");          /* stacked quantifiers */
    NO_LITS("abc)");               /* unbalanced */
    NO_LITS("(abc");
    NO_LITS("ab[c");
    NO_LITS("");
}

/* Any bytes at all: the extractor terminates, and what it returns is
 * well-formed (>= 3 bytes, lower case). */
static void test_literal_extraction_garbage(void)
{
    static const char alphabet[] = "ab(?i)|[]{}\\*+?.^$-:=#<>PQEgkx0129,AZ \xff";

    rng_state = 12345;
    for (int k = 0; k < 20000; k++) {
        char pat[48];
        size_t n = rnd(sizeof(pat));
        char **lits = NULL;
        size_t count = 0;

        for (size_t i = 0; i < n; i++) {
            pat[i] = rnd(8) == 0 ? (char)rnd(256) : alphabet[rnd(sizeof(alphabet) - 1)];
        }
        CU_ASSERT_EQUAL_FATAL(aw_rules_extract_literals(pat, n, &lits, &count), AW_OK);
        for (size_t i = 0; i < count; i++) {
            CU_ASSERT(strlen(lits[i]) >= 3);
            for (const char *c = lits[i]; *c; c++) {
                CU_ASSERT(!(*c >= 'A' && *c <= 'Z'));
            }
        }
        aw_rules_literals_free(lits, count);
    }
}

/* Prefilter literals are reported per rule; a rule without any always
 * runs its regex and the stats say so. */
FX_TEST(test_prefilter_stats)
{
    struct aw_matcher *m = NULL;
    struct aw_matcher_stats st;
    char text[2048];

    snprintf(text, sizeof(text), "rules:\n%s%s%s", rule_text("r0", "alpha|beta"), rule_text("r1", "gamma"),
             rule_text("r2", "^d\\w"));
    CU_ASSERT_EQUAL_FATAL(fx_load_text(fx, "r.yaml", text), AW_OK);
    CU_ASSERT_EQUAL(aw_rules_get(fx->rs, 0)->literal_count, 2);
    CU_ASSERT_STRING_EQUAL(aw_rules_get_literal(fx->rs, 0, 0), "alpha");
    CU_ASSERT_STRING_EQUAL(aw_rules_get_literal(fx->rs, 0, 1), "beta");
    CU_ASSERT_PTR_NULL(aw_rules_get_literal(fx->rs, 0, 2));
    CU_ASSERT_EQUAL(aw_rules_get(fx->rs, 2)->literal_count, 0);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx->rs, &m, &fx->err), AW_OK);

    CU_ASSERT_EQUAL(aw_matcher_classify(m, "xx gamma", 8), 1);
    aw_matcher_get_stats(m, &st);
    CU_ASSERT_EQUAL(st.messages, 1);
    CU_ASSERT_EQUAL(st.matches, 1);
    CU_ASSERT_EQUAL(st.regex_runs, 1);   /* r0 skipped by the prefilter */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "nothing", 7), -1);
    aw_matcher_get_stats(m, &st);
    CU_ASSERT_EQUAL(st.messages, 2);
    CU_ASSERT_EQUAL(st.matches, 1);
    CU_ASSERT_EQUAL(st.regex_runs, 2);   /* only r2, which has no prefilter */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "dx", 2), 2);
    CU_ASSERT_EQUAL(st.limit_hits, 0);
    CU_ASSERT_FALSE(aw_matcher_rule_matches(m, 0, "lphabet", 7));
    /* the prefilter folds case, the regex decides */
    CU_ASSERT_FALSE(aw_matcher_rule_matches(m, 0, "xBETAx", 6));
    CU_ASSERT_TRUE(aw_matcher_rule_matches(m, 0, "xbetax", 6));
    CU_ASSERT_FALSE(aw_matcher_rule_matches(m, 99, "xbetax", 6));
    aw_matcher_free(&m);
}

static const char *const vocab[] = {
    "abc", "Err", "fail", "ssl", "0x8007", "tls", "conn", "a.b", "x y", "host", "ab", "ba", "c", "-",
};
#define NVOCAB (sizeof(vocab) / sizeof(vocab[0]))

static void append(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s", s);
}

static void gen_atom(char *buf, size_t cap, int depth)
{
    static const char *const pieces[] = {
        ".", "[a-c]", "[^x]", "\\d", "\\s", "\\b", "\\.", "\\-", "[[:alpha:]]", "\\x41", "\\w+",
    };
    static const char *const quants[] = { "", "", "", "?", "*", "+", "{0,2}", "{1,2}", "{2}", "+?", "*+", "{,2}" };
    uint32_t k = rnd(10);

    if (k < 5) {
        /* vocabulary word, possibly with odd case; escape '.' sometimes */
        char w[32];
        snprintf(w, sizeof(w), "%s", vocab[rnd(NVOCAB)]);
        for (char *p = w; *p; p++) {
            if (rnd(4) == 0 && *p >= 'a' && *p <= 'z') {
                *p = (char)(*p - 32);
            }
        }
        append(buf, cap, w);
    } else if (k < 8) {
        append(buf, cap, pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))]);
    } else if (depth < 2) {
        /* named groups (transparent to the extractor when plain), a
         * positive lookahead (a fallback: its literals occur in the
         * message) and group kinds that must never serve as fallbacks */
        static const char *const opens[] = { "(?:", "(", "(?<g>", "(?<h>", "(?=", "(?!", "(?>" };
        int alts = 1 + (int)rnd(3);
        append(buf, cap, opens[rnd(4) == 0 ? 4 + rnd(3) : rnd(4)]);
        for (int a = 0; a < alts; a++) {
            if (a > 0) {
                append(buf, cap, "|");
            }
            for (int i = 0, n = 1 + (int)rnd(3); i < n; i++) {
                gen_atom(buf, cap, depth + 1);
            }
        }
        append(buf, cap, ")");
        /* groups get only tame quantifiers: nested unbounded repeats make
         * exponential patterns that only measure the match limit */
        append(buf, cap, quants[rnd(4) == 0 ? 3 + rnd(4) : 0]);
        return;
    } else {
        append(buf, cap, "c");
    }
    append(buf, cap, quants[rnd(sizeof(quants) / sizeof(quants[0]))]);
}

static void gen_pattern(char *buf, size_t cap)
{
    int branches = 1 + (int)(rnd(4) == 0 ? rnd(3) : 0);

    buf[0] = '\0';
    if (rnd(2)) {
        append(buf, cap, "(?i)");
    }
    for (int b = 0; b < branches; b++) {
        if (b > 0) {
            append(buf, cap, "|");
        }
        if (rnd(6) == 0) {
            append(buf, cap, "^");
        }
        for (int i = 0, n = 1 + (int)rnd(5); i < n; i++) {
            gen_atom(buf, cap, 0);
        }
        if (rnd(6) == 0) {
            append(buf, cap, "$");
        }
    }
}

static size_t gen_message(char *buf, size_t cap)
{
    size_t n = 0;
    int parts = (int)rnd(8);

    for (int i = 0; i < parts && n + 16 < cap; i++) {
        if (rnd(3) == 0) {
            static const char junk[] = "abcxyzABC019 .-_\n\t";
            buf[n++] = junk[rnd(sizeof(junk) - 1)];
        } else {
            const char *w = vocab[rnd(NVOCAB)];
            for (; *w; w++) {
                char c = *w;
                if (rnd(3) == 0 && c >= 'a' && c <= 'z') {
                    c = (char)(c - 32);
                } else if (rnd(3) == 0 && c >= 'A' && c <= 'Z') {
                    c = (char)(c + 32);
                }
                buf[n++] = c;
            }
        }
    }
    buf[n] = '\0';
    return n;
}

static bool compiles(const char *pattern, pcre2_code **out)
{
    int ec;
    PCRE2_SIZE eo;

    *out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_NEVER_UTF | PCRE2_DUPNAMES, &ec,
                         &eo, NULL);
    return *out != NULL;
}

/* For random patterns and messages: classify with the prefilter equals
 * running every regex in order, and each rule's prefilter+regex equals
 * the plain regex. */
static void test_prefilter_soundness(void)
{
    enum { ROUNDS = 25, PER_ROUND = 40, MESSAGES = 600 };
    size_t with_literals = 0, checked = 0, matched = 0, limited = 0;

    rng_state = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < ROUNDS; round++) {
        struct fixture fx;
        struct aw_matcher *m = NULL;
        pcre2_code *codes[PER_ROUND];
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        pcre2_match_context *mctx = pcre2_match_context_create(NULL);
        size_t ncodes = 0;
        char *yaml = malloc(PER_ROUND * 1024 + 16);

        fx_init(&fx);
        pcre2_set_match_limit(mctx, 1000000);
        pcre2_set_depth_limit(mctx, 10000);
        strcpy(yaml, "rules:\n");
        while (ncodes < PER_ROUND) {
            char pat[400];
            char quoted[800];
            size_t q = 0;
            char id[32];

            gen_pattern(pat, sizeof(pat));
            if (!compiles(pat, &codes[ncodes])) {
                continue;
            }
            for (const char *p = pat; *p; p++) {
                if (*p == '\'') {
                    quoted[q++] = '\'';
                }
                quoted[q++] = *p;
            }
            quoted[q] = '\0';
            snprintf(id, sizeof(id), "r%zu", ncodes);
            append(yaml, PER_ROUND * 1024 + 16, rule_text(id, quoted));
            ncodes++;
        }
        CU_ASSERT_EQUAL_FATAL(fx_load_text(&fx, "r.yaml", yaml), AW_OK);
        CU_ASSERT_EQUAL_FATAL(aw_rules_count(fx.rs), PER_ROUND);
        CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx.rs, &m, &fx.err), AW_OK);
        for (size_t i = 0; i < ncodes; i++) {
            with_literals += aw_rules_get(fx.rs, i)->literal_count > 0;
        }
        for (int k = 0; k < MESSAGES; k++) {
            char msg[256];
            size_t len = gen_message(msg, sizeof(msg));
            long fast = aw_matcher_classify(m, msg, len);
            long slow = aw_matcher_classify_brute(m, msg, len);

            if (fast != slow) {
                fprintf(stderr, "\n  classify mismatch on '%s': %ld vs %ld (%s)", msg, fast, slow,
                        slow >= 0 ? aw_rules_get(fx.rs, (size_t)slow)->pattern : "-");
            }
            CU_ASSERT_EQUAL(fast, slow);
            matched += slow >= 0;
            for (size_t i = 0; i < ncodes; i++) {
                struct aw_matcher_stats before, after;
                int rc = pcre2_match(codes[i], (PCRE2_SPTR)msg, len, 0, 0, md, mctx);
                bool direct = rc >= 0, via;

                aw_matcher_get_stats(m, &before);
                via = aw_matcher_rule_matches(m, i, msg, len);
                aw_matcher_get_stats(m, &after);
                /* a pathological generated pattern may hit a match limit
                 * on either side; that says nothing about the prefilter */
                if ((rc < 0 && rc != PCRE2_ERROR_NOMATCH) || after.limit_hits != before.limit_hits) {
                    limited++;
                    continue;
                }
                if (direct != via) {
                    fprintf(stderr, "\n  rule mismatch: pattern '%s' on '%s'", aw_rules_get(fx.rs, i)->pattern,
                            msg);
                }
                CU_ASSERT_EQUAL(direct, via);
                checked++;
            }
        }
        for (size_t i = 0; i < ncodes; i++) {
            pcre2_code_free(codes[i]);
        }
        pcre2_match_data_free(md);
        pcre2_match_context_free(mctx);
        aw_matcher_free(&m);
        free(yaml);
        fx_fini(&fx);
    }
    /* the generator must exercise both paths */
    CU_ASSERT(with_literals > ROUNDS * PER_ROUND / 10);
    CU_ASSERT(with_literals < ROUNDS * PER_ROUND);
    CU_ASSERT(matched > ROUNDS * MESSAGES / 10);
    CU_ASSERT(checked + limited == (size_t)ROUNDS * PER_ROUND * MESSAGES);
    CU_ASSERT(limited < checked / 100);
}

/* ------------------------------------------------------------------ */
/* matching edge cases                                                  */

FX_TEST(test_catastrophic_backtracking)
{
    struct aw_matcher *m = NULL;
    struct aw_matcher_stats st;
    size_t n = 30000;
    char *msg = malloc(n + 2);
    char text[1024];

    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    memset(msg, 'a', n);
    msg[n] = 'b';
    msg[n + 1] = '\0';
    snprintf(text, sizeof(text), "rules:\n%s%s", rule_text("evil", "^(a+)+$"), rule_text("nested", "(a|aa)+c"));
    CU_ASSERT_EQUAL_FATAL(fx_load_text(fx, "r.yaml", text), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx->rs, &m, &fx->err), AW_OK);
    /* returns (no hang), and a limit hit counts as no match, but is
     * remembered: which rule, and how often per rule */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, msg, n + 1), -1);
    CU_ASSERT_EQUAL(aw_matcher_last_limited(m), 0);
    CU_ASSERT_EQUAL(aw_matcher_rule_limit_hits(m, 0), 1);
    CU_ASSERT_FALSE(aw_matcher_rule_matches(m, 0, msg, n + 1));
    CU_ASSERT_EQUAL(aw_matcher_last_limited(m), 0);
    CU_ASSERT_EQUAL(aw_matcher_rule_limit_hits(m, 0), 2);
    CU_ASSERT_EQUAL(aw_matcher_rule_limit_hits(m, 2), 0);
    aw_matcher_get_stats(m, &st);
    CU_ASSERT(st.limit_hits <= st.regex_runs);
    /* the matcher still works afterwards, and forgets the limit */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "aaa", 3), 0);
    CU_ASSERT_EQUAL(aw_matcher_last_limited(m), -1);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "aac", 3), 1);
    aw_matcher_free(&m);
    free(msg);
}

static void test_odd_bytes(void)
{
    struct fixture fx;
    struct aw_matcher *m = NULL;
    static const char nul_msg[] = "x\0y\0The remote name could not be resolved";
    static const char bad_utf8[] = "\xff\xfe\xc3(Unable \xe2\x82 to connect\x80 host\xc0\xaf";
    static const char nul_example[] =
        "rules:\n"
        "  - id: nul\n"
        "    category: test\n"
        "    severity: info\n"
        "    pattern: 'a\\x00b'\n"
        "    examples:\n"
        "      match: [\"xa\\0b\"]\n"
        "      no_match: [\"ab\"]\n"
        "  - id: dns\n"
        "    category: resolution\n"
        "    severity: error\n"
        "    pattern: '(?i)remote name could not be resolved'\n"
        "  - id: bytes\n"
        "    category: test\n"
        "    severity: info\n"
        "    pattern: '\\xff\\xfe.\\('\n"
        "  - id: conn\n"
        "    category: test\n"
        "    severity: info\n"
        "    pattern: 'to connect. host'\n";

    fx_init(&fx);
    CU_ASSERT_EQUAL_FATAL(fx_load_text(&fx, "r.yaml", nul_example), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx.rs, &m, &fx.err), AW_OK);
    /* examples keep their NUL bytes */
    {
        size_t len = 0;
        const char *e = aw_rules_get_example(fx.rs, 0, false, 0, &len);
        CU_ASSERT_EQUAL(len, 4);
        CU_ASSERT(e != NULL && memcmp(e, "xa\0b", 4) == 0);
        CU_ASSERT_PTR_NULL(aw_rules_get_example(fx.rs, 0, false, 1, NULL));
        CU_ASSERT_PTR_NOT_NULL(aw_rules_get_example(fx.rs, 0, true, 0, NULL));
    }
    /* NUL bytes neither end the message nor the prefilter scan */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, nul_msg, sizeof(nul_msg) - 1), 1);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "za\0b", 4), 0);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "\0", 1), -1);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "", 0), -1);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, NULL, 0), -1);
    /* invalid UTF-8 is just bytes: matched, never an error */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, bad_utf8, sizeof(bad_utf8) - 1), 2);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, bad_utf8 + 1, sizeof(bad_utf8) - 2), 3);
    aw_matcher_free(&m);
    fx_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* the shipped rule set                                                 */

static void test_shipped_rules_load(void)
{
    char *dir = tu_src_path("rules");
    struct aw_ruleset *rs = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0, "" };
    struct aw_matcher *m = NULL;
    size_t per_cat[4] = { 0, 0, 0, 0 };
    static const char *const cats[4] = { "ssl", "resolution", "connection", "health" };

    CU_ASSERT_EQUAL_FATAL(aw_rules_load(dir, &rs, &diags, &err), AW_OK);
    for (size_t i = 0; i < diags.count; i++) {
        fprintf(stderr, "\n  %s", diags.items[i]);
    }
    CU_ASSERT_EQUAL(diags.count, 0);
    CU_ASSERT_FATAL(aw_rules_count(rs) >= 20);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(rs, &m, &err), AW_OK);
    for (size_t i = 0; i < aw_rules_count(rs); i++) {
        const struct aw_rule_info *ri = aw_rules_get(rs, i);
        bool known = false;

        for (int c = 0; c < 4; c++) {
            if (strcmp(ri->category, cats[c]) == 0) {
                per_cat[c]++;
                known = true;
            }
        }
        CU_ASSERT_TRUE(known);
        CU_ASSERT(strlen(ri->cause) > 20);
        CU_ASSERT(strlen(ri->remedy) > 10);
        CU_ASSERT(ri->example_match_count >= 2);
        CU_ASSERT(ri->example_no_match_count >= 2);
        /* every shipped rule is prefiltered: the hot path stays cheap */
        CU_ASSERT(ri->literal_count > 0);
        CU_ASSERT_EQUAL(strcmp(ri->category, AW_CATEGORY_HEALTH) == 0, ri->severity == AW_RULE_INFO);
        for (size_t j = 0; j < ri->example_match_count; j++) {
            size_t len;
            const char *ex = aw_rules_get_example(rs, i, false, j, &len);
            long got = aw_matcher_classify(m, ex, len);
            CU_ASSERT_TRUE(aw_matcher_rule_matches(m, i, ex, len));
            /* no earlier rule shadows a rule's own examples */
            if (got != (long)i) {
                fprintf(stderr, "\n  example of %s classified as %s: %s", ri->id,
                        got >= 0 ? aw_rules_get(rs, (size_t)got)->id : "-", ex);
            }
            CU_ASSERT_EQUAL(got, (long)i);
        }
        for (size_t j = 0; j < ri->example_no_match_count; j++) {
            size_t len;
            const char *ex = aw_rules_get_example(rs, i, true, j, &len);
            CU_ASSERT_FALSE(aw_matcher_rule_matches(m, i, ex, len));
        }
    }
    for (int c = 0; c < 4; c++) {
        CU_ASSERT(per_cat[c] >= 2);
    }
    aw_matcher_free(&m);
    aw_rules_free(&rs);
    CU_ASSERT_PTR_NULL(rs);
    aw_diags_free(&diags);
    free(dir);
}

/* The research notes' sample messages (agent-log-formats.md, section 7 and
 * the error tables) and how the shipped rules classify them. */
static void test_shipped_rules_classify(void)
{
    static const struct {
        const char *msg;
        const char *id;   /* NULL: no finding */
    } cases[] = {
        { "Agent service started, version 8.7.4102", NULL },
        { "Requesting configuration from https://smp01.corp.example:443/Altiris/NS/Agent/GetClientPolicies.aspx", NULL },
        { "Failed to send request to smp01.corp.example: A security error occurred (0x80072F8F)", "ssl.secure-failure.code" },
        { "Server certificate check flags: INVALID_CA; chain ends in untrusted root 'CN=Corp Issuing CA 2025' (0x800B0109)", "ssl.untrusted-root.code" },
        { "Queued 3 events (12 KB) for later delivery", NULL },
        { "Failed to send request to smp01.corp.example: The certificate authority is invalid or incorrect (0x80072F0D)", "ssl.untrusted-root.code" },
        { "Post failed: System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.\n"
          " ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.", "ssl.trust-failure" },
        { "The revocation function was unable to check revocation because the revocation server was offline. (0x80092013)", "ssl.revocation-check.code" },
        { "The revocation function was unable to check revocation for the certificate.", "ssl.revocation-check" },
        { "Failed to send request: It was not possible to connect to the revocation server or a definitive response could not be obtained. (0x80072F19)", "ssl.revocation-check.code" },
        { "Network change detected, reselecting server", NULL },
        { "Unable to connect to server smp01.corp.example: The server name or address could not be resolved (0x80072EE7)", "resolution.name-not-resolved.code" },
        { "Unable to connect to server smp01.corp.example: A connection with the server could not be established (0x80072EFD)", "connection.cannot-connect.code" },
        { "Request to smp01.corp.example timed out: The operation timed out (0x80072EE2)", "connection.timeout.code" },
        { "Server is unavailable: HTTP status 503 (Service Unavailable) from /Altiris/NS/Agent/GetClientPolicies.aspx", "connection.server-unavailable" },
        /* benign records a naive grep would flag (samples/README.md) */
        { "Server certificate accepted: CN=smp01.corp.example, issuer CN=Corp Issuing CA 2025", NULL },
        { "Client certificate not required by communication profile, skipping certificate selection", NULL },
        { "Certificate revocation check passed for CN=smp01.corp.example (CRL cached, 0 errors)", NULL },
        { "Pending power action '0x00010001: reboot, maintenance' scheduled for 2025-03-11 22:00:00 +1:00 UTC", NULL },
        { "Basic inventory sent to smp01.corp.example (14 KB), result error=0x00000000", NULL },
        { "Registered with task server smp01.corp.example", "health.connected" },
        { "Configuration unchanged (42 policies, 0 errors)", "health.policy-request-ok" },
        { "CRL http://pki.corp.example/crl/CorpIssuingCA2025.crl: download failed after 15000 ms", "ssl.revocation-check" },
        { "[CCMHTTP] ERROR: URL=https://CMG.CORP.EXAMPLE/CCM_Proxy_ServerAuth/72057594037927941/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE", "ssl.secure-failure.code" },
        { "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired", "ssl.client-cert-missing.code" },
        { "Connected to server smp01.corp.example (HTTPS, port 443)", "health.connected" },
        { "Configuration updated successfully (41 policies)", "health.config-updated" },
        { "The underlying connection was closed: An unexpected error occurred on a send.", "ssl.connection-closed" },
        { "The SSL connection could not be established, see inner exception.", "ssl.handshake-failed" },
        { "Certificate check: CERT_E_EXPIRED (800B0101)", "ssl.cert-expired.code" },
        { "Error 0x800B010F while validating the server certificate", "ssl.name-mismatch.code" },
        { "WinHttpSendRequest failed: error 12175", "ssl.secure-failure.code" },
        { "Content decoding has failed", NULL },
        { "Sending with winhttp failed; 80072ee7. retrying.", "resolution.name-not-resolved.code" },
        { "The remote name could not be resolved: 'smp01.corp.example'", "resolution.name-not-resolved" },
        { "No connection could be made because the target machine actively refused it 10.0.0.5:443", "connection.refused" },
        { "Unable to connect to the remote server", "connection.cannot-connect" },
        { "The remote server returned an error: (404) Not Found.", "connection.http-client-error" },
        { "GetFile() failed, error=0x80070002", NULL },
        { "Inventory finished: 0 errors, error=0x00000000", NULL },
        { "error", NULL },
        { "Error code: {Partial Data Received}", NULL },
        { "Failed to create object 'Altiris.AeXNSCPkgSvr': The object is not registered or is not present in the policy (0x8000401B)", NULL },
        { "Unable to process client request from: 10.1.2.3/HEAD/8.6.2184.0 (Unable to process request, 0x80056007)", NULL },
    };
    char *dir = tu_src_path("rules");
    struct aw_ruleset *rs = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0, "" };
    struct aw_matcher *m = NULL;

    CU_ASSERT_EQUAL_FATAL(aw_rules_load(dir, &rs, &diags, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(rs, &m, &err), AW_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = aw_matcher_classify(m, cases[i].msg, strlen(cases[i].msg));
        const char *gid = got >= 0 ? aw_rules_get(rs, (size_t)got)->id : NULL;
        bool ok = (gid == NULL && cases[i].id == NULL) ||
                  (gid != NULL && cases[i].id != NULL && strcmp(gid, cases[i].id) == 0);
        if (!ok) {
            fprintf(stderr, "\n  '%s': got %s, want %s", cases[i].msg, gid ? gid : "-",
                    cases[i].id ? cases[i].id : "-");
        }
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_EQUAL(got, aw_matcher_classify_brute(m, cases[i].msg, strlen(cases[i].msg)));
    }
    aw_matcher_free(&m);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* captures, lenient loading, lint                                      */

/* A name may repeat across alternatives (PCRE2_DUPNAMES): the group that
 * took part in the match is reported. */
FX_TEST(test_capture_duplicate_names)
{
    struct aw_matcher *m = NULL;
    const char *t = NULL;
    size_t len = 0;
    static const char msg1[] = "Failed to send request to smp01.corp.example: x (0x80072EE7)";
    static const char msg2[] = "WinHttpSendRequest failed, error 12007";
    static const char msg3[] = "hr=-2147012889";

    CU_ASSERT_EQUAL_FATAL(fx_load_text(fx, "r.yaml",
        "rules:\n"
        "  - id: dns\n"
        "    category: resolution\n"
        "    severity: error\n"
        "    pattern: '(?i)(?:request to (?<target>[\\w.-]+).{0,40}?)?(?:\\b(?<code>(?:0x)?80072ee7)\\b|"
        "(?<code>-2147012889)\\b|error (?<code>12007)\\b)'\n"), AW_OK);
    CU_ASSERT_EQUAL(aw_rules_get(fx->rs, 0)->literal_count, 3);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx->rs, &m, &fx->err), AW_OK);

    CU_ASSERT_EQUAL(aw_matcher_classify(m, msg1, strlen(msg1)), 0);
    CU_ASSERT_TRUE(aw_matcher_capture(m, "code", &t, &len));
    CU_ASSERT(len == 10 && memcmp(t, "0x80072EE7", 10) == 0);
    CU_ASSERT_TRUE(aw_matcher_capture(m, "target", &t, &len));
    CU_ASSERT(len == 18 && memcmp(t, "smp01.corp.example", 18) == 0);

    CU_ASSERT_EQUAL(aw_matcher_classify(m, msg2, strlen(msg2)), 0);
    CU_ASSERT_TRUE(aw_matcher_capture(m, "code", &t, &len));
    CU_ASSERT(len == 5 && memcmp(t, "12007", 5) == 0);
    /* the optional target group did not take part */
    CU_ASSERT_FALSE(aw_matcher_capture(m, "target", &t, &len));

    CU_ASSERT_EQUAL(aw_matcher_classify(m, msg3, strlen(msg3)), 0);
    CU_ASSERT_TRUE(aw_matcher_capture(m, "code", &t, &len));
    CU_ASSERT(len == 11 && memcmp(t, "-2147012889", 11) == 0);
    CU_ASSERT_FALSE(aw_matcher_capture(m, "nosuchname", &t, &len));

    /* after a miss nothing is reported */
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "nothing", 7), -1);
    CU_ASSERT_FALSE(aw_matcher_capture(m, "code", &t, &len));
    aw_matcher_free(&m);
}

/* A code captured after the 32nd group is still reported: the match data
 * is sized to the largest pattern (it once held 32 pairs, and the codes of
 * a large code rule's later spellings matched but were not reported). */
FX_TEST(test_capture_beyond_32_groups)
{
    struct aw_matcher *m = NULL;
    const char *t = NULL;
    size_t len = 0;
    char pattern[2048];
    char yaml[2300];
    size_t off = 0;
    static const char msg[] = "transfer failed with code 0x8024AA39 after retries";

    /* 39 alternatives of one group each, then the code in group 40 */
    off += (size_t)snprintf(pattern + off, sizeof(pattern) - off, "(?:");
    for (int i = 1; i < 40; i++) {
        off += (size_t)snprintf(pattern + off, sizeof(pattern) - off, "(?<code>zz%02dqq)|", i);
    }
    off += (size_t)snprintf(pattern + off, sizeof(pattern) - off, "(?<code>0x8024AA39))");
    CU_ASSERT_FATAL(off < sizeof(pattern));
    CU_ASSERT_FATAL(snprintf(yaml, sizeof(yaml),
                             "rules:\n  - id: many\n    category: connection\n    severity: error\n"
                             "    pattern: '%s'\n", pattern) < (int)sizeof(yaml));
    CU_ASSERT_EQUAL_FATAL(fx_load_text(fx, "r.yaml", yaml), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx->rs, &m, &fx->err), AW_OK);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, msg, strlen(msg)), 0);
    CU_ASSERT_TRUE(aw_matcher_capture(m, "code", &t, &len));
    CU_ASSERT(len == 10 && t != NULL && memcmp(t, "0x8024AA39", 10) == 0);
    CU_ASSERT_EQUAL(aw_matcher_classify(m, "zz07qq", 6), 0);
    CU_ASSERT_TRUE(aw_matcher_capture(m, "code", &t, &len));
    CU_ASSERT(len == 6 && t != NULL && memcmp(t, "zz07qq", 6) == 0);
    aw_matcher_free(&m);
}

static const char failing_examples_yaml[] =
    "rules:\n"
    "  - id: conn\n"
    "    category: connection\n"
    "    severity: error\n"
    "    pattern: '(?i)connect'\n"
    "    examples:\n"
    "      match: ['cannot connect']\n"
    "      no_match: ['all good', 'connected fine']\n"
    "  - id: dns\n"
    "    category: resolution\n"
    "    severity: error\n"
    "    pattern: '(?i)no such host'\n"
    "    examples:\n"
    "      match: ['No such host is known', 'unknown host']\n"
    "      no_match: ['host ok']\n";

/* Failing examples: a load error by default, kept (with their positions)
 * with AW_RULES_LOAD_KEEP_FAILING_EXAMPLES. */
FX_TEST(test_keep_failing_examples)
{
    struct aw_rule_example ex;
    char *path;

    path = fx_write(fx, "r.yaml", failing_examples_yaml);
    CU_ASSERT_EQUAL(fx_load(fx, path), AW_ESYNTAX);
    EXPECT_DIAGS(fx, "r.yaml:8:30: rule 'conn': no_match example matches the pattern",
                 "r.yaml:14:40: rule 'dns': example does not match the pattern");

    aw_diags_free(&fx->diags);
    CU_ASSERT_EQUAL_FATAL(aw_rules_load_ex(path, AW_RULES_LOAD_KEEP_FAILING_EXAMPLES, &fx->rs, &fx->diags,
                                           &fx->err), AW_OK);
    CU_ASSERT_EQUAL(fx->diags.count, 0);
    CU_ASSERT_EQUAL_FATAL(aw_rules_count(fx->rs), 2);
    CU_ASSERT_EQUAL(aw_rules_get(fx->rs, 1)->column, 5);
    CU_ASSERT_EQUAL(aw_rules_get(fx->rs, 1)->line, 9);
    CU_ASSERT_TRUE_FATAL(aw_rules_example(fx->rs, 1, false, 1, &ex));
    CU_ASSERT_STRING_EQUAL(ex.text, "unknown host");
    CU_ASSERT_EQUAL(ex.len, 12);
    CU_ASSERT_STRING_EQUAL(ex.file, path);
    CU_ASSERT_EQUAL(ex.line, 14);
    CU_ASSERT_EQUAL(ex.column, 40);
    CU_ASSERT_TRUE(aw_rules_example(fx->rs, 0, true, 1, &ex));
    CU_ASSERT_STRING_EQUAL(ex.text, "connected fine");
    CU_ASSERT_FALSE(aw_rules_example(fx->rs, 0, true, 2, &ex));
    CU_ASSERT_FALSE(aw_rules_example(fx->rs, 2, false, 0, &ex));
    /* a wrong example does not cost the rule its prefilter */
    CU_ASSERT_EQUAL(aw_rules_get(fx->rs, 1)->literal_count, 1);
    free(path);
}

static void lint_of(struct fixture *fx, const char *yaml, struct aw_diags *w)
{
    CU_ASSERT_EQUAL_FATAL(fx_load_text(fx, "r.yaml", yaml), AW_OK);
    CU_ASSERT_EQUAL(aw_rules_lint(fx->rs, w, &fx->err), AW_OK);
}

/* Append to yaml (holding o bytes of cap) one rule per pattern, named
 * prefix0, prefix1, ...; returns the new length. */
static size_t append_rules(char *yaml, size_t cap, size_t o, const char *prefix, const char *const *pats,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%s%zu", prefix, i);
        o += (size_t)snprintf(yaml + o, cap - o, "%s", rule_text(id, pats[i]));
    }
    return o;
}

/* Patterns likely to backtrack badly are warned about, at the offending
 * place; their harmless look-alikes are not. */
static void test_lint_backtracking(void)
{
    struct fixture fx;
    struct aw_diags w = { 0 };
    char yaml[8192];
    size_t o = 0;
    static const char *const bad[] = {
        "(a+)+b", "x(.*)*y", "(x|x?)+y", "(?:ab|ac)+z", "k.*.*foo", "\\s*\\s+bar", "[a-z]+[a-z]*q",
        "(?:\\s*x+)*end", "(?<n>a|)*zz", "(a|.)*q",
    };
    static const char *const good[] = {
        "(?:ab)+", "a+b+", "(a+b)c", "(?:x{1,3})+y", "(a++)+b", "(?>a+)+b", ".*x.*",
        "(?:code|error)\\s*[=:]?\\s*12007", "server returned[^0-9]{0,40}5[0-9][0-9]", "(?:ab|cd)+e",
        "(?:a|b)?c", "[a-z]+[0-9]*x", "\\d+\\.\\d+", "x{2,}y{3}",
    };

    fx_init(&fx);
    o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "rules:\n");
    o = append_rules(yaml, sizeof(yaml), o, "bad", bad, sizeof(bad) / sizeof(bad[0]));
    o = append_rules(yaml, sizeof(yaml), o, "good", good, sizeof(good) / sizeof(good[0]));
    lint_of(&fx, yaml, &w);
    for (size_t i = 0; i < w.count; i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(w.items[i], ": warning: rule 'bad"));
        if (strstr(w.items[i], "rule 'bad") == NULL) {
            fprintf(stderr, "\n  unexpected: %s", w.items[i]);
        }
    }
    CU_ASSERT_EQUAL(w.count, sizeof(bad) / sizeof(bad[0]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) && i < w.count; i++) {
        char want[64];
        snprintf(want, sizeof(want), "rule 'bad%zu': pattern may backtrack badly: ", i);
        CU_ASSERT_PTR_NOT_NULL(strstr(w.items[i], want));
    }
    /* exact text and column: line 5 holds the first rule's pattern,
     * "    pattern: '" is 14 columns, the group starts at offset 0 */
    if (w.count > 0) {
        char want[512];
        snprintf(want, sizeof(want), "%s/r.yaml:5:15: warning: rule 'bad0': pattern may backtrack badly: "
                 "nested unbounded quantifiers (like (a+)+) at '(a+)+b'", fx.dir);
        CU_ASSERT_STRING_EQUAL(w.items[0], want);
    }
    if (w.count > 4) {
        /* the first of the two adjacent atoms, offset 1 of "k.*.*foo" */
        CU_ASSERT_PTR_NOT_NULL(strstr(w.items[4], "r.yaml:21:16: warning: rule 'bad4': pattern may backtrack "
                                                  "badly: adjacent unbounded repeats"));
        CU_ASSERT_PTR_NOT_NULL(strstr(w.items[2], "can match the empty string"));
        CU_ASSERT_PTR_NOT_NULL(strstr(w.items[3], "alternatives of a repeated group start alike"));
    }
    aw_diags_free(&w);
    fx_fini(&fx);
}

/* A rule whose every match example an earlier rule takes first can never
 * match; a rule shadowed on some examples only, or without examples, is
 * not reported. */
/* ------------------------------------------------------------------ */
/* fragments (rules/README.md, "Fragments")                             */

/* A file's fragments are put into its patterns before anything reads
 * them: the rule's pattern is the expanded text, its examples and
 * prefilter literals come from it, and a placeholder escaped, inside a
 * class, in \Q...\E or in a comment is left alone. */
FX_TEST(test_fragments_expand)
{
    const struct aw_rule_info *ri;

    CU_ASSERT_EQUAL_FATAL(fx_load_text(fx, "r.yaml",
                                       "version: 1\n"
                                       "fragments:\n"
                                       "  fail: '(?:timed out|refused)'\n"
                                       "  host-out: '\\blocalhost\\b|127\\.'\n"
                                       "rules:\n"
                                       "  - id: a\n"
                                       "    category: connection\n"
                                       "    severity: error\n"
                                       "    pattern: '(?i)^(?![\\s\\S]*?(?:(?{host-out})))[\\s\\S]*?connection (?{fail})'\n"
                                       "    examples:\n"
                                       "      match: ['Connection timed out to db01', 'connection refused']\n"
                                       "      no_match: ['connection refused by localhost', 'connection (?{fail})']\n"
                                       "  - id: b\n"
                                       "    category: test\n"
                                       "    severity: info\n"
                                       "    pattern: 'x\\(?{fail}|[(?{fail})]y|\\Q(?{fail})\\E|(?#(?{fail})z(?{fail})'\n"),
                          AW_OK);
    CU_ASSERT_EQUAL(fx->diags.count, 0);
    CU_ASSERT_EQUAL_FATAL(aw_rules_count(fx->rs), 2);
    ri = aw_rules_get(fx->rs, 0);
    CU_ASSERT_STRING_EQUAL(ri->pattern,
                           "(?i)^(?![\\s\\S]*?(?:\\blocalhost\\b|127\\.))[\\s\\S]*?connection (?:timed out|refused)");
    /* the literals of the expanded pattern, its alternation distributed */
    CU_ASSERT_EQUAL(ri->literal_count, 2);
    CU_ASSERT_STRING_EQUAL(aw_rules_get_literal(fx->rs, 0, 0), "connection timed out");
    CU_ASSERT_STRING_EQUAL(aw_rules_get_literal(fx->rs, 0, 1), "connection refused");
    CU_ASSERT_EQUAL(ri->example_match_count, 2);
    CU_ASSERT_EQUAL(aw_rules_find(fx->rs, "a"), 0);
    /* only the last placeholder of b is one */
    ri = aw_rules_get(fx->rs, 1);
    CU_ASSERT_STRING_EQUAL(ri->pattern,
                           "x\\(?{fail}|[(?{fail})]y|\\Q(?{fail})\\E|(?#(?{fail})z(?:timed out|refused)");
}

/* The examples check runs on the expanded pattern: an example that only
 * the fragment's text decides fails at its own position. */
FX_TEST(test_fragments_examples)
{
    EXPECT_LOAD_ERROR(fx, "r.yaml",
                      "fragments:\n"
                      "  word: 'refused'\n"
                      "rules:\n"
                      "  - id: a\n"
                      "    category: test\n"
                      "    severity: info\n"
                      "    pattern: 'connection (?{word})'\n"
                      "    examples:\n"
                      "      match: ['connection refused', 'connection (?{word})']\n"
                      "      no_match: ['connection reset', 'connection refused twice']\n",
                      "r.yaml:9:37: rule 'a': example does not match the pattern",
                      "r.yaml:10:38: rule 'a': no_match example matches the pattern");
}

/* Every misuse is one line at its own position, with the rule or the
 * fragment named; nothing is loaded. */
FX_TEST(test_fragments_errors)
{
    char *per = tu_path(fx->dir, "per");

    EXPECT_LOAD_ERROR(fx, "r.yaml",
                      "fragments:\n"
                      "  ok: 'abc'\n"
                      "  Bad: 'x'\n"
                      "  seq: [x]\n"
                      "  nul:\n"
                      "  empty: ''\n"
                      "  nest: 'a(?{ok})'\n"
                      "  ok: 'again'\n"
                      "rules:\n"
                      "  - id: unknown\n"
                      "    category: test\n"
                      "    severity: info\n"
                      "    pattern: 'x(?{nope})y(?{ok})'\n"
                      "  - id: malformed\n"
                      "    category: test\n"
                      "    severity: info\n"
                      "    pattern: 'x(?{ok)y'\n"
                      "  - id: bad-name\n"
                      "    category: test\n"
                      "    severity: info\n"
                      "    pattern: 'x(?{Bad})'\n",
                      "r.yaml:3:3: invalid fragment name 'Bad': expected [a-z][a-z0-9_-]*, at most 64 characters",
                      "r.yaml:4:8: fragment 'seq' must be a non-empty string, not a sequence",
                      "r.yaml:5:7: fragment 'nul' must be a non-empty string, not null",
                      "r.yaml:6:10: fragment 'empty' must be a non-empty string, not empty",
                      "r.yaml:7:9: fragment 'nest' uses another fragment ('(?{ok})'): fragments cannot nest",
                      "r.yaml:8:3: duplicate fragment 'ok' (first defined at @r.yaml:2:3)",
                      "r.yaml:13:14: rule 'unknown': unknown fragment 'nope' (not defined in this file's 'fragments')",
                      "r.yaml:17:14: rule 'malformed': malformed fragment placeholder '(?{ok)y' at pattern offset 1: "
                      "expected (?{name})",
                      "r.yaml:21:14: rule 'bad-name': unknown fragment 'Bad' (not defined in this file's 'fragments')");

    /* fragments are per file: another file's do not count */
    CU_ASSERT_EQUAL_FATAL(mkdir(per, 0700), 0);
    free(fx_write(fx, "per/a.yaml", "fragments:\n  ok: 'abc'\nrules:\n  - id: a\n    category: test\n"
                                "    severity: info\n    pattern: 'x(?{ok})'\n"));
    free(fx_write(fx, "per/b.yaml", "rules:\n  - id: b\n    category: test\n    severity: info\n"
                                "    pattern: 'y(?{ok})'\n"));
    CU_ASSERT_EQUAL(fx_load(fx, per), AW_ESYNTAX);
    free(per);
    EXPECT_DIAGS(fx, "per/b.yaml:5:14: rule 'b': pattern uses fragment 'ok' but this file has no 'fragments' "
                     "mapping (fragments are per file)");

    EXPECT_LOAD_ERROR(fx, "a.yaml", "fragments: [a]\nrules:\n  - id: a\n    category: test\n"
                                    "    severity: info\n    pattern: 'x(?{a})'\n",
                      "a.yaml:1:12: key 'fragments' must be a mapping, not a sequence",
                      "a.yaml:6:14: rule 'a': pattern uses fragment 'a' but this file has no 'fragments' "
                      "mapping (fragments are per file)");
}

/* An expanded pattern is held to the rule file limit (4 MiB), checked
 * before anything is allocated; a pattern error inside a fragment points
 * at the pattern's scalar and says the pattern was expanded. */
FX_TEST(test_fragments_limits)
{
    size_t big = 64 * 1024, o;
    char *text = malloc(big + 4096);

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    o = (size_t)snprintf(text, 4096, "fragments:\n  big: '");
    memset(text + o, 'a', big);
    o += big;
    o += (size_t)snprintf(text + o, 4096, "'\nrules:\n  - id: huge\n    category: test\n    severity: info\n"
                                          "    pattern: 'x");
    for (int i = 0; i < 70; i++) {        /* 70 x 64 KiB > 4 MiB */
        o += (size_t)snprintf(text + o, 4096 - 80, "(?{big})");
    }
    snprintf(text + o, 80, "'\n");
    EXPECT_LOAD_ERROR(fx, "r.yaml", text,
                      "r.yaml:7:14: rule 'huge': pattern with its fragments expanded is longer than 4194304 bytes");
    free(text);

    EXPECT_LOAD_ERROR(fx, "r.yaml",
                      "fragments:\n  open: '(?:a|b'\nrules:\n  - id: a\n    category: test\n    severity: info\n"
                      "    pattern: 'x(?{open})'\n",
                      "r.yaml:7:14: rule 'a': invalid pattern: missing closing parenthesis at pattern offset 7 "
                      "(fragments expanded)");
}

/* PCRE2 has no (?{...}) construct: a pattern that compiled before
 * fragments existed cannot contain a placeholder outside an escape,
 * class, \Q...\E or comment.  Fails if PCRE2 ever gives it a meaning. */
static void test_fragments_syntax_is_no_pcre2(void)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR) "a(?{name})b", PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);

    CU_ASSERT_PTR_NULL(c);
    pcre2_code_free(c);
}

/* `rules check` warns about a fragment no pattern uses (a warning: it
 * changes no match), and places a backtracking warning inside an
 * expanded fragment at the pattern's scalar, quoting the expanded text. */
FX_TEST(test_fragments_lint)
{
    struct aw_diags w = { 0 };
    char want[512];

    lint_of(fx,
            "fragments:\n"
            "  spare: 'abc'\n"
            "  slow: '(a+)+'\n"
            "rules:\n"
            "  - id: a\n"
            "    category: test\n"
            "    severity: info\n"
            "    pattern: 'xy(?{slow})z'\n",
            &w);
    CU_ASSERT_EQUAL(w.count, 2);
    if (w.count == 2) {
        snprintf(want, sizeof(want), "%s/r.yaml:8:14: warning: rule 'a': pattern may backtrack badly: nested "
                 "unbounded quantifiers (like (a+)+) at '(a+)+z'", fx->dir);
        CU_ASSERT_STRING_EQUAL(w.items[0], want);
        snprintf(want, sizeof(want), "%s/r.yaml:2:3: warning: fragment 'spare' is not used by any pattern of "
                 "this file", fx->dir);
        CU_ASSERT_STRING_EQUAL(w.items[1], want);
    }
    aw_diags_free(&w);
}

/* rules/95-shapes.yaml's health shapes use the file's fragments: the
 * loaded patterns hold no placeholder, and each still carries the
 * exclusions it had before they were factored out (a word of health-out,
 * health-out-status and a start word each). */
static void test_fragments_shipped(void)
{
    struct aw_ruleset *rs = NULL;
    struct aw_diags d = { 0 };
    struct aw_err err = { 0 };
    char *path = tu_src_path("rules/95-shapes.yaml");
    static const char *const ids[] = { "health.shape", "health.shape.exchange", "health.shape.served",
                                       "health.shape.named" };

    CU_ASSERT_EQUAL_FATAL(aw_rules_load(path, &rs, &d, &err), AW_OK);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        long k = aw_rules_find(rs, ids[i]);
        const char *p;
        CU_ASSERT_FATAL(k >= 0);
        p = aw_rules_get(rs, (size_t)k)->pattern;
        CU_ASSERT_PTR_NULL(strstr(p, "(?{"));
        CU_ASSERT_PTR_NOT_NULL(strstr(p, "|\\b(?:fail|fails|failed|failure|failures|failing|errors?|"));
        CU_ASSERT_PTR_NOT_NULL(strstr(p, "|\\bcrl\\b|revocation|partial|job\\b|"));
        CU_ASSERT_PTR_NOT_NULL(strstr(p, "started|starting|queued|scheduled|begin|beginning|pending)\\b))"));
    }
    aw_diags_free(&d);
    aw_rules_free(&rs);
    free(path);
}

/* Two or more top-level alternatives opening with \b are a cost warning,
 * placed at the second of them; \b inside a group, behind an escaped bar
 * or a bar inside a class does not count. */
static void test_lint_boundary_branches(void)
{
    struct fixture fx;
    struct aw_diags w = { 0 };
    char yaml[4096], want[512];
    size_t o = 0;
    static const char *const pats[] = {
        "(?i)\\bfoo\\b|\\bbar\\b", "x|\\ba|\\bb|\\bc", "(?i)\\b(?:foo|bar)\\b", "foo|\\bbar",
        "(?:\\bx|\\by)z", "a[|]\\bb|\\bc", "\\|\\bx|\\by",
    };

    fx_init(&fx);
    o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "rules:\n");
    append_rules(yaml, sizeof(yaml), o, "p", pats, sizeof(pats) / sizeof(pats[0]));
    lint_of(&fx, yaml, &w);
    CU_ASSERT_EQUAL(w.count, 2);
    if (w.count == 2) {
        /* line 5: "    pattern: '" is 14 columns; the second \b is at offset 12 */
        snprintf(want, sizeof(want), "%s/r.yaml:5:27: warning: rule 'p0': 2 top-level alternatives each open "
                 "with \\b: put them behind one \\b(?:...), tested once per start position instead of once per "
                 "alternative", fx.dir);
        CU_ASSERT_STRING_EQUAL(w.items[0], want);
        CU_ASSERT_PTR_NOT_NULL(strstr(w.items[1], "r.yaml:9:21: warning: rule 'p1': 3 top-level alternatives"));
    }
    aw_diags_free(&w);
    fx_fini(&fx);
}

/* The shipped rule set loads without a single warning (rules/README.md,
 * "Warnings"). */
static void test_lint_shipped_clean(void)
{
    struct aw_ruleset *rs = NULL;
    struct aw_diags d = { 0 }, w = { 0 };
    struct aw_err err = { 0 };
    char *path = tu_src_path("rules");

    CU_ASSERT_EQUAL_FATAL(aw_rules_load(path, &rs, &d, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_rules_lint(rs, &w, &err), AW_OK);
    for (size_t i = 0; i < w.count; i++) {
        fprintf(stderr, "\n  %s", w.items[i]);
    }
    CU_ASSERT_EQUAL(w.count, 0);
    aw_diags_free(&w);
    aw_diags_free(&d);
    aw_rules_free(&rs);
    free(path);
}

/* A message and the rules (bits) the prefilter must mark for it. */
struct pf_case {
    const char *msg;
    uint64_t want;
};

/* The prefilter of nrules rules with the literals lits[r][0..nlits[r])
 * (built as a DFA) marks exactly each case's rules. */
static void expect_prefilter(size_t nrules, char **const *lits, const size_t *nlits,
                             const struct pf_case *cases, size_t n)
{
    struct aw_prefilter pf;
    uint64_t bits[1];

    CU_ASSERT_EQUAL_FATAL(aw_prefilter_build(&pf, nrules, lits, nlits), AW_OK);
    CU_ASSERT_TRUE_FATAL(pf.have_dfa);
    for (size_t i = 0; i < n; i++) {
        aw_prefilter_scan(&pf, bits, (const unsigned char *)cases[i].msg, strlen(cases[i].msg));
        if (bits[0] != cases[i].want) {
            fprintf(stderr, "\n  '%s': bits %llx, want %llx", cases[i].msg,
                    (unsigned long long)bits[0], (unsigned long long)cases[i].want);
        }
        CU_ASSERT_EQUAL(bits[0], cases[i].want);
    }
    aw_prefilter_free(&pf);
}

/* The prefilter's first look: literals that start in the last one to four
 * bytes (where the four-byte hash cannot be taken), upper case in the
 * message, a one-byte literal, and a literal that begins inside another's
 * near miss.  Each marks exactly its rule. */
static void test_prefilter_first_look(void)
{
    static char *l0[] = { "x" }, *l1[] = { "ab" }, *l2[] = { "abc" }, *l3[] = { "wxyz0" },
                *l4[] = { "conn" };
    char **const lits[] = { l0, l1, l2, l3, l4 };
    const size_t nlits[] = { 1, 1, 1, 1, 1 };
    static const struct pf_case cases[] = {
        { "", 0 },
        { "q", 0 },
        { "X", 1 },
        { "...... X", 1 },
        { "......AB", 2 },
        { "......aBc", 6 },
        { "zzWXYZ0", 8 | 1 },
        { "WXYZ", 1 },
        { "cocoCONn", 16 },
        { "coNcOnN tail", 16 },
        { "wxyz wxyz0", 8 | 1 },
        { "none of them here, 12345 yes", 0 },
    };
    expect_prefilter(5, lits, nlits, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The jump four bytes down the trie folds case by setting bit 5 of each
 * byte, so "a@bc" and "a`bc" share a key: literals whose first four bytes
 * fold alike but differ must still each mark their own rule. */
static void test_prefilter_fold_collision(void)
{
    static char *l0[] = { "a@bcd" }, *l1[] = { "a`bce" }, *l2[] = { "a`bcdef" };
    char **const lits[] = { l0, l1, l2 };
    const size_t nlits[] = { 1, 1, 1 };
    static const struct pf_case cases[] = {
        { "xx a@bcd yy", 1 },
        { "xx a`bce yy", 2 },
        { "xx A`BCE yy", 2 },
        { "xx a`bcdef", 4 },
        { "xx A@BCD and a`bce", 3 },
        { "xx a`bcd", 0 },
    };
    expect_prefilter(3, lits, nlits, cases, sizeof(cases) / sizeof(cases[0]));
}

FX_TEST(test_lint_shadowing)
{
    struct aw_diags w = { 0 };
    char want[512];

    lint_of(fx,
            "rules:\n"
            "  - id: conn\n"
            "    category: connection\n"
            "    severity: error\n"
            "    pattern: '(?i)connect'\n"
            "  - id: unable\n"
            "    category: connection\n"
            "    severity: error\n"
            "    pattern: '(?i)unable to connect'\n"
            "    examples:\n"
            "      match: ['Unable to connect to server', 'unable to connect']\n"
            "  - id: refused\n"
            "    category: connection\n"
            "    severity: error\n"
            "    pattern: '(?i)refused'\n"
            "    examples:\n"
            "      match: ['connection refused', 'actively refused it']\n"
            "  - id: plain\n"
            "    category: connection\n"
            "    severity: error\n"
            "    pattern: '(?i)unable'\n",
            &w);
    CU_ASSERT_EQUAL_FATAL(w.count, 1);
    snprintf(want, sizeof(want),
             "%s/r.yaml:6:5: warning: rule 'unable' can never match: an earlier rule matches all its "
             "match examples first ('conn' at %s/r.yaml:2:5)", fx->dir, fx->dir);
    CU_ASSERT_STRING_EQUAL(w.items[0], want);
    aw_diags_free(&w);

    /* the shipped rule set is lint-clean */
    {
        char *dir = tu_src_path("rules");
        CU_ASSERT_EQUAL_FATAL(fx_load(fx, dir), AW_OK);
        CU_ASSERT_EQUAL(aw_rules_lint(fx->rs, &w, &fx->err), AW_OK);
        for (size_t i = 0; i < w.count; i++) {
            fprintf(stderr, "\n  %s", w.items[i]);
        }
        CU_ASSERT_EQUAL(w.count, 0);
        aw_diags_free(&w);
        free(dir);
    }
}

/* The shipped code rules match every spelling of their codes and capture
 * the code as written. */
static void test_shipped_code_spellings(void)
{
    static const struct {
        const char *msg, *id, *code, *target;
    } cases[] = {
        { "Lookup failed (0x80072EE7)", "resolution.name-not-resolved.code", "0x80072EE7", NULL },
        { "Lookup failed (80072ee7)", "resolution.name-not-resolved.code", "80072ee7", NULL },
        { "Lookup failed: -2147012889", "resolution.name-not-resolved.code", "-2147012889", NULL },
        { "[CCMHTTP] ERROR: URL=https://smp01/ccm_system/request, Port=443, Code=12007, Text=x",
          "resolution.name-not-resolved.code", "12007", "https://smp01/ccm_system/request" },
        { "WinHttpSendRequest failed (12007)", "resolution.name-not-resolved.code", "12007", NULL },
        { "Failed to send request to smp01.corp.example: The operation timed out (0x80072EE2)",
          "connection.timeout.code", "0x80072EE2", "smp01.corp.example" },
        { "Unable to connect to server smp01.corp.example: x (0x800B010A)", "ssl.untrusted-root.code",
          "0x800B010A", "smp01.corp.example" },
        { "Chain error -2146762487", "ssl.untrusted-root.code", "-2146762487", NULL },
        { "SEC_E_UNTRUSTED_ROOT (0x80090325)", "ssl.untrusted-root.code", "SEC_E_UNTRUSTED_ROOT", NULL },
        { "Handshake: 0x80090322", "ssl.name-mismatch.code", "0x80090322", NULL },
        { "Revocation: 800B010E", "ssl.revocation-check.code", "800B010E", NULL },
        { "Expired: -2146893016", "ssl.cert-expired.code", "-2146893016", NULL },
        { "error 12029 from WinHttpConnect", "connection.cannot-connect.code", "12029", NULL },
        /* code-like numbers that are no codes */
        { "Processed 12007 files", NULL, NULL, NULL },
        { "Timeout set to 12002 ms", NULL, NULL, NULL },
        { "Hash 80072ee7ab01 verified", NULL, NULL, NULL },
        { "Item -21470128891 skipped", NULL, NULL, NULL },
        { "Done, error=0x00000000, 0 errors", NULL, NULL, NULL },
    };
    char *dir = tu_src_path("rules");
    struct fixture fx;
    struct aw_matcher *m = NULL;

    fx_init(&fx);
    CU_ASSERT_EQUAL_FATAL(fx_load(&fx, dir), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(fx.rs, &m, &fx.err), AW_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = aw_matcher_classify(m, cases[i].msg, strlen(cases[i].msg));
        const char *gid = got >= 0 ? aw_rules_get(fx.rs, (size_t)got)->id : NULL;
        const char *t;
        size_t len;
        bool ok = (gid == NULL && cases[i].id == NULL) ||
                  (gid != NULL && cases[i].id != NULL && strcmp(gid, cases[i].id) == 0);

        if (!ok) {
            fprintf(stderr, "\n  '%s': got %s, want %s", cases[i].msg, gid ? gid : "-",
                    cases[i].id ? cases[i].id : "-");
        }
        CU_ASSERT_TRUE(ok);
        if (cases[i].code != NULL) {
            CU_ASSERT_TRUE(aw_matcher_capture(m, "code", &t, &len) && len == strlen(cases[i].code) &&
                           memcmp(t, cases[i].code, len) == 0);
        }
        if (got >= 0) {
            bool have = aw_matcher_capture(m, "target", &t, &len);
            CU_ASSERT_EQUAL(have, cases[i].target != NULL);
            if (have && cases[i].target != NULL) {
                CU_ASSERT(len == strlen(cases[i].target) && memcmp(t, cases[i].target, len) == 0);
            }
        }
    }
    aw_matcher_free(&m);
    fx_fini(&fx);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* agentwatch rules test / check, black box                             */

static int aw_run(char **out, char **err, const char *a1, ...)
{
    char *argv[32];
    va_list ap;
    int n = 0;

    argv[n++] = (char *)tu_agentwatch_bin();
    argv[n++] = (char *)a1;
    va_start(ap, a1);
    while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL) {
        n++;
    }
    va_end(ap);
    argv[n] = NULL;
    return tu_run(argv, out, err);
}

FX_TEST(test_cli_rules_test_examples)
{
    char *bad, *good = NULL, *out = NULL, *err = NULL, want[1024];

    bad = fx_write(fx, "bad.yaml", failing_examples_yaml);
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--rules", bad, NULL), 1);
    CU_ASSERT_STRING_EQUAL(err, "");
    snprintf(want, sizeof(want),
             "FAIL conn (1 of 3 examples failed)\n"
             "%s:8:30: rule 'conn': no_match example matches the pattern: \"connected fine\"\n"
             "FAIL dns (1 of 3 examples failed)\n"
             "%s:14:40: rule 'dns': match example does not match the pattern: \"unknown host\"\n"
             "%s: 2 rules, 6 examples: 4 passed, 2 failed (in 2 rules)\n",
             bad, bad, bad);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
    free(err);

    /* shadowing is a failure of `test`; rules without examples are not */
    good = fx_write(fx, "shadow.yaml",
                    "rules:\n"
                    "  - id: conn\n"
                    "    category: connection\n"
                    "    severity: error\n"
                    "    pattern: '(?i)connect'\n"
                    "    examples:\n"
                    "      match: ['cannot connect']\n"
                    "      no_match: ['fine']\n"
                    "  - id: unable\n"
                    "    category: connection\n"
                    "    severity: error\n"
                    "    pattern: '(?i)unable to'\n"
                    "    examples:\n"
                    "      match: ['unable to connect', 'unable to send']\n"
                    "  - id: bare\n"
                    "    category: connection\n"
                    "    severity: error\n"
                    "    pattern: 'bare'\n");
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--rules", good, NULL), 1);
    snprintf(want, sizeof(want),
             "ok   conn (1 match, 1 no_match)\n"
             "FAIL unable (1 of 2 examples failed)\n"
             "%s:14:15: rule 'unable': match example is classified as earlier rule 'conn' (%s:2:5): "
             "\"unable to connect\"\n"
             "--   bare (no examples)\n"
             "%s: 3 rules, 4 examples: 3 passed, 1 failed (in 1 rule), 1 rule without examples\n",
             good, good, good);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
    free(err);
    /* --quiet: only the failures and the summary */
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--quiet", "--rules", good, NULL), 1);
    CU_ASSERT_PTR_NULL(strstr(out, "ok   conn"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "FAIL unable"));
    free(out);
    free(err);
    free(good);

    /* the shipped set passes */
    good = tu_src_path("rules");
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--rules", good, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ok   ssl.untrusted-root.code ("));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " failed\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "passed, 0 failed\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "FAIL"));
    free(out);
    free(err);

    /* a broken rule set: its problems, exit 1 */
    free(bad);
    bad = fx_write(fx, "broken.yaml", "rules:\n  - id: x\n    category: c\n    severity: error\n    pattern: '('\n");
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--rules", bad, NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "broken.yaml:5:16: rule 'x': invalid pattern"));
    free(out);
    free(err);

    /* usage errors */
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "check", "--quiet", NULL), 2);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--format", "tsv", "x.log", NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "invalid --format 'tsv'"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--format", "itms", NULL), 2);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "--help", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "agentwatch rules test  [--rules PATH] [--local-rules PATH] [--quiet]\n"));
    free(out);
    free(err);
    free(bad);
    free(good);
}

static void test_cli_rules_test_files(void)
{
    struct fixture fx;
    char *log, *cm, *rules = tu_src_path("rules"), *out = NULL, *err = NULL, want[2048];
    static const char itms[] =
        "<event date='03/11/2025 08:00:01.0000000 +01:00' severity='4' hostName='WKS' source='Agent' >"
        "<![CDATA[Agent service started]]></event>\n"
        "<event date='03/11/2025 08:00:02.0000000 +01:00' severity='1' hostName='WKS' source='Agent' >"
        "<![CDATA[Failed to send request to smp01.corp.example: x (0x80072F0D)\nsecond line]]></event>\n"
        "<event date='03/11/2025 08:00:03.0000000 +01:00' severity='2' hostName='WKS' source='Agent' >"
        "<![CDATA[Configuration request failed, will retry in 5 minutes]]></event>\n"
        "<event date='03/11/2025 08:00:04.0000000 +01:00' severity='4' hostName='WKS' source='Agent' >"
        "<![CDATA[Connected to server smp01.corp.example (HTTPS, port 443)]]></event>\n";
    static const char ccm[] =
        "<![LOG[Failed to retrieve MP list, error 80072ee7\x1b[31m]LOG]!><time=\"08:00:00.000+000\" "
        "date=\"3-11-2025\" component=\"LS\" context=\"\" type=\"3\" thread=\"1\" file=\"a.cpp:1\">\n"
        "<![LOG[Refresh failed]LOG]!><time=\"08:00:01.000+000\" date=\"3-11-2025\" component=\"LS\" "
        "context=\"\" type=\"3\" thread=\"1\" file=\"a.cpp:2\">\n";

    fx_init(&fx);
    log = fx_write(&fx, "agent.log", itms);
    cm = fx_write(&fx, "LocationServices.log", ccm);
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--rules", rules, log, cm, NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    snprintf(want, sizeof(want),
             "%s:0: info -: Agent service started\n"
             "%s:135: error ssl.untrusted-root.code code=0x80072F0D target=smp01.corp.example: "
             "Failed to send request to smp01.corp.example: x (0x80072F0D) ...\n"
             /* a failure word near a communication object: the shape tier
              * (rules/95-shapes.yaml) finds what no phrase rule words */
             "%s:321: warning connection.shape: Configuration request failed, will retry in 5 minutes\n"
             "%s:488: info health.connected target=smp01.corp.example: Connected to server smp01.corp.example "
             "(HTTPS, port 443)\n"
             "%s:0: error resolution.name-not-resolved.code code=80072ee7: Failed to retrieve MP list, error "
             "80072ee7?[31m\n"
             "%s:165: error -: Refresh failed\n"
             "\n"
             "hits per rule:\n"
             "       1  ssl.untrusted-root.code (ssl)\n"
             "       1  resolution.name-not-resolved.code (resolution)\n"
             "       1  health.connected (health)\n"
             "       1  connection.shape (connection)\n"
             "       2  - (no rule)\n"
             "\n"
             "unmatched error and warning records:\n"
             "%s:165: error: Refresh failed\n"
             "\n"
             "6 records in 2 files: 4 classified by 4 rules, 2 by none (1 error or warning)\n",
             log, log, log, log, cm, cm, cm);
    if (strcmp(out, want) != 0) {
        fprintf(stderr, "\n  got:\n%s\n  want:\n%s", out, want);
    }
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
    free(err);

    /* --quiet: no per-record lines; --format forces the format */
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--quiet", "--format", "line", "--rules", rules, log,
                           NULL), 0);
    CU_ASSERT_EQUAL(strncmp(out, "hits per rule:\n", 15), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "records in 1 file:"));
    free(out);
    free(err);

    /* a file that cannot be read: reported, the others still classified, exit 1 */
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "test", "--quiet", "--rules", rules, "/nonexistent/x.log", log,
                           NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.log"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "4 records in 2 files"));
    free(out);
    free(err);
    free(log);
    free(cm);
    free(rules);
    fx_fini(&fx);
}

FX_TEST(test_cli_rules_check_warnings)
{
    char *path, *out = NULL, *err = NULL, want[1024];

    path = fx_write(fx, "w.yaml",
                    "rules:\n"
                    "  - id: slow\n"
                    "    category: c\n"
                    "    severity: error\n"
                    "    pattern: 'x(a+)+y'\n");
    CU_ASSERT_EQUAL(aw_run(&out, &err, "rules", "check", "--rules", path, NULL), 0);
    snprintf(want, sizeof(want), "%s:5:16: warning: rule 'slow': pattern may backtrack badly: nested unbounded "
             "quantifiers (like (a+)+) at '(a+)+y'\n", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    snprintf(want, sizeof(want), "%s: 1 rule OK, 1 warning\n", path);
    CU_ASSERT_STRING_EQUAL(out, want);
    free(out);
    free(err);
    free(path);
}

/* ------------------------------------------------------------------ */

static int reg(void)
{
    CU_pSuite s = CU_add_suite("rules", NULL, NULL);
    static const struct tu_test tests[] = {
        { "load valid file", test_load_valid },
        { "severity names", test_severity_names },
        { "directory order", test_directory_order },
        { "first match wins", test_first_match_wins },
        { "error: unknown key", test_err_unknown_key },
        { "error: missing field", test_err_missing_field },
        { "error: duplicate key", test_err_duplicate_key_exact },
        { "error: duplicate id across files", test_err_duplicate_id_across_files },
        { "error: bad regex columns", test_err_bad_regex_columns },
        { "error: wrong types", test_err_wrong_types },
        { "error: null value", test_err_null_value },
        { "error: bad values", test_err_bad_values },
        { "error: failing examples", test_err_failing_examples },
        { "error: YAML syntax", test_err_yaml_syntax },
        { "error: empty set", test_err_empty_set },
        { "error: not a mapping", test_err_not_a_mapping },
        { "error: anchors, aliases, tags, documents", test_err_yaml_features },
        { "error: many in one file", test_err_many_in_one_file },
        { "error: not found", test_err_not_found },
        { "error: file too big", test_err_too_big },
        { "error: diagnostics capped", test_err_diags_capped },
        { "prefilter: literal extraction", test_literal_extraction },
        { "prefilter: extraction on garbage", test_literal_extraction_garbage },
        { "prefilter: stats", test_prefilter_stats },
        { "prefilter: soundness property", test_prefilter_soundness },
        { "catastrophic backtracking", test_catastrophic_backtracking },
        { "NUL bytes and invalid UTF-8", test_odd_bytes },
        { "shipped rules load and examples", test_shipped_rules_load },
        { "shipped rules classify samples", test_shipped_rules_classify },
        { "shipped code spellings and captures", test_shipped_code_spellings },
        { "captures with duplicate names", test_capture_duplicate_names },
        { "a capture beyond the 32nd group", test_capture_beyond_32_groups },
        { "keep failing examples", test_keep_failing_examples },
        { "lint: backtracking", test_lint_backtracking },
        { "lint: alternatives opening with \\b", test_lint_boundary_branches },
        { "lint: shipped rules warn about nothing", test_lint_shipped_clean },
        { "lint: shadowing", test_lint_shadowing },
        { "fragments: expansion", test_fragments_expand },
        { "fragments: examples run on the expansion", test_fragments_examples },
        { "fragments: errors", test_fragments_errors },
        { "fragments: limits and pattern errors", test_fragments_limits },
        { "fragments: no PCRE2 syntax", test_fragments_syntax_is_no_pcre2 },
        { "fragments: lint", test_fragments_lint },
        { "fragments: shipped health shapes", test_fragments_shipped },
        { "prefilter: first look", test_prefilter_first_look },
        { "prefilter: folded jump keys that collide", test_prefilter_fold_collision },
        { "cli: rules test, examples", test_cli_rules_test_examples },
        { "cli: rules test FILE...", test_cli_rules_test_files },
        { "cli: rules check warnings", test_cli_rules_check_warnings },
    };

    return tu_add_tests(s, tests, sizeof(tests) / sizeof(tests[0]));
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
