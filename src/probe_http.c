/*
 * A bounded HTTP/1.0 GET for CRL distribution points and AIA issuer URLs
 * (see probe_internal.h).
 *
 * CDP and AIA URLs are plain http:// by design (the CRL and the issuer are
 * signed; openssl apps/lib/apps.c: "can/should not use HTTPS here"), so a
 * small client over a socket does, and it keeps every bound in our hands:
 * one deadline for the whole exchange (a server trickling a byte a second
 * cannot stretch it), at most HEAD_MAX bytes of headers, at most max_body
 * bytes of body whatever Content-Length says (a 50 MB CRL or an endless
 * response is cut off and reported, never buffered whole).  HTTP/1.0 is
 * asked for so that the body ends at the close, without chunking; a server
 * that chunks anyway is reported.
 */
#include "probe_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agentwatch/probe.h"

#define HEAD_MAX (16 * 1024)

struct url_parts {
    char host[AW_PROBE_HOST_MAX + 1];
    unsigned port;
    char path[AW_PROBE_TEXT_MAX];
};

static int parse_url(const char *url, struct url_parts *u, char *err, size_t errlen)
{
    const char *p, *host, *host_end;
    size_t len;

    if (strncasecmp(url, "http://", 7) != 0) {
        const char *colon = strchr(url, ':');
        snprintf(err, errlen, "unsupported scheme %.*s: (only http:// is fetched)",
                 colon ? (int)(colon - url) : 0, url);
        return -1;
    }
    p = url + 7;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL) {
            snprintf(err, errlen, "malformed URL");
            return -1;
        }
        p = host_end + 1;
    } else {
        host = p;
        p += strcspn(p, ":/?#");
        host_end = p;
    }
    len = (size_t)(host_end - host);
    if (len == 0 || len >= sizeof(u->host)) {
        snprintf(err, errlen, "malformed URL host");
        return -1;
    }
    memcpy(u->host, host, len);
    u->host[len] = '\0';
    u->port = 80;
    if (*p == ':') {
        char *end;
        unsigned long v = strtoul(p + 1, &end, 10);
        if (end == p + 1 || v == 0 || v > 65535) {
            snprintf(err, errlen, "malformed URL port");
            return -1;
        }
        u->port = (unsigned)v;
        p = end;
    }
    if (*p == '\0') {
        p = "/";
    }
    if (*p != '/' || strlen(p) >= sizeof(u->path) || strpbrk(p, " \r\n") != NULL) {
        snprintf(err, errlen, "malformed URL path");
        return -1;
    }
    snprintf(u->path, sizeof(u->path), "%s", p);
    return 0;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline, char *err,
                    size_t errlen)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (aw_net_wait(fd, POLLOUT, deadline) <= 0) {
                snprintf(err, errlen, "timed out sending the request");
                return -1;
            }
            continue;
        }
        snprintf(err, errlen, "sending the request: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Parse the status line and headers in head (NUL-terminated, ending at the
 * blank line): status, Content-Length (-1: none), chunked. */
static int parse_head(const char *head, int *status, long long *clen, bool *chunked)
{
    const char *line;

    *clen = -1;
    *chunked = false;
    if (sscanf(head, "HTTP/%*d.%*d %3d", status) != 1 || *status < 100 || *status > 999) {
        return -1;
    }
    for (line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, "Content-Length:", 15) == 0) {
            *clen = strtoll(h + 15, NULL, 10);
        } else if (strncasecmp(h, "Transfer-Encoding:", 18) == 0) {
            const char *v = h + 18, *eol = strstr(v, "\r\n");
            for (; eol != NULL && v < eol; v++) {
                if (strncasecmp(v, "chunked", 7) == 0) {
                    *chunked = true;
                }
            }
        }
    }
    return 0;
}

/* A response being read: the head until its blank line, then the body. */
struct reading {
    char *head;               /* HEAD_MAX + 1 bytes */
    size_t hlen, cap;         /* head bytes; body capacity */
    long long clen;           /* Content-Length; -1: until the close */
    bool in_body;
};

/* Say why in res->error; -1. */
static int fail(struct aw_http_result *res, const char *fmt, ...) AW_PRINTF(2, 3);

static int fail(struct aw_http_result *res, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->error, sizeof(res->error), fmt, ap);
    va_end(ap);
    return -1;
}

/* Take the head bytes of buf[0..*n): -1 a bad or unwanted response, 0
 * the head goes on, 1 the head ended (buf and *n then hold what follows
 * it, the start of the body). */
static int take_head(struct reading *rd, char *buf, size_t *n, size_t max_body,
                     struct aw_http_result *res)
{
    size_t take = *n < HEAD_MAX - rd->hlen ? *n : HEAD_MAX - rd->hlen;
    size_t before = rd->hlen, body_at;
    bool chunked = false;
    char *end;

    memcpy(rd->head + rd->hlen, buf, take);
    rd->hlen += take;
    rd->head[rd->hlen] = '\0';
    if (memcmp(rd->head, "HTTP/", rd->hlen < 5 ? rd->hlen : 5) != 0) {
        return fail(res, "not an HTTP response");
    }
    end = strstr(rd->head, "\r\n\r\n");
    if (end == NULL) {
        return rd->hlen >= HEAD_MAX ? fail(res, "no HTTP header end in the first %d bytes",
                                           HEAD_MAX) : 0;
    }
    end[2] = '\0';
    if (parse_head(rd->head, &res->status, &rd->clen, &chunked) != 0) {
        res->status = 0;
        return fail(res, "not an HTTP response");
    }
    if (res->status != 200) {
        return fail(res, "HTTP status %d", res->status);
    }
    if (chunked) {
        return fail(res, "chunked response to an HTTP/1.0 request (not supported)");
    }
    if (rd->clen > (long long)max_body) {
        return fail(res, "response of %lld bytes is larger than the limit of %zu bytes",
                    rd->clen, max_body);
    }
    rd->in_body = true;
    /* What came after the blank line: the head ended in this read, so it
     * starts at or after this read's first byte. */
    body_at = (size_t)(end + 4 - rd->head);
    body_at = body_at < before ? 0 : body_at - before;
    memmove(buf, buf + body_at, *n - body_at);
    *n -= body_at;
    return 1;
}

/* Append buf[0..n) to the body, within max_body. */
static int take_body(struct reading *rd, const char *buf, size_t n, size_t max_body,
                     struct aw_http_result *res)
{
    /* Bytes after the Content-Length are no part of the body, whether they
     * came in the same read or not (found by fuzz/fuzz_http.c). */
    if (rd->clen >= 0 && (unsigned long long)res->len + n > (unsigned long long)rd->clen) {
        n = (size_t)rd->clen - res->len;
    }
    if (res->len + n > max_body) {
        return fail(res, "response larger than the limit of %zu bytes (stopped reading)",
                    max_body);
    }
    if (res->len + n > rd->cap) {
        size_t ncap = rd->cap ? rd->cap * 2 : 65536;
        unsigned char *nb;
        while (ncap < res->len + n) {
            ncap *= 2;
        }
        nb = realloc(res->body, ncap);
        if (nb == NULL) {
            return fail(res, "out of memory");
        }
        res->body = nb;
        rd->cap = ncap;
    }
    if (n > 0) {    /* a read may end exactly at the blank line */
        memcpy(res->body + res->len, buf, n);
        res->len += n;
    }
    return 0;
}

/* One read of n bytes (buf is changed): -1 a bad or unwanted response,
 * 0 more to read, 1 the whole body (its Content-Length) arrived. */
static int feed(struct reading *rd, char *buf, size_t n, size_t max_body,
                struct aw_http_result *res)
{
    int w;

    res->bytes += n;
    w = rd->in_body ? 1 : take_head(rd, buf, &n, max_body, res);
    if (w < 0 || (w > 0 && take_body(rd, buf, n, max_body, res) != 0)) {
        return -1;
    }
    return rd->in_body && rd->clen >= 0 && res->len >= (size_t)rd->clen ? 1 : 0;
}

/* The reading ended (closed, or the whole body): 0 a complete response,
 * -1 otherwise with res->error set. */
static int at_end(const struct reading *rd, struct aw_http_result *res)
{
    if (!rd->in_body) {
        return fail(res, "connection closed %s", rd->hlen ? "inside the HTTP header"
                                                           : "without an answer");
    }
    if (rd->clen >= 0 && res->len < (size_t)rd->clen) {
        return fail(res, "connection closed after %zu of %lld bytes", res->len, rd->clen);
    }
    return 0;
}

/* Read the response into res; see aw_http_get(). */
static int read_response(int fd, size_t max_body, int64_t deadline, unsigned timeout_ms,
                         struct aw_http_result *res)
{
    struct reading rd = { .head = malloc(HEAD_MAX + 1), .clen = -1 };
    int rc = -1;

    if (rd.head == NULL) {
        return fail(res, "out of memory");
    }
    for (;;) {
        char buf[16384];
        ssize_t got;
        int w = aw_net_wait(fd, POLLIN, deadline);

        if (w == 0) {
            fail(res, "timed out after %u ms (%llu bytes received)", timeout_ms,
                 (unsigned long long)res->bytes);
            goto out;
        }
        got = w < 0 ? -1 : recv(fd, buf, sizeof(buf), 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (got < 0) {
            fail(res, "receiving: %s", strerror(errno));
            goto out;
        }
        if (got == 0) {
            break;
        }
        w = feed(&rd, buf, (size_t)got, max_body, res);
        if (w < 0) {
            goto out;
        }
        if (w > 0) {
            break;
        }
    }
    rc = at_end(&rd, res);
out:
    free(rd.head);
    return rc;
}

int aw_http_parse_response(const unsigned char *data, size_t len, size_t chunk,
                           size_t max_body, struct aw_http_result *res)
{
    struct reading rd = { .head = malloc(HEAD_MAX + 1), .clen = -1 };
    char buf[16384];
    size_t off = 0;
    int rc = -1, w = 0;

    memset(res, 0, sizeof(*res));
    chunk = chunk == 0 || chunk > sizeof(buf) ? sizeof(buf) : chunk;
    if (rd.head == NULL) {
        return fail(res, "out of memory");
    }
    while (off < len && w == 0) {
        size_t n = len - off < chunk ? len - off : chunk;
        memcpy(buf, data + off, n);
        off += n;
        w = feed(&rd, buf, n, max_body, res);
    }
    if (w >= 0) {
        rc = at_end(&rd, res);
    }
    free(rd.head);
    return rc;
}

int aw_http_get(const char *url, size_t max_body, unsigned timeout_ms,
                struct aw_http_result *res)
{
    int64_t deadline = aw_probe_mono_ms() + timeout_ms;
    struct aw_net_addr addrs[4];
    struct url_parts u;
    char req[AW_PROBE_TEXT_MAX + AW_PROBE_HOST_MAX + 128], port[8];
    size_t naddr = 0;
    int fd = -1, rc = -1, st = AW_NET_ERROR;

    memset(res, 0, sizeof(*res));
    if (parse_url(url, &u, res->error, sizeof(res->error)) != 0) {
        return -1;
    }
    if (aw_net_resolve(u.host, u.port, addrs, 4, &naddr, res->error, sizeof(res->error)) !=
        AW_NET_OK) {
        return -1;
    }
    for (size_t i = 0; i < naddr && st != AW_NET_OK; i++) {
        st = aw_net_connect(&addrs[i], deadline, &fd, res->error, sizeof(res->error));
    }
    if (st != AW_NET_OK) {
        return -1;
    }
    snprintf(port, sizeof(port), ":%u", u.port);
    snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s%s%s%s\r\nUser-Agent: agentwatch\r\n"
             "Accept: */*\r\nConnection: close\r\n\r\n", u.path,
             strchr(u.host, ':') ? "[" : "", u.host, strchr(u.host, ':') ? "]" : "",
             u.port == 80 ? "" : port);
    if (send_all(fd, req, strlen(req), deadline, res->error, sizeof(res->error)) == 0) {
        rc = read_response(fd, max_body, deadline, timeout_ms, res);
    }
    close(fd);
    if (rc != 0) {
        free(res->body);
        res->body = NULL;
        res->len = 0;
    } else {
        res->error[0] = '\0';
    }
    return rc;
}

int aw_probe_fetch(struct aw_probe_url *u, size_t max, unsigned timeout_ms,
                   struct aw_http_result *res)
{
    int rc = aw_http_get(u->url, max, timeout_ms, res);

    u->http_status = res->status;
    u->bytes = res->bytes;
    u->result = rc == 0 ? AW_PC_OK : AW_PC_FAIL;
    snprintf(u->error, sizeof(u->error), "%s", res->error);
    return rc;
}
