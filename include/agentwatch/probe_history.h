/*
 * What the stored probes say per server, for report (issue 12): the last
 * probe of each target and, when the server certificate changed, when it
 * changed and when failures naming the server began -- the correlation a
 * one-shot checker cannot make.
 *
 * Definitions (README, report):
 *  - a server is a target (host:port) with at least one stored probe;
 *  - its certificate changed when server_certs holds more than one
 *    certificate for it: the current one is the one seen last, the old one
 *    the one seen last before it; the change is dated by the new one's
 *    first sighting after the old one was last seen (the first probe
 *    after that moment, when the new one is a certificate seen before);
 *  - failures began at the first finding naming the server that is not a
 *    success (category other than health) after the old certificate was
 *    last seen: probe failures, and log findings whose target names the
 *    same host and port (a URL or host[:port], as probe reads targets).
 */
#ifndef AGENTWATCH_PROBE_HISTORY_H
#define AGENTWATCH_PROBE_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agentwatch/err.h"
#include "agentwatch/probe.h"
#include "agentwatch/query.h"
#include "agentwatch/store.h"
#include "agentwatch/tz.h"

struct aw_probe_server {
    char target[AW_PROBE_HOST_MAX + 16];   /* host:port */
    int64_t last_ms;                       /* the last probe */
    char verdict[32];                      /* its verdict */
    char detail[AW_FINDING_MESSAGE_MAX + 1];  /* its stored message */
    char sha1[41];                         /* certificate seen last; "" none */
    bool changed;                          /* more than one certificate seen */
    int64_t changed_ms;                    /* when the change was seen */
    char old_sha1[41];
    int64_t failures_ms;                   /* AW_TIME_NONE: none since */
};

struct aw_probe_servers {
    struct aw_probe_server *items;         /* by target */
    size_t count;
};

/* Every probed server with its history, as report's window and host
 * filter f see it (NULL: everything stored): the servers with a probe
 * in the window (by host f->host when set), their last probe there, the
 * certificates those probes saw and the failures in the window.  Without
 * a bound or host the certificate history is server_certs, which also
 * covers probes stored before per-probe certificates (probe_certs).  out
 * is always initialised; free it with aw_probe_servers_free(). */
int aw_probe_servers_load(struct aw_store *s, const struct aw_query_filter *f,
                          struct aw_probe_servers *out, struct aw_err *err);
void aw_probe_servers_free(struct aw_probe_servers *l);

/* The line report prints for a changed certificate, without a newline:
 * "certificate of X changed at T (OLD → NEW); failures began at T'" (or
 * "; no failure since"), times as aw_tz_format_short() writes them for
 * tz (NULL: UTC). */
void aw_probe_server_change_line(FILE *out, const struct aw_probe_server *sv,
                                 const struct aw_tz *tz);

/* report's renderings: a text section (nothing without servers) and the
 * JSON array ",\n \"servers\": [...]". */
void aw_probe_servers_text(FILE *out, const struct aw_probe_servers *l, const struct aw_tz *tz);
void aw_probe_servers_json(FILE *out, const struct aw_probe_servers *l);

#endif
