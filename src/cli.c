/*
 * The command line (see cli.h).
 *
 * Commands are rows of a table; each parses its own options with
 * getopt_long and reports every usage problem as one line naming the
 * command, so a script's log says exactly what was wrong.  Only this
 * module prints; the modules below it return status and messages.
 */
#include "agentwatch/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw_config.h"
#include "agentwatch/record.h"
#include "agentwatch/report.h"
#include "agentwatch/rules.h"
#include "agentwatch/scan.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"

/* Long-only options. */
enum {
    OPT_DB = 256,
    OPT_RULES,
    OPT_FORMAT,
    OPT_HOST,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_CATEGORY,
    OPT_MAX_RECORD,
    OPT_QUIET
};

struct cli {
    const char *db;           /* --db, or NULL for the default */
    const volatile sig_atomic_t *stop;
};

struct command {
    const char *name;
    const char *summary;
    const char *usage;        /* full --help text */
    int (*run)(struct cli *cli, int argc, char **argv);
};

static int usage_error(const char *cmd, const char *fmt, ...) AW_PRINTF(2, 3);

static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("agentwatch: ", stderr);
    if (cmd != NULL) {
        fprintf(stderr, "%s: ", cmd);
    }
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'agentwatch %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    return AW_EXIT_USAGE;
}

static int failure(const struct aw_err *err)
{
    fprintf(stderr, "agentwatch: %s\n", err->msg[0] ? err->msg : aw_status_text(err->code));
    return AW_EXIT_FAILURE;
}

/* Report an option getopt_long rejected (opterr is off). */
static int bad_option(const char *cmd, char **argv, int c)
{
    const char *arg = argv[optind - 1];

    if (c == ':') {
        return usage_error(cmd, "option '%s' needs a value", arg);
    }
    if (optopt != 0 && optopt < 256) {
        return usage_error(cmd, "unknown option '-%c'", optopt);
    }
    return usage_error(cmd, "unknown option '%s'", arg);
}

/* mkdir -p for the directories above path, mode 0700. */
static int make_parent_dirs(const char *path, struct aw_err *err)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len >= sizeof(buf)) {
        return aw_err_set(err, AW_EIO, "%s: path too long", path);
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            return aw_err_set(err, AW_EIO, "%s: cannot create directory: %s", buf,
                              strerror(errno));
        }
        *p = '/';
    }
    return AW_OK;
}

/* The database path: --db, $AGENTWATCH_DB, or the platform default. */
static const char *db_path(const struct cli *cli, char *buf, size_t size, bool *is_default)
{
    const char *env = getenv("AGENTWATCH_DB");
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");

    *is_default = false;
    if (cli->db != NULL) {
        return cli->db;
    }
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    *is_default = true;
    if (geteuid() == 0) {
        return "/var/lib/agentwatch/agentwatch.db";
    }
    if (state != NULL && state[0] == '/') {
        snprintf(buf, size, "%s/agentwatch/agentwatch.db", state);
    } else if (home != NULL && home[0] != '\0') {
        snprintf(buf, size, "%s/.local/state/agentwatch/agentwatch.db", home);
    } else {
        snprintf(buf, size, "agentwatch.db");
    }
    return buf;
}

static const char *rules_path(const char *opt)
{
    const char *env = getenv("AGENTWATCH_RULES");

    if (opt != NULL) {
        return opt;
    }
    return env != NULL && env[0] != '\0' ? env : AW_RULES_DIR;
}

/* Load a rule set, printing every problem.  Returns AW_OK or the status. */
static int load_rules(const char *path, struct aw_ruleset **rs)
{
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    int rc = aw_rules_load(path, rs, &diags, &err);

    for (size_t i = 0; i < diags.count; i++) {
        fprintf(stderr, "%s\n", diags.items[i]);
    }
    if (rc != AW_OK) {
        if (rc == AW_ESYNTAX && diags.count > 0) {
            fprintf(stderr, "agentwatch: %s: %zu problem%s in the rule set\n", path, diags.count,
                    diags.count == 1 ? "" : "s");
        } else {
            failure(&err);
        }
    }
    aw_diags_free(&diags);
    return rc;
}

static int open_store(const struct cli *cli, unsigned flags, struct aw_store **store)
{
    char buf[PATH_MAX];
    bool is_default;
    const char *path = db_path(cli, buf, sizeof(buf), &is_default);
    struct aw_err err = { 0 };
    int rc = AW_OK;

    /* Only the default location is created on demand: an explicit path in
     * a directory that does not exist is more likely a typo. */
    if (is_default && !(flags & AW_STORE_READONLY)) {
        rc = make_parent_dirs(path, &err);
    }
    if (rc == AW_OK) {
        rc = aw_store_open(store, path, flags, &err);
    }
    if (rc != AW_OK) {
        failure(&err);
    }
    return rc;
}

/* ---- scan ---------------------------------------------------------- */

static const char scan_usage[] =
    "Usage: agentwatch [--db PATH] scan [options] PATH...\n"
    "\n"
    "Read the log files PATH stands for, classify every record not read before\n"
    "with the rule set, and store the findings.  PATH may be an active log\n"
    "(agent.log: its rollovers agent1.log ... agentN.log in the same folder are\n"
    "read too, oldest content first), a single rollover, or a folder.\n"
    "Running scan again reads only what was added since.\n"
    "\n"
    "Options:\n"
    "  --rules PATH       rule file or folder (default: $AGENTWATCH_RULES, else\n"
    "                     " AW_RULES_DIR ")\n"
    "  --format FORMAT    auto (default), itms, cmtrace or line\n"
    "  --host NAME        attribute findings to NAME (default: the record's host,\n"
    "                     else this machine's name)\n"
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

static int parse_size(const char *text, size_t min, size_t max, size_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min || v > max) {
        return AW_ESYNTAX;
    }
    *out = (size_t)v;
    return AW_OK;
}

static int cmd_scan(struct cli *cli, int argc, char **argv)
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
    int c, status = AW_EXIT_FAILURE;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_RULES: rules_opt = optarg; break;
        case OPT_FORMAT:
            if (aw_format_from_name(optarg, &opts.format) != AW_OK) {
                return usage_error("scan", "invalid --format '%s': expected auto, itms, "
                                   "cmtrace or line", optarg);
            }
            break;
        case OPT_HOST:
            if (optarg[0] == '\0' || strlen(optarg) > 255) {
                return usage_error("scan", "invalid --host: expected 1 to 255 characters");
            }
            opts.host = optarg;
            break;
        case OPT_MAX_RECORD:
            if (parse_size(optarg, 256, 64u * 1024 * 1024, &opts.max_record) != AW_OK) {
                return usage_error("scan", "invalid --max-record '%s': expected a number of "
                                   "bytes from 256 to 67108864", optarg);
            }
            break;
        case OPT_QUIET: print.quiet = true; break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(scan_usage, stdout); return AW_EXIT_OK;
        default: return bad_option("scan", argv, c);
        }
    }
    if (optind >= argc) {
        return usage_error("scan", "no PATH given");
    }
    opts.on_file = print_file;
    opts.ctx = &print;
    if (load_rules(rules_path(rules_opt), &rs) != AW_OK || open_store(cli, 0, &store) != AW_OK) {
        goto out;
    }
    if (aw_scan_run(store, rs, argv + optind, (size_t)(argc - optind), &opts, &stats, &err) !=
        AW_OK) {
        failure(&err);
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

/* ---- report -------------------------------------------------------- */

static const char report_usage[] =
    "Usage: agentwatch [--db PATH] report [options]\n"
    "\n"
    "Summarise the stored findings: per category and per rule, how many, first\n"
    "and last seen, and the probable cause and remedy of the top problems.\n"
    "\n"
    "Options:\n"
    "  --since WHEN       only findings at or after WHEN\n"
    "  --until WHEN       only findings at or before WHEN\n"
    "  --category C       only findings of category C (ssl, connection, ...)\n"
    "  --format FORMAT    table (default), json or csv\n"
    "  --db PATH          database file (also accepted before the command)\n"
    "  -h, --help         show this help\n"
    "\n"
    "WHEN is a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO-8601\n"
    "date or date-time (2025-03-11, 2025-03-11T08:00:00Z); without an offset\n"
    "it is UTC.\n";

static int cmd_report(struct cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "since", required_argument, NULL, OPT_SINCE },
        { "until", required_argument, NULL, OPT_UNTIL },
        { "category", required_argument, NULL, OPT_CATEGORY },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "db", required_argument, NULL, OPT_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_report_opts opts = { .filter = { AW_TIME_NONE, AW_TIME_NONE, NULL } };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    int64_t now = aw_time_now_ms();
    int c, status = AW_EXIT_FAILURE;

    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SINCE:
        case OPT_UNTIL:
            if (aw_time_parse_when(optarg, now, c == OPT_SINCE ? &opts.filter.since_ms
                                                               : &opts.filter.until_ms,
                                   &err) != AW_OK) {
                return usage_error("report", "--%s: %s", c == OPT_SINCE ? "since" : "until",
                                   err.msg);
            }
            break;
        case OPT_CATEGORY: opts.filter.category = optarg; break;
        case OPT_FORMAT:
            if (aw_report_format_from_name(optarg, &opts.format) != AW_OK) {
                return usage_error("report", "invalid --format '%s': expected table, json or "
                                   "csv", optarg);
            }
            break;
        case OPT_DB: cli->db = optarg; break;
        case 'h': fputs(report_usage, stdout); return AW_EXIT_OK;
        default: return bad_option("report", argv, c);
        }
    }
    if (optind < argc) {
        return usage_error("report", "unexpected argument '%s'", argv[optind]);
    }
    if (opts.filter.since_ms != AW_TIME_NONE && opts.filter.until_ms != AW_TIME_NONE &&
        opts.filter.since_ms > opts.filter.until_ms) {
        return usage_error("report", "--since is after --until");
    }
    if (open_store(cli, AW_STORE_READONLY, &store) != AW_OK) {
        goto out;
    }
    if (aw_report_run(store, &opts, stdout, &err) != AW_OK) {
        failure(&err);
        goto out;
    }
    status = AW_EXIT_OK;
out:
    aw_store_close(&store);
    return status;
}

/* ---- rules --------------------------------------------------------- */

static const char rules_usage[] =
    "Usage: agentwatch rules check [--rules PATH]\n"
    "       agentwatch rules list  [--rules PATH] [--format table|tsv]\n"
    "\n"
    "check  load and validate a rule set (YAML structure, fields, patterns,\n"
    "       examples); every problem is printed as FILE:LINE:COLUMN: message.\n"
    "       Exit 0 when valid, 1 when not.\n"
    "list   print the rules in the order they are tried: id, category,\n"
    "       severity and pattern.\n"
    "\n"
    "Options:\n"
    "  --rules PATH       rule file or folder (default: $AGENTWATCH_RULES, else\n"
    "                     " AW_RULES_DIR ")\n"
    "  --format FORMAT    list only: table (default) or tsv\n"
    "  -h, --help         show this help\n";

static void print_rules(const struct aw_ruleset *rs, bool tsv)
{
    size_t n = aw_rules_count(rs);

    if (!tsv) {
        printf("%-36s %-12s %-9s %s\n", "ID", "CATEGORY", "SEVERITY", "PATTERN");
    }
    for (size_t i = 0; i < n; i++) {
        const struct aw_rule_info *r = aw_rules_get(rs, i);
        printf(tsv ? "%s\t%s\t%s\t%s\n" : "%-36s %-12s %-9s %s\n", r->id, r->category,
               aw_rule_severity_name(r->severity), r->pattern);
    }
}

static int cmd_rules(struct cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, OPT_RULES },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct aw_ruleset *rs = NULL;
    const char *rules_opt = NULL, *action = NULL, *path;
    bool tsv = false, format_given = false;
    int c, status;

    (void)cli;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_RULES: rules_opt = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "tsv") != 0 && strcmp(optarg, "table") != 0) {
                return usage_error("rules", "invalid --format '%s': expected table or tsv",
                                   optarg);
            }
            tsv = strcmp(optarg, "tsv") == 0;
            format_given = true;
            break;
        case 'h': fputs(rules_usage, stdout); return AW_EXIT_OK;
        default: return bad_option("rules", argv, c);
        }
    }
    if (optind >= argc) {
        return usage_error("rules", "missing action: check or list");
    }
    action = argv[optind];
    if (strcmp(action, "check") != 0 && strcmp(action, "list") != 0) {
        return usage_error("rules", "unknown action '%s': expected check or list", action);
    }
    if (optind + 1 < argc) {
        return usage_error("rules", "unexpected argument '%s'", argv[optind + 1]);
    }
    if (format_given && strcmp(action, "list") != 0) {
        return usage_error("rules", "--format applies to 'rules list' only");
    }
    path = rules_path(rules_opt);
    if (load_rules(path, &rs) != AW_OK) {
        return AW_EXIT_FAILURE;
    }
    if (strcmp(action, "check") == 0) {
        size_t n = aw_rules_count(rs);
        printf("%s: %zu rule%s OK\n", path, n, n == 1 ? "" : "s");
    } else {
        print_rules(rs, tsv);
    }
    status = AW_EXIT_OK;
    aw_rules_free(&rs);
    return status;
}

/* ---- dispatch ------------------------------------------------------ */

static const struct command commands[] = {
    { "report", "summarise the stored findings", report_usage, cmd_report },
    { "rules", "check or list a rule set", rules_usage, cmd_rules },
    { "scan", "classify log files and store the findings", scan_usage, cmd_scan },
};

static void main_usage(FILE *out)
{
    fputs("Usage: agentwatch [--db PATH] <command> [options]\n"
          "\n"
          "Tells from an endpoint's management-agent logs whether and why it stopped\n"
          "talking to its management server.\n"
          "\n"
          "Commands:\n", out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n"
          "Options:\n"
          "  --db PATH      database file (default: $AGENTWATCH_DB, else\n"
          "                 /var/lib/agentwatch/agentwatch.db for root, else\n"
          "                 $XDG_STATE_HOME or ~/.local/state/agentwatch/agentwatch.db)\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n"
          "\n"
          "Exit status: 0 success, 1 failure, 2 usage error.\n"
          "Run 'agentwatch COMMAND --help' for the options of a command.\n", out);
}

int aw_cli_main(int argc, char **argv, const volatile sig_atomic_t *stop)
{
    struct cli cli = { NULL, stop };
    int i;

    opterr = 0;
    /* Global options end at the first word that is not one. */
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            main_usage(stdout);
            return AW_EXIT_OK;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            printf("agentwatch %s\n", AW_VERSION);
            return AW_EXIT_OK;
        } else if (strcmp(a, "--db") == 0) {
            if (i + 1 >= argc) {
                return usage_error(NULL, "option '--db' needs a value");
            }
            cli.db = argv[++i];
        } else if (strncmp(a, "--db=", 5) == 0) {
            cli.db = a + 5;
        } else {
            return usage_error(NULL, "unknown option '%s'", a);
        }
    }
    if (i >= argc) {
        main_usage(stderr);
        return AW_EXIT_USAGE;
    }
    if (cli.db != NULL && cli.db[0] == '\0') {
        return usage_error(NULL, "--db needs a non-empty path");
    }
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            /* GNU getopt: optind 0 re-initialises its state per command. */
            optind = 0;
            return commands[k].run(&cli, argc - i, argv + i);
        }
    }
    return usage_error(NULL, "unknown command '%s'", argv[i]);
}
