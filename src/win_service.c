/*
 * The Windows service entry point (Windows builds only; see platform.h).
 *
 *   agentwatch service [--log FILE] [--db PATH] COMMAND [ARGS...]
 *
 * A console program cannot be a service: the service control manager (SCM)
 * waits for the process to connect with StartServiceCtrlDispatcherW and
 * kills it otherwise.  So install.ps1 registers
 *   "...\agentwatch.exe" service --log ...\agentwatch.log --db ... follow ...
 * and this module connects to the SCM, reports the service running, and
 * runs the rest of the command line (normally `follow`) through the same
 * cli as a console run.  Controls map onto the process's signal state, the
 * way the console handler and the POSIX signal handlers do:
 *   STOP, SHUTDOWN -> stop (follow commits and returns; then STOPPED)
 *   PARAMCHANGE    -> reloads (the SIGHUP of Linux: reload the rules)
 * The command's exit status becomes the service-specific exit code.
 *
 * A service has no console: --log FILE appends stdout and stderr (follow's
 * start and summary lines, reloads, data gaps, errors) to FILE.
 */
#include "agentwatch/platform.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/cli.h"

#define SERVICE_NAME_DEFAULT L"agentwatch"

struct service {
    int argc;                          /* the command line to run */
    char **argv;
    struct aw_signals *signals;
    SERVICE_STATUS_HANDLE handle;
    SERVICE_STATUS status;
};

/* ServiceMain gets no context argument from the dispatcher, so the one
 * service of this process is found here.  Set once before the dispatcher
 * starts; only the service thread and the control handler use it. */
static struct service *the_service;

static void report(struct service *s, DWORD state, DWORD exit_code)
{
    s->status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    s->status.dwCurrentState = state;
    s->status.dwControlsAccepted = state == SERVICE_RUNNING
        ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE : 0;
    s->status.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    s->status.dwServiceSpecificExitCode = exit_code;
    /* follow commits its last batch within its commit interval */
    s->status.dwWaitHint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : 10000;
    s->status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED
        ? 0 : s->status.dwCheckPoint + 1;
    SetServiceStatus(s->handle, &s->status);
}

static DWORD WINAPI on_control(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
    struct service *s = ctx;

    (void)type;
    (void)data;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        report(s, SERVICE_STOP_PENDING, 0);
        s->signals->stop = SIGTERM;
        return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
        /* The dispatcher thread runs controls one at a time: no lost
         * increment. */
        s->signals->reloads++;
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

/* The command runs on a thread of its own with the stack a console run
 * has on its main thread: the thread the dispatcher gives ServiceMain
 * may be smaller, and the readers keep their buffers on the stack. */
#define COMMAND_STACK ((SIZE_T)8 << 20)

static DWORD WINAPI run_command(LPVOID ctx)
{
    struct service *s = ctx;

    return (DWORD)aw_cli_main(s->argc, s->argv, s->signals);
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    struct service *s = the_service;
    HANDLE thread;
    DWORD code = AW_EXIT_FAILURE;

    s->handle = RegisterServiceCtrlHandlerExW(argc > 0 ? argv[0] : SERVICE_NAME_DEFAULT,
                                              on_control, s);
    if (s->handle == NULL) {
        return;
    }
    report(s, SERVICE_START_PENDING, 0);
    report(s, SERVICE_RUNNING, 0);
    thread = CreateThread(NULL, COMMAND_STACK, run_command, s,
                          STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    if (thread != NULL) {
        WaitForSingleObject(thread, INFINITE);
        GetExitCodeThread(thread, &code);
        CloseHandle(thread);
    }
    fflush(stdout);
    fflush(stderr);
    report(s, SERVICE_STOPPED, code);
}

/* Point stream at the open descriptor fd.  A process started without
 * standard handles (every service) gets stdout and stderr streams bound to
 * no descriptor at all (_fileno() is -2): a _dup2 onto descriptor 1 or 2
 * leaves them writing nowhere, and freopen() refuses such a stream (wine's
 * msvcrt does).  So the stream is given a duplicate of fd directly; the
 * msvcrt FILE that mingw-w64 links against is a public struct. */
#ifdef _UCRT
#error "bind_stream() relies on msvcrt's FILE layout; UCRT builds need another way"
#endif
static int bind_stream(FILE *stream, int fd)
{
    int own = _fileno(stream);

    if (own >= 0) {
        if (_dup2(fd, own) != 0) {
            return -1;
        }
    } else {
        own = _dup(fd);
        if (own < 0) {
            return -1;
        }
        stream->_file = own;
    }
    return setvbuf(stream, NULL, _IONBF, 0) == 0 ? 0 : -1;
}

/* Append stdout and stderr to path (UTF-8), unbuffered so that a line is
 * in the file when it is written; the process's standard handles too, for
 * anything that writes to them directly.  Opened with every share mode so
 * that an admin can read, rotate or delete the file while the service
 * runs. */
static int redirect_output(const char *path)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, path, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof(wchar_t)) : NULL;
    HANDLE h;
    int fd, rc = -1;

    if (w == NULL) {
        return -1;
    }
    MultiByteToWideChar(CP_UTF8, 0, path, -1, w, n);
    h = CreateFileW(w, FILE_APPEND_DATA | SYNCHRONIZE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        return -1;
    }
    fd = _open_osfhandle((intptr_t)h, _O_WRONLY | _O_APPEND | _O_BINARY);
    if (fd < 0) {
        CloseHandle(h);
        return -1;
    }
    if (bind_stream(stdout, fd) == 0 && bind_stream(stderr, fd) == 0) {
        SetStdHandle(STD_OUTPUT_HANDLE, (HANDLE)_get_osfhandle(_fileno(stdout)));
        SetStdHandle(STD_ERROR_HANDLE, (HANDLE)_get_osfhandle(_fileno(stderr)));
        rc = 0;
    }
    _close(fd);
    return rc;
}

int aw_win_service_main(int argc, char **argv, struct aw_signals *signals)
{
    SERVICE_TABLE_ENTRYW table[] = {
        { (LPWSTR)SERVICE_NAME_DEFAULT, service_main },
        { NULL, NULL },
    };
    struct service s;
    char **cmd = NULL;
    const char *log;
    DWORD e;
    int i, rc;

    memset(&s, 0, sizeof(s));
    rc = aw_cli_service_args(argc, argv, &log, &i);
    if (rc >= 0) {
        return rc;
    }
    if (log != NULL && redirect_output(log) != 0) {
        /* no console to tell; the SCM records the exit code */
        return AW_EXIT_FAILURE;
    }
    if (i >= argc) {
        fputs("agentwatch: service: no command to run (see 'agentwatch service --help')\n",
              stderr);
        return AW_EXIT_USAGE;
    }
    /* "agentwatch" followed by the rest: the cli's own argv shape. */
    cmd = calloc((size_t)(argc - i + 2), sizeof(char *));
    if (cmd == NULL) {
        fputs("agentwatch: service: out of memory\n", stderr);
        return AW_EXIT_FAILURE;
    }
    cmd[0] = "agentwatch";
    for (int k = i; k < argc; k++) {
        cmd[k - i + 1] = argv[k];
    }
    s.argc = argc - i + 1;
    s.argv = cmd;
    s.signals = signals;
    signals->controls = "the paramchange control reloads the rules, stop stops";
    the_service = &s;
    if (StartServiceCtrlDispatcherW(table)) {
        rc = (int)s.status.dwServiceSpecificExitCode;
    } else if ((e = GetLastError()) == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
        fputs("agentwatch: service: not started by the service control manager; install"
              " the service with install.ps1, or run the command itself in a console"
              " (see 'agentwatch service --help')\n", stderr);
        rc = AW_EXIT_USAGE;
    } else {
        fprintf(stderr, "agentwatch: service: cannot connect to the service control manager:"
                " error %lu\n", (unsigned long)e);
        rc = AW_EXIT_FAILURE;
    }
    the_service = NULL;
    free(cmd);
    return rc;
}
