/*
 * What every probe engine shares (src/probe_judge.c): the URL records of
 * a chain, the texts of each step's outcome and the verdict they set.
 * An engine (OpenSSL on Linux, CryptoAPI on Windows) finds the facts --
 * what the server sent, which issuer is missing, which certificate is
 * expired, which CRL URL failed -- and hands them over as plain strings;
 * the wording, the order of the verdicts and the JSON are the same for
 * every engine, so the contract of README "probe" cannot drift between
 * them.  Private; not installed.  Needs no socket header: it builds for
 * every platform.
 */
#ifndef AGENTWATCH_PROBE_ENGINE_H
#define AGENTWATCH_PROBE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/probe.h"

/* TLS alert descriptions (RFC 8446 6.2) the verdicts tell apart. */
#define AW_TLS_ALERT_HANDSHAKE_FAILURE 40
#define AW_TLS_ALERT_PROTOCOL_VERSION 70
#define AW_TLS_ALERT_INSUFFICIENT_SECURITY 71

/* Start r, zeroed, for target t at the wall clock's now. */
void aw_probe_result_start(struct aw_probe_result *r, const struct aw_probe_target *t);

/* The URL of kind ("crl", "aia", "ocsp") in r, added when new (len bytes
 * of url, not NUL-terminated); NULL when r holds AW_PROBE_URL_MAX. */
struct aw_probe_url *aw_probe_url_add(struct aw_probe_result *r, const char *kind,
                                      const char *url, size_t len);

/* "url: error; url2" of the URLs idx[0..n) of r, into out. */
void aw_probe_urls_text(const struct aw_probe_result *r, const size_t *idx, size_t n, char *out,
                        size_t size);

/* The handshake failed.  alert: the alert the server sent (-1: none),
 * named alert_name; bytes: what the server sent; timed_out: the deadline
 * passed; reason: the engine's own words for the failure. */
struct aw_probe_tls_failure {
    int alert;
    const char *alert_name;
    bool server_hello;
    uint64_t bytes;
    bool timed_out;
    const char *reason;
};
void aw_probe_tls_failed(struct aw_probe_result *r, int64_t *t0, unsigned timeout_ms,
                         const struct aw_probe_tls_failure *f);

/* The handshake completed: protocol and cipher as the engine names them,
 * nsent certificates received (0: the tls-protocol verdict). */
void aw_probe_tls_done(struct aw_probe_result *r, int64_t *t0, const char *protocol,
                       const char *cipher, size_t nsent);

/* What the engine found out about the chain, after building it as sent
 * and with issuers fetched from AIA. */
struct aw_probe_facts {
    int nsent;
    bool issuer_missing;      /* no chain up to a trust anchor */
    bool as_sent_missing;     /* the server's certificates alone did not
                                 reach it (AIA may have rescued it) */
    const char *aia_used;     /* the caIssuers URL fetched last ("") */
    const char *top;          /* subject of the top of what was built */
    const char *top_issuer;   /* its issuer (the missing one) */
    const char *untrusted;    /* the untrusted certificate; NULL: trusted */
    const char *trust_error;  /* the engine's words for it */
    const char *store;        /* "--ca-file", "the system trust store" */
    const char *bad_time;     /* an expired or not yet valid certificate;
                                 NULL: all valid now */
    int bad_time_depth;
    bool expired;             /* bad_time expired (else: not yet valid) */
    const char *bad_time_when;
    bool name_ok;
};

/* The steps chain, trust, validity and name from the facts. */
void aw_probe_judge(struct aw_probe_result *r, int64_t *t0, const char *host,
                    const struct aw_probe_facts *f);

/* Revocation outcomes: not checked (why), a certificate revoked, the
 * status of who unknown (why: the engine's words, urls: its CRL URLs and
 * their errors), or every certificate checked. */
void aw_probe_revocation_skip(struct aw_probe_result *r, int64_t *t0, const char *why);
void aw_probe_revoked(struct aw_probe_result *r, int64_t *t0, const char *who, int depth);
void aw_probe_revocation_offline(struct aw_probe_result *r, int64_t *t0, const char *who,
                                 const char *why, const char *urls);
void aw_probe_revocation_ok(struct aw_probe_result *r, int64_t *t0);

/* After the steps: the verdict when none failed (and the note for a
 * chain only AIA completes), and "not reached" for steps not run. */
void aw_probe_finish(struct aw_probe_result *r, const struct aw_probe_opts *o,
                     const struct aw_probe_facts *f);

#endif
