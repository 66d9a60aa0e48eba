/*
 * probe: target parsing, the verdict table (names and order are a
 * contract), and the JSON form of a result.  The network behaviour is
 * tested with real TLS servers by tests/probe/harness.py.
 */
#include "testutil.h"

#include "agentwatch/probe.h"

#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include "src/probe_internal.h"
#endif

static void expect_target(const char *text, const char *host, unsigned port)
{
    struct aw_probe_target t;
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL_FATAL(aw_probe_parse_target(text, &t, &err), AW_OK);
    CU_ASSERT_STRING_EQUAL(t.host, host);
    CU_ASSERT_EQUAL(t.port, port);
    CU_ASSERT_STRING_EQUAL(t.text, text);
}

static void expect_bad_target(const char *text, const char *msg_part)
{
    struct aw_probe_target t;
    struct aw_err err = { 0 };

    CU_ASSERT_EQUAL(aw_probe_parse_target(text, &t, &err), AW_ESYNTAX);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg_part));
}

static void test_targets(void)
{
    expect_target("sms.example.com", "sms.example.com", 443);
    expect_target("sms.example.com:4343", "sms.example.com", 4343);
    expect_target("https://sms.example.com/Altiris/NS/", "sms.example.com", 443);
    expect_target("https://sms.example.com:8443/x", "sms.example.com", 8443);
    expect_target("[::1]:8443", "::1", 8443);
    expect_target("https://[2001:db8::1]/", "2001:db8::1", 443);
    expect_target("127.0.0.1:1", "127.0.0.1", 1);
    expect_bad_target("", "no host name");
    expect_bad_target("https://", "no host name");
    expect_bad_target("http://sms.example.com", "only https://");
    expect_bad_target("sms.example.com:0", "port must be 1 to 65535");
    expect_bad_target("sms.example.com:65536", "port must be 1 to 65535");
    expect_bad_target("sms.example.com:44x", "port must be 1 to 65535");
    expect_bad_target("sms.example.com:", "port must be 1 to 65535");
    expect_bad_target("[::1", "without ']'");
    expect_bad_target("sms example", "invalid character");
    expect_bad_target("s\xc3\xa9.example", "invalid character");
}

static void test_verdict_table(void)
{
    static const char *const order[] = {
        "dns-failure", "tcp-refused", "tcp-timeout", "tls-no-serverhello", "tls-alert",
        "tls-protocol", "chain-incomplete", "root-untrusted", "cert-expired",
        "cert-not-yet-valid", "name-mismatch", "revoked", "revocation-offline", "ok",
    };
    enum aw_probe_verdict v;

    CU_ASSERT_EQUAL_FATAL(sizeof(order) / sizeof(order[0]), AW_PV_COUNT);
    for (int i = 0; i < AW_PV_COUNT; i++) {
        const struct aw_probe_verdict_info *vi = aw_probe_verdict_info((enum aw_probe_verdict)i);
        CU_ASSERT_STRING_EQUAL(vi->name, order[i]);
        CU_ASSERT(strlen(vi->cause) > 20);
        CU_ASSERT(strlen(vi->remedy) > 3);
        CU_ASSERT_TRUE(aw_probe_verdict_by_name(order[i], &v));
        CU_ASSERT_EQUAL(v, i);
    }
    CU_ASSERT_STRING_EQUAL(aw_probe_verdict_info(AW_PV_DNS_FAILURE)->category, "resolution");
    CU_ASSERT_STRING_EQUAL(aw_probe_verdict_info(AW_PV_TCP_TIMEOUT)->category, "connection");
    CU_ASSERT_STRING_EQUAL(aw_probe_verdict_info(AW_PV_REVOKED)->category, "ssl");
    CU_ASSERT_STRING_EQUAL(aw_probe_verdict_info(AW_PV_OK)->category, "health");
    CU_ASSERT_PTR_NOT_NULL(strstr(aw_probe_verdict_info(AW_PV_TLS_NO_SERVERHELLO)->cause,
                                  "private key"));
    CU_ASSERT_FALSE(aw_probe_verdict_by_name("dns", &v));
}

/* The first failing step names the verdict; later calls do not change it. */
static void test_first_verdict_wins(void)
{
    struct aw_probe_result *r = calloc(1, sizeof(*r));
    char *dir = tu_mkdtemp(), *path = tu_path(dir, "out.json"), *text;
    FILE *f;

    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(aw_probe_parse_target("srv\"x:1", &r->target, NULL), AW_ESYNTAX);
    aw_probe_parse_target("srv.example:8443", &r->target, NULL);
    aw_probe_verdict_set(r, AW_PV_CERT_EXPIRED, "first %d", 1);
    aw_probe_verdict_set(r, AW_PV_REVOKED, "second");
    aw_probe_check_set(r, AW_PS_VALIDITY, AW_PC_FAIL, NULL, "quote \" and tab \t");
    CU_ASSERT_EQUAL(r->verdict, AW_PV_CERT_EXPIRED);
    CU_ASSERT_STRING_EQUAL(r->detail, "first 1");
    f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    aw_probe_write_json(f, r);
    fclose(f);
    text = tu_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"verdict\":\"cert-expired\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"port\":8443"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "{\"step\":\"validity\",\"result\":\"fail\","
                                        "\"detail\":\"quote \\\" and tab \\t\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"chain\":[],\"urls\":[]}\n"));
    free(text);
    free(path);
    tu_rmtree(dir);
    free(dir);
    free(r);
}

#ifndef _WIN32
/* The body of a CRL or AIA response ends at its Content-Length, also when
 * more bytes arrive in the same read (found by fuzz/fuzz_http.c: the body
 * depended on how the server's bytes were split into reads). */
static void test_http_body_ends_at_length(void)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
    struct aw_http_result res;

    for (size_t chunk = 0; chunk <= sizeof(resp); chunk++) {
        CU_ASSERT_EQUAL_FATAL(aw_http_parse_response((const unsigned char *)resp, sizeof(resp) - 1,
                                                     chunk, 1024, &res), 0);
        CU_ASSERT_EQUAL(res.status, 200);
        CU_ASSERT_EQUAL(res.len, 3);
        CU_ASSERT(res.len == 3 && memcmp(res.body, "abc", 3) == 0);
        free(res.body);
    }
    CU_ASSERT_EQUAL(aw_http_parse_response((const unsigned char *)resp, sizeof(resp) - 1, 0, 2, &res), -1);
    CU_ASSERT_STRING_EQUAL(res.error, "response of 3 bytes is larger than the limit of 2 bytes");
    free(res.body);
}
#endif

static int reg(void)
{
    CU_pSuite s = CU_add_suite("probe", NULL, NULL);

    if (s == NULL
        || CU_add_test(s, "targets", test_targets) == NULL
        || CU_add_test(s, "verdict_table", test_verdict_table) == NULL
        || CU_add_test(s, "first_verdict_wins", test_first_verdict_wins) == NULL) {
        return 1;
    }
#ifndef _WIN32
    if (CU_add_test(s, "http_body_ends_at_length", test_http_body_ends_at_length) == NULL) {
        return 1;
    }
#endif
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}
