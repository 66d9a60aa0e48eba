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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"

#define AW_TIME_NONE INT64_MIN

/* Length of the buffer aw_time_format_iso() needs, terminator included. */
#define AW_TIME_ISO_MAX 32

/* Current wall-clock time. */
int64_t aw_time_now_ms(void);

/* A broken-down date and time of a proleptic Gregorian calendar. */
struct aw_civil {
    int year, month, day, hour, minute, second, ms;
};

/* ms split into its UTC calendar fields (also before 1970). */
void aw_time_to_civil(int64_t ms, struct aw_civil *out);

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

/* Parse a timestamp as it appears in a log (any shape of
 * aw_time_scan_log() that has a year).  Without an offset the time is
 * taken as UTC; a time without a year is not parsed.  Returns the number of bytes
 * consumed (> 0) and sets *out_ms, or 0 when s does not start with a
 * timestamp. */
size_t aw_time_parse_log(const char *s, size_t len, int64_t *out_ms);

/* A timestamp as a log wrote it: the wall-clock fields and what the text
 * left out. */
struct aw_log_time {
    struct aw_civil c;        /* c.year is 0 when the text had no year */
    bool has_year;
    bool has_offset;          /* the text said its UTC offset */
    int offset_min;           /* minutes east of UTC, when has_offset */
};

/* Parse a log timestamp at s into its fields, without deciding the year
 * or the zone.  Shapes (leading blanks skipped, trailing text ignored):
 *   ISO-8601         2025-05-16T11:51:05.123+02:00, 2025-05-16 11:51:05
 *   year first       2025/05/16 11:51:05, 2025.05.16 11:51:05
 *   month first      5/16/2025 11:51:05 AM, 05-16-2025 11:51:05.123 (US,
 *                    the Log Viewer, ConfigMgr), taken when day-first
 *                    is impossible or undecidable (both fields <= 12)
 *   day first        16/05/2025 11:51:05 (first field > 12), and every
 *                    dotted date 16.05.2025 11:51:05 (European locales)
 *   month name       May 16 11:51:05 (agent.log, syslog: no year),
 *                    May 16 2025 11:51:05, 16 May 2025 11:51:05, with an
 *                    optional weekday (ctime: Wed May 21 17:09:02 1997)
 * A time is H:MM[:SS[.fraction]], optionally followed by AM/PM (12-hour
 * clock) and an offset (Z, +HH:MM, +HHMM).  Returns the bytes consumed
 * (> 0), or 0 when s does not start with a timestamp. */
size_t aw_time_scan_log(const char *s, size_t len, struct aw_log_time *out);

struct aw_tz;

/* What a file's timestamps are resolved against. */
struct aw_time_ctx {
    const struct aw_tz *tz;   /* zone of times without an offset; NULL: UTC */
    int64_t bound_ms;         /* no record of the file is later than this
                                 (its modification time, or the first record
                                 of the next newer rollover); AW_TIME_NONE
                                 when unknown: a time without a year then
                                 stays unknown */
};

/* Records may lie this far after the bound and still count as the bound's
 * year: absorbs a wrong zone (up to a day off) and clock steps. */
#define AW_TIME_YEAR_SLACK_MS INT64_C(86400000)

/* The instant t stands for (AW_TIME_NONE when it cannot be decided).
 * A missing year is inferred as syslog parsers do, record by record: the
 * latest year that does not put the record more than
 * AW_TIME_YEAR_SLACK_MS after ctx->bound_ms (in the zone's wall-clock
 * time).  Over a file that spans less than a year this equals walking
 * back from the bound and stepping back a year whenever the month jumps
 * forward.  A missing offset takes ctx->tz (see aw_tz_local_to_utc() for
 * times skipped or repeated by a daylight-saving change).  *inferred
 * tells whether the year or the zone was guessed. */
int64_t aw_time_resolve(const struct aw_log_time *t, const struct aw_time_ctx *ctx,
                        bool *inferred);

/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (AW_TIME_ISO_MAX bytes).
 * AW_TIME_NONE formats as the empty string. */
void aw_time_format_iso(int64_t ms, char *out);

/* Same without milliseconds, with a space instead of T ("2025-03-11 07:00:01Z"):
 * the human table form. */
void aw_time_format_short(int64_t ms, char *out);

#endif
