/*
 * The scan's pipeline on POSIX threads (see scan_pipe.h).  Windows builds
 * use scan_pipe_none.c: one thread reads and stores there.
 *
 * The queue: AW_PIPE_SLOTS slots, allocated once.  The reader fills the
 * slot it holds (cur) and hands it over when it is full or ends a batch;
 * the store thread takes handed-over slots in order (a ring), carries out
 * their findings and their end (commit or rollback) and puts them back on
 * the free list.  One mutex guards the ring, the free list and the flags;
 * a slot's contents belong to whoever holds it, so they need no lock.
 * The reader waits only when every slot is full (the store is behind),
 * the store thread only when nothing is queued.
 *
 * Errors: a store error stops the store thread's work (the slots after it
 * are dropped, so that the reader never waits forever) and is returned to
 * the reader at its next hand-over, and by aw_pipe_finish().  A reader
 * that stops (error, end of file, the signal flag) calls aw_pipe_finish(),
 * which lets the store thread carry out everything queued first: the
 * batches the reader ended are committed just as on one thread.
 */
#include "scan_pipe.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes a message may need: the store keeps AW_FINDING_MESSAGE_MAX bytes
 * of cleaned text, and cleaning never makes text shorter, so that many
 * bytes of the raw message decide it; +4 so that a UTF-8 sequence that
 * starts before the cut is whole (a cut sequence would be cleaned into a
 * replacement character that the whole one is not).  Captures alike. */
#define MESSAGE_COPY (AW_FINDING_MESSAGE_MAX + 4)
#define CAPTURE_COPY (AW_FINDING_CAPTURE_MAX + 4)
#define HOST_COPY 256
/* Text bytes per slot: room for many typical findings (~150 bytes), and
 * always for one of the largest. */
#define SLOT_BYTES ((size_t)64 * 1024)
_Static_assert(MESSAGE_COPY + 2 * CAPTURE_COPY + HOST_COPY + 4 <= SLOT_BYTES,
               "an empty slot holds the largest finding");

enum slot_end {
    END_NONE,         /* the batch goes on in the next slot */
    END_COMMIT,
    END_COMMIT_IF_NEW,
    END_ROLLBACK
};

struct slot {
    struct aw_finding *f;     /* slot_findings entries */
    size_t n;
    char *bytes;              /* SLOT_BYTES: the entries' copied texts */
    size_t used;
    enum slot_end end;
    struct aw_file_progress prog;
    struct aw_file_id fid;    /* prog.fid points here */
    /* prog.last_record_host points here: the reader's copy changes with
     * its next record */
    char last_host[AW_SCAN_HOST_MAX + 1];
};

struct aw_pipe {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t queued_cv;   /* a slot was handed over, or closed */
    pthread_cond_t free_cv;     /* a slot came back, or failed */
    struct slot slots[AW_PIPE_SLOTS];
    size_t slot_findings;
    size_t ring[AW_PIPE_SLOTS]; /* handed-over slots, oldest at head */
    size_t head, count;
    size_t free_list[AW_PIPE_SLOTS];
    size_t nfree;
    bool closed;                /* the reader is done */
    bool failed;                /* the store thread hit an error: cerr */
    struct aw_err cerr;
    struct slot *cur;           /* the reader's */
    /* the store thread's own */
    struct aw_store *store;
    bool in_txn;
    uint64_t batch_new;         /* new findings of the open batch */
    struct aw_pipe_totals totals;
};

/* ---- the store thread ------------------------------------------------ */

static int ensure_txn(struct aw_pipe *p, struct aw_err *err)
{
    int rc = AW_OK;

    if (!p->in_txn) {
        rc = aw_store_begin(p->store, err);
        p->in_txn = rc == AW_OK;
    }
    return rc;
}

static int end_batch(struct aw_pipe *p, struct slot *s, struct aw_err *err)
{
    int rc;

    if (s->end == END_ROLLBACK) {
        aw_store_rollback(p->store);
        p->in_txn = false;
        p->batch_new = 0;
        return AW_OK;
    }
    if (s->end == END_COMMIT_IF_NEW && p->batch_new == 0) {
        return AW_OK;   /* as on one thread: nothing to commit */
    }
    rc = ensure_txn(p, err);
    s->prog.fid = &s->fid;
    s->prog.findings = p->batch_new;
    if (rc == AW_OK) {
        rc = aw_store_file_progress(p->store, &s->prog, err);
    }
    if (rc == AW_OK) {
        rc = aw_store_commit(p->store, err);
    }
    p->in_txn = false;
    if (rc == AW_OK) {
        p->totals.commits++;
        p->totals.findings += p->batch_new;
        p->totals.to = s->prog.offset;
        p->batch_new = 0;
    }
    return rc;
}

static int apply_slot(struct aw_pipe *p, struct slot *s, struct aw_err *err)
{
    int rc = AW_OK;

    for (size_t i = 0; i < s->n && rc == AW_OK; i++) {
        bool inserted = false;
        rc = ensure_txn(p, err);
        if (rc == AW_OK) {
            rc = aw_store_add_finding(p->store, &s->f[i], &inserted, err);
        }
        p->batch_new += inserted;
    }
    if (rc == AW_OK && s->end != END_NONE) {
        rc = end_batch(p, s, err);
    }
    return rc;
}

static void *store_thread(void *arg)
{
    struct aw_pipe *p = arg;
    struct aw_err err = { 0 };
    bool failed = false;

    for (;;) {
        struct slot *s;
        size_t k;

        pthread_mutex_lock(&p->mu);
        while (p->count == 0 && !p->closed) {
            pthread_cond_wait(&p->queued_cv, &p->mu);
        }
        if (p->count == 0) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        k = p->ring[p->head];
        p->head = (p->head + 1) % AW_PIPE_SLOTS;
        p->count--;
        pthread_mutex_unlock(&p->mu);

        s = &p->slots[k];
        if (!failed && apply_slot(p, s, &err) != AW_OK) {
            failed = true;   /* the rest is dropped; the reader hears of it */
        }
        pthread_mutex_lock(&p->mu);
        if (failed && !p->failed) {
            p->failed = true;
            p->cerr = err;
        }
        p->free_list[p->nfree++] = k;
        pthread_cond_signal(&p->free_cv);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* ---- the reader's side ---------------------------------------------- */

static void slot_reset(struct slot *s)
{
    s->n = 0;
    s->used = 0;
    s->end = END_NONE;
}

/* Hand cur over and take a free slot (waiting for one).  The store
 * thread's error, if it had one. */
static int hand_over(struct aw_pipe *p, struct aw_err *err)
{
    int rc = AW_OK;

    pthread_mutex_lock(&p->mu);
    p->ring[(p->head + p->count) % AW_PIPE_SLOTS] = (size_t)(p->cur - p->slots);
    p->count++;
    p->cur = NULL;
    pthread_cond_signal(&p->queued_cv);
    while (p->nfree == 0 && !p->failed) {
        pthread_cond_wait(&p->free_cv, &p->mu);
    }
    if (p->failed) {
        *err = p->cerr;
        rc = p->cerr.code != AW_OK ? p->cerr.code : AW_EDB;
    } else {
        p->cur = &p->slots[p->free_list[--p->nfree]];
        slot_reset(p->cur);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Copy len bytes of text into the slot, NUL-terminated. */
static const char *put(struct slot *s, const char *text, size_t len)
{
    char *d = s->bytes + s->used;

    if (len > 0) {
        memcpy(d, text, len);
    }
    d[len] = '\0';
    s->used += len + 1;
    return d;
}

static size_t cap_len(const char *text, size_t len, size_t max)
{
    return text == NULL ? 0 : (len < max ? len : max);
}

int aw_pipe_add(struct aw_pipe *p, const struct aw_finding *f, bool host_stable,
                struct aw_err *err)
{
    size_t msg = cap_len(f->message, f->message_len, MESSAGE_COPY);
    size_t tgt = cap_len(f->target, f->target_len, CAPTURE_COPY);
    size_t code = cap_len(f->code, f->code_len, CAPTURE_COPY);
    size_t host = host_stable || f->host == NULL ? 0 : strnlen(f->host, HOST_COPY - 1);
    struct aw_finding *e;
    struct slot *s;
    int rc;

    if (p->cur == NULL) {
        return aw_err_set(err, AW_EDB, "the store thread stopped");
    }
    if (p->cur->n == p->slot_findings ||
        p->cur->used + msg + tgt + code + host + 4 > SLOT_BYTES) {
        rc = hand_over(p, err);
        if (rc != AW_OK) {
            return rc;
        }
    }
    s = p->cur;
    e = &s->f[s->n++];
    *e = *f;
    e->message = put(s, f->message, msg);
    e->message_len = msg;
    e->target = f->target != NULL ? put(s, f->target, tgt) : NULL;
    e->target_len = tgt;
    e->code = f->code != NULL ? put(s, f->code, code) : NULL;
    e->code_len = code;
    if (!host_stable && f->host != NULL) {
        e->host = put(s, f->host, host);
    }
    return AW_OK;
}

int aw_pipe_commit(struct aw_pipe *p, const struct aw_file_progress *prog, bool only_if_new,
                   struct aw_err *err)
{
    if (p->cur == NULL) {
        return aw_err_set(err, AW_EDB, "the store thread stopped");
    }
    p->cur->end = only_if_new ? END_COMMIT_IF_NEW : END_COMMIT;
    p->cur->prog = *prog;
    p->cur->fid = *prog->fid;
    p->cur->prog.fid = &p->cur->fid;
    if (prog->last_record_host != NULL) {
        snprintf(p->cur->last_host, sizeof(p->cur->last_host), "%s", prog->last_record_host);
        p->cur->prog.last_record_host = p->cur->last_host;
    }
    return hand_over(p, err);
}

int aw_pipe_rollback(struct aw_pipe *p, struct aw_err *err)
{
    if (p->cur == NULL) {
        return aw_err_set(err, AW_EDB, "the store thread stopped");
    }
    p->cur->end = END_ROLLBACK;
    return hand_over(p, err);
}

/* ---- start and finish ----------------------------------------------- */

static void pipe_free(struct aw_pipe *p)
{
    for (size_t i = 0; i < AW_PIPE_SLOTS; i++) {
        free(p->slots[i].f);
        free(p->slots[i].bytes);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->queued_cv);
    pthread_cond_destroy(&p->free_cv);
    free(p);
}

static struct aw_pipe *pipe_alloc(size_t slot_findings)
{
    struct aw_pipe *p = calloc(1, sizeof(*p));
    bool ok = p != NULL;

    if (!ok) {
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->queued_cv, NULL);
    pthread_cond_init(&p->free_cv, NULL);
    p->slot_findings = slot_findings;
    for (size_t i = 0; i < AW_PIPE_SLOTS; i++) {
        p->slots[i].f = malloc(slot_findings * sizeof(*p->slots[i].f));
        p->slots[i].bytes = malloc(SLOT_BYTES);
        ok = ok && p->slots[i].f != NULL && p->slots[i].bytes != NULL;
        p->free_list[p->nfree++] = AW_PIPE_SLOTS - 1 - i;
    }
    if (!ok) {
        pipe_free(p);
        return NULL;
    }
    p->cur = &p->slots[p->free_list[--p->nfree]];
    slot_reset(p->cur);
    return p;
}

int aw_pipe_start(struct aw_pipe **out, struct aw_store *store, size_t slot_findings,
                  struct aw_err *err)
{
    struct aw_pipe *p;
    sigset_t all, old;
    int rc;

    *out = NULL;
    p = pipe_alloc(slot_findings > 0 ? slot_findings : AW_PIPE_SLOT_FINDINGS);
    if (p == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory for the scan's queue");
    }
    p->store = store;
    p->in_txn = true;   /* the caller began the first batch */
    /* Signals stay with the reader, which polls the stop flag and whose
     * sleeps they must interrupt: the store thread blocks them all. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&p->thread, NULL, store_thread, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pipe_free(p);   /* no thread: the caller stores on its own */
        return AW_OK;
    }
    *out = p;
    return AW_OK;
}

int aw_pipe_finish(struct aw_pipe **pp, struct aw_pipe_totals *totals, struct aw_err *err)
{
    struct aw_pipe *p = *pp;
    int rc = AW_OK;

    memset(totals, 0, sizeof(*totals));
    if (p == NULL) {
        return AW_OK;
    }
    pthread_mutex_lock(&p->mu);
    if (p->cur != NULL && (p->cur->n > 0 || p->cur->end != END_NONE)) {
        p->ring[(p->head + p->count) % AW_PIPE_SLOTS] = (size_t)(p->cur - p->slots);
        p->count++;
        p->cur = NULL;
    }
    p->closed = true;
    pthread_cond_signal(&p->queued_cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    if (p->failed) {
        *err = p->cerr;
        rc = p->cerr.code != AW_OK ? p->cerr.code : AW_EDB;
    }
    *totals = p->totals;
    pipe_free(p);
    *pp = NULL;
    return rc;
}
