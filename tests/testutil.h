/*
 * Helpers shared by the CUnit suites: scratch directories, real files,
 * running the built binary.  Every test gets its own directory under
 * $TMPDIR so suites can run in parallel.
 */
#ifndef AGENTWATCH_TESTUTIL_H
#define AGENTWATCH_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

/* Register suites (via CU_add_suite/CU_add_test) and return 0, or
 * non-zero on a registration error. */
typedef int (*tu_register_fn)(void);

/* Run all registered suites in CUnit basic mode; exit status for main():
 * 0 when every assertion passed. */
int tu_main(int argc, char **argv, tu_register_fn register_suites);

/* A suite's tests as a table: name and function. */
struct tu_test {
    const char *name;
    CU_TestFunc fn;
};

/* Add the n tests to suite s (NULL: CU_add_suite failed); 0, or 1 on a
 * registration error. */
int tu_add_tests(CU_pSuite s, const struct tu_test *tests, size_t n);

/* A fresh empty directory; caller frees the string and removes the
 * directory with tu_rmtree(). Aborts the test program on failure. */
char *tu_mkdtemp(void);

/* Remove a directory tree (like rm -rf). */
void tu_rmtree(const char *path);

/* The suite's scratch directory: CU_add_suite(name, tu_suite_setup,
 * tu_suite_teardown) creates it before the suite's first test and removes
 * it after the last; tu_dir() is its path meanwhile. */
int tu_suite_setup(void);
int tu_suite_teardown(void);
const char *tu_dir(void);

/* The rule ssl-trust (category ssl, severity error) on "could not
 * establish trust relationship", as a list item of a rule file. */
#define TU_RULE_SSL_TRUST                                                   \
    "  - id: ssl-trust\n"                                                   \
    "    category: ssl\n"                                                   \
    "    severity: error\n"                                                 \
    "    pattern: '(?i)could not establish trust relationship'\n"

/* A rule file with one rule, trust: ssl-trust's category, severity and
 * pattern. */
extern const char tu_rules_trust[];

/* Two rules on plain text for black-box tests of the binary: ssl-trust
 * (category ssl, with cause and remedy) on "could not establish trust
 * relationship", and config-ok (category health, a success marker) on
 * "Configuration updated successfully". */
extern const char tu_rules_trust_health[];

/* 2025-03-11T07:00:00Z, the start of the stored findings of the query and
 * report fixtures, and the units they step in (ms). */
#define TU_T0 INT64_C(1741676400000)
#define TU_SEC INT64_C(1000)
#define TU_MIN INT64_C(60000)
#define TU_HOUR INT64_C(3600000)

/* A file identity with the given head bytes (its whole content so far),
 * device and inode. */
struct aw_file_id;
void tu_make_fid(struct aw_file_id *fid, const char *head, uint64_t dev, uint64_t ino);

/* dir + "/" + name; caller frees. */
char *tu_path(const char *dir, const char *name);

/* Write (replace) or append bytes; abort on failure. */
void tu_write_file(const char *path, const void *data, size_t len);
void tu_write_str(const char *path, const char *text);
void tu_append_str(const char *path, const char *text);

/* Whole file into a NUL-terminated buffer; *len gets the size (may be
 * NULL). Returns NULL when the file cannot be read. Caller frees. */
char *tu_read_file(const char *path, size_t *len);

/* Number of '\n' in s. */
size_t tu_count_lines(const char *s);

/* Path of a file in the source tree ($AW_SRCDIR/rel); caller frees. */
char *tu_src_path(const char *rel);

/* Path of the built agentwatch binary ($AW_BIN). */
const char *tu_agentwatch_bin(void);

/* Run the built agentwatch with the arguments that follow (at most 14,
 * ending with NULL), capturing stdout and stderr as tu_run() does. */
int tu_run_agentwatch(char **out, char **errout, const char *arg, ...);

/* Run argv (argv[0] is the program path) with stdout and stderr captured
 * into malloc'd strings (either may be NULL if not wanted).  Returns the
 * exit status, or -1 if it did not exit normally. */
int tu_run(char *const argv[], char **out, char **errout);

/* A database in a new folder (*dir: the caller removes it and frees
 * both) holding what `agentwatch scan --quiet` finds in log (a path in
 * the source tree) with the shipped rules.  Aborts when the scan fails. */
char *tu_scanned_db(const char *log, char **dir);

/* Open the SQLite database at path and return the first column of the
 * first row of sql as an integer (-1 when there is no row) or as a string
 * (NULL when none; caller frees).  Aborts when the query cannot run. */
long long tu_sql_int(const char *path, const char *sql);
char *tu_sql_text(const char *path, const char *sql);

/* Run sql (several statements allowed) on the database at path. */
void tu_sql_exec(const char *path, const char *sql);

#endif
