/*
 * timeutil: civil arithmetic, user WHEN parsing (strict), log timestamp
 * parsing (tolerant) and ISO formatting.  Expected values were computed
 * independently (Python datetime).
 */
#include "testutil.h"

#include "agentwatch/timeutil.h"

#include <string.h>

#define NOW INT64_C(1741680000000) /* 2025-03-11T08:00:00Z */

static void test_from_civil(void)
{
    CU_ASSERT_EQUAL(aw_time_from_civil(1970, 1, 1, 0, 0, 0, 0), 0);
    CU_ASSERT_EQUAL(aw_time_from_civil(1969, 12, 31, 23, 59, 59, 999), -1);
    CU_ASSERT_EQUAL(aw_time_from_civil(2000, 3, 1, 0, 0, 0, 0), INT64_C(951868800000));
    CU_ASSERT_EQUAL(aw_time_from_civil(2024, 2, 29, 0, 0, 0, 0), INT64_C(1709164800000));
    CU_ASSERT_EQUAL(aw_time_from_civil(1900, 1, 1, 0, 0, 0, 0), INT64_C(-2208988800000));
    CU_ASSERT_EQUAL(aw_time_from_civil(1, 1, 1, 0, 0, 0, 0), INT64_C(-62135596800000));
    CU_ASSERT_EQUAL(aw_time_from_civil(2025, 3, 11, 7, 0, 1, 121), INT64_C(1741676401121));
    CU_ASSERT_EQUAL(aw_time_from_civil(9999, 12, 31, 23, 59, 59, 999), INT64_C(253402300799999));
}

static void test_now(void)
{
    int64_t a = aw_time_now_ms(), b = aw_time_now_ms();

    /* after 2020-01-01 and monotone enough for two calls in a row */
    CU_ASSERT(a > INT64_C(1577836800000));
    CU_ASSERT(b >= a);
}

static void expect_when(const char *text, int64_t want)
{
    struct aw_err err;
    int64_t got = 0;

    aw_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(aw_time_parse_when(text, NOW, &got, &err), AW_OK);
    CU_ASSERT_EQUAL(got, want);
    CU_ASSERT_EQUAL(err.code, AW_OK);
}

static void expect_when_error(const char *text, const char *msg)
{
    struct aw_err err;
    int64_t got = 42;

    aw_err_clear(&err);
    CU_ASSERT_EQUAL(aw_time_parse_when(text, NOW, &got, &err), AW_ESYNTAX);
    CU_ASSERT_EQUAL(err.code, AW_ESYNTAX);
    CU_ASSERT_STRING_EQUAL(err.msg, msg);
    CU_ASSERT_EQUAL(got, 42);
}

static void test_durations(void)
{
    expect_when("90s", NOW - 90 * 1000);
    expect_when("30m", NOW - 30 * 60 * 1000);
    expect_when("24h", NOW - INT64_C(24) * 3600 * 1000);
    expect_when("7d", NOW - INT64_C(7) * 86400 * 1000);
    expect_when("2w", NOW - INT64_C(14) * 86400 * 1000);
    expect_when("1s", NOW - 1000);
    expect_when("36500d", NOW - INT64_C(36500) * 86400 * 1000);
    expect_when_error("0m", "invalid time '0m': a duration must be positive");
    expect_when_error("99999999999999999999d", "invalid time '99999999999999999999d': duration too large");
    expect_when_error("9223372036854775w", "invalid time '9223372036854775w': duration too large");
    expect_when_error("7x", "invalid time '7x': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("-7d", "invalid time '-7d': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("7 d", "invalid time '7 d': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("7dd", "invalid time '7dd': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("d", "invalid time 'd': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("", "invalid time '': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error(" 7d", "invalid time ' 7d': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
}

static void test_iso_when(void)
{
    expect_when("2025-03-11", INT64_C(1741651200000));
    expect_when("2025-03-11T08:00", INT64_C(1741680000000));
    expect_when("2025-03-11 08:00", INT64_C(1741680000000));
    expect_when("2025-03-11T08:00:00", INT64_C(1741680000000));
    expect_when("2025-03-11T08:00:00Z", INT64_C(1741680000000));
    expect_when("2025-03-11 08:00:00.5+01:00", INT64_C(1741676400500));
    expect_when("2025-03-11T08:00:00.5+0100", INT64_C(1741676400500));
    expect_when("2025-03-11T08:00-05:30", INT64_C(1741699800000));
    expect_when("2025-03-11T07:00:01.121999999Z", INT64_C(1741676401121));
    expect_when("2024-02-29", INT64_C(1709164800000));
    expect_when("2000-02-29T00:00", INT64_C(951782400000));
    expect_when("1969-12-31T23:59:59.999Z", -1);
    expect_when("1900-01-01", INT64_C(-2208988800000));
}

static void test_iso_invalid(void)
{
    expect_when_error("2025-02-29", "invalid time '2025-02-29': day out of range");
    expect_when_error("1900-02-29", "invalid time '1900-02-29': day out of range");
    expect_when_error("2025-04-31", "invalid time '2025-04-31': day out of range");
    expect_when_error("2025-03-00", "invalid time '2025-03-00': day out of range");
    expect_when_error("2025-13-01", "invalid time '2025-13-01': month out of range");
    expect_when_error("2025-00-01", "invalid time '2025-00-01': month out of range");
    expect_when_error("2025-03-11T24:00", "invalid time '2025-03-11T24:00': hour out of range");
    expect_when_error("2025-03-11T08:60", "invalid time '2025-03-11T08:60': minute out of range");
    expect_when_error("2025-03-11T08:00:60", "invalid time '2025-03-11T08:00:60': second out of range");
    expect_when_error("2025-3-11", "invalid time '2025-3-11': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11T08", "invalid time '2025-03-11T08': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11T08:00:", "invalid time '2025-03-11T08:00:': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11T08:00:00.", "invalid time '2025-03-11T08:00:00.': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11T08:00+1", "invalid time '2025-03-11T08:00+1': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11T08:00+25:00", "invalid time '2025-03-11T08:00+25:00': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11 ", "invalid time '2025-03-11 ': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11Z", "invalid time '2025-03-11Z': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("2025-03-11T08:00:00Zjunk", "invalid time '2025-03-11T08:00:00Zjunk': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
    expect_when_error("03/11/2025", "invalid time '03/11/2025': expected a duration (30m, 24h, 7d) or an ISO-8601 date/time");
}

static void expect_log(const char *text, size_t want_used, int64_t want_ms)
{
    int64_t got = 0;
    size_t used = aw_time_parse_log(text, strlen(text), &got);

    CU_ASSERT_EQUAL(used, want_used);
    if (want_used > 0) {
        CU_ASSERT_EQUAL(got, want_ms);
    }
}

static void test_log_forms(void)
{
    /* the hypothesised itms date attribute */
    expect_log("03/11/2025 08:00:01.1210000 +01:00", 34, INT64_C(1741676401121));
    expect_log("03/11/2025 08:00:01.1210000 +01:00' severity='4'", 34, INT64_C(1741676401121));
    /* Log Viewer export form: 12-hour clock */
    expect_log("3/11/2025 8:00:02 AM, Tick Count: 91821", 20, INT64_C(1741680002000));
    expect_log("3/11/2025 12:00:00 AM", 21, INT64_C(1741651200000));
    expect_log("3/11/2025 12:30:00 PM", 21, INT64_C(1741696200000));
    expect_log("3/11/2025 1:05:09 pm -07:00 rest", 27, INT64_C(1741723509000));
    expect_log("3/11/2025 1:05:09 PM -7:00", 26, INT64_C(1741723509000));
    expect_log("3/11/2025 13:05:09", 18, INT64_C(1741698309000));
    expect_log("3/11/2025 13:05:09 -1 retries", 18, INT64_C(1741698309000));
    expect_log("3/11/2025 13:00:00 PM", 0, 0);
    expect_log("3/11/2025 0:00:00 AM", 0, 0);
    expect_log("2/29/2025 10:00:00", 0, 0);
    /* a first field above 12 can only be the day */
    expect_log("13/01/2025 10:00:00", 19, INT64_C(1736762400000));
    expect_log("13/13/2025 10:00:00", 0, 0);
    /* ISO forms */
    expect_log("2025-03-11T07:00:01.121Z", 24, INT64_C(1741676401121));
    expect_log("  2025-03-11T08:00:01.121+01:00 trailing", 31, INT64_C(1741676401121));
    expect_log("2025-03-11 07:00:01,121 INFO started", 23, INT64_C(1741676401121));
    expect_log("2025-03-11 08:00:01 +0100 x", 25, INT64_C(1741676401000));
    expect_log("2025-03-11 07:00:01.1 x", 21, INT64_C(1741676401100));
    expect_log("2025-03-11 07:00:01.123456789", 29, INT64_C(1741676401123));
    expect_log("2025-03-11 07:00:01. x", 19, INT64_C(1741676401000));
    expect_log("2025-03-11 rest", 10, INT64_C(1741651200000));
    expect_log("1969-12-31T23:59:59.999Z", 24, -1);
    expect_log("2025-02-30 10:00:00", 0, 0);
    expect_log("hello world", 0, 0);
    expect_log("", 0, 0);
    expect_log("   ", 0, 0);
    /* not NUL-terminated: the length is honoured */
    {
        int64_t got = 0;
        CU_ASSERT_EQUAL(aw_time_parse_log("2025-03-11T07:00:01.121Z", 19, &got), 19);
        CU_ASSERT_EQUAL(got, INT64_C(1741676401000));
        CU_ASSERT_EQUAL(aw_time_parse_log("2025-03-11T07:00:01.121Z", 9, &got), 0);
    }
}

static void test_format(void)
{
    char buf[AW_TIME_ISO_MAX];

    aw_time_format_iso(INT64_C(1741676401121), buf);
    CU_ASSERT_STRING_EQUAL(buf, "2025-03-11T07:00:01.121Z");
    aw_time_format_short(INT64_C(1741676401121), buf);
    CU_ASSERT_STRING_EQUAL(buf, "2025-03-11 07:00:01Z");
    aw_time_format_iso(0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00.000Z");
    aw_time_format_iso(-1, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:59.999Z");
    aw_time_format_short(-1, buf);
    CU_ASSERT_STRING_EQUAL(buf, "1969-12-31 23:59:59Z");
    aw_time_format_iso(INT64_C(-14182940000), buf);
    CU_ASSERT_STRING_EQUAL(buf, "1969-07-20T20:17:40.000Z");
    aw_time_format_iso(INT64_C(-62135596800000), buf);
    CU_ASSERT_STRING_EQUAL(buf, "0001-01-01T00:00:00.000Z");
    aw_time_format_iso(INT64_C(951782400000), buf);
    CU_ASSERT_STRING_EQUAL(buf, "2000-02-29T00:00:00.000Z");
    aw_time_format_iso(INT64_C(253402300799999), buf);
    CU_ASSERT_STRING_EQUAL(buf, "9999-12-31T23:59:59.999Z");
    strcpy(buf, "x");
    aw_time_format_iso(AW_TIME_NONE, buf);
    CU_ASSERT_STRING_EQUAL(buf, "");
    strcpy(buf, "x");
    aw_time_format_short(AW_TIME_NONE, buf);
    CU_ASSERT_STRING_EQUAL(buf, "");
}

static void test_round_trip(void)
{
    static const int64_t fixed[] = {
        0, -1, 1, INT64_C(1741676401121), INT64_C(-2208988800000), INT64_C(-62135596800000),
        INT64_C(951782400000), INT64_C(253402300799999), INT64_C(-86400000), INT64_C(-86400001),
    };
    uint64_t x = 88172645463325252u;
    char buf[AW_TIME_ISO_MAX];

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) + 2000; i++) {
        int64_t ms, got = 0, got_log = 0;
        struct aw_err err;

        if (i < sizeof(fixed) / sizeof(fixed[0])) {
            ms = fixed[i];
        } else {
            /* xorshift over 0001-01-01 .. 9999-12-31 */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ms = INT64_C(-62135596800000)
                + (int64_t)(x % (uint64_t)(INT64_C(253402300799999) + INT64_C(62135596800000)));
        }
        aw_time_format_iso(ms, buf);
        CU_ASSERT_EQUAL_FATAL(aw_time_parse_when(buf, NOW, &got, &err), AW_OK);
        CU_ASSERT_EQUAL_FATAL(got, ms);
        CU_ASSERT_EQUAL_FATAL(aw_time_parse_log(buf, strlen(buf), &got_log), strlen(buf));
        CU_ASSERT_EQUAL_FATAL(got_log, ms);
        aw_time_format_short(ms, buf);
        CU_ASSERT_EQUAL_FATAL(aw_time_parse_log(buf, strlen(buf), &got_log), strlen(buf));
        CU_ASSERT_EQUAL_FATAL(got_log, ms - ((ms % 1000) + 1000) % 1000);
    }
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("timeutil", NULL, NULL);

    if (s == NULL
        || CU_add_test(s, "from_civil", test_from_civil) == NULL
        || CU_add_test(s, "now", test_now) == NULL
        || CU_add_test(s, "durations", test_durations) == NULL
        || CU_add_test(s, "iso_when", test_iso_when) == NULL
        || CU_add_test(s, "iso_invalid", test_iso_invalid) == NULL
        || CU_add_test(s, "log_forms", test_log_forms) == NULL
        || CU_add_test(s, "format", test_format) == NULL
        || CU_add_test(s, "round_trip", test_round_trip) == NULL) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
