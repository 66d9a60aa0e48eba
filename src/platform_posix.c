/*
 * Platform layer, POSIX (Linux) side (see platform.h).
 *
 * Thin wrappers: each is the system call the core modules made before the
 * layer existed, with the same flags, so Linux behaviour is unchanged.
 */
#include "agentwatch/platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aw_config.h"

extern char **environ;

const char *aw_path_last_sep(const char *path)
{
    return strrchr(path, '/');
}

static void from_stat(const struct stat *in, struct aw_os_stat *st)
{
    st->dev = (uint64_t)in->st_dev;
    st->ino = (uint64_t)in->st_ino;
    st->size = (uint64_t)in->st_size;
    st->mtime_sec = (int64_t)in->st_mtim.tv_sec;
    st->mtime_nsec = (long)in->st_mtim.tv_nsec;
    st->is_reg = S_ISREG(in->st_mode);
    st->is_dir = S_ISDIR(in->st_mode);
    st->is_link = S_ISLNK(in->st_mode);
    st->owner_known = true;
    st->uid = (uint64_t)in->st_uid;
    st->perm = (unsigned)(in->st_mode & 07777);
}

int aw_os_open_read(const char *path)
{
    /* O_NONBLOCK: a FIFO given as a rule or configuration file must not
     * block the open; the callers check for a regular file. */
    return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

int aw_os_open_log(const char *path, struct aw_os_stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    struct stat s;

    memset(st, 0, sizeof(*st));
    if (fd < 0) {
        /* O_NOFOLLOW reports a link as ELOOP; so does a real loop in the
         * folder part, which is refused just the same. */
        if (errno == ELOOP) {
            st->is_link = true;
        }
        return -1;
    }
    if (fstat(fd, &s) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    from_stat(&s, st);
    return fd;
}

int aw_os_resolve_link(const char *path, char **out)
{
    struct stat s;

    *out = NULL;
    if (lstat(path, &s) != 0 || !S_ISLNK(s.st_mode)) {
        return 0;   /* not a link (or absent: the caller's stat says so) */
    }
    *out = realpath(path, NULL);
    return *out != NULL ? 0 : -1;
}

uint64_t aw_os_euid(void)
{
    return (uint64_t)geteuid();
}

int aw_os_close(int fd)
{
    return close(fd);
}

int aw_os_fstat(int fd, struct aw_os_stat *st)
{
    struct stat s;

    if (fstat(fd, &s) != 0) {
        return -1;
    }
    from_stat(&s, st);
    return 0;
}

int aw_os_stat(const char *path, struct aw_os_stat *st)
{
    struct stat s;

    if (stat(path, &s) != 0) {
        return -1;
    }
    from_stat(&s, st);
    return 0;
}

ssize_t aw_os_pread(int fd, void *buf, size_t len, uint64_t offset)
{
    return pread(fd, buf, len, (off_t)offset);
}

ssize_t aw_os_read(int fd, void *buf, size_t len)
{
    return read(fd, buf, len);
}

int aw_os_seek(int fd, uint64_t offset)
{
    return lseek(fd, (off_t)offset, SEEK_SET) < 0 ? -1 : 0;
}

int aw_os_create_private(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

int aw_os_mkdir_private(const char *path)
{
    return mkdir(path, 0700);
}

int aw_os_open_lock(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
    struct stat s;

    if (fd < 0) {
        return -1;
    }
    if (fstat(fd, &s) != 0 || !S_ISREG(s.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

int aw_os_try_lock(int fd)
{
    return flock(fd, LOCK_EX | LOCK_NB);
}

int aw_os_replace_content(int fd, const void *buf, size_t len)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, len, 0) != (ssize_t)len) {
        return -1;
    }
    return 0;
}

int aw_os_fsync(int fd)
{
    return fsync(fd);
}

int aw_os_open_write(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
}

ssize_t aw_os_write(int fd, const void *buf, size_t len)
{
    ssize_t n;

    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n;
}

int aw_os_truncate(int fd, uint64_t size)
{
    return ftruncate(fd, (off_t)size);
}

int aw_os_rename(const char *from, const char *to)
{
    return rename(from, to);
}

int aw_os_unlink(const char *path)
{
    return unlink(path);
}

bool aw_os_writable(const char *path)
{
    return access(path, W_OK) == 0;
}

int aw_os_fchmod_private(int fd)
{
    return fchmod(fd, 0600);
}

int aw_os_fchmod_group_read(int fd)
{
    return fchmod(fd, 0640);
}

long aw_os_getpid(void)
{
    return (long)getpid();
}

int aw_os_hostname(char *buf, size_t size)
{
    if (size < 2) {
        return -1;
    }
    /* gethostname need not terminate a truncated name. */
    buf[size - 1] = '\0';
    return gethostname(buf, size - 1);
}

char *aw_os_getenv_dup(const char *name)
{
    const char *v = getenv(name);
    char *copy;

    errno = 0;
    if (v == NULL || v[0] == '\0') {
        return NULL;
    }
    copy = strdup(v);
    if (copy == NULL) {
        errno = ENOMEM;
    }
    return copy;
}

int64_t aw_os_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return INT64_MIN;
    }
    return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

int aw_os_sleep_ms(int ms)
{
    return poll(NULL, 0, ms) < 0 ? -1 : 0;
}

const char *aw_os_default_db_path(char *buf, size_t size)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");

    if (geteuid() == 0) {
        return "/var/lib/agentwatch/agentwatch.db";
    }
    if (state != NULL && state[0] == '/') {
        snprintf(buf, size, "%s/agentwatch/agentwatch.db", state);
    } else if (home != NULL && home[0] != '\0') {
        snprintf(buf, size, "%s/.local/state/agentwatch/agentwatch.db", home);
    } else {
        snprintf(buf, size, "agentwatch.db");
    }
    return buf;
}

const char *aw_os_default_rules_dir(void)
{
    return AW_RULES_DIR;
}

const char *aw_os_default_local_rules_dir(char *buf, size_t size)
{
    snprintf(buf, size, "%s", AW_LOCAL_RULES_DIR);
    return buf;
}

struct aw_os_dir {
    DIR *d;
};

struct aw_os_dir *aw_os_dir_open(const char *path)
{
    struct aw_os_dir *d = malloc(sizeof(*d));

    if (d == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    d->d = opendir(path);
    if (d->d == NULL) {
        int saved = errno;
        free(d);
        errno = saved;
        return NULL;
    }
    return d;
}

const char *aw_os_dir_next(struct aw_os_dir *d)
{
    struct dirent *de;

    errno = 0;
    de = readdir(d->d);
    return de != NULL ? de->d_name : NULL;
}

void aw_os_dir_close(struct aw_os_dir *d)
{
    if (d != NULL) {
        closedir(d->d);
        free(d);
    }
}

int aw_os_eventlog(int type, unsigned id, const char *const *strings, unsigned n)
{
    (void)type;
    (void)id;
    (void)strings;
    (void)n;
    errno = ENOSYS;
    return -1;
}

void aw_os_syslog_time(char out[16])
{
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t now = time(NULL);
    char buf[64];
    struct tm tm;

    if (localtime_r(&now, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
    }
    /* Not strftime's %b: the month must be English whatever the locale. */
    snprintf(buf, sizeof(buf), "%s %2u %02u:%02u:%02u", months[(unsigned)tm.tm_mon % 12u],
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
             (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
    memcpy(out, buf, 15);
    out[15] = '\0';
}

int aw_os_notify_send(const char *addr, const char *msg, size_t len)
{
    struct sockaddr_un sa;
    size_t n = strlen(addr);
    socklen_t salen;
    ssize_t sent;
    int fd, saved;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (n < 2 || n >= sizeof(sa.sun_path) || (addr[0] != '/' && addr[0] != '@')) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, addr, n);
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (addr[0] == '@') {
        sa.sun_path[0] = '\0';   /* abstract: the length bounds the name */
    } else {
        salen++;                 /* a path counts its NUL */
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sent = sendto(fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
    saved = errno;
    close(fd);
    if (sent < 0 || (size_t)sent != len) {
        errno = sent < 0 ? saved : EMSGSIZE;
        return -1;
    }
    return 0;
}

bool aw_os_fd_is(int fd, uint64_t dev, uint64_t ino)
{
    struct stat st;

    return fstat(fd, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

char *aw_os_path_absolute(const char *path)
{
    char *cwd = NULL, *joined, *out;
    size_t n, k = 0;

    if (path[0] != '/') {
        cwd = getcwd(NULL, 0);
        if (cwd == NULL) {
            return NULL;
        }
    }
    n = (cwd != NULL ? strlen(cwd) + 1 : 0) + strlen(path) + 1;
    joined = malloc(n);
    out = malloc(n + 1);
    if (joined == NULL || out == NULL) {
        free(cwd);
        free(joined);
        free(out);
        errno = ENOMEM;
        return NULL;
    }
    snprintf(joined, n, "%s%s%s", cwd != NULL ? cwd : "", cwd != NULL ? "/" : "", path);
    free(cwd);
    /* One segment at a time: skip empty and "." segments. */
    for (const char *p = joined; *p != '\0';) {
        const char *end;

        while (*p == '/') {
            p++;
        }
        end = strchr(p, '/');
        if (end == NULL) {
            end = p + strlen(p);
        }
        if (end > p && !(end - p == 1 && p[0] == '.')) {
            out[k++] = '/';
            memcpy(out + k, p, (size_t)(end - p));
            k += (size_t)(end - p);
        }
        p = end;
    }
    if (k == 0) {
        out[k++] = '/';
    }
    out[k] = '\0';
    free(joined);
    return out;
}

size_t aw_os_terminal_columns(int fd)
{
    struct winsize ws;

    if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0) {
        return 0;
    }
    return ws.ws_col;
}

bool aw_os_isatty(int fd)
{
    return isatty(fd) == 1;
}

int aw_os_self_exe(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);

    if (n < 0) {
        return -1;
    }
    if ((size_t)n >= size - 1) {
        errno = ENAMETOOLONG;
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

int aw_os_spawn_quiet(const char *const *argv, aw_os_child *child)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;

    if (posix_spawn_file_actions_init(&fa) != 0) {
        return ENOMEM;
    }
    rc = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (rc == 0) {
        /* posix_spawn's argv is char *const[] for historical reasons; it
         * does not write to the strings. */
        rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (rc == 0) {
        *child = (aw_os_child)pid;
    }
    return rc;
}

bool aw_os_child_reap(aw_os_child child)
{
    return waitpid((pid_t)child, NULL, WNOHANG) != 0;
}

void aw_os_child_kill(aw_os_child child)
{
    kill((pid_t)child, SIGKILL);
    while (waitpid((pid_t)child, NULL, 0) < 0 && errno == EINTR) {
    }
}
