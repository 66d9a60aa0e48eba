/*
 * Export (see export.h).  Rows are streamed from SQLite straight to the
 * output, so memory stays flat however many findings there are.  The
 * stored text is valid UTF-8 already (cleaned on insert); the JSON and CSV
 * writers of text.h still treat it as untrusted.
 */
#include "agentwatch/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/cursor.h"
#include "agentwatch/ecs.h"
#include "agentwatch/fields.h"
#include "agentwatch/platform.h"
#include "agentwatch/timeutil.h"

#define EXPORT_COLUMNS 16

struct sink {
    FILE *out;
    enum aw_export_format format;
    bool header_due;          /* CSV header not written yet */
    uint64_t rows;
    struct aw_buf line;       /* ecs */
};

int aw_export_format_from_name(const char *name, enum aw_export_format *out)
{
    if (strcmp(name, "ndjson") == 0) {
        *out = AW_EXPORT_NDJSON;
    } else if (strcmp(name, "csv") == 0) {
        *out = AW_EXPORT_CSV;
    } else if (strcmp(name, "ecs") == 0) {
        *out = AW_EXPORT_ECS;
    } else {
        return AW_ESYNTAX;
    }
    return AW_OK;
}

/* A finding as the columns of export.h, in their order.  Its times are
 * passed formatted (t, rt): export writes them as strings, never null. */
static void columns(const struct aw_export_row *r, const char *t, const char *rt,
                    struct aw_field c[EXPORT_COLUMNS])
{
    const struct aw_field all[EXPORT_COLUMNS] = {
        { "time", AW_FIELD_TEXT, .text = t },
        { "time_known", AW_FIELD_BOOL, .num = r->ts_known },
        { "read_time", AW_FIELD_TEXT, .text = rt },
        { "host", AW_FIELD_TEXT, .text = r->host },
        { "file", AW_FIELD_TEXT, .text = r->path },
        { "file_id", AW_FIELD_INT, .num = r->file_id },
        { "offset", AW_FIELD_UINT, .unum = r->offset },
        { "rule", AW_FIELD_TEXT, .text = r->rule },
        { "category", AW_FIELD_TEXT, .text = r->category },
        { "severity", AW_FIELD_TEXT, .text = r->severity },
        { "level", AW_FIELD_TEXT, .text = r->level },
        { "message", AW_FIELD_TEXT, .text = r->message },
        { "target", AW_FIELD_TEXT, .text = r->target },
        { "code", AW_FIELD_TEXT, .text = r->code },
        { "partial", AW_FIELD_BOOL, .num = r->partial },
        { "time_inferred", AW_FIELD_BOOL, .num = r->ts_inferred },
    };

    memcpy(c, all, sizeof(all));
}

static void csv_header(FILE *out)
{
    /* The header is the names of the columns, of any row. */
    struct aw_export_row none = { 0 };
    struct aw_field c[EXPORT_COLUMNS];

    columns(&none, "", "", c);
    aw_fields_csv_header(out, c, EXPORT_COLUMNS);
}

static int emit(void *ctx, const struct aw_export_row *r, struct aw_err *err)
{
    struct sink *k = ctx;
    char t[AW_TIME_ISO_MAX], rt[AW_TIME_ISO_MAX];
    struct aw_field c[EXPORT_COLUMNS];
    int rc;

    if (k->format == AW_EXPORT_ECS) {
        rc = aw_ecs_line(r, 0, &k->line, err);
        if (rc != AW_OK) {
            return rc;
        }
        fwrite(k->line.data, 1, k->line.len, k->out);
    } else {
        aw_time_format_iso(r->ts_ms, t);
        aw_time_format_iso(r->read_ms, rt);
        columns(r, t, rt, c);
        if (k->format == AW_EXPORT_CSV) {
            if (k->header_due) {
                csv_header(k->out);
                k->header_due = false;
            }
            aw_fields_csv(k->out, c, EXPORT_COLUMNS);
        } else {
            aw_fields_json(k->out, c, EXPORT_COLUMNS);
            fputc('\n', k->out);
        }
    }
    k->rows++;
    /* Stop early when the reader went away (a closed pipe). */
    if (ferror(k->out)) {
        return aw_err_set(err, AW_EIO, "cannot write the export");
    }
    return AW_OK;
}

/* Everything written reaches the file (or the pipe) before a cursor
 * moves: flushed, and synced to disk when the output is a regular file,
 * so that a power cut after the move cannot lose a batch. */
static int make_durable(FILE *out, struct aw_err *err)
{
    struct aw_os_stat st;
    int fd;

    if (fflush(out) != 0 || ferror(out)) {
        return aw_err_set(err, AW_EIO, "cannot write the export: %s", strerror(errno));
    }
    fd = fileno(out);
    if (fd >= 0 && aw_os_fstat(fd, &st) == 0 && st.is_reg && aw_os_fsync(fd) != 0) {
        return aw_err_set(err, AW_EIO, "cannot write the export to disk (fsync): %s",
                          strerror(errno));
    }
    return AW_OK;
}

int aw_export_run(struct aw_store *s, const struct aw_query_filter *f,
                  enum aw_export_format format, FILE *out, struct aw_err *err)
{
    struct sink k = { out, format, false, 0, { 0 } };
    struct aw_query *q = NULL;
    int rc;

    if (format == AW_EXPORT_CSV) {
        csv_header(out);
    }
    rc = aw_query_open(&q, s, f, err);
    if (rc == AW_OK) {
        rc = aw_query_export(q, emit, &k, err);
    }
    if (rc == AW_OK && (fflush(out) != 0 || ferror(out))) {
        rc = aw_err_set(err, AW_EIO, "cannot write the export");
    }
    aw_query_close(&q);
    aw_buf_free(&k.line);
    return rc;
}

int aw_export_cursor(struct aw_store *s, const struct aw_query_filter *f,
                     enum aw_export_format format, const char *cursor, FILE *out,
                     uint64_t *written, struct aw_err *err)
{
    struct sink k = { out, format, true, 0, { 0 } };
    struct aw_query *q = NULL;
    int64_t mark = 0, max_id = 0;
    bool existed = false;
    int rc;

    *written = 0;
    rc = aw_cursor_snapshot(s, cursor, &mark, &existed, &max_id, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (max_id > mark) {
        rc = aw_query_open(&q, s, f, err);
        if (rc == AW_OK) {
            rc = aw_query_export_ids(q, mark, max_id, emit, &k, err);
        }
        aw_query_close(&q);
    }
    if (rc == AW_OK) {
        rc = make_durable(out, err);
    }
    /* Only now: a failure above leaves the mark, and the batch is written
     * again by the next export. */
    if (rc == AW_OK && (max_id > mark || !existed)) {
        rc = aw_cursor_advance(s, cursor, existed, mark, max_id > mark ? max_id : mark, k.rows,
                               aw_time_now_ms(), err);
    }
    *written = k.rows;
    aw_buf_free(&k.line);
    return rc;
}
