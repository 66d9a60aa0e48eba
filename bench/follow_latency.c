/*
 * follow benchmark: latency from append to committed finding, and idle CPU.
 *
 *   follow_latency AGENTWATCH DIR [RECORDS [PER_SECOND [IDLE_SECONDS]]]
 *
 * Starts `agentwatch follow` on DIR/agent.log, appends RECORDS failure
 * records at PER_SECOND, and notes for each when its finding becomes
 * visible to a reader of the database (one read-only connection, polled
 * every millisecond).  Then leaves the follower idle for IDLE_SECONDS and
 * reads its CPU time from /proc.  Prints a summary and one JSON line.
 * Nothing here is part of `meson test`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* utime + stime of pid in milliseconds, or -1. */
static double cpu_ms(pid_t pid)
{
    char path[64], buf[4096], *p;
    unsigned long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                            &ut, &st) != 2) {
        return -1;
    }
    return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char *what)
{
    fprintf(stderr, "follow_latency: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    const char *bin, *dir;
    int records = 1000, rate = 50, idle_s = 60;
    char log[4096], db[4096], rules[4096], out[4096];
    double *appended, *seen, *lat;
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int found = 0, last_id = 0;
    pid_t pid;
    FILE *f;

    if (argc < 3) {
        fprintf(stderr, "usage: follow_latency AGENTWATCH DIR [RECORDS [PER_SECOND [IDLE_S]]]\n");
        return 2;
    }
    bin = argv[1];
    dir = argv[2];
    if (argc > 3) records = atoi(argv[3]);
    if (argc > 4) rate = atoi(argv[4]);
    if (argc > 5) idle_s = atoi(argv[5]);
    if (records < 1 || rate < 1 || idle_s < 0) {
        fprintf(stderr, "follow_latency: bad numbers\n");
        return 2;
    }
    snprintf(log, sizeof(log), "%s/agent.log", dir);
    snprintf(db, sizeof(db), "%s/follow.db", dir);
    snprintf(rules, sizeof(rules), "%s/rules.yaml", dir);
    snprintf(out, sizeof(out), "%s/follow.out", dir);
    unlink(log);
    unlink(db);
    f = fopen(rules, "w");
    if (f == NULL) die(rules);
    fputs("rules:\n  - id: trust\n    category: ssl\n    severity: error\n"
          "    pattern: '(?i)could not establish trust relationship'\n", f);
    fclose(f);
    close(open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    appended = calloc((size_t)records + 1, sizeof(double));
    seen = calloc((size_t)records + 1, sizeof(double));
    lat = calloc((size_t)records + 1, sizeof(double));
    if (appended == NULL || seen == NULL || lat == NULL) die("calloc");

    pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        execl(bin, bin, "--db", db, "follow", "--rules", rules, log, (char *)NULL);
        _exit(127);
    }
    /* Ready when it said so and the database exists. */
    for (double t0 = now_ms(); now_ms() - t0 < 10000;) {
        char buf[256] = "";
        FILE *o = fopen(out, "r");
        if (o != NULL) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, o);
            buf[n] = '\0';
            fclose(o);
        }
        if (strstr(buf, "following") != NULL) break;
        poll(NULL, 0, 5);
    }
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(h, 1000) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "SELECT id, message FROM findings WHERE id > ?1 ORDER BY id", -1,
                           &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "follow_latency: %s: %s\n", db, sqlite3_errmsg(h));
        return 1;
    }
    for (int i = 1; found < records;) {
        double t = now_ms();
        if (i <= records && t >= appended[i - 1] + 1000.0 / rate) {
            char rec[512];
            int fd = open(log, O_WRONLY | O_APPEND);
            int len = snprintf(rec, sizeof(rec),
                               "<event date='03/11/2025 08:00:00.0000000 +00:00' severity='1' >"
                               "<![CDATA[The underlying connection was closed: Could not"
                               " establish trust relationship #%d]]></event>\n", i);
            appended[i] = now_ms();
            if (fd < 0 || write(fd, rec, (size_t)len) != len) die(log);
            close(fd);
            i++;
        }
        sqlite3_bind_int(st, 1, last_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *m = (const char *)sqlite3_column_text(st, 1);
            const char *hash = m != NULL ? strrchr(m, '#') : NULL;
            int id = hash != NULL ? atoi(hash + 1) : 0;
            last_id = sqlite3_column_int(st, 0);
            if (id >= 1 && id <= records && seen[id] == 0) {
                seen[id] = now_ms();
                found++;
            }
        }
        sqlite3_reset(st);
        if (i > records && now_ms() - appended[records] > 10000) {
            fprintf(stderr, "follow_latency: only %d of %d findings after 10 s\n", found,
                    records);
            break;
        }
        poll(NULL, 0, 1);
    }
    for (int i = 1; i <= records; i++) {
        lat[i - 1] = seen[i] > 0 ? seen[i] - appended[i] : 1e9;
    }
    qsort(lat, (size_t)records, sizeof(double), cmp_double);
    {
        double median = lat[records / 2], p99 = lat[(records * 99) / 100 - (records >= 100)];
        double maxl = lat[records - 1], c0, c1;

        printf("append -> committed finding over %d records at %d/s: median %.1f ms,"
               " p99 %.1f ms, max %.1f ms\n", records, rate, median, p99, maxl);
        fflush(stdout);
        c0 = cpu_ms(pid);
        poll(NULL, 0, idle_s * 1000);
        c1 = cpu_ms(pid);
        printf("idle for %d s: %.0f ms of CPU (%.3f%% of one core)\n", idle_s, c1 - c0,
               idle_s > 0 ? (c1 - c0) / (idle_s * 10.0) : 0.0);
        printf("{\"records\": %d, \"rate\": %d, \"median_ms\": %.1f, \"p99_ms\": %.1f,"
               " \"max_ms\": %.1f, \"idle_s\": %d, \"idle_cpu_ms\": %.0f}\n", records, rate,
               median, p99, maxl, idle_s, c1 - c0);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(appended);
    free(seen);
    free(lat);
    return found == records ? 0 : 1;
}
