/*
 * Scan: sources -> records -> rules -> store (see scan.h).
 *
 * The per-record loop is the program's hot path: it does no allocation,
 * parses a record's metadata only when a rule matched (or, for the file's
 * newest record time, in its last TAIL_BYTES), and talks to SQLite
 * only for findings and once per batch.
 *
 * Why a batch is checked before it is committed: with copy-and-truncate
 * rotation the writer may empty the file and start writing new content
 * while we read it, and a read at our old offset then returns bytes of the
 * new content.  Before committing, the head of the very file we read (same
 * descriptor) is compared with the head we identified: if it differs, the
 * batch is rolled back and the next scan reads the old content from its
 * copy and the new content as a new file.  Everything read before a
 * successful check was read from the identified content, so the check
 * cannot pass on bytes from a rewrite.
 */
#include "agentwatch/scan.h"

#include <stdlib.h>
#include <string.h>

#include "agentwatch/fileid.h"
#include "agentwatch/grow.h"
#include "agentwatch/platform.h"
#include "agentwatch/source.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "scan_pipe.h"

#define HOST_MAX AW_SCAN_HOST_MAX

/* Records between looks at the clock for the commit timer. */
#define CLOCK_EVERY 256

/* The last bytes of a file (as identified) whose records all have their
 * time parsed, for the file's newest record time (files.last_record):
 * parsing every record would cost the hot loop its speed, while the
 * newest record of an append-only log is near its end.  A tail without
 * any dated record leaves an older time, never a wrong one. */
#define TAIL_BYTES (64 * 1024)

/* Status of a batch whose file changed under the reader (not an error). */
#define BATCH_CHANGED 1

struct id_set {
    int64_t *ids;
    size_t count;
    size_t cap;
};

struct scan_ctx {
    struct aw_store *store;
    const struct aw_ruleset *rules;
    struct aw_matcher *matcher;
    const struct aw_scan_opts *opts;
    struct aw_scan_stats *stats;
    struct id_set seen;       /* stored files matched or added this scan */
    char local_host[HOST_MAX + 1];
    char record_host[HOST_MAX + 1];
    int64_t now_ms;
    struct aw_scan_progress progress;
    uint64_t done_before;     /* sizes of the files behind the scan */
};

/* The state of reading one file. */
struct file_read {
    const struct aw_source_file *src;
    struct aw_file_id fid;
    struct aw_reader *reader;
    int64_t file_id;
    struct aw_time_ctx times; /* zone and year bound of its records */
    uint64_t records;         /* not yet committed */
    uint64_t findings;        /* new ones, stored on this thread */
    uint64_t queued;          /* handed to the store thread */
    uint64_t truncated;
    uint64_t tail_from;       /* records from here on are dated (TAIL_BYTES) */
    int64_t last_ms;          /* newest record time read, or AW_TIME_NONE */
    char last_host[HOST_MAX + 1];   /* the host that record belongs to */
    struct aw_pipe *pipe;     /* the store thread, or NULL: store here */
    struct aw_scan_file_stats fs;
};

static void report_progress(struct scan_ctx *c, const struct file_read *fr)
{
    if (c->opts->on_progress == NULL) {
        return;
    }
    c->progress.path = fr->src->path;
    c->progress.done = c->done_before + (fr->reader != NULL ? aw_reader_offset(fr->reader) : 0);
    if (c->progress.done > c->progress.total) {
        c->progress.total = c->progress.done;   /* a file grew meanwhile */
    }
    c->opts->on_progress(c->opts->progress_ctx, &c->progress);
}

static bool stop_requested(const struct scan_ctx *c)
{
    return c->opts->stop != NULL && *c->opts->stop != 0;
}

static int id_set_add(struct id_set *set, int64_t id, struct aw_err *err)
{
    if (AW_GROW(set->ids, set->cap, set->count + 1, 16) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    set->ids[set->count++] = id;
    return AW_OK;
}

static bool id_set_has(const struct id_set *set, int64_t id)
{
    for (size_t i = 0; i < set->count; i++) {
        if (set->ids[i] == id) {
            return true;
        }
    }
    return false;
}

void aw_gap_state_free(struct aw_gap_state *g)
{
    free(g->suspects);
    memset(g, 0, sizeof(*g));
}

/* The host a finding is attributed to. */
static const char *finding_host(struct scan_ctx *c, const struct aw_record_meta *meta)
{
    if (c->opts->host != NULL) {
        return c->opts->host;
    }
    if (meta->host.len > 0) {
        aw_text_utf8_clean(meta->host.ptr, meta->host.len, c->record_host, HOST_MAX);
        return c->record_host;
    }
    return c->local_host;
}

/* Keep the newest known record time of the file and its host.  A later
 * time wins, an equal one too (the later line in log order). */
static void note_time(struct scan_ctx *c, struct file_read *fr, const struct aw_record_meta *meta)
{
    const char *host;

    if (meta->ts_ms == AW_TIME_NONE || (fr->last_ms != AW_TIME_NONE && meta->ts_ms < fr->last_ms)) {
        return;
    }
    host = finding_host(c, meta);
    fr->last_ms = meta->ts_ms;
    if (host != fr->last_host) {
        snprintf(fr->last_host, sizeof(fr->last_host), "%s", host);
    }
}

/* A record of the file's tail: parse its time even though no rule
 * matched it (see TAIL_BYTES). */
static void note_tail(struct scan_ctx *c, struct file_read *fr, const struct aw_record *rec)
{
    struct aw_record_meta meta;

    if (rec->offset >= fr->tail_from) {
        aw_record_parse_meta(aw_reader_format(fr->reader), rec, &fr->times, &meta);
        note_time(c, fr, &meta);
    }
}

/* The fields every finding of a record shares. */
static void record_finding(struct scan_ctx *c, struct file_read *fr, const struct aw_record *rec,
                           struct aw_record_meta *meta, struct aw_finding *f)
{
    memset(f, 0, sizeof(*f));
    aw_record_parse_meta(aw_reader_format(fr->reader), rec, &fr->times, meta);
    note_time(c, fr, meta);
    f->ts_ms = meta->ts_ms;
    f->ts_inferred = meta->ts_inferred;
    f->read_ms = c->now_ms;
    f->host = finding_host(c, meta);
    f->file_id = fr->file_id;
    f->path = fr->src->path;
    f->offset = rec->offset;
    f->level = aw_level_name(meta->level);
    f->message = rec->message.ptr;
    f->message_len = rec->message.len;
    f->partial = rec->partial;
}

/* A finding to the store, or to the store thread (which counts the new
 * ones; *inserted stays false here). */
static int put_finding(struct scan_ctx *c, struct file_read *fr, const struct aw_finding *f,
                       bool *inserted, struct aw_err *err)
{
    if (fr->pipe != NULL) {
        fr->queued++;
        return aw_pipe_add(fr->pipe, f, f->host != c->record_host, err);
    }
    return aw_store_add_finding(c->store, f, inserted, err);
}

static int store_finding(struct scan_ctx *c, struct file_read *fr, const struct aw_record *rec,
                         long rule_index, bool *inserted, struct aw_err *err)
{
    const struct aw_rule_info *rule = aw_rules_get(c->rules, (size_t)rule_index);
    struct aw_record_meta meta;
    struct aw_finding f;

    record_finding(c, fr, rec, &meta, &f);
    f.rule = rule->id;
    f.category = rule->category;
    f.severity = aw_rule_severity_name(rule->severity);
    if (!aw_matcher_capture(c->matcher, "target", &f.target, &f.target_len)) {
        f.target = NULL;
    }
    if (!aw_matcher_capture(c->matcher, "code", &f.code, &f.code_len)) {
        f.code = NULL;
    }
    return put_finding(c, fr, &f, inserted, err);
}

/* A record no rule matched because a limit stopped rule rule_index on it:
 * a finding of AW_LIMIT_RULE naming that rule (as its code), with the
 * record's message after the explanation. */
static int store_limit_hit(struct scan_ctx *c, struct file_read *fr, const struct aw_record *rec,
                           long rule_index, bool *inserted, struct aw_err *err)
{
    const struct aw_rule_info *rule = aw_rules_get(c->rules, (size_t)rule_index);
    char message[AW_FINDING_MESSAGE_MAX + 1];
    struct aw_record_meta meta;
    struct aw_finding f;
    size_t n, rest;

    record_finding(c, fr, rec, &meta, &f);
    n = (size_t)snprintf(message, sizeof(message),
                         "rule '%s' could not be matched against this record (PCRE2 match limit): ",
                         rule->id);
    n = n < sizeof(message) ? n : sizeof(message) - 1;
    rest = rec->message.len < sizeof(message) - n ? rec->message.len : sizeof(message) - n;
    if (rest > 0) {
        memcpy(message + n, rec->message.ptr, rest);
    }
    f.rule = AW_LIMIT_RULE;
    f.category = AW_GAP_CATEGORY;
    f.severity = "warning";
    f.message = message;
    f.message_len = n + rest;
    f.code = rule->id;
    f.code_len = strlen(rule->id);
    return put_finding(c, fr, &f, inserted, err);
}

/* Classify one record and store what it yields. */
static int classify_record(struct scan_ctx *c, struct file_read *fr, const struct aw_record *rec,
                           struct aw_err *err)
{
    long rule = aw_matcher_classify(c->matcher, rec->message.ptr, rec->message.len);
    long limited = aw_matcher_last_limited(c->matcher);
    bool inserted = false;
    int rc = AW_OK;

    if (limited >= 0 && !rec->partial) {
        fr->fs.limit_hits++;
        if (c->opts->limit_hits != NULL) {
            c->opts->limit_hits[limited]++;
        }
    }
    if (rule >= 0) {
        rc = store_finding(c, fr, rec, rule, &inserted, err);
    } else if (limited >= 0) {
        rc = store_limit_hit(c, fr, rec, limited, &inserted, err);
    } else {
        note_tail(c, fr, rec);
    }
    fr->findings += inserted;
    return rc;
}

/* Roll back the batch: the file changed under the reader. */
static int batch_changed(struct scan_ctx *c, struct file_read *fr, struct aw_err *err)
{
    fr->fs.changed = true;
    if (fr->pipe != NULL) {
        int rc = aw_pipe_rollback(fr->pipe, err);
        return rc != AW_OK ? rc : BATCH_CHANGED;
    }
    aw_store_rollback(c->store);
    return BATCH_CHANGED;
}

/* Record the position and commit, here or on the store thread (which
 * counts the findings and, with only_if_new, commits only when the batch
 * stored a new one). */
static int store_batch(struct scan_ctx *c, struct file_read *fr, struct aw_file_progress *p,
                       bool only_if_new, struct aw_err *err)
{
    int rc;

    if (fr->pipe != NULL) {
        rc = aw_pipe_commit(fr->pipe, p, only_if_new, err);
        fr->records = 0;
        fr->truncated = 0;
        fr->queued = 0;
        return rc;
    }
    rc = aw_store_file_progress(c->store, p, err);
    if (rc == AW_OK) {
        rc = aw_store_commit(c->store, err);
    }
    if (rc == AW_OK) {
        fr->fs.to = p->offset;
        fr->fs.findings += fr->findings;
        fr->records = 0;
        fr->findings = 0;
        fr->truncated = 0;
    }
    return rc;
}

/* Check the batch against the file it came from, record the position and
 * commit.  BATCH_CHANGED (batch rolled back) when the file's head is no
 * longer the identified one.  The checks read the file, so they are done
 * here, on the reading thread, after everything of the batch was read. */
static int commit_batch(struct scan_ctx *c, struct file_read *fr, bool only_if_new,
                        struct aw_err *err)
{
    int fd = aw_reader_fd(fr->reader);
    uint64_t offset = aw_reader_offset(fr->reader);
    struct aw_file_progress p;
    int rc;

    if (!aw_fileid_head_matches_fd(fd, fr->fid.head, fr->fid.head_len)) {
        return batch_changed(c, fr, err);
    }
    memset(&p, 0, sizeof(p));
    p.id = fr->file_id;
    p.fid = &fr->fid;
    p.path = fr->src->path;
    p.offset = offset;
    p.records = fr->records;
    p.truncated = fr->truncated;
    p.findings = fr->findings;
    p.now_ms = c->now_ms;
    p.last_record_ms = fr->last_ms;
    p.last_record_host = fr->last_host;
    /* Keep offset <= size: the file may have grown while it was read. */
    if (fr->fid.size < offset) {
        fr->fid.size = offset;
    }
    rc = aw_fileid_marker_fd(fd, fr->src->path, offset, &p.marker, err);
    if (rc == AW_ELIMIT) {
        return batch_changed(c, fr, err);   /* truncated under us */
    }
    if (rc != AW_OK) {
        return rc;
    }
    return store_batch(c, fr, &p, only_if_new, err);
}

/* Where to resume src: the stored position when it still matches the
 * content, else nothing (file_id 0). */
static int find_position(struct scan_ctx *c, struct file_read *fr, uint64_t *start,
                         struct aw_err *err)
{
    struct aw_file_row row;
    bool found;
    uint64_t marker;
    int rc;

    fr->file_id = 0;
    *start = 0;
    rc = aw_store_file_lookup(c->store, &fr->fid, &row, &found, err);
    if (rc != AW_OK || !found) {
        fr->fs.new_file = rc == AW_OK;
        return rc;
    }
    if (row.offset <= fr->fid.size) {
        rc = aw_fileid_marker(fr->src->path, row.offset, &marker, err);
        if (rc != AW_OK && rc != AW_ELIMIT && rc != AW_ENOTFOUND) {
            return rc;
        }
        if (rc == AW_OK && marker == row.marker) {
            fr->file_id = row.id;
            *start = row.offset;
            return AW_OK;
        }
    }
    /* Same head, different body: rewritten in place. */
    fr->fs.replaced = true;
    return AW_OK;
}

/* Read the records of fr's file from start, in batches. */
static int read_records(struct scan_ctx *c, struct file_read *fr, struct aw_err *err)
{
    size_t batch = c->opts->batch_records ? c->opts->batch_records : 65536;
    int64_t batch_started = aw_time_now_ms();
    size_t in_batch = 0;
    struct aw_record rec;
    int rc;

    for (;;) {
        bool due;

        rc = aw_reader_next(fr->reader, &rec, err);
        if (rc <= 0) {
            return rc;
        }
        if (!rec.partial) {
            fr->records++;
            fr->truncated += rec.truncated;
            c->progress.records++;
        }
        rc = classify_record(c, fr, &rec, err);
        if (rc != AW_OK) {
            return rc;
        }
        in_batch++;
        if (in_batch % CLOCK_EVERY == 0) {
            report_progress(c, fr);
        }
        due = in_batch >= batch || stop_requested(c);
        if (!due && c->opts->commit_ms > 0 && in_batch % CLOCK_EVERY == 0) {
            due = aw_time_now_ms() - batch_started >= (int64_t)c->opts->commit_ms;
        }
        if (!due) {
            continue;
        }
        rc = commit_batch(c, fr, false, err);
        if (rc != AW_OK) {
            return rc;
        }
        if (stop_requested(c)) {
            c->stats->interrupted = true;
            return 0;
        }
        /* The store thread begins the next batch itself. */
        rc = fr->pipe == NULL ? aw_store_begin(c->store, err) : AW_OK;
        if (rc != AW_OK) {
            return rc;
        }
        in_batch = 0;
        batch_started = aw_time_now_ms();
    }
}

static void notice(struct scan_ctx *c, const char *line, bool skipped)
{
    if (skipped) {
        c->stats->skipped++;
    }
    if (c->opts->on_notice != NULL) {
        c->opts->on_notice(c->opts->notice_ctx, line, skipped);
    }
}

static void add_stats(struct scan_ctx *c, const struct aw_scan_file_stats *fs)
{
    c->stats->files++;
    c->stats->bytes += fs->to - fs->from;
    c->stats->records += fs->records;
    c->stats->findings += fs->findings;
    c->stats->truncated += fs->truncated;
    c->stats->broken += fs->broken;
    c->stats->skipped_bytes += fs->skipped_bytes;
    c->stats->limit_hits += fs->limit_hits;
}

/* A file that was listed but is gone (AW_ENOTFOUND: rotated away; its
 * content is read under its new name by the next scan) or refused
 * (AW_EDENIED: replaced by a link or FIFO, or its permissions changed)
 * when it is opened is skipped, the latter with a notice. */
static int skip_file(struct scan_ctx *c, int rc, struct aw_err *err)
{
    if (rc == AW_EDENIED) {
        notice(c, err->msg, true);
        aw_err_clear(err);
    }
    return AW_OK;
}

/* The last batch of the file, when there is something to commit: on the
 * store thread, whether the batch stored a new finding is known only
 * there, so it is asked to commit in that case too. */
static int last_batch(struct scan_ctx *c, struct file_read *fr, uint64_t start, struct aw_err *err)
{
    bool something = fr->records > 0 || fr->findings > 0 ||
                     aw_reader_offset(fr->reader) != start || fr->fs.new_file ||
                     fr->fs.replaced;

    if (something || fr->queued > 0) {
        return commit_batch(c, fr, !something, err);
    }
    return AW_OK;
}

/* Start the store thread unless the caller wants one thread. */
static int start_pipe(struct scan_ctx *c, struct file_read *fr, struct aw_err *err)
{
    if (c->opts->threads == 1) {
        return AW_OK;
    }
    return aw_pipe_start(&fr->pipe, c->store, c->opts->queue_findings, err);
}

/* End the store thread: what it committed into the file's counts; its
 * error unless this thread had one first (rc). */
static int finish_pipe(struct file_read *fr, int rc, struct aw_err *err)
{
    struct aw_pipe_totals t;
    struct aw_err perr = { 0 };
    int prc = aw_pipe_finish(&fr->pipe, &t, &perr);

    if (t.commits > 0) {
        fr->fs.to = t.to;
        fr->fs.findings += t.findings;
    }
    if (prc != AW_OK && rc >= 0) {
        *err = perr;
        return prc;
    }
    return rc;
}

/* Read the open file's new records in one transaction (begun here; the
 * caller rolls back what is not committed) and take the reader's counts. */
static int read_file(struct scan_ctx *c, struct file_read *fr, uint64_t start, struct aw_err *err)
{
    struct aw_reader_stats rstats;
    int rc;

    rc = aw_store_begin(c->store, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (fr->file_id == 0) {
        rc = aw_store_file_add(c->store, &fr->fid, fr->src->path, fr->fs.format, fr->fs.encoding,
                               c->now_ms, &fr->file_id, err);
        if (rc == AW_OK) {
            rc = id_set_add(&c->seen, fr->file_id, err);
        }
        if (rc != AW_OK) {
            return rc;
        }
    }
    rc = start_pipe(c, fr, err);
    if (rc == AW_OK) {
        rc = read_records(c, fr, err);
    }
    /* Nothing new (a held partial record): no transaction to commit. */
    if (rc >= 0 && rc != BATCH_CHANGED && !c->stats->interrupted) {
        rc = last_batch(c, fr, start, err);
    }
    rc = finish_pipe(fr, rc, err);
    if (rc < 0) {
        return rc;
    }
    aw_reader_get_stats(fr->reader, &rstats);
    fr->fs.records = rstats.records;
    fr->fs.truncated = rstats.truncated;
    fr->fs.broken = rstats.broken;
    fr->fs.skipped_bytes = rstats.skipped_bytes;
    return AW_OK;
}

/* A file is done: its counts into the totals, progress and on_file. */
static void file_done(struct scan_ctx *c, struct file_read *fr)
{
    add_stats(c, &fr->fs);
    aw_reader_close(&fr->reader);
    c->done_before += fr->fid.size;
    report_progress(c, fr);
    if (c->opts->on_file != NULL) {
        c->opts->on_file(c->opts->ctx, &fr->fs);
    }
}

static int scan_file(struct scan_ctx *c, const struct aw_source_file *src, struct aw_err *err)
{
    struct aw_reader_opts ropts = { .format = c->opts->format,
                                    .max_record = c->opts->max_record };
    struct file_read fr;
    uint64_t start;
    int rc;

    memset(&fr, 0, sizeof(fr));
    fr.src = src;
    fr.fs.path = src->path;
    fr.fs.format = "-";
    fr.fs.encoding = "-";
    /* Identity as of now: the file may have grown since it was listed. */
    rc = aw_fileid_read(src->path, &fr.fid, err);
    if (rc == AW_ENOTFOUND || rc == AW_EDENIED) {
        return skip_file(c, rc, err);
    }
    if (rc != AW_OK || fr.fid.size == 0) {
        return rc;
    }
    fr.times.tz = c->opts->tz;
    fr.times.bound_ms = aw_source_year_bound(src, fr.fid.mtime_ms);
    fr.tail_from = fr.fid.size > TAIL_BYTES ? fr.fid.size - TAIL_BYTES : 0;
    fr.last_ms = AW_TIME_NONE;
    rc = find_position(c, &fr, &start, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (fr.file_id != 0) {
        rc = id_set_add(&c->seen, fr.file_id, err);
        if (rc != AW_OK) {
            return rc;
        }
    }
    fr.fs.from = start;
    fr.fs.to = start;
    if (fr.file_id == 0 || start != fr.fid.size) {   /* else nothing new */
        /* A rollover is complete: its unterminated last record will never
         * end, so it is classified now.  The active file's may still be
         * written. */
        ropts.deliver_partial = !c->opts->hold_partial || src->rollover != 0;
        rc = aw_reader_open(&fr.reader, src->path, start, &ropts, err);
        if (rc == AW_ENOTFOUND || rc == AW_EDENIED) {
            return skip_file(c, rc, err);
        }
        if (rc != AW_OK) {
            return rc;
        }
        fr.fs.format = aw_format_name(aw_reader_format(fr.reader));
        fr.fs.encoding = aw_encoding_name(aw_reader_encoding(fr.reader));
        rc = read_file(c, &fr, start, err);
        if (rc != AW_OK) {
            goto out;
        }
    }
    file_done(c, &fr);
    rc = AW_OK;
out:
    aw_store_rollback(c->store);
    aw_reader_close(&fr.reader);
    return rc;
}

/* ---- data gaps ------------------------------------------------------ */

struct gap_scan {
    struct scan_ctx *c;
    char *const *paths;
    size_t npaths;
    struct id_set candidates;
    struct aw_unread_row *rows;   /* copies of the candidates' rows */
    size_t nrows, rows_cap;
};

static int collect_unread(void *ctx, const struct aw_unread_row *row, struct aw_err *err)
{
    struct gap_scan *g = ctx;
    bool covered = false;

    if (id_set_has(&g->c->seen, row->id)) {
        return AW_OK;
    }
    for (size_t i = 0; i < g->npaths && !covered; i++) {
        covered = aw_source_covers(g->paths[i], row->path);
    }
    if (!covered) {
        return AW_OK;
    }
    if (AW_GROW(g->rows, g->rows_cap, g->nrows + 1, 8) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    g->rows[g->nrows] = *row;
    g->rows[g->nrows].path = strdup(row->path);
    if (g->rows[g->nrows].path == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    g->nrows++;
    return id_set_add(&g->candidates, row->id, err);
}

/* Drop from the candidates every row that a file present now still is:
 * the second look, after a fresh listing of the folders. */
static int second_look(struct gap_scan *g, struct aw_err *err)
{
    struct aw_source_list now = { 0 };
    int rc = AW_OK;

    for (size_t i = 0; i < g->npaths && rc == AW_OK; i++) {
        rc = aw_source_expand(g->paths[i], g->c->opts->format, g->c->opts->tz, &now, err);
        if (rc == AW_ENOTFOUND) {
            rc = AW_OK;
        }
    }
    for (size_t i = 0; rc == AW_OK && i < now.count; i++) {
        struct aw_file_row row;
        bool found;
        rc = aw_store_file_lookup(g->c->store, &now.items[i].id, &row, &found, err);
        if (rc == AW_OK && found) {
            for (size_t k = 0; k < g->candidates.count; k++) {
                if (g->candidates.ids[k] == row.id) {
                    g->candidates.ids[k] = 0;
                }
            }
        }
    }
    aw_source_list_free(&now);
    return rc;
}

static int gap_state_add(struct aw_gap_state *g, int64_t id, struct aw_err *err)
{
    if (AW_GROW(g->suspects, g->cap, g->count + 1, 8) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    g->suspects[g->count++] = id;
    return AW_OK;
}

/* A follower confirms a suspect only when the previous pass suspected it
 * too; the new suspects of this pass replace the previous ones. */
static int confirm_with_history(struct gap_scan *g, struct aw_gap_state *state,
                                struct aw_err *err)
{
    struct aw_gap_state next = { 0 };
    int rc = AW_OK;

    for (size_t k = 0; rc == AW_OK && k < g->candidates.count; k++) {
        int64_t id = g->candidates.ids[k];
        bool before = false;

        for (size_t j = 0; id != 0 && j < state->count && !before; j++) {
            before = state->suspects[j] == id;
        }
        if (id != 0 && !before) {
            rc = gap_state_add(&next, id, err);
            g->candidates.ids[k] = 0;   /* not yet */
        }
    }
    aw_gap_state_free(state);
    *state = next;
    return rc;
}

static int record_gap(struct scan_ctx *c, const struct aw_unread_row *row, struct aw_err *err)
{
    char message[512];
    struct aw_finding f;
    int rc;

    snprintf(message, sizeof(message),
             "data gap: %llu bytes of %s (bytes %llu-%llu) were rotated away or deleted"
             " before agentwatch read them",
             (unsigned long long)(row->size - row->offset), row->path,
             (unsigned long long)row->offset, (unsigned long long)row->size);
    memset(&f, 0, sizeof(f));
    f.ts_ms = c->now_ms;
    f.read_ms = c->now_ms;
    f.host = c->opts->host != NULL ? c->opts->host : c->local_host;
    f.file_id = row->id;
    f.path = row->path;
    f.offset = row->offset;
    f.rule = AW_GAP_RULE;
    f.category = AW_GAP_CATEGORY;
    f.severity = "warning";
    f.level = "unknown";
    f.message = message;
    f.message_len = strlen(message);
    rc = aw_store_begin(c->store, err);
    if (rc == AW_OK) {
        rc = aw_store_add_finding(c->store, &f, NULL, err);
    }
    if (rc == AW_OK) {
        rc = aw_store_file_settle(c->store, row->id, err);
    }
    if (rc == AW_OK) {
        rc = aw_store_commit(c->store, err);
    }
    aw_store_rollback(c->store);
    if (rc == AW_OK) {
        c->stats->gaps++;
    }
    return rc;
}

static int detect_gaps(struct scan_ctx *c, char *const paths[], size_t npaths,
                       struct aw_err *err)
{
    struct gap_scan g;
    int rc;

    memset(&g, 0, sizeof(g));
    g.c = c;
    g.paths = paths;
    g.npaths = npaths;
    rc = aw_store_files_unread(c->store, collect_unread, &g, err);
    if (rc == AW_OK && g.candidates.count > 0) {
        rc = second_look(&g, err);
    }
    if (rc == AW_OK && c->opts->gaps != NULL) {
        rc = confirm_with_history(&g, c->opts->gaps, err);
    }
    for (size_t k = 0; rc == AW_OK && k < g.candidates.count; k++) {
        if (g.candidates.ids[k] != 0) {
            rc = record_gap(c, &g.rows[k], err);
        }
    }
    for (size_t k = 0; k < g.nrows; k++) {
        free((char *)g.rows[k].path);
    }
    free(g.rows);
    free(g.candidates.ids);
    return rc;
}

/* ---- the scan ------------------------------------------------------- */

int aw_scan_run(struct aw_store *store, const struct aw_ruleset *rs, char *const paths[],
                size_t npaths, const struct aw_scan_opts *opts, struct aw_scan_stats *stats,
                struct aw_err *err)
{
    struct aw_source_list sources = { 0 };
    struct aw_diags notes = { 0 };
    char **resolved = NULL;
    struct scan_ctx c;
    int rc = AW_OK;

    memset(stats, 0, sizeof(*stats));
    memset(&c, 0, sizeof(c));
    c.store = store;
    c.rules = rs;
    c.opts = opts;
    c.stats = stats;
    c.now_ms = aw_time_now_ms();
    if (aw_os_hostname(c.local_host, sizeof(c.local_host)) != 0 || c.local_host[0] == '\0') {
        snprintf(c.local_host, sizeof(c.local_host), "localhost");
    }
    /* Links among the explicit paths are resolved once, here, and the
     * resolved names used throughout (expansion and data gaps alike). */
    rc = aw_source_resolve(paths, npaths, &resolved, &notes, err);
    if (rc != AW_OK) {
        goto out;
    }
    for (size_t i = 0; i < notes.count; i++) {
        notice(&c, notes.items[i], false);
    }
    for (size_t i = 0; i < npaths && rc == AW_OK; i++) {
        rc = aw_source_expand(resolved[i], opts->format, opts->tz, &sources, err);
        if (rc == AW_ENOTFOUND && opts->missing_ok) {
            rc = AW_OK;
        }
    }
    if (rc != AW_OK) {
        goto out;
    }
    for (size_t i = 0; i < sources.skipped.count; i++) {
        notice(&c, sources.skipped.items[i], true);
    }
    rc = aw_matcher_new(rs, &c.matcher, err);
    if (rc != AW_OK) {
        goto out;
    }
    if (!opts->skip_rule_sync) {
        rc = aw_store_begin(store, err);
        if (rc == AW_OK) {
            rc = aw_store_sync_rules(store, rs, c.now_ms, err);
        }
        if (rc == AW_OK) {
            rc = aw_store_commit(store, err);
        }
    }
    for (size_t i = 0; i < sources.count; i++) {
        c.progress.total += sources.items[i].id.size;
    }
    for (size_t i = 0; rc == AW_OK && i < sources.count && !stats->interrupted; i++) {
        rc = scan_file(&c, &sources.items[i], err);
    }
    if (rc == AW_OK && !stats->interrupted) {
        rc = detect_gaps(&c, resolved, npaths, err);
    }
out:
    aw_source_paths_free(&resolved);
    aw_diags_free(&notes);
    aw_store_rollback(store);
    aw_matcher_free(&c.matcher);
    aw_source_list_free(&sources);
    free(c.seen.ids);
    return rc;
}
