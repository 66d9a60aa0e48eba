/*
 * export --cursor and --format ecs (issue 13) as a black box: the built
 * binary on databases filled by real scans; a killed exporter and a full
 * disk; the ECS line builder and its size limit directly; probe findings
 * with their server certificate as tls.server.* (stored with the probe's
 * own store API; tests/probe/harness.py "ecs" does it from real probes).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentwatch/ecs.h"
#include "agentwatch/probe.h"
#include "agentwatch/probe_store.h"
#include "agentwatch/spool.h"
#include "agentwatch/store.h"
#include "testutil.h"

static const char rules_yaml[] =
    "version: 1\n"
    "rules:\n"
    TU_RULE_SSL_TRUST
    "  - id: conn-fail\n"
    "    category: connection\n"
    "    severity: critical\n"
    "    pattern: 'Failed to connect to (?<target>\\S+) \\(code=(?<code>0x[0-9A-F]+)\\)'\n"
    "  - id: config-ok\n"
    "    category: health\n"
    "    severity: info\n"
    "    pattern: 'Configuration updated successfully'\n";

#define TRUST "Could not establish trust relationship for the SSL/TLS secure channel.\n"

struct fixture {
    char *dir;
    char *rules;
    char *log;
    char *db;
};

static void fixture_open(struct fixture *fx)
{
    fx->dir = tu_mkdtemp();
    fx->rules = tu_path(fx->dir, "rules.yaml");
    fx->log = tu_path(fx->dir, "agent.log");
    fx->db = tu_path(fx->dir, "t.db");
    tu_write_str(fx->rules, rules_yaml);
    tu_write_str(fx->log, "2025-03-11T07:00:00Z Configuration updated successfully\n"
                          "2025-03-11T07:01:00Z " TRUST
                          "2025-03-11T07:02:00Z Failed to connect to https://smp.corp.example/Altiris"
                          " (code=0x80072EE7)\n"
                          "2025-03-11T07:03:00Z " TRUST);
}

static void fixture_close(struct fixture *fx)
{
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx->rules);
    free(fx->log);
    free(fx->db);
}

static void scan_into(const struct fixture *fx, const char *db, const char *log)
{
    char *out = NULL, *err = NULL;

    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", db, "scan", "--quiet", "--rules",
                                      fx->rules, "--format", "line", "--host", "WKS-1", log,
                                      NULL), 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    free(out);
    free(err);
}

/* stdout of an export with up to four more arguments; *rc gets the exit. */
static char *export(const char *db, int *rc, const char *a1, const char *a2, const char *a3,
                    const char *a4)
{
    char *out = NULL, *err = NULL;

    *rc = tu_run_agentwatch(&out, &err, "--db", db, "export", a1, a2, a3, a4, NULL);
    if (*rc != 0) {
        fprintf(stderr, "export: %s", err);
    }
    free(err);
    return out;
}

static void test_cursor_once(void)
{
    struct fixture fx;
    char *out;
    int rc;

    fixture_open(&fx);
    scan_into(&fx, fx.db, fx.log);
    out = export(fx.db, &rc, "--cursor", "siem", NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 4);
    free(out);
    /* A second call writes nothing. */
    out = export(fx.db, &rc, "--cursor", "siem", NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    /* Another name is independent; CSV writes no header when nothing is new. */
    out = export(fx.db, &rc, "--cursor", "csv-feed", "--format", "csv");
    CU_ASSERT_EQUAL(tu_count_lines(out), 5);
    CU_ASSERT_EQUAL(strncmp(out, "time,time_known,", 16), 0);
    free(out);
    out = export(fx.db, &rc, "--cursor", "csv-feed", "--format", "csv");
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    /* After a scan, only what is new. */
    tu_append_str(fx.log, "2025-03-11T07:04:00Z " TRUST);
    scan_into(&fx, fx.db, fx.log);
    out = export(fx.db, &rc, "--cursor", "siem", NULL, NULL);
    CU_ASSERT_EQUAL(tu_count_lines(out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"time\": \"2025-03-11T07:04:00.000Z\""));
    free(out);
    /* Filters apply; what they leave out is passed over for good. */
    tu_append_str(fx.log, "2025-03-11T07:05:00Z Configuration updated successfully\n"
                          "2025-03-11T07:06:00Z " TRUST);
    scan_into(&fx, fx.db, fx.log);
    out = export(fx.db, &rc, "--cursor", "siem", "--category", "ssl");
    CU_ASSERT_EQUAL(tu_count_lines(out), 1);
    free(out);
    out = export(fx.db, &rc, "--cursor", "siem", NULL, NULL);
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    out = export(fx.db, &rc, "--list-cursors", NULL, NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    {
        const char *head = "cursor\tlast_id\texported\tpending\tupdated\n"
                           "csv-feed\t4\t4\t3\t";

        CU_ASSERT_EQUAL(strncmp(out, head, strlen(head)), 0);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nsiem\t7\t6\t0\t"));
    free(out);
    /* Reset: everything again. */
    out = export(fx.db, &rc, "--reset-cursor", "siem", NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    free(out);
    out = export(fx.db, &rc, "--cursor", "siem", NULL, NULL);
    CU_ASSERT_EQUAL(tu_count_lines(out), 7);
    free(out);
    out = export(fx.db, &rc, "--reset-cursor", "nosuch", NULL, NULL);
    CU_ASSERT_EQUAL(rc, 1);
    free(out);
    fixture_close(&fx);
}

static void test_cursor_usage(void)
{
    struct fixture fx;
    char *out = NULL, *err = NULL;

    fixture_open(&fx);
    scan_into(&fx, fx.db, fx.log);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", fx.db, "export", "--cursor", "a b",
                                      NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: export: invalid cursor name 'a b': expected 1 to"
                                " 128 letters, digits, '.', '_' or '-' (see 'agentwatch export"
                                " --help')\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", fx.db, "export", "--cursor", "a",
                                      "--list-cursors", NULL), 2);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", fx.db, "export", "--format", "xml",
                                      NULL), 2);
    CU_ASSERT_STRING_EQUAL(err, "agentwatch: export: invalid --format 'xml': expected ndjson,"
                                " csv or ecs (see 'agentwatch export --help')\n");
    free(out);
    free(err);
    fixture_close(&fx);
}

/* A full disk: exit 1 and the cursor stays where it was. */
static void test_cursor_write_error(void)
{
    struct fixture fx;
    char *argv[] = { (char *)tu_agentwatch_bin(), "--db", NULL, "export", "--cursor", "x", NULL };
    char *out;
    int rc, status;
    pid_t pid;

    if (access("/dev/full", W_OK) != 0) {
        return;
    }
    fixture_open(&fx);
    scan_into(&fx, fx.db, fx.log);
    argv[2] = fx.db;
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/full", O_WRONLY);
        int nul = open("/dev/null", O_WRONLY);

        if (fd < 0 || nul < 0 || dup2(fd, 1) < 0 || dup2(nul, 2) < 0) {
            _exit(127);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM export_cursors"), 0);
    out = export(fx.db, &rc, "--cursor", "x", NULL, NULL);
    CU_ASSERT_EQUAL(tu_count_lines(out), 4);
    free(out);
    fixture_close(&fx);
}

/* SIGKILL while the output is being written (a reader that stopped
 * reading): nothing is skipped, the whole batch comes again. */
static void test_cursor_killed(void)
{
    struct fixture fx;
    char *argv[] = { (char *)tu_agentwatch_bin(), "--db", NULL, "export", "--cursor", "k",
                     "--format", "ecs", NULL };
    char buf[4096], *out;
    size_t n = 3000;
    int p[2], rc, status;
    pid_t pid;
    ssize_t got;
    FILE *f;

    fixture_open(&fx);
    f = fopen(fx.log, "a");
    CU_ASSERT_FATAL(f != NULL);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "2025-03-11T08:%02zu:%02zuZ " TRUST, (i / 60) % 60, i % 60);
    }
    fclose(f);
    scan_into(&fx, fx.db, fx.log);
    argv[2] = fx.db;
    CU_ASSERT_FATAL(pipe(p) == 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (dup2(p[1], 1) < 0) {
            _exit(127);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    /* Some output arrived: the exporter is writing, and blocks on the
     * full pipe (3000 ECS lines are far beyond a pipe's buffer). */
    got = read(p[0], buf, sizeof(buf));
    CU_ASSERT(got > 0);
    kill(pid, SIGKILL);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(p[0]);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT count(*) FROM export_cursors"), 0);
    out = export(fx.db, &rc, "--cursor", "k", NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), n + 4);
    free(out);
    out = export(fx.db, &rc, "--cursor", "k", NULL, NULL);
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    fixture_close(&fx);
}

/* prune deleting the newest findings must not let reused ids hide behind
 * a cursor. */
static void test_cursor_after_prune(void)
{
    struct fixture fx;
    char *out = NULL, *err = NULL;
    int rc;

    fixture_open(&fx);
    scan_into(&fx, fx.db, fx.log);
    out = export(fx.db, &rc, "--cursor", "p", NULL, NULL);
    CU_ASSERT_EQUAL(tu_count_lines(out), 4);
    free(out);
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, &err, "--db", fx.db, "prune", "--older-than",
                                      "2030-01-01", NULL), 0);
    free(out);
    free(err);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT last_id FROM export_cursors"), 0);
    tu_append_str(fx.log, "2025-03-11T07:09:00Z " TRUST);
    scan_into(&fx, fx.db, fx.log);
    CU_ASSERT_EQUAL(tu_sql_int(fx.db, "SELECT max(id) FROM findings"), 1);
    out = export(fx.db, &rc, "--cursor", "p", NULL, NULL);
    CU_ASSERT_EQUAL(tu_count_lines(out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "07:09:00.000Z"));
    free(out);
    fixture_close(&fx);
}

/* The event.id of each line of an ECS export, in order, joined by '\n'. */
static char *event_ids(const char *ecs)
{
    char *ids = calloc(1, strlen(ecs) + 1);
    const char *p = ecs;

    CU_ASSERT_FATAL(ids != NULL);
    while ((p = strstr(p, "\"event\": {\"id\": \"")) != NULL) {
        p += strlen("\"event\": {\"id\": \"");
        strncat(ids, p, AW_ECS_ID_LEN);
        strcat(ids, "\n");
    }
    return ids;
}

static void test_ecs_ids_stable(void)
{
    struct fixture fx;
    char *db2, *db3, *rotated, *a, *b, *c, *ia, *ib, *ic;
    int rc;

    fixture_open(&fx);
    db2 = tu_path(fx.dir, "rebuilt.db");
    db3 = tu_path(fx.dir, "rotated.db");
    rotated = tu_path(fx.dir, "agent1.log");
    scan_into(&fx, fx.db, fx.log);
    scan_into(&fx, db2, fx.log);
    a = export(fx.db, &rc, "--format", "ecs", NULL, NULL);
    b = export(db2, &rc, "--format", "ecs", NULL, NULL);
    /* The same log under another name (rotated by rename). */
    CU_ASSERT_FATAL(rename(fx.log, rotated) == 0);
    scan_into(&fx, db3, rotated);
    c = export(db3, &rc, "--format", "ecs", NULL, NULL);
    ia = event_ids(a);
    ib = event_ids(b);
    ic = event_ids(c);
    CU_ASSERT_EQUAL(tu_count_lines(ia), 4);
    CU_ASSERT_STRING_EQUAL(ia, ib);
    CU_ASSERT_STRING_EQUAL(ia, ic);
    /* Four distinct ids. */
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = i + 1; j < 4; j++) {
            CU_ASSERT_NOT_EQUAL(strncmp(ia + i * 33, ia + j * 33, 32), 0);
        }
    }
    /* The mapping of one failure with a captured URL and code. */
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "{\"@timestamp\": \"2025-03-11T07:02:00.000Z\", \"event\":"
                                     " {\"id\": \""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"kind\": \"event\", \"category\": [\"network\"], \"type\":"
                                     " [\"connection\", \"error\"], \"outcome\": \"failure\","
                                     " \"code\": \"conn-fail\", \"severity\": 2, \"created\": \""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"rule\": {\"id\": \"conn-fail\", \"name\": \"conn-fail\","
                                     " \"category\": \"connection\"}, \"host\": {\"name\":"
                                     " \"WKS-1\"}, \"log\": {\"file\": {\"path\": \""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"error\": {\"code\": \"0x80072EE7\"}, \"url\": {\"full\":"
                                     " \"https://smp.corp.example/Altiris\"}, \"agentwatch\":"
                                     " {\"category\": \"connection\", \"severity\": \"critical\","));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"outcome\": \"success\", \"code\": \"config-ok\","
                                     " \"severity\": 6,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"ecs\": {\"version\": \"" AW_ECS_VERSION "\"}}\n"));
    free(a);
    free(b);
    free(c);
    free(ia);
    free(ib);
    free(ic);
    free(db2);
    free(db3);
    free(rotated);
    fixture_close(&fx);
}

/* The first line of event_ids() output (the first finding's id). */
static void first_id(const char *ecs, char out[AW_ECS_ID_LEN + 1])
{
    char *ids = event_ids(ecs);

    memcpy(out, ids, AW_ECS_ID_LEN);
    out[AW_ECS_ID_LEN] = '\0';
    free(ids);
}

/* A finding keeps its event.id while its log grows: first read when the
 * log held 100 bytes (its head sums then end in the hash of the whole
 * head, not the hash at 128 bytes), exported again once the log holds
 * kilobytes, and from a database rebuilt from the grown log.  (The id
 * once took the first 64 bytes of the stored head sums, which changed
 * when the head passed 128 bytes: the spool line and the later export of
 * one finding had two ids.) */
static void test_ecs_ids_survive_growth(void)
{
    struct fixture fx;
    char *db2, *a, *b, *c, *ids;
    char ia[AW_ECS_ID_LEN + 1], ib[AW_ECS_ID_LEN + 1], ic[AW_ECS_ID_LEN + 1];
    int rc;

    fixture_open(&fx);
    db2 = tu_path(fx.dir, "rebuilt.db");
    tu_write_str(fx.log, "2025-03-11T07:01:00Z " TRUST);
    CU_ASSERT_FATAL(strlen("2025-03-11T07:01:00Z " TRUST) > AW_ECS_ID_HEAD);
    CU_ASSERT_FATAL(strlen("2025-03-11T07:01:00Z " TRUST) < 2 * AW_ECS_ID_HEAD);
    scan_into(&fx, fx.db, fx.log);
    a = export(fx.db, &rc, "--format", "ecs", NULL, NULL);
    for (int i = 0; i < 40; i++) {
        tu_append_str(fx.log, "2025-03-11T07:02:00Z Requesting configuration\n");
    }
    tu_append_str(fx.log, "2025-03-11T07:03:00Z " TRUST);
    scan_into(&fx, fx.db, fx.log);
    b = export(fx.db, &rc, "--format", "ecs", NULL, NULL);
    scan_into(&fx, db2, fx.log);
    c = export(db2, &rc, "--format", "ecs", NULL, NULL);
    first_id(a, ia);
    first_id(b, ib);
    first_id(c, ic);
    CU_ASSERT_EQUAL(strlen(ia), AW_ECS_ID_LEN);
    CU_ASSERT_STRING_EQUAL(ia, ib);
    CU_ASSERT_STRING_EQUAL(ia, ic);
    ids = event_ids(c);
    CU_ASSERT_EQUAL(tu_count_lines(ids), 2);
    CU_ASSERT_NOT_EQUAL(strncmp(ids, ids + AW_ECS_ID_LEN + 1, AW_ECS_ID_LEN), 0);
    free(ids);
    free(a);
    free(b);
    free(c);
    free(db2);
    fixture_close(&fx);
}

/* A database of schema 6 kept the head's raw bytes (files.head); schema 7
 * replaced them with their hashes.  Such a database, migrated, must give
 * every finding the event.id that a database built by this version from
 * the same log gives: else a SIEM deduplicating on event.id would see
 * every finding exported again after the upgrade twice.  The schema-6
 * shape is made from a current database (the head put back from the log,
 * the hash columns and later tables dropped, the version set back), so
 * migration 7 computes the hashes from the bytes as an old database held
 * them. */
static void test_ecs_ids_survive_migration(void)
{
    struct fixture fx;
    char *old, *a, *b, *ia, *ib, *sql, *log;
    size_t log_len = 0, head_len;
    int rc;

    fixture_open(&fx);
    old = tu_path(fx.dir, "v6.db");
    scan_into(&fx, fx.db, fx.log);
    scan_into(&fx, old, fx.log);
    head_len = (size_t)tu_sql_int(old, "SELECT head_len FROM files");
    log = tu_read_file(fx.log, &log_len);
    CU_ASSERT_FATAL(log != NULL && head_len > AW_ECS_ID_HEAD && head_len <= log_len);
    sql = malloc(2 * head_len + 1024);
    CU_ASSERT_FATAL(sql != NULL);
    strcpy(sql, "DROP TABLE IF EXISTS probe_certs; DROP TABLE IF EXISTS server_certs;"
                " ALTER TABLE files ADD COLUMN head BLOB NOT NULL DEFAULT x'';"
                " UPDATE files SET head = x'");
    for (size_t i = 0; i < head_len; i++) {
        sprintf(sql + strlen(sql), "%02x", (unsigned char)log[i]);
    }
    strcat(sql, "'; ALTER TABLE files DROP COLUMN head_sums; ALTER TABLE files DROP COLUMN head_len;"
                " ALTER TABLE files DROP COLUMN last_record;"
                " ALTER TABLE files DROP COLUMN last_record_host;"
                " PRAGMA application_id = 0; PRAGMA user_version = 6;");
    tu_sql_exec(old, sql);
    CU_ASSERT_EQUAL_FATAL(tu_sql_int(old, "SELECT count(*) FROM pragma_table_info('files')"
                                          " WHERE name = 'head_sums'"), 0);
    scan_into(&fx, old, fx.log);     /* the writer migrates */
    CU_ASSERT(tu_sql_int(old, "PRAGMA user_version") > 6);
    a = export(fx.db, &rc, "--format", "ecs", NULL, NULL);
    b = export(old, &rc, "--format", "ecs", NULL, NULL);
    ia = event_ids(a);
    ib = event_ids(b);
    CU_ASSERT_EQUAL(tu_count_lines(ia), 4);
    CU_ASSERT_STRING_EQUAL(ia, ib);
    free(ia);
    free(ib);
    free(a);
    free(b);
    free(sql);
    free(log);
    free(old);
    fixture_close(&fx);
}

static void test_ecs_line_limit(void)
{
    char msg[3000];
    struct aw_export_row r;
    struct aw_buf b = { 0 };
    struct aw_err err = { 0 };
    char id[AW_ECS_ID_LEN + 1];

    memset(msg, '"', sizeof(msg) - 1);   /* each escapes to two bytes */
    msg[sizeof(msg) - 1] = '\0';
    memset(&r, 0, sizeof(r));
    r.host = "WKS-1";
    r.path = "/var/log/agent.log";
    r.rule = "ssl-trust";
    r.category = "ssl";
    r.severity = "error";
    r.level = "error";
    r.message = msg;
    r.target = "smp.corp.example:4726";
    r.head = (const unsigned char *)"<event date='x'";
    r.head_len = 15;
    CU_ASSERT_EQUAL(aw_ecs_line(&r, 0, &b, &err), AW_OK);
    CU_ASSERT(b.len > 6000);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "\"server\": {\"address\": \"smp.corp.example\","
                                          " \"port\": 4726}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "\"truncated\": false}"));
    CU_ASSERT_EQUAL(aw_ecs_line(&r, 1500, &b, &err), AW_OK);
    CU_ASSERT(b.len <= 1500);
    CU_ASSERT(b.len > 1400);
    CU_ASSERT_EQUAL(b.data[b.len - 1], '\n');
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "\"truncated\": true, \"message_bytes\": 2999}"));
    CU_ASSERT_EQUAL(aw_ecs_line(&r, 100, &b, &err), AW_ELIMIT);
    /* The id depends on content, not on row or file ids or the path. */
    aw_ecs_event_id(&r, id);
    r.id = 99;
    r.file_id = 7;
    r.path = "/elsewhere/agent3.log";
    {
        char id2[AW_ECS_ID_LEN + 1];

        aw_ecs_event_id(&r, id2);
        CU_ASSERT_STRING_EQUAL(id, id2);
        r.offset = 1;
        aw_ecs_event_id(&r, id2);
        CU_ASSERT_STRING_NOT_EQUAL(id, id2);
    }
    aw_buf_free(&b);
}

/* One probe of 127.0.0.1:8443 at ms stored with the probe's store API,
 * with a server certificate unless serial is NULL. */
static void store_probe(struct aw_store *s, int64_t ms, enum aw_probe_verdict v, char h,
                        const char *serial, const char *cn, const char *san)
{
    struct aw_probe_result *r = calloc(1, sizeof(*r));
    struct aw_err err = { 0 };

    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL_FATAL(aw_probe_parse_target("127.0.0.1:8443", &r->target, &err), AW_OK);
    r->verdict = v;
    snprintf(r->detail, sizeof(r->detail), "detail");
    r->started_ms = ms;
    if (serial != NULL) {
        struct aw_probe_cert *c = &r->chain[0];

        /* Hashes in lower case: ECS wants them upper case, whoever stored them. */
        memset(c->sha1, h, 40);
        memset(c->sha256, h + 2, 64);
        snprintf(c->serial, sizeof(c->serial), "%s", serial);
        snprintf(c->subject, sizeof(c->subject), "CN=%s", cn);
        snprintf(c->issuer, sizeof(c->issuer), "CN=agentwatch test root");
        snprintf(c->not_before, sizeof(c->not_before), "2025-01-01T00:00:00Z");
        snprintf(c->not_after, sizeof(c->not_after), "2026-01-01T00:00:00Z");
        snprintf(c->san, sizeof(c->san), "%s", san);
        r->nchain = r->nsent = 1;
    }
    CU_ASSERT_EQUAL(aw_probe_store_result(s, r, "WKS-1", &err), AW_OK);
    free(r);
}

#define TLS_A \
    "\"tls\": {\"server\": {\"hash\": {\"sha1\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"," \
    " \"sha256\": \"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\"}," \
    " \"subject\": \"CN=agent.corp.example\", \"issuer\": \"CN=agentwatch test root\"," \
    " \"not_before\": \"2025-01-01T00:00:00Z\", \"not_after\": \"2026-01-01T00:00:00Z\"," \
    " \"x509\": {\"alternative_names\": [\"agent.corp.example\", \"10.0.0.5\"]," \
    " \"subject\": {\"distinguished_name\": \"CN=agent.corp.example\"}," \
    " \"issuer\": {\"distinguished_name\": \"CN=agentwatch test root\"}," \
    " \"serial_number\": \"1F2A\", \"not_before\": \"2025-01-01T00:00:00Z\"," \
    " \"not_after\": \"2026-01-01T00:00:00Z\"}}}"
#define TLS_B_HASH "{\"sha1\": \"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\""

/* The n-th line (from 0) of text, or NULL; caller frees. */
static char *nth_line(const char *text, int n)
{
    const char *p = text, *end;

    for (int i = 0; i < n && p != NULL; i++) {
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p == NULL || *p == '\0') {
        return NULL;
    }
    end = strchr(p, '\n');
    return strndup(p, end != NULL ? (size_t)(end - p) : strlen(p));
}

/* A server that flapped between two certificates (A, B, A), then refused:
 * each probe finding carries the certificate that probe saw, in export and
 * in the spool alike, the refused one none; prune deletes them with their
 * findings. */
static void test_ecs_probe_tls(void)
{
    char *dir = tu_mkdtemp(), *db = tu_path(dir, "p.db"), *spool = tu_path(dir, "spool");
    char *active = tu_path(spool, "agentwatch.ndjson"), *out, *text, *line;
    struct aw_spool_opts so = { .dir = spool, .host = "WKS-1" };
    struct aw_store *s = NULL;
    struct aw_spool *sp = NULL;
    struct aw_err err = { 0 };
    int rc;

    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db, 0, &err), AW_OK);
    CU_ASSERT_EQUAL_FATAL(aw_spool_open(&sp, s, &so, &err), AW_OK);
    store_probe(s, 1741676400000, AW_PV_OK, 'a', "1f2a", "agent.corp.example",
                "DNS:agent.corp.example, IP:10.0.0.5");
    store_probe(s, 1741676460000, AW_PV_NAME_MISMATCH, 'b', "22", "other.example", "");
    store_probe(s, 1741676520000, AW_PV_OK, 'a', "1f2a", "agent.corp.example",
                "DNS:agent.corp.example, IP:10.0.0.5");
    store_probe(s, 1741676580000, AW_PV_TCP_REFUSED, 0, NULL, NULL, NULL);
    aw_spool_close(&sp);
    aw_store_close(&s);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM probe_certs"), 3);

    out = export(db, &rc, "--format", "ecs", NULL, NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(tu_count_lines(out), 4);
    text = tu_read_file(active, NULL);
    CU_ASSERT_EQUAL(tu_count_lines(text), 5);        /* the header, then 4 */
    for (int i = 0; i < 4; i++) {
        char *e = nth_line(out, i), *sl = nth_line(text, i + 1);
        const char *want = i == 1 ? TLS_B_HASH : i == 3 ? NULL : TLS_A;

        CU_ASSERT_FATAL(e != NULL && sl != NULL);
        CU_ASSERT_STRING_EQUAL(e, sl);
        if (want != NULL) {
            CU_ASSERT_PTR_NOT_NULL(strstr(e, want));
            if (strstr(e, want) == NULL) {
                fprintf(stderr, "line %d: %s\n", i, e);
            }
        } else {
            CU_ASSERT_PTR_NULL(strstr(e, "\"tls\""));
        }
        free(e);
        free(sl);
    }
    line = nth_line(out, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"alternative_names\": [], \"subject\":"
                                        " {\"distinguished_name\": \"CN=other.example\"}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"rule\": {\"id\": \"probe.name-mismatch\""));
    free(line);
    free(out);
    free(text);

    out = NULL;
    CU_ASSERT_EQUAL(tu_run_agentwatch(&out, NULL, "--db", db, "prune", "--older-than",
                                      "2025-03-11T07:01:30Z", NULL), 0);
    free(out);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM findings"), 2);
    CU_ASSERT_EQUAL(tu_sql_int(db, "SELECT count(*) FROM probe_certs"), 1);
    tu_rmtree(dir);
    free(active);
    free(spool);
    free(db);
    free(dir);
}

static int register_suites(void)
{
    CU_pSuite s = CU_add_suite("export", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "export --cursor writes each finding once", test_cursor_once);
    CU_add_test(s, "export cursor usage errors", test_cursor_usage);
    CU_add_test(s, "a write error leaves the cursor", test_cursor_write_error);
    CU_add_test(s, "a killed exporter repeats, never skips", test_cursor_killed);
    CU_add_test(s, "a cursor after prune deleted the newest", test_cursor_after_prune);
    CU_add_test(s, "ECS event ids are stable", test_ecs_ids_stable);
    CU_add_test(s, "ECS event ids survive the log growing", test_ecs_ids_survive_growth);
    CU_add_test(s, "ECS event ids survive the schema-7 migration", test_ecs_ids_survive_migration);
    CU_add_test(s, "ECS lines stay under their limit", test_ecs_line_limit);
    CU_add_test(s, "ECS tls.server.* of probe findings", test_ecs_probe_tls);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, register_suites);
}
