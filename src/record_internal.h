/*
 * The record reader's state, shared by the two halves of the reader:
 * record.c (opening a file, detecting its encoding, reading and decoding
 * chunks into the buffer, the raw-offset map) and record_framing.c
 * (cutting the buffered text into records, format by format).  Nothing
 * outside those two files may include it; the contract is
 * include/agentwatch/record.h.
 *
 * Positions are absolute 64-bit "decoded positions": buf[i] is at
 * base + i, so scanning state survives compaction.  For UTF-8 files the
 * decoded position *is* the raw file offset; for UTF-16LE a monotonic
 * cursor (decoded pos, raw pos) is walked forward on demand (raw_of()).
 */
#ifndef AGENTWATCH_RECORD_INTERNAL_H
#define AGENTWATCH_RECORD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/record.h"

#define NPOS UINT64_MAX

enum scan_state {
    ST_SEEK,     /* between records: looking for the next record start */
    ST_HDR,      /* inside an attribute tag, looking for '>' outside quotes */
    ST_BODY,     /* itms: between the tag and </event>, outside CDATA */
    ST_CDATA,    /* itms: inside a CDATA section */
    ST_LOGMSG,   /* cmtrace: inside <![LOG[ ... looking for ]LOG]!> */
    ST_LOGAFTER, /* cmtrace: right after ]LOG]!>, expecting '<' */
    ST_LINE      /* line: looking for '\n' */
};

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

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* UTF-16 code units the decoded bytes [p, e) came from (record.c). */
uint64_t aw_u16_units(const unsigned char *p, const unsigned char *e);

/* Raw file offset of decoded position x (x >= the cursor), advancing the
 * cursor.  Identity for UTF-8 files. */
static inline uint64_t raw_of(struct aw_reader *r, uint64_t x)
{
    if (r->enc != AW_ENCODING_UTF16LE) {
        return x;
    }
    if (x > r->cur_dec) {
        const unsigned char *b = (const unsigned char *)r->buf;
        r->cur_raw += 2 * aw_u16_units(b + (r->cur_dec - r->base), b + (x - r->base));
        r->cur_dec = x;
    }
    return r->cur_raw;
}

/* Same without moving the cursor (for partial records, whose end may lie
 * beyond a later record end). */
static inline uint64_t raw_peek(const struct aw_reader *r, uint64_t x)
{
    const unsigned char *b = (const unsigned char *)r->buf;

    if (r->enc != AW_ENCODING_UTF16LE) {
        return x;
    }
    if (x <= r->cur_dec) {
        return r->cur_raw;
    }
    return r->cur_raw + 2 * aw_u16_units(b + (r->cur_dec - r->base), b + (x - r->base));
}

/* Try to produce a record from the buffered data: 1 when *rec is filled,
 * 0 when more data is needed (record_framing.c). */
int aw_reader_step(struct aw_reader *r, struct aw_record *rec);

#endif
