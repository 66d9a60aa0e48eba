/*
 * Platform layer, Windows side: the running program's path and the child
 * processes of follow's automatic probe (see platform.h; the POSIX side is
 * in platform_posix.c).  Kept apart from platform_win32.c, which is about
 * files, time and the system's names.
 */
#include "agentwatch/platform.h"
#include "agentwatch/winargv.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "platform_win32_internal.h"

int aw_os_self_exe(char *buf, size_t size)
{
    /* The longest path Windows has (\\?\ paths), not MAX_PATH: an exe
     * installed deep in a folder tree still finds itself. */
    const DWORD cap = 32768;
    wchar_t *w = malloc(cap * sizeof(wchar_t));
    DWORD n;
    int rc = -1;

    if (w == NULL) {
        errno = ENOMEM;
        return -1;
    }
    n = GetModuleFileNameW(NULL, w, cap);
    if (n == 0) {
        aw_win_set_errno();
    } else if (n >= cap) {
        errno = ENAMETOOLONG;
    } else {
        rc = aw_win_to_utf8_buf(w, buf, size);
    }
    free(w);
    return rc;
}

int aw_os_spawn_quiet(const char *const *argv, aw_os_child *child)
{
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    char *line = NULL;
    wchar_t *wexe = NULL, *wline = NULL;
    int rc = 0;

    if (aw_win_command_line(argv, &line) != 0) {
        return ENOMEM;
    }
    wexe = aw_win_to_wide(argv[0]);
    wline = wexe != NULL ? aw_win_to_wide(line) : NULL;
    if (wline == NULL) {
        rc = errno;
        goto out;
    }
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    /* The program named in full (never looked up in PATH); bInheritHandles
     * FALSE; CREATE_NO_WINDOW gives the console program a console of its
     * own, never shown, rather than ours (where Ctrl-C would reach it). */
    if (!CreateProcessW(wexe, wline, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL,
                        NULL, &si, &pi)) {
        rc = aw_win_map_error(GetLastError());
        goto out;
    }
    CloseHandle(pi.hThread);
    *child = (aw_os_child)pi.hProcess;
out:
    free(wline);
    free(wexe);
    free(line);
    return rc;
}

bool aw_os_child_reap(aw_os_child child)
{
    HANDLE h = (HANDLE)child;

    if (WaitForSingleObject(h, 0) == WAIT_TIMEOUT) {
        return false;
    }
    CloseHandle(h);
    return true;
}

void aw_os_child_kill(aw_os_child child)
{
    HANDLE h = (HANDLE)child;

    /* Fails only when it has ended already: nothing to do then. */
    TerminateProcess(h, 1);
    WaitForSingleObject(h, AW_OS_CHILD_KILL_WAIT_MS);
    CloseHandle(h);
}
