/*
 * agentwatch status: one line and an exit code for monitoring systems, in
 * the convention of Nagios-style plugins (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN; "STATUS: text | perfdata" on stdout).
 *
 * What is counted: the failures since the last success marker in the
 * window (all failures in the window when there is no success marker) --
 * the "failures" of the current state in query.h.  A healthy endpoint
 * counts 0.  WARNING when the count is above --warn, CRITICAL when above
 * --crit, as with the thresholds of the monitoring plugins.  UNKNOWN when
 * there is no readable database or no finding at all in the window.
 * Usage errors exit 3 too: to a monitoring system, a broken check is
 * UNKNOWN, never CRITICAL.
 */
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agentwatch/query.h"
#include "agentwatch/store.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"
#include "cli_opt.h"

enum status_exit {
    STATUS_OK = 0,
    STATUS_WARNING = 1,
    STATUS_CRITICAL = 2,
    STATUS_UNKNOWN = 3
};

#define STATUS_WARN_DEFAULT 0
#define STATUS_CRIT_DEFAULT 10

/* What the command line gives. */
struct status_args {
    int64_t since_ms;
    uint64_t warn, crit;
};

static const struct aw_opt status_opts[] = {
    { .name = "since", .kind = AW_OPT_WHEN, .arg = "WHEN",
      .offset = offsetof(struct status_args, since_ms),
      .help = "only look at findings at or after WHEN (e.g. 24h)" },
    { .name = "warn", .alias = 'w', .kind = AW_OPT_UINT, .arg = "N", .min = 0, .max = INT32_MAX,
      .unit = "a count", .flags = AW_OPT_NO_UPPER, .offset = offsetof(struct status_args, warn),
      .help = "WARNING above N failures (default 0)" },
    { .name = "crit", .alias = 'c', .kind = AW_OPT_UINT, .arg = "N", .min = 0, .max = INT32_MAX,
      .unit = "a count", .flags = AW_OPT_NO_UPPER, .offset = offsetof(struct status_args, crit),
      .help = "CRITICAL above N failures (default 10)" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_status_spec = {
    "status",
    "Usage: agentwatch [--db PATH] status [--since WHEN] [--warn N] [--crit N]\n"
    "\n"
    "Print one line for a monitoring system and exit with its status:\n"
    "  0 OK        healthy, or at most N failures since the last success\n"
    "  1 WARNING   more than --warn failures since the last success marker\n"
    "  2 CRITICAL  more than --crit failures since the last success marker\n"
    "  3 UNKNOWN   no database, no finding in the window, or a usage error\n"
    "Without a success marker in the window, every failure in it counts.\n"
    "\n"
    "Options:\n",
    status_opts,
    NULL
};

/* A usage problem: the usual one line on stderr, UNKNOWN for the monitor. */
static int status_usage(void)
{
    fputs("UNKNOWN: invalid command line (see 'agentwatch status --help')\n", stdout);
    return STATUS_UNKNOWN;
}

int aw_cmd_status(struct aw_cli *cli, int argc, char **argv)
{
    struct status_args sa = { AW_TIME_NONE, STATUS_WARN_DEFAULT, STATUS_CRIT_DEFAULT };
    struct aw_query_filter f = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL };
    struct aw_incidents recent = { 0 };
    struct aw_health_state st;
    struct aw_store *store = NULL;
    struct aw_query *q = NULL;
    struct aw_err err = { 0 };
    int64_t warn, crit, n;
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX], c[AW_TIME_ISO_MAX];
    int nargs, rc, status = STATUS_UNKNOWN;

    rc = aw_cli_parse(&aw_status_spec, cli, argc, argv, &sa, &nargs);
    if (rc == AW_EXIT_USAGE) {
        return status_usage();
    }
    if (rc != AW_CLI_CONTINUE) {
        return STATUS_OK;     /* --help */
    }
    if (nargs > 0) {
        aw_cli_usage_error("status", "unexpected argument '%s'", argv[1]);
        return status_usage();
    }
    f.since_ms = sa.since_ms;
    warn = (int64_t)sa.warn;
    crit = (int64_t)sa.crit;
    if (aw_cli_open_store(cli, AW_STORE_READONLY, &store) != AW_OK) {
        fputs("UNKNOWN: no readable agentwatch database (see stderr)\n", stdout);
        goto out;
    }
    if (aw_query_open(&q, store, &f, &err) != AW_OK ||
        aw_query_incidents(q, 1, &recent, &err) != AW_OK ||
        aw_query_state(q, &recent, &st, &err) != AW_OK) {
        aw_cli_failure(&err);
        fputs("UNKNOWN: cannot query the database (see stderr)\n", stdout);
        goto out;
    }
    aw_time_format_short(st.since_ms, a);
    aw_time_format_short(st.last_failure_ms, b);
    aw_time_format_short(st.last_success_ms, c);
    n = st.health == AW_HEALTH_FAILING ? st.failures : 0;
    switch (st.health) {
    case AW_HEALTH_UNKNOWN:
        aw_time_format_short(f.since_ms, a);
        aw_text_printf(stdout, "UNKNOWN: no findings%s%s\n", a[0] ? " since " : " in the database", a);
        goto out;
    case AW_HEALTH_HEALTHY:
        status = STATUS_OK;
        aw_text_printf(stdout, "OK: healthy since %s, last success %s", a, c);
        break;
    case AW_HEALTH_FAILING:
    default:
        status = n > crit ? STATUS_CRITICAL : n > warn ? STATUS_WARNING : STATUS_OK;
        aw_text_printf(stdout, "%s: failing since %s, %" PRId64 " failure%s since %s%s (mostly ",
               status == STATUS_CRITICAL ? "CRITICAL" : status == STATUS_WARNING ? "WARNING"
                                                                                 : "OK",
               a, n, n == 1 ? "" : "s", c[0] ? "the last success at " : "no success marker", c);
        aw_text_terminal(stdout, st.category != NULL ? st.category : "", 40);
        aw_text_printf(stdout, "), last failure %s", b);
        break;
    }
    aw_text_printf(stdout, " | failures=%" PRId64 ";%" PRId64 ";%" PRId64 ";0\n", n, warn, crit);
out:
    if (fflush(stdout) != 0) {
        status = STATUS_UNKNOWN;
    }
    aw_incidents_free(&recent);
    aw_query_close(&q);
    aw_store_close(&store);
    return status;
}
