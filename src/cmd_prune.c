/*
 * agentwatch prune: delete old findings and give their space back (see
 * retention.h).  Unlike follow's automatic retention, an explicit prune
 * also converts a database created before schema 4 to incremental vacuum
 * (one VACUUM): the admin asked for the space now.
 */
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>

#include "agentwatch/retention.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "agentwatch/text.h"
#include "cli_internal.h"
#include "cli_opt.h"

/* What the command line gives. */
struct prune_args {
    int64_t cut_ms;
};

static const struct aw_opt prune_opts[] = {
    { .name = "older-than", .kind = AW_OPT_WHEN, .arg = "WHEN",
      .offset = offsetof(struct prune_args, cut_ms),
      .help = "a duration back from now (90d, 12w) or an ISO-8601\n"
              "date or date-time (2025-01-01); required" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_prune_spec = AW_CLI_SPEC(
    "prune",
    "Usage: agentwatch [--db PATH] prune --older-than WHEN\n"
    "\n"
    "Delete the findings recorded before WHEN and reclaim their space. Read\n"
    "positions and rule metadata are kept, so later scans neither re-read nor\n"
    "re-store what was pruned.\n"
    "\n"
    "Options:\n",
    prune_opts,
    NULL
);

int aw_cmd_prune(struct aw_cli *cli, int argc, char **argv)
{
    struct prune_args a = { AW_TIME_NONE };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    uint64_t deleted = 0;
    char iso[AW_TIME_ISO_MAX];
    int n, status = AW_EXIT_FAILURE;

    status = aw_cli_parse(&aw_prune_spec, cli, argc, argv, &a, &n);
    if (status != AW_CLI_CONTINUE) {
        return status;
    }
    status = AW_EXIT_FAILURE;
    if (n > 0) {
        return aw_cli_usage_error("prune", "unexpected argument '%s'", argv[1]);
    }
    if (a.cut_ms == AW_TIME_NONE) {
        return aw_cli_usage_error("prune", "--older-than is required");
    }
    if (aw_cli_open_store(cli, AW_STORE_EXCLUSIVE, &store) != AW_OK) {
        goto out;
    }
    aw_time_format_iso(a.cut_ms, iso);
    if (aw_store_prune_ex(store, a.cut_ms, AW_PRUNE_CONVERT, &deleted, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    aw_text_printf(stdout, "pruned %" PRIu64 " finding%s recorded before %s\n", deleted, deleted == 1 ? "" : "s",
           iso);
    status = fflush(stdout) == 0 ? AW_EXIT_OK : AW_EXIT_FAILURE;
out:
    aw_store_close(&store);
    return status;
}
