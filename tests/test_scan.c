/*
 * Scan, end to end through real files, real YAML rules, real PCRE2 and a
 * real SQLite file: rollover families read oldest first, idempotence,
 * appends, rename and copy-truncate rotation between scans, content
 * rewritten behind the same head, partial final records, interruption at
 * every record (exactly once), host attribution and UTF-16 offsets.
 *
 * Every record carries a unique sequence number "#N" in its message, so a
 * test can compare the exact set of findings with the set it expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentwatch/rules.h"
#include "agentwatch/scan.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "testutil.h"

static const char rules_yaml[] =
    "version: 1\n"
    "rules:\n"
    TU_RULE_SSL_TRUST
    "  - id: dns\n"
    "    category: resolution\n"
    "    severity: error\n"
    "    pattern: '(?i)connect to (?<target>[a-z0-9.-]+): .*could not be resolved"
    " \\((?<code>0x[0-9a-f]{8})\\)|could not be resolved|0x80072EE7'\n"
    "  - id: config-ok\n"
    "    category: health\n"
    "    severity: info\n"
    "    pattern: 'Configuration updated successfully'\n";

struct fixture {
    char *dir;
    char *db;
    char *log;      /* <dir>/agent.log */
    struct aw_ruleset *rules;
};

static void fixture_open(struct fixture *fx)
{
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    char *rules_path;

    fx->dir = tu_mkdtemp();
    fx->db = tu_path(fx->dir, "aw.db");
    fx->log = tu_path(fx->dir, "agent.log");
    rules_path = tu_path(fx->dir, "rules.yaml");
    tu_write_str(rules_path, rules_yaml);
    CU_ASSERT_EQUAL_FATAL(aw_rules_load(rules_path, &fx->rules, &diags, &err), AW_OK);
    aw_diags_free(&diags);
    free(rules_path);
}

static void fixture_close(struct fixture *fx)
{
    aw_rules_free(&fx->rules);
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx->db);
    free(fx->log);
}

/* The message of record seq: every fourth kind is benign. */
static const char *message_kind(int seq)
{
    switch (seq % 4) {
    case 0: return "The underlying connection was closed: Could not establish trust relationship"
                   " for the SSL/TLS secure channel.";
    case 1: return "Requesting configuration from https://smp01.corp.example/ error=0x00000000";
    case 2: return "Unable to connect to smp01.corp.example: The server name or address could"
                   " not be resolved (0x80072EE7)";
    default: return "Configuration updated successfully (41 policies)";
    }
}

static bool yields_finding(int seq)
{
    return seq % 4 != 1;
}

/* One itms record with sequence number seq, one minute apart from
 * 2025-03-11T08:00:00+01:00. */
static void record_text(char *buf, size_t size, int seq)
{
    snprintf(buf, size,
             "<event date='03/11/2025 %02d:%02d:00.0000000 +01:00' severity='1' "
             "hostName='WKS-0142' source='ClientPolicyMgr' module='AeXNetComms.dll' "
             "process='AeXNSAgent' pid='3120' thread='4420' tickCount='%d' >"
             "<![CDATA[%s #%d]]></event>\n",
             8 + seq / 60, seq % 60, 1000 + seq, message_kind(seq), seq);
}

static void append_records(const char *path, int from, int to)
{
    char buf[1024];

    for (int seq = from; seq < to; seq++) {
        record_text(buf, sizeof(buf), seq);
        tu_append_str(path, buf);
    }
}

static int scan(struct fixture *fx, const struct aw_scan_opts *opts_in, struct aw_scan_stats *stats)
{
    struct aw_scan_opts opts = { .format = AW_FORMAT_AUTO };
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    char *paths[1] = { fx->log };
    int rc;

    if (opts_in != NULL) {
        opts = *opts_in;
    }
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&store, fx->db, 0, &err), AW_OK);
    rc = aw_scan_run(store, fx->rules, paths, 1, &opts, stats, &err);
    if (rc != AW_OK) {
        fprintf(stderr, "scan: %s\n", err.msg);
    }
    aw_store_close(&store);
    return rc;
}

/* Assert that the findings are exactly those of records [0, upto), each
 * once. */
static void assert_exact_findings(struct fixture *fx, int upto)
{
    char sql[256];
    long long expected = 0;

    for (int seq = 0; seq < upto; seq++) {
        if (!yields_finding(seq)) {
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM findings WHERE message LIKE '%% #%d'", seq);
            CU_ASSERT_EQUAL(tu_sql_int(fx->db, sql), 0);
            continue;
        }
        expected++;
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM findings WHERE message LIKE '%% #%d'",
                 seq);
        if (tu_sql_int(fx->db, sql) != 1) {
            fprintf(stderr, "record #%d found %lld times\n", seq, tu_sql_int(fx->db, sql));
            CU_FAIL("a finding is missing or duplicated");
        }
    }
    CU_ASSERT_EQUAL(tu_sql_int(fx->db, "SELECT count(*) FROM findings"), expected);
}

static void test_family_oldest_first_and_idempotent(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    char *r1, *r2;
    char *first;

    fixture_open(&fx);
    r1 = tu_path(fx.dir, "agent1.log");
    r2 = tu_path(fx.dir, "agent2.log");
    append_records(r2, 0, 10);
    append_records(r1, 10, 20);
    append_records(fx.log, 20, 30);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(st.files, 3);
    CU_ASSERT_EQUAL(st.records, 30);
    assert_exact_findings(&fx, 30);
    /* Oldest content first: ids follow the records' order. */
    first = tu_sql_text(fx.db, "SELECT message FROM findings ORDER BY id LIMIT 1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_PTR_NOT_NULL(strstr(first, " #0"));
    free(first);
    /* Record time: 08:02 at +01:00 is 07:02Z. */
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT ts FROM findings WHERE message LIKE '% #2'"),
                    aw_time_from_civil(2025, 3, 11, 7, 2, 0, 0));
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE host = 'WKS-0142'"
                                      " AND severity = 'error' AND level = 'error'"), 15);

    /* What the rule captured is kept with the finding. */
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE rule = 'dns' AND"
                                      " target = 'smp01.corp.example' AND code = '0x80072EE7'"),
                    7);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE rule <> 'dns' AND"
                                      " (target IS NOT NULL OR code IS NOT NULL)"), 0);
    /* Nothing changed: nothing new. */
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(st.records, 0);
    CU_ASSERT_EQUAL(st.findings, 0);
    assert_exact_findings(&fx, 30);
    free(r1);
    free(r2);
    fixture_close(&fx);
}

static void test_append_and_rename_rotation(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    char *r1, *r2, *r3;

    fixture_open(&fx);
    r1 = tu_path(fx.dir, "agent1.log");
    r2 = tu_path(fx.dir, "agent2.log");
    r3 = tu_path(fx.dir, "agent3.log");
    append_records(r1, 0, 10);
    append_records(fx.log, 10, 20);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    assert_exact_findings(&fx, 20);

    /* More is written, then the agent rotates by renaming, then writes a
     * new agent.log; agentwatch was not running meanwhile. */
    append_records(fx.log, 20, 25);
    CU_ASSERT_EQUAL_FATAL(rename(r2, r3) == 0 || access(r2, F_OK) != 0, true);
    CU_ASSERT_EQUAL_FATAL(rename(r1, r2), 0);
    CU_ASSERT_EQUAL_FATAL(rename(fx.log, r1), 0);
    append_records(fx.log, 25, 32);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(st.records, 12);
    assert_exact_findings(&fx, 32);
    free(r1);
    free(r2);
    free(r3);
    fixture_close(&fx);
}

static void test_copy_truncate_rotation(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    char *r1, *content;
    size_t len;
    FILE *f;

    fixture_open(&fx);
    r1 = tu_path(fx.dir, "agent1.log");
    append_records(fx.log, 0, 10);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    append_records(fx.log, 10, 15);          /* not read yet */
    content = tu_read_file(fx.log, &len);
    tu_write_file(r1, content, len);         /* copy ... */
    free(content);
    f = fopen(fx.log, "w");                  /* ... and truncate in place */
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    append_records(fx.log, 15, 20);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(st.records, 10);         /* the copy's unread tail + the new file */
    assert_exact_findings(&fx, 20);
    free(r1);
    fixture_close(&fx);
}

static void test_rewritten_behind_same_head(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    char buf[1024];

    fixture_open(&fx);
    append_records(fx.log, 0, 12);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    /* Same first records (the head), different body, longer than before. */
    unlink(fx.log);
    append_records(fx.log, 0, 6);
    for (int seq = 100; seq < 110; seq++) {
        record_text(buf, sizeof(buf), seq);
        tu_append_str(fx.log, buf);
    }
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(st.records, 16);         /* read again from the start */
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE message LIKE '% #104'"),
                    1);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM files"), 2);
    fixture_close(&fx);
}

static void test_partial_final_record(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    char buf[1024];
    size_t cut;

    fixture_open(&fx);
    append_records(fx.log, 0, 4);
    record_text(buf, sizeof(buf), 4);        /* a trust failure ... */
    cut = (size_t)(strstr(buf, "]]>") - buf);
    buf[cut] = '\0';                         /* ... still being written */
    tu_append_str(fx.log, buf);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    /* Classified already (the writer may never finish it), marked partial,
     * and the read position stays before it. */
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE partial = 1"
                                      " AND rule = 'ssl-trust'"), 1);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT offset < size FROM files"), 1);
    tu_append_str(fx.log, "]]></event>\n");
    append_records(fx.log, 5, 8);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    /* Completed in place: once, whole, no longer partial. */
    assert_exact_findings(&fx, 8);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE partial = 1"), 0);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT offset = size FROM files"), 1);
    fixture_close(&fx);
}

static void test_interrupted_everywhere_exactly_once(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    volatile sig_atomic_t stop = 1;
    struct aw_scan_opts opts = { .format = AW_FORMAT_AUTO, .stop = &stop };
    char *r1;
    int runs = 0;

    fixture_open(&fx);
    r1 = tu_path(fx.dir, "agent1.log");
    append_records(r1, 0, 9);
    append_records(fx.log, 9, 21);
    /* Stopped after every single record, as if killed there. */
    do {
        CU_ASSERT_EQUAL_FATAL(scan(&fx, &opts, &st), AW_OK);
        runs++;
    } while (st.records > 0 && runs < 100);
    CU_ASSERT_TRUE(runs >= 21);
    assert_exact_findings(&fx, 21);
    free(r1);
    fixture_close(&fx);
}

static void test_data_gap(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    volatile sig_atomic_t stop = 1;
    struct aw_scan_opts once = { .format = AW_FORMAT_AUTO, .stop = &stop };
    char *r1, *r2, *message;
    long long offset, size;
    char expected[512];

    fixture_open(&fx);
    r1 = tu_path(fx.dir, "agent1.log");
    r2 = tu_path(fx.dir, "agent2.log");
    append_records(fx.log, 0, 10);
    /* Read one record and stop: the file is known, 9 records unread. */
    CU_ASSERT_EQUAL(scan(&fx, &once, &st), AW_OK);
    CU_ASSERT_TRUE(st.interrupted);
    offset = tu_sql_int(fx.db, "SELECT offset FROM files");
    size = tu_sql_int(fx.db, "SELECT size FROM files");
    CU_ASSERT_TRUE_FATAL(offset > 0 && offset < size);
    /* Rotated by rename, then deleted, before the rest was read. */
    CU_ASSERT_EQUAL(rename(fx.log, r1), 0);
    append_records(fx.log, 10, 14);
    CU_ASSERT_EQUAL(rename(r1, r2), 0);
    CU_ASSERT_EQUAL(unlink(r2), 0);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(st.gaps, 1);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE rule ="
                                      " 'agentwatch.data-gap' AND category = 'agentwatch'"), 1);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT offset FROM findings WHERE category ="
                                      " 'agentwatch'"), offset);
    message = tu_sql_text(fx.db, "SELECT message FROM findings WHERE category = 'agentwatch'");
    snprintf(expected, sizeof(expected),
             "data gap: %lld bytes of %s (bytes %lld-%lld) were rotated away or deleted before"
             " agentwatch read them", size - offset, fx.log, offset, size);
    CU_ASSERT_STRING_EQUAL(message, expected);
    free(message);
    /* Reported once; the records that were read and the new ones stay. */
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(st.gaps, 0);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE message LIKE '% #0'"),
                    1);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE message LIKE '% #12'"),
                    1);
    /* A file of another family going away is none of this scan's business:
     * it is not in the rotation set of agent.log. */
    free(r1);
    free(r2);
    fixture_close(&fx);
}

static void test_small_batches(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    struct aw_scan_opts opts = { .format = AW_FORMAT_AUTO, .batch_records = 3 };

    fixture_open(&fx);
    append_records(fx.log, 0, 17);
    CU_ASSERT_EQUAL(scan(&fx, &opts, &st), AW_OK);
    CU_ASSERT_EQUAL(st.records, 17);
    assert_exact_findings(&fx, 17);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT records FROM files"), 17);
    fixture_close(&fx);
}

/* A trust failure whose message is longer than the store keeps, with a
 * four-byte UTF-8 character across the cut (AW_FINDING_MESSAGE_MAX): the
 * store drops it whole, it must not become a replacement character. */
static void append_long_record(const char *path, int seq)
{
    char *buf = malloc(8192), *msg = malloc(4096);
    size_t n;

    n = (size_t)snprintf(msg, 4096, "Could not establish trust relationship, server said ");
    while (n < AW_FINDING_MESSAGE_MAX - 3) {
        msg[n++] = 'x';
    }
    memcpy(msg + n, "\xF0\x9F\x98\x80 tail", 9);   /* U+1F600, bytes 2045-2048 */
    n += 9;
    msg[n] = '\0';
    snprintf(buf, 8192,
             "<event date='03/11/2025 10:%02d:30.0000000 +01:00' severity='1' hostName='WKS-%04d' "
             "source='ClientPolicyMgr' module='AeXNetComms.dll' process='AeXNSAgent' pid='3120' "
             "thread='4420' tickCount='%d' ><![CDATA[%s #%d]]></event>\n",
             seq % 60, seq, 1000 + seq, msg, seq);
    tu_append_str(path, buf);
    free(buf);
    free(msg);
}

/* The same history of files and scans: rollovers, appends, a long record,
 * a record still being written and completed later, scans stopped after
 * their first record, small batches. */
static void scan_history(struct fixture *fx, const struct aw_scan_opts *base)
{
    volatile sig_atomic_t stop = 1;
    struct aw_scan_opts opts = *base, once = *base;
    struct aw_scan_stats st;
    char *r1 = tu_path(fx->dir, "agent1.log");
    char buf[1024];

    once.stop = &stop;
    append_records(r1, 0, 40);
    append_long_record(r1, 40);
    append_records(fx->log, 41, 70);
    record_text(buf, sizeof(buf), 72);
    buf[strstr(buf, "]]>") - buf] = '\0';
    tu_append_str(fx->log, buf);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(scan(fx, &once, &st), AW_OK);
    }
    CU_ASSERT_EQUAL(scan(fx, &opts, &st), AW_OK);
    tu_append_str(fx->log, "]]></event>\n");
    append_long_record(fx->log, 73);
    append_records(fx->log, 74, 90);
    CU_ASSERT_EQUAL(scan(fx, &opts, &st), AW_OK);
    CU_ASSERT_EQUAL(scan(fx, &opts, &st), AW_OK);
    free(r1);
}

/* Everything the scans stored, as text: findings in id order, files, the
 * hourly counts; times of reading and file identities left out. */
static char *db_digest(struct fixture *fx)
{
    char sql[2048];

    snprintf(sql, sizeof(sql),
             "SELECT (SELECT group_concat(r, char(10)) FROM (SELECT id || '|' || ts || '|' ||"
             " ts_known || '|' || host || '|' || file_id || '|' || replace(path, '%s', '') ||"
             " '|' || offset || '|' || rule || '|' || category || '|' || severity || '|' || level"
             " || '|' || message || '|' || partial || '|' || quote(target) || '|' || quote(code)"
             " AS r FROM findings ORDER BY id)) || char(10) ||"
             " (SELECT group_concat(r, char(10)) FROM (SELECT id || '|' ||"
             " replace(path, '%s', '') || '|' || size || '|' || offset || '|' || marker || '|' ||"
             " records || '|' || truncated || '|' || findings || '|' || quote(last_record) ||"
             " '|' || quote(last_record_host) AS r FROM files ORDER BY id)) ||"
             " char(10) || (SELECT group_concat(r, char(10)) FROM (SELECT hour || '|' || host ||"
             " '|' || rule || '|' || count || '|' || first || '|' || last AS r FROM finding_hours"
             " ORDER BY hour, host, rule))",
             fx->dir, fx->dir);
    return tu_sql_text(fx->db, sql);
}

/* The store thread carries out exactly the batches the reader decided, in
 * order: the same history gives the same database on one thread, through
 * the default queue, and through a queue of one finding per slot (every
 * finding handed over on its own, the reader waiting on the store). */
static void test_store_thread_same_database(void)
{
    struct aw_scan_opts one = { .format = AW_FORMAT_AUTO, .threads = 1, .batch_records = 7 };
    struct aw_scan_opts piped = { .format = AW_FORMAT_AUTO, .batch_records = 7 };
    struct aw_scan_opts tiny = { .format = AW_FORMAT_AUTO, .batch_records = 7,
                                 .queue_findings = 1 };
    const struct aw_scan_opts *runs[] = { &one, &piped, &tiny };
    char *digest[3];

    for (int i = 0; i < 3; i++) {
        struct fixture fx;

        fixture_open(&fx);
        scan_history(&fx, runs[i]);
        digest[i] = db_digest(&fx);
        CU_ASSERT_PTR_NOT_NULL_FATAL(digest[i]);
        /* all 88 records were read, the long ones cut where they should */
        CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT sum(records) FROM files"), 88);
        CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE partial = 0"
                                          " AND length(CAST(message AS BLOB)) = 2045"), 2);
        CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings"),
                        tu_sql_int(fx.db, "SELECT sum(findings) FROM files"));
        fixture_close(&fx);
    }
    CU_ASSERT_STRING_EQUAL(digest[1], digest[0]);
    CU_ASSERT_STRING_EQUAL(digest[2], digest[0]);
    for (int i = 0; i < 3; i++) {
        free(digest[i]);
    }
}

/* A store error on the store thread (a trigger that refuses the 12th
 * finding) ends the scan with that error, also when the reader is waiting
 * for a slot (a queue of one finding per slot), and leaves the database
 * as one thread leaves it: the batches before the error committed, the
 * one it hit rolled back. */
static void test_store_thread_error(void)
{
    struct aw_scan_opts one = { .format = AW_FORMAT_AUTO, .threads = 1, .batch_records = 5 };
    struct aw_scan_opts piped = { .format = AW_FORMAT_AUTO, .batch_records = 5 };
    struct aw_scan_opts tiny = { .format = AW_FORMAT_AUTO, .batch_records = 5,
                                 .queue_findings = 1 };
    const struct aw_scan_opts *runs[] = { &one, &piped, &tiny };
    char *digest[3];

    for (int i = 0; i < 3; i++) {
        struct fixture fx;
        struct aw_scan_stats st;

        fixture_open(&fx);
        append_records(fx.log, 0, 4);
        CU_ASSERT_EQUAL_FATAL(scan(&fx, runs[i], &st), AW_OK);
        tu_sql_exec(fx.db, "CREATE TRIGGER refuse BEFORE INSERT ON findings"
                           " WHEN (SELECT count(*) FROM findings) >= 11"
                           " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
        append_records(fx.log, 4, 60);
        CU_ASSERT_EQUAL(scan(&fx, runs[i], &st), AW_EDB);
        /* 4 + 10 records in committed batches hold 10 findings; the batch
         * of records 14-18 failed on its second */
        CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings"), 10);
        CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT records FROM files"), 14);
        digest[i] = db_digest(&fx);
        CU_ASSERT_PTR_NOT_NULL_FATAL(digest[i]);
        fixture_close(&fx);
    }
    CU_ASSERT_STRING_EQUAL(digest[1], digest[0]);
    CU_ASSERT_STRING_EQUAL(digest[2], digest[0]);
    for (int i = 0; i < 3; i++) {
        free(digest[i]);
    }
}

static void test_host_attribution(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    struct aw_scan_opts opts = { .format = AW_FORMAT_AUTO, .host = "FLEET-7" };
    char local[256] = "";

    fixture_open(&fx);
    append_records(fx.log, 0, 4);
    CU_ASSERT_EQUAL(scan(&fx, &opts, &st), AW_OK);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM findings WHERE host = 'FLEET-7'"), 3);
    /* A plain-text log has no host: this machine's name. */
    unlink(fx.log);
    tu_write_str(fx.log, "2025-03-11T08:00:02Z ERROR Unable to connect: The remote name could "
                         "not be resolved: 'smp01.corp.example'\n");
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    gethostname(local, sizeof(local) - 1);
    {
        char *host = tu_sql_text(fx.db, "SELECT host FROM findings WHERE rule = 'dns'"
                                        " AND path LIKE '%agent.log' ORDER BY id DESC LIMIT 1");
        CU_ASSERT_PTR_NOT_NULL_FATAL(host);
        CU_ASSERT_STRING_EQUAL(host, local);
        free(host);
    }
    fixture_close(&fx);
}

/* files.last_record: the newest record time read, with the host its
 * record is attributed to as a finding would be. */
static void test_last_record(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    struct aw_scan_opts fleet = { .format = AW_FORMAT_AUTO, .host = "FLEET-7" };
    char *host;

    fixture_open(&fx);
    /* records 0-5: 08:00-08:05 +01:00; the last one, #5, is benign */
    append_records(fx.log, 0, 6);
    CU_ASSERT_EQUAL_FATAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT last_record FROM files"), TU_T0 + 5 * TU_MIN);
    host = tu_sql_text(fx.db, "SELECT last_record_host FROM files");
    CU_ASSERT_STRING_EQUAL(host, "WKS-0142");   /* the record's own hostName */
    free(host);
    /* appended records move it on; --host names the host */
    append_records(fx.log, 6, 10);
    CU_ASSERT_EQUAL_FATAL(scan(&fx, &fleet, &st), AW_OK);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT last_record FROM files"), TU_T0 + 9 * TU_MIN);
    host = tu_sql_text(fx.db, "SELECT last_record_host FROM files");
    CU_ASSERT_STRING_EQUAL(host, "FLEET-7");
    free(host);
    fixture_close(&fx);
}

/* Only the last 64 KiB of a file are dated record by record (plus every
 * matched record): the newest dated record there counts, a record
 * without a time after it changes nothing, and a file with no dated
 * record leaves the time unknown.  Inferred years count. */
static void test_last_record_tail(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    char line[600];
    char *path;

    fixture_open(&fx);
    /* an early record with a later time is outside the tail: not read */
    tu_write_str(fx.log, "2030-01-01T00:00:00Z heartbeat from an early, wrong clock\n");
    for (int i = 0; i < 200; i++) {
        snprintf(line, sizeof(line), "2025-03-11T07:%02d:%02dZ heartbeat %d %0500d\n", i / 60,
                 i % 60, i, 0);
        tu_append_str(fx.log, line);
    }
    tu_append_str(fx.log, "    at Agent.Heartbeat.Send() without a time\n");
    CU_ASSERT_EQUAL_FATAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT last_record FROM files"),
                    TU_T0 + 3 * TU_MIN + 19 * 1000);
    fixture_close(&fx);

    fixture_open(&fx);
    tu_write_str(fx.log, "heartbeat without a time\nanother one\n");
    CU_ASSERT_EQUAL_FATAL(scan(&fx, NULL, &st), AW_OK);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM files WHERE last_record IS NULL"
                                      " AND last_record_host IS NULL"), 1);
    /* syslog without a year: inferred from the file's time, still a time */
    path = tu_path(fx.dir, "syslog");
    tu_write_str(path, "Mar 11 08:00:00 wks agent[12]: heartbeat\n");
    {
        char *paths[1] = { path };
        struct aw_scan_opts opts = { .format = AW_FORMAT_AUTO };
        struct aw_store *store = NULL;
        struct aw_err err = { 0 };

        CU_ASSERT_EQUAL_FATAL(aw_store_open(&store, fx.db, 0, &err), AW_OK);
        CU_ASSERT_EQUAL(aw_scan_run(store, fx.rules, paths, 1, &opts, &st, &err), AW_OK);
        aw_store_close(&store);
    }
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM files WHERE path LIKE '%syslog'"
                                      " AND last_record IS NOT NULL"), 1);
    free(path);
    fixture_close(&fx);
}

static void test_utf16_offsets_are_raw(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    char text[4096] = "", rec[1024];
    unsigned char raw[8192];
    size_t n = 0;
    long long offset;
    char *bytes;

    fixture_open(&fx);
    for (int seq = 0; seq < 4; seq++) {
        record_text(rec, sizeof(rec), seq);
        strcat(text, rec);
    }
    raw[n++] = 0xFF;
    raw[n++] = 0xFE;
    for (size_t i = 0; text[i] != '\0'; i++) {
        raw[n++] = (unsigned char)text[i];
        raw[n++] = 0;
    }
    tu_write_file(fx.log, raw, n);
    CU_ASSERT_EQUAL(scan(&fx, NULL, &st), AW_OK);
    assert_exact_findings(&fx, 4);
    offset = tu_sql_int(fx.db, "SELECT offset FROM findings WHERE message LIKE '% #2'");
    bytes = tu_read_file(fx.log, NULL);
    CU_ASSERT_TRUE_FATAL(offset > 2 && (size_t)offset + 4 < n);
    CU_ASSERT_EQUAL(memcmp(bytes + offset, "<\0e\0v\0", 6), 0);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT offset FROM files"), (long long)n);
    free(bytes);
    fixture_close(&fx);
}

static void test_missing_path(void)
{
    struct fixture fx;
    struct aw_scan_stats st;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    char *paths[1];

    fixture_open(&fx);
    paths[0] = tu_path(fx.dir, "nope/agent.log");
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&store, fx.db, 0, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_scan_run(store, fx.rules, paths, 1, &(struct aw_scan_opts){ 0 }, &st, &err),
                    AW_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, paths[0]));
    aw_store_close(&store);
    free(paths[0]);
    fixture_close(&fx);
}

/* Progress (issue 15): on a terminal, scan rewrites one line on stderr
 * and wipes it; through a pipe, or with --quiet, there is none.  The
 * terminal is a pty from script(1). */
static void test_progress_on_terminal_only(void)
{
    char *dir = tu_mkdtemp();
    char *rules = tu_path(dir, "rules.yaml"), *log = tu_path(dir, "agent.log");
    char *db = tu_path(dir, "aw.db"), *out = NULL, *err = NULL;
    char cmd[2048];
    char *argv[] = { "/usr/bin/script", "-qfec", cmd, "/dev/null", NULL };
    FILE *f;

    tu_write_str(rules, tu_rules_trust_health);
    f = fopen(log, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 2000; i++) {
        fprintf(f, "2025-03-11 07:%02d:%02d ERROR could not establish trust relationship %d\n", i / 60 % 60,
                i % 60, i);
    }
    fclose(f);
    /* a pipe: no progress */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--rules", rules, log, NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_PTR_NULL(strchr(out, '\r'));
    free(out);
    free(err);
    /* a terminal: the line, drawn and wiped, then the usual output */
    tu_sql_exec(db, "DELETE FROM findings; DELETE FROM files;");
    snprintf(cmd, sizeof(cmd), "%s --db %s scan --rules %s %s", tu_agentwatch_bin(), db, rules, log);
    CU_ASSERT_EQUAL_FATAL(tu_run(argv, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\rscan: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " of "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\033[K"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "scanned 1 file: 2000 records, 2000 new findings"));
    free(out);
    free(err);
    /* a terminal and --quiet: nothing at all */
    tu_sql_exec(db, "DELETE FROM findings; DELETE FROM files;");
    snprintf(cmd, sizeof(cmd), "%s --db %s scan --quiet --rules %s %s", tu_agentwatch_bin(), db, rules, log);
    CU_ASSERT_EQUAL_FATAL(tu_run(argv, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    free(err);
    tu_rmtree(dir);
    free(rules);
    free(log);
    free(db);
    free(dir);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("scan", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "family oldest first, idempotent", test_family_oldest_first_and_idempotent);
    CU_add_test(s, "append and rename rotation", test_append_and_rename_rotation);
    CU_add_test(s, "copy-truncate rotation", test_copy_truncate_rotation);
    CU_add_test(s, "rewritten behind the same head", test_rewritten_behind_same_head);
    CU_add_test(s, "partial final record", test_partial_final_record);
    CU_add_test(s, "interrupted everywhere, exactly once", test_interrupted_everywhere_exactly_once);
    CU_add_test(s, "small batches", test_small_batches);
    CU_add_test(s, "store thread: same database as one thread", test_store_thread_same_database);
    CU_add_test(s, "store thread: a store error", test_store_thread_error);
    CU_add_test(s, "data gap", test_data_gap);
    CU_add_test(s, "host attribution", test_host_attribution);
    CU_add_test(s, "newest record time and its host", test_last_record);
    CU_add_test(s, "newest record time: the tail, none, inferred", test_last_record_tail);
    CU_add_test(s, "utf-16 offsets are raw", test_utf16_offsets_are_raw);
    CU_add_test(s, "missing path", test_missing_path);
    CU_add_test(s, "progress on a terminal only", test_progress_on_terminal_only);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
