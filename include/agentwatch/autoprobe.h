/*
 * follow's automatic probe (issue 12): when an incident starts -- the
 * first failure after a success, or a first failure -- the server named
 * by the incident's first failure with a target is probed, at most once
 * per target (host:port) per interval.
 *
 * The probe runs as a child process (`agentwatch [--config F]
 * [--allow-unsafe-dir] --db DB probe -- TARGET`, its output discarded; it
 * stores its own result, as a probe does), so reading the logs never waits
 * on the network: starting it is one posix_spawn (CreateProcessW on
 * Windows: aw_os_spawn_quiet), and finished children are reaped without
 * waiting.
 * Incidents are seen in the findings follow committed (by id, after each
 * scan), never in probe findings themselves; the state at start is the
 * stored one, so a restart during an incident does not probe again.
 * At most AW_AUTOPROBE_CHILDREN probes run at once; one more is skipped
 * (and said).  On by default (AW_AUTOPROBE_INTERVAL_DEFAULT), on Linux
 * and Windows alike.
 */
#ifndef AGENTWATCH_AUTOPROBE_H
#define AGENTWATCH_AUTOPROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/store.h"

#define AW_AUTOPROBE_CHILDREN 4
/* follow.probe_interval_seconds: 0 turns the probe off; unset, 600 (at
 * most one probe per server per 10 minutes, as issue 12 asks). */
#define AW_AUTOPROBE_INTERVAL_DEFAULT 600
#define AW_AUTOPROBE_INTERVAL_MIN 0
#define AW_AUTOPROBE_INTERVAL_MAX 86400

struct aw_autoprobe;

/* A one-line message (priority as in notify.h) for follow's log. */
typedef void (*aw_autoprobe_log_fn)(void *ctx, int priority, const char *line);

/* Prepare for follow's store s (the probes write to the same database):
 * the probe command's other global options (config_path may be NULL) and
 * the interval; reads the stored state from s.  AW_EUSAGE where there is
 * no probe engine. */
int aw_autoprobe_open(struct aw_autoprobe **out, struct aw_store *s, const char *config_path,
                      bool allow_unsafe_dir, unsigned interval_s, aw_autoprobe_log_fn log,
                      void *log_ctx, struct aw_err *err);

/* After a commit: look at the new findings, start probes; reap finished
 * ones.  Never blocks on a child. */
int aw_autoprobe_check(struct aw_autoprobe *ap, struct aw_err *err);

/* Stop: running probes are killed (they store nothing then) and reaped
 * (on Windows each waited for at most AW_OS_CHILD_KILL_WAIT_MS). */
void aw_autoprobe_close(struct aw_autoprobe **ap);

#endif
