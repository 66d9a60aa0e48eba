/*
 * agentwatch report: summarise the stored findings (see report.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/config.h"
#include "agentwatch/report.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "agentwatch/tz.h"
#include "agentwatch/platform.h"
#include "cli_internal.h"
#include "cli_opt.h"

/* What the command line gives. */
struct report_args {
    struct aw_query_filter filter;
    int by;
    uint64_t incidents;
    int format;
    bool local;
};

static const struct aw_opt_word report_by[] = {
    { "minute", AW_REPORT_BY_MINUTE },
    { "hour", AW_REPORT_BY_HOUR },
    { "day", AW_REPORT_BY_DAY },
    { NULL, 0 }
};

static const struct aw_opt_word report_formats[] = {
    { "table", AW_REPORT_TABLE },
    { "json", AW_REPORT_JSON },
    { "csv", AW_REPORT_CSV },
    { NULL, 0 }
};

static const struct aw_opt report_opts[] = {
    AW_OPT_ROWS_WINDOW(struct report_args, filter),
    { .name = "by", .kind = AW_OPT_WORD, .arg = "UNIT", .words = report_by,
      .offset = offsetof(struct report_args, by),
      .help = "also count per minute, hour or day (UTC buckets,\nempty ones included)" },
    AW_OPT_ROWS_FILTER(struct report_args, filter),
    { .name = "incidents", .kind = AW_OPT_UINT, .arg = "N", .min = 1,
      .max = AW_REPORT_INCIDENTS_MAX, .unit = "a number",
      .offset = offsetof(struct report_args, incidents),
      .help = "list the N most recent incidents (default 10, at\nmost 10000)" },
    { .name = "format", .kind = AW_OPT_WORD, .arg = "FORMAT", .words = report_formats,
      .offset = offsetof(struct report_args, format), .help = "table (default), json or csv" },
    { .name = "local", .kind = AW_OPT_FLAG, .offset = offsetof(struct report_args, local),
      .help = "table: times in the endpoint's zone (the\n"
              "configuration's timezone, else the machine's), each\n"
              "with its offset; JSON and CSV stay UTC (default:\n"
              "the configuration's local_time, else UTC)" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_report_spec = AW_CLI_SPEC(
    "report",
    "Usage: agentwatch [--db PATH] report [options]\n"
    "\n"
    "Summarise the stored findings: the current state (healthy, failing since\n"
    "when, or unknown), the recent incidents, per category and per rule how\n"
    "many, first and last seen, and the probable cause and remedy of the top\n"
    "problems.\n"
    "\n"
    "Options:\n",
    report_opts,
    AW_CLI_WHEN_NOTE
);

/* The width a table must fit: a terminal's ($COLUMNS, else its size,
 * else 80); none when the output is a file or a pipe. */
static size_t output_columns(void)
{
    size_t cols = 0;
    char *env;

    if (!aw_os_isatty(1)) {
        return 0;
    }
    env = aw_os_getenv_dup("COLUMNS");
    if (env != NULL) {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        cols = env[0] >= '0' && env[0] <= '9' && *end == '\0' && v >= 20 && v <= 10000 ? v : 0;
    }
    if (cols == 0) {
        cols = aw_os_terminal_columns(1);
    }
    free(env);
    return cols > 0 ? cols : 80;
}

/* --by's window: without --since the recent past (report.h), and --by
 * minute over no more than a day. */
static int by_window(const char *cmd, int64_t now, struct aw_report_opts *opts)
{
    struct aw_query_filter *f = &opts->filter;
    int64_t until = f->until_ms != AW_TIME_NONE ? f->until_ms : now;
    char fit[AW_TIME_ISO_MAX];

    if (f->since_ms == AW_TIME_NONE && opts->by == AW_REPORT_BY_HOUR) {
        f->since_ms = until - AW_REPORT_BY_HOUR_DEFAULT_MS;
    } else if (f->since_ms == AW_TIME_NONE && opts->by == AW_REPORT_BY_MINUTE) {
        f->since_ms = until - AW_REPORT_BY_MINUTE_DEFAULT_MS;
    }
    if (opts->by == AW_REPORT_BY_MINUTE && until - f->since_ms > AW_REPORT_BY_MINUTE_MAX_MS) {
        if (f->until_ms == AW_TIME_NONE) {
            return aw_cli_usage_error(cmd, "--by minute spans at most 24 hours (%lld minutes "
                                      "asked): use --since 24h, or --by hour",
                                      (long long)((until - f->since_ms) / 60000));
        }
        aw_time_format_iso(until - AW_REPORT_BY_MINUTE_MAX_MS, fit);
        return aw_cli_usage_error(cmd, "--by minute spans at most 24 hours (%lld minutes "
                                  "asked): use --since %s, or --by hour",
                                  (long long)((until - f->since_ms) / 60000), fit);
    }
    return AW_EXIT_OK;
}

int aw_cmd_report(struct aw_cli *cli, int argc, char **argv)
{
    struct report_args a = {
        .filter = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL },
        .by = AW_REPORT_BY_NONE,
        .format = AW_REPORT_TABLE
    };
    struct aw_report_opts opts = { .filter = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL } };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    struct aw_tz *tz = NULL;
    int rc, status = AW_EXIT_FAILURE;

    a.local = cli->config != NULL && cli->config->local_time;
    rc = aw_cli_parse_window(&aw_report_spec, cli, argc, argv, &a, &a.filter);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    opts.filter = a.filter;
    opts.by = (enum aw_report_by)a.by;
    opts.incidents = (size_t)a.incidents;
    opts.format = (enum aw_report_format)a.format;
    rc = by_window("report", aw_time_now_ms(), &opts);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    opts.columns = opts.format == AW_REPORT_TABLE ? output_columns() : 0;
    /* machines read UTC: only the table a person reads changes */
    if (a.local && opts.format == AW_REPORT_TABLE) {
        rc = aw_cli_open_tz(cli, "report", NULL, &tz);
        if (rc != AW_EXIT_OK) {
            return rc;
        }
        opts.tz = tz;
    }
    if (aw_cli_open_store(cli, AW_STORE_READONLY, &store) != AW_OK) {
        goto out;
    }
    if (aw_report_run(store, &opts, stdout, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    status = AW_EXIT_OK;
out:
    aw_store_close(&store);
    aw_tz_free(&tz);
    return status;
}
