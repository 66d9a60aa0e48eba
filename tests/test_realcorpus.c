/*
 * Accuracy of the shipped rules on records that real software wrote
 * (tests/corpus/real/, see its README.md): per category precision and
 * recall, on the working part of the corpus and on the held-out part
 * (whole sources listed in holdout.txt, kept out of sight while the rules
 * were written).  Each record goes through the real matcher; a record kept
 * with its CMTrace/itms envelope goes through the real record reader
 * first, as `scan` would read it.  The goal of issue 11 (recall >= 0.95
 * and precision >= 0.98 for ssl, connection and resolution, recall >= 0.90
 * for health) is enforced on the working part.  The held-out part is held
 * to the recall it scored after the last rework (holdout_recall_floor):
 * tuning rules to it would make it one more working part, so its shortfall
 * is reported, not hidden.  Misses of the working part are printed; of the
 * held-out part only the counts, unless AW_REALCORPUS_SHOW_HOLDOUT is set.
 */
#include "testutil.h"

#include "agentwatch/record.h"
#include "agentwatch/rules.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIN_RECORDS 250
#define FAIL_RECALL 0.95
#define FAIL_PRECISION 0.98
#define HEALTH_RECALL 0.90
#define MAX_FILES 256

/* The held-out part is held to the recall (ssl, connection, resolution,
 * health) and the precision it last scored, rounded down to two digits:
 * a regression guard, not the goal.  Every move of a floor, with the
 * batch or rework that moved it and its counts, is listed in
 * tests/corpus/real/README.md, "Held-out floors". */
static const double holdout_recall_floor[] = { 0.88, 0.77, 0.83, 0.52 };
#define HOLDOUT_PRECISION_FLOOR 0.87

static const char *const categories[] = { "ssl", "connection", "resolution", "health" };
#define NCAT (sizeof(categories) / sizeof(categories[0]))
enum { PART_WORK, PART_HOLDOUT, NPART };
static const char *const part_names[NPART] = { "working", "held-out" };

/* The domain of each corpus file, the one place it is written (issue 11
 * targets management agents on Windows endpoints; the figures are also
 * printed per domain).  A file neither listed here nor named with
 * WINDOWS_BATCH_PREFIX is "other agents". */
enum { DOM_WINDOWS, DOM_OTHER, NDOM };
static const char *const domain_names[NDOM] = { "Windows management", "other agents" };
static const char *const windows_files[] = {
    "mslearn-configmgr.tsv", "mslearn-windowsupdate.tsv", "github-configmgr.tsv",
    "github-windowsupdate.tsv", "github-winhttp.tsv", "web-windows.tsv",
};
/* Every batch file of the domain is named so; new ones need no entry. */
#define WINDOWS_BATCH_PREFIX "windows-mgmt"

struct tally {
    size_t tp[NCAT], fp[NCAT], fn[NCAT], pos[NCAT];
    size_t records, benign, benign_flagged, codes, codes_ok;
};

struct realrun {
    struct aw_matcher *m;
    const struct aw_ruleset *rs;
    char *tmpdir;
    char *holdout;      /* holdout.txt, one source a line */
    char *message;      /* the last enveloped record's message: captures
                           point into it until the next record */
    struct tally t[NPART];
    struct tally dom[NPART][NDOM]; /* the same records split by domain */
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

static int file_domain(const char *file)
{
    if (strncmp(file, WINDOWS_BATCH_PREFIX, strlen(WINDOWS_BATCH_PREFIX)) == 0) {
        return DOM_WINDOWS;
    }
    for (size_t i = 0; i < sizeof(windows_files) / sizeof(windows_files[0]); i++) {
        if (strcmp(file, windows_files[i]) == 0) {
            return DOM_WINDOWS;
        }
    }
    return DOM_OTHER;
}

static double ratio(size_t num, size_t den)
{
    return den == 0 ? 0.0 : (double)num / (double)den;
}

/* The corpus escapes \t, \n and \\ in the text column; any other
 * backslash is kept as written. */
static void unescape(char *s)
{
    char *w = s;

    for (const char *r = s; *r != '\0'; r++) {
        if (r[0] == '\\' && (r[1] == 't' || r[1] == 'n' || r[1] == '\\')) {
            *w++ = r[1] == 't' ? '\t' : r[1] == 'n' ? '\n' : '\\';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static bool is_holdout(const struct realrun *run, const char *source)
{
    size_t n = strlen(source);

    for (const char *p = run->holdout; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);

        if (p[0] != '#' && len == n && memcmp(p, source, n) == 0) {
            return true;
        }
        p = eol ? eol + 1 : p + len;
    }
    return false;
}

/* Classify one record's message; a record kept with its envelope is
 * written to a file and read back through the record reader, its message
 * copied (run->message) so the captures outlive the reader. */
static long classify(struct realrun *run, const char *format, const char *text)
{
    struct aw_err err = { 0, "" };
    struct aw_reader *r = NULL;
    struct aw_record rec;
    char *path;
    long got = -1;

    if (strcmp(format, "message") == 0) {
        return aw_matcher_classify(run->m, text, strlen(text));
    }
    path = tu_path(run->tmpdir, "record.log");
    tu_write_str(path, text);
    CU_ASSERT_EQUAL_FATAL(aw_reader_open(&r, path, 0, NULL, &err), AW_OK);
    if (aw_reader_next(r, &rec, &err) == 1) {
        free(run->message);
        run->message = malloc(rec.message.len + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(run->message);
        memcpy(run->message, rec.message.ptr, rec.message.len);
        run->message[rec.message.len] = '\0';
        got = aw_matcher_classify(run->m, run->message, rec.message.len);
    } else {
        CU_FAIL("a corpus record with an envelope yields no record");
    }
    aw_reader_close(&r);
    free(path);
    return got;
}

static bool code_captured(const struct aw_matcher *m, const char *want)
{
    const char *t;
    size_t len;

    return aw_matcher_capture(m, "code", &t, &len) && len == strlen(want) && strncasecmp(t, want, len) == 0;
}

/* Count one record: wanted category wi, got gi (-1: benign / none). */
static void count(struct tally *t, int wi, int gi)
{
    t->records++;
    if (wi < 0) {
        t->benign++;
        t->benign_flagged += gi >= 0;
    } else {
        t->pos[wi]++;
    }
    if (wi == gi && wi >= 0) {
        t->tp[wi]++;
    } else if (wi != gi) {
        t->fn[wi >= 0 ? wi : 0] += wi >= 0;
        t->fp[gi >= 0 ? gi : 0] += gi >= 0;
    }
}

/* One corpus line: label, code, format, reconstructed, source, text. */
static void run_line(struct realrun *run, char *line, const char *file)
{
    char *col[6];
    size_t n = 0;

    for (char *p = line; n < 6; n++) {
        col[n] = p;
        p = n < 5 ? strchr(p, '\t') : NULL;
        if (p == NULL) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (n != 6) {
        fprintf(stderr, "\n  %s: malformed line: %.80s", file, line);
        CU_FAIL("malformed corpus line");
        return;
    }
    unescape(col[5]);
    int part = is_holdout(run, col[4]) ? PART_HOLDOUT : PART_WORK;
    struct tally *t = &run->t[part];
    long got = classify(run, col[2], col[5]);
    const char *gcat = got >= 0 ? aw_rules_get(run->rs, (size_t)got)->category : NULL;
    int wi = cat_index(col[0]), gi = cat_index(gcat);

    CU_ASSERT(wi >= 0 || strcmp(col[0], "benign") == 0);
    count(&run->t[part], wi, gi);
    count(&run->dom[part][file_domain(file)], wi, gi);
    if (wi != gi) {
        const char *show = getenv("AW_REALCORPUS_SHOW_HOLDOUT");
        if (part == PART_WORK || (show != NULL && show[0] != '\0')) {
            fprintf(stderr, "\n  miss: want %s, got %s (%s): %.160s", col[0], gcat ? gcat : "-",
                    got >= 0 ? aw_rules_get(run->rs, (size_t)got)->id : "-", col[5]);
        }
    }
    if (got >= 0 && wi == gi && strcmp(col[1], "-") != 0) {
        bool ok = code_captured(run->m, col[1]);
        struct tally *d = &run->dom[part][file_domain(file)];

        t->codes++;
        t->codes_ok += ok;
        d->codes++;
        d->codes_ok += ok;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.tsv file of the corpus directory, in name order. */
static void run_corpus(struct realrun *run, const char *dir)
{
    char *names[MAX_FILES];
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;

    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".tsv") == 0) {
            /* A file past the limit would be left out unseen (in readdir
             * order, so a different one on each file system): fail. */
            CU_ASSERT_FATAL(n < MAX_FILES);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char *path = tu_path(dir, names[i]);
        char *text = tu_read_file(path, NULL);

        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        for (char *line = text, *eol; *line != '\0'; line = eol + 1) {
            eol = strchr(line, '\n');
            if (eol == NULL) {
                eol = line + strlen(line) - 1;
            } else {
                *eol = '\0';
            }
            if (line[0] != '#' && line[0] != '\0' && strncmp(line, "label\t", 6) != 0) {
                run_line(run, line, names[i]);
            }
        }
        free(text);
        free(path);
        free(names[i]);
    }
}

enum check { CHECK_GOAL, CHECK_FLOOR, CHECK_NONE };

/* Print one part's figures and hold them to the goal (working part), to
 * the floor first measured (held-out part) or to nothing (a domain's
 * share of a part: the floors are of the whole part). */
static void report_part(const struct tally *t, const char *name, const char *domain, enum check check)
{
    bool holdout = check == CHECK_FLOOR;

    fprintf(stderr, "\n  real records, %s part%s%s: %zu records (%zu benign, %zu of them flagged)\n", name,
            domain ? ", " : "", domain ? domain : "", t->records, t->benign, t->benign_flagged);
    fprintf(stderr, "    %-11s %5s %5s %5s %5s %9s %7s\n", "category", "n", "tp", "fp", "fn", "precision", "recall");
    for (size_t k = 0; k < NCAT; k++) {
        double p = ratio(t->tp[k], t->tp[k] + t->fp[k]), r = ratio(t->tp[k], t->pos[k]);
        bool health = strcmp(categories[k], "health") == 0;

        fprintf(stderr, "    %-11s %5zu %5zu %5zu %5zu %9.4f %7.4f\n", categories[k], t->pos[k], t->tp[k], t->fp[k],
                t->fn[k], p, r);
        if (check == CHECK_NONE) {
            continue;
        }
        if (t->pos[k] > 0) {
            CU_ASSERT(r >= (holdout ? holdout_recall_floor[k] : health ? HEALTH_RECALL : FAIL_RECALL));
        }
        if (!health && t->tp[k] + t->fp[k] > 0) {
            CU_ASSERT(p >= (holdout ? HOLDOUT_PRECISION_FLOOR : FAIL_PRECISION));
        }
    }
    fprintf(stderr, "    codes captured as labelled: %zu/%zu\n", t->codes_ok, t->codes);
}

static void test_real_records(void)
{
    char *rules = tu_src_path("rules");
    char *dir = tu_src_path("tests/corpus/real");
    char *hold = tu_path(dir, "holdout.txt");
    struct aw_ruleset *rs = NULL;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0, "" };
    struct realrun run;

    memset(&run, 0, sizeof(run));
    CU_ASSERT_EQUAL_FATAL(aw_rules_load(rules, &rs, &diags, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_matcher_new(rs, &run.m, &err), AW_OK);
    run.rs = rs;
    run.tmpdir = tu_mkdtemp();
    run.holdout = tu_read_file(hold, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(run.holdout);
    run_corpus(&run, dir);
    for (int p = 0; p < NPART; p++) {
        report_part(&run.t[p], part_names[p], NULL, p == PART_HOLDOUT ? CHECK_FLOOR : CHECK_GOAL);
        for (int d = 0; d < NDOM; d++) {
            report_part(&run.dom[p][d], part_names[p], domain_names[d], CHECK_NONE);
        }
    }
    CU_ASSERT(run.t[PART_WORK].records + run.t[PART_HOLDOUT].records >= MIN_RECORDS);
    CU_ASSERT(run.t[PART_HOLDOUT].records * 5 >= run.t[PART_WORK].records);
    aw_matcher_free(&run.m);
    aw_rules_free(&rs);
    aw_diags_free(&diags);
    tu_rmtree(run.tmpdir);
    free(run.tmpdir);
    free(run.holdout);
    free(run.message);
    free(hold);
    free(dir);
    free(rules);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("realcorpus", NULL, NULL);

    if (s == NULL || CU_add_test(s, "shipped rules on real records", test_real_records) == NULL) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
