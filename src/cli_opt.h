/*
 * Command-line options as data (in the spirit of curl's option table): one
 * table per command, one for the global options and one for the Windows
 * service (src/cli.c), one row per option.  A row says the option's exact
 * name, its short alias, the kind of value it takes and the range or words
 * allowed, its help line, and where the value lands (offsetof into the
 * command's argument struct, or into struct aw_cli for the global
 * options and --db).  Parsing, range checks, the usage messages and the
 * --help option list all come from the rows; tests/options_docs.py checks that the README and the man
 * page name the same options as --help.
 *
 * Adding an option is adding a row (and a field for it to land in), then
 * documenting it in README.md and docs/agentwatch.1: see docs/HACKING.md.
 *
 * Private to the cli (src/cli*.c, src/cmd_*.c); not installed.
 */
#ifndef AGENTWATCH_CLI_OPT_H
#define AGENTWATCH_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aw_config.h"
#include "agentwatch/platform.h"

struct aw_cli;

enum aw_opt_kind {
    AW_OPT_FLAG,      /* no value: the bool field becomes true */
    AW_OPT_STRING,    /* any value, kept as given: const char * (into argv) */
    AW_OPT_PATH,      /* a path, kept as given: const char *; an empty one
                         is a usage error, reported once the options are
                         read (aw_cli_check_paths()), not when met */
    AW_OPT_TEXT,      /* a value of min to max bytes: const char * */
    AW_OPT_UINT,      /* a decimal number from min to max: uint64_t */
    AW_OPT_WORD,      /* one of words: int, the word's value */
    AW_OPT_WHEN,      /* a duration back from now (90s, 24h, 7d, 2w) or an
                         ISO-8601 date or date-time: int64_t UTC ms */
    AW_OPT_HELP,      /* prints the command's help; the command exits 0 */
    AW_OPT_VERSION    /* prints "agentwatch VERSION"; exits 0 */
};

/* A word an AW_OPT_WORD option accepts, and the value it stands for. */
struct aw_opt_word {
    const char *word;
    int value;
};

/* Row flags. */
enum {
    AW_OPT_IN_CLI = 1,      /* the field is in struct aw_cli, not in the
                               command's argument struct */
    AW_OPT_NO_UPPER = 2,    /* UINT: the message says "of MIN or more" (the
                               maximum is a technical limit, not a rule) */
    AW_OPT_ANYWHERE = 4     /* a global option also accepted after the
                               command word (aw_cli_take()) */
};

struct aw_opt {
    const char *name;       /* long name without "--"; matched exactly */
    char alias;             /* short alias ('h'), or 0 */
    enum aw_opt_kind kind;
    const char *arg;        /* the value's name in help and docs ("PATH"),
                               NULL for FLAG and HELP */
    uint64_t min, max;      /* UINT: the range; TEXT: the length in bytes */
    const char *unit;       /* UINT: what the number is, for the message
                               ("seconds", "a number of bytes") */
    const struct aw_opt_word *words;   /* WORD: { NULL, 0 }-terminated */
    size_t offset;          /* offsetof() the field the value lands in */
    unsigned flags;         /* AW_OPT_IN_CLI, AW_OPT_NO_UPPER */
    const char *help;       /* help text; each '\n' starts a continuation
                               line, indented under the first; a text that
                               starts with '\n' starts under the name */
};

/* A command's options: the rows, framed by the help text around them. */
struct aw_cli_spec {
    const char *name;       /* the command, as usage messages name it */
    const char *usage;      /* --help text before the option list, ending
                               with "Options:\n" */
    const struct aw_opt *opts;   /* ends with a row whose name is NULL */
    const char *notes;      /* --help text after the option list, or NULL */
    int column;             /* where help texts start; 0: 21 */
    void (*usage_fn)(FILE *out);   /* prints what --help prints before the
                               option list, when usage is NULL (the
                               global help lists the commands) */
};

/* A command's spec: its name, the help before and after the option list
 * (NULL: none after), its rows. */
#define AW_CLI_SPEC(NAME, USAGE, OPTS, NOTES) \
    { .name = (NAME), .usage = USAGE, .opts = (OPTS), .notes = NOTES }

/* aw_cli_parse()'s result when the command is to run. */
#define AW_CLI_CONTINUE (-1)

/* Parse argv (argv[0] is the command word) by spec's rows into args (the
 * command's argument struct, fields preset to their defaults) and cli.
 * Options and operands may come in any order; "--" ends the options.  The
 * operands are moved, in order, to argv[1..*nargs].  A row's value is
 * checked when it is met, so the first problem is the one reported.
 * Returns AW_CLI_CONTINUE; or AW_EXIT_OK after printing the help (-h,
 * --help); or AW_EXIT_USAGE after printing the usage error. */
int aw_cli_parse(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                 void *args, int *nargs);

/* Parse the options that come before the first operand: the global
 * options, which end at the command word, and the Windows service's, which
 * end at the first word that is none of its rows (pass_on: that word and
 * the rest go to the command).  Short options stand alone ("-h", no
 * cluster); without pass_on, "-", "--" and any other word that starts with
 * '-' and is no row are unknown options.  *first gets the index of the
 * first word not taken (argc when none is left).  Values are checked as in
 * aw_cli_parse(), except PATH rows (aw_cli_check_paths()).  Returns
 * AW_CLI_CONTINUE, or AW_EXIT_OK / AW_EXIT_USAGE with the help, version or
 * error printed. */
int aw_cli_parse_leading(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                         void *args, bool pass_on, int *first);

/* The index of the first word after the leading options of spec (as
 * aw_cli_parse_leading() reads them, without checking them): a word that
 * starts with '-' is skipped, with the next one when it is a row that
 * takes a value. */
int aw_cli_skip_leading(const struct aw_cli_spec *spec, int argc, char **argv);

/* Take spec's AW_OPT_ANYWHERE rows ("--name", "--name VALUE",
 * "--name=VALUE") out of a command's arguments (argv[0] is the command,
 * which names the usage error; the words after "--" are left alone).
 * *argc becomes the count left.  Returns AW_CLI_CONTINUE or, with the
 * error printed, AW_EXIT_USAGE. */
int aw_cli_take(const struct aw_cli_spec *spec, struct aw_cli *cli, int *argc, char **argv,
                void *args);

/* An empty value of a PATH row of spec, other than the rows with a flag
 * in skip: "--NAME needs a non-empty path" printed, AW_EXIT_USAGE; else
 * AW_CLI_CONTINUE.  Rows are checked in their order. */
int aw_cli_check_paths(const struct aw_cli_spec *spec, const struct aw_cli *cli, const void *args,
                       unsigned skip);

/* Write spec's --help text: usage, the option list, notes. */
void aw_cli_help(FILE *out, const struct aw_cli_spec *spec);

/* The value of word in words; false when it is none of them. */
bool aw_cli_word(const struct aw_opt_word *words, const char *word, int *value);

/* Print "invalid --NAME 'VALUE': expected A, B or C" for command cmd and
 * return AW_EXIT_USAGE (for an option checked after parsing). */
int aw_cli_bad_word(const char *cmd, const char *name, const char *value,
                    const struct aw_opt_word *words);

/* The words of the options several commands share. */
extern const struct aw_opt_word aw_cli_log_formats[];     /* auto itms cmtrace line */

/* Rows several commands share.  T is the command's argument struct. */
#define AW_OPT_ROW_HELP \
    { .name = "help", .alias = 'h', .kind = AW_OPT_HELP, .help = "show this help" }
#define AW_OPT_ROW_DB \
    { .name = "db", .kind = AW_OPT_PATH, .arg = "PATH", .flags = AW_OPT_IN_CLI, \
      .offset = offsetof(struct aw_cli, db), \
      .help = "database file (also accepted before the command)" }
#define AW_OPT_ROW_RULES(T) \
    { .name = "rules", .kind = AW_OPT_STRING, .arg = "PATH", .offset = offsetof(T, rules), \
      .help = "rule file or folder (default: $AGENTWATCH_RULES, else\n" AW_RULES_DIR ")" }
#define AW_OPT_ROW_LOCAL_RULES(T) \
    { .name = "local-rules", .kind = AW_OPT_STRING, .arg = "PATH", .offset = offsetof(T, local_rules), \
      .help = "local rule file or folder, loaded after the rules\n" \
              "(default: the configuration's local_rules, else\n" AW_OS_LOCAL_RULES_TEXT ")" }
#define AW_OPT_ROW_LOG_FORMAT(T) \
    { .name = "format", .kind = AW_OPT_WORD, .arg = "FORMAT", .words = aw_cli_log_formats, \
      .offset = offsetof(T, format), .help = "auto (default), itms, cmtrace or line" }
#define AW_OPT_ROW_HOST(T) \
    { .name = "host", .kind = AW_OPT_TEXT, .arg = "NAME", .min = 1, .max = 255, \
      .offset = offsetof(T, host), \
      .help = "attribute findings to NAME (default: the configuration's\n" \
              "host, else the record's host, else this machine's name)" }
/* Checked after parsing by aw_cli_open_tz() (a zone is data, not a word). */
#define AW_OPT_ROW_TIMEZONE(T) \
    { .name = "timezone", .kind = AW_OPT_STRING, .arg = "ZONE", \
      .offset = offsetof(T, timezone), \
      .help = "zone of log times that carry no offset: an IANA name\n" \
              "(Europe/Berlin; on Windows only with $TZDIR) or an\n" \
              "offset (+01:00, UTC).  Default: the configuration's\n" \
              "timezone, else this machine's zone" }
#define AW_OPT_ROW_MAX_RECORD(T) \
    { .name = "max-record", .kind = AW_OPT_UINT, .arg = "BYTES", .min = 256, \
      .max = 64u * 1024 * 1024, .unit = "a number of bytes", .offset = offsetof(T, max_record), \
      .help = "longest record kept for matching (default 65536)" }

/* The window and filters of the commands that read findings back (report,
 * export): F names T's struct aw_query_filter field. */
#define AW_OPT_ROWS_WINDOW(T, F) \
    { .name = "since", .kind = AW_OPT_WHEN, .arg = "WHEN", .offset = offsetof(T, F.since_ms), \
      .help = "only findings at or after WHEN" }, \
    { .name = "until", .kind = AW_OPT_WHEN, .arg = "WHEN", .offset = offsetof(T, F.until_ms), \
      .help = "only findings at or before WHEN" }
#define AW_OPT_ROWS_FILTER(T, F) \
    { .name = "category", .kind = AW_OPT_STRING, .arg = "C", .offset = offsetof(T, F.category), \
      .help = "only findings of category C (ssl, connection, ...)" }, \
    { .name = "rule", .kind = AW_OPT_STRING, .arg = "ID", .offset = offsetof(T, F.rule), \
      .help = "only findings of rule ID" }, \
    { .name = "host", .kind = AW_OPT_STRING, .arg = "H", .offset = offsetof(T, F.host), \
      .help = "only findings from host H" }

/* What WHEN is, after the option list of report and export. */
#define AW_CLI_WHEN_NOTE \
    "\n" \
    "WHEN is a duration back from now (90s, 30m, 24h, 7d, 2w) or an ISO-8601\n" \
    "date or date-time (2025-03-11, 2025-03-11T08:00:00Z); without an offset\n" \
    "it is UTC.\n"

#endif
