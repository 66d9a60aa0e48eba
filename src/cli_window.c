/*
 * The window and filters of report and export (see cli_internal.h): their
 * options are the shared rows of cli_opt.h, so that --since, --until,
 * --category, --rule and --host take and reject the same values with the
 * same messages in both; this checks what the rows cannot, the window as a
 * whole.
 */

#include "agentwatch/query.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"
#include "cli_opt.h"

int aw_cli_parse_window(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                        void *args, const struct aw_query_filter *f)
{
    const char *cmd = spec->name;
    int nargs;
    int rc = aw_cli_parse(spec, cli, argc, argv, args, &nargs);

    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    if (nargs > 0) {
        return aw_cli_usage_error(cmd, "unexpected argument '%s'", argv[1]);
    }
    if (f->since_ms != AW_TIME_NONE && f->until_ms != AW_TIME_NONE && f->since_ms > f->until_ms) {
        return aw_cli_usage_error(cmd, "--since is after --until");
    }
    return AW_CLI_CONTINUE;
}
