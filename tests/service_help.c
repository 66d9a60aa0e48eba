/*
 * Prints the --help of the Windows service (`agentwatch service`), whose
 * option table (src/cli.c) is built on every platform while the command
 * is Windows-only: tests/options_docs.py compares it with the README and
 * the man page.
 */
#include <stddef.h>

#include "agentwatch/cli.h"

int main(void)
{
    char service[] = "service", help[] = "--help";
    char *argv[] = { service, help, NULL };
    const char *log;
    int first;

    return aw_cli_service_args(2, argv, &log, &first) == AW_EXIT_OK ? 0 : 1;
}
