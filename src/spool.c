/*
 * Spool (see spool.h).
 *
 * Life of a transaction with the spool open: scan/follow adds findings,
 * aw_store_commit() calls the hook (PRE_COMMIT) inside the transaction;
 * the hook reads the findings after the spool's last id (the new ones are
 * visible to the same connection), writes one line each, syncs the file
 * and updates spool_state; COMMIT makes the findings and the position
 * durable together.  COMMITTED adopts the pending position; ROLLED_BACK
 * (or any failure in between) runs the recovery that opening runs, which
 * makes the files agree with what the database says was committed.
 *
 * The hook never fails the commit: findings are the primary record, and
 * the spool catches up from the database when it works again (its last
 * id stays where the last good commit left it).
 *
 * State updates outside a transaction of the caller (recovery) use their
 * own BEGIN IMMEDIATE/COMMIT through SQLite directly, not the store's
 * begin/commit, which would run the hook again.
 */
#include "agentwatch/spool.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/ecs.h"
#include "agentwatch/fileid.h"
#include "agentwatch/platform.h"
#include "agentwatch/query.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "store_internal.h"

#define HEADER_READ 4096
/* Longest host name in the header's first 256 bytes (the whole name is
 * in host.name further on). */
#define HEADER_HOST_MAX 64

#define SQL_SPOOL_GET "SELECT sequence, offset, last_id FROM spool_state WHERE dir = ?1"
#define SQL_SPOOL_PUT \
    "INSERT INTO spool_state (dir, sequence, offset, last_id, written, updated)" \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(dir) DO UPDATE SET sequence = excluded.sequence," \
    " offset = excluded.offset, last_id = excluded.last_id," \
    " written = written + excluded.written, updated = excluded.updated"

struct aw_spool {
    struct aw_store *store;
    char *dir;
    char *active;             /* DIR/agentwatch.ndjson */
    char *tmp;                /* DIR/.agentwatch.ndjson.new */
    uint64_t max_size;
    unsigned keep;
    unsigned test_kill_after;
    char host[256];
    int fd;                   /* the active file, or -1 */
    uint64_t header_len;      /* of the active file */
    /* committed position */
    int64_t seq;
    uint64_t offset;
    int64_t last_id;
    /* the transaction's position, adopted on COMMITTED */
    bool pending;
    int64_t p_seq;
    uint64_t p_offset;
    uint64_t p_header_len;
    int64_t p_last_id;
    uint64_t p_written;
    bool p_rotated;
    bool p_stop;              /* the batch is full: more to write */
    bool more;                /* findings left for the next transaction */
    bool need_recover;        /* files and committed position disagree */
    struct aw_buf line;
    struct aw_err error;      /* first error since aw_spool_drain() */
    struct aw_spool_stats stats;
};

/* Keep the first error for aw_spool_drain() to report. */
static void note(struct aw_spool *sp, const struct aw_err *e)
{
    if (sp->error.code == AW_OK) {
        sp->error = *e;
    }
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p != NULL) {
        snprintf(p, n, "%s%s%s", dir,
                 *dir != '\0' && aw_path_is_sep(dir[strlen(dir) - 1]) ? "" : "/", name);
    }
    return p;
}

static int io_error(struct aw_err *err, const char *what, const char *path)
{
    return aw_err_set(err, AW_EIO, "%s: %s: %s", path, what, strerror(errno));
}

/* ---- the state row ------------------------------------------------- */

static int state_get(struct aw_spool *sp, bool *found, struct aw_err *err)
{
    sqlite3 *db = aw_store_sqlite(sp->store);
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(db, SQL_SPOOL_GET, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(sp->store, err, "cannot read the spool position");
    }
    sqlite3_bind_text(st, 1, sp->dir, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    *found = step == SQLITE_ROW;
    if (*found) {
        sp->seq = sqlite3_column_int64(st, 0);
        sp->offset = (uint64_t)sqlite3_column_int64(st, 1);
        sp->last_id = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        return aw_store_db_error(sp->store, err, "cannot read the spool position");
    }
    return AW_OK;
}

/* Write the position (in the caller's transaction, or alone when
 * own_txn). */
static int state_put(struct aw_spool *sp, int64_t seq, uint64_t offset, int64_t last_id,
                     uint64_t written, bool own_txn, struct aw_err *err)
{
    sqlite3 *db = aw_store_sqlite(sp->store);
    sqlite3_stmt *st = NULL;
    int rc = AW_OK;

    if (own_txn && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return aw_store_db_error(sp->store, err, "cannot record the spool position");
    }
    if (sqlite3_prepare_v2(db, SQL_SPOOL_PUT, -1, &st, NULL) != SQLITE_OK) {
        rc = aw_store_db_error(sp->store, err, "cannot record the spool position");
    } else {
        sqlite3_bind_text(st, 1, sp->dir, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, seq);
        sqlite3_bind_int64(st, 3, (int64_t)offset);
        sqlite3_bind_int64(st, 4, last_id);
        sqlite3_bind_int64(st, 5, (int64_t)written);
        sqlite3_bind_int64(st, 6, aw_time_now_ms());
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = aw_store_db_error(sp->store, err, "cannot record the spool position");
        }
        sqlite3_finalize(st);
    }
    if (own_txn) {
        if (rc == AW_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            rc = aw_store_db_error(sp->store, err, "cannot record the spool position");
        }
        if (rc != AW_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    return rc;
}

/* ---- files --------------------------------------------------------- */

/* The header record: unique in its first 256 bytes, at least
 * AW_SPOOL_HEADER_MIN bytes, the only line with event.kind "state". */
static void build_header(struct aw_spool *sp, int64_t seq, struct aw_buf *b)
{
    static unsigned counter;
    char now[AW_TIME_ISO_MAX], host[HEADER_HOST_MAX + 1];
    int64_t ms = aw_time_now_ms();
    char seed[384];
    uint64_t nonce;

    /* Unique without a random source: time, pid, sequence, host and a
     * counter; the sequence alone already differs within one spool. */
    snprintf(seed, sizeof(seed), "%" PRId64 "/%ld/%" PRId64 "/%u/%s", ms, aw_os_getpid(), seq,
             counter++, sp->host);
    nonce = aw_hash64(seed, strlen(seed));
    aw_time_format_iso(ms, now);
    aw_text_utf8_clean(sp->host, strlen(sp->host), host, HEADER_HOST_MAX);
    aw_buf_reset(b);
    aw_buf_printf(b, AW_SPOOL_HEADER_START "%" PRId64
                     ", \"created\": \"%s\", \"nonce\": \"%016" PRIx64 "\", \"host\": ",
                  seq, now, nonce);
    aw_buf_json_string(b, host, strlen(host));
    aw_buf_puts(b, ", \"padding\": \"");
    while (b->len < AW_SPOOL_HEADER_MIN + 64 && !b->oom) {
        aw_buf_puts(b, "................................................................");
    }
    aw_buf_printf(b, "\"}, \"@timestamp\": \"%s\", \"event\": {\"kind\": \"state\","
                     " \"id\": \"spool-%016" PRIx64 "-%" PRId64 "\", \"module\": \"agentwatch\","
                     " \"dataset\": \"agentwatch.spool\"}, \"host\": {\"name\": ",
                  now, nonce, seq);
    aw_buf_json_string(b, sp->host, strlen(sp->host));
    aw_buf_printf(b, "}, \"message\": \"agentwatch spool file %" PRId64 " (findings follow, one"
                     " per line)\", \"ecs\": {\"version\": \"" AW_ECS_VERSION "\"}}\n", seq);
}

/* The active file's header: *exists false when there is no file; *valid
 * false when its first line is not a spool header; else its sequence and
 * length.  *size gets the file's size. */
static int read_header(struct aw_spool *sp, bool *exists, bool *valid, int64_t *seq,
                       uint64_t *header_len, uint64_t *size, struct aw_err *err)
{
    char buf[HEADER_READ + 1];
    struct aw_os_stat st;
    const char *nl, *at;
    ssize_t n;
    int fd = aw_os_open_read(sp->active);

    *exists = *valid = false;
    *seq = 0;
    *header_len = *size = 0;
    if (fd < 0) {
        return errno == ENOENT ? AW_OK : io_error(err, "cannot open the spool file", sp->active);
    }
    *exists = true;
    if (aw_os_fstat(fd, &st) != 0) {
        aw_os_close(fd);
        return io_error(err, "cannot stat the spool file", sp->active);
    }
    *size = st.size;
    n = aw_os_pread(fd, buf, HEADER_READ, 0);
    aw_os_close(fd);
    if (n < 0) {
        return io_error(err, "cannot read the spool file", sp->active);
    }
    buf[n] = '\0';
    nl = memchr(buf, '\n', (size_t)n);
    if (nl == NULL || strncmp(buf, AW_SPOOL_HEADER_START, strlen(AW_SPOOL_HEADER_START)) != 0) {
        return AW_OK;
    }
    at = buf + strlen(AW_SPOOL_HEADER_START);
    *seq = strtoll(at, NULL, 10);
    *header_len = (uint64_t)(nl - buf) + 1;
    *valid = *seq > 0;
    return AW_OK;
}

/* Create the file of sequence seq with its header under the temporary
 * name, sync it, and rename it into place. */
static int create_active(struct aw_spool *sp, int64_t seq, uint64_t *header_len,
                         struct aw_err *err)
{
    struct aw_buf h = { 0 };
    int fd = -1, rc = AW_OK;

    build_header(sp, seq, &h);
    if (h.oom) {
        aw_buf_free(&h);
        return aw_err_set(err, AW_ENOMEM, "out of memory writing a spool header");
    }
    fd = aw_os_open_write(sp->tmp);
    if (fd < 0 || aw_os_truncate(fd, 0) != 0 ||
        aw_os_write(fd, h.data, h.len) != (ssize_t)h.len || aw_os_fsync(fd) != 0) {
        rc = io_error(err, "cannot write a new spool file", sp->tmp);
    }
    if (fd >= 0) {
        aw_os_close(fd);
    }
    if (rc == AW_OK && aw_os_rename(sp->tmp, sp->active) != 0) {
        rc = io_error(err, "cannot rename the new spool file into place", sp->active);
    }
    *header_len = h.len;
    aw_buf_free(&h);
    return rc;
}

/* agentwatch.ndjson -> .1 -> .2 ... -> .keep (the oldest is deleted). */
static int rotate_files(struct aw_spool *sp, struct aw_err *err)
{
    size_t n = strlen(sp->active) + 16;
    char *from = malloc(n), *to = malloc(n);
    int rc = AW_OK;

    if (from == NULL || to == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory rotating the spool");
        goto out;
    }
    snprintf(to, n, "%s.%u", sp->active, sp->keep);
    if (aw_os_unlink(to) != 0 && errno != ENOENT) {
        rc = io_error(err, "cannot delete the oldest spool file", to);
        goto out;
    }
    for (unsigned i = sp->keep; i >= 1 && rc == AW_OK; i--) {
        if (i == 1) {
            snprintf(from, n, "%s", sp->active);
        } else {
            snprintf(from, n, "%s.%u", sp->active, i - 1);
        }
        snprintf(to, n, "%s.%u", sp->active, i);
        if (aw_os_rename(from, to) != 0 && errno != ENOENT) {
            rc = io_error(err, "cannot rotate the spool file", from);
        }
    }
    sp->stats.rotations++;
out:
    free(from);
    free(to);
    return rc;
}

static int open_fd(struct aw_spool *sp, uint64_t offset, struct aw_err *err)
{
    if (sp->fd >= 0) {
        aw_os_close(sp->fd);
    }
    sp->fd = aw_os_open_write(sp->active);
    if (sp->fd < 0 || aw_os_seek(sp->fd, offset) != 0) {
        return io_error(err, "cannot open the spool file for writing", sp->active);
    }
    return AW_OK;
}

/* Make the files agree with the committed position (see spool.h); runs
 * outside any transaction.  Longer than 80 lines would be nicer to read
 * as a table of cases, but each case is three lines and they share the
 * state: kept as one function on purpose. */
static int recover(struct aw_spool *sp, struct aw_err *err)
{
    bool found, exists, valid;
    int64_t aseq;
    uint64_t hl, size;
    int rc;

    if (sp->fd >= 0) {
        aw_os_close(sp->fd);
        sp->fd = -1;
    }
    sp->pending = false;
    rc = state_get(sp, &found, err);
    if (rc == AW_OK) {
        rc = read_header(sp, &exists, &valid, &aseq, &hl, &size, err);
    }
    if (rc != AW_OK) {
        return rc;
    }
    if (!found || !exists || !valid || aseq < sp->seq) {
        /* A new spool, a missing active file (a crash inside a rotation),
         * or a file that is not ours: start the next file.  A foreign or
         * older file is rotated away, never overwritten. */
        int64_t next = (found ? sp->seq : 0);

        if (exists && valid && aseq > next) {
            next = aseq;
        }
        next++;
        if (exists) {
            rc = rotate_files(sp, err);
        }
        if (rc == AW_OK) {
            rc = create_active(sp, next, &hl, err);
        }
        if (rc == AW_OK) {
            sp->seq = next;
            sp->offset = hl;
            sp->last_id = found ? sp->last_id : 0;
            rc = state_put(sp, sp->seq, sp->offset, sp->last_id, 0, true, err);
        }
    } else if (aseq == sp->seq) {
        /* The committed file: cut the uncommitted tail. */
        if (size > sp->offset) {
            sp->stats.cut_bytes += size - sp->offset;
        } else if (size < sp->offset) {
            /* Shorter than committed: someone cut it (lines are synced
             * before every commit).  Go on from its end. */
            aw_err_set(&sp->error, AW_EIO, "%s: the spool file is %" PRIu64 " bytes, shorter"
                       " than the %" PRIu64 " committed; lines were lost outside agentwatch",
                       sp->active, size, sp->offset);
            sp->offset = size;
            rc = state_put(sp, sp->seq, sp->offset, sp->last_id, 0, true, err);
        }
    } else {
        /* A rotation that was never committed: keep the new file, without
         * the lines written after its header. */
        sp->stats.cut_bytes += size - hl;
        sp->seq = aseq;
        sp->offset = hl;
        rc = state_put(sp, sp->seq, sp->offset, sp->last_id, 0, true, err);
    }
    if (rc == AW_OK) {
        rc = open_fd(sp, sp->offset, err);
    }
    if (rc == AW_OK && aw_os_truncate(sp->fd, sp->offset) != 0) {
        rc = io_error(err, "cannot cut the spool file back", sp->active);
    }
    if (rc == AW_OK) {
        read_header(sp, &exists, &valid, &aseq, &sp->header_len, &size, err);
        sp->need_recover = false;
        sp->more = true;   /* the findings of a cut tail, a backlog */
    }
    return rc;
}

/* ---- the commit hook ----------------------------------------------- */

static int write_row(void *ctx, const struct aw_export_row *r, struct aw_err *err)
{
    struct aw_spool *sp = ctx;
    ssize_t n;
    int rc;

    if (sp->p_written >= AW_SPOOL_BATCH) {
        sp->p_stop = true;
        return AW_ELIMIT;
    }
    rc = aw_ecs_line(r, AW_SPOOL_LINE_MAX, &sp->line, err);
    if (rc == AW_ELIMIT) {
        /* Cannot fit even cut (a path of 30,000 bytes): skipped, said. */
        note(sp, err);
        sp->p_last_id = r->id;
        return AW_OK;
    }
    if (rc != AW_OK) {
        return rc;
    }
    if (sp->p_offset + sp->line.len > sp->max_size && sp->p_offset > sp->p_header_len) {
        if (sp->p_written > 0 || sp->p_rotated) {
            sp->p_stop = true;   /* one file per transaction */
            return AW_ELIMIT;
        }
        rc = rotate_files(sp, err);
        if (rc == AW_OK) {
            rc = create_active(sp, sp->p_seq + 1, &sp->p_header_len, err);
        }
        if (rc == AW_OK) {
            rc = open_fd(sp, sp->p_header_len, err);
        }
        if (rc != AW_OK) {
            return rc;
        }
        sp->p_seq++;
        sp->p_offset = sp->p_header_len;
        sp->p_rotated = true;
    }
    n = aw_os_write(sp->fd, sp->line.data, sp->line.len);
    if (n != (ssize_t)sp->line.len) {
        if (n >= 0) {
            errno = ENOSPC;
        }
        return io_error(err, "cannot write to the spool file", sp->active);
    }
    sp->p_offset += sp->line.len;
    sp->p_last_id = r->id;
    sp->p_written++;
    if (sp->test_kill_after > 0 && sp->stats.written + sp->p_written >= sp->test_kill_after) {
        /* The crash the recovery is for: lines written, not committed. */
#ifdef SIGKILL
        raise(SIGKILL);
#endif
        abort();
    }
    return AW_OK;
}

static void pre_commit(struct aw_spool *sp)
{
    struct aw_query_filter all = { AW_TIME_NONE, AW_TIME_NONE, NULL, NULL, NULL };
    struct aw_query *q = NULL;
    struct aw_err err = { 0 };
    int rc;

    sp->pending = false;
    if (sp->need_recover || sp->fd < 0) {
        return;   /* after the commit */
    }
    sp->p_seq = sp->seq;
    sp->p_offset = sp->offset;
    sp->p_header_len = sp->header_len;
    sp->p_last_id = sp->last_id;
    sp->p_written = 0;
    sp->p_rotated = false;
    sp->p_stop = false;
    rc = aw_query_open(&q, sp->store, &all, &err);
    if (rc == AW_OK) {
        rc = aw_query_export_ids(q, sp->last_id, INT64_MAX, write_row, sp, &err);
    }
    aw_query_close(&q);
    if (rc == AW_ELIMIT && sp->p_stop) {
        rc = AW_OK;
    }
    if (rc == AW_OK && (sp->p_written > 0 || sp->p_rotated) && aw_os_fsync(sp->fd) != 0) {
        rc = io_error(&err, "cannot sync the spool file", sp->active);
    }
    if (rc == AW_OK && sp->p_last_id != sp->last_id) {
        rc = state_put(sp, sp->p_seq, sp->p_offset, sp->p_last_id, sp->p_written, false, &err);
    }
    if (rc != AW_OK) {
        /* The lines written are not covered by the position: cut them
         * back after the commit. */
        note(sp, &err);
        sp->need_recover = true;
        return;
    }
    sp->more = sp->p_stop;
    sp->pending = true;
}

static void hook(void *ctx, enum aw_store_hook_event ev)
{
    struct aw_spool *sp = ctx;
    struct aw_err err = { 0 };

    switch (ev) {
    case AW_STORE_PRE_COMMIT:
        pre_commit(sp);
        return;
    case AW_STORE_COMMITTED:
        if (sp->pending) {
            sp->seq = sp->p_seq;
            sp->offset = sp->p_offset;
            sp->header_len = sp->p_header_len;
            sp->last_id = sp->p_last_id;
            sp->stats.written += sp->p_written;
            sp->pending = false;
        }
        break;
    case AW_STORE_ROLLED_BACK:
        sp->need_recover = true;
        break;
    }
    if (sp->need_recover && recover(sp, &err) != AW_OK) {
        note(sp, &err);
        sp->need_recover = true;
    }
}

/* ---- the interface ------------------------------------------------- */

int aw_spool_open(struct aw_spool **out, struct aw_store *store, const struct aw_spool_opts *o,
                  struct aw_err *err)
{
    struct aw_spool *sp = calloc(1, sizeof(*sp));
    struct aw_os_stat st;
    int rc;

    *out = NULL;
    if (sp == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory opening the spool");
    }
    sp->fd = -1;
    sp->store = store;
    sp->max_size = o->max_size ? o->max_size : AW_SPOOL_SIZE_DEFAULT;
    sp->keep = o->keep ? o->keep : AW_SPOOL_KEEP_DEFAULT;
    sp->test_kill_after = o->test_kill_after;
    if (o->host != NULL) {
        snprintf(sp->host, sizeof(sp->host), "%s", o->host);
    } else if (aw_os_hostname(sp->host, sizeof(sp->host)) != 0) {
        snprintf(sp->host, sizeof(sp->host), "localhost");
    }
    sp->dir = strdup(o->dir);
    sp->active = join(o->dir, AW_SPOOL_FILE);
    sp->tmp = join(o->dir, "." AW_SPOOL_FILE ".new");
    if (sp->dir == NULL || sp->active == NULL || sp->tmp == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory opening the spool");
        goto fail;
    }
    if (aw_os_stat(o->dir, &st) != 0) {
        if (aw_os_mkdir_private(o->dir) != 0 && errno != EEXIST) {
            rc = io_error(err, "cannot create the spool folder", o->dir);
            goto fail;
        }
    } else if (!st.is_dir) {
        rc = aw_err_set(err, AW_EIO, "%s: the spool must be a folder", o->dir);
        goto fail;
    }
    rc = recover(sp, err);
    if (rc != AW_OK) {
        goto fail;
    }
    aw_store_set_commit_hook(store, hook, sp);
    *out = sp;
    return AW_OK;
fail:
    aw_spool_close(&sp);
    return rc;
}

int aw_spool_drain(struct aw_spool *sp, struct aw_err *err)
{
    int rc = AW_OK;

    /* Bounded: each round writes AW_SPOOL_BATCH findings or rotates. */
    for (int round = 0; round < 100000 && sp->more && rc == AW_OK; round++) {
        sp->more = false;
        rc = aw_store_begin(sp->store, err);
        if (rc == AW_OK) {
            rc = aw_store_commit(sp->store, err);
        }
        if (sp->error.code != AW_OK || sp->need_recover) {
            break;
        }
    }
    if (rc == AW_OK && sp->error.code != AW_OK) {
        *err = sp->error;
        rc = sp->error.code;
    }
    memset(&sp->error, 0, sizeof(sp->error));
    return rc;
}

void aw_spool_get_stats(const struct aw_spool *sp, struct aw_spool_stats *out)
{
    *out = sp->stats;
    out->sequence = sp->seq;
    out->offset = sp->offset;
    out->last_id = sp->last_id;
}

void aw_spool_close(struct aw_spool **spp)
{
    struct aw_spool *sp = spp != NULL ? *spp : NULL;

    if (sp == NULL) {
        return;
    }
    if (sp->store != NULL) {
        aw_store_set_commit_hook(sp->store, NULL, NULL);
    }
    if (sp->fd >= 0) {
        aw_os_close(sp->fd);
    }
    aw_buf_free(&sp->line);
    free(sp->dir);
    free(sp->active);
    free(sp->tmp);
    free(sp);
    *spp = NULL;
}
