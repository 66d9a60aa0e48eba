/*
 * Sockets with deadlines for the probe (see probe_internal.h).
 *
 * connect() runs non-blocking and is waited for with poll(), so that a
 * refusal (ECONNREFUSED, an RST) and silence (the deadline passes) are told
 * apart: they are different verdicts.  getaddrinfo() itself cannot be
 * bounded; it uses the resolver's own timeouts (resolv.conf).
 */
#include "probe_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "agentwatch/probe.h"

/* RFC 6761 6.4: "invalid" names never resolve, and resolver libraries
 * should answer negatively at once.  glibc sends the query to the
 * configured DNS server, so the probe answers itself. */
static bool is_invalid_tld(const char *host)
{
    size_t len = strlen(host);

    while (len > 0 && host[len - 1] == '.') {
        len--;
    }
    return (len == 7 && strncasecmp(host, "invalid", 7) == 0) ||
           (len > 8 && strncasecmp(host + len - 8, ".invalid", 8) == 0);
}

int aw_net_resolve(const char *host, unsigned port, struct aw_net_addr *out, size_t max,
                   size_t *n, char *errbuf, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char service[8];
    int rc;

    *n = 0;
    if (is_invalid_tld(host)) {
        snprintf(errbuf, errlen, "%s is under the reserved .invalid domain, which never "
                 "resolves (RFC 6761)", host);
        return AW_NET_ERROR;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(service, sizeof(service), "%u", port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc == EAI_NONAME || rc == EAI_FAMILY || rc == EAI_ADDRFAMILY) {
        /* AI_ADDRCONFIG hides a loopback-only host's addresses; retry
         * without it rather than call a reachable name unresolvable. */
        hints.ai_flags = 0;
        rc = getaddrinfo(host, service, &hints, &res);
    }
    if (rc != 0) {
        snprintf(errbuf, errlen, "%s does not resolve: %s", host,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return AW_NET_ERROR;
    }
    for (struct addrinfo *ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
        struct aw_net_addr *a = &out[*n];
        const void *bin = ai->ai_family == AF_INET6
                              ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                              : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;

        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof(a->ss)) {
            continue;
        }
        memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
        a->len = (socklen_t)ai->ai_addrlen;
        if (inet_ntop(ai->ai_family, bin, a->text, sizeof(a->text)) == NULL) {
            snprintf(a->text, sizeof(a->text), "?");
        }
        (*n)++;
    }
    freeaddrinfo(res);
    if (*n == 0) {
        snprintf(errbuf, errlen, "%s has no IPv4 or IPv6 address", host);
        return AW_NET_ERROR;
    }
    return AW_NET_OK;
}

int aw_net_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        int64_t left = deadline - aw_probe_mono_ms();
        int rc;

        if (left <= 0) {
            return 0;
        }
        rc = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (rc > 0) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}

int aw_net_connect(const struct aw_net_addr *a, int64_t deadline, int *fd, char *errbuf,
                   size_t errlen)
{
    int s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int soerr = 0, rc;
    socklen_t sl = sizeof(soerr);

    *fd = -1;
    if (s < 0) {
        snprintf(errbuf, errlen, "socket: %s", strerror(errno));
        return AW_NET_ERROR;
    }
    if (connect(s, (const struct sockaddr *)&a->ss, a->len) == 0) {
        *fd = s;
        return AW_NET_OK;
    }
    if (errno != EINPROGRESS) {
        soerr = errno;
    } else {
        rc = aw_net_wait(s, POLLOUT, deadline);
        if (rc == 0) {
            snprintf(errbuf, errlen, "%s: no answer to the connection request", a->text);
            close(s);
            return AW_NET_TIMEOUT;
        }
        if (rc < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) {
            soerr = errno;
        }
    }
    if (soerr == 0) {
        *fd = s;
        return AW_NET_OK;
    }
    close(s);
    snprintf(errbuf, errlen, "%s: %s", a->text, strerror(soerr));
    if (soerr == ECONNREFUSED) {
        return AW_NET_REFUSED;
    }
    return soerr == ETIMEDOUT ? AW_NET_TIMEOUT : AW_NET_ERROR;
}

/* ---- the probe's dns and tcp steps -------------------------------- */

int aw_probe_step_dns(struct aw_probe_result *r, int64_t *t0, struct aw_net_addr *addrs,
                      size_t *n)
{
    char msg[AW_NET_ERR_MAX];

    if (aw_net_resolve(r->target.host, r->target.port, addrs, AW_PROBE_ADDR_MAX, n, msg,
                       sizeof(msg)) != AW_NET_OK) {
        aw_probe_check_set(r, AW_PS_DNS, AW_PC_FAIL, t0, "%s", msg);
        aw_probe_verdict_set(r, AW_PV_DNS_FAILURE, "%s.", msg);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        snprintf(r->addresses[i], sizeof(r->addresses[i]), "%s", addrs[i].text);
    }
    r->naddresses = *n;
    aw_probe_check_set(r, AW_PS_DNS, AW_PC_OK, t0, "%s: %zu address%s, first %s",
                       r->target.host, *n, *n == 1 ? "" : "es", addrs[0].text);
    return 0;
}

int aw_probe_step_tcp(struct aw_probe_result *r, const struct aw_probe_opts *o, int64_t *t0,
                      const struct aw_net_addr *addrs, size_t n, int *fd)
{
    char msg[AW_NET_ERR_MAX], all[AW_PROBE_DETAIL_MAX] = "";
    bool refused = false;
    size_t used = 0;

    for (size_t i = 0; i < n; i++) {
        int64_t deadline = aw_probe_mono_ms() + o->timeout_ms;
        int st = aw_net_connect(&addrs[i], deadline, fd, msg, sizeof(msg));

        if (st == AW_NET_OK) {
            aw_probe_check_set(r, AW_PS_TCP, AW_PC_OK, t0, "connected to %s port %u",
                               addrs[i].text, r->target.port);
            return 0;
        }
        refused = refused || st == AW_NET_REFUSED;
        if (used < sizeof(all)) {
            used += (size_t)snprintf(all + used, sizeof(all) - used, "%s%s", used ? "; " : "",
                                     msg);
        }
    }
    aw_probe_check_set(r, AW_PS_TCP, AW_PC_FAIL, t0, "port %u: %s (timeout %u ms)",
                       r->target.port, all, o->timeout_ms);
    /* An address that answers with a refusal is a definite answer; one
     * that never answers may only be unroutable from here. */
    aw_probe_verdict_set(r, refused ? AW_PV_TCP_REFUSED : AW_PV_TCP_TIMEOUT,
                         "TCP port %u of %s %s: %s.", r->target.port, r->target.host,
                         refused ? "refused the connection" : "did not answer", all);
    return -1;
}
