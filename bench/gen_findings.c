/*
 * gen_findings: fill an agentwatch database with synthetic findings for the
 * report benchmark (bench/report.sh), straight through SQLite so that ten
 * million findings take a minute or two instead of a 300 GB log.
 *
 *   gen_findings [--findings N] [--seed S] [--days D] [--end ISO] DB
 *
 * The database is created (or upgraded) by the store itself, so it has the
 * real schema, indexes and triggers; rows then go in through the same
 * INSERT as a scan, in time order, in large transactions, and the hourly
 * counts (which the store tallies in C) are built at the end as migration
 * 4 builds them.
 *
 * Distribution (deterministic: xoshiro256** seeded by splitmix64):
 *   - D days (45) ending at --end (2025-03-31T00:00:00Z), N findings (10M)
 *     at exponential gaps, i.e. ~2.6 per second on average;
 *   - the endpoint alternates healthy stretches (2 h to 3 days: success
 *     markers, 2% isolated transient failures) and outages (20 min to 2
 *     days: failures only, 75% of them repeating the running kind);
 *   - 95% of findings from one host, the rest from four others;
 *   - a new log file every 200,000 findings; messages of 100-200 bytes with
 *     the server and the error code captured.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentwatch/store.h"
#include "agentwatch/timeutil.h"

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(struct rng *r)
{
    uint64_t result = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = rotl(r->s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double unit(struct rng *r)
{
    return (double)(next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return next(r) % n;
}

/* Exponential with the given mean, from the inverse CDF (a polynomial
 * stand-in for -log(1-u) keeps libm out of the build). */
static double expo(struct rng *r, double mean)
{
    double u = unit(r), x = 0, term = 1;

    /* -log(1-u) = sum u^k / k, truncated; u is capped to keep it short. */
    if (u > 0.999) {
        u = 0.999;
    }
    for (int k = 1; k < 200 && term > 1e-9; k++) {
        term *= u;
        x += term / k;
    }
    return x * mean;
}

struct kind {
    const char *rule;
    const char *category;
    const char *severity;
    const char *code;
    const char *text;
};

static const struct kind failures[] = {
    { "ssl.untrusted-root.code", "ssl", "critical", "0x800B0109",
      "Failed to send request: WinHttpSendRequest failed (0x800B0109) A certificate chain "
      "processed, but terminated in a root certificate which is not trusted" },
    { "ssl.trust-failure", "ssl", "critical", NULL,
      "The underlying connection was closed: Could not establish trust relationship for the "
      "SSL/TLS secure channel." },
    { "ssl.cert-expired.code", "ssl", "critical", "0x80072F05",
      "Error sending request (0x80072F05): the date in the certificate is invalid or has expired" },
    { "ssl.revocation-check", "ssl", "error", "0x80092013",
      "The revocation function was unable to check revocation because the revocation server "
      "was offline (0x80092013)" },
    { "ssl.name-mismatch.code", "ssl", "critical", "0x80072F06",
      "Request failed (0x80072F06): the certificate CN name does not match the passed value" },
    { "resolution.name-not-resolved", "resolution", "error", "0x80072EE7",
      "The remote name could not be resolved: 'nsserver.corp.example' (0x80072EE7)" },
    { "connection.cannot-connect.code", "connection", "error", "0x80072EFD",
      "Failed to connect to server (0x80072EFD): A connection with the server could not be "
      "established" },
    { "connection.timeout.code", "connection", "warning", "0x80072EE2",
      "Request to server timed out (0x80072EE2): The operation timed out" },
    { "connection.server-unavailable", "connection", "error", "503",
      "The remote server returned an error: (503) Server Unavailable." },
};

static const struct kind successes[] = {
    { "health.config-updated", "health", "info", NULL, "Configuration updated successfully" },
    { "health.connected", "health", "info", NULL,
      "Connected to server nsserver.corp.example over HTTPS" },
    { "health.policy-request-ok", "health", "info", NULL,
      "Policy request completed: Configuration unchanged (0 errors)" },
};

static const char *const hosts[] = { "WKS-0142", "WKS-0007", "LAP-2231", "SRV-APP01",
                                     "WKS-0991" };

#define NFAIL (sizeof(failures) / sizeof(failures[0]))
#define NOK (sizeof(successes) / sizeof(successes[0]))

static int die_db(sqlite3 *db, const char *what)
{
    fprintf(stderr, "gen_findings: %s: %s\n", what, sqlite3_errmsg(db));
    return 1;
}

static int exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return die_db(db, sql);
    }
    return 0;
}

static int usage(void)
{
    fputs("usage: gen_findings [--findings N] [--seed S] [--days D] [--end ISO] DB\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t n = 10000000, seed = 1, days = 45;
    int64_t end_ms = aw_time_from_civil(2025, 3, 31, 0, 0, 0, 0);
    const char *path = NULL;
    struct aw_store *store = NULL;
    struct aw_err err = { 0 };
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL, *file = NULL;
    struct rng r;
    uint64_t x, counts[2] = { 0, 0 };
    int64_t t, start_ms, file_id = 0, phase_end;
    uint64_t offset = 0;
    bool outage = false;
    size_t running = 0;
    char msg[512], target[64];
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--findings") == 0 && i + 1 < argc) {
            n = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            days = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--end") == 0 && i + 1 < argc) {
            if (aw_time_parse_when(argv[++i], 0, &end_ms, &err) != AW_OK) {
                fprintf(stderr, "gen_findings: --end: %s\n", err.msg);
                return 2;
            }
        } else if (argv[i][0] != '-' && path == NULL) {
            path = argv[i];
        } else {
            return usage();
        }
    }
    if (path == NULL || n == 0 || days == 0) {
        return usage();
    }
    x = seed;
    for (int i = 0; i < 4; i++) {
        r.s[i] = splitmix64(&x);
    }
    /* The store creates the schema, indexes and triggers of this build. */
    if (aw_store_open(&store, path, 0, &err) != AW_OK) {
        fprintf(stderr, "gen_findings: %s\n", err.msg);
        return 1;
    }
    aw_store_close(&store);
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        return die_db(db, "open");
    }
    /* A benchmark fixture: durability buys nothing here. */
    if (exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
                 " PRAGMA foreign_keys=OFF")) {
        goto out;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO findings (ts, ts_known, read_ts, host, file_id, path,"
                           " offset, rule, category, severity, level, message, partial, target,"
                           " code) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0,"
                           " ?12, ?13)", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO files (dev, ino, head, head_key, path, format, encoding,"
                           " first_seen, last_read) VALUES (1, ?1, ?2, NULL, ?3, 'itms',"
                           " 'utf-8', ?4, ?4)", -1, &file, NULL) != SQLITE_OK) {
        die_db(db, "prepare");
        goto out;
    }
    for (size_t i = 0; i < NFAIL + NOK; i++) {
        const struct kind *k = i < NFAIL ? &failures[i] : &successes[i - NFAIL];
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "INSERT OR IGNORE INTO rules VALUES ('%s', '%s', '%s', 'Synthetic cause of %s.',"
                 " 'Synthetic remedy for %s.', 'x', 0)", k->rule, k->category, k->severity,
                 k->rule, k->rule);
        if (exec(db, sql)) {
            goto out;
        }
    }
    start_ms = end_ms - (int64_t)days * 86400000;
    t = start_ms;
    phase_end = t;
    if (exec(db, "BEGIN")) {
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        const struct kind *k;
        const char *host;

        if (i % 200000 == 0) {
            char name[64], head[128];
            snprintf(name, sizeof(name), "C:/ProgramData/Agent/Logs/agent%llu.log",
                     (unsigned long long)(i / 200000));
            snprintf(head, sizeof(head), "<event date='synthetic %llu' severity='4'>",
                     (unsigned long long)i);
            sqlite3_bind_int64(file, 1, (sqlite3_int64)(i / 200000 + 1));
            sqlite3_bind_blob(file, 2, head, (int)strlen(head), SQLITE_TRANSIENT);
            sqlite3_bind_text(file, 3, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(file, 4, t);
            if (sqlite3_step(file) != SQLITE_DONE) {
                die_db(db, "file");
                goto out;
            }
            sqlite3_reset(file);
            file_id = sqlite3_last_insert_rowid(db);
            offset = 0;
        }
        /* Spread n findings evenly over the days on average. */
        t += (int64_t)expo(&r, (double)(end_ms - start_ms) / (double)n) + 1;
        while (t >= phase_end) {
            outage = !outage;
            phase_end += outage ? 1200000 + (int64_t)below(&r, 2 * 86400000 - 1200000)
                                : 7200000 + (int64_t)below(&r, 3 * 86400000 - 7200000);
            running = below(&r, NFAIL);
        }
        if (outage) {
            if (unit(&r) >= 0.75) {
                running = below(&r, NFAIL);
            }
            k = &failures[running];
        } else if (unit(&r) < 0.02) {
            k = &failures[6 + below(&r, 3)];   /* transient connection trouble */
        } else {
            k = &successes[below(&r, NOK)];
        }
        counts[k == &successes[0] || k == &successes[1] || k == &successes[2]]++;
        host = unit(&r) < 0.95 ? hosts[0] : hosts[1 + below(&r, 4)];
        snprintf(target, sizeof(target), "https://nsserver%u.corp.example/Altiris/",
                 (unsigned)below(&r, 3));
        snprintf(msg, sizeof(msg), "%s [request %llu to %s, attempt %u]", k->text,
                 (unsigned long long)i, target, (unsigned)below(&r, 5) + 1);
        offset += 150 + below(&r, 400);
        sqlite3_bind_int64(ins, 1, t);
        sqlite3_bind_int64(ins, 2, end_ms);
        sqlite3_bind_text(ins, 3, host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, file_id);
        sqlite3_bind_text(ins, 5, "C:/ProgramData/Agent/Logs/agent.log", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 6, (sqlite3_int64)offset);
        sqlite3_bind_text(ins, 7, k->rule, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 8, k->category, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 9, k->severity, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 10, k->category[0] == 'h' ? "info" : "error", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 11, msg, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 12, target, -1, SQLITE_STATIC);
        if (k->code != NULL) {
            sqlite3_bind_text(ins, 13, k->code, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(ins, 13);
        }
        if (sqlite3_step(ins) != SQLITE_DONE) {
            die_db(db, "insert");
            goto out;
        }
        sqlite3_reset(ins);
        if (i % 1000000 == 999999 && (exec(db, "COMMIT") || exec(db, "BEGIN"))) {
            goto out;
        }
    }
    if (exec(db, "COMMIT") ||
        exec(db, "DELETE FROM finding_hours;"
                 "INSERT INTO finding_hours (hour, host, rule, category, count, first, last)"
                 " SELECT ts - ((ts % 3600000) + 3600000) % 3600000, host, rule, category,"
                 " count(*), min(ts), max(ts) FROM findings GROUP BY 1, 2, 3, 4") ||
        exec(db, "PRAGMA journal_mode=WAL")) {
        goto out;
    }
    fprintf(stderr, "gen_findings: %llu findings (%llu failures, %llu success markers)"
                    " over %llu days\n", (unsigned long long)n, (unsigned long long)counts[0],
            (unsigned long long)counts[1], (unsigned long long)days);
    rc = 0;
out:
    sqlite3_finalize(ins);
    sqlite3_finalize(file);
    sqlite3_close(db);
    return rc;
}
