/*
 * Report: what is failing, since when, how often, and probably why.
 *
 * Three renderings of the same summary (findings per category and per
 * rule, with first and last seen and the rules' cause and remedy, the
 * current state and the recent incidents, see query.h for their
 * definitions), optionally with counts per time bucket:
 *   table  for people: the state first, aligned columns, most recently
 *          seen first, the incidents, the probable cause and remedy of the
 *          top problems, and with --by a sparkline per category and one
 *          row per bucket;
 *   json   one object, a stable contract for scripts:
 *          {"since": ISO|null, "until": ISO|null, "total": N,
 *           "categories": [{"category", "count", "first", "last"}],
 *           "rules": [{"rule", "category", "count", "first", "last",
 *                      "cause", "remedy"}],
 *           "match_limit": [{"rule", "category", "count", "first",
 *                            "last"}]  (records a match limit kept that
 *                      rule from, see aw_query_limit_hits()),
 *           "servers": [{"target", "last_probe", "verdict", "detail",
 *                        "sha1", "certificate_changed", "changed_at",
 *                        "old_sha1", "failures_began"}]  (probe_history.h),
 *           "state": {"status", "since", "failures", "category",
 *                     "last_failure", "last_success"},
 *           "incidents": [{"start", "end", "last", "ongoing",
 *                          "duration_ms", "category", "count"}],
 *           "more_incidents": true when older incidents were left out
 *           and with --by: "by": "minute"|"hour"|"day",
 *           "buckets": [{"start", "counts": {CATEGORY: N, ...}}]}
 *          with ISO-8601 UTC timestamps ("2025-03-11T07:00:01.121Z");
 *   csv    one row per rule with a header line, or with --by one row per
 *          bucket: start,total,CATEGORY...
 */
#ifndef AGENTWATCH_REPORT_H
#define AGENTWATCH_REPORT_H

#include <stdio.h>

#include "agentwatch/err.h"
#include "agentwatch/query.h"
#include "agentwatch/store.h"

enum aw_report_format {
    AW_REPORT_TABLE = 0,
    AW_REPORT_JSON,
    AW_REPORT_CSV
};

enum aw_report_by {
    AW_REPORT_BY_NONE = 0,
    AW_REPORT_BY_MINUTE,
    AW_REPORT_BY_HOUR,
    AW_REPORT_BY_DAY
};

/* Incidents listed when opts.incidents is 0, and the most --incidents
 * accepts. */
#define AW_REPORT_INCIDENTS_DEFAULT 10
#define AW_REPORT_INCIDENTS_MAX 10000

/* Most buckets one report shows (a year of hours fits). */
#define AW_REPORT_BUCKETS_MAX 100000

/* --by without --since looks back this far (hour: a week, minute: an
 * hour); --by day keeps everything since the first finding.  --by minute
 * spans at most a day (a longer one is a usage error naming a --since
 * that fits). */
#define AW_REPORT_BY_HOUR_DEFAULT_MS (7 * 86400000LL)
#define AW_REPORT_BY_MINUTE_DEFAULT_MS 3600000LL
#define AW_REPORT_BY_MINUTE_MAX_MS 86400000LL

struct aw_tz;

struct aw_report_opts {
    struct aw_query_filter filter;  /* the window and filters (query.h) */
    enum aw_report_format format;
    size_t explain_top;       /* table: problems whose cause/remedy are
                                 printed; 0: 3 */
    enum aw_report_by by;     /* counts per bucket; NONE: no buckets */
    size_t incidents;         /* most recent incidents listed; 0: default */
    int64_t now_ms;           /* end of the buckets without --until;
                                 0: the clock */
    const struct aw_tz *tz;   /* table: times in this zone, each with its
                                 offset ("2025-03-11 08:00:01+01:00");
                                 NULL: UTC.  JSON, CSV and the --by
                                 buckets stay UTC */
    size_t columns;           /* table: the width to fit (a terminal's);
                                 0: no limit.  A table wider than this is
                                 drawn narrow: times without the year and
                                 zone ("MM-DD HH:MM:SS", UTC as said in
                                 the header), the rule table without its
                                 category column (a long id on a line of
                                 its own), the state line wrapped, fewer
                                 trend columns */
};

/* "table", "json", "csv"; AW_ESYNTAX otherwise. */
int aw_report_format_from_name(const char *name, enum aw_report_format *out);

/* "minute", "hour", "day"; AW_ESYNTAX otherwise. */
int aw_report_by_from_name(const char *name, enum aw_report_by *out);

/* Query s and write the report to out. */
int aw_report_run(struct aw_store *s, const struct aw_report_opts *opts, FILE *out,
                  struct aw_err *err);

#endif
