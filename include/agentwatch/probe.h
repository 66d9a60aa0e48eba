/*
 * Probe: check a management server from the endpoint, as the agent does,
 * and name the cause of a failure with one verdict (issue 12).
 *
 *     target -> dns -> tcp -> tls -> chain -> trust -> validity -> name
 *            -> revocation -> verdict
 *
 * The verdict is the first step that fails, from a fixed list in the order
 * the steps run (enum aw_probe_verdict; the list, the names and the order
 * are a contract, documented in README.md).  Every verdict carries cause
 * and remedy text (src/probe_verdicts.c, the one table of them).
 *
 * The engine is the agent's own: OpenSSL 3 on Linux
 * (src/probe_tls_openssl.c), CryptoAPI and Schannel on Windows
 * (src/probe_engine_win32.c, src/probe_win32_tls.c).  src/probe.c holds what is common:
 * targets, the result, and its text and JSON forms; src/probe_judge.c
 * the texts of each step and the verdicts, from the facts an engine
 * finds (src/probe_engine.h).
 *
 * A probe never hangs: every network step is bounded by the timeout, and
 * every byte read from the network is bounded in size.
 */
#ifndef AGENTWATCH_PROBE_H
#define AGENTWATCH_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agentwatch/err.h"

/* In the order the steps run; the verdict is the first failing one. */
enum aw_probe_verdict {
    AW_PV_DNS_FAILURE,
    AW_PV_TCP_REFUSED,
    AW_PV_TCP_TIMEOUT,
    AW_PV_TLS_NO_SERVERHELLO,
    AW_PV_TLS_ALERT,
    AW_PV_TLS_PROTOCOL,
    AW_PV_CHAIN_INCOMPLETE,
    AW_PV_ROOT_UNTRUSTED,
    AW_PV_CERT_EXPIRED,
    AW_PV_CERT_NOT_YET_VALID,
    AW_PV_NAME_MISMATCH,
    AW_PV_REVOKED,
    AW_PV_REVOCATION_OFFLINE,
    AW_PV_OK,
    AW_PV_COUNT
};

/* The steps, in the order they run. */
enum aw_probe_step {
    AW_PS_DNS,
    AW_PS_TCP,
    AW_PS_TLS,
    AW_PS_CHAIN,
    AW_PS_TRUST,
    AW_PS_VALIDITY,
    AW_PS_NAME,
    AW_PS_REVOCATION,
    AW_PS_COUNT
};

enum aw_probe_check_result { AW_PC_SKIP, AW_PC_OK, AW_PC_FAIL };

struct aw_probe_verdict_info {
    const char *name;         /* "tls-no-serverhello" */
    const char *category;     /* the finding's category: resolution,
                                 connection, ssl, health */
    const char *cause;
    const char *remedy;
};

/* The row of verdict v (v < AW_PV_COUNT). */
const struct aw_probe_verdict_info *aw_probe_verdict_info(enum aw_probe_verdict v);

/* The verdict named name; false when there is none. */
bool aw_probe_verdict_by_name(const char *name, enum aw_probe_verdict *v);

/* "dns", "tcp", ... */
const char *aw_probe_step_name(enum aw_probe_step s);

/* Limits, in one place. */
#define AW_PROBE_HOST_MAX 253
#define AW_PROBE_TARGET_MAX 1024
#define AW_PROBE_ADDR_MAX 16        /* addresses kept from DNS */
#define AW_PROBE_CHAIN_MAX 12       /* certificates kept: sent + fetched */
#define AW_PROBE_URL_MAX 32         /* CDP, AIA and OCSP URLs kept */
#define AW_PROBE_AIA_ROUNDS 4       /* issuers fetched one above another */
#define AW_PROBE_CERT_BYTES_MAX (100u * 1024)        /* an AIA response */
#define AW_PROBE_CRL_BYTES_MAX (16u * 1024 * 1024)   /* a CRL response */
#define AW_PROBE_TIMEOUT_DEFAULT_S 10
#define AW_PROBE_TIMEOUT_MAX_S 600
#define AW_PROBE_TEXT_MAX 512       /* one field of a certificate or URL */
#define AW_PROBE_DETAIL_MAX 1024

struct aw_probe_target {
    char text[AW_PROBE_TARGET_MAX];   /* as given */
    char host[AW_PROBE_HOST_MAX + 1]; /* without brackets */
    unsigned port;
};

/* Parse "https://host[:port][/path]" or "host[:port]" ("[v6]:port" for an
 * IPv6 literal); the port defaults to 443.  AW_ESYNTAX with err naming
 * the problem. */
int aw_probe_parse_target(const char *text, struct aw_probe_target *t, struct aw_err *err);

struct aw_probe_opts {
    const char *ca_file;      /* trust exactly these anchors; NULL: the
                                 system's store */
    unsigned timeout_ms;      /* bounds every network step */
    bool no_revocation;
};

struct aw_probe_check {
    enum aw_probe_check_result result;
    char detail[AW_PROBE_DETAIL_MAX];
    int64_t ms;
};

struct aw_probe_cert {
    char subject[AW_PROBE_TEXT_MAX];
    char issuer[AW_PROBE_TEXT_MAX];
    char serial[128];
    char not_before[32];      /* ISO-8601 UTC */
    char not_after[32];
    char sha1[41];            /* hex, upper case: the thumbprint Windows shows */
    char sha256[65];
    char san[AW_PROBE_TEXT_MAX];  /* "DNS:a, DNS:b, IP:1.2.3.4" */
    bool sent_by_server;
};

struct aw_probe_url {
    const char *kind;         /* "crl", "aia", "ocsp" */
    char url[AW_PROBE_TEXT_MAX];
    enum aw_probe_check_result result;   /* skip: not fetched */
    char error[AW_PROBE_TEXT_MAX];
    int http_status;          /* 0: no HTTP answer */
    uint64_t bytes;
    char this_update[32];     /* CRLs; "" when unknown */
    char next_update[32];
};

struct aw_probe_result {
    struct aw_probe_target target;
    char addresses[AW_PROBE_ADDR_MAX][48];
    size_t naddresses;
    enum aw_probe_verdict verdict;
    bool decided;             /* verdict set by a failing step */
    char detail[AW_PROBE_DETAIL_MAX];   /* one sentence */
    struct aw_probe_check checks[AW_PS_COUNT];
    struct aw_probe_cert chain[AW_PROBE_CHAIN_MAX];
    size_t nchain;
    size_t nsent;             /* how many of chain[] the server sent */
    struct aw_probe_url urls[AW_PROBE_URL_MAX];
    size_t nurls;
    int64_t started_ms;       /* wall clock, UTC */
    int64_t ms;               /* the whole probe */
};

/* Is there a probe engine on this platform? */
bool aw_probe_available(void);

/* Check that path is a readable PEM file with at least one certificate
 * (a usage error otherwise: AW_EUSAGE with err set). */
int aw_probe_check_ca_file(const char *path, struct aw_err *err);

/* Probe t into *r (zeroed first).  A problem with the server is a verdict,
 * not an error: the return is AW_OK unless the probe itself could not run
 * (out of memory, no engine: AW_EUSAGE, an unusable --ca-file). */
int aw_probe_run(const struct aw_probe_target *t, const struct aw_probe_opts *opts,
                 struct aw_probe_result *r, struct aw_err *err);

/* Record step s's outcome in r (the engine's helper): the detail, and the
 * time since *t0_ms, which is then advanced to now. */
void aw_probe_check_set(struct aw_probe_result *r, enum aw_probe_step s,
                        enum aw_probe_check_result res, int64_t *t0_ms, const char *fmt, ...)
    AW_PRINTF(5, 6);

/* Set the verdict and its one-sentence detail (the first call wins, so the
 * first failing step names the verdict). */
void aw_probe_verdict_set(struct aw_probe_result *r, enum aw_probe_verdict v,
                          const char *fmt, ...) AW_PRINTF(3, 4);

/* Monotonic milliseconds, for step times and deadlines. */
int64_t aw_probe_mono_ms(void);

/* One JSON object on one line (README "probe --format json"). */
void aw_probe_write_json(FILE *out, const struct aw_probe_result *r);

/* The checklist an admin reads at a glance. */
void aw_probe_write_text(FILE *out, const struct aw_probe_result *r);

#endif
