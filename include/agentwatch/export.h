/*
 * Export: every stored field of every finding in a window, one finding
 * per line, for log pipelines (Fluent Bit, Vector, Filebeat, a SIEM).
 *
 *   ndjson  one JSON object per line, keys always present and in this
 *           order: time, time_known, read_time, host, file, file_id,
 *           offset, rule, category, severity, level, message, target,
 *           code, partial, time_inferred.  Times are ISO-8601 UTC with
 *           milliseconds; target and code are null when the rule captured
 *           none; time_inferred is true when the record did not say its
 *           year or its UTC offset (the year was inferred from the file's
 *           modification time, the zone was the endpoint's or the
 *           configured one).  Every
 *           line is valid JSON whatever bytes the log held.
 *   csv     a header line with the same names, then one row per finding
 *           (RFC 4180, CRLF; control characters written as '?', null as
 *           an empty field).
 *   ecs     one JSON object per line in Elastic Common Schema names
 *           (src/ecs.c; the mapping is a table in README).
 *
 * Findings come in record-time order, then log order; with a cursor, in
 * the order they were stored.
 */
#ifndef AGENTWATCH_EXPORT_H
#define AGENTWATCH_EXPORT_H

#include <stdio.h>

#include "agentwatch/err.h"
#include "agentwatch/query.h"
#include "agentwatch/store.h"

enum aw_export_format {
    AW_EXPORT_NDJSON = 0,
    AW_EXPORT_CSV,
    AW_EXPORT_ECS
};

/* "ndjson", "csv", "ecs"; AW_ESYNTAX otherwise. */
int aw_export_format_from_name(const char *name, enum aw_export_format *out);

/* Write every finding of s matching f to out. */
int aw_export_run(struct aw_store *s, const struct aw_query_filter *f,
                  enum aw_export_format format, FILE *out, struct aw_err *err);

/* Write the findings matching f that were not exported under cursor
 * before (see cursor.h), make the output durable (flush; fsync when it is
 * a regular file), then advance the cursor past every finding stored when
 * the export began (those f leaves out included).  Nothing is advanced on
 * any error.  *written gets the number of findings written.  CSV writes
 * its header only before a first row, so that a call with nothing new
 * writes nothing. */
int aw_export_cursor(struct aw_store *s, const struct aw_query_filter *f,
                     enum aw_export_format format, const char *cursor, FILE *out,
                     uint64_t *written, struct aw_err *err);

#endif
