/*
 * Test helpers (see testutil.h).  Failures here abort: a test that cannot
 * set up its files must not pass by accident.
 */
#include "testutil.h"

#include "agentwatch/fileid.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what, const char *path)
{
    fprintf(stderr, "testutil: %s %s: %s\n", what, path ? path : "", strerror(errno));
    abort();
}

int tu_main(int argc, char **argv, tu_register_fn register_suites)
{
    unsigned failures;

    (void)argc;
    (void)argv;
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    if (register_suites() != 0 || CU_get_error() != CUE_SUCCESS) {
        fprintf(stderr, "CUnit registration: %s\n", CU_get_error_msg());
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    if (CU_get_number_of_tests_run() == 0) {
        failures++;
    }
    CU_cleanup_registry();
    return failures == 0 ? 0 : 1;
}

int tu_add_tests(CU_pSuite s, const struct tu_test *tests, size_t n)
{
    if (s == NULL) {
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) {
            return 1;
        }
    }
    return 0;
}

/* The one suite of a test program at a time (CUnit runs suites in turn). */
static char *suite_dir;

int tu_suite_setup(void)
{
    suite_dir = tu_mkdtemp();
    return 0;
}

int tu_suite_teardown(void)
{
    tu_rmtree(suite_dir);
    free(suite_dir);
    suite_dir = NULL;
    return 0;
}

const char *tu_dir(void)
{
    if (suite_dir == NULL) {
        fprintf(stderr, "testutil: tu_dir() outside a suite set up by tu_suite_setup()\n");
        abort();
    }
    return suite_dir;
}

const char tu_rules_trust[] =
    "rules:\n"
    "  - id: trust\n"
    "    category: ssl\n"
    "    severity: error\n"
    "    pattern: '(?i)could not establish trust relationship'\n";

const char tu_rules_trust_health[] =
    "version: 1\n"
    "rules:\n"
    TU_RULE_SSL_TRUST
    "    cause: The client does not trust the server's certificate chain.\n"
    "    remedy: Import the issuing CA on the clients.\n"
    "  - id: config-ok\n"
    "    category: health\n"
    "    severity: info\n"
    "    pattern: 'Configuration updated successfully'\n";

void tu_make_fid(struct aw_file_id *fid, const char *head, uint64_t dev, uint64_t ino)
{
    memset(fid, 0, sizeof(*fid));
    fid->dev = dev;
    fid->ino = ino;
    fid->head_len = strlen(head);
    memcpy(fid->head, head, fid->head_len);
    fid->size = fid->head_len;
}

char *tu_mkdtemp(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path;
    size_t len;

    if (tmp == NULL || tmp[0] == '\0') {
        tmp = "/tmp";
    }
    len = strlen(tmp) + sizeof("/awtest-XXXXXX");
    path = malloc(len);
    if (path == NULL) {
        die("malloc", NULL);
    }
    snprintf(path, len, "%s/awtest-XXXXXX", tmp);
    if (mkdtemp(path) == NULL) {
        die("mkdtemp", path);
    }
    return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    if (path != NULL) {
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

char *tu_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);

    if (path == NULL) {
        die("malloc", NULL);
    }
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

static void write_mode(const char *path, const void *data, size_t len, const char *mode)
{
    FILE *f = fopen(path, mode);

    if (f == NULL) {
        die("fopen", path);
    }
    if (len > 0 && fwrite(data, 1, len, f) != len) {
        die("fwrite", path);
    }
    if (fclose(f) != 0) {
        die("fclose", path);
    }
}

void tu_write_file(const char *path, const void *data, size_t len)
{
    write_mode(path, data, len, "wb");
}

void tu_write_str(const char *path, const char *text)
{
    write_mode(path, text, strlen(text), "wb");
}

void tu_append_str(const char *path, const char *text)
{
    write_mode(path, text, strlen(text), "ab");
}

/* Drain fd into a malloc'd NUL-terminated string; *len (unless NULL)
 * gets its length. */
static char *slurp_fd(int fd, size_t *len)
{
    char *buf = NULL;
    size_t size = 0, cap = 0;
    ssize_t n;

    for (;;) {
        if (cap - size < 4096) {
            char *grown;
            cap = cap ? cap * 2 : 8192;
            grown = realloc(buf, cap + 1);
            if (grown == NULL) {
                die("realloc", NULL);
            }
            buf = grown;
        }
        n = read(fd, buf + size, cap - size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        size += (size_t)n;
    }
    buf[size] = '\0';
    if (len != NULL) {
        *len = size;
    }
    return buf;
}

char *tu_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    char *buf;

    if (fd < 0) {
        return NULL;
    }
    buf = slurp_fd(fd, len);
    close(fd);
    return buf;
}

char *tu_src_path(const char *rel)
{
    const char *src = getenv("AW_SRCDIR");

    if (src == NULL || src[0] == '\0') {
        src = ".";
    }
    return tu_path(src, rel);
}

const char *tu_agentwatch_bin(void)
{
    const char *bin = getenv("AW_BIN");

    return (bin != NULL && bin[0] != '\0') ? bin : "agentwatch";
}

int tu_run(char *const argv[], char **out, char **errout)
{
    char *dir = tu_mkdtemp();
    char *out_path = tu_path(dir, "stdout");
    char *err_path = tu_path(dir, "stderr");
    pid_t pid;
    int status = 0, result = -1;

    pid = fork();
    if (pid < 0) {
        die("fork", NULL);
    }
    if (pid == 0) {
        int ofd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (ofd < 0 || efd < 0 || dup2(ofd, 1) < 0 || dup2(efd, 2) < 0) {
            _exit(127);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            die("waitpid", NULL);
        }
    }
    if (WIFEXITED(status)) {
        result = WEXITSTATUS(status);
    }
    if (out != NULL) {
        int fd = open(out_path, O_RDONLY);
        *out = fd >= 0 ? slurp_fd(fd, NULL) : NULL;
        if (fd >= 0) {
            close(fd);
        }
    }
    if (errout != NULL) {
        int fd = open(err_path, O_RDONLY);
        *errout = fd >= 0 ? slurp_fd(fd, NULL) : NULL;
        if (fd >= 0) {
            close(fd);
        }
    }
    tu_rmtree(dir);
    free(out_path);
    free(err_path);
    free(dir);
    return result;
}

static sqlite3_stmt *sql_first_row(const char *path, const char *sql, sqlite3 **db)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(*db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "testutil: %s: %s: %s\n", path, sql, sqlite3_errmsg(*db));
        abort();
    }
    return st;
}

char *tu_scanned_db(const char *log, char **dir)
{
    char *db, *path = tu_src_path(log), *rules = tu_src_path("rules");
    char *out = NULL, *err = NULL;

    *dir = tu_mkdtemp();
    db = tu_path(*dir, "aw.db");
    if (tu_run_agentwatch(&out, &err, "--db", db, "scan", "--quiet", "--rules", rules, path,
                          NULL) != 0) {
        fprintf(stderr, "scan %s: %s", path, err != NULL ? err : "");
        abort();
    }
    free(out);
    free(err);
    free(path);
    free(rules);
    return db;
}

long long tu_sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = sql_first_row(path, sql, &db);
    long long v = -1;

    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

char *tu_sql_text(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = sql_first_row(path, sql, &db);
    char *v = NULL;

    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
        v = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void tu_sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "testutil: %s: %s: %s\n", path, sql, msg ? msg : sqlite3_errmsg(db));
        abort();
    }
    sqlite3_close(db);
}

int tu_run_agentwatch(char **out, char **errout, const char *arg, ...)
{
    char *argv[16];
    va_list ap;
    int n = 0;

    argv[n++] = (char *)tu_agentwatch_bin();
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 15; a = va_arg(ap, const char *)) {
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;
    return tu_run(argv, out, errout);
}

size_t tu_count_lines(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++) {
        n += *s == '\n';
    }
    return n;
}
