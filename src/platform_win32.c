/*
 * Platform layer, Windows side (see platform.h).
 *
 * Design decisions:
 *   - Only the W (UTF-16) APIs; paths arrive as UTF-8 and are converted
 *     here, so non-ASCII folder names work whatever the ANSI code page.
 *   - Log files are opened with FILE_SHARE_READ | FILE_SHARE_WRITE |
 *     FILE_SHARE_DELETE: the agent must always be able to append, rename
 *     and delete its logs while we read them.  Even so, a file deleted
 *     while we hold a handle stays "delete pending" and its name occupied
 *     until we close it, which breaks shift-rotation in the writer; hence
 *     handles are only held while a batch is read (the core's design), and
 *     aw_os_stat() opens no handle at all (GetFileAttributesExW).
 *   - Handles are wrapped in CRT descriptors (_open_osfhandle) so the core
 *     keeps its int descriptors; all I/O goes to the HANDLE directly.
 *   - Positioned reads use an OVERLAPPED offset.  On a synchronous handle
 *     that moves the file position, so aw_os_pread() restores it: the
 *     reader's sequential position must not move under it (pread contract).
 *   - Identity: volume serial number and 64-bit file index from
 *     GetFileInformationByHandle, with size and mtime from the same call.
 */
#include "agentwatch/platform.h"
#include "platform_win32_internal.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <sddl.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFF_100NS 116444736000000000ULL

const char *aw_path_last_sep(const char *path)
{
    const char *a = strrchr(path, '/'), *b = strrchr(path, '\\');

    return a == NULL ? b : (b == NULL || a > b ? a : b);
}

char *strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = malloc(len + 1);

    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

int aw_win_map_error(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_DELETE_PENDING:     /* as good as gone: the name is freed on close */
        return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD:
        return EACCES;
    case ERROR_LOCK_VIOLATION:
    case ERROR_IO_PENDING:
        return EWOULDBLOCK;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return EEXIST;
    case ERROR_DIRECTORY:
        return ENOTDIR;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return ENOMEM;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return ENOSPC;
    case ERROR_FILENAME_EXCED_RANGE:
        return ENAMETOOLONG;
    case ERROR_NO_UNICODE_TRANSLATION:
        return EILSEQ;
    default:
        return EIO;
    }
}

void aw_win_set_errno(void)
{
    errno = aw_win_map_error(GetLastError());
}

/* UTF-8 to a new UTF-16 string (caller frees), or NULL/errno. */
wchar_t *aw_win_to_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    if (n <= 0) {
        errno = EILSEQ;
        return NULL;
    }
    w = malloc((size_t)n * sizeof(wchar_t));
    if (w == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

/* A UTF-8 path as the UTF-16 path to give the file API (caller frees), or
 * NULL/errno.  Without the LongPathsEnabled policy, Windows refuses paths
 * of MAX_PATH characters or more (folders: MAX_PATH - 12) unless they are
 * absolute and start with \\?\ (\\?\UNC\ for \\server\share), which
 * also turns off the API's own clean-up of "/", "." and "..": so long
 * paths are made absolute and clean by GetFullPathNameW first.  Shorter
 * ones are passed as they are, so that relative paths and device names
 * keep their meaning. */
static wchar_t *to_wide_path(const char *path)
{
    static const wchar_t local[] = L"\\\\?\\", unc[] = L"\\\\?\\UNC\\";
    wchar_t *w = aw_win_to_wide(path), *full = NULL, *out = NULL;
    DWORD n;

    if (w == NULL || wcslen(w) < MAX_PATH - 12 || wcsncmp(w, local, 4) == 0) {
        return w;
    }
    n = GetFullPathNameW(w, 0, NULL, NULL);
    full = n > 0 ? malloc((size_t)n * sizeof(wchar_t)) : NULL;
    if (full == NULL || GetFullPathNameW(w, n, full, NULL) >= n) {
        errno = full == NULL && n > 0 ? ENOMEM : ENAMETOOLONG;
        goto out;
    }
    /* \\server\share\x -> \\?\UNC\server\share\x; C:\x -> \\?\C:\x; a
     * device path (\\.\x) is left alone. */
    out = malloc(((size_t)n + 8) * sizeof(wchar_t));
    if (out == NULL) {
        errno = ENOMEM;
    } else if (full[0] == L'\\' && full[1] == L'\\' && full[2] != L'.' && full[2] != L'?') {
        wcscpy(out, unc);
        wcscat(out, full + 2);
    } else if (full[0] == L'\\' && full[1] == L'\\') {
        wcscpy(out, full);
    } else {
        wcscpy(out, local);
        wcscat(out, full);
    }
out:
    free(full);
    free(w);
    return out;
}

/* UTF-16 to UTF-8 into buf; 0, or -1 when it does not fit or converts. */
int aw_win_to_utf8_buf(const wchar_t *w, char *buf, size_t size)
{
    int n;

    if (size == 0 || size > INT_MAX) {
        return -1;
    }
    n = WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)size, NULL, NULL);
    if (n <= 0) {
        buf[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static HANDLE handle_of(int fd)
{
    return (HANDLE)_get_osfhandle(fd);
}

/* CreateFileW on a UTF-8 path, wrapped in a CRT descriptor. */
static int open_handle(const char *path, DWORD access, DWORD disposition, DWORD flags,
                       int crt_flags)
{
    wchar_t *w = to_wide_path(path);
    HANDLE h;
    int fd;

    if (w == NULL) {
        return -1;
    }
    h = CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    disposition, FILE_ATTRIBUTE_NORMAL | flags, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        aw_win_set_errno();
        return -1;
    }
    fd = _open_osfhandle((intptr_t)h, crt_flags | _O_BINARY | _O_NOINHERIT);
    if (fd < 0) {
        CloseHandle(h);
        errno = EMFILE;
        return -1;
    }
    return fd;
}

int aw_os_open_read(const char *path)
{
    return open_handle(path, GENERIC_READ, OPEN_EXISTING, 0, _O_RDONLY);
}

/* With FILE_FLAG_OPEN_REPARSE_POINT the handle is the reparse point
 * itself (a symbolic link or junction), never its target: refuse it, and
 * anything that is not a file on disk (a named pipe, a device), so that
 * neither can turn an open against us or block it.  0, or -1 with fd
 * closed and errno ELOOP (reparse point) or EINVAL. */
static int refuse_reparse_point(int fd)
{
    BY_HANDLE_FILE_INFORMATION bh;
    HANDLE h = handle_of(fd);

    if (h == INVALID_HANDLE_VALUE || !GetFileInformationByHandle(h, &bh)) {
        _close(fd);
        errno = EIO;
        return -1;
    }
    if (bh.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
        _close(fd);
        errno = ELOOP;
        return -1;
    }
    if (GetFileType(h) != FILE_TYPE_DISK) {
        _close(fd);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int aw_os_open_log(const char *path, struct aw_os_stat *st)
{
    int fd = open_handle(path, GENERIC_READ, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT,
                         _O_RDONLY);

    memset(st, 0, sizeof(*st));
    if (fd < 0) {
        return -1;
    }
    if (refuse_reparse_point(fd) != 0) {
        st->is_link = errno == ELOOP;
        return -1;
    }
    if (aw_os_fstat(fd, st) != 0) {
        int saved = errno;
        _close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int aw_os_resolve_link(const char *path, char **out)
{
    (void)path;
    *out = NULL;
    return 0;
}

uint64_t aw_os_euid(void)
{
    return 0;
}

int aw_os_close(int fd)
{
    return _close(fd);
}

static void from_filetime(FILETIME ft, struct aw_os_stat *st)
{
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    int64_t rel = (int64_t)(t - EPOCH_DIFF_100NS);

    st->mtime_sec = rel / 10000000;
    st->mtime_nsec = (long)(rel % 10000000) * 100;
    if (st->mtime_nsec < 0) {
        st->mtime_sec--;
        st->mtime_nsec += 1000000000L;
    }
}

int aw_os_fstat(int fd, struct aw_os_stat *st)
{
    BY_HANDLE_FILE_INFORMATION bh;
    HANDLE h = handle_of(fd);

    if (h == INVALID_HANDLE_VALUE) {
        errno = EBADF;
        return -1;
    }
    if (!GetFileInformationByHandle(h, &bh)) {
        aw_win_set_errno();
        return -1;
    }
    memset(st, 0, sizeof(*st));
    st->dev = bh.dwVolumeSerialNumber;
    st->ino = ((uint64_t)bh.nFileIndexHigh << 32) | bh.nFileIndexLow;
    st->size = ((uint64_t)bh.nFileSizeHigh << 32) | bh.nFileSizeLow;
    from_filetime(bh.ftLastWriteTime, st);
    st->is_dir = (bh.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    st->is_reg = !st->is_dir && (bh.dwFileAttributes & FILE_ATTRIBUTE_DEVICE) == 0 &&
                 GetFileType(h) == FILE_TYPE_DISK;
    return 0;
}

/* Without opening a handle (see the top of this file): dev and ino are 0;
 * identity comes from aw_os_fstat() on the file being read. */
int aw_os_stat(const char *path, struct aw_os_stat *st)
{
    WIN32_FILE_ATTRIBUTE_DATA a;
    wchar_t *w = to_wide_path(path);
    BOOL ok;

    if (w == NULL) {
        return -1;
    }
    ok = GetFileAttributesExW(w, GetFileExInfoStandard, &a);
    free(w);
    if (!ok) {
        aw_win_set_errno();
        return -1;
    }
    memset(st, 0, sizeof(*st));
    st->size = ((uint64_t)a.nFileSizeHigh << 32) | a.nFileSizeLow;
    from_filetime(a.ftLastWriteTime, st);
    st->is_dir = (a.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    st->is_reg = !st->is_dir && (a.dwFileAttributes & FILE_ATTRIBUTE_DEVICE) == 0;
    return 0;
}

static ssize_t read_handle(HANDLE h, void *buf, size_t len, OVERLAPPED *ov)
{
    DWORD got = 0;
    DWORD want = len > 0x40000000u ? 0x40000000u : (DWORD)len;

    if (!ReadFile(h, buf, want, &got, ov)) {
        DWORD e = GetLastError();
        if (e == ERROR_HANDLE_EOF) {
            return 0;
        }
        errno = aw_win_map_error(e);
        return -1;
    }
    return (ssize_t)got;
}

ssize_t aw_os_pread(int fd, void *buf, size_t len, uint64_t offset)
{
    HANDLE h = handle_of(fd);
    LARGE_INTEGER zero = { 0 }, pos;
    OVERLAPPED ov;
    ssize_t n;

    if (h == INVALID_HANDLE_VALUE) {
        errno = EBADF;
        return -1;
    }
    if (!SetFilePointerEx(h, zero, &pos, FILE_CURRENT)) {
        aw_win_set_errno();
        return -1;
    }
    memset(&ov, 0, sizeof(ov));
    ov.Offset = (DWORD)offset;
    ov.OffsetHigh = (DWORD)(offset >> 32);
    n = read_handle(h, buf, len, &ov);
    SetFilePointerEx(h, pos, NULL, FILE_BEGIN);
    return n;
}

ssize_t aw_os_read(int fd, void *buf, size_t len)
{
    HANDLE h = handle_of(fd);

    if (h == INVALID_HANDLE_VALUE) {
        errno = EBADF;
        return -1;
    }
    return read_handle(h, buf, len, NULL);
}

int aw_os_seek(int fd, uint64_t offset)
{
    HANDLE h = handle_of(fd);
    LARGE_INTEGER to;

    to.QuadPart = (LONGLONG)offset;
    if (h == INVALID_HANDLE_VALUE || !SetFilePointerEx(h, to, NULL, FILE_BEGIN)) {
        aw_win_set_errno();
        return -1;
    }
    return 0;
}

int aw_os_create_private(const char *path)
{
    /* The file inherits the ACL of its folder; the default folder gets a
     * restrictive one in aw_os_mkdir_private(). */
    return open_handle(path, GENERIC_WRITE, CREATE_NEW, 0, _O_WRONLY);
}

int aw_os_mkdir_private(const char *path)
{
    /* The 0700 of POSIX: full control for SYSTEM, Administrators and the
     * creating owner, not inherited from above, inherited below. */
    static const wchar_t sddl[] =
        L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)";
    SECURITY_ATTRIBUTES sa;
    PSECURITY_DESCRIPTOR sd = NULL;
    wchar_t *w = to_wide_path(path);
    DWORD attrs;
    BOOL ok;

    if (w == NULL) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.nLength = sizeof(sa);
    if (ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL)) {
        sa.lpSecurityDescriptor = sd;
    }
    ok = CreateDirectoryW(w, sa.lpSecurityDescriptor != NULL ? &sa : NULL);
    if (!ok) {
        aw_win_set_errno();
        /* "C:" and other roots refuse creation with odd codes: existing is
         * what matters to the caller. */
        attrs = GetFileAttributesW(w);
        if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
            errno = EEXIST;
        }
    }
    LocalFree(sd);
    free(w);
    return ok ? 0 : -1;
}

int aw_os_open_lock(const char *path)
{
    int fd = open_handle(path, GENERIC_READ | GENERIC_WRITE, OPEN_ALWAYS,
                         FILE_FLAG_OPEN_REPARSE_POINT, _O_RDWR);

    if (fd >= 0 && refuse_reparse_point(fd) != 0) {
        return -1;
    }
    return fd;
}

/* Far beyond any content: Windows locks are mandatory, and the holder's
 * pid at offset 0 must stay readable. */
#define LOCK_OFFSET_HIGH 0x40000000u

int aw_os_try_lock(int fd)
{
    HANDLE h = handle_of(fd);
    OVERLAPPED ov;

    memset(&ov, 0, sizeof(ov));
    ov.OffsetHigh = LOCK_OFFSET_HIGH;
    if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) {
        aw_win_set_errno();
        return -1;
    }
    return 0;
}

int aw_os_replace_content(int fd, const void *buf, size_t len)
{
    HANDLE h = handle_of(fd);
    LARGE_INTEGER zero = { 0 };
    OVERLAPPED ov;
    DWORD put = 0;

    memset(&ov, 0, sizeof(ov));
    if (!SetFilePointerEx(h, zero, NULL, FILE_BEGIN) || !SetEndOfFile(h) ||
        !WriteFile(h, buf, (DWORD)len, &put, &ov) || put != len) {
        aw_win_set_errno();
        return -1;
    }
    return 0;
}

int aw_os_fsync(int fd)
{
    if (!FlushFileBuffers(handle_of(fd))) {
        aw_win_set_errno();
        return -1;
    }
    return 0;
}

int aw_os_open_write(const char *path)
{
    return open_handle(path, GENERIC_WRITE, OPEN_ALWAYS, 0, _O_WRONLY);
}

ssize_t aw_os_write(int fd, const void *buf, size_t len)
{
    DWORD put = 0;

    if (len > 0x7fffffff) {
        errno = EINVAL;
        return -1;
    }
    if (!WriteFile(handle_of(fd), buf, (DWORD)len, &put, NULL)) {
        aw_win_set_errno();
        return -1;
    }
    return (ssize_t)put;
}

int aw_os_truncate(int fd, uint64_t size)
{
    HANDLE h = handle_of(fd);
    LARGE_INTEGER at;
    LARGE_INTEGER cur = { 0 }, zero = { 0 };

    at.QuadPart = (LONGLONG)size;
    /* SetEndOfFile cuts at the file pointer: put it back afterwards. */
    if (!SetFilePointerEx(h, zero, &cur, FILE_CURRENT) || !SetFilePointerEx(h, at, NULL, FILE_BEGIN) ||
        !SetEndOfFile(h) || !SetFilePointerEx(h, cur, NULL, FILE_BEGIN)) {
        aw_win_set_errno();
        return -1;
    }
    return 0;
}

int aw_os_rename(const char *from, const char *to)
{
    wchar_t *wf = to_wide_path(from), *wt = to_wide_path(to);
    BOOL ok = wf != NULL && wt != NULL &&
              MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);

    if (!ok && wf != NULL && wt != NULL) {
        aw_win_set_errno();
    }
    free(wf);
    free(wt);
    return ok ? 0 : -1;
}

int aw_os_unlink(const char *path)
{
    wchar_t *w = to_wide_path(path);
    BOOL ok = w != NULL && DeleteFileW(w);

    if (!ok && w != NULL) {
        aw_win_set_errno();
    }
    free(w);
    return ok ? 0 : -1;
}



bool aw_os_writable(const char *path)
{
    wchar_t *w = to_wide_path(path);
    DWORD a;

    if (w == NULL) {
        return false;
    }
    a = GetFileAttributesW(w);
    free(w);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_READONLY) == 0;
}

int aw_os_fchmod_private(int fd)
{
    (void)fd;
    return 0;
}

int aw_os_fchmod_group_read(int fd)
{
    (void)fd;
    return 0;
}

long aw_os_getpid(void)
{
    return (long)GetCurrentProcessId();
}

int aw_os_hostname(char *buf, size_t size)
{
    wchar_t w[256];
    DWORD n = sizeof(w) / sizeof(w[0]);

    if (!GetComputerNameExW(ComputerNameDnsHostname, w, &n) &&
        (n = sizeof(w) / sizeof(w[0]), !GetComputerNameW(w, &n))) {
        return -1;
    }
    return aw_win_to_utf8_buf(w, buf, size);
}

char *aw_os_getenv_dup(const char *name)
{
    wchar_t *wname = aw_win_to_wide(name), *w = NULL;
    char *out = NULL;
    DWORD n;
    int len;

    if (wname == NULL) {
        return NULL;
    }
    errno = 0;
    /* The size with the NUL, or 0 when unset; the value may change
     * between the two calls, hence the check of the second. */
    n = GetEnvironmentVariableW(wname, NULL, 0);
    if (n > 1) {
        w = malloc((size_t)n * sizeof(wchar_t));
        if (w == NULL) {
            errno = ENOMEM;
        } else if (GetEnvironmentVariableW(wname, w, n) < n) {
            len = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
            out = len > 0 ? malloc((size_t)len) : NULL;
            if (out != NULL) {
                WideCharToMultiByte(CP_UTF8, 0, w, -1, out, len, NULL, NULL);
            } else {
                errno = len > 0 ? ENOMEM : EILSEQ;
            }
        } else {
            errno = EAGAIN;
        }
    }
    free(w);
    free(wname);
    return out;
}

int64_t aw_os_now_ms(void)
{
    FILETIME ft;
    uint64_t t;

    GetSystemTimePreciseAsFileTime(&ft);
    t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return (int64_t)((t - EPOCH_DIFF_100NS) / 10000);
}

static bool ms_to_systemtime(int64_t ms, SYSTEMTIME *st)
{
    FILETIME ft;
    uint64_t t;

    if (ms < -(int64_t)(EPOCH_DIFF_100NS / 10000)) {
        return false;
    }
    t = (uint64_t)ms * 10000 + EPOCH_DIFF_100NS;
    ft.dwLowDateTime = (DWORD)t;
    ft.dwHighDateTime = (DWORD)(t >> 32);
    return FileTimeToSystemTime(&ft, st) != 0;
}

static bool systemtime_to_100ns(const SYSTEMTIME *st, uint64_t *out)
{
    FILETIME ft;

    if (!SystemTimeToFileTime(st, &ft)) {
        return false;
    }
    *out = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return true;
}

int aw_os_zone_offset_min(int64_t utc_ms, int *out)
{
    /* Asked per instant, not cached: the zone may be changed while a
     * follower runs, and this runs only for records a rule matched. */
    DYNAMIC_TIME_ZONE_INFORMATION dtzi;
    SYSTEMTIME u, l;
    uint64_t tu, tl;

    if (GetDynamicTimeZoneInformation(&dtzi) == TIME_ZONE_ID_INVALID
        || !ms_to_systemtime(utc_ms, &u) || !SystemTimeToTzSpecificLocalTimeEx(&dtzi, &u, &l)
        || !systemtime_to_100ns(&u, &tu) || !systemtime_to_100ns(&l, &tl)) {
        return -1;
    }
    *out = (int)(((int64_t)tl - (int64_t)tu) / (INT64_C(10000) * 60000));
    return 0;
}

int aw_os_sleep_ms(int ms)
{
    Sleep(ms > 0 ? (DWORD)ms : 0);
    return 0;
}

/* %ProgramData%\agentwatch\LEAF (C:\ProgramData when unset) into buf. */
static const char *programdata_path(char *buf, size_t size, const char *leaf)
{
    wchar_t w[MAX_PATH];
    char root[MAX_PATH * 3];
    DWORD n = GetEnvironmentVariableW(L"ProgramData", w, MAX_PATH);

    if (n == 0 || n >= MAX_PATH || aw_win_to_utf8_buf(w, root, sizeof(root)) != 0) {
        snprintf(root, sizeof(root), "C:\\ProgramData");
    }
    snprintf(buf, size, "%s\\agentwatch\\%s", root, leaf);
    return buf;
}

const char *aw_os_default_db_path(char *buf, size_t size)
{
    return programdata_path(buf, size, "agentwatch.db");
}

const char *aw_os_default_local_rules_dir(char *buf, size_t size)
{
    return programdata_path(buf, size, "rules.d");
}

const char *aw_os_default_rules_dir(void)
{
    /* Computed once, then constant for the life of the process: the exe's
     * folder does not change.  Only the command thread calls this. */
    static char dir[MAX_PATH * 3 + 8];
    wchar_t w[MAX_PATH];
    DWORD n;
    char *sep;

    if (dir[0] != '\0') {
        return dir;
    }
    n = GetModuleFileNameW(NULL, w, MAX_PATH);
    if (n == 0 || n >= MAX_PATH || aw_win_to_utf8_buf(w, dir, sizeof(dir) - 8) != 0) {
        snprintf(dir, sizeof(dir), "rules");
        return dir;
    }
    sep = strrchr(dir, '\\');
    snprintf(sep != NULL ? sep + 1 : dir, 7, "rules");
    return dir;
}

struct aw_os_dir {
    HANDLE h;
    bool have;                     /* fd holds an entry not yet returned */
    WIN32_FIND_DATAW fd;
    char name[MAX_PATH * 3];
};

struct aw_os_dir *aw_os_dir_open(const char *path)
{
    size_t len = strlen(path);
    char *pattern = malloc(len + 3);
    wchar_t *w = NULL;
    struct aw_os_dir *d = NULL;

    if (pattern == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(pattern, path, len);
    if (len > 0 && !aw_path_is_sep(path[len - 1])) {
        pattern[len++] = '\\';
    }
    pattern[len++] = '*';
    pattern[len] = '\0';
    w = to_wide_path(pattern);
    free(pattern);
    if (w == NULL) {
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        free(w);
        errno = ENOMEM;
        return NULL;
    }
    d->h = FindFirstFileExW(w, FindExInfoBasic, &d->fd, FindExSearchNameMatch, NULL, 0);
    free(w);
    if (d->h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        if (e != ERROR_FILE_NOT_FOUND) {
            /* "x\*" of a file that is not a folder: ENOTDIR like opendir */
            errno = e == ERROR_DIRECTORY || e == ERROR_INVALID_NAME ? ENOTDIR : aw_win_map_error(e);
            free(d);
            return NULL;
        }
        d->have = false;      /* an empty folder (a drive root without . and ..) */
    } else {
        d->have = true;
    }
    return d;
}

const char *aw_os_dir_next(struct aw_os_dir *d)
{
    errno = 0;
    for (;;) {
        if (!d->have) {
            if (d->h == INVALID_HANDLE_VALUE || !FindNextFileW(d->h, &d->fd)) {
                DWORD e = d->h == INVALID_HANDLE_VALUE ? ERROR_NO_MORE_FILES : GetLastError();
                errno = e == ERROR_NO_MORE_FILES ? 0 : aw_win_map_error(e);
                return NULL;
            }
        }
        d->have = false;
        /* A name that does not fit (cannot happen within MAX_PATH) is skipped. */
        if (aw_win_to_utf8_buf(d->fd.cFileName, d->name, sizeof(d->name)) == 0) {
            errno = 0;
            return d->name;
        }
    }
}

void aw_os_dir_close(struct aw_os_dir *d)
{
    if (d != NULL) {
        if (d->h != INVALID_HANDLE_VALUE) {
            FindClose(d->h);
        }
        free(d);
    }
}

int aw_os_eventlog(int type, unsigned id, const char *const *strings, unsigned n)
{
    wchar_t *w[4] = { NULL, NULL, NULL, NULL };
    HANDLE h;
    BOOL ok = FALSE;

    if (n > 4) {
        errno = EINVAL;
        return -1;
    }
    /* Registered by the MSI and install.ps1 (HKLM\SYSTEM\CurrentControlSet\
     * Services\EventLog\Application\agentwatch); without it Windows still logs
     * the event, with "the description cannot be found" for text. */
    h = RegisterEventSourceW(NULL, L"agentwatch");
    if (h == NULL) {
        errno = EIO;
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        w[i] = aw_win_to_wide(strings[i] != NULL ? strings[i] : "");
        if (w[i] == NULL) {
            goto out;
        }
    }
    ok = ReportEventW(h, (WORD)type, 0, (DWORD)id, NULL, (WORD)n, 0, (LPCWSTR *)w, NULL);
out:
    for (unsigned i = 0; i < n; i++) {
        free(w[i]);
    }
    DeregisterEventSource(h);
    if (!ok) {
        errno = EIO;
        return -1;
    }
    return 0;
}

void aw_os_syslog_time(char out[16])
{
    SYSTEMTIME t;
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

    char buf[64];

    GetLocalTime(&t);
    snprintf(buf, sizeof(buf), "%s %2u %02u:%02u:%02u", months[(t.wMonth + 11u) % 12u],
             t.wDay % 100u, t.wHour % 100u, t.wMinute % 100u, t.wSecond % 100u);
    memcpy(out, buf, 15);
    out[15] = '\0';
}

int aw_os_notify_send(const char *addr, const char *msg, size_t len)
{
    (void)addr;
    (void)msg;
    (void)len;
    errno = ENOSYS;
    return -1;
}

bool aw_os_fd_is(int fd, uint64_t dev, uint64_t ino)
{
    (void)fd;
    (void)dev;
    (void)ino;
    return false;
}

char *aw_os_path_absolute(const char *path)
{
    char *copy = strdup(path);

    if (copy == NULL) {
        errno = ENOMEM;
    }
    return copy;
}

size_t aw_os_terminal_columns(int fd)
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    HANDLE h;

    if (!_isatty(fd)) {
        return 0;
    }
    h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE || !GetConsoleScreenBufferInfo(h, &info)) {
        return 0;
    }
    return (size_t)(info.srWindow.Right - info.srWindow.Left + 1);
}

bool aw_os_isatty(int fd)
{
    return _isatty(fd) != 0;
}
