/*
 * limit_cost: what a catastrophically backtracking rule costs per record
 * under the matcher's limits (issue 16).  The rule `(a+)+$|b$` on
 * "aaa...ab" matches at "b" but backtracks exponentially in the number of
 * a's first; the match limit stops it.  For each length it prints the
 * time per classification (JIT, as scan runs it) and per interpreter
 * match (pcre2_match with the matcher's own match context, the path taken
 * when JIT is unavailable), and whether the record matched or hit a limit.
 *
 * Usage: limit_cost [SECONDS_PER_CASE]   (default 0.3)
 * Run it on an idle machine; it is a measurement, not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentwatch/rules.h"
#include "src/rules_engine.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds per call of one way of matching msg, run for about budget s;
 * *result gets the last result. */
static double per_call(struct aw_matcher *m, bool interp, const char *msg, size_t len,
                       double budget, long *result)
{
    double start = now_s(), t;
    unsigned long n = 0;

    do {
        for (int k = 0; k < 8; k++) {
            if (interp) {
                *result = pcre2_match(m->rs->rules[0].code, (PCRE2_SPTR)msg, len, 0, PCRE2_NO_JIT, m->md,
                                      m->mctx);
            } else {
                *result = aw_matcher_classify(m, msg, len);
            }
        }
        n += 8;
        t = now_s() - start;
    } while (t < budget);
    return t / (double)n;
}

int main(int argc, char **argv)
{
    static const size_t lens[] = { 10, 14, 16, 18, 20, 22, 25, 30, 100, 1000, 65535 };
    double budget = argc > 1 ? atof(argv[1]) : 0.3;
    char dir[] = "/tmp/limit_cost.XXXXXX", path[64];
    struct aw_ruleset *rs = NULL;
    struct aw_matcher *m = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    FILE *f;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/r.yaml", dir);
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    fputs("rules:\n  - id: bad\n    category: test\n    severity: error\n"
          "    pattern: '(a+)+$|b$'\n", f);
    fclose(f);
    if (aw_rules_load(path, &rs, &diags, &err) != AW_OK || aw_matcher_new(rs, &m, &err) != AW_OK) {
        fprintf(stderr, "limit_cost: %s\n", err.msg);
        return 1;
    }
    unlink(path);
    rmdir(dir);
    printf("rule '(a+)+$|b$' (JIT %s); record: N x 'a' + 'b'\n",
           rs->rules[0].jit ? "yes" : "no");
    printf("%8s  %12s %-10s  %12s %-10s\n", "N", "JIT us/rec", "result", "interp us", "result");
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i] + 1;
        char *msg = malloc(len);
        long jit_rc = 0, int_rc = 0;
        struct aw_matcher_stats before, after;
        double tj, ti;

        if (msg == NULL) {
            return 1;
        }
        memset(msg, 'a', len - 1);
        msg[len - 1] = 'b';
        aw_matcher_get_stats(m, &before);
        tj = per_call(m, false, msg, len, budget, &jit_rc);
        aw_matcher_get_stats(m, &after);
        ti = per_call(m, true, msg, len, budget, &int_rc);
        printf("%8zu  %12.1f %-10s  %12.1f %-10s\n", lens[i], tj * 1e6,
               jit_rc >= 0 ? "match" : (after.limit_hits > before.limit_hits ? "limit" : "none"),
               ti * 1e6, int_rc >= 0 ? "match" : (int_rc == PCRE2_ERROR_NOMATCH ? "none" : "limit"));
        free(msg);
    }
    aw_matcher_free(&m);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    return 0;
}
