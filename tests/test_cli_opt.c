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

#include "agentwatch/cli.h"
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

static const struct aw_cli_spec t_spec = { .name = "t", .usage = "Usage: t\n", .opts = t_opts,
                                            .notes = "notes\n" };

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

/* spec's --help, as aw_cli_help() writes it to a file (malloc'd). */
static char *help_text(const struct aw_cli_spec *spec)
{
    char *dir = tu_mkdtemp(), *path = tu_path(dir, "help.txt"), *text = NULL;
    FILE *f = fopen(path, "w");

    CU_ASSERT_PTR_NOT_NULL(f);
    if (f != NULL) {
        aw_cli_help(f, spec);
        fclose(f);
        text = tu_read_file(path, NULL);
    }
    free(path);
    tu_rmtree(dir);
    free(dir);
    return text;
}

static void test_help(void)
{
    struct aw_cli cli = { 0 };
    struct t_args a;
    char *argv[32];
    char *text;
    int n;

    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "op", "-h", "--bogus", NULL), AW_EXIT_OK);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--help", NULL), AW_EXIT_OK);
    CU_ASSERT_EQUAL(parse(&cli, &a, argv, &n, "--help=x", NULL), AW_EXIT_USAGE);
    text = help_text(&t_spec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
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
}

/* A table of leading options, as the global ones: before the first
 * operand; config and allow-unsafe-dir also after it (aw_cli_take()). */
static const struct aw_opt g_opts[] = {
    { .name = "config", .kind = AW_OPT_PATH, .arg = "PATH", .flags = AW_OPT_IN_CLI | AW_OPT_ANYWHERE,
      .offset = offsetof(struct aw_cli, config_path), .help = "c" },
    { .name = "db", .kind = AW_OPT_PATH, .arg = "PATH", .flags = AW_OPT_IN_CLI,
      .offset = offsetof(struct aw_cli, db), .help = "d\ne" },
    { .name = "allow-unsafe-dir", .kind = AW_OPT_FLAG, .flags = AW_OPT_IN_CLI | AW_OPT_ANYWHERE,
      .offset = offsetof(struct aw_cli, allow_unsafe_dir), .help = "\nu\nv" },
    AW_OPT_ROW_HELP,
    { .name = "version", .alias = 'V', .kind = AW_OPT_VERSION, .help = "show the version" },
    { .name = NULL }
};

static void g_usage(FILE *out)
{
    fputs("Usage: g\n", out);
}

static const struct aw_cli_spec g_spec = { .name = NULL, .usage_fn = g_usage, .opts = g_opts,
                                           .column = 17 };

/* aw_cli_parse_leading() on the words after "g" (NULL-terminated); *first
 * gets the index of the first word not taken. */
static int leading(struct aw_cli *cli, bool pass_on, int *first, ...)
{
    char *argv[16] = { (char *)"g" };
    int argc = 1;
    const char *s;
    va_list ap;

    memset(cli, 0, sizeof(*cli));
    va_start(ap, first);
    while ((s = va_arg(ap, const char *)) != NULL && argc < 15) {
        argv[argc++] = (char *)s;
    }
    va_end(ap);
    return aw_cli_parse_leading(&g_spec, cli, argc, argv, NULL, pass_on, first);
}

static void test_leading(void)
{
    struct aw_cli cli;
    int first = -1;

    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--db", "d.db", "--config=c.yaml",
                            "--allow-unsafe-dir", "scan", "--db", "x", NULL), AW_CLI_CONTINUE);
    CU_ASSERT_EQUAL(first, 5);
    CU_ASSERT_STRING_EQUAL(cli.db, "d.db");
    CU_ASSERT_STRING_EQUAL(cli.config_path, "c.yaml");
    CU_ASSERT_TRUE(cli.allow_unsafe_dir);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, NULL), AW_CLI_CONTINUE);
    CU_ASSERT_EQUAL(first, 1);
    /* a value is the next word, whatever it is */
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--db", "--help", "x", NULL), AW_CLI_CONTINUE);
    CU_ASSERT_STRING_EQUAL(cli.db, "--help");
    CU_ASSERT_EQUAL(first, 3);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "-V", NULL), AW_EXIT_OK);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--help", "--bogus", NULL), AW_EXIT_OK);
    /* no cluster, no "-" or "--", no abbreviation, no value for a flag */
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "-hV", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "-", "scan", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--", "scan", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--conf", "c", "scan", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--help=1", NULL), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--db", NULL), AW_EXIT_USAGE);
    /* pass_on: the first word that is no row ends the options */
    CU_ASSERT_EQUAL(leading(&cli, true, &first, "--db", "d", "--bogus", "-hV", NULL), AW_CLI_CONTINUE);
    CU_ASSERT_EQUAL(first, 3);
    CU_ASSERT_EQUAL(leading(&cli, true, &first, "-hV", NULL), AW_CLI_CONTINUE);
    CU_ASSERT_EQUAL(first, 1);
    CU_ASSERT_EQUAL(leading(&cli, true, &first, "--db", NULL), AW_EXIT_USAGE);
}

static void test_paths_and_take(void)
{
    struct aw_cli cli = { 0 };
    char *argv[] = { "scan", "a", "--config", "c", "--allow-unsafe-dir", "b", "--config=d",
                     "--allow-unsafe-dir=1", "--db", "x", "--", "--config", "e", NULL };
    char *late[] = { "scan", "--config", NULL };
    int argc = 13, first;

    /* an empty path: found by aw_cli_check_paths(), rows in order, minus
     * the skipped ones */
    cli.db = "";
    cli.config_path = "";
    CU_ASSERT_EQUAL(aw_cli_check_paths(&g_spec, &cli, NULL, 0), AW_EXIT_USAGE);
    CU_ASSERT_EQUAL(aw_cli_check_paths(&g_spec, &cli, NULL, AW_OPT_ANYWHERE), AW_EXIT_USAGE);
    cli.db = "d";
    CU_ASSERT_EQUAL(aw_cli_check_paths(&g_spec, &cli, NULL, AW_OPT_ANYWHERE), AW_CLI_CONTINUE);
    CU_ASSERT_EQUAL(aw_cli_check_paths(&g_spec, &cli, NULL, 0), AW_EXIT_USAGE);
    cli.config_path = NULL;
    CU_ASSERT_EQUAL(aw_cli_check_paths(&g_spec, &cli, NULL, 0), AW_CLI_CONTINUE);
    CU_ASSERT_EQUAL(leading(&cli, false, &first, "--db", "", NULL), AW_CLI_CONTINUE);

    /* the ANYWHERE rows taken out of a command's words, up to "--" */
    memset(&cli, 0, sizeof(cli));
    CU_ASSERT_EQUAL(aw_cli_take(&g_spec, &cli, &argc, argv, NULL), AW_CLI_CONTINUE);
    CU_ASSERT_STRING_EQUAL(cli.config_path, "d");
    CU_ASSERT_TRUE(cli.allow_unsafe_dir);
    CU_ASSERT_PTR_NULL(cli.db);
    CU_ASSERT_EQUAL_FATAL(argc, 9);
    CU_ASSERT_STRING_EQUAL(argv[2], "b");
    CU_ASSERT_STRING_EQUAL(argv[3], "--allow-unsafe-dir=1");
    CU_ASSERT_STRING_EQUAL(argv[4], "--db");
    CU_ASSERT_STRING_EQUAL(argv[6], "--");
    CU_ASSERT_STRING_EQUAL(argv[7], "--config");
    CU_ASSERT_PTR_NULL(argv[9]);
    argc = 2;
    CU_ASSERT_EQUAL(aw_cli_take(&g_spec, &cli, &argc, late, NULL), AW_EXIT_USAGE);

    /* what status --format intune looks past: a value row takes two words */
    {
        char *words[] = { "g", "--db", "x", "--config=y", "-V", "--config", "z", "status", NULL };
        CU_ASSERT_EQUAL(aw_cli_skip_leading(&g_spec, 8, words), 7);
        CU_ASSERT_EQUAL(aw_cli_skip_leading(&g_spec, 3, words), 3);
    }
}

static void test_leading_help(void)
{
    char *text = help_text(&g_spec);

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    /* column 17; a help text that starts with '\n' starts under the name */
    CU_ASSERT_STRING_EQUAL(text,
        "Usage: g\n"
        "  --config PATH  c\n"
        "  --db PATH      d\n"
        "                 e\n"
        "  --allow-unsafe-dir\n"
        "                 u\n"
        "                 v\n"
        "  -h, --help     show this help\n"
        "  -V, --version  show the version\n");
    free(text);
}

/* The Windows service's own options (src/cli.c), on every platform. */
static void test_service_args(void)
{
    char *argv[] = { "service", "--log", "a.log", "--db", "x.db", "follow", "--log", "b", NULL };
    char *eq[] = { "service", "--log=a.log", "-", NULL };
    char *bad[] = { "service", "--log", NULL };
    char *none[] = { "service", NULL };
    const char *log = NULL;
    int first = -1;

    CU_ASSERT_EQUAL(aw_cli_service_args(8, argv, &log, &first), -1);
    CU_ASSERT_STRING_EQUAL(log, "a.log");
    CU_ASSERT_EQUAL(first, 3);
    CU_ASSERT_EQUAL(aw_cli_service_args(3, eq, &log, &first), -1);
    CU_ASSERT_STRING_EQUAL(log, "a.log");
    CU_ASSERT_EQUAL(first, 2);
    CU_ASSERT_EQUAL(aw_cli_service_args(1, none, &log, &first), -1);
    CU_ASSERT_PTR_NULL(log);
    CU_ASSERT_EQUAL(first, 1);
    CU_ASSERT_EQUAL(aw_cli_service_args(2, bad, &log, &first), AW_EXIT_USAGE);
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
    CU_add_test(s, "leading options", test_leading);
    CU_add_test(s, "empty paths, options after the command", test_paths_and_take);
    CU_add_test(s, "leading options' help", test_leading_help);
    CU_add_test(s, "the Windows service's options", test_service_args);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
