/*
 * Store writes: the rows scan and follow write through the statements the
 * store prepared when it opened: files (identified by inode and head, see
 * fileid.h) and their read positions, findings with the hourly tally,
 * and rule metadata.
 */
#include <sqlite3.h>
#include <stdint.h>

#include "agentwatch/fileid.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "store_impl.h"
#include "store_internal.h"

static const char *column_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return t != NULL ? (const char *)t : "";
}

/* Add the tally of new findings to finding_hours (in their transaction). */
int aw_store_flush_hours(struct aw_store *s, struct aw_err *err)
{
    if (aw_hours_flush(s->hours, s->stmt[STMT_HOURS_UPSERT], err) != AW_OK) {
        return aw_store_db_error(s, err, "cannot update the hourly counts");
    }
    return AW_OK;
}

/* head_key: hash of the first AW_HEAD_MIN_MATCH bytes, which every head
 * compatible with this one (and long enough to match on its own) shares.
 * The head itself is stored as hashes only (SQL_MIGRATE_7). */
static void bind_head(sqlite3_stmt *st, int sums_col, int key_col, int len_col,
                      const struct aw_file_id *fid)
{
    unsigned char sums[AW_HEAD_SUMS_MAX];
    size_t n = aw_fileid_head_sums(fid->head, fid->head_len, sums);

    sqlite3_bind_blob(st, sums_col, sums, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, len_col, (sqlite3_int64)fid->head_len);
    if (fid->head_len >= AW_HEAD_MIN_MATCH) {
        sqlite3_bind_int64(st, key_col, (sqlite3_int64)aw_hash64(fid->head, AW_HEAD_MIN_MATCH));
    } else {
        sqlite3_bind_null(st, key_col);
    }
}

int aw_store_file_lookup(struct aw_store *s, const struct aw_file_id *fid,
                         struct aw_file_row *out, bool *found, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_CANDIDATES];
    size_t best_common = 0;
    bool best_inode = false;
    int rc;

    *found = false;
    if (fid->head_len == 0) {
        return AW_OK;   /* an empty file is nobody yet */
    }
    if (fid->head_len >= AW_HEAD_MIN_MATCH) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)aw_hash64(fid->head, AW_HEAD_MIN_MATCH));
    }
    sqlite3_bind_int64(st, 2, (sqlite3_int64)fid->dev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)fid->ino);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t head_len = (size_t)sqlite3_column_int64(st, 6);
        const unsigned char *sums = sqlite3_column_blob(st, 7);
        size_t sums_len = (size_t)sqlite3_column_bytes(st, 7);
        size_t common;
        bool inode, better;

        if (head_len > AW_HEAD_MAX) {
            head_len = AW_HEAD_MAX;
        }
        common = aw_fileid_head_common(head_len, sums, sums_len, fid->head, fid->head_len);
        if (common == 0) {
            continue;   /* heads disagree: a different file */
        }
        inode = (uint64_t)sqlite3_column_int64(st, 1) == fid->dev &&
                (uint64_t)sqlite3_column_int64(st, 2) == fid->ino;
        if (!inode && common < AW_HEAD_MIN_MATCH) {
            continue;   /* too little content to tell without the inode */
        }
        /* Prefer the inode match, then the longest shared head; rows come
         * in id order, so ties go to the newest row. */
        better = (inode && !best_inode) ||
                 (inode == best_inode && common >= best_common);
        if (!*found || better) {
            out->id = sqlite3_column_int64(st, 0);
            out->dev = (uint64_t)sqlite3_column_int64(st, 1);
            out->ino = (uint64_t)sqlite3_column_int64(st, 2);
            out->size = (uint64_t)sqlite3_column_int64(st, 3);
            out->offset = (uint64_t)sqlite3_column_int64(st, 4);
            out->marker = (uint64_t)sqlite3_column_int64(st, 5);
            out->head_len = head_len;
            best_common = common;
            best_inode = inode;
            *found = true;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot look up a file");
    } else {
        rc = AW_OK;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int aw_store_file_add(struct aw_store *s, const struct aw_file_id *fid, const char *path,
                      const char *format, const char *encoding, int64_t now_ms,
                      int64_t *id_out, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_INSERT];
    int rc;

    sqlite3_bind_int64(st, 1, (sqlite3_int64)fid->dev);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)fid->ino);
    bind_head(st, 3, 4, 9, fid);
    sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, format, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, encoding, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, now_ms);
    rc = aw_store_run(s, st, "cannot record a new file", err);
    if (rc == AW_OK) {
        *id_out = sqlite3_last_insert_rowid(s->db);
    }
    return rc;
}

int aw_store_file_progress(struct aw_store *s, const struct aw_file_progress *p,
                           struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_PROGRESS];

    sqlite3_bind_int64(st, 1, p->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)p->fid->dev);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->fid->ino);
    bind_head(st, 4, 5, 14, p->fid);
    sqlite3_bind_text(st, 6, p->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)p->fid->size);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)p->offset);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)p->marker);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)p->records);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)p->truncated);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)p->findings);
    sqlite3_bind_int64(st, 13, p->now_ms);
    if (p->last_record_ms != AW_TIME_NONE && p->last_record_host != NULL) {
        sqlite3_bind_int64(st, 15, p->last_record_ms);
        sqlite3_bind_text(st, 16, p->last_record_host, -1, SQLITE_STATIC);
    }
    return aw_store_run(s, st, "cannot record the read position", err);
}

/* Bind a captured span, cleaned into buf, or NULL when there is none. */
static void bind_capture(sqlite3_stmt *st, int col, const char *text, size_t len, char *buf)
{
    if (text == NULL || len == 0) {
        sqlite3_bind_null(st, col);
        return;
    }
    len = aw_text_utf8_clean(text, len, buf, AW_FINDING_CAPTURE_MAX);
    sqlite3_bind_text(st, col, buf, (int)len, SQLITE_STATIC);
}

/* Bind a finding to st (SQL_FINDING_INSERT's parameter numbers). */
static void bind_finding(struct aw_store *s, sqlite3_stmt *st, const struct aw_finding *f,
                         size_t message_len)
{
    sqlite3_bind_int64(st, 1, f->ts_ms != AW_TIME_NONE ? f->ts_ms : f->read_ms);
    sqlite3_bind_int(st, 2, f->ts_ms != AW_TIME_NONE);
    sqlite3_bind_int64(st, 3, f->read_ms);
    sqlite3_bind_text(st, 4, f->host, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, f->file_id);
    sqlite3_bind_text(st, 6, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)f->offset);
    sqlite3_bind_text(st, 8, f->rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, f->category, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, f->severity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, f->level, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, s->message, (int)message_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 13, f->partial);
    bind_capture(st, 14, f->target, f->target_len, s->target);
    bind_capture(st, 15, f->code, f->code_len, s->code);
    sqlite3_bind_int(st, 16, f->ts_ms != AW_TIME_NONE && f->ts_inferred);
}

int aw_store_add_finding(struct aw_store *s, const struct aw_finding *f, bool *inserted,
                         struct aw_err *err)
{
    size_t len;
    bool added;
    int rc;

    len = aw_text_utf8_clean(f->message, f->message_len, s->message, AW_FINDING_MESSAGE_MAX);
    bind_finding(s, s->stmt[STMT_FINDING_INSERT], f, len);
    rc = aw_store_run(s, s->stmt[STMT_FINDING_INSERT], "cannot store a finding", err);
    if (rc != AW_OK) {
        return rc;
    }
    added = sqlite3_changes(s->db) > 0;
    if (added) {
        rc = aw_hours_add(&s->hours, f->ts_ms != AW_TIME_NONE ? f->ts_ms : f->read_ms, f->host,
                          f->rule, f->category, err);
        if (rc == AW_OK && sqlite3_get_autocommit(s->db)) {
            rc = aw_store_flush_hours(s, err);   /* no transaction to wait for */
        }
    } else {
        /* The completion trigger recounts from the findings: settle the
         * tally first so nothing is counted twice. */
        rc = aw_store_flush_hours(s, err);
    }
    /* The record was seen before: only a finding from its partial form
     * may be completed (rare, so the second statement costs nothing). */
    if (!added && rc == AW_OK) {
        bind_finding(s, s->stmt[STMT_FINDING_COMPLETE], f, len);
        rc = aw_store_run(s, s->stmt[STMT_FINDING_COMPLETE], "cannot complete a finding", err);
    }
    if (rc == AW_OK && inserted != NULL) {
        *inserted = added;
    }
    return rc;
}

int aw_store_files_unread(struct aw_store *s, aw_unread_fn fn, void *ctx, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILES_UNREAD];
    int rc = AW_OK, step = SQLITE_DONE;

    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct aw_unread_row row;
        row.id = sqlite3_column_int64(st, 0);
        row.path = column_text(st, 1);
        row.offset = (uint64_t)sqlite3_column_int64(st, 2);
        row.size = (uint64_t)sqlite3_column_int64(st, 3);
        rc = fn(ctx, &row, err);
    }
    if (rc == AW_OK && step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "cannot list files");
    }
    sqlite3_reset(st);
    return rc;
}

int aw_store_file_settle(struct aw_store *s, int64_t id, struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_FILE_SETTLE];

    sqlite3_bind_int64(st, 1, id);
    return aw_store_run(s, st, "cannot settle a file", err);
}

int aw_store_sync_rules(struct aw_store *s, const struct aw_ruleset *rs, int64_t now_ms,
                        struct aw_err *err)
{
    sqlite3_stmt *st = s->stmt[STMT_RULE_UPSERT];
    size_t n = aw_rules_count(rs);
    int rc = AW_OK;

    for (size_t i = 0; i < n && rc == AW_OK; i++) {
        const struct aw_rule_info *r = aw_rules_get(rs, i);
        sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->category, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, aw_rule_severity_name(r->severity), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->cause, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->remedy, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->pattern, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, now_ms);
        rc = aw_store_run(s, st, "cannot record rule metadata", err);
    }
    return rc;
}
