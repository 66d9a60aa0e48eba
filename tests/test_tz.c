/*
 * tz: fixed offsets, real TZif files from the system's zoneinfo (tzdata),
 * POSIX rule strings, the system zone from $TZ, damaged zone files, and
 * the deterministic reading of wall-clock times skipped or repeated by a
 * daylight-saving change.  Expected offsets and instants were computed
 * independently with Python's zoneinfo on the same tzdata.
 */
#include "testutil.h"

#include "agentwatch/timeutil.h"
#include "agentwatch/tz.h"

#include <stdlib.h>
#include <string.h>

#define ZONEINFO "/usr/share/zoneinfo"

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    return aw_time_from_civil(y, mo, d, h, mi, s, 0);
}

static struct aw_tz *open_ok(const char *spec)
{
    struct aw_tz *tz = NULL;
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL(aw_tz_open(spec, &tz, &err), AW_OK);
    if (tz == NULL) {
        fprintf(stderr, "aw_tz_open(%s): %s\n", spec, err.msg);
    }
    return tz;
}

static void test_fixed(void)
{
    static const struct { const char *spec; int32_t off; } ok[] = {
        { "UTC", 0 }, { "Z", 0 }, { "GMT", 0 }, { "+01:00", 3600 }, { "-05:30", -19800 },
        { "-0530", -19800 }, { "+01", 3600 }, { "+5", 18000 }, { "UTC+02:00", 7200 },
        { "GMT-03", -10800 }, { "+14:00", 50400 }, { "-12:00", -43200 },
    };
    static const char *const bad[] = {
        "+14:01", "+15", "+1:00", "+01:60", "01:00", "+", "UTC+", "+01:00x", "+010", "",
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct aw_tz *tz = open_ok(ok[i].spec);
        if (tz == NULL) {
            continue;
        }
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 7, 1, 0, 0, 0)), ok[i].off);
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(1900, 1, 1, 0, 0, 0)), ok[i].off);
        CU_ASSERT_STRING_EQUAL(aw_tz_name(tz), ok[i].spec);
        CU_ASSERT_EQUAL(aw_tz_local_to_utc(tz, utc(2025, 5, 16, 11, 51, 5)),
                        utc(2025, 5, 16, 11, 51, 5) - (int64_t)ok[i].off * 1000);
        aw_tz_free(&tz);
        CU_ASSERT_PTR_NULL(tz);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct aw_tz *tz = NULL;
        struct aw_err err = { 0 };
        CU_ASSERT_EQUAL(aw_tz_open(bad[i], &tz, &err), AW_ESYNTAX);
        CU_ASSERT_PTR_NULL(tz);
    }
    aw_tz_free(NULL);
}

static void test_unknown_names(void)
{
    static const char *const bad[] = {
        "Mars/Olympus", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "Europe/../UTC",
        "Europe/Berlin\n", "Europe Berlin",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct aw_tz *tz = NULL;
        struct aw_err err = { 0 };
        CU_ASSERT_EQUAL(aw_tz_open(bad[i], &tz, &err), AW_ESYNTAX);
        CU_ASSERT_PTR_NULL(tz);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown time zone"));
    }
    {
        struct aw_tz *tz = NULL;
        struct aw_err err = { 0 };
        CU_ASSERT_EQUAL(aw_tz_open("Mars/Olympus", &tz, &err), AW_ESYNTAX);
        CU_ASSERT_STRING_EQUAL(err.msg, "unknown time zone 'Mars/Olympus': expected an IANA name"
                                        " (Europe/Berlin) or an offset (+01:00, UTC)");
    }
}

/* Europe/Berlin from the real tzdata: transitions, the footer rule past
 * the last transition, and local mean time before the first. */
static void test_berlin(void)
{
    struct aw_tz *tz = open_ok("Europe/Berlin");

    if (tz == NULL) {
        return;
    }
    /* 2025-03-30 01:00 UTC: CET -> CEST */
    CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 3, 30, 0, 59, 59)), 3600);
    CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 3, 30, 1, 0, 0)), 7200);
    CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 10, 26, 0, 59, 59)), 7200);
    CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 10, 26, 1, 0, 0)), 3600);
    /* far beyond 2037: the footer rule "CET-1CEST,M3.5.0,M10.5.0/3" */
    CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2100, 7, 1, 0, 0, 0)), 7200);
    CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2100, 1, 1, 0, 0, 0)), 3600);
    /* before the first transition: local mean time, +0:53:28 */
    CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(1890, 1, 1, 0, 0, 0)), 3208);
    /* a plain summer time */
    CU_ASSERT_EQUAL(aw_tz_local_to_utc(tz, utc(2025, 5, 16, 11, 51, 5)),
                    utc(2025, 5, 16, 9, 51, 5));
    /* 02:30 never happened on 2025-03-30: read with the winter offset,
     * i.e. 03:30 summer time (01:30 UTC) */
    CU_ASSERT_EQUAL(aw_tz_local_to_utc(tz, utc(2025, 3, 30, 2, 30, 0)), INT64_C(1743298200000));
    /* 02:30 happened twice on 2025-10-26: the first time, summer time */
    CU_ASSERT_EQUAL(aw_tz_local_to_utc(tz, utc(2025, 10, 26, 2, 30, 0)), INT64_C(1761438600000));
    /* just outside the ambiguous hour */
    CU_ASSERT_EQUAL(aw_tz_local_to_utc(tz, utc(2025, 10, 26, 3, 0, 0)), utc(2025, 10, 26, 2, 0, 0));
    CU_ASSERT_EQUAL(aw_tz_local_to_utc(tz, utc(2025, 10, 26, 1, 59, 59)),
                    utc(2025, 10, 25, 23, 59, 59));
    aw_tz_free(&tz);
}

static void test_other_zones(void)
{
    struct aw_tz *tz;

    tz = open_ok("America/New_York");
    if (tz != NULL) {
        /* 02:30 skipped on 2025-03-09: 03:30 EDT = 07:30 UTC */
        CU_ASSERT_EQUAL(aw_tz_local_to_utc(tz, utc(2025, 3, 9, 2, 30, 0)), INT64_C(1741505400000));
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 1, 15, 12, 0, 0)), -18000);
        aw_tz_free(&tz);
    }
    /* southern hemisphere: summer time spans the new year */
    tz = open_ok("Australia/Sydney");
    if (tz != NULL) {
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 1, 15, 0, 0, 0)), 39600);
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 7, 15, 0, 0, 0)), 36000);
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2090, 1, 15, 0, 0, 0)), 39600);
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2090, 7, 15, 0, 0, 0)), 36000);
        aw_tz_free(&tz);
    }
    tz = open_ok("Asia/Kolkata");
    if (tz != NULL) {
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, utc(2025, 1, 15, 0, 0, 0)), 19800);
        aw_tz_free(&tz);
    }
}

/* The machine's zone: $TZ as the C library reads it. */
static void test_system(void)
{
    static const struct { const char *env; int64_t at; int32_t off; } cases[] = {
        { ":Europe/Berlin", INT64_C(1751328000000), 7200 },          /* 2025-07-01 */
        { "Europe/Berlin", INT64_C(1735689600000), 3600 },           /* 2025-01-01 */
        { ZONEINFO "/Asia/Tokyo", INT64_C(1735689600000), 32400 },
        { ":" ZONEINFO "/Asia/Tokyo", INT64_C(1735689600000), 32400 },
        /* POSIX rule strings */
        { "CET-1CEST,M3.5.0,M10.5.0/3", INT64_C(1751328000000), 7200 },
        { "CET-1CEST,M3.5.0,M10.5.0/3", INT64_C(1735689600000), 3600 },
        { "AEST-10AEDT,M10.1.0,M4.1.0/3", INT64_C(1736899200000), 39600 },  /* 2025-01-15 */
        { "AEST-10AEDT,M10.1.0,M4.1.0/3", INT64_C(1752537600000), 36000 },  /* 2025-07-15 */
        { "<+0330>-3:30", INT64_C(1735689600000), 12600 },
        { "EST5EDT", INT64_C(1751328000000), -14400 },
        { "XYZ3", INT64_C(1751328000000), -10800 },
        /* Julian-day rules: J60 is March 1 in every year */
        { "AAA0BBB,J60/0,J300/0", INT64_C(1751328000000), 3600 },
        /* nothing usable: UTC, as the C library does */
        { "%%%", INT64_C(1751328000000), 0 },
        { "Mars/Olympus", INT64_C(1751328000000), 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct aw_tz *tz = NULL;
        struct aw_err err = { 0 };
        CU_ASSERT_EQUAL_FATAL(aw_tz_system(cases[i].env, &tz, &err), AW_OK);
        if (aw_tz_offset_at(tz, cases[i].at) != cases[i].off) {
            fprintf(stderr, "TZ=%s: got %d want %d\n", cases[i].env,
                    (int)aw_tz_offset_at(tz, cases[i].at), (int)cases[i].off);
        }
        CU_ASSERT_EQUAL(aw_tz_offset_at(tz, cases[i].at), cases[i].off);
        aw_tz_free(&tz);
    }
}

/* Damaged zone files are errors, never crashes: every truncation of a
 * real file and a few crafted headers. */
static void test_damaged(void)
{
    char *dir = tu_mkdtemp(), *path = tu_path(dir, "Damaged");
    size_t len = 0;
    char *real = tu_read_file(ZONEINFO "/Europe/Berlin", &len);
    size_t ok = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(real);
    CU_ASSERT_EQUAL(setenv("TZDIR", dir, 1), 0);
    for (size_t n = 0; n <= len; n++) {
        struct aw_tz *tz = NULL;
        struct aw_err err = { 0 };
        int rc;

        tu_write_file(path, real, n);
        rc = aw_tz_open("Damaged", &tz, &err);
        CU_ASSERT(rc == AW_OK || rc == AW_EIO);
        if (rc == AW_OK) {
            ok++;
            (void)aw_tz_offset_at(tz, utc(2025, 7, 1, 0, 0, 0));
            (void)aw_tz_local_to_utc(tz, utc(2025, 3, 30, 2, 30, 0));
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a valid time zone file"));
        }
        aw_tz_free(&tz);
    }
    /* the whole file, and the ones cut inside the footer only, load */
    CU_ASSERT(ok >= 1);
    {
        /* counts far beyond the file */
        unsigned char hdr[60] = "TZif2";
        struct aw_tz *tz = NULL;
        struct aw_err err = { 0 };
        hdr[32] = 0x7f;   /* timecnt */
        hdr[39] = 1;      /* typecnt */
        tu_write_file(path, hdr, sizeof(hdr));
        CU_ASSERT_EQUAL(aw_tz_open("Damaged", &tz, &err), AW_EIO);
        tu_write_str(path, "not a zone file at all, but long enough to have a header...");
        CU_ASSERT_EQUAL(aw_tz_open("Damaged", &tz, &err), AW_EIO);
        CU_ASSERT_PTR_NULL(tz);
    }
    unsetenv("TZDIR");
    free(real);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* aw_time_resolve over real zones: the KB record, New Year, DST. */
static void test_resolve(void)
{
    struct aw_tz *berlin = open_ok("Europe/Berlin"), *plus2 = open_ok("+02:00");
    struct aw_log_time t;
    struct aw_time_ctx ctx = { NULL, AW_TIME_NONE };
    bool inferred = false;
    const char *kb = "May 16 11:51:05";

    if (berlin == NULL || plus2 == NULL) {
        goto out;
    }
    /* Broadcom KB 179719's record date; file written on 2025-06-01 */
    CU_ASSERT_EQUAL_FATAL(aw_time_scan_log(kb, strlen(kb), &t), strlen(kb));
    CU_ASSERT_FALSE(t.has_year);
    ctx.tz = plus2;
    ctx.bound_ms = utc(2025, 6, 1, 0, 0, 0);
    CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), INT64_C(1747389065000));
    CU_ASSERT_TRUE(inferred);
    ctx.tz = berlin;
    CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), INT64_C(1747389065000));
    /* a file last written on 2025-05-10: May 16 was last year's */
    ctx.bound_ms = utc(2025, 5, 10, 0, 0, 0);
    CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), utc(2024, 5, 16, 9, 51, 5));
    /* no bound: no year, no time */
    ctx.bound_ms = AW_TIME_NONE;
    CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), AW_TIME_NONE);
    /* across New Year: a Dec -> Jan file last written in January */
    {
        const char *dec = "Dec 31 23:59:00", *jan = "Jan 02 09:00:00";
        ctx.bound_ms = utc(2026, 1, 2, 9, 0, 1);   /* mtime in January */
        CU_ASSERT_EQUAL_FATAL(aw_time_scan_log(dec, strlen(dec), &t), strlen(dec));
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), INT64_C(1767221940000));
        CU_ASSERT_EQUAL_FATAL(aw_time_scan_log(jan, strlen(jan), &t), strlen(jan));
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), INT64_C(1767340800000));
    }
    /* Feb 29 without a year: the latest leap year not after the bound */
    {
        const char *feb = "Feb 29 10:00:00";
        ctx.tz = NULL;
        ctx.bound_ms = utc(2027, 3, 1, 0, 0, 0);
        CU_ASSERT_EQUAL_FATAL(aw_time_scan_log(feb, strlen(feb), &t), strlen(feb));
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), utc(2024, 2, 29, 10, 0, 0));
        ctx.bound_ms = utc(2024, 3, 1, 0, 0, 0);
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), utc(2024, 2, 29, 10, 0, 0));
    }
    /* up to AW_TIME_YEAR_SLACK_MS after the bound is still its year */
    {
        const char *late = "Jun 01 20:00:00";
        ctx.bound_ms = utc(2025, 6, 1, 0, 0, 0);
        CU_ASSERT_EQUAL_FATAL(aw_time_scan_log(late, strlen(late), &t), strlen(late));
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), utc(2025, 6, 1, 20, 0, 0));
        ctx.bound_ms = utc(2025, 5, 30, 0, 0, 0);
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), utc(2024, 6, 1, 20, 0, 0));
    }
    /* a full date with an offset is not inferred, whatever the zone */
    {
        const char *full = "2025-03-30 02:30:00+01:00";
        ctx.tz = berlin;
        CU_ASSERT_EQUAL_FATAL(aw_time_scan_log(full, strlen(full), &t), strlen(full));
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), utc(2025, 3, 30, 1, 30, 0));
        CU_ASSERT_FALSE(inferred);
    }
    /* a full date without an offset takes the zone, in its DST gap too */
    {
        const char *gap = "3/30/2025 2:30:00 AM";
        CU_ASSERT_EQUAL_FATAL(aw_time_scan_log(gap, strlen(gap), &t), strlen(gap));
        CU_ASSERT_EQUAL(aw_time_resolve(&t, &ctx, &inferred), INT64_C(1743298200000));
        CU_ASSERT_TRUE(inferred);
    }
out:
    aw_tz_free(&berlin);
    aw_tz_free(&plus2);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("tz", NULL, NULL);

    if (s == NULL
        || CU_add_test(s, "fixed offsets", test_fixed) == NULL
        || CU_add_test(s, "unknown names", test_unknown_names) == NULL
        || CU_add_test(s, "Europe/Berlin", test_berlin) == NULL
        || CU_add_test(s, "other zones", test_other_zones) == NULL
        || CU_add_test(s, "system zone from $TZ", test_system) == NULL
        || CU_add_test(s, "damaged zone files", test_damaged) == NULL
        || CU_add_test(s, "resolve: year and zone", test_resolve) == NULL) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
