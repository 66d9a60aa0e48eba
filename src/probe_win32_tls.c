/*
 * The network half of the Windows probe engine (see probe_win32.h):
 * getaddrinfo, a non-blocking connect waited for with select() (a refusal
 * and silence are different verdicts), and the handshake with Schannel,
 * the TLS stack of the agent, with manual credential validation
 * (SCH_CRED_MANUAL_CRED_VALIDATION, ISC_REQ_MANUAL_CRED_VALIDATION) so
 * that the handshake completes whatever the certificate and
 * SECPKG_ATTR_REMOTE_CERT_CONTEXT hands over the server's certificate
 * and the store of what it sent ("Manually Validating Schannel
 * Credentials", Microsoft Learn).
 *
 * Schannel does not say which alert a server sent nor whether a
 * ServerHello came; the first bytes the server sends are read here before
 * Schannel sees them, so the verdicts tls-no-serverhello, tls-alert and
 * tls-protocol are told apart as on Linux (an alert before the
 * ServerHello is a plaintext record: type 21, then level and
 * description, RFC 8446 5.1 and 6).
 */
#define SECURITY_WIN32
#include "probe_win32.h"

#include <ws2tcpip.h>
#include <schannel.h>
#include <security.h>
#include <sspi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_engine.h"

#define TLS_IN_MAX (256u * 1024)   /* a handshake: the certificates sent */
#define SNIFF_MAX 16384            /* the first bytes looked at */

struct conn {
    SOCKET s;
    int64_t deadline;
    unsigned char *in;        /* received, not yet used by Schannel */
    size_t inlen;
    unsigned char sniff[SNIFF_MAX];
    size_t nsniff;
    uint64_t bytes;
    bool timed_out;
    bool have_ctx;            /* a security context to delete */
    char reason[256];
};

void aw_win_utf8(const wchar_t *w, char *out, size_t size)
{
    out[0] = '\0';
    if (w != NULL && WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)size, NULL, NULL) == 0) {
        out[size - 1] = '\0';
    }
}

void aw_win_error_text(unsigned long e, char *out, size_t size)
{
    char msg[200] = "";
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             (DWORD)e, 0, msg, sizeof(msg), NULL);

    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == '.' ||
                     msg[n - 1] == ' ')) {
        msg[--n] = '\0';
    }
    snprintf(out, size, "%s%s0x%08lX%s", msg, n ? " (" : "error ", e, n ? ")" : "");
}

/* ---- dns and tcp --------------------------------------------------- */

static int step_dns(const struct aw_probe_target *t, struct aw_probe_result *r, int64_t *t0,
                    struct addrinfo **out)
{
    struct addrinfo hints;
    char port[8], why[256];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", t->port);
    rc = getaddrinfo(t->host, port, &hints, out);
    if (rc != 0 || *out == NULL) {
        aw_win_error_text((unsigned long)rc, why, sizeof(why));
        aw_probe_check_set(r, AW_PS_DNS, AW_PC_FAIL, t0, "%s: %s", t->host, why);
        aw_probe_verdict_set(r, AW_PV_DNS_FAILURE, "%s: %s.", t->host, why);
        return -1;
    }
    for (struct addrinfo *a = *out; a != NULL && r->naddresses < AW_PROBE_ADDR_MAX;
         a = a->ai_next) {
        getnameinfo(a->ai_addr, (socklen_t)a->ai_addrlen, r->addresses[r->naddresses],
                    sizeof(r->addresses[0]), NULL, 0, NI_NUMERICHOST);
        r->naddresses++;
    }
    aw_probe_check_set(r, AW_PS_DNS, AW_PC_OK, t0, "%s: %zu address%s, first %s", t->host,
                       r->naddresses, r->naddresses == 1 ? "" : "es", r->addresses[0]);
    return 0;
}

/* Wait until s is writable (connected) or readable, or the deadline. */
static int wait_socket(SOCKET s, bool write, int64_t deadline)
{
    fd_set set, err;
    struct timeval tv;
    int64_t left = deadline - aw_probe_mono_ms();

    if (left <= 0) {
        return 0;
    }
    FD_ZERO(&set);
    FD_ZERO(&err);
    FD_SET(s, &set);
    FD_SET(s, &err);
    tv.tv_sec = (long)(left / 1000);
    tv.tv_usec = (long)(left % 1000) * 1000;
    return select(0, write ? NULL : &set, write ? &set : NULL, &err, &tv);
}

/* Connect to a within timeout_ms: 0, or the WinSock error. */
static int connect_one(const struct addrinfo *a, unsigned timeout_ms, SOCKET *out)
{
    SOCKET s = socket(a->ai_family, SOCK_STREAM, IPPROTO_TCP);
    u_long nb = 1;
    int e = 0, len = sizeof(e), w;

    if (s == INVALID_SOCKET) {
        return WSAGetLastError();
    }
    ioctlsocket(s, FIONBIO, &nb);
    if (connect(s, a->ai_addr, (int)a->ai_addrlen) != 0) {
        e = WSAGetLastError();
        if (e == WSAEWOULDBLOCK) {
            w = wait_socket(s, true, aw_probe_mono_ms() + timeout_ms);
            e = w == 0 ? WSAETIMEDOUT : 0;
            if (w > 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&e, &len) != 0) {
                e = WSAGetLastError();
            }
        }
    }
    if (e != 0) {
        closesocket(s);
        return e;
    }
    *out = s;
    return 0;
}

static int step_tcp(const struct aw_probe_target *t, const struct aw_probe_opts *o,
                    struct aw_probe_result *r, int64_t *t0, const struct addrinfo *list,
                    SOCKET *s)
{
    char all[AW_PROBE_DETAIL_MAX] = "", why[256];
    bool refused = false;
    size_t used = 0, i = 0;

    for (const struct addrinfo *a = list; a != NULL; a = a->ai_next, i++) {
        int e = connect_one(a, o->timeout_ms, s);
        if (e == 0) {
            aw_probe_check_set(r, AW_PS_TCP, AW_PC_OK, t0, "connected to %s port %u",
                               i < r->naddresses ? r->addresses[i] : "?", t->port);
            return 0;
        }
        refused = refused || e == WSAECONNREFUSED;
        aw_win_error_text((unsigned long)e, why, sizeof(why));
        if (used < sizeof(all)) {
            used += (size_t)snprintf(all + used, sizeof(all) - used, "%s%s: %s",
                                     used ? "; " : "", i < r->naddresses ? r->addresses[i] : "?",
                                     why);
        }
    }
    aw_probe_check_set(r, AW_PS_TCP, AW_PC_FAIL, t0, "port %u: %s (timeout %u ms)", t->port,
                       all, o->timeout_ms);
    aw_probe_verdict_set(r, refused ? AW_PV_TCP_REFUSED : AW_PV_TCP_TIMEOUT,
                         "TCP port %u of %s %s: %s.", t->port, t->host,
                         refused ? "refused the connection" : "did not answer", all);
    return -1;
}

/* ---- tls ----------------------------------------------------------- */

static int send_all(struct conn *c, const void *data, unsigned long len)
{
    const char *p = data;

    while (len > 0) {
        int n = send(c->s, p, (int)len, 0);
        if (n == SOCKET_ERROR && WSAGetLastError() == WSAEWOULDBLOCK &&
            wait_socket(c->s, true, c->deadline) > 0) {
            continue;
        }
        if (n <= 0) {
            aw_win_error_text((unsigned long)WSAGetLastError(), c->reason, sizeof(c->reason));
            return -1;
        }
        p += n;
        len -= (unsigned long)n;
    }
    return 0;
}

/* Read more of the server's answer into c->in: 0, or -1 (closed, timed
 * out, too much: c->reason says). */
static int receive(struct conn *c)
{
    char buf[16384];
    int n, w;

    if (c->inlen >= TLS_IN_MAX) {
        snprintf(c->reason, sizeof(c->reason), "handshake larger than %u bytes", TLS_IN_MAX);
        return -1;
    }
    w = wait_socket(c->s, false, c->deadline);
    if (w == 0) {
        c->timed_out = true;
        snprintf(c->reason, sizeof(c->reason), "timed out");
        return -1;
    }
    n = w < 0 ? SOCKET_ERROR : recv(c->s, buf, sizeof(buf), 0);
    if (n == SOCKET_ERROR && WSAGetLastError() == WSAEWOULDBLOCK) {
        return 0;
    }
    if (n <= 0) {
        if (n == 0) {
            snprintf(c->reason, sizeof(c->reason), "connection closed");
        } else {
            aw_win_error_text((unsigned long)WSAGetLastError(), c->reason, sizeof(c->reason));
        }
        return -1;
    }
    if ((size_t)n > TLS_IN_MAX - c->inlen) {
        n = (int)(TLS_IN_MAX - c->inlen);
    }
    memcpy(c->in + c->inlen, buf, (size_t)n);
    c->inlen += (size_t)n;
    if (c->nsniff < SNIFF_MAX) {
        size_t k = (size_t)n < SNIFF_MAX - c->nsniff ? (size_t)n : SNIFF_MAX - c->nsniff;
        memcpy(c->sniff + c->nsniff, buf, k);
        c->nsniff += k;
    }
    c->bytes += (uint64_t)n;
    return 0;
}

/* What the first plaintext records say: a ServerHello (handshake type 2
 * in a handshake record, 22), an alert (21) and its description. */
static void sniff(const struct conn *c, bool *server_hello, int *alert)
{
    size_t at = 0;

    *server_hello = false;
    *alert = -1;
    while (at + 5 < c->nsniff) {
        unsigned type = c->sniff[at], len = (unsigned)c->sniff[at + 3] << 8 | c->sniff[at + 4];
        if (type == 22 && c->sniff[at + 5] == 2) {
            *server_hello = true;
        } else if (type == 21 && len >= 2 && at + 6 < c->nsniff && !*server_hello) {
            *alert = c->sniff[at + 6];
        }
        if (type < 20 || type > 23) {
            return;   /* no TLS: the first bytes are something else */
        }
        at += 5 + len;
    }
}

static const char *alert_name(int a)
{
    switch (a) {
    case 0: return "close notify";
    case 10: return "unexpected message";
    case 20: return "bad record mac";
    case 40: return "handshake failure";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "certificate revoked";
    case 45: return "certificate expired";
    case 46: return "certificate unknown";
    case 47: return "illegal parameter";
    case 48: return "unknown CA";
    case 49: return "access denied";
    case 50: return "decode error";
    case 70: return "protocol version";
    case 71: return "insufficient security";
    case 80: return "internal error";
    case 86: return "inappropriate fallback";
    case 109: return "missing extension";
    case 112: return "unrecognized name";
    default: return "alert";
    }
}

/* One InitializeSecurityContext round over what c->in holds. */
static SECURITY_STATUS isc_round(struct conn *c, CredHandle *cred, CtxtHandle *ctx, bool first,
                                 wchar_t *whost)
{
    const ULONG flags = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT |
                        ISC_REQ_CONFIDENTIALITY | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM |
                        ISC_REQ_MANUAL_CRED_VALIDATION | ISC_REQ_USE_SUPPLIED_CREDS;
    SecBuffer inb[2] = { { (ULONG)c->inlen, SECBUFFER_TOKEN, c->in }, { 0, SECBUFFER_EMPTY, NULL } };
    SecBuffer outb[1] = { { 0, SECBUFFER_TOKEN, NULL } };
    SecBufferDesc ind = { SECBUFFER_VERSION, 2, inb }, outd = { SECBUFFER_VERSION, 1, outb };
    ULONG attrs = 0;
    SECURITY_STATUS st;

    st = InitializeSecurityContextW(cred, first ? NULL : ctx, whost, flags, 0, 0,
                                    first ? NULL : &ind, 0, first ? ctx : NULL, &outd, &attrs,
                                    NULL);
    c->have_ctx = c->have_ctx || (first && (st == SEC_I_CONTINUE_NEEDED || st == SEC_E_OK));
    if (outb[0].pvBuffer != NULL) {
        if (outb[0].cbBuffer > 0 && send_all(c, outb[0].pvBuffer, outb[0].cbBuffer) != 0) {
            st = SEC_E_INTERNAL_ERROR;
        }
        FreeContextBuffer(outb[0].pvBuffer);
    }
    if (!first && st != SEC_E_INCOMPLETE_MESSAGE) {
        size_t extra = inb[1].BufferType == SECBUFFER_EXTRA ? inb[1].cbBuffer : 0;
        memmove(c->in, c->in + c->inlen - extra, extra);
        c->inlen = extra;
    }
    return st;
}

/* The handshake: SEC_E_OK, or the status it failed with (c->reason set
 * when the network failed rather than Schannel). */
static SECURITY_STATUS handshake(struct conn *c, CredHandle *cred, CtxtHandle *ctx,
                                 wchar_t *whost)
{
    SECURITY_STATUS st = isc_round(c, cred, ctx, true, whost);

    while (st == SEC_I_CONTINUE_NEEDED || st == SEC_E_INCOMPLETE_MESSAGE ||
           st == SEC_I_INCOMPLETE_CREDENTIALS) {
        if ((st != SEC_I_INCOMPLETE_CREDENTIALS && c->inlen == 0) ||
            st == SEC_E_INCOMPLETE_MESSAGE) {
            if (receive(c) != 0) {
                return SEC_E_INTERNAL_ERROR;
            }
            if (c->sniff[0] < 20 || c->sniff[0] > 23) {
                /* Schannel would wait for the rest of a "record" that
                 * is none; an OpenSSL client fails at once too. */
                snprintf(c->reason, sizeof(c->reason), "the answer is not TLS");
                return SEC_E_ILLEGAL_MESSAGE;
            }
        }
        st = isc_round(c, cred, ctx, false, whost);
    }
    return st;
}

static const char *protocol_name(DWORD p)
{
    return (p & SP_PROT_TLS1_3_CLIENT) ? "TLSv1.3" : (p & SP_PROT_TLS1_2_CLIENT) ? "TLSv1.2" :
           (p & SP_PROT_TLS1_1_CLIENT) ? "TLSv1.1" : (p & SP_PROT_TLS1_0_CLIENT) ? "TLSv1" :
           "TLS";
}

static void tls_failed(struct conn *c, SECURITY_STATUS st, unsigned timeout_ms,
                       struct aw_probe_result *r, int64_t *t0)
{
    struct aw_probe_tls_failure f = { .reason = c->reason };

    if (c->reason[0] == '\0') {
        aw_win_error_text((unsigned long)st, c->reason, sizeof(c->reason));
    }
    sniff(c, &f.server_hello, &f.alert);
    f.alert_name = alert_name(f.alert);
    f.bytes = c->bytes;
    f.timed_out = c->timed_out;
    aw_probe_tls_failed(r, t0, timeout_ms, &f);
}

/* Shake hands on c->s; *leaf on success. */
static void step_tls(const struct aw_probe_target *t, const struct aw_probe_opts *o,
                     struct aw_probe_result *r, int64_t *t0, struct conn *c,
                     PCCERT_CONTEXT *leaf)
{
    SCHANNEL_CRED sc;
    CredHandle cred;
    CtxtHandle ctx;
    SecPkgContext_ConnectionInfo ci;
    wchar_t whost[AW_PROBE_HOST_MAX + 1];
    SECURITY_STATUS st;
    char cipher[32];
    size_t nsent = 0;

    memset(&sc, 0, sizeof(sc));
    sc.dwVersion = SCHANNEL_CRED_VERSION;
    sc.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    MultiByteToWideChar(CP_UTF8, 0, t->host, -1, whost, AW_PROBE_HOST_MAX + 1);
    st = AcquireCredentialsHandleW(NULL, (SEC_WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL,
                                   &sc, NULL, NULL, &cred, NULL);
    if (st != SEC_E_OK) {
        tls_failed(c, st, o->timeout_ms, r, t0);
        return;
    }
    st = handshake(c, &cred, &ctx, whost);
    if (st != SEC_E_OK) {
        tls_failed(c, st, o->timeout_ms, r, t0);
    } else if (QueryContextAttributesW(&ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, (void *)leaf) !=
               SEC_E_OK) {
        *leaf = NULL;
    }
    if (st == SEC_E_OK) {
        memset(&ci, 0, sizeof(ci));
        QueryContextAttributesW(&ctx, SECPKG_ATTR_CONNECTION_INFO, &ci);
        snprintf(cipher, sizeof(cipher), "%s-%lu", ci.aiCipher == CALG_AES ||
                 ci.aiCipher == CALG_AES_128 || ci.aiCipher == CALG_AES_256 ? "AES" : "cipher",
                 (unsigned long)ci.dwCipherStrength);
        for (PCCERT_CONTEXT x = NULL; *leaf != NULL &&
             (x = CertEnumCertificatesInStore((*leaf)->hCertStore, x)) != NULL;) {
            nsent++;
        }
        aw_probe_tls_done(r, t0, protocol_name(ci.dwProtocol), cipher, nsent);
    }
    if (c->have_ctx) {
        DeleteSecurityContext(&ctx);
    }
    FreeCredentialsHandle(&cred);
}

int aw_win_tls_connect(const struct aw_probe_target *t, const struct aw_probe_opts *opts,
                       struct aw_probe_result *r, int64_t *t0, PCCERT_CONTEXT *leaf)
{
    struct addrinfo *list = NULL;
    struct conn *c = calloc(1, sizeof(*c));
    WSADATA wsa;
    int rc = AW_OK;

    *leaf = NULL;
    if (c == NULL || (c->in = malloc(TLS_IN_MAX)) == NULL) {
        free(c);
        return AW_ENOMEM;
    }
    c->s = INVALID_SOCKET;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        rc = AW_EIO;
    } else if (step_dns(t, r, t0, &list) == 0 && step_tcp(t, opts, r, t0, list, &c->s) == 0) {
        c->deadline = aw_probe_mono_ms() + opts->timeout_ms;
        step_tls(t, opts, r, t0, c, leaf);
    }
    if (c->s != INVALID_SOCKET) {
        closesocket(c->s);
    }
    if (list != NULL) {
        freeaddrinfo(list);
    }
    if (rc == AW_OK) {
        WSACleanup();
    }
    free(c->in);
    free(c);
    return rc;
}
