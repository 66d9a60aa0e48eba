/*
 * Sources: what a PATH stands for and in which order its files are read,
 * on real folders with real rollover files, hard links and mtimes.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "agentwatch/source.h"
#include "agentwatch/timeutil.h"
#include "testutil.h"


/* Create dir/sub/name with text and the given mtime (seconds). */
static char *make(const char *sub, const char *name, const char *text, long mtime)
{
    char *d = tu_path(tu_dir(), sub), *p;
    struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };

    mkdir(d, 0700);
    p = tu_path(d, name);
    tu_write_str(p, text);
    utimes(p, tv);
    free(d);
    return p;
}

static void itms_line(char *buf, size_t size, int day)
{
    snprintf(buf, size, "<event date='03/%02d/2025 08:00:00.0000000 +00:00' severity='4' >"
                        "<![CDATA[x]]></event>\n", day);
}

/* Basenames of the listed files, joined by spaces. */
static void names(const struct aw_source_list *l, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < l->count; i++) {
        const char *slash = strrchr(l->items[i].path, '/');
        if (i > 0) {
            strncat(out, " ", size - strlen(out) - 1);
        }
        strncat(out, slash ? slash + 1 : l->items[i].path, size - strlen(out) - 1);
    }
}

static void expand(const char *path, char *out, size_t size, int expect_rc)
{
    struct aw_source_list l = { 0 };
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL(aw_source_expand(path, AW_FORMAT_AUTO, NULL, &l, &err), expect_rc);
    names(&l, out, size);
    aw_source_list_free(&l);
}

static void test_family_by_content_time(void)
{
    char line[256], got[512];
    char *active;

    /* Content says agent1 is older than agent2 here, against the usual
     * numbering and against the mtimes: content wins. */
    itms_line(line, sizeof(line), 11);
    free(make("fam", "agent2.log", line, 3000));
    itms_line(line, sizeof(line), 10);
    free(make("fam", "agent1.log", line, 2000));
    itms_line(line, sizeof(line), 12);
    active = make("fam", "agent.log", line, 1000);
    itms_line(line, sizeof(line), 9);
    free(make("fam", "agent.lo_", line, 500));
    free(make("fam", "agentx.log", "not a member\n", 1));
    free(make("fam", "other.log", "not a member\n", 1));
    free(make("fam", "agent.txt", "not a member\n", 1));
    expand(active, got, sizeof(got), AW_OK);
    CU_ASSERT_STRING_EQUAL(got, "agent.lo_ agent1.log agent2.log agent.log");
    free(active);
}

static void test_family_by_mtime_then_number(void)
{
    char got[512];
    char *active;

    /* Plain lines without timestamps: modification times decide, and
     * equal times fall back to the numbering (higher is older). */
    free(make("mt", "svc3.log", "three\n", 5000));
    free(make("mt", "svc2.log", "two\n", 5000));
    free(make("mt", "svc1.log", "one\n", 6000));
    active = make("mt", "svc.log", "active\n", 4000);
    expand(active, got, sizeof(got), AW_OK);
    CU_ASSERT_STRING_EQUAL(got, "svc.log svc3.log svc2.log svc1.log");
    free(active);
}

static void test_rollover_alone_and_dedup(void)
{
    struct aw_source_list l = { 0 };
    struct aw_err err = { 0 };
    char *solo = make("solo", "agent3.log", "three\n", 100);
    char *active = make("solo", "agent.log", "active\n", 200);
    char *link_path = tu_path(tu_dir(), "solo-link.log");
    char got[512];

    free(make("solo", "agent4.log", "four\n", 50));
    expand(solo, got, sizeof(got), AW_OK);
    CU_ASSERT_STRING_EQUAL(got, "agent3.log");
    /* The same file reached twice (a family member, then a hard link to
     * it) is listed once. */
    CU_ASSERT_EQUAL_FATAL(link(solo, link_path), 0);
    CU_ASSERT_EQUAL(aw_source_expand(active, AW_FORMAT_AUTO, NULL, &l, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_source_expand(link_path, AW_FORMAT_AUTO, NULL, &l, &err), AW_OK);
    CU_ASSERT_EQUAL(l.count, 3);
    aw_source_list_free(&l);
    CU_ASSERT_EQUAL(l.count, 0);
    free(solo);
    free(active);
    free(link_path);
}

static void test_directory_and_missing(void)
{
    char got[512];
    char *d, *missing;

    free(make("dir", "b.log", "b\n", 300));
    free(make("dir", "a.LOG", "a\n", 200));
    free(make("dir", "c.lo_", "c\n", 100));
    free(make("dir", "notes.txt", "n\n", 50));
    d = tu_path(tu_dir(), "dir");
    expand(d, got, sizeof(got), AW_OK);
    CU_ASSERT_STRING_EQUAL(got, "c.lo_ a.LOG b.log");
    missing = tu_path(tu_dir(), "nope/agent.log");
    expand(missing, got, sizeof(got), AW_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(got, "");
    free(d);
    free(missing);
}

/* agent.log's dates have no year ('May 16 11:51:05', Broadcom KB 179719).
 * Rollovers copied off an endpoint months later lost their modification
 * times, so only the newer file's first record says which year a
 * rollover's records are from: agent1.log (10 Nov - 31 Dec) is older than
 * agent.log (2 Jan - 1 Dec), whose own modification time is kept. */
static void test_family_without_years(void)
{
    static const char ev[] = "<event date='%s' severity='4' ><![CDATA[%s]]></event>\r\n";
    char a[512], r1[512], r2[512], got[256];
    long copied = 1796256000;   /* 2026-12-03T00:00:00Z: the copy */
    char *active, *p1, *p2;
    struct aw_source_list l = { 0 };
    struct aw_err err = { 0 };

    snprintf(a, sizeof(a), ev, "Jan 02 09:00:00", "new year");
    snprintf(a + strlen(a), sizeof(a) - strlen(a), ev, "Dec 01 10:00:00", "last");
    snprintf(r1, sizeof(r1), ev, "Nov 10 08:00:00", "older");
    snprintf(r1 + strlen(r1), sizeof(r1) - strlen(r1), ev, "Dec 31 23:59:00", "new year's eve");
    snprintf(r2, sizeof(r2), ev, "Jun 01 08:00:00", "oldest");
    snprintf(r2 + strlen(r2), sizeof(r2) - strlen(r2), ev, "Nov 09 08:00:00", "older still");
    active = make("yearless", "agent.log", a, 1796119205);   /* 2026-12-01T10:00:05Z */
    p1 = make("yearless", "agent1.log", r1, copied);
    p2 = make("yearless", "agent2.log", r2, copied);
    CU_ASSERT_EQUAL_FATAL(aw_source_expand(active, AW_FORMAT_AUTO, NULL, &l, &err), AW_OK);
    names(&l, got, sizeof(got));
    CU_ASSERT_STRING_EQUAL(got, "agent2.log agent1.log agent.log");
    CU_ASSERT_EQUAL_FATAL(l.count, 3);
    CU_ASSERT_EQUAL(l.items[0].first_ts, aw_time_from_civil(2025, 6, 1, 8, 0, 0, 0));
    CU_ASSERT_EQUAL(l.items[1].first_ts, aw_time_from_civil(2025, 11, 10, 8, 0, 0, 0));
    CU_ASSERT_EQUAL(l.items[2].first_ts, aw_time_from_civil(2026, 1, 2, 9, 0, 0, 0));
    /* each file is bounded by the next newer one's first record */
    CU_ASSERT_EQUAL(l.items[0].next_first_ts, l.items[1].first_ts);
    CU_ASSERT_EQUAL(l.items[1].next_first_ts, l.items[2].first_ts);
    CU_ASSERT_EQUAL(l.items[2].next_first_ts, AW_TIME_NONE);
    CU_ASSERT_EQUAL(aw_source_year_bound(&l.items[1], (int64_t)copied * 1000), l.items[2].first_ts);
    CU_ASSERT_EQUAL(aw_source_year_bound(&l.items[2], INT64_C(1796119205000)),
                    INT64_C(1796119205000));
    aw_source_list_free(&l);
    /* a rollover named alone has only its own modification time */
    CU_ASSERT_EQUAL_FATAL(aw_source_expand(p1, AW_FORMAT_AUTO, NULL, &l, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(l.count, 1);
    CU_ASSERT_EQUAL(l.items[0].first_ts, aw_time_from_civil(2026, 11, 10, 8, 0, 0, 0));
    aw_source_list_free(&l);
    free(active);
    free(p1);
    free(p2);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("source", tu_suite_setup, tu_suite_teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "family ordered by content time", test_family_by_content_time);
    CU_add_test(s, "family ordered by mtime, then number", test_family_by_mtime_then_number);
    CU_add_test(s, "rollover alone, duplicates once", test_rollover_alone_and_dedup);
    CU_add_test(s, "directory and missing path", test_directory_and_missing);
    CU_add_test(s, "family without years", test_family_without_years);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
