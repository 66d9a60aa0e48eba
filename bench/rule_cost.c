/*
 * rule_cost: the worst per-record cost of every rule of a rule set on
 * crafted 64 KiB records (issue 16: "keep the per-record cost bounded").
 * A rule whose pattern retries a long gap or a backtracking group at
 * every start position costs far more on a record built to feed it than
 * on any real record, although every single attempt stays under the match
 * limit (PCRE2 counts the limit per start position).  Each rule runs,
 * through aw_rule_run() as scan runs it (JIT when available), on records
 * that repeat the words its lead-ins look for (the shapes below), each
 * 65,535 bytes; the slowest shape per rule is printed, and the program
 * exits 1 when a rule exceeds the bound (default 5 ms per record).
 *
 * Usage: rule_cost [--max-ms MS] RULES_PATH   (a file or a folder)
 * Run it on an idle machine; it is a measurement, not a unit test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentwatch/rules.h"
#include "src/rules_engine.h"

#define RECORD_LEN 65535u

/* Units repeated to fill a record: the lead-in words of the shipped
 * rules, host names and URLs that a target group takes, long dotted names
 * a target backtracks over, and codes cut short so that a code alternative
 * starts but never completes. */
static const char *const shapes[] = {
    "host a.b ", "hosta.b", "from a.b ", "server a.b ", "url=http://a ",
    "request to a.b ", "connect to the remote server a.b ",
    "host a.", "a.", "host a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a ",
    "0x800b010 ", "80072ee ", "-214701 ", "error 1200 ", "code= ", "(1200 ",
    "hr=0x2f ", "0x8024 ", "winhttp_", "cert_e_", "sec_e_", "a", " ", "0",
    "url=http://a(", "request toa.b", "x.hostx.", "WinHttpSendRequest to a.b/",
};

/* Records that open with a lead-in and go on with one filler to the end:
 * a gap as long as the record. */
static const char *const openers[] = { "Failed to send request to smp01.corp.example ", "URL=https://smp01/x " };
static const char *const fillers[] = { "0", "a", "x ", "host ", "error " };

/* The thread's CPU time, not the wall clock: on the shared 2-core
 * machine (and a CI runner building in parallel) a run waiting for a core
 * took two to three times its cost in wall time and crossed --max-ms while
 * its CPU time had not changed. */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Shape k: a unit repeated, or an opener followed by a filler. */
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]) + \
                 sizeof(openers) / sizeof(openers[0]) * (sizeof(fillers) / sizeof(fillers[0])))

static const char *fill(char *buf, size_t k)
{
    static char name[128];
    const char *opener = "", *unit;
    size_t ulen, olen, nf = sizeof(fillers) / sizeof(fillers[0]);

    if (k < sizeof(shapes) / sizeof(shapes[0])) {
        unit = shapes[k];
    } else {
        k -= sizeof(shapes) / sizeof(shapes[0]);
        opener = openers[k / nf];
        unit = fillers[k % nf];
    }
    olen = strlen(opener);
    ulen = strlen(unit);
    memcpy(buf, opener, olen);
    for (size_t i = olen; i < RECORD_LEN; i++) {
        buf[i] = unit[(i - olen) % ulen];
    }
    snprintf(name, sizeof(name), "%s%s...", opener, unit);
    return name;
}

/* CPU seconds one run of rule r on buf takes (best of 3, to ignore a
 * neighbour's burst evicting the caches). */
static double cost(struct aw_matcher *m, const struct rule *r, const char *buf)
{
    double best = 1e9;

    for (int k = 0; k < 3; k++) {
        double t0 = now_s(), t;
        aw_rule_run(m, r, buf, RECORD_LEN);
        t = now_s() - t0;
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    double max_ms = 5.0, worst_all = 0;
    struct aw_ruleset *rs = NULL;
    struct aw_matcher *m = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    char *buf = malloc(RECORD_LEN);
    int argi = 1, over = 0;

    if (argc > 2 && strcmp(argv[1], "--max-ms") == 0) {
        max_ms = atof(argv[2]);
        argi = 3;
    }
    if (buf == NULL || argi + 1 != argc) {
        fprintf(stderr, "usage: rule_cost [--max-ms MS] RULES_PATH\n");
        return 2;
    }
    if (aw_rules_load(argv[argi], &rs, &diags, &err) != AW_OK ||
        aw_matcher_new(rs, &m, &err) != AW_OK) {
        fprintf(stderr, "rule_cost: %s\n", err.msg);
        return 2;
    }
    printf("%-36s %10s  %s\n", "rule", "worst ms", "shape");
    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *r = &rs->rules[i];
        double worst = 0;
        char wname[128] = "";

        for (size_t s = 0; s < NSHAPES; s++) {
            const char *name = fill(buf, s);
            double t = cost(m, r, buf);
            if (t > worst) {
                worst = t;
                snprintf(wname, sizeof(wname), "%s", name);
            }
        }
        printf("%-36s %10.2f  \"%s\"%s\n", r->id, worst * 1e3, wname,
               worst * 1e3 > max_ms ? "  OVER" : "");
        over += worst * 1e3 > max_ms;
        worst_all = worst > worst_all ? worst : worst_all;
    }
    printf("worst %.2f ms per %u-byte record; %d rule%s over %.1f ms\n", worst_all * 1e3, RECORD_LEN,
           over, over == 1 ? "" : "s", max_ms);
    aw_matcher_free(&m);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    free(buf);
    return over ? 1 : 0;
}
