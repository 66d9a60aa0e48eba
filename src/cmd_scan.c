/*
 * agentwatch scan: classify log files and store the findings (see scan.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/config.h"
#include "agentwatch/record.h"
#include "agentwatch/rules.h"
#include "agentwatch/scan.h"
#include "agentwatch/store.h"
#include "cli_internal.h"

const char aw_scan_usage[] =
    "Usage: agentwatch [--db PATH] scan [options] [PATH...]\n"
    "\n"
    "Read the log files PATH stands for, classify every record not read before\n"
    "with the rule set, and store the findings.  PATH may be an active log\n"
    "(agent.log: its rollovers agent1.log ... agentN.log in the same folder are\n"
    "read too, oldest content first), a single rollover, or a folder.\n"
    "Running scan again reads only what was added since.\n"
    "\n"
    "Without PATH, it scans the sources of the configuration file (see\n"
    "'agentwatch --help'), which also gives the defaults of --rules (after\n"
    "$AGENTWATCH_RULES) and --host; options override it.\n"
    "\n"
    "Options:\n"
    "  --rules PATH       rule file or folder (default: $AGENTWATCH_RULES, else\n"
    "                     " AW_RULES_DIR ")\n"
    "  --format FORMAT    auto (default), itms, cmtrace or line\n"
    "  --host NAME        attribute findings to NAME (default: the configuration's\n"
    "                     host, else the record's host, else this machine's name)\n"
    "  --max-record BYTES longest record kept for matching (default 65536)\n"
    "  --quiet            print nothing on success\n"
    "  --db PATH          database file (also accepted before the command)\n"
    "  -h, --help         show this help\n";

struct scan_print {
    bool quiet;
};

static void print_file(void *ctx, const struct aw_scan_file_stats *st)
{
    const struct scan_print *p = ctx;

    if (p->quiet) {
        return;
    }
    printf("%s: %s %s, bytes %llu-%llu%s: %llu records, %llu new findings", st->path, st->format,
           st->encoding, (unsigned long long)st->from, (unsigned long long)st->to,
           st->new_file ? " (new file)" : (st->replaced ? " (content replaced, reread)" : ""),
           (unsigned long long)st->records, (unsigned long long)st->findings);
    if (st->truncated > 0) {
        printf(", %llu truncated", (unsigned long long)st->truncated);
    }
    if (st->broken > 0) {
        printf(", %llu broken", (unsigned long long)st->broken);
    }
    if (st->skipped_bytes > 0) {
        printf(", %llu bytes skipped", (unsigned long long)st->skipped_bytes);
    }
    putchar('\n');
}

int aw_cmd_scan(struct aw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, OPT_RULES },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "host", required_argument, NULL, OPT_HOST },
        { "max-record", required_argument, NULL, OPT_MAX_RECORD },
        { "quiet", no_argument, NULL, OPT_QUIET },
        { "db", required_argument, NULL, OPT_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_scan_opts opts = { .format = AW_FORMAT_AUTO, .stop = cli->stop };
    struct scan_print print = { false };
    struct aw_scan_stats stats;
    struct aw_ruleset *rs = NULL;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    const char *rules_opt = NULL;
    char *const *paths;
    size_t npaths;
    bool format_given = false;
    int c, rc, status = AW_EXIT_FAILURE;

    if (cli->config != NULL) {
        opts.host = cli->config->host;
    }

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_RULES: rules_opt = optarg; break;
        case OPT_FORMAT:
            if (aw_format_from_name(optarg, &opts.format) != AW_OK) {
                return aw_cli_usage_error("scan", "invalid --format '%s': expected auto, itms, "
                                   "cmtrace or line", optarg);
            }
            format_given = true;
            break;
        case OPT_HOST:
            if (optarg[0] == '\0' || strlen(optarg) > 255) {
                return aw_cli_usage_error("scan", "invalid --host: expected 1 to 255 characters");
            }
            opts.host = optarg;
            break;
        case OPT_MAX_RECORD:
            if (aw_cli_parse_size(optarg, 256, 64u * 1024 * 1024, &opts.max_record) != AW_OK) {
                return aw_cli_usage_error("scan", "invalid --max-record '%s': expected a number of "
                                   "bytes from 256 to 67108864", optarg);
            }
            break;
        case OPT_QUIET: print.quiet = true; break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(aw_scan_usage, stdout); return AW_EXIT_OK;
        default: return aw_cli_bad_option("scan", argv, c);
        }
    }
    rc = aw_cli_paths(cli, "scan", argc - optind, argv + optind, format_given, &opts.format,
                      &paths, &npaths);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    opts.on_file = print_file;
    opts.ctx = &print;
    if (aw_cli_load_rules(aw_cli_rules_path(cli, rules_opt), &rs) != AW_OK || aw_cli_open_store(cli, AW_STORE_EXCLUSIVE, &store) != AW_OK) {
        goto out;
    }
    if (aw_scan_run(store, rs, paths, npaths, &opts, &stats, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    if (stats.interrupted) {
        fprintf(stderr, "agentwatch: scan interrupted; progress was saved, run scan again to "
                        "continue\n");
        goto out;
    }
    if (!print.quiet) {
        printf("scanned %zu file%s: %llu records, %llu new findings\n", stats.files,
               stats.files == 1 ? "" : "s", (unsigned long long)stats.records,
               (unsigned long long)stats.findings);
    }
    status = AW_EXIT_OK;
out:
    aw_store_close(&store);
    aw_rules_free(&rs);
    return status;
}

