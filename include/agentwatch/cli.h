/*
 * The command line: option parsing and the subcommands.
 *
 *     agentwatch [--db PATH] <command> [options]
 *     agentwatch scan   [--rules PATH] [--format auto|itms|cmtrace|line] [--host NAME] PATH...
 *     agentwatch report [--since WHEN] [--until WHEN] [--category C] [--format table|json|csv]
 *     agentwatch rules check [--rules PATH]
 *     agentwatch rules list  [--rules PATH] [--format table|tsv]
 *     agentwatch --help | --version, and agentwatch COMMAND --help
 *
 * This is a contract scripts depend on: options and exit codes only ever
 * grow compatibly.  Exit codes: 0 success, 1 failure (with one line
 * "agentwatch: ..." on stderr), 2 usage error.
 */
#ifndef AGENTWATCH_CLI_H
#define AGENTWATCH_CLI_H

#include <signal.h>

enum aw_exit {
    AW_EXIT_OK = 0,
    AW_EXIT_FAILURE = 1,
    AW_EXIT_USAGE = 2,
    /* scan finished, but some files were not read (each named on stderr):
     * not 3, which status uses for UNKNOWN */
    AW_EXIT_PARTIAL = 4
};

/* The process's signal state, written only by its signal handlers. */
struct aw_signals {
    volatile sig_atomic_t stop;     /* SIGINT/SIGTERM: finish cleanly */
    volatile sig_atomic_t reloads;  /* SIGHUPs received so far; readers
                                       compare, never reset, so a signal
                                       arriving meanwhile is never lost */
    const char *controls;           /* how an operator reloads and stops
                                       this process, for follow's start
                                       line; NULL: the POSIX signals */
};

/* Run the command line in argv; returns the process exit status.  Long
 * commands finish cleanly when signals->stop is set; follow reloads its
 * rules when signals->reloads changes. */
int aw_cli_main(int argc, char **argv, const struct aw_signals *signals);

/* The options of the Windows service (agentwatch service [--log FILE]
 * COMMAND [ARGS...]; argv[0] is "service"): *log gets --log's FILE, else
 * NULL; *first the index of COMMAND (argc when there is none).  Options
 * end at the first word that is none of the service's (--db goes on to
 * the command).  Returns -1 to go on, or with the help or the usage error
 * printed AW_EXIT_OK or AW_EXIT_USAGE. */
int aw_cli_service_args(int argc, char **argv, const char **log, int *first);

#endif
