/*
 * Text hygiene: UTF-8 cleaning for the database and the escaping of every
 * output form.
 */
#include <stdlib.h>
#include <string.h>

#include "agentwatch/text.h"
#include "testutil.h"

static void test_utf8_clean(void)
{
    char out[64];
    const char overlong[] = "a\xC0\xAF" "b";           /* overlong '/' */
    const char surrogate[] = "\xED\xA0\x80" "c";        /* U+D800 */
    const char nul[] = "x\0y";

    CU_ASSERT_EQUAL(aw_text_utf8_clean("h\xC3\xA9llo", 6, out, 32), 6);
    CU_ASSERT_STRING_EQUAL(out, "h\xC3\xA9llo");
    aw_text_utf8_clean(overlong, sizeof(overlong) - 1, out, 32);
    CU_ASSERT_STRING_EQUAL(out, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
    aw_text_utf8_clean(surrogate, sizeof(surrogate) - 1, out, 32);
    CU_ASSERT_STRING_EQUAL(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "c");
    aw_text_utf8_clean(nul, 3, out, 32);
    CU_ASSERT_STRING_EQUAL(out, "x\xEF\xBF\xBDy");
    /* Cut on a character boundary, never inside one. */
    CU_ASSERT_EQUAL(aw_text_utf8_clean("ab\xE2\x82\xAC", 5, out, 4), 2);
    CU_ASSERT_STRING_EQUAL(out, "ab");
    CU_ASSERT_EQUAL(aw_text_utf8_clean("\xF0\x9F\x98\x80", 3, out, 32), 9);   /* truncated */
}

/* Render with fn into a string; caller frees. */
static char *render(void (*fn)(FILE *, const char *), const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    fn(f, s);
    fclose(f);
    return buf;
}

static void json(FILE *f, const char *s)
{
    aw_text_json_string(f, s);
}

static void csv(FILE *f, const char *s)
{
    aw_text_csv_field(f, s);
}

static void term(FILE *f, const char *s)
{
    aw_text_terminal(f, s, 10);
}

static void test_outputs(void)
{
    struct {
        void (*fn)(FILE *, const char *);
        const char *in, *out;
    } cases[] = {
        { json, "plain", "\"plain\"" },
        { json, "q\"b\\s/\n\r\t\x01\x7f", "\"q\\\"b\\\\s/\\n\\r\\t\\u0001\\u007f\"" },
        { json, "bad\xff", "\"bad\\ufffd\"" },
        { json, "\xC3\xA9", "\"\xC3\xA9\"" },
        { csv, "plain", "plain" },
        { csv, "", "" },
        { csv, "a,b", "\"a,b\"" },
        { csv, "say \"hi\"", "\"say \"\"hi\"\"\"" },
        { csv, "line\nbreak\ttab\rcr", "line?break?tab?cr" },
        { csv, "=1+1", "'=1+1" },
        { csv, "-x,y", "\"'-x,y\"" },
        { csv, "@SUM(A1)", "'@SUM(A1)" },
        { csv, "rtl\xE2\x80\xAE" "x", "rtl?x" },
        { term, "a\xE2\x80\xAE\xE2\x81\xA6" "b", "a??b" },
        { csv, "esc\x1b[2J\xC2\x9B", "esc?[2J?" },
        { term, "short", "short" },
        { term, "\x1b]0;x\x07", "?]0;x?" },
        { term, "0123456789abc", "0123456..." },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = render(cases[i].fn, cases[i].in);
        CU_ASSERT_STRING_EQUAL(got, cases[i].out);
        if (strcmp(got, cases[i].out) != 0) {
            fprintf(stderr, "case %zu: got [%s]\n", i, got);
        }
        free(got);
    }
    {
        char *got = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&got, &len);
        aw_text_json_string(f, NULL);
        fclose(f);
        CU_ASSERT_STRING_EQUAL(got, "null");
        free(got);
    }
    CU_ASSERT_EQUAL(aw_text_width("h\xC3\xA9llo"), 5);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("text", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "utf-8 cleaning", test_utf8_clean);
    CU_add_test(s, "json, csv and terminal output", test_outputs);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
