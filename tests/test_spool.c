/*
 * follow --spool (issue 13) as a black box: the built binary following a
 * real log into a real database and spool folder, killed with SIGKILL at
 * random moments and at the worst one (lines written, transaction not
 * committed), restarted, with the spool rotating; afterwards the spool
 * files hold every finding exactly once, each file starts with its own
 * header, and every line is whole and short.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentwatch/ecs.h"
#include "agentwatch/spool.h"
#include "testutil.h"

static const char rules_yaml[] =
    "version: 1\n"
    "rules:\n"
    "  - id: ssl-trust\n"
    "    category: ssl\n"
    "    severity: error\n"
    "    pattern: '(?i)could not establish trust relationship'\n";

#define TRUST "Could not establish trust relationship for the SSL/TLS secure channel."

struct fx {
    char *dir;
    char *rules;
    char *logs;
    char *log;
    char *db;
    char *spool;
    char *config;
    unsigned long lines;      /* appended to the log so far */
};

static void fx_open(struct fx *f, unsigned long max_size)
{
    char cfg[512];

    memset(f, 0, sizeof(*f));
    f->dir = tu_mkdtemp();
    f->rules = tu_path(f->dir, "rules.yaml");
    f->logs = tu_path(f->dir, "logs");
    f->db = tu_path(f->dir, "t.db");
    f->spool = tu_path(f->dir, "spool");
    f->config = tu_path(f->dir, "agentwatch.yaml");
    CU_ASSERT_FATAL(mkdir(f->logs, 0700) == 0);
    f->log = tu_path(f->logs, "agent.log");
    tu_write_str(f->rules, rules_yaml);
    tu_write_str(f->log, "");
    snprintf(cfg, sizeof(cfg), "spool:\n  path: %s\n  max_size: %lu\n  keep: 1000\n", f->spool,
             max_size);
    tu_write_str(f->config, cfg);
}

static void fx_close(struct fx *f)
{
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->rules);
    free(f->logs);
    free(f->log);
    free(f->db);
    free(f->spool);
    free(f->config);
}

/* n more failures, each a line with a long message (about 700 bytes of
 * ECS), so that the spool rotates every few dozen findings. */
static void append(struct fx *f, unsigned long n)
{
    FILE *out = fopen(f->log, "a");

    CU_ASSERT_FATAL(out != NULL);
    for (unsigned long i = 0; i < n; i++, f->lines++) {
        fprintf(out, "2025-03-11T%02lu:%02lu:%02luZ " TRUST " Attempt %lu.\n",
                (f->lines / 3600) % 24, (f->lines / 60) % 60, f->lines % 60, f->lines);
    }
    fclose(out);
}

/* Start follow (stdout/stderr to files in the test folder); kill_after
 * sets the test kill point (0: none). */
static pid_t start(struct fx *f, unsigned kill_after)
{
    char *argv[] = { (char *)tu_agentwatch_bin(), "--config", f->config, "--db", f->db,
                     "follow", "--rules", f->rules, "--format", "line", "--host", "WKS-1",
                     "--rescan", "1", "--retention-days", "0", f->log, NULL };
    char *out = tu_path(f->dir, "follow.out");
    pid_t pid = fork();

    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        char n[16];
        FILE *o = freopen(out, "a", stdout);
        FILE *e = freopen(out, "a", stderr);

        if (o == NULL || e == NULL) {
            _exit(127);
        }
        if (kill_after > 0) {
            snprintf(n, sizeof(n), "%u", kill_after);
            setenv("AGENTWATCH_TEST_SPOOL_KILL", n, 1);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    free(out);
    return pid;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One integer from the database while follow writes it: waits for its
 * locks (tu_sql_int does not); -1 when the database or table is not
 * there yet. */
static long long sql_int(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    if (access(db_path, F_OK) == 0 &&
        sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

static long long findings(const struct fx *f)
{
    long long n = sql_int(f->db, "SELECT count(*) FROM findings");

    return n < 0 ? 0 : n;
}

/* Size of the active spool file, -1 when there is none. */
static long long spool_size(const struct fx *f)
{
    char *path = tu_path(f->spool, AW_SPOOL_FILE);
    struct stat st;
    long long n = stat(path, &st) == 0 ? (long long)st.st_size : -1;

    free(path);
    return n;
}

/* Wait (bounded: 60 s) until follow has stored and spooled every line
 * appended so far, and the spool file is as long as its committed
 * position (a tail from before was cut). */
static bool wait_caught_up(const struct fx *f, pid_t pid)
{
    for (int i = 0; i < 6000; i++) {
        int status;

        if (waitpid(pid, &status, WNOHANG) == pid) {
            return false;
        }
        if ((unsigned long)findings(f) == f->lines &&
            sql_int(f->db, "SELECT max(id) FROM findings") ==
                sql_int(f->db, "SELECT last_id FROM spool_state") &&
            spool_size(f) == sql_int(f->db, "SELECT offset FROM spool_state")) {
            return true;
        }
        sleep_ms(10);
    }
    return false;
}

static void stop(pid_t pid, int sig, int *status)
{
    kill(pid, sig);
    CU_ASSERT_EQUAL(waitpid(pid, status, 0), pid);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read every spool file (oldest first), check each line, and return the
 * event ids of the findings, sorted; *n gets their number, *files the
 * number of files. */
static char **spool_ids(const struct fx *f, size_t *n, unsigned *files)
{
    size_t cap = 1024, k = 0;
    char **ids = malloc(cap * sizeof(char *));
    char **heads = NULL;
    unsigned nfiles = 0;

    CU_ASSERT_FATAL(ids != NULL);
    for (unsigned i = 1000; i + 1 > 0; i--) {
        char name[64];
        char *path, *text, *line;
        size_t len;

        if (i == 0) {
            snprintf(name, sizeof(name), "%s", AW_SPOOL_FILE);
        } else {
            snprintf(name, sizeof(name), "%s.%u", AW_SPOOL_FILE, i);
        }
        path = tu_path(f->spool, name);
        text = tu_read_file(path, &len);
        free(path);
        if (text == NULL) {
            continue;
        }
        heads = realloc(heads, (nfiles + 1) * sizeof(char *));
        CU_ASSERT_FATAL(heads != NULL);
        /* Header: first, long, unique in its first 256 bytes. */
        CU_ASSERT_EQUAL(strncmp(text, AW_SPOOL_HEADER_START, strlen(AW_SPOOL_HEADER_START)), 0);
        heads[nfiles] = strndup(text, 256);
        for (unsigned j = 0; j < nfiles; j++) {
            CU_ASSERT_STRING_NOT_EQUAL(heads[j], heads[nfiles]);
        }
        nfiles++;
        CU_ASSERT(len > 0 && text[len - 1] == '\n');
        line = text;
        for (size_t lineno = 0; line < text + len; lineno++) {
            char *nl = strchr(line, '\n');
            const char *id;

            CU_ASSERT_FATAL(nl != NULL);
            *nl = '\0';
            CU_ASSERT((size_t)(nl - line) + 1 < 32768);
            if (lineno == 0) {
                CU_ASSERT((size_t)(nl - line) + 1 >= AW_SPOOL_HEADER_MIN);
                CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"event\": {\"kind\": \"state\""));
            } else {
                CU_ASSERT_PTR_NULL(strstr(line, "\"kind\": \"state\""));
                CU_ASSERT_EQUAL(line[nl - line - 1], '}');
                id = strstr(line, "\"event\": {\"id\": \"");
                CU_ASSERT_FATAL(id != NULL);
                if (k == cap) {
                    cap *= 2;
                    ids = realloc(ids, cap * sizeof(char *));
                    CU_ASSERT_FATAL(ids != NULL);
                }
                ids[k++] = strndup(id + 17, AW_ECS_ID_LEN);
            }
            line = nl + 1;
        }
        free(text);
    }
    for (unsigned j = 0; j < nfiles; j++) {
        free(heads[j]);
    }
    free(heads);
    qsort(ids, k, sizeof(char *), cmp_str);
    *n = k;
    *files = nfiles;
    return ids;
}

/* The spool holds exactly the findings of the database, each once. */
static void assert_exactly_once(const struct fx *f, unsigned *files_out)
{
    char *out = NULL, *err = NULL;
    size_t n = 0, dups = 0;
    unsigned files = 0;
    char **ids = spool_ids(f, &n, &files);
    long long stored = findings(f);

    for (size_t i = 1; i < n; i++) {
        dups += strcmp(ids[i - 1], ids[i]) == 0;
    }
    CU_ASSERT_EQUAL(dups, 0);
    CU_ASSERT_EQUAL((long long)n, stored);
    CU_ASSERT_EQUAL((unsigned long)stored, f->lines);
    /* And they are the ids export --format ecs gives the same findings. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", f->db, "export", "--format", "ecs",
                                      NULL), 0);
    {
        size_t m = 0;
        char *p = out;

        while ((p = strstr(p, "\"event\": {\"id\": \"")) != NULL) {
            p += 17;
            char *want = strndup(p, AW_ECS_ID_LEN);

            CU_ASSERT_PTR_NOT_NULL(bsearch(&want, ids, n, sizeof(char *), cmp_str));
            free(want);
            m++;
        }
        CU_ASSERT_EQUAL(m, n);
    }
    free(out);
    free(err);
    for (size_t i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
    if (files_out != NULL) {
        *files_out = files;
    }
}

static void test_spool_basic(void)
{
    struct fx f;
    pid_t pid;
    int status;
    unsigned files = 0;
    char *active;
    size_t len1 = 0, len2 = 0;
    char *text;

    fx_open(&f, 65536);
    append(&f, 50);
    pid = start(&f, 0);
    CU_ASSERT_FATAL(wait_caught_up(&f, pid));
    stop(pid, SIGTERM, &status);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_exactly_once(&f, &files);
    CU_ASSERT_EQUAL(files, 1);
    active = tu_path(f.spool, AW_SPOOL_FILE);
    text = tu_read_file(active, &len1);
    free(text);
    /* Restarted with nothing new: nothing written, not even a header. */
    pid = start(&f, 0);
    CU_ASSERT_FATAL(wait_caught_up(&f, pid));
    stop(pid, SIGTERM, &status);
    text = tu_read_file(active, &len2);
    free(text);
    CU_ASSERT_EQUAL(len1, len2);
    /* More findings, enough to rotate (64 KiB files). */
    append(&f, 300);
    pid = start(&f, 0);
    CU_ASSERT_FATAL(wait_caught_up(&f, pid));
    stop(pid, SIGTERM, &status);
    assert_exactly_once(&f, &files);
    CU_ASSERT(files >= 3);
    /* An uncommitted tail (as a crash leaves it) is cut back on start. */
    tu_append_str(active, "{\"half\": \"a line of a transaction that never committed\"}\n{\"ha");
    pid = start(&f, 0);
    CU_ASSERT_FATAL(wait_caught_up(&f, pid));
    stop(pid, SIGTERM, &status);
    assert_exactly_once(&f, NULL);
    free(active);
    fx_close(&f);
}

/* The worst moment: lines written, transaction not committed. */
static void test_spool_killed_before_commit(void)
{
    struct fx f;
    pid_t pid;
    int status;
    unsigned files = 0;

    fx_open(&f, 65536);
    append(&f, 200);
    pid = start(&f, 30);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* Killed inside its first transaction: nothing committed, 30 lines
     * on disk beyond the committed header. */
    CU_ASSERT_EQUAL(findings(&f), 0);
    pid = start(&f, 0);
    CU_ASSERT_FATAL(wait_caught_up(&f, pid));
    stop(pid, SIGTERM, &status);
    assert_exactly_once(&f, &files);
    /* Killed right after a rotation's first lines. */
    append(&f, 400);
    pid = start(&f, 150);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFSIGNALED(status));
    pid = start(&f, 0);
    CU_ASSERT_FATAL(wait_caught_up(&f, pid));
    stop(pid, SIGTERM, &status);
    assert_exactly_once(&f, &files);
    CU_ASSERT(files >= 4);
    fx_close(&f);
}

/* SIGKILL at arbitrary moments while the log grows and the spool rotates. */
static void test_spool_killed_anywhere(void)
{
    struct fx f;
    pid_t pid;
    int status;
    unsigned files = 0;

    fx_open(&f, 65536);
    srand(13);
    for (int round = 0; round < 8; round++) {
        long long before = findings(&f);

        append(&f, 150 + (unsigned long)(rand() % 150));
        pid = start(&f, 0);
        /* Kill as soon as some of the new findings were stored, or a
         * random few milliseconds in. */
        for (int i = 0; i < 3000 && findings(&f) == before; i++) {
            sleep_ms(1);
        }
        sleep_ms(rand() % 20);
        stop(pid, SIGKILL, &status);
    }
    pid = start(&f, 0);
    CU_ASSERT_FATAL(wait_caught_up(&f, pid));
    stop(pid, SIGTERM, &status);
    assert_exactly_once(&f, &files);
    CU_ASSERT(files >= 5);
    fx_close(&f);
}

static int register_suites(void)
{
    CU_pSuite s = CU_add_suite("spool", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "spool: header, lines, rotation, tail cut", test_spool_basic);
    CU_add_test(s, "spool: SIGKILL between write and commit", test_spool_killed_before_commit);
    CU_add_test(s, "spool: SIGKILL at random moments", test_spool_killed_anywhere);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, register_suites);
}
