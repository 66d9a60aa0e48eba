/*
 * What the command modules (src/cmd_*.c) share: the option numbers, the
 * per-invocation state, and the helpers that keep every command's errors
 * in the same one-line form.  Private to the cli; not installed.
 */
#ifndef AGENTWATCH_CLI_INTERNAL_H
#define AGENTWATCH_CLI_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "agentwatch/cli.h"
#include "agentwatch/err.h"
#include "agentwatch/record.h"
#include "agentwatch/rules.h"
#include "agentwatch/store.h"

/* Long-only options, shared so that one option has one number everywhere. */
enum {
    OPT_DB = 256,
    OPT_RULES,
    OPT_FORMAT,
    OPT_HOST,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_CATEGORY,
    OPT_MAX_RECORD,
    OPT_QUIET,
    OPT_NEXT          /* first free number for new options */
};

/* report, status, export, prune (issue 4). */
enum {
    OPT_BY = OPT_NEXT + 0,
    OPT_RULE = OPT_NEXT + 1,
    OPT_WARN = OPT_NEXT + 2,
    OPT_CRIT = OPT_NEXT + 3,
    OPT_OLDER_THAN = OPT_NEXT + 4,
    OPT_INCIDENTS = OPT_NEXT + 5
};

struct aw_config;
struct aw_follow_opts;
struct aw_query_filter;

struct aw_cli {
    const char *db;           /* --db, or NULL for the default */
    const volatile sig_atomic_t *stop;
    const struct aw_signals *signals;
    const char *config_path;  /* --config, or NULL for AW_CONFIG_FILE */
    const struct aw_config *config;  /* loaded before the command runs */
    char *env_db;             /* $AGENTWATCH_DB, $AGENTWATCH_RULES (UTF-8,
                                 owned; NULL when unset or empty) */
    char *env_rules;
};

struct aw_command {
    const char *name;
    const char *summary;
    const char *usage;        /* full --help text */
    int (*run)(struct aw_cli *cli, int argc, char **argv);
};

/* Print "agentwatch: [cmd: ]message (see 'agentwatch [cmd ]--help')" and
 * return AW_EXIT_USAGE. */
int aw_cli_usage_error(const char *cmd, const char *fmt, ...) AW_PRINTF(2, 3);

/* Print "agentwatch: <err>" and return AW_EXIT_FAILURE. */
int aw_cli_failure(const struct aw_err *err);

/* Report an option getopt_long rejected (opterr is off); AW_EXIT_USAGE. */
int aw_cli_bad_option(const char *cmd, char **argv, int c);

/* A decimal size in [min, max]; AW_ESYNTAX otherwise. */
int aw_cli_parse_size(const char *text, size_t min, size_t max, size_t *out);

/* --rules, else $AGENTWATCH_RULES, else the configuration's rules, else
 * the installed rules folder. */
const char *aw_cli_rules_path(const struct aw_cli *cli, const char *opt);

/* Load a rule set, printing every problem; returns the status. */
int aw_cli_load_rules(const char *path, struct aw_ruleset **rs);

/* The same with AW_RULES_LOAD_* flags. */
int aw_cli_load_rules_ex(const char *path, unsigned flags, struct aw_ruleset **rs);

/* Open the database (--db, $AGENTWATCH_DB, the configuration's database
 * or the default), printing the error on failure; returns the status. */
int aw_cli_open_store(const struct aw_cli *cli, unsigned flags, struct aw_store **store);

/* follow's defaults from the configuration (host, retention, commit,
 * rescan and poll intervals), to be applied before the options. */
void aw_cli_follow_defaults(const struct aw_cli *cli, struct aw_follow_opts *opts);

/* The paths scan or follow (cmd) reads: its n operands, else the
 * configuration's sources (owned by the configuration) and, unless
 * format_given, their common format.  Returns AW_EXIT_OK, or with the
 * error printed AW_EXIT_USAGE (no operand, no source) or AW_EXIT_FAILURE
 * (sources of different formats). */
int aw_cli_paths(const struct aw_cli *cli, const char *cmd, int n, char **operands,
                 bool format_given, enum aw_format *format, char *const **paths,
                 size_t *npaths);

/* The options of the commands that read findings back (report, export):
 * their getopt_long entries, to open a longopts table with. */
#define AW_CLI_WINDOW_LONGOPTS \
    { "since", required_argument, NULL, OPT_SINCE }, \
    { "until", required_argument, NULL, OPT_UNTIL }, \
    { "category", required_argument, NULL, OPT_CATEGORY }, \
    { "rule", required_argument, NULL, OPT_RULE }, \
    { "host", required_argument, NULL, OPT_HOST }

/* Apply option c (from getopt_long, with optarg) of AW_CLI_WINDOW_LONGOPTS
 * to f, WHEN relative to now_ms; any other c is an option getopt_long
 * rejected.  Returns AW_EXIT_OK, or AW_EXIT_USAGE with the error printed. */
int aw_cli_window_option(const char *cmd, char **argv, int c, int64_t now_ms,
                         struct aw_query_filter *f);

/* After the options: no operand left, and --since not after --until.
 * Returns AW_EXIT_OK, or AW_EXIT_USAGE with the error printed. */
int aw_cli_window_check(const char *cmd, int argc, char **argv,
                        const struct aw_query_filter *f);

extern const char aw_scan_usage[];
extern const char aw_report_usage[];
extern const char aw_rules_usage[];
extern const char aw_status_usage[];
extern const char aw_export_usage[];
extern const char aw_prune_usage[];
extern const char aw_follow_usage[];

int aw_cmd_scan(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_report(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_rules(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_status(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_export(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_prune(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_follow(struct aw_cli *cli, int argc, char **argv);

#endif
