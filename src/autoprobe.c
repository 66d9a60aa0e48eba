/*
 * follow's automatic probe (see autoprobe.h).
 */
#include "agentwatch/autoprobe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agentwatch/notify.h"
#include "agentwatch/platform.h"
#include "agentwatch/probe.h"
#include "agentwatch/rules.h"
#include "agentwatch/timeutil.h"
#include "store_internal.h"

#define PROBE_FILES \
    "(SELECT id FROM files WHERE dev = -1 AND ino = -1 AND path = 'agentwatch probe')"
#define SQL_LAST \
    "SELECT id, category FROM findings WHERE file_id NOT IN " PROBE_FILES \
    " ORDER BY id DESC LIMIT 1"
#define SQL_NEW \
    "SELECT id, category, coalesce(target, '') FROM findings WHERE id > ?1" \
    " AND file_id NOT IN " PROBE_FILES " ORDER BY id"

struct probed {
    char key[AW_PROBE_HOST_MAX + 8];   /* host:port */
    int64_t at_ms;
};

struct aw_autoprobe {
    struct aw_store *store;
    char exe[4096];
    char *config_path;
    bool allow_unsafe_dir;
    int64_t interval_ms;
    aw_autoprobe_log_fn log;
    void *log_ctx;
    int64_t last_id;          /* findings up to here are seen */
    bool failing;             /* the last finding seen was a failure */
    bool need_target;         /* an incident started, nothing probed yet */
    struct probed *probed;
    size_t nprobed, capprobed;
    aw_os_child children[AW_AUTOPROBE_CHILDREN];   /* 0: free */
};

static void say(struct aw_autoprobe *ap, int priority, const char *fmt, ...) AW_PRINTF(3, 4);

static void say(struct aw_autoprobe *ap, int priority, const char *fmt, ...)
{
    char line[1024];
    va_list va;

    if (ap->log == NULL) {
        return;
    }
    va_start(va, fmt);
    vsnprintf(line, sizeof(line), fmt, va);
    va_end(va);
    ap->log(ap->log_ctx, priority, line);
}

/* Start `agentwatch [--config F] [--allow-unsafe-dir] --db DB probe --
 * TARGET` (aw_os_spawn_quiet: its output discarded). */
static int spawn_probe(struct aw_autoprobe *ap, const char *target, aw_os_child *child)
{
    const char *argv[10];
    int n = 0;

    argv[n++] = ap->exe;
    if (ap->config_path != NULL) {
        argv[n++] = "--config";
        argv[n++] = ap->config_path;
    }
    if (ap->allow_unsafe_dir) {
        argv[n++] = "--allow-unsafe-dir";
    }
    argv[n++] = "--db";
    argv[n++] = aw_store_path(ap->store);
    argv[n++] = "probe";
    argv[n++] = "--";
    argv[n++] = target;
    argv[n] = NULL;
    return aw_os_spawn_quiet(argv, child);
}

static void reap(struct aw_autoprobe *ap, bool kill_all)
{
    for (size_t i = 0; i < AW_AUTOPROBE_CHILDREN; i++) {
        if (ap->children[i] == 0) {
            continue;
        }
        if (kill_all) {
            /* A probe stores its result in one transaction at its end:
             * killed before, it leaves nothing, and a stop never waits for
             * a server's timeouts.  On Windows it also lets go of the exe,
             * which an upgrade replaces right after stopping the service. */
            aw_os_child_kill(ap->children[i]);
            ap->children[i] = 0;
        } else if (aw_os_child_reap(ap->children[i])) {
            ap->children[i] = 0;
        }
    }
}

/* Probe target unless it was probed within the interval. */
static void maybe_probe(struct aw_autoprobe *ap, const char *text)
{
    struct aw_probe_target t;
    struct aw_err perr = { 0 };
    char key[sizeof(ap->probed[0].key)];
    int64_t now = aw_time_now_ms();
    struct probed *slot = NULL;
    size_t free_child = AW_AUTOPROBE_CHILDREN;

    if (aw_probe_parse_target(text, &t, &perr) != AW_OK) {
        return;     /* not a server name (a path, a GUID): nothing to probe */
    }
    ap->need_target = false;
    snprintf(key, sizeof(key), "%s:%u", t.host, t.port);
    for (size_t i = 0; i < ap->nprobed && slot == NULL; i++) {
        slot = strcmp(ap->probed[i].key, key) == 0 ? &ap->probed[i] : NULL;
    }
    if (slot != NULL && now - slot->at_ms < ap->interval_ms) {
        return;
    }
    for (size_t i = 0; i < AW_AUTOPROBE_CHILDREN; i++) {
        free_child = ap->children[i] == 0 && free_child == AW_AUTOPROBE_CHILDREN ? i : free_child;
    }
    if (free_child == AW_AUTOPROBE_CHILDREN) {
        say(ap, AW_PRIO_WARNING, "probe of %s skipped: %d probes are running", key,
            AW_AUTOPROBE_CHILDREN);
        return;
    }
    if (slot == NULL) {
        if (ap->nprobed == ap->capprobed) {
            size_t ncap = ap->capprobed ? ap->capprobed * 2 : 8;
            struct probed *np = realloc(ap->probed, ncap * sizeof(*np));
            if (np == NULL) {
                return;     /* without memory, no probe: the logs come first */
            }
            ap->probed = np;
            ap->capprobed = ncap;
        }
        slot = &ap->probed[ap->nprobed++];
        snprintf(slot->key, sizeof(slot->key), "%s", key);
    }
    slot->at_ms = now;
    {
        int rc = spawn_probe(ap, key, &ap->children[free_child]);
        if (rc != 0) {
            say(ap, AW_PRIO_WARNING, "cannot start the probe of %s: %s", key, strerror(rc));
            return;
        }
    }
    say(ap, AW_PRIO_INFO, "incident: probing %s (agentwatch probe; the result is stored)", key);
}

int aw_autoprobe_check(struct aw_autoprobe *ap, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    reap(ap, false);
    if (sqlite3_prepare_v2(aw_store_sqlite(ap->store), SQL_NEW, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(ap->store, err, "cannot read the new findings");
    }
    sqlite3_bind_int64(st, 1, ap->last_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *category = (const char *)sqlite3_column_text(st, 1);
        const char *target = (const char *)sqlite3_column_text(st, 2);

        ap->last_id = sqlite3_column_int64(st, 0);
        if (category != NULL && strcmp(category, AW_CATEGORY_HEALTH) == 0) {
            ap->failing = false;
            ap->need_target = false;
            continue;
        }
        if (!ap->failing) {
            ap->failing = true;
            ap->need_target = true;
        }
        if (ap->need_target && target != NULL && target[0] != '\0') {
            maybe_probe(ap, target);
        }
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        return aw_store_db_error(ap->store, err, "cannot read the new findings");
    }
    return AW_OK;
}

/* Where the last stored finding leaves the state. */
static int read_state(struct aw_autoprobe *ap, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(aw_store_sqlite(ap->store), SQL_LAST, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(ap->store, err, "cannot read the last finding");
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *category = (const char *)sqlite3_column_text(st, 1);
        ap->last_id = sqlite3_column_int64(st, 0);
        ap->failing = category == NULL || strcmp(category, AW_CATEGORY_HEALTH) != 0;
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        return aw_store_db_error(ap->store, err, "cannot read the last finding");
    }
    return AW_OK;
}

static int self_exe(char *buf, size_t size, struct aw_err *err)
{
    if (aw_os_self_exe(buf, size) != 0) {
        return aw_err_set(err, AW_EIO, "cannot find the agentwatch program for probes: %s",
                          strerror(errno));
    }
    return AW_OK;
}

int aw_autoprobe_open(struct aw_autoprobe **out, struct aw_store *s, const char *config_path,
                      bool allow_unsafe_dir, unsigned interval_s, aw_autoprobe_log_fn log,
                      void *log_ctx, struct aw_err *err)
{
    struct aw_autoprobe *ap;
    int rc;

    *out = NULL;
    if (!aw_probe_available()) {
        return aw_err_set(err, AW_EUSAGE, "probe is not available on this platform yet");
    }
    ap = calloc(1, sizeof(*ap));
    if (ap == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    ap->store = s;
    ap->interval_ms = (int64_t)interval_s * 1000;
    ap->log = log;
    ap->log_ctx = log_ctx;
    ap->allow_unsafe_dir = allow_unsafe_dir;
    ap->config_path = config_path != NULL ? strdup(config_path) : NULL;
    if (config_path != NULL && ap->config_path == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory");
    } else {
        rc = self_exe(ap->exe, sizeof(ap->exe), err);
    }
    if (rc == AW_OK) {
        rc = read_state(ap, err);
    }
    if (rc != AW_OK) {
        aw_autoprobe_close(&ap);
        return rc;
    }
    *out = ap;
    return AW_OK;
}

void aw_autoprobe_close(struct aw_autoprobe **ap)
{
    if (ap == NULL || *ap == NULL) {
        return;
    }
    reap(*ap, true);
    free((*ap)->probed);
    free((*ap)->config_path);
    free(*ap);
    *ap = NULL;
}
