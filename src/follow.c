/*
 * Follow (see follow.h).
 *
 * The loop sleeps in the watcher.  It wakes at most once a second even
 * when nothing happens, so that a stop or reload signal that arrives just
 * before the wait starts is still seen promptly; that costs microseconds a
 * second.  Errors during a scan (a locked file, a full disk) are logged --
 * once per distinct message and minute, so a lasting problem does not
 * flood the log -- and the scan is retried on the next change.
 */
#include "agentwatch/follow.h"

#include "agentwatch/journal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/autoprobe.h"
#include "agentwatch/platform.h"
#include "agentwatch/query.h"
#include "agentwatch/retention.h"
#include "agentwatch/spool.h"
#include "agentwatch/source.h"
#include "agentwatch/timeutil.h"

#define WAKE_MS 1000
#define RETENTION_EVERY_MS (3600 * 1000)
#define REPEAT_LOG_MS 60000

struct follower {
    struct aw_store *store;
    struct aw_ruleset **rules;
    char *const *paths;
    size_t npaths;
    const struct aw_follow_opts *opts;
    struct aw_follow_stats *stats;
    struct aw_gap_state gaps;
    bool sync_rules;
    struct aw_diags said;     /* notices said once (a skipped file is
                                 skipped again on every pass) */
    char last_error[AW_ERR_MSG_MAX];
    int64_t last_error_ms;
    size_t files;             /* files the last completed scan saw */
    int64_t last_commit_ms;   /* when a scan last stored records */
    uint64_t status_records;  /* stats->records when STATUS= was sent */
    enum aw_health health;    /* the state at the last look (journal
                                 events), valid once health_read */
    bool health_read;
};

static void say(struct follower *f, int priority, const char *fmt, ...) AW_PRINTF(3, 4);
static void watch_health(struct follower *f);

static void say(struct follower *f, int priority, const char *fmt, ...)
{
    char line[2048];
    va_list ap;

    if (f->opts->log == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    f->opts->log(f->opts->ctx, priority, line);
}

/* A state change: the operator's line as say() writes it, and the same
 * as a structured event for the system log (journal.h).  When stderr is
 * the journal itself and the journal took the event, the line would be
 * the same entry twice: the event stands for both. */
static void emit(struct follower *f, const char *event, int priority, const char *rule,
                 const char *fmt, ...) AW_PRINTF(5, 6);

static void emit(struct follower *f, const char *event, int priority, const char *rule,
                 const char *fmt, ...)
{
    char line[2048];
    struct aw_event e;
    va_list ap;
    int sent = 0;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (f->opts->journal != NULL) {
        e.event = event;
        e.priority = priority;
        e.rule = rule;
        e.message = line;
        e.category = NULL;
        e.target = NULL;
        sent = aw_journal_send(f->opts->journal, &e);
    }
    if (!(sent == 1 && aw_journal_prefix(priority)[0] != '\0')) {
        say(f, priority, "%s", line);
    }
}

/* Tell the service manager; a failure is said once (then repeats are
 * limited like scan errors) and never stops the follow. */
static void report_error(struct follower *f, const struct aw_err *err);

static void notify_status(struct follower *f, bool force)
{
    struct aw_err err = { 0 };
    char when[AW_TIME_ISO_MAX];

    if (f->opts->notify == NULL || (!force && f->stats->records == f->status_records)) {
        return;
    }
    f->status_records = f->stats->records;
    aw_time_format_short(f->last_commit_ms, when);
    if (aw_notify_send(f->opts->notify, &err,
                       "STATUS=following %zu file%s; last commit %s; %llu record%s, "
                       "%llu finding%s since start", f->files, f->files == 1 ? "" : "s",
                       when[0] != '\0' ? when : "none yet",
                       (unsigned long long)f->stats->records, f->stats->records == 1 ? "" : "s",
                       (unsigned long long)f->stats->findings,
                       f->stats->findings == 1 ? "" : "s") != AW_OK) {
        report_error(f, &err);
    }
}

/* Scan progress: proof of life for the watchdog during a long catch-up. */
static void on_progress(void *ctx, const struct aw_scan_progress *p)
{
    const struct follower *f = ctx;

    (void)p;
    aw_notify_watchdog(f->opts->notify, aw_time_now_ms());
}

static void report_error(struct follower *f, const struct aw_err *err)
{
    int64_t now = aw_time_now_ms();

    f->stats->errors++;
    if (strcmp(err->msg, f->last_error) == 0 && now - f->last_error_ms < REPEAT_LOG_MS) {
        return;
    }
    snprintf(f->last_error, sizeof(f->last_error), "%s", err->msg);
    f->last_error_ms = now;
    if (err->code == AW_EDB) {
        emit(f, AW_EVENT_DB_ERROR, AW_PRIO_WARNING, NULL, "%s (will retry)", err->msg);
    } else {
        say(f, AW_PRIO_WARNING, "%s (will retry)", err->msg);
    }
}

static void notice_once(void *ctx, const char *line, bool skipped)
{
    struct follower *f = ctx;

    for (size_t i = 0; i < f->said.count; i++) {
        if (strcmp(f->said.items[i], line) == 0) {
            return;
        }
    }
    if (aw_diags_add(&f->said, "%s", line) == AW_OK) {
        say(f, skipped ? AW_PRIO_WARNING : AW_PRIO_INFO, "%s%s", skipped ? "warning: " : "note: ", line);
    }
}

/* One warning per rule a match limit stopped in this pass (as scan says
 * it); the records are stored as AW_LIMIT_RULE findings. */
static void say_limit_hits(struct follower *f, const uint64_t *hits, uint64_t total)
{
    const struct aw_ruleset *rs = *f->rules;

    if (hits == NULL && total > 0) {
        say(f, AW_PRIO_WARNING, "%llu record%s could not be matched by a rule"
            " (PCRE2 match limit)", (unsigned long long)total, total == 1 ? "" : "s");
    }
    for (size_t i = 0; hits != NULL && i < aw_rules_count(rs); i++) {
        if (hits[i] > 0) {
            say(f, AW_PRIO_WARNING, "%llu record%s could not be matched by rule '%s'"
                " (PCRE2 match limit)", (unsigned long long)hits[i], hits[i] == 1 ? "" : "s",
                aw_rules_get(rs, i)->id);
        }
    }
}

static void one_scan(struct follower *f)
{
    struct aw_scan_opts so;
    struct aw_scan_stats st;
    struct aw_err err = { 0 }, spool_err = { 0 };
    int rc;

    memset(&so, 0, sizeof(so));
    so.format = f->opts->format;
    so.host = f->opts->host;
    so.tz = f->opts->tz;
    so.max_record = f->opts->max_record;
    so.stop = f->opts->stop;
    so.commit_ms = f->opts->commit_ms ? f->opts->commit_ms : 250;
    so.hold_partial = true;
    so.missing_ok = true;
    so.skip_rule_sync = !f->sync_rules;
    so.gaps = &f->gaps;
    so.on_file = f->opts->on_file;
    so.ctx = f->opts->ctx;
    so.on_progress = on_progress;
    so.progress_ctx = f;
    so.on_notice = notice_once;
    so.notice_ctx = f;
    /* per-rule detail is a nicety: without memory, the total is said */
    so.limit_hits = calloc(aw_rules_count(*f->rules) + 1, sizeof(*so.limit_hits));
    f->stats->scans++;
    rc = aw_scan_run(f->store, *f->rules, f->paths, f->npaths, &so, &st, &err);
    /* The spool writes with every commit; what is left (a backlog, a
     * batch rolled back) is written here, also after a failed scan. */
    if (f->opts->spool != NULL && aw_spool_drain(f->opts->spool, &spool_err) != AW_OK) {
        report_error(f, &spool_err);
    }
    if (rc != AW_OK) {
        free(so.limit_hits);
        report_error(f, &err);
        return;
    }
    if (f->opts->autoprobe != NULL && aw_autoprobe_check(f->opts->autoprobe, &err) != AW_OK) {
        report_error(f, &err);
    }
    say_limit_hits(f, so.limit_hits, st.limit_hits);
    free(so.limit_hits);
    f->sync_rules = false;
    f->last_error[0] = '\0';
    f->stats->records += st.records;
    f->stats->findings += st.findings;
    f->stats->gaps += st.gaps;
    f->files = st.files;
    if (st.records > 0 || st.findings > 0 || st.gaps > 0) {
        f->last_commit_ms = aw_time_now_ms();
    }
    if (st.gaps > 0) {
        emit(f, AW_EVENT_DATA_GAP, AW_PRIO_WARNING, AW_GAP_RULE, "%llu data gap%s recorded:"
             " content was rotated away or deleted before it was read",
             (unsigned long long)st.gaps, st.gaps == 1 ? "" : "s");
    }
    if (st.findings > 0 || !f->health_read) {
        watch_health(f);
    }
    notify_status(f, false);
}

/* The incident events of a state read: started (healthy or unknown ->
 * failing) or ended (failing -> healthy).  Journal or syslog only: the
 * report and status already say this to people. */
static void incident_event(struct follower *f, const struct aw_health_state *st,
                           const char *target)
{
    char when[AW_TIME_ISO_MAX], line[1024];
    struct aw_event e;

    memset(&e, 0, sizeof(e));
    aw_time_format_short(st->since_ms, when);
    if (st->health == AW_HEALTH_FAILING) {
        e.event = AW_EVENT_INCIDENT_STARTED;
        e.priority = AW_PRIO_WARNING;
        e.category = st->category;
        e.target = target;
        snprintf(line, sizeof(line), "incident started: failing since %s (mostly %s)%s%s", when,
                 st->category != NULL ? st->category : "", target != NULL ? ", target " : "",
                 target != NULL ? target : "");
    } else {
        e.event = AW_EVENT_INCIDENT_ENDED;
        e.priority = AW_PRIO_NOTICE;
        snprintf(line, sizeof(line), "incident ended: healthy since %s", when);
    }
    e.message = line;
    (void)aw_journal_send(f->opts->journal, &e);
}

/* Did an incident start or end since the last look?  The state of all
 * findings, as status computes it, compared with the one before; the
 * first look only sets the baseline.  A failing -> healthy -> failing
 * inside one scan is one state change fewer: looks are per scan. */
static void watch_health(struct follower *f)
{
    struct aw_query_filter qf = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL };
    struct aw_incidents recent = { 0 };
    struct aw_health_state st;
    struct aw_query *q = NULL;
    struct aw_err err = { 0 };
    char *target = NULL;

    if (f->opts->journal == NULL) {
        return;
    }
    if (aw_query_open(&q, f->store, &qf, &err) != AW_OK ||
        aw_query_incidents(q, 1, &recent, &err) != AW_OK ||
        aw_query_state(q, &recent, &st, &err) != AW_OK) {
        report_error(f, &err);
        goto out;
    }
    if (f->health_read && st.health != f->health &&
        (st.health == AW_HEALTH_FAILING || f->health == AW_HEALTH_FAILING)) {
        if (st.health == AW_HEALTH_FAILING &&
            aw_query_top_target(q, st.since_ms, &target, &err) != AW_OK) {
            target = NULL;
        }
        incident_event(f, &st, target);
    }
    f->health = st.health;
    f->health_read = true;
out:
    free(target);
    aw_incidents_free(&recent);
    aw_query_close(&q);
}

/* Automatic retention: cheap when there is nothing to delete. */
static void retain(struct follower *f)
{
    struct aw_err err = { 0 };
    uint64_t deleted = 0;

    if (f->opts->retention_days <= 0) {
        return;
    }
    if (aw_retention_run(f->store, f->opts->retention_days, aw_time_now_ms(), &deleted, &err) !=
        AW_OK) {
        report_error(f, &err);
    } else if (deleted > 0) {
        say(f, AW_PRIO_INFO, "retention: deleted %llu findings older than %d days",
            (unsigned long long)deleted, f->opts->retention_days);
    }
}

/* Replace the rule set, or keep it when the new one does not load. */
static void reload(struct follower *f)
{
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    struct aw_ruleset *fresh = NULL;
    int rc = aw_rules_load_layers(f->opts->rules_path, f->opts->local_rules_path, f->opts->rules_flags, &fresh,
                                  &diags, &err);

    if (rc != AW_OK) {
        for (size_t i = 0; i < diags.count; i++) {
            say(f, AW_PRIO_ERR, "%s", diags.items[i]);
        }
        emit(f, AW_EVENT_RULES_INVALID, AW_PRIO_ERR, NULL, "%s: rules not reloaded (%s); still"
             " using the %zu rules loaded before", f->opts->rules_path,
             diags.count > 0 ? "invalid rule set" : err.msg, aw_rules_count(*f->rules));
    } else {
        aw_rules_free(f->rules);
        *f->rules = fresh;
        f->sync_rules = true;
        f->stats->reloads++;
        emit(f, AW_EVENT_RULES_RELOADED, AW_PRIO_INFO, NULL, "%s: reloaded %zu rules",
             f->opts->rules_path, aw_rules_count(fresh));
    }
    aw_diags_free(&diags);
}

static bool is_dir(const char *path)
{
    struct aw_os_stat st;

    return aw_os_stat(path, &st) == 0 && st.is_dir;
}

/* The folders holding paths (a folder stands for itself), each once. */
static int watch_dirs(char *const paths[], size_t n, char ***out, size_t *count,
                      struct aw_err *err)
{
    char **dirs = calloc(n ? n : 1, sizeof(char *));
    size_t k = 0;
    int rc = AW_OK;

    if (dirs == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && rc == AW_OK; i++) {
        const char *slash = aw_path_last_sep(paths[i]);
        char *dir;
        bool dup = false;

        if (is_dir(paths[i])) {
            dir = strdup(paths[i]);
        } else if (slash == NULL) {
            dir = strdup(".");
        } else if (slash == paths[i]) {
            dir = strdup("/");
        } else {
            dir = strndup(paths[i], (size_t)(slash - paths[i]));
        }
        if (dir == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < k && !dup; j++) {
            dup = strcmp(dirs[j], dir) == 0;
        }
        if (dup) {
            free(dir);
        } else {
            dirs[k++] = dir;
        }
    }
    *out = dirs;
    *count = k;
    return rc;
}

/* Catch up, then scan on every change and every rescan interval, reload
 * the rules when asked (reloads_seen: the count when following began),
 * and apply retention hourly, until stopped. */
static void follow_loop(struct follower *f, struct aw_watch *watch, sig_atomic_t reloads_seen,
                        struct aw_err *err)
{
    const struct aw_follow_opts *opts = f->opts;
    unsigned rescan_ms = opts->rescan_ms ? opts->rescan_ms : 30000;
    int64_t last_scan, last_retention;

    retain(f);
    last_retention = aw_time_now_ms();
    one_scan(f);   /* catch up */
    notify_status(f, true);
    last_scan = aw_time_now_ms();
    while (*opts->stop == 0) {
        int64_t now, wait_ms;
        int changed;

        aw_notify_watchdog(opts->notify, aw_time_now_ms());

        if (*opts->reloads != reloads_seen) {
            reloads_seen = *opts->reloads;
            reload(f);
            one_scan(f);
            last_scan = aw_time_now_ms();
            continue;
        }
        now = aw_time_now_ms();
        wait_ms = (int64_t)rescan_ms - (now - last_scan);
        wait_ms = wait_ms < 0 ? 0 : (wait_ms > WAKE_MS ? WAKE_MS : wait_ms);
        changed = aw_watch_wait(watch, (int)wait_ms, err);
        if (changed < 0) {
            report_error(f, err);
            changed = 1;
        }
        if (*opts->stop != 0) {
            break;
        }
        if (changed == 1 || aw_time_now_ms() - last_scan >= (int64_t)rescan_ms) {
            one_scan(f);
            last_scan = aw_time_now_ms();
        }
        if (aw_time_now_ms() - last_retention >= RETENTION_EVERY_MS) {
            retain(f);
            last_retention = aw_time_now_ms();
        }
    }
}

int aw_follow_run(struct aw_store *store, struct aw_ruleset **rules, char *const paths[],
                  size_t npaths, const struct aw_follow_opts *opts,
                  struct aw_follow_stats *stats, struct aw_err *err)
{
    struct follower f;
    struct aw_watch *watch = NULL;
    struct aw_diags notes = { 0 };
    char **resolved = NULL;
    char **dirs = NULL;
    size_t ndirs = 0;
    sig_atomic_t reloads_seen = *opts->reloads;
    struct aw_err notify_err = { 0 };
    int rc;

    memset(&f, 0, sizeof(f));
    memset(stats, 0, sizeof(*stats));
    f.store = store;
    f.rules = rules;
    f.npaths = npaths;
    f.opts = opts;
    f.stats = stats;
    f.sync_rules = true;
    /* Resolved once: the folders watched are the targets' folders, and
     * every pass reads the same files. */
    rc = aw_source_resolve(paths, npaths, &resolved, &notes, err);
    if (rc != AW_OK) {
        goto out;
    }
    for (size_t i = 0; i < notes.count; i++) {
        notice_once(&f, notes.items[i], false);
    }
    f.paths = resolved;
    rc = watch_dirs(resolved, npaths, &dirs, &ndirs, err);
    if (rc == AW_OK) {
        rc = aw_watch_open(&watch, dirs, ndirs, opts->poll_ms, err);
    }
    if (rc != AW_OK) {
        goto out;
    }
    stats->mode = aw_watch_get_mode(watch);
    f.last_commit_ms = AW_TIME_NONE;
    /* Ready once following is set up: the catch-up may take long, and
     * what it reads is committed as it goes. */
    if (aw_notify_send(opts->notify, &notify_err, "READY=1\nSTATUS=catching up with %zu path%s",
                       npaths, npaths == 1 ? "" : "s") != AW_OK) {
        report_error(&f, &notify_err);
    }
    follow_loop(&f, watch, reloads_seen, err);
    if (aw_notify_send(opts->notify, &notify_err, "STOPPING=1") != AW_OK) {
        report_error(&f, &notify_err);
    }
    rc = AW_OK;
out:
    aw_watch_close(&watch);
    for (size_t i = 0; i < ndirs; i++) {
        free(dirs[i]);
    }
    free(dirs);
    aw_gap_state_free(&f.gaps);
    aw_source_paths_free(&resolved);
    aw_diags_free(&notes);
    aw_diags_free(&f.said);
    return rc;
}
