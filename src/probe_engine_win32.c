/*
 * The probe's Windows engine: CryptoAPI, as the agent uses it (issue 12;
 * the network half is src/probe_win32_tls.c).
 *
 * The chain is built by CertGetCertificateChain from the server's
 * certificate with the store of what the server sent as the additional
 * store, on the local machine's chain engine (HCCE_LOCAL_MACHINE: the
 * machine trust store, as the agent, a service, sees it), with revocation
 * checked for every certificate but the root
 * (CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT); missing issuers and
 * CRLs are fetched by CryptoAPI itself (AIA, CDP), within the timeout
 * (CERT_CHAIN_PARA.dwUrlRetrievalTimeout).  The verdict comes from the
 * per-certificate CERT_TRUST_* error bits, in the verdict order, and the
 * name from CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL) with
 * the server name, every other error ignored there (CERT_E_CN_NO_MATCH
 * is all it is asked for).
 *
 * --ca-file: the PEM certificates go into a memory store added to the
 * chain's additional stores, and the chain is trusted when it ends at one
 * of them (by SHA-1 thumbprint) -- the equivalent of an exclusive root
 * (CERT_CHAIN_ENGINE_CONFIG.hExclusiveRoot) that also works where
 * exclusive engines are missing; a root trusted by the machine but not in
 * the file is untrusted, as with OpenSSL's --ca-file.
 *
 * Each CRL URL is also retrieved on its own (CryptRetrieveObjectByUrlW,
 * wire only, what `certutil -URL` does) so that the result names the URL
 * and the error, and a certificate such a CRL lists (signed by its
 * issuer) is revoked even when the chain engine's status, from a cache,
 * says otherwise (seen under wine); AIA and OCSP URLs are listed,
 * CryptoAPI fetches what it needs itself.  Each of these CryptoAPI calls
 * runs on a thread of its own with a deadline (net_job below).
 */
#include "probe_win32.h"

#include <ws2tcpip.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_engine.h"

#define CA_FILE_MAX (4u * 1024 * 1024)

struct engine {
    const struct aw_probe_target *t;
    const struct aw_probe_opts *o;
    struct aw_probe_result *r;
    HCERTSTORE anchors;       /* --ca-file; NULL: the machine's store */
    PCCERT_CONTEXT leaf;
    PCCERT_CHAIN_CONTEXT chain;
    PCCRL_CONTEXT crls[AW_PROBE_URL_MAX];   /* by URL index; NULL: none */
    bool revocation_late;     /* the chain engine did not finish checking
                                 revocation in time (see net_job) */
    int64_t t0;
};

/* ---- CryptoAPI calls that go to the network, bounded --------------- */

/* They run on a thread of their own, waited for until a deadline: wine's
 * cryptnet stalls on a CRL server that never finishes (a 50 MB or endless
 * CRL), and a probe must never hang, whatever CryptoAPI does with its own
 * timeouts.  A call that outlives its deadline is abandoned: the job is
 * shared (refs), and the thread frees it when the call returns. */
struct net_job {
    LONG refs;
    bool chain;               /* CertGetCertificateChain, else a CRL URL */
    PCCERT_CONTEXT leaf;      /* own references */
    HCERTSTORE extra;
    CERT_CHAIN_PARA para;
    LPSTR usage[1];
    DWORD flags;
    PCCERT_CHAIN_CONTEXT chain_out;
    wchar_t url[AW_PROBE_TEXT_MAX];
    unsigned timeout_ms;
    PCCRL_CONTEXT crl_out;
    DWORD error;
};

static void job_release(struct net_job *j)
{
    if (InterlockedDecrement(&j->refs) != 0) {
        return;
    }
    if (j->chain_out != NULL) {
        CertFreeCertificateChain(j->chain_out);
    }
    if (j->crl_out != NULL) {
        CertFreeCRLContext(j->crl_out);
    }
    if (j->leaf != NULL) {
        CertFreeCertificateContext(j->leaf);
    }
    if (j->extra != NULL) {
        CertCloseStore(j->extra, 0);
    }
    free(j);
}

static DWORD WINAPI job_run(void *arg)
{
    struct net_job *j = arg;
    BOOL ok;

    if (j->chain) {
        j->para.RequestedUsage.Usage.rgpszUsageIdentifier = j->usage;
        ok = CertGetCertificateChain(HCCE_LOCAL_MACHINE, j->leaf, NULL, j->extra, &j->para,
                                     j->flags, NULL, &j->chain_out);
    } else {
        CRYPT_RETRIEVE_AUX_INFO aux;
        void *obj = NULL;
        memset(&aux, 0, sizeof(aux));
        aux.cbSize = sizeof(aux);
        aux.dwMaxUrlRetrievalByteCount = AW_PROBE_CRL_BYTES_MAX;
        ok = CryptRetrieveObjectByUrlW(j->url, CONTEXT_OID_CRL, CRYPT_WIRE_ONLY_RETRIEVAL,
                                       j->timeout_ms, &obj, NULL, NULL, NULL, &aux);
        j->crl_out = ok ? obj : NULL;
    }
    j->error = ok ? 0 : GetLastError();
    job_release(j);
    return 0;
}

/* Run j (refs 2 on entry: the caller's and the thread's); true when it
 * finished within wait_ms. */
static bool job_wait(struct net_job *j, DWORD wait_ms)
{
    HANDLE th = CreateThread(NULL, 0, job_run, j, 0, NULL);
    DWORD w;

    if (th == NULL) {
        job_run(j);
        return true;
    }
    w = WaitForSingleObject(th, wait_ms);
    CloseHandle(th);
    return w == WAIT_OBJECT_0;
}

bool aw_probe_available(void)
{
    return true;
}

/* ---- --ca-file ----------------------------------------------------- */

static char *read_small_file(const char *path, size_t *len, struct aw_err *err)
{
    FILE *f = fopen(path, "rb");
    char *d = f ? malloc(CA_FILE_MAX + 1) : NULL;

    if (f == NULL) {
        aw_err_set(err, AW_EUSAGE, "--ca-file %s: cannot read it: %s", path, strerror(errno));
        return NULL;
    }
    *len = d ? fread(d, 1, CA_FILE_MAX, f) : 0;
    fclose(f);
    if (d == NULL) {
        aw_err_set(err, AW_ENOMEM, "out of memory");
        return NULL;
    }
    d[*len] = '\0';
    return d;
}

/* The certificates of the PEM file path in a new memory store. */
static int load_anchors(const char *path, HCERTSTORE *out, struct aw_err *err)
{
    static const char BEGIN[] = "-----BEGIN CERTIFICATE-----", END[] = "-----END CERTIFICATE-----";
    size_t len = 0;
    char *pem = read_small_file(path, &len, err), *p = pem, *e;
    HCERTSTORE st;
    int certs = 0;

    *out = NULL;
    if (pem == NULL) {
        return err->code;
    }
    st = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    while (st != NULL && (p = strstr(p, BEGIN)) != NULL && (e = strstr(p, END)) != NULL) {
        BYTE der[16384];
        DWORD n = sizeof(der);
        if (CryptStringToBinaryA(p, (DWORD)(e + sizeof(END) - 1 - p), CRYPT_STRING_BASE64HEADER,
                                 der, &n, NULL, NULL) &&
            CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, der, n,
                                             CERT_STORE_ADD_ALWAYS, NULL)) {
            certs++;
        }
        p = e;
    }
    free(pem);
    if (st == NULL || certs == 0) {
        if (st != NULL) {
            CertCloseStore(st, 0);
        }
        return aw_err_set(err, AW_EUSAGE, "--ca-file %s: no PEM certificate in it", path);
    }
    *out = st;
    return AW_OK;
}

int aw_probe_check_ca_file(const char *path, struct aw_err *err)
{
    HCERTSTORE st = NULL;
    int rc = load_anchors(path, &st, err);

    if (st != NULL) {
        CertCloseStore(st, 0);
    }
    return rc;
}

/* ---- certificates as the result shows them ------------------------- */

static void time_text(const FILETIME *ft, char *out, size_t size)
{
    SYSTEMTIME t;

    out[0] = '\0';
    if (FileTimeToSystemTime(ft, &t)) {
        snprintf(out, size, "%04u-%02u-%02uT%02u:%02u:%02uZ", t.wYear, t.wMonth, t.wDay, t.wHour,
                 t.wMinute, t.wSecond);
    }
}

static void hex(const BYTE *d, DWORD n, char *out)
{
    for (DWORD i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02X", d[i]);
    }
    out[2 * n] = '\0';
}

static void name_text(const CERT_NAME_BLOB *n, char *out, size_t size)
{
    wchar_t w[AW_PROBE_TEXT_MAX];

    CertNameToStrW(X509_ASN_ENCODING, (CERT_NAME_BLOB *)n,
                   CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG, w, AW_PROBE_TEXT_MAX);
    aw_win_utf8(w, out, size);
}

/* Decode extension oid of x as type (LocalFree the result); NULL. */
static void *decode_ext(PCCERT_CONTEXT x, const char *oid, LPCSTR type)
{
    PCERT_EXTENSION e = CertFindExtension(oid, x->pCertInfo->cExtension,
                                          x->pCertInfo->rgExtension);
    void *v = NULL;
    DWORD n = 0;

    if (e == NULL || !CryptDecodeObjectEx(X509_ASN_ENCODING, type, e->Value.pbData,
                                          e->Value.cbData, CRYPT_DECODE_ALLOC_FLAG, NULL, &v,
                                          &n)) {
        return NULL;
    }
    return v;
}

static void san_text(PCCERT_CONTEXT x, char *out, size_t size)
{
    CERT_ALT_NAME_INFO *an = decode_ext(x, szOID_SUBJECT_ALT_NAME2, X509_ALTERNATE_NAME);
    size_t used = 0;

    out[0] = '\0';
    for (DWORD i = 0; an != NULL && i < an->cAltEntry; i++) {
        const CERT_ALT_NAME_ENTRY *e = &an->rgAltEntry[i];
        char one[300] = "", v[260];
        if (e->dwAltNameChoice == CERT_ALT_NAME_DNS_NAME) {
            aw_win_utf8(e->pwszDNSName, v, sizeof(v));
            snprintf(one, sizeof(one), "DNS:%s", v);
        } else if (e->dwAltNameChoice == CERT_ALT_NAME_IP_ADDRESS && e->IPAddress.cbData == 4) {
            const BYTE *b = e->IPAddress.pbData;
            snprintf(one, sizeof(one), "IP:%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        }
        if (one[0] != '\0' && used + strlen(one) + 3 < size) {
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", one);
        }
    }
    LocalFree(an);
}

static void add_cert(struct aw_probe_result *r, PCCERT_CONTEXT x, bool sent)
{
    const CERT_INFO *ci = x->pCertInfo;
    struct aw_probe_cert *c;
    BYTE md[32];
    DWORD n;
    size_t k = 0;

    if (r->nchain >= AW_PROBE_CHAIN_MAX) {
        return;
    }
    c = &r->chain[r->nchain++];
    name_text(&ci->Subject, c->subject, sizeof(c->subject));
    name_text(&ci->Issuer, c->issuer, sizeof(c->issuer));
    /* The serial is stored little-endian; leading zero bytes dropped as
     * OpenSSL's BN_bn2hex does. */
    for (DWORD i = ci->SerialNumber.cbData; i > 0 && k + 3 < sizeof(c->serial); i--) {
        if (k == 0 && ci->SerialNumber.pbData[i - 1] == 0 && i > 1) {
            continue;
        }
        k += (size_t)sprintf(c->serial + k, "%02X", ci->SerialNumber.pbData[i - 1]);
    }
    time_text(&ci->NotBefore, c->not_before, sizeof(c->not_before));
    time_text(&ci->NotAfter, c->not_after, sizeof(c->not_after));
    n = 20;
    if (CertGetCertificateContextProperty(x, CERT_SHA1_HASH_PROP_ID, md, &n)) {
        hex(md, n, c->sha1);
    }
    n = sizeof(md);
    if (CryptHashCertificate(0, CALG_SHA_256, 0, x->pbCertEncoded, x->cbCertEncoded, md, &n)) {
        hex(md, n, c->sha256);
    }
    san_text(x, c->san, sizeof(c->san));
    c->sent_by_server = sent;
}

static bool sent_by_server(const struct engine *g, PCCERT_CONTEXT x)
{
    PCCERT_CONTEXT f = CertFindCertificateInStore(g->leaf->hCertStore, X509_ASN_ENCODING, 0,
                                                  CERT_FIND_EXISTING, x, NULL);
    if (f != NULL) {
        CertFreeCertificateContext(f);
    }
    return f != NULL;
}

/* ---- URLs ---------------------------------------------------------- */

/* Indices in r->urls of the URLs of one kind a certificate names. */
struct url_list {
    const char *kind;
    size_t idx[AW_PROBE_URL_MAX];
    size_t n;
};

static void url_of(struct aw_probe_result *r, const char *kind, const wchar_t *w,
                   struct url_list *l)
{
    char url[AW_PROBE_TEXT_MAX];
    struct aw_probe_url *u;

    aw_win_utf8(w, url, sizeof(url));
    u = aw_probe_url_add(r, kind, url, strlen(url));
    if (u != NULL && l != NULL && strcmp(l->kind, kind) == 0 && l->n < AW_PROBE_URL_MAX) {
        l->idx[l->n++] = (size_t)(u - r->urls);
    }
}

/* The CDP, caIssuers and OCSP URLs of x into r; those of l->kind in l
 * (l may be NULL). */
static void cert_urls(struct aw_probe_result *r, PCCERT_CONTEXT x, struct url_list *l)
{
    CRL_DIST_POINTS_INFO *dps = decode_ext(x, szOID_CRL_DIST_POINTS, X509_CRL_DIST_POINTS);
    CERT_AUTHORITY_INFO_ACCESS *aia = decode_ext(x, szOID_AUTHORITY_INFO_ACCESS,
                                                 X509_AUTHORITY_INFO_ACCESS);

    for (DWORD i = 0; dps != NULL && i < dps->cDistPoint; i++) {
        const CRL_DIST_POINT_NAME *dn = &dps->rgDistPoint[i].DistPointName;
        for (DWORD k = 0; dn->dwDistPointNameChoice == CRL_DIST_POINT_FULL_NAME &&
                          k < dn->FullName.cAltEntry; k++) {
            if (dn->FullName.rgAltEntry[k].dwAltNameChoice == CERT_ALT_NAME_URL) {
                url_of(r, "crl", dn->FullName.rgAltEntry[k].pwszURL, l);
            }
        }
    }
    for (DWORD i = 0; aia != NULL && i < aia->cAccDescr; i++) {
        const CERT_ACCESS_DESCRIPTION *ad = &aia->rgAccDescr[i];
        bool ocsp = strcmp(ad->pszAccessMethod, szOID_PKIX_OCSP) == 0;
        if (ad->AccessLocation.dwAltNameChoice == CERT_ALT_NAME_URL &&
            (ocsp || strcmp(ad->pszAccessMethod, szOID_PKIX_CA_ISSUERS) == 0)) {
            url_of(r, ocsp ? "ocsp" : "aia", ad->AccessLocation.pwszURL, l);
        }
    }
    LocalFree(dps);
    LocalFree(aia);
}

/* Retrieve every CRL URL on its own, recording the outcome. */
static void fetch_crls(struct engine *g)
{
    for (size_t i = 0; i < g->r->nurls; i++) {
        struct aw_probe_url *u = &g->r->urls[i];
        struct net_job *j;
        bool done;

        if (strcmp(u->kind, "crl") != 0 || (j = calloc(1, sizeof(*j))) == NULL) {
            continue;
        }
        j->refs = 2;
        j->timeout_ms = g->o->timeout_ms;
        MultiByteToWideChar(CP_UTF8, 0, u->url, -1, j->url, AW_PROBE_TEXT_MAX);
        done = job_wait(j, g->o->timeout_ms + 1000);
        if (!done) {
            u->result = AW_PC_FAIL;
            snprintf(u->error, sizeof(u->error), "timed out after %u ms (CryptoAPI did not "
                     "finish the download)", g->o->timeout_ms);
        } else if (j->crl_out != NULL) {
            PCCRL_CONTEXT crl = j->crl_out;
            j->crl_out = NULL;
            FILETIME now;
            GetSystemTimeAsFileTime(&now);
            u->result = AW_PC_OK;
            u->bytes = crl->cbCrlEncoded;
            time_text(&crl->pCrlInfo->ThisUpdate, u->this_update, sizeof(u->this_update));
            time_text(&crl->pCrlInfo->NextUpdate, u->next_update, sizeof(u->next_update));
            if (u->next_update[0] != '\0' &&
                CompareFileTime(&crl->pCrlInfo->NextUpdate, &now) < 0) {
                u->result = AW_PC_FAIL;
                snprintf(u->error, sizeof(u->error), "stale CRL: its next update was %.31s",
                         u->next_update);
            }
            g->crls[i] = crl;
        } else {
            u->result = AW_PC_FAIL;
            aw_win_error_text(j->error, u->error, sizeof(u->error));
        }
        job_release(j);
    }
}

/* ---- the chain ----------------------------------------------------- */

/* Build g->chain with flags; 1 when CryptoAPI did not finish in time,
 * -1 when it failed. */
static int build_chain(struct engine *g, DWORD flags)
{
    struct net_job *j = calloc(1, sizeof(*j));
    int rc = -1;

    if (j == NULL) {
        return -1;
    }
    j->refs = 2;
    j->chain = true;
    j->flags = flags;
    j->leaf = CertDuplicateCertificateContext(g->leaf);
    j->para.cbSize = sizeof(j->para);
    j->para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
    j->para.RequestedUsage.Usage.cUsageIdentifier = 1;
    j->usage[0] = (LPSTR)szOID_PKIX_KP_SERVER_AUTH;
    j->para.dwUrlRetrievalTimeout = g->o->timeout_ms;
    /* What the server sent and the --ca-file anchors, as one collection. */
    j->extra = CertOpenStore(CERT_STORE_PROV_COLLECTION, 0, 0, 0, NULL);
    if (j->extra != NULL) {
        CertAddStoreToCollection(j->extra, g->leaf->hCertStore, 0, 0);
        if (g->anchors != NULL) {
            CertAddStoreToCollection(j->extra, g->anchors, 0, 0);
        }
        if (!job_wait(j, 2 * g->o->timeout_ms + 1000)) {
            rc = 1;
        } else if (j->chain_out != NULL) {
            g->chain = j->chain_out;
            j->chain_out = NULL;
            rc = 0;
        } else {
            SetLastError(j->error);
        }
    } else {
        j->refs = 1;
    }
    job_release(j);
    return rc;
}

/* A memory store with copies of the certificates of from; *leaf_out, when
 * asked, gets the copy of leaf.  NULL when a copy fails. */
static HCERTSTORE copy_store(HCERTSTORE from, PCCERT_CONTEXT leaf, PCCERT_CONTEXT *leaf_out)
{
    HCERTSTORE to = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    bool ok = to != NULL;

    for (PCCERT_CONTEXT x = NULL; ok && (x = CertEnumCertificatesInStore(from, x)) != NULL;) {
        bool is_leaf = leaf != NULL && leaf_out != NULL &&
                       CertCompareCertificate(X509_ASN_ENCODING, x->pCertInfo, leaf->pCertInfo);
        ok = CertAddEncodedCertificateToStore(to, X509_ASN_ENCODING, x->pbCertEncoded,
                                              x->cbCertEncoded, CERT_STORE_ADD_ALWAYS,
                                              is_leaf ? leaf_out : NULL);
        if (!ok) {
            CertFreeCertificateContext(x);
        }
    }
    if (!ok && to != NULL) {
        CertCloseStore(to, 0);
        to = NULL;
    }
    return to;
}

/* Before the rebuild that follows a stalled chain call: copies of the
 * leaf, of what came with it and of the anchors, so that the rebuild
 * shares no certificate context or store with the call still running on
 * its thread.  Under wine, a rebuild on the same contexts while the
 * stalled call went on reading an endless or trickling CRL reported the
 * leaf's signature invalid (CERT_TRUST_IS_NOT_SIGNATURE_VALID): two of
 * four runs of the hostile CRL scenarios failed so, none of six with the
 * copies.  The originals stay when a copy fails. */
static void fresh_copies(struct engine *g)
{
    PCCERT_CONTEXT leaf = NULL;
    HCERTSTORE sent = copy_store(g->leaf->hCertStore, g->leaf, &leaf);
    HCERTSTORE anchors = g->anchors != NULL ? copy_store(g->anchors, NULL, NULL) : NULL;

    if (sent == NULL || leaf == NULL || (g->anchors != NULL && anchors == NULL)) {
        if (leaf != NULL) {
            CertFreeCertificateContext(leaf);
        }
        if (sent != NULL) {
            CertCloseStore(sent, 0);
        }
        if (anchors != NULL) {
            CertCloseStore(anchors, 0);
        }
        return;
    }
    CertFreeCertificateContext(g->leaf);
    g->leaf = leaf;
    CertCloseStore(sent, 0); /* the leaf's reference keeps it open */
    if (g->anchors != NULL) {
        CertCloseStore(g->anchors, 0);
        g->anchors = anchors;
    }
}

/* Is x one of the --ca-file anchors? */
static bool is_anchor(const struct engine *g, PCCERT_CONTEXT x)
{
    PCCERT_CONTEXT f = CertFindCertificateInStore(g->anchors, X509_ASN_ENCODING, 0,
                                                  CERT_FIND_EXISTING, x, NULL);
    if (f != NULL) {
        CertFreeCertificateContext(f);
    }
    return f != NULL;
}

/* Is the IP literal host among the iPAddress names of the leaf?  RFC
 * 2818 3.1; asked when the SSL policy says CERT_E_CN_NO_MATCH, since
 * wine's crypt32 compares DNS names only. */
static bool ip_in_san(const struct engine *g)
{
    CERT_ALT_NAME_INFO *an;
    unsigned char ip[16];
    DWORD len = 4;
    bool found = false;

    if (inet_pton(AF_INET, g->t->host, ip) != 1) {
        len = 16;
        if (inet_pton(AF_INET6, g->t->host, ip) != 1) {
            return false;
        }
    }
    an = decode_ext(g->leaf, szOID_SUBJECT_ALT_NAME2, X509_ALTERNATE_NAME);
    for (DWORD i = 0; an != NULL && i < an->cAltEntry && !found; i++) {
        const CERT_ALT_NAME_ENTRY *e = &an->rgAltEntry[i];
        found = e->dwAltNameChoice == CERT_ALT_NAME_IP_ADDRESS && e->IPAddress.cbData == len &&
                memcmp(e->IPAddress.pbData, ip, len) == 0;
    }
    LocalFree(an);
    return found;
}

/* Only CERT_E_CN_NO_MATCH is asked of the SSL policy: every other error
 * is ignored there, the trust bits of the chain tell them apart. */
static bool name_ok(const struct engine *g)
{
    wchar_t whost[AW_PROBE_HOST_MAX + 1];
    SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl;
    CERT_CHAIN_POLICY_PARA para;
    CERT_CHAIN_POLICY_STATUS st;

    MultiByteToWideChar(CP_UTF8, 0, g->t->host, -1, whost, AW_PROBE_HOST_MAX + 1);
    memset(&ssl, 0, sizeof(ssl));
    ssl.cbSize = sizeof(ssl);
    ssl.dwAuthType = AUTHTYPE_SERVER;
    ssl.fdwChecks = 0x00000100 /* SECURITY_FLAG_IGNORE_UNKNOWN_CA */ |
                    0x00002000 /* SECURITY_FLAG_IGNORE_CERT_DATE_INVALID */ |
                    0x00000080 /* SECURITY_FLAG_IGNORE_REVOCATION */ |
                    0x00000200 /* SECURITY_FLAG_IGNORE_WRONG_USAGE */;
    ssl.pwszServerName = whost;
    memset(&para, 0, sizeof(para));
    para.cbSize = sizeof(para);
    para.dwFlags = CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG |
                   CERT_CHAIN_POLICY_IGNORE_ALL_NOT_TIME_VALID_FLAGS |
                   CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS;
    para.pvExtraPolicyPara = &ssl;
    memset(&st, 0, sizeof(st));
    st.cbSize = sizeof(st);
    if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, g->chain, &para, &st)) {
        return false;
    }
    return st.dwError != (DWORD)CERT_E_CN_NO_MATCH || ip_in_san(g);
}

/* ---- facts and verdicts -------------------------------------------- */

struct fact_texts {
    char top[AW_PROBE_TEXT_MAX], top_issuer[AW_PROBE_TEXT_MAX], aia[AW_PROBE_TEXT_MAX];
    char untrusted[AW_PROBE_TEXT_MAX], bad_time[AW_PROBE_TEXT_MAX], when[32];
};

/* Errors that belong to the trust step (CERT_TRUST_* of wincrypt.h). */
#define TRUST_ERRORS (CERT_TRUST_IS_UNTRUSTED_ROOT | CERT_TRUST_IS_NOT_SIGNATURE_VALID | \
                      CERT_TRUST_IS_CYCLIC | CERT_TRUST_INVALID_BASIC_CONSTRAINTS | \
                      CERT_TRUST_IS_NOT_VALID_FOR_USAGE | CERT_TRUST_IS_EXPLICIT_DISTRUST | \
                      CERT_TRUST_INVALID_EXTENSION | CERT_TRUST_INVALID_NAME_CONSTRAINTS)

static const char *trust_error_text(DWORD bits)
{
    return (bits & CERT_TRUST_IS_UNTRUSTED_ROOT) ? "CERT_TRUST_IS_UNTRUSTED_ROOT: a root the "
                                                   "machine's trusted root store does not hold" :
           (bits & CERT_TRUST_IS_NOT_SIGNATURE_VALID) ? "CERT_TRUST_IS_NOT_SIGNATURE_VALID" :
           (bits & CERT_TRUST_IS_EXPLICIT_DISTRUST) ? "CERT_TRUST_IS_EXPLICIT_DISTRUST" :
           (bits & CERT_TRUST_IS_NOT_VALID_FOR_USAGE) ? "CERT_TRUST_IS_NOT_VALID_FOR_USAGE" :
           (bits & CERT_TRUST_INVALID_BASIC_CONSTRAINTS) ? "CERT_TRUST_INVALID_BASIC_CONSTRAINTS" :
           "CERT_TRUST_* error";
}

static void trust_facts(struct engine *g, const CERT_SIMPLE_CHAIN *sc, struct aw_probe_facts *f,
                        struct fact_texts *tx)
{
    PCCERT_CONTEXT root = sc->rgpElement[sc->cElement - 1]->pCertContext;

    for (DWORD i = 0; i < sc->cElement && f->untrusted == NULL; i++) {
        const CERT_CHAIN_ELEMENT *e = sc->rgpElement[i];
        DWORD bits = e->TrustStatus.dwErrorStatus & TRUST_ERRORS;
        if (g->anchors != NULL && i == sc->cElement - 1) {
            bits &= ~(DWORD)CERT_TRUST_IS_UNTRUSTED_ROOT;   /* judged below */
        }
        if (bits != 0) {
            name_text(&e->pCertContext->pCertInfo->Subject, tx->untrusted, sizeof(tx->untrusted));
            f->untrusted = tx->untrusted;
            f->trust_error = trust_error_text(bits);
        }
    }
    if (f->untrusted == NULL && g->anchors != NULL && !f->issuer_missing &&
        !is_anchor(g, root)) {
        name_text(&root->pCertInfo->Subject, tx->untrusted, sizeof(tx->untrusted));
        f->untrusted = tx->untrusted;
        f->trust_error = "not among the --ca-file certificates";
    }
}

static void time_facts(const CERT_SIMPLE_CHAIN *sc, struct aw_probe_facts *f,
                       struct fact_texts *tx)
{
    for (DWORD i = 0; i < sc->cElement && f->bad_time == NULL; i++) {
        const CERT_CHAIN_ELEMENT *e = sc->rgpElement[i];
        const CERT_INFO *ci = e->pCertContext->pCertInfo;
        if (!(e->TrustStatus.dwErrorStatus & CERT_TRUST_IS_NOT_TIME_VALID)) {
            continue;
        }
        f->expired = CertVerifyTimeValidity(NULL, (CERT_INFO *)ci) > 0;
        name_text(&ci->Subject, tx->bad_time, sizeof(tx->bad_time));
        time_text(f->expired ? &ci->NotAfter : &ci->NotBefore, tx->when, sizeof(tx->when));
        f->bad_time = tx->bad_time;
        f->bad_time_depth = (int)i;
        f->bad_time_when = tx->when;
    }
}

/* The chain's facts, the certificates fetched and every URL. */
static void facts_of(struct engine *g, struct aw_probe_facts *f, struct fact_texts *tx)
{
    const CERT_SIMPLE_CHAIN *sc = g->chain->rgpChain[0];
    const CERT_INFO *top = sc->rgpElement[sc->cElement - 1]->pCertContext->pCertInfo;

    f->nsent = (int)g->r->nsent;
    f->issuer_missing = (g->chain->TrustStatus.dwErrorStatus & CERT_TRUST_IS_PARTIAL_CHAIN) != 0;
    f->as_sent_missing = f->issuer_missing;
    f->aia_used = tx->aia;
    for (DWORD i = 0; i < sc->cElement; i++) {
        PCCERT_CONTEXT x = sc->rgpElement[i]->pCertContext;
        struct url_list aia = { .kind = "aia" };
        cert_urls(g->r, x, &aia);
        if (i + 1 < sc->cElement && !sent_by_server(g, sc->rgpElement[i + 1]->pCertContext) &&
            !(i + 2 == sc->cElement && !f->issuer_missing)) {
            /* An intermediate the server did not send: CryptoAPI took it
             * from AIA (or the machine's intermediate store). */
            f->as_sent_missing = true;
            if (tx->aia[0] == '\0' && aia.n > 0) {
                snprintf(tx->aia, sizeof(tx->aia), "%s", g->r->urls[aia.idx[0]].url);
            }
        }
        if (i > 0 && !sent_by_server(g, x) && !(i + 1 == sc->cElement && !f->issuer_missing)) {
            /* fetched, not the trust anchor from the store */
            add_cert(g->r, x, false);
        }
    }
    name_text(&top->Subject, tx->top, sizeof(tx->top));
    name_text(&top->Issuer, tx->top_issuer, sizeof(tx->top_issuer));
    f->top = tx->top;
    f->top_issuer = tx->top_issuer;
    f->store = g->anchors ? "--ca-file" : "the machine's trusted root store";
    trust_facts(g, sc, f, tx);
    time_facts(sc, f, tx);
    f->name_ok = name_ok(g);
}

/* Does a CRL retrieved from l, signed by issuer, list x?  CryptoAPI's
 * own answer is asked first; this one, from the CRLs just retrieved,
 * is what `certutil -URL` shows, and keeps a cached status from hiding a
 * revocation (seen under wine). */
static bool listed_in_crl(const struct engine *g, const struct url_list *l, PCCERT_CONTEXT x,
                          PCCERT_CONTEXT issuer)
{
    for (size_t i = 0; i < l->n; i++) {
        PCCRL_CONTEXT crl = g->crls[l->idx[i]];
        PCRL_ENTRY entry = NULL;
        if (crl != NULL &&
            CryptVerifyCertificateSignatureEx(0, X509_ASN_ENCODING,
                                              CRYPT_VERIFY_CERT_SIGN_SUBJECT_CRL, (void *)crl,
                                              CRYPT_VERIFY_CERT_SIGN_ISSUER_CERT,
                                              (void *)issuer, 0, NULL) &&
            CertFindCertificateInCRL(x, crl, 0, NULL, &entry) && entry != NULL) {
            return true;
        }
    }
    return false;
}

/* Did every URL of l fail when retrieved on its own (a stale CRL
 * included, which CryptoAPI itself treats as offline)? */
static bool all_failed(const struct aw_probe_result *r, const struct url_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (r->urls[l->idx[i]].result != AW_PC_FAIL) {
            return false;
        }
    }
    return l->n > 0;
}

static void step_revocation(struct engine *g, const struct aw_probe_facts *f)
{
    const CERT_SIMPLE_CHAIN *sc = g->chain->rgpChain[0];
    char who[AW_PROBE_TEXT_MAX], urls[AW_PROBE_DETAIL_MAX];

    if (g->o->no_revocation) {
        aw_probe_revocation_skip(g->r, &g->t0, "not checked (--no-revocation)");
        return;
    }
    if (f->issuer_missing || f->untrusted != NULL) {
        aw_probe_revocation_skip(g->r, &g->t0, "no trusted chain to check");
        return;
    }
    fetch_crls(g);
    /* The root is not checked (..._CHAIN_EXCLUDE_ROOT). */
    for (DWORD i = 0; i + 1 < sc->cElement || (i == 0 && sc->cElement == 1); i++) {
        const CERT_CHAIN_ELEMENT *e = sc->rgpElement[i];
        DWORD bits = e->TrustStatus.dwErrorStatus;
        struct url_list crl = { .kind = "crl" };

        name_text(&e->pCertContext->pCertInfo->Subject, who, sizeof(who));
        cert_urls(g->r, e->pCertContext, &crl);
        if ((bits & CERT_TRUST_IS_REVOKED) ||
            (i + 1 < sc->cElement &&
             listed_in_crl(g, &crl, e->pCertContext, sc->rgpElement[i + 1]->pCertContext))) {
            aw_probe_revoked(g->r, &g->t0, who, (int)i);
            return;
        }
        if (crl.n == 0) {
            continue;   /* no CDP: nothing to fetch, as on Linux */
        }
        if (!(bits & (CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION)) &&
            !all_failed(g->r, &crl)) {
            continue;
        }
        aw_probe_urls_text(g->r, crl.idx, crl.n, urls, sizeof(urls));
        aw_probe_revocation_offline(g->r, &g->t0, who, (bits & CERT_TRUST_IS_OFFLINE_REVOCATION)
                                    ? "CERT_TRUST_IS_OFFLINE_REVOCATION"
                                    : (bits & CERT_TRUST_REVOCATION_STATUS_UNKNOWN)
                                    ? "CERT_TRUST_REVOCATION_STATUS_UNKNOWN"
                                    : "no usable CRL", urls);
        return;
    }
    if (g->revocation_late) {
        name_text(&g->leaf->pCertInfo->Subject, who, sizeof(who));
        aw_probe_revocation_offline(g->r, &g->t0, who, "CryptoAPI did not finish checking "
                                    "revocation in time", "the CRL URLs of the chain");
        return;
    }
    aw_probe_revocation_ok(g->r, &g->t0);
}

/* The steps after the handshake, on g->leaf and what came with it. */
static int judge(struct engine *g, struct aw_probe_facts *f, struct fact_texts *tx)
{
    int rc;

    add_cert(g->r, g->leaf, true);
    for (PCCERT_CONTEXT x = NULL; (x = CertEnumCertificatesInStore(g->leaf->hCertStore, x));) {
        if (!CertCompareCertificate(X509_ASN_ENCODING, x->pCertInfo, g->leaf->pCertInfo)) {
            add_cert(g->r, x, true);
        }
    }
    g->r->nsent = g->r->nchain;
    rc = build_chain(g, g->o->no_revocation ? 0 : CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT |
                                               CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT);
    if (rc == 1 && !g->o->no_revocation) {
        /* Stalled on revocation, most likely: the chain once more without
         * it, and revocation judged from the CRLs retrieved here. */
        g->revocation_late = true;
        fresh_copies(g);
        rc = build_chain(g, 0);
    }
    if (rc == 1) {
        aw_probe_check_set(g->r, AW_PS_CHAIN, AW_PC_FAIL, &g->t0, "CryptoAPI did not build the "
                           "chain within %u ms (fetching the issuers from AIA)", 2 *
                           g->o->timeout_ms + 1000);
        aw_probe_verdict_set(g->r, AW_PV_CHAIN_INCOMPLETE, "The chain of %s could not be built "
                             "in time: an issuer's AIA URL does not answer.", g->t->host);
        return 0;
    }
    if (rc != 0) {
        return -1;
    }
    facts_of(g, f, tx);
    aw_probe_judge(g->r, &g->t0, g->t->host, f);
    step_revocation(g, f);
    return 0;
}

int aw_probe_run(const struct aw_probe_target *t, const struct aw_probe_opts *opts,
                 struct aw_probe_result *r, struct aw_err *err)
{
    struct engine g;
    struct aw_probe_facts facts = { .aia_used = "" };
    struct fact_texts *tx = calloc(1, sizeof(*tx));
    int64_t start = aw_probe_mono_ms();
    int rc = AW_OK;

    aw_probe_result_start(r, t);
    memset(&g, 0, sizeof(g));
    g.t = t;
    g.o = opts;
    g.r = r;
    g.t0 = start;
    if (tx == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    if (opts->ca_file != NULL && (rc = load_anchors(opts->ca_file, &g.anchors, err)) != AW_OK) {
        goto out;
    }
    rc = aw_win_tls_connect(t, opts, r, &g.t0, &g.leaf);
    if (rc != AW_OK) {
        rc = aw_err_set(err, rc, "cannot start the network (WinSock) for %s", t->host);
        goto out;
    }
    if (g.leaf != NULL && judge(&g, &facts, tx) != 0) {
        char why[256];
        aw_win_error_text(GetLastError(), why, sizeof(why));
        rc = aw_err_set(err, AW_EIO, "CertGetCertificateChain for %s: %s", t->host, why);
        goto out;
    }
    aw_probe_finish(r, opts, &facts);
out:
    r->ms = aw_probe_mono_ms() - start;
    if (g.chain != NULL) {
        CertFreeCertificateChain(g.chain);
    }
    if (g.leaf != NULL) {
        CertFreeCertificateContext(g.leaf);
    }
    if (g.anchors != NULL) {
        CertCloseStore(g.anchors, 0);
    }
    for (size_t i = 0; i < AW_PROBE_URL_MAX; i++) {
        if (g.crls[i] != NULL) {
            CertFreeCRLContext(g.crls[i]);
        }
    }
    free(tx);
    return rc;
}
