/*
 * agentwatch report: summarise the stored findings (see report.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/report.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"

const char aw_report_usage[] =
    "Usage: agentwatch [--db PATH] report [options]\n"
    "\n"
    "Summarise the stored findings: the current state (healthy, failing since\n"
    "when, or unknown), the recent incidents, per category and per rule how\n"
    "many, first and last seen, and the probable cause and remedy of the top\n"
    "problems.\n"
    "\n"
    "Options:\n"
    "  --since WHEN       only findings at or after WHEN\n"
    "  --until WHEN       only findings at or before WHEN\n"
    "  --by UNIT          also count per minute, hour or day (UTC buckets,\n"
    "                     empty ones included)\n"
    "  --category C       only findings of category C (ssl, connection, ...)\n"
    "  --rule ID          only findings of rule ID\n"
    "  --host H           only findings from host H\n"
    "  --incidents N      list the N most recent incidents (default 10, at\n"
    "                     most 10000)\n"
    "  --format FORMAT    table (default), json or csv\n"
    "  --db PATH          database file (also accepted before the command)\n"
    "  -h, --help         show this help\n"
    "\n"
    "WHEN is a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO-8601\n"
    "date or date-time (2025-03-11, 2025-03-11T08:00:00Z); without an offset\n"
    "it is UTC.\n";

int aw_cmd_report(struct aw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        AW_CLI_WINDOW_LONGOPTS,
        { "by", required_argument, NULL, OPT_BY },
        { "incidents", required_argument, NULL, OPT_INCIDENTS },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "db", required_argument, NULL, OPT_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_report_opts opts = {
        .filter = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL }
    };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    int64_t now = aw_time_now_ms();
    int c, rc, status = AW_EXIT_FAILURE;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_BY:
            if (aw_report_by_from_name(optarg, &opts.by) != AW_OK) {
                return aw_cli_usage_error("report", "invalid --by '%s': expected minute, hour or"
                                          " day", optarg);
            }
            break;
        case OPT_INCIDENTS:
            if (aw_cli_parse_size(optarg, 1, AW_REPORT_INCIDENTS_MAX, &opts.incidents) != AW_OK) {
                return aw_cli_usage_error("report", "invalid --incidents '%s': expected a number "
                                          "from 1 to %d", optarg, AW_REPORT_INCIDENTS_MAX);
            }
            break;
        case OPT_FORMAT:
            if (aw_report_format_from_name(optarg, &opts.format) != AW_OK) {
                return aw_cli_usage_error("report", "invalid --format '%s': expected table, json or "
                                   "csv", optarg);
            }
            break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(aw_report_usage, stdout); return AW_EXIT_OK;
        default:
            rc = aw_cli_window_option("report", argv, c, now, &opts.filter);
            if (rc != AW_EXIT_OK) {
                return rc;
            }
            break;
        }
    }
    rc = aw_cli_window_check("report", argc, argv, &opts.filter);
    if (rc != AW_EXIT_OK) {
        return rc;
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
    return status;
}

