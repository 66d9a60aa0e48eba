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
#define MAX_FILES 64

/* Held-out recall (ssl, connection, resolution, health) as measured with
 * batch 16's held-out part before any rule change of its own (fa8118e's
 * rules: 0.77, 0.76, 0.90, 0.59 on 559 records; 0.77, 0.80, 0.90, 0.59 after
 * rework 18; 0.78, 0.76, 0.90, 0.56 on 607 records with batch 18 before
 * any rule change of its own; 0.77, 0.88, 0.90, 0.56 after rework 20's
 * shape tier; 0.77, 0.88, 0.90, 0.51 on 643 records with batch 19 before
 * any rule change of its own; 0.92, 0.88, 0.90, 0.51 after rework 22's
 * ssl, resolution and exchange shapes; 0.92, 0.85, 0.90, 0.51 on 674 records
 * with batch 20 before any rule change of its own; 0.92, 0.85, 0.90, 0.52
 * on 709 records with batch 21 before any rule change of its own;
 * 0.92, 0.85, 0.90, 0.54 after the documentation-only rework 24 (one
 * held-out success marker newly matched, count with care); 0.93, 0.85,
 * 0.93, 0.54 on 761 records with batch 22 before any rule change of its
 * own (the floors hold); 0.91, 0.85, 0.94, 0.54 on 800 records with
 * batch 23 before any rule change of its own (ssl 31/34: the batch's one
 * held-out TLS record was not matched, so the ssl floor was lowered from
 * 0.92 to 0.91); 0.91, 0.85, 0.90, 0.58 after the documentation-only
 * rework 28 (two held-out success markers newly matched, 28/48, counted,
 * not read; no held-out benign record newly flagged); 0.91, 0.85, 0.94,
 * 0.56 on 847 records with batch 24 before any rule change of its own
 * (health 28/50: neither of the batch's two held-out success markers was
 * matched, so the health floor was lowered from 0.58 to 0.56);
 * 0.91, 0.87, 0.94, 0.56 on 889 records (batch 25, rework 33) after
 * rework 32 (connection 165/190 -> 166/190: the general tier widened from
 * the working part's classes, counted, not read; one held-out record of
 * another category newly taken for connection, no held-out benign record
 * newly flagged), so the connection floor was raised from 0.85 to 0.87;
 * 0.92, 0.85, 0.94, 0.64 on 1049 records with batch 29 before any rule
 * change of its own (connection 185/216: 5 of the batch's 12 held-out
 * connection records matched, counted, not read, so the connection floor
 * was lowered from 0.87 to 0.85); 0.92, 0.84, 0.94, 0.63 on 1115 records
 * with batch 32 before any rule change of its own (connection 192/227: 3
 * of the batch's 6 held-out connection records matched, counted, not read,
 * so the connection floor was lowered from 0.85 to 0.84); each
 * new batch's held-out sources bring
 * wordings of agents no working record has), rounded down: a regression
 * guard, not the goal; see tests/corpus/real/README.md.  The held-out
 * precision floor is one too: batch 16 brought the first held-out false
 * positive (a .NET send failure without a named cause taken for TLS), ssl
 * 20/21; batch 19 three local errors of the Falcon sensor that the shape
 * tier takes for connection failures, connection 128/131 (0.97), 128/130
 * after rework 21 excluded reading proxy settings from the shape tier;
 * batch 20 three ConfigMgr update-client errors that are not about the
 * server (a Group Policy conflict, content not distributed), connection
 * 136/141 (0.96); batch 21 one benign record of an IntuneManagementExtension.log
 * taken for a connection failure and one for a success marker (not read,
 * counted), connection 140/146 (0.95), health 24/25; rework 24 kept the
 * shape tier off the status codes Microsoft's error tables document as
 * local (batch 20's three), connection 140/143 (0.97), health 25/26 (0.96);
 * batch 22 (fleetd and other endpoint management agents, first measurement
 * with the rules of 5ad1504) five benign records flagged (not read,
 * counted): two taken for name-resolution failures, resolution 15/17
 * (0.88), three for connection failures, connection 147/153 (0.96);
 * batch 23 (first measurement with the rules of 7383285) one more benign
 * record flagged connection (not read, counted), connection 151/158 (0.96).
 * Batch 31 (endpoint management, monitoring and remote-access agents on
 * Linux, macOS and servers; first measured with the rules of 980ff4a,
 * again with those of 13d2709 after batches 30 and 32 landed, the same
 * batch counts, before any rule change of its own): 0.93, 0.82, 0.94,
 * 0.60 on 1151 records (connection 196/237: 4 of the batch's 10 held-out
 * connection records matched, counted, not read), so the connection
 * floor was lowered from 0.84 to 0.82 (0.8270 rounded down); 0.93, 0.83,
 * 0.94, 0.63 after rework 42 (from the batch's working part only;
 * connection 198/237, two held-out records newly matched, counted, not
 * read; no held-out benign record newly flagged), so the connection floor
 * was raised to 0.83; 0.93, 0.83, 0.94, 0.68 on the same 1151 records
 * after the documentation-only rework 43, on rework 46 (health 50/76 ->
 * 52/76: two held-out success markers of the Windows management domain
 * newly matched, counted, not read; no held-out benign record newly
 * flagged), so the health floor was raised from 0.56 to 0.68.  Batch 33
 * (endpoint management and monitoring agents talking to their server;
 * first measured with the rules of 1fd2ebc, rework 46, and again with
 * those of 6b8dda9, rework 43, after the rebase, the same batch counts,
 * before any rule change of its own): 0.93, 0.81, 0.95, 0.66 on 1195
 * records (connection 199/245: 1 of the batch's 8 held-out connection
 * records matched; health 52/78: none of its 2 held-out success markers
 * matched; counted, not read), so the connection floor was lowered from
 * 0.83 to 0.81 (0.8122 rounded down) and the health floor from 0.68 to
 * 0.66 (0.6667 rounded down); 0.93, 0.81, 0.95, 0.70 after rework 47
 * (from the batch's working part only; health 52/78 -> 55/78: three
 * held-out success markers newly matched, one of them the batch's,
 * counted, not read; no held-out benign record newly flagged), so the
 * health floor was raised to 0.70.  After the documentation-only rework
 * 48 (agents' public source code; three rounds), on 74ce897: connection
 * 199/245 -> 201/245 (two held-out records newly matched, counted, not
 * read; no held-out benign record newly flagged); rebased on 95f0fd6
 * (batch 34, 1236 records, measured with rework 48's first two rounds),
 * connection 221/267 -> 222/267 (one held-out record newly matched,
 * counted, not read; none newly flagged), so the connection floor was
 * raised from 0.81 to 0.83 (0.8315 rounded down).  Batch 35 (Windows management
 * clients: Wazuh and Zabbix agents on Windows, WindowsUpdate.log, the Intune
 * management extension, winget's Delivery Optimization; first measured
 * with the rules of a74c190 and again of 739a116 after the rebase, the
 * same batch counts, before any rule change of its own): 0.93, 0.83,
 * 0.83, 0.74 on 1296 records (resolution 20/24: none of the
 * batch's 3 held-out name-resolution records matched, counted, not
 * read), so the resolution floor was lowered from 0.90 to 0.83 (0.8333
 * rounded down).  Batch 36 (TLS/certificate and name-resolution failures
 * of agents talking to their server, on Windows endpoints and elsewhere;
 * first measured with the rules of fe70e59 and again of 2876471 after
 * the rebase, the same counts, before any rule change of its own): 0.96, 0.82, 0.83, 0.74 on 1333 records (connection 229/276: 3 of
 * the batch's 5 held-out connection records matched, counted, not read),
 * so the connection floor was lowered from 0.83 to 0.82 (0.8297 rounded
 * down).  Batch 38 (Windows management clients and servers quoted in web
 * material: ConfigMgr WSUS configuration and control manager logs,
 * WindowsUpdate.log, blog posts; first measured with the rules of 734f9fb,
 * rework 54, before any rule change of its own): 0.96, 0.83, 0.95, 0.69 on
 * 1421 records (health 72/103: 1 of the batch's 3 held-out success markers
 * matched, counted, not read), so the health floor was lowered from 0.70
 * to 0.69 (0.6990 rounded down); rebased on 0b1a6ab (batch 39), the same
 * batch counts: 0.96, 0.82, 0.96, 0.69 on 1457 records (health 72/104,
 * 0.6923 rounded down to the same 0.69). */
static const double holdout_recall_floor[] = { 0.91, 0.82, 0.83, 0.69 };
#define HOLDOUT_PRECISION_FLOOR 0.88

static const char *const categories[] = { "ssl", "connection", "resolution", "health" };
#define NCAT (sizeof(categories) / sizeof(categories[0]))
enum { PART_WORK, PART_HOLDOUT, NPART };
static const char *const part_names[NPART] = { "working", "held-out" };

/* The domain of each corpus file, the one place it is written (issue 11
 * targets management agents on Windows endpoints; the figures are also
 * printed per domain).  A file not listed here is "other agents". */
enum { DOM_WINDOWS, DOM_OTHER, NDOM };
static const char *const domain_names[NDOM] = { "Windows management", "other agents" };
static const char *const windows_files[] = {
    "mslearn-configmgr.tsv", "mslearn-windowsupdate.tsv", "github-configmgr.tsv",
    "github-windowsupdate.tsv", "github-winhttp.tsv", "web-windows.tsv", "windows-mgmt.tsv",
    "windows-mgmt2.tsv", "windows-mgmt3.tsv", "windows-mgmt4.tsv", "windows-mgmt5.tsv",
    "windows-mgmt6.tsv",
    "windows-mgmt7.tsv", "windows-mgmt8.tsv", "windows-mgmt9.tsv", "windows-mgmt10.tsv",
    "windows-mgmt11.tsv", "windows-mgmt12.tsv", "windows-mgmt13.tsv", "windows-mgmt14.tsv",
    "windows-mgmt15.tsv", "windows-mgmt16.tsv", "windows-mgmt17.tsv", "windows-mgmt18.tsv",
    "windows-mgmt19.tsv",
    "windows-mgmt20.tsv",
    "windows-mgmt21.tsv",
};

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
