/*
 * Query (see query.h): the read side of the store.
 *
 * Design.  A report over months of findings must not read every finding:
 * counts come from finding_hours (one row per hour, host, rule and
 * category, kept by triggers since schema 4) for the whole hours of a
 * window and from the findings themselves for the partial hours at its
 * edges (SQL_Q_RANGE).  Incidents need order, which the hourly table does
 * not keep; they are found by jumping: "last failure before P", "last
 * success before that", "first failure after it", each answered by
 * looking at one hour of findings at most, with finding_hours telling
 * which hour holds the next candidate.  An incident thus costs a handful
 * of bounded queries however many findings it spans.
 *
 * A position is (ts, id): findings at the same millisecond are in the
 * order they were stored, which is log order.
 */
#include "agentwatch/query.h"

#include <stdlib.h>
#include <string.h>

#include "agentwatch/grow.h"
#include "agentwatch/timeutil.h"
#include "store_internal.h"
#include "store_sql.h"

enum q_stmt {
    Q_BY_CATEGORY,
    Q_BY_RULE,
    Q_BUCKETS,
    Q_AT_COUNT,
    Q_LAST_AT,
    Q_FIRST_AT,
    Q_LAST_IN,
    Q_FIRST_IN,
    Q_HOUR_BEFORE,
    Q_HOUR_AFTER,
    Q_EXPORT,
    Q_EXPORT_IDS,
    Q_INFERRED,
    Q_LIMIT_HITS,
    Q_TOP_TARGET,
    Q_LAST_RECORD,
    Q_COUNT
};

static const char *const q_sql[Q_COUNT] = {
    [Q_BY_CATEGORY] = SQL_Q_BY_CATEGORY,
    [Q_BY_RULE] = SQL_Q_BY_RULE,
    [Q_BUCKETS] = SQL_Q_BUCKETS,
    [Q_AT_COUNT] = SQL_Q_AT_COUNT,
    [Q_LAST_AT] = SQL_Q_LAST_AT,
    [Q_FIRST_AT] = SQL_Q_FIRST_AT,
    [Q_LAST_IN] = SQL_Q_LAST_IN,
    [Q_FIRST_IN] = SQL_Q_FIRST_IN,
    [Q_HOUR_BEFORE] = SQL_Q_HOUR_BEFORE,
    [Q_HOUR_AFTER] = SQL_Q_HOUR_AFTER,
    [Q_EXPORT] = SQL_Q_EXPORT,
    [Q_EXPORT_IDS] = SQL_Q_EXPORT_IDS,
    [Q_INFERRED] = SQL_Q_INFERRED,
    [Q_LIMIT_HITS] = SQL_Q_LIMIT_HITS,
    [Q_TOP_TARGET] = SQL_Q_TOP_TARGET,
    [Q_LAST_RECORD] = SQL_Q_LAST_RECORD,
};

/* Which findings a statement looks at (?6 of SQL_Q_SET). */
enum kind {
    KIND_ALL = 0,
    KIND_FAIL = 1,
    KIND_HEALTH = 2
};

struct aw_query {
    struct aw_store *store;
    struct aw_query_filter f;
    int64_t lo;               /* window as [lo, hi) */
    int64_t hi;
    sqlite3_stmt *stmt[Q_COUNT];   /* prepared on first use */
};

/* A finding's place in log order; found = false for "none". */
struct pos {
    bool found;
    int64_t ts;
    int64_t id;
};

/* Per-category counts of a stretch of failures. */
struct cat_count {
    char *name;
    int64_t n;
};

struct cat_counts {
    struct cat_count *items;
    size_t count, cap;
};

/* ---- time arithmetic that never overflows at the open ends -------- */

static int64_t hour_floor(int64_t t)
{
    int64_t m;

    if (t < INT64_MIN + AW_MS_PER_HOUR) {
        return INT64_MIN;
    }
    m = t % AW_MS_PER_HOUR;
    return t - (m < 0 ? m + AW_MS_PER_HOUR : m);
}

static int64_t hour_ceil(int64_t t)
{
    int64_t f = hour_floor(t);

    if (f == t || f == INT64_MIN) {
        return f == INT64_MIN ? INT64_MIN : t;
    }
    return f > INT64_MAX - AW_MS_PER_HOUR ? INT64_MAX : f + AW_MS_PER_HOUR;
}

static int64_t add_hour(int64_t t)
{
    return t > INT64_MAX - AW_MS_PER_HOUR ? INT64_MAX : t + AW_MS_PER_HOUR;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* ---- statements ---------------------------------------------------- */

int aw_query_open(struct aw_query **out, struct aw_store *s, const struct aw_query_filter *f,
                  struct aw_err *err)
{
    struct aw_query *q = calloc(1, sizeof(*q));

    *out = NULL;
    if (q == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory preparing a query");
    }
    q->store = s;
    q->f = *f;
    q->lo = f->since_ms != AW_TIME_NONE ? f->since_ms : INT64_MIN;
    /* until is inclusive; INT64_MAX stands for "open" and holds no record. */
    q->hi = f->until_ms != AW_TIME_NONE && f->until_ms < INT64_MAX ? f->until_ms + 1 : INT64_MAX;
    *out = q;
    return AW_OK;
}

void aw_query_close(struct aw_query **qp)
{
    struct aw_query *q = qp != NULL ? *qp : NULL;

    if (q == NULL) {
        return;
    }
    for (int i = 0; i < Q_COUNT; i++) {
        sqlite3_finalize(q->stmt[i]);
    }
    free(q);
    *qp = NULL;
}

/* The statement id, reset and bound to the filter set of kind (?3..?6). */
static int stmt(struct aw_query *q, enum q_stmt id, enum kind kind, sqlite3_stmt **out,
                struct aw_err *err)
{
    sqlite3_stmt *st = q->stmt[id];

    if (st == NULL) {
        if (sqlite3_prepare_v3(aw_store_sqlite(q->store), q_sql[id], -1,
                               SQLITE_PREPARE_PERSISTENT, &q->stmt[id], NULL) != SQLITE_OK) {
            return aw_store_db_error(q->store, err, "cannot prepare a query");
        }
        st = q->stmt[id];
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    /* Success markers count whatever the failures' category or rule. */
    if (kind != KIND_HEALTH && q->f.category != NULL) {
        sqlite3_bind_text(st, 3, q->f.category, -1, SQLITE_STATIC);
    }
    if (kind != KIND_HEALTH && q->f.rule != NULL) {
        sqlite3_bind_text(st, 4, q->f.rule, -1, SQLITE_STATIC);
    }
    if (q->f.host != NULL) {
        sqlite3_bind_text(st, 5, q->f.host, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 6, (int)kind);
    *out = st;
    return AW_OK;
}

/* Bind the range [from, to) as SQL_Q_RANGE wants it: whole hours from
 * finding_hours, the rest from findings.  With by_hour false everything
 * comes from findings (buckets narrower than an hour). */
static void bind_range(sqlite3_stmt *st, int64_t from, int64_t to, bool by_hour)
{
    int64_t lo = hour_ceil(from), hi = hour_floor(to);

    if (!by_hour || lo >= hi) {
        lo = hi = to;
    }
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 7, hi);
    sqlite3_bind_int64(st, 8, to);
}

static const char *col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return t != NULL ? (const char *)t : "";
}

/* Step st to its end; *done tells whether it ended cleanly. */
static int step_end(struct aw_query *q, sqlite3_stmt *st, int step, struct aw_err *err)
{
    int rc = step == SQLITE_DONE ? AW_OK : aw_store_db_error(q->store, err, "query failed");

    sqlite3_reset(st);
    return rc;
}

/* After a walk over rows that a callback took: its failure rc (the
 * statement reset), else the step's. */
static int rows_end(struct aw_query *q, sqlite3_stmt *st, int rc, int step, struct aw_err *err)
{
    if (rc != AW_OK) {
        sqlite3_reset(st);
        return rc;
    }
    return step_end(q, st, step, err);
}

/* ---- summary and buckets ------------------------------------------- */

static int run_counts(struct aw_query *q, enum q_stmt id, aw_count_fn fn, void *ctx,
                      struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    bool by_rule = id == Q_BY_RULE;
    int rc, step = SQLITE_DONE;

    rc = stmt(q, id, KIND_ALL, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    bind_range(st, q->lo, q->hi, true);
    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct aw_count_row row;
        int c = by_rule ? 1 : 0;

        row.rule = by_rule ? col_text(st, 0) : NULL;
        row.category = col_text(st, c);
        row.count = sqlite3_column_int64(st, c + 1);
        row.first_ms = sqlite3_column_int64(st, c + 2);
        row.last_ms = sqlite3_column_int64(st, c + 3);
        row.cause = by_rule ? col_text(st, 5) : "";
        row.remedy = by_rule ? col_text(st, 6) : "";
        rc = fn(ctx, &row, err);
    }
    return rows_end(q, st, rc, step, err);
}

int aw_query_by_category(struct aw_query *q, aw_count_fn fn, void *ctx, struct aw_err *err)
{
    return run_counts(q, Q_BY_CATEGORY, fn, ctx, err);
}

int aw_query_by_rule(struct aw_query *q, aw_count_fn fn, void *ctx, struct aw_err *err)
{
    return run_counts(q, Q_BY_RULE, fn, ctx, err);
}

int aw_query_buckets(struct aw_query *q, int64_t bucket_ms, aw_bucket_fn fn, void *ctx,
                     struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step = SQLITE_DONE;

    if (bucket_ms <= 0) {
        return aw_err_set(err, AW_EUSAGE, "bucket width must be positive");
    }
    rc = stmt(q, Q_BUCKETS, KIND_ALL, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    /* Hourly counts serve every bucket made of whole hours. */
    bind_range(st, q->lo, q->hi, bucket_ms % AW_MS_PER_HOUR == 0);
    sqlite3_bind_int64(st, 9, bucket_ms);
    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct aw_bucket_row row;

        row.start_ms = sqlite3_column_int64(st, 0);
        row.category = col_text(st, 1);
        row.count = sqlite3_column_int64(st, 2);
        rc = fn(ctx, &row, err);
    }
    return rows_end(q, st, rc, step, err);
}

/* ---- positions ----------------------------------------------------- */

/* Run a positional statement that yields at most one (ts, id) row. */
static int run_pos(struct aw_query *q, sqlite3_stmt *st, struct pos *out, struct aw_err *err)
{
    int step = sqlite3_step(st);

    out->found = step == SQLITE_ROW;
    if (out->found) {
        out->ts = sqlite3_column_int64(st, 0);
        out->id = sqlite3_column_int64(st, 1);
        step = SQLITE_DONE;
    }
    return step_end(q, st, step, err);
}

/* Statement id for kind with its parameters 1 and 2 bound to a and b. */
static int stmt_bound(struct aw_query *q, enum q_stmt id, enum kind kind, int64_t a, int64_t b,
                      sqlite3_stmt **out, struct aw_err *err)
{
    int rc = stmt(q, id, kind, out, err);

    if (rc == AW_OK) {
        sqlite3_bind_int64(*out, 1, a);
        sqlite3_bind_int64(*out, 2, b);
    }
    return rc;
}

/* Findings of kind in [from, to), the last (backward) or the first. */
static int pos_in(struct aw_query *q, enum kind kind, int64_t from, int64_t to, bool last,
                  struct pos *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    out->found = false;
    if (from >= to) {
        return AW_OK;
    }
    rc = stmt_bound(q, last ? Q_LAST_IN : Q_FIRST_IN, kind, from, to, &st, err);
    return rc != AW_OK ? rc : run_pos(q, st, out, err);
}

/* Findings of kind at instant ts with an id below (last) or above id. */
static int pos_at(struct aw_query *q, enum kind kind, int64_t ts, int64_t id, bool last,
                  struct pos *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    out->found = false;
    if (ts < q->lo || ts >= q->hi) {
        return AW_OK;
    }
    rc = stmt_bound(q, last ? Q_LAST_AT : Q_FIRST_AT, kind, ts, id, &st, err);
    return rc != AW_OK ? rc : run_pos(q, st, out, err);
}

/* The hour that finding_hours says holds a finding of kind, the latest in
 * [from, to) (last) or the earliest; *found false when none. */
static int hour_with(struct aw_query *q, enum kind kind, int64_t from, int64_t to, bool last,
                     int64_t *hour, bool *found, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step;

    *found = false;
    if (from >= to) {
        return AW_OK;
    }
    rc = stmt_bound(q, last ? Q_HOUR_BEFORE : Q_HOUR_AFTER, kind, from, to, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *found = true;
        *hour = sqlite3_column_int64(st, 0);
        step = SQLITE_DONE;
    }
    return step_end(q, st, step, err);
}

/* The finding of kind next to position p at its own instant: the one
 * before it (last), else after it; none when p.found is false. */
static int beside(struct aw_query *q, enum kind kind, struct pos p, bool last, struct pos *out,
                  struct aw_err *err)
{
    out->found = false;
    return p.found ? pos_at(q, kind, p.ts, p.id, last, out, err) : AW_OK;
}

/* The last finding of kind before position p (p.found false: before the
 * end of the window). */
static int last_before(struct aw_query *q, enum kind kind, struct pos p, struct pos *out,
                       struct aw_err *err)
{
    int64_t to = p.found ? min64(p.ts, q->hi) : q->hi;
    int64_t h, floor_lo = hour_floor(q->lo);
    bool found;
    int rc;

    rc = beside(q, kind, p, true, out, err);
    if (rc != AW_OK || out->found) {
        return rc;
    }
    if (to <= q->lo) {
        return AW_OK;
    }
    /* The (partial) hour that ends at to, then whole hours backwards. */
    h = hour_floor(to - 1);
    rc = pos_in(q, kind, max64(h, q->lo), to, true, out, err);
    while (rc == AW_OK && !out->found) {
        rc = hour_with(q, kind, floor_lo, h, true, &h, &found, err);
        if (rc != AW_OK || !found) {
            break;
        }
        rc = pos_in(q, kind, max64(h, q->lo), min64(add_hour(h), to), true, out, err);
    }
    return rc;
}

/* The first finding of kind after position p (p.found false: from the
 * start of the window). */
static int first_after(struct aw_query *q, enum kind kind, struct pos p, struct pos *out,
                       struct aw_err *err)
{
    int64_t from, h_end;
    bool found;
    int rc;

    rc = beside(q, kind, p, false, out, err);
    if (rc != AW_OK || out->found) {
        return rc;
    }
    if (p.found) {
        from = p.ts == INT64_MAX ? INT64_MAX : max64(p.ts + 1, q->lo);
    } else {
        from = q->lo;
    }
    if (from >= q->hi) {
        return AW_OK;
    }
    h_end = add_hour(hour_floor(from));
    rc = pos_in(q, kind, from, min64(h_end, q->hi), false, out, err);
    while (rc == AW_OK && !out->found) {
        int64_t h;
        rc = hour_with(q, kind, h_end, q->hi, false, &h, &found, err);
        if (rc != AW_OK || !found) {
            break;
        }
        h_end = add_hour(h);
        rc = pos_in(q, kind, max64(h, from), min64(h_end, q->hi), false, out, err);
    }
    return rc;
}

/* ---- counting a stretch of failures -------------------------------- */

static void cats_free(struct cat_counts *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->items[i].name);
    }
    free(c->items);
    memset(c, 0, sizeof(*c));
}

/* Add n to category name (appending it when new). */
static int cats_add(struct cat_counts *c, const char *name, int64_t n, struct aw_err *err)
{
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(c->items[i].name, name) == 0) {
            c->items[i].n += n;
            return AW_OK;
        }
    }
    if (AW_GROW(c->items, c->cap, c->count + 1, 8) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "out of memory counting an incident");
    }
    c->items[c->count].name = strdup(name);
    if (c->items[c->count].name == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory counting an incident");
    }
    c->items[c->count++].n = n;
    return AW_OK;
}

/* Add (sign +1) or subtract (-1) the category counts a statement yields in
 * its columns 0 (name) and col (count). */
static int cats_from(struct aw_query *q, sqlite3_stmt *st, int col, int sign,
                     struct cat_counts *c, struct aw_err *err)
{
    int rc = AW_OK, step = SQLITE_DONE;

    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = cats_add(c, col_text(st, 0), sign * sqlite3_column_int64(st, col), err);
    }
    return rows_end(q, st, rc, step, err);
}

/* Failures per category after position after (exclusive; not found: from
 * the window's start) up to position upto (inclusive). */
static int count_between(struct aw_query *q, struct pos after, struct pos upto,
                         struct cat_counts *c, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    /* Whole milliseconds [after.ts, upto.ts], then take away what lies at
     * those two instants on the wrong side of the positions. */
    rc = stmt(q, Q_BY_CATEGORY, KIND_FAIL, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    bind_range(st, after.found ? after.ts : q->lo, upto.ts + 1, true);
    rc = cats_from(q, st, 1, 1, c, err);
    if (rc == AW_OK && after.found) {
        rc = stmt(q, Q_AT_COUNT, KIND_FAIL, &st, err);
        if (rc == AW_OK) {
            sqlite3_bind_int64(st, 1, after.ts);
            sqlite3_bind_int64(st, 2, INT64_MIN);
            sqlite3_bind_int64(st, 7, after.id);
            rc = cats_from(q, st, 1, -1, c, err);
        }
    }
    if (rc == AW_OK) {
        rc = stmt(q, Q_AT_COUNT, KIND_FAIL, &st, err);
        if (rc == AW_OK) {
            sqlite3_bind_int64(st, 1, upto.ts);
            sqlite3_bind_int64(st, 2, upto.id);
            sqlite3_bind_int64(st, 7, INT64_MAX);
            rc = cats_from(q, st, 1, -1, c, err);
        }
    }
    return rc;
}

/* ---- incidents and state ------------------------------------------- */

void aw_incidents_free(struct aw_incidents *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].category);
        for (size_t k = 0; k < l->items[i].ncategories; k++) {
            free(l->items[i].by_category[k].name);
        }
        free(l->items[i].by_category);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct aw_category_count *)a)->name,
                  ((const struct aw_category_count *)b)->name);
}

/* inc's failures per category, from c: the positive counts, by name. */
static int incident_categories(struct aw_incident *inc, const struct cat_counts *c,
                               struct aw_err *err)
{
    if (c->count == 0) {
        return AW_OK;
    }
    inc->by_category = calloc(c->count, sizeof(*inc->by_category));
    if (inc->by_category == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory listing incidents");
    }
    for (size_t i = 0; i < c->count; i++) {
        struct aw_category_count *cc = &inc->by_category[inc->ncategories];
        if (c->items[i].n <= 0) {
            continue;
        }
        cc->name = strdup(c->items[i].name);
        if (cc->name == NULL) {
            return aw_err_set(err, AW_ENOMEM, "out of memory listing incidents");
        }
        cc->count = c->items[i].n;
        inc->ncategories++;
    }
    qsort(inc->by_category, inc->ncategories, sizeof(*inc->by_category), by_name);
    return AW_OK;
}

/* Append an incident built from its positions and category counts. */
static int push_incident(struct aw_incidents *l, struct pos start, struct pos last,
                         struct pos end, const struct cat_counts *c, struct aw_err *err)
{
    struct aw_incident *inc;
    const struct cat_count *best = NULL;
    int64_t total = 0;

    if (AW_GROW(l->items, l->cap, l->count + 1, 8) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "out of memory listing incidents");
    }
    for (size_t i = 0; i < c->count; i++) {
        const struct cat_count *cc = &c->items[i];
        total += cc->n;
        if (cc->n > 0 && (best == NULL || cc->n > best->n ||
                          (cc->n == best->n && strcmp(cc->name, best->name) < 0))) {
            best = cc;
        }
    }
    inc = &l->items[l->count];
    inc->start_ms = start.ts;
    inc->last_ms = last.ts;
    inc->end_ms = end.found ? end.ts : AW_TIME_NONE;
    inc->count = total;
    inc->category = strdup(best != NULL ? best->name : "");
    inc->by_category = NULL;
    inc->ncategories = 0;
    l->count++;       /* from here on the list owns what inc holds */
    if (inc->category == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory listing incidents");
    }
    return incident_categories(inc, c, err);
}

int aw_query_incidents(struct aw_query *q, size_t max, struct aw_incidents *out,
                       struct aw_err *err)
{
    struct pos bound = { false, 0, 0 };
    int rc = AW_OK;

    memset(out, 0, sizeof(*out));
    /* Backwards from the end of the window, one incident per round: its
     * last failure F, the success S before it (its start is the first
     * failure after S), the success E after F that ended it. */
    for (;;) {
        struct pos f, s, start, e;
        struct cat_counts cats = { 0 };

        rc = last_before(q, KIND_FAIL, bound, &f, err);
        if (rc != AW_OK || !f.found) {
            break;
        }
        if (out->count == max) {
            out->more = true;
            break;
        }
        rc = last_before(q, KIND_HEALTH, f, &s, err);
        if (rc == AW_OK) {
            rc = first_after(q, KIND_FAIL, s, &start, err);
        }
        if (rc == AW_OK) {
            rc = first_after(q, KIND_HEALTH, f, &e, err);
        }
        if (rc == AW_OK) {
            rc = count_between(q, s, f, &cats, err);
        }
        if (rc == AW_OK) {
            rc = push_incident(out, start.found ? start : f, f, e, &cats, err);
        }
        cats_free(&cats);
        if (rc != AW_OK || !s.found) {
            break;
        }
        bound = s;
    }
    return rc;
}

/* How far the logs of the last failure's host went on after it: the
 * newest record time the files of that host hold within the window, kept
 * in out only when it is later than the last failure.  The failure's
 * host, not the filter's, because without --host the state may mix hosts
 * and another host's log says nothing about this one. */
static int last_record(struct aw_query *q, struct aw_health_state *out, struct aw_err *err)
{
    struct pos none = { false, 0, 0 }, f;
    sqlite3_stmt *st = NULL;
    int rc, step;

    rc = last_before(q, KIND_FAIL, none, &f, err);
    if (rc != AW_OK || !f.found) {
        return rc;
    }
    rc = stmt(q, Q_LAST_RECORD, KIND_ALL, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, q->hi == INT64_MAX ? INT64_MAX : q->hi - 1);
    sqlite3_bind_int64(st, 2, f.id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL &&
            sqlite3_column_int64(st, 0) > f.ts) {
            out->last_record_ms = sqlite3_column_int64(st, 0);
        }
        step = SQLITE_DONE;
    }
    return step_end(q, st, step, err);
}

int aw_query_state(struct aw_query *q, const struct aw_incidents *recent,
                   struct aw_health_state *out, struct aw_err *err)
{
    struct pos none = { false, 0, 0 }, success;
    int rc;

    memset(out, 0, sizeof(*out));
    out->since_ms = AW_TIME_NONE;
    out->last_failure_ms = AW_TIME_NONE;
    out->last_success_ms = AW_TIME_NONE;
    out->last_record_ms = AW_TIME_NONE;
    rc = last_before(q, KIND_HEALTH, none, &success, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (success.found) {
        out->last_success_ms = success.ts;
    }
    if (recent->count > 0) {
        const struct aw_incident *inc = &recent->items[0];
        out->last_failure_ms = inc->last_ms;
        if (inc->end_ms == AW_TIME_NONE) {
            out->health = AW_HEALTH_FAILING;
            out->since_ms = inc->start_ms;
            out->failures = inc->count;
            out->category = inc->category;
            return last_record(q, out, err);
        } else {
            out->health = AW_HEALTH_HEALTHY;
            out->since_ms = inc->end_ms;
        }
        return AW_OK;
    }
    if (success.found) {
        struct pos first;
        rc = first_after(q, KIND_HEALTH, none, &first, err);
        out->health = AW_HEALTH_HEALTHY;
        out->since_ms = first.found ? first.ts : success.ts;
    }
    return rc;
}

const char *aw_health_name(enum aw_health h)
{
    switch (h) {
    case AW_HEALTH_HEALTHY: return "healthy";
    case AW_HEALTH_FAILING: return "failing";
    case AW_HEALTH_UNKNOWN:
    default: return "unknown";
    }
}

int aw_query_inferred(struct aw_query *q, int64_t *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step;

    rc = stmt(q, Q_INFERRED, KIND_ALL, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, q->lo);
    sqlite3_bind_int64(st, 2, q->hi);
    step = sqlite3_step(st);
    *out = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (step == SQLITE_ROW) {
        step = sqlite3_step(st);
    }
    return step_end(q, st, step, err);
}

int aw_query_limit_hits(struct aw_query *q, aw_count_fn fn, void *ctx, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step = SQLITE_DONE;

    rc = stmt(q, Q_LIMIT_HITS, KIND_ALL, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, q->lo);
    sqlite3_bind_int64(st, 2, hour_floor(q->lo));
    sqlite3_bind_int64(st, 7, 0);
    sqlite3_bind_int64(st, 8, q->hi);
    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct aw_count_row row;

        row.rule = col_text(st, 0);
        row.category = col_text(st, 1);
        row.count = sqlite3_column_int64(st, 2);
        row.first_ms = sqlite3_column_int64(st, 3);
        row.last_ms = sqlite3_column_int64(st, 4);
        row.cause = "";
        row.remedy = "";
        rc = fn(ctx, &row, err);
    }
    return rows_end(q, st, rc, step, err);
}

int aw_query_top_target(struct aw_query *q, int64_t from_ms, char **out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step;

    *out = NULL;
    rc = stmt(q, Q_TOP_TARGET, KIND_FAIL, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, from_ms != AW_TIME_NONE ? max64(from_ms, q->lo) : q->lo);
    sqlite3_bind_int64(st, 2, q->hi);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = strdup(col_text(st, 0));
        if (*out == NULL) {
            sqlite3_reset(st);
            return aw_err_set(err, AW_ENOMEM, "out of memory reading a target");
        }
        step = SQLITE_DONE;
    }
    return step_end(q, st, step, err);
}

int aw_query_newest(struct aw_store *s, int64_t *out, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int step, rc = AW_OK;

    *out = AW_TIME_NONE;
    if (sqlite3_prepare_v2(aw_store_sqlite(s), SQL_Q_NEWEST, -1, &st, NULL) != SQLITE_OK) {
        return aw_store_db_error(s, err, "cannot prepare a query");
    }
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        for (int col = 0; col < 2; col++) {
            if (sqlite3_column_type(st, col) != SQLITE_NULL &&
                (*out == AW_TIME_NONE || sqlite3_column_int64(st, col) > *out)) {
                *out = sqlite3_column_int64(st, col);
            }
        }
    } else if (step != SQLITE_DONE) {
        rc = aw_store_db_error(s, err, "query failed");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- export -------------------------------------------------------- */

static const char *col_text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : col_text(st, col);
}

/* Run an export statement already bound, calling fn per row. */
static int export_rows(struct aw_query *q, sqlite3_stmt *st, aw_export_fn fn, void *ctx,
                       struct aw_err *err)
{
    int rc = AW_OK, step = SQLITE_DONE;

    while (rc == AW_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct aw_export_row r;
        struct aw_export_cert cert;

        r.ts_ms = sqlite3_column_int64(st, 0);
        r.ts_known = sqlite3_column_int(st, 1) != 0;
        r.read_ms = sqlite3_column_int64(st, 2);
        r.host = col_text(st, 3);
        r.file_id = sqlite3_column_int64(st, 4);
        r.path = col_text(st, 5);
        r.offset = (uint64_t)sqlite3_column_int64(st, 6);
        r.rule = col_text(st, 7);
        r.category = col_text(st, 8);
        r.severity = col_text(st, 9);
        r.level = col_text(st, 10);
        r.message = col_text(st, 11);
        r.partial = sqlite3_column_int(st, 12) != 0;
        r.target = col_text_or_null(st, 13);
        r.code = col_text_or_null(st, 14);
        r.id = sqlite3_column_int64(st, 15);
        r.head = sqlite3_column_blob(st, 16);
        r.head_len = r.head != NULL ? (size_t)sqlite3_column_bytes(st, 16) : 0;
        r.ts_inferred = sqlite3_column_int(st, 17) != 0;
        r.cert = NULL;
        if (sqlite3_column_type(st, 18) != SQLITE_NULL) {
            cert.sha256 = col_text(st, 18);
            cert.sha1 = col_text(st, 19);
            cert.serial = col_text(st, 20);
            cert.subject = col_text(st, 21);
            cert.issuer = col_text(st, 22);
            cert.not_before = col_text(st, 23);
            cert.not_after = col_text(st, 24);
            cert.san = col_text(st, 25);
            r.cert = &cert;
        }
        rc = fn(ctx, &r, err);
    }
    return rows_end(q, st, rc, step, err);
}

/* Export statement id with the window bound. */
static int export_stmt(struct aw_query *q, enum q_stmt id, sqlite3_stmt **st, struct aw_err *err)
{
    int rc = stmt(q, id, KIND_ALL, st, err);

    if (rc == AW_OK) {
        sqlite3_bind_int64(*st, 1, q->lo);
        sqlite3_bind_int64(*st, 2, q->hi);
    }
    return rc;
}

int aw_query_export(struct aw_query *q, aw_export_fn fn, void *ctx, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = export_stmt(q, Q_EXPORT, &st, err);

    return rc != AW_OK ? rc : export_rows(q, st, fn, ctx, err);
}

int aw_query_export_ids(struct aw_query *q, int64_t after_id, int64_t upto_id, aw_export_fn fn,
                        void *ctx, struct aw_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = export_stmt(q, Q_EXPORT_IDS, &st, err);

    if (rc != AW_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 9, after_id);
    sqlite3_bind_int64(st, 10, upto_id);
    return export_rows(q, st, fn, ctx, err);
}
