/*
 * The scan's pipeline (issue 14): a bounded queue between the thread that
 * reads, frames and classifies records (the caller, scan.c) and a thread
 * that owns the SQLite connection while a file is read and stores the
 * findings and commits.  See docs/HACKING.md, "The scan pipeline".
 *
 * The reader decides everything that makes a batch: which findings, where
 * it ends, the position and marker it commits, whether it is rolled back.
 * The store thread only carries that out, in queue order, so the database
 * ends up the same as on one thread whatever the timing.  Between
 * aw_pipe_start() and aw_pipe_finish() the caller must not touch the store.
 *
 * Memory is bounded by the queue: AW_PIPE_SLOTS slots, each holding a
 * fixed number of findings and fixed bytes for their texts, allocated once
 * when the pipeline starts.
 */
#ifndef AGENTWATCH_SCAN_PIPE_H
#define AGENTWATCH_SCAN_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/store.h"

#define AW_PIPE_SLOTS 4
/* Longest host name scan keeps (a record's own, --host, this machine's),
 * in bytes; a slot copies the file's newest-record host at this size. */
#define AW_SCAN_HOST_MAX 255
/* Findings per slot by default (the queue holds four slots). */
#define AW_PIPE_SLOT_FINDINGS 512

struct aw_pipe;

/* What the store thread did, for the file's statistics. */
struct aw_pipe_totals {
    uint64_t commits;         /* batches committed */
    uint64_t findings;        /* new findings in them */
    uint64_t to;              /* offset of the last committed batch */
};

/* Start the store thread on store, whose open transaction (the first
 * batch's) it takes over.  slot_findings: findings per slot (0: the
 * default; tests use 1 to hand over every finding).  *out is NULL and
 * AW_OK returned where the platform has no threads or none could be
 * started: the caller then stores on its own thread. */
int aw_pipe_start(struct aw_pipe **out, struct aw_store *store, size_t slot_findings,
                  struct aw_err *err);

/* Queue a finding of the current batch.  Its message, target and code are
 * copied (as much as the store keeps), its host too unless host_stable
 * (the host outlives the pipeline); the other strings must outlive the
 * pipeline.  An error of the store thread is returned here. */
int aw_pipe_add(struct aw_pipe *p, const struct aw_finding *f, bool host_stable,
                struct aw_err *err);

/* End the batch: store prog (its findings count is the store thread's)
 * and commit.  With only_if_new, the batch is committed only when it
 * stored a new finding, else left open (the caller rolls it back). */
int aw_pipe_commit(struct aw_pipe *p, const struct aw_file_progress *prog, bool only_if_new,
                   struct aw_err *err);

/* End the batch: roll back everything since the last commit. */
int aw_pipe_rollback(struct aw_pipe *p, struct aw_err *err);

/* Hand over what is queued, wait for the store thread to carry it out and
 * end it; the store is the caller's again.  Returns the store thread's
 * error, if any (into err); *totals gets what it committed.  *pp is NULL
 * afterwards; a NULL *pp is a no-op. */
int aw_pipe_finish(struct aw_pipe **pp, struct aw_pipe_totals *totals, struct aw_err *err);

#endif
