/*
 * Report: what is failing, since when, how often, and probably why.
 *
 * Three renderings of the same summary (findings per category and per
 * rule, with first and last seen and the rules' cause and remedy):
 *   table  for people: aligned columns, most recently seen first, then the
 *          probable cause and remedy of the top problems;
 *   json   one object, a stable contract for scripts:
 *          {"since": ISO|null, "until": ISO|null, "total": N,
 *           "categories": [{"category", "count", "first", "last"}],
 *           "rules": [{"rule", "category", "count", "first", "last",
 *                      "cause", "remedy"}]}
 *          with ISO-8601 UTC timestamps ("2025-03-11T07:00:01.121Z");
 *   csv    one row per rule with a header line.
 */
#ifndef AGENTWATCH_REPORT_H
#define AGENTWATCH_REPORT_H

#include <stdio.h>

#include "agentwatch/err.h"
#include "agentwatch/store.h"

enum aw_report_format {
    AW_REPORT_TABLE = 0,
    AW_REPORT_JSON,
    AW_REPORT_CSV
};

struct aw_report_opts {
    struct aw_filter filter;
    enum aw_report_format format;
    size_t explain_top;       /* table: problems whose cause/remedy are
                                 printed; 0: 3 */
};

/* "table", "json", "csv"; AW_ESYNTAX otherwise. */
int aw_report_format_from_name(const char *name, enum aw_report_format *out);

/* Query s and write the report to out. */
int aw_report_run(struct aw_store *s, const struct aw_report_opts *opts, FILE *out,
                  struct aw_err *err);

#endif
