/*
 * The documented failure and success texts of the software real agents are
 * built on (tests/data/documented-texts.tsv, the checklist of rules/README.md
 * "Documented failure texts, checked"): the shipped rules must keep giving
 * each the category listed, and keep the deliberately unmatched ones
 * ("-") unmatched.  A rule change that loses a documented text, or starts
 * matching one the README says is left out on purpose, fails here with the
 * text named.
 */
#include "testutil.h"

#include "agentwatch/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each line's columns: want, family, source, text. */
#define NCOL 4

/* Fewer rows than this means the file was truncated or not found whole. */
#define MIN_ROWS 590

/* Split line into NCOL tab-separated columns in place; false if it has fewer. */
static bool split(char *line, char *col[NCOL])
{
    char *p = line;

    for (int i = 0; i < NCOL; i++) {
        col[i] = p;
        p = i < NCOL - 1 ? strchr(p, '\t') : NULL;
        if (i < NCOL - 1) {
            if (p == NULL) {
                return false;
            }
            *p++ = '\0';
        }
    }
    return true;
}

/* Check one row; returns true when the rules give the listed category. */
static bool check_row(const struct aw_ruleset *rs, struct aw_matcher *m, char *line, size_t lineno)
{
    char *col[NCOL];
    long got;
    const char *gcat;

    if (!split(line, col)) {
        fprintf(stderr, "\n  documented-texts.tsv:%zu: malformed line", lineno);
        return false;
    }
    got = aw_matcher_classify(m, col[3], strlen(col[3]));
    gcat = got >= 0 ? aw_rules_get(rs, (size_t)got)->category : "-";
    if (strcmp(gcat, col[0]) != 0) {
        fprintf(stderr, "\n  documented-texts.tsv:%zu: want %s, got %s (%s): %s", lineno, col[0], gcat,
                got >= 0 ? aw_rules_get(rs, (size_t)got)->id : "no rule", col[3]);
        return false;
    }
    return true;
}

static void test_documented_texts(void)
{
    char *rules = tu_src_path("rules");
    char *path = tu_src_path("tests/data/documented-texts.tsv");
    char *text = tu_read_file(path, NULL);
    struct aw_ruleset *rs = NULL;
    struct aw_matcher *m = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0, "" };
    size_t rows = 0, bad = 0, lineno = 0;
    bool header = true;

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL_FATAL(aw_rules_load(rules, &rs, &diags, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(rs, &m, &err), AW_OK);
    for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        lineno++;
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        if (header) {
            header = false;   /* the column names */
            continue;
        }
        rows++;
        bad += !check_row(rs, m, line, lineno);
    }
    fprintf(stderr, "\n  documented texts: %zu, %zu classified otherwise than listed\n", rows, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(rows >= MIN_ROWS);
    aw_matcher_free(&m);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    free(text);
    free(path);
    free(rules);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("documented", NULL, NULL);

    if (s == NULL || CU_add_test(s, "shipped rules on documented texts", test_documented_texts) == NULL) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
