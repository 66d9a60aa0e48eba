/*
 * svcctl NAME CONTROL: send a control to a Windows service and print the
 * state it reports, for the wine service test (wine's sc.exe has no
 * "control" command).  CONTROL is paramchange, interrogate or a number.
 * Exit status 0 when the service accepted the control, 1 otherwise.
 *
 * Build: x86_64-w64-mingw32-gcc -municode -o svcctl.exe svcctl.c
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <wchar.h>

int wmain(int argc, wchar_t **argv)
{
    SC_HANDLE scm = NULL, svc = NULL;
    SERVICE_STATUS st;
    DWORD control;
    int rc = 1;

    if (argc != 3) {
        fputs("usage: svcctl NAME paramchange|interrogate|NUMBER\n", stderr);
        return 2;
    }
    if (wcscmp(argv[2], L"paramchange") == 0) {
        control = SERVICE_CONTROL_PARAMCHANGE;
    } else if (wcscmp(argv[2], L"interrogate") == 0) {
        control = SERVICE_CONTROL_INTERROGATE;
    } else {
        control = (DWORD)wcstoul(argv[2], NULL, 0);
    }
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (scm == NULL) {
        fprintf(stderr, "svcctl: OpenSCManager: error %lu\n", (unsigned long)GetLastError());
        goto out;
    }
    svc = OpenServiceW(scm, argv[1], SERVICE_USER_DEFINED_CONTROL | SERVICE_PAUSE_CONTINUE |
                                         SERVICE_INTERROGATE | SERVICE_QUERY_STATUS);
    if (svc == NULL) {
        fprintf(stderr, "svcctl: OpenService: error %lu\n", (unsigned long)GetLastError());
        goto out;
    }
    if (!ControlService(svc, control, &st)) {
        fprintf(stderr, "svcctl: ControlService: error %lu\n", (unsigned long)GetLastError());
        goto out;
    }
    printf("state %lu exit %lu specific %lu\n", (unsigned long)st.dwCurrentState,
           (unsigned long)st.dwWin32ExitCode, (unsigned long)st.dwServiceSpecificExitCode);
    rc = 0;
out:
    if (svc != NULL) {
        CloseServiceHandle(svc);
    }
    if (scm != NULL) {
        CloseServiceHandle(scm);
    }
    return rc;
}
