/*
 * Rows of typed fields as JSON or CSV (see fields.h).
 */
#include "agentwatch/fields.h"

#include <inttypes.h>
#include <stdbool.h>

#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"

void aw_fields_json_time(FILE *out, int64_t ms)
{
    char iso[AW_TIME_ISO_MAX];

    if (ms == AW_TIME_NONE) {
        fputs("null", out);
        return;
    }
    aw_time_format_iso(ms, iso);
    aw_text_json_string(out, iso);
}

/* Text and times are where the two formats differ. */
static void write_value(FILE *out, const struct aw_field *f, bool json)
{
    char iso[AW_TIME_ISO_MAX];

    switch (f->kind) {
    case AW_FIELD_TEXT:
        if (json) {
            aw_text_json_string(out, f->text);
        } else {
            aw_text_csv_field(out, f->text != NULL ? f->text : "");
        }
        break;
    case AW_FIELD_TIME:
        if (json) {
            aw_fields_json_time(out, f->num);
        } else {
            aw_time_format_iso(f->num, iso);
            fputs(iso, out);
        }
        break;
    case AW_FIELD_BOOL: fputs(f->num ? "true" : "false", out); break;
    case AW_FIELD_INT: fprintf(out, "%" PRId64, f->num); break;
    case AW_FIELD_UINT: fprintf(out, "%" PRIu64, f->unum); break;
    default: break;
    }
}

void aw_fields_json(FILE *out, const struct aw_field *f, size_t n)
{
    fputc('{', out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s\"%s\": ", i ? ", " : "", f[i].name);
        write_value(out, &f[i], true);
    }
    fputc('}', out);
}

void aw_fields_json_item(FILE *out, size_t i, const struct aw_field *f, size_t n)
{
    fputs(i ? ",\n  " : "\n  ", out);
    aw_fields_json(out, f, n);
}

void aw_fields_csv(FILE *out, const struct aw_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputs(i ? "," : "", out);
        write_value(out, &f[i], false);
    }
    fputs("\r\n", out);
}

void aw_fields_csv_header(FILE *out, const struct aw_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s%s", i ? "," : "", f[i].name);
    }
    fputs("\r\n", out);
}
