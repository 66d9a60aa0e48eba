/*
 * The labelled corpus (see corpus.h).
 *
 * A record is one of three kinds, drawn per record:
 *   - a failure built around an error code: a code of some category from
 *     the table below, in one of the spellings agents write (0x80072EE7,
 *     80072ee7, -2147012889, and for Win32 codes Code=12007, error 12007,
 *     (12007)), put into one of several message frames, some of which also
 *     name the server and carry a generic text of another category ("Unable
 *     to connect to server X: ... (0x80072F0D)" is ssl: code before text);
 *   - a failure or success marker known by its text only;
 *   - a benign record (no category), many of them adversarial.
 * The truth of a record is fixed by how it was built, not by running any
 * rule.  Everything is driven by a splitmix64 generator, so a seed always
 * gives the same bytes.
 */
#include "corpus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rng {
    uint64_t s;
};

static uint64_t next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned pick(struct rng *r, unsigned n)
{
    return (unsigned)(next(r) % n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- codes */

struct code {
    const char *hex;          /* upper case, 8 digits */
    int win32;                /* 0: none */
    const char *category;
    const char *text;         /* the Windows text logged with it */
};

static const struct code codes[] = {
    { "800B0109", 0, "ssl", "A certificate chain processed, but terminated in a root certificate which is not trusted by the trust provider." },
    { "800B010A", 0, "ssl", "A certificate chain could not be built to a trusted root authority." },
    { "80090325", 0, "ssl", "The certificate chain was issued by an authority that is not trusted." },
    { "80072F0D", 12045, "ssl", "The certificate authority is invalid or incorrect" },
    { "80072F8F", 12175, "ssl", "A security error occurred" },
    { "80072F8F", 12175, "ssl", "Content decoding has failed" },
    { "800B0101", 0, "ssl", "A required certificate is not within its validity period when verifying against the current system clock or the timestamp in the signed file." },
    { "80072F05", 12037, "ssl", "The date in the certificate is invalid or has expired" },
    { "80090328", 0, "ssl", "The received certificate has expired." },
    { "800B010F", 0, "ssl", "The certificate's CN name does not match the passed value." },
    { "80072F06", 12038, "ssl", "The host name in the certificate is invalid or does not match" },
    { "80090322", 0, "ssl", "The target principal name is incorrect." },
    { "80092012", 0, "ssl", "The revocation function was unable to check revocation for the certificate." },
    { "80092013", 0, "ssl", "The revocation function was unable to check revocation because the revocation server was offline." },
    { "80072F19", 12057, "ssl", "It was not possible to connect to the revocation server or a definitive response could not be obtained." },
    { "800B010E", 0, "ssl", "The revocation process could not continue - the certificate(s) could not be checked." },
    { "80092010", 0, "ssl", "The certificate is revoked." },
    { "80072F7D", 12157, "ssl", "An error occurred in the secure channel support" },
    { "80090326", 0, "ssl", "The message received was unexpected or badly formatted." },
    { "80072F0C", 12044, "ssl", "A certificate is required to complete client authentication" },
    { "80072EE7", 12007, "resolution", "The server name or address could not be resolved" },
    { "80072AF9", 11001, "resolution", "No such host is known." },
    { "80072EFD", 12029, "connection", "A connection with the server could not be established" },
    { "80072EE2", 12002, "connection", "The operation timed out" },
    { "80072EFE", 12030, "connection", "The connection with the server was terminated abnormally" },
    { "80072EFF", 12031, "connection", "The connection with the server was reset" },
    { "8007274C", 10060, "connection", "A connection attempt failed because the connected party did not properly respond after a period of time" },
    { "8007274D", 10061, "connection", "No connection could be made because the target machine actively refused it." },
    { "80072F94", 12180, "connection", "The proxy auto-detection failed" },
    { "801901F7", 0, "connection", "HTTP_E_STATUS_SERVICE_UNAVAIL" },
    { "80190193", 0, "connection", "HTTP_E_STATUS_FORBIDDEN" },
};

static const char *const hosts[] = {
    "smp01.corp.example", "SMP01.CORP.EXAMPLE", "ns-02.eu.corp.example", "cmg1.contoso.com",
    "itms.branch-07.corp.example", "smp01.corp.example.",
};
static const char *const urls[] = {
    "https://smp01.corp.example/Altiris/NS/Agent/GetClientPolicies.aspx",
    "https://smp01.corp.example:443/Altiris/NS/Agent/PostEvent.aspx",
    "https://CMG.CORP.EXAMPLE/CCM_Proxy_ServerAuth/72057594037927941/CCM_STS",
    "https://ns-02.eu.corp.example/Altiris/PS/Share/",
};

/* ---------------------------------------------------------------- text */

struct text {
    const char *category;
    const char *fmt;          /* %H host, %U URL, %N number, %I IP, %G GUID */
};

static const struct text failures[] = {
    /* ssl */
    { "ssl", "Post failed: System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.\n ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.\n   at System.Net.TlsStream.EndWrite(IAsyncResult asyncResult)\n   at Altiris.Agent.Comm.HttpSender.Send(Request r)" },
    { "ssl", "System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure: RemoteCertificateChainErrors" },
    { "ssl", "The remote certificate is invalid according to the validation procedure: RemoteCertificateNameMismatch" },
    { "ssl", "System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner exception.\n ---> System.IO.IOException: Received an unexpected EOF or 0 bytes from the transport stream." },
    { "ssl", "The request was aborted: Could not create SSL/TLS secure channel." },
    { "ssl", "Post to %U failed: The underlying connection was closed: An unexpected error occurred on a send." },
    { "ssl", "Certificate validation error for %U" },
    { "ssl", "Certificate validation failed: chain ends in untrusted root 'CN=Corp Issuing CA 2025'" },
    { "ssl", "The revocation function was unable to check revocation for the certificate." },
    { "ssl", "CRL http://pki.corp.example/crl/CorpIssuingCA2025.crl: download failed after %N ms" },
    { "ssl", "Chain status: RevocationStatusUnknown, OfflineRevocation for CN=%H" },
    { "ssl", "The certificate is revoked." },
    { "ssl", "The target principal name is incorrect." },
    { "ssl", "SSL certificate problem: certificate has expired" },
    { "ssl", "SSL certificate problem: unable to get local issuer certificate" },
    { "ssl", "Authentication failed because the remote party has closed the transport stream." },
    { "ssl", "A call to SSPI failed, see inner exception. The client and server cannot communicate, because they do not possess a common algorithm" },
    { "ssl", "TLS handshake failed with %H:443" },
    { "ssl", "[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_SECURE_FAILURE Encountered" },
    { "ssl", "WINHTTP_CALLBACK_STATUS_FLAG_CERT_REV_FAILED is set" },
    { "ssl", "WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set" },
    { "ssl", "WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set" },
    /* resolution */
    { "resolution", "System.Net.WebException: The remote name could not be resolved: '%H'\n   at System.Net.HttpWebRequest.GetResponse()" },
    { "resolution", "System.Net.Sockets.SocketException: No such host is known" },
    { "resolution", "Unable to resolve host %H" },
    { "resolution", "getaddrinfo %H: Name or service not known" },
    { "resolution", "Could not resolve host: %H" },
    { "resolution", "Unable to connect to server %H: The server name or address could not be resolved" },
    /* connection */
    { "connection", "Unable to connect to the remote server" },
    { "connection", "Unable to connect to server %H" },
    { "connection", "Failed to send request to %H" },
    { "connection", "Unable to connect to the remote server ---> No connection could be made because the target machine actively refused it %I:443" },
    { "connection", "connect to %H port 443 failed: Connection refused" },
    { "connection", "System.Net.WebException: The operation has timed out." },
    { "connection", "Request to %H timed out" },
    { "connection", "Connection timed out after %N ms" },
    { "connection", "Server is unavailable: HTTP status 503 (Service Unavailable) from /Altiris/NS/Agent/GetClientPolicies.aspx" },
    { "connection", "The remote server returned an error: (500) Internal Server Error." },
    { "connection", "The remote server returned an error: (503) Server Unavailable." },
    { "connection", "The remote server returned an error: (403) Forbidden." },
    { "connection", "The remote server returned an error: (404) Not Found." },
    { "ssl", "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired" },
    { "connection", "[CCMHTTP] ERROR INFO: StatusCode=500 StatusText=Internal Server Error" },
    { "connection", "Policy request failed: HTTP status 404 (Not Found)" },
    { "connection", "HTTP/1.1 502 Bad Gateway from %H" },
    { "connection", "The remote server returned an error: (407) Proxy Authentication Required." },
    { "connection", "Unable to connect to the proxy server proxy.corp.example:8080" },
    { "connection", "Unable to read data from the transport connection: An existing connection was forcibly closed by the remote host." },
    { "connection", "recv failed: Connection reset by peer" },
    { "connection", "The underlying connection was closed: A connection that was expected to be kept alive was closed by the server." },
    { "connection", "A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond %I:443" },
    /* health */
    { "health", "Connected to server %H (HTTPS, port 443)" },
    { "health", "Configuration updated successfully (%N policies)" },
    { "health", "Client policy request succeeded (%N policies)" },
    { "health", "Configuration unchanged (%N policies, 0 errors)" },
    { "health", "Delivered %N queued events" },
    { "health", "Successfully connected to %U" },
    { "health", "Registered with task server %H" },
    { "health", "Reconnected to notification server %H" },
    { "health", "Client configuration received from %H" },
    { "health", "Successfully downloaded client policies from %H" },
};

static const char *const benign[] = {
    "Agent service started, version 8.7.4102",
    "Requesting configuration from %U",
    "Basic inventory sent to %H (%N KB), result error=0x00000000",
    "Inventory finished: 0 errors, 0 warnings",
    "Download of %G complete, status 0x00000000, 0 errors",
    "The operation completed successfully. (0x00000000)",
    "Health check: 0 failed requests, 0 timeouts, error=0x00000000",
    "Certificate revocation check passed for CN=%H (CRL cached, 0 errors)",
    "Revocation checking mode: online (CRL and OCSP)",
    "Revocation check succeeded for CN=%H",
    "Server certificate accepted: CN=%H, issuer CN=Corp Issuing CA 2025",
    "Certificate validation succeeded for %U",
    "Certificate validation mode: chain trust",
    "Certificate expires in %N days (CN=%H)",
    "SSL certificate for %H expires on 2026-03-11",
    "Expired certificates removed from the store: 2",
    "Old server certificate revoked by the administrator; new one bound",
    "Client certificate not required by communication profile, skipping certificate selection",
    "Begin searching client certificates based on Certificate Issuers",
    "Trusted root store contains %N certificates",
    "SSL connection established (TLS 1.2, ECDHE-RSA-AES256-GCM-SHA384) to %H",
    "Handshake completed in %N ms",
    "Timeout for policy requests set to %N seconds",
    "Timeout set to 12002 ms",
    "User session timed out, logging off",
    "Script timed out after 300 s, terminated",
    "Processed 12007 files",
    "Sent 12029 bytes in 3 packets",
    "Opened channel 12157 for package delivery",
    "Package hash 80072ee7a91f00c2 verified",
    "Inventory item -21470128890 skipped",
    "Event 800B01090 archived",
    "Connection pool size 12029",
    "Received 404 policies",
    "Queued 503 events for later delivery",
    "Client ID 403 registered",
    "HTTP status 200 (OK) from %U",
    "Downloaded 500 KB over HTTP in 2 s",
    "Queued %N events (%N KB) for later delivery",
    "Network change detected, reselecting server",
    "Not connected to server; will retry in 5 minutes",
    "Disconnected from server %H",
    "Request sent to %H",
    "Connection reused for policy download",
    "Connection accepted from %I",
    "Resolved %H to %I",
    "DNS lookup for %H succeeded (%I)",
    "Host name: WKS-0142",
    "Proxy settings: direct connection",
    "Using proxy proxy.corp.example:8080 for %U",
    "Pending power action '0x00010001: reboot, maintenance' scheduled for 2025-03-11 22:00:00 +1:00 UTC",
    "GetFile() failed, error=0x80070002",
    "Failed to create object 'Altiris.AeXNSCPkgSvr': The object is not registered or is not present in the policy (0x8000401B)",
    "Unable to process client request from: %I/HEAD/8.6.2184.0 (Unable to process request, 0x80056007)",
    "Error code: {Partial Data Received}\nThe network transport returned partial data to its client. The remaining data will be sent later (0x000002C3)",
    "Policy 'TLS Error Reporting' applied",
    "Signature verification error count: 0",
    "Successfully queued event on HTTP/HTTPS failure for server 'cmg1.contoso.com'.",
    "Counters were reset at midnight",
    "Policy refused by filter: not applicable",
    "Password has expired for user svc-agent",
    "Retrying request to %U (attempt 2 of 3)",
    "Software update scan finished: 0 errors, 14 updates applicable",
    "Benutzer 'J\xc3\xbcrgen' angemeldet \xe2\x80\x94 Sitzung 3",
    "Client is on internet",
    "Refreshing the Management Point List",
    "HTTPS is enforced for Client. The current state is 63.",
    "Task 'Alert when server unavailable' completed successfully",
    "Policy 'Connection timeout: 30 s' applied",
    "Event queue: 12 events, 0 errors, last error=0x00000000, timeouts=0",
    "Retry 1 of 3 after error 0x00000000",
    "Certificate chain built successfully (3 certificates, root trusted)",
    "Received HTTP 304 (Not Modified) for policy XML",
    "HTTP status 302 from %U (redirect)",
    "Proxy auto-detection: using direct connection",
    "Downloaded CRL from http://pki.corp.example/crl/CorpIssuingCA2025.crl (revocation status: good)",
    "Connection to %H:443 closed by agent after 120 s idle",
    "The certificate store 'MY' was opened (error=0)",
    "Handshake with package server %H succeeded",
    "Certificate 'CN=%H' thumbprint 800B0109A1C3D2E4F5061728394A5B6C7D8E9F00 imported",
    "Uninstall of 'SSL Error Viewer 2.0' finished with exit code 0",
    "Server returned 200 OK in 41 ms",
    "Name resolution cache flushed (0 errors)",
};

/* ---------------------------------------------------------------- output */

struct buf {
    char *p;
    size_t n, cap;
    bool oom;
};

static void put(struct buf *b, const char *s, size_t len)
{
    if (b->oom) {
        return;
    }
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *g;
        while (cap < b->n + len + 1) {
            cap *= 2;
        }
        g = realloc(b->p, cap);
        if (g == NULL) {
            b->oom = true;
            return;
        }
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) {
        put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

/* Expand %H %U %N %I %G; the host or URL used is copied to *named. */
static void expand(struct buf *b, struct rng *r, const char *fmt, char **named)
{
    for (const char *f = fmt; *f != '\0'; f++) {
        if (*f != '%' || f[1] == '\0') {
            put(b, f, 1);
            continue;
        }
        f++;
        switch (*f) {
        case 'H':
        case 'U': {
            const char *v = *f == 'H' ? hosts[pick(r, COUNT(hosts))] : urls[pick(r, COUNT(urls))];
            put(b, v, strlen(v));
            if (named != NULL && *named == NULL) {
                *named = strdup(v);
            }
            break;
        }
        case 'N': putf(b, "%u", 1 + pick(r, 5000)); break;
        case 'I': putf(b, "10.%u.%u.%u", pick(r, 256), pick(r, 256), 1 + pick(r, 254)); break;
        case 'G':
            putf(b, "{%08X-%04X-4%03X-8%03X-%012llX}", (unsigned)next(r), pick(r, 65536), pick(r, 4096),
                 pick(r, 4096), (unsigned long long)(next(r) & 0xFFFFFFFFFFFFull));
            break;
        default: put(b, f - 1, 2); break;
        }
    }
}

/* A code in one of its spellings: *phrase is what goes into the message,
 * *as_written the part a rule should capture as the code. */
static void spell_code(struct rng *r, const struct code *c, struct buf *phrase, char **as_written)
{
    char hex[16], lower[16], code[32];
    long long sdec = (long long)strtoull(c->hex, NULL, 16) - 4294967296LL;
    unsigned n = c->win32 != 0 ? 10 : 7;

    snprintf(hex, sizeof(hex), "%s", c->hex);
    for (size_t i = 0; i <= strlen(hex); i++) {
        lower[i] = (char)((hex[i] >= 'A' && hex[i] <= 'F') ? hex[i] + 32 : hex[i]);
    }
    switch (pick(r, n)) {
    case 0: snprintf(code, sizeof(code), "0x%s", hex); putf(phrase, "(%s)", code); break;
    case 1: snprintf(code, sizeof(code), "0x%s", lower); putf(phrase, "(%s)", code); break;
    case 2: snprintf(code, sizeof(code), "%s", hex); putf(phrase, "(%s)", code); break;
    case 3: snprintf(code, sizeof(code), "%s", lower); putf(phrase, "; %s. retrying.", code); break;
    case 4: snprintf(code, sizeof(code), "%lld", sdec); putf(phrase, "(%s)", code); break;
    case 5: snprintf(code, sizeof(code), "%lld", sdec); putf(phrase, "hr=%s", code); break;
    case 6: snprintf(code, sizeof(code), "0x%s", hex); putf(phrase, "error 0x%s", hex); break;
    case 7: snprintf(code, sizeof(code), "%d", c->win32); putf(phrase, "error %s", code); break;
    case 8: snprintf(code, sizeof(code), "%d", c->win32); putf(phrase, "(%s)", code); break;
    default: snprintf(code, sizeof(code), "%d", c->win32); putf(phrase, "Code=%s", code); break;
    }
    *as_written = strdup(code);
}

/* One record's message and truth. */
static void make_record(struct rng *r, struct buf *msg, struct corpus_record *t, bool one_line)
{
    unsigned kind = pick(r, 100);

    msg->n = 0;
    if (msg->p != NULL) {
        msg->p[0] = '\0';
    }
    if (kind < 30) {
        const struct code *c = &codes[pick(r, COUNT(codes))];
        struct buf phrase = { NULL, 0, 0, false };
        char *code = NULL;
        const char *host = hosts[pick(r, COUNT(hosts))], *url = urls[pick(r, COUNT(urls))];

        spell_code(r, c, &phrase, &code);
        t->category = c->category;
        t->code = code;
        switch (pick(r, c->win32 != 0 ? 7 : 6)) {
        case 0:
            putf(msg, "Failed to send request to %s: %s %s", host, c->text, phrase.p);
            t->target = strdup(host);
            break;
        case 1:
            /* a generic connection text with a code of another category */
            putf(msg, "Unable to connect to server %s: %s %s", host, c->text, phrase.p);
            t->target = strdup(host);
            break;
        case 2:
            putf(msg, "Policy request to %s failed: %s", url, phrase.p);
            t->target = strdup(url);
            break;
        case 3:
            putf(msg, "%s %s", c->text, phrase.p);
            break;
        case 4:
            putf(msg, "Failed to download package {0C9E4D12-7F55-4B6E-8C0D-6A1B3E2F4D10}: %s %s", c->text,
                 phrase.p);
            break;
        case 5:
            putf(msg, "Sending with winhttp failed %s", phrase.p);
            break;
        default:
            /* ConfigMgr's own shape: the URL, then the decimal code */
            free(t->code);
            t->code = malloc(16);
            if (t->code != NULL) {
                snprintf(t->code, 16, "%d", c->win32);
            }
            putf(msg, "[CCMHTTP] ERROR: URL=%s, Port=443, Options=63, Code=%d, Text=%s", url, c->win32,
                 "ERROR_WINHTTP_REQUEST_FAILED");
            t->target = strdup(url);
            break;
        }
        /* a host written with a trailing dot is captured without it */
        if (t->target != NULL && strlen(t->target) > 1 && t->target[strlen(t->target) - 1] == '.') {
            t->target[strlen(t->target) - 1] = '\0';
        }
        free(phrase.p);
    } else if (kind < 55) {
        const struct text *tx = &failures[pick(r, COUNT(failures))];
        t->category = tx->category;
        expand(msg, r, tx->fmt, NULL);
    } else {
        t->category = NULL;
        expand(msg, r, benign[pick(r, COUNT(benign))], NULL);
    }
    if (one_line && msg->p != NULL) {
        char *nl = strchr(msg->p, '\n');
        if (nl != NULL) {
            *nl = '\0';
            msg->n = (size_t)(nl - msg->p);
        }
    }
}

/* Severity the writer puts on a record of this truth (a failure is error
 * or warning, a success info, benign anything but mostly info/trace). */
static int level_of(struct rng *r, const struct corpus_record *t)
{
    if (t->category == NULL) {
        static const int lv[] = { 4, 4, 4, 8, 16, 2, 1 };
        return lv[pick(r, COUNT(lv))];
    }
    if (strcmp(t->category, "health") == 0) {
        return 4;
    }
    return pick(r, 3) == 0 ? 2 : 1;
}

static void write_record(struct buf *out, struct rng *r, enum corpus_format fmt, const char *msg, int sev,
                         unsigned i)
{
    unsigned h = 8 + (i / 3600) % 14, m = (i / 60) % 60, s = i % 60;

    switch (fmt) {
    case CORPUS_ITMS:
    case CORPUS_ITMS_UTF16:
        putf(out,
             "<event date='03/11/2025 %02u:%02u:%02u.%07u +01:00' severity='%d' hostName='WKS-0142' "
             "source='ClientPolicyMgr' module='AeXNetComms.dll' process='AeXNSAgent' pid='3120' "
             "thread='4420' tickCount='%u' ><![CDATA[",
             h, m, s, pick(r, 10000000), sev, 90000 + i * 1000);
        put(out, msg, strlen(msg));
        put(out, "]]></event>\r\n", 13);
        break;
    case CORPUS_CMTRACE: {
        int type = sev == 1 ? 3 : sev == 2 ? 2 : 1;
        put(out, "<![LOG[", 7);
        put(out, msg, strlen(msg));
        putf(out,
             "]LOG]!><time=\"%02u:%02u:%02u.%03u+000\" date=\"3-11-2025\" component=\"CcmMessaging\" "
             "context=\"\" type=\"%d\" thread=\"%u\" file=\"ccmhttp.cpp:%u\">\n",
             h, m, s, pick(r, 1000), type, 1000 + pick(r, 9000), 100 + pick(r, 900));
        break;
    }
    default: {
        const char *lv = sev == 1 ? "ERROR" : sev == 2 ? "WARN " : sev == 4 ? "INFO " : "DEBUG";
        putf(out, "2025-03-11T%02u:%02u:%02uZ %s agent: ", h, m, s, lv);
        put(out, msg, strlen(msg));
        put(out, "\n", 1);
        break;
    }
    }
}

static int write_file(const char *path, const struct buf *data, bool utf16)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;

    if (f == NULL) {
        return -1;
    }
    if (!utf16) {
        rc = fwrite(data->p, 1, data->n, f) == data->n ? 0 : -1;
    } else {
        /* UTF-8 -> UTF-16LE with BOM (the corpus has BMP characters only) */
        const unsigned char *s = (const unsigned char *)data->p;
        size_t i = 0;
        rc = fwrite("\xff\xfe", 1, 2, f) == 2 ? 0 : -1;
        while (rc == 0 && i < data->n) {
            unsigned cp;
            unsigned char le[2];
            if (s[i] < 0x80) {
                cp = s[i++];
            } else if ((s[i] & 0xE0) == 0xC0 && i + 1 < data->n) {
                cp = ((s[i] & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
                i += 2;
            } else if (i + 2 < data->n) {
                cp = ((s[i] & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
                i += 3;
            } else {
                cp = 0xFFFD;
                i++;
            }
            le[0] = (unsigned char)(cp & 0xFF);
            le[1] = (unsigned char)(cp >> 8);
            rc = fwrite(le, 1, 2, f) == 2 ? 0 : -1;
        }
    }
    if (fclose(f) != 0) {
        rc = -1;
    }
    return rc;
}

int corpus_write(struct corpus *c, const char *dir, uint64_t seed, size_t records_per_file)
{
    static const char *const names[CORPUS_FORMATS] = { "agent.log", "agent-utf16.log", "CcmMessaging.log",
                                                       "agent-text.log" };
    struct rng r = { seed };
    struct buf msg = { NULL, 0, 0, false };
    int rc = 0;

    memset(c, 0, sizeof(*c));
    for (int fmt = 0; fmt < CORPUS_FORMATS && rc == 0; fmt++) {
        struct corpus_file *cf = &c->files[c->nfiles++];
        struct buf out = { NULL, 0, 0, false };
        size_t plen = strlen(dir) + strlen(names[fmt]) + 2;

        cf->format = (enum corpus_format)fmt;
        cf->path = malloc(plen);
        cf->truth = calloc(records_per_file ? records_per_file : 1, sizeof(*cf->truth));
        if (cf->path == NULL || cf->truth == NULL) {
            errno = ENOMEM;
            rc = -1;
            break;
        }
        snprintf(cf->path, plen, "%s/%s", dir, names[fmt]);
        for (size_t i = 0; i < records_per_file; i++) {
            struct corpus_record *t = &cf->truth[i];
            make_record(&r, &msg, t, fmt == CORPUS_LINE);
            cf->count++;
            write_record(&out, &r, (enum corpus_format)fmt, msg.p != NULL ? msg.p : "", level_of(&r, t),
                         (unsigned)i);
        }
        if (out.oom || msg.oom) {
            errno = ENOMEM;
            rc = -1;
        } else {
            rc = write_file(cf->path, &out, fmt == CORPUS_ITMS_UTF16);
        }
        free(out.p);
    }
    free(msg.p);
    return rc;
}

void corpus_free(struct corpus *c)
{
    for (size_t f = 0; f < c->nfiles; f++) {
        for (size_t i = 0; i < c->files[f].count; i++) {
            free(c->files[f].truth[i].code);
            free(c->files[f].truth[i].target);
        }
        free(c->files[f].truth);
        free(c->files[f].path);
    }
    memset(c, 0, sizeof(*c));
}
