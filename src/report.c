/*
 * Report rendering (see report.h).
 *
 * Rows are copied out of the store first and rendered afterwards, so the
 * table can size its columns and the JSON can be written in one piece.
 * Strings that came from rule files or logs go through text.h on the way
 * out: escaped for JSON and CSV, defanged for terminals.
 */
#include "agentwatch/report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/rules.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"

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

    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct row *items = realloc(r->items, cap * sizeof(*items));
        if (items == NULL) {
            return aw_err_set(err, AW_ENOMEM, "out of memory building the report");
        }
        r->items = items;
        r->cap = cap;
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

static void json_time(FILE *out, int64_t ms)
{
    char iso[AW_TIME_ISO_MAX];

    if (ms == AW_TIME_NONE) {
        fputs("null", out);
        return;
    }
    aw_time_format_iso(ms, iso);
    aw_text_json_string(out, iso);
}

static void render_json(FILE *out, const struct aw_report_opts *o, const struct rows *cats,
                        const struct rows *rules, int64_t total)
{
    fputs("{\"since\": ", out);
    json_time(out, o->filter.since_ms);
    fputs(", \"until\": ", out);
    json_time(out, o->filter.until_ms);
    fprintf(out, ", \"total\": %lld,\n \"categories\": [", (long long)total);
    for (size_t i = 0; i < cats->count; i++) {
        const struct row *r = &cats->items[i];
        fputs(i ? ",\n  " : "\n  ", out);
        fputs("{\"category\": ", out);
        aw_text_json_string(out, r->category);
        fprintf(out, ", \"count\": %lld, \"first\": ", (long long)r->count);
        json_time(out, r->first_ms);
        fputs(", \"last\": ", out);
        json_time(out, r->last_ms);
        fputc('}', out);
    }
    fputs(cats->count ? "\n ],\n \"rules\": [" : "],\n \"rules\": [", out);
    for (size_t i = 0; i < rules->count; i++) {
        const struct row *r = &rules->items[i];
        fputs(i ? ",\n  " : "\n  ", out);
        fputs("{\"rule\": ", out);
        aw_text_json_string(out, r->rule);
        fputs(", \"category\": ", out);
        aw_text_json_string(out, r->category);
        fprintf(out, ", \"count\": %lld, \"first\": ", (long long)r->count);
        json_time(out, r->first_ms);
        fputs(", \"last\": ", out);
        json_time(out, r->last_ms);
        fputs(", \"cause\": ", out);
        aw_text_json_string(out, r->cause);
        fputs(", \"remedy\": ", out);
        aw_text_json_string(out, r->remedy);
        fputc('}', out);
    }
    fputs(rules->count ? "\n ]}\n" : "]}\n", out);
}

static void render_csv(FILE *out, const struct rows *rules)
{
    char first[AW_TIME_ISO_MAX], last[AW_TIME_ISO_MAX];

    fputs("rule,category,count,first,last,cause,remedy\r\n", out);
    for (size_t i = 0; i < rules->count; i++) {
        const struct row *r = &rules->items[i];
        aw_time_format_iso(r->first_ms, first);
        aw_time_format_iso(r->last_ms, last);
        aw_text_csv_field(out, r->rule);
        fputc(',', out);
        aw_text_csv_field(out, r->category);
        fprintf(out, ",%lld,%s,%s,", (long long)r->count, first, last);
        aw_text_csv_field(out, r->cause);
        fputc(',', out);
        aw_text_csv_field(out, r->remedy);
        fputs("\r\n", out);
    }
}

/* Write s left-aligned in a column of width cols (terminal-safe). */
static void cell(FILE *out, const char *s, size_t cols)
{
    size_t w = aw_text_width(s);

    aw_text_terminal(out, s, cols);
    for (; w < cols; w++) {
        fputc(' ', out);
    }
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

static void render_table(FILE *out, const struct aw_report_opts *o, const struct rows *cats,
                         const struct rows *rules, int64_t total)
{
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX];
    size_t cw = max_width(cats, false, strlen("CATEGORY"));
    size_t rw = max_width(rules, true, strlen("RULE"));
    size_t rcw = max_width(rules, false, strlen("CATEGORY"));
    size_t explain = o->explain_top ? o->explain_top : 3, explained = 0;

    aw_time_format_short(o->filter.since_ms, a);
    aw_time_format_short(o->filter.until_ms, b);
    if (a[0] != '\0' && b[0] != '\0') {
        fprintf(out, "agentwatch report: %s to %s\n", a, b);
    } else if (a[0] != '\0') {
        fprintf(out, "agentwatch report: since %s\n", a);
    } else if (b[0] != '\0') {
        fprintf(out, "agentwatch report: until %s\n", b);
    } else {
        fputs("agentwatch report: all recorded time\n", out);
    }
    if (o->filter.category != NULL) {
        fputs("category: ", out);
        aw_text_terminal(out, o->filter.category, 0);
        fputc('\n', out);
    }
    if (total == 0) {
        fputs("no findings\n", out);
        return;
    }
    fprintf(out, "%lld findings in %zu categories from %zu rules\n\n", (long long)total,
            cats->count, rules->count);

    cell(out, "CATEGORY", cw);
    fprintf(out, "  %8s  %-20s  %s\n", "COUNT", "FIRST SEEN", "LAST SEEN");
    for (size_t i = 0; i < cats->count; i++) {
        const struct row *r = &cats->items[i];
        aw_time_format_short(r->first_ms, a);
        aw_time_format_short(r->last_ms, b);
        cell(out, r->category, cw);
        fprintf(out, "  %8lld  %-20s  %s\n", (long long)r->count, a, b);
    }
    fputc('\n', out);
    cell(out, "RULE", rw);
    fputs("  ", out);
    cell(out, "CATEGORY", rcw);
    fprintf(out, "  %8s  %-20s  %s\n", "COUNT", "FIRST SEEN", "LAST SEEN");
    for (size_t i = 0; i < rules->count; i++) {
        const struct row *r = &rules->items[i];
        aw_time_format_short(r->first_ms, a);
        aw_time_format_short(r->last_ms, b);
        cell(out, r->rule, rw);
        fputs("  ", out);
        cell(out, r->category, rcw);
        fprintf(out, "  %8lld  %-20s  %s\n", (long long)r->count, a, b);
    }
    /* Success markers are evidence of health, not problems to explain. */
    for (size_t i = 0; i < rules->count && explained < explain; i++) {
        const struct row *r = &rules->items[i];
        if (strcmp(r->category, AW_CATEGORY_HEALTH) == 0) {
            continue;
        }
        if (explained++ == 0) {
            fputs("\nProbable causes, most recent problems first:\n", out);
        }
        aw_time_format_short(r->last_ms, b);
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
}

int aw_report_run(struct aw_store *s, const struct aw_report_opts *o, FILE *out,
                  struct aw_err *err)
{
    struct rows cats = { 0 }, rules = { 0 };
    int64_t total = 0;
    int rc;

    rc = aw_store_count_by_category(s, &o->filter, collect, &cats, err);
    if (rc == AW_OK) {
        rc = aw_store_count_by_rule(s, &o->filter, collect, &rules, err);
    }
    if (rc != AW_OK) {
        goto out;
    }
    for (size_t i = 0; i < cats.count; i++) {
        total += cats.items[i].count;
    }
    switch (o->format) {
    case AW_REPORT_JSON:
        render_json(out, o, &cats, &rules, total);
        break;
    case AW_REPORT_CSV:
        render_csv(out, &rules);
        break;
    case AW_REPORT_TABLE:
    default:
        render_table(out, o, &cats, &rules, total);
        break;
    }
    if (fflush(out) != 0 || ferror(out)) {
        rc = aw_err_set(err, AW_EIO, "cannot write the report");
    }
out:
    rows_free(&cats);
    rows_free(&rules);
    return rc;
}
