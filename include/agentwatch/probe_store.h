/*
 * Probe results in the store (issue 12): every probe becomes a finding
 * (rule "probe.<verdict>", the verdict's category, target host:port, code
 * the verdict) so that report, status and export see it like a log
 * finding, and the server certificate seen is remembered per target
 * (server_certs: sha256, serial, subject, issuer, not_after, first and
 * last seen) for the "certificate changed" correlation.
 *
 * Probe findings belong to one pseudo file row (path "agentwatch probe",
 * device and inode -1, an empty head, so it never matches a real log
 * file); their offset is a sequence number within it.
 */
#ifndef AGENTWATCH_PROBE_STORE_H
#define AGENTWATCH_PROBE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/probe.h"
#include "agentwatch/store.h"

/* Record r as seen from host (the endpoint's name) at r->started_ms, in
 * its own transaction. */
int aw_probe_store_result(struct aw_store *s, const struct aw_probe_result *r,
                          const char *host, struct aw_err *err);

/* The targets (host:port) of findings with a target recorded at or after
 * since_ms, each once, calling fn for each; stops at fn's first non-OK. */
typedef int (*aw_probe_target_fn)(void *ctx, const char *target, struct aw_err *err);
int aw_probe_store_targets(struct aw_store *s, int64_t since_ms, aw_probe_target_fn fn,
                           void *ctx, struct aw_err *err);

/* The newest stored probe (the one stored last). */
struct aw_probe_last {
    bool found;
    int64_t time_ms;          /* when it started */
    char *target;             /* host:port (owned) */
    char *verdict;            /* the verdict's name, e.g. "revocation-offline" */
    char *message;            /* "probe TARGET: VERDICT: detail" */
};

/* The newest probe into *out (zeroed first; found false when the store
 * holds none).  Caller frees with aw_probe_last_free(), also after an
 * error. */
int aw_probe_store_last(struct aw_store *s, struct aw_probe_last *out, struct aw_err *err);

void aw_probe_last_free(struct aw_probe_last *p);

#endif
