/*
 * agentwatch rules: check, list or test a rule set (see rules.h).
 *
 * `check` is the gate (load errors fail it) and adds lint warnings that
 * never change its exit status.  `test` is the rule author's tool: with no
 * FILE it runs every rule's examples and says which fail and why (so the
 * rule set is loaded keeping failing examples instead of refusing them);
 * with FILEs it classifies real logs record by record.  Its output is a
 * stable, line-oriented format documented in rules/README.md: every line
 * that points at something starts with "PATH:POSITION: ", so editors and
 * grep can jump to it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/grow.h"
#include "agentwatch/record.h"
#include "agentwatch/rules.h"
#include "agentwatch/platform.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "agentwatch/tz.h"
#include "cli_internal.h"
#include "cli_opt.h"

/* What the command line gives; --format's words depend on the action, so
 * it is checked once the action is known. */
struct rules_args {
    const char *rules;
    const char *local_rules;
    const char *format;
    const char *timezone;
    bool quiet;
};

static const struct aw_opt_word list_formats[] = {
    { "table", 0 },
    { "tsv", 1 },
    { NULL, 0 }
};

static const struct aw_opt rules_opts[] = {
    AW_OPT_ROW_RULES(struct rules_args),
    AW_OPT_ROW_LOCAL_RULES(struct rules_args),
    { .name = "format", .kind = AW_OPT_STRING, .arg = "FORMAT",
      .offset = offsetof(struct rules_args, format),
      .help = "list: table (default) or tsv; test FILE...: the log\n"
              "format, auto (default, detected per file), itms,\n"
              "cmtrace or line" },
    { .name = "quiet", .kind = AW_OPT_FLAG, .offset = offsetof(struct rules_args, quiet),
      .help = "test: leave out the per-rule (without FILE) or\n"
              "per-record (with FILE) lines" },
    { .name = "timezone", .kind = AW_OPT_STRING, .arg = "ZONE",
      .offset = offsetof(struct rules_args, timezone),
      .help = "test FILE...: also print each record's time (UTC),\n"
              "reading times without an offset in ZONE (an IANA\n"
              "name, on Windows only with $TZDIR, or an offset such\n"
              "as +01:00), as time=ISO, with a '~' after it when the\n"
              "year or the zone was inferred" },
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_rules_spec = AW_CLI_SPEC(
    "rules",
    "Usage: agentwatch rules check [--rules PATH] [--local-rules PATH]\n"
    "       agentwatch rules list  [--rules PATH] [--local-rules PATH] [--format table|tsv]\n"
    "       agentwatch rules test  [--rules PATH] [--local-rules PATH] [--quiet]\n"
    "       agentwatch rules test  [--rules PATH] [--local-rules PATH] [--quiet]\n"
    "                              [--format auto|itms|cmtrace|line] [--timezone ZONE] FILE...\n"
    "\n"
    "check  load and validate a rule set (YAML structure, fields, patterns,\n"
    "       examples); every problem is printed as FILE:LINE:COLUMN: message.\n"
    "       Also warns (FILE:LINE:COLUMN: warning: ...) about patterns likely\n"
    "       to backtrack badly, top-level alternatives that each open with \\b\n"
    "       (put them behind one \\b), fragments no pattern uses and rules an\n"
    "       earlier rule shadows on all their match examples.  Exit 0 when\n"
    "       valid (warnings or not), 1 when not.\n"
    "list   print the rules in the order they are tried: id, category,\n"
    "       severity, origin (shipped, local, or replaced: a local rule in a\n"
    "       shipped rule's place) and pattern (as it runs: the file's\n"
    "       fragments expanded); tsv adds the origin and FILE:LINE:COLUMN\n"
    "       after the pattern.\n"
    "test   without FILE: run every rule's examples; a match example must be\n"
    "       matched by its rule and classified as that rule by the whole set\n"
    "       (no earlier rule shadows it), a no_match example must not match.\n"
    "       Prints one line per rule (ok, FAIL, or -- without examples), one\n"
    "       FILE:LINE:COLUMN line per failing example and a summary.  Exit 1\n"
    "       when an example fails.\n"
    "       With FILE...: classify the records of the log files and print,\n"
    "       per record, FILE:OFFSET: LEVEL RULE (- for none), the captured\n"
    "       code and target, and the message's first line; then the hits per\n"
    "       rule and the error and warning records no rule matched.\n"
    "\n"
    "The local rules (--local-rules) load after the rules: a local rule with\n"
    "a shipped id replaces it in place, others are tried after the shipped\n"
    "ones, in file-name order; 'disable: [ID, ...]' leaves shipped rules out.\n"
    "\n"
    "Options:\n",
    rules_opts,
    NULL
);

/* Longest message excerpt shown per line, in characters. */
#define EXCERPT_COLS 160

static void print_rules(const struct aw_ruleset *rs, bool tsv)
{
    size_t n = aw_rules_count(rs);

    if (!tsv) {
        aw_text_printf(stdout, "%-36s %-12s %-9s %-8s %s\n", "ID", "CATEGORY", "SEVERITY", "ORIGIN", "PATTERN");
    }
    for (size_t i = 0; i < n; i++) {
        const struct aw_rule_info *r = aw_rules_get(rs, i);
        const char *origin = !r->local ? "shipped" : r->replaces ? "replaced" : "local";

        /* the table stays one line per rule; the file is in the TSV,
         * after the older columns */
        if (tsv) {
            aw_text_printf(stdout, "%s\t%s\t%s\t%s\t%s\t%s:%u:%u\n", r->id, r->category,
                           aw_rule_severity_name(r->severity), r->pattern, origin, r->file, r->line, r->column);
        } else {
            aw_text_printf(stdout, "%-36s %-12s %-9s %-8s %s\n", r->id, r->category,
                           aw_rule_severity_name(r->severity), origin, r->pattern);
        }
    }
}

/* Write the first line of untrusted bytes for a terminal: valid UTF-8, no
 * control characters, at most max_cols characters, "..." when cut. */
static void print_excerpt(const char *s, size_t len, size_t max_cols)
{
    char buf[4 * EXCERPT_COLS + 8];
    size_t line = 0, n;
    bool more;

    while (line < len && s[line] != '\n' && s[line] != '\r') {
        line++;
    }
    more = line < len;
    while (more && line > 0 && (s[line - 1] == ' ' || s[line - 1] == '\t')) {
        line--;
    }
    n = aw_text_utf8_clean(s, line, buf, sizeof(buf) - 1);
    if (n > 0 && aw_text_width(buf) > max_cols) {
        more = false;         /* aw_text_terminal() marks the cut itself */
    }
    aw_text_terminal(stdout, buf, max_cols);
    if (more) {
        fputs(" ...", stdout);
    }
}

/* " (K local from LOCAL)" when the local layer brought rules: the summary
 * says which layers it covers. */
static void print_local_count(const struct aw_ruleset *rs, const char *local)
{
    size_t k = 0;

    for (size_t i = 0; i < aw_rules_count(rs); i++) {
        k += aw_rules_get(rs, i)->local;
    }
    if (k > 0) {
        aw_text_printf(stdout, " (%zu local from %s)", k, local);
    }
}

static int cmd_check(const struct aw_cli_rules *path)
{
    struct aw_ruleset *rs = NULL;
    struct aw_diags warnings = { 0 };
    struct aw_err err = { 0, "" };
    size_t n;
    int status = AW_EXIT_FAILURE;

    if (aw_cli_load_rules(path, 0, &rs) != AW_OK) {
        return AW_EXIT_FAILURE;
    }
    if (aw_rules_lint(rs, &warnings, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    for (size_t i = 0; i < warnings.count; i++) {
        aw_text_printf(stderr, "%s\n", warnings.items[i]);
    }
    n = aw_rules_count(rs);
    aw_text_printf(stdout, "%s: %zu rule%s OK", path->path, n, n == 1 ? "" : "s");
    if (warnings.count > 0) {
        aw_text_printf(stdout, ", %zu warning%s", aw_diags_total(&warnings),
                       aw_diags_total(&warnings) == 1 ? "" : "s");
    }
    print_local_count(rs, path->local);
    fputc('\n', stdout);
    status = AW_EXIT_OK;
out:
    aw_diags_free(&warnings);
    aw_rules_free(&rs);
    return status;
}

/* ---- rules test: the examples ---- */

static void example_failure(const struct aw_rule_example *ex, const char *id, const char *what)
{
    aw_text_printf(stdout, "%s:%u:%u: rule '%s': %s: \"", ex->file, ex->line, ex->column, id, what);
    print_excerpt(ex->text, ex->len, EXCERPT_COLS);
    fputs("\"\n", stdout);
}

/* Run the examples of rule i; returns how many failed, and prints one
 * line per failure when print is set. */
static size_t check_examples(const struct aw_ruleset *rs, struct aw_matcher *m, size_t i, bool print)
{
    const struct aw_rule_info *ri = aw_rules_get(rs, i);
    size_t failed = 0;

    for (int k = 0; k < 2; k++) {
        bool no_match = k == 1;
        size_t n = no_match ? ri->example_no_match_count : ri->example_match_count;

        for (size_t j = 0; j < n; j++) {
            struct aw_rule_example ex;
            char what[512];
            bool own, limited;
            long got;

            if (!aw_rules_example(rs, i, no_match, j, &ex)) {
                continue;
            }
            own = aw_matcher_rule_matches(m, i, ex.text, ex.len);
            limited = aw_matcher_last_limited(m) >= 0;
            got = no_match || !own ? -1 : aw_matcher_classify(m, ex.text, ex.len);
            what[0] = '\0';
            if (!no_match && !own) {
                snprintf(what, sizeof(what), "match example does not match the pattern%s",
                         limited ? " (match limit hit)" : "");
            } else if (!no_match && got != (long)i) {
                /* the rule matches on its own, so the set found a rule, an earlier one */
                const struct aw_rule_info *by = aw_rules_get(rs, (size_t)got);
                snprintf(what, sizeof(what), "match example is classified as earlier rule '%s' (%s:%u:%u)",
                         by != NULL ? by->id : "?", by != NULL ? by->file : "?", by != NULL ? by->line : 0,
                         by != NULL ? by->column : 0);
            } else if (no_match && own) {
                snprintf(what, sizeof(what), "no_match example matches the pattern");
            }
            if (what[0] != '\0') {
                failed++;
                if (print) {
                    example_failure(&ex, ri->id, what);
                }
            }
        }
    }
    return failed;
}

static int cmd_test_examples(const struct aw_cli_rules *path, bool quiet)
{
    struct aw_ruleset *rs = NULL;
    struct aw_matcher *m = NULL;
    struct aw_err err = { 0, "" };
    size_t n, examples = 0, failed = 0, failed_rules = 0, untested = 0;
    int rc, status = AW_EXIT_FAILURE;

    rc = aw_cli_load_rules(path, AW_RULES_LOAD_KEEP_FAILING_EXAMPLES, &rs);
    if (rc != AW_OK) {
        goto out;
    }
    if (aw_matcher_new(rs, &m, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    n = aw_rules_count(rs);
    for (size_t i = 0; i < n; i++) {
        const struct aw_rule_info *ri = aw_rules_get(rs, i);
        size_t total = ri->example_match_count + ri->example_no_match_count;
        size_t f = check_examples(rs, m, i, false);

        if (f > 0) {
            aw_text_printf(stdout, "FAIL %s (%zu of %zu examples failed)\n", ri->id, f, total);
            check_examples(rs, m, i, true);
        } else if (quiet) {
            /* only failures */
        } else if (total == 0) {
            aw_text_printf(stdout, "--   %s (no examples)\n", ri->id);
        } else {
            aw_text_printf(stdout, "ok   %s (%zu match, %zu no_match)\n", ri->id, ri->example_match_count,
                   ri->example_no_match_count);
        }
        examples += ri->example_match_count + ri->example_no_match_count;
        untested += ri->example_match_count + ri->example_no_match_count == 0;
        failed += f;
        failed_rules += f > 0;
    }
    aw_text_printf(stdout, "%s: %zu rule%s, %zu example%s: %zu passed, %zu failed", path->path, n,
                   n == 1 ? "" : "s", examples, examples == 1 ? "" : "s", examples - failed, failed);
    if (failed_rules > 0) {
        aw_text_printf(stdout, " (in %zu rule%s)", failed_rules, failed_rules == 1 ? "" : "s");
    }
    if (untested > 0) {
        aw_text_printf(stdout, ", %zu rule%s without examples", untested, untested == 1 ? "" : "s");
    }
    print_local_count(rs, path->local);
    putchar('\n');
    status = failed > 0 ? AW_EXIT_FAILURE : AW_EXIT_OK;
out:
    aw_matcher_free(&m);
    aw_rules_free(&rs);
    return status;
}

/* ---- rules test FILE...: classify real logs ---- */

struct unmatched {
    char *path;               /* borrowed from argv */
    uint64_t offset;
    enum aw_level level;
    char *message;            /* first line, cleaned; owned */
};

struct classify_state {
    const struct aw_ruleset *rs;
    struct aw_matcher *m;
    uint64_t *hits;           /* per rule */
    uint64_t records, none, files, failed_files, limited;
    struct unmatched *um;
    size_t num, umcap;
    bool quiet;
    const struct aw_tz *tz;   /* --timezone: print times read in it */
};

static int remember_unmatched(struct classify_state *st, char *path, uint64_t offset, enum aw_level level,
                              const char *msg, size_t len)
{
    size_t line = 0, cap = len < 4 * EXCERPT_COLS ? len : 4 * EXCERPT_COLS;
    char *copy;

    while (line < cap && msg[line] != '\n' && msg[line] != '\r') {
        line++;
    }
    if (AW_GROW(st->um, st->umcap, st->num + 1, 32) != AW_OK) {
        return AW_ENOMEM;
    }
    /* keep the raw first line; print_excerpt() cleans it when printed */
    copy = strndup(msg, line);
    if (copy == NULL) {
        return AW_ENOMEM;
    }
    st->um[st->num].path = path;
    st->um[st->num].offset = offset;
    st->um[st->num].level = level;
    st->um[st->num].message = copy;
    st->num++;
    return AW_OK;
}

static void print_capture(const struct aw_matcher *m, const char *name)
{
    const char *t;
    size_t len;

    if (aw_matcher_capture(m, name, &t, &len)) {
        aw_text_printf(stdout, " %s=", name);
        print_excerpt(t, len, 80);
    }
}

/* " time=ISO" (and "~" when inferred, "time=-" when unknown). */
static void print_time(const struct aw_record_meta *meta)
{
    char iso[AW_TIME_ISO_MAX];

    if (meta->ts_ms == AW_TIME_NONE) {
        fputs(" time=-", stdout);
        return;
    }
    aw_time_format_iso(meta->ts_ms, iso);
    aw_text_printf(stdout, " time=%s%s", iso, meta->ts_inferred ? "~" : "");
}

static int classify_file(struct classify_state *st, char *path, const struct aw_reader_opts *opts)
{
    struct aw_reader *r = NULL;
    struct aw_record rec;
    struct aw_err err = { 0, "" };
    struct aw_os_stat fst;
    struct aw_time_ctx tc = { st->tz, AW_TIME_NONE };
    int rc;

    if ((rc = aw_reader_open(&r, path, 0, opts, &err)) != AW_OK) {
        aw_cli_failure(&err);
        return rc;
    }
    /* A single file: its modification time bounds the year. */
    if (aw_os_fstat(aw_reader_fd(r), &fst) == 0) {
        tc.bound_ms = fst.mtime_sec * 1000 + fst.mtime_nsec / 1000000;
    }
    while ((rc = aw_reader_next(r, &rec, &err)) == 1) {
        struct aw_record_meta meta;
        long got = aw_matcher_classify(st->m, rec.message.ptr, rec.message.len);
        long limited = aw_matcher_last_limited(st->m);

        aw_record_parse_meta(aw_reader_format(r), &rec, &tc, &meta);
        st->records++;
        st->limited += limited >= 0;
        if (got >= 0) {
            st->hits[got]++;
        } else {
            st->none++;
            if ((meta.level == AW_LEVEL_ERROR || meta.level == AW_LEVEL_WARNING) &&
                remember_unmatched(st, path, rec.offset, meta.level, rec.message.ptr,
                                   rec.message.len) != AW_OK) {
                rc = aw_err_set(&err, AW_ENOMEM, "rules test: out of memory");
                break;
            }
        }
        if (!st->quiet) {
            aw_text_printf(stdout, "%s:%llu: %s %s", path, (unsigned long long)rec.offset, aw_level_name(meta.level),
                   got >= 0 ? aw_rules_get(st->rs, (size_t)got)->id : "-");
            if (got >= 0) {
                print_capture(st->m, "code");
                print_capture(st->m, "target");
            }
            if (limited >= 0) {
                aw_text_printf(stdout, " limit=%s", aw_rules_get(st->rs, (size_t)limited)->id);
            }
            if (st->tz != NULL) {
                print_time(&meta);
            }
            fputs(": ", stdout);
            print_excerpt(rec.message.ptr, rec.message.len, EXCERPT_COLS);
            putchar('\n');
        }
    }
    if (rc < 0) {
        aw_cli_failure(&err);
    }
    aw_reader_close(&r);
    return rc < 0 ? rc : AW_OK;
}

/* The rules a match limit stopped, with how many records each could not
 * be matched against (the records count as no match). */
static void print_limit_hits(const struct aw_ruleset *rs, const struct aw_matcher *m)
{
    bool any = false;

    for (size_t i = 0; i < aw_rules_count(rs); i++) {
        uint64_t n = aw_matcher_rule_limit_hits(m, i);

        if (n == 0) {
            continue;
        }
        if (!any) {
            aw_text_printf(stdout, "\nmatch limit hits (PCRE2):\n");
            any = true;
        }
        aw_text_printf(stdout, "%8llu  record%s could not be matched by rule '%s'\n", (unsigned long long)n,
                       AW_PLURAL(n), aw_rules_get(rs, i)->id);
    }
}

/* After the records: hits per rule, limit hits, the unmatched error and
 * warning records, and the totals. */
static void print_classify_summary(const struct classify_state *st, bool quiet)
{
    size_t matched_rules = 0;

    if (!quiet) {
        putchar('\n');
    }
    aw_text_printf(stdout, "hits per rule:\n");
    for (size_t i = 0; i < aw_rules_count(st->rs); i++) {
        if (st->hits[i] > 0) {
            const struct aw_rule_info *ri = aw_rules_get(st->rs, i);
            aw_text_printf(stdout, "%8llu  %s (%s)\n", (unsigned long long)st->hits[i], ri->id, ri->category);
            matched_rules++;
        }
    }
    aw_text_printf(stdout, "%8llu  - (no rule)\n", (unsigned long long)st->none);
    print_limit_hits(st->rs, st->m);
    aw_text_printf(stdout, "\nunmatched error and warning records:%s\n", st->num == 0 ? " none" : "");
    for (size_t i = 0; i < st->num; i++) {
        aw_text_printf(stdout, "%s:%llu: %s: ", st->um[i].path, (unsigned long long)st->um[i].offset,
               aw_level_name(st->um[i].level));
        print_excerpt(st->um[i].message, strlen(st->um[i].message), EXCERPT_COLS);
        putchar('\n');
    }
    aw_text_printf(stdout, "\n%llu record%s in %llu file%s: %llu classified by %zu rule%s, %llu by none (%zu error or "
           "warning)\n",
           (unsigned long long)st->records, st->records == 1 ? "" : "s", (unsigned long long)st->files,
           st->files == 1 ? "" : "s", (unsigned long long)(st->records - st->none), matched_rules,
           matched_rules == 1 ? "" : "s", (unsigned long long)st->none, st->num);
    if (st->limited > 0) {
        aw_text_printf(stdout, "%llu record%s stopped by a match limit\n", (unsigned long long)st->limited,
                       AW_PLURAL(st->limited));
    }
}

static int cmd_test_files(const struct aw_cli_rules *path, char **files, int nfiles, enum aw_format format,
                          bool quiet, const struct aw_tz *tz)
{
    struct aw_ruleset *rs = NULL;
    struct aw_err err = { 0, "" };
    struct aw_reader_opts opts;
    struct classify_state st;
    size_t n;
    int rc, status = AW_EXIT_FAILURE;

    memset(&st, 0, sizeof(st));
    memset(&opts, 0, sizeof(opts));
    opts.format = format;
    /* the rule author wants to see every record, also a last one still
     * being written */
    opts.deliver_partial = true;
    opts.named_file = true;
    st.quiet = quiet;
    st.tz = tz;
    /* failing examples do not stop an author from trying a rule on logs */
    rc = aw_cli_load_rules(path, AW_RULES_LOAD_KEEP_FAILING_EXAMPLES, &rs);
    if (rc != AW_OK) {
        goto out;
    }
    n = aw_rules_count(rs);
    st.rs = rs;
    st.hits = calloc(n, sizeof(*st.hits));
    if (st.hits == NULL) {
        aw_err_set(&err, AW_ENOMEM, "rules test: out of memory");
        aw_cli_failure(&err);
        goto out;
    }
    if (aw_matcher_new(rs, &st.m, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    for (int f = 0; f < nfiles; f++) {
        rc = classify_file(&st, files[f], &opts);
        st.files++;
        if (rc == AW_ENOMEM) {
            goto out;
        }
        st.failed_files += rc != AW_OK;
    }

    print_classify_summary(&st, quiet);
    status = st.failed_files > 0 ? AW_EXIT_FAILURE : AW_EXIT_OK;
out:
    for (size_t i = 0; i < st.num; i++) {
        free(st.um[i].message);
    }
    free(st.um);
    free(st.hits);
    aw_matcher_free(&st.m);
    aw_rules_free(&rs);
    return status;
}

int aw_cmd_rules(struct aw_cli *cli, int argc, char **argv)
{
    struct rules_args a = { NULL, NULL, NULL, NULL, false };
    struct aw_ruleset *rs = NULL;
    struct aw_cli_rules src;
    const char *action = NULL;
    int log_format = AW_FORMAT_AUTO, tsv = 0, n, rc;
    bool is_test;

    rc = aw_cli_parse(&aw_rules_spec, cli, argc, argv, &a, &n);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    /* The wording predates `test` and is pinned by tests/test_cli.c; the
     * usage text (see --help) lists all three actions. */
    if (n == 0) {
        return aw_cli_usage_error("rules", "missing action: check, list or test");
    }
    action = argv[1];
    if (strcmp(action, "check") != 0 && strcmp(action, "list") != 0 && strcmp(action, "test") != 0) {
        return aw_cli_usage_error("rules", "unknown action '%s': expected check, list or test", action);
    }
    is_test = strcmp(action, "test") == 0;
    if (!is_test && n > 1) {
        return aw_cli_usage_error("rules", "unexpected argument '%s'", argv[2]);
    }
    if (a.quiet && !is_test) {
        return aw_cli_usage_error("rules", "--quiet applies to 'rules test' only");
    }
    if (a.timezone != NULL && !(is_test && n > 1)) {
        return aw_cli_usage_error("rules", "--timezone applies to 'rules test FILE...' only");
    }
    if (a.format != NULL && strcmp(action, "list") == 0) {
        if (!aw_cli_word(list_formats, a.format, &tsv)) {
            return aw_cli_bad_word("rules", "format", a.format, list_formats);
        }
    } else if (a.format != NULL && is_test && n > 1) {
        if (!aw_cli_word(aw_cli_log_formats, a.format, &log_format)) {
            return aw_cli_bad_word("rules", "format", a.format, aw_cli_log_formats);
        }
    } else if (a.format != NULL) {
        return aw_cli_usage_error("rules", "--format applies to 'rules list' and 'rules test FILE...' only");
    }
    rc = aw_cli_rule_sources(cli, "rules", a.rules, a.local_rules, &src);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    if (strcmp(action, "check") == 0) {
        return cmd_check(&src);
    }
    if (is_test) {
        if (n > 1) {
            struct aw_tz *tz = NULL;
            int status;

            if (a.timezone != NULL &&
                (status = aw_cli_open_tz(cli, "rules", a.timezone, &tz)) != AW_EXIT_OK) {
                return status;
            }
            status = cmd_test_files(&src, argv + 2, n - 1, (enum aw_format)log_format, a.quiet, tz);
            aw_tz_free(&tz);
            return status;
        }
        return cmd_test_examples(&src, a.quiet);
    }
    if (aw_cli_load_rules(&src, 0, &rs) != AW_OK) {
        return AW_EXIT_FAILURE;
    }
    print_rules(rs, tsv == 1);
    aw_rules_free(&rs);
    return AW_EXIT_OK;
}
