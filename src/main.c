/*
 * Process entry point: installs the signal handlers and runs the command
 * line.  The handlers only touch the signal state (the process's one piece
 * of global mutable state); commands poll it and stop or reload at a
 * consistent point.  SIGHUP reloads follow's rules; the other commands
 * ignore it.
 *
 * On Windows there are no such signals: Ctrl-C, Ctrl-Break and closing the
 * console set the same stop flag (SetConsoleCtrlHandler), and a service
 * gets stop and reload from the service control manager instead
 * (`agentwatch service`, src/win_service.c).  Arguments are taken from the
 * UTF-16 command line and converted to UTF-8, the encoding of every string
 * inside agentwatch.
 */
#include <signal.h>
#include <string.h>

#include "agentwatch/cli.h"

static struct aw_signals aw_signals;

#ifndef _WIN32

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
    /* A file-size limit (ulimit -f) must not kill us without a word in
     * the middle of a write: ignored, the write fails with EFBIG, which is
     * reported like a full disk (src/store.c) and the transaction rolled
     * back, so nothing is lost. */
    signal(SIGXFSZ, SIG_IGN);
    return aw_cli_main(argc, argv, &aw_signals);
}

#else

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <shellapi.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

#include "agentwatch/platform.h"

/* Runs on a thread of its own; follow polls the flag at least once per
 * poll interval. */
static BOOL WINAPI on_console_event(DWORD type)
{
    switch (type) {
    case CTRL_C_EVENT:
        aw_signals.stop = SIGINT;
        return TRUE;
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        aw_signals.stop = SIGTERM;
        return TRUE;
    default:
        return FALSE;
    }
}

/* The command line as UTF-8 argv, in one allocation (pointers, then the
 * strings) that the caller frees; NULL on failure. */
static char **utf8_argv(int *argc_out)
{
    int argc = 0;
    wchar_t **wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
    char **argv = NULL;
    size_t bytes = 0;
    char *at;

    if (wargv == NULL) {
        return NULL;
    }
    for (int i = 0; i < argc; i++) {
        int n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
        if (n <= 0) {
            goto out;
        }
        bytes += (size_t)n;
    }
    argv = malloc((size_t)(argc + 1) * sizeof(char *) + bytes);
    if (argv == NULL) {
        goto out;
    }
    at = (char *)(argv + argc + 1);
    for (int i = 0; i < argc; i++) {
        int n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, at, (int)bytes, NULL, NULL);
        argv[i] = at;
        at += n;
        bytes -= (size_t)n;
    }
    argv[argc] = NULL;
    *argc_out = argc;
out:
    LocalFree(wargv);
    return argv;
}

int main(void)
{
    int argc = 0, rc;
    char **argv = utf8_argv(&argc);

    if (argv == NULL || argc < 1) {
        fputs("agentwatch: cannot read the command line\n", stderr);
        free(argv);
        return 1;
    }
    /* Output is UTF-8 and LF-terminated as on Linux, whatever the console
     * code page or the CRT's text mode would make of it. */
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    SetConsoleOutputCP(CP_UTF8);
    if (argc > 1 && strcmp(argv[1], "service") == 0) {
        /* A service has no console; the SCM sends stop and shutdown. */
        rc = aw_win_service_main(argc - 1, argv + 1, &aw_signals);
    } else {
        SetConsoleCtrlHandler(on_console_event, TRUE);
        aw_signals.controls = "Ctrl-C stops";
        rc = aw_cli_main(argc, argv, &aw_signals);
    }
    free(argv);
    return rc;
}

#endif
