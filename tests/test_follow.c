/*
 * follow, as a black box: the built binary follows real files in a scratch
 * folder while this test writes, rotates (rename chain, copy-and-truncate,
 * deleting the oldest, replacing a file by one of the same name, reusing
 * an inode), signals and SIGKILLs it.  Every record carries a unique id;
 * at the end the set of findings must equal the set of failure records
 * written, exactly.
 *
 * Nothing here sleeps to synchronise: every wait is a condition polled
 * against a deadline, and a timeout fails the test with what was seen.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentwatch/timeutil.h"
#include "testutil.h"

#define DEADLINE_MS 20000
#define MAX_IDS 20000

struct fx {
    char *dir;
    char *db;
    char *rules;
    char *log;                /* <dir>/agent.log */
    pid_t pid;                /* running follower, or 0 */
    int starts;               /* followers started so far */
    int next_id;
    bool failure[MAX_IDS];    /* ids written as failure records */
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->dir = tu_mkdtemp();
    f->db = tu_path(f->dir, "aw.db");
    f->rules = tu_path(f->dir, "rules.yaml");
    f->log = tu_path(f->dir, "agent.log");
    tu_write_str(f->rules, tu_rules_trust);
}

static void fx_fini(struct fx *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
    }
    if (getenv("AW_KEEP_TEST_FILES") == NULL) {
        tu_rmtree(f->dir);
    }
    free(f->dir);
    free(f->db);
    free(f->rules);
    free(f->log);
}

static char *rollover(const struct fx *f, int n)
{
    char name[32];

    snprintf(name, sizeof(name), "agent%d.log", n);
    return tu_path(f->dir, name);
}

static void start_with(struct fx *f, const char *extra, const char *opt, const char *value);

/* Start `agentwatch follow` on agent.log (and extra, if given).  The test
 * records are dated 2025, so retention is off unless a test is about it. */
static void start(struct fx *f, const char *extra)
{
    start_with(f, extra, "--retention-days", "0");
}

/* The same with one more option and its value before the paths. */
static void start_with(struct fx *f, const char *extra, const char *opt, const char *value)
{
    char *out = tu_path(f->dir, "follow.out");
    char *err = tu_path(f->dir, "follow.err");
    pid_t pid = fork();

    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) {
            _exit(127);
        }
        if (opt != NULL) {
            execl(tu_agentwatch_bin(), tu_agentwatch_bin(), "--db", f->db, "follow", opt, value,
                  "--rules", f->rules, f->log, extra, (char *)NULL);
        } else {
            execl(tu_agentwatch_bin(), tu_agentwatch_bin(), "--db", f->db, "follow", "--rules",
                  f->rules, f->log, extra, (char *)NULL);
        }
        _exit(127);
    }
    f->pid = pid;
    /* Ready once it announced itself (its signal handlers are in place by
     * then): a signal sent earlier would kill it instead of stopping it. */
    {
        int64_t deadline = aw_time_now_ms() + DEADLINE_MS;
        int starts = ++f->starts, seen = 0;
        while (seen < starts && aw_time_now_ms() < deadline) {
            char *text = tu_read_file(out, NULL);
            seen = 0;
            for (const char *p = text; p != NULL && (p = strstr(p, "following ")) != NULL; p++) {
                seen++;
            }
            free(text);
            if (seen < starts) {
                poll(NULL, 0, 5);
            }
        }
        CU_ASSERT_EQUAL(seen, starts);
    }
    free(out);
    free(err);
}

/* Send sig and reap; the exit status (or 128 + signal). */
static int stop(struct fx *f, int sig)
{
    int status = 0;

    int code;

    kill(f->pid, sig);
    waitpid(f->pid, &status, 0);
    f->pid = 0;
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (sig != SIGKILL && code != 0) {
        char *path = tu_path(f->dir, "follow.err");
        char *text = tu_read_file(path, NULL);
        fprintf(stderr, "follower exited with %d; its stderr:\n%s\n", code, text ? text : "");
        free(text);
        free(path);
    }
    return code;
}

/* An integer from the database, or -1 while it cannot be read (not there
 * yet, or busy): the follower owns it, the test only peeks. */
static long long peek(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    if (access(db, F_OK) != 0) {
        return -1;
    }
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(h, 2000) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static int expected_count(const struct fx *f)
{
    int n = 0;

    for (int i = 0; i < f->next_id; i++) {
        n += f->failure[i];
    }
    return n;
}

/* Wait until the database holds want findings of rule trust. */
static bool wait_findings(struct fx *f, long long want)
{
    int64_t deadline = aw_time_now_ms() + DEADLINE_MS;
    long long got = -1;

    while (aw_time_now_ms() < deadline) {
        got = peek(f->db, "SELECT count(*) FROM findings WHERE rule = 'trust'");
        if (got == want) {
            return true;
        }
        poll(NULL, 0, 10);
    }
    fprintf(stderr, "timed out waiting for %lld findings, have %lld\n", want, got);
    return false;
}

/* Append n records to path as one write per record; every third is a
 * failure, and so is the last (so that once its finding is stored, the
 * whole file has been read). */
static void write_records(struct fx *f, const char *path, int n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

    CU_ASSERT_FATAL(fd >= 0);
    for (int k = 0; k < n; k++) {
        char rec[512];
        int id = f->next_id++;
        bool fail = id % 3 == 0 || k == n - 1;
        int len;

        CU_ASSERT_FATAL(id < MAX_IDS);
        f->failure[id] = fail;
        len = snprintf(rec, sizeof(rec),
                       "<event date='03/11/2025 %02d:%02d:%02d.%07d +00:00' severity='%d' "
                       "hostName='WKS' source='Agent' ><![CDATA[%s #%d]]></event>\n",
                       8 + id / 3600 % 10, id / 60 % 60, id % 60, id, fail ? 1 : 4,
                       fail ? "The underlying connection was closed: Could not establish trust"
                              " relationship for the SSL/TLS secure channel."
                            : "Policy request completed, error=0x00000000",
                       id);
        CU_ASSERT_FATAL(write(fd, rec, (size_t)len) == len);
    }
    close(fd);
}

/* The exact-set check: every failure id once, nothing else. */
static void assert_exact(struct fx *f)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    static unsigned char seen[MAX_IDS];
    int bad = 0, found = 0;

    memset(seen, 0, sizeof(seen));
    CU_ASSERT_FATAL(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CU_ASSERT_FATAL(sqlite3_prepare_v2(h, "SELECT message FROM findings WHERE rule = 'trust'", -1,
                                       &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        const char *hash = m != NULL ? strrchr(m, '#') : NULL;
        int id = hash != NULL ? atoi(hash + 1) : -1;
        if (id < 0 || id >= f->next_id || !f->failure[id] || seen[id]++) {
            if (bad++ < 5) {
                fprintf(stderr, "unexpected or duplicate finding: %s\n", m ? m : "(null)");
            }
        }
        found++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    for (int i = 0; i < f->next_id; i++) {
        if (f->failure[i] && !seen[i] && bad++ < 10) {
            fprintf(stderr, "missing finding for record #%d\n", i);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(found, expected_count(f));
}

/* Once every record written is stored, a clean stop (SIGTERM), then the
 * exact-set check. */
static void stop_exact(struct fx *f)
{
    CU_ASSERT_FATAL(wait_findings(f, expected_count(f)));
    CU_ASSERT_EQUAL(stop(f, SIGTERM), 0);
    assert_exact(f);
}

/* The data gaps and other findings of agentwatch itself in f's database. */
static long long gap_count(const struct fx *f)
{
    return peek(f->db, "SELECT count(*) FROM findings WHERE category = 'agentwatch'");
}

/* Shift agentK.log -> agentK+1.log for K = top..1, then agent.log ->
 * agent1.log (the rename chain). */
static void rename_chain(struct fx *f, int top)
{
    for (int k = top; k >= 1; k--) {
        char *from = rollover(f, k), *to = rollover(f, k + 1);
        if (access(from, F_OK) == 0) {
            CU_ASSERT_EQUAL(rename(from, to), 0);
        }
        free(from);
        free(to);
    }
    {
        char *to = rollover(f, 1);
        if (access(f->log, F_OK) == 0) {
            CU_ASSERT_EQUAL(rename(f->log, to), 0);
        }
        free(to);
    }
}

/* Copy agent.log to agent1.log (after shifting the chain), then empty
 * agent.log in place. */
static void copy_truncate(struct fx *f, int top)
{
    char *to;
    char *content;
    size_t len;

    for (int k = top; k >= 1; k--) {
        char *from = rollover(f, k), *next = rollover(f, k + 1);
        if (access(from, F_OK) == 0) {
            CU_ASSERT_EQUAL(rename(from, next), 0);
        }
        free(from);
        free(next);
    }
    content = tu_read_file(f->log, &len);
    if (content == NULL) {
        return;
    }
    to = rollover(f, 1);
    tu_write_file(to, content, len);
    CU_ASSERT_EQUAL(truncate(f->log, 0), 0);
    free(content);
    free(to);
}

static void test_live_and_partial(void)
{
    struct fx f;
    char *other;
    int fd;
    const char *head = "<event date='03/11/2025 09:00:00.0000000 +00:00' severity='1' >"
                       "<![CDATA[Could not establish trust relationship #";
    char tail[64];

    fx_init(&f);
    other = tu_path(f.dir, "sentinel.log");
    write_records(&f, f.log, 5);
    start(&f, other);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    /* A record being written waits for its end: a complete record in
     * another followed file proves a later scan ran. */
    fd = open(f.log, O_WRONLY | O_APPEND);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
    f.failure[f.next_id] = true;
    snprintf(tail, sizeof(tail), "%d]]></event>\n", f.next_id++);
    write_records(&f, other, 1);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f) - 1));
    CU_ASSERT_EQUAL(peek(f.db, "SELECT count(*) FROM findings WHERE partial = 1"), 0);
    CU_ASSERT(write(fd, tail, strlen(tail)) == (ssize_t)strlen(tail));
    close(fd);
    stop_exact(&f);
    free(other);
    fx_fini(&f);
}

/* follow records the newest record time of what it reads (files.last_record),
 * also from a record no rule matches, so that report can tell a log that
 * went on after its last failure. */
static void test_last_record(void)
{
    struct fx f;
    const char *rec = "<event date='03/11/2025 11:00:00.0000000 +00:00' severity='4' "
                      "hostName='WKS' source='Agent' ><![CDATA[heartbeat sent]]></event>\n";
    int64_t deadline;
    long long got = -1;

    fx_init(&f);
    write_records(&f, f.log, 5);
    start(&f, NULL);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    tu_append_str(f.log, rec);
    deadline = aw_time_now_ms() + DEADLINE_MS;
    while (aw_time_now_ms() < deadline) {
        got = peek(f.db, "SELECT max(last_record) FROM files");
        if (got == TU_T0 + 4 * TU_HOUR) {
            break;
        }
        poll(NULL, 0, 10);
    }
    CU_ASSERT_EQUAL(got, TU_T0 + 4 * TU_HOUR);
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    CU_ASSERT_EQUAL(tu_sql_int(f.db, "SELECT count(*) FROM files WHERE last_record_host = 'WKS'"),
                    1);
    fx_fini(&f);
}

static void test_rotations_while_following(void)
{
    struct fx f;
    char *r1, *r3;

    fx_init(&f);
    start(&f, NULL);
    write_records(&f, f.log, 50);
    rename_chain(&f, 3);                       /* rename chain */
    write_records(&f, f.log, 40);
    copy_truncate(&f, 3);                      /* copy and truncate in place */
    write_records(&f, f.log, 40);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    r3 = rollover(&f, 3);
    r1 = rollover(&f, 1);
    rename_chain(&f, 3);
    write_records(&f, f.log, 10);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    CU_ASSERT_EQUAL(unlink(r3), 0);            /* the oldest is deleted (read) */
    CU_ASSERT_EQUAL(unlink(f.log), 0);         /* replaced by a new file ... */
    write_records(&f, f.log, 30);              /* ... likely on the same inode */
    stop_exact(&f);
    CU_ASSERT_EQUAL(gap_count(&f), 0);
    free(r1);
    free(r3);
    fx_fini(&f);
}

static void test_catch_up_while_stopped(void)
{
    struct fx f;
    char *r1, *r2;

    fx_init(&f);
    r1 = rollover(&f, 1);
    r2 = rollover(&f, 2);
    start(&f, NULL);
    write_records(&f, f.log, 20);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    /* While stopped: more is written, rotated by rename, more written. */
    write_records(&f, f.log, 20);
    rename_chain(&f, 1);
    write_records(&f, f.log, 20);
    start(&f, NULL);
    stop_exact(&f);

    /* Rotated while stopped, nothing lost: no gap is reported.  (Content
     * written and deleted entirely while agentwatch was not running was
     * never seen, so it has no byte range to report; gaps of content that
     * was seen but not read are tested in test_scan.) */
    CU_ASSERT_EQUAL(gap_count(&f), 0);
    free(r1);
    free(r2);
    fx_fini(&f);
}

static void test_sigkill_torture(void)
{
    struct fx f;
    uint32_t x = 12345;

    fx_init(&f);
    start(&f, NULL);
    for (int round = 0; round < 24; round++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        write_records(&f, f.log, 100 + (int)(x % 400));
        switch (round % 6) {
        case 0: rename_chain(&f, 4); break;
        case 1: copy_truncate(&f, 4); break;
        case 2:
        case 3:
            /* Deleting and replacing lose nothing only once read. */
            if (f.pid == 0) {
                start(&f, NULL);
            }
            CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
            if (round % 6 == 2) {
                char *oldest = rollover(&f, 5);
                unlink(oldest);
                free(oldest);
            } else {
                CU_ASSERT_EQUAL(unlink(f.log), 0);
            }
            break;
        default:
            break;
        }
        /* Kill at an arbitrary point: mid-scan, mid-commit, or idle. */
        if (round % 2 == 1 && f.pid > 0) {
            if (x % 3 == 0) {
                write_records(&f, f.log, 2000);
            }
            CU_ASSERT_EQUAL(stop(&f, SIGKILL), 128 + SIGKILL);
            if (x % 4 != 0) {
                start(&f, NULL);
            }
        }
    }
    if (f.pid == 0) {
        start(&f, NULL);
    }
    stop_exact(&f);
    CU_ASSERT_EQUAL(gap_count(&f), 0);
    CU_ASSERT_EQUAL(peek(f.db, "SELECT count(*) FROM findings WHERE partial = 1"), 0);
    fx_fini(&f);
}

static void test_sigterm_mid_batch(void)
{
    struct fx f;
    char *out, *out_path, *check;

    fx_init(&f);
    write_records(&f, f.log, 15000);
    start(&f, NULL);
    /* Stop it while it is still catching up (or just done: either way the
     * stop must be clean and the next run must complete exactly). */
    {
        int64_t deadline = aw_time_now_ms() + DEADLINE_MS;
        while (peek(f.db, "SELECT count(*) FROM findings") < 1 && aw_time_now_ms() < deadline) {
            poll(NULL, 0, 2);
        }
    }
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    out_path = tu_path(f.dir, "follow.out");
    out = tu_read_file(out_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(out != NULL ? strstr(out, "stopped after") : NULL);
    free(out);
    free(out_path);
    check = tu_sql_text(f.db, "PRAGMA quick_check");
    CU_ASSERT_STRING_EQUAL(check, "ok");
    free(check);
    start(&f, NULL);
    stop_exact(&f);
    fx_fini(&f);
}

/* Once follow was sent SIGHUP with a rule set holding the health rule
 * 'policy': the rule is loaded, and of six more records every benign one
 * becomes a 'policy' finding. */
static void expect_policy_rule(struct fx *f)
{
    int64_t deadline = aw_time_now_ms() + DEADLINE_MS;
    int first_new, benign = 0;

    while (peek(f->db, "SELECT count(*) FROM rules WHERE id = 'policy'") != 1 &&
           aw_time_now_ms() < deadline) {
        poll(NULL, 0, 10);
    }
    CU_ASSERT_EQUAL_FATAL(peek(f->db, "SELECT count(*) FROM rules WHERE id = 'policy'"), 1);
    first_new = f->next_id;
    write_records(f, f->log, 6);
    for (int id = first_new; id < f->next_id; id++) {
        benign += !f->failure[id];
    }
    CU_ASSERT_FATAL(benign > 0);
    deadline = aw_time_now_ms() + DEADLINE_MS;
    while (peek(f->db, "SELECT count(*) FROM findings WHERE rule = 'policy'") < benign &&
           aw_time_now_ms() < deadline) {
        poll(NULL, 0, 10);
    }
    CU_ASSERT_EQUAL(peek(f->db, "SELECT count(*) FROM findings WHERE rule = 'policy'"), benign);
}

static void test_sighup_reload(void)
{
    struct fx f;
    char *err, *err_path;
    int64_t deadline;

    fx_init(&f);
    err_path = tu_path(f.dir, "follow.err");
    write_records(&f, f.log, 3);
    start(&f, NULL);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    /* A broken rule file: reported, the old rules keep working. */
    tu_write_str(f.rules, "rules:\n  - id: x\n    patern: y\n");
    kill(f.pid, SIGHUP);
    deadline = aw_time_now_ms() + DEADLINE_MS;
    do {
        poll(NULL, 0, 10);
        err = tu_read_file(err_path, NULL);
        if (err != NULL && strstr(err, "rules not reloaded") != NULL) {
            break;
        }
        free(err);
        err = NULL;
    } while (aw_time_now_ms() < deadline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "rules.yaml:3:5: "));
    free(err);
    write_records(&f, f.log, 6);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    /* A valid new rule set takes effect. */
    tu_write_str(f.rules, "rules:\n"
                          "  - id: trust\n    category: ssl\n    severity: error\n"
                          "    pattern: '(?i)could not establish trust relationship'\n"
                          "  - id: policy\n    category: health\n    severity: info\n"
                          "    pattern: 'Policy request completed'\n");
    kill(f.pid, SIGHUP);
    expect_policy_rule(&f);
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    assert_exact(&f);
    free(err_path);
    fx_fini(&f);
}

/* SIGHUP reloads the local layer as well: a rule put into the
 * --local-rules folder after the start takes effect, beside the shipped
 * ones, without a restart. */
static void test_sighup_reload_local(void)
{
    struct fx f;
    char *dir, *file;

    fx_init(&f);
    dir = tu_path(f.dir, "rules.d");
    CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
    file = tu_path(dir, "50-site.yaml");
    write_records(&f, f.log, 3);
    start_with(&f, NULL, "--local-rules", dir);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    CU_ASSERT_EQUAL(peek(f.db, "SELECT count(*) FROM rules WHERE id = 'policy'"), 0);
    tu_write_str(file, "rules:\n"
                       "  - id: policy\n    category: health\n    severity: info\n"
                       "    pattern: 'Policy request completed'\n");
    kill(f.pid, SIGHUP);
    expect_policy_rule(&f);
    /* The shipped layer still classifies: the trust failures keep coming. */
    CU_ASSERT_TRUE(peek(f.db, "SELECT count(*) FROM findings WHERE rule = 'trust'") > 0);
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    free(file);
    free(dir);
    fx_fini(&f);
}

static void test_one_writer_many_readers(void)
{
    struct fx f;
    char *argv_scan[8], *argv_report[6];
    char *out = NULL, *err = NULL;

    fx_init(&f);
    write_records(&f, f.log, 4);
    start(&f, NULL);
    CU_ASSERT_FATAL(wait_findings(&f, expected_count(&f)));
    argv_scan[0] = (char *)tu_agentwatch_bin();
    argv_scan[1] = "--db";
    argv_scan[2] = f.db;
    argv_scan[3] = "follow";
    argv_scan[4] = "--rules";
    argv_scan[5] = f.rules;
    argv_scan[6] = f.log;
    argv_scan[7] = NULL;
    CU_ASSERT_EQUAL(tu_run(argv_scan, &out, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "database in use by another agentwatch"));
    free(out);
    free(err);
    argv_report[0] = (char *)tu_agentwatch_bin();
    argv_report[1] = "--db";
    argv_report[2] = f.db;
    argv_report[3] = "report";
    argv_report[4] = "--format=json";
    argv_report[5] = NULL;
    CU_ASSERT_EQUAL(tu_run(argv_report, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\": "));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    fx_fini(&f);
}

/* A record a match limit kept from being classified is stored as an
 * agentwatch.match-limit finding and said on stderr, per rule, as scan
 * says it. */
static void test_match_limit_said(void)
{
    struct fx f;
    int64_t deadline;
    char *errpath, *text;
    long long got = -1;

    fx_init(&f);
    tu_write_str(f.rules, "rules:\n"
                          "  - id: bad\n"
                          "    category: test\n"
                          "    severity: error\n"
                          "    pattern: '(a+)+$|b$'\n");
    tu_write_str(f.log, "aaaaaaaaaaaaaaaaaaaaaaaab\n");
    start(&f, NULL);
    deadline = aw_time_now_ms() + DEADLINE_MS;
    while (got != 1 && aw_time_now_ms() < deadline) {
        got = peek(f.db, "SELECT count(*) FROM findings WHERE rule = 'agentwatch.match-limit'"
                         " AND code = 'bad' AND offset = 0");
        if (got != 1) {
            poll(NULL, 0, 10);
        }
    }
    CU_ASSERT_EQUAL(got, 1);
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    errpath = tu_path(f.dir, "follow.err");
    text = tu_read_file(errpath, NULL);
    CU_ASSERT_PTR_NOT_NULL(text != NULL ? strstr(text, "1 record could not be matched by rule 'bad'"
                                                       " (PCRE2 match limit)\n") : NULL);
    free(text);
    free(errpath);
    fx_fini(&f);
}

static void test_retention(void)
{
    struct fx f;
    char *argv[8], *out = NULL, *err = NULL, *err_path;
    int64_t deadline;
    long long stored;

    fx_init(&f);
    write_records(&f, f.log, 30);          /* records of March 2025 */
    argv[0] = (char *)tu_agentwatch_bin();
    argv[1] = "--db";
    argv[2] = f.db;
    argv[3] = "scan";
    argv[4] = "--rules";
    argv[5] = f.rules;
    argv[6] = f.log;
    argv[7] = NULL;
    CU_ASSERT_EQUAL_FATAL(tu_run(argv, &out, &err), 0);
    free(out);
    free(err);
    stored = peek(f.db, "SELECT count(*) FROM findings");
    CU_ASSERT_EQUAL_FATAL(stored, expected_count(&f));
    /* Following with a one-day retention deletes them at start, and
     * nothing is read again. */
    start_with(&f, NULL, "--retention-days", "1");
    deadline = aw_time_now_ms() + DEADLINE_MS;
    while (peek(f.db, "SELECT count(*) FROM findings") != 0 && aw_time_now_ms() < deadline) {
        poll(NULL, 0, 10);
    }
    CU_ASSERT_EQUAL(peek(f.db, "SELECT count(*) FROM findings"), 0);
    CU_ASSERT_EQUAL(stop(&f, SIGTERM), 0);
    err_path = tu_path(f.dir, "follow.err");
    err = tu_read_file(err_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(err != NULL ? strstr(err, "retention: deleted ") : NULL);
    free(err);
    free(err_path);
    CU_ASSERT_EQUAL(peek(f.db, "SELECT count(*) FROM findings"), 0);
    fx_fini(&f);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("follow", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "live records and a partial one", test_live_and_partial);
    CU_add_test(s, "rotations while following", test_rotations_while_following);
    CU_add_test(s, "newest record time", test_last_record);
    CU_add_test(s, "catch up after rotation while stopped", test_catch_up_while_stopped);
    CU_add_test(s, "SIGKILL torture, exactly once", test_sigkill_torture);
    CU_add_test(s, "SIGTERM mid-batch", test_sigterm_mid_batch);
    CU_add_test(s, "SIGHUP reload", test_sighup_reload);
    CU_add_test(s, "SIGHUP reloads the local layer", test_sighup_reload_local);
    CU_add_test(s, "one writer, many readers", test_one_writer_many_readers);
    CU_add_test(s, "automatic retention", test_retention);
    CU_add_test(s, "a match limit hit is stored and said", test_match_limit_said);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
