/*
 * Journal events (see journal.h).  The native protocol: fields
 * "KEY=VALUE\n"; a value holding a newline is written "KEY\n", its length
 * as a 64-bit little-endian integer, the value, "\n" (systemd.io,
 * "Native Journal Protocol").  One datagram per event: messages are short
 * (a follow message is at most 2 KiB), far below the socket's datagram
 * limit, so the memfd path for large entries is never needed.
 */
#include "agentwatch/journal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/err.h"
#include "agentwatch/platform.h"

void aw_journal_open(struct aw_journal *j)
{
    char *env = aw_os_getenv_dup("AGENTWATCH_JOURNAL_SOCKET");

    j->socket = env != NULL ? env : strdup(AW_JOURNAL_SOCKET);
    env = aw_os_getenv_dup("AGENTWATCH_SYSLOG_SOCKET");
    j->syslog_socket = env != NULL ? env : strdup(AW_SYSLOG_SOCKET);
}

void aw_journal_close(struct aw_journal *j)
{
    free(j->socket);
    free(j->syslog_socket);
    j->socket = NULL;
    j->syslog_socket = NULL;
}

/* Append field key=value to buf at *len; false when it does not fit. */
static bool put_field(char *buf, size_t size, size_t *len, const char *key, const char *value)
{
    size_t k = strlen(key), v = strlen(value);

    if (strchr(value, '\n') == NULL) {
        if (size - *len < k + v + 2) {
            return false;
        }
        memcpy(buf + *len, key, k);
        buf[*len + k] = '=';
        memcpy(buf + *len + k + 1, value, v);
        buf[*len + k + 1 + v] = '\n';
        *len += k + v + 2;
        return true;
    }
    if (size - *len < k + 1 + 8 + v + 1) {
        return false;
    }
    memcpy(buf + *len, key, k);
    buf[*len + k] = '\n';
    *len += k + 1;
    for (int i = 0; i < 8; i++) {
        buf[(*len)++] = (char)(((uint64_t)v >> (8 * i)) & 0xFF);
    }
    memcpy(buf + *len, value, v);
    buf[*len + v] = '\n';
    *len += v + 1;
    return true;
}

size_t aw_journal_encode(const struct aw_event *e, char *buf, size_t size)
{
    char prio[4];
    size_t len = 0;

    snprintf(prio, sizeof(prio), "%d", e->priority >= 0 && e->priority <= 7 ? e->priority : 6);
    if (!put_field(buf, size, &len, "MESSAGE", e->message != NULL ? e->message : "") ||
        !put_field(buf, size, &len, "PRIORITY", prio) ||
        !put_field(buf, size, &len, "SYSLOG_IDENTIFIER", "agentwatch") ||
        !put_field(buf, size, &len, "AGENTWATCH_EVENT", e->event) ||
        (e->rule != NULL && !put_field(buf, size, &len, "AGENTWATCH_RULE", e->rule)) ||
        (e->category != NULL && !put_field(buf, size, &len, "AGENTWATCH_CATEGORY", e->category)) ||
        (e->target != NULL && !put_field(buf, size, &len, "AGENTWATCH_TARGET", e->target))) {
        return 0;
    }
    return len;
}

/* " key=value" when value is set, the first one opening the bracket. */
static void put_pair(char *buf, size_t size, size_t *len, bool *open, const char *key,
                     const char *value)
{
    int n;

    if (value == NULL || *len >= size) {
        return;
    }
    n = snprintf(buf + *len, size - *len, "%s%s=%s", *open ? " " : " [", key, value);
    *len = n < 0 ? size : *len + (size_t)n;
    *open = true;
}

size_t aw_journal_syslog_encode(const struct aw_event *e, const char *stamp, long pid,
                                char *buf, size_t size)
{
    int prio = e->priority >= 0 && e->priority <= 7 ? e->priority : 6;
    size_t len, head;
    bool open = false;
    int n;

    n = snprintf(buf, size, "<%d>%s agentwatch[%ld]: %s: ", AW_SYSLOG_DAEMON + prio, stamp, pid,
                 e->event);
    if (n < 0 || (size_t)n >= size) {
        return 0;
    }
    head = (size_t)n;
    n = snprintf(buf + head, size - head, "%s", e->message != NULL ? e->message : "");
    len = n < 0 ? size : head + (size_t)n;
    put_pair(buf, size, &len, &open, "rule", e->rule);
    put_pair(buf, size, &len, &open, "category", e->category);
    put_pair(buf, size, &len, &open, "target", e->target);
    if (open && len < size) {
        n = snprintf(buf + len, size - len, "]");
        len = n < 0 ? size : len + (size_t)n;
    }
    if (len >= size) {
        return 0;
    }
    /* One line: syslog servers would cut the entry at a newline. */
    for (size_t i = head; i < len; i++) {
        buf[i] = buf[i] == '\n' || buf[i] == '\r' ? ' ' : buf[i];
    }
    return len;
}

/* The Event Log's IDs, the MessageIds of src/events.mc (a contract:
 * README "Windows Event Log"). */
static const struct {
    const char *event;
    unsigned id;
    int type;
} eventlog_ids[] = {
    { AW_EVENT_INCIDENT_STARTED, 1000, AW_EVENTLOG_WARNING },
    { AW_EVENT_INCIDENT_ENDED, 1001, AW_EVENTLOG_INFORMATION },
    { AW_EVENT_PROBE_VERDICT, 1002, AW_EVENTLOG_WARNING },
    { AW_EVENT_DATA_GAP, 1003, AW_EVENTLOG_WARNING },
    { AW_EVENT_RULES_RELOADED, 1004, AW_EVENTLOG_INFORMATION },
    { AW_EVENT_RULES_INVALID, 1005, AW_EVENTLOG_ERROR },
    { AW_EVENT_DB_ERROR, 1006, AW_EVENTLOG_ERROR },
};

int aw_journal_eventlog_id(const char *event, unsigned *id, int *type)
{
    for (size_t i = 0; i < sizeof(eventlog_ids) / sizeof(eventlog_ids[0]); i++) {
        if (strcmp(event, eventlog_ids[i].event) == 0) {
            *id = eventlog_ids[i].id;
            *type = eventlog_ids[i].type;
            return AW_OK;
        }
    }
    return AW_ENOTFOUND;
}

/* e to the Event Log: %1 the message, then the fields its message in
 * src/events.mc names (category and target, or the rule). */
static bool send_eventlog(const struct aw_event *e)
{
    const char *s[3] = { e->message != NULL ? e->message : "", "", "" };
    unsigned id, n = 1;
    int type;

    if (aw_journal_eventlog_id(e->event, &id, &type) != AW_OK) {
        return false;
    }
    if (id == 1000) {
        s[1] = e->category != NULL ? e->category : "";
        s[2] = e->target != NULL ? e->target : "";
        n = 3;
    } else if (id == 1002) {
        s[1] = e->rule != NULL ? e->rule : "";
        s[2] = e->target != NULL ? e->target : "";
        n = 3;
        /* An ok verdict is good news, not a warning. */
        type = e->priority >= 6 ? AW_EVENTLOG_INFORMATION : type;
    } else if (id == 1003) {
        s[1] = e->rule != NULL ? e->rule : "";
        n = 2;
    }
    return aw_os_eventlog(type, id, s, n) == 0;
}

int aw_journal_send(const struct aw_journal *j, const struct aw_event *e)
{
    char buf[4096], stamp[16];
    size_t len;

    if (send_eventlog(e)) {
        return 3;
    }
    len = aw_journal_encode(e, buf, sizeof(buf));

    if (j->socket != NULL && len > 0 && aw_os_notify_send(j->socket, buf, len) == 0) {
        return 1;
    }
    aw_os_syslog_time(stamp);
    len = aw_journal_syslog_encode(e, stamp, aw_os_getpid(), buf, sizeof(buf));
    if (j->syslog_socket != NULL && len > 0 &&
        aw_os_notify_send(j->syslog_socket, buf, len) == 0) {
        return 2;
    }
    return 0;
}
