/*
 * Scan: one pass over sources, classifying every new record and storing
 * the findings.
 *
 * For each file the stored read position is found by content identity
 * (see fileid.h and store.h) and verified with its offset marker before
 * it is trusted; a file whose content no longer matches is read from the
 * start as a new file.  Findings and the position that covers them are
 * committed in one transaction every batch_records records and at the end
 * of each file, so a scan interrupted at any point (signal, crash, power)
 * resumes without losing or repeating a finding, and running scan twice
 * over unchanged files adds nothing.
 */
#ifndef AGENTWATCH_SCAN_H
#define AGENTWATCH_SCAN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/record.h"
#include "agentwatch/rules.h"
#include "agentwatch/store.h"
#include "agentwatch/tz.h"

/* What happened to one file, for the caller's report. */
struct aw_scan_file_stats {
    const char *path;
    const char *format;
    const char *encoding;
    uint64_t from;            /* offset reading started at */
    uint64_t to;              /* offset reading stopped at (resume point) */
    uint64_t records;
    uint64_t findings;        /* new findings stored */
    uint64_t truncated;
    uint64_t broken;
    uint64_t skipped_bytes;
    uint64_t limit_hits;      /* records a match limit stopped a rule on */
    bool new_file;            /* first time this content was seen */
    bool replaced;            /* a stored position did not match the
                                 content any more; read from the start */
    bool changed;             /* truncated or rewritten while being read:
                                 what was read is dropped, the next scan
                                 reads the content where it went */
};

typedef void (*aw_scan_file_fn)(void *ctx, const struct aw_scan_file_stats *st);

/* Where a scan is, for progress displays and liveness (a service
 * watchdog): done counts the files already behind the scan whole, and of
 * the current one everything before the reader (also what an earlier scan
 * read), so done reaches total when the scan ends. */
struct aw_scan_progress {
    const char *path;         /* the file being read */
    uint64_t done;            /* bytes */
    uint64_t total;           /* bytes: the listed files' sizes */
    uint64_t records;         /* records read by this scan so far */
};

typedef void (*aw_scan_progress_fn)(void *ctx, const struct aw_scan_progress *p);

/* One line for the user: a file that was not read and why (skipped), or
 * an explicit PATH that is a symbolic link and was resolved (!skipped). */
typedef void (*aw_scan_notice_fn)(void *ctx, const char *line, bool skipped);

struct aw_scan_opts {
    enum aw_format format;    /* AW_FORMAT_AUTO: detect per file */
    const char *host;         /* NULL: the record's host, else this machine's */
    const struct aw_tz *tz;   /* zone of record times without an offset
                                 (the endpoint's); NULL: UTC */
    size_t max_record;        /* 0: AW_RECORD_MAX_DEFAULT */
    size_t batch_records;     /* records per transaction; 0: 65536 */
    const volatile sig_atomic_t *stop;  /* non-zero: stop after the current
                                           record and commit (may be NULL) */
    unsigned commit_ms;       /* also commit a batch once it is this old
                                 (0: only by size and at file end) */
    bool hold_partial;        /* the active file's unterminated last record
                                 waits for its end (follow); otherwise it
                                 is classified now and completed later */
    bool missing_ok;          /* a PATH that does not exist is skipped */
    bool skip_rule_sync;      /* rule metadata is already stored */
    struct aw_gap_state *gaps;/* follow's memory across passes (NULL: a
                                 one-shot scan) */
    aw_scan_file_fn on_file;  /* called after each file (may be NULL) */
    aw_scan_progress_fn on_progress;  /* called every few hundred records
                                 and after each file (may be NULL; the
                                 callee limits its own rate) */
    void *progress_ctx;       /* for on_progress */
    aw_scan_notice_fn on_notice; /* skipped files, resolved links (may be
                                    NULL), called with notice_ctx */
    void *notice_ctx;
    uint64_t *limit_hits;     /* per rule of the rule set (aw_rules_count()
                                 entries): the records a match limit
                                 stopped that rule on are added here (may
                                 be NULL) */
    void *ctx;                /* for on_file */
    unsigned threads;         /* 1: read and store on one thread; 0: a
                                 store thread takes the findings and the
                                 commits through a bounded queue where the
                                 build has threads (docs/HACKING.md) */
    size_t queue_findings;    /* findings per slot of that queue (0: the
                                 default, 512; tests use 1) */
};

/* Content that vanished before it was read is reported once as a finding
 * of rule AW_GAP_RULE in category AW_GAP_CATEGORY, with the file and byte
 * range.  A follower confirms a gap over two passes (a file renamed while
 * a pass lists the folder is not a gap); a one-shot scan looks twice. */
#define AW_GAP_RULE "agentwatch.data-gap"
#define AW_GAP_CATEGORY "agentwatch"

/* A record on which a rule's match was stopped by the match limit (see
 * rules.h) and that no other rule matched is stored as a finding of rule
 * AW_LIMIT_RULE in category AW_GAP_CATEGORY, severity warning, with the
 * stopped rule's id as its code: "N records could not be matched by rule
 * X" is a count of these.  A record a later rule matched is that rule's
 * finding (one finding per record); the limit hit is counted only. */
#define AW_LIMIT_RULE "agentwatch.match-limit"

struct aw_gap_state {
    int64_t *suspects;        /* file ids missing in the previous pass */
    size_t count;
    size_t cap;
};

/* Free a gap state's memory. */
void aw_gap_state_free(struct aw_gap_state *g);

struct aw_scan_stats {
    size_t files;
    uint64_t bytes;           /* raw bytes consumed */
    uint64_t records;
    uint64_t findings;
    uint64_t truncated;
    uint64_t broken;
    uint64_t skipped_bytes;
    uint64_t gaps;            /* data-gap findings recorded */
    uint64_t limit_hits;      /* records a match limit stopped a rule on */
    size_t skipped;           /* files not read (permission denied, or
                                 refused by the file policy) */
    bool interrupted;         /* stopped by opts->stop */
};

/* Scan every file the paths stand for (see source.h) into store with the
 * rule set rs.  On error, what was committed before stays committed and
 * consistent; err names the file and offset. */
int aw_scan_run(struct aw_store *store, const struct aw_ruleset *rs,
                char *const paths[], size_t npaths, const struct aw_scan_opts *opts,
                struct aw_scan_stats *stats, struct aw_err *err);

#endif
