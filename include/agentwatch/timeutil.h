/*
 * Time values: milliseconds since the Unix epoch, UTC, in an int64_t.
 * AW_TIME_NONE marks "unknown" (a record without a parseable timestamp).
 *
 * Parsing is deliberately tolerant for log timestamps (the agents write
 * several shapes) and strict for user input (--since/--until), where a
 * typo must be an error rather than a silently different window.
 */
#ifndef AGENTWATCH_TIMEUTIL_H
#define AGENTWATCH_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"

#define AW_TIME_NONE INT64_MIN

/* Length of the buffer aw_time_format_iso() needs, terminator included. */
#define AW_TIME_ISO_MAX 32

/* Current wall-clock time. */
int64_t aw_time_now_ms(void);

/* Milliseconds since the epoch of a proleptic Gregorian UTC date and time.
 * No range checks beyond what the arithmetic needs; callers validate. */
int64_t aw_time_from_civil(int year, int month, int day, int hour, int minute,
                           int second, int millis);

/* Parse a user-supplied WHEN: a duration back from now_ms ("90s", "30m",
 * "24h", "7d", "2w") or an ISO-8601 date or date-time ("2025-03-11",
 * "2025-03-11T08:00", "2025-03-11 08:00:00.5+01:00", "...Z"); a date-time
 * without an offset is UTC.  On error, err says what was expected. */
int aw_time_parse_when(const char *text, int64_t now_ms, int64_t *out_ms,
                       struct aw_err *err);

/* Parse a timestamp as it appears in a log: ISO-8601 (T or space, optional
 * fraction and offset), US "M/D/YYYY H:MM:SS[.fffffff] [AM|PM] [+HH:MM]".
 * Leading blanks are skipped; trailing text after the timestamp is ignored.
 * Without an offset the time is taken as UTC.  Returns the number of bytes
 * consumed (> 0) and sets *out_ms, or 0 when s does not start with a
 * timestamp. */
size_t aw_time_parse_log(const char *s, size_t len, int64_t *out_ms);

/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (AW_TIME_ISO_MAX bytes).
 * AW_TIME_NONE formats as the empty string. */
void aw_time_format_iso(int64_t ms, char *out);

/* Same without milliseconds, with a space instead of T ("2025-03-11 07:00:01Z"):
 * the human table form. */
void aw_time_format_short(int64_t ms, char *out);

#endif
