/*
 * Process entry point: installs the signal handlers and runs the command
 * line.  The handlers only touch the signal state (the process's one piece
 * of global mutable state); commands poll it and stop or reload at a
 * consistent point.  SIGHUP reloads follow's rules; the other commands
 * ignore it.
 */
#include <signal.h>
#include <string.h>

#include "agentwatch/cli.h"

static struct aw_signals aw_signals;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        aw_signals.reloads++;
    } else {
        aw_signals.stop = sig;
    }
}

int main(int argc, char **argv)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    /* Handlers do not interrupt each other, so the increment is safe. */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    return aw_cli_main(argc, argv, &aw_signals);
}
