/*
 * agentwatch follow: keep the findings of logs current until stopped
 * (see follow.h).
 *
 * Informational lines go to stdout, operator messages (reloads, errors
 * that are retried, data gaps) to stderr as "agentwatch: ...", so a
 * service manager's journal shows both and scripts can tell them apart.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/follow.h"
#include "agentwatch/platform.h"
#include "agentwatch/record.h"
#include "agentwatch/retention.h"
#include "agentwatch/rules.h"
#include "agentwatch/store.h"
#include "cli_internal.h"

/* Options only follow has; numbered apart from the shared ones. */
enum {
    OPT_POLL = OPT_NEXT + 100,
    OPT_RESCAN,
    OPT_VERBOSE,
    OPT_RETENTION
};

const char aw_follow_usage[] =
    "Usage: agentwatch [--db PATH] follow [options] [PATH...]\n"
    "\n"
    "Follow the logs PATH stands for (as for scan: an active log and its\n"
    "rollovers, a single file, or a folder) until " AW_OS_STOP_TEXT ", then\n"
    "commit what was read and exit 0.  It first catches up with everything\n"
    "written since the stored positions, including content rotated into\n"
    "agentN.log meanwhile, then classifies new records as they are written\n"
    "(committed within a second).  " AW_OS_RELOAD_TEXT " reloads the rules; an invalid rule\n"
    "set is reported and the previous one kept.  Content rotated away or\n"
    "deleted before it was read is recorded as a finding of rule\n"
    "agentwatch.data-gap (category agentwatch).  Only one scan or follow may\n"
    "write to a database at a time; report can read it meanwhile.\n"
    "\n"
    "Without PATH, it follows the sources of the configuration file (see\n"
    "'agentwatch --help'), which also gives the defaults of --rules (after\n"
    "$AGENTWATCH_RULES), --host, --retention-days, --poll-interval and\n"
    "--rescan; options override it.\n"
    "\n"
    "Options:\n"
    "  --rules PATH          rule file or folder (default: $AGENTWATCH_RULES, else\n"
    "                        " AW_RULES_DIR ")\n"
    "  --format FORMAT       auto (default), itms, cmtrace or line\n"
    "  --host NAME           attribute findings to NAME\n"
    "  --max-record BYTES    longest record kept for matching (default 65536)\n"
    "  --poll-interval MS    poll the folders every MS milliseconds instead of\n"
    "                        using change notifications (network file systems)\n"
    "  --rescan SECONDS      look even without a change notice (default 30)\n"
    "  --retention-days N    delete findings older than N days, at start and\n"
    "                        hourly (default 90; 0 keeps everything)\n"
    "  --verbose             print a line per file each time it is read\n"
    "  --db PATH             database file (also accepted before the command)\n"
    "  -h, --help            show this help\n";

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "agentwatch: %s\n", line);
}

static void print_file(void *ctx, const struct aw_scan_file_stats *st)
{
    const bool *verbose = ctx;

    if (*verbose && st->to > st->from) {
        printf("%s: bytes %llu-%llu: %llu records, %llu new findings\n", st->path,
               (unsigned long long)st->from, (unsigned long long)st->to,
               (unsigned long long)st->records, (unsigned long long)st->findings);
        fflush(stdout);
    }
}

int aw_cmd_follow(struct aw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, OPT_RULES },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "host", required_argument, NULL, OPT_HOST },
        { "max-record", required_argument, NULL, OPT_MAX_RECORD },
        { "poll-interval", required_argument, NULL, OPT_POLL },
        { "rescan", required_argument, NULL, OPT_RESCAN },
        { "verbose", no_argument, NULL, OPT_VERBOSE },
        { "retention-days", required_argument, NULL, OPT_RETENTION },
        { "db", required_argument, NULL, OPT_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_follow_opts opts;
    struct aw_follow_stats stats;
    struct aw_ruleset *rs = NULL;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    const char *rules_opt = NULL;
    bool verbose = false, format_given = false;
    char *const *paths;
    size_t value, npaths;
    int c, rc, status = AW_EXIT_FAILURE;

    memset(&opts, 0, sizeof(opts));
    opts.format = AW_FORMAT_AUTO;
    opts.retention_days = AW_RETENTION_DAYS_DEFAULT;
    aw_cli_follow_defaults(cli, &opts);   /* the configuration's; options override */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_RULES: rules_opt = optarg; break;
        case OPT_FORMAT:
            format_given = true;
            if (aw_format_from_name(optarg, &opts.format) != AW_OK) {
                return aw_cli_usage_error("follow", "invalid --format '%s': expected auto, "
                                          "itms, cmtrace or line", optarg);
            }
            break;
        case OPT_HOST:
            if (optarg[0] == '\0' || strlen(optarg) > 255) {
                return aw_cli_usage_error("follow", "invalid --host: expected 1 to 255 "
                                          "characters");
            }
            opts.host = optarg;
            break;
        case OPT_MAX_RECORD:
            if (aw_cli_parse_size(optarg, 256, 64u * 1024 * 1024, &opts.max_record) != AW_OK) {
                return aw_cli_usage_error("follow", "invalid --max-record '%s': expected a "
                                          "number of bytes from 256 to 67108864", optarg);
            }
            break;
        case OPT_POLL:
            if (aw_cli_parse_size(optarg, 50, 3600000, &value) != AW_OK) {
                return aw_cli_usage_error("follow", "invalid --poll-interval '%s': expected "
                                          "milliseconds from 50 to 3600000", optarg);
            }
            opts.poll_ms = (unsigned)value;
            break;
        case OPT_RESCAN:
            if (aw_cli_parse_size(optarg, 1, 86400, &value) != AW_OK) {
                return aw_cli_usage_error("follow", "invalid --rescan '%s': expected seconds "
                                          "from 1 to 86400", optarg);
            }
            opts.rescan_ms = (unsigned)value * 1000;
            break;
        case OPT_VERBOSE: verbose = true; break;
        case OPT_RETENTION:
            if (aw_cli_parse_size(optarg, 0, 36500, &value) != AW_OK) {
                return aw_cli_usage_error("follow", "invalid --retention-days '%s': expected "
                                          "days from 0 to 36500", optarg);
            }
            opts.retention_days = (int)value;
            break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(aw_follow_usage, stdout); return AW_EXIT_OK;
        default: return aw_cli_bad_option("follow", argv, c);
        }
    }
    /* Without PATHs, the configuration's sources (the service's case). */
    rc = aw_cli_paths(cli, "follow", argc - optind, argv + optind, format_given, &opts.format,
                      &paths, &npaths);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    opts.rules_path = aw_cli_rules_path(cli, rules_opt);
    opts.stop = &cli->signals->stop;
    opts.reloads = &cli->signals->reloads;
    opts.log = log_line;
    opts.on_file = print_file;
    opts.ctx = &verbose;
    if (aw_cli_load_rules(opts.rules_path, &rs) != AW_OK ||
        aw_cli_open_store(cli, AW_STORE_EXCLUSIVE, &store) != AW_OK) {
        goto out;
    }
    printf("following %zu path%s with %zu rules; %s\n", npaths, npaths == 1 ? "" : "s",
           aw_rules_count(rs),
           cli->signals->controls != NULL ? cli->signals->controls
                                          : "SIGHUP reloads the rules, SIGTERM stops");
    fflush(stdout);
    if (aw_follow_run(store, &rs, paths, npaths, &opts, &stats, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    printf("stopped after %llu scans (%s): %llu records, %llu new findings, %llu data gaps\n",
           (unsigned long long)stats.scans,
           stats.mode == AW_WATCH_NOTIFY ? "change notifications" : "polling",
           (unsigned long long)stats.records, (unsigned long long)stats.findings,
           (unsigned long long)stats.gaps);
    status = AW_EXIT_OK;
out:
    aw_store_close(&store);
    aw_rules_free(&rs);
    return status;
}
