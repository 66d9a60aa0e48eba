/*
 * The YAML node tree (yamltree.h) on its own: the shape and positions of
 * the tree, what it refuses and with which message at which position,
 * and the positioned diagnostics list both loaders build on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/yamltree.h"
#include "testutil.h"

/* Parse len bytes of text with a generous depth limit. */
static int parse_n(const char *text, size_t len, unsigned max_depth, struct aw_yaml_diags *d,
                   struct aw_yaml_node **root)
{
    return aw_yaml_parse((const unsigned char *)text, len, max_depth, d, root);
}

static int parse(const char *text, struct aw_yaml_diags *d, struct aw_yaml_node **root)
{
    return parse_n(text, strlen(text), 32, d, root);
}

/* Expect exactly these "LINE:COL: message" diagnostics, in list order. */
static void diags_are(const struct aw_yaml_diags *d, const char *const *want, size_t n)
{
    CU_ASSERT_EQUAL(d->count, n);
    for (size_t i = 0; i < n && i < d->count; i++) {
        char line[1200];
        snprintf(line, sizeof(line), "%u:%u: %s", d->items[i].line, d->items[i].col,
                 d->items[i].msg);
        CU_ASSERT_STRING_EQUAL(line, want[i]);
        if (strcmp(line, want[i]) != 0) {
            fprintf(stderr, "\n got: %s\nwant: %s\n", line, want[i]);
        }
    }
    for (size_t i = n; i < d->count; i++) {
        fprintf(stderr, "\nextra: %u:%u: %s\n", d->items[i].line, d->items[i].col,
                d->items[i].msg);
    }
}

/* A node is at this 1-based line and column. */
static void at(const struct aw_yaml_node *n, unsigned line, unsigned col)
{
    CU_ASSERT_EQUAL((unsigned)n->start.line + 1, line);
    CU_ASSERT_EQUAL((unsigned)n->start.column + 1, col);
}

static void is_scalar(const struct aw_yaml_node *n, const char *val)
{
    CU_ASSERT_EQUAL(n->kind, AW_YAML_SCALAR);
    CU_ASSERT_EQUAL(n->len, strlen(val));
    CU_ASSERT_STRING_EQUAL(n->val, val);
    CU_ASSERT_EQUAL(n->nkids, 0);
    CU_ASSERT_FALSE(n->bad);
}

static void test_tree(void)
{
    struct aw_yaml_diags d = { 0 };
    struct aw_yaml_node *root = NULL, *list, *flow;

    CU_ASSERT_EQUAL(parse("# a comment first\n"
                          "name: agent\n"
                          "list:\n"
                          "  - one\n"
                          "  - 'two'\n"
                          "flow: {a: \"x\", b: [1, 2]}\n",
                          &d, &root),
                    AW_OK);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL(root->kind, AW_YAML_MAP);
    at(root, 2, 1);
    /* a mapping holds key, value, key, value, ... in file order */
    CU_ASSERT_EQUAL_FATAL(root->nkids, 6);
    is_scalar(root->kids[0], "name");
    at(root->kids[0], 2, 1);
    is_scalar(root->kids[1], "agent");
    at(root->kids[1], 2, 7);
    CU_ASSERT_TRUE(root->kids[1]->plain);
    CU_ASSERT_EQUAL(root->kids[1]->style, YAML_PLAIN_SCALAR_STYLE);
    is_scalar(root->kids[2], "list");
    at(root->kids[2], 3, 1);

    list = root->kids[3];
    CU_ASSERT_EQUAL(list->kind, AW_YAML_SEQ);
    at(list, 4, 3);
    CU_ASSERT_EQUAL_FATAL(list->nkids, 2);
    is_scalar(list->kids[0], "one");
    at(list->kids[0], 4, 5);
    is_scalar(list->kids[1], "two");
    at(list->kids[1], 5, 5);
    CU_ASSERT_FALSE(list->kids[1]->plain);
    CU_ASSERT_EQUAL(list->kids[1]->style, YAML_SINGLE_QUOTED_SCALAR_STYLE);
    /* a scalar's end is just past its closing quote; a collection's is
     * where its end event is */
    CU_ASSERT_EQUAL(list->kids[1]->end.line, 4);
    CU_ASSERT_EQUAL(list->kids[1]->end.column, 9);
    CU_ASSERT_EQUAL(list->end.line, 5);

    flow = root->kids[5];
    CU_ASSERT_EQUAL(flow->kind, AW_YAML_MAP);
    at(flow, 6, 7);
    CU_ASSERT_EQUAL(flow->end.line, 5);
    CU_ASSERT_EQUAL(flow->end.column, 25);
    CU_ASSERT_EQUAL_FATAL(flow->nkids, 4);
    is_scalar(flow->kids[1], "x");
    at(flow->kids[1], 6, 11);
    CU_ASSERT_EQUAL(flow->kids[1]->style, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    CU_ASSERT_EQUAL(flow->kids[3]->kind, AW_YAML_SEQ);
    at(flow->kids[3], 6, 19);
    CU_ASSERT_EQUAL_FATAL(flow->kids[3]->nkids, 2);
    /* no type guessing: a number is the string it is written as */
    is_scalar(flow->kids[3]->kids[1], "2");
    at(flow->kids[3]->kids[1], 6, 23);

    aw_yaml_free(root);
    aw_yaml_diags_free(&d);
}

static void test_null_and_strings(void)
{
    struct aw_yaml_diags d = { 0 };
    struct aw_yaml_node *root = NULL;
    static const struct {
        const char *val;
        bool null;
    } want[] = {
        { "", true },     { "~", true },     { "null", true },  { "Null", true },
        { "NULL", true }, { "nULL", false }, { "null", false }, { "", false },
        { "~", false },   { "0", false },
    };
    size_t n = sizeof(want) / sizeof(want[0]);

    CU_ASSERT_EQUAL(parse("- \n- ~\n- null\n- Null\n- NULL\n- nULL\n- 'null'\n- \"\"\n"
                          "- |\n  ~\n- 0\n",
                          &d, &root),
                    AW_OK);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL_FATAL(root->nkids, n);
    for (size_t i = 0; i < n; i++) {
        const struct aw_yaml_node *k = root->kids[i];
        /* the literal block keeps its line break */
        size_t len = strlen(want[i].val) + (k->style == YAML_LITERAL_SCALAR_STYLE);

        CU_ASSERT_EQUAL(k->kind, AW_YAML_SCALAR);
        CU_ASSERT_EQUAL(k->len, len);
        CU_ASSERT_EQUAL(memcmp(k->val, want[i].val, strlen(want[i].val)), 0);
        CU_ASSERT_EQUAL(k->null, want[i].null);
        if (k->null != want[i].null) {
            fprintf(stderr, "\nitem %zu: null is %d\n", i, k->null);
        }
    }
    CU_ASSERT_STRING_EQUAL(aw_yaml_kind_name(root), "a sequence");
    CU_ASSERT_STRING_EQUAL(aw_yaml_kind_name(root->kids[0]), "null");
    CU_ASSERT_STRING_EQUAL(aw_yaml_kind_name(root->kids[6]), "a string");
    aw_yaml_free(root);
    aw_yaml_diags_free(&d);

    /* an escaped NUL stays in the value: len counts it, val is still
     * NUL-terminated after it */
    CU_ASSERT_EQUAL(parse("{k: \"a\\0b\"}\n", &d, &root), AW_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_STRING_EQUAL(aw_yaml_kind_name(root), "a mapping");
    CU_ASSERT_EQUAL_FATAL(root->nkids, 2);
    CU_ASSERT_EQUAL(root->kids[1]->len, 3);
    CU_ASSERT_EQUAL(memcmp(root->kids[1]->val, "a\0b", 4), 0);
    aw_yaml_free(root);
    aw_yaml_diags_free(&d);
}

static void test_empty_documents(void)
{
    struct aw_yaml_diags d = { 0 };
    static struct aw_yaml_node stale;
    struct aw_yaml_node *root = &stale;   /* must be overwritten */

    /* no document at all: no tree and nothing to say */
    CU_ASSERT_EQUAL(parse("", &d, &root), AW_OK);
    CU_ASSERT_PTR_NULL(root);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_EQUAL(parse("# only a comment\n\n", &d, &root), AW_OK);
    CU_ASSERT_PTR_NULL(root);
    CU_ASSERT_EQUAL(d.count, 0);

    /* an explicit empty document is a null scalar */
    CU_ASSERT_EQUAL(parse("---\n...\n", &d, &root), AW_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL(root->kind, AW_YAML_SCALAR);
    CU_ASSERT_TRUE(root->null);
    CU_ASSERT_EQUAL(d.count, 0);
    aw_yaml_free(root);
    aw_yaml_free(NULL);

    /* a lone scalar is a tree of one node */
    CU_ASSERT_EQUAL(parse("\n  just text\n", &d, &root), AW_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    is_scalar(root, "just text");
    at(root, 2, 3);
    aw_yaml_free(root);
    aw_yaml_diags_free(&d);
}

static void test_refused_features(void)
{
    struct aw_yaml_diags d = { 0 };
    struct aw_yaml_node *root = NULL;

    /* anchors, aliases and tags are reported where they stand, and the
     * tree is still built so the loaders can go on validating */
    CU_ASSERT_EQUAL(parse("base: &b {x: 1}\n"
                          "copy: *b\n"
                          "tagged: !!str y\n"
                          "both: &s !local z\n",
                          &d, &root),
                    AW_OK);
    {
        const char *want[] = {
            "1:7: YAML anchors are not supported (anchor '&b')",
            "2:7: YAML aliases are not supported (alias '*b')",
            "3:9: YAML tags are not supported (tag 'tag:yaml.org,2002:str')",
            "4:7: YAML anchors are not supported (anchor '&s')",
            "4:7: YAML tags are not supported (tag '!local')",
        };
        diags_are(&d, want, 5);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL_FATAL(root->nkids, 8);
    CU_ASSERT_EQUAL(root->kids[1]->kind, AW_YAML_MAP);
    CU_ASSERT_FALSE(root->kids[1]->bad);
    /* the alias is a placeholder marked bad, already reported */
    CU_ASSERT_EQUAL(root->kids[3]->kind, AW_YAML_SCALAR);
    CU_ASSERT_TRUE(root->kids[3]->bad);
    CU_ASSERT_PTR_NULL(root->kids[3]->val);
    at(root->kids[3], 2, 7);
    /* a tagged scalar is never plain, so never null or an integer */
    CU_ASSERT_EQUAL(root->kids[5]->style, YAML_PLAIN_SCALAR_STYLE);
    CU_ASSERT_FALSE(root->kids[5]->plain);
    aw_yaml_free(root);
    aw_yaml_diags_free(&d);

    CU_ASSERT_EQUAL(parse("!!null ~\n", &d, &root), AW_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_FALSE(root->null);
    CU_ASSERT_STRING_EQUAL(aw_yaml_kind_name(root), "a string");
    aw_yaml_free(root);
    aw_yaml_diags_free(&d);

    /* a second document is fatal: no tree */
    root = NULL;
    CU_ASSERT_EQUAL(parse("a: 1\n---\na: 2\n", &d, &root), AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(root);
    {
        const char *want[] = { "2:1: multiple YAML documents in one file are not supported" };
        diags_are(&d, want, 1);
    }
    aw_yaml_diags_free(&d);

    /* an anchor name is shown cut and without control characters */
    {
        char text[200], msg[200];
        const char *want[] = { msg };

        /* the message shows 76 of the 100 characters: 80 bytes less "..." */
        snprintf(text, sizeof(text), "&%0100d x\n", 0);
        memset(text + 1, 'a', 100);
        snprintf(msg, sizeof(msg), "1:1: YAML anchors are not supported (anchor '&%.76s...')",
                 text + 1);
        CU_ASSERT_EQUAL(parse(text, &d, &root), AW_OK);
        diags_are(&d, want, 1);
        aw_yaml_free(root);
        aw_yaml_diags_free(&d);
    }
}

static void test_duplicate_keys_kept(void)
{
    struct aw_yaml_diags d = { 0 };
    struct aw_yaml_node *root = NULL;

    /* the tree keeps every key in order; the loaders report duplicates,
     * because only they know the schema and the file name */
    CU_ASSERT_EQUAL(parse("k: 1\nk: 2\n", &d, &root), AW_OK);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL_FATAL(root->nkids, 4);
    is_scalar(root->kids[0], "k");
    is_scalar(root->kids[2], "k");
    is_scalar(root->kids[3], "2");
    at(root->kids[2], 2, 1);
    aw_yaml_free(root);
    aw_yaml_diags_free(&d);
}

static void test_syntax_errors(void)
{
    struct aw_yaml_diags d = { 0 };
    struct aw_yaml_node *root = NULL;

    CU_ASSERT_EQUAL(parse("a: 1\nb:\n  - x\n - y\n", &d, &root), AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(root);
    {
        const char *want[] = { "4:2: YAML syntax error: did not find expected key (while "
                               "parsing a block mapping started at line 1, column 1)" };
        diags_are(&d, want, 1);
    }
    aw_yaml_diags_free(&d);

    /* problems found before the error stay reported */
    CU_ASSERT_EQUAL(parse("a: &x 1\nb: [\n", &d, &root), AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(root);
    {
        const char *want[] = { "1:4: YAML anchors are not supported (anchor '&x')",
                               "3:1: YAML syntax error: did not find expected node content "
                               "(while parsing a flow node started at line 3, column 1)" };
        diags_are(&d, want, 2);
    }
    aw_yaml_diags_free(&d);

    /* invalid UTF-8: the reader gives a byte offset, shown as a line and
     * a column counted in characters (é is one) */
    CU_ASSERT_EQUAL(parse("k: v\nab: \xc3\xa9\xff\n", &d, &root), AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(root);
    {
        const char *want[] = {
            "2:6: YAML syntax error: invalid leading UTF-8 octet (byte offset 11)"
        };
        diags_are(&d, want, 1);
    }
    aw_yaml_diags_free(&d);
}

static void test_nesting_limit(void)
{
    struct aw_yaml_diags d = { 0 };
    struct aw_yaml_node *root = NULL;
    const char *deep = "a: {b: [c]}\n";

    /* three levels: the limit is inclusive */
    CU_ASSERT_EQUAL(parse_n(deep, strlen(deep), 3, &d, &root), AW_OK);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL(root->kids[1]->kids[1]->kind, AW_YAML_SEQ);
    aw_yaml_free(root);

    root = NULL;
    CU_ASSERT_EQUAL(parse_n(deep, strlen(deep), 2, &d, &root), AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(root);
    {
        const char *want[] = { "1:8: YAML nesting deeper than 2 levels" };
        diags_are(&d, want, 1);
    }
    aw_yaml_diags_free(&d);

    /* the anchor and tag of the collection too deep are still reported */
    deep = "- - &a !t [x]\n";
    CU_ASSERT_EQUAL(parse_n(deep, strlen(deep), 2, &d, &root), AW_ESYNTAX);
    {
        const char *want[] = { "1:5: YAML nesting deeper than 2 levels",
                               "1:5: YAML anchors are not supported (anchor '&a')",
                               "1:5: YAML tags are not supported (tag '!t')" };
        diags_are(&d, want, 3);
    }
    aw_yaml_diags_free(&d);

    /* a limit of zero allows a scalar document only */
    CU_ASSERT_EQUAL(parse_n("x\n", 2, 0, &d, &root), AW_OK);
    CU_ASSERT_PTR_NOT_NULL(root);
    aw_yaml_free(root);
    CU_ASSERT_EQUAL(parse_n("[x]\n", 4, 0, &d, &root), AW_ESYNTAX);
    CU_ASSERT_PTR_NULL(root);
    CU_ASSERT_EQUAL(d.count, 1);
    aw_yaml_diags_free(&d);
}

static void test_diags_sorted(void)
{
    struct aw_yaml_diags d = { 0 };
    char long_msg[2000];

    CU_ASSERT_EQUAL(aw_yaml_diag_add(&d, 3, 1, "third %s", "line"), AW_OK);
    CU_ASSERT_EQUAL(aw_yaml_diag_add(&d, 1, 9, "first line, column %d", 9), AW_OK);
    CU_ASSERT_EQUAL(aw_yaml_diag_add(&d, 1, 2, "first line, column 2"), AW_OK);
    CU_ASSERT_EQUAL(aw_yaml_diag_add(&d, 3, 1, "third line again"), AW_OK);
    CU_ASSERT_EQUAL(aw_yaml_diag_add(&d, 2, 5, "second line"), AW_OK);
    aw_yaml_diags_sort(&d);
    {
        /* equal positions keep the order they were added in */
        const char *want[] = { "1:2: first line, column 2", "1:9: first line, column 9",
                               "2:5: second line", "3:1: third line", "3:1: third line again" };
        diags_are(&d, want, 5);
    }
    aw_yaml_diags_free(&d);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_PTR_NULL(d.items);

    /* stable even where the C library's qsort is not (glibc's merge sort
     * always is): many ties, added out of position order */
    for (int i = 0; i < 64; i++) {
        CU_ASSERT_EQUAL(aw_yaml_diag_add(&d, i % 2 ? 1 : 2, 1, "%02d", i), AW_OK);
    }
    aw_yaml_diags_sort(&d);
    for (int i = 0; i < 64; i++) {
        char want[8];
        snprintf(want, sizeof(want), "%02d", i < 32 ? 2 * i + 1 : 2 * (i - 32));
        CU_ASSERT_STRING_EQUAL(d.items[i].msg, want);
    }
    aw_yaml_diags_free(&d);

    /* messages are cut at 1023 bytes; many of them grow the list */
    memset(long_msg, 'm', sizeof(long_msg) - 1);
    long_msg[sizeof(long_msg) - 1] = '\0';
    for (unsigned i = 0; i < 100; i++) {
        CU_ASSERT_EQUAL(aw_yaml_diag_add(&d, 100 - i, 1, "%s", long_msg), AW_OK);
    }
    aw_yaml_diags_sort(&d);
    CU_ASSERT_EQUAL_FATAL(d.count, 100);
    CU_ASSERT_EQUAL(strlen(d.items[0].msg), 1023);
    CU_ASSERT_EQUAL(d.items[0].line, 1);
    CU_ASSERT_EQUAL(d.items[99].line, 100);
    aw_yaml_diags_free(&d);
}

static void test_show(void)
{
    char out[16];

    CU_ASSERT_STRING_EQUAL(aw_yaml_show(out, sizeof(out), "plain", 5), "plain");
    CU_ASSERT_STRING_EQUAL(aw_yaml_show(out, sizeof(out), "a\tb\x7f\0c", 6), "a?b??c");
    CU_ASSERT_STRING_EQUAL(aw_yaml_show(out, sizeof(out), "exactly twelve", 12), "exactly twel");
    CU_ASSERT_STRING_EQUAL(aw_yaml_show(out, sizeof(out), "one byte too long", 13),
                           "one byte too...");
    CU_ASSERT_STRING_EQUAL(aw_yaml_show(out, sizeof(out), "", 0), "");
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("yamltree", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "tree shape and positions", test_tree);
    CU_add_test(s, "null and strings", test_null_and_strings);
    CU_add_test(s, "empty documents", test_empty_documents);
    CU_add_test(s, "anchors, aliases, tags, documents", test_refused_features);
    CU_add_test(s, "duplicate keys are kept", test_duplicate_keys_kept);
    CU_add_test(s, "syntax errors", test_syntax_errors);
    CU_add_test(s, "nesting limit", test_nesting_limit);
    CU_add_test(s, "diagnostics sorted by position", test_diags_sorted);
    CU_add_test(s, "values shown in messages", test_show);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
