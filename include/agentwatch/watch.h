/*
 * Watch: waiting, without busy polling, until something may have changed
 * in the folders that hold the followed logs.
 *
 * Folders are watched, not files: rotation renames and recreates the files,
 * and a folder watch sees every step of it.  On Linux the watch uses
 * inotify.  Where inotify is not available or not trustworthy (network file
 * systems do not report remote writes), or when asked to, it polls: every
 * interval it compares a signature of the folders' log files (names,
 * inodes, sizes, modification times) with the previous one.
 *
 * A wake-up is only a hint; the caller always re-reads what is there.
 */
#ifndef AGENTWATCH_WATCH_H
#define AGENTWATCH_WATCH_H

#include <stddef.h>

#include "agentwatch/err.h"

enum aw_watch_mode {
    AW_WATCH_NOTIFY = 0,      /* kernel notifications (inotify) */
    AW_WATCH_POLL             /* stat polling */
};

struct aw_watch;

/* Watch the folders dirs[0..n).  poll_ms > 0 forces polling at that
 * interval; otherwise notifications are used when they can be, else
 * polling every AW_WATCH_POLL_DEFAULT_MS.  A folder that does not exist is
 * an error (AW_ENOTFOUND).  Caller frees with aw_watch_close(). */
int aw_watch_open(struct aw_watch **out, char *const dirs[], size_t n, unsigned poll_ms,
                  struct aw_err *err);

#define AW_WATCH_POLL_DEFAULT_MS 1000u

/* Wait up to timeout_ms for a change.  Returns 1 when something may have
 * changed (the events are consumed; a burst is coalesced), 0 on timeout or
 * when a signal interrupted the wait, or a negative status. */
int aw_watch_wait(struct aw_watch *w, int timeout_ms, struct aw_err *err);

enum aw_watch_mode aw_watch_get_mode(const struct aw_watch *w);

/* Stop watching and free; sets *w to NULL. Accepts NULL. */
void aw_watch_close(struct aw_watch **w);

#endif
