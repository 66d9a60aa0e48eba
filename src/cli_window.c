/*
 * The window and filters of report and export (see cli_internal.h): one
 * parser, so that --since, --until, --category, --rule and --host take and
 * reject the same values with the same messages in both.
 */
#include <getopt.h>

#include "agentwatch/query.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"

int aw_cli_window_option(const char *cmd, char **argv, int c, int64_t now_ms,
                         struct aw_query_filter *f)
{
    struct aw_err err = { 0 };

    switch (c) {
    case OPT_SINCE:
    case OPT_UNTIL:
        if (aw_time_parse_when(optarg, now_ms, c == OPT_SINCE ? &f->since_ms : &f->until_ms,
                               &err) != AW_OK) {
            return aw_cli_usage_error(cmd, "--%s: %s", c == OPT_SINCE ? "since" : "until",
                                      err.msg);
        }
        return AW_EXIT_OK;
    case OPT_CATEGORY: f->category = optarg; return AW_EXIT_OK;
    case OPT_RULE: f->rule = optarg; return AW_EXIT_OK;
    case OPT_HOST: f->host = optarg; return AW_EXIT_OK;
    default: return aw_cli_bad_option(cmd, argv, c);
    }
}

int aw_cli_window_check(const char *cmd, int argc, char **argv, const struct aw_query_filter *f)
{
    if (optind < argc) {
        return aw_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    if (f->since_ms != AW_TIME_NONE && f->until_ms != AW_TIME_NONE && f->since_ms > f->until_ms) {
        return aw_cli_usage_error(cmd, "--since is after --until");
    }
    return AW_EXIT_OK;
}
