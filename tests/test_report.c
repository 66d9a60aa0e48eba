/*
 * Report: exact output of every format on a known database, filters,
 * the empty case, and hostile strings (quotes, newlines, terminal escape
 * sequences, invalid UTF-8) that must come out escaped or defanged.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/report.h"
#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"
#include "testutil.h"

static char *dir;
static char *db_path;

/* 2025-03-11T07:00:00Z */
#define T0 INT64_C(1741676400000)
#define MIN INT64_C(60000)

static int add(struct aw_store *s, int64_t file_id, uint64_t offset, int64_t ts, const char *rule,
                const char *category)
{
    struct aw_finding f;
    struct aw_err err = { 0 };

    memset(&f, 0, sizeof(f));
    f.ts_ms = ts;
    f.read_ms = T0;
    f.host = "WKS-0142";
    f.file_id = file_id;
    f.path = "agent.log";
    f.offset = offset;
    f.rule = rule;
    f.category = category;
    f.severity = "error";
    f.level = "error";
    f.message = "m";
    f.message_len = 1;
    return aw_store_add_finding(s, &f, NULL, &err);
}

static int setup(void)
{
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    struct aw_file_id fid;
    sqlite3 *db = NULL;
    int64_t id;
    const char *head = "<event date='03/11/2025 08:00:01.1210000 +01:00' severity='4' x='y'>";

    dir = tu_mkdtemp();
    db_path = tu_path(dir, "report.db");
    if (aw_store_open(&s, db_path, 0, &err) != AW_OK) {
        return 1;
    }
    memset(&fid, 0, sizeof(fid));
    fid.head_len = strlen(head);
    memcpy(fid.head, head, fid.head_len);
    if (aw_store_file_add(s, &fid, "agent.log", "itms", "utf-8", T0, &id, &err) != AW_OK ||
        aw_store_begin(s, &err) != AW_OK) {
        return 1;
    }
    if (add(s, id, 10, T0 + 1 * MIN, "ssl-untrusted-root", "ssl") != AW_OK ||
        add(s, id, 20, T0 + 2 * MIN, "ssl-untrusted-root", "ssl") != AW_OK ||
        add(s, id, 30, T0 + 3 * MIN, "dns-not-resolved", "resolution") != AW_OK ||
        add(s, id, 40, T0 + 4 * MIN, "ssl-untrusted-root", "ssl") != AW_OK ||
        add(s, id, 50, T0 + 5 * MIN + 121, "config-updated", "health") != AW_OK ||
        add(s, id, 60, T0 + 6 * MIN, "evil\x1b[31mrule", "ssl") != AW_OK ||
        aw_store_commit(s, &err) != AW_OK) {
        return 1;
    }
    aw_store_close(&s);
    /* Rule metadata as a scan would have stored it, one entry hostile. */
    if (sqlite3_open(db_path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "INSERT INTO rules VALUES ('ssl-untrusted-root', 'ssl', 'error',"
                     " 'The server chain ends in a root the client does not trust.',"
                     " 'Import the issuing CA, incl. intermediates, on the clients.', 'x', 0);"
                     "INSERT INTO rules VALUES ('dns-not-resolved', 'resolution', 'error',"
                     " 'DNS cannot resolve the server name.', 'Check DNS.', 'x', 0);"
                     "INSERT INTO rules VALUES ('evil\x1b[31mrule', 'ssl', 'error',"
                     " 'He said \"no\",' || char(10) || 'then\x1b]0;title\x07 left',"
                     " 'a,b', 'x', 0);",
                     NULL, NULL, NULL) != SQLITE_OK) {
        return 1;
    }
    sqlite3_close(db);
    return 0;
}

static int teardown(void)
{
    tu_rmtree(dir);
    free(dir);
    free(db_path);
    return 0;
}

/* Run a report into a string; caller frees. */
static char *run_report(enum aw_report_format format, int64_t since, int64_t until,
                        const char *category)
{
    struct aw_report_opts o;
    struct aw_store *s = NULL;
    struct aw_err err = { 0 };
    char *out_path = tu_path(dir, "out.txt");
    FILE *out = fopen(out_path, "wb");
    char *text;

    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    memset(&o, 0, sizeof(o));
    o.format = format;
    o.filter.since_ms = since;
    o.filter.until_ms = until;
    o.filter.category = category;
    CU_ASSERT_EQUAL_FATAL(aw_store_open(&s, db_path, AW_STORE_READONLY, &err), AW_OK);
    CU_ASSERT_EQUAL(aw_report_run(s, &o, out, &err), AW_OK);
    aw_store_close(&s);
    fclose(out);
    text = tu_read_file(out_path, NULL);
    free(out_path);
    return text;
}

static void test_json(void)
{
    char *text = run_report(AW_REPORT_JSON, AW_TIME_NONE, AW_TIME_NONE, NULL);
    const char *expected =
        "{\"since\": null, \"until\": null, \"total\": 6,\n"
        " \"categories\": [\n"
        "  {\"category\": \"ssl\", \"count\": 4, \"first\": \"2025-03-11T07:01:00.000Z\","
        " \"last\": \"2025-03-11T07:06:00.000Z\"},\n"
        "  {\"category\": \"health\", \"count\": 1, \"first\": \"2025-03-11T07:05:00.121Z\","
        " \"last\": \"2025-03-11T07:05:00.121Z\"},\n"
        "  {\"category\": \"resolution\", \"count\": 1, \"first\": \"2025-03-11T07:03:00.000Z\","
        " \"last\": \"2025-03-11T07:03:00.000Z\"}\n"
        " ],\n"
        " \"rules\": [\n"
        "  {\"rule\": \"evil\\u001b[31mrule\", \"category\": \"ssl\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:06:00.000Z\", \"last\": \"2025-03-11T07:06:00.000Z\","
        " \"cause\": \"He said \\\"no\\\",\\nthen\\u001b]0;title\\u0007 left\","
        " \"remedy\": \"a,b\"},\n"
        "  {\"rule\": \"config-updated\", \"category\": \"health\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:05:00.121Z\", \"last\": \"2025-03-11T07:05:00.121Z\","
        " \"cause\": \"\", \"remedy\": \"\"},\n"
        "  {\"rule\": \"ssl-untrusted-root\", \"category\": \"ssl\", \"count\": 3,"
        " \"first\": \"2025-03-11T07:01:00.000Z\", \"last\": \"2025-03-11T07:04:00.000Z\","
        " \"cause\": \"The server chain ends in a root the client does not trust.\","
        " \"remedy\": \"Import the issuing CA, incl. intermediates, on the clients.\"},\n"
        "  {\"rule\": \"dns-not-resolved\", \"category\": \"resolution\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:03:00.000Z\", \"last\": \"2025-03-11T07:03:00.000Z\","
        " \"cause\": \"DNS cannot resolve the server name.\", \"remedy\": \"Check DNS.\"}\n"
        " ]}\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    free(text);
}

static void test_json_filtered_and_empty(void)
{
    char *text = run_report(AW_REPORT_JSON, T0 + 2 * MIN, T0 + 3 * MIN, NULL);
    const char *expected =
        "{\"since\": \"2025-03-11T07:02:00.000Z\", \"until\": \"2025-03-11T07:03:00.000Z\","
        " \"total\": 2,\n"
        " \"categories\": [\n"
        "  {\"category\": \"resolution\", \"count\": 1, \"first\": \"2025-03-11T07:03:00.000Z\","
        " \"last\": \"2025-03-11T07:03:00.000Z\"},\n"
        "  {\"category\": \"ssl\", \"count\": 1, \"first\": \"2025-03-11T07:02:00.000Z\","
        " \"last\": \"2025-03-11T07:02:00.000Z\"}\n"
        " ],\n"
        " \"rules\": [\n"
        "  {\"rule\": \"dns-not-resolved\", \"category\": \"resolution\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:03:00.000Z\", \"last\": \"2025-03-11T07:03:00.000Z\","
        " \"cause\": \"DNS cannot resolve the server name.\", \"remedy\": \"Check DNS.\"},\n"
        "  {\"rule\": \"ssl-untrusted-root\", \"category\": \"ssl\", \"count\": 1,"
        " \"first\": \"2025-03-11T07:02:00.000Z\", \"last\": \"2025-03-11T07:02:00.000Z\","
        " \"cause\": \"The server chain ends in a root the client does not trust.\","
        " \"remedy\": \"Import the issuing CA, incl. intermediates, on the clients.\"}\n"
        " ]}\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    free(text);
    text = run_report(AW_REPORT_JSON, AW_TIME_NONE, AW_TIME_NONE, "proxy");
    CU_ASSERT_STRING_EQUAL(text, "{\"since\": null, \"until\": null, \"total\": 0,\n"
                                 " \"categories\": [],\n \"rules\": []}\n");
    free(text);
}

static void test_csv(void)
{
    char *text = run_report(AW_REPORT_CSV, AW_TIME_NONE, AW_TIME_NONE, "resolution");
    const char *expected =
        "rule,category,count,first,last,cause,remedy\r\n"
        "dns-not-resolved,resolution,1,2025-03-11T07:03:00.000Z,2025-03-11T07:03:00.000Z,"
        "DNS cannot resolve the server name.,Check DNS.\r\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    free(text);
    text = run_report(AW_REPORT_CSV, T0 + 6 * MIN, AW_TIME_NONE, NULL);
    CU_ASSERT_STRING_EQUAL(text,
        "rule,category,count,first,last,cause,remedy\r\n"
        "evil?[31mrule,ssl,1,2025-03-11T07:06:00.000Z,2025-03-11T07:06:00.000Z,"
        "\"He said \"\"no\"\",\nthen?]0;title? left\",\"a,b\"\r\n");
    free(text);
}

static void test_table(void)
{
    char *text = run_report(AW_REPORT_TABLE, AW_TIME_NONE, AW_TIME_NONE, NULL);
    const char *expected =
        "agentwatch report: all recorded time\n"
        "6 findings in 3 categories from 4 rules\n"
        "\n"
        "CATEGORY       COUNT  FIRST SEEN            LAST SEEN\n"
        "ssl                4  2025-03-11 07:01:00Z  2025-03-11 07:06:00Z\n"
        "health             1  2025-03-11 07:05:00Z  2025-03-11 07:05:00Z\n"
        "resolution         1  2025-03-11 07:03:00Z  2025-03-11 07:03:00Z\n"
        "\n"
        "RULE                CATEGORY       COUNT  FIRST SEEN            LAST SEEN\n"
        "evil?[31mrule       ssl                1  2025-03-11 07:06:00Z  2025-03-11 07:06:00Z\n"
        "config-updated      health             1  2025-03-11 07:05:00Z  2025-03-11 07:05:00Z\n"
        "ssl-untrusted-root  ssl                3  2025-03-11 07:01:00Z  2025-03-11 07:04:00Z\n"
        "dns-not-resolved    resolution         1  2025-03-11 07:03:00Z  2025-03-11 07:03:00Z\n"
        "\n"
        "Probable causes, most recent problems first:\n"
        "  evil?[31mrule (1, last 2025-03-11 07:06:00Z)\n"
        "    cause:  He said \"no\",?then?]0;title? left\n"
        "    remedy: a,b\n"
        "  ssl-untrusted-root (3, last 2025-03-11 07:04:00Z)\n"
        "    cause:  The server chain ends in a root the client does not trust.\n"
        "    remedy: Import the issuing CA, incl. intermediates, on the clients.\n"
        "  dns-not-resolved (1, last 2025-03-11 07:03:00Z)\n"
        "    cause:  DNS cannot resolve the server name.\n"
        "    remedy: Check DNS.\n";

    CU_ASSERT_STRING_EQUAL(text, expected);
    if (strcmp(text, expected) != 0) {
        fprintf(stderr, "---- got:\n%s----\n", text);
    }
    /* Nothing raw reaches a terminal. */
    CU_ASSERT_PTR_NULL(strchr(text, '\x1b'));
    CU_ASSERT_PTR_NULL(strchr(text, '\x07'));
    free(text);
    text = run_report(AW_REPORT_TABLE, AW_TIME_NONE, T0, NULL);
    CU_ASSERT_STRING_EQUAL(text, "agentwatch report: until 2025-03-11 07:00:00Z\nno findings\n");
    free(text);
}

static void test_format_names(void)
{
    enum aw_report_format f;

    CU_ASSERT_EQUAL(aw_report_format_from_name("json", &f), AW_OK);
    CU_ASSERT_EQUAL(f, AW_REPORT_JSON);
    CU_ASSERT_EQUAL(aw_report_format_from_name("csv", &f), AW_OK);
    CU_ASSERT_EQUAL(f, AW_REPORT_CSV);
    CU_ASSERT_EQUAL(aw_report_format_from_name("table", &f), AW_OK);
    CU_ASSERT_EQUAL(f, AW_REPORT_TABLE);
    CU_ASSERT_EQUAL(aw_report_format_from_name("xml", &f), AW_ESYNTAX);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("report", setup, teardown);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "json", test_json);
    CU_add_test(s, "json filtered and empty", test_json_filtered_and_empty);
    CU_add_test(s, "csv", test_csv);
    CU_add_test(s, "table", test_table);
    CU_add_test(s, "format names", test_format_names);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
