/*
 * agentwatch export: the stored findings as NDJSON or CSV (see export.h).
 */
#include <getopt.h>
#include <stdio.h>

#include "agentwatch/export.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"

const char aw_export_usage[] =
    "Usage: agentwatch [--db PATH] export [options]\n"
    "\n"
    "Write every stored finding, one per line with every stored field, for a\n"
    "log pipeline (Fluent Bit, Vector, Filebeat, a SIEM).\n"
    "\n"
    "Options:\n"
    "  --since WHEN       only findings at or after WHEN\n"
    "  --until WHEN       only findings at or before WHEN\n"
    "  --category C       only findings of category C\n"
    "  --rule ID          only findings of rule ID\n"
    "  --host H           only findings from host H\n"
    "  --format FORMAT    ndjson (default: one JSON object per line) or csv\n"
    "  --db PATH          database file (also accepted before the command)\n"
    "  -h, --help         show this help\n"
    "\n"
    "WHEN is a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO-8601\n"
    "date or date-time; without an offset it is UTC.\n";

int aw_cmd_export(struct aw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        AW_CLI_WINDOW_LONGOPTS,
        { "format", required_argument, NULL, OPT_FORMAT },
        { "db", required_argument, NULL, OPT_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_query_filter f = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL };
    enum aw_export_format format = AW_EXPORT_NDJSON;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    int64_t now = aw_time_now_ms();
    int c, rc, status = AW_EXIT_FAILURE;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (aw_export_format_from_name(optarg, &format) != AW_OK) {
                return aw_cli_usage_error("export", "invalid --format '%s': expected ndjson or"
                                          " csv", optarg);
            }
            break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(aw_export_usage, stdout); return AW_EXIT_OK;
        default:
            rc = aw_cli_window_option("export", argv, c, now, &f);
            if (rc != AW_EXIT_OK) {
                return rc;
            }
            break;
        }
    }
    rc = aw_cli_window_check("export", argc, argv, &f);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    if (aw_cli_open_store(cli, AW_STORE_READONLY, &store) != AW_OK) {
        goto out;
    }
    if (aw_export_run(store, &f, format, stdout, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    status = AW_EXIT_OK;
out:
    aw_store_close(&store);
    return status;
}
