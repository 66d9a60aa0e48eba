/*
 * agentwatch status: one line and an exit code for monitoring systems, in
 * the convention of Nagios-style plugins (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN; "STATUS: text | perfdata" on stdout).
 *
 * What is counted: the failures since the last success marker in the
 * window (all failures in the window when there is no success marker) --
 * the "failures" of the current state in query.h.  A healthy endpoint
 * counts 0.  WARNING when the count is above --warn, CRITICAL when above
 * --crit, as with the thresholds of the monitoring plugins.  UNKNOWN when
 * there is no readable database or no finding at all in the window.
 * Usage errors exit 3 too: to a monitoring system, a broken check is
 * UNKNOWN, never CRITICAL.  The thresholds are monitoring-plugin ranges
 * (threshold.h); a plain N is the range 0:N, so "above N" as before.
 * --max-age makes a state computed from old data UNKNOWN: an OK on
 * 21-month-old findings would be a lie.
 *
 * The same verdict has two more shapes (issue 13): --format json, one
 * object for scripts (a ConfigMgr discovery script, an ITMS custom
 * inventory), and --format intune, the contract of an Intune Remediations
 * detection script: at most 2,048 characters on stdout, exit 1 when a
 * remediation should run (WARNING or CRITICAL), 0 otherwise, and never a
 * byte on stderr, which Intune takes for a script error whatever the exit
 * code.  cli.c captures stderr for intune before anything can write to
 * it; the first captured line becomes the UNKNOWN reason on stdout.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/probe_store.h"
#include "agentwatch/rules.h"
#include "agentwatch/scan.h"
#include "agentwatch/query.h"
#include "agentwatch/store.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"
#include "cli_opt.h"
#include "threshold.h"

enum status_exit {
    STATUS_OK = 0,
    STATUS_WARNING = 1,
    STATUS_CRITICAL = 2,
    STATUS_UNKNOWN = 3
};

#define STATUS_WARN_DEFAULT "0"
#define STATUS_CRIT_DEFAULT "10"

enum status_format { FMT_TEXT, FMT_JSON, FMT_INTUNE };

static const struct aw_opt_word status_formats[] = {
    { "text", FMT_TEXT }, { "json", FMT_JSON }, { "intune", FMT_INTUNE }, { NULL, 0 }
};

/* Intune keeps at most this much of a detection script's output. */
#define INTUNE_MAX 2048

/* Categories named in the perfdata, at most (a bound on the line). */
#define STATUS_CATEGORIES_MAX 32

/* What the command line gives. */
struct status_args {
    int64_t since_ms;
    const char *warn, *crit;
    const char *max_age;
    int format;
};

static const struct aw_opt status_opts[] = {
    { .name = "since", .kind = AW_OPT_WHEN, .arg = "WHEN",
      .offset = offsetof(struct status_args, since_ms),
      .help = "only look at findings at or after WHEN (e.g. 24h)" },
    { .name = "warn", .alias = 'w', .kind = AW_OPT_STRING, .arg = "RANGE",
      .offset = offsetof(struct status_args, warn),
      .help = "WARNING when the failures are outside RANGE: N (above\n"
              "N; default 0), N: (below N), ~:N, N:M, or @N:M (inside)" },
    { .name = "crit", .alias = 'c', .kind = AW_OPT_STRING, .arg = "RANGE",
      .offset = offsetof(struct status_args, crit),
      .help = "CRITICAL when the failures are outside RANGE (default 10)" },
    { .name = "max-age", .kind = AW_OPT_STRING, .arg = "DURATION",
      .offset = offsetof(struct status_args, max_age),
      .help = "UNKNOWN when the newest data (finding or log read) is\n"
              "older than DURATION (90s, 30m, 24h, 7d, 2w)" },
    { .name = "format", .kind = AW_OPT_WORD, .arg = "FORMAT", .words = status_formats,
      .offset = offsetof(struct status_args, format),
      .help = "text (default: one line with perfdata), json (one\n"
              "object), or intune (an Intune Remediations detection\n"
              "script: exit 1 on WARNING or CRITICAL, else 0; at most\n"
              "2048 characters; never a byte on stderr)" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_status_spec = AW_CLI_SPEC(
    "status",
    "Usage: agentwatch [--db PATH] status [--since WHEN] [--warn RANGE] [--crit RANGE]\n"
    "                                     [--max-age DURATION] [--format text|json|intune]\n"
    "\n"
    "Print one line for a monitoring system and exit with its status:\n"
    "  0 OK        healthy, or failures inside both ranges\n"
    "  1 WARNING   failures since the last success outside the --warn range\n"
    "  2 CRITICAL  failures since the last success outside the --crit range\n"
    "  3 UNKNOWN   no readable database, no finding in the window, data\n"
    "              older than --max-age, or a usage error\n"
    "Without a success marker in the window, every failure in it counts.\n"
    "\n"
    "Options:\n",
    status_opts,
    NULL
);

/* Everything a status says, whatever its shape. */
struct status_view {
    int status;                   /* enum status_exit */
    bool known;                   /* the state was read */
    struct aw_health_state st;
    int64_t failures;             /* what the thresholds judge */
    struct aw_threshold warn, crit;
    char *target;                 /* top target of the failures, or NULL */
    struct aw_probe_last probe;
    int64_t newest_ms;            /* newest data (aw_query_newest) */
    bool stale;                   /* newest_ms is older than --max-age */
    const char *max_age;
    struct aw_category_count cats[STATUS_CATEGORIES_MAX];  /* failure
                                     categories of the window, by name,
                                     with their failures since the last
                                     success (names owned) */
    size_t ncats;
    char reason[512];             /* UNKNOWN: why (one line), else "" */
};

static const char *status_word(int status)
{
    switch (status) {
    case STATUS_OK: return "OK";
    case STATUS_WARNING: return "WARNING";
    case STATUS_CRITICAL: return "CRITICAL";
    default: return "UNKNOWN";
    }
}

/* ---- text ------------------------------------------------------------ */

/* A perfdata label in single quotes (the guidelines' form, a quote
 * doubled); a character that would end the perfdata or the line is '_'. */
static void print_label(const char *name)
{
    putchar('\'');
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        if (*p == '\'') {
            fputs("''", stdout);
        } else if (*p == '|' || *p == '=' || *p < 0x20 || *p == 0x7F) {
            putchar('_');
        } else {
            putchar(*p);
        }
    }
    putchar('\'');
}

static void print_perfdata(const struct status_view *v)
{
    aw_text_printf(stdout, " | failures=%" PRId64 ";%s;%s;0", v->failures, v->warn.text,
                   v->crit.text);
    for (size_t i = 0; i < v->ncats; i++) {
        putchar(' ');
        print_label(v->cats[i].name);
        aw_text_printf(stdout, "=%" PRId64 ";%s;%s;0;", v->cats[i].count, v->warn.text,
                       v->crit.text);
    }
    putchar('\n');
}

static void print_text(const struct status_view *v, int64_t since_ms)
{
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX], c[AW_TIME_ISO_MAX];
    int64_t n = v->failures;

    if (!v->known || v->stale) {
        aw_text_printf(stdout, "UNKNOWN: %s\n", v->reason);
        return;
    }
    aw_time_format_short(v->st.since_ms, a);
    aw_time_format_short(v->st.last_failure_ms, b);
    aw_time_format_short(v->st.last_success_ms, c);
    switch (v->st.health) {
    case AW_HEALTH_UNKNOWN:
        aw_time_format_short(since_ms, a);
        aw_text_printf(stdout, "UNKNOWN: no findings%s%s\n", a[0] ? " since " : " in the database", a);
        return;
    case AW_HEALTH_HEALTHY:
        aw_text_printf(stdout, "OK: healthy since %s, last success %s", a, c);
        break;
    case AW_HEALTH_FAILING:
    default:
        aw_text_printf(stdout, "%s: failing since %s, %" PRId64 " failure%s since %s%s (mostly ",
                       status_word(v->status), a, n, n == 1 ? "" : "s",
                       c[0] ? "the last success at " : "no success marker", c);
        aw_text_terminal(stdout, v->st.category != NULL ? v->st.category : "", 40);
        aw_text_printf(stdout, "), last failure %s", b);
        if (v->st.last_record_ms != AW_TIME_NONE) {
            aw_time_format_short(v->st.last_record_ms, c);
            aw_text_printf(stdout, ", log went on until %s with no further failure", c);
        }
        break;
    }
    print_perfdata(v);
}

/* ---- json ------------------------------------------------------------ */

static void json_key_time(const char *key, int64_t ms)
{
    char iso[AW_TIME_ISO_MAX];

    printf(", \"%s\": ", key);
    if (ms == AW_TIME_NONE) {
        fputs("null", stdout);
        return;
    }
    aw_time_format_iso(ms, iso);
    aw_text_json_string(stdout, iso);
}

static void json_probe(const struct aw_probe_last *p)
{
    fputs(", \"last_probe\": ", stdout);
    if (!p->found) {
        fputs("null", stdout);
        return;
    }
    fputs("{\"target\": ", stdout);
    aw_text_json_string(stdout, p->target);
    json_key_time("time", p->time_ms);
    fputs(", \"verdict\": ", stdout);
    aw_text_json_string(stdout, p->verdict);
    fputs(", \"message\": ", stdout);
    aw_text_json_string(stdout, p->message);
    fputs("}", stdout);
}

static void print_json(const struct status_view *v)
{
    bool known = v->known && !v->stale;
    bool failing = known && v->st.health == AW_HEALTH_FAILING;

    printf("{\"status\": \"%s\", \"exit\": %d, \"state\": ", status_word(v->status), v->status);
    aw_text_json_string(stdout, aw_health_name(known ? v->st.health : AW_HEALTH_UNKNOWN));
    json_key_time("since", known ? v->st.since_ms : AW_TIME_NONE);
    printf(", \"failures\": %" PRId64 ", \"category\": ", failing ? v->failures : 0);
    aw_text_json_string(stdout, failing ? v->st.category : NULL);
    fputs(", \"target\": ", stdout);
    aw_text_json_string(stdout, failing ? v->target : NULL);
    json_key_time("last_failure", v->known ? v->st.last_failure_ms : AW_TIME_NONE);
    json_key_time("last_success", v->known ? v->st.last_success_ms : AW_TIME_NONE);
    json_key_time("last_record", failing ? v->st.last_record_ms : AW_TIME_NONE);
    json_probe(&v->probe);
    fputs(", \"warn\": ", stdout);
    aw_text_json_string(stdout, v->warn.text);
    fputs(", \"crit\": ", stdout);
    aw_text_json_string(stdout, v->crit.text);
    fputs(", \"error\": ", stdout);
    aw_text_json_string(stdout, v->reason[0] ? v->reason : NULL);
    json_key_time("newest", v->known ? v->newest_ms : AW_TIME_NONE);
    fputs(", \"categories\": {", stdout);
    for (size_t i = 0; i < v->ncats; i++) {
        fputs(i > 0 ? ", " : "", stdout);
        aw_text_json_string(stdout, v->cats[i].name);
        printf(": %" PRId64, failing ? v->cats[i].count : 0);
    }
    fputs("}}\n", stdout);
}

/* ---- intune ---------------------------------------------------------- */

/* A line of at most INTUNE_MAX bytes (so at most as many characters,
 * however Intune counts them); what does not fit is cut at a character
 * boundary. */
struct line {
    char buf[INTUNE_MAX + 1];
    size_t len;
};

static void line_add(struct line *l, const char *fmt, ...) AW_PRINTF(2, 3);

static void line_add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof(l->buf) - l->len) {
        size_t end = sizeof(l->buf) - 1;
        while (end > l->len && ((unsigned char)l->buf[end] & 0xC0) == 0x80) {
            end--;    /* back to the start of the character cut in half */
        }
        l->buf[end] = '\0';
        l->len = end;
        return;
    }
    l->len += (size_t)n;
}

/* s made safe for the one line (no control characters, at most max bytes). */
static const char *clean(const char *s, char *buf, size_t max)
{
    aw_text_terminal_clean(s != NULL ? s : "", s != NULL ? strlen(s) : 0, buf, max);
    return buf;
}

static void print_intune(const struct status_view *v, int64_t since_ms)
{
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX], c[AW_TIME_ISO_MAX], t1[256], t2[256];
    char why[sizeof(v->reason)];
    struct line l = { "", 0 };

    aw_time_format_short(v->known ? v->st.since_ms : AW_TIME_NONE, a);
    aw_time_format_short(v->known ? v->st.last_failure_ms : AW_TIME_NONE, b);
    aw_time_format_short(v->known ? v->st.last_success_ms : AW_TIME_NONE, c);
    line_add(&l, "%s: ", status_word(v->status));
    if (!v->known || v->stale) {
        line_add(&l, "%s", clean(v->reason, why, sizeof(why) - 1));
    } else if (v->st.health == AW_HEALTH_UNKNOWN) {
        aw_time_format_short(since_ms, a);
        line_add(&l, "no findings%s%s", a[0] ? " since " : " in the database", a);
    } else if (v->st.health == AW_HEALTH_HEALTHY) {
        line_add(&l, "healthy since %s, last success %s", a, c);
    } else {
        line_add(&l, "failing since %s, %" PRId64 " failure%s (mostly %s", a, v->failures,
                 v->failures == 1 ? "" : "s", clean(v->st.category, t1, 40));
        if (v->target != NULL) {
            line_add(&l, ", target %s", clean(v->target, t2, 200));
        }
        line_add(&l, "), last failure %s, last success %s", b, c[0] ? c : "none");
        if (v->st.last_record_ms != AW_TIME_NONE) {
            aw_time_format_short(v->st.last_record_ms, c);
            line_add(&l, ", log went on until %s with no further failure", c);
        }
    }
    if (v->probe.found) {
        aw_time_format_short(v->probe.time_ms, a);
        line_add(&l, "; last probe %s %s: %s", a, clean(v->probe.target, t1, 200),
                 clean(v->probe.verdict, t2, 64));
    }
    fputs(l.buf, stdout);
    fputc('\n', stdout);
}

/* ---- reading the state ----------------------------------------------- */

/* A usage problem: the usual one line on stderr, UNKNOWN for the monitor. */
static int status_usage(struct aw_cli *cli)
{
    char why[512];

    if (aw_cli_captured(cli, why, sizeof(why))) {
        struct line l = { "", 0 };
        char t[600];
        line_add(&l, "UNKNOWN: invalid command line: %s", clean(why, t, sizeof(t) - 1));
        puts(l.buf);
        return STATUS_OK;
    }
    fputs("UNKNOWN: invalid command line (see 'agentwatch status --help')\n", stdout);
    return STATUS_UNKNOWN;
}

/* Collect the failure categories of the window (aw_count_fn). */
static int add_category(void *ctx, const struct aw_count_row *row, struct aw_err *err)
{
    struct status_view *v = ctx;
    struct aw_category_count *cc;

    if (strcmp(row->category, AW_CATEGORY_HEALTH) == 0 ||
        strcmp(row->category, AW_GAP_CATEGORY) == 0 || v->ncats == STATUS_CATEGORIES_MAX) {
        return AW_OK;
    }
    cc = &v->cats[v->ncats];
    cc->name = strdup(row->category);
    if (cc->name == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory listing categories");
    }
    cc->count = 0;
    v->ncats++;
    return AW_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct aw_category_count *)a)->name,
                  ((const struct aw_category_count *)b)->name);
}

/* Each category's failures in the ongoing incident. */
static void count_categories(struct status_view *v, const struct aw_incidents *recent)
{
    const struct aw_incident *inc = recent->count > 0 ? &recent->items[0] : NULL;

    qsort(v->cats, v->ncats, sizeof(v->cats[0]), by_name);
    if (inc == NULL || inc->end_ms != AW_TIME_NONE) {
        return;
    }
    for (size_t i = 0; i < v->ncats; i++) {
        for (size_t k = 0; k < inc->ncategories; k++) {
            if (strcmp(v->cats[i].name, inc->by_category[k].name) == 0) {
                v->cats[i].count = inc->by_category[k].count;
            }
        }
    }
}

/* Run the queries of a status on an open store. */
static int query_state(struct aw_store *store, const struct aw_query_filter *f,
                       struct status_view *v, struct aw_incidents *recent, struct aw_err *err)
{
    struct aw_query *q = NULL;
    int rc = aw_query_open(&q, store, f, err);

    if (rc == AW_OK) {
        rc = aw_query_incidents(q, 1, recent, err);
    }
    if (rc == AW_OK) {
        rc = aw_query_state(q, recent, &v->st, err);
    }
    if (rc == AW_OK && v->st.health == AW_HEALTH_FAILING) {
        rc = aw_query_top_target(q, v->st.since_ms, &v->target, err);
    }
    if (rc == AW_OK) {
        rc = aw_query_by_category(q, add_category, v, err);
    }
    if (rc == AW_OK) {
        rc = aw_probe_store_last(store, &v->probe, err);
    }
    if (rc == AW_OK) {
        rc = aw_query_newest(store, &v->newest_ms, err);
    }
    aw_query_close(&q);
    return rc;
}

/* Read the state into v; on failure v->known stays false with a reason. */
static void read_state(struct aw_cli *cli, int64_t since_ms, struct status_view *v)
{
    struct aw_query_filter f = { since_ms, AW_TIME_NONE, NULL, NULL, NULL };
    struct aw_incidents recent = { 0 };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    int rc = aw_cli_open_store_err(cli, AW_STORE_READONLY, &store, &err);

    if (rc != AW_OK) {
        aw_cli_failure(&err);
        /* Permission denied is said on stdout too: it is the one a
         * monitoring user meets, and the fix is theirs to make. */
        if (rc == AW_EDENIED) {
            snprintf(v->reason, sizeof(v->reason), "%.500s", err.msg);
        } else if (!aw_cli_captured(cli, v->reason, sizeof(v->reason))) {
            snprintf(v->reason, sizeof(v->reason), "no readable agentwatch database (see stderr)");
        }
        goto out;
    }
    if (query_state(store, &f, v, &recent, &err) != AW_OK) {
        aw_cli_failure(&err);
        if (!aw_cli_captured(cli, v->reason, sizeof(v->reason))) {
            snprintf(v->reason, sizeof(v->reason), "cannot query the database (see stderr)");
        }
        goto out;
    }
    count_categories(v, &recent);
    /* The state borrows its category from the incidents, freed below. */
    if (v->st.category != NULL) {
        v->st.category = strdup(v->st.category);
        if (v->st.category == NULL) {
            snprintf(v->reason, sizeof(v->reason), "out of memory");
            goto out;
        }
    }
    v->known = true;
out:
    aw_incidents_free(&recent);
    aw_store_close(&store);
}

/* --max-age: a duration only ("7d"), never a date. */
static bool max_age_limit(const char *text, int64_t now_ms, int64_t *limit_ms)
{
    size_t digits = strspn(text, "0123456789");
    struct aw_err err = { 0 };

    return digits > 0 && text[digits] != '\0' && text[digits + 1] == '\0' &&
           strchr("smhdw", text[digits]) != NULL &&
           aw_time_parse_when(text, now_ms, limit_ms, &err) == AW_OK;
}

/* The options checked after parsing: ranges and the age. */
static int check_args(const struct status_args *sa, struct status_view *v, int64_t *limit_ms)
{
    if (!aw_threshold_parse(sa->warn, &v->warn)) {
        return aw_cli_usage_error("status", "invalid --warn '%s': expected a count or a range"
                                  " (N, N:, ~:N, N:M, @N:M)", sa->warn);
    }
    if (!aw_threshold_parse(sa->crit, &v->crit)) {
        return aw_cli_usage_error("status", "invalid --crit '%s': expected a count or a range"
                                  " (N, N:, ~:N, N:M, @N:M)", sa->crit);
    }
    *limit_ms = AW_TIME_NONE;
    if (sa->max_age != NULL && !max_age_limit(sa->max_age, aw_time_now_ms(), limit_ms)) {
        return aw_cli_usage_error("status", "invalid --max-age '%s': expected a duration"
                                  " (90s, 30m, 24h, 7d, 2w)", sa->max_age);
    }
    v->max_age = sa->max_age;
    return AW_EXIT_OK;
}

/* The verdict of a state read: thresholds, or UNKNOWN for old data. */
static void judge(struct status_view *v, int64_t limit_ms)
{
    char t[AW_TIME_ISO_MAX];

    if (!v->known || v->st.health == AW_HEALTH_UNKNOWN) {
        return;
    }
    if (limit_ms != AW_TIME_NONE && v->newest_ms < limit_ms) {
        aw_time_format_short(v->newest_ms, t);
        snprintf(v->reason, sizeof(v->reason), "no new data since %s (older than --max-age %s)",
                 t, v->max_age);
        v->stale = true;
        return;
    }
    v->failures = v->st.health == AW_HEALTH_FAILING ? v->st.failures : 0;
    v->status = aw_threshold_alerts(&v->crit, (double)v->failures) ? STATUS_CRITICAL
              : aw_threshold_alerts(&v->warn, (double)v->failures) ? STATUS_WARNING : STATUS_OK;
}

int aw_cmd_status(struct aw_cli *cli, int argc, char **argv)
{
    struct status_args sa = { AW_TIME_NONE, STATUS_WARN_DEFAULT, STATUS_CRIT_DEFAULT, NULL,
                              FMT_TEXT };
    struct status_view v;
    int64_t limit_ms;
    int nargs, rc;

    memset(&v, 0, sizeof(v));
    v.status = STATUS_UNKNOWN;
    cli->answered = true;     /* every way out below writes its answer */
    rc = aw_cli_parse(&aw_status_spec, cli, argc, argv, &sa, &nargs);
    if (rc == AW_EXIT_USAGE) {
        return status_usage(cli);
    }
    if (rc != AW_CLI_CONTINUE) {
        return STATUS_OK;     /* --help */
    }
    if (nargs > 0) {
        aw_cli_usage_error("status", "unexpected argument '%s'", argv[1]);
        return status_usage(cli);
    }
    if (check_args(&sa, &v, &limit_ms) != AW_EXIT_OK) {
        return status_usage(cli);
    }
    read_state(cli, sa.since_ms, &v);
    judge(&v, limit_ms);
    if (sa.format == FMT_JSON) {
        print_json(&v);
    } else if (sa.format == FMT_INTUNE) {
        print_intune(&v, sa.since_ms);
    } else {
        print_text(&v, sa.since_ms);
    }
    rc = v.status;
    if (fflush(stdout) != 0) {
        rc = STATUS_UNKNOWN;
    }
    if (sa.format == FMT_INTUNE) {
        /* Intune runs a remediation on exit 1 only: on a real problem. */
        rc = rc == STATUS_WARNING || rc == STATUS_CRITICAL ? 1 : 0;
    }
    free((char *)v.st.category);
    free(v.target);
    aw_probe_last_free(&v.probe);
    for (size_t i = 0; i < v.ncats; i++) {
        free(v.cats[i].name);
    }
    return rc;
}
