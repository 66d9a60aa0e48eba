/*
 * The engine-neutral part of a probe (see probe_engine.h): URL records,
 * and each step's outcome and verdict in the same words for every engine.
 */
#include "probe_engine.h"

#include <stdio.h>
#include <string.h>

#include "agentwatch/timeutil.h"

void aw_probe_result_start(struct aw_probe_result *r, const struct aw_probe_target *t)
{
    memset(r, 0, sizeof(*r));
    r->target = *t;
    r->started_ms = aw_time_now_ms();
}

struct aw_probe_url *aw_probe_url_add(struct aw_probe_result *r, const char *kind,
                                      const char *url, size_t len)
{
    char text[AW_PROBE_TEXT_MAX];
    struct aw_probe_url *u;

    snprintf(text, sizeof(text), "%.*s", (int)(len < sizeof(text) ? len : sizeof(text) - 1),
             url);
    for (size_t i = 0; i < r->nurls; i++) {
        if (strcmp(r->urls[i].kind, kind) == 0 && strcmp(r->urls[i].url, text) == 0) {
            return &r->urls[i];
        }
    }
    if (r->nurls >= AW_PROBE_URL_MAX) {
        return NULL;
    }
    u = &r->urls[r->nurls++];
    u->kind = kind;
    memcpy(u->url, text, sizeof(u->url));
    return u;
}

void aw_probe_urls_text(const struct aw_probe_result *r, const size_t *idx, size_t n, char *out,
                        size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        const struct aw_probe_url *u = &r->urls[idx[i]];
        used += (size_t)snprintf(out + used, size - used, "%s%s%s%s", used ? "; " : "", u->url,
                                 u->error[0] ? ": " : "", u->error);
    }
}

/* ---- tls ----------------------------------------------------------- */

void aw_probe_tls_failed(struct aw_probe_result *r, int64_t *t0, unsigned timeout_ms,
                         const struct aw_probe_tls_failure *f)
{
    unsigned long long bytes = (unsigned long long)f->bytes;

    if (f->alert >= 0) {
        /* Before its ServerHello a server answers "no common version or
         * suite" with protocol_version, insufficient_security or
         * handshake_failure (RFC 8446 6.2, RFC 5246 7.2.2). */
        bool protocol = !f->server_hello && (f->alert == AW_TLS_ALERT_PROTOCOL_VERSION ||
                                             f->alert == AW_TLS_ALERT_INSUFFICIENT_SECURITY ||
                                             f->alert == AW_TLS_ALERT_HANDSHAKE_FAILURE);
        aw_probe_check_set(r, AW_PS_TLS, AW_PC_FAIL, t0, "the server sent the alert '%s' (%d)%s",
                           f->alert_name, f->alert, f->server_hello ? " after its ServerHello" :
                           " instead of a ServerHello");
        aw_probe_verdict_set(r, protocol ? AW_PV_TLS_PROTOCOL : AW_PV_TLS_ALERT,
                             "The server ended the handshake with the TLS alert '%s' (%d)%s.",
                             f->alert_name, f->alert, protocol ? ": no TLS version or cipher "
                             "suite in common" : "");
    } else if (bytes == 0) {
        const char *how = f->timed_out ? "stayed silent" : "closed the connection";
        aw_probe_check_set(r, AW_PS_TLS, AW_PC_FAIL, t0, "ClientHello sent; the server %s "
                           "without sending a byte%s%s", how, f->timed_out ? "" : ": ",
                           f->timed_out ? "" : f->reason);
        aw_probe_verdict_set(r, AW_PV_TLS_NO_SERVERHELLO, "The server accepted the TCP "
                             "connection and the ClientHello, then %s without a ServerHello%s.",
                             how, f->timed_out ? " until the timeout" : "");
    } else if (f->timed_out) {
        aw_probe_check_set(r, AW_PS_TLS, AW_PC_FAIL, t0, "the handshake did not finish within "
                           "%u ms (%llu bytes received, ServerHello %s)", timeout_ms, bytes,
                           f->server_hello ? "received" : "not received");
        aw_probe_verdict_set(r, AW_PV_TLS_PROTOCOL, "The TLS handshake did not finish within "
                             "%u ms: the server sent %llu bytes but no complete handshake.",
                             timeout_ms, bytes);
    } else {
        aw_probe_check_set(r, AW_PS_TLS, AW_PC_FAIL, t0, "%s after %llu bytes from the server "
                           "(%s)", f->reason, bytes, f->server_hello ? "after its ServerHello"
                           : "no ServerHello: this port may not speak TLS");
        aw_probe_verdict_set(r, AW_PV_TLS_PROTOCOL, "The TLS handshake failed: %s%s.",
                             f->reason, f->server_hello ? "" : " (the server's answer is not "
                             "TLS)");
    }
}

void aw_probe_tls_done(struct aw_probe_result *r, int64_t *t0, const char *protocol,
                       const char *cipher, size_t nsent)
{
    if (nsent == 0) {
        aw_probe_check_set(r, AW_PS_TLS, AW_PC_FAIL, t0, "%s: the server sent no certificate",
                           protocol);
        aw_probe_verdict_set(r, AW_PV_TLS_PROTOCOL, "The server completed the handshake "
                             "without a certificate (an anonymous cipher suite).");
        return;
    }
    aw_probe_check_set(r, AW_PS_TLS, AW_PC_OK, t0, "%s, %s; the server sent %zu certificate%s",
                       protocol, cipher, nsent, nsent == 1 ? "" : "s");
}

/* ---- chain, trust, validity, name ---------------------------------- */

static void judge_chain(struct aw_probe_result *r, int64_t *t0, const char *host,
                        const struct aw_probe_facts *f)
{
    const char *s = f->nsent == 1 ? "" : "s";

    if (f->issuer_missing) {
        aw_probe_check_set(r, AW_PS_CHAIN, AW_PC_FAIL, t0, "the issuer of '%s' ('%s') is "
                           "neither sent by the server (%d certificate%s), nor in the trust "
                           "store, nor fetchable from AIA%s", f->top, f->top_issuer, f->nsent, s,
                           f->aia_used[0] ? "" : " (no reachable caIssuers URL)");
        aw_probe_verdict_set(r, AW_PV_CHAIN_INCOMPLETE, "The chain of %s cannot be built: the "
                             "issuer '%s' of '%s' is not sent by the server and cannot be "
                             "fetched.", host, f->top_issuer, f->top);
    } else if (f->as_sent_missing) {
        aw_probe_check_set(r, AW_PS_CHAIN, AW_PC_OK, t0, "the server sends %s (%d certificate%s);"
                           " the missing issuer was fetched from AIA %s: Windows agents "
                           "(CryptoAPI) recover this way, OpenSSL and Java clients fail",
                           f->nsent == 1 ? "only its own certificate" : "an incomplete chain",
                           f->nsent, s, f->aia_used);
    } else {
        aw_probe_check_set(r, AW_PS_CHAIN, AW_PC_OK, t0, "complete as sent (%d certificate%s) "
                           "up to '%s'", f->nsent, s, f->top);
    }
}

static void judge_trust(struct aw_probe_result *r, int64_t *t0, const struct aw_probe_facts *f)
{
    if (f->untrusted != NULL) {
        aw_probe_check_set(r, AW_PS_TRUST, AW_PC_FAIL, t0, "'%s': %s (%s)", f->untrusted,
                           f->trust_error, f->store);
        aw_probe_verdict_set(r, AW_PV_ROOT_UNTRUSTED, "The chain ends at '%s', which %s does "
                             "not trust: %s.", f->untrusted, f->store, f->trust_error);
    } else if (f->issuer_missing) {
        aw_probe_check_set(r, AW_PS_TRUST, AW_PC_SKIP, t0, "no chain to judge");
    } else {
        aw_probe_check_set(r, AW_PS_TRUST, AW_PC_OK, t0, "anchored at '%s' (%s)", f->top,
                           f->store);
    }
}

static void judge_validity(struct aw_probe_result *r, int64_t *t0,
                           const struct aw_probe_facts *f)
{
    const char *what = f->expired ? "expired at" : "is valid only from";

    if (f->bad_time == NULL) {
        aw_probe_check_set(r, AW_PS_VALIDITY, AW_PC_OK, t0, "every certificate is valid now; "
                           "the server certificate until %s", r->chain[0].not_after);
        return;
    }
    aw_probe_check_set(r, AW_PS_VALIDITY, AW_PC_FAIL, t0, "'%s' (depth %d) %s %s", f->bad_time,
                       f->bad_time_depth, what, f->bad_time_when);
    aw_probe_verdict_set(r, f->expired ? AW_PV_CERT_EXPIRED : AW_PV_CERT_NOT_YET_VALID,
                         "The %s certificate '%s' %s %s.", f->bad_time_depth == 0 ? "server" :
                         "CA", f->bad_time, what, f->bad_time_when);
}

static void judge_name(struct aw_probe_result *r, int64_t *t0, const char *host, bool ok)
{
    const char *names = r->chain[0].san[0] ? r->chain[0].san : r->chain[0].subject;

    if (ok) {
        aw_probe_check_set(r, AW_PS_NAME, AW_PC_OK, t0, "%s matches (%s)", host, names);
        return;
    }
    aw_probe_check_set(r, AW_PS_NAME, AW_PC_FAIL, t0, "%s is not among the names of the "
                       "certificate: %s", host, names);
    aw_probe_verdict_set(r, AW_PV_NAME_MISMATCH, "The server certificate is not issued for %s; "
                         "it names %s.", host, names);
}

void aw_probe_judge(struct aw_probe_result *r, int64_t *t0, const char *host,
                    const struct aw_probe_facts *f)
{
    judge_chain(r, t0, host, f);
    judge_trust(r, t0, f);
    judge_validity(r, t0, f);
    judge_name(r, t0, host, f->name_ok);
}

/* ---- revocation ---------------------------------------------------- */

void aw_probe_revocation_skip(struct aw_probe_result *r, int64_t *t0, const char *why)
{
    aw_probe_check_set(r, AW_PS_REVOCATION, AW_PC_SKIP, t0, "%s", why);
}

void aw_probe_revoked(struct aw_probe_result *r, int64_t *t0, const char *who, int depth)
{
    aw_probe_check_set(r, AW_PS_REVOCATION, AW_PC_FAIL, t0, "'%s' (serial %s) is revoked", who,
                       depth >= 0 && (size_t)depth < r->nchain ? r->chain[depth].serial : "?");
    aw_probe_verdict_set(r, AW_PV_REVOKED, "The %s certificate '%s' is revoked: its CA's CRL or "
                         "OCSP responder says so.", depth == 0 ? "server" : "CA", who);
}

void aw_probe_revocation_offline(struct aw_probe_result *r, int64_t *t0, const char *who,
                                 const char *why, const char *urls)
{
    aw_probe_check_set(r, AW_PS_REVOCATION, AW_PC_FAIL, t0, "'%s': %s (%s)", who, why, urls);
    aw_probe_verdict_set(r, AW_PV_REVOCATION_OFFLINE, "The revocation status of '%s' cannot be "
                         "checked: %s.", who, urls);
}

/* An OCSP URL the engine did not ask stays "skip" (the Windows engine
 * leaves the asking to CryptoAPI and records no per-URL outcome). */
void aw_probe_revocation_ok(struct aw_probe_result *r, int64_t *t0)
{
    int ncrl = 0, nocsp = 0, named = 0;

    for (size_t i = 0; i < r->nurls; i++) {
        named += strcmp(r->urls[i].kind, "aia") != 0;
        ncrl += strcmp(r->urls[i].kind, "crl") == 0 && r->urls[i].result == AW_PC_OK;
        nocsp += strcmp(r->urls[i].kind, "ocsp") == 0 && r->urls[i].result == AW_PC_OK;
    }
    aw_probe_check_set(r, AW_PS_REVOCATION, AW_PC_OK, t0, "%d CRL%s fetched, %d OCSP answer%s, "
                       "no certificate of the chain revoked%s", ncrl, ncrl == 1 ? "" : "s",
                       nocsp, nocsp == 1 ? "" : "s", named == 0 ?
                       " (the chain names no CRL distribution point or OCSP URL)" : "");
}

void aw_probe_finish(struct aw_probe_result *r, const struct aw_probe_opts *o,
                     const struct aw_probe_facts *f)
{
    const char *host = r->target.host;

    if (!r->decided && f != NULL && f->as_sent_missing) {
        aw_probe_verdict_set(r, AW_PV_OK, "%s works for Windows agents only: the server sends "
                             "only %s, and the missing issuer is fetched from AIA %s; OpenSSL "
                             "and Java clients fail.", host, f->nsent == 1 ?
                             "its own certificate" : "part of its chain", f->aia_used);
    }
    aw_probe_verdict_set(r, AW_PV_OK, "%s answers with a complete, trusted, valid certificate "
                         "for this name%s.", host, o->no_revocation ?
                         " (revocation not checked)" : ", not revoked");
    for (int s = 0; s < AW_PS_COUNT; s++) {
        if (r->checks[s].detail[0] == '\0') {
            snprintf(r->checks[s].detail, sizeof(r->checks[s].detail), "not reached");
        }
    }
}
