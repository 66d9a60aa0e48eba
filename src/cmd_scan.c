/*
 * agentwatch scan: classify log files and store the findings (see scan.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/config.h"
#include "agentwatch/record.h"
#include "agentwatch/rules.h"
#include "agentwatch/scan.h"
#include "agentwatch/store.h"
#include "agentwatch/tz.h"
#include "agentwatch/text.h"
#include "cli_internal.h"
#include "cli_opt.h"

/* What the command line gives; format -1 until --format is given. */
struct scan_args {
    const char *rules;
    const char *local_rules;
    int format;
    const char *host;
    uint64_t max_record;
    const char *timezone;
    bool quiet;
};

static const struct aw_opt scan_opts[] = {
    AW_OPT_ROW_RULES(struct scan_args),
    AW_OPT_ROW_LOCAL_RULES(struct scan_args),
    AW_OPT_ROW_LOG_FORMAT(struct scan_args),
    AW_OPT_ROW_HOST(struct scan_args),
    AW_OPT_ROW_MAX_RECORD(struct scan_args),
    AW_OPT_ROW_TIMEZONE(struct scan_args),
    { .name = "quiet", .kind = AW_OPT_FLAG, .offset = offsetof(struct scan_args, quiet),
      .help = "print nothing on success" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_scan_spec = {
    "scan",
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
    "Options:\n",
    scan_opts,
    NULL
};

struct scan_print {
    bool quiet;
};

static void print_file(void *ctx, const struct aw_scan_file_stats *st)
{
    const struct scan_print *p = ctx;

    if (p->quiet) {
        return;
    }
    /* Nothing new since the last scan: the file was not even opened. */
    if (!st->new_file && !st->replaced && st->from == st->to && st->records == 0) {
        aw_text_printf(stdout, "%s: unchanged, %llu bytes read before\n", st->path, (unsigned long long)st->to);
        return;
    }
    aw_text_printf(stdout, "%s: %s %s, bytes %llu-%llu%s: %llu record%s, %llu new finding%s", st->path,
           st->format, st->encoding, (unsigned long long)st->from, (unsigned long long)st->to,
           st->new_file ? " (new file)" : (st->replaced ? " (content replaced, reread)" : ""),
           (unsigned long long)st->records, AW_PLURAL(st->records),
           (unsigned long long)st->findings, AW_PLURAL(st->findings));
    if (st->truncated > 0) {
        aw_text_printf(stdout, ", %llu truncated", (unsigned long long)st->truncated);
    }
    if (st->broken > 0) {
        aw_text_printf(stdout, ", %llu broken", (unsigned long long)st->broken);
    }
    if (st->skipped_bytes > 0) {
        aw_text_printf(stdout, ", %llu bytes skipped", (unsigned long long)st->skipped_bytes);
    }
    if (st->limit_hits > 0) {
        aw_text_printf(stdout, ", %llu not matched (match limit)", (unsigned long long)st->limit_hits);
    }
    putchar('\n');
}

/* Skipped files always (they change the exit status), resolved links
 * unless --quiet. */
static void print_notice(void *ctx, const char *line, bool skipped)
{
    const struct scan_print *p = ctx;

    if (skipped || !p->quiet) {
        aw_text_printf(stderr, "agentwatch: %s%s\n", skipped ? "warning: " : "note: ", line);
    }
}

/* One warning per rule a match limit stopped, also with --quiet: those
 * records may belong to the rule and are stored as AW_LIMIT_RULE
 * findings (a record a later rule matched is that rule's finding). */
static void print_limit_hits(const struct aw_ruleset *rs, const uint64_t *hits)
{
    for (size_t i = 0; i < aw_rules_count(rs); i++) {
        if (hits[i] > 0) {
            aw_text_printf(stderr, "agentwatch: warning: %llu record%s could not be matched by rule '%s'"
                           " (PCRE2 match limit)\n", (unsigned long long)hits[i], AW_PLURAL(hits[i]),
                           aw_rules_get(rs, i)->id);
        }
    }
}

int aw_cmd_scan(struct aw_cli *cli, int argc, char **argv)
{
    struct scan_args a = { .format = -1 };
    struct aw_scan_opts opts = { .format = AW_FORMAT_AUTO, .stop = cli->stop };
    struct scan_print print = { false };
    struct aw_scan_stats stats;
    struct aw_ruleset *rs = NULL;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    struct aw_tz *tz = NULL;
    struct aw_cli_rules src;
    char *const *paths;
    size_t npaths;
    int n, rc, status = AW_EXIT_FAILURE;

    if (cli->config != NULL) {
        a.host = cli->config->host;
    }
    rc = aw_cli_parse(&aw_scan_spec, cli, argc, argv, &a, &n);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    if (a.format >= 0) {
        opts.format = (enum aw_format)a.format;
    }
    opts.host = a.host;
    opts.max_record = (size_t)a.max_record;
    print.quiet = a.quiet;
    rc = aw_cli_paths(cli, "scan", n, argv + 1, a.format >= 0, &opts.format, &paths, &npaths);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    rc = aw_cli_rule_sources(cli, "scan", a.rules, a.local_rules, &src);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    rc = aw_cli_open_tz(cli, "scan", a.timezone, &tz);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    opts.tz = tz;
    opts.on_file = print_file;
    opts.on_notice = print_notice;
    opts.notice_ctx = &print;
    opts.ctx = &print;
    if (aw_cli_load_rules(&src, 0, &rs) != AW_OK ||
        aw_cli_open_store(cli, AW_STORE_EXCLUSIVE, &store) != AW_OK) {
        goto out;
    }
    opts.limit_hits = calloc(aw_rules_count(rs), sizeof(*opts.limit_hits));
    if (opts.limit_hits == NULL) {
        aw_err_set(&err, AW_ENOMEM, "scan: out of memory");
        aw_cli_failure(&err);
        goto out;
    }
    if (aw_scan_run(store, rs, paths, npaths, &opts, &stats, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    if (stats.interrupted) {
        aw_text_printf(stderr, "agentwatch: scan interrupted; progress was saved, run scan again to "
                        "continue\n");
        goto out;
    }
    if (!print.quiet) {
        aw_text_printf(stdout, "scanned %zu file%s: %llu record%s, %llu new finding%s\n", stats.files,
               AW_PLURAL(stats.files), (unsigned long long)stats.records,
               AW_PLURAL(stats.records), (unsigned long long)stats.findings,
               AW_PLURAL(stats.findings));
    }
    print_limit_hits(rs, opts.limit_hits);
    status = stats.skipped > 0 ? AW_EXIT_PARTIAL : AW_EXIT_OK;
out:
    free(opts.limit_hits);
    aw_store_close(&store);
    aw_rules_free(&rs);
    aw_tz_free(&tz);
    return status;
}

