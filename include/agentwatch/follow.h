/*
 * Follow: keep the findings of a set of logs current until told to stop.
 *
 * Following is a sequence of scans (see scan.h): one at start that catches
 * up with everything written since the stored positions -- including
 * content rotated into agentK.log meanwhile, oldest first -- and then one
 * each time the watched folders change (see watch.h), plus a safety scan
 * every rescan_ms.  Every scan finds each file by content and resumes it
 * at its stored position, so every rotation scheme is handled by the same
 * code whether it happened while following or while stopped, and findings
 * are committed with the positions that cover them (exactly once, also
 * across SIGKILL).  Files are opened only while read: the agent can always
 * rename and delete its logs.
 */
#ifndef AGENTWATCH_FOLLOW_H
#define AGENTWATCH_FOLLOW_H

#include <signal.h>
#include <stddef.h>

#include "agentwatch/err.h"
#include "agentwatch/notify.h"
#include "agentwatch/record.h"
#include "agentwatch/rules.h"
#include "agentwatch/scan.h"
#include "agentwatch/store.h"
#include "agentwatch/watch.h"

/* A one-line message for the operator (reloads, errors while following),
 * with its syslog priority (AW_PRIO_* of notify.h). */
typedef void (*aw_follow_log_fn)(void *ctx, int priority, const char *line);

struct aw_spool;
struct aw_journal;
struct aw_autoprobe;

struct aw_follow_opts {
    enum aw_format format;
    const char *host;
    const struct aw_tz *tz;   /* zone of record times without an offset
                                 (scan.h); NULL: UTC */
    size_t max_record;
    const char *rules_path;       /* reloaded when *reloads changes */
    const char *local_rules_path; /* its local layer (NULL: none) */
    unsigned rules_flags;         /* AW_RULES_LOAD_* of the reload */
    unsigned poll_ms;             /* > 0: poll at this interval instead of
                                     kernel notifications */
    unsigned commit_ms;           /* longest a batch waits; 0: 250 */
    unsigned rescan_ms;           /* scan even without events; 0: 30000 */
    int retention_days;           /* delete findings older than this many
                                     days, at start and hourly; 0: never */
    const volatile sig_atomic_t *stop;     /* non-zero: commit and return */
    const volatile sig_atomic_t *reloads;  /* changes: reload the rules */
    struct aw_notify *notify;     /* the service manager (may be NULL):
                                     READY=1 when the catch-up starts,
                                     STATUS= after scans that changed
                                     something, WATCHDOG=1 from the loop
                                     and during long scans, STOPPING=1 */
    aw_follow_log_fn log;         /* may be NULL */
    const struct aw_journal *journal;  /* state changes as structured
                                     events (rules reloaded or not, data
                                     gaps, database errors); may be NULL */
    aw_scan_file_fn on_file;      /* per file and scan (may be NULL) */
    void *ctx;                    /* for log and on_file */
    struct aw_spool *spool;       /* drained after every scan; may be NULL */
    struct aw_autoprobe *autoprobe;   /* told after every scan (incidents
                                         start probes); may be NULL */
};

struct aw_follow_stats {
    uint64_t scans;
    uint64_t records;
    uint64_t findings;
    uint64_t gaps;
    uint64_t reloads;             /* successful rule reloads */
    uint64_t errors;              /* scans that failed (and were retried) */
    enum aw_watch_mode mode;      /* how changes were noticed */
};

/* Follow paths into store with *rules until *opts->stop is set.  On a
 * reload the rule set is replaced (the old one freed) or, when the new one
 * is invalid, kept with a message.  Errors while following are reported
 * through opts->log and retried; only setting up (the folders to watch)
 * fails.  Returns AW_OK after a clean stop. */
int aw_follow_run(struct aw_store *store, struct aw_ruleset **rules, char *const paths[],
                  size_t npaths, const struct aw_follow_opts *opts,
                  struct aw_follow_stats *stats, struct aw_err *err);

#endif
