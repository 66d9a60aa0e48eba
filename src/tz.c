/*
 * Time zones (see tz.h).
 *
 * Design decisions:
 * - Our own TZif reader (RFC 8536, versions 1-4) and POSIX TZ rule
 *   evaluator instead of setenv("TZ") + mktime()/localtime_r(): the TZ
 *   variable is process-global state that every thread and every libc
 *   time call shares, so changing it for --timezone would race with
 *   anything else that formats a time, and mktime()'s handling of a
 *   skipped or repeated wall-clock time differs between C libraries.  A
 *   zone here is a plain immutable value; results depend only on the zone
 *   file, are the same on every libc, and are tested with real zone files.
 * - The reader is bounded: the file is read up to ZONE_FILE_MAX bytes,
 *   every count is checked against the bytes that are there before
 *   anything is indexed, and type indices are validated once at load.
 *   Leap-second records are skipped ("right/" zones are then off by the
 *   accumulated leap seconds, which no agent log is precise to anyway).
 * - Instants past the last transition use the file's footer rule (v2+),
 *   which modern "slim" zone files rely on for every date after the
 *   rules became regular.  The same evaluator serves a POSIX rule given
 *   in $TZ.
 * - Windows: the system zone is asked per instant with
 *   SystemTimeToTzSpecificLocalTimeEx and the dynamic zone information,
 *   so historical years use that year's daylight-saving dates.  Windows
 *   has no IANA database, so a name is refused there unless $TZDIR names
 *   a tzdata folder (fixed offsets work everywhere); the registry's zone
 *   keys are not mapped to IANA names.
 * - local_to_utc is written once, over offset_at: try the offsets in
 *   force a day before and a day after the wall-clock time (no zone
 *   changes its offset twice within two days) and keep a candidate that
 *   reproduces itself; see tz.h for the gap and overlap rules.
 */
#include "agentwatch/tz.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/platform.h"
#include "agentwatch/timeutil.h"

#define ZONE_FILE_MAX (256u * 1024u)
#define TYPES_MAX 256
#define RULE_TEXT_MAX 120
#define DAY_S INT64_C(86400)

/* One date of a POSIX rule: "Jn" (1-365, no Feb 29), "n" (0-365), or
 * "Mm.w.d" (weekday d of week w of month m; w 5 = last); at secs local
 * time (may be negative or beyond 24 h, TZif v3). */
struct rule_date {
    char kind;                /* 'J', 'N', 'M' */
    int a, b, c;              /* J/N: a = day; M: a = month, b = week, c = weekday */
    int32_t secs;
};

struct rule {
    int32_t std_off;          /* seconds east */
    int32_t dst_off;
    bool has_dst;
    struct rule_date start, end;
};

enum tz_kind { TZ_FIXED, TZ_DATA, TZ_RULE, TZ_WINDOWS };

struct aw_tz {
    enum tz_kind kind;
    char name[AW_TZ_NAME_MAX];
    int32_t fixed;            /* TZ_FIXED */
    /* TZ_DATA */
    int64_t *trans;           /* transition instants, seconds, ascending */
    unsigned char *trans_type;
    size_t ntrans;
    int32_t type_off[TYPES_MAX];
    size_t ntypes;
    bool has_footer;
    struct rule footer;       /* TZ_DATA with has_footer, and TZ_RULE */
};

/* ---- POSIX TZ rule strings ------------------------------------------ */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static bool rule_name(const char **p)
{
    const char *s = *p;
    size_t n = 0;

    if (*s == '<') {
        s++;
        while (*s != '\0' && *s != '>' && n < 32) {
            if (!is_alpha(*s) && !is_digit(*s) && *s != '+' && *s != '-') {
                return false;
            }
            s++;
            n++;
        }
        if (*s != '>' || n < 3) {
            return false;
        }
        *p = s + 1;
        return true;
    }
    while (is_alpha(*s) && n < 32) {
        s++;
        n++;
    }
    if (n < 3) {
        return false;
    }
    *p = s;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh up to max_h; seconds, sign as written. */
static bool rule_hms(const char **p, int max_h, int32_t *out)
{
    const char *s = *p;
    int sign = 1, part[3] = {0, 0, 0}, k = 0;

    if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    for (;;) {
        int v = 0, n = 0;
        while (is_digit(*s) && n < 3) {
            v = v * 10 + (*s - '0');
            s++;
            n++;
        }
        if (n == 0 || (k > 0 && (n != 2 || v > 59))) {
            return false;
        }
        part[k++] = v;
        if (k == 3 || *s != ':') {
            break;
        }
        s++;
    }
    if (part[0] > max_h) {
        return false;
    }
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    *p = s;
    return true;
}

static bool rule_num(const char **p, int lo, int hi, int *out)
{
    const char *s = *p;
    int v = 0, n = 0;

    while (is_digit(*s) && n < 4) {
        v = v * 10 + (*s - '0');
        s++;
        n++;
    }
    if (n == 0 || v < lo || v > hi) {
        return false;
    }
    *out = v;
    *p = s;
    return true;
}

static bool rule_date(const char **p, struct rule_date *d)
{
    const char *s = *p;

    d->secs = 7200;   /* POSIX default: 02:00 */
    if (*s == 'M') {
        s++;
        d->kind = 'M';
        if (!rule_num(&s, 1, 12, &d->a) || *s++ != '.' || !rule_num(&s, 1, 5, &d->b)
            || *s++ != '.' || !rule_num(&s, 0, 6, &d->c)) {
            return false;
        }
    } else if (*s == 'J') {
        s++;
        d->kind = 'J';
        if (!rule_num(&s, 1, 365, &d->a)) {
            return false;
        }
    } else {
        d->kind = 'N';
        if (!rule_num(&s, 0, 365, &d->a)) {
            return false;
        }
    }
    if (*s == '/' && (s++, !rule_hms(&s, 167, &d->secs))) {
        return false;
    }
    *p = s;
    return true;
}

/* Parse a whole POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3", "UTC0",
 * "<+0330>-3:30"). */
static bool rule_parse(const char *s, struct rule *r)
{
    int32_t v;

    memset(r, 0, sizeof(*r));
    if (!rule_name(&s) || !rule_hms(&s, 24, &v)) {
        return false;
    }
    r->std_off = -v;          /* POSIX offsets are west-positive */
    if (*s == '\0') {
        return true;
    }
    if (!rule_name(&s)) {
        return false;
    }
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!rule_hms(&s, 24, &v)) {
            return false;
        }
        r->dst_off = -v;
    }
    if (*s == '\0') {
        /* No dates: the C library's default, the US rules since 2007. */
        r->start = (struct rule_date){ 'M', 3, 2, 0, 7200 };
        r->end = (struct rule_date){ 'M', 11, 1, 0, 7200 };
        return true;
    }
    if (*s++ != ',' || !rule_date(&s, &r->start) || *s++ != ',' || !rule_date(&s, &r->end)) {
        return false;
    }
    return *s == '\0';
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_of(int64_t y, int m, int d)
{
    return aw_time_from_civil((int)y, m, d, 0, 0, 0, 0) / (DAY_S * 1000);
}

/* Seconds since 1970 of the rule date in year y, in local wall time. */
static int64_t rule_date_local(const struct rule_date *d, int64_t y)
{
    int64_t day;

    if (d->kind == 'J') {
        day = days_of(y, 1, 1) + d->a - 1 + (leap(y) && d->a >= 60);
    } else if (d->kind == 'N') {
        day = days_of(y, 1, 1) + d->a;
    } else {
        static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t first = days_of(y, d->a, 1);
        int len = dim[d->a - 1] + (d->a == 2 && leap(y));
        /* 1970-01-01 was a Thursday (4). */
        int wd = (int)(((first % 7) + 7 + 4) % 7);
        int dom = 1 + (d->c - wd + 7) % 7 + (d->b - 1) * 7;
        while (dom > len) {
            dom -= 7;
        }
        day = first + dom - 1;
    }
    return day * DAY_S + d->secs;
}

static int32_t rule_offset(const struct rule *r, int64_t t)
{
    struct aw_civil c;
    int64_t start, end;

    if (!r->has_dst) {
        return r->std_off;
    }
    aw_time_to_civil((t + r->std_off) * 1000, &c);
    /* Start is written in standard time, end in daylight time. */
    start = rule_date_local(&r->start, c.year) - r->std_off;
    end = rule_date_local(&r->end, c.year) - r->dst_off;
    if (start < end) {
        return t >= start && t < end ? r->dst_off : r->std_off;
    }
    /* Southern hemisphere: daylight time spans the new year. */
    return t >= end && t < start ? r->std_off : r->dst_off;
}

/* ---- TZif ----------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

/* The header at p (44 bytes, checked by the caller) and the size of the
 * data block it announces with times of tsize bytes. */
static bool tzif_header(const unsigned char *p, size_t tsize, struct tzif_counts *c,
                        size_t *block)
{
    uint64_t n;

    if (memcmp(p, "TZif", 4) != 0) {
        return false;
    }
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    if (c->type == 0 || c->type > TYPES_MAX || c->time > ZONE_FILE_MAX
        || c->leap > ZONE_FILE_MAX || c->chars > ZONE_FILE_MAX
        || c->isut > TYPES_MAX || c->isstd > TYPES_MAX) {
        return false;
    }
    n = (uint64_t)c->time * (tsize + 1) + (uint64_t)c->type * 6 + c->chars
        + (uint64_t)c->leap * (tsize + 4) + c->isstd + c->isut;
    *block = (size_t)n;
    return true;
}

/* Parse TZif bytes into tz (kind TZ_DATA).  false when damaged. */
static bool tzif_parse(const unsigned char *buf, size_t len, struct aw_tz *tz)
{
    struct tzif_counts c;
    const unsigned char *p;
    size_t block, tsize = 4, rest;

    if (len < 44 || !tzif_header(buf, 4, &c, &block) || block > len - 44) {
        return false;
    }
    p = buf + 44;
    if (buf[4] >= '2') {
        /* Skip the 32-bit block; the 64-bit one follows with its header. */
        p += block;
        rest = len - (size_t)(p - buf);
        if (rest < 44 || !tzif_header(p, 8, &c, &block) || block > rest - 44) {
            return false;
        }
        p += 44;
        tsize = 8;
    }
    tz->ntrans = c.time;
    tz->ntypes = c.type;
    tz->trans = malloc((c.time ? c.time : 1) * sizeof(*tz->trans));
    tz->trans_type = malloc(c.time ? c.time : 1);
    if (tz->trans == NULL || tz->trans_type == NULL) {
        return false;
    }
    for (size_t i = 0; i < c.time; i++) {
        tz->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1]) {
            return false;
        }
    }
    p += (size_t)c.time * tsize;
    for (size_t i = 0; i < c.time; i++) {
        tz->trans_type[i] = p[i];
        if (p[i] >= c.type) {
            return false;
        }
    }
    p += c.time;
    for (size_t i = 0; i < c.type; i++) {
        int32_t off = (int32_t)be32(p + i * 6);
        if (off < -25 * 3600 || off > 26 * 3600) {
            return false;
        }
        tz->type_off[i] = off;
    }
    p += (size_t)c.type * 6 + c.chars + (size_t)c.leap * (tsize + 4) + c.isstd + c.isut;
    /* v2+ footer: "\n<POSIX TZ string>\n" (may be empty). */
    rest = len - (size_t)(p - buf);
    if (tsize == 8 && rest >= 2 && p[0] == '\n') {
        char text[RULE_TEXT_MAX + 1];
        size_t n = 0;
        while (n < rest - 1 && n < RULE_TEXT_MAX && p[1 + n] != '\n') {
            text[n] = (char)p[1 + n];
            n++;
        }
        text[n] = '\0';
        tz->has_footer = n > 0 && rule_parse(text, &tz->footer);
    }
    return true;
}

static int32_t data_offset(const struct aw_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->ntrans;

    if (tz->ntrans == 0 || t < tz->trans[0]) {
        if (tz->ntrans == 0 && tz->has_footer) {
            return rule_offset(&tz->footer, t);
        }
        return tz->type_off[0];
    }
    if (t >= tz->trans[tz->ntrans - 1] && tz->has_footer) {
        return rule_offset(&tz->footer, t);
    }
    /* The last transition at or before t. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return tz->type_off[tz->trans_type[lo]];
}

/* ---- opening -------------------------------------------------------- */

static struct aw_tz *tz_new(enum tz_kind kind, const char *name)
{
    struct aw_tz *tz = calloc(1, sizeof(*tz));

    if (tz != NULL) {
        tz->kind = kind;
        snprintf(tz->name, sizeof(tz->name), "%s", name);
    }
    return tz;
}

void aw_tz_free(struct aw_tz **tz)
{
    if (tz == NULL || *tz == NULL) {
        return;
    }
    free((*tz)->trans);
    free((*tz)->trans_type);
    free(*tz);
    *tz = NULL;
}

const char *aw_tz_name(const struct aw_tz *tz)
{
    return tz->name;
}

/* "UTC", "Z", "GMT", "[UTC|GMT]+HH[:MM]", "+HHMM": seconds east. */
static bool fixed_offset(const char *s, int32_t *out)
{
    int h = 0, m = 0, sign;
    size_t n;

    if (strcmp(s, "Z") == 0) {
        *out = 0;
        return true;
    }
    if (strncmp(s, "UTC", 3) == 0 || strncmp(s, "GMT", 3) == 0) {
        s += 3;
        if (*s == '\0') {
            *out = 0;
            return true;
        }
    }
    if (*s != '+' && *s != '-') {
        return false;
    }
    sign = *s++ == '-' ? -1 : 1;
    n = strspn(s, "0123456789");
    if (n == 2 && s[2] == ':' && strlen(s) == 5 && strspn(s + 3, "0123456789") == 2) {
        h = (s[0] - '0') * 10 + s[1] - '0';
        m = (s[3] - '0') * 10 + s[4] - '0';
    } else if (n == 4 && s[4] == '\0') {
        h = (s[0] - '0') * 10 + s[1] - '0';
        m = (s[2] - '0') * 10 + s[3] - '0';
    } else if ((n == 1 || n == 2) && s[n] == '\0') {
        h = n == 1 ? s[0] - '0' : (s[0] - '0') * 10 + s[1] - '0';
    } else {
        return false;
    }
    if (h > 14 || m > 59 || (h == 14 && m > 0)) {
        return false;
    }
    *out = sign * (h * 3600 + m * 60);
    return true;
}

/* A zone name as found under the zoneinfo folder: no absolute path, no
 * "..", only the characters IANA names use. */
static bool safe_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= AW_TZ_NAME_MAX || s[0] == '/' || strstr(s, "..") != NULL) {
        return false;
    }
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == n;
}

/* Read a TZif file into a new zone.  AW_ENOTFOUND when it does not exist. */
static int load_file(const char *path, const char *name, struct aw_tz **out,
                     struct aw_err *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    ssize_t got;
    struct aw_tz *tz = NULL;
    int fd, rc = AW_OK;

    fd = aw_os_open_read(path);
    if (fd < 0) {
        return errno == ENOENT || errno == ENOTDIR
            ? AW_ENOTFOUND : aw_err_set(err, AW_EIO, "%s: %s", path, strerror(errno));
    }
    buf = malloc(ZONE_FILE_MAX);
    if (buf == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    while (len < ZONE_FILE_MAX && (got = aw_os_read(fd, buf + len, ZONE_FILE_MAX - len)) > 0) {
        len += (size_t)got;
    }
    tz = tz_new(TZ_DATA, name);
    if (tz == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    if (len == 0 || !tzif_parse(buf, len, tz)) {
        rc = aw_err_set(err, AW_EIO, "%s: not a valid time zone file (TZif)", path);
        goto out;
    }
    *out = tz;
    tz = NULL;
out:
    aw_tz_free(&tz);
    free(buf);
    aw_os_close(fd);
    return rc;
}

/* name under $TZDIR, else the system's zoneinfo folder (POSIX; Windows
 * has none, so there a name needs $TZDIR).  AW_ENOTFOUND when absent. */
static int load_name(const char *name, struct aw_tz **out, struct aw_err *err)
{
    char path[4096];
    char *dir = aw_os_getenv_dup("TZDIR");
    int rc;

#ifdef _WIN32
    if (dir == NULL) {
        return AW_ENOTFOUND;
    }
#endif
    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "/usr/share/zoneinfo", name);
    free(dir);
    rc = load_file(path, name, out, err);
    return rc;
}

#ifdef _WIN32
#define UNKNOWN_ZONE_HINT "Windows has no IANA zone database (set TZDIR to a tzdata folder);" \
    " use an offset such as +01:00 or UTC"
#else
#define UNKNOWN_ZONE_HINT "expected an IANA name (Europe/Berlin) or an offset (+01:00, UTC)"
#endif

int aw_tz_open(const char *spec, struct aw_tz **out, struct aw_err *err)
{
    int32_t off;
    int rc;

    *out = NULL;
    if (spec == NULL || spec[0] == '\0') {
        return aw_err_set(err, AW_ESYNTAX, "empty time zone: expected a zone name or an offset");
    }
    if (fixed_offset(spec, &off)) {
        *out = tz_new(TZ_FIXED, spec);
        if (*out == NULL) {
            return aw_err_set(err, AW_ENOMEM, "out of memory");
        }
        (*out)->fixed = off;
        return AW_OK;
    }
    rc = safe_name(spec) ? load_name(spec, out, err) : AW_ENOTFOUND;
    if (rc == AW_ENOTFOUND) {
        return aw_err_set(err, AW_ESYNTAX, "unknown time zone '%.100s': " UNKNOWN_ZONE_HINT,
                          spec);
    }
    return rc;
}

int aw_tz_system(const char *tz_env, struct aw_tz **out, struct aw_err *err)
{
    *out = NULL;
#ifdef _WIN32
    (void)tz_env;
    *out = tz_new(TZ_WINDOWS, "system");
#else
    struct rule r;
    int rc;

    if (tz_env == NULL) {
        rc = load_file("/etc/localtime", "system", out, err);
        if (rc != AW_ENOTFOUND) {
            return rc;
        }
    } else {
        const char *name = tz_env[0] == ':' ? tz_env + 1 : tz_env;
        rc = name[0] == '/' ? load_file(name, tz_env, out, err)
           : safe_name(name) ? load_name(name, out, err) : AW_ENOTFOUND;
        if (rc != AW_ENOTFOUND) {
            return rc;
        }
        if (rule_parse(tz_env, &r)) {
            *out = tz_new(TZ_RULE, tz_env);
            if (*out != NULL) {
                (*out)->footer = r;
            }
            return *out != NULL ? AW_OK : aw_err_set(err, AW_ENOMEM, "out of memory");
        }
    }
    /* Nothing usable: UTC, as the C library does. */
    *out = tz_new(TZ_FIXED, "UTC");
#endif
    return *out != NULL ? AW_OK : aw_err_set(err, AW_ENOMEM, "out of memory");
}

/* ---- conversions ---------------------------------------------------- */

int32_t aw_tz_offset_at(const struct aw_tz *tz, int64_t utc_ms)
{
    /* Floor to seconds, also before 1970. */
    int64_t t = utc_ms >= 0 ? utc_ms / 1000 : -((-utc_ms + 999) / 1000);

    switch (tz->kind) {
    case TZ_FIXED:
        return tz->fixed;
    case TZ_DATA:
        return data_offset(tz, t);
    case TZ_RULE:
        return rule_offset(&tz->footer, t);
    case TZ_WINDOWS: {
#ifdef _WIN32
        int minutes;
        if (aw_os_zone_offset_min(utc_ms, &minutes) == 0) {
            return minutes * 60;
        }
#endif
        return 0;
    }
    }
    return 0;
}

int64_t aw_tz_local_to_utc(const struct aw_tz *tz, int64_t local_ms)
{
    const int64_t day_ms = DAY_S * 1000;
    int64_t before = aw_tz_offset_at(tz, local_ms - day_ms) * INT64_C(1000);
    int64_t after = aw_tz_offset_at(tz, local_ms + day_ms) * INT64_C(1000);
    int64_t u1 = local_ms - before, u2 = local_ms - after;
    bool ok1 = aw_tz_offset_at(tz, u1) * INT64_C(1000) == before;
    bool ok2 = aw_tz_offset_at(tz, u2) * INT64_C(1000) == after;

    if (ok1 && ok2) {
        return u1 < u2 ? u1 : u2;   /* repeated hour: the first pass */
    }
    if (ok2) {
        return u2;
    }
    return u1;                      /* valid, or skipped: the old offset */
}

void aw_tz_format_short(const struct aw_tz *tz, int64_t ms, char *out)
{
    int32_t off;

    if (tz == NULL || ms == AW_TIME_NONE) {
        aw_time_format_short(ms, out);
        return;
    }
    off = aw_tz_offset_at(tz, ms);
    aw_time_format_short(ms + (int64_t)off * 1000, out);
    if (strlen(out) == 20) {
        int32_t a = off < 0 ? -off : off;
        snprintf(out + 19, AW_TIME_ISO_MAX - 19, "%c%02d:%02d", off < 0 ? '-' : '+', (int)(a / 3600),
                 (int)(a / 60 % 60));
    }
}
