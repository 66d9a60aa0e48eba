/*
 * Fuzz target: record framing (src/record.c, src/record_framing.c),
 * differentially.  The same bytes are read twice -- with the default read
 * size and with a tiny one (1 to 16 bytes, from the input) -- and must
 * give the same records: offsets, ends, messages, headers and flags.  Any
 * difference is a framing bug at a buffer boundary, which plain
 * crash-fuzzing misses.
 *
 * Input: byte 0 picks the format (auto, itms, cmtrace, line), whether a
 * final unterminated record is delivered, and the tiny chunk size; the
 * rest is the file.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/record.h"
#include "fuzz.h"

struct rec_copy {
    uint64_t offset, end;
    char *message, *header;
    size_t message_len, header_len;
    bool truncated, broken, partial;
};

struct rec_list {
    struct rec_copy *items;
    size_t count;
    int status;               /* the last aw_reader_next() result */
};

static char *dup_span(struct aw_span s)
{
    char *p = malloc(s.len + 1);

    if (p == NULL) {
        abort();
    }
    if (s.len > 0) {
        memcpy(p, s.ptr, s.len);
    }
    p[s.len] = '\0';
    return p;
}

static void read_all(const char *path, const struct aw_reader_opts *opts, struct rec_list *out)
{
    struct aw_reader *r = NULL;
    struct aw_record rec;
    struct aw_err err = { 0 };

    memset(out, 0, sizeof(*out));
    out->status = aw_reader_open(&r, path, 0, opts, &err);
    if (out->status != AW_OK) {
        return;
    }
    while ((out->status = aw_reader_next(r, &rec, &err)) == 1) {
        struct rec_copy *c;
        struct rec_copy *grown = realloc(out->items, (out->count + 1) * sizeof(*grown));

        if (grown == NULL) {
            abort();
        }
        out->items = grown;
        c = &out->items[out->count++];
        c->offset = rec.offset;
        c->end = rec.end;
        c->message = dup_span(rec.message);
        c->message_len = rec.message.len;
        c->header = dup_span(rec.header);
        c->header_len = rec.header.len;
        c->truncated = rec.truncated;
        c->broken = rec.broken;
        c->partial = rec.partial;
    }
    aw_reader_close(&r);
}

static void free_list(struct rec_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].message);
        free(l->items[i].header);
    }
    free(l->items);
}

static bool same(const struct rec_copy *a, const struct rec_copy *b)
{
    return a->offset == b->offset && a->end == b->end && a->message_len == b->message_len &&
           a->header_len == b->header_len && a->truncated == b->truncated &&
           a->broken == b->broken && a->partial == b->partial &&
           memcmp(a->message, b->message, a->message_len) == 0 &&
           memcmp(a->header, b->header, a->header_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum aw_format formats[] = { AW_FORMAT_AUTO, AW_FORMAT_ITMS,
                                              AW_FORMAT_CMTRACE, AW_FORMAT_LINE };
    struct aw_reader_opts big, tiny;
    struct rec_list a, b;
    const char *path;

    if (size < 1) {
        return 0;
    }
    memset(&big, 0, sizeof(big));
    big.format = formats[data[0] & 3];
    big.deliver_partial = (data[0] & 4) != 0;
    /* A small record cap, so that truncation is reached too. */
    big.max_record = (data[0] & 8) ? 256 : 0;
    tiny = big;
    tiny.chunk_size = 1 + (size_t)(data[0] >> 4);
    path = fuzz_write_file(".log", data + 1, size - 1);
    read_all(path, &big, &a);
    read_all(path, &tiny, &b);
    if (a.status != b.status || a.count != b.count) {
        fprintf(stderr, "record framing differs: %zu records (status %d) with the default read"
                " size, %zu (status %d) with %zu-byte reads\n", a.count, a.status, b.count,
                b.status, tiny.chunk_size);
        abort();
    }
    for (size_t i = 0; i < a.count; i++) {
        if (!same(&a.items[i], &b.items[i])) {
            fprintf(stderr, "record %zu differs (offset %llu vs %llu) with %zu-byte reads\n", i,
                    (unsigned long long)a.items[i].offset, (unsigned long long)b.items[i].offset,
                    tiny.chunk_size);
            abort();
        }
    }
    free_list(&a);
    free_list(&b);
    return 0;
}
