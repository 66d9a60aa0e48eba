/*
 * Records, the framing: cutting the reader's buffered text into records,
 * one incremental scanner per format (see record.h; the buffer is filled
 * by record.c, the shared state is in record_internal.h).
 *
 * Design decisions:
 * - Each format is an incremental scanner with a small saved state (where
 *   to resume, inside which quote, whether inside CDATA...).  A multi-byte
 *   pattern that may straddle the end of the buffered data is never
 *   skipped: the scanner stops in front of it and waits for more bytes,
 *   also at end of file (the writer may complete it later).  That is what
 *   makes the output independent of the chunk size.
 * - Recovery: in itms and cmtrace a line that starts a new record ends the
 *   current one (flagged broken).  The first '\n' of the record that could
 *   be such a start limits the terminator search; it is found with memchr,
 *   so single-line records cost one extra memchr pass.
 * - Caps: while a record fits in max_record it stays in the buffer and its
 *   spans point into it.  Once its decided length exceeds the cap, its
 *   first max_record bytes live in a side buffer (see refill() in
 *   record.c).  Whether a record is truncated depends only on its real
 *   length, never on when the copy happened.
 * - End of data: an unterminated final record is held (or handed out as
 *   partial), and aw_reader_offset() stays at its start.  The offset moves
 *   past whitespace and garbage only when the next record start is seen,
 *   so a resumed reader never skips a record and never repeats one.
 * - Attributes are parsed only in aw_record_parse_meta() (record_meta.c).
 */
#include "record_internal.h"

#include "aw_config.h"

#include <string.h>

enum match { M_NO, M_YES, M_NEED };

/* Inline so that the common full-length compare has a constant size. */
static inline enum match match_at(const char *p, size_t avail, const char *pat, size_t plen)
{
    if (avail >= plen) {
        return memcmp(p, pat, plen) == 0 ? M_YES : M_NO;
    }
    return memcmp(p, pat, avail) == 0 ? M_NEED : M_NO;
}

/* First occurrence of pat (plen >= 2) in [h, h + n), or NULL.  The
 * needles' first bytes (']') are rare in log text, so memchr on the first
 * byte beats memmem by a wide margin; memmem takes over when the text is
 * dense with false starts, which keeps the worst case linear. */
static const char *find(const char *h, size_t n, const char *pat, size_t plen)
{
    const char *e = h + n;
    int misses = 0;

    while ((size_t)(e - h) >= plen) {
        const char *q;
#if AW_HAVE_MEMMEM
        if (misses > 16) {
            return memmem(h, (size_t)(e - h), pat, plen);
        }
#endif
        q = memchr(h, pat[0], (size_t)(e - h) - plen + 1);
        if (q == NULL) {
            return NULL;
        }
        if (memcmp(q + 1, pat + 1, plen - 1) == 0) {
            return q;
        }
        h = q + 1;
        misses++;
    }
    return NULL;
}

/* A record start at p: "<event" + blank/'>'/'/' or "<![LOG[".  A line
 * that starts a new record inside the current one (recovering, after a
 * '\n') must be clearer: "<event" + blank, or "<![LOG[". */
static enum match start_at(enum aw_format fmt, const char *p, size_t avail, bool recovering)
{
    enum match m;

    if (fmt == AW_FORMAT_CMTRACE) {
        return match_at(p, avail, "<![LOG[", 7);
    }
    m = match_at(p, avail, "<event", 6);
    if (m != M_YES) {
        return m;
    }
    if (avail < 7) {
        return M_NEED;
    }
    if (is_ws((unsigned char)p[6])) {
        return M_YES;
    }
    return !recovering && (p[6] == '>' || p[6] == '/') ? M_YES : M_NO;
}

static void count_garbage(struct aw_reader *r, uint64_t from, uint64_t to)
{
    uint64_t r0, r1;

    if (to <= from) {
        return;
    }
    r0 = r->gend == NPOS ? raw_of(r, from) : r->graw;
    r1 = raw_of(r, to);
    r->stats.skipped_bytes += r1 - r0;
    r->gend = to;
    r->graw = r1;
}

static void begin_record(struct aw_reader *r, uint64_t x)
{
    r->rs = x;
    r->raw_rs = raw_of(r, x);
    r->offset = r->raw_rs;
    r->gend = NPOS;
    r->trunc_on = false;
    r->quote = 0;
    r->rp = NPOS;
    r->chk = x;
    r->seg = SEG_NONE;
    r->hdr0 = r->hdr1 = r->msg0 = r->msg1 = r->etag = NPOS;
    switch (r->fmt) {
    case AW_FORMAT_ITMS:
        r->st = ST_HDR;
        r->hdr0 = x + 6;
        r->scan = x + 6;
        break;
    case AW_FORMAT_CMTRACE:
        r->st = ST_LOGMSG;
        r->msg0 = x + 7;
        r->scan = x + 7;
        break;
    default:
        r->st = ST_LINE;
        r->scan = x;
        break;
    }
}

/* Find the next record start from r->pos; 1 when found (state set). */
static int seek_start(struct aw_reader *r)
{
    const char *b = r->buf;
    size_t i = (size_t)(r->pos - r->base);

    if (r->fmt == AW_FORMAT_LINE) {
        if (i >= r->len) {
            return 0;
        }
        begin_record(r, r->pos);
        return 1;
    }
    for (;;) {
        const char *q;
        size_t stop, e;

        while (i < r->len && is_ws((unsigned char)b[i])) {
            i++;
        }
        r->pos = r->base + i;
        if (i >= r->len) {
            /* Everything since the last record was whitespace or definite
             * garbage, which no record can start with: resume after it, so
             * a fully read file is resumed at its size. */
            r->offset = raw_of(r, r->pos);
            return 0;
        }
        switch (start_at(r->fmt, b + i, r->len - i, false)) {
        case M_YES:
            begin_record(r, r->pos);
            return 1;
        case M_NEED:
            r->offset = raw_of(r, r->pos);
            return 0;
        case M_NO:
            break;
        }
        /* Garbage up to the next '<' that may start a record. */
        q = memchr(b + i + 1, '<', r->len - i - 1);
        stop = q != NULL ? (size_t)(q - b) : r->len;
        e = stop;
        while (e > i && is_ws((unsigned char)b[e - 1])) {
            e--;
        }
        count_garbage(r, r->base + i, r->base + e);
        i = stop;
    }
}

/* First '\n' at or after from in the buffered data, or NPOS.  The last
 * answer is cached so that records sharing one long line do not rescan
 * it (that would be quadratic). */
static uint64_t next_newline(struct aw_reader *r, uint64_t from)
{
    uint64_t start = from, first = from;
    const char *q;

    if (r->nl_from <= from && from <= r->nl_to) {
        if (r->nl_found) {
            return r->nl_to;
        }
        start = r->nl_to;
        first = r->nl_from;
    }
    q = memchr(r->buf + (start - r->base), '\n', r->len - (size_t)(start - r->base));
    r->nl_from = first;
    r->nl_found = q != NULL;
    r->nl_to = q != NULL ? r->base + (size_t)(q - r->buf) : r->base + r->len;
    return r->nl_found ? r->nl_to : NPOS;
}

/* Records are searched one line segment at a time: terminators never
 * contain '\n', and a '\n' followed by a record start ends the record
 * (broken).  Sets r->chk to the end of the segment starting at r->chk. */
static void next_segment(struct aw_reader *r)
{
    uint64_t nl;
    size_t k;

    if (r->seg == SEG_PLAIN || r->seg == SEG_RECOVER) {
        return;
    }
    nl = next_newline(r, r->chk);
    if (nl == NPOS) {
        r->chk = r->base + r->len;
        r->seg = SEG_END;
        return;
    }
    k = (size_t)(nl - r->base);
    r->chk = nl;
    switch (start_at(r->fmt, r->buf + k + 1, r->len - k - 1, true)) {
    case M_YES:
        r->seg = SEG_RECOVER;
        r->rp = nl;
        break;
    case M_NEED:
        r->seg = SEG_UNSURE;
        break;
    case M_NO:
        r->seg = SEG_PLAIN;
        break;
    }
}

#define ONES UINT64_C(0x0101010101010101)
#define LOW7 UINT64_C(0x7F7F7F7F7F7F7F7F)

/* High bit set in every zero byte of x (exact, no carries between bytes). */
static inline uint64_t zero_bytes(uint64_t x)
{
    return ~((((x & LOW7) + LOW7) | x) | LOW7);
}

/* Whether [p, p + n) holds only one kind of quote (or none) an even
 * number of times, eight bytes at a time.  Only parity and presence
 * matter, so the per-byte match masks are XOR- and OR-accumulated. */
static inline bool quotes_balanced(const char *p, size_t n)
{
    uint64_t sx = 0, so = 0, dx = 0, dor = 0;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w, ms, md;
        memcpy(&w, p + i, 8);
        ms = zero_bytes(w ^ (ONES * '\''));
        md = zero_bytes(w ^ (ONES * '"'));
        sx ^= ms;
        so |= ms;
        dx ^= md;
        dor |= md;
    }
    for (; i < n; i++) {
        uint64_t ms = p[i] == '\'' ? 0x80u : 0, md = p[i] == '"' ? 0x80u : 0;
        sx ^= ms;
        so |= ms;
        dx ^= md;
        dor |= md;
    }
    /* fold: bit 7 of the low byte becomes the parity of all high bits */
    sx ^= sx >> 32;
    sx ^= sx >> 16;
    sx ^= sx >> 8;
    dx ^= dx >> 32;
    dx ^= dx >> 16;
    dx ^= dx >> 8;
    return (dor == 0 && (sx & 0x80) == 0) || (so == 0 && (dx & 0x80) == 0);
}

/* '>' outside quotes in b[*pi, lim); quote state carried in *quote. */
static bool hdr_scan(const char *b, size_t *pi, size_t lim, char *quote)
{
    static const unsigned char special[256] = {['>'] = 1, ['\''] = 1, ['"'] = 1};
    size_t i = *pi;
    char qc = *quote;

    /* Fast path: with one kind of quote only, the first '>' is outside
     * the quotes exactly when an even number of them precede it. */
    if (qc == 0) {
        const char *g = memchr(b + i, '>', lim - i);
        if (g != NULL && quotes_balanced(b + i, (size_t)(g - b) - i)) {
            *pi = (size_t)(g - b);
            return true;
        }
    }

    while (i < lim) {
        if (qc != 0) {
            const char *q = memchr(b + i, qc, lim - i);
            if (q == NULL) {
                i = lim;
                break;
            }
            i = (size_t)(q - b) + 1;
            qc = 0;
            continue;
        }
        while (i < lim && !special[(unsigned char)b[i]]) {
            i++;
        }
        if (i >= lim) {
            break;
        }
        if (b[i] == '>') {
            *pi = i;
            *quote = 0;
            return true;
        }
        qc = b[i++];
    }
    *pi = i;
    *quote = qc;
    return false;
}

/* Search buffer b from i to lim for the terminator of a message (CDATA's
 * "]]>" or cmtrace's "]LOG]!>").  Found: note the message end, move to
 * state next and return true.  Not found: remember where to resume, keeping
 * the last tlen - 1 bytes, which may be the start of a split terminator. */
static bool find_message_end(struct aw_reader *r, const char *b, size_t i, size_t lim,
                             const char *term, size_t tlen, enum scan_state next)
{
    const char *q = find(b + i, lim - i, term, tlen);

    if (q != NULL) {
        r->msg1 = r->base + (size_t)(q - b);
        r->st = next;
        r->scan = r->msg1 + tlen;
        return true;
    }
    if (lim >= i + tlen - 1) {
        i = lim - (tlen - 1);
    }
    r->scan = r->base + i;
    return false;
}

/* What a scanner step found (scan_record()). */
enum found {
    F_RECORD,  /* the record is complete: *end (and *broken) set */
    F_AGAIN,   /* the state changed: scan on from r->scan */
    F_SEGMENT, /* nothing up to the segment end: r->scan set */
    F_IDLE     /* not inside a record */
};

/* line: the record ends after its '\n'. */
static int scan_line(struct aw_reader *r, uint64_t *end)
{
    const char *b = r->buf, *q;
    size_t i = (size_t)(r->scan - r->base);

    q = memchr(b + i, '\n', r->len - i);
    if (q == NULL) {
        r->scan = r->base + r->len;
        return 0;
    }
    *end = r->base + (size_t)(q - b) + 1;
    return 1;
}

/* ST_HDR: the attribute tag's '>' ends a cmtrace record and a
 * self-closing itms tag; after any other itms tag the body follows. */
static enum found scan_hdr(struct aw_reader *r, size_t i, size_t lim, uint64_t *end)
{
    const char *b = r->buf;

    if (!hdr_scan(b, &i, lim, &r->quote)) {
        r->scan = r->base + i;
        return F_SEGMENT;
    }
    r->hdr1 = r->base + i;
    if (r->fmt == AW_FORMAT_CMTRACE) {
        *end = r->hdr1 + 1;
        return F_RECORD;
    }
    if (r->hdr1 > r->hdr0 && b[i - 1] == '/') {
        /* <event .../>: a record without a message */
        r->hdr1--;
        *end = r->base + i + 1;
        return F_RECORD;
    }
    r->st = ST_BODY;
    r->scan = r->base + i + 1;
    return F_AGAIN;
}

/* ST_BODY: outside CDATA, the next "<![CDATA[" or "</event>". */
static enum found scan_body(struct aw_reader *r, size_t i, size_t lim, uint64_t *end)
{
    const char *b = r->buf;

    while (i < lim) {
        const char *q = memchr(b + i, '<', lim - i);
        size_t k;
        enum match mc, me;

        if (q == NULL) {
            i = lim;
            break;
        }
        k = (size_t)(q - b);
        mc = match_at(b + k, r->len - k, "<![CDATA[", 9);
        if (mc == M_YES) {
            if (r->msg0 == NPOS) {
                r->msg0 = r->base + k + 9;
            }
            r->st = ST_CDATA;
            i = k + 9;
            break;
        }
        me = match_at(b + k, r->len - k, "</event>", 8);
        if (me == M_YES) {
            r->etag = r->base + k;
            *end = r->etag + 8;
            return F_RECORD;
        }
        if (mc == M_NEED || me == M_NEED) {
            r->scan = r->base + k;
            return F_SEGMENT;
        }
        i = k + 1;
    }
    r->scan = r->base + i;
    return r->st == ST_CDATA ? F_AGAIN : F_SEGMENT;
}

/* One step of the state machine from buffer index i, up to lim. */
static enum found scan_state_step(struct aw_reader *r, size_t i, size_t lim, uint64_t *end,
                                  bool *broken)
{
    switch (r->st) {
    case ST_HDR:
        return scan_hdr(r, i, lim, end);
    case ST_BODY:
        return scan_body(r, i, lim, end);
    case ST_CDATA:
        return find_message_end(r, r->buf, i, lim, "]]>", 3, ST_BODY) ? F_AGAIN : F_SEGMENT;
    case ST_LOGMSG:
        return find_message_end(r, r->buf, i, lim, "]LOG]!>", 7, ST_LOGAFTER) ? F_AGAIN
                                                                             : F_SEGMENT;
    case ST_LOGAFTER:
        if (i >= r->len) {
            return F_SEGMENT;
        }
        if (r->buf[i] == '<') {
            r->st = ST_HDR;
            r->hdr0 = r->base + i + 1;
            r->scan = r->hdr0;
            return F_AGAIN;
        }
        /* ]LOG]!> without its attribute tag */
        *end = r->base + i;
        *broken = true;
        return F_RECORD;
    default:
        return F_IDLE;
    }
}

/* Advance the current record.  1: complete (*end, *broken set); 0: more
 * data needed. */
static int scan_record(struct aw_reader *r, uint64_t *end, bool *broken)
{
    *broken = false;
    if (r->st == ST_LINE) {
        return scan_line(r, end);
    }
    for (;;) {
        enum found f;

        next_segment(r);
        f = scan_state_step(r, (size_t)(r->scan - r->base), (size_t)(r->chk - r->base), end,
                            broken);
        if (f == F_RECORD) {
            return 1;
        }
        if (f == F_AGAIN) {
            continue;
        }
        if (f == F_IDLE) {
            return 0;
        }
        /* Every search above covered all bytes up to the segment end. */
        if (r->seg == SEG_RECOVER) {
            *end = r->rp;
            *broken = true;
            return 1;
        }
        if (r->seg == SEG_PLAIN) {
            r->chk++;
            r->seg = SEG_NONE;
            continue;
        }
        return 0;
    }
}

/* A span [a, e) of the record clipped to its kept bytes [rs, kend). */
static struct aw_span span_of(const char *kp, uint64_t rs, uint64_t kend, uint64_t a, uint64_t e)
{
    struct aw_span s = {kp, 0};

    if (a == NPOS || e == NPOS) {
        return s;
    }
    if (a < rs) {
        a = rs;
    }
    if (e > kend) {
        e = kend;
    }
    if (a > kend) {
        a = kend;
    }
    s.ptr = kp + (a - rs);
    s.len = e > a ? (size_t)(e - a) : 0;
    return s;
}

static void fill_record(struct aw_reader *r, struct aw_record *rec, uint64_t end,
                        bool broken, bool partial)
{
    bool trunc = end - r->rs > r->max_record;
    uint64_t kend = trunc ? r->rs + r->max_record : end;
    const char *kp = r->trunc_on ? r->trunc : r->buf + (r->rs - r->base);
    uint64_t m0 = NPOS, m1 = NPOS, h1 = r->hdr1 != NPOS ? r->hdr1 : end;

    rec->offset = r->raw_rs;
    rec->end = partial ? raw_peek(r, end) : raw_of(r, end);
    rec->truncated = trunc;
    rec->broken = broken;
    rec->partial = partial;
    switch (r->fmt) {
    case AW_FORMAT_ITMS:
        if (r->msg0 != NPOS) {
            m0 = r->msg0;
            m1 = (r->st == ST_CDATA || r->msg1 == NPOS) ? end : r->msg1;
        } else if (r->hdr1 != NPOS && r->st != ST_HDR) {
            m0 = r->hdr1 + 1;
            m1 = r->etag != NPOS ? r->etag : end;
        }
        if (r->st == ST_HDR && r->hdr1 != NPOS) {
            m0 = NPOS; /* self-closing tag */
        }
        rec->header = span_of(kp, r->rs, kend, r->hdr0, h1);
        break;
    case AW_FORMAT_CMTRACE:
        m0 = r->msg0;
        m1 = r->msg1 != NPOS ? r->msg1 : end;
        rec->header = span_of(kp, r->rs, kend, r->hdr0, h1);
        break;
    default:
        m0 = r->rs;
        m1 = end;
        if (!partial) {
            m1--; /* the '\n' */
            if (!trunc && m1 > m0 && kp[m1 - 1 - r->rs] == '\r') {
                m1--;
            }
        }
        rec->header = span_of(kp, r->rs, kend, NPOS, NPOS);
        break;
    }
    /* A partial message holds only bytes known to be message text: not
     * the start of a terminator that may be completing ("]]", "<![CDA"),
     * so that it is a prefix of the message the record will have. */
    if (partial && m1 != NPOS && r->scan < m1
        && (r->st == ST_BODY || r->st == ST_CDATA || r->st == ST_LOGMSG)) {
        m1 = r->scan;
    }
    if (partial && r->fmt == AW_FORMAT_LINE && !trunc && m1 > m0 && kp[m1 - 1 - r->rs] == '\r') {
        m1--;
    }
    if (m1 != NPOS && m0 != NPOS && m1 < m0) {
        m1 = m0;
    }
    rec->message = span_of(kp, r->rs, kend, m0, m1);
    r->stats.records++;
    if (trunc) {
        r->stats.truncated++;
    }
    if (broken) {
        r->stats.broken++;
    }
}

static bool blank_line(const struct aw_reader *r, uint64_t end)
{
    const char *p, *e;

    /* Check before forming pointers: a line longer than the buffer
     * starts before it (rs < base), and buf + (rs - base) would point
     * far outside it (UBSan: pointer overflow). */
    if (end - r->rs > r->max_record || r->rs < r->base || end < r->rs) {
        return false;
    }
    p = r->buf + (r->rs - r->base);
    e = r->buf + (end - r->base);
    while (p < e && is_ws((unsigned char)*p)) {
        p++;
    }
    return p == e;
}

/* Try to produce a record from the buffered data. */
int aw_reader_step(struct aw_reader *r, struct aw_record *rec)
{
    for (;;) {
        uint64_t end;
        bool broken;

        if (r->st == ST_SEEK && seek_start(r) == 0) {
            return 0;
        }
        if (scan_record(r, &end, &broken) == 0) {
            uint64_t dlen = r->base + r->len;
            if (!r->eof || !r->deliver_partial || dlen == r->rs) {
                return 0;
            }
            if (r->partial_done && r->partial_rs == r->rs && r->partial_len == dlen) {
                return 0;
            }
            if (r->fmt == AW_FORMAT_LINE && blank_line(r, dlen)) {
                return 0;
            }
            fill_record(r, rec, dlen, false, true);
            r->partial_done = true;
            r->partial_rs = r->rs;
            r->partial_len = dlen;
            return 1;
        }
        if (r->fmt == AW_FORMAT_LINE && blank_line(r, end)) {
            uint64_t re = raw_of(r, end);
            r->stats.skipped_bytes += re - r->raw_rs;
            r->offset = re;
            r->st = ST_SEEK;
            r->pos = end;
            continue;
        }
        fill_record(r, rec, end, broken, false);
        r->offset = rec->end;
        r->st = ST_SEEK;
        r->pos = end;
        r->partial_done = false;
        return 1;
    }
}
