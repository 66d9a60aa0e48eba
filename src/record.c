/*
 * Records: cutting a log file into records (see record.h).  This is the hot
 * path of every scan, so it is written for speed and for bounded memory.
 *
 * Design decisions:
 * - One decoded buffer of max_record + chunk(*1.5 for UTF-16) + a few bytes.
 *   Positions are absolute 64-bit "decoded positions" (buf[i] is at
 *   base + i), so scanning state survives compaction.  For UTF-8 files the
 *   decoded position *is* the raw file offset; for UTF-16LE a monotonic
 *   cursor (decoded pos, raw pos) is walked forward on demand, counting
 *   UTF-16 code units from the UTF-8 lead bytes (a 4-byte sequence is a
 *   surrogate pair = 2 units, every other sequence 1 unit).  The cursor is
 *   advanced before bytes are dropped from the buffer, so it never needs
 *   bytes that are gone.
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
 *   first max_record bytes are copied into a side buffer (allocated once)
 *   and the rest is scanned and dropped, keeping only the few bytes an
 *   undecided pattern needs.  Whether a record is truncated depends only on
 *   its real length, never on when the copy happened.
 * - End of data: an unterminated final record is held (or handed out as
 *   partial), and aw_reader_offset() stays at its start.  The offset moves
 *   past whitespace and garbage only when the next record start is seen,
 *   so a resumed reader never skips a record and never repeats one.
 * - Attributes are parsed only in aw_record_parse_meta().
 */
#include "agentwatch/record.h"

#include "agentwatch/fileid.h"
#include "agentwatch/platform.h"
#include "agentwatch/timeutil.h"
#include "aw_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NPOS UINT64_MAX
#define CHUNK_DEFAULT ((size_t)256 * 1024)
#define CHUNK_MAX ((size_t)64 * 1024 * 1024)
#define RECORD_MAX_LIMIT ((size_t)1024 * 1024 * 1024)
#define SLACK 64
#define HEAD_RAW 1024

enum scan_state {
    ST_SEEK,     /* between records: looking for the next record start */
    ST_HDR,      /* inside an attribute tag, looking for '>' outside quotes */
    ST_BODY,     /* itms: between the tag and </event>, outside CDATA */
    ST_CDATA,    /* itms: inside a CDATA section */
    ST_LOGMSG,   /* cmtrace: inside <![LOG[ ... looking for ]LOG]!> */
    ST_LOGAFTER, /* cmtrace: right after ]LOG]!>, expecting '<' */
    ST_LINE      /* line: looking for '\n' */
};

enum match { M_NO, M_YES, M_NEED };

/* What ends the current search segment of a record (see next_segment()). */
enum seg {
    SEG_NONE,    /* not computed yet */
    SEG_PLAIN,   /* a '\n' that does not start a record */
    SEG_RECOVER, /* a '\n' that starts a new record: r->rp */
    SEG_UNSURE,  /* a '\n' whose following bytes have not arrived yet */
    SEG_END      /* the end of the buffered data */
};

struct u16state {
    unsigned hi;       /* pending high surrogate, 0 when none */
    bool has_odd;      /* an odd trailing byte is held */
    unsigned char odd;
};

struct aw_reader {
    int fd;
    char *path;
    enum aw_format fmt;
    enum aw_encoding enc;
    size_t max_record;
    size_t chunk;
    size_t need;             /* free space wanted before a read */
    bool deliver_partial;
    bool eof;                /* the last read() returned 0 */

    char *buf;
    size_t cap, len;
    uint64_t base;           /* decoded position of buf[0] */
    uint64_t raw_next;       /* file offset of the next read() */

    unsigned char *raw;      /* UTF-16 only: one raw chunk (+1 held byte) */
    struct u16state u16;
    uint64_t cur_dec, cur_raw; /* UTF-16 position map cursor */

    /* scanning */
    enum scan_state st;
    uint64_t pos;            /* ST_SEEK: where to look next */
    uint64_t rs, raw_rs;     /* record start */
    uint64_t scan;           /* where the terminator search resumes */
    uint64_t chk;            /* end of the current search segment */
    enum seg seg;            /* what is at chk */
    uint64_t rp;             /* definite recovery point, or NPOS */
    uint64_t nl_from, nl_to; /* no '\n' in [nl_from, nl_to); nl_to is a '\n'
                                when nl_found, else the end of the data seen */
    bool nl_found;
    char quote;              /* ST_HDR: open quote character or 0 */
    uint64_t hdr0, hdr1;     /* header text */
    uint64_t msg0, msg1;     /* itms: first CDATA start / last ]]>; cmtrace: message */
    uint64_t etag;           /* itms: position of </event> */
    bool trunc_on;           /* first max_record bytes live in trunc */
    char *trunc;

    uint64_t gend, graw;     /* end of the garbage counted so far, NPOS when none */

    uint64_t offset;
    bool partial_done;
    uint64_t partial_rs, partial_len;
    struct aw_reader_stats stats;
};

/* ---------------------------------------------------------------- helpers */

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

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

/* A record start at p: "<event" + blank/'>'/'/' or "<![LOG[". */
static enum match start_at(enum aw_format fmt, const char *p, size_t avail)
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
    return (is_ws((unsigned char)p[6]) || p[6] == '>' || p[6] == '/') ? M_YES : M_NO;
}

/* A line starting a new record: "\n<event" + blank, or "\n<![LOG[". */
static enum match recovery_at(enum aw_format fmt, const char *p, size_t avail)
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
    return is_ws((unsigned char)p[6]) ? M_YES : M_NO;
}

/* ------------------------------------------------------------- UTF-16LE */

static inline unsigned char *put3(unsigned char *o, unsigned u)
{
    o[0] = (unsigned char)(0xE0 | (u >> 12));
    o[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (u & 0x3F));
    return o + 3;
}

/* Decode n raw bytes to UTF-8 at out; at most 3 * (n + 1) / 2 + 3 bytes
 * are written.  Unpaired surrogates become U+FFFD; an odd trailing byte and
 * a trailing high surrogate are held in st until more data arrives.  The
 * caller puts a held odd byte in front of in. */
static size_t u16_decode(struct u16state *st, const unsigned char *in, size_t n, char *out)
{
    unsigned char *o = (unsigned char *)out;
    size_t i = 0;

    st->has_odd = false;
    for (; i + 1 < n; i += 2) {
        unsigned u = (unsigned)in[i] | ((unsigned)in[i + 1] << 8);

        if (u < 0x80 && st->hi == 0) {
            *o++ = (unsigned char)u;
            continue;
        }
        if (st->hi != 0) {
            if (u >= 0xDC00 && u <= 0xDFFF) {
                unsigned cp = 0x10000 + ((st->hi - 0xD800) << 10) + (u - 0xDC00);
                o[0] = (unsigned char)(0xF0 | (cp >> 18));
                o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                o[3] = (unsigned char)(0x80 | (cp & 0x3F));
                o += 4;
                st->hi = 0;
                continue;
            }
            o = put3(o, 0xFFFD);
            st->hi = 0;
        }
        if (u < 0x80) {
            *o++ = (unsigned char)u;
        } else if (u < 0x800) {
            o[0] = (unsigned char)(0xC0 | (u >> 6));
            o[1] = (unsigned char)(0x80 | (u & 0x3F));
            o += 2;
        } else if (u >= 0xD800 && u <= 0xDBFF) {
            st->hi = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            o = put3(o, 0xFFFD);
        } else {
            o = put3(o, u);
        }
    }
    if (i < n) {
        st->odd = in[i];
        st->has_odd = true;
    }
    return (size_t)(o - (unsigned char *)out);
}

/* UTF-16 code units the decoded bytes [p, e) came from. */
static uint64_t u16_units(const unsigned char *p, const unsigned char *e)
{
    uint64_t u = 0;

    for (; p < e; p++) {
        unsigned c = *p;
        u += c < 0x80 ? 1u : c >= 0xF0 ? 2u : c >= 0xC0 ? 1u : 0u;
    }
    return u;
}

/* Raw file offset of decoded position x (x >= the cursor), advancing the
 * cursor.  Identity for UTF-8 files. */
static uint64_t raw_of(struct aw_reader *r, uint64_t x)
{
    if (r->enc != AW_ENCODING_UTF16LE) {
        return x;
    }
    if (x > r->cur_dec) {
        const unsigned char *b = (const unsigned char *)r->buf;
        r->cur_raw += 2 * u16_units(b + (r->cur_dec - r->base), b + (x - r->base));
        r->cur_dec = x;
    }
    return r->cur_raw;
}

/* Same without moving the cursor (for partial records, whose end may lie
 * beyond a later record end). */
static uint64_t raw_peek(const struct aw_reader *r, uint64_t x)
{
    const unsigned char *b = (const unsigned char *)r->buf;

    if (r->enc != AW_ENCODING_UTF16LE) {
        return x;
    }
    if (x <= r->cur_dec) {
        return r->cur_raw;
    }
    return r->cur_raw + 2 * u16_units(b + (r->cur_dec - r->base), b + (x - r->base));
}

/* ------------------------------------------------------------- detection */

enum aw_format aw_format_detect(const char *data, size_t len)
{
    size_t i = 0;

    if (data == NULL) {
        return AW_FORMAT_LINE;
    }
    while (i < len && is_ws((unsigned char)data[i])) {
        i++;
    }
    if (len - i >= 6 && memcmp(data + i, "<event", 6) == 0) {
        return AW_FORMAT_ITMS;
    }
    if (len - i >= 7 && memcmp(data + i, "<![LOG[", 7) == 0) {
        return AW_FORMAT_CMTRACE;
    }
    return AW_FORMAT_LINE;
}

static enum aw_encoding detect_encoding(const unsigned char *h, size_t n, size_t *bom)
{
    size_t m;

    *bom = 0;
    if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
        *bom = 3;
        return AW_ENCODING_UTF8_BOM;
    }
    if (n >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
        *bom = 2;
        return AW_ENCODING_UTF16LE;
    }
    /* No BOM: ASCII text in UTF-16LE has a zero in every odd byte.  Only
     * the first four code units are looked at: a non-ASCII character a
     * little further must not turn the file into UTF-8, and eight bytes
     * alternating between non-zero and zero are not plausible UTF-8. */
    m = (n < 8 ? n : 8) & ~(size_t)1;
    if (m < 4) {
        return AW_ENCODING_UTF8;
    }
    for (size_t i = 0; i < m; i += 2) {
        if (h[i] == 0 || h[i + 1] != 0) {
            return AW_ENCODING_UTF8;
        }
    }
    return AW_ENCODING_UTF16LE;
}

/* ------------------------------------------------------------ open/close */

int aw_reader_open(struct aw_reader **out, const char *path, uint64_t start,
                   const struct aw_reader_opts *opts, struct aw_err *err)
{
    struct aw_reader *r = NULL;
    unsigned char head[HEAD_RAW];
    char dhead[HEAD_RAW * 3 / 2 + 8];
    ssize_t n;
    size_t bom = 0, hn = 0;
    int rc = AW_OK;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
    }
    r->fd = -1;
    r->path = strdup(path);
    if (r->path == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
        goto out;
    }
    r->max_record = (opts != NULL && opts->max_record != 0) ? opts->max_record
                                                             : AW_RECORD_MAX_DEFAULT;
    if (r->max_record > RECORD_MAX_LIMIT) {
        r->max_record = RECORD_MAX_LIMIT;
    }
    r->chunk = (opts != NULL && opts->chunk_size != 0) ? opts->chunk_size : CHUNK_DEFAULT;
    if (r->chunk > CHUNK_MAX) {
        r->chunk = CHUNK_MAX;
    }
    r->deliver_partial = opts != NULL && opts->deliver_partial;

    if (opts != NULL && opts->named_file) {
        struct aw_os_stat st;
        r->fd = aw_os_open_read(path);
        if (r->fd < 0) {
            rc = aw_err_set(err, errno == ENOENT ? AW_ENOTFOUND : AW_EIO,
                            "cannot open %s: %s", path, strerror(errno));
            goto out;
        }
        if (aw_os_fstat(r->fd, &st) != 0 || !st.is_reg) {
            rc = aw_err_set(err, AW_EDENIED, "%s: not read: not a regular file", path);
            goto out;
        }
    } else {
        struct aw_os_stat st;
        rc = aw_fileid_open(path, &r->fd, &st, err);
        if (rc != AW_OK) {
            goto out;
        }
    }
    do {
        n = aw_os_pread(r->fd, head, sizeof(head), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        rc = aw_err_set(err, AW_EIO, "%s: read at offset 0: %s", path, strerror(errno));
        goto out;
    }
    hn = (size_t)n;
    r->enc = detect_encoding(head, hn, &bom);
    if (opts != NULL && opts->format != AW_FORMAT_AUTO) {
        r->fmt = opts->format;
    } else if (r->enc == AW_ENCODING_UTF16LE) {
        struct u16state st = {0, false, 0};
        size_t dn = u16_decode(&st, head + bom, hn - bom, dhead);
        r->fmt = aw_format_detect(dhead, dn);
    } else {
        r->fmt = aw_format_detect((const char *)head + bom, hn - bom);
    }
    if (r->fmt != AW_FORMAT_ITMS && r->fmt != AW_FORMAT_CMTRACE && r->fmt != AW_FORMAT_LINE) {
        rc = aw_err_set(err, AW_EUSAGE, "%s: invalid record format %d", path, (int)r->fmt);
        goto out;
    }

    if (start < bom) {
        /* the BOM counts as read: a whole-file read reports the file size */
        r->stats.bytes_read = bom - start;
        start = bom;
    }
    if (r->enc == AW_ENCODING_UTF16LE) {
        /* Decoding may turn 2 raw bytes into 3 (plus a held surrogate);
         * see the read size in refill(). */
        r->need = r->chunk + r->chunk / 2 + 10;
        r->raw = malloc(r->chunk + 2);
        if (r->raw == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
            goto out;
        }
        r->base = 0;
    } else {
        r->need = r->chunk;
        r->base = start;
    }
    r->cap = r->max_record + r->need + SLACK;
    r->buf = malloc(r->cap);
    if (r->buf == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
        goto out;
    }
    if (aw_os_seek(r->fd, start) < 0) {
        rc = aw_err_set(err, AW_EIO, "%s: seek to offset %llu: %s", path,
                        (unsigned long long)start, strerror(errno));
        goto out;
    }
    r->raw_next = start;
    r->cur_dec = r->base;
    r->cur_raw = start;
    r->st = ST_SEEK;
    r->pos = r->base;
    r->rp = NPOS;
    r->nl_from = r->nl_to = NPOS;
    r->gend = NPOS;
    r->offset = start;
    *out = r;
    r = NULL;
out:
    aw_reader_close(&r);
    return rc;
}

int aw_reader_fd(const struct aw_reader *r)
{
    return r->fd;
}

void aw_reader_close(struct aw_reader **rp)
{
    struct aw_reader *r;

    if (rp == NULL || *rp == NULL) {
        return;
    }
    r = *rp;
    if (r->fd >= 0) {
        aw_os_close(r->fd);
    }
    free(r->path);
    free(r->buf);
    free(r->raw);
    free(r->trunc);
    free(r);
    *rp = NULL;
}

uint64_t aw_reader_offset(const struct aw_reader *r)
{
    return r->offset;
}

enum aw_format aw_reader_format(const struct aw_reader *r)
{
    return r->fmt;
}

enum aw_encoding aw_reader_encoding(const struct aw_reader *r)
{
    return r->enc;
}

const char *aw_reader_path(const struct aw_reader *r)
{
    return r->path;
}

void aw_reader_get_stats(const struct aw_reader *r, struct aw_reader_stats *out)
{
    *out = r->stats;
}

/* ---------------------------------------------------------------- reading */

/* Drop what is no longer needed and read one chunk.  Returns the raw byte
 * count read (0 at end of file) or a negative status. */
static int refill(struct aw_reader *r, struct aw_err *err)
{
    uint64_t keep;
    size_t free_sp, want;
    ssize_t n;

    if (r->st == ST_SEEK) {
        keep = r->pos;
    } else {
        uint64_t dec = r->scan;
        if (r->st != ST_LINE && r->chk < dec) {
            dec = r->chk;
        }
        if (!r->trunc_on && dec - r->rs > r->max_record) {
            if (r->trunc == NULL) {
                r->trunc = malloc(r->max_record);
                if (r->trunc == NULL) {
                    return aw_err_set(err, AW_ENOMEM, "%s: out of memory", r->path);
                }
            }
            memcpy(r->trunc, r->buf + (r->rs - r->base), r->max_record);
            r->trunc_on = true;
        }
        /* one byte more than the scanner needs: the '/' of "/>" */
        keep = r->trunc_on ? (dec > r->rs ? dec - 1 : dec) : r->rs;
    }
    if (r->cap - r->len < r->need && keep > r->base) {
        size_t drop = (size_t)(keep - r->base);
        (void)raw_of(r, keep);
        memmove(r->buf, r->buf + drop, r->len - drop);
        r->len -= drop;
        r->base = keep;
    }
    free_sp = r->cap - r->len;
    if (r->enc == AW_ENCODING_UTF16LE) {
        size_t held = r->u16.has_odd ? 1 : 0;
        /* n raw bytes plus a held one decode to at most 1.5 n + 4.5 bytes;
         * free_sp >= need guarantees want >= chunk. */
        want = free_sp > 8 ? (free_sp - 8) * 2 / 3 : 0;
        if (want > r->chunk) {
            want = r->chunk;
        }
        if (held) {
            r->raw[0] = r->u16.odd;
        }
        do {
            n = aw_os_read(r->fd, r->raw + held, want);
        } while (n < 0 && errno == EINTR);
        if (n > 0) {
            r->len += u16_decode(&r->u16, r->raw, (size_t)n + held, r->buf + r->len);
        }
    } else {
        want = free_sp < r->chunk ? free_sp : r->chunk;
        do {
            n = aw_os_read(r->fd, r->buf + r->len, want);
        } while (n < 0 && errno == EINTR);
        if (n > 0) {
            r->len += (size_t)n;
        }
    }
    if (n < 0) {
        return aw_err_set(err, AW_EIO, "%s: read at offset %llu: %s", r->path,
                          (unsigned long long)r->raw_next, strerror(errno));
    }
    r->raw_next += (uint64_t)n;
    r->stats.bytes_read += (uint64_t)n;
    return n > 0 ? 1 : 0;
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
        switch (start_at(r->fmt, b + i, r->len - i)) {
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
    switch (recovery_at(r->fmt, r->buf + k + 1, r->len - k - 1)) {
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

/* Advance the current record.  1: complete (*end, *broken set); 0: more
 * data needed. */
static int scan_record(struct aw_reader *r, uint64_t *end, bool *broken)
{
    const char *b = r->buf;
    size_t i, lim;

    *broken = false;
    if (r->st == ST_LINE) {
        const char *q;
        i = (size_t)(r->scan - r->base);
        q = memchr(b + i, '\n', r->len - i);
        if (q == NULL) {
            r->scan = r->base + r->len;
            return 0;
        }
        *end = r->base + (size_t)(q - b) + 1;
        return 1;
    }
    for (;;) {
        next_segment(r);
        lim = (size_t)(r->chk - r->base);
        i = (size_t)(r->scan - r->base);
        switch (r->st) {
        case ST_HDR:
            if (!hdr_scan(b, &i, lim, &r->quote)) {
                r->scan = r->base + i;
                goto not_found;
            }
            r->hdr1 = r->base + i;
            if (r->fmt == AW_FORMAT_CMTRACE) {
                *end = r->hdr1 + 1;
                return 1;
            }
            if (r->hdr1 > r->hdr0 && b[i - 1] == '/') {
                /* <event .../>: a record without a message */
                r->hdr1--;
                *end = r->base + i + 1;
                return 1;
            }
            r->st = ST_BODY;
            r->scan = r->base + i + 1;
            continue;
        case ST_BODY:
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
                    return 1;
                }
                if (mc == M_NEED || me == M_NEED) {
                    r->scan = r->base + k;
                    goto not_found;
                }
                i = k + 1;
            }
            r->scan = r->base + i;
            if (r->st == ST_CDATA) {
                continue;
            }
            goto not_found;
        case ST_CDATA:
            if (find_message_end(r, b, i, lim, "]]>", 3, ST_BODY)) {
                continue;
            }
            goto not_found;
        case ST_LOGMSG:
            if (find_message_end(r, b, i, lim, "]LOG]!>", 7, ST_LOGAFTER)) {
                continue;
            }
            goto not_found;
        case ST_LOGAFTER:
            if (i >= r->len) {
                goto not_found;
            }
            if (b[i] == '<') {
                r->st = ST_HDR;
                r->hdr0 = r->base + i + 1;
                r->scan = r->hdr0;
                continue;
            }
            /* ]LOG]!> without its attribute tag */
            *end = r->base + i;
            *broken = true;
            return 1;
        default:
            return 0;
        }
    not_found:
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
static int step(struct aw_reader *r, struct aw_record *rec)
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

int aw_reader_next(struct aw_reader *r, struct aw_record *rec, struct aw_err *err)
{
    r->eof = false;
    for (;;) {
        int rc = step(r, rec);

        if (rc != 0 || r->eof) {
            return rc;
        }
        rc = refill(r, err);
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            r->eof = true;
        }
    }
}

/* -------------------------------------------------------------- metadata */

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

/* ------------------------------------------------------------------ names */

const char *aw_format_name(enum aw_format fmt)
{
    switch (fmt) {
    case AW_FORMAT_AUTO: return "auto";
    case AW_FORMAT_ITMS: return "itms";
    case AW_FORMAT_CMTRACE: return "cmtrace";
    case AW_FORMAT_LINE: return "line";
    }
    return NULL;
}

int aw_format_from_name(const char *name, enum aw_format *out)
{
    static const enum aw_format all[] = {AW_FORMAT_AUTO, AW_FORMAT_ITMS,
                                         AW_FORMAT_CMTRACE, AW_FORMAT_LINE};

    for (size_t i = 0; name != NULL && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, aw_format_name(all[i])) == 0) {
            *out = all[i];
            return AW_OK;
        }
    }
    return AW_ESYNTAX;
}

const char *aw_encoding_name(enum aw_encoding enc)
{
    switch (enc) {
    case AW_ENCODING_UTF8: return "utf-8";
    case AW_ENCODING_UTF8_BOM: return "utf-8-bom";
    case AW_ENCODING_UTF16LE: return "utf-16le";
    }
    return "unknown";
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
