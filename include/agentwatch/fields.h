/*
 * Fields: one row of named, typed values, written as a JSON object or as
 * a CSV line.  A row that report or export writes in more than one form
 * lists its fields once, in one table: the JSON keys, the CSV header and
 * the column order cannot drift apart.
 *
 *   JSON  {"name": value, ...} on one line; text as aw_text_json_string()
 *         writes it (NULL: null), times as ISO-8601 UTC strings
 *         (AW_TIME_NONE: null), booleans as true/false.
 *   CSV   the values comma-separated, then CRLF; text as
 *         aw_text_csv_field() writes it, NULL text and AW_TIME_NONE as
 *         empty fields.
 */
#ifndef AGENTWATCH_FIELDS_H
#define AGENTWATCH_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum aw_field_kind {
    AW_FIELD_TEXT = 0,
    AW_FIELD_TIME,
    AW_FIELD_BOOL,
    AW_FIELD_INT,
    AW_FIELD_UINT
};

struct aw_field {
    const char *name;         /* written as is: no quote, comma or control */
    enum aw_field_kind kind;
    const char *text;         /* TEXT */
    int64_t num;              /* TIME (ms), BOOL (non-zero: true), INT */
    uint64_t unum;            /* UINT */
};

/* The n fields as one JSON object, without a line end. */
void aw_fields_json(FILE *out, const struct aw_field *f, size_t n);

/* Element i of a JSON array of objects, one a line: the n fields after
 * ",\n  " (the first element: "\n  "). */
void aw_fields_json_item(FILE *out, size_t i, const struct aw_field *f, size_t n);

/* A time as a JSON value, as aw_fields_json() writes it: "ISO" or null. */
void aw_fields_json_time(FILE *out, int64_t ms);

/* The values of the n fields as one CSV line. */
void aw_fields_csv(FILE *out, const struct aw_field *f, size_t n);

/* The names of the n fields as a CSV header line. */
void aw_fields_csv_header(FILE *out, const struct aw_field *f, size_t n);

#endif
