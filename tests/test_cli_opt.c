/*
 * The option tables' parser (src/cli_opt.h) on a table of every kind:
 * exact names, values and their ranges, operands in any order, "--", and
 * the words of the shared tables against the modules' own names.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/record.h"
#include "agentwatch/timeutil.h"
#include "src/cli_internal.h"
#include "src/cli_opt.h"
#include "testutil.h"

struct t_args {
    bool flag;
    const char *str;
    const char *text;
    uint64_t num;
    int word;
    int64_t when;
};

static const struct aw_opt_word t_words[] = { { "one", 1 }, { "two", 2 }, { NULL, 0 } };

static const struct aw_opt t_opts[] = {
    { .name = "flag", .kind = AW_OPT_FLAG, .offset = offsetof(struct t_args, flag), .help = "f" },
    { .name = "str", .kind = AW_OPT_STRING, .arg = "S", .offset = offsetof(struct t_args, str),
      .help = "s" },
    { .name = "text", .kind = AW_OPT_TEXT, .arg = "T", .min = 2, .max = 4,
      .offset = offsetof(struct t_args, text), .help = "t" },
    { .name = "num", .kind = AW_OPT_UINT, .arg = "N", .min = 5, .max = 10, .unit = "n",
      .offset = offsetof(struct t_args, num), .help = "n\nmore" },
    { .name = "word", .kind = AW_OPT_WORD, .arg = "W", .words = t_words,
      .offset = offsetof(struct t_args, word), .help = "w" },
    { .name = "when", .kind = AW_OPT_WHEN, .arg = "WHEN", .offset = offsetof(struct t_args, when),
      .help = "when" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

static const struct aw_cli_spec t_spec = { "t", "Usage: t\n", t_opts, "notes\n" };

/* Parse a NULL-terminated argument list (after the command word) into *a;
 * returns aw_cli_parse()'s result.  argv is kept for the operands. */
static int parse(struct aw_cli *cli, struct t_args *a, char **argv, int *n, ...)
{
    va_list ap;
    int argc = 1;
    const char *s;

    memset(a, 0, sizeof(*a));
    a->word = -1;
    argv[0] = (char *)"t";
    va_start(ap, n);
    while ((s = va_arg(ap, const char *)) != NULL && argc < 31) {
        argv[argc++] = (char *)s;
    }
    va_end(ap);
    argv[argc] = NULL;
    return aw_cli_parse(&t_spec, cli, argc, argv, a, n);
}

static void test_values_land(void)
{
    struct aw_cli cli = { 0 };
    struct t_args a;
    char *argv[32];
    int n = -1;

    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "op1", "--flag", "--str", "x", "op2", "--text=abcd",
                          "--num", "10", "--word", "two", "--when", "2025-03-11", "--db", "d.db",
                          "-", "--", "--num", NULL), AW_CLI_CONTINUE);
    CU_ASSERT_TRUE(a.flag);
    CU_ASSERT_STRING_EQUAL(a.str, "x");
    CU_ASSERT_STRING_EQUAL(a.text, "abcd");
    CU_ASSERT_EQUAL(a.num, 10);
    CU_ASSERT_EQUAL(a.word, 2);
    CU_ASSERT_EQUAL(a.when, 1741651200000LL);
    CU_ASSERT_STRING_EQUAL(cli.db, "d.db");
    /* operands in order, "-" one of them, everything after "--" too */
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(argv[1], "op1");
    CU_ASSERT_STRING_EQUAL(argv[2], "op2");
    CU_ASSERT_STRING_EQUAL(argv[3], "-");
    CU_ASSERT_STRING_EQUAL(argv[4], "--num");
    CU_ASSERT_PTR_NULL(argv[5]);
    /* the last of a repeated option counts; an empty value is a value */
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", "5", "--num=7", "--str=", NULL),
                    AW_CLI_CONTINUE);
    CU_ASSERT_EQUAL(a.num, 7);
    CU_ASSERT_STRING_EQUAL(a.str, "");
    CU_ASSERT_EQUAL(n, 0);
}

static void test_rejected(void)
{
    struct aw_cli cli = { 0 };
    struct t_args a;
    char *argv[32];
    int n;

    /* exact names only */
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--fla", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--nu", "5", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--flags", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--flag=1", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "-x", NULL), AW_EXIT_USAGE);
    /* values: missing, out of range, not in the words */
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", "4", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", "11", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", "-5", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", "6x", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", "99999999999999999999999", NULL),
                    AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--text", "a", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--text", "abcde", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--word", "three", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--word", "ONE", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--when", "soon", NULL), AW_EXIT_USAGE);
    /* the first problem stops the parse: nothing after it lands */
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--num", "1", "--flag", NULL), AW_EXIT_USAGE);
    CU_ASSERT_FALSE(a.flag);
}

static void test_help(void)
{
    struct aw_cli cli = { 0 };
    struct t_args a;
    char *argv[32];
    char *dir = tu_mkdtemp(), *path = tu_path(dir, "help.txt"), *text;
    FILE *f = fopen(path, "w");
    int n;

    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "op", "-h", "--bogus", NULL), AW_EXIT_OK);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--help", NULL), AW_EXIT_OK);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--help=x", NULL), AW_EXIT_USAGE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    aw_cli_help(f, &t_spec);
    fclose(f);
    text = tu_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(text,
        "Usage: t\n"
        "  --flag             f\n"
        "  --str S            s\n"
        "  --text T           t\n"
        "  --num N            n\n"
        "                     more\n"
        "  --word W           w\n"
        "  --when WHEN        when\n"
        "  --db PATH          database file (also accepted before the command)\n"
        "  -h, --help         show this help\n"
        "notes\n");
    free(text);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* The command line's words for the log formats are the record module's. */
static void test_shared_words(void)
{
    size_t n = 0;

    for (const struct aw_opt_word *w = aw_cli_log_formats; w->word != NULL; w++, n++) {
        enum aw_format f;

        CU_ASSERT_EQUAL(aw_format_from_name(w->word, &f), AW_OK);
        CU_ASSERT_EQUAL((int)f, w->value);
        CU_ASSERT_STRING_EQUAL(aw_format_name(f), w->word);
    }
    CU_ASSERT_EQUAL(n, 4);
}

/* The help of every shipped command: aw_cli_help() indents continuation
 * lines itself, so a help text that carries its own indentation after a
 * '\n' prints it twice (it once did: --wait-for-source's reload control). */
static void test_shipped_help_rows(void)
{
    const struct aw_cli_spec *specs[] = { &aw_scan_spec,   &aw_report_spec, &aw_rules_spec,
                                          &aw_status_spec, &aw_export_spec, &aw_prune_spec,
                                          &aw_follow_spec, &aw_probe_spec };

    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        for (const struct aw_opt *o = specs[i]->opts; o->name != NULL; o++) {
            const char *h = o->help;

            CU_ASSERT_PTR_NOT_NULL_FATAL(h);
            for (const char *nl = strchr(h, '\n'); nl != NULL; nl = strchr(nl + 1, '\n')) {
                if (nl[1] == ' ') {
                    fprintf(stderr, "%s --%s: help line indented by hand: \"%s\"\n",
                            specs[i]->name, o->name, nl + 1);
                }
                CU_ASSERT_NOT_EQUAL(nl[1], ' ');
            }
        }
    }
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("cli_opt", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "values land in their fields", test_values_land);
    CU_add_test(s, "bad names and values are usage errors", test_rejected);
    CU_add_test(s, "help", test_help);
    CU_add_test(s, "shared words", test_shared_words);
    CU_add_test(s, "shipped help rows", test_shipped_help_rows);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
