/*
 * ECS: a finding as one line of NDJSON in the names of the Elastic Common
 * Schema (nested objects, not dotted keys), for export --format ecs and
 * the shipper spool (src/spool.c).  The mapping is documented in README
 * ("export --format ecs").
 *
 * event.id is derived from the finding's content -- host, the identity of
 * its file (the hash of its first 64 bytes, never its name or row id),
 * byte offset and rule -- so that the same finding has the same id in
 * every export, after the file grew, in a database rebuilt from the same
 * logs, and in every spool file: downstream can drop the duplicates
 * at-least-once shippers make.
 *
 * Lines are built in memory, because the spool must write each one with a
 * single write() and keep it under a size limit: the message is cut when
 * the line would be longer, and agentwatch.truncated says so.
 */
#ifndef AGENTWATCH_ECS_H
#define AGENTWATCH_ECS_H

#include <stdbool.h>
#include <stddef.h>

#include "agentwatch/err.h"
#include "agentwatch/query.h"

/* ECS version the field names were checked against (ecs.version). */
#define AW_ECS_VERSION "8.11.0"

/* event.id: 32 lowercase hex digits. */
#define AW_ECS_ID_LEN 32

/* Bytes of a file's head whose hash makes its identity in event.id: the
 * head fingerprint's minimum match (store.h), so that a file known by a
 * longer head later keeps its ids. */
#define AW_ECS_ID_HEAD 64

/* A growable byte buffer; start from { 0 }, free with aw_buf_free(). */
struct aw_buf {
    char *data;               /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    bool oom;                 /* an append failed: the content is cut */
};

void aw_buf_free(struct aw_buf *b);
void aw_buf_reset(struct aw_buf *b);
void aw_buf_add(struct aw_buf *b, const char *data, size_t len);
void aw_buf_puts(struct aw_buf *b, const char *s);
void aw_buf_printf(struct aw_buf *b, const char *fmt, ...) AW_PRINTF(2, 3);
/* s as a JSON string literal (NULL: null); invalid UTF-8 becomes U+FFFD. */
void aw_buf_json_string(struct aw_buf *b, const char *s, size_t len);

/* The finding's event.id into out (AW_ECS_ID_LEN + 1 bytes). */
void aw_ecs_event_id(const struct aw_export_row *r, char out[AW_ECS_ID_LEN + 1]);

/* Replace out's content with the finding as one JSON object and a '\n',
 * at most max_line bytes with the '\n' (the message is cut, then the
 * file path, to fit; agentwatch.truncated is true then).  max_line of 0
 * means no limit.  AW_ENOMEM, or AW_ELIMIT when even the cut line does
 * not fit. */
int aw_ecs_line(const struct aw_export_row *r, size_t max_line, struct aw_buf *out,
                struct aw_err *err);

#endif
