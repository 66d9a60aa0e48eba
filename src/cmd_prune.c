/*
 * agentwatch prune: delete old findings and give their space back (see
 * retention.h).  Unlike follow's automatic retention, an explicit prune
 * also converts a database created before schema 4 to incremental vacuum
 * (one VACUUM): the admin asked for the space now.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "agentwatch/retention.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"

const char aw_prune_usage[] =
    "Usage: agentwatch [--db PATH] prune --older-than WHEN\n"
    "\n"
    "Delete the findings recorded before WHEN and reclaim their space. Read\n"
    "positions and rule metadata are kept, so later scans neither re-read nor\n"
    "re-store what was pruned.\n"
    "\n"
    "Options:\n"
    "  --older-than WHEN  a duration back from now (90d, 12w) or an ISO-8601\n"
    "                     date or date-time (2025-01-01); required\n"
    "  --db PATH          database file (also accepted before the command)\n"
    "  -h, --help         show this help\n";

int aw_cmd_prune(struct aw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "older-than", required_argument, NULL, OPT_OLDER_THAN },
        { "db", required_argument, NULL, OPT_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    int64_t cut = AW_TIME_NONE;
    uint64_t deleted = 0;
    char iso[AW_TIME_ISO_MAX];
    int c, status = AW_EXIT_FAILURE;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_OLDER_THAN:
            if (aw_time_parse_when(optarg, aw_time_now_ms(), &cut, &err) != AW_OK) {
                return aw_cli_usage_error("prune", "--older-than: %s", err.msg);
            }
            break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(aw_prune_usage, stdout); return AW_EXIT_OK;
        default: return aw_cli_bad_option("prune", argv, c);
        }
    }
    if (optind < argc) {
        return aw_cli_usage_error("prune", "unexpected argument '%s'", argv[optind]);
    }
    if (cut == AW_TIME_NONE) {
        return aw_cli_usage_error("prune", "--older-than is required");
    }
    if (aw_cli_open_store(cli, AW_STORE_EXCLUSIVE, &store) != AW_OK) {
        goto out;
    }
    aw_time_format_iso(cut, iso);
    if (aw_store_prune_ex(store, cut, AW_PRUNE_CONVERT, &deleted, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    printf("pruned %" PRIu64 " finding%s recorded before %s\n", deleted, deleted == 1 ? "" : "s",
           iso);
    status = fflush(stdout) == 0 ? AW_EXIT_OK : AW_EXIT_FAILURE;
out:
    aw_store_close(&store);
    return status;
}
