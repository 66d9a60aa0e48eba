/*
 * Watch: inotify on folders, with a stat-polling fallback (see watch.h).
 *
 * Idle cost is what matters on an endpoint: with inotify the process sleeps
 * in poll() until the kernel reports a change; polling stats a handful of
 * files once per interval.  Windows has no inotify and always polls; its
 * stat opens no handle (see platform_win32.c), so polling never gets in
 * the way of the agent's rotation.
 */
#include "agentwatch/watch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentwatch/fileid.h"
#include "agentwatch/platform.h"

#ifdef _WIN32
#define AW_HAVE_INOTIFY 0
#else
#define AW_HAVE_INOTIFY 1
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>
#endif

/* After the first event of a burst, how long to gather the rest, so that
 * one rotation (several renames) costs one pass. */
#define COALESCE_MS 20

struct aw_watch {
    enum aw_watch_mode mode;
    int fd;                   /* inotify descriptor, or -1 */
    unsigned poll_ms;
    char **dirs;
    size_t ndirs;
    uint64_t signature;       /* polling: last folder signature */
};

static bool is_log_name(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot != NULL && (strcasecmp(dot, ".log") == 0 || strcasecmp(dot, ".lo_") == 0);
}

/* Hash of the names, inodes, sizes and modification times of the log
 * files in the watched folders. */
static uint64_t folder_signature(const struct aw_watch *w)
{
    uint64_t h = aw_hash64("", 0);

    for (size_t i = 0; i < w->ndirs; i++) {
        struct aw_os_dir *d = aw_os_dir_open(w->dirs[i]);
        const char *d_name;

        if (d == NULL) {
            h ^= aw_hash64(w->dirs[i], strlen(w->dirs[i]));   /* gone: a change too */
            continue;
        }
        while ((d_name = aw_os_dir_next(d)) != NULL) {
            char path[4096];
            struct aw_os_stat st;
            uint64_t v[4];

            if (!is_log_name(d_name) ||
                (size_t)snprintf(path, sizeof(path), "%s%c%s", w->dirs[i], AW_PATH_SEP, d_name) >=
                    sizeof(path) ||
                aw_os_stat(path, &st) != 0) {
                continue;
            }
            v[0] = st.ino;
            v[1] = st.size;
            v[2] = (uint64_t)st.mtime_sec;
            v[3] = (uint64_t)st.mtime_nsec;
            /* Order-independent: readdir order may change between calls. */
            h += aw_hash64(d_name, strlen(d_name)) ^ aw_hash64(v, sizeof(v));
        }
        aw_os_dir_close(d);
    }
    return h;
}

#if AW_HAVE_INOTIFY
static int add_notify(struct aw_watch *w, struct aw_err *err)
{
    const uint32_t mask = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                          IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        return AW_EIO;   /* fall back to polling */
    }
    for (size_t i = 0; i < w->ndirs; i++) {
        if (inotify_add_watch(w->fd, w->dirs[i], mask) < 0) {
            int saved = errno;
            close(w->fd);
            w->fd = -1;
            if (saved == ENOENT || saved == ENOTDIR) {
                return aw_err_set(err, AW_ENOTFOUND, "%s: cannot watch: %s", w->dirs[i],
                                  strerror(saved));
            }
            return AW_EIO;   /* out of watches etc.: poll instead */
        }
    }
    return AW_OK;
}

#else
/* No kernel notifications here (Windows): the caller polls. */
static int add_notify(struct aw_watch *w, struct aw_err *err)
{
    (void)w;
    (void)err;
    return AW_EIO;
}

#endif

int aw_watch_open(struct aw_watch **out, char *const dirs[], size_t n, unsigned poll_ms,
                  struct aw_err *err)
{
    struct aw_watch *w = calloc(1, sizeof(*w));
    int rc = AW_OK;

    *out = NULL;
    if (w == NULL || (w->dirs = calloc(n ? n : 1, sizeof(char *))) == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory");
        goto out;
    }
    w->fd = -1;
    for (size_t i = 0; i < n; i++) {
        struct aw_os_stat st;
        if (aw_os_stat(dirs[i], &st) != 0 || !st.is_dir) {
            rc = aw_err_set(err, AW_ENOTFOUND, "%s: no such folder to watch", dirs[i]);
            goto out;
        }
        w->dirs[i] = strdup(dirs[i]);
        if (w->dirs[i] == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory");
            goto out;
        }
        w->ndirs++;
    }
    w->mode = AW_WATCH_POLL;
    w->poll_ms = poll_ms > 0 ? poll_ms : AW_WATCH_POLL_DEFAULT_MS;
    if (poll_ms == 0) {
        rc = add_notify(w, err);
        if (rc == AW_OK) {
            w->mode = AW_WATCH_NOTIFY;
        } else if (rc != AW_EIO) {
            goto out;
        }
        rc = AW_OK;
    }
    if (w->mode == AW_WATCH_POLL) {
        w->signature = folder_signature(w);
    }
    *out = w;
    w = NULL;
out:
    aw_watch_close(&w);
    return rc;
}

#if AW_HAVE_INOTIFY
/* Does this event concern what we follow: a log file, the folder itself,
 * or lost events?  Anything else -- agentwatch's own database, when it
 * lives beside the logs -- must not wake us, or our writes would. */
static bool relevant(const struct inotify_event *ev)
{
    if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        return true;
    }
    return ev->len > 0 && is_log_name(ev->name);
}

/* Read every queued inotify event; true if one of them is relevant. */
static bool drain(int fd)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool any = false;

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            return any;
        }
        for (ssize_t at = 0; at + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + at);
            any = any || relevant(ev);
            at += (ssize_t)sizeof(struct inotify_event) + ev->len;
        }
    }
}

static int wait_notify(struct aw_watch *w, int timeout_ms, struct aw_err *err)
{
    struct pollfd p = { .fd = w->fd, .events = POLLIN };
    int rc = poll(&p, 1, timeout_ms);

    if (rc < 0) {
        if (errno == EINTR) {
            return 0;
        }
        return aw_err_set(err, AW_EIO, "waiting for file changes: %s", strerror(errno));
    }
    if (rc == 0 || !drain(w->fd)) {
        return 0;
    }
    /* Gather the rest of a burst. */
    while (poll(&p, 1, COALESCE_MS) > 0 && drain(w->fd)) {
    }
    return 1;
}

#else
static int wait_notify(struct aw_watch *w, int timeout_ms, struct aw_err *err)
{
    (void)w;
    (void)timeout_ms;
    (void)err;
    return 0;
}
#endif

static int wait_poll(struct aw_watch *w, int timeout_ms)
{
    int slice = timeout_ms < (int)w->poll_ms ? timeout_ms : (int)w->poll_ms;
    uint64_t sig;

    if (slice > 0 && aw_os_sleep_ms(slice) < 0 && errno == EINTR) {
        return 0;
    }
    sig = folder_signature(w);
    if (sig == w->signature) {
        return 0;
    }
    w->signature = sig;
    return 1;
}

int aw_watch_wait(struct aw_watch *w, int timeout_ms, struct aw_err *err)
{
    if (w->mode == AW_WATCH_NOTIFY) {
        return wait_notify(w, timeout_ms, err);
    }
    return wait_poll(w, timeout_ms);
}

enum aw_watch_mode aw_watch_get_mode(const struct aw_watch *w)
{
    return w->mode;
}

void aw_watch_close(struct aw_watch **wp)
{
    struct aw_watch *w = wp != NULL ? *wp : NULL;

    if (w == NULL) {
        return;
    }
#if AW_HAVE_INOTIFY
    if (w->fd >= 0) {
        close(w->fd);
    }
#endif
    for (size_t i = 0; i < w->ndirs; i++) {
        free(w->dirs[i]);
    }
    free(w->dirs);
    free(w);
    *wp = NULL;
}
