/*
 * ECS lines (see ecs.h).
 *
 * Field names and types were checked against the ECS reference
 * (elastic.co/docs/reference/ecs: ecs-event, ecs-rule, ecs-log,
 * ecs-host, ecs-error, ecs-url, ecs-server, ecs-tls, ecs-x509; the allowed values of
 * event.kind, event.category, event.type and event.outcome on the
 * ecs-allowed-values-* pages).  ECS has no field for agentwatch's own
 * category, the rule's severity word, the finding's row and file ids or
 * whether the record time was known: those live under agentwatch.*.
 *
 * The line is built once, and only when it is too long again with the
 * message cut to the longest length that fits.
 */
#include "agentwatch/ecs.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/fileid.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"

void aw_buf_free(struct aw_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void aw_buf_reset(struct aw_buf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

void aw_buf_add(struct aw_buf *b, const char *data, size_t len)
{
    if (b->oom) {
        return;
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;

        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        p = realloc(b->data, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void aw_buf_puts(struct aw_buf *b, const char *s)
{
    aw_buf_add(b, s, strlen(s));
}

void aw_buf_printf(struct aw_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
    } else if ((size_t)n < sizeof(small)) {
        aw_buf_add(b, small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);

        if (big == NULL) {
            b->oom = true;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        aw_buf_add(b, big, (size_t)n);
        free(big);
    }
}

void aw_buf_json_string(struct aw_buf *b, const char *s, size_t len)
{
    char *clean;
    size_t n;

    if (s == NULL) {
        aw_buf_puts(b, "null");
        return;
    }
    /* An invalid byte becomes 3 bytes of U+FFFD at most. */
    clean = malloc(len * 3 + 1);
    if (clean == NULL) {
        b->oom = true;
        return;
    }
    n = aw_text_utf8_clean(s, len, clean, len * 3);
    aw_buf_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)clean[i];
        char esc[8];

        switch (c) {
        case '"': aw_buf_add(b, "\\\"", 2); break;
        case '\\': aw_buf_add(b, "\\\\", 2); break;
        case '\n': aw_buf_add(b, "\\n", 2); break;
        case '\r': aw_buf_add(b, "\\r", 2); break;
        case '\t': aw_buf_add(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7F) {
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                aw_buf_add(b, esc, 6);
            } else {
                aw_buf_add(b, (const char *)&clean[i], 1);
            }
        }
    }
    aw_buf_add(b, "\"", 1);
    free(clean);
}

static void json_str(struct aw_buf *b, const char *s)
{
    aw_buf_json_string(b, s, s != NULL ? strlen(s) : 0);
}

/* The text before a value (its key), then the value as a JSON string. */
static void json_field(struct aw_buf *b, const char *key, const char *s)
{
    aw_buf_puts(b, key);
    json_str(b, s);
}

/* Each part length-prefixed, so that ("ab", "c") and ("a", "bc") differ. */
static void id_part(struct aw_buf *b, const void *data, size_t len)
{
    char n[24];

    snprintf(n, sizeof(n), "%zu:", len);
    aw_buf_puts(b, n);
    aw_buf_add(b, data, len);
}

/* The file's part of the id: the FNV-1a hash of its first AW_ECS_ID_HEAD
 * bytes (of the whole head while it is shorter), little-endian, taken from
 * the head's stored sums (fileid.h: the hashes at 1, 2, 4 ... bytes below
 * the head's length, then the whole head's).  Eight sums or more mean a
 * head longer than 64 bytes, whose seventh sum is the hash at 64; fewer
 * end with the whole head's.  So the part stays the same as the file grows
 * once it holds 64 bytes, which the first 64 bytes of the sums did not
 * (they hold the hash at 128 bytes, or the whole head's). */
static size_t file_part(const unsigned char *sums, size_t sums_len, unsigned char out[8])
{
    size_t n = sums != NULL ? sums_len / 8 : 0;

    if (n == 0) {
        return 0;
    }
    memcpy(out, sums + (n >= 8 ? 6 : n - 1) * 8, 8);
    return 8;
}

void aw_ecs_event_id(const struct aw_export_row *r, char out[AW_ECS_ID_LEN + 1])
{
    struct aw_buf b = { 0 };
    char offset[24];
    unsigned char file[8];
    size_t file_len = file_part(r->head, r->head_len, file);
    uint64_t h1, h2;

    snprintf(offset, sizeof(offset), "%" PRIu64, r->offset);
    /* Two FNV-1a hashes over differently salted input: 128 bits, so that
     * millions of findings in one SIEM index do not collide. */
    aw_buf_puts(&b, "agentwatch-event-1");
    id_part(&b, r->host, strlen(r->host));
    id_part(&b, file, file_len);
    id_part(&b, offset, strlen(offset));
    id_part(&b, r->rule, strlen(r->rule));
    if (b.oom) {
        /* Out of memory for a few hundred bytes: still a stable id. */
        h1 = aw_hash64(r->rule, strlen(r->rule)) ^ r->offset;
        h2 = aw_hash64(r->host, strlen(r->host));
    } else {
        h1 = aw_hash64(b.data, b.len);
        b.data[0] = 'A';
        h2 = aw_hash64(b.data, b.len);
    }
    snprintf(out, AW_ECS_ID_LEN + 1, "%016" PRIx64 "%016" PRIx64, h1, h2);
    aw_buf_free(&b);
}

/* Numeric severity in syslog terms (RFC 5424: 2 critical, 3 error,
 * 4 warning, 6 informational): event.severity is "the numeric severity of
 * the event according to your event source". */
static int severity_number(const char *sev)
{
    if (strcmp(sev, "critical") == 0) {
        return 2;
    }
    if (strcmp(sev, "error") == 0) {
        return 3;
    }
    if (strcmp(sev, "warning") == 0) {
        return 4;
    }
    return 6;
}

/* event.category / event.type / event.outcome for an agentwatch category:
 * health markers are successful connections, agentwatch's own data gaps
 * are about files, everything else is a failed connection. */
static void categorization(struct aw_buf *b, const char *category)
{
    if (strcmp(category, "health") == 0) {
        aw_buf_puts(b, "\"category\": [\"network\"], \"type\": [\"connection\"],"
                       " \"outcome\": \"success\"");
    } else if (strcmp(category, "agentwatch") == 0) {
        aw_buf_puts(b, "\"category\": [\"file\"], \"type\": [\"info\"]");
    } else {
        aw_buf_puts(b, "\"category\": [\"network\"], \"type\": [\"connection\", \"error\"],"
                       " \"outcome\": \"failure\"");
    }
}

/* A captured target: a URL as url.full, host[:port] as server.*. */
static void target(struct aw_buf *b, const char *t)
{
    const char *colon;

    if (t == NULL || *t == '\0') {
        return;
    }
    if (strstr(t, "://") != NULL) {
        aw_buf_puts(b, ", \"url\": {\"full\": ");
        json_str(b, t);
        aw_buf_puts(b, "}");
        return;
    }
    colon = strrchr(t, ':');
    aw_buf_puts(b, ", \"server\": {\"address\": ");
    if (colon != NULL && colon != t && strchr(t, ':') == colon && colon[1] != '\0' &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1) && strlen(colon + 1) <= 5 &&
        atol(colon + 1) <= 65535) {
        aw_buf_json_string(b, t, (size_t)(colon - t));
        aw_buf_printf(b, ", \"port\": %ld}", atol(colon + 1));
    } else {
        json_str(b, t);
        aw_buf_puts(b, "}");
    }
}

/* s in upper case, as ECS asks of hashes and serial numbers ("for
 * consistency with other hash values, this value should be formatted as
 * an uppercase hash"); the probe writes them so already, this keeps the
 * field right whatever stored them. */
static void json_hex(struct aw_buf *b, const char *key, const char *s)
{
    char *u = strdup(s);

    if (u == NULL) {
        b->oom = true;
        return;
    }
    for (char *p = u; *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'f') {
            *p = (char)(*p - 'a' + 'A');
        }
    }
    json_field(b, key, u);
    free(u);
}

/* A date field, left out when the probe could not read the date: an
 * empty string is no date to a date-typed index. */
static void json_date(struct aw_buf *b, const char *key, const char *s)
{
    if (s[0] != '\0') {
        json_field(b, key, s);
    }
}

/* "DNS:a, IP:1.2.3.4" (the probe's form) as ["a", "1.2.3.4"]: ECS's
 * alternative_names are the names themselves ("*.elastic.co"). */
static void alt_names(struct aw_buf *b, const char *san)
{
    const char *p = san;
    bool first = true;

    aw_buf_puts(b, "[");
    while (*p != '\0') {
        const char *end = strstr(p, ", ");
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);

        if (colon != NULL && (strncmp(p, "DNS:", 4) == 0 || strncmp(p, "IP:", 3) == 0)) {
            len -= (size_t)(colon + 1 - p);
            p = colon + 1;
        }
        if (len > 0) {
            aw_buf_puts(b, first ? "" : ", ");
            aw_buf_json_string(b, p, len);
            first = false;
        }
        p += len;
        p += *p != '\0' ? 2 : 0;
    }
    aw_buf_puts(b, "]");
}

/* A probe finding's server certificate as ECS's tls.server set, with the
 * x509 field set reused under it (ECS "TLS fields", "x509 Certificate
 * fields": tls.server.x509.*). */
static void tls(struct aw_buf *b, const struct aw_export_cert *c)
{
    if (c == NULL) {
        return;
    }
    aw_buf_puts(b, ", \"tls\": {\"server\": {\"hash\": {");
    json_hex(b, "\"sha1\": ", c->sha1);
    json_hex(b, ", \"sha256\": ", c->sha256);
    json_field(b, "}, \"subject\": ", c->subject);
    json_field(b, ", \"issuer\": ", c->issuer);
    json_date(b, ", \"not_before\": ", c->not_before);
    json_date(b, ", \"not_after\": ", c->not_after);
    aw_buf_puts(b, ", \"x509\": {\"alternative_names\": ");
    alt_names(b, c->san);
    json_field(b, ", \"subject\": {\"distinguished_name\": ", c->subject);
    json_field(b, "}, \"issuer\": {\"distinguished_name\": ", c->issuer);
    json_hex(b, "}, \"serial_number\": ", c->serial);
    json_date(b, ", \"not_before\": ", c->not_before);
    json_date(b, ", \"not_after\": ", c->not_after);
    aw_buf_puts(b, "}}}");
}

/* The whole line with message and path cut to msg_max / path_max bytes
 * (SIZE_MAX: whole); *cut is set when either was cut. */
static void build(const struct aw_export_row *r, size_t msg_max, size_t path_max,
                  struct aw_buf *b)
{
    char ts[AW_TIME_ISO_MAX], rt[AW_TIME_ISO_MAX], id[AW_ECS_ID_LEN + 1];
    size_t msg_len = strlen(r->message), path_len = strlen(r->path);
    bool cut = msg_len > msg_max || path_len > path_max;
    char *msg = NULL, *path = NULL;

    aw_time_format_iso(r->ts_ms, ts);
    aw_time_format_iso(r->read_ms, rt);
    aw_ecs_event_id(r, id);
    if (cut) {
        /* Cut on a character boundary. */
        size_t mm = msg_len < msg_max ? msg_len : msg_max;
        size_t pm = path_len < path_max ? path_len : path_max;

        msg = malloc(mm + 1);
        path = malloc(pm + 1);
        if (msg == NULL || path == NULL) {
            b->oom = true;
            goto out;
        }
        msg_len = aw_text_utf8_clean(r->message, msg_len, msg, mm);
        path_len = aw_text_utf8_clean(r->path, path_len, path, pm);
    }
    aw_buf_reset(b);
    aw_buf_printf(b, "{\"@timestamp\": \"%s\", \"event\": {\"id\": \"%s\", \"kind\": \"event\", ",
                  ts, id);
    categorization(b, r->category);
    json_field(b, ", \"code\": ", r->rule);
    aw_buf_printf(b, ", \"severity\": %d, \"created\": \"%s\", \"module\": \"agentwatch\","
                     " \"dataset\": \"agentwatch.finding\"}, \"rule\": {\"id\": ",
                  severity_number(r->severity), rt);
    json_str(b, r->rule);
    json_field(b, ", \"name\": ", r->rule);
    json_field(b, ", \"category\": ", r->category);
    json_field(b, "}, \"host\": {\"name\": ", r->host);
    aw_buf_puts(b, "}, \"log\": {\"file\": {\"path\": ");
    aw_buf_json_string(b, cut ? path : r->path, path_len);
    aw_buf_printf(b, "}, \"offset\": %" PRIu64 ", \"level\": ", r->offset);
    json_str(b, r->level);
    aw_buf_puts(b, "}, \"message\": ");
    aw_buf_json_string(b, cut ? msg : r->message, msg_len);
    if (r->code != NULL) {
        json_field(b, ", \"error\": {\"code\": ", r->code);
        aw_buf_puts(b, "}");
    }
    target(b, r->target);
    tls(b, r->cert);
    json_field(b, ", \"agentwatch\": {\"category\": ", r->category);
    json_field(b, ", \"severity\": ", r->severity);
    aw_buf_printf(b, ", \"time_known\": %s, \"partial\": %s, \"finding_id\": %" PRId64
                     ", \"file_id\": %" PRId64 ", \"target\": ",
                  r->ts_known ? "true" : "false", r->partial ? "true" : "false", r->id,
                  r->file_id);
    json_str(b, r->target);
    aw_buf_printf(b, ", \"truncated\": %s", cut ? "true" : "false");
    if (cut) {
        aw_buf_printf(b, ", \"message_bytes\": %zu", strlen(r->message));
    }
    aw_buf_puts(b, "}, \"ecs\": {\"version\": \"" AW_ECS_VERSION "\"}}\n");
out:
    free(msg);
    free(path);
}

int aw_ecs_line(const struct aw_export_row *r, size_t max_line, struct aw_buf *out,
                struct aw_err *err)
{
    build(r, SIZE_MAX, SIZE_MAX, out);
    if (!out->oom && max_line > 0 && out->len > max_line) {
        /* Escaping makes the line grow by 1 to 6 bytes a message byte:
         * search the longest message that fits (rare: messages are stored
         * cut to AW_FINDING_MESSAGE_MAX already).  Then the path. */
        size_t lo = 0, hi = strlen(r->message);

        while (lo < hi && !out->oom) {
            size_t mid = lo + (hi - lo + 1) / 2;

            build(r, mid, SIZE_MAX, out);
            if (out->len <= max_line) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        build(r, lo, SIZE_MAX, out);
        if (!out->oom && out->len > max_line) {
            size_t path = strlen(r->path), over = out->len - max_line;

            build(r, 0, path > over + 16 ? path - over - 16 : 0, out);
        }
    }
    if (out->oom) {
        return aw_err_set(err, AW_ENOMEM, "out of memory writing a finding as ECS");
    }
    if (max_line > 0 && out->len > max_line) {
        return aw_err_set(err, AW_ELIMIT, "finding %" PRId64 " does not fit in %zu bytes as ECS",
                          r->id, max_line);
    }
    return AW_OK;
}
