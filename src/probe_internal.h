/*
 * What the probe's POSIX modules share (src/probe_net.c, src/probe_http.c,
 * src/probe_tls_openssl.c): sockets with deadlines, and the bounded HTTP
 * fetch of CRLs and AIA certificates.  Private; not installed.
 *
 * Deadlines are absolute aw_probe_mono_ms() values, so that a server that
 * trickles one byte at a time cannot stretch a step past its timeout.
 */
#ifndef AGENTWATCH_PROBE_INTERNAL_H
#define AGENTWATCH_PROBE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define AW_NET_ERR_MAX 256

struct aw_net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[48];            /* numeric form */
};

enum aw_net_status {
    AW_NET_OK,
    AW_NET_REFUSED,
    AW_NET_TIMEOUT,
    AW_NET_ERROR              /* anything else: unreachable, reset, ... */
};

/* Resolve host (a name or an address literal) for TCP port; at most max
 * addresses, in getaddrinfo's order.  Names under the reserved .invalid
 * TLD fail at once without a query (RFC 6761 section 6.4).  Returns
 * AW_NET_OK, or AW_NET_ERROR with the message in errbuf. */
int aw_net_resolve(const char *host, unsigned port, struct aw_net_addr *out, size_t max,
                   size_t *n, char *errbuf, size_t errlen);

/* Non-blocking connect to a, waiting until deadline.  On AW_NET_OK *fd is
 * the connected, non-blocking socket (the caller closes it). */
int aw_net_connect(const struct aw_net_addr *a, int64_t deadline, int *fd, char *errbuf,
                   size_t errlen);

/* Wait for events (POLLIN/POLLOUT) on fd until deadline: 1 ready, 0 the
 * deadline passed, -1 error (errno). */
int aw_net_wait(int fd, short events, int64_t deadline);

/* The probe's dns and tcp steps (recorded in r, the verdict set on
 * failure): 0, or -1 when the step failed.  *fd: the connected socket. */
struct aw_probe_result;
struct aw_probe_opts;
struct aw_probe_url;
int aw_probe_step_dns(struct aw_probe_result *r, int64_t *t0, struct aw_net_addr *addrs,
                      size_t *n);
int aw_probe_step_tcp(struct aw_probe_result *r, const struct aw_probe_opts *o, int64_t *t0,
                      const struct aw_net_addr *addrs, size_t n, int *fd);

struct aw_http_result {
    int status;               /* 0: no HTTP status line */
    unsigned char *body;      /* malloc'd, caller frees; NULL on failure */
    size_t len;
    uint64_t bytes;           /* bytes received, headers included */
    char error[AW_NET_ERR_MAX];   /* "" on success */
};

/* GET an http:// URL with a body of at most max_body bytes, the whole
 * exchange bounded by timeout_ms.  Returns 0 when a 200 response with its
 * whole body arrived, -1 otherwise with res->error set.  Redirects are
 * reported with their status, not followed. */
int aw_http_get(const char *url, size_t max_body, unsigned timeout_ms,
                struct aw_http_result *res);

/* The response reader of aw_http_get() on a response held in
 * data[0..len), handed to it in reads of at most chunk bytes (0: 16 KiB)
 * and then closed: the same result, status and error.  The entry of the
 * fuzz target fuzz/fuzz_http.c. */
int aw_http_parse_response(const unsigned char *data, size_t len, size_t chunk,
                           size_t max_body, struct aw_http_result *res);

/* The certificates of d[0..len) (DER, PEM or a PKCS#7 bundle, as an AIA
 * response) recorded into r as aw_probe_run() records a chain (subject,
 * issuer, serial, dates, thumbprints, SAN) with their CRL, AIA and OCSP
 * URLs; how many.  OpenSSL engine; the entry of fuzz/fuzz_cert.c. */
size_t aw_probe_certs_record(const unsigned char *d, size_t len, struct aw_probe_result *r);

/* A CRL of d[0..len) (DER or PEM, as a CDP response) recorded into u as
 * the revocation step does (this and next update, a stale CRL a failure);
 * *revoked: its revoked serials.  0, or -1 when d is no CRL.  OpenSSL
 * engine; the entry of fuzz/fuzz_crl.c. */
int aw_probe_crl_record(const unsigned char *d, size_t len, struct aw_probe_url *u,
                        size_t *revoked);

/* aw_http_get() of u->url, its outcome recorded in u (result, status,
 * bytes, error); the caller frees res->body. */
int aw_probe_fetch(struct aw_probe_url *u, size_t max, unsigned timeout_ms,
                   struct aw_http_result *res);

/* What a certificate's OCSP responders say (src/probe_ocsp.c). */
enum aw_ocsp_status {
    AW_OCSP_NONE,             /* it names no OCSP URL */
    AW_OCSP_GOOD,
    AW_OCSP_REVOKED,
    AW_OCSP_FAILED            /* no usable answer (why in each URL) */
};

/* Ask the OCSP URLs of x (issued by issuer) in turn until one answers,
 * as CryptoAPI does: a bounded HTTP GET (RFC 6960 A.1), the response
 * verified with OCSP_basic_verify() against store (chain: untrusted
 * certificates that may sign it) and current within a few minutes of
 * skew.  Each URL's outcome is recorded in r->urls (result, error,
 * http_status, bytes, this/next update); their indices into idx (at most
 * AW_PROBE_URL_MAX), how many into *nidx.  Returns an aw_ocsp_status. */
struct x509_st;
struct x509_store_st;
struct stack_st_X509;
struct asn1_string_st;

/* An ASN.1 time (a certificate's, CRL's or OCSP answer's) as ISO-8601
 * UTC into out ("" when t is NULL or unreadable); defined in
 * src/probe_tls_openssl.c. */
void aw_probe_asn1_time(const struct asn1_string_st *t, char *out, size_t size);

int aw_probe_ocsp_check(struct aw_probe_result *r, struct x509_st *x, struct x509_st *issuer,
                        struct stack_st_X509 *chain, struct x509_store_st *store,
                        unsigned timeout_ms, size_t *idx, size_t *nidx);

/* An OCSP response d[0..len) recorded into u as aw_probe_ocsp_check()
 * records one (result, error, this and next update), its first answer
 * read without verifying the signature (no anchors, no request); an
 * aw_ocsp_status.  The entry of fuzz/fuzz_ocsp.c. */
int aw_probe_ocsp_record(const unsigned char *d, size_t len, struct aw_probe_url *u);

#endif
