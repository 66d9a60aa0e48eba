/*
 * Windows command lines (winargv.h): exact output for the cases a probe
 * command line meets, and reading back with the rules of Microsoft's
 * "Parsing C command-line arguments" (learn.microsoft.com/cpp/c-language/
 * parsing-c-command-line-arguments), written out below as a reference
 * reader and checked first against that page's own examples.  Under wine
 * the real reader (CommandLineToArgvW) takes the command lines of follow's
 * automatic probe, with spaces and non-ASCII paths
 * (packaging/windows/test-wine.sh).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/winargv.h"
#include "testutil.h"

#define MAX_ARGS 16

struct args {
    int n;
    char *v[MAX_ARGS];
};

static void args_free(struct args *a)
{
    for (int i = 0; i < a->n; i++) {
        free(a->v[i]);
    }
    a->n = 0;
}

/* The documented rules for the arguments after the program name.  Not
 * the pair "" inside a quoted part: the C runtime and CommandLineToArgvW
 * read it differently, and aw_win_command_line() never writes it. */
static void read_args(const char *p, struct args *a)
{
    a->n = 0;
    for (;;) {
        char *out;
        size_t n = 0;
        bool quoted = false;

        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\0' || a->n == MAX_ARGS) {
            return;
        }
        out = calloc(strlen(p) + 1, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(out);
        while (*p != '\0' && (quoted || (*p != ' ' && *p != '\t'))) {
            size_t slashes = 0;
            while (*p == '\\') {
                slashes++;
                p++;
            }
            if (*p == '"') {
                for (size_t i = 0; i < slashes / 2; i++) {
                    out[n++] = '\\';
                }
                if (slashes % 2 == 1) {
                    out[n++] = '"';
                } else {
                    quoted = !quoted;
                }
                p++;
            } else {
                for (size_t i = 0; i < slashes; i++) {
                    out[n++] = '\\';
                }
                if (*p != '\0' && (quoted || (*p != ' ' && *p != '\t'))) {
                    out[n++] = *p++;
                }
            }
        }
        a->v[a->n++] = out;
    }
}

/* The program name: up to the next quote when it starts with one, else
 * to the first space or tab; backslashes always literal.  Where the
 * arguments start in *rest. */
static char *read_program(const char *p, const char **rest)
{
    const char *end;
    char *name;

    if (*p == '"') {
        p++;
        end = strchr(p, '"');
        CU_ASSERT_PTR_NOT_NULL_FATAL(end);
        *rest = end + 1;
    } else {
        end = p + strcspn(p, " \t");
        *rest = end;
    }
    name = calloc((size_t)(end - p) + 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(name);
    memcpy(name, p, (size_t)(end - p));
    return name;
}

/* The reference reader on the examples of Microsoft's page (the rows
 * without "" inside quotes): command line, then argv[1..3]. */
static void test_reader_matches_documentation(void)
{
    static const char *const rows[][4] = {
        { "\"a b c\" d e", "a b c", "d", "e" },
        { "\"ab\\\"c\" \"\\\\\" d", "ab\"c", "\\", "d" },
        { "a\\\\\\b d\"e f\"g h", "a\\\\\\b", "de fg", "h" },
        { "a\\\\\\\"b c d", "a\\\"b", "c", "d" },
        { "a\\\\\\\\\"b c\" d e", "a\\\\b c", "d", "e" },
    };

    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        struct args a;
        read_args(rows[r][0], &a);
        CU_ASSERT_EQUAL_FATAL(a.n, 3);
        for (int i = 0; i < 3; i++) {
            CU_ASSERT_STRING_EQUAL(a.v[i], rows[r][i + 1]);
        }
        args_free(&a);
    }
}

static void expect(const char *const *argv, const char *want)
{
    char *got = NULL;

    CU_ASSERT_EQUAL_FATAL(aw_win_command_line(argv, &got), AW_OK);
    CU_ASSERT_STRING_EQUAL(got, want);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "\ngot  %s\nwant %s\n", got, want);
    }
    free(got);
}

/* What the automatic probe passes, and each kind of argument. */
static void test_exact(void)
{
    const char *probe[] = { "C:\\Program Files\\agentwatch\\agentwatch.exe", "--db",
                            "C:\\ProgramData\\agentwatch\\agentwatch.db", "probe", "--",
                            "smp01.corp.example:443", NULL };
    const char *one[2] = { "x.exe", NULL };
    const char *cases[][2] = {
        { "", "\"\"" },
        { "plain", "plain" },
        { "a b c", "\"a b c\"" },
        { "tab\there", "\"tab\there\"" },
        { "line\nfeed", "\"line\nfeed\"" },
        { "ab\"c", "\"ab\\\"c\"" },
        { "\\", "\\" },
        { "a\\\\\\b", "a\\\\\\b" },                 /* no quote: as it is */
        { "a\\\"b", "\"a\\\\\\\"b\"" },             /* 1 backslash + quote: 3 + \" */
        { "C:\\dir with space\\", "\"C:\\dir with space\\\\\"" },   /* before the closing quote */
        { "C:\\a b\\\\c", "\"C:\\a b\\\\c\"" },     /* inside, not before a quote: as they are */
        { "C:\\Journaux d'agent \xE2\x80\x93 \xC3\xA9t\xC3\xA9\\agent.log",
          "\"C:\\Journaux d'agent \xE2\x80\x93 \xC3\xA9t\xC3\xA9\\agent.log\"" },
    };

    expect(probe, "\"C:\\Program Files\\agentwatch\\agentwatch.exe\" --db "
                  "C:\\ProgramData\\agentwatch\\agentwatch.db probe -- smp01.corp.example:443");
    expect(one, "x.exe");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[] = { "x.exe", cases[i][0], NULL };
        char want[256];
        snprintf(want, sizeof(want), "x.exe %s", cases[i][1]);
        expect(argv, want);
    }
}

/* argv written and read back: the same strings. */
static void round_trip(const char *const *argv, int argc)
{
    char *line = NULL, *program;
    const char *rest = NULL;
    struct args a;

    CU_ASSERT_EQUAL_FATAL(aw_win_command_line(argv, &line), AW_OK);
    program = read_program(line, &rest);
    CU_ASSERT_STRING_EQUAL(program, argv[0]);
    read_args(rest, &a);
    CU_ASSERT_EQUAL(a.n, argc - 1);
    for (int i = 1; i < argc && i - 1 < a.n; i++) {
        if (strcmp(a.v[i - 1], argv[i]) != 0) {
            CU_FAIL("an argument read back differs");
            fprintf(stderr, "\nline %s: argument %d '%s', read back '%s'\n", line, i, argv[i],
                    a.v[i - 1]);
        }
    }
    args_free(&a);
    free(program);
    free(line);
}

/* The documentation's argument values, and every string of up to 5
 * characters over a, space, tab, quote and backslash between two others. */
static void test_round_trip(void)
{
    static const char alphabet[] = "a \t\"\\";
    const char *doc[] = { "C:\\Program Files\\agentwatch\\agentwatch.exe", "a b c", "d", "e",
                          "ab\"c", "\\", "a\\\\\\b", "de fg", "h", "a\\\"b", "a\\\\b c", "", NULL };
    char s[6];

    round_trip(doc, 12);
    for (size_t len = 0; len <= 5; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++) {
            total *= 5;
        }
        for (size_t k = 0; k < total; k++) {
            size_t x = k;
            const char *argv[] = { "C:\\a b\\x.exe", "-", s, "\\", NULL };
            for (size_t i = 0; i < len; i++) {
                s[i] = alphabet[x % 5];
                x /= 5;
            }
            s[len] = '\0';
            round_trip(argv, 4);
        }
    }
}

static int reg(void)
{
    static const struct tu_test tests[] = {
        { "the reference reader on Microsoft's examples", test_reader_matches_documentation },
        { "exact command lines", test_exact },
        { "written and read back", test_round_trip },
    };

    return tu_add_tests(CU_add_suite("winargv", NULL, NULL), tests,
                        sizeof(tests) / sizeof(tests[0]));
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
