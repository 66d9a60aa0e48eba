/*
 * Records, the metadata: timestamp, severity, host, source and module of
 * a record, parsed on demand from its attribute tag (itms, cmtrace) or
 * its line (see aw_record_parse_meta() in record.h).  Only records a rule
 * matched pay for this; the reader (record.c, record_framing.c) only
 * finds the header and message spans.
 */
#include "agentwatch/record.h"

#include "agentwatch/timeutil.h"
#include "record_internal.h"

#include <string.h>

static inline bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '_' || c == '-' || c == ':' || c == '.';
}

/* Next name="value" pair of an attribute tag; quotes ' or ", or none. */
static bool next_attr(const char **pp, const char *e, struct aw_span *name, struct aw_span *val)
{
    const char *p = *pp;

    for (;;) {
        const char *n0, *s;

        while (p < e && !is_name_char((unsigned char)*p)) {
            p++;
        }
        if (p >= e) {
            *pp = e;
            return false;
        }
        n0 = p;
        while (p < e && is_name_char((unsigned char)*p)) {
            p++;
        }
        name->ptr = n0;
        name->len = (size_t)(p - n0);
        s = p;
        while (s < e && is_ws((unsigned char)*s)) {
            s++;
        }
        if (s >= e || *s != '=') {
            continue;
        }
        s++;
        while (s < e && is_ws((unsigned char)*s)) {
            s++;
        }
        if (s < e && (*s == '\'' || *s == '"')) {
            const char *v1 = memchr(s + 1, *s, (size_t)(e - s - 1));
            if (v1 == NULL) {
                v1 = e;
            }
            val->ptr = s + 1;
            val->len = (size_t)(v1 - s - 1);
            p = v1 < e ? v1 + 1 : e;
        } else {
            const char *v0 = s;
            while (s < e && !is_ws((unsigned char)*s) && *s != '>') {
                s++;
            }
            val->ptr = v0;
            val->len = (size_t)(s - v0);
            p = s;
        }
        *pp = p;
        return true;
    }
}

static bool name_is(struct aw_span n, const char *want)
{
    size_t wl = strlen(want);

    if (n.len != wl) {
        return false;
    }
    for (size_t i = 0; i < wl; i++) {
        char c = n.ptr[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != want[i]) {
            return false;
        }
    }
    return true;
}

/* A decimal integer with optional surrounding blanks; false otherwise. */
static bool span_int(struct aw_span v, int *out)
{
    size_t i = 0;
    long val = 0;
    bool any = false;

    while (i < v.len && is_ws((unsigned char)v.ptr[i])) {
        i++;
    }
    while (i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9') {
        if (val < 100000000) {
            val = val * 10 + (v.ptr[i] - '0');
        }
        any = true;
        i++;
    }
    while (i < v.len && is_ws((unsigned char)v.ptr[i])) {
        i++;
    }
    if (!any || i != v.len) {
        return false;
    }
    *out = (int)val;
    return true;
}

static enum aw_level itms_level(int sev)
{
    if (sev & 1) {
        return AW_LEVEL_ERROR;
    }
    if (sev & 2) {
        return AW_LEVEL_WARNING;
    }
    if (sev & 4) {
        return AW_LEVEL_INFO;
    }
    if (sev & 8) {
        return AW_LEVEL_TRACE;
    }
    if (sev & 16) {
        return AW_LEVEL_VERBOSE;
    }
    return AW_LEVEL_UNKNOWN;
}

/* A ConfigMgr bias after a time: "+60", "-120", in minutes with the
 * Windows TIME_ZONE_INFORMATION convention, UTC = local time + bias (US
 * Eastern winter time writes +300: 08:00 local is 13:00 UTC).  Real logs
 * agree: a Central European summer record writes -120 (UTC+2), a UK
 * summer one -60, a US Eastern winter one +300 (sources in
 * tests/test_record.c).  Sets t's offset (minutes east = -bias). */
static bool bias_offset(struct aw_span b, struct aw_log_time *t)
{
    int sign, bias;

    if (b.len < 2 || b.len > 5 || (b.ptr[0] != '+' && b.ptr[0] != '-')) {
        return false;
    }
    sign = b.ptr[0] == '-' ? -1 : 1;
    b.ptr++;
    b.len--;
    if (!span_int(b, &bias) || bias > 24 * 60) {
        return false;
    }
    t->has_offset = true;
    t->offset_min = -sign * bias;
    return true;
}

/* cmtrace time="HH:MM:SS.fff+BIAS" date="M-D-YYYY". */
static int64_t cmtrace_time(struct aw_span t, struct aw_span d, const struct aw_time_ctx *tc,
                            bool *inferred)
{
    char tmp[96];
    size_t n = 0, tl = 0;
    struct aw_log_time lt;

    if (t.len == 0 || d.len == 0 || d.len > 16) {
        return AW_TIME_NONE;
    }
    memcpy(tmp, d.ptr, d.len);
    n = d.len;
    tmp[n++] = ' ';
    while (tl < t.len && t.ptr[tl] != '+' && t.ptr[tl] != '-') {
        tl++;
    }
    if (tl > 40) {
        return AW_TIME_NONE;
    }
    memcpy(tmp + n, t.ptr, tl);
    n += tl;
    if (aw_time_scan_log(tmp, n, &lt) != n || !lt.has_year || lt.has_offset) {
        return AW_TIME_NONE;
    }
    if (tl < t.len) {
        struct aw_span b = {t.ptr + tl, t.len - tl};
        if (!bias_offset(b, &lt)) {
            return AW_TIME_NONE;
        }
    }
    return aw_time_resolve(&lt, tc, inferred);
}

/* The SMS trace suffix of a line: "text $$<component><date+BIAS><thread=..>"
 * (ConfigMgr site server logs; older versions wrote a ctime date with the
 * zone's name, which then counts as unknown offset). */
static int64_t sms_trace_time(struct aw_span m, const struct aw_time_ctx *tc, bool *inferred)
{
    const char *p = m.ptr, *e = m.ptr + m.len, *gt, *lt_end;
    struct aw_log_time lt;
    size_t used;

    for (;;) {
        p = memchr(p, '$', (size_t)(e - p));
        if (p == NULL || e - p < 3) {
            return AW_TIME_NONE;
        }
        if (p[1] == '$' && p[2] == '<') {
            break;
        }
        p++;
    }
    gt = memchr(p + 3, '>', (size_t)(e - p - 3));
    if (gt == NULL || e - gt < 2 || gt[1] != '<') {
        return AW_TIME_NONE;
    }
    p = gt + 2;
    lt_end = memchr(p, '>', (size_t)(e - p));
    if (lt_end == NULL || lt_end - p > 96) {
        return AW_TIME_NONE;
    }
    used = aw_time_scan_log(p, (size_t)(lt_end - p), &lt);
    if (used == 0) {
        return AW_TIME_NONE;
    }
    if (!lt.has_offset && p + used < lt_end) {
        struct aw_span b = {p + used, (size_t)(lt_end - p - used)};
        (void)bias_offset(b, &lt);
    }
    return aw_time_resolve(&lt, tc, inferred);
}

static inline bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The first level word (whole word, any case) starting in the first 64
 * bytes of a line. */
static enum aw_level line_level(struct aw_span m)
{
    size_t lim = m.len < 64 ? m.len : 64, i = 0;

    while (i < lim) {
        struct aw_span w;
        size_t j;

        if (!is_word_char(m.ptr[i])) {
            i++;
            continue;
        }
        j = i;
        while (j < m.len && is_word_char(m.ptr[j])) {
            j++;
        }
        w.ptr = m.ptr + i;
        w.len = j - i;
        if (name_is(w, "error")) {
            return AW_LEVEL_ERROR;
        }
        if (name_is(w, "warn") || name_is(w, "warning")) {
            return AW_LEVEL_WARNING;
        }
        if (name_is(w, "info")) {
            return AW_LEVEL_INFO;
        }
        /* DEBUG sits between INFO and TRACE in the usual ladders; the
         * normalised scale has no such step, so both map to trace. */
        if (name_is(w, "debug") || name_is(w, "trace")) {
            return AW_LEVEL_TRACE;
        }
        i = j;
    }
    return AW_LEVEL_UNKNOWN;
}

void aw_record_parse_meta(enum aw_format fmt, const struct aw_record *rec,
                          const struct aw_time_ctx *tc, struct aw_record_meta *out)
{
    const char *p = rec->header.ptr, *e = p + rec->header.len;
    struct aw_span name, val, t = {NULL, 0}, d = {NULL, 0};
    int v;

    out->ts_ms = AW_TIME_NONE;
    out->ts_inferred = false;
    out->level = AW_LEVEL_UNKNOWN;
    out->raw_severity = -1;
    out->host.ptr = out->source.ptr = out->module.ptr = "";
    out->host.len = out->source.len = out->module.len = 0;

    if (fmt == AW_FORMAT_ITMS) {
        while (p != NULL && next_attr(&p, e, &name, &val)) {
            if (name_is(name, "date")) {
                struct aw_log_time lt;
                if (aw_time_scan_log(val.ptr, val.len, &lt) > 0) {
                    out->ts_ms = aw_time_resolve(&lt, tc, &out->ts_inferred);
                }
            } else if (name_is(name, "severity")) {
                if (span_int(val, &v)) {
                    out->raw_severity = v;
                    out->level = itms_level(v);
                }
            } else if (name_is(name, "hostname")) {
                out->host = val;
            } else if (name_is(name, "source")) {
                out->source = val;
            } else if (name_is(name, "module")) {
                out->module = val;
            }
        }
    } else if (fmt == AW_FORMAT_CMTRACE) {
        while (p != NULL && next_attr(&p, e, &name, &val)) {
            if (name_is(name, "time")) {
                t = val;
            } else if (name_is(name, "date")) {
                d = val;
            } else if (name_is(name, "type")) {
                if (span_int(val, &v)) {
                    out->raw_severity = v;
                    out->level = v == 1 ? AW_LEVEL_INFO : v == 2 ? AW_LEVEL_WARNING
                               : v == 3 ? AW_LEVEL_ERROR : AW_LEVEL_UNKNOWN;
                }
            } else if (name_is(name, "component")) {
                out->source = val;
            } else if (name_is(name, "file")) {
                out->module = val;
            }
        }
        out->ts_ms = cmtrace_time(t, d, tc, &out->ts_inferred);
    } else {
        struct aw_span m = rec->message;
        size_t skip = 0;
        struct aw_log_time lt;

        if (m.ptr == NULL) {
            return;
        }
        while (skip < m.len && skip < 8 && (m.ptr[skip] == ' ' || m.ptr[skip] == '\t')) {
            skip++;
        }
        if (skip < m.len && m.ptr[skip] == '[') {
            skip++;
        }
        if (aw_time_scan_log(m.ptr + skip, m.len - skip, &lt) > 0) {
            out->ts_ms = aw_time_resolve(&lt, tc, &out->ts_inferred);
        } else {
            out->ts_ms = sms_trace_time(m, tc, &out->ts_inferred);
        }
        out->level = line_level(m);
    }
}

const char *aw_level_name(enum aw_level level)
{
    switch (level) {
    case AW_LEVEL_UNKNOWN: return "unknown";
    case AW_LEVEL_VERBOSE: return "verbose";
    case AW_LEVEL_TRACE: return "trace";
    case AW_LEVEL_INFO: return "info";
    case AW_LEVEL_WARNING: return "warning";
    case AW_LEVEL_ERROR: return "error";
    }
    return "unknown";
}
