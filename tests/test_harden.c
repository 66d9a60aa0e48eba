/*
 * Issue 16 as a black box: the built binary run the way an attacker or a
 * fault injector would run it -- links, FIFOs, foreign owners and modes,
 * other applications' databases, hostile names and bytes.  Every test here
 * failed on the main of before the fix (see the closing note of issue 16).
 *
 * Tests that need another user run the binary through setpriv(1) as
 * nobody (65534) and are skipped with a message when that is impossible
 * (not root, or setpriv missing).  Commands that could hang on the old
 * code run under timeout(1), so a regression fails instead of hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define NOBODY 65534

static const char rules_text[] =
    "rules:\n"
    TU_RULE_SSL_TRUST
    "    cause: The client does not trust the server's certificate chain.\n"
    "    remedy: Import the issuing CA on the clients.\n";

/* One ITMS record whose message matches ssl-trust. */
#define TRUST_EVENT(sec)                                                               \
    "<event date='03/11/2025 08:00:" sec ".0000000 +01:00' severity='1' hostName='WKS-1' " \
    "source='A' module='m' process='p' pid='1' thread='2' tickCount='4' ><![CDATA[Could " \
    "not establish trust relationship for the SSL/TLS secure channel.]]></event>\n"

/* A scratch folder with a rules file and a log folder. */
struct scene {
    char *dir;
    char *rules;
    char *logs;
    char *db;
    char *active;             /* logs/agent.log, not yet written */
};

static void scene_open(struct scene *s)
{
    s->dir = tu_mkdtemp();
    s->rules = tu_path(s->dir, "rules.yaml");
    s->logs = tu_path(s->dir, "logs");
    s->db = tu_path(s->dir, "aw.db");
    s->active = tu_path(s->logs, "agent.log");
    tu_write_str(s->rules, rules_text);
    if (mkdir(s->logs, 0755) != 0) {
        perror("mkdir");
        abort();
    }
}

static void scene_close(struct scene *s)
{
    tu_rmtree(s->dir);
    free(s->dir);
    free(s->rules);
    free(s->logs);
    free(s->db);
    free(s->active);
}

static char *logs_file(const struct scene *s, const char *name)
{
    return tu_path(s->logs, name);
}

/* agentwatch under timeout(1): exit 124 (or 137) when it hung. */
static int run_bounded(char **out, char **err, const char *const *args)
{
    char *argv[24];
    size_t n = 0;

    argv[n++] = (char *)"/usr/bin/timeout";
    argv[n++] = (char *)"-k";
    argv[n++] = (char *)"5";
    argv[n++] = (char *)"30";
    argv[n++] = (char *)tu_agentwatch_bin();
    for (size_t i = 0; args[i] != NULL && n < 23; i++) {
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    return tu_run(argv, out, err);
}

static int scan(const struct scene *s, const char *path, char **out, char **err)
{
    const char *args[] = { "--db", s->db, "scan", "--rules", s->rules, path, NULL };
    int rc = run_bounded(out, err, args);

    if (getenv("AW_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "scan %s: exit %d\n%s%s", path, rc, *out, *err);
    }
    return rc;
}

/* Does the file at path contain needle (binary-safe)? */
static int file_contains(const char *path, const char *needle)
{
    size_t len = 0, nlen = strlen(needle);
    char *data = tu_read_file(path, &len);
    int found = 0;

    for (size_t i = 0; data != NULL && i + nlen <= len && !found; i++) {
        found = memcmp(data + i, needle, nlen) == 0;
    }
    free(data);
    return found;
}

static int db_contains(const struct scene *s, const char *needle)
{
    char *wal = NULL;
    int found = file_contains(s->db, needle);

    if (asprintf(&wal, "%s-wal", s->db) < 0) {
        abort();
    }
    found = found || file_contains(wal, needle);
    free(wal);
    return found;
}

/* ---- files the service must not be turned against ------------------ */

static void test_symlink_member_not_followed(void)
{
    struct scene s;
    char *link, *secret, *out = NULL, *err = NULL;
    int rc;

    scene_open(&s);
    link = logs_file(&s, "agent1.log");
    secret = tu_path(s.dir, "shadow");
    tu_write_str(s.active, TRUST_EVENT("01"));
    /* A "secret" that would become a finding if it were read. */
    tu_write_str(secret, "root:SECRET-HASH-0xdeadbeef:19000:0:99999:7:::\n" TRUST_EVENT("00"));
    CU_ASSERT_EQUAL_FATAL(symlink(secret, link), 0);
    rc = scan(&s, s.active, &out, &err);
    CU_ASSERT_EQUAL(rc, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "agent1.log: not read: a symbolic link"));
    CU_ASSERT_EQUAL(tu_count_lines(err), 1);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 1);
    CU_ASSERT_FALSE(db_contains(&s, "SECRET-HASH"));
    /* A folder: the same policy for what its listing finds. */
    free(out);
    free(err);
    rc = scan(&s, s.logs, &out, &err);
    CU_ASSERT_EQUAL(rc, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "agent1.log: not read: a symbolic link"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 1);
    free(out);
    free(err);
    free(link);
    free(secret);
    scene_close(&s);
}

static void test_explicit_symlink_resolved_once(void)
{
    struct scene s;
    char *link, *out = NULL, *err = NULL;

    scene_open(&s);
    link = tu_path(s.dir, "current.log");
    tu_write_str(s.active, TRUST_EVENT("01"));
    CU_ASSERT_EQUAL_FATAL(symlink(s.active, link), 0);
    CU_ASSERT_EQUAL(scan(&s, link, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "current.log: a symbolic link; reading its target"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/logs/agent.log"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 1);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM files WHERE path LIKE '%/logs/agent.log'"),
                    1);
    free(out);
    free(err);
    free(link);
    scene_close(&s);
}

static void test_fifo_never_hangs(void)
{
    struct scene s;
    char *fifo, *fifo2, *out = NULL, *err = NULL;
    int rc;

    scene_open(&s);
    fifo = logs_file(&s, "agent1.log");
    fifo2 = logs_file(&s, "other.log");
    tu_write_str(s.active, TRUST_EVENT("01"));
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo2, 0600), 0);
    rc = scan(&s, s.active, &out, &err);
    CU_ASSERT_EQUAL(rc, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "agent1.log: not read: not a regular file"));
    free(out);
    free(err);
    rc = scan(&s, s.logs, &out, &err);
    CU_ASSERT_EQUAL(rc, 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "other.log: not read: not a regular file"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 1);
    free(out);
    free(err);
    {
        /* follow: catch-up must not block either; SIGINT after 3 s. */
        char *argv[] = { "/usr/bin/timeout", "--preserve-status", "-s", "INT", "-k", "10", "3", (char *)tu_agentwatch_bin(),
                         "--db", s.db, "follow", "--rules", s.rules, s.active, NULL };
        rc = tu_run(argv, &out, &err);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "agent1.log: not read: not a regular file"));
        free(out);
        free(err);
    }
    free(fifo);
    free(fifo2);
    scene_close(&s);
}

static void test_foreign_owner_skipped(void)
{
    struct scene s;
    char *member, *out = NULL, *err = NULL;

    if (geteuid() != 0) {
        fprintf(stderr, "skipped: needs root to chown\n");
        return;
    }
    scene_open(&s);
    member = logs_file(&s, "agent1.log");
    tu_write_str(s.active, TRUST_EVENT("01"));
    tu_write_str(member, TRUST_EVENT("00"));
    CU_ASSERT_EQUAL_FATAL(chown(member, 12345, 12345), 0);
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "agent1.log: not read: owned by uid 12345"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 1);
    free(out);
    free(err);
    free(member);
    scene_close(&s);
}

static void test_head_not_stored(void)
{
    struct scene s;
    char *out = NULL, *err = NULL;

    scene_open(&s);
    tu_write_str(s.active, "<event date='03/11/2025 07:59:59.0000000 +01:00' severity='4' "
                         "hostName='WKS-1' source='A' module='m' process='p' pid='1' thread='2' "
                         "tickCount='3' ><![CDATA[token HEAD-SECRET-4711 issued]]></event>\n"
                         TRUST_EVENT("01"));
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 0);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 1);
    CU_ASSERT_FALSE(db_contains(&s, "HEAD-SECRET-4711"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM pragma_table_info('files')"
                                     " WHERE name = 'head'"), 0);
    /* Identity still works: the next scan adds nothing and the grown
     * file resumes. */
    free(out);
    free(err);
    tu_append_str(s.active, TRUST_EVENT("02"));
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 new finding"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM files"), 1);
    free(out);
    free(err);
    scene_close(&s);
}

static void test_lock_symlink_not_followed(void)
{
    struct scene s;
    char *lock, *victim, *content, *out = NULL, *err = NULL;

    scene_open(&s);
    victim = tu_path(s.dir, "victim.conf");
    if (asprintf(&lock, "%s.lock", s.db) < 0) {
        abort();
    }
    tu_write_str(s.active, TRUST_EVENT("01"));
    tu_write_str(victim, "precious=1\n");
    CU_ASSERT_EQUAL_FATAL(symlink(victim, lock), 0);
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "lock file is a symbolic link"));
    content = tu_read_file(victim, NULL);
    CU_ASSERT_STRING_EQUAL(content, "precious=1\n");
    free(content);
    free(out);
    free(err);
    free(victim);
    free(lock);
    scene_close(&s);
}

static void test_database_mode_and_owner(void)
{
    struct scene s;
    char *out = NULL, *err = NULL;
    struct stat st;
    int fd;

    scene_open(&s);
    tu_write_str(s.active, TRUST_EVENT("01"));
    /* Pre-created world-writable: repaired, and said so. */
    fd = open(s.db, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(chmod(s.db, 0666), 0);
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "repaired: mode 0666"));
    CU_ASSERT_EQUAL(stat(s.db, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    free(out);
    free(err);
    if (geteuid() == 0) {
        /* Another user's database: refused, not adopted. */
        CU_ASSERT_EQUAL_FATAL(chown(s.db, 12345, 12345), 0);
        CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "refused: owned by uid 12345"));
        free(out);
        free(err);
    }
    scene_close(&s);
}

static void test_foreign_sqlite_untouched(void)
{
    struct scene s;
    char *out = NULL, *err = NULL;

    scene_open(&s);
    tu_write_str(s.active, TRUST_EVENT("01"));
    tu_sql_exec(s.db, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
                      " INSERT INTO customers (name) VALUES ('ACME');");
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "another application"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM sqlite_master"), 1);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "PRAGMA user_version"), 0);
    free(out);
    free(err);
    /* A foreign application_id, even without tables. */
    tu_sql_exec(s.db, "DROP TABLE customers; PRAGMA application_id = 1234;");
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "application_id 0x000004d2"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM sqlite_master"), 0);
    free(out);
    free(err);
    scene_close(&s);
}

static void test_unsafe_database_folder(void)
{
    struct scene s;
    char *shared, *db, *out = NULL, *err = NULL;

    scene_open(&s);
    shared = tu_path(s.dir, "shared");
    db = tu_path(shared, "aw.db");
    tu_write_str(s.active, TRUST_EVENT("01"));
    CU_ASSERT_EQUAL_FATAL(mkdir(shared, 0700), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(shared, 01777), 0);
    {
        const char *args[] = { "--db", db, "scan", "--rules", s.rules, s.active, NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "is writable by others (mode 1777)"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "--allow-unsafe-dir"));
        CU_ASSERT_EQUAL(access(db, F_OK), -1);
        free(out);
        free(err);
    }
    {
        const char *args[] = { "--allow-unsafe-dir", "--db", db, "scan", "--rules", s.rules,
                               s.active, NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 0);
        free(out);
        free(err);
    }
    free(shared);
    free(db);
    scene_close(&s);
}

/* ---- findings that vanish -------------------------------------------- */

static int can_be_nobody(void)
{
    return geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0;
}

static void test_unreadable_rollover_said(void)
{
    struct scene s;
    char *member, *dbdir, *db, *out = NULL, *err = NULL;

    if (!can_be_nobody()) {
        fprintf(stderr, "skipped: needs root and setpriv\n");
        return;
    }
    scene_open(&s);
    member = logs_file(&s, "agent1.log");
    dbdir = tu_path(s.dir, "state");
    db = tu_path(dbdir, "aw.db");
    tu_write_str(s.active, TRUST_EVENT("01"));
    tu_write_str(member, TRUST_EVENT("00"));
    CU_ASSERT_EQUAL_FATAL(chmod(s.dir, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(s.rules, 0644), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(s.active, 0644), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(member, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(dbdir, 0700), 0);
    CU_ASSERT_EQUAL_FATAL(chown(dbdir, NOBODY, NOBODY), 0);
    {
        char *argv[] = { "/usr/bin/timeout", "30", "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                         "--clear-groups", (char *)tu_agentwatch_bin(), "--db", db, "scan",
                         "--rules", s.rules, s.active, NULL };
        int rc = tu_run(argv, &out, &err);
        CU_ASSERT_EQUAL(rc, 4);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "agent1.log: cannot open: Permission denied"));
        CU_ASSERT_EQUAL(tu_count_lines(err), 1);
        CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings"), 1);
    }
    free(out);
    free(err);
    free(member);
    free(dbdir);
    free(db);
    scene_close(&s);
}

/* bash -c cmd (agentwatch under a file-size limit) fails with exit 1 and
 * one line naming EFBIG. */
static void expect_efbig(const char *cmd)
{
    char *argv[] = { "/bin/bash", "-c", (char *)cmd, NULL };
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run(argv, &out, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "file size limit exceeded (EFBIG"));
    CU_ASSERT_EQUAL(tu_count_lines(err), 1);
    free(out);
    free(err);
}

static void test_file_size_limit(void)
{
    struct scene s;
    char *cmd = NULL, *out = NULL, *err = NULL;
    FILE *f;
    long long first;

    scene_open(&s);
    f = fopen(s.active, "w");
    CU_ASSERT_FATAL(f != NULL);
    for (int i = 0; i < 4000; i++) {
        fprintf(f, "<event date='03/11/2025 08:%02d:%02d.%07d +01:00' severity='1' "
                   "hostName='WKS-1' source='A' module='m' process='p' pid='1' thread='2' "
                   "tickCount='4' ><![CDATA[Could not establish trust relationship for the "
                   "SSL/TLS secure channel (%d).]]></event>\n", (i / 60) % 60, i % 60, i, i);
    }
    fclose(f);
    /* 300 KiB of file size (bash counts 1024-byte blocks): the database
     * outgrows it long before the 4000 findings are in. */
    if (asprintf(&cmd, "ulimit -f 300; exec '%s' --db '%s' scan --quiet --rules '%s' '%s'",
                 tu_agentwatch_bin(), s.db, s.rules, s.active) < 0) {
        abort();
    }
    expect_efbig(cmd);
    /* Nothing lost: without the limit, the next scan completes the set. */
    first = tu_sql_int(s.db, "SELECT count(*) FROM findings");
    CU_ASSERT(first < 4000);
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 0);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 4000);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(DISTINCT offset) FROM findings"), 4000);
    free(out);
    free(err);
    free(cmd);
    /* scan writes on its store thread, which blocks every signal; a
     * command that writes on the main thread (export opens the database,
     * whose shared-memory file outgrows 8 KiB) is what SIGXFSZ would kill. */
    if (asprintf(&cmd, "ulimit -f 8; exec '%s' --db '%s' export", tu_agentwatch_bin(), s.db) < 0) {
        abort();
    }
    expect_efbig(cmd);
    free(cmd);
    scene_close(&s);
}

/* ---- findings that vanish without a word ---------------------------- */

/* A record that hits the PCRE2 match limit is no silent "no match": it is
 * said per rule by scan, rules test and report, and stored as a finding
 * of agentwatch.match-limit naming the rule.  (a+)+$|b$ matches
 * "a...ab" at "b", but tries every way to split the a's first: 10 a's are
 * found, 20 exceed the limit. */
static void test_match_limit_reported(void)
{
    static const char bad_rules[] =
        "rules:\n"
        "  - id: bad\n"
        "    category: test\n"
        "    severity: error\n"
        "    pattern: '(a+)+$|b$'\n";
    struct scene s;
    char *log, *out = NULL, *err = NULL;

    scene_open(&s);
    tu_write_str(s.rules, bad_rules);
    log = logs_file(&s, "x.log");
    /* offsets 0 (10 a's), 12 (20 a's), 34 */
    tu_write_str(log, "aaaaaaaaaab\naaaaaaaaaaaaaaaaaaaab\nhello\n");
    CU_ASSERT_EQUAL(scan(&s, log, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ": 3 records, 2 new findings, 1 not matched (match limit)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "agentwatch: warning: 1 record could not be matched by rule 'bad'"
                                       " (PCRE2 match limit)\n"));
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings WHERE rule = 'bad' AND offset = 0"), 1);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings WHERE rule = 'agentwatch.match-limit'"
                                     " AND category = 'agentwatch' AND severity = 'warning' AND code = 'bad'"
                                     " AND offset = 12 AND message LIKE 'rule ''bad'' could not be matched%'"
                                     " AND message LIKE '%aaaaaaaaaaaaaaaaaaaab'"), 1);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 2);
    free(out);
    free(err);
    /* rules test: the record says which rule stopped, the rule its count */
    {
        const char *args[] = { "rules", "test", "--rules", s.rules, log, NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "x.log:12: unknown - limit=bad: aaaaaaaaaaaaaaaaaaaab\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "x.log:0: unknown bad: aaaaaaaaaab\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nmatch limit hits (PCRE2):\n"
                                           "       1  record could not be matched by rule 'bad'\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n1 record stopped by a match limit\n"));
        free(out);
        free(err);
    }
    /* report: text and JSON */
    {
        const char *text[] = { "--db", s.db, "report", NULL };
        const char *json[] = { "--db", s.db, "report", "--format", "json", NULL };
        const char *other[] = { "--db", s.db, "report", "--format", "json", "--rule", "other", NULL };

        CU_ASSERT_EQUAL(run_bounded(&out, &err, text), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nRecords that could not be classified (PCRE2 match limit):\n"
                                           "  1 record could not be matched by rule 'bad' (last "));
        free(out);
        free(err);
        CU_ASSERT_EQUAL(run_bounded(&out, &err, json), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, " \"match_limit\": [\n  {\"rule\": \"bad\", \"category\": \"test\","
                                           " \"count\": 1, \"first\": \""));
        free(out);
        free(err);
        CU_ASSERT_EQUAL(run_bounded(&out, &err, other), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, " \"match_limit\": [],\n"));
        free(out);
        free(err);
    }
    /* scanned again: nothing new, nothing stored twice */
    CU_ASSERT_EQUAL(scan(&s, log, &out, &err), 0);
    CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 2);
    free(out);
    free(err);
    free(log);
    scene_close(&s);
}

/* ---- output that can be turned against the reader ------------------ */

/* No byte of s may drive a terminal: no ESC, BEL, other C0 control but
 * the line ends, no C1 control, no bidi override or isolate. */
static int terminal_safe(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p != '\0'; p++) {
        if ((*p < 0x20 && *p != '\n') || *p == 0x7F) {
            return 0;
        }
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            return 0;
        }
        if (p[0] == 0xE2 && ((p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) ||
                             (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9))) {
            return 0;
        }
    }
    return 1;
}

/* A name that clears the screen, sets the title, splits the line and
 * reverses the rest (U+202E). */
#define HOSTILE_NAME "agent\033[2J\033]0;pwn\a\nfake\xE2\x80\xAEgol.log"

static void test_hostile_names_sanitised(void)
{
    struct scene s;
    char *hostile, *fifo, *out = NULL, *err = NULL;

    scene_open(&s);
    hostile = logs_file(&s, HOSTILE_NAME);
    fifo = logs_file(&s, "x\033[31mred\n.log");
    tu_write_str(hostile, TRUST_EVENT("01"));
    tu_write_str(s.active, TRUST_EVENT("02"));
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    /* scan: one line per file and the total, one warning. */
    CU_ASSERT_EQUAL(scan(&s, s.logs, &out, &err), 4);
    CU_ASSERT_TRUE(terminal_safe(out));
    CU_ASSERT_TRUE(terminal_safe(err));
    CU_ASSERT_EQUAL(tu_count_lines(out), 3);
    CU_ASSERT_EQUAL(tu_count_lines(err), 1);
    free(out);
    free(err);
    /* rules test FILE...: one line per classified record, then totals. */
    {
        const char *args[] = { "rules", "test", "--rules", s.rules, hostile, NULL };
        run_bounded(&out, &err, args);
        CU_ASSERT_TRUE(terminal_safe(out));
        CU_ASSERT_TRUE(terminal_safe(err));
        CU_ASSERT_PTR_NULL(strstr(out, "\nfake"));
        free(out);
        free(err);
    }
    /* follow: its lines name the files too. */
    {
        char *argv[] = { "/usr/bin/timeout", "--preserve-status", "-s", "INT", "-k", "10", "3",
                         (char *)tu_agentwatch_bin(), "--db", s.db, "follow", "--verbose",
                         "--rules", s.rules, s.logs, NULL };
        CU_ASSERT_EQUAL(tu_run(argv, &out, &err), 0);
        CU_ASSERT_TRUE(terminal_safe(out));
        CU_ASSERT_TRUE(terminal_safe(err));
        free(out);
        free(err);
    }
    /* An error message naming a hostile path. */
    {
        char *bad = tu_path(s.dir, "no\033]0;pwn\a\n\xE2\x81\xA6" "dir/aw.db");
        const char *args[] = { "--db", bad, "report", NULL };
        CU_ASSERT_NOT_EQUAL(run_bounded(&out, &err, args), 0);
        CU_ASSERT_TRUE(terminal_safe(err));
        CU_ASSERT_EQUAL(tu_count_lines(err), 1);
        free(out);
        free(err);
        free(bad);
    }
    /* The report table: the host comes from the log. */
    {
        const char *args[] = { "--db", s.db, "report", NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 0);
        CU_ASSERT_TRUE(terminal_safe(out));
        free(out);
        free(err);
    }
    free(hostile);
    free(fifo);
    scene_close(&s);
}

/* One CSV cell from a line: the field after `commas` commas (no quoted
 * commas in what it is used on). */
static void test_csv_neutralised(void)
{
    struct scene s;
    char *out = NULL, *err = NULL;

    scene_open(&s);
    /* A record whose message is a formula with a tab, CR and LF in it,
     * and a host that is one too. */
    tu_write_str(s.active,
                 "<event date='03/11/2025 08:00:01.0000000 +01:00' severity='1' "
                 "hostName='@SUM(A1)' source='A' module='m' process='p' pid='1' thread='2' "
                 "tickCount='4' ><![CDATA[=HYPERLINK(\"http://127.0.0.1/\")\ttab\rcr\nlf could "
                 "not establish trust relationship \xE2\x80\xAE]]></event>\n");
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 0);
    free(out);
    free(err);
    {
        const char *args[] = { "--db", s.db, "export", "--format", "csv", NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 0);
        /* header + one row, CRLF line ends only */
        CU_ASSERT_EQUAL(tu_count_lines(out), 2);
        CU_ASSERT_PTR_NULL(strchr(out, '\t'));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"'=HYPERLINK(\"\"http://127.0.0.1/\"\")?tab?cr?lf"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, ",'@SUM(A1),"));
        CU_ASSERT_PTR_NULL(strstr(out, "\xE2\x80\xAE"));
        for (const char *p = out; *p != '\0'; p++) {
            if (*p == '\r') {
                CU_ASSERT_EQUAL(p[1], '\n');
            }
        }
        free(out);
        free(err);
    }
    {
        const char *args[] = { "--db", s.db, "report", "--format", "csv", NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 0);
        CU_ASSERT_PTR_NULL(strchr(out, '\t'));
        free(out);
        free(err);
    }
    scene_close(&s);
}

/* ---- smaller ----------------------------------------------------------- */

static void test_report_read_only_folder(void)
{
    struct scene s;
    char *out = NULL, *err = NULL;

    if (!can_be_nobody()) {
        fprintf(stderr, "skipped: needs root and setpriv\n");
        return;
    }
    scene_open(&s);
    tu_write_str(s.active, TRUST_EVENT("01"));
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 0);
    free(out);
    free(err);
    /* A folder and a database nobody may write (but read). */
    CU_ASSERT_EQUAL_FATAL(chmod(s.dir, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(s.db, 0444), 0);
    {
        char *argv[] = { "/usr/bin/timeout", "30", "/usr/bin/setpriv", "--reuid=65534",
                         "--regid=65534", "--clear-groups", (char *)tu_agentwatch_bin(), "--db",
                         s.db, "report", "--format", "json", NULL };
        CU_ASSERT_EQUAL(tu_run(argv, &out, &err), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"total\": 1"));
        CU_ASSERT_STRING_EQUAL(err, "");
        free(out);
        free(err);
    }
    {
        char *argv[] = { "/usr/bin/timeout", "30", "/usr/bin/setpriv", "--reuid=65534",
                         "--regid=65534", "--clear-groups", (char *)tu_agentwatch_bin(), "--db",
                         s.db, "status", NULL };
        CU_ASSERT_EQUAL(tu_run(argv, &out, &err), 1);   /* WARNING: 1 failure */
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "failures=1"));
        free(out);
        free(err);
    }
    scene_close(&s);
}

static void test_when_range_checked(void)
{
    struct scene s;
    char *out = NULL, *err = NULL;

    scene_open(&s);
    tu_write_str(s.active, TRUST_EVENT("01"));
    CU_ASSERT_EQUAL(scan(&s, s.active, &out, &err), 0);
    free(out);
    free(err);
    {
        const char *args[] = { "--db", s.db, "prune", "--older-than", "99999999999d", NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "out of range"));
        CU_ASSERT_EQUAL(tu_sql_int(s.db, "SELECT count(*) FROM findings"), 1);
        free(out);
        free(err);
    }
    {
        const char *args[] = { "--db", s.db, "report", "--since", "3000000w", NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "out of range"));
        free(out);
        free(err);
    }
    {
        const char *args[] = { "--db", s.db, "export", "--until", "99999999999d", NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 2);
        free(out);
        free(err);
    }
    scene_close(&s);
}

/* Under UBSan (the sanitizer build of CI) these crashed: a line longer
 * than the read buffer (pointer overflow in blank_line) and an empty
 * folder (qsort on a NULL array). */
static void test_ubsan_long_line_and_empty_folder(void)
{
    struct scene s;
    char *active, *empty, *line, *out = NULL, *err = NULL;
    size_t n = 700 * 1024;

    scene_open(&s);
    active = logs_file(&s, "long.log");
    empty = tu_path(s.dir, "empty");
    line = malloc(n + 2);
    CU_ASSERT_FATAL(line != NULL);
    memset(line, 'x', n);
    memcpy(line + n - 40, " could not establish trust relationship", 39);
    line[n] = '\n';
    line[n + 1] = '\0';
    tu_write_str(active, " \n");
    tu_append_str(active, line);
    tu_append_str(active, "\n  \n");
    CU_ASSERT_EQUAL_FATAL(mkdir(empty, 0700), 0);
    {
        const char *args[] = { "--db", s.db, "scan", "--format", "line", "--rules", s.rules,
                               active, NULL };
        CU_ASSERT_EQUAL(run_bounded(&out, &err, args), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 record,"));
        free(out);
        free(err);
    }
    CU_ASSERT_EQUAL(scan(&s, empty, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "scanned 0 files"));
    free(out);
    free(err);
    free(line);
    free(active);
    free(empty);
    scene_close(&s);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("harden", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "a link in a log folder is not followed", test_symlink_member_not_followed);
    CU_add_test(s, "an explicit link is resolved once and said", test_explicit_symlink_resolved_once);
    CU_add_test(s, "a FIFO never hangs scan or follow", test_fifo_never_hangs);
    CU_add_test(s, "a member owned by another user is skipped", test_foreign_owner_skipped);
    CU_add_test(s, "no raw head in the database", test_head_not_stored);
    CU_add_test(s, "the lock file is never written through a link", test_lock_symlink_not_followed);
    CU_add_test(s, "database mode repaired, foreign owner refused", test_database_mode_and_owner);
    CU_add_test(s, "another application's SQLite file untouched", test_foreign_sqlite_untouched);
    CU_add_test(s, "a database folder writable by others", test_unsafe_database_folder);
    CU_add_test(s, "an unreadable rollover is said, exit 4", test_unreadable_rollover_said);
    CU_add_test(s, "ulimit -f: EFBIG reported, nothing lost", test_file_size_limit);
    CU_add_test(s, "a match limit hit is said and stored", test_match_limit_reported);
    CU_add_test(s, "hostile names never reach a terminal raw", test_hostile_names_sanitised);
    CU_add_test(s, "CSV: no raw CR/LF/TAB, formulas neutralised", test_csv_neutralised);
    CU_add_test(s, "report in a read-only folder", test_report_read_only_folder);
    CU_add_test(s, "every WHEN is range-checked", test_when_range_checked);
    CU_add_test(s, "UBSan: long line, empty folder", test_ubsan_long_line_and_empty_folder);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
