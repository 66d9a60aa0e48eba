/*
 * Time zones: turning the local wall-clock time a log record carries into
 * UTC, for records that do not say their offset (an agent.log date such as
 * 'May 16 11:51:05', a ConfigMgr log viewed without its bias).
 *
 * A zone is one of:
 *   - a fixed offset: "UTC", "Z", "GMT", "+01:00", "-0530", "+01",
 *     optionally after "UTC"/"GMT" ("UTC+01:00"); east of UTC is positive
 *     (ISO 8601, not the POSIX TZ sign);
 *   - an IANA zone name ("Europe/Berlin"), read from the TZif file under
 *     $TZDIR or /usr/share/zoneinfo (Windows ships no tzdata: there a name
 *     needs $TZDIR, else it is refused with a message that says to use an
 *     offset);
 *   - the machine's own zone (aw_tz_system): POSIX $TZ as the C library
 *     reads it (":Name", a name, a POSIX rule string such as
 *     "CET-1CEST,M3.5.0,M10.5.0/3"), else /etc/localtime, else UTC;
 *     Windows the system's zone rules with their dynamic (per-year)
 *     daylight-saving dates.
 *
 * A zone is immutable once opened and can be shared by threads.
 */
#ifndef AGENTWATCH_TZ_H
#define AGENTWATCH_TZ_H

#include <stdint.h>

#include "agentwatch/err.h"

/* Longest zone text kept for messages and aw_tz_name(). */
#define AW_TZ_NAME_MAX 128

struct aw_tz;

/* Open the zone spec names (see above).  AW_ESYNTAX for a spec that is no
 * offset and no known zone name (err: "unknown time zone 'X': ..."),
 * AW_EIO when the zone file exists but cannot be read or is damaged.
 * Caller frees with aw_tz_free(). */
int aw_tz_open(const char *spec, struct aw_tz **out, struct aw_err *err);

/* The machine's zone.  tz_env is the value of $TZ (NULL when unset; the
 * caller reads the environment once); ignored on Windows, whose system
 * zone is configured in the registry.  A $TZ that names nothing usable
 * means UTC, as in the C library.  Caller frees with aw_tz_free(). */
int aw_tz_system(const char *tz_env, struct aw_tz **out, struct aw_err *err);

/* Free the zone and set *tz to NULL.  Accepts NULL. */
void aw_tz_free(struct aw_tz **tz);

/* The zone as given ("Europe/Berlin", "+01:00", "system"). */
const char *aw_tz_name(const struct aw_tz *tz);

/* Offset from UTC in force at the instant utc_ms, in seconds east. */
int32_t aw_tz_offset_at(const struct aw_tz *tz, int64_t utc_ms);

/* ms as a person reads it (out holds AW_TIME_ISO_MAX): "YYYY-MM-DD
 * HH:MM:SSZ" when tz is NULL (UTC), else the zone's wall clock with the
 * offset in force then ("...08:00:01+01:00"), so a time on a night the
 * clocks go back is still one instant. */
void aw_tz_format_short(const struct aw_tz *tz, int64_t ms, char *out);

/* The instant at which the zone's clocks read local_ms (a wall-clock time
 * expressed as milliseconds since 1970-01-01 00:00 of that clock).
 * Deterministic where the wall clock is ambiguous:
 *   - a time skipped by a forward change (02:30 on a spring-forward night)
 *     is read with the offset in force before the change, so it lands
 *     after the change by the same distance (03:30 summer time);
 *   - a time that occurs twice (02:30 on a fall-back night) is the first
 *     occurrence (summer time), the earlier instant. */
int64_t aw_tz_local_to_utc(const struct aw_tz *tz, int64_t local_ms);

#endif
