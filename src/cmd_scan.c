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
      .help = "print nothing on success (also no progress, which\n"
              "is shown on a terminal only)" },
    AW_OPT_ROW_DB,
    AW_OPT_ROW_HELP,
    { .name = NULL }
};

const struct aw_cli_spec aw_scan_spec = AW_CLI_SPEC(
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
);

/* Progress goes to a terminal only (stderr): one line rewritten in place,
 * the first at once, then at most every PROGRESS_MS; it is wiped before
 * any other line is written and when the scan ends, so what stays on the
 * screen, and everything a pipe or a log gets, is the same as without it. */
#define PROGRESS_MS 500

struct scan_print {
    bool quiet;
    bool progress;            /* stderr is a terminal, no --quiet */
    bool shown;               /* a progress line is on the screen */
    bool started;
    int64_t start_ms, last_ms;
    uint64_t done0;           /* bytes done at the first report: what
                                 earlier scans read */
    size_t columns;           /* the terminal's width */
};

static void progress_init(struct scan_print *p, bool quiet)
{
    memset(p, 0, sizeof(*p));
    p->quiet = quiet;
    p->progress = !quiet && aw_os_isatty(2);
    p->columns = p->progress ? aw_os_terminal_columns(2) : 0;
    p->columns = p->columns >= 20 ? p->columns : 80;
}

static void progress_clear(struct scan_print *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->shown = false;
    }
}

static void human_bytes(uint64_t n, char *buf, size_t size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)n;
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* "scan: 12.3 MiB of 40.0 MiB (30%), 85000 records/s, ETA 12s"; the rates
 * once a second has passed, so the first figures are not noise. */
static void print_progress(void *ctx, const struct aw_scan_progress *pr)
{
    struct scan_print *p = ctx;
    int64_t now = aw_os_now_ms(), elapsed;
    char done[32], total[32], line[256];
    size_t len;

    if (!p->progress) {
        return;
    }
    if (!p->started) {
        p->started = true;
        p->start_ms = now;
        p->done0 = pr->done;
    } else if (now - p->last_ms < PROGRESS_MS) {
        return;
    }
    p->last_ms = now;
    elapsed = now - p->start_ms;
    human_bytes(pr->done, done, sizeof(done));
    human_bytes(pr->total, total, sizeof(total));
    len = (size_t)snprintf(line, sizeof(line), "scan: %s of %s (%u%%)", done, total,
                           pr->total > 0 ? (unsigned)(pr->done * 100 / pr->total) : 100u);
    if (elapsed >= 1000 && len < sizeof(line)) {
        uint64_t bps = (pr->done - (pr->done > p->done0 ? p->done0 : pr->done)) * 1000 / (uint64_t)elapsed;
        uint64_t left = bps > 0 ? (pr->total - pr->done) / bps : 0;

        len += (size_t)snprintf(line + len, sizeof(line) - len, ", %llu records/s",
                                (unsigned long long)(pr->records * 1000 / (uint64_t)elapsed));
        if (bps > 0 && left >= 60 && len < sizeof(line)) {
            snprintf(line + len, sizeof(line) - len, ", ETA %llum%02llus", (unsigned long long)(left / 60),
                     (unsigned long long)(left % 60));
        } else if (bps > 0 && len < sizeof(line)) {
            snprintf(line + len, sizeof(line) - len, ", ETA %llus", (unsigned long long)left);
        }
    }
    /* a line wider than the terminal would wrap and \r could not take it back */
    line[p->columns - 1 < sizeof(line) ? p->columns - 1 : sizeof(line) - 1] = '\0';
    fputc('\r', stderr);
    aw_text_printf(stderr, "%s", line);
    fputs("\033[K", stderr);
    fflush(stderr);
    p->shown = true;
}

static void print_file(void *ctx, const struct aw_scan_file_stats *st);
static void print_notice(void *ctx, const char *line, bool skipped);

/* Every line of a scan goes through print (files, notices, progress). */
static void set_printers(struct aw_scan_opts *opts, struct scan_print *print)
{
    opts->on_file = print_file;
    opts->ctx = print;
    opts->on_notice = print_notice;
    opts->notice_ctx = print;
    opts->on_progress = print_progress;
    opts->progress_ctx = print;
}

static void print_file(void *ctx, const struct aw_scan_file_stats *st)
{
    struct scan_print *p = ctx;

    if (p->quiet) {
        return;
    }
    progress_clear(p);
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
    struct scan_print *p = ctx;

    progress_clear(p);
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
    struct scan_print print;
    struct aw_scan_stats stats;
    struct aw_ruleset *rs = NULL;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    struct aw_cli_inputs in;
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
    progress_init(&print, a.quiet);
    in = AW_CLI_INPUTS(a);
    rc = aw_cli_inputs(cli, "scan", n, argv + 1, &opts.format, &in);
    if (rc != AW_EXIT_OK) {
        return rc;
    }
    opts.tz = in.tz;
    set_printers(&opts, &print);
    if (aw_cli_load_rules(&in.src, 0, &rs) != AW_OK ||
        aw_cli_open_store(cli, AW_STORE_EXCLUSIVE, &store) != AW_OK) {
        goto out;
    }
    opts.limit_hits = calloc(aw_rules_count(rs), sizeof(*opts.limit_hits));
    if (opts.limit_hits == NULL) {
        aw_err_set(&err, AW_ENOMEM, "scan: out of memory");
        aw_cli_failure(&err);
        goto out;
    }
    rc = aw_scan_run(store, rs, in.paths, in.npaths, &opts, &stats, &err);
    progress_clear(&print);
    if (rc != AW_OK) {
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
    aw_tz_free(&in.tz);
    return status;
}

