/*
 * follow's automatic probe (issue 12), as a black box: the built binary
 * follows a real log with follow.probe_interval_seconds set; failures name
 * servers on 127.0.0.1 only -- a bound port that refuses connections, and
 * a listener that never answers the TLS handshake (so that its probe runs
 * until its timeout while follow goes on reading).  What is checked is in
 * the database: the probe findings the child probes stored.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentwatch/timeutil.h"
#include "testutil.h"

#define DEADLINE_MS 20000

static const char rules_yaml[] =
    "rules:\n"
    "  - id: connect-failed\n"
    "    category: connection\n"
    "    severity: error\n"
    "    pattern: 'Failed to connect to (?<target>\\S+)'\n"
    "  - id: connected\n"
    "    category: health\n"
    "    severity: info\n"
    "    pattern: 'Connected to'\n";

/* A socket bound on 127.0.0.1, listening or not; its port in *port. */
static int loopback_socket(bool listening, unsigned *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    CU_ASSERT_FATAL(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CU_ASSERT_FATAL(!listening || listen(fd, 8) == 0);
    CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* count(*) of the findings where ...; 0 while the database or its
 * tables are still being created by the follower. */
static long long count(const char *db, const char *where)
{
    char sql[512];
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long n = 0;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM findings WHERE %s", where);
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

/* Wait until count(where) reaches want; false at the deadline. */
static bool wait_count(const char *db, const char *where, long long want)
{
    int64_t deadline = aw_time_now_ms() + DEADLINE_MS;

    while (count(db, where) < want) {
        if (aw_time_now_ms() > deadline) {
            fprintf(stderr, "\n%s: %lld, want %lld\n", where, count(db, where), want);
            return false;
        }
        poll(NULL, 0, 20);
    }
    return true;
}

/* A test's files: a folder with the database, configuration, rules and
 * the log followed. */
struct files {
    char *dir, *db, *cfg, *rules, *log;
};

static void files_new(struct files *f, const char *cfg_text)
{
    f->dir = tu_mkdtemp();
    f->db = tu_path(f->dir, "aw.db");
    f->cfg = tu_path(f->dir, "aw.yaml");
    f->rules = tu_path(f->dir, "rules.yaml");
    f->log = tu_path(f->dir, "agent.log");
    tu_write_str(f->rules, rules_yaml);
    tu_write_str(f->cfg, cfg_text);
}

static void files_free(struct files *f)
{
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->db);
    free(f->cfg);
    free(f->rules);
    free(f->log);
}

static pid_t start_follow(const char *dir, const char *cfg, const char *db, const char *rules,
                          const char *log)
{
    char *out = tu_path(dir, "follow.out");
    pid_t pid = fork();

    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (o < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0) {
            _exit(127);
        }
        execl(tu_agentwatch_bin(), tu_agentwatch_bin(), "--config", cfg, "--db", db, "follow",
              "--retention-days", "0", "--format", "line", "--rules", rules, log, (char *)NULL);
        _exit(127);
    }
    free(out);
    return pid;
}

static void test_probe_on_incident(void)
{
    struct files f;
    char *outp, *out;
    char line[256], where[128];
    unsigned closed, silent;
    int closed_fd = loopback_socket(false, &closed), silent_fd = loopback_socket(true, &silent);
    int status = -1;
    int64_t first_probe_ms;
    pid_t pid;

    files_new(&f, "follow:\n  probe_interval_seconds: 3\n");
    outp = tu_path(f.dir, "follow.out");
    snprintf(line, sizeof(line), "Connected to https://127.0.0.1:%u/\n"
             "Failed to connect to https://127.0.0.1:%u/ccm_system/request\n", closed, closed);
    tu_write_str(f.log, line);
    pid = start_follow(f.dir, f.cfg, f.db, f.rules, f.log);

    /* An incident: its server is probed once, by a child that stored it. */
    snprintf(where, sizeof(where), "rule = 'probe.tcp-refused' AND target = '127.0.0.1:%u'",
             closed);
    CU_ASSERT_TRUE(wait_count(f.db, where, 1));
    first_probe_ms = aw_time_now_ms();
    /* The same incident goes on; a new one within the interval: no probe. */
    snprintf(line, sizeof(line), "Failed to connect to https://127.0.0.1:%u/a\n"
             "Connected to x\nFailed to connect to 127.0.0.1:%u\n", closed, closed);
    tu_append_str(f.log, line);
    CU_ASSERT_TRUE(wait_count(f.db, "rule = 'connect-failed'", 3));
    poll(NULL, 0, 500);
    CU_ASSERT_EQUAL(count(f.db, "rule LIKE 'probe.%'"), 1);

    /* A server that never answers the handshake: its probe runs until its
     * timeout (10 s), and follow keeps reading meanwhile. */
    snprintf(line, sizeof(line), "Connected to x\nFailed to connect to https://127.0.0.1:%u/\n",
             silent);
    tu_append_str(f.log, line);
    CU_ASSERT_TRUE(wait_count(f.db, "rule = 'connect-failed'", 4));
    tu_append_str(f.log, "Failed to connect to nowhere\n");
    CU_ASSERT_TRUE(wait_count(f.db, "rule = 'connect-failed'", 5));
    CU_ASSERT_EQUAL(count(f.db, "rule LIKE 'probe.%'"), 1);

    /* After the interval, a new incident of the first server: a probe. */
    while (aw_time_now_ms() - first_probe_ms < 3200) {
        poll(NULL, 0, 50);
    }
    snprintf(line, sizeof(line), "Connected to x\nFailed to connect to 127.0.0.1:%u\n", closed);
    tu_append_str(f.log, line);
    CU_ASSERT_TRUE(wait_count(f.db, where, 2));

    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    out = tu_read_file(outp, NULL);
    snprintf(line, sizeof(line), "incident: probing 127.0.0.1:%u", closed);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, line));
    snprintf(line, sizeof(line), "incident: probing 127.0.0.1:%u", silent);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, line));
    if (strstr(out, line) == NULL) {
        fprintf(stderr, "\n%s\n", out);
    }
    free(out);
    close(closed_fd);
    close(silent_fd);
    files_free(&f);
    free(outp);
}

/* Run follow with the configuration cfg_text on a log with one failure
 * naming a refusing loopback port; how many probe findings it stored. */
static long long probes_with_config(const char *cfg_text, bool expect_probe)
{
    struct files f;
    char line[128], where[128];
    unsigned closed;
    int fd = loopback_socket(false, &closed), status = -1;
    long long n;
    pid_t pid;

    files_new(&f, cfg_text);
    snprintf(line, sizeof(line), "Failed to connect to 127.0.0.1:%u\n", closed);
    tu_write_str(f.log, line);
    pid = start_follow(f.dir, f.cfg, f.db, f.rules, f.log);
    CU_ASSERT_TRUE(wait_count(f.db, "rule = 'connect-failed'", 1));
    snprintf(where, sizeof(where), "rule = 'probe.tcp-refused' AND target = '127.0.0.1:%u'",
             closed);
    if (expect_probe) {
        CU_ASSERT_TRUE(wait_count(f.db, where, 1));
    } else {
        poll(NULL, 0, 500);
    }
    n = count(f.db, "rule LIKE 'probe.%'");
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd);
    files_free(&f);
    return n;
}

/* Without the key, follow probes (every 600 s at most). */
static void test_on_by_default(void)
{
    CU_ASSERT_EQUAL(probes_with_config("follow:\n  commit_ms: 50\n", true), 1);
}

/* probe_interval_seconds: 0 turns it off. */
static void test_off_with_zero(void)
{
    CU_ASSERT_EQUAL(probes_with_config("follow:\n  commit_ms: 50\n  probe_interval_seconds: 0\n",
                                       false), 0);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("autoprobe", NULL, NULL);

    if (s == NULL
        || CU_add_test(s, "a probe when an incident starts", test_probe_on_incident) == NULL
        || CU_add_test(s, "on by default", test_on_by_default) == NULL
        || CU_add_test(s, "off with probe_interval_seconds: 0", test_off_with_zero) == NULL) {
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
