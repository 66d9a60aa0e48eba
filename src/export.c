/*
 * Export (see export.h).  Rows are streamed from SQLite straight to the
 * output, so memory stays flat however many findings there are.  The
 * stored text is valid UTF-8 already (cleaned on insert); the JSON and CSV
 * writers of text.h still treat it as untrusted.
 */
#include "agentwatch/export.h"

#include <inttypes.h>
#include <string.h>

#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"

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

static void write_ndjson(FILE *out, const struct aw_export_row *r)
{
    char t[AW_TIME_ISO_MAX], rt[AW_TIME_ISO_MAX];

    aw_time_format_iso(r->ts_ms, t);
    aw_time_format_iso(r->read_ms, rt);
    fprintf(out, "{\"time\": \"%s\", \"time_known\": %s, \"read_time\": \"%s\", \"host\": ", t,
            r->ts_known ? "true" : "false", rt);
    aw_text_json_string(out, r->host);
    fputs(", \"file\": ", out);
    aw_text_json_string(out, r->path);
    fprintf(out, ", \"file_id\": %" PRId64 ", \"offset\": %" PRIu64 ", \"rule\": ", r->file_id,
            r->offset);
    aw_text_json_string(out, r->rule);
    fputs(", \"category\": ", out);
    aw_text_json_string(out, r->category);
    fputs(", \"severity\": ", out);
    aw_text_json_string(out, r->severity);
    fputs(", \"level\": ", out);
    aw_text_json_string(out, r->level);
    fputs(", \"message\": ", out);
    aw_text_json_string(out, r->message);
    fputs(", \"target\": ", out);
    aw_text_json_string(out, r->target);
    fputs(", \"code\": ", out);
    aw_text_json_string(out, r->code);
    fprintf(out, ", \"partial\": %s}\n", r->partial ? "true" : "false");
}

static void write_csv(FILE *out, const struct aw_export_row *r)
{
    char t[AW_TIME_ISO_MAX], rt[AW_TIME_ISO_MAX];
    const char *text[] = { r->host, r->path };
    const char *rest[] = { r->rule, r->category, r->severity, r->level, r->message,
                           r->target != NULL ? r->target : "", r->code != NULL ? r->code : "" };

    aw_time_format_iso(r->ts_ms, t);
    aw_time_format_iso(r->read_ms, rt);
    fprintf(out, "%s,%s,%s", t, r->ts_known ? "true" : "false", rt);
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
        fputc(',', out);
        aw_text_csv_field(out, text[i]);
    }
    fprintf(out, ",%" PRId64 ",%" PRIu64, r->file_id, r->offset);
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
        fputc(',', out);
        aw_text_csv_field(out, rest[i]);
    }
    fprintf(out, ",%s\r\n", r->partial ? "true" : "false");
}

static int emit(void *ctx, const struct aw_export_row *r, struct aw_err *err)
{
    struct sink *k = ctx;

    if (k->format == AW_EXPORT_CSV) {
        write_csv(k->out, r);
    } else {
        write_ndjson(k->out, r);
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
        fputs("time,time_known,read_time,host,file,file_id,offset,rule,category,severity,level,"
              "message,target,code,partial\r\n", out);
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
