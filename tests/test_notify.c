/*
 * The service-manager side channel (notify.h) with a real datagram socket
 * standing in for systemd's: the module alone (path and abstract
 * addresses, the watchdog interval and its owner, no socket), the journal
 * priority prefix against real descriptors, and the built binary's follow
 * as the unit runs it (READY=1, STATUS=, WATCHDOG=1, STOPPING=1; with
 * --wait-for-source and no configured source: ready and waiting, then
 * following after a reload brings one).
 *
 * Nothing sleeps to synchronise: every wait is poll() on the socket or a
 * condition polled against a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentwatch/journal.h"
#include "agentwatch/notify.h"
#include "agentwatch/platform.h"
#include "agentwatch/timeutil.h"
#include "testutil.h"

#define DEADLINE_MS 20000

/* A bound datagram socket: at path, or abstract when path starts '@'. */
static int listen_at(const char *addr)
{
    struct sockaddr_un sa;
    size_t n = strlen(addr);
    socklen_t len;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(n < sizeof(sa.sun_path));
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, addr, n);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (addr[0] == '@') {
        sa.sun_path[0] = '\0';
    } else {
        len++;
    }
    CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, len) == 0);
    return fd;
}

/* The next datagram within ms milliseconds (malloc'd), or NULL. */
static char *next_message(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char buf[2048];
    ssize_t n;

    if (poll(&p, 1, ms) <= 0) {
        return NULL;
    }
    n = recv(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) {
        return NULL;
    }
    buf[n] = '\0';
    return strdup(buf);
}

/* Wait until a datagram starting with prefix arrives (others are
 * skipped); it, malloc'd, or NULL at the deadline. */
static char *wait_message(int fd, const char *prefix)
{
    int64_t deadline = aw_time_now_ms() + DEADLINE_MS;

    while (aw_time_now_ms() < deadline) {
        char *m = next_message(fd, 200);
        if (m != NULL && strncmp(m, prefix, strlen(prefix)) == 0) {
            return m;
        }
        free(m);
    }
    return NULL;
}

static void clear_env(void)
{
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    unsetenv("JOURNAL_STREAM");
}

static void send_and_receive(const char *addr)
{
    struct aw_notify n;
    struct aw_err err = { 0 };
    int fd = listen_at(addr);
    char *m;

    setenv("NOTIFY_SOCKET", addr, 1);
    CU_ASSERT_EQUAL_FATAL(aw_notify_init(&n, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_notify_send(&n, &err, "READY=1\nSTATUS=%s %d", "following", 3), AW_OK);
    m = next_message(fd, DEADLINE_MS);
    CU_ASSERT_STRING_EQUAL(m != NULL ? m : "(none)", "READY=1\nSTATUS=following 3");
    free(m);
    aw_notify_free(&n);
    close(fd);
    clear_env();
}

static void test_path_socket(void)
{
    char *dir = tu_mkdtemp();
    char *addr = tu_path(dir, "notify");

    send_and_receive(addr);
    tu_rmtree(dir);
    free(addr);
    free(dir);
}

static void test_abstract_socket(void)
{
    char addr[64];

    snprintf(addr, sizeof(addr), "@agentwatch-test-%ld", (long)getpid());
    send_and_receive(addr);
}

static void test_no_socket(void)
{
    struct aw_notify n;
    struct aw_err err = { 0 };

    clear_env();
    setenv("WATCHDOG_USEC", "1000000", 1);
    CU_ASSERT_EQUAL_FATAL(aw_notify_init(&n, &err), AW_OK);
    CU_ASSERT_PTR_NULL(n.socket);
    CU_ASSERT_EQUAL(n.watchdog_ms, 0);
    CU_ASSERT_EQUAL(aw_notify_send(&n, &err, "READY=1"), AW_OK);
    aw_notify_free(&n);

    /* A socket nobody listens at is an error with its name. */
    setenv("NOTIFY_SOCKET", "/nonexistent/agentwatch/notify", 1);
    CU_ASSERT_EQUAL_FATAL(aw_notify_init(&n, &err), AW_OK);
    CU_ASSERT_NOT_EQUAL(aw_notify_send(&n, &err, "READY=1"), AW_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/agentwatch/notify"));
    aw_notify_free(&n);
    clear_env();
}

static void test_watchdog(void)
{
    char *dir = tu_mkdtemp();
    char *addr = tu_path(dir, "notify");
    int fd = listen_at(addr);
    struct aw_notify n;
    struct aw_err err = { 0 };
    char pid[32];
    char *m;

    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("NOTIFY_SOCKET", addr, 1);
    setenv("WATCHDOG_USEC", "2000000", 1);
    setenv("WATCHDOG_PID", pid, 1);
    CU_ASSERT_EQUAL_FATAL(aw_notify_init(&n, &err), AW_OK);
    CU_ASSERT_EQUAL(n.watchdog_ms, 1000);   /* half the interval */
    aw_notify_watchdog(&n, 50000);
    m = next_message(fd, DEADLINE_MS);
    CU_ASSERT_STRING_EQUAL(m != NULL ? m : "(none)", "WATCHDOG=1");
    free(m);
    aw_notify_watchdog(&n, 50999);          /* not due yet: nothing sent */
    m = next_message(fd, 0);
    CU_ASSERT_PTR_NULL(m);
    free(m);
    aw_notify_watchdog(&n, 51000);
    m = next_message(fd, DEADLINE_MS);
    CU_ASSERT_STRING_EQUAL(m != NULL ? m : "(none)", "WATCHDOG=1");
    free(m);
    aw_notify_free(&n);

    /* The watchdog of another process (the unit's ExecStartPre, say). */
    setenv("WATCHDOG_PID", "1", 1);
    CU_ASSERT_EQUAL_FATAL(aw_notify_init(&n, &err), AW_OK);
    CU_ASSERT_EQUAL(n.watchdog_ms, 0);
    aw_notify_free(&n);
    close(fd);
    clear_env();
    tu_rmtree(dir);
    free(addr);
    free(dir);
}

/* "<3>" only when $JOURNAL_STREAM names what stderr is. */
static void test_journal_prefix(void)
{
    struct stat st;
    char value[64];

    clear_env();
    CU_ASSERT_STRING_EQUAL(aw_journal_prefix(AW_PRIO_ERR), "");
    CU_ASSERT_FATAL(fstat(2, &st) == 0);
    snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", value, 1);
    CU_ASSERT_STRING_EQUAL(aw_journal_prefix(AW_PRIO_ERR), "<3>");
    CU_ASSERT_STRING_EQUAL(aw_journal_prefix(AW_PRIO_WARNING), "<4>");
    snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    setenv("JOURNAL_STREAM", value, 1);
    CU_ASSERT_STRING_EQUAL(aw_journal_prefix(AW_PRIO_ERR), "");
    setenv("JOURNAL_STREAM", "garbage", 1);
    CU_ASSERT_STRING_EQUAL(aw_journal_prefix(AW_PRIO_ERR), "");
    clear_env();
}

/* The binary's error line, with stderr a file that $JOURNAL_STREAM names
 * (what systemd sets up for a unit logging to the journal), and without. */
static void test_binary_error_priority(void)
{
    char *dir = tu_mkdtemp();
    char *errfile = tu_path(dir, "stderr");
    char *db = tu_path(dir, "missing/folder/aw.db");
    const char *prefixes[] = { "<3>agentwatch: ", "agentwatch: " };

    for (int journal = 1; journal >= 0; journal--) {
        int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        struct stat st;
        char value[64];
        pid_t pid;
        int status;
        char *text;

        CU_ASSERT_FATAL(fd >= 0 && fstat(fd, &st) == 0);
        snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            if (journal) {
                setenv("JOURNAL_STREAM", value, 1);
            }
            if (dup2(fd, 2) < 0) {
                _exit(127);
            }
            execl(tu_agentwatch_bin(), tu_agentwatch_bin(), "--db", db, "report", (char *)NULL);
            _exit(127);
        }
        close(fd);
        CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
        text = tu_read_file(errfile, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_EQUAL(strncmp(text, prefixes[journal == 1 ? 0 : 1],
                                strlen(prefixes[journal == 1 ? 0 : 1])), 0);
        if (!journal) {
            CU_ASSERT_PTR_NULL(strstr(text, "<3>"));
        }
        free(text);
    }
    tu_rmtree(dir);
    free(errfile);
    free(db);
    free(dir);
}

/* Start `agentwatch --config CFG --db DB follow ARGS...` with the test
 * socket as $NOTIFY_SOCKET and a 400 ms watchdog; stderr to errfile. */
static pid_t spawn_follow(const char *sock, const char *cfg, const char *db, const char *errfile,
                          const char *a1, const char *a2, const char *a3, const char *a4)
{
    pid_t pid = fork();

    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int e = open(errfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int o = open("/dev/null", O_WRONLY);
        char self[32];

        snprintf(self, sizeof(self), "%ld", (long)getpid());
        setenv("NOTIFY_SOCKET", sock, 1);
        setenv("WATCHDOG_USEC", "400000", 1);
        setenv("WATCHDOG_PID", self, 1);
        if (e < 0 || o < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) {
            _exit(127);
        }
        execl(tu_agentwatch_bin(), tu_agentwatch_bin(), "--config", cfg, "--db", db, "follow",
              a1, a2, a3, a4, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int stop_child(pid_t pid, int sig)
{
    int status;

    kill(pid, sig);
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long long findings(const char *db)
{
    return tu_sql_int(db, "SELECT count(*) FROM findings");
}

static bool wait_findings(const char *db, long long want)
{
    int64_t deadline = aw_time_now_ms() + DEADLINE_MS;

    while (aw_time_now_ms() < deadline) {
        struct stat st;
        if (stat(db, &st) == 0 && findings(db) >= want) {
            return true;
        }
        poll(NULL, 0, 20);
    }
    return false;
}

static const char failure_line[] =
    "<![LOG[Could not establish trust relationship for the SSL/TLS secure channel]LOG]!>"
    "<time=\"08:00:00.000+000\" date=\"03-11-2025\" component=\"CcmMessaging\" context=\"\" "
    "type=\"3\" thread=\"1\" file=\"\">\n";

/* A folder for a follow that notifies: the socket it notifies (listened
 * on, fd), its configuration, database, rules (written: tu_rules_trust),
 * log and stderr file. */
struct nscene {
    char *dir, *sock, *cfg, *db, *rules, *log, *errfile;
    int fd;
};

static void nscene_open(struct nscene *n)
{
    n->dir = tu_mkdtemp();
    n->sock = tu_path(n->dir, "notify");
    n->cfg = tu_path(n->dir, "agentwatch.yaml");
    n->db = tu_path(n->dir, "aw.db");
    n->rules = tu_path(n->dir, "rules.yaml");
    n->log = tu_path(n->dir, "CcmMessaging.log");
    n->errfile = tu_path(n->dir, "stderr");
    n->fd = listen_at(n->sock);
    tu_write_str(n->rules, tu_rules_trust);
}

static void nscene_close(struct nscene *n)
{
    close(n->fd);
    tu_rmtree(n->dir);
    free(n->sock);
    free(n->cfg);
    free(n->db);
    free(n->rules);
    free(n->log);
    free(n->errfile);
    free(n->dir);
}

static void test_follow_notifies(void)
{
    struct nscene n;
    pid_t pid;
    char *m;

    nscene_open(&n);
    tu_write_str(n.cfg, "retention_days: 0\n");
    tu_write_str(n.log, failure_line);
    pid = spawn_follow(n.sock, n.cfg, n.db, n.errfile, "--rules", n.rules, n.log, NULL);
    m = wait_message(n.fd, "READY=1");
    CU_ASSERT_STRING_EQUAL(m != NULL ? m : "(none)", "READY=1\nSTATUS=catching up with 1 path");
    free(m);
    m = wait_message(n.fd, "STATUS=following");
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m != NULL) {
        CU_ASSERT_PTR_NOT_NULL(strstr(m, "STATUS=following 1 file; last commit 20"));
        CU_ASSERT_PTR_NOT_NULL(strstr(m, "1 record, 1 finding since start"));
    }
    free(m);
    m = wait_message(n.fd, "WATCHDOG=1");
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    m = wait_message(n.fd, "WATCHDOG=1");   /* fed again: from the loop */
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    tu_append_str(n.log, failure_line);
    m = wait_message(n.fd, "STATUS=following 1 file");
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m != NULL) {
        CU_ASSERT_PTR_NOT_NULL(strstr(m, "2 records, 2 findings since start"));
    }
    free(m);
    CU_ASSERT_EQUAL(stop_child(pid, SIGTERM), 0);
    m = wait_message(n.fd, "STOPPING=1");
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    nscene_close(&n);
}

/* The native protocol, byte for byte: a value with a newline is written
 * KEY, newline, its length as 64-bit little endian, the value, newline. */
static void test_journal_encode(void)
{
    struct aw_event e = { AW_EVENT_DATA_GAP, 4, "agentwatch.data-gap", "two\nlines", NULL, NULL };
    static const char expected[] =
        "MESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\n"
        "PRIORITY=4\nSYSLOG_IDENTIFIER=agentwatch\nAGENTWATCH_EVENT=data-gap\n"
        "AGENTWATCH_RULE=agentwatch.data-gap\n";
    char buf[512], small[40];
    size_t n = aw_journal_encode(&e, buf, sizeof(buf));

    CU_ASSERT_EQUAL(n, sizeof(expected) - 1);
    CU_ASSERT_EQUAL(memcmp(buf, expected, sizeof(expected) - 1), 0);
    /* No rule: no AGENTWATCH_RULE field; too small a buffer: 0. */
    e.rule = NULL;
    e.message = "one line";
    n = aw_journal_encode(&e, buf, sizeof(buf));
    buf[n] = '\0';
    CU_ASSERT_STRING_EQUAL(buf, "MESSAGE=one line\nPRIORITY=4\nSYSLOG_IDENTIFIER=agentwatch\n"
                                "AGENTWATCH_EVENT=data-gap\n");
    CU_ASSERT_EQUAL(aw_journal_encode(&e, small, sizeof(small)), 0);
}

/* The datagram within the deadline that holds needle (malloc'd), or NULL. */
static char *wait_containing(int fd, const char *needle)
{
    int64_t deadline = aw_time_now_ms() + DEADLINE_MS;

    while (aw_time_now_ms() < deadline) {
        char *m = next_message(fd, 200);
        if (m != NULL && strstr(m, needle) != NULL) {
            return m;
        }
        free(m);
    }
    return NULL;
}

/* The journal entry of event (AGENTWATCH_EVENT=event) arrives within the
 * deadline, starts with prefix (unless NULL) and holds a and b (unless
 * NULL). */
static void expect_entry(int fd, const char *event, const char *prefix, const char *a,
                         const char *b)
{
    char needle[128];
    char *m;

    snprintf(needle, sizeof(needle), "AGENTWATCH_EVENT=%s\n", event);
    m = wait_containing(fd, needle);
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m != NULL) {
        if (prefix != NULL) {
            CU_ASSERT_EQUAL(strncmp(m, prefix, strlen(prefix)), 0);
        }
        if (a != NULL) {
            CU_ASSERT_PTR_NOT_NULL(strstr(m, a));
        }
        if (b != NULL) {
            CU_ASSERT_PTR_NOT_NULL(strstr(m, b));
        }
    }
    free(m);
}

/* follow's state changes reach a journal socket the test binds, as
 * structured entries; without one they would go to syslog. */
static void test_follow_journal_events(void)
{
    char *dir = tu_mkdtemp();
    char *sock = tu_path(dir, "notify"), *jsock = tu_path(dir, "journal");
    char *cfg = tu_path(dir, "agentwatch.yaml"), *db = tu_path(dir, "aw.db");
    char *rules = tu_path(dir, "rules.yaml"), *log = tu_path(dir, "CcmMessaging.log");
    char *errfile = tu_path(dir, "stderr");
    int nfd = listen_at(sock), jfd = listen_at(jsock);
    struct aw_journal j;
    struct aw_event e = { AW_EVENT_DB_ERROR, 3, NULL, "direct", NULL, NULL };
    pid_t pid;
    char *m;

    /* The module on its own: the journal takes the event. */
    setenv("AGENTWATCH_JOURNAL_SOCKET", jsock, 1);
    aw_journal_open(&j);
    CU_ASSERT_EQUAL(aw_journal_send(&j, &e), 1);
    m = next_message(jfd, DEADLINE_MS);
    CU_ASSERT_STRING_EQUAL(m != NULL ? m : "(none)", "MESSAGE=direct\nPRIORITY=3\n"
                           "SYSLOG_IDENTIFIER=agentwatch\nAGENTWATCH_EVENT=database-error\n");
    free(m);
    aw_journal_close(&j);
    tu_write_str(rules, tu_rules_trust);
    tu_write_str(cfg, "retention_days: 0\n");
    tu_write_str(log, failure_line);
    pid = spawn_follow(sock, cfg, db, errfile, "--rules", rules, log, NULL);
    m = wait_message(nfd, "STATUS=following");
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    tu_write_str(rules, "rules:\n  - id: x\n    patern: y\n");
    kill(pid, SIGHUP);
    expect_entry(jfd, "rules-reload-failed", NULL, "PRIORITY=3\n",
                 "rules not reloaded (invalid rule set)");
    tu_write_str(rules, "rules:\n"
                        "  - id: trust\n    category: ssl\n    severity: error\n"
                        "    pattern: '(?i)could not establish trust relationship'\n"
                        "  - id: ok\n    category: health\n    severity: info\n"
                        "    pattern: 'Configuration updated successfully'\n");
    kill(pid, SIGHUP);
    expect_entry(jfd, "rules-reloaded", NULL, "PRIORITY=6\nSYSLOG_IDENTIFIER=agentwatch\n",
                 "reloaded 2 rules");
    /* The endpoint recovers, then fails again: the incident that was
     * going on when follow started ends, a new one starts. */
    tu_append_str(log, "<![LOG[Configuration updated successfully]LOG]!><time=\"08:01:00.000+000\""
                       " date=\"03-11-2025\" component=\"CcmMessaging\" context=\"\" type=\"1\""
                       " thread=\"1\" file=\"\">\n");
    expect_entry(jfd, "incident-ended", "MESSAGE=incident ended: healthy since 20",
                 "PRIORITY=5\n", NULL);
    tu_append_str(log, "<![LOG[Could not establish trust relationship for the SSL/TLS secure"
                       " channel]LOG]!><time=\"08:02:00.000+000\" date=\"03-11-2025\""
                       " component=\"CcmMessaging\" context=\"\" type=\"3\" thread=\"1\" file=\"\">\n");
    expect_entry(jfd, "incident-started", "MESSAGE=incident started: failing since 20",
                 "PRIORITY=4\n", "\nAGENTWATCH_CATEGORY=ssl\n");
    CU_ASSERT_EQUAL(stop_child(pid, SIGTERM), 0);
    unsetenv("AGENTWATCH_JOURNAL_SOCKET");
    close(nfd);
    close(jfd);
    tu_rmtree(dir);
    free(sock); free(jsock); free(cfg); free(db); free(rules); free(log); free(errfile); free(dir);
}

/* The syslog fallback, byte for byte: facility daemon (3 * 8) plus the
 * priority, the timestamp and tag syslog(3) writes, the fields as
 * key=value pairs, a newline made a space. */
static void test_syslog_encode(void)
{
    struct aw_event e = { AW_EVENT_DATA_GAP, 4, "agentwatch.data-gap", "two\nlines", NULL, NULL };
    char buf[512], small[48], stamp[16];

    CU_ASSERT(aw_journal_syslog_encode(&e, "Mar 11 07:00:00", 42, buf, sizeof(buf)) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "<28>Mar 11 07:00:00 agentwatch[42]: data-gap: two lines"
                                " [rule=agentwatch.data-gap]");
    e.event = AW_EVENT_INCIDENT_STARTED;
    e.rule = NULL;
    e.message = "incident started";
    e.category = "ssl";
    e.target = "mp.corp.example:443";
    CU_ASSERT(aw_journal_syslog_encode(&e, "Dec  5 22:01:09", 7, buf, sizeof(buf)) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "<28>Dec  5 22:01:09 agentwatch[7]: incident-started:"
                                " incident started [category=ssl target=mp.corp.example:443]");
    e.event = AW_EVENT_INCIDENT_ENDED;
    e.priority = 5;
    e.category = e.target = NULL;
    CU_ASSERT(aw_journal_syslog_encode(&e, "Dec  5 22:01:09", 7, buf, sizeof(buf)) > 0);
    CU_ASSERT_STRING_EQUAL(buf, "<29>Dec  5 22:01:09 agentwatch[7]: incident-ended:"
                                " incident started");
    CU_ASSERT_EQUAL(aw_journal_syslog_encode(&e, "Dec  5 22:01:09", 7, small, sizeof(small)), 0);
    aw_os_syslog_time(stamp);
    CU_ASSERT_EQUAL(strlen(stamp), 15);
    CU_ASSERT(stamp[3] == ' ' && stamp[6] == ' ' && stamp[9] == ':' && stamp[12] == ':');
    CU_ASSERT_PTR_NOT_NULL(strstr("JanFebMarAprMayJunJulAugSepOctNovDec", (char[4]){ stamp[0],
                                  stamp[1], stamp[2], '\0' }));
}

/* A stored probe sends its verdict as an event (a refused loopback port:
 * warning, rule probe.tcp-refused, its category and target); --no-store
 * sends nothing. */
static void test_probe_verdict_event(void)
{
    char *dir = tu_mkdtemp(), *jsock = tu_path(dir, "journal"), *db = tu_path(dir, "aw.db");
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int jfd = listen_at(jsock), tfd = socket(AF_INET, SOCK_STREAM, 0);
    char target[64], want[320], *out = NULL, *err = NULL, *m;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_FATAL(tfd >= 0 && bind(tfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                    getsockname(tfd, (struct sockaddr *)&sa, &len) == 0);
    close(tfd);              /* nobody listens there now: refused */
    snprintf(target, sizeof(target), "127.0.0.1:%u", ntohs(sa.sin_port));
    setenv("AGENTWATCH_JOURNAL_SOCKET", jsock, 1);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "probe", "--no-store", target,
                                      NULL), 1);
    free(out);
    free(err);
    m = next_message(jfd, 300);
    CU_ASSERT_PTR_NULL(m);
    free(m);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "probe", target, NULL), 1);
    free(out);
    free(err);
    m = next_message(jfd, DEADLINE_MS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    snprintf(want, sizeof(want), "MESSAGE=probe %s: tcp-refused: ", target);
    CU_ASSERT_EQUAL(strncmp(m, want, strlen(want)), 0);
    snprintf(want, sizeof(want), "\nPRIORITY=4\nSYSLOG_IDENTIFIER=agentwatch\n"
             "AGENTWATCH_EVENT=probe-verdict\nAGENTWATCH_RULE=probe.tcp-refused\n"
             "AGENTWATCH_CATEGORY=connection\nAGENTWATCH_TARGET=%s\n", target);
    CU_ASSERT_PTR_NOT_NULL(strstr(m, want));
    free(m);
    unsetenv("AGENTWATCH_JOURNAL_SOCKET");
    close(jfd);
    tu_rmtree(dir);
    free(jsock);
    free(db);
    free(dir);
}

/* The Event Log IDs are a contract (README, src/events.mc). */
static void test_eventlog_ids(void)
{
    static const struct { const char *event; unsigned id; int type; } want[] = {
        { "incident-started", 1000, 2 }, { "incident-ended", 1001, 4 },
        { "probe-verdict", 1002, 2 }, { "data-gap", 1003, 2 }, { "rules-reloaded", 1004, 4 },
        { "rules-reload-failed", 1005, 1 }, { "database-error", 1006, 1 },
    };
    char *path = tu_src_path("src/events.mc"), *mc = tu_read_file(path, NULL);
    unsigned id;
    int type;

    CU_ASSERT_FATAL(mc != NULL);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char line[32];

        CU_ASSERT_EQUAL(aw_journal_eventlog_id(want[i].event, &id, &type), AW_OK);
        CU_ASSERT_EQUAL(id, want[i].id);
        CU_ASSERT_EQUAL(type, want[i].type);
        snprintf(line, sizeof(line), "\nMessageId=%u\n", want[i].id);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc, line));
    }
    CU_ASSERT_EQUAL(aw_journal_eventlog_id("nosuch", &id, &type), AW_ENOTFOUND);
    /* Not on Windows: nothing to report to. */
    CU_ASSERT_EQUAL(aw_os_eventlog(AW_EVENTLOG_ERROR, 1006, NULL, 0), -1);
    free(mc);
    free(path);
}

/* The header of a syslog datagram from follow: "<PRI>Mmm dd hh:mm:ss
 * agentwatch[PID]: EVENT: "; the rest follows. */
static bool syslog_head(const char *m, int pri, pid_t pid, const char *event)
{
    char want[128];

    snprintf(want, sizeof(want), " agentwatch[%ld]: %s: ", (long)pid, event);
    return m != NULL && atoi(m + 1) == pri && m[0] == '<' && strchr(m, '>') != NULL &&
           strlen(strchr(m, '>') + 1) > 15 &&
           strncmp(strchr(m, '>') + 16, want, strlen(want)) == 0;
}

/* Without a journal (its socket missing), follow's events go to the
 * syslog socket, here one the test binds ($AGENTWATCH_SYSLOG_SOCKET),
 * each with its priority, tag, pid and fields. */
static void test_follow_syslog_events(void)
{
    char *dir = tu_mkdtemp();
    char *sock = tu_path(dir, "notify"), *ssock = tu_path(dir, "log");
    char *none = tu_path(dir, "no-journal");
    char *cfg = tu_path(dir, "agentwatch.yaml"), *db = tu_path(dir, "aw.db");
    char *rules = tu_path(dir, "rules.yaml"), *log = tu_path(dir, "CcmMessaging.log");
    char *errfile = tu_path(dir, "stderr");
    int nfd = listen_at(sock), sfd = listen_at(ssock);
    pid_t pid;
    char *m;

    setenv("AGENTWATCH_JOURNAL_SOCKET", none, 1);
    setenv("AGENTWATCH_SYSLOG_SOCKET", ssock, 1);
    tu_write_str(rules, tu_rules_trust);
    tu_write_str(cfg, "retention_days: 0\n");
    tu_write_str(log, "<![LOG[Configuration updated successfully]LOG]!><time=\"08:01:00.000+000\""
                      " date=\"03-11-2025\" component=\"CcmMessaging\" context=\"\" type=\"1\""
                      " thread=\"1\" file=\"\">\n");
    pid = spawn_follow(sock, cfg, db, errfile, "--rules", rules, log, NULL);
    m = wait_message(nfd, "STATUS=following");
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    tu_write_str(rules, "rules:\n  - id: x\n    patern: y\n");
    kill(pid, SIGHUP);
    m = wait_containing(sfd, "rules-reload-failed: ");
    CU_ASSERT(syslog_head(m, 27, pid, "rules-reload-failed"));      /* daemon.err */
    CU_ASSERT_PTR_NOT_NULL(m != NULL ? strstr(m, "rules not reloaded (invalid rule set)") : NULL);
    free(m);
    tu_append_str(log, "<![LOG[Could not establish trust relationship for the SSL/TLS secure"
                       " channel]LOG]!><time=\"08:02:00.000+000\" date=\"03-11-2025\""
                       " component=\"CcmMessaging\" context=\"\" type=\"3\" thread=\"1\" file=\"\">\n");
    m = wait_containing(sfd, "incident-started: ");
    CU_ASSERT(syslog_head(m, 28, pid, "incident-started"));         /* daemon.warning */
    CU_ASSERT_PTR_NOT_NULL(m != NULL ? strstr(m, ": incident started: failing since 20") : NULL);
    CU_ASSERT_PTR_NOT_NULL(m != NULL ? strstr(m, " [category=ssl]") : NULL);
    if (m != NULL && !syslog_head(m, 28, pid, "incident-started")) {
        fprintf(stderr, "syslog: %s\n", m);
    }
    free(m);
    CU_ASSERT_EQUAL(stop_child(pid, SIGTERM), 0);
    unsetenv("AGENTWATCH_JOURNAL_SOCKET");
    unsetenv("AGENTWATCH_SYSLOG_SOCKET");
    close(nfd);
    close(sfd);
    tu_rmtree(dir);
    free(sock); free(ssock); free(none); free(cfg); free(db); free(rules); free(log);
    free(errfile); free(dir);
}

static void test_wait_for_source(void)
{
    struct nscene n;
    char *out = NULL, *errout = NULL, *text, *m;
    char yaml[4096];
    pid_t pid;

    nscene_open(&n);
    snprintf(yaml, sizeof(yaml), "sources:\n#  - /opt/agent/logs/agent.log\nrules: %s\n"
             "retention_days: 0\n", n.rules);
    tu_write_str(n.cfg, yaml);
    tu_write_str(n.log, failure_line);

    /* Without the option: no source is a usage error, as before. */
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &errout, "--config", n.cfg, "--db", n.db, "follow",
                                      (char *)NULL), 2);
    CU_ASSERT_PTR_NOT_NULL(errout != NULL ? strstr(errout, "no sources") : NULL);
    free(out);
    free(errout);

    pid = spawn_follow(n.sock, n.cfg, n.db, n.errfile, "--wait-for-source", NULL, NULL, NULL);
    m = wait_message(n.fd, "READY=1");
    CU_ASSERT_PTR_NOT_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(m != NULL ? strstr(m, "STATUS=waiting for a source") : NULL);
    free(m);
    m = wait_message(n.fd, "WATCHDOG=1");   /* alive while waiting */
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    text = tu_read_file(n.errfile, NULL);
    CU_ASSERT_PTR_NOT_NULL(text != NULL ? strstr(text, "waiting for a source") : NULL);
    free(text);

    /* A reload without a source yet: still waiting, still alive. */
    kill(pid, SIGHUP);
    {
        int64_t deadline = aw_time_now_ms() + DEADLINE_MS;
        bool said = false;
        while (!said && aw_time_now_ms() < deadline) {
            text = tu_read_file(n.errfile, NULL);
            said = text != NULL && strstr(text, "still no sources") != NULL;
            free(text);
            if (!said) {
                poll(NULL, 0, 20);
            }
        }
        CU_ASSERT(said);
    }
    CU_ASSERT_EQUAL(waitpid(pid, NULL, WNOHANG), 0);

    /* The admin configures a source and reloads: it follows it. */
    snprintf(yaml, sizeof(yaml), "sources:\n  - %s\nrules: %s\nretention_days: 0\n", n.log, n.rules);
    tu_write_str(n.cfg, yaml);
    kill(pid, SIGHUP);
    m = wait_message(n.fd, "READY=1\nSTATUS=catching up with 1 path");
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    CU_ASSERT(wait_findings(n.db, 1));
    tu_append_str(n.log, failure_line);
    CU_ASSERT(wait_findings(n.db, 2));
    CU_ASSERT_EQUAL(stop_child(pid, SIGTERM), 0);

    /* Stopped while waiting: a clean exit, not a failure. */
    tu_write_str(n.cfg, "sources:\n");
    pid = spawn_follow(n.sock, n.cfg, n.db, n.errfile, "--wait-for-source", NULL, NULL, NULL);
    m = wait_message(n.fd, "READY=1\nSTATUS=waiting");
    CU_ASSERT_PTR_NOT_NULL(m);
    free(m);
    CU_ASSERT_EQUAL(stop_child(pid, SIGTERM), 0);
    nscene_close(&n);
}

static int register_suites(void)
{
    CU_pSuite s = CU_add_suite("notify", NULL, NULL);

    if (s == NULL) {
        return -1;
    }
    CU_add_test(s, "a path socket", test_path_socket);
    CU_add_test(s, "journal events: the native protocol", test_journal_encode);
    CU_add_test(s, "journal events from follow", test_follow_journal_events);
    CU_add_test(s, "syslog events: the BSD format", test_syslog_encode);
    CU_add_test(s, "Windows Event Log IDs", test_eventlog_ids);
    CU_add_test(s, "a stored probe's verdict as an event", test_probe_verdict_event);
    CU_add_test(s, "syslog events from follow without a journal", test_follow_syslog_events);
    CU_add_test(s, "an abstract socket", test_abstract_socket);
    CU_add_test(s, "no socket, and a socket nobody listens at", test_no_socket);
    CU_add_test(s, "watchdog interval and owner", test_watchdog);
    CU_add_test(s, "journal priority prefix", test_journal_prefix);
    CU_add_test(s, "the binary's error line in the journal", test_binary_error_priority);
    CU_add_test(s, "follow: READY, STATUS, WATCHDOG, STOPPING", test_follow_notifies);
    CU_add_test(s, "follow --wait-for-source", test_wait_for_source);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, register_suites);
}
