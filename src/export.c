/*
 * Export (see export.h).  Rows are streamed from SQLite straight to the
 * output, so memory stays flat however many findings there are.  The
 * stored text is valid UTF-8 already (cleaned on insert); the JSON and CSV
 * writers of text.h still treat it as untrusted.
 */
#include "agentwatch/export.h"

#include <string.h>

#include "agentwatch/fields.h"
#include "agentwatch/timeutil.h"

#define EXPORT_COLUMNS 15

struct sink {
    FILE *out;
    enum aw_export_format format;
};

int aw_export_format_from_name(const char *name, enum aw_export_format *out)
{
    if (strcmp(name, "ndjson") == 0) {
        *out = AW_EXPORT_NDJSON;
    } else if (strcmp(name, "csv") == 0) {
        *out = AW_EXPORT_CSV;
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
    };

    memcpy(c, all, sizeof(all));
}

static int emit(void *ctx, const struct aw_export_row *r, struct aw_err *err)
{
    struct sink *k = ctx;
    char t[AW_TIME_ISO_MAX], rt[AW_TIME_ISO_MAX];
    struct aw_field c[EXPORT_COLUMNS];

    aw_time_format_iso(r->ts_ms, t);
    aw_time_format_iso(r->read_ms, rt);
    columns(r, t, rt, c);
    if (k->format == AW_EXPORT_CSV) {
        aw_fields_csv(k->out, c, EXPORT_COLUMNS);
    } else {
        aw_fields_json(k->out, c, EXPORT_COLUMNS);
        fputc('\n', k->out);
    }
    /* Stop early when the reader went away (a closed pipe). */
    if (ferror(k->out)) {
        return aw_err_set(err, AW_EIO, "cannot write the export");
    }
    return AW_OK;
}

int aw_export_run(struct aw_store *s, const struct aw_query_filter *f,
                  enum aw_export_format format, FILE *out, struct aw_err *err)
{
    struct sink k = { out, format };
    struct aw_query *q = NULL;
    int rc;

    if (format == AW_EXPORT_CSV) {
        /* The header is the names of the columns, of any row. */
        struct aw_export_row none = { 0 };
        struct aw_field c[EXPORT_COLUMNS];

        columns(&none, "", "", c);
        aw_fields_csv_header(out, c, EXPORT_COLUMNS);
    }
    rc = aw_query_open(&q, s, f, err);
    if (rc == AW_OK) {
        rc = aw_query_export(q, emit, &k, err);
    }
    if (rc == AW_OK && (fflush(out) != 0 || ferror(out))) {
        rc = aw_err_set(err, AW_EIO, "cannot write the export");
    }
    aw_query_close(&q);
    return rc;
}
