/*
 * The probe's Linux engine: OpenSSL 3 (see probe.h).
 *
 * The handshake runs with SSL_VERIFY_NONE so that it always completes when
 * the server can do TLS at all and we always hold the chain the server
 * sent (man SSL_CTX_set_verify); judging that chain is done afterwards,
 * offline, with X509_verify_cert() and a callback that collects every
 * error instead of stopping at the first: OpenSSL's own order (the name is
 * checked before the validity dates and revocation) is not the verdict
 * order, so the verdict is picked from the collected errors.
 *
 * Variants, as an agent would see the server:
 *   1. as sent: the server's certificates only;
 *   2. with AIA: issuers fetched from the caIssuers URLs of the chain,
 *      round by round, as CryptoAPI does (a server sending only its leaf
 *      works for Windows agents when AIA is reachable, and for nobody
 *      else: the detail says so);
 *   3. with CRLs: every CRL distribution point of every certificate but
 *      the root (CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT on
 *      Windows), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL.
 * OCSP comes first, as in CryptoAPI: a certificate's responder answering
 * "good" settles it even when its CRL cannot be fetched; a responder
 * that gives no answer falls back to the CRL; neither answering is
 * revocation-offline (src/probe_ocsp.c).
 *
 * Handshake failures are told apart by what came back: not a byte
 * (tls-no-serverhello: the server closed or stayed silent after the
 * ClientHello), an alert (tls-alert, named), or bytes that were no TLS or
 * a handshake that broke after the ServerHello (tls-protocol).
 * SSL_OP_IGNORE_UNEXPECTED_EOF stays off so an EOF is an error we see
 * (openssl/openssl#18574).
 */
#include "agentwatch/probe.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "probe_engine.h"
#include "probe_internal.h"

#define VERIFY_ERRORS_MAX 32

struct verify_error {
    int code;
    int depth;
    X509 *cert;               /* not owned; a member of the chain stacks */
};

struct verify_run {
    struct verify_error e[VERIFY_ERRORS_MAX];
    size_t n;
    STACK_OF(X509) *chain;    /* what was built (owned, may be NULL) */
};

struct engine {
    const struct aw_probe_target *t;
    const struct aw_probe_opts *o;
    struct aw_probe_result *r;
    X509_STORE *store;
    STACK_OF(X509) *sent;     /* the server's chain, leaf first */
    STACK_OF(X509) *untrusted;/* sent[1..] + fetched */
    STACK_OF(X509_CRL) *crls;
    bool server_hello;
    int alert;                /* received alert description, -1: none */
    bool ip_literal;
    int64_t t0;
};

/* ---- certificates as the result shows them ------------------------- */

static void name_text(const X509_NAME *n, char *out, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long len;

    out[0] = '\0';
    if (b == NULL) {
        return;
    }
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    len = BIO_get_mem_data(b, &data);
    snprintf(out, size, "%.*s", (int)(len < (long)size ? len : (long)size - 1), data);
    BIO_free(b);
}

void aw_probe_asn1_time(const ASN1_TIME *t, char *out, size_t size)
{
    struct tm tm;
    char buf[96];

    out[0] = '\0';
    if (t != NULL && ASN1_TIME_to_tm(t, &tm) == 1) {
        snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        snprintf(out, size, "%.*s", (int)(size - 1), buf);
    }
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02X", d[i]);
    }
    out[2 * n] = '\0';
}

static void san_text(X509 *x, char *out, size_t size)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char one[300] = "";

        if (g->type == GEN_DNS) {
            snprintf(one, sizeof(one), "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int len = ASN1_STRING_length(g->d.iPAddress);
            inet_ntop(len == 16 ? AF_INET6 : AF_INET, ASN1_STRING_get0_data(g->d.iPAddress),
                      ip, sizeof(ip));
            snprintf(one, sizeof(one), "IP:%s", len == 4 || len == 16 ? ip : "?");
        }
        if (one[0] != '\0' && used + strlen(one) + 3 < size) {
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", one);
        }
    }
    GENERAL_NAMES_free(names);
}

static void add_cert(struct engine *g, X509 *x, bool sent)
{
    struct aw_probe_result *r = g->r;
    struct aw_probe_cert *c;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen;
    BIGNUM *bn;

    if (r->nchain >= AW_PROBE_CHAIN_MAX) {
        return;
    }
    c = &r->chain[r->nchain++];
    name_text(X509_get_subject_name(x), c->subject, sizeof(c->subject));
    name_text(X509_get_issuer_name(x), c->issuer, sizeof(c->issuer));
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (bn != NULL) {
        char *h = BN_bn2hex(bn);
        snprintf(c->serial, sizeof(c->serial), "%s", h ? h : "");
        OPENSSL_free(h);
        BN_free(bn);
    }
    aw_probe_asn1_time(X509_get0_notBefore(x), c->not_before, sizeof(c->not_before));
    aw_probe_asn1_time(X509_get0_notAfter(x), c->not_after, sizeof(c->not_after));
    if (X509_digest(x, EVP_sha1(), md, &mdlen) == 1) {
        hex(md, mdlen, c->sha1);
    }
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
        hex(md, mdlen, c->sha256);
    }
    san_text(x, c->san, sizeof(c->san));
    c->sent_by_server = sent;
}

/* ---- URLs --------------------------------------------------------- */

static void add_url(struct aw_probe_result *r, const char *kind, const ASN1_IA5STRING *s,
                    const char *want, size_t *idx, size_t max, size_t *n)
{
    struct aw_probe_url *u = aw_probe_url_add(r, kind, (const char *)ASN1_STRING_get0_data(s),
                                              (size_t)ASN1_STRING_length(s));

    if (u != NULL && (want == NULL || strcmp(kind, want) == 0) && *n < max) {
        idx[(*n)++] = (size_t)(u - r->urls);
    }
}

/* The CDP (kind "crl"), caIssuers ("aia") and OCSP ("ocsp") URLs of x
 * into r; the indices in r->urls of those of kind (NULL: every kind) into
 * idx (at most max); how many. */
static size_t cert_urls(struct aw_probe_result *r, X509 *x, const char *kind, size_t *idx,
                        size_t max)
{
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    size_t n = 0;

    for (int i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        for (int k = 0; dp->distpoint != NULL && dp->distpoint->type == 0 &&
                        k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); k++) {
            GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k);
            if (gn->type == GEN_URI) {
                add_url(r, "crl", gn->d.uniformResourceIdentifier, kind, idx, max, &n);
            }
        }
    }
    for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        int nid = OBJ_obj2nid(ad->method);
        if (ad->location->type == GEN_URI && (nid == NID_ad_ca_issuers || nid == NID_ad_OCSP)) {
            add_url(r, nid == NID_ad_OCSP ? "ocsp" : "aia", ad->location->d.uniformResourceIdentifier,
                    kind, idx, max, &n);
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    AUTHORITY_INFO_ACCESS_free(aia);
    return n;
}

/* Certificates in an AIA response: DER, PEM, or a PKCS#7 bundle (.p7c). */
static int parse_issuers(const unsigned char *d, size_t len, STACK_OF(X509) *into)
{
    const unsigned char *p = d;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    int added = 0;

    if (x == NULL && len > 10 && memcmp(d, "-----BEGIN", 10) == 0) {
        BIO *b = BIO_new_mem_buf(d, (int)len);
        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    }
    if (x != NULL) {
        return sk_X509_push(into, x) > 0 ? 1 : (X509_free(x), 0);
    }
    p = d;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
    if (p7 != NULL && PKCS7_type_is_signed(p7) && p7->d.sign != NULL) {
        STACK_OF(X509) *certs = p7->d.sign->cert;
        for (int i = 0; certs != NULL && i < sk_X509_num(certs) && i < 8; i++) {
            X509 *c = sk_X509_value(certs, i);
            if (X509_up_ref(c) == 1 && sk_X509_push(into, c) > 0) {
                added++;
            }
        }
    }
    PKCS7_free(p7);
    return added;
}

size_t aw_probe_certs_record(const unsigned char *d, size_t len, struct aw_probe_result *r)
{
    struct engine g = { .r = r };
    STACK_OF(X509) *xs = sk_X509_new_null();
    size_t idx[AW_PROBE_URL_MAX];
    int n = xs != NULL ? parse_issuers(d, len, xs) : 0;

    for (int i = 0; i < n; i++) {
        add_cert(&g, sk_X509_value(xs, i), true);
        cert_urls(r, sk_X509_value(xs, i), NULL, idx, AW_PROBE_URL_MAX);
    }
    sk_X509_pop_free(xs, X509_free);
    return (size_t)n;
}

/* ---- verification -------------------------------------------------- */

static int collect_cb(int ok, X509_STORE_CTX *ctx)
{
    struct verify_run *v = X509_STORE_CTX_get_app_data(ctx);

    if (!ok && v != NULL && v->n < VERIFY_ERRORS_MAX) {
        v->e[v->n].code = X509_STORE_CTX_get_error(ctx);
        v->e[v->n].depth = X509_STORE_CTX_get_error_depth(ctx);
        v->e[v->n].cert = X509_STORE_CTX_get_current_cert(ctx);
        v->n++;
    }
    return 1;   /* go on: every error is wanted, not just the first */
}

/* Verify the server's leaf with g->untrusted (and g->crls when crl). */
static int verify(struct engine *g, bool crl, struct verify_run *v)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *param;
    int rc = -1;

    memset(v, 0, sizeof(*v));
    if (ctx == NULL ||
        !X509_STORE_CTX_init(ctx, g->store, sk_X509_value(g->sent, 0), g->untrusted)) {
        goto out;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    if (g->ip_literal) {
        X509_VERIFY_PARAM_set1_ip_asc(param, g->t->host);
    } else {
        X509_VERIFY_PARAM_set1_host(param, g->t->host, 0);
    }
    if (crl) {
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
        X509_STORE_CTX_set0_crls(ctx, g->crls);
    }
    X509_STORE_CTX_set_verify_cb(ctx, collect_cb);
    X509_STORE_CTX_set_app_data(ctx, v);
    X509_verify_cert(ctx);
    v->chain = X509_STORE_CTX_get1_chain(ctx);
    rc = 0;
out:
    X509_STORE_CTX_free(ctx);
    return rc;
}

static void verify_free(struct verify_run *v)
{
    sk_X509_pop_free(v->chain, X509_free);
    v->chain = NULL;
}

static const struct verify_error *find_error(const struct verify_run *v, const int *codes)
{
    for (size_t i = 0; i < v->n; i++) {
        for (const int *c = codes; *c != 0; c++) {
            if (v->e[i].code == *c) {
                return &v->e[i];
            }
        }
    }
    return NULL;
}

static const int ISSUER_MISSING[] = { X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
                                      X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                                      X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, 0 };
static const int EXPIRED[] = { X509_V_ERR_CERT_HAS_EXPIRED, 0 };
static const int NOT_YET[] = { X509_V_ERR_CERT_NOT_YET_VALID, 0 };
static const int NAME[] = { X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH, 0 };
static const int REVOKED[] = { X509_V_ERR_CERT_REVOKED, 0 };

static bool is_code(int code, const int *codes)
{
    for (const int *c = codes; *c != 0; c++) {
        if (code == *c) {
            return true;
        }
    }
    return false;
}

/* Errors that belong to no later step: trust and anything unexpected
 * (a bad signature, a CA without the CA flag) stop at the trust step. */
static bool is_trust_error(int code)
{
    return !is_code(code, ISSUER_MISSING) && !is_code(code, EXPIRED) &&
           !is_code(code, NOT_YET) && !is_code(code, NAME) && !is_code(code, REVOKED) &&
           code != X509_V_ERR_UNABLE_TO_GET_CRL && code != X509_V_ERR_CRL_HAS_EXPIRED &&
           code != X509_V_ERR_CRL_NOT_YET_VALID;
}

static void subject_of(X509 *x, char *out, size_t size)
{
    if (x == NULL) {
        snprintf(out, size, "?");
        return;
    }
    name_text(X509_get_subject_name(x), out, size);
}

/* ---- tls ----------------------------------------------------------- */

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
                   SSL *ssl, void *arg)
{
    struct engine *g = arg;
    const unsigned char *b = buf;

    (void)version;
    (void)ssl;
    if (write_p || len < 1) {
        return;
    }
    if (content_type == SSL3_RT_HANDSHAKE && b[0] == SSL3_MT_SERVER_HELLO) {
        g->server_hello = true;
    } else if (content_type == SSL3_RT_ALERT && len >= 2 && g->alert < 0) {
        g->alert = b[1];
    }
}

/* Handshake on the connected fd; on success g->sent holds the chain. */
static int step_tls(struct engine *g, int fd, struct aw_err *err)
{
    int64_t deadline = aw_probe_mono_ms() + g->o->timeout_ms;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    char reason[256] = "";
    struct aw_probe_tls_failure f = { .reason = reason };
    int rc = -1;

    if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
        aw_err_set(err, AW_ENOMEM, "cannot set up OpenSSL");
        rc = -2;
        goto out;
    }
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    SSL_set_msg_callback(ssl, msg_cb);
    SSL_set_msg_callback_arg(ssl, g);
    if (!g->ip_literal) {
        SSL_set_tlsext_host_name(ssl, g->t->host);
    }
    ERR_clear_error();
    for (;;) {
        int ret = SSL_connect(ssl), e, w;

        if (ret == 1) {
            break;
        }
        e = SSL_get_error(ssl, ret);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            w = aw_net_wait(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0) {
                continue;
            }
            f.timed_out = w == 0;
            snprintf(reason, sizeof(reason), "%s", w == 0 ? "timed out" : strerror(errno));
        } else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            snprintf(reason, sizeof(reason), "%s", errno ? strerror(errno) : "connection closed");
        } else {
            const char *why = ERR_reason_error_string(ERR_peek_last_error());
            snprintf(reason, sizeof(reason), "%s", why != NULL ? why : "TLS error");
        }
        f.alert = g->alert;
        f.alert_name = g->alert >= 0 ? SSL_alert_desc_string_long(g->alert) : "";
        f.server_hello = g->server_hello;
        f.bytes = BIO_number_read(SSL_get_rbio(ssl));
        aw_probe_tls_failed(g->r, &g->t0, g->o->timeout_ms, &f);
        goto out;
    }
    g->sent = SSL_get_peer_cert_chain(ssl) ? X509_chain_up_ref(SSL_get_peer_cert_chain(ssl))
                                           : NULL;
    aw_probe_tls_done(g->r, &g->t0, SSL_get_version(ssl), SSL_get_cipher_name(ssl),
                      g->sent ? (size_t)sk_X509_num(g->sent) : 0);
    rc = g->sent != NULL && sk_X509_num(g->sent) > 0 ? 0 : -1;
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}


/* ---- chain, trust, validity, name ---------------------------------- */

/* The certificate whose issuer is missing in v: the top of what was
 * built. */
static X509 *chain_top(const struct verify_run *v)
{
    int n = v->chain ? sk_X509_num(v->chain) : 0;
    return n > 0 ? sk_X509_value(v->chain, n - 1) : NULL;
}

/* Fetch the caIssuers of x into g->untrusted; the URL fetched in *used
 * (for the detail).  Returns how many certificates were added. */
static int fetch_issuers(struct engine *g, X509 *x, char *used, size_t size)
{
    size_t idx[AW_PROBE_URL_MAX];
    size_t n = cert_urls(g->r, x, "aia", idx, AW_PROBE_URL_MAX);
    int added = 0;

    for (size_t i = 0; i < n && added == 0; i++) {
        struct aw_probe_url *u = &g->r->urls[idx[i]];
        struct aw_http_result res;
        int before = sk_X509_num(g->untrusted);

        if (aw_probe_fetch(u, AW_PROBE_CERT_BYTES_MAX, g->o->timeout_ms, &res) == 0) {
            added = parse_issuers(res.body, res.len, g->untrusted);
            if (added == 0) {
                u->result = AW_PC_FAIL;
                snprintf(u->error, sizeof(u->error), "the response is no certificate");
            }
            for (int k = before; k < sk_X509_num(g->untrusted); k++) {
                add_cert(g, sk_X509_value(g->untrusted, k), false);
            }
            snprintf(used, size, "%s", u->url);
        }
        free(res.body);
    }
    return added;
}

/* Verify as sent, then with issuers from AIA while they help.  *v gets
 * the last run; *as_sent_missing says the server's own certificates did
 * not reach a trusted root. */
static int verify_with_aia(struct engine *g, struct verify_run *v, bool *as_sent_missing,
                           char *aia_used, size_t size)
{
    if (verify(g, false, v) != 0) {
        return -1;
    }
    *as_sent_missing = find_error(v, ISSUER_MISSING) != NULL;
    for (int round = 0; round < AW_PROBE_AIA_ROUNDS && find_error(v, ISSUER_MISSING); round++) {
        X509 *top = chain_top(v);
        if (top == NULL || fetch_issuers(g, top, aia_used, size) == 0) {
            break;
        }
        verify_free(v);
        if (verify(g, false, v) != 0) {
            return -1;
        }
    }
    return 0;
}


/* The texts the facts point to. */
struct fact_texts {
    char top[AW_PROBE_TEXT_MAX], top_issuer[AW_PROBE_TEXT_MAX];
    char untrusted[AW_PROBE_TEXT_MAX], bad_time[AW_PROBE_TEXT_MAX], when[32];
};

/* What v (and the AIA rounds before it) says, as the common judge wants
 * it; OpenSSL's own order of errors is not the verdict order, so each
 * kind is looked up among all of them. */
static void facts_of(struct engine *g, const struct verify_run *v, struct aw_probe_facts *f,
                     struct fact_texts *tx)
{
    const struct verify_error *ex = find_error(v, EXPIRED), *ny = find_error(v, NOT_YET);
    const struct verify_error *bad = ex ? ex : ny;
    X509 *top = chain_top(v);

    f->nsent = sk_X509_num(g->sent);
    f->issuer_missing = find_error(v, ISSUER_MISSING) != NULL;
    subject_of(top, tx->top, sizeof(tx->top));
    snprintf(tx->top_issuer, sizeof(tx->top_issuer), "?");
    if (top != NULL) {
        name_text(X509_get_issuer_name(top), tx->top_issuer, sizeof(tx->top_issuer));
    }
    f->top = tx->top;
    f->top_issuer = tx->top_issuer;
    f->store = g->o->ca_file ? "--ca-file" : "the system trust store";
    for (size_t i = 0; i < v->n && f->untrusted == NULL; i++) {
        if (is_trust_error(v->e[i].code)) {
            subject_of(v->e[i].cert, tx->untrusted, sizeof(tx->untrusted));
            f->untrusted = tx->untrusted;
            f->trust_error = X509_verify_cert_error_string(v->e[i].code);
        }
    }
    if (bad != NULL) {
        subject_of(bad->cert, tx->bad_time, sizeof(tx->bad_time));
        aw_probe_asn1_time(bad->cert ? (ex ? X509_get0_notAfter(bad->cert)
                                  : X509_get0_notBefore(bad->cert)) : NULL,
                  tx->when, sizeof(tx->when));
        f->bad_time = tx->bad_time;
        f->bad_time_depth = bad->depth;
        f->expired = ex != NULL;
        f->bad_time_when = tx->when;
    }
    f->name_ok = find_error(v, NAME) == NULL;
}

/* ---- revocation ---------------------------------------------------- */

static X509_CRL *parse_crl(const unsigned char *d, size_t len)
{
    const unsigned char *p = d;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);

    if (crl == NULL && len > 10 && memcmp(d, "-----BEGIN", 10) == 0) {
        BIO *b = BIO_new_mem_buf(d, (int)len);
        crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    }
    return crl;
}

/* The CRL of a CDP response d[0..len) recorded into u (this and next
 * update; a stale CRL is a failure); NULL with u failed when it is none. */
static X509_CRL *take_crl(struct aw_probe_url *u, const unsigned char *d, size_t len)
{
    X509_CRL *crl = parse_crl(d, len);
    const ASN1_TIME *next;

    if (crl == NULL) {
        u->result = AW_PC_FAIL;
        snprintf(u->error, sizeof(u->error), "the response is no CRL");
        return NULL;
    }
    next = X509_CRL_get0_nextUpdate(crl);
    aw_probe_asn1_time(X509_CRL_get0_lastUpdate(crl), u->this_update, sizeof(u->this_update));
    aw_probe_asn1_time(next, u->next_update, sizeof(u->next_update));
    if (next != NULL && X509_cmp_time(next, NULL) < 0) {
        char when[sizeof(u->next_update)];
        memcpy(when, u->next_update, sizeof(when));
        u->result = AW_PC_FAIL;
        snprintf(u->error, sizeof(u->error), "stale CRL: its next update was %s", when);
    }
    return crl;
}

int aw_probe_crl_record(const unsigned char *d, size_t len, struct aw_probe_url *u,
                        size_t *revoked)
{
    X509_CRL *crl = take_crl(u, d, len);
    STACK_OF(X509_REVOKED) *rev;

    *revoked = 0;
    if (crl == NULL) {
        return -1;
    }
    rev = X509_CRL_get_REVOKED(crl);
    for (int i = 0; rev != NULL && i < sk_X509_REVOKED_num(rev); i++) {
        /* the serial as the chain record shows serials */
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, i)),
                                        NULL);
        char *h = bn != NULL ? BN_bn2hex(bn) : NULL;
        *revoked += h != NULL;
        OPENSSL_free(h);
        BN_free(bn);
    }
    X509_CRL_free(crl);
    return 0;
}

/* Fetch every CRL URL listed so far into g->crls. */
static void fetch_crls(struct engine *g)
{
    for (size_t i = 0; i < g->r->nurls; i++) {
        struct aw_probe_url *u = &g->r->urls[i];
        struct aw_http_result res;
        X509_CRL *crl;

        if (strcmp(u->kind, "crl") != 0 || u->result != AW_PC_SKIP) {
            continue;
        }
        if (aw_probe_fetch(u, AW_PROBE_CRL_BYTES_MAX, g->o->timeout_ms, &res) == 0 &&
            (crl = take_crl(u, res.body, res.len)) != NULL && !sk_X509_CRL_push(g->crls, crl)) {
            X509_CRL_free(crl);
        }
        free(res.body);
    }
}

/* The CRL error of cv at depth (one of codes) whose certificate names a
 * CRL URL (those URLs and their outcome into urls); NULL when none. */
static const struct verify_error *crl_error_at(struct engine *g, const struct verify_run *cv,
                                               int depth, const int *codes, char *urls,
                                               size_t size)
{
    for (size_t i = 0; i < cv->n; i++) {
        const struct verify_error *e = &cv->e[i];
        size_t idx[AW_PROBE_URL_MAX], k;

        if (e->depth != depth || !is_code(e->code, codes)) {
            continue;
        }
        if (urls == NULL) {
            return e;
        }
        k = e->cert ? cert_urls(g->r, e->cert, "crl", idx, AW_PROBE_URL_MAX) : 0;
        if (k > 0) {    /* no CDP: nothing to fetch, not offline */
            aw_probe_urls_text(g->r, idx, k, urls, size);
            return e;
        }
    }
    return NULL;
}

/* What the OCSP responders of each certificate of the chain said. */
struct ocsp_run {
    int st[AW_PROBE_CHAIN_MAX];
    size_t idx[AW_PROBE_CHAIN_MAX][AW_PROBE_URL_MAX];
    size_t n[AW_PROBE_CHAIN_MAX];
};

/* Ask the OCSP responders of every certificate of v's chain (of n) but
 * the root, as CryptoAPI does before it looks at a CRL. */
static void ask_ocsp(struct engine *g, const struct verify_run *v, int n, struct ocsp_run *o)
{
    memset(o, 0, sizeof(*o));
    for (int d = 0; d + 1 < n && d < AW_PROBE_CHAIN_MAX; d++) {
        o->st[d] = aw_probe_ocsp_check(g->r, sk_X509_value(v->chain, d),
                                       sk_X509_value(v->chain, d + 1), v->chain, g->store,
                                       g->o->timeout_ms, o->idx[d], &o->n[d]);
    }
}

/* Offline at depth d: no OCSP answer, and the CRL failed or there is none
 * to fall back on.  The URLs and their errors into urls; why. */
static const char *offline_at(struct engine *g, const struct verify_run *v,
                              const struct verify_run *cv, const struct ocsp_run *o, int d,
                              char *urls, size_t size)
{
    static const int OFFLINE[] = { X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_HAS_EXPIRED,
                                   X509_V_ERR_CRL_NOT_YET_VALID,
                                   X509_V_ERR_CRL_SIGNATURE_FAILURE,
                                   X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, 0 };
    int st = d < AW_PROBE_CHAIN_MAX ? o->st[d] : AW_OCSP_NONE;
    const struct verify_error *e;
    size_t used, cdp[AW_PROBE_URL_MAX];

    if (st == AW_OCSP_GOOD) {
        return NULL;    /* CryptoAPI does not fall back to the CRL */
    }
    e = crl_error_at(g, cv, d, OFFLINE, urls, size);
    if (e == NULL && (st != AW_OCSP_FAILED ||
                      cert_urls(g->r, sk_X509_value(v->chain, d), "crl", cdp, AW_PROBE_URL_MAX) > 0)) {
        return NULL;    /* the CRL answered, or the certificate names none */
    }
    if (st == AW_OCSP_FAILED) {   /* the OCSP URLs after the CRL's */
        char ocsp[AW_PROBE_DETAIL_MAX];
        aw_probe_urls_text(g->r, o->idx[d], o->n[d], ocsp, sizeof(ocsp));
        size_t add = strlen(ocsp);
        used = e != NULL ? strlen(urls) : 0;
        if (used > 0 && used + 2 < size) {
            memcpy(urls + used, "; ", 2);
            used += 2;
        }
        add = add < size - used ? add : size - used - 1;
        memcpy(urls + used, ocsp, add);
        urls[used + add] = '\0';
    }
    return e ? X509_verify_cert_error_string(e->code) : "no answer from its OCSP responder";
}

/* Judge the chain v built (leaf to anchor) with OCSP and the CRLs. */
static void step_revocation(struct engine *g, const struct verify_run *v)
{
    static const int CRL_REVOKED[] = { X509_V_ERR_CERT_REVOKED, 0 };
    struct verify_run cv;
    struct ocsp_run *o;
    char who[AW_PROBE_TEXT_MAX], urls[AW_PROBE_DETAIL_MAX];
    const char *why = NULL;
    int n = sk_X509_num(v->chain), d, last;

    if (g->o->no_revocation) {
        aw_probe_revocation_skip(g->r, &g->t0, "not checked (--no-revocation)");
        return;
    }
    if (find_error(v, ISSUER_MISSING) != NULL || g->r->checks[AW_PS_TRUST].result != AW_PC_OK) {
        aw_probe_revocation_skip(g->r, &g->t0, "no trusted chain to check");
        return;
    }
    o = malloc(sizeof(*o));
    if (o == NULL) {
        aw_probe_revocation_skip(g->r, &g->t0, "out of memory");
        return;
    }
    ask_ocsp(g, v, n, o);
    fetch_crls(g);
    if (verify(g, true, &cv) != 0) {
        aw_probe_revocation_skip(g->r, &g->t0, "out of memory");
        free(o);
        return;
    }
    /* the root is not checked, as CryptoAPI's ..._CHAIN_EXCLUDE_ROOT;
     * a lone trusted leaf is */
    last = n > 1 ? n - 2 : 0;
    for (d = 0; d <= last; d++) {
        if ((d < AW_PROBE_CHAIN_MAX && o->st[d] == AW_OCSP_REVOKED) ||
            crl_error_at(g, &cv, d, CRL_REVOKED, NULL, 0) != NULL) {
            break;
        }
    }
    if (d <= last) {
        subject_of(sk_X509_value(v->chain, d), who, sizeof(who));
        aw_probe_revoked(g->r, &g->t0, who, d);
    } else {
        for (d = 0; d <= last && why == NULL; d++) {
            why = offline_at(g, v, &cv, o, d, urls, sizeof(urls));
        }
        if (why != NULL) {
            subject_of(sk_X509_value(v->chain, d - 1), who, sizeof(who));
            aw_probe_revocation_offline(g->r, &g->t0, who, why, urls);
        } else {
            aw_probe_revocation_ok(g->r, &g->t0);
        }
    }
    verify_free(&cv);
    free(o);
}

/* ---- the probe ----------------------------------------------------- */

bool aw_probe_available(void)
{
    return true;
}

/* The trust anchors: exactly the certificates of ca_file, or the system
 * store.  ca_file problems are usage errors (exit 2). */
static int load_store(const char *ca_file, X509_STORE **out, struct aw_err *err)
{
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509_INFO) *infos = NULL;
    BIO *b = NULL;
    int certs = 0, rc = AW_OK;

    *out = NULL;
    if (st == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    if (ca_file == NULL) {
        if (X509_STORE_set_default_paths(st) != 1) {
            rc = aw_err_set(err, AW_EIO, "cannot load the system trust store");
        }
        goto out;
    }
    b = BIO_new_file(ca_file, "r");
    if (b == NULL) {
        rc = aw_err_set(err, AW_EUSAGE, "--ca-file %s: cannot read it: %s", ca_file,
                        strerror(errno));
        goto out;
    }
    infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
    for (int i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *xi = sk_X509_INFO_value(infos, i);
        if (xi->x509 != NULL && X509_STORE_add_cert(st, xi->x509) == 1) {
            certs++;
        }
    }
    if (certs == 0) {
        rc = aw_err_set(err, AW_EUSAGE, "--ca-file %s: no PEM certificate in it", ca_file);
    }
out:
    ERR_clear_error();
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(b);
    if (rc != AW_OK) {
        X509_STORE_free(st);
    } else {
        *out = st;
    }
    return rc;
}

int aw_probe_check_ca_file(const char *path, struct aw_err *err)
{
    X509_STORE *st = NULL;
    int rc = load_store(path, &st, err);

    X509_STORE_free(st);
    return rc;
}

static bool is_ip_literal(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* The steps after the handshake, on g->sent. */
/* The steps after the handshake, on g->sent; the facts for the end. */
static int judge_chain(struct engine *g, struct aw_probe_facts *f, char *aia_used, size_t size)
{
    struct verify_run v;
    struct fact_texts tx;

    for (int i = 0; i < sk_X509_num(g->sent); i++) {
        add_cert(g, sk_X509_value(g->sent, i), true);
        if (i > 0 && (X509_up_ref(sk_X509_value(g->sent, i)) != 1 ||
                      !sk_X509_push(g->untrusted, sk_X509_value(g->sent, i)))) {
            return -1;
        }
    }
    g->r->nsent = g->r->nchain;
    if (verify_with_aia(g, &v, &f->as_sent_missing, aia_used, size) != 0) {
        return -1;
    }
    f->aia_used = aia_used;
    for (int i = 0; v.chain != NULL && i < sk_X509_num(v.chain); i++) {
        cert_urls(g->r, sk_X509_value(v.chain, i), NULL, NULL, 0);
    }
    facts_of(g, &v, f, &tx);
    aw_probe_judge(g->r, &g->t0, g->t->host, f);
    step_revocation(g, &v);
    verify_free(&v);
    return 0;
}

int aw_probe_run(const struct aw_probe_target *t, const struct aw_probe_opts *opts,
                 struct aw_probe_result *r, struct aw_err *err)
{
    struct engine g;
    struct aw_probe_facts facts = { .aia_used = "" };
    struct aw_net_addr addrs[AW_PROBE_ADDR_MAX];
    char aia_used[AW_PROBE_TEXT_MAX] = "";
    size_t naddr = 0;
    int fd = -1, rc = AW_OK;
    int64_t start = aw_probe_mono_ms();

    aw_probe_result_start(r, t);
    memset(&g, 0, sizeof(g));
    g.t = t;
    g.o = opts;
    g.r = r;
    g.alert = -1;
    g.t0 = start;
    g.ip_literal = is_ip_literal(t->host);
    rc = load_store(opts->ca_file, &g.store, err);
    if (rc != AW_OK) {
        goto out;
    }
    g.untrusted = sk_X509_new_null();
    g.crls = sk_X509_CRL_new_null();
    if (g.untrusted == NULL || g.crls == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory");
        goto out;
    }
    if (aw_probe_step_dns(r, &g.t0, addrs, &naddr) == 0 &&
        aw_probe_step_tcp(r, opts, &g.t0, addrs, naddr, &fd) == 0) {
        int st = step_tls(&g, fd, err);
        close(fd);
        if (st == -2) {
            rc = AW_ENOMEM;
            goto out;
        }
        if (st == 0 && judge_chain(&g, &facts, aia_used, sizeof(aia_used)) != 0) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory verifying the chain of %s", t->host);
            goto out;
        }
    }
    aw_probe_finish(r, opts, &facts);
out:
    r->ms = aw_probe_mono_ms() - start;
    sk_X509_pop_free(g.sent, X509_free);
    sk_X509_pop_free(g.untrusted, X509_free);
    sk_X509_CRL_pop_free(g.crls, X509_CRL_free);
    X509_STORE_free(g.store);
    return rc;
}
