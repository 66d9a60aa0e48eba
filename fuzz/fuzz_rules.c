/*
 * Fuzz target: the rules loader and its prefilter (src/rules_load.c,
 * rules_schema.c, rules_literals.c, prefilter.c, matcher.c),
 * differentially.  For every rule set that loads and every record, the
 * rules that match through the prefilter must be exactly the rules whose
 * regex matches when run alone, and classification with the prefilter
 * must pick the rule that running every regex in order picks.  A
 * difference is a literal the extractor required but a match can do
 * without, or an automaton that misses an occurrence: a finding lost
 * without a word, which crash-fuzzing never sees.
 *
 * Input: byte 0 picks the mode; the rest is split at NUL bytes.
 *   mode even: the first piece is a whole rule file (any bytes: the
 *     loader itself is fuzzed), the other pieces are records;
 *   mode odd: the first 1 + (byte0 >> 1) % 8 pieces are patterns, written
 *     into a generated rule file as double-quoted YAML scalars (every
 *     byte outside printable ASCII as \xNN), the other pieces are records.
 * Records are at most MAX_RECORDS; any bytes, NUL excepted.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/err.h"
#include "agentwatch/rules.h"
#include "fuzz.h"
#include "src/rules_engine.h"
#include "src/rules_internal.h"

#define MAX_RECORDS 64
#define MAX_PATTERNS 8

struct piece {
    const uint8_t *p;
    size_t len;
};

/* Split data at NUL bytes into at most max pieces (the last one takes the
 * rest, NULs included: they are split again by nobody). */
static size_t split(const uint8_t *data, size_t size, struct piece *out, size_t max)
{
    size_t n = 0, start = 0;

    for (size_t i = 0; i < size && n + 1 < max; i++) {
        if (data[i] == '\0') {
            out[n].p = data + start;
            out[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    if (start <= size) {
        out[n].p = data + start;
        out[n].len = size - start;
        n++;
    }
    return n;
}

/* A rule file with one rule per pattern piece; caller frees. */
static char *rules_yaml(const struct piece *pats, size_t npats, size_t *len)
{
    size_t cap = 64, n = 0;
    char *y;

    for (size_t k = 0; k < npats; k++) {
        cap += 96 + 4 * pats[k].len;
    }
    y = malloc(cap);
    if (y == NULL) {
        abort();
    }
    n += (size_t)snprintf(y + n, cap - n, "rules:\n");
    for (size_t k = 0; k < npats; k++) {
        n += (size_t)snprintf(y + n, cap - n,
                              "  - id: r%zu\n    category: c\n    severity: info\n    pattern: \"", k);
        for (size_t i = 0; i < pats[k].len; i++) {
            unsigned char c = pats[k].p[i];

            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                y[n++] = (char)c;
            } else {
                n += (size_t)snprintf(y + n, cap - n, "\\x%02X", c);
            }
        }
        n += (size_t)snprintf(y + n, cap - n, "\"\n");
    }
    *len = n;
    return y;
}

/* Every rule alone, through the prefilter and without; the set with the
 * prefilter and by running every regex in order. */
static void check_record(struct aw_matcher *m, const struct aw_ruleset *rs, const char *msg,
                         size_t len)
{
    long fast, slow;

    for (size_t i = 0; i < aw_rules_count(rs); i++) {
        bool via = aw_matcher_rule_matches(m, i, msg, len);
        bool direct = aw_rule_run(m, &rs->rules[i], msg, len) == 1;

        if (via != direct) {
            fprintf(stderr, "fuzz_rules: rule %zu /%s/ %s the record alone but %s through the"
                            " prefilter\n", i, rs->rules[i].pattern,
                    direct ? "matches" : "does not match", via ? "matches" : "does not match");
            abort();
        }
    }
    fast = aw_matcher_classify(m, msg, len);
    slow = aw_matcher_classify_brute(m, msg, len);
    if (fast != slow) {
        fprintf(stderr, "fuzz_rules: classified as %ld with the prefilter, %ld without\n", fast,
                slow);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct piece pieces[MAX_PATTERNS + MAX_RECORDS + 1];
    struct aw_ruleset *rs = NULL;
    struct aw_matcher *m = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    size_t n, first_record, ylen = 0;
    char *yaml = NULL;
    const char *path;
    int rc;

    if (size < 1) {
        return 0;
    }
    n = split(data + 1, size - 1, pieces, sizeof(pieces) / sizeof(pieces[0]));
    if (data[0] & 1) {
        first_record = 1 + (size_t)(data[0] >> 1) % MAX_PATTERNS;
        first_record = first_record < n ? first_record : n;
        yaml = rules_yaml(pieces, first_record, &ylen);
        path = fuzz_write_file(".yaml", (const uint8_t *)yaml, ylen);
    } else {
        first_record = 1;
        path = fuzz_write_file(".yaml", pieces[0].p, pieces[0].len);
    }
    rc = aw_rules_load(path, &rs, &diags, &err);
    if (rc == AW_ESYNTAX && diags.count == 0) {
        abort();   /* a problem is always said */
    }
    if (rc == AW_OK) {
        if (aw_matcher_new(rs, &m, &err) != AW_OK) {
            abort();
        }
        for (size_t k = first_record; k < n; k++) {
            check_record(m, rs, (const char *)pieces[k].p, pieces[k].len);
        }
    }
    aw_matcher_free(&m);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    free(yaml);
    return 0;
}
