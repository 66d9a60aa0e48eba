/*
 * The service manager's side channel: systemd's notification protocol
 * (sd_notify(3): "READY=1", "STATUS=...", "WATCHDOG=1" datagrams to the
 * unix socket named by $NOTIFY_SOCKET, a path or an abstract "@name"),
 * written here rather than linking libsystemd for three messages, and the
 * journal's priority prefixes for stderr lines.
 *
 * Without $NOTIFY_SOCKET (a terminal, another init, Windows) every call
 * is a no-op, so the follow loop calls them unconditionally.
 */
#ifndef AGENTWATCH_NOTIFY_H
#define AGENTWATCH_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "agentwatch/err.h"

struct aw_notify {
    char *socket;             /* $NOTIFY_SOCKET (owned), NULL: none */
    int64_t watchdog_ms;      /* ping interval: half of $WATCHDOG_USEC; 0: no
                                 watchdog (unset, or $WATCHDOG_PID names
                                 another process) */
    int64_t last_ping_ms;
};

/* Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once. */
int aw_notify_init(struct aw_notify *n, struct aw_err *err);

void aw_notify_free(struct aw_notify *n);

/* Send one state line or several ("READY=1\nSTATUS=..."), printf-style.
 * AW_OK also when there is no socket; AW_EIO with the socket's name when
 * the datagram could not be sent. */
int aw_notify_send(struct aw_notify *n, struct aw_err *err, const char *fmt, ...)
    AW_PRINTF(3, 4);

/* "WATCHDOG=1" when half the watchdog interval has passed since the last
 * one (cheap to call often).  now_ms: aw_time_now_ms(). */
void aw_notify_watchdog(struct aw_notify *n, int64_t now_ms);

/* Journal priorities (syslog's), as systemd reads them from a "<N>"
 * prefix on a stderr line (SyslogLevelPrefix=, on by default). */
enum { AW_PRIO_ERR = 3, AW_PRIO_WARNING = 4, AW_PRIO_NOTICE = 5, AW_PRIO_INFO = 6 };

/* "<N>" when stderr is the journal ($JOURNAL_STREAM names stderr's
 * device and inode, as systemd documents for telling it from a
 * redirection), else "": prefix a stderr line with it. */
const char *aw_journal_prefix(int priority);

#endif
