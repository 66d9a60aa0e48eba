/*
 * gen_itms: a deterministic generator of a large synthetic Symantec
 * Management Agent log in the itms record format, the benchmark workload.
 *
 *     gen_itms [--records N] [--seed S] [--failure-permille P] OUTPUT
 *
 * Defaults: N = 1000000, S = 1, P = 11 (about 1.1% failures).  OUTPUT "-"
 * writes to stdout.  A summary of what was written (records per kind,
 * bytes) goes to stderr.
 *
 * Design decisions:
 * - Deterministic: one xoshiro256** stream seeded through splitmix64, no
 *   rand(), no clock, no locale.  Same arguments, same bytes, on any host,
 *   so run.sh can reuse an existing file and results stay comparable.
 * - The record shape is the hypothesised raw form from the reference
 *   notes (agent-log-formats.md §1.2b): <event date='..' severity='..' ..
 *   ><![CDATA[message]]></event> plus '\n'.  A small share of records use
 *   double quotes or another attribute order, as a tolerant parser must
 *   cope with both.
 * - Realistic noise matters more than volume: most records are benign,
 *   and many benign ones carry the words a naive grep trips over
 *   ("error=0x00000000", "0 errors", "certificate", "revocation check
 *   passed").  Failure texts are the real Windows/.NET strings and codes
 *   (reference §2); hosts, paths and GUIDs are invented (*.corp.example).
 * - Failures come in episodes: a failure repeats the previous kind with
 *   a fixed probability, as an outage would, while the overall rate stays
 *   the requested one.
 * - Speed: records are formatted by hand into a large buffer and written
 *   with fwrite; no printf on the hot path.  1M records take about a
 *   second on one core, I/O permitting.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ PRNG */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); the modulo bias is irrelevant for n far below 2^64. */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)((rng_next(r) >> 11) % n);
}

/* --------------------------------------------------------------- output */

#define OUT_CAP (4u << 20)
#define OUT_SLACK (64u << 10) /* more than any single record */

struct out {
    FILE *f;
    char *buf;
    size_t len;
    uint64_t total;
    bool failed;
};

static void out_flush(struct out *o)
{
    if (o->len > 0 && !o->failed) {
        if (fwrite(o->buf, 1, o->len, o->f) != o->len)
            o->failed = true;
    }
    o->total += o->len;
    o->len = 0;
}

static inline void put(struct out *o, const char *s, size_t n)
{
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static inline void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static inline void putc_(struct out *o, char c)
{
    o->buf[o->len++] = c;
}

static void putu(struct out *o, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        o->buf[o->len++] = tmp[--n];
}

static void putu_w(struct out *o, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o->buf[o->len + (size_t)i] = (char)('0' + v % 10);
        v /= 10;
    }
    o->len += (size_t)width;
}

static void puthex(struct out *o, uint64_t v, int digits)
{
    static const char hx[] = "0123456789ABCDEF";
    for (int i = digits - 1; i >= 0; i--) {
        o->buf[o->len + (size_t)i] = hx[v & 15];
        v >>= 4;
    }
    o->len += (size_t)digits;
}

/* ------------------------------------------------------------ the world */

struct component {
    const char *source;
    const char *module;
    const char *process;
    bool own_process;     /* a separate executable with its own pid */
    unsigned threads[3];
};

enum comp_id {
    C_AGENT, C_POLICY, C_POLICY_NET, C_CERT, C_QUEUE, C_QUEUE_NET, C_INV_BASIC,
    C_INV_FULL, C_INV_POST, C_PKG, C_SWM, C_TASK, C_PATCH, C_POWER, C_COUNT
};

static const struct component comps[C_COUNT] = {
    [C_AGENT]      = {"Agent", "AeXNSAgent.exe", "AeXNSAgent", false, {4412, 4412, 4460}},
    [C_POLICY]     = {"ClientPolicyMgr", "AeXNSAgent.exe", "AeXNSAgent", false, {4420, 4420, 4424}},
    [C_POLICY_NET] = {"ClientPolicyMgr", "AeXNetComms.dll", "AeXNSAgent", false, {4420, 4420, 4424}},
    [C_CERT]       = {"CertCheck", "AeXNetComms.dll", "AeXNSAgent", false, {4420, 4424, 4431}},
    [C_QUEUE]      = {"EventQueue", "AeXNSAgent.exe", "AeXNSAgent", false, {4431, 4431, 4432}},
    [C_QUEUE_NET]  = {"EventQueue", "AeXNetComms.dll", "AeXNSAgent", false, {4431, 4431, 4432}},
    [C_INV_BASIC]  = {"Inventory", "AeXBasicInventory.dll", "AeXNSAgent", false, {4436, 4436, 4437}},
    [C_INV_FULL]   = {"Inventory", "AeXInvSoln.exe", "AeXInvSoln", true, {1, 1, 6}},
    [C_INV_POST]   = {"Inventory", "Altiris.Inventory.dll", "AeXInvSoln", true, {1, 1, 6}},
    [C_PKG]        = {"PackageDelivery", "AeXPackageDelivery.dll", "AeXNSAgent", false, {5208, 5212, 5216}},
    [C_SWM]        = {"SoftwareManagement", "SMFAgent.dll", "AeXNSAgent", false, {5330, 5334, 5338}},
    [C_TASK]       = {"TaskManagement", "AeXTaskClient.dll", "AeXNSAgent", false, {4448, 4452, 4448}},
    [C_PATCH]      = {"SoftwareUpdate", "PatchMgmtAgents.dll", "AeXNSAgent", false, {5402, 5406, 5402}},
    [C_POWER]      = {"PowerAction", "AeXNSAgent.exe", "AeXNSAgent", false, {4412, 4412, 4412}},
};

/* Record kinds, for the summary on stderr. */
enum kind {
    K_BENIGN, K_SUCCESS, K_TLS_TRUST, K_REVOCATION, K_EXPIRED, K_NAME,
    K_DNS, K_CONNECT, K_TIMEOUT, K_HTTP5XX, K_COUNT
};
#define K_FIRST_FAILURE K_TLS_TRUST

static const char *const kind_names[K_COUNT] = {
    "benign", "success", "tls_trust", "revocation", "expired", "name_mismatch",
    "dns", "connect", "timeout", "http_5xx",
};

/*
 * Message templates.  Markers of the form {x} are expanded at write time:
 *   {s} server host      {n} small number      {k} number (KB, counts)
 *   {m} size in MB       {g} GUID              {p} package name
 *   {t} thumbprint       {i} IPv4 address      {c} policy count
 *   {d} duration (ms)    {u} update/KB id
 */
struct tmpl {
    unsigned weight;
    unsigned char severity;
    unsigned char comp;
    const char *text;
};

#define NET_STACK \
    "\n   at System.Net.HttpWebRequest.GetRequestStream(TransportContext& context)" \
    "\n   at System.Net.HttpWebRequest.GetRequestStream()" \
    "\n   at Altiris.Inventory.Transport.HttpPoster.Post(String url, Byte[] nsi)"

/* Benign traffic.  Weights are relative (they add up to about 1080);
 * trace (8) and verbose (16) make about 7.5%, multi-line ones about 1.9%. */
static const struct tmpl benign[] = {
    {64, 4, C_POLICY, "Policy request to https://{s}/Altiris/NS/Agent/GetClientPolicies.aspx completed in {d} ms"},
    {60, 4, C_QUEUE, "Delivered {n} queued events ({k} KB) to https://{s}/Altiris/NS/Agent/PostEvent.aspx"},
    {50, 4, C_INV_BASIC, "Basic inventory sent to {s} ({k} KB), result error=0x00000000"},
    {36, 4, C_INV_POST, "Inventory posted to https://{s}/Altiris/NS/Agent/PostEvent.aspx ({k} KB, 0 errors)"},
    {30, 4, C_INV_FULL, "Full inventory started (Hardware, Software, Windows Services)"},
    {40, 4, C_PKG, "Package '{p}' {g} download started from https://{s}/Altiris/PS/Share/"},
    {40, 4, C_PKG, "Package download completed: '{p}' ({n} files, {m} MB), 0 errors"},
    {30, 4, C_PKG, "Package '{p}' is up to date, snapshot {g} unchanged"},
    {36, 4, C_SWM, "Execution of 'Install {p}' finished, exit code 0 (error=0x00000000)"},
    {30, 4, C_SWM, "Compliance check for '{p}': compliant, 0 errors"},
    {36, 4, C_TASK, "Registered with task server {s}, client id {g}"},
    {40, 4, C_TASK, "Checking https://{s}/Altiris/ClientTaskServer/GetClientTaskServers.aspx for new tasks: 0 pending, 0 errors"},
    {30, 4, C_TASK, "Task {g} completed with return code 0 (error=0x00000000)"},
    {30, 4, C_PATCH, "Software update scan finished: 0 errors, {n} applicable updates"},
    {24, 4, C_PATCH, "Installing {n} updates from policy 'Windows 11 Patch Tuesday' (cached content, 0 errors)"},
    {24, 4, C_PATCH, "Update {u} is installed, error=0x00000000"},
    {30, 4, C_POWER, "User session locked (session 1, CORP\\jdoe)"},
    {30, 4, C_POWER, "User session unlocked (session 1, CORP\\jdoe)"},
    {6, 4, C_POWER, "Pending power action '0x00010001: reboot, maintenance' scheduled for 2025-03-11 22:00:00 +1:00 UTC"},
    {30, 4, C_AGENT, "Agent settings refreshed, request interval 60 minutes, download interval 5 minutes"},
    {24, 4, C_AGENT, "Communication profile: Default HTTPS (https://{s}:443, CEM disabled)"},
    {30, 4, C_QUEUE, "Event queue: {n} items ({k} KB) in C:\\ProgramData\\Symantec\\Symantec Agent\\Queue, 0 errors"},
    {26, 4, C_CERT, "Using client certificate {t} from LocalMachine\\My for agent registration"},
    {30, 4, C_POLICY, "Applied policy {g} ('{p} - Managed Delivery'), error=0x00000000"},
    {24, 4, C_AGENT, "Plug-in 'Altiris.AeXNSAgentPlugin' loaded, version 8.7.4102.0"},
    {20, 4, C_AGENT, "Network change detected, reselecting server"},
    {20, 4, C_PKG, "Bandwidth throttling active, download rate limited to {k} KB/s"},
    {30, 4, C_INV_FULL, "Collected {k} software entries and {n} services in {d} ms, 0 errors"},
    {20, 4, C_INV_BASIC, "Basic inventory unchanged since last send, skipped"},
    {26, 4, C_PKG, "Hash check passed for {n} files ({m} MB) of package {g}"},
    {22, 4, C_CERT, "Client certificate not required by communication profile, skipping certificate selection"},
    /* warnings that are not communication failures */
    {6, 2, C_AGENT, "Disk space on C: below 10% ({k} MB free)"},
    {5, 2, C_QUEUE, "Event queue size {k} KB exceeds 80% of limit"},
    {4, 2, C_PKG, "Package '{p}' was not run: maintenance window closed"},
    /* trace (8) and verbose (16) */
    {16, 8, C_POLICY, "Requesting configuration from https://{s}:443/Altiris/NS/Agent/GetClientPolicies.aspx"},
    {8, 8, C_CERT, "Server certificate accepted: CN={s}, issuer CN=Corp Issuing CA 2025, thumbprint {t}"},
    {6, 8, C_CERT, "Certificate revocation check passed for CN={s} (CRL cached, 0 errors)"},
    {6, 8, C_PKG, "Downloaded {n} of {n} files ({m} MB), hash check passed, error=0x00000000"},
    {5, 8, C_AGENT, "Memory: working set {n} MB, handles {k}, 0 errors since start"},
    {8, 16, C_POLICY, "Configuration unchanged ({c} policies, 0 errors)"},
    {6, 16, C_AGENT, "Client::GetObject: 'Altiris.AeXNSCPkgSvr'"},
    {8, 16, C_POLICY_NET, "HTTP GET https://{s}/Altiris/NS/Agent/GetPackageInfo.aspx?PackageId={g} -> 200 ({k} bytes, {d} ms)"},
    {6, 16, C_QUEUE, "Sending heartbeat, sequence {k}"},
    {5, 16, C_AGENT, "Thread pool: {n} active, 0 queued"},
    /* multi-line */
    {8, 16, C_POLICY, "Policy summary:\n  Software Delivery: {n}\n  Inventory: {n}\n  Patch Management: {n}\n  Agent Settings: 1"},
    {6, 4, C_AGENT, "Agent settings applied:\n  Request interval: 60 minutes\n  Download interval: 5 minutes\n  Communication profile: Default HTTPS\n  Server: {s}"},
    {3, 2, C_PKG, "Error code: {Partial Data Received}\nThe network transport returned partial data to its client. The remaining data will be sent later (0x000002C3)"},
    {3, 8, C_INV_FULL, "Inventory classes:\n  AeX AC Identification\n  AeX AC TCPIP\n  AeX OS Operating System\n  Inv_Installed_File_Details: {k} rows"},
};

static const struct tmpl success[] = {
    {1, 4, C_POLICY, "Connected to server {s} (HTTPS, port 443)"},
    {1, 4, C_POLICY, "Configuration updated successfully ({c} policies)"},
};

static const struct tmpl f_tls[] = {
    {6, 1, C_POLICY_NET, "Failed to send request to {s}: A security error occurred (0x80072F8F)"},
    {4, 1, C_POLICY_NET, "Failed to send request to {s}: The certificate authority is invalid or incorrect (0x80072F0D)"},
    {3, 2, C_CERT, "Server certificate check flags: INVALID_CA; chain ends in untrusted root 'CN=Corp Root CA 2025' (0x800B0109)"},
    {2, 2, C_CERT, "A certificate chain processed, but terminated in a root certificate which is not trusted by the trust provider. (0x800B0109)"},
    {2, 1, C_CERT, "A certificate chain could not be built to a trusted root authority. (0x800B010A)"},
    {1, 1, C_CERT, "The certificate chain was issued by an authority that is not trusted. (0x80090325)"},
    {3, 1, C_PKG, "Failed to download package {g} from https://{s}/Altiris/PS/Share/: A security error occurred (0x80072F8F)"},
    {2, 1, C_TASK, "Task server {s}: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel."},
    {3, 1, C_INV_POST, "Post failed: System.Net.WebException: The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.\n"
                       " ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.\n"
                       "   at System.Net.Security.SslState.StartSendAuthResetSignal(ProtocolToken message, AsyncProtocolRequest asyncRequest, Exception exception)\n"
                       "   at System.Net.TlsStream.CallProcessAuthentication(Object state)\n"
                       "   --- End of inner exception stack trace ---" NET_STACK},
    {1, 1, C_QUEUE_NET, "Failed to deliver {n} queued events: System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner exception.\n"
                        " ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure: RemoteCertificateChainErrors"},
};

static const struct tmpl f_revocation[] = {
    {4, 2, C_CERT, "The revocation function was unable to check revocation because the revocation server was offline. (0x80092013)"},
    {3, 1, C_POLICY_NET, "Failed to send request: It was not possible to connect to the revocation server or a definitive response could not be obtained. (0x80072F19)"},
    {2, 2, C_CERT, "The revocation function was unable to check revocation for the certificate. (0x80092012)"},
    {1, 1, C_CERT, "The revocation process could not continue - the certificate(s) could not be checked. (0x800B010E)"},
};

static const struct tmpl f_expired[] = {
    {4, 1, C_POLICY_NET, "Failed to send request to {s}: The date in the certificate is invalid or has expired (0x80072F05)"},
    {3, 2, C_CERT, "Server certificate CN={s} rejected: A required certificate is not within its validity period when verifying against the current system clock or the timestamp in the signed file. (0x800B0101)"},
    {2, 1, C_INV_BASIC, "Failed to post basic inventory: A required certificate is not within its validity period when verifying against the current system clock or the timestamp in the signed file. (0x800B0101)"},
};

static const struct tmpl f_name[] = {
    {4, 1, C_POLICY_NET, "Failed to send request to {s}: The host name in the certificate is invalid or does not match (0x80072F06)"},
    {3, 2, C_CERT, "Server certificate rejected: The certificate's CN name does not match the passed value. (0x800B010F)"},
    {1, 1, C_TASK, "Task server {s}: The target principal name is incorrect. (0x80090322)"},
    {1, 1, C_QUEUE_NET, "Failed to deliver {n} queued events: System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner exception.\n"
                        " ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure: RemoteCertificateNameMismatch"},
};

static const struct tmpl f_dns[] = {
    {5, 1, C_POLICY_NET, "Unable to connect to server {s}: The server name or address could not be resolved (0x80072EE7)"},
    {2, 1, C_INV_POST, "Post failed: System.Net.WebException: The remote name could not be resolved: '{s}'" NET_STACK},
    {2, 1, C_PKG, "Failed to download package {g}: The server name or address could not be resolved (0x80072EE7)"},
    {1, 1, C_TASK, "Task server {s}: The remote name could not be resolved: '{s}'"},
};

static const struct tmpl f_connect[] = {
    {5, 1, C_POLICY_NET, "Unable to connect to server {s}: A connection with the server could not be established (0x80072EFD)"},
    {2, 1, C_TASK, "WinHttpSendRequest to https://{s}/Altiris/ClientTaskServer/Register.aspx failed with error 12029"},
    {2, 1, C_INV_POST, "Post failed: System.Net.WebException: Unable to connect to the remote server" NET_STACK},
    {2, 1, C_POLICY_NET, "Failed to send request to {s}: The connection with the server was reset (0x80072EFF)"},
    {1, 2, C_PKG, "Download from {s} interrupted: The connection with the server was terminated abnormally (0x80072EFE)"},
};

static const struct tmpl f_timeout[] = {
    {5, 1, C_POLICY_NET, "Request to {s} timed out: The operation timed out (0x80072EE2)"},
    {2, 1, C_QUEUE_NET, "Failed to deliver {n} queued events: The operation has timed out."},
    {1, 1, C_TASK, "WinHttpReceiveResponse from {s} failed with error 12002"},
};

static const struct tmpl f_http5xx[] = {
    {4, 2, C_POLICY_NET, "Server is unavailable: HTTP status 503 (Service Unavailable) from /Altiris/NS/Agent/GetClientPolicies.aspx"},
    {3, 1, C_QUEUE_NET, "Failed to deliver {n} queued events: The remote server returned an error: (503) Server Unavailable."},
    {2, 1, C_INV_POST, "Post failed: System.Net.WebException: The remote server returned an error: (500) Internal Server Error." NET_STACK},
    {1, 2, C_PKG, "Package server {s} returned HTTP status 502 (Bad Gateway), trying next source"},
};

struct table {
    const struct tmpl *t;
    size_t n;
    unsigned total;     /* sum of weights, computed at start */
};

#define TABLE(a) {a, sizeof(a) / sizeof(a[0]), 0}

static struct table tables[K_COUNT] = {
    [K_BENIGN] = TABLE(benign),
    [K_SUCCESS] = TABLE(success),
    [K_TLS_TRUST] = TABLE(f_tls),
    [K_REVOCATION] = TABLE(f_revocation),
    [K_EXPIRED] = TABLE(f_expired),
    [K_NAME] = TABLE(f_name),
    [K_DNS] = TABLE(f_dns),
    [K_CONNECT] = TABLE(f_connect),
    [K_TIMEOUT] = TABLE(f_timeout),
    [K_HTTP5XX] = TABLE(f_http5xx),
};

/* Relative frequency of failure kinds when an episode starts. */
static const unsigned failure_weight[K_COUNT] = {
    [K_TLS_TRUST] = 30, [K_REVOCATION] = 10, [K_EXPIRED] = 8, [K_NAME] = 6,
    [K_DNS] = 14, [K_CONNECT] = 14, [K_TIMEOUT] = 10, [K_HTTP5XX] = 8,
};

static const char *const servers[] = {
    "smp01.corp.example", "smp01.corp.example", "smp01.corp.example",
    "smp02.corp.example", "ps01.corp.example", "ps02.corp.example",
    "gw01.corp.example",
};

static const char *const packages[] = {
    "Adobe Acrobat Reader DC 24.005", "Microsoft Teams 25031", "7-Zip 24.09",
    "Google Chrome 134.0", "Mozilla Firefox ESR 128.8", "Notepad++ 8.7.8",
    "VLC media player 3.0.21", "Microsoft Edge 134.0", "Zoom Workplace 6.4",
    "Citrix Workspace 2411", "Java 8 Update 441", "Symantec Endpoint Protection 14.3",
    "Office 365 Apps Monthly Channel", "Visual C++ Redistributable 2015-2022",
};

#define N_HOSTS 32

struct gen {
    struct rng r;
    struct out o;
    char hosts[N_HOSTS][24];
    /* time: 100 ns units since 1970-01-01 local (+01:00) */
    uint64_t t;
    uint64_t boot;          /* 100 ns units at boot */
    uint64_t next_reboot;
    unsigned agent_pid;
    unsigned inv_pid;
    int64_t day;            /* days since epoch of date_str */
    char date_str[32];      /* "MM/DD/YYYY " */
    enum kind last_failure;
    uint64_t counts[K_COUNT];
    uint64_t trace, multiline, variants, restarts;
};

/* Days since 1970-01-01 to civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

#define TICKS_PER_SEC 10000000ull
#define TICKS_PER_DAY (86400ull * TICKS_PER_SEC)

static void put_date(struct gen *g)
{
    struct out *o = &g->o;
    int64_t day = (int64_t)(g->t / TICKS_PER_DAY);
    if (day != g->day) {
        int y;
        unsigned m, d;
        civil_from_days(day, &y, &m, &d);
        snprintf(g->date_str, sizeof g->date_str, "%02u/%02u/%04d ", m, d, y);
        g->day = day;
    }
    put(o, g->date_str, 11);
    uint64_t in_day = g->t % TICKS_PER_DAY;
    uint64_t secs = in_day / TICKS_PER_SEC;
    putu_w(o, secs / 3600, 2);
    putc_(o, ':');
    putu_w(o, secs / 60 % 60, 2);
    putc_(o, ':');
    putu_w(o, secs % 60, 2);
    putc_(o, '.');
    putu_w(o, in_day % TICKS_PER_SEC, 7);
    put(o, " +01:00", 7);
}

static void put_guid(struct gen *g)
{
    uint64_t a = rng_next(&g->r), b = rng_next(&g->r);
    struct out *o = &g->o;
    putc_(o, '{');
    puthex(o, a >> 32, 8);
    putc_(o, '-');
    puthex(o, (a >> 16) & 0xFFFF, 4);
    putc_(o, '-');
    puthex(o, 0x4000 | (a & 0x0FFF), 4);
    putc_(o, '-');
    puthex(o, 0x8000 | ((b >> 48) & 0x3FFF), 4);
    putc_(o, '-');
    puthex(o, b & 0xFFFFFFFFFFFFull, 12);
    putc_(o, '}');
}

static void expand(struct gen *g, const char *s, const char *server)
{
    struct out *o = &g->o;
    struct rng *r = &g->r;
    for (;;) {
        const char *brace = strchr(s, '{');
        /* "{Partial Data Received}" is text, not a marker */
        while (brace && brace[2] != '}')
            brace = strchr(brace + 1, '{');
        if (!brace) {
            puts_(o, s);
            return;
        }
        put(o, s, (size_t)(brace - s));
        switch (brace[1]) {
        case 's': puts_(o, server); break;
        case 'n': putu(o, 1 + rng_below(r, 40)); break;
        case 'k': putu(o, 1 + rng_below(r, 9000)); break;
        case 'm':
            putu(o, 1 + rng_below(r, 400));
            putc_(o, '.');
            putu(o, rng_below(r, 10));
            break;
        case 'g': put_guid(g); break;
        case 'p': puts_(o, packages[rng_below(r, sizeof packages / sizeof packages[0])]); break;
        case 't':
            puthex(o, rng_next(r), 16);
            puthex(o, rng_next(r), 16);
            puthex(o, rng_next(r), 8);
            break;
        case 'i':
            put(o, "10.", 3);
            putu(o, rng_below(r, 256));
            putc_(o, '.');
            putu(o, rng_below(r, 256));
            putc_(o, '.');
            putu(o, 1 + rng_below(r, 254));
            break;
        case 'c': putu(o, 38 + rng_below(r, 8)); break;
        case 'd': putu(o, 15 + rng_below(r, 4000)); break;
        case 'u':
            put(o, "KB50", 4);
            putu_w(o, rng_below(r, 100000), 5);
            break;
        default: put(o, brace, 3); break;
        }
        s = brace + 3;
    }
}

static const struct tmpl *pick(struct gen *g, const struct table *tb)
{
    unsigned x = rng_below(&g->r, tb->total);
    for (size_t i = 0; i < tb->n; i++) {
        if (x < tb->t[i].weight)
            return &tb->t[i];
        x -= tb->t[i].weight;
    }
    return &tb->t[tb->n - 1];
}

/* Write one record with severity sev from component c and message text
 * tpl (expanded). */
static void emit(struct gen *g, unsigned sev, const struct component *c, const char *tpl)
{
    struct out *o = &g->o;
    struct rng *r = &g->r;
    uint32_t v = rng_below(r, 1000);
    int variant = v < 3 ? 1 : v < 5 ? 2 : 0;  /* 0.3% "..", 0.2% severity first */
    char q = variant == 1 ? '"' : '\'';
    const char *host = rng_below(r, 100) < 80 ? g->hosts[0] : g->hosts[rng_below(r, N_HOSTS)];
    const char *server = servers[rng_below(r, sizeof servers / sizeof servers[0])];
    unsigned pid = c->own_process ? g->inv_pid : g->agent_pid;
    unsigned thread = c->threads[rng_below(r, 3)];

    if (variant)
        g->variants++;
    put(o, "<event ", 7);
    if (variant == 2) {
        put(o, "severity=", 9);
        putc_(o, q);
        putu(o, sev);
        putc_(o, q);
        putc_(o, ' ');
    }
    put(o, "date=", 5);
    putc_(o, q);
    put_date(g);
    putc_(o, q);
    if (variant != 2) {
        put(o, " severity=", 10);
        putc_(o, q);
        putu(o, sev);
        putc_(o, q);
    }
#define ATTR(name, val) do { put(o, " " name "=", sizeof(name) + 1); putc_(o, q); \
                             puts_(o, val); putc_(o, q); } while (0)
    ATTR("hostName", host);
    ATTR("source", c->source);
    ATTR("module", c->module);
    ATTR("process", c->process);
#undef ATTR
    put(o, " pid=", 5);
    putc_(o, q);
    putu(o, pid);
    putc_(o, q);
    put(o, " thread=", 8);
    putc_(o, q);
    putu(o, thread);
    putc_(o, q);
    put(o, " tickCount=", 11);
    putc_(o, q);
    putu(o, (g->t - g->boot) / 10000);
    putc_(o, q);
    put(o, " ><![CDATA[", 11);
    size_t msg = o->len;
    expand(g, tpl, server);
    if (memchr(o->buf + msg, '\n', o->len - msg))
        g->multiline++;
    put(o, "]]></event>\n", 12);
    if (sev >= 8)
        g->trace++;
    if (o->len >= OUT_CAP - OUT_SLACK)
        out_flush(o);
}

static void advance(struct gen *g)
{
    /* 1 ms .. 5 s between records: mean 2.5 s */
    g->t += 10000 + rng_below(&g->r, 5 * (uint32_t)TICKS_PER_SEC);
}

static void reboot(struct gen *g)
{
    emit(g, 4, &comps[C_AGENT], "Agent service stopping (system shutdown)");
    g->t += (60 + rng_below(&g->r, 240)) * TICKS_PER_SEC;
    g->boot = g->t;
    g->t += (40 + rng_below(&g->r, 40)) * TICKS_PER_SEC;
    g->agent_pid = 1000 + 4 * rng_below(&g->r, 2000);
    emit(g, 4, &comps[C_AGENT], "Agent service started, version 8.7.4102");
    g->next_reboot = g->t + (2 + rng_below(&g->r, 4)) * TICKS_PER_DAY;
    g->counts[K_BENIGN] += 2;
    g->restarts++;
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--records N] [--seed S] [--failure-permille P] OUTPUT\n"
                    "  defaults: N=1000000 S=1 P=11; OUTPUT '-' is stdout\n", argv0);
    return 2;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    uint64_t records = 1000000, seed = 1, permille = 11;
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t *dst = NULL, max = 0;
        if (!strcmp(a, "--records")) {
            dst = &records; max = 1000000000ull;
        } else if (!strcmp(a, "--seed")) {
            dst = &seed; max = UINT64_MAX;
        } else if (!strcmp(a, "--failure-permille")) {
            dst = &permille; max = 1000;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(argv[0]);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "gen_itms: unknown option '%s'\n", a);
            return usage(argv[0]);
        } else if (!path) {
            path = a;
            continue;
        } else {
            return usage(argv[0]);
        }
        if (i + 1 >= argc || !parse_u64(argv[i + 1], max, dst)) {
            fprintf(stderr, "gen_itms: %s needs a number (at most %" PRIu64 ")\n", a, max);
            return 2;
        }
        i++;
    }
    if (!path)
        return usage(argv[0]);

    static struct gen g;
    rng_seed(&g.r, seed);
    g.o.buf = malloc(OUT_CAP);
    if (!g.o.buf) {
        fprintf(stderr, "gen_itms: out of memory\n");
        return 1;
    }
    g.o.f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!g.o.f) {
        fprintf(stderr, "gen_itms: %s: %s\n", path, strerror(errno));
        free(g.o.buf);
        return 1;
    }
    for (size_t k = 0; k < K_COUNT; k++)
        for (size_t i = 0; i < tables[k].n; i++)
            tables[k].total += tables[k].t[i].weight;
    unsigned failure_total = 0;
    for (size_t k = 0; k < K_COUNT; k++)
        failure_total += failure_weight[k];

    static const char *const prefixes[] = {"WKS", "LAP", "VDI", "KIOSK"};
    snprintf(g.hosts[0], sizeof g.hosts[0], "WKS-0142");
    for (int i = 1; i < N_HOSTS; i++)
        snprintf(g.hosts[i], sizeof g.hosts[i], "%s-%04u", prefixes[rng_below(&g.r, 4)],
                 1 + rng_below(&g.r, 9999));

    /* 2025-03-01 07:58:30 local; boot a minute and a half before the first record */
    g.day = -1;
    g.t = (uint64_t)20148 * TICKS_PER_DAY + (7 * 3600 + 58 * 60 + 30) * TICKS_PER_SEC;
    g.boot = g.t - 90 * TICKS_PER_SEC;
    g.next_reboot = g.t + 3 * TICKS_PER_DAY;
    g.agent_pid = 3120;
    g.inv_pid = 5512;
    g.last_failure = K_TLS_TRUST;

    uint64_t written = 0;
    if (records > 0) {
        emit(&g, 4, &comps[C_AGENT], "Agent service started, version 8.7.4102");
        g.counts[K_BENIGN]++;
        written = 1;
    }
    while (written < records) {
        advance(&g);
        if (g.t >= g.next_reboot && records - written >= 2) {
            reboot(&g);
            written += 2;
            continue;
        }
        uint32_t x = rng_below(&g.r, 1000000);
        enum kind k;
        if (x < permille * 1000) {
            /* failures come in episodes: 75% repeat the running kind */
            if (rng_below(&g.r, 100) < 75) {
                k = g.last_failure;
            } else {
                unsigned y = rng_below(&g.r, failure_total);
                k = K_FIRST_FAILURE;
                for (size_t i = K_FIRST_FAILURE; i < K_COUNT; i++) {
                    if (y < failure_weight[i]) {
                        k = (enum kind)i;
                        break;
                    }
                    y -= failure_weight[i];
                }
            }
            g.last_failure = k;
        } else if (x < permille * 1000 + 5000) {
            k = K_SUCCESS;   /* 0.5% success markers */
        } else {
            k = K_BENIGN;
        }
        const struct tmpl *t = pick(&g, &tables[k]);
        if (comps[t->comp].own_process && rng_below(&g.r, 50) == 0)
            g.inv_pid = 1000 + 4 * rng_below(&g.r, 2000);
        emit(&g, t->severity, &comps[t->comp], t->text);
        g.counts[k]++;
        written++;
    }
    out_flush(&g.o);

    int rc = 0;
    if (g.o.failed || fflush(g.o.f) != 0 || ferror(g.o.f)) {
        fprintf(stderr, "gen_itms: %s: write failed: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (g.o.f != stdout && fclose(g.o.f) != 0 && rc == 0) {
        fprintf(stderr, "gen_itms: %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    free(g.o.buf);

    uint64_t failures = 0;
    for (size_t k = K_FIRST_FAILURE; k < K_COUNT; k++)
        failures += g.counts[k];
    fprintf(stderr, "gen_itms: wrote %" PRIu64 " records, %" PRIu64 " bytes (%.1f bytes/record) to %s\n",
            written, g.o.total, written ? (double)g.o.total / (double)written : 0.0, path);
    fprintf(stderr, "  seed %" PRIu64 ", failure permille %" PRIu64 "\n", seed, permille);
    fprintf(stderr, "  failures %" PRIu64 " (%.2f%%)\n", failures,
            written ? 100.0 * (double)failures / (double)written : 0.0);
    for (size_t k = 0; k < K_COUNT; k++)
        fprintf(stderr, "  %-14s %" PRIu64 "\n", kind_names[k], g.counts[k]);
    fprintf(stderr, "  trace/verbose  %" PRIu64 "\n  multi-line     %" PRIu64 "\n"
                    "  attr variants  %" PRIu64 "\n  agent restarts %" PRIu64 "\n",
            g.trace, g.multiline, g.variants, g.restarts);
    return rc;
}
