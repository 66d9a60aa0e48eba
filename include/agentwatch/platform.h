/*
 * Platform layer: the few operating-system services agentwatch uses, so
 * that the core modules compile unchanged for Linux (src/platform_posix.c)
 * and Windows (src/platform_win32.c; meson picks one by host system).
 *
 * Conventions, chosen so that call sites keep their POSIX shape:
 *   - paths are UTF-8 everywhere inside agentwatch; the Windows side
 *     converts to UTF-16 at the API boundary and uses only the W APIs;
 *   - files are plain C int descriptors (on Windows a CRT descriptor that
 *     wraps a HANDLE opened with CreateFileW), closed with aw_os_close();
 *   - functions that can fail return -1 (or NULL) and set errno, Windows
 *     errors mapped to the nearest errno, so messages still say
 *     strerror(errno) with the path.
 */
#ifndef AGENTWATCH_PLATFORM_H
#define AGENTWATCH_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef _WIN32
#define AW_PATH_SEP '\\'
#else
#define AW_PATH_SEP '/'
#endif

/* Is c a path separator here ('/'; on Windows also '\\')? */
static inline bool aw_path_is_sep(char c)
{
#ifdef _WIN32
    return c == '/' || c == '\\';
#else
    return c == '/';
#endif
}

#ifdef _WIN32
/* POSIX 2008, missing from mingw-w64's C library; in platform_win32.c. */
char *strndup(const char *s, size_t n);
#endif

/* Is path absolute: "/..." on POSIX; on Windows also "X:\..." or "X:/..."
 * and UNC "\\server\share\...". */
static inline bool aw_path_is_absolute(const char *path)
{
#ifdef _WIN32
    if (((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
        path[1] == ':' && aw_path_is_sep(path[2])) {
        return true;
    }
    return aw_path_is_sep(path[0]) && aw_path_is_sep(path[1]);
#else
    return path[0] == '/';
#endif
}

/* The last path separator in path, or NULL (strrchr(path, '/') on POSIX). */
const char *aw_path_last_sep(const char *path);

struct aw_os_stat {
    uint64_t dev;        /* device; on Windows the volume serial number */
    uint64_t ino;        /* inode; on Windows the 64-bit file index */
    uint64_t size;
    int64_t mtime_sec;   /* modification time, seconds since 1970 (UTC) */
    long mtime_nsec;     /*   and nanoseconds within that second */
    bool is_reg;
    bool is_dir;
    bool is_link;        /* aw_os_open_log: a symbolic link or reparse point
                            (the descriptor is then -1, errno ELOOP) */
    bool owner_known;    /* uid is meaningful (POSIX); Windows ACLs are
                            not reduced to an owner here */
    uint64_t uid;        /* owner */
    unsigned perm;       /* permission bits (07777; 0 on Windows) */
};

/* Open a file read-only for reading logs and rules.  On Windows every
 * share mode is granted (read, write and delete), so the writer can always
 * append, rename and delete while the file is open.  fd or -1/errno. */
int aw_os_open_read(const char *path);

/* Open a log file for reading without letting the name turn the open
 * against us (the policy is in fileid.c): the last component is never
 * followed (O_NOFOLLOW; on Windows FILE_FLAG_OPEN_REPARSE_POINT, and a
 * reparse point is refused), and a FIFO or device never blocks the open
 * (O_NONBLOCK).  Fills *st from the open descriptor (fstat).  fd, or -1
 * with errno: ELOOP for a symbolic link or reparse point, anything else
 * as open(2). */
int aw_os_open_log(const char *path, struct aw_os_stat *st);

/* When path itself (its last component) is a symbolic link, its target
 * resolved in full (realpath, caller frees) into *out; otherwise *out is
 * NULL.  0, or -1/errno when the link cannot be resolved.  On Windows
 * *out is always NULL: an explicit reparse point is refused by
 * aw_os_open_log() instead of being resolved. */
int aw_os_resolve_link(const char *path, char **out);

/* The effective user id (0 on Windows). */
uint64_t aw_os_euid(void);

int aw_os_close(int fd);

int aw_os_fstat(int fd, struct aw_os_stat *st);

/* stat(path).  On Windows no handle is opened (GetFileAttributesExW), so
 * that stat polling never holds a log open; dev and ino are then 0 --
 * identity comes from aw_os_fstat() on the file being read. */
int aw_os_stat(const char *path, struct aw_os_stat *st);

/* Read at offset without moving the file position (pread).  Bytes read,
 * 0 at end of file, -1/errno (EINTR possible on POSIX). */
ssize_t aw_os_pread(int fd, void *buf, size_t len, uint64_t offset);

/* Sequential read at the file position (read).  As aw_os_pread(). */
ssize_t aw_os_read(int fd, void *buf, size_t len);

/* Set the file position (lseek SEEK_SET).  0 or -1/errno. */
int aw_os_seek(int fd, uint64_t offset);

/* Create path, readable and writable by its owner only (0600), failing
 * with errno EEXIST when it exists.  fd or -1/errno. */
int aw_os_create_private(const char *path);

/* Create the directory path, 0700.  0 or -1/errno (EEXIST included). */
int aw_os_mkdir_private(const char *path);

/* Open (creating, 0600) the lock file path for the writer lock.  The
 * descriptor must not be inheritable: the lock dies with the process.  A
 * symbolic link (or reparse point) at path is never followed: -1/ELOOP,
 * so that a link planted in a shared folder cannot make us write the pid
 * into its target.  Anything but a regular file: -1/EINVAL. */
int aw_os_open_lock(const char *path);

/* Take an exclusive, non-blocking lock on the whole lock file (flock on
 * POSIX, LockFileEx on Windows).  0, or -1 with errno EWOULDBLOCK when
 * another process holds it.  On Windows the locked range lies far beyond
 * the end of the file, so that its content (the holder's pid) stays
 * readable by the process that was refused. */
int aw_os_try_lock(int fd);

/* Replace the content of an open file with len bytes (ftruncate+pwrite).
 * 0 or -1/errno. */
int aw_os_replace_content(int fd, const void *buf, size_t len);

/* ---- writing files (export cursors, the shipper spool; issue 13) ---- */

/* Flush an open file's data to the device (fsync; _commit on Windows).
 * 0 or -1/errno. */
int aw_os_fsync(int fd);

/* Open path for writing, creating it (mode 0640 on POSIX, before the
 * umask) when missing; never truncated, never O_APPEND.  On Windows every
 * share mode is granted, so that shippers can read, rename and delete it
 * while it is open.  fd or -1/errno. */
int aw_os_open_write(const char *path);

/* One write() of len bytes at the file position.  Bytes written (a short
 * count only on a full disk) or -1/errno. */
ssize_t aw_os_write(int fd, const void *buf, size_t len);

/* Cut (or extend) an open file to size.  0 or -1/errno. */
int aw_os_truncate(int fd, uint64_t size);

/* Rename from to to, replacing to if it exists.  0 or -1/errno. */
int aw_os_rename(const char *from, const char *to);

/* Delete a file.  0 or -1/errno (ENOENT when there is none). */
int aw_os_unlink(const char *path);

/* May this process write to path (access(W_OK); on Windows the
 * read-only attribute)? */
bool aw_os_writable(const char *path);

/* Make an open file readable and writable by its owner only (fchmod
 * 0600; a no-op on Windows, where the folder's ACL governs).  0 or -1. */
int aw_os_fchmod_private(int fd);

/* The same plus read for the file's group (0640): a database in a folder
 * its group may enter, for monitoring users of that group.  A no-op on
 * Windows.  0 or -1. */
int aw_os_fchmod_group_read(int fd);

long aw_os_getpid(void);

/* This machine's name into buf (NUL-terminated, UTF-8).  0 or -1. */
int aw_os_hostname(char *buf, size_t size);

/* A copy of environment variable name's value in UTF-8 (caller frees), or
 * NULL when it is unset or empty (errno 0) or on failure (errno set).  On
 * Windows it is read as UTF-16, whatever the ANSI code page. */
char *aw_os_getenv_dup(const char *name);

/* Send one datagram msg to the AF_UNIX socket addr: a path, or an
 * abstract-namespace name written "@name" (systemd's $NOTIFY_SOCKET).
 * 0 or -1/errno; ENOSYS on Windows, which has no service manager socket. */
int aw_os_notify_send(const char *addr, const char *msg, size_t len);

/* Event Log types (ReportEventW's wType: EVENTLOG_ERROR_TYPE, _WARNING_,
 * _INFORMATION_). */
enum { AW_EVENTLOG_ERROR = 1, AW_EVENTLOG_WARNING = 2, AW_EVENTLOG_INFORMATION = 4 };

/* Report one event to the Application log, source "agentwatch", with
 * event ID id (a MessageId of src/events.mc) and n insertion strings
 * (UTF-8).  0 or -1/errno; ENOSYS on POSIX. */
int aw_os_eventlog(int type, unsigned id, const char *const *strings, unsigned n);

/* The local time now as a BSD syslog TIMESTAMP, "Mmm dd hh:mm:ss"
 * (RFC 3164 4.1.2: English month, day padded with a space), what
 * syslog(3) writes; 16 bytes with the NUL. */
void aw_os_syslog_time(char out[16]);

/* Is descriptor fd the file or socket with this device and inode number
 * (systemd's $JOURNAL_STREAM "DEV:INO")?  Always false on Windows. */
bool aw_os_fd_is(int fd, uint64_t dev, uint64_t ino);

/* path as the stored, printed form: absolute (the current folder
 * prepended to a relative path) with repeated separators, "." segments and
 * a trailing separator removed; ".." is kept (a symbolic link may make it
 * mean another folder).  malloc'd, or NULL/errno.  Windows: a copy, as
 * given (its file API already takes paths absolute, see long paths). */
char *aw_os_path_absolute(const char *path);

/* The width in columns of the terminal fd is, or 0 when fd is not a
 * terminal (a file, a pipe) or its width is unknown. */
size_t aw_os_terminal_columns(int fd);

/* Is fd a terminal? */
bool aw_os_isatty(int fd);
#ifdef _WIN32
/* The system time zone's offset from UTC at the instant utc_ms, in
 * minutes east, with the zone's dynamic daylight-saving rules for that
 * year (SystemTimeToTzSpecificLocalTimeEx).  0, or -1 when Windows cannot
 * say (an instant before 1601). */
int aw_os_zone_offset_min(int64_t utc_ms, int *out);
#endif

/* Wall-clock time, milliseconds since 1970 UTC, or INT64_MIN. */
int64_t aw_os_now_ms(void);

/* Sleep ms milliseconds; -1 with errno EINTR when a signal cut it short
 * (POSIX only; Windows sleeps the whole interval). */
int aw_os_sleep_ms(int ms);

/* The default database path into buf (the caller creates its parent
 * folders): POSIX /var/lib/agentwatch/agentwatch.db for root, else under
 * $XDG_STATE_HOME or ~/.local/state; Windows
 * %ProgramData%\agentwatch\agentwatch.db.  Returns buf. */
const char *aw_os_default_db_path(char *buf, size_t size);

/* The same defaults and controls as --help and usage texts name them
 * (AW_OS_DEFAULT_DB_TEXT: help lines of an option row, cli_opt.h). */
#ifdef _WIN32
#define AW_OS_DEFAULT_DB_TEXT "%ProgramData%\\agentwatch\\agentwatch.db"
#define AW_OS_STOP_TEXT "Ctrl-C or the service's stop control"
#define AW_OS_RELOAD_TEXT "The service's\n"  "paramchange control"
#define AW_OS_RELOAD_LOWER "the service's paramchange\ncontrol"
#define AW_OS_RELOAD_HOWTO "sc.exe control agentwatch paramchange"
#else
#define AW_OS_DEFAULT_DB_TEXT                                                 \
    "/var/lib/agentwatch/agentwatch.db for root, else\n"                     \
    "$XDG_STATE_HOME or ~/.local/state/agentwatch/agentwatch.db"
#define AW_OS_STOP_TEXT "SIGINT or SIGTERM"
#define AW_OS_RELOAD_TEXT "SIGHUP"
#define AW_OS_RELOAD_LOWER "SIGHUP (systemctl reload\nagentwatch)"
#define AW_OS_RELOAD_HOWTO "systemctl reload agentwatch, or SIGHUP"
#endif

/* The default rules folder: the installed data dir on POSIX; on Windows
 * the "rules" folder next to agentwatch.exe.  Static storage. */
const char *aw_os_default_rules_dir(void);

/* The default local rules folder (loaded after the shipped rules, kept by
 * upgrades) into buf: POSIX AW_LOCAL_RULES_DIR (/etc/agentwatch/rules.d);
 * Windows %ProgramData%\agentwatch\rules.d.  Returns buf. */
const char *aw_os_default_local_rules_dir(char *buf, size_t size);
#ifdef _WIN32
#define AW_OS_LOCAL_RULES_TEXT "%ProgramData%\\agentwatch\\rules.d"
#else
#define AW_OS_LOCAL_RULES_TEXT AW_LOCAL_RULES_DIR
#endif

/* ---- child processes (follow's automatic probe, issue 12) ---- */

/* The running program's own file (UTF-8) into buf: /proc/self/exe;
 * GetModuleFileNameW on Windows.  0, or -1/errno (ENAMETOOLONG when it
 * does not fit). */
int aw_os_self_exe(char *buf, size_t size);

/* A child of aw_os_spawn_quiet(): its pid on POSIX, its process handle on
 * Windows.  Never 0, so that 0 can mark a free slot. */
typedef intptr_t aw_os_child;

/* Start the program argv[0] (a full path) with argv (NULL-terminated) in
 * this process's folder and environment, its output seen by no one.
 * POSIX: posix_spawn, stdout on /dev/null (stderr stays ours: under
 * systemd, the journal).  Windows: CreateProcessW with the command line
 * of aw_win_command_line(), CREATE_NO_WINDOW -- a console of its own that
 * is never shown, so its output reaches neither our console nor a
 * service's --log file -- and no handle inherited (our database, lock and
 * log handles stay ours).  *child set on success.  0, or an errno value. */
int aw_os_spawn_quiet(const char *const *argv, aw_os_child *child);

/* Has child ended?  true once it has: it is then reaped (waitpid; its
 * handle closed) and must not be used again; true also when it cannot be
 * waited for at all, so that its slot is not lost.  Never waits. */
bool aw_os_child_reap(aw_os_child child);

/* End child now and reap it: SIGKILL, then waitpid (nothing can make a
 * killed process linger); Windows: TerminateProcess, then a wait of at
 * most AW_OS_CHILD_KILL_WAIT_MS before its handle is closed anyway. */
void aw_os_child_kill(aw_os_child child);

/* Termination is asynchronous on Windows: a process in the middle of
 * network I/O ends once that I/O is cancelled, normally within
 * milliseconds.  Bounded, so that a service stop ends within the 10 s
 * wait hint src/win_service.c gives the service control manager even
 * with AW_AUTOPROBE_CHILDREN (4) children: 4 x 2 s at worst. */
#define AW_OS_CHILD_KILL_WAIT_MS 2000

/* Directory listing (opendir/readdir; FindFirstFileW on Windows). */
struct aw_os_dir;

/* NULL/errno when path cannot be listed. */
struct aw_os_dir *aw_os_dir_open(const char *path);

/* The next entry's name (UTF-8, valid until the next call), or NULL at
 * the end (errno 0) or on error (errno set).  "." and ".." included. */
const char *aw_os_dir_next(struct aw_os_dir *d);

void aw_os_dir_close(struct aw_os_dir *d);

#ifdef _WIN32
struct aw_signals;

/* `agentwatch service [--log FILE] [--db PATH] COMMAND [ARGS...]`: run
 * COMMAND as the Windows service the service control manager started
 * (src/win_service.c).  Stop and shutdown controls set signals->stop,
 * "paramchange" (sc.exe control NAME paramchange) reloads the rules as
 * SIGHUP does on Linux.  argv[0] is "service".  Returns the exit status. */
int aw_win_service_main(int argc, char **argv, struct aw_signals *signals);
#endif

#endif
