/*
 * Structured events for the system log (issue 13): the state changes an
 * operator searches for -- an incident started or ended, rules reloaded
 * or not, a data gap, a database error while following -- as journal
 * entries with fields of their own,
 * AGENTWATCH_EVENT=, AGENTWATCH_RULE= and PRIORITY=, so that
 * `journalctl AGENTWATCH_EVENT=data-gap` finds them without parsing text.
 *
 * Sent with the journal's native protocol (one datagram of KEY=VALUE
 * fields to /run/systemd/journal/socket; systemd.io, "Native Journal
 * Protocol"), written here like the sd_notify side of notify.c rather than
 * linking libsystemd.  Where there is no journal socket the event goes to
 * syslog: one datagram in the BSD syslog format syslog(3) writes
 * ("<PRI>Mmm dd hh:mm:ss agentwatch[PID]: EVENT: message [rule=R
 * category=C target=T]", facility daemon; RFC 3164) to /dev/log, built
 * here rather than by syslog(3) so that the socket can be another one and
 * the fields ride along as key=value pairs that syslog servers and SIEMs
 * split without a parser of their own.  On Windows they go to the
 * Application event log, source "agentwatch", with the event IDs of
 * src/events.mc (aw_journal_eventlog_id()).
 */
#ifndef AGENTWATCH_JOURNAL_H
#define AGENTWATCH_JOURNAL_H

#include <stddef.h>

/* The journal's socket unless $AGENTWATCH_JOURNAL_SOCKET names another
 * (tests bind their own). */
#define AW_JOURNAL_SOCKET "/run/systemd/journal/socket"

/* The local syslog socket unless $AGENTWATCH_SYSLOG_SOCKET names another
 * (syslog(3)'s _PATH_LOG). */
#define AW_SYSLOG_SOCKET "/dev/log"

/* Facility daemon (RFC 3164 4.1.1: 3), times 8, added to the priority. */
#define AW_SYSLOG_DAEMON 24

/* Event names, the values of AGENTWATCH_EVENT=, and on Windows the event
 * IDs of the Application log (source "agentwatch", src/events.mc). */
#define AW_EVENT_RULES_RELOADED "rules-reloaded"
#define AW_EVENT_RULES_INVALID "rules-reload-failed"
#define AW_EVENT_DATA_GAP "data-gap"
#define AW_EVENT_DB_ERROR "database-error"
#define AW_EVENT_INCIDENT_STARTED "incident-started"
#define AW_EVENT_INCIDENT_ENDED "incident-ended"
#define AW_EVENT_PROBE_VERDICT "probe-verdict"

struct aw_journal {
    char *socket;             /* owned; NULL: $AGENTWATCH_JOURNAL_SOCKET
                                 could not be read, events are dropped */
    char *syslog_socket;      /* owned; the same for $AGENTWATCH_SYSLOG_SOCKET */
};

struct aw_event {
    const char *event;        /* AW_EVENT_* */
    int priority;             /* syslog's, AW_PRIO_* of notify.h */
    const char *rule;         /* the rule concerned, or NULL */
    const char *message;      /* one line for humans (MESSAGE=) */
    const char *category;     /* AGENTWATCH_CATEGORY= (an incident's), or NULL */
    const char *target;       /* AGENTWATCH_TARGET= (its server), or NULL */
};

/* Where events go; read once.  Free with aw_journal_close(). */
void aw_journal_open(struct aw_journal *j);
void aw_journal_close(struct aw_journal *j);

/* e in the native protocol into buf (size bytes): MESSAGE, PRIORITY,
 * SYSLOG_IDENTIFIER, AGENTWATCH_EVENT and, when set, AGENTWATCH_RULE,
 * AGENTWATCH_CATEGORY and AGENTWATCH_TARGET; a
 * value with a newline in the protocol's binary form.  Returns the
 * length, 0 when it does not fit. */
size_t aw_journal_encode(const struct aw_event *e, char *buf, size_t size);

/* e as one BSD syslog datagram into buf (size bytes, NUL-terminated):
 * "<PRI>STAMP agentwatch[PID]: EVENT: message", then " [rule=R
 * category=C target=T]" with the fields that are set; PRI is facility
 * daemon plus the priority; newlines in the message become spaces.  STAMP
 * is aw_os_syslog_time()'s.  Returns the length, 0 when it does not fit. */
size_t aw_journal_syslog_encode(const struct aw_event *e, const char *stamp, long pid,
                                char *buf, size_t size);

/* The Windows Event Log ID and type (AW_EVENTLOG_*) of an event name:
 * incident-started 1000 warning, incident-ended 1001 information,
 * probe-verdict 1002 warning (information when ok), data-gap 1003 warning, rules-reloaded
 * 1004 information, rules-reload-failed 1005 error, database-error 1006
 * error.  AW_ENOTFOUND for another name. */
int aw_journal_eventlog_id(const char *event, unsigned *id, int *type);

/* Send e: on Windows to the Event Log; else to the journal, else to
 * syslog.  Returns 3 when the Event Log took it, 1 when the journal did, 2
 * when syslog did, 0 when none could; never fails the caller: a log that
 * cannot be written must not stop following. */
int aw_journal_send(const struct aw_journal *j, const struct aw_event *e);

#endif
