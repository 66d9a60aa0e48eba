/*
 * OCSP for the probe's Linux engine (see probe_internal.h).
 *
 * CryptoAPI asks a certificate's OCSP responder first and falls back to
 * its CRL only when the responder gives no answer, so an agent on Windows
 * judges a chain whose certificates name only an OCSP URL by that
 * responder.  The request goes as CryptoAPI and RFC 5019 section 5 send
 * it: an HTTP GET of the URL followed by the base64 of the DER request,
 * URL-encoded (RFC 6960 appendix A.1), through the same bounded client as
 * the CRLs and AIA certificates (probe_http.c), so the size and time
 * bounds are the same.  The answer counts only when it is signed by the
 * issuer or a responder it delegated to (OCSP_basic_verify against the
 * probe's trust anchors) and is current (OCSP_check_validity with
 * LEEWAY_S of clock skew).
 */
#include "probe_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "agentwatch/probe.h"
#include "probe_engine.h"

#define LEEWAY_S 300L
#define REQUEST_MAX 1024

/* The GET URL of request der[0..len) at base; -1 when it does not fit. */
static int get_url(const char *base, const unsigned char *der, int len, char *out, size_t size)
{
    unsigned char b64[REQUEST_MAX * 4 / 3 + 4];
    size_t used = strlen(base);
    int n;

    if (len <= 0 || len > REQUEST_MAX || used + 2 >= size) {
        return -1;
    }
    n = EVP_EncodeBlock(b64, der, len);
    memcpy(out, base, used);
    if (used == 0 || out[used - 1] != '/') {
        out[used++] = '/';
    }
    for (int i = 0; i < n; i++) {
        const char *esc = b64[i] == '+' ? "%2B" : b64[i] == '/' ? "%2F" : b64[i] == '=' ? "%3D"
                                                                                      : NULL;
        size_t add = esc ? 3 : 1;
        if (used + add >= size) {
            return -1;
        }
        if (esc) {
            memcpy(out + used, esc, 3);
        } else {
            out[used] = (char)b64[i];
        }
        used += add;
    }
    out[used] = '\0';
    return 0;
}

static int failed(struct aw_probe_url *u, const char *why)
{
    u->result = AW_PC_FAIL;
    snprintf(u->error, sizeof(u->error), "%s", why);
    return AW_OCSP_FAILED;
}

/* Judge the response d[0..len) for id into u: AW_OCSP_GOOD, _REVOKED or
 * _FAILED (why in u->error). */
static int judge_response(struct aw_probe_url *u, const unsigned char *d, size_t len,
                          OCSP_CERTID *id, STACK_OF(X509) *chain, X509_STORE *store)
{
    const unsigned char *p = d;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    OCSP_BASICRESP *bs = NULL;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    int status = -1, reason = -1, rc;
    char why[AW_PROBE_TEXT_MAX];

    if (resp == NULL) {
        rc = failed(u, "the response is no OCSP response");
        goto out;
    }
    if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        snprintf(why, sizeof(why), "the responder answered '%s'",
                 OCSP_response_status_str(OCSP_response_status(resp)));
        rc = failed(u, why);
        goto out;
    }
    bs = OCSP_response_get1_basic(resp);
    if (bs == NULL) {
        rc = failed(u, "the response is no basic OCSP response");
        goto out;
    }
    /* store and id are NULL only for aw_probe_ocsp_record(), which has no
     * anchors and no request: it reads the first answer unverified */
    if (store != NULL && OCSP_basic_verify(bs, chain, store, 0) <= 0) {
        rc = failed(u, "the response's signature cannot be verified up to a trusted root");
        goto out;
    }
    if (id == NULL && OCSP_resp_get0(bs, 0) != NULL) {
        status = OCSP_single_get0_status(OCSP_resp_get0(bs, 0), &reason, &rev, &thisupd,
                                         &nextupd);
    } else if (id != NULL) {
        OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd);
    }
    if (status < 0) {
        rc = failed(u, "the response says nothing about this certificate");
        goto out;
    }
    aw_probe_asn1_time(thisupd, u->this_update, sizeof(u->this_update));
    aw_probe_asn1_time(nextupd, u->next_update, sizeof(u->next_update));
    if (OCSP_check_validity(thisupd, nextupd, LEEWAY_S, -1) != 1) {
        snprintf(why, sizeof(why), "stale OCSP response (this update %s, next update %s)",
                 u->this_update, u->next_update[0] ? u->next_update : "none");
        rc = failed(u, why);
        goto out;
    }
    if (status == V_OCSP_CERTSTATUS_UNKNOWN) {
        rc = failed(u, "the responder does not know this certificate");
        goto out;
    }
    rc = status == V_OCSP_CERTSTATUS_REVOKED ? AW_OCSP_REVOKED : AW_OCSP_GOOD;
out:
    ERR_clear_error();
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return rc;
}

int aw_probe_ocsp_record(const unsigned char *d, size_t len, struct aw_probe_url *u)
{
    u->result = AW_PC_OK;
    return judge_response(u, d, len, NULL, NULL, NULL);
}

/* One responder u about id (request DER req[0..len)); its outcome in u. */
static int ask(struct aw_probe_url *u, const unsigned char *req, int len, OCSP_CERTID *id,
               STACK_OF(X509) *chain, X509_STORE *store, unsigned timeout_ms)
{
    char get[AW_PROBE_TEXT_MAX];
    struct aw_http_result res;
    int rc;

    memset(u->error, 0, sizeof(u->error));
    u->this_update[0] = u->next_update[0] = '\0';
    if (get_url(u->url, req, len, get, sizeof(get)) != 0) {
        return failed(u, "the OCSP request does not fit in a GET URL");
    }
    rc = aw_http_get(get, AW_PROBE_CERT_BYTES_MAX, timeout_ms, &res);
    u->http_status = res.status;
    u->bytes = res.bytes;
    u->result = rc == 0 ? AW_PC_OK : AW_PC_FAIL;
    snprintf(u->error, sizeof(u->error), "%s", res.error);
    rc = rc == 0 ? judge_response(u, res.body, res.len, id, chain, store) : AW_OCSP_FAILED;
    free(res.body);
    return rc;
}

int aw_probe_ocsp_check(struct aw_probe_result *r, X509 *x, X509 *issuer, STACK_OF(X509) *chain,
                        X509_STORE *store, unsigned timeout_ms, size_t *idx, size_t *nidx)
{
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(x);
    OCSP_CERTID *id = issuer ? OCSP_cert_to_id(NULL, x, issuer) : NULL;
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    unsigned char *der = NULL;
    int len = -1, rc = AW_OCSP_NONE;

    *nidx = 0;
    if (id != NULL && req != NULL && OCSP_request_add0_id(req, OCSP_CERTID_dup(id)) != NULL) {
        len = i2d_OCSP_REQUEST(req, &der);
    }
    for (int i = 0; urls != NULL && i < sk_OPENSSL_STRING_num(urls) && rc != AW_OCSP_GOOD &&
                    rc != AW_OCSP_REVOKED; i++) {
        const char *s = sk_OPENSSL_STRING_value(urls, i);
        struct aw_probe_url *u = aw_probe_url_add(r, "ocsp", s, strlen(s));

        if (u == NULL) {
            continue;
        }
        idx[(*nidx)++] = (size_t)(u - r->urls);
        rc = len > 0 ? ask(u, der, len, id, chain, store, timeout_ms)
                     : failed(u, "cannot build the OCSP request (no issuer)");
    }
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
    OCSP_CERTID_free(id);
    X509_email_free(urls);
    ERR_clear_error();
    return rc;
}
