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
 */
#include "agentwatch/timeutil.h"
#include "agentwatch/platform.h"

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

struct civil {
    int year, month, day, hour, minute, second, ms;
};

enum iso_status { ISO_NO, ISO_OK, ISO_RANGE };

static const char *range_field(const struct civil *c)
{
    if (c->month < 1 || c->month > 12) {
        return "month";
    }
    if (c->day < 1 || c->day > days_in_month(c->year, c->month)) {
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

/* ISO-8601 date or date-time at s.  *used gets the bytes consumed. */
static enum iso_status parse_iso(const char *s, size_t len, bool tolerant,
                                 size_t *used, int64_t *out, const char **bad)
{
    struct civil c = {0, 0, 0, 0, 0, 0, 0};
    size_t i = 0, j;
    int off = 0;

    if (!digits_n(s, len, &i, 4, &c.year) || i >= len || s[i] != '-') {
        return ISO_NO;
    }
    i++;
    if (!digits_n(s, len, &i, 2, &c.month) || i >= len || s[i] != '-') {
        return ISO_NO;
    }
    i++;
    if (!digits_n(s, len, &i, 2, &c.day)) {
        return ISO_NO;
    }
    j = i;
    if (j < len && (s[j] == 'T' || s[j] == ' ')) {
        j++;
        if (digits_n(s, len, &j, 2, &c.hour) && j < len && s[j] == ':'
            && (j++, digits_n(s, len, &j, 2, &c.minute))) {
            i = j;
            if (i < len && s[i] == ':') {
                j = i + 1;
                if (digits_n(s, len, &j, 2, &c.second)) {
                    i = j;
                    if (!fraction(s, len, &i, tolerant, &c.ms) && !tolerant) {
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
            if (offset(s, len, &j, tolerant, &off)) {
                i = j;
            }
        } else if (!tolerant) {
            return ISO_NO;
        }
    }
    *bad = range_field(&c);
    if (*bad != NULL) {
        return ISO_RANGE;
    }
    *used = i;
    *out = aw_time_from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second, c.ms)
        - (int64_t)off * 60000;
    return ISO_OK;
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

/* US "M/D/YYYY[ H:MM[:SS[.fffffff]] [AM|PM] [+HH:MM]]". */
static size_t parse_us(const char *s, size_t len, int64_t *out)
{
    struct civil c = {0, 0, 0, 0, 0, 0, 0};
    size_t i = 0, j;
    int off = 0;

    if (!digits_upto(s, len, &i, 2, &c.month) || i >= len || s[i] != '/') {
        return 0;
    }
    i++;
    if (!digits_upto(s, len, &i, 2, &c.day) || i >= len || s[i] != '/') {
        return 0;
    }
    i++;
    if (!digits_n(s, len, &i, 4, &c.year)) {
        return 0;
    }
    j = i;
    if (j < len && s[j] == ' ') {
        j++;
        if (digits_upto(s, len, &j, 2, &c.hour) && j < len && s[j] == ':'
            && (j++, digits_n(s, len, &j, 2, &c.minute))) {
            i = j;
            if (i + 1 < len && s[i] == ':' && is_digit(s[i + 1])) {
                j = i + 1;
                if (!digits_n(s, len, &j, 2, &c.second)) {
                    return 0;
                }
                i = j;
                (void)fraction(s, len, &i, true, &c.ms);
            }
            j = i;
            while (j < len && s[j] == ' ' && j - i < 2) {
                j++;
            }
            if (word_ci(s, len, j, "AM") || word_ci(s, len, j, "PM")) {
                bool pm = s[j] == 'P' || s[j] == 'p';
                if (c.hour < 1 || c.hour > 12) {
                    return 0;
                }
                c.hour = (c.hour % 12) + (pm ? 12 : 0);
                i = j + 2;
            }
            j = i;
            while (j < len && s[j] == ' ' && j - i < 2) {
                j++;
            }
            if (offset(s, len, &j, true, &off)) {
                i = j;
            }
        }
    }
    if (range_field(&c) != NULL) {
        return 0;
    }
    *out = aw_time_from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second, c.ms)
        - (int64_t)off * 60000;
    return i;
}

size_t aw_time_parse_log(const char *s, size_t len, int64_t *out_ms)
{
    size_t lead = 0, used = 0;
    int64_t ms = 0;
    const char *bad = NULL;

    if (s == NULL) {
        return 0;
    }
    while (lead < len && (s[lead] == ' ' || s[lead] == '\t')) {
        lead++;
    }
    s += lead;
    len -= lead;
    if (len >= 5 && s[4] == '-') {
        if (parse_iso(s, len, true, &used, &ms, &bad) != ISO_OK) {
            return 0;
        }
    } else {
        used = parse_us(s, len, &ms);
        if (used == 0) {
            return 0;
        }
    }
    if (out_ms != NULL) {
        *out_ms = ms;
    }
    return lead + used;
}

#define WHEN_EXPECTED "expected a duration (30m, 24h, 7d) or an ISO-8601 date/time"

int aw_time_parse_when(const char *text, int64_t now_ms, int64_t *out_ms,
                       struct aw_err *err)
{
    size_t len, i = 0, used = 0;
    int64_t n = 0, unit, ms = 0;
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
    switch (parse_iso(text, len, false, &used, &ms, &bad)) {
    case ISO_OK:
        if (used == len) {
            *out_ms = ms;
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

void aw_time_format_iso(int64_t ms, char *out)
{
    format_time(ms, out, true);
}

void aw_time_format_short(int64_t ms, char *out)
{
    format_time(ms, out, false);
}
