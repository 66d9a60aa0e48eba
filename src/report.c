/*
 * Report rendering (see report.h).
 *
 * Rows are copied out of the store first and rendered afterwards, so the
 * table can size its columns and the JSON can be written in one piece.
 * Strings that came from rule files or logs go through text.h on the way
 * out: escaped for JSON and CSV, defanged for terminals.
 *
 * Buckets are laid out as a dense grid (bucket x category) so that empty
 * buckets are shown as zeros: a silent endpoint is as telling as a spike.
 * Their columns are the categories of the summary, sorted by name, so
 * every bucket carries the same keys.
 */
#include "agentwatch/report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/fields.h"
#include "agentwatch/grow.h"
#include "agentwatch/probe_history.h"
#include "agentwatch/query.h"
#include "agentwatch/rules.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "agentwatch/tz.h"

struct row {
    char *rule;               /* NULL for category rows */
    char *category;
    int64_t count;
    int64_t first_ms;
    int64_t last_ms;
    char *cause;
    char *remedy;
};

struct rows {
    struct row *items;
    size_t count;
    size_t cap;
};

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].rule);
        free(r->items[i].category);
        free(r->items[i].cause);
        free(r->items[i].remedy);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

static int collect(void *ctx, const struct aw_count_row *in, struct aw_err *err)
{
    struct rows *r = ctx;
    struct row *out;

    if (AW_GROW(r->items, r->cap, r->count + 1, 16) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "out of memory building the report");
    }
    out = &r->items[r->count];
    memset(out, 0, sizeof(*out));
    out->rule = in->rule != NULL ? strdup(in->rule) : NULL;
    out->category = strdup(in->category);
    out->cause = strdup(in->cause);
    out->remedy = strdup(in->remedy);
    out->count = in->count;
    out->first_ms = in->first_ms;
    out->last_ms = in->last_ms;
    r->count++;
    if ((in->rule != NULL && out->rule == NULL) || out->category == NULL || out->cause == NULL ||
        out->remedy == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory building the report");
    }
    return AW_OK;
}

int aw_report_format_from_name(const char *name, enum aw_report_format *out)
{
    static const char *const names[] = { "table", "json", "csv" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum aw_report_format)i;
            return AW_OK;
        }
    }
    return AW_ESYNTAX;
}

static const char *const by_names[] = { "", "minute", "hour", "day" };

int aw_report_by_from_name(const char *name, enum aw_report_by *out)
{
    for (size_t i = 1; i < sizeof(by_names) / sizeof(by_names[0]); i++) {
        if (strcmp(name, by_names[i]) == 0) {
            *out = (enum aw_report_by)i;
            return AW_OK;
        }
    }
    return AW_ESYNTAX;
}

static int64_t by_width(enum aw_report_by by)
{
    switch (by) {
    case AW_REPORT_BY_MINUTE: return AW_MS_PER_MINUTE;
    case AW_REPORT_BY_HOUR: return AW_MS_PER_HOUR;
    case AW_REPORT_BY_DAY: return AW_MS_PER_DAY;
    case AW_REPORT_BY_NONE:
    default: return 0;
    }
}

/* Counts per bucket and category: a dense grid, empty buckets included. */
struct grid {
    int64_t width;            /* bucket width in ms */
    int64_t start_ms;         /* start of the first bucket */
    size_t buckets;
    const char **names;       /* categories by name, borrowed from cats */
    size_t ncat;
    int64_t *counts;          /* [bucket * ncat + category] */
};

/* Everything one report shows. */
struct report {
    struct rows cats;
    struct rows rules;
    struct rows limits;       /* per rule: records a match limit stopped it on */
    struct aw_probe_servers servers;  /* the last probe per server */
    int64_t total;
    int64_t inferred;         /* findings whose time was inferred */
    struct aw_incidents incidents;
    struct aw_health_state state;
    struct grid grid;
};

static int64_t floor_to(int64_t t, int64_t width)
{
    int64_t m = t % width;

    return t - (m < 0 ? m + width : m);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int grid_add(void *ctx, const struct aw_bucket_row *row, struct aw_err *err)
{
    struct grid *g = ctx;
    int64_t b;

    (void)err;
    if (row->start_ms < g->start_ms) {
        return AW_OK;   /* cannot happen: the grid covers the window */
    }
    b = (row->start_ms - g->start_ms) / g->width;
    if ((uint64_t)b >= g->buckets) {
        return AW_OK;
    }
    for (size_t c = 0; c < g->ncat; c++) {
        if (strcmp(g->names[c], row->category) == 0) {
            g->counts[(size_t)b * g->ncat + c] += row->count;
            break;
        }
    }
    return AW_OK;
}

/* The buckets from --since (else the first finding) to --until (else now,
 * or the last finding when that is later), filled from the query. */
static int grid_fill(struct report *r, struct aw_query *q, const struct aw_report_opts *o,
                     struct aw_err *err)
{
    struct grid *g = &r->grid;
    int64_t first = INT64_MAX, last = INT64_MIN, from, to, n;

    g->width = by_width(o->by);
    for (size_t i = 0; i < r->cats.count; i++) {
        first = r->cats.items[i].first_ms < first ? r->cats.items[i].first_ms : first;
        last = r->cats.items[i].last_ms > last ? r->cats.items[i].last_ms : last;
    }
    from = o->filter.since_ms != AW_TIME_NONE ? o->filter.since_ms : first;
    if (o->filter.until_ms != AW_TIME_NONE) {
        to = o->filter.until_ms;
    } else {
        to = o->now_ms != 0 ? o->now_ms : aw_time_now_ms();
        to = last > to ? last : to;
    }
    if (from == INT64_MAX || to < from) {
        return AW_OK;   /* no findings and no range: no buckets */
    }
    g->start_ms = floor_to(from, g->width);
    n = (floor_to(to, g->width) - g->start_ms) / g->width + 1;
    if (n <= 0 || n > AW_REPORT_BUCKETS_MAX) {
        return aw_err_set(err, AW_ELIMIT,
                          "%lld buckets of a %s are more than %d: use a coarser --by or a"
                          " narrower --since/--until", (long long)n, by_names[o->by],
                          AW_REPORT_BUCKETS_MAX);
    }
    g->buckets = (size_t)n;
    g->ncat = r->cats.count;
    g->names = calloc(g->ncat ? g->ncat : 1, sizeof(*g->names));
    g->counts = calloc(g->buckets * (g->ncat ? g->ncat : 1), sizeof(*g->counts));
    if (g->names == NULL || g->counts == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory for %zu buckets", g->buckets);
    }
    for (size_t i = 0; i < g->ncat; i++) {
        g->names[i] = r->cats.items[i].category;
    }
    qsort(g->names, g->ncat, sizeof(*g->names), cmp_names);
    return aw_query_buckets(q, g->width, grid_add, g, err);
}

static int64_t grid_total(const struct grid *g, size_t b)
{
    int64_t t = 0;

    for (size_t c = 0; c < g->ncat; c++) {
        t += g->counts[b * g->ncat + c];
    }
    return t;
}

/* ---- json ----------------------------------------------------------- */

/* How long an incident lasted: to the success that ended it, or so far
 * (to its last failure) while it is ongoing. */
static int64_t incident_duration(const struct aw_incident *inc)
{
    return (inc->end_ms != AW_TIME_NONE ? inc->end_ms : inc->last_ms) - inc->start_ms;
}

static void render_json_state(FILE *out, const struct report *r)
{
    const struct aw_health_state *st = &r->state;
    const struct aw_field state[] = {
        { "status", AW_FIELD_TEXT, .text = aw_health_name(st->health) },
        { "since", AW_FIELD_TIME, .num = st->since_ms },
        { "failures", AW_FIELD_INT, .num = st->failures },
        { "category", AW_FIELD_TEXT, .text = st->category },
        { "last_failure", AW_FIELD_TIME, .num = st->last_failure_ms },
        { "last_success", AW_FIELD_TIME, .num = st->last_success_ms },
        { "last_record", AW_FIELD_TIME, .num = st->last_record_ms },
    };

    fputs(",\n \"state\": ", out);
    aw_fields_json(out, state, sizeof(state) / sizeof(state[0]));
    fputs(",\n \"incidents\": [", out);
    for (size_t i = 0; i < r->incidents.count; i++) {
        const struct aw_incident *inc = &r->incidents.items[i];
        const struct aw_field f[] = {
            { "start", AW_FIELD_TIME, .num = inc->start_ms },
            { "end", AW_FIELD_TIME, .num = inc->end_ms },
            { "last", AW_FIELD_TIME, .num = inc->last_ms },
            { "ongoing", AW_FIELD_BOOL, .num = inc->end_ms == AW_TIME_NONE },
            { "duration_ms", AW_FIELD_INT, .num = incident_duration(inc) },
            { "category", AW_FIELD_TEXT, .text = inc->category },
            { "count", AW_FIELD_INT, .num = inc->count },
        };
        aw_fields_json_item(out, i, f, sizeof(f) / sizeof(f[0]));
    }
    fputs(r->incidents.count ? "\n ]" : "]", out);
    fprintf(out, ",\n \"more_incidents\": %s", r->incidents.more ? "true" : "false");
}

static void render_json_buckets(FILE *out, const struct aw_report_opts *o, const struct grid *g)
{
    fprintf(out, ",\n \"by\": \"%s\", \"buckets\": [", by_names[o->by]);
    for (size_t b = 0; b < g->buckets; b++) {
        fputs(b ? ",\n  " : "\n  ", out);
        fputs("{\"start\": ", out);
        aw_fields_json_time(out, g->start_ms + (int64_t)b * g->width);
        fputs(", \"counts\": {", out);
        for (size_t c = 0; c < g->ncat; c++) {
            fputs(c ? ", " : "", out);
            aw_text_json_string(out, g->names[c]);
            fprintf(out, ": %lld", (long long)g->counts[b * g->ncat + c]);
        }
        fputs("}}", out);
    }
    fputs(g->buckets ? "\n ]" : "]", out);
}

/* A rule row, the same in JSON and CSV. */
#define RULE_FIELDS 7

static void rule_fields(const struct row *r, struct aw_field f[RULE_FIELDS])
{
    const struct aw_field all[RULE_FIELDS] = {
        { "rule", AW_FIELD_TEXT, .text = r->rule },
        { "category", AW_FIELD_TEXT, .text = r->category },
        { "count", AW_FIELD_INT, .num = r->count },
        { "first", AW_FIELD_TIME, .num = r->first_ms },
        { "last", AW_FIELD_TIME, .num = r->last_ms },
        { "cause", AW_FIELD_TEXT, .text = r->cause },
        { "remedy", AW_FIELD_TEXT, .text = r->remedy },
    };

    memcpy(f, all, sizeof(all));
}

/* rows as the elements of a JSON array: rule (with_rule), category,
 * count, first, last. */
static void render_json_rows(FILE *out, const struct rows *rows, bool with_rule)
{
    for (size_t i = 0; i < rows->count; i++) {
        const struct row *w = &rows->items[i];
        const struct aw_field f[] = {
            { "rule", AW_FIELD_TEXT, .text = w->rule },
            { "category", AW_FIELD_TEXT, .text = w->category },
            { "count", AW_FIELD_INT, .num = w->count },
            { "first", AW_FIELD_TIME, .num = w->first_ms },
            { "last", AW_FIELD_TIME, .num = w->last_ms },
        };
        size_t skip = with_rule ? 0 : 1;

        aw_fields_json_item(out, i, f + skip, sizeof(f) / sizeof(f[0]) - skip);
    }
}

/* "match_limit": the rules a match limit stopped, with the records they
 * could not be matched against. */
static void render_json_limits(FILE *out, const struct rows *limits)
{
    fputs(",\n \"match_limit\": [", out);
    render_json_rows(out, limits, true);
    fputs(limits->count ? "\n ]" : "]", out);
}

static void render_json(FILE *out, const struct aw_report_opts *o, const struct report *r)
{
    const struct rows *cats = &r->cats, *rules = &r->rules;
    struct aw_field rf[RULE_FIELDS];

    fputs("{\"since\": ", out);
    aw_fields_json_time(out, o->filter.since_ms);
    fputs(", \"until\": ", out);
    aw_fields_json_time(out, o->filter.until_ms);
    fprintf(out, ", \"total\": %lld, \"time_inferred\": %lld,\n \"categories\": [",
            (long long)r->total, (long long)r->inferred);
    render_json_rows(out, cats, false);
    fputs(cats->count ? "\n ],\n \"rules\": [" : "],\n \"rules\": [", out);
    for (size_t i = 0; i < rules->count; i++) {
        rule_fields(&rules->items[i], rf);
        aw_fields_json_item(out, i, rf, RULE_FIELDS);
    }
    fputs(rules->count ? "\n ]" : "]", out);
    render_json_limits(out, &r->limits);
    aw_probe_servers_json(out, &r->servers);
    render_json_state(out, r);
    if (o->by != AW_REPORT_BY_NONE) {
        render_json_buckets(out, o, &r->grid);
    }
    fputs("}\n", out);
}

/* ---- csv ------------------------------------------------------------ */

static void render_csv(FILE *out, const struct rows *rules)
{
    const struct row none = { 0 };
    struct aw_field f[RULE_FIELDS];

    /* The header is the names of the fields, of any row. */
    rule_fields(&none, f);
    aw_fields_csv_header(out, f, RULE_FIELDS);
    for (size_t i = 0; i < rules->count; i++) {
        rule_fields(&rules->items[i], f);
        aw_fields_csv(out, f, RULE_FIELDS);
    }
}

static void render_csv_buckets(FILE *out, const struct grid *g)
{
    char iso[AW_TIME_ISO_MAX];

    fputs("start,total", out);
    for (size_t c = 0; c < g->ncat; c++) {
        fputc(',', out);
        aw_text_csv_field(out, g->names[c]);
    }
    fputs("\r\n", out);
    for (size_t b = 0; b < g->buckets; b++) {
        aw_time_format_iso(g->start_ms + (int64_t)b * g->width, iso);
        fprintf(out, "%s,%lld", iso, (long long)grid_total(g, b));
        for (size_t c = 0; c < g->ncat; c++) {
            fprintf(out, ",%lld", (long long)g->counts[b * g->ncat + c]);
        }
        fputs("\r\n", out);
    }
}

/* ---- table ---------------------------------------------------------- */

/* Write s left-aligned in a column of width cols (terminal-safe). */
static void cell(FILE *out, const char *s, size_t cols)
{
    size_t w = aw_text_width(s);

    aw_text_terminal(out, s, cols);
    for (; w < cols; w++) {
        fputc(' ', out);
    }
}

/* The width of a narrow table's times: "MM-DD HH:MM:SS". */
#define NARROW_TIME 14

/* The width of a wide table's times: UTC's 'Z', or a zone's offset. */
#define TIME_W(tz) ((tz) != NULL ? 25 : 20)

/* ms as a table shows it (aw_tz_format_short), or narrow without the year and
 * zone (the report's header line names both). */
static void table_time(const struct aw_tz *tz, bool narrow, int64_t ms, char *out)
{
    aw_tz_format_short(tz, ms, out);
    if (narrow && strlen(out) >= 20) {
        memmove(out, out + 5, NARROW_TIME);
        out[NARROW_TIME] = '\0';
    }
}

/* After a first piece that took col columns, write the others each
 * preceded by "; ", starting a new line (indented under the first piece's
 * text) before a piece that would pass columns. */
static void joined_lines(FILE *out, size_t col, const char *const *pieces, size_t n,
                         size_t columns, size_t indent)
{
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(pieces[i]);
        if (columns > 0 && col + 2 + w > columns) {
            fprintf(out, ";\n%*s", (int)indent, "");
            col = indent;
        } else {
            fputs("; ", out);
            col += 2;
        }
        fputs(pieces[i], out);
        col += w;
    }
    fputc('\n', out);
}

/* Word-wrap text at width columns, each line prefixed by indent. */
static void wrap(FILE *out, const char *label, const char *text, size_t width)
{
    const char *indent = "            ";
    size_t col = 0;
    const char *p = text;

    fprintf(out, "    %-8s", label);
    while (*p != '\0') {
        const char *word_end = p;
        size_t len;
        char word[512];

        while (*word_end != '\0' && *word_end != ' ') {
            word_end++;
        }
        len = (size_t)(word_end - p);
        if (col > 0 && col + 1 + len > width) {
            fprintf(out, "\n%s", indent);
            col = 0;
        } else if (col > 0) {
            fputc(' ', out);
            col++;
        }
        if (len >= sizeof(word)) {
            len = sizeof(word) - 1;
        }
        memcpy(word, p, len);
        word[len] = '\0';
        aw_text_terminal(out, word, 0);
        col += aw_text_width(word);
        p = word_end;
        while (*p == ' ') {
            p++;
        }
    }
    fputc('\n', out);
}

static size_t max_width(const struct rows *r, bool rule_col, size_t floor)
{
    size_t w = floor;

    for (size_t i = 0; i < r->count; i++) {
        size_t n = aw_text_width(rule_col ? r->items[i].rule : r->items[i].category);
        w = n > w ? n : w;
    }
    return w > 40 ? 40 : w;
}


/* "45s", "4m05s", "3h20m", "2d07h". */
static void format_duration(int64_t ms, char *buf, size_t size)
{
    long long s = (long long)(ms < 0 ? 0 : ms / 1000);

    if (s < 60) {
        snprintf(buf, size, "%llds", s);
    } else if (s < 3600) {
        snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
    } else if (s < 86400) {
        snprintf(buf, size, "%lldh%02lldm", s / 3600, s / 60 % 60);
    } else {
        snprintf(buf, size, "%lldd%02lldh", s / 86400, s / 3600 % 24);
    }
}

/* Under a failing state, the line that tells "still failing" from "went
 * on without a success marker agentwatch knows": the rules know few
 * success lines of new agent families, and without this line one old
 * failure would read as an endpoint failing ever since. */
static void render_went_on(FILE *out, const struct aw_health_state *st, const struct aw_tz *tz)
{
    char t[AW_TIME_ISO_MAX], d[32];

    if (st->health != AW_HEALTH_FAILING || st->last_record_ms == AW_TIME_NONE ||
        st->last_failure_ms == AW_TIME_NONE || st->last_record_ms <= st->last_failure_ms) {
        return;
    }
    aw_tz_format_short(tz, st->last_record_ms, t);
    format_duration(st->last_record_ms - st->last_failure_ms, d, sizeof(d));
    fprintf(out, "       log went on until %s (%s after the last failure) with no further failure;"
            " %s: check its log\n", t, d,
            st->last_success_ms == AW_TIME_NONE ? "no success marker of this agent is known"
                                                : "no success marker since");
}

static void render_state_line(FILE *out, const struct aw_health_state *st, size_t columns,
                              const struct aw_tz *tz)
{
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX], c[AW_TIME_ISO_MAX];
    char fail[64], ok[64];
    const char *pieces[2];
    size_t indent = strlen("state: ");
    int col;

    aw_tz_format_short(tz, st->since_ms, a);
    aw_tz_format_short(tz, st->last_failure_ms, b);
    aw_tz_format_short(tz, st->last_success_ms, c);
    snprintf(fail, sizeof(fail), "%s%s", b[0] ? "last failure " : "no failure", b);
    snprintf(ok, sizeof(ok), "%s%s", c[0] ? "last success " : "no success marker", c);
    switch (st->health) {
    case AW_HEALTH_FAILING: {
        const char *cat = st->category != NULL ? st->category : "";
        size_t cw = aw_text_width(cat);

        col = fprintf(out, "state: FAILING since %s: %lld failure%s, mostly ", a,
                      (long long)st->failures, AW_PLURAL(st->failures));
        aw_text_terminal(out, cat, 40);
        pieces[0] = fail;
        pieces[1] = ok;
        joined_lines(out, (size_t)(col > 0 ? col : 0) + (cw > 40 ? 40 : cw), pieces, 2, columns,
                     indent);
        render_went_on(out, st, tz);
        break;
    }
    case AW_HEALTH_HEALTHY:
        col = fprintf(out, "state: healthy since %s", a);
        pieces[0] = ok;
        pieces[1] = fail;
        joined_lines(out, (size_t)(col > 0 ? col : 0), pieces, 2, columns, indent);
        break;
    case AW_HEALTH_UNKNOWN:
    default:
        fputs("state: unknown (no failure and no success marker)\n", out);
        break;
    }
}

static void render_incidents(FILE *out, const struct aw_incidents *l, const struct aw_tz *tz, size_t columns)
{
    int tw = TIME_W(tz);
    /* two times, the numbers and a short category must fit */
    bool narrow = columns > 0 && (size_t)(2 * tw + 24 + 12) > columns;

    tw = narrow ? NARROW_TIME : tw;
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX], d[32];

    if (l->count == 0) {
        return;
    }
    fputs("\nIncidents, most recent first:\n", out);
    fprintf(out, "%-*s  %-*s  %8s  %8s  %s\n", tw, !narrow ? "START" : tz != NULL ? "START (local)" : "START (UTC)",
            tw, "END", "DURATION", "FAILURES", "CATEGORY");
    for (size_t i = 0; i < l->count; i++) {
        const struct aw_incident *inc = &l->items[i];
        table_time(tz, narrow, inc->start_ms, a);
        table_time(tz, narrow, inc->end_ms, b);
        format_duration(incident_duration(inc), d, sizeof(d));
        fprintf(out, "%-*s  %-*s  %8s  %8lld  ", tw, a, tw, b[0] ? b : "ongoing", d,
                (long long)inc->count);
        aw_text_terminal(out, inc->category, 40);
        fputc('\n', out);
    }
    if (l->more) {
        fputs("(older incidents not shown)\n", out);
    }
}

/* One character per column, each column summing span buckets, scaled to
 * the busiest column of the category: ' ' none, then .:-=+*# . */
static void sparkline(FILE *out, const struct grid *g, size_t c, size_t cols, size_t span)
{
    static const char levels[] = " .:-=+*#";
    int64_t max = 0;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < cols; k++) {
            int64_t v = 0;
            for (size_t b = k * span; b < (k + 1) * span && b < g->buckets; b++) {
                v += g->counts[b * g->ncat + c];
            }
            if (pass == 0) {
                max = v > max ? v : max;
            } else {
                fputc(v == 0 ? ' ' : levels[(size_t)((v * 7 + max - 1) / max)], out);
            }
        }
    }
}

/* How the trend fits o->columns: category column width, sparkline
 * columns, the time column, the bar's longest and whether the rows show
 * the per-category counts. */
struct trend_layout {
    size_t cw, spark, bar_max;
    int tw;
    bool narrow, per_cat;
};

/* A category's column in the bucket rows: its name up to 24, at least 8. */
static size_t count_width(const char *name)
{
    size_t w = aw_text_width(name);

    w = w > 24 ? 24 : w;
    return w > 8 ? w : 8;
}

/* Within o->columns: fewer sparkline columns (each summing more buckets),
 * narrow times, a shorter bar, and without the per-category counts when
 * even those do not fit. */
static void trend_layout(const struct aw_report_opts *o, const struct grid *g,
                         struct trend_layout *l)
{
    size_t row = 20 + 2 + 8;

    *l = (struct trend_layout){ .cw = strlen("CATEGORY"), .spark = 60, .bar_max = 20, .tw = 20,
                                .per_cat = true };
    for (size_t c = 0; c < g->ncat; c++) {
        size_t w = aw_text_width(g->names[c]);
        l->cw = w > l->cw ? w : l->cw;
    }
    l->cw = l->cw > 24 ? 24 : l->cw;
    for (size_t c = 0; c < g->ncat; c++) {
        row += 2 + count_width(g->names[c]);
    }
    if (o->columns == 0) {
        return;
    }
    size_t fixed = 2 + l->cw + 2 + 8 + 2 + 2;
    if (fixed + l->spark > o->columns) {
        l->spark = o->columns > fixed + 10 ? o->columns - fixed : 10;
    }
    if (row + 2 + l->bar_max > o->columns) {
        l->narrow = true;
        l->tw = NARROW_TIME;
        row -= (size_t)(20 - NARROW_TIME);
        if (row + 2 + 4 > o->columns) {
            l->per_cat = false;
            row = (size_t)l->tw + 2 + 8;
        }
        l->bar_max = o->columns > row + 2 ? o->columns - row - 2 : 0;
        l->bar_max = l->bar_max > 20 ? 20 : l->bar_max;
    }
}

/* The heading and a line per category: its total and its sparkline. */
static void render_sparklines(FILE *out, const struct aw_report_opts *o, const struct grid *g,
                              const struct trend_layout *l)
{
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX];
    size_t span = (g->buckets + l->spark - 1) / l->spark;
    size_t cols = (g->buckets + span - 1) / span;

    aw_time_format_short(g->start_ms, a);
    aw_time_format_short(g->start_ms + (int64_t)(g->buckets - 1) * g->width, b);
    fprintf(out, "\nFindings per %s (UTC buckets), %s to %s:\n", by_names[o->by], a, b);
    for (size_t c = 0; c < g->ncat; c++) {
        int64_t total = 0;
        for (size_t k = 0; k < g->buckets; k++) {
            total += g->counts[k * g->ncat + c];
        }
        fputs("  ", out);
        cell(out, g->names[c], l->cw);
        fprintf(out, "  %8lld  |", (long long)total);
        sparkline(out, g, c, cols, span);
        fputs("|\n", out);
    }
    if (span > 1) {
        fprintf(out, "  (one column per %zu %ss)\n", span, by_names[o->by]);
    }
}

/* One row per bucket: the counts and a bar of the total. */
static void render_buckets(FILE *out, const struct grid *g, const struct trend_layout *l)
{
    char a[AW_TIME_ISO_MAX];
    int64_t busiest = 0;

    fprintf(out, "\n%-*s  %8s", l->tw, l->narrow ? "BUCKET (UTC)" : "BUCKET", "TOTAL");
    for (size_t c = 0; c < g->ncat && l->per_cat; c++) {
        size_t w = aw_text_width(g->names[c]);
        fputs("  ", out);
        if (w < 8) {
            fprintf(out, "%*s", (int)(8 - w), "");
        }
        aw_text_terminal(out, g->names[c], 24);
    }
    fputc('\n', out);
    for (size_t k = 0; k < g->buckets; k++) {
        int64_t t = grid_total(g, k);
        busiest = t > busiest ? t : busiest;
    }
    for (size_t k = 0; k < g->buckets; k++) {
        int64_t t = grid_total(g, k);
        size_t bar = busiest ? (size_t)((t * (int64_t)l->bar_max + busiest - 1) / busiest) : 0;
        table_time(NULL, l->narrow, g->start_ms + (int64_t)k * g->width, a);
        fprintf(out, "%-*s  %8lld", l->tw, a, (long long)t);
        for (size_t c = 0; c < g->ncat && l->per_cat; c++) {
            fprintf(out, "  %*lld", (int)count_width(g->names[c]),
                    (long long)g->counts[k * g->ncat + c]);
        }
        if (bar > 0) {
            fputs("  ", out);
            for (size_t n = 0; n < bar; n++) {
                fputc('#', out);
            }
        }
        fputc('\n', out);
    }
}

/* The trend: a sparkline per category, then a row per bucket with the
 * counts and a bar of the total, laid out to fit o->columns. */
static void render_trend(FILE *out, const struct aw_report_opts *o, const struct grid *g)
{
    struct trend_layout l;

    if (g->buckets == 0) {
        return;
    }
    trend_layout(o, g, &l);
    render_sparklines(out, o, g, &l);
    render_buckets(out, g, &l);
}

/* The category and rule tables.  Full width: RULE, CATEGORY, COUNT, FIRST
 * SEEN, LAST SEEN.  When that passes o->columns, narrow: times without
 * year and zone, no CATEGORY column in the rule table (the category table
 * above has the categories), a rule id too long for its column on a line
 * of its own with its numbers on the next. */
static void render_counts(FILE *out, const struct aw_report_opts *o, const struct rows *cats,
                          const struct rows *rules)
{
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX];
    size_t cw = max_width(cats, false, strlen("CATEGORY"));
    size_t rw = max_width(rules, true, strlen("RULE"));
    size_t rcw = max_width(rules, false, strlen("CATEGORY"));
    int wide = TIME_W(o->tz);
    bool narrow = o->columns > 0 && rw + 2 + rcw + 2 + 8 + 2 + (size_t)wide + 2 + (size_t)wide > o->columns;
    int tw = narrow ? NARROW_TIME : wide, nw = narrow ? 6 : 8;
    const char *first = !narrow ? "FIRST SEEN" : o->tz != NULL ? "FIRST (local)" : "FIRST (UTC)";
    const char *last = !narrow ? "LAST SEEN" : o->tz != NULL ? "LAST (local)" : "LAST (UTC)";

    if (narrow) {
        /* What is left for the ids, at least the header's width. */
        size_t rest = (size_t)(2 + nw + 2 + tw + 2 + tw);
        rw = o->columns > rest + 4 ? (rw < o->columns - rest ? rw : o->columns - rest) : 4;
    }
    cell(out, "CATEGORY", cw);
    fprintf(out, "  %*s  %-*s  %s\n", nw, "COUNT", tw, first, last);
    for (size_t i = 0; i < cats->count; i++) {
        const struct row *r = &cats->items[i];
        table_time(o->tz, narrow, r->first_ms, a);
        table_time(o->tz, narrow, r->last_ms, b);
        cell(out, r->category, cw);
        fprintf(out, "  %*lld  %-*s  %s\n", nw, (long long)r->count, tw, a, b);
    }
    fputc('\n', out);
    cell(out, "RULE", rw);
    if (!narrow) {
        fputs("  ", out);
        cell(out, "CATEGORY", rcw);
    }
    fprintf(out, "  %*s  %-*s  %s\n", nw, "COUNT", tw, first, last);
    for (size_t i = 0; i < rules->count; i++) {
        const struct row *r = &rules->items[i];
        table_time(o->tz, narrow, r->first_ms, a);
        table_time(o->tz, narrow, r->last_ms, b);
        if (narrow && aw_text_width(r->rule) > rw) {
            aw_text_terminal(out, r->rule, 0);
            fputc('\n', out);
            cell(out, "", rw);
        } else {
            cell(out, r->rule, rw);
        }
        if (!narrow) {
            fputs("  ", out);
            cell(out, r->category, rcw);
        }
        fprintf(out, "  %*lld  %-*s  %s\n", nw, (long long)r->count, tw, a, b);
    }
}

/* Records a match limit kept from being classified, per stopped rule:
 * they may be findings of that rule (see scan.h). */
static void render_limits(FILE *out, const struct rows *limits, const struct aw_tz *tz)
{
    char last[AW_TIME_ISO_MAX];

    if (limits->count > 0) {
        fputs("\nRecords that could not be classified (PCRE2 match limit):\n", out);
    }
    for (size_t i = 0; i < limits->count; i++) {
        const struct row *l = &limits->items[i];

        aw_tz_format_short(tz, l->last_ms, last);
        fprintf(out, "  %lld record%s could not be matched by rule '", (long long)l->count,
                AW_PLURAL(l->count));
        aw_text_terminal(out, l->rule, 0);
        fprintf(out, "' (last %s)\n", last);
    }
}

static void render_table(FILE *out, const struct aw_report_opts *o, const struct report *rep)
{
    const struct rows *cats = &rep->cats, *rules = &rep->rules;
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX];
    size_t explain = o->explain_top ? o->explain_top : 3, explained = 0;

    aw_tz_format_short(o->tz, o->filter.since_ms, a);
    aw_tz_format_short(o->tz, o->filter.until_ms, b);
    if (a[0] != '\0' && b[0] != '\0') {
        fprintf(out, "agentwatch report: %s to %s\n", a, b);
    } else if (a[0] != '\0') {
        fprintf(out, "agentwatch report: since %s\n", a);
    } else if (b[0] != '\0') {
        fprintf(out, "agentwatch report: until %s\n", b);
    } else {
        fputs("agentwatch report: all recorded time\n", out);
    }
    if (o->tz != NULL) {
        fputs("times: local, ", out);
        aw_text_terminal(out, aw_tz_name(o->tz), 0);
        fputs(" (each with its offset from UTC)\n", out);
    }
    if (o->filter.category != NULL) {
        fputs("category: ", out);
        aw_text_terminal(out, o->filter.category, 0);
        fputc('\n', out);
    }
    if (o->filter.rule != NULL) {
        fputs("rule: ", out);
        aw_text_terminal(out, o->filter.rule, 0);
        fputc('\n', out);
    }
    if (o->filter.host != NULL) {
        fputs("host: ", out);
        aw_text_terminal(out, o->filter.host, 0);
        fputc('\n', out);
    }
    if (rep->total == 0) {
        fputs("no findings\n", out);
        return;
    }
    render_state_line(out, &rep->state, o->columns, o->tz);
    fprintf(out, "%lld finding%s in %zu categor%s from %zu rule%s\n\n", (long long)rep->total,
            AW_PLURAL(rep->total), cats->count, cats->count == 1 ? "y" : "ies", rules->count,
            AW_PLURAL(rules->count));
    render_counts(out, o, cats, rules);
    render_limits(out, &rep->limits, o->tz);
    render_incidents(out, &rep->incidents, o->tz, o->columns);
    aw_probe_servers_text(out, &rep->servers, o->tz);
    /* Success markers are evidence of health, not problems to explain. */
    for (size_t i = 0; i < rules->count && explained < explain; i++) {
        const struct row *r = &rules->items[i];
        if (strcmp(r->category, AW_CATEGORY_HEALTH) == 0) {
            continue;
        }
        if (explained++ == 0) {
            fputs("\nProbable causes, most recent problems first:\n", out);
        }
        aw_tz_format_short(o->tz, r->last_ms, b);
        fputs("  ", out);
        aw_text_terminal(out, r->rule, 0);
        fprintf(out, " (%lld, last %s)\n", (long long)r->count, b);
        if (r->cause[0] != '\0') {
            wrap(out, "cause:", r->cause, 64);
        }
        if (r->remedy[0] != '\0') {
            wrap(out, "remedy:", r->remedy, 64);
        }
    }
    if (o->by != AW_REPORT_BY_NONE) {
        render_trend(out, o, &rep->grid);
    }
}

int aw_report_run(struct aw_store *s, const struct aw_report_opts *o, FILE *out,
                  struct aw_err *err)
{
    struct aw_query *q = NULL;
    struct report r;
    int rc;

    memset(&r, 0, sizeof(r));
    rc = aw_query_open(&q, s, &o->filter, err);
    if (rc == AW_OK) {
        rc = aw_query_by_category(q, collect, &r.cats, err);
    }
    if (rc == AW_OK) {
        rc = aw_query_by_rule(q, collect, &r.rules, err);
    }
    if (rc == AW_OK) {
        rc = aw_query_incidents(q, o->incidents ? o->incidents : AW_REPORT_INCIDENTS_DEFAULT,
                                &r.incidents, err);
    }
    if (rc == AW_OK) {
        rc = aw_query_state(q, &r.incidents, &r.state, err);
    }
    if (rc == AW_OK && o->format != AW_REPORT_CSV) {
        rc = aw_query_limit_hits(q, collect, &r.limits, err);
    }
    if (rc == AW_OK && o->format != AW_REPORT_CSV) {
        rc = aw_probe_servers_load(s, &o->filter, &r.servers, err);
    }
    if (rc == AW_OK && o->by != AW_REPORT_BY_NONE) {
        rc = grid_fill(&r, q, o, err);
    }
    if (rc == AW_OK && o->format == AW_REPORT_JSON) {
        rc = aw_query_inferred(q, &r.inferred, err);
    }
    if (rc != AW_OK) {
        goto out;
    }
    for (size_t i = 0; i < r.cats.count; i++) {
        r.total += r.cats.items[i].count;
    }
    switch (o->format) {
    case AW_REPORT_JSON:
        render_json(out, o, &r);
        break;
    case AW_REPORT_CSV:
        if (o->by != AW_REPORT_BY_NONE) {
            render_csv_buckets(out, &r.grid);
        } else {
            render_csv(out, &r.rules);
        }
        break;
    case AW_REPORT_TABLE:
    default:
        render_table(out, o, &r);
        break;
    }
    if (fflush(out) != 0 || ferror(out)) {
        rc = aw_err_set(err, AW_EIO, "cannot write the report");
    }
out:
    aw_query_close(&q);
    rows_free(&r.cats);
    rows_free(&r.rules);
    rows_free(&r.limits);
    aw_probe_servers_free(&r.servers);
    aw_incidents_free(&r.incidents);
    free(r.grid.names);
    free(r.grid.counts);
    return rc;
}
