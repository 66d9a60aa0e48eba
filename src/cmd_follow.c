/*
 * agentwatch follow: keep the findings of logs current until stopped
 * (see follow.h).
 *
 * Informational lines go to stdout, operator messages (reloads, errors
 * that are retried, data gaps) to stderr as "agentwatch: ...", so a
 * service manager's journal shows both and scripts can tell them apart.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw_config.h"
#include "agentwatch/autoprobe.h"
#include "agentwatch/config.h"
#include "agentwatch/follow.h"
#include "agentwatch/journal.h"
#include "agentwatch/notify.h"
#include "agentwatch/platform.h"
#include "agentwatch/record.h"
#include "agentwatch/retention.h"
#include "agentwatch/config.h"
#include "agentwatch/rules.h"
#include "agentwatch/spool.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "agentwatch/tz.h"
#include "agentwatch/text.h"
#include "cli_internal.h"
#include "cli_opt.h"

/* What the command line gives, preset from the configuration; format -1
 * until --format is given. */
struct follow_args {
    const char *rules;
    const char *local_rules;
    int format;
    const char *host;
    uint64_t max_record;
    uint64_t poll_ms;
    uint64_t rescan_s;
    uint64_t retention_days;
    const char *spool;
    const char *timezone;
    bool verbose;
    bool wait_source;
};

static const struct aw_opt follow_opts[] = {
    AW_OPT_ROW_RULES(struct follow_args),
    AW_OPT_ROW_LOCAL_RULES(struct follow_args),
    AW_OPT_ROW_LOG_FORMAT(struct follow_args),
    AW_OPT_ROW_HOST(struct follow_args),
    AW_OPT_ROW_MAX_RECORD(struct follow_args),
    { .name = "poll-interval", .kind = AW_OPT_UINT, .arg = "MS", .min = 50, .max = 3600000,
      .unit = "milliseconds", .offset = offsetof(struct follow_args, poll_ms),
      .help = "poll the folders every MS milliseconds instead of\n"
              "using change notifications (network file systems)" },
    { .name = "rescan", .kind = AW_OPT_UINT, .arg = "SECONDS", .min = 1, .max = 86400,
      .unit = "seconds", .offset = offsetof(struct follow_args, rescan_s),
      .help = "look even without a change notice (default 30)" },
    { .name = "retention-days", .kind = AW_OPT_UINT, .arg = "N", .min = 0, .max = 36500,
      .unit = "days", .offset = offsetof(struct follow_args, retention_days),
      .help = "delete findings older than N days, at start and\n"
              "hourly (default 90; 0 keeps everything)" },
    { .name = "spool", .kind = AW_OPT_TEXT, .arg = "DIR", .min = 1, .max = 4095,
      .offset = offsetof(struct follow_args, spool),
      .help = "also write every committed finding to\n"
              "DIR/agentwatch.ndjson (ECS, one per line, exactly once)\n"
              "for a log shipper; rotated by rename (default: the\n"
              "configuration's spool.path)" },
    AW_OPT_ROW_TIMEZONE(struct follow_args),
    { .name = "verbose", .kind = AW_OPT_FLAG, .offset = offsetof(struct follow_args, verbose),
      .help = "print a line per file each time it is read" },
    { .name = "wait-for-source", .kind = AW_OPT_FLAG,
      .offset = offsetof(struct follow_args, wait_source),
      .help = "without PATH and with no source configured, wait\n"
              "(not an error) until " AW_OS_RELOAD_LOWER " brings a configuration\n"
              "with sources, then follow them" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_follow_spec = AW_CLI_SPEC(
    "follow",
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
    "Options:\n",
    follow_opts,
    NULL
);

static void log_line(void *ctx, int priority, const char *line)
{
    (void)ctx;
    aw_text_printf(stderr, "%sagentwatch: %s\n", aw_journal_prefix(priority), line);
}

/* No source configured yet (a fresh installation): ready, idle and saying
 * so, until a reload brings a configuration with sources (loaded into
 * cfg, AW_EXIT_OK) or a stop (*stopped).  The service stays active rather
 * than failed, and starts following without a restart. */
static int wait_for_source(struct aw_cli *cli, struct aw_notify *notify, struct aw_config *cfg,
                           bool *stopped)
{
    const char *file = cli->config_path != NULL ? cli->config_path : AW_CONFIG_FILE;
    sig_atomic_t seen = cli->signals->reloads;
    struct aw_err err = { 0 };

    *stopped = false;
    aw_text_printf(stderr, "%sagentwatch: follow: no PATH and no sources in %s: waiting for a source "
            "(add one to sources:, then %s)\n", aw_journal_prefix(AW_PRIO_NOTICE), file,
            AW_OS_RELOAD_HOWTO);
    if (aw_notify_send(notify, &err, "READY=1\nSTATUS=waiting for a source: no sources in %s",
                       file) != AW_OK) {
        aw_text_printf(stderr, "%sagentwatch: %s\n", aw_journal_prefix(AW_PRIO_WARNING), err.msg);
    }
    while (cli->signals->stop == 0) {
        aw_notify_watchdog(notify, aw_time_now_ms());
        if (cli->signals->reloads != seen) {
            seen = cli->signals->reloads;
            memset(cfg, 0, sizeof(*cfg));
            if (aw_cli_load_config(cli, cfg, "follow") == AW_EXIT_OK && cfg->nsources > 0) {
                return AW_EXIT_OK;
            }
            aw_config_free(cfg);
            aw_text_printf(stderr, "%sagentwatch: follow: still no sources in %s: waiting\n",
                    aw_journal_prefix(AW_PRIO_NOTICE), file);
        }
        (void)aw_os_sleep_ms(1000);   /* a signal cuts it short */
    }
    *stopped = true;
    (void)aw_notify_send(notify, &err, "STOPPING=1");
    return AW_EXIT_OK;
}

/* --wait-for-source and nothing to follow yet: wait, then start over with
 * the new configuration, exactly as a restart would (its sources, rules,
 * host and intervals; the command line's options still win). */
static int wait_then_follow(struct aw_cli *cli, int argc, char **argv)
{
    const struct aw_config *before = cli->config;
    struct aw_notify notify;
    struct aw_config cfg;
    struct aw_err err = { 0 };
    bool stopped;
    int status;

    memset(&cfg, 0, sizeof(cfg));
    if (aw_notify_init(&notify, &err) != AW_OK) {
        return aw_cli_failure(&err);
    }
    status = wait_for_source(cli, &notify, &cfg, &stopped);
    aw_notify_free(&notify);
    if (status == AW_EXIT_OK && !stopped) {
        status = aw_cmd_follow(cli, argc, argv);
        aw_config_free(&cfg);
    }
    cli->config = before;
    return status;
}

static void print_file(void *ctx, const struct aw_scan_file_stats *st)
{
    const bool *verbose = ctx;

    if (*verbose && st->to > st->from) {
        aw_text_printf(stdout, "%s: bytes %llu-%llu: %llu record%s, %llu new finding%s\n", st->path,
               (unsigned long long)st->from, (unsigned long long)st->to,
               (unsigned long long)st->records, AW_PLURAL(st->records),
               (unsigned long long)st->findings, AW_PLURAL(st->findings));
        fflush(stdout);
    }
}

/* follow.probe_interval_seconds (on by default, 0: off): probes when
 * incidents start; where that cannot work (no probe engine), follow goes
 * on without, saying so. */
static void open_autoprobe(struct aw_cli *cli, struct aw_store *store, struct aw_autoprobe **ap)
{
    struct aw_err err = { 0 };
    unsigned interval = cli->config != NULL ? cli->config->probe_interval_s
                                            : AW_AUTOPROBE_INTERVAL_DEFAULT;

    if (interval == 0) {
        return;
    }
    if (aw_autoprobe_open(ap, store, cli->config_path, cli->allow_unsafe_dir, interval, log_line,
                          NULL, &err) != AW_OK) {
        aw_text_printf(stderr, "agentwatch: follow: no automatic probe: %s\n", err.msg);
        return;
    }
    aw_text_printf(stdout, "probing the server of each new incident, each at most every %u s\n",
                   interval);
}

/* The command line over the configuration's defaults into opts and a.
 * AW_CLI_CONTINUE to follow argv's *n operands, or an exit status: a usage
 * error, --help, or --wait-for-source's whole run (which parses the
 * arguments as given again once a source is configured). */
static int parse_follow(struct aw_cli *cli, int argc, char **argv, struct follow_args *a,
                        struct aw_follow_opts *opts, int *n)
{
    char **given = NULL;
    int rc;

    memset(opts, 0, sizeof(*opts));
    opts->format = AW_FORMAT_AUTO;
    opts->retention_days = AW_RETENTION_DAYS_DEFAULT;
    aw_cli_follow_defaults(cli, opts);   /* the configuration's; options override */
    a->host = opts->host;
    a->poll_ms = opts->poll_ms;
    a->rescan_s = opts->rescan_ms / 1000;
    a->retention_days = (uint64_t)opts->retention_days;
    /* The arguments as given: the parser moves the operands, and
     * --wait-for-source parses them again once a source is configured. */
    given = calloc((size_t)argc + 1, sizeof(char *));
    if (given == NULL) {
        aw_text_printf(stderr, "%sagentwatch: out of memory\n", aw_journal_prefix(AW_PRIO_ERR));
        return AW_EXIT_FAILURE;
    }
    memcpy(given, argv, (size_t)argc * sizeof(char *));
    a->spool = cli->config != NULL ? cli->config->spool_path : NULL;
    rc = aw_cli_parse(&aw_follow_spec, cli, argc, argv, a, n);
    if (rc == AW_CLI_CONTINUE && a->wait_source && *n == 0 &&
        (cli->config == NULL || cli->config->nsources == 0)) {
        rc = wait_then_follow(cli, argc, given);
    }
    free(given);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    if (a->format >= 0) {
        opts->format = (enum aw_format)a->format;
    }
    opts->host = a->host;
    opts->max_record = (size_t)a->max_record;
    opts->poll_ms = (unsigned)a->poll_ms;
    opts->rescan_ms = (unsigned)a->rescan_s * 1000;
    opts->retention_days = (int)a->retention_days;
    return AW_CLI_CONTINUE;
}

/* --spool DIR (or the configuration's spool.path): open the shipper's
 * spool on the store, say where it resumes, and hand it to follow. */
static int open_spool(struct aw_cli *cli, struct aw_store *store, const char *dir,
                      struct aw_follow_opts *opts, struct aw_spool **spool)
{
    struct aw_spool_opts spool_opts = { NULL, 0, 0, NULL, 0 };
    struct aw_spool_stats sps;
    struct aw_err err = { 0 };
    char *kill_after;

    spool_opts.dir = dir;
    spool_opts.max_size = cli->config != NULL ? cli->config->spool_max_size : 0;
    spool_opts.keep = cli->config != NULL ? cli->config->spool_keep : 0;
    spool_opts.host = opts->host;
    /* The crash test's kill point (tests/test_spool.c); undocumented
     * on purpose, never set in production. */
    kill_after = aw_os_getenv_dup("AGENTWATCH_TEST_SPOOL_KILL");
    if (kill_after != NULL) {
        spool_opts.test_kill_after = (unsigned)strtoul(kill_after, NULL, 10);
        free(kill_after);
    }
    if (aw_spool_open(spool, store, &spool_opts, &err) != AW_OK) {
        aw_cli_failure(&err);
        return AW_EXIT_FAILURE;
    }
    aw_spool_get_stats(*spool, &sps);
    aw_text_printf(stdout, "spool %s: file %lld at %llu bytes%s\n", spool_opts.dir, (long long)sps.sequence,
           (unsigned long long)sps.offset,
           sps.cut_bytes > 0 ? ", uncommitted tail cut back" : "");
    opts->spool = *spool;
    return AW_EXIT_OK;
}

/* The closing lines: what follow did, and what the spool wrote. */
static void print_stopped(const struct aw_follow_stats *stats, struct aw_spool *spool)
{
    struct aw_spool_stats sps;

    aw_text_printf(stdout, "stopped after %llu scan%s (%s): %llu record%s, %llu new finding%s, %llu data gap%s\n",
           (unsigned long long)stats->scans, AW_PLURAL(stats->scans),
           stats->mode == AW_WATCH_NOTIFY ? "change notifications" : "polling",
           (unsigned long long)stats->records, AW_PLURAL(stats->records),
           (unsigned long long)stats->findings, AW_PLURAL(stats->findings),
           (unsigned long long)stats->gaps, AW_PLURAL(stats->gaps));
    if (spool != NULL) {
        aw_spool_get_stats(spool, &sps);
        aw_text_printf(stdout, "spool: %llu findings written, %llu rotations, file %lld at %llu bytes\n",
               (unsigned long long)sps.written, (unsigned long long)sps.rotations,
               (long long)sps.sequence, (unsigned long long)sps.offset);
    }
}

int aw_cmd_follow(struct aw_cli *cli, int argc, char **argv)
{
    struct follow_args a = { .format = -1 };
    struct aw_follow_opts opts;
    struct aw_follow_stats stats;
    struct aw_ruleset *rs = NULL;
    struct aw_store *store = NULL;
    struct aw_spool *spool = NULL;
    struct aw_autoprobe *autoprobe = NULL;
    struct aw_err err = { 0 };
    struct aw_notify notify;
    struct aw_journal journal = { NULL };
    struct aw_cli_inputs in;
    int n, rc, status = AW_EXIT_FAILURE;

    rc = parse_follow(cli, argc, argv, &a, &opts, &n);
    if (rc != AW_CLI_CONTINUE) {
        return rc;
    }
    in = AW_CLI_INPUTS(a);
    /* Without PATHs, the configuration's sources (the service's case). */
    rc = aw_cli_inputs(cli, "follow", n, argv + 1, &opts.format, &in);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    opts.tz = in.tz;
    opts.rules_path = in.src.path;
    opts.local_rules_path = in.src.local;
    opts.rules_flags = in.src.flags;
    opts.stop = &cli->signals->stop;
    opts.reloads = &cli->signals->reloads;
    memset(&notify, 0, sizeof(notify));
    if (aw_notify_init(&notify, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    opts.notify = &notify;
    aw_journal_open(&journal);
    opts.journal = &journal;
    opts.log = log_line;
    opts.on_file = print_file;
    opts.ctx = &a.verbose;
    if (aw_cli_load_rules(&in.src, 0, &rs) != AW_OK ||
        aw_cli_open_store(cli, AW_STORE_EXCLUSIVE, &store) != AW_OK) {
        goto out;
    }
    open_autoprobe(cli, store, &autoprobe);
    opts.autoprobe = autoprobe;
    if (a.spool != NULL && open_spool(cli, store, a.spool, &opts, &spool) != AW_EXIT_OK) {
        goto out;
    }
    aw_text_printf(stdout, "following %zu path%s with %zu rules; %s\n", in.npaths, in.npaths == 1 ? "" : "s",
           aw_rules_count(rs),
           cli->signals->controls != NULL ? cli->signals->controls
                                          : "SIGHUP reloads the rules, SIGTERM stops");
    fflush(stdout);
    if (aw_follow_run(store, &rs, in.paths, in.npaths, &opts, &stats, &err) != AW_OK) {
        aw_cli_failure(&err);
        goto out;
    }
    print_stopped(&stats, spool);
    status = AW_EXIT_OK;
out:
    aw_autoprobe_close(&autoprobe);
    aw_spool_close(&spool);
    aw_notify_free(&notify);
    aw_journal_close(&journal);
    aw_store_close(&store);
    aw_rules_free(&rs);
    aw_tz_free(&in.tz);
    return status;
}
