/*
 * Accuracy of the shipped rules on the labelled corpus (corpus.h): every
 * file goes through the real record reader (format and encoding detected
 * as `scan` would) and the real matcher; per category we count true and
 * false positives and false negatives against the ground truth and
 * require precision and recall of at least 0.99.  The figures are printed
 * so a change to the rules shows what it costs.  The captured code and
 * target are checked too: a rule that classifies right but reports the
 * wrong code would mislead the administrator.
 */
#include "testutil.h"

#include "corpus.h"

#include "agentwatch/record.h"
#include "agentwatch/rules.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS_PER_FILE 6000
#define MIN_SCORE 0.99

static const char *const categories[] = { "ssl", "resolution", "connection", "health" };
#define NCAT (sizeof(categories) / sizeof(categories[0]))

struct tally {
    size_t tp[NCAT], fp[NCAT], fn[NCAT];
    size_t records, benign, benign_flagged;
    size_t codes, codes_ok, targets, targets_ok;
};

static int cat_index(const char *c)
{
    for (size_t i = 0; c != NULL && i < NCAT; i++) {
        if (strcmp(c, categories[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static bool capture_is(const struct aw_matcher *m, const char *name, const char *want)
{
    const char *t;
    size_t len;

    return aw_matcher_capture(m, name, &t, &len) && len == strlen(want) && memcmp(t, want, len) == 0;
}

/* Classify every record of every corpus file into the tally; the number
 * of records read must equal the number written. */
static void run_corpus(const struct corpus *c, const struct aw_ruleset *rs, struct tally *t, bool verbose)
{
    struct aw_matcher *m = NULL;
    struct aw_err err = { 0, "" };
    size_t shown = 0;

    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(rs, &m, &err), AW_OK);
    for (size_t f = 0; f < c->nfiles; f++) {
        const struct corpus_file *cf = &c->files[f];
        struct aw_reader *r = NULL;
        struct aw_record rec;
        size_t i = 0;
        int rc;

        CU_ASSERT_EQUAL_FATAL(aw_reader_open(&r, cf->path, 0, NULL, &err), AW_OK);
        CU_ASSERT_EQUAL(aw_reader_encoding(r) == AW_ENCODING_UTF16LE, cf->format == CORPUS_ITMS_UTF16);
        while ((rc = aw_reader_next(r, &rec, &err)) == 1 && i < cf->count) {
            const struct corpus_record *want = &cf->truth[i++];
            long got = aw_matcher_classify(m, rec.message.ptr, rec.message.len);
            const char *gcat = got >= 0 ? aw_rules_get(rs, (size_t)got)->category : NULL;
            int wi = cat_index(want->category), gi = cat_index(gcat);

            t->records++;
            if (wi < 0) {
                t->benign++;
                t->benign_flagged += gi >= 0;
            }
            if (wi == gi) {
                if (wi >= 0) {
                    t->tp[wi]++;
                }
            } else {
                if (wi >= 0) {
                    t->fn[wi]++;
                }
                if (gi >= 0) {
                    t->fp[gi]++;
                }
                if (verbose && shown++ < 20) {
                    fprintf(stderr, "\n  %s:%llu: want %s, got %s (%s): %.*s", cf->path,
                            (unsigned long long)rec.offset, want->category ? want->category : "-",
                            gcat ? gcat : "-", got >= 0 ? aw_rules_get(rs, (size_t)got)->id : "-",
                            (int)(rec.message.len < 200 ? rec.message.len : 200), rec.message.ptr);
                }
            }
            if (got >= 0 && want->code != NULL) {
                bool ok = capture_is(m, "code", want->code);
                t->codes++;
                t->codes_ok += ok;
                if (!ok && verbose && shown++ < 20) {
                    fprintf(stderr, "\n  code: want %s: %.*s", want->code, (int)rec.message.len, rec.message.ptr);
                }
            }
            if (got >= 0 && want->target != NULL) {
                bool ok = capture_is(m, "target", want->target);
                t->targets++;
                t->targets_ok += ok;
                if (!ok && verbose && shown++ < 20) {
                    fprintf(stderr, "\n  target: want %s: %.*s", want->target, (int)rec.message.len,
                            rec.message.ptr);
                }
            }
        }
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(i, cf->count);
        aw_reader_close(&r);
    }
    aw_matcher_free(&m);
}

static double ratio(size_t num, size_t den)
{
    return den == 0 ? 0.0 : (double)num / (double)den;
}

static void test_shipped_rules_accuracy(void)
{
    char *dir = tu_mkdtemp();
    char *rules = tu_src_path("rules");
    struct aw_ruleset *rs = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0, "" };
    struct corpus c;
    struct tally t;

    memset(&t, 0, sizeof(t));
    CU_ASSERT_EQUAL_FATAL(aw_rules_load(rules, &rs, &diags, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(corpus_write(&c, dir, 20250311, RECORDS_PER_FILE), 0);
    run_corpus(&c, rs, &t, true);

    fprintf(stderr, "\n  accuracy of %s on %zu records (%zu benign, %zu of them flagged):\n", rules,
            t.records, t.benign, t.benign_flagged);
    fprintf(stderr, "    %-11s %6s %5s %5s %9s %7s\n", "category", "tp", "fp", "fn", "precision", "recall");
    for (size_t k = 0; k < NCAT; k++) {
        double p = ratio(t.tp[k], t.tp[k] + t.fp[k]), r = ratio(t.tp[k], t.tp[k] + t.fn[k]);
        fprintf(stderr, "    %-11s %6zu %5zu %5zu %9.4f %7.4f\n", categories[k], t.tp[k], t.fp[k], t.fn[k], p, r);
        /* enough positives that 0.99 means something */
        CU_ASSERT(t.tp[k] + t.fn[k] >= 500);
        CU_ASSERT(p >= MIN_SCORE);
        CU_ASSERT(r >= MIN_SCORE);
    }
    fprintf(stderr, "    codes captured %zu/%zu, targets captured %zu/%zu\n", t.codes_ok, t.codes,
            t.targets_ok, t.targets);
    CU_ASSERT_EQUAL(t.records, (size_t)RECORDS_PER_FILE * CORPUS_FORMATS);
    CU_ASSERT(t.benign >= 1000);
    CU_ASSERT(t.codes >= 1000);
    CU_ASSERT(ratio(t.codes_ok, t.codes) >= MIN_SCORE);
    CU_ASSERT(t.targets >= 500);
    CU_ASSERT(ratio(t.targets_ok, t.targets) >= MIN_SCORE);

    corpus_free(&c);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    tu_rmtree(dir);
    free(dir);
    free(rules);
}

/* The measurement can fail: a rule set that misses one kind of failure,
 * or that flags every record mentioning "error", scores below 0.99. */
static void test_accuracy_detects_bad_rules(void)
{
    static const char naive[] =
        "rules:\n"
        "  - id: any-error\n"
        "    category: connection\n"
        "    severity: error\n"
        "    pattern: '(?i)error|fail|timed? ?out'\n"
        "  - id: dns\n"
        "    category: resolution\n"
        "    severity: error\n"
        "    pattern: '(?i)could not be resolved'\n";
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "naive.yaml");
    struct aw_ruleset *rs = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0, "" };
    struct corpus c;
    struct tally t;
    int ci = cat_index("connection"), si = cat_index("ssl");

    memset(&t, 0, sizeof(t));
    tu_write_str(path, naive);
    CU_ASSERT_EQUAL_FATAL(aw_rules_load(path, &rs, &diags, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(corpus_write(&c, dir, 7, 1000), 0);
    run_corpus(&c, rs, &t, false);
    CU_ASSERT(ratio(t.tp[ci], t.tp[ci] + t.fp[ci]) < MIN_SCORE);
    CU_ASSERT(ratio(t.tp[si], t.tp[si] + t.fn[si]) < MIN_SCORE);
    CU_ASSERT(t.benign_flagged > 0);
    corpus_free(&c);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    tu_rmtree(dir);
    free(dir);
    free(path);
}

/* Same seed, same bytes; another seed, other bytes. */
static void test_corpus_deterministic(void)
{
    char *a = tu_mkdtemp(), *b = tu_mkdtemp(), *d = tu_mkdtemp();
    struct corpus ca, cb, cd;

    CU_ASSERT_EQUAL_FATAL(corpus_write(&ca, a, 42, 300), 0);
    CU_ASSERT_EQUAL_FATAL(corpus_write(&cb, b, 42, 300), 0);
    CU_ASSERT_EQUAL_FATAL(corpus_write(&cd, d, 43, 300), 0);
    CU_ASSERT_EQUAL(ca.nfiles, (size_t)CORPUS_FORMATS);
    for (size_t f = 0; f < ca.nfiles; f++) {
        size_t la = 0, lb = 0, ld = 0;
        char *xa = tu_read_file(ca.files[f].path, &la);
        char *xb = tu_read_file(cb.files[f].path, &lb);
        char *xd = tu_read_file(cd.files[f].path, &ld);

        CU_ASSERT_PTR_NOT_NULL(xa);
        CU_ASSERT(la > 1000);
        CU_ASSERT(la == lb && xa != NULL && xb != NULL && memcmp(xa, xb, la) == 0);
        CU_ASSERT(!(la == ld && xa != NULL && xd != NULL && memcmp(xa, xd, la) == 0));
        free(xa);
        free(xb);
        free(xd);
    }
    corpus_free(&ca);
    corpus_free(&cb);
    corpus_free(&cd);
    tu_rmtree(a);
    tu_rmtree(b);
    tu_rmtree(d);
    free(a);
    free(b);
    free(d);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("accuracy", NULL, NULL);

    if (s == NULL || CU_add_test(s, "corpus is deterministic", test_corpus_deterministic) == NULL ||
        CU_add_test(s, "a bad rule set scores low", test_accuracy_detects_bad_rules) == NULL ||
        CU_add_test(s, "shipped rules: precision and recall", test_shipped_rules_accuracy) == NULL) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
