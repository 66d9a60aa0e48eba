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

#include "agentwatch/platform.h"

void aw_journal_open(struct aw_journal *j)
{
    char *env = aw_os_getenv_dup("AGENTWATCH_JOURNAL_SOCKET");

    j->socket = env != NULL ? env : strdup(AW_JOURNAL_SOCKET);
}

void aw_journal_close(struct aw_journal *j)
{
    free(j->socket);
    j->socket = NULL;
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

int aw_journal_send(const struct aw_journal *j, const struct aw_event *e)
{
    char buf[4096], line[2200];
    size_t len = aw_journal_encode(e, buf, sizeof(buf));

    if (j->socket != NULL && len > 0 && aw_os_notify_send(j->socket, buf, len) == 0) {
        return 1;
    }
    snprintf(line, sizeof(line), "%s: %s", e->event, e->message != NULL ? e->message : "");
    aw_os_syslog(e->priority, line);
    return 0;
}
