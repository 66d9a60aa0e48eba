/*
 * Spool: every committed finding also written, in the ECS shape (ecs.h),
 * to DIR/agentwatch.ndjson for a log shipper (Filebeat, Fluent Bit,
 * Vector, Splunk UF, rsyslog imfile) -- exactly once, across crashes.
 *
 * Exactly once.  The spool's position (file sequence, byte offset, last
 * finding id written) lives in the database (spool_state) and is updated
 * by a commit hook in the same transaction as the findings it covers: the
 * lines are written and synced before COMMIT, so a committed position is
 * always on disk.  Lines written by a transaction that never committed
 * (a SIGKILL between write and COMMIT) form a tail beyond the committed
 * offset; opening the spool cuts it back before anything is appended, and
 * the findings it held are written again when they are committed.
 *
 * Shipper-proof files.  Each file starts with a header record of at least
 * AW_SPOOL_HEADER_MIN bytes, unique in its first 256 bytes (sequence,
 * creation time, a random nonce, host) -- shippers that know files by a
 * checksum of their first bytes (Filebeat fingerprint, Vector checksum,
 * Splunk CRC) never take two files for one -- and it is the only line with
 * event.kind "state" (agentwatch.spool_header: true).  Every line is
 * written whole with one write() and is shorter than AW_SPOOL_LINE_MAX.
 * Files rotate by rename only (agentwatch.ndjson -> .1 -> .2 ...), never
 * copy-and-truncate, and a new file is created under a temporary name and
 * renamed into place with its header, so the active name never shows a
 * file without one.  A transaction writes into one file only: it rotates,
 * if it must, before its first line.
 */
#ifndef AGENTWATCH_SPOOL_H
#define AGENTWATCH_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/store.h"

#define AW_SPOOL_FILE "agentwatch.ndjson"
#define AW_SPOOL_LINE_MAX 32767           /* bytes with the '\n': < 32 KiB */
#define AW_SPOOL_HEADER_MIN 1024
/* How every spool file starts (then the sequence number). */
#define AW_SPOOL_HEADER_START "{\"agentwatch\": {\"spool_header\": true, \"sequence\": "
#define AW_SPOOL_SIZE_DEFAULT 10485760UL  /* 10 MiB before rotation */
#define AW_SPOOL_KEEP_DEFAULT 5           /* rotated files kept */
#define AW_SPOOL_BATCH 4096               /* findings per transaction at most */

struct aw_spool_opts {
    const char *dir;          /* created (0700) when missing */
    uint64_t max_size;        /* 0: AW_SPOOL_SIZE_DEFAULT */
    unsigned keep;            /* 0: AW_SPOOL_KEEP_DEFAULT */
    const char *host;         /* for the header; NULL: this machine's name */
    unsigned test_kill_after; /* tests only: > 0 kills the process (SIGKILL)
                                 after that many lines were written and
                                 before their transaction commits */
};

struct aw_spool_stats {
    int64_t sequence;         /* of the active file */
    uint64_t offset;          /* committed size of the active file */
    int64_t last_id;          /* last finding id written */
    uint64_t written;         /* lines written by this process */
    uint64_t rotations;       /* by this process */
    uint64_t cut_bytes;       /* uncommitted tail cut back when opened */
};

struct aw_spool;

/* Open the spool of store in o->dir: bring the files in line with the
 * committed position (cut an uncommitted tail, adopt or create the active
 * file) and install the commit hook on store, which must be the one
 * writer (AW_STORE_EXCLUSIVE) and not in a transaction.  Free with
 * aw_spool_close(). */
int aw_spool_open(struct aw_spool **out, struct aw_store *store, const struct aw_spool_opts *o,
                  struct aw_err *err);

/* Write what the commits so far left pending (a backlog beyond
 * AW_SPOOL_BATCH, or the findings stored before the spool was opened), in
 * transactions of its own, until nothing is left.  Returns the spool's
 * first error since the last call, if any (the findings are safe in the
 * database either way; the spool catches up when it works again). */
int aw_spool_drain(struct aw_spool *sp, struct aw_err *err);

void aw_spool_get_stats(const struct aw_spool *sp, struct aw_spool_stats *out);

/* Remove the hook and close the file.  Accepts NULL; sets *sp to NULL. */
void aw_spool_close(struct aw_spool **sp);

#endif
