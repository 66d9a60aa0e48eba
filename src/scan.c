/*
 * Scan: sources -> records -> rules -> store (see scan.h).
 *
 * The per-record loop is the program's hot path: it does no allocation,
 * parses a record's metadata only when a rule matched, and talks to SQLite
 * only for findings and once per batch.
 */
#include "agentwatch/scan.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentwatch/fileid.h"
#include "agentwatch/source.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"

#define HOST_MAX 255

struct scan_ctx {
    struct aw_store *store;
    const struct aw_ruleset *rules;
    struct aw_matcher *matcher;
    const struct aw_scan_opts *opts;
    struct aw_scan_stats *stats;
    char local_host[HOST_MAX + 1];
    char record_host[HOST_MAX + 1];
    int64_t now_ms;
};

static bool stop_requested(const struct scan_ctx *c)
{
    return c->opts->stop != NULL && *c->opts->stop != 0;
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

static int store_finding(struct scan_ctx *c, const struct aw_source_file *src, int64_t file_id,
                         enum aw_format fmt, const struct aw_record *rec, long rule_index,
                         bool *inserted, struct aw_err *err)
{
    const struct aw_rule_info *rule = aw_rules_get(c->rules, (size_t)rule_index);
    struct aw_record_meta meta;
    struct aw_finding f;

    aw_record_parse_meta(fmt, rec, &meta);
    f.ts_ms = meta.ts_ms;
    f.read_ms = c->now_ms;
    f.host = finding_host(c, &meta);
    f.file_id = file_id;
    f.path = src->path;
    f.offset = rec->offset;
    f.rule = rule->id;
    f.category = rule->category;
    f.severity = aw_rule_severity_name(rule->severity);
    f.level = aw_level_name(meta.level);
    f.message = rec->message.ptr;
    f.message_len = rec->message.len;
    f.partial = rec->partial;
    if (!aw_matcher_capture(c->matcher, "target", &f.target, &f.target_len)) {
        f.target = NULL;
    }
    if (!aw_matcher_capture(c->matcher, "code", &f.code, &f.code_len)) {
        f.code = NULL;
    }
    return aw_store_add_finding(c->store, &f, inserted, err);
}

/* Record progress up to the reader's resume point and commit. */
static int commit_progress(struct scan_ctx *c, const struct aw_source_file *src,
                           const struct aw_file_id *fid, int64_t file_id, uint64_t offset,
                           struct aw_scan_file_stats *fs, uint64_t *pending_records,
                           uint64_t *pending_findings, uint64_t *pending_truncated,
                           struct aw_err *err)
{
    struct aw_file_progress p;
    int rc;

    p.id = file_id;
    p.fid = fid;
    p.path = src->path;
    p.offset = offset;
    p.records = *pending_records;
    p.truncated = *pending_truncated;
    p.findings = *pending_findings;
    p.now_ms = c->now_ms;
    rc = aw_fileid_marker(src->path, offset, &p.marker, err);
    if (rc == AW_OK) {
        rc = aw_store_file_progress(c->store, &p, err);
    }
    if (rc == AW_OK) {
        rc = aw_store_commit(c->store, err);
    }
    if (rc == AW_OK) {
        fs->to = offset;
        *pending_records = 0;
        *pending_findings = 0;
        *pending_truncated = 0;
    }
    return rc;
}

/* Where to resume src: the stored position when it still matches the
 * content, else nothing (*file_id = 0). */
static int find_position(struct scan_ctx *c, const struct aw_source_file *src,
                         const struct aw_file_id *fid, int64_t *file_id, uint64_t *start,
                         struct aw_scan_file_stats *fs, struct aw_err *err)
{
    struct aw_file_row row;
    bool found;
    uint64_t marker;
    int rc;

    *file_id = 0;
    *start = 0;
    rc = aw_store_file_lookup(c->store, fid, &row, &found, err);
    if (rc != AW_OK || !found) {
        fs->new_file = rc == AW_OK;
        return rc;
    }
    if (row.offset <= fid->size) {
        rc = aw_fileid_marker(src->path, row.offset, &marker, err);
        if (rc != AW_OK && rc != AW_ELIMIT) {
            return rc;
        }
        if (rc == AW_OK && marker == row.marker) {
            *file_id = row.id;
            *start = row.offset;
            return AW_OK;
        }
    }
    /* Same head, different body: rewritten in place. */
    fs->replaced = true;
    return AW_OK;
}

static int scan_file(struct scan_ctx *c, const struct aw_source_file *src, struct aw_err *err)
{
    struct aw_reader_opts ropts = { .format = c->opts->format,
                                    .max_record = c->opts->max_record,
                                    .deliver_partial = true };
    size_t batch = c->opts->batch_records ? c->opts->batch_records : 65536;
    struct aw_scan_file_stats fs = { .path = src->path };
    struct aw_reader_stats rstats;
    struct aw_reader *reader = NULL;
    struct aw_file_id fid;
    struct aw_record rec;
    uint64_t start, pending_records = 0, pending_findings = 0, pending_truncated = 0;
    size_t in_batch = 0;
    int64_t file_id;
    int rc;

    /* Identity as of now: the file may have grown since it was listed. */
    rc = aw_fileid_read(src->path, &fid, err);
    if (rc == AW_ENOTFOUND) {
        return AW_OK;   /* rotated away since listing; its content is read
                           under its new name on the next scan */
    }
    if (rc != AW_OK || fid.size == 0) {
        return rc;
    }
    rc = find_position(c, src, &fid, &file_id, &start, &fs, err);
    if (rc != AW_OK) {
        return rc;
    }
    fs.from = start;
    fs.to = start;
    if (file_id != 0 && start == fid.size) {
        goto report;   /* nothing new */
    }
    rc = aw_reader_open(&reader, src->path, start, &ropts, err);
    if (rc != AW_OK) {
        return rc;
    }
    fs.format = aw_format_name(aw_reader_format(reader));
    fs.encoding = aw_encoding_name(aw_reader_encoding(reader));
    rc = aw_store_begin(c->store, err);
    if (rc != AW_OK) {
        goto out;
    }
    if (file_id == 0) {
        rc = aw_store_file_add(c->store, &fid, src->path, fs.format, fs.encoding, c->now_ms,
                               &file_id, err);
        if (rc != AW_OK) {
            goto out;
        }
    }
    for (;;) {
        long rule;

        rc = aw_reader_next(reader, &rec, err);
        if (rc <= 0) {
            break;
        }
        if (!rec.partial) {
            pending_records++;
            pending_truncated += rec.truncated;
        }
        rule = aw_matcher_classify(c->matcher, rec.message.ptr, rec.message.len);
        if (rule >= 0) {
            bool inserted = false;
            rc = store_finding(c, src, file_id, aw_reader_format(reader), &rec, rule, &inserted,
                               err);
            if (rc != AW_OK) {
                goto out;
            }
            pending_findings += inserted;
            fs.findings += inserted;
        }
        if (++in_batch >= batch || stop_requested(c)) {
            rc = commit_progress(c, src, &fid, file_id, aw_reader_offset(reader), &fs,
                                 &pending_records, &pending_findings, &pending_truncated, err);
            if (rc == AW_OK) {
                rc = aw_store_begin(c->store, err);
            }
            if (rc != AW_OK) {
                goto out;
            }
            in_batch = 0;
            if (stop_requested(c)) {
                c->stats->interrupted = true;
                break;
            }
        }
    }
    if (rc < 0) {
        goto out;
    }
    rc = commit_progress(c, src, &fid, file_id, aw_reader_offset(reader), &fs, &pending_records,
                         &pending_findings, &pending_truncated, err);
    if (rc != AW_OK) {
        goto out;
    }
    aw_reader_get_stats(reader, &rstats);
    fs.records = rstats.records;
    fs.truncated = rstats.truncated;
    fs.broken = rstats.broken;
    fs.skipped_bytes = rstats.skipped_bytes;
report:
    c->stats->files++;
    c->stats->bytes += fs.to - fs.from;
    c->stats->records += fs.records;
    c->stats->findings += fs.findings;
    c->stats->truncated += fs.truncated;
    c->stats->broken += fs.broken;
    c->stats->skipped_bytes += fs.skipped_bytes;
    if (fs.format == NULL) {
        fs.format = "-";
        fs.encoding = "-";
    }
    if (c->opts->on_file != NULL) {
        c->opts->on_file(c->opts->ctx, &fs);
    }
    rc = AW_OK;
out:
    aw_store_rollback(c->store);
    aw_reader_close(&reader);
    return rc;
}

int aw_scan_run(struct aw_store *store, const struct aw_ruleset *rs, char *const paths[],
                size_t npaths, const struct aw_scan_opts *opts, struct aw_scan_stats *stats,
                struct aw_err *err)
{
    struct aw_source_list sources = { 0 };
    struct scan_ctx c;
    int rc;

    memset(stats, 0, sizeof(*stats));
    memset(&c, 0, sizeof(c));
    c.store = store;
    c.rules = rs;
    c.opts = opts;
    c.stats = stats;
    c.now_ms = aw_time_now_ms();
    if (gethostname(c.local_host, sizeof(c.local_host) - 1) != 0 || c.local_host[0] == '\0') {
        snprintf(c.local_host, sizeof(c.local_host), "localhost");
    }
    for (size_t i = 0; i < npaths; i++) {
        rc = aw_source_expand(paths[i], opts->format, &sources, err);
        if (rc != AW_OK) {
            goto out;
        }
    }
    rc = aw_matcher_new(rs, &c.matcher, err);
    if (rc != AW_OK) {
        goto out;
    }
    rc = aw_store_begin(store, err);
    if (rc == AW_OK) {
        rc = aw_store_sync_rules(store, rs, c.now_ms, err);
    }
    if (rc == AW_OK) {
        rc = aw_store_commit(store, err);
    }
    for (size_t i = 0; rc == AW_OK && i < sources.count && !stats->interrupted; i++) {
        rc = scan_file(&c, &sources.items[i], err);
    }
out:
    aw_store_rollback(store);
    aw_matcher_free(&c.matcher);
    aw_source_list_free(&sources);
    return rc;
}
