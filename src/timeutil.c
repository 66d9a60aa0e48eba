/*
 * Time values, parsing and formatting (see timeutil.h).
 *
 * Design decisions:
 * - All arithmetic is done on int64_t milliseconds with the civil-from-days
 *   and days-from-civil algorithms (H. Hinnant).  No timegm(), mktime() or
 *   locale: results must not depend on the TZ variable or the C library,
 *   and dates before 1970 must work (floor division everywhere).
 * - One ISO-8601 parser serves both the strict user-input path and the
 *   tolerant log path; a flag enables the tolerant extras (',' as fraction
 *   separator, blanks before the offset, one-digit offset hours, a date
 *   without time) and the strict caller insists that the whole string is
 *   consumed.
 * - Fractions of any length are accepted; milliseconds are kept and the
 *   rest is truncated, never rounded (rounding could carry into the next
 *   second, minute, ... day).
 * - Log timestamps are scanned into their fields first (aw_time_scan_log)
 *   and resolved to an instant separately (aw_time_resolve): the reader
 *   parses, the caller knows the file's zone and year bound.  The year of
 *   a date without one is decided per record against the bound, because
 *   the reader streams forward and cannot look back from the end of a
 *   file it is still reading; for files spanning less than a year that
 *   gives the same years as the backward walk syslog tools do.
 */
#include "agentwatch/timeutil.h"
#include "agentwatch/platform.h"
#include "agentwatch/tz.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_SEC INT64_C(1000)
#define MS_PER_DAY INT64_C(86400000)

int64_t aw_time_now_ms(void)
{
    /* INT64_MIN on failure, which is AW_TIME_NONE */
    return aw_os_now_ms();
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t aw_time_from_civil(int year, int month, int day, int hour, int minute,
                           int second, int millis)
{
    return days_from_civil(year, month, day) * MS_PER_DAY
        + (int64_t)hour * 3600000 + (int64_t)minute * 60000
        + (int64_t)second * MS_PER_SEC + millis;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits at s[*i]; advances *i. */
static bool digits_n(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;

    if (len - *i < (size_t)n) {
        return false;
    }
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (!is_digit(c)) {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return true;
}

/* One to max digits at s[*i]; advances *i. */
static bool digits_upto(const char *s, size_t len, size_t *i, int max, int *out)
{
    int v = 0, n = 0;

    while (*i < len && n < max && is_digit(s[*i])) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        n++;
    }
    *out = v;
    return n > 0;
}

/* ".fff..." (or ",fff" when comma): milliseconds, truncated.  Returns false
 * when a separator is not followed by a digit (the caller then stops before
 * the separator). */
static bool fraction(const char *s, size_t len, size_t *i, bool comma, int *ms)
{
    size_t j = *i;
    int v = 0, n = 0;

    if (j >= len || !(s[j] == '.' || (comma && s[j] == ','))) {
        *ms = 0;
        return true;
    }
    j++;
    if (j >= len || !is_digit(s[j])) {
        *ms = 0;
        return false;
    }
    while (j < len && is_digit(s[j])) {
        if (n < 3) {
            v = v * 10 + (s[j] - '0');
            n++;
        }
        j++;
    }
    while (n < 3) {
        v *= 10;
        n++;
    }
    *ms = v;
    *i = j;
    return true;
}

/* "Z", "+HH:MM", "+HHMM" (tolerant: also "+H:MM").  Minutes east of UTC
 * into *off; advances *i only on success.  A bare "+H" or "+HH" is never an
 * offset: in a log line it is more likely a count ("-1 retries"). */
static bool offset(const char *s, size_t len, size_t *i, bool tolerant, int *off)
{
    size_t j = *i, k;
    int sign, h = 0, m = 0;

    if (j < len && s[j] == 'Z') {
        *i = j + 1;
        *off = 0;
        return true;
    }
    if (j >= len || (s[j] != '+' && s[j] != '-')) {
        return false;
    }
    sign = s[j] == '-' ? -1 : 1;
    j++;
    k = j;
    while (k < len && k - j < 5 && is_digit(s[k])) {
        k++;
    }
    if (k < len && s[k] == ':') {
        if (!(k - j == 2 || (tolerant && k - j == 1))) {
            return false;
        }
        (void)digits_upto(s, len, &j, 2, &h);
        j++;
        if (!digits_n(s, len, &j, 2, &m)) {
            return false;
        }
    } else if (k - j == 4) {
        (void)digits_n(s, len, &j, 2, &h);
        (void)digits_n(s, len, &j, 2, &m);
    } else {
        return false;
    }
    if (h > 23 || m > 59) {
        return false;
    }
    *off = sign * (h * 60 + m);
    *i = j;
    return true;
}

enum iso_status { ISO_NO, ISO_OK, ISO_RANGE };

/* The field out of range in c, or NULL.  A date without a year is checked
 * against a leap year (Feb 29 exists in some year). */
static const char *range_field(const struct aw_civil *c, bool has_year)
{
    if (c->month < 1 || c->month > 12) {
        return "month";
    }
    if (c->day < 1 || c->day > days_in_month(has_year ? c->year : 2000, c->month)) {
        return "day";
    }
    if (c->hour > 23) {
        return "hour";
    }
    if (c->minute > 59) {
        return "minute";
    }
    if (c->second > 59) {
        return "second";
    }
    return NULL;
}

static void log_time_init(struct aw_log_time *t)
{
    memset(t, 0, sizeof(*t));
}

/* ISO-8601 date or date-time at s.  *used gets the bytes consumed. */
static enum iso_status parse_iso(const char *s, size_t len, bool tolerant, size_t *used,
                                 struct aw_log_time *t, const char **bad)
{
    struct aw_civil *c = &t->c;
    size_t i = 0, j;

    log_time_init(t);
    t->has_year = true;
    if (!digits_n(s, len, &i, 4, &c->year) || i >= len || s[i] != '-') {
        return ISO_NO;
    }
    i++;
    if (!digits_n(s, len, &i, 2, &c->month) || i >= len || s[i] != '-') {
        return ISO_NO;
    }
    i++;
    if (!digits_n(s, len, &i, 2, &c->day)) {
        return ISO_NO;
    }
    j = i;
    if (j < len && (s[j] == 'T' || s[j] == ' ')) {
        j++;
        if (digits_n(s, len, &j, 2, &c->hour) && j < len && s[j] == ':'
            && (j++, digits_n(s, len, &j, 2, &c->minute))) {
            i = j;
            if (i < len && s[i] == ':') {
                j = i + 1;
                if (digits_n(s, len, &j, 2, &c->second)) {
                    i = j;
                    if (!fraction(s, len, &i, tolerant, &c->ms) && !tolerant) {
                        return ISO_NO;
                    }
                } else if (!tolerant) {
                    return ISO_NO;
                }
            }
            j = i;
            if (tolerant) {
                while (j < len && s[j] == ' ' && j - i < 2) {
                    j++;
                }
            }
            if (offset(s, len, &j, tolerant, &t->offset_min)) {
                t->has_offset = true;
                i = j;
            }
        } else if (!tolerant) {
            return ISO_NO;
        }
    }
    *bad = range_field(c, true);
    if (*bad != NULL) {
        return ISO_RANGE;
    }
    *used = i;
    return ISO_OK;
}

static int64_t log_time_utc(const struct aw_log_time *t)
{
    return aw_time_from_civil(t->c.year, t->c.month, t->c.day, t->c.hour, t->c.minute,
                              t->c.second, t->c.ms)
        - (int64_t)(t->has_offset ? t->offset_min : 0) * 60000;
}

static bool word_ci(const char *s, size_t len, size_t i, const char *w)
{
    size_t n = strlen(w);

    if (len - i < n) {
        return false;
    }
    for (size_t k = 0; k < n; k++) {
        char c = s[i + k];
        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        }
        if (c != w[k]) {
            return false;
        }
    }
    return i + n == len || !((s[i + n] >= 'A' && s[i + n] <= 'Z')
                             || (s[i + n] >= 'a' && s[i + n] <= 'z'));
}

/* At most two blanks at s[*i]; true when there was at least one. */
static bool blanks(const char *s, size_t len, size_t *i)
{
    size_t j = *i;

    while (j < len && s[j] == ' ' && j - *i < 2) {
        j++;
    }
    if (j == *i) {
        return false;
    }
    *i = j;
    return true;
}

enum part { PART_NONE, PART_OK, PART_BAD };

/* "H:MM[:SS[.f]] [AM|PM] [offset]" at s[*i]; advances *i on success.
 * PART_NONE when no time starts there, PART_BAD when one starts but is
 * malformed (13:00 PM): the whole timestamp is then refused rather than
 * read as a date alone. */
static enum part time_part(const char *s, size_t len, size_t *i, struct aw_log_time *t)
{
    struct aw_civil *c = &t->c;
    size_t j = *i, k;

    if (!digits_upto(s, len, &j, 2, &c->hour) || j >= len || s[j] != ':') {
        c->hour = 0;
        return PART_NONE;
    }
    j++;
    if (!digits_n(s, len, &j, 2, &c->minute)) {
        return PART_BAD;
    }
    if (j + 1 < len && s[j] == ':' && is_digit(s[j + 1])) {
        j++;
        if (!digits_n(s, len, &j, 2, &c->second)) {
            return PART_BAD;
        }
        (void)fraction(s, len, &j, true, &c->ms);
    }
    k = j;
    (void)blanks(s, len, &k);
    if (word_ci(s, len, k, "AM") || word_ci(s, len, k, "PM")) {
        bool pm = s[k] == 'P' || s[k] == 'p';
        if (c->hour < 1 || c->hour > 12) {
            return PART_BAD;
        }
        c->hour = (c->hour % 12) + (pm ? 12 : 0);
        j = k + 2;
    }
    k = j;
    (void)blanks(s, len, &k);
    if (offset(s, len, &k, true, &t->offset_min)) {
        t->has_offset = true;
        j = k;
    }
    *i = j;
    return PART_OK;
}

/* An optional time after a blank at s[*i] (advancing *i); false when a
 * time starts there but is malformed. */
static bool optional_time(const char *s, size_t len, size_t *i, struct aw_log_time *t)
{
    size_t j = *i;
    enum part p;

    if (!blanks(s, len, &j)) {
        return true;
    }
    p = time_part(s, len, &j, t);
    if (p == PART_OK) {
        *i = j;
    }
    return p != PART_BAD;
}

/* Numeric dates other than ISO: "Y/M/D", "M/D/Y", "D/M/Y", "M-D-Y",
 * "D.M.Y" (see aw_time_scan_log() for which order is taken), then an
 * optional time after a blank (or ", "). */
static size_t parse_numeric(const char *s, size_t len, struct aw_log_time *t)
{
    struct aw_civil *c = &t->c;
    size_t i = 0, j;
    int a = 0, b = 0;
    char sep;

    if (len > 4 && digits_n(s, len, &i, 4, &c->year) && (s[4] == '/' || s[4] == '.')) {
        sep = s[4];
        i = 5;
        if (!digits_upto(s, len, &i, 2, &c->month) || i >= len || s[i] != sep) {
            return 0;
        }
        i++;
        if (!digits_upto(s, len, &i, 2, &c->day)) {
            return 0;
        }
    } else {
        i = 0;
        if (!digits_upto(s, len, &i, 2, &a) || i >= len) {
            return 0;
        }
        sep = s[i];
        if (sep != '/' && sep != '-' && sep != '.') {
            return 0;
        }
        i++;
        if (!digits_upto(s, len, &i, 2, &b) || i >= len || s[i] != sep) {
            return 0;
        }
        i++;
        if (!digits_n(s, len, &i, 4, &c->year) || (i < len && is_digit(s[i]))) {
            return 0;
        }
        /* Dotted dates are day-first in every locale that writes them; a
         * first field above 12 can only be a day.  Otherwise month first,
         * as the US locale, the Log Viewer and ConfigMgr write. */
        if (sep == '.' || (a > 12 && b <= 12)) {
            c->day = a;
            c->month = b;
        } else {
            c->month = a;
            c->day = b;
        }
    }
    t->has_year = true;
    j = i;
    if (j < len && s[j] == ',') {
        j++;
    }
    if (j < len && s[j] == ' ') {
        if (!optional_time(s, len, &j, t)) {
            return 0;
        }
        if (j > i + 2) {
            i = j;
        }
    }
    return range_field(c, true) == NULL ? i : 0;
}

/* A month name (three letters or the full English name) at s[*i]:
 * 1-12, advancing *i; 0 when none. */
static int month_name(const char *s, size_t len, size_t *i)
{
    static const char *const full[12] = {
        "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
        "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"
    };

    for (int m = 0; m < 12; m++) {
        char abbr[4];
        memcpy(abbr, full[m], 3);
        abbr[3] = '\0';
        if (word_ci(s, len, *i, full[m])) {
            *i += strlen(full[m]);
            return m + 1;
        }
        if (word_ci(s, len, *i, abbr)) {
            *i += 3;
            return m + 1;
        }
    }
    return 0;
}

static bool weekday_name(const char *s, size_t len, size_t *i)
{
    static const char *const names[14] = {
        "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN", "MONDAY", "TUESDAY",
        "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"
    };

    for (int k = 0; k < 14; k++) {
        if (word_ci(s, len, *i, names[k])) {
            *i += strlen(names[k]);
            return true;
        }
    }
    return false;
}

/* Four digits that are a year: not followed by another digit or ':'. */
static bool year_word(const char *s, size_t len, size_t *i, int *year)
{
    size_t j = *i;

    if (!digits_n(s, len, &j, 4, year) || (j < len && (is_digit(s[j]) || s[j] == ':'))) {
        return false;
    }
    *i = j;
    return true;
}

/* Dates with a month name: "[Www ]Mmm D[,] [YYYY ]H:MM..[ YYYY]" and
 * "D Mmm YYYY[ H:MM..]" (also with '-' between the date fields).  Without
 * a year a time is required: "May 16" alone is prose, not a timestamp. */
static size_t parse_named(const char *s, size_t len, struct aw_log_time *t)
{
    struct aw_civil *c = &t->c;
    size_t i = 0, j;

    if (weekday_name(s, len, &i)) {
        if (i < len && s[i] == ',') {
            i++;
        }
        if (!blanks(s, len, &i)) {
            return 0;
        }
    }
    c->month = month_name(s, len, &i);
    if (c->month == 0) {
        return 0;
    }
    if (!blanks(s, len, &i) || !digits_upto(s, len, &i, 2, &c->day)) {
        return 0;
    }
    if (i < len && s[i] == ',') {
        i++;
    }
    if (!blanks(s, len, &i)) {
        return 0;
    }
    j = i;
    if (year_word(s, len, &j, &c->year)) {
        t->has_year = true;
        i = j;
        if (!optional_time(s, len, &i, t)) {
            return 0;
        }
    } else {
        if (time_part(s, len, &i, t) != PART_OK) {
            return 0;
        }
        j = i;
        if (blanks(s, len, &j) && year_word(s, len, &j, &c->year)) {
            t->has_year = true;
            i = j;
        }
    }
    return range_field(c, t->has_year) == NULL ? i : 0;
}

/* "D Mmm YYYY[ H:MM..]" or "D-Mmm-YYYY[ H:MM..]". */
static size_t parse_day_name(const char *s, size_t len, struct aw_log_time *t)
{
    struct aw_civil *c = &t->c;
    size_t i = 0;
    char sep;

    if (!digits_upto(s, len, &i, 2, &c->day) || i >= len || (s[i] != ' ' && s[i] != '-')) {
        return 0;
    }
    sep = s[i++];
    c->month = month_name(s, len, &i);
    if (c->month == 0 || i >= len || s[i] != sep) {
        return 0;
    }
    i++;
    if (!year_word(s, len, &i, &c->year)) {
        return 0;
    }
    t->has_year = true;
    if (!optional_time(s, len, &i, t)) {
        return 0;
    }
    return range_field(c, true) == NULL ? i : 0;
}

size_t aw_time_scan_log(const char *s, size_t len, struct aw_log_time *out)
{
    size_t lead = 0, used = 0;
    const char *bad = NULL;

    if (s == NULL) {
        return 0;
    }
    while (lead < len && (s[lead] == ' ' || s[lead] == '\t')) {
        lead++;
    }
    s += lead;
    len -= lead;
    log_time_init(out);
    if (len >= 5 && s[4] == '-' && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2])
        && is_digit(s[3])) {
        if (parse_iso(s, len, true, &used, out, &bad) != ISO_OK) {
            used = 0;
        }
    } else if (len > 0 && is_digit(s[0])) {
        used = parse_numeric(s, len, out);
        if (used == 0) {
            log_time_init(out);
            used = parse_day_name(s, len, out);
        }
    } else {
        used = parse_named(s, len, out);
    }
    if (used == 0) {
        log_time_init(out);
        return 0;
    }
    return lead + used;
}

size_t aw_time_parse_log(const char *s, size_t len, int64_t *out_ms)
{
    struct aw_log_time t;
    size_t used = aw_time_scan_log(s, len, &t);

    if (used == 0 || !t.has_year) {
        return 0;
    }
    if (out_ms != NULL) {
        *out_ms = log_time_utc(&t);
    }
    return used;
}

int64_t aw_time_resolve(const struct aw_log_time *t, const struct aw_time_ctx *ctx,
                        bool *inferred)
{
    const struct aw_tz *tz = ctx != NULL ? ctx->tz : NULL;
    struct aw_civil c = t->c;
    int64_t local;

    *inferred = !t->has_year || !t->has_offset;
    if (!t->has_year) {
        int64_t bound = ctx != NULL ? ctx->bound_ms : AW_TIME_NONE, blocal;
        struct aw_civil bc;
        bool found = false;

        if (bound == AW_TIME_NONE) {
            return AW_TIME_NONE;
        }
        blocal = bound + (t->has_offset ? (int64_t)t->offset_min * 60000
                          : tz != NULL ? (int64_t)aw_tz_offset_at(tz, bound) * 1000 : 0);
        aw_time_to_civil(blocal, &bc);
        /* The latest year not after the bound; a Feb 29 looks back up to
         * the last leap year (eight years across a skipped century). */
        for (int y = bc.year; y >= bc.year - 8 && !found; y--) {
            if (c.day > days_in_month(y, c.month)) {
                continue;
            }
            local = aw_time_from_civil(y, c.month, c.day, c.hour, c.minute, c.second, c.ms);
            if (local <= blocal + AW_TIME_YEAR_SLACK_MS) {
                c.year = y;
                found = true;
            }
        }
        if (!found) {
            return AW_TIME_NONE;
        }
    }
    local = aw_time_from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second, c.ms);
    if (t->has_offset) {
        return local - (int64_t)t->offset_min * 60000;
    }
    return tz != NULL ? aw_tz_local_to_utc(tz, local) : local;
}

#define WHEN_EXPECTED "expected a duration (30m, 24h, 7d) or an ISO-8601 date/time"

static int parse_when(const char *text, int64_t now_ms, int64_t *out_ms, struct aw_err *err);

/* Every WHEN, a duration or a date, is checked here, in one place: it
 * must be a time the ISO-8601 formats print with four-digit years
 * (0001-01-01 to 9999-12-31), so that "99999999999d" is refused rather
 * than reported as the year -273788674. */
int aw_time_parse_when(const char *text, int64_t now_ms, int64_t *out_ms,
                       struct aw_err *err)
{
    int64_t ms = 0;
    int rc = parse_when(text, now_ms, &ms, err);

    if (rc != AW_OK) {
        return rc;
    }
    if (ms < aw_time_from_civil(1, 1, 1, 0, 0, 0, 0) ||
        ms > aw_time_from_civil(9999, 12, 31, 23, 59, 59, 999)) {
        return aw_err_set(err, AW_ESYNTAX, "invalid time '%.200s': out of range (years 0001 to"
                          " 9999)", text);
    }
    *out_ms = ms;
    return AW_OK;
}

static int parse_when(const char *text, int64_t now_ms, int64_t *out_ms, struct aw_err *err)
{
    size_t len, i = 0, used = 0;
    int64_t n = 0, unit;
    struct aw_log_time t;
    const char *bad = NULL;

    if (text == NULL) {
        return aw_err_set(err, AW_ESYNTAX, "invalid time '': " WHEN_EXPECTED);
    }
    len = strlen(text);
    while (i < len && is_digit(text[i])) {
        i++;
    }
    if (i > 0 && i + 1 == len) {
        switch (text[i]) {
        case 's': unit = MS_PER_SEC; break;
        case 'm': unit = 60 * MS_PER_SEC; break;
        case 'h': unit = 3600 * MS_PER_SEC; break;
        case 'd': unit = MS_PER_DAY; break;
        case 'w': unit = 7 * MS_PER_DAY; break;
        default: unit = 0; break;
        }
        if (unit != 0) {
            for (size_t k = 0; k < i; k++) {
                int d = text[k] - '0';
                if (n > (INT64_MAX - d) / 10) {
                    return aw_err_set(err, AW_ESYNTAX,
                                      "invalid time '%.200s': duration too large", text);
                }
                n = n * 10 + d;
            }
            if (n == 0) {
                return aw_err_set(err, AW_ESYNTAX,
                                  "invalid time '%.200s': a duration must be positive", text);
            }
            /* now - n*unit must stay a representable time (and not NONE). */
            if (n > INT64_MAX / unit || now_ms < INT64_MIN + 1 + n * unit) {
                return aw_err_set(err, AW_ESYNTAX,
                                  "invalid time '%.200s': duration too large", text);
            }
            *out_ms = now_ms - n * unit;
            return AW_OK;
        }
    }
    switch (parse_iso(text, len, false, &used, &t, &bad)) {
    case ISO_OK:
        if (used == len) {
            *out_ms = log_time_utc(&t);
            return AW_OK;
        }
        break;
    case ISO_RANGE:
        return aw_err_set(err, AW_ESYNTAX, "invalid time '%.200s': %s out of range", text, bad);
    case ISO_NO:
        break;
    }
    return aw_err_set(err, AW_ESYNTAX, "invalid time '%.200s': " WHEN_EXPECTED, text);
}

static void split(int64_t ms, int64_t *y, int *mo, int *d, int *h, int *mi, int *s, int *f)
{
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY;

    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    civil_from_days(days, y, mo, d);
    *h = (int)(rem / 3600000);
    *mi = (int)(rem / 60000 % 60);
    *s = (int)(rem / 1000 % 60);
    *f = (int)(rem % 1000);
}

/* Format ms with one of the two layouts of timeutil.h. */
static void format_time(int64_t ms, char *out, bool iso)
{
    int64_t y;
    int mo, d, h, mi, s, f;

    if (ms == AW_TIME_NONE) {
        out[0] = '\0';
        return;
    }
    split(ms, &y, &mo, &d, &h, &mi, &s, &f);
    if (iso) {
        snprintf(out, AW_TIME_ISO_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 (long long)y, mo, d, h, mi, s, f);
    } else {
        snprintf(out, AW_TIME_ISO_MAX, "%04lld-%02d-%02d %02d:%02d:%02dZ",
                 (long long)y, mo, d, h, mi, s);
    }
}

void aw_time_to_civil(int64_t ms, struct aw_civil *out)
{
    int64_t y;

    split(ms, &y, &out->month, &out->day, &out->hour, &out->minute, &out->second, &out->ms);
    out->year = (int)y;
}

void aw_time_format_iso(int64_t ms, char *out)
{
    format_time(ms, out, true);
}

void aw_time_format_short(int64_t ms, char *out)
{
    format_time(ms, out, false);
}
