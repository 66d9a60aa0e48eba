/*
 * Probe, the part common to every engine (see probe.h): targets, recording
 * steps and the verdict, and the result as JSON and as a checklist.
 *
 * The result is one flat struct of fixed-size fields: a probe keeps at
 * most a dozen certificates and a few dozen URLs, and bounded buffers make
 * every field's size obvious and the result free of ownership questions
 * (the caller allocates it, nothing inside needs freeing).  Text that came
 * from the network (names, URLs, error strings) is cleaned to UTF-8 when
 * it is written out.
 */
#include "agentwatch/probe.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <windows.h>
#endif

#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"

int64_t aw_probe_mono_ms(void)
{
#ifdef _WIN32
    return (int64_t)GetTickCount64();
#else
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

/* ---- targets ------------------------------------------------------- */

static bool host_char_ok(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':';
}

int aw_probe_parse_target(const char *text, struct aw_probe_target *t, struct aw_err *err)
{
    const char *p = text, *host, *host_end, *port_text = NULL;
    size_t len;

    memset(t, 0, sizeof(*t));
    len = strlen(text);
    if (len >= sizeof(t->text)) {
        return aw_err_set(err, AW_ESYNTAX, "target too long (at most %d bytes)",
                          AW_PROBE_TARGET_MAX - 1);
    }
    memcpy(t->text, text, len + 1);
    if (strncmp(p, "https://", 8) == 0) {
        p += 8;
    } else if (strstr(p, "://") != NULL) {
        return aw_err_set(err, AW_ESYNTAX, "target '%s': only https:// URLs or host[:port]",
                          text);
    }
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL) {
            return aw_err_set(err, AW_ESYNTAX, "target '%s': '[' without ']'", text);
        }
        p = host_end + 1;
    } else {
        host = p;
        while (*p != '\0' && *p != ':' && *p != '/') {
            p++;
        }
        host_end = p;
    }
    if (*p == ':') {
        port_text = ++p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
    }
    if (*p != '\0' && *p != '/') {
        return aw_err_set(err, AW_ESYNTAX, "target '%s': unexpected '%c' after the host", text,
                          *p);
    }
    len = (size_t)(host_end - host);
    if (len == 0 || len > AW_PROBE_HOST_MAX) {
        return aw_err_set(err, AW_ESYNTAX, "target '%s': %s", text,
                          len == 0 ? "no host name" : "host name longer than 253 bytes");
    }
    for (size_t i = 0; i < len; i++) {
        if (!host_char_ok((unsigned char)host[i])) {
            return aw_err_set(err, AW_ESYNTAX, "target '%s': invalid character in the host name",
                              text);
        }
    }
    memcpy(t->host, host, len);
    t->host[len] = '\0';
    t->port = 443;
    if (port_text != NULL) {
        char *end;
        unsigned long v = strtoul(port_text, &end, 10);

        if (end == port_text || (*end != '\0' && *end != '/') || !isdigit((unsigned char)*port_text) ||
            v == 0 || v > 65535) {
            return aw_err_set(err, AW_ESYNTAX, "target '%s': the port must be 1 to 65535", text);
        }
        t->port = (unsigned)v;
    }
    return AW_OK;
}

/* ---- recording ----------------------------------------------------- */

void aw_probe_check_set(struct aw_probe_result *r, enum aw_probe_step s,
                        enum aw_probe_check_result res, int64_t *t0_ms, const char *fmt, ...)
{
    struct aw_probe_check *c = &r->checks[s];
    int64_t now = aw_probe_mono_ms();
    va_list ap;

    c->result = res;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    if (t0_ms != NULL) {
        c->ms = now - *t0_ms;
        *t0_ms = now;
    }
}

void aw_probe_verdict_set(struct aw_probe_result *r, enum aw_probe_verdict v, const char *fmt,
                          ...)
{
    va_list ap;

    if (r->decided) {
        return;
    }
    r->decided = true;
    r->verdict = v;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

/* ---- output -------------------------------------------------------- */

static const char *check_word(enum aw_probe_check_result c)
{
    return c == AW_PC_OK ? "ok" : c == AW_PC_FAIL ? "fail" : "skip";
}

/* A field that may hold any bytes from the network, as a JSON string. */
static void json_str(FILE *out, const char *s)
{
    char clean[AW_PROBE_DETAIL_MAX * 3 + 1];

    aw_text_utf8_clean(s, strlen(s), clean, sizeof(clean) - 1);
    aw_text_json_string(out, clean);
}

static void json_opt_str(FILE *out, const char *s)
{
    if (s[0] == '\0') {
        fputs("null", out);
    } else {
        json_str(out, s);
    }
}

/* ,"key":"value" -- or null for an empty value when opt. */
static void json_field(FILE *out, const char *key, const char *value, bool opt)
{
    fprintf(out, ",\"%s\":", key);
    if (opt) {
        json_opt_str(out, value);
    } else {
        json_str(out, value);
    }
}

static void json_cert(FILE *out, const struct aw_probe_cert *c)
{
    fputs("{\"subject\":", out);
    json_str(out, c->subject);
    json_field(out, "issuer", c->issuer, false);
    json_field(out, "serial", c->serial, false);
    json_field(out, "not_before", c->not_before, true);
    json_field(out, "not_after", c->not_after, true);
    fprintf(out, ",\"sha1\":\"%s\",\"sha256\":\"%s\",\"san\":", c->sha1, c->sha256);
    json_str(out, c->san);
    fprintf(out, ",\"sent_by_server\":%s}", c->sent_by_server ? "true" : "false");
}

static void json_url(FILE *out, const struct aw_probe_url *u)
{
    fputs("{\"kind\":", out);
    json_str(out, u->kind);
    json_field(out, "url", u->url, false);
    fprintf(out, ",\"result\":\"%s\",\"error\":", check_word(u->result));
    json_opt_str(out, u->error);
    fputs(",\"http_status\":", out);
    if (u->http_status > 0) {
        fprintf(out, "%d", u->http_status);
    } else {
        fputs("null", out);
    }
    fprintf(out, ",\"bytes\":%llu,\"this_update\":", (unsigned long long)u->bytes);
    json_opt_str(out, u->this_update);
    json_field(out, "next_update", u->next_update, true);
    fputc('}', out);
}

void aw_probe_write_json(FILE *out, const struct aw_probe_result *r)
{
    const struct aw_probe_verdict_info *vi = aw_probe_verdict_info(r->verdict);
    char when[AW_TIME_ISO_MAX];

    aw_time_format_iso(r->started_ms, when);
    fputs("{\"target\":", out);
    json_str(out, r->target.text);
    json_field(out, "host", r->target.host, false);
    fprintf(out, ",\"port\":%u,\"time\":\"%s\",\"ms\":%lld,\"addresses\":[", r->target.port,
            when, (long long)r->ms);
    for (size_t i = 0; i < r->naddresses; i++) {
        fputs(i ? "," : "", out);
        json_str(out, r->addresses[i]);
    }
    fprintf(out, "],\"verdict\":\"%s\",\"detail\":", vi->name);
    json_str(out, r->detail);
    json_field(out, "cause", vi->cause, false);
    json_field(out, "remedy", vi->remedy, false);
    fputs(",\"checks\":[", out);
    for (int s = 0; s < AW_PS_COUNT; s++) {
        fprintf(out, "%s{\"step\":\"%s\",\"result\":\"%s\",\"detail\":", s ? "," : "",
                aw_probe_step_name((enum aw_probe_step)s), check_word(r->checks[s].result));
        json_str(out, r->checks[s].detail);
        fprintf(out, ",\"ms\":%lld}", (long long)r->checks[s].ms);
    }
    fprintf(out, "],\"sent_count\":%zu,\"chain\":[", r->nsent);
    for (size_t i = 0; i < r->nchain; i++) {
        fputs(i ? "," : "", out);
        json_cert(out, &r->chain[i]);
    }
    fputs("],\"urls\":[", out);
    for (size_t i = 0; i < r->nurls; i++) {
        fputs(i ? "," : "", out);
        json_url(out, &r->urls[i]);
    }
    fputs("]}\n", out);
}

/* One line of the checklist: "  [ok  ] tls  TLSv1.3 ...". */
static void text_line(FILE *out, const char *mark, const char *label, const char *detail)
{
    fprintf(out, "  [%-4s] %-10s ", mark, label);
    aw_text_terminal(out, detail, 0);
    fputc('\n', out);
}

void aw_probe_write_text(FILE *out, const struct aw_probe_result *r)
{
    const struct aw_probe_verdict_info *vi = aw_probe_verdict_info(r->verdict);

    fprintf(out, "%s:%u  ", r->target.host, r->target.port);
    fprintf(out, "%s", r->verdict == AW_PV_OK ? "OK" : "PROBLEM: ");
    if (r->verdict != AW_PV_OK) {
        fputs(vi->name, out);
    }
    fputs("\n  ", out);
    aw_text_terminal(out, r->detail, 0);
    fputc('\n', out);
    for (int s = 0; s < AW_PS_COUNT; s++) {
        if (strcmp(r->checks[s].detail, "not reached") == 0) {
            continue;   /* after a failed connection: nothing to read */
        }
        text_line(out, check_word(r->checks[s].result), aw_probe_step_name((enum aw_probe_step)s),
                  r->checks[s].detail);
    }
    for (size_t i = 0; i < r->nchain; i++) {
        const struct aw_probe_cert *c = &r->chain[i];
        char line[AW_PROBE_TEXT_MAX + 160];

        snprintf(line, sizeof(line), "%s, until %s, sha1 %s (%s)", c->subject, c->not_after,
                 c->sha1, c->sent_by_server ? "sent by the server" : "fetched from AIA");
        text_line(out, "cert", i == 0 ? "server" : "issuer", line);
    }
    for (size_t i = 0; i < r->nurls; i++) {
        const struct aw_probe_url *u = &r->urls[i];
        char line[AW_PROBE_TEXT_MAX * 2 + 32];

        snprintf(line, sizeof(line), "%s%s%s", u->url, u->error[0] ? ": " : "", u->error);
        text_line(out, check_word(u->result), u->kind, line);
    }
    if (r->verdict != AW_PV_OK) {
        fputs("  cause:  ", out);
        aw_text_terminal(out, vi->cause, 0);
        fputs("\n  remedy: ", out);
        aw_text_terminal(out, vi->remedy, 0);
        fputc('\n', out);
    }
}
