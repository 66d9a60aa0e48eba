/*
 * What the command modules (src/cmd_*.c) share: the option numbers, the
 * per-invocation state, and the helpers that keep every command's errors
 * in the same one-line form.  Private to the cli; not installed.
 */
#ifndef AGENTWATCH_CLI_INTERNAL_H
#define AGENTWATCH_CLI_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include "agentwatch/cli.h"
#include "agentwatch/err.h"
#include "agentwatch/record.h"
#include "agentwatch/rules.h"
#include "agentwatch/store.h"
#include "agentwatch/text.h"

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
    char **paths;             /* aw_cli_paths()'s absolute paths (owned,
                                 freed when the command returns) */
    size_t npaths;
    char *env_tz;             /* $TZ (UTF-8, owned; NULL when unset or
                                 empty): the system zone on POSIX */
    bool allow_unsafe_dir;    /* --allow-unsafe-dir: write a database in a
                                 folder others may write to */
    FILE *capture;            /* status --format intune: where stderr goes
                                 (owned; NULL: stderr is stderr) */
    bool answered;            /* the command wrote its own answer on stdout */
};

struct aw_cli_spec;

struct aw_command {
    const char *name;
    const char *summary;
    const struct aw_cli_spec *spec;   /* its options and --help (cli_opt.h) */
    int (*run)(struct aw_cli *cli, int argc, char **argv);
};

/* Print "agentwatch: [cmd: ]message (see 'agentwatch [cmd ]--help')" and
 * return AW_EXIT_USAGE. */
int aw_cli_usage_error(const char *cmd, const char *fmt, ...) AW_PRINTF(2, 3);

/* Print "agentwatch: <err>" and return AW_EXIT_FAILURE. */
int aw_cli_failure(const struct aw_err *err);

/* When stderr is captured (status --format intune, which must never write
 * there): the first line written to it so far, without the "agentwatch: "
 * prefix, into buf; false when nothing was captured or nothing written. */
bool aw_cli_captured(const struct aw_cli *cli, char *buf, size_t size);

/* --rules, else $AGENTWATCH_RULES, else the configuration's rules, else
 * the installed rules folder. */
const char *aw_cli_rules_path(const struct aw_cli *cli, const char *opt);

/* Where a command's rules come from: the shipped set and the local layer
 * (aw_rules_load_layers()). */
struct aw_cli_rules {
    const char *path;         /* aw_cli_rules_path() */
    const char *local;        /* --local-rules, else the configuration's
                                 local_rules, else the default folder */
    unsigned flags;           /* AW_RULES_LOAD_LOCAL_OPTIONAL for the
                                 default folder, which may be missing */
    char buf[1024];           /* the default folder's path, on Windows */
};

/* Fill src from --rules (opt) and --local-rules (local_opt).  A local path
 * the user named (option or configuration) that does not exist is a usage
 * error of cmd.  Returns AW_EXIT_OK or the exit status (2). */
int aw_cli_rule_sources(const struct aw_cli *cli, const char *cmd, const char *opt, const char *local_opt,
                        struct aw_cli_rules *src);

/* Load both layers with AW_RULES_LOAD_* flags, printing every problem;
 * returns the status. */
int aw_cli_load_rules(const struct aw_cli_rules *src, unsigned flags, struct aw_ruleset **rs);

/* Open the database (--db, $AGENTWATCH_DB, the configuration's database
 * or the default), printing the error on failure; returns the status. */
int aw_cli_open_store(const struct aw_cli *cli, unsigned flags, struct aw_store **store);

/* The same without printing a failure: *err says it. */
int aw_cli_open_store_err(const struct aw_cli *cli, unsigned flags, struct aw_store **store,
                          struct aw_err *err);

/* Load the configuration file (--config, else the default) into cfg,
 * printing every problem, and make it cli->config.  AW_EXIT_OK, else the
 * exit status (status's 3, every other command's 1). */
int aw_cli_load_config(struct aw_cli *cli, struct aw_config *cfg, const char *cmd);
/* The zone of record times without an offset (cmd's --timezone opt, else
 * the configuration's timezone, else the machine's zone).  Returns
 * AW_EXIT_OK, or with the error printed AW_EXIT_USAGE (an unknown
 * --timezone) or AW_EXIT_FAILURE.  The caller frees *tz. */
struct aw_tz;
int aw_cli_open_tz(const struct aw_cli *cli, const char *cmd, const char *opt,
                   struct aw_tz **tz);

/* follow's defaults from the configuration (host, retention, commit,
 * rescan and poll intervals), to be applied before the options. */
void aw_cli_follow_defaults(const struct aw_cli *cli, struct aw_follow_opts *opts);

/* The paths scan or follow (cmd) reads: its n operands, else the
 * configuration's sources and, unless format_given, their common format;
 * each made absolute and without repeated separators
 * (aw_os_path_absolute), owned by cli.  Returns AW_EXIT_OK, or with the
 * error printed AW_EXIT_USAGE (no operand, no source) or AW_EXIT_FAILURE
 * (sources of different formats). */
int aw_cli_paths(struct aw_cli *cli, const char *cmd, int n, char **operands,
                 bool format_given, enum aw_format *format, char *const **paths,
                 size_t *npaths);

/* What scan and follow read with.  In: their --format (-1 when not given),
 * --rules, --local-rules and --timezone (NULL when not given).  Out, from
 * aw_cli_inputs(): the paths (aw_cli_paths(), owned by cli), the rule
 * sources (aw_cli_rule_sources()) and the zone (aw_cli_open_tz(), the
 * caller frees it; NULL unless AW_EXIT_OK). */
struct aw_cli_inputs {
    int format;
    const char *rules, *local_rules, *timezone;
    char *const *paths;
    size_t npaths;
    struct aw_cli_rules src;
    struct aw_tz *tz;
};

/* Fill in's outputs for cmd from its n operands; *format gets the
 * sources' common format when there are no operands and no --format.
 * Returns AW_EXIT_OK, or the exit status with the error printed. */
int aw_cli_inputs(struct aw_cli *cli, const char *cmd, int n, char **operands,
                  enum aw_format *format, struct aw_cli_inputs *in);

/* The inputs of an args struct a with fields format, rules, local_rules
 * and timezone (scan's and follow's). */
#define AW_CLI_INPUTS(a) ((struct aw_cli_inputs){ .format = (a).format, .rules = (a).rules, \
                          .local_rules = (a).local_rules, .timezone = (a).timezone })

/* aw_cli_parse() for report and export, whose args hold the window
 * filter f; then no operand, and --since not after --until.  Returns
 * AW_CLI_CONTINUE, or the exit code with the help or error printed. */
struct aw_cli_spec;
int aw_cli_parse_window(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                        void *args, const struct aw_query_filter *f);

extern const struct aw_cli_spec aw_scan_spec;
extern const struct aw_cli_spec aw_report_spec;
extern const struct aw_cli_spec aw_rules_spec;
extern const struct aw_cli_spec aw_status_spec;
extern const struct aw_cli_spec aw_export_spec;
extern const struct aw_cli_spec aw_prune_spec;
extern const struct aw_cli_spec aw_follow_spec;
extern const struct aw_cli_spec aw_probe_spec;

int aw_cmd_scan(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_report(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_rules(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_status(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_export(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_prune(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_follow(struct aw_cli *cli, int argc, char **argv);
int aw_cmd_probe(struct aw_cli *cli, int argc, char **argv);

#endif
