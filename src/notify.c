/*
 * Service-manager notifications and journal priorities (see notify.h).
 *
 * The protocol is systemd's sd_notify(3): newline-separated VAR=VALUE
 * assignments in one datagram to $NOTIFY_SOCKET.  An abstract socket is
 * written "@name"; the platform layer turns that into the leading NUL.
 */
#include "agentwatch/notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/platform.h"

/* A state line longer than this is cut: STATUS= is for one line. */
#define NOTIFY_MAX 1024

/* 1 with *out when s is a whole unsigned decimal number. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return 0;
    }
    *out = v;
    return 1;
}

int aw_notify_init(struct aw_notify *n, struct aw_err *err)
{
    char *usec, *pid;
    uint64_t interval = 0, owner = 0;

    memset(n, 0, sizeof(*n));
    errno = 0;
    n->socket = aw_os_getenv_dup("NOTIFY_SOCKET");
    if (n->socket == NULL && errno != 0) {
        return aw_err_set(err, AW_EIO, "cannot read $NOTIFY_SOCKET: %s", strerror(errno));
    }
    usec = aw_os_getenv_dup("WATCHDOG_USEC");
    pid = aw_os_getenv_dup("WATCHDOG_PID");
    /* $WATCHDOG_PID, when set, says which process the watchdog watches. */
    if (n->socket != NULL && parse_u64(usec, &interval) && interval > 0 &&
        (pid == NULL || (parse_u64(pid, &owner) && owner == (uint64_t)aw_os_getpid()))) {
        n->watchdog_ms = (int64_t)(interval / 2000);
        if (n->watchdog_ms == 0) {
            n->watchdog_ms = 1;
        }
    }
    free(usec);
    free(pid);
    return AW_OK;
}

void aw_notify_free(struct aw_notify *n)
{
    free(n->socket);
    n->socket = NULL;
}

int aw_notify_send(struct aw_notify *n, struct aw_err *err, const char *fmt, ...)
{
    char msg[NOTIFY_MAX];
    va_list ap;
    int len;

    if (n == NULL || n->socket == NULL) {
        return AW_OK;
    }
    va_start(ap, fmt);
    len = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (len < 0) {
        return aw_err_set(err, AW_EIO, "cannot format a notification");
    }
    if ((size_t)len >= sizeof(msg)) {
        len = (int)sizeof(msg) - 1;
    }
    if (aw_os_notify_send(n->socket, msg, (size_t)len) != 0) {
        return aw_err_set(err, AW_EIO, "cannot notify the service manager at %s: %s",
                          n->socket, strerror(errno));
    }
    return AW_OK;
}

void aw_notify_watchdog(struct aw_notify *n, int64_t now_ms)
{
    struct aw_err err = { 0 };

    if (n == NULL || n->watchdog_ms == 0 || now_ms - n->last_ping_ms < n->watchdog_ms) {
        return;
    }
    /* A lost ping is retried on the next call; the manager acts only
     * after a whole interval without one. */
    if (aw_notify_send(n, &err, "WATCHDOG=1") == AW_OK) {
        n->last_ping_ms = now_ms;
    }
}

const char *aw_journal_prefix(int priority)
{
    static const char *const prefixes[] = { "<0>", "<1>", "<2>", "<3>",
                                            "<4>", "<5>", "<6>", "<7>" };
    char *stream = aw_os_getenv_dup("JOURNAL_STREAM");
    unsigned long long dev, ino;
    int used = 0;
    bool journal = false;

    if (stream != NULL && sscanf(stream, "%llu:%llu%n", &dev, &ino, &used) == 2 &&
        stream[used] == '\0') {
        journal = aw_os_fd_is(2, dev, ino);
    }
    free(stream);
    if (!journal || priority < 0 || priority > 7) {
        return "";
    }
    return prefixes[priority];
}
