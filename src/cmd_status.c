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
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agentwatch/query.h"
#include "agentwatch/store.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"

enum status_exit {
    STATUS_OK = 0,
    STATUS_WARNING = 1,
    STATUS_CRITICAL = 2,
    STATUS_UNKNOWN = 3
};

#define STATUS_WARN_DEFAULT 0
#define STATUS_CRIT_DEFAULT 10

const char aw_status_usage[] =
    "Usage: agentwatch [--db PATH] status [--since WHEN] [--warn N] [--crit N]\n"
    "\n"
    "Print one line for a monitoring system and exit with its status:\n"
    "  0 OK        healthy, or at most N failures since the last success\n"
    "  1 WARNING   more than --warn failures since the last success marker\n"
    "  2 CRITICAL  more than --crit failures since the last success marker\n"
    "  3 UNKNOWN   no database, no finding in the window, or a usage error\n"
    "Without a success marker in the window, every failure in it counts.\n"
    "\n"
    "Options:\n"
    "  --since WHEN       only look at findings at or after WHEN (e.g. 24h)\n"
    "  --warn N           WARNING above N failures (default 0)\n"
    "  --crit N           CRITICAL above N failures (default 10)\n"
    "  --db PATH          database file (also accepted before the command)\n"
    "  -h, --help         show this help\n";

/* A usage problem: the usual one line on stderr, UNKNOWN for the monitor. */
static int status_usage(void)
{
    fputs("UNKNOWN: invalid command line (see 'agentwatch status --help')\n", stdout);
    return STATUS_UNKNOWN;
}

static int parse_threshold(const char *text, int64_t *out)
{
    size_t v;

    if (aw_cli_parse_size(text, 0, (size_t)INT32_MAX, &v) != AW_OK) {
        return AW_ESYNTAX;
    }
    *out = (int64_t)v;
    return AW_OK;
}

int aw_cmd_status(struct aw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "since", required_argument, NULL, OPT_SINCE },
        { "warn", required_argument, NULL, OPT_WARN },
        { "crit", required_argument, NULL, OPT_CRIT },
        { "db", required_argument, NULL, OPT_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_query_filter f = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL };
    struct aw_incidents recent = { 0 };
    struct aw_health_state st;
    struct aw_store *store = NULL;
    struct aw_query *q = NULL;
    struct aw_err err = { 0 };
    int64_t warn = STATUS_WARN_DEFAULT, crit = STATUS_CRIT_DEFAULT, n;
    char a[AW_TIME_ISO_MAX], b[AW_TIME_ISO_MAX], c[AW_TIME_ISO_MAX];
    int opt, status = STATUS_UNKNOWN;

    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_SINCE:
            if (aw_time_parse_when(optarg, aw_time_now_ms(), &f.since_ms, &err) != AW_OK) {
                aw_cli_usage_error("status", "--since: %s", err.msg);
                return status_usage();
            }
            break;
        case OPT_WARN:
        case OPT_CRIT:
            if (parse_threshold(optarg, opt == OPT_WARN ? &warn : &crit) != AW_OK) {
                aw_cli_usage_error("status", "invalid --%s '%s': expected a count of 0 or more",
                                   opt == OPT_WARN ? "warn" : "crit", optarg);
                return status_usage();
            }
            break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(aw_status_usage, stdout); return STATUS_OK;
        default:
            aw_cli_bad_option("status", argv, opt);
            return status_usage();
        }
    }
    if (optind < argc) {
        aw_cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
        return status_usage();
    }
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
        printf("UNKNOWN: no findings%s%s\n", a[0] ? " since " : " in the database", a);
        goto out;
    case AW_HEALTH_HEALTHY:
        status = STATUS_OK;
        printf("OK: healthy since %s, last success %s", a, c);
        break;
    case AW_HEALTH_FAILING:
    default:
        status = n > crit ? STATUS_CRITICAL : n > warn ? STATUS_WARNING : STATUS_OK;
        printf("%s: failing since %s, %" PRId64 " failure%s since %s%s (mostly ",
               status == STATUS_CRITICAL ? "CRITICAL" : status == STATUS_WARNING ? "WARNING"
                                                                                 : "OK",
               a, n, n == 1 ? "" : "s", c[0] ? "the last success at " : "no success marker", c);
        aw_text_terminal(stdout, st.category != NULL ? st.category : "", 40);
        printf("), last failure %s", b);
        break;
    }
    printf(" | failures=%" PRId64 ";%" PRId64 ";%" PRId64 ";0\n", n, warn, crit);
out:
    if (fflush(stdout) != 0) {
        status = STATUS_UNKNOWN;
    }
    aw_incidents_free(&recent);
    aw_query_close(&q);
    aw_store_close(&store);
    return status;
}
