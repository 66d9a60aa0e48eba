/*
 * Records, the reader: opening a log file at a byte offset, detecting its
 * encoding and format, and reading it chunk by chunk into one decoded
 * buffer (see record.h).  Cutting that buffer into records is
 * record_framing.c; the reader's state is in record_internal.h.  This is
 * the hot path of every scan, so it is written for speed and for bounded
 * memory.
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
 * - Caps: once a record's decided length exceeds max_record, refill()
 *   copies its first max_record bytes into a side buffer (allocated once)
 *   and drops the rest as it is scanned, keeping only the few bytes an
 *   undecided pattern needs.
 */
#include "agentwatch/record.h"

#include "agentwatch/fileid.h"
#include "agentwatch/platform.h"
#include "record_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_DEFAULT ((size_t)256 * 1024)
#define CHUNK_MAX ((size_t)64 * 1024 * 1024)
#define RECORD_MAX_LIMIT ((size_t)1024 * 1024 * 1024)
#define SLACK 64
#define HEAD_RAW 1024

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
uint64_t aw_u16_units(const unsigned char *p, const unsigned char *e)
{
    uint64_t u = 0;

    for (; p < e; p++) {
        unsigned c = *p;
        u += c < 0x80 ? 1u : c >= 0xF0 ? 2u : c >= 0xC0 ? 1u : 0u;
    }
    return u;
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

/* Sizes from the options, within their limits. */
static void set_sizes(struct aw_reader *r, const struct aw_reader_opts *opts)
{
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
}

/* Open the file: a file the user named is opened as named (links
 * followed), any other under the file policy of aw_fileid_open(). */
static int open_file(struct aw_reader *r, const char *path, const struct aw_reader_opts *opts,
                     struct aw_err *err)
{
    struct aw_os_stat st;

    if (opts == NULL || !opts->named_file) {
        return aw_fileid_open(path, &r->fd, &st, err);
    }
    r->fd = aw_os_open_read(path);
    if (r->fd < 0) {
        return aw_err_set(err, errno == ENOENT ? AW_ENOTFOUND : AW_EIO,
                          "cannot open %s: %s", path, strerror(errno));
    }
    if (aw_os_fstat(r->fd, &st) != 0 || !st.is_reg) {
        return aw_err_set(err, AW_EDENIED, "%s: not read: not a regular file", path);
    }
    return AW_OK;
}

/* Encoding and format from the first bytes of the file; *bom gets the
 * length of the byte order mark. */
static int detect_head(struct aw_reader *r, const char *path, const struct aw_reader_opts *opts,
                       size_t *bom, struct aw_err *err)
{
    unsigned char head[HEAD_RAW];
    char dhead[HEAD_RAW * 3 / 2 + 8];
    ssize_t n;
    size_t hn;

    do {
        n = aw_os_pread(r->fd, head, sizeof(head), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return aw_err_set(err, AW_EIO, "%s: read at offset 0: %s", path, strerror(errno));
    }
    hn = (size_t)n;
    r->enc = detect_encoding(head, hn, bom);
    if (opts != NULL && opts->format != AW_FORMAT_AUTO) {
        r->fmt = opts->format;
    } else if (r->enc == AW_ENCODING_UTF16LE) {
        struct u16state st = {0, false, 0};
        size_t dn = u16_decode(&st, head + *bom, hn - *bom, dhead);
        r->fmt = aw_format_detect(dhead, dn);
    } else {
        r->fmt = aw_format_detect((const char *)head + *bom, hn - *bom);
    }
    if (r->fmt != AW_FORMAT_ITMS && r->fmt != AW_FORMAT_CMTRACE && r->fmt != AW_FORMAT_LINE) {
        return aw_err_set(err, AW_EUSAGE, "%s: invalid record format %d", path, (int)r->fmt);
    }
    return AW_OK;
}

/* The decoded buffer (and the raw chunk of a UTF-16 file), then the file
 * positioned at start, and the scanner looking for the first record. */
static int start_reading(struct aw_reader *r, const char *path, uint64_t start,
                         struct aw_err *err)
{
    if (r->enc == AW_ENCODING_UTF16LE) {
        /* Decoding may turn 2 raw bytes into 3 (plus a held surrogate);
         * see the read size in refill(). */
        r->need = r->chunk + r->chunk / 2 + 10;
        r->raw = malloc(r->chunk + 2);
        if (r->raw == NULL) {
            return aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
        }
        r->base = 0;
    } else {
        r->need = r->chunk;
        r->base = start;
    }
    r->cap = r->max_record + r->need + SLACK;
    r->buf = malloc(r->cap);
    if (r->buf == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
    }
    if (aw_os_seek(r->fd, start) < 0) {
        return aw_err_set(err, AW_EIO, "%s: seek to offset %llu: %s", path,
                          (unsigned long long)start, strerror(errno));
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
    return AW_OK;
}

int aw_reader_open(struct aw_reader **out, const char *path, uint64_t start,
                   const struct aw_reader_opts *opts, struct aw_err *err)
{
    struct aw_reader *r = NULL;
    size_t bom = 0;
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
    set_sizes(r, opts);
    rc = open_file(r, path, opts, err);
    if (rc == AW_OK) {
        rc = detect_head(r, path, opts, &bom, err);
    }
    if (rc != AW_OK) {
        goto out;
    }
    if (start < bom) {
        /* the BOM counts as read: a whole-file read reports the file size */
        r->stats.bytes_read = bom - start;
        start = bom;
    }
    rc = start_reading(r, path, start, err);
    if (rc != AW_OK) {
        goto out;
    }
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

int aw_reader_next(struct aw_reader *r, struct aw_record *rec, struct aw_err *err)
{
    r->eof = false;
    for (;;) {
        int rc = aw_reader_step(r, rec);

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
