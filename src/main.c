/*
 * Process entry point: installs the signal handlers and runs the command
 * line.  The handler only sets a flag (the process's one piece of global
 * mutable state); commands poll it and stop at a consistent point.
 */
#include <signal.h>
#include <string.h>

#include "agentwatch/cli.h"

static volatile sig_atomic_t aw_stop;

static void on_signal(int sig)
{
    aw_stop = sig;
}

int main(int argc, char **argv)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return aw_cli_main(argc, argv, &aw_stop);
}
