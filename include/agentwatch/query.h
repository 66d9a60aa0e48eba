/*
 * Query: the read side of the store for report, status and export.
 *
 * Every query looks at a window of record time [since, until] and at the
 * findings that match the filters.  Findings are ordered by time and, at
 * the same millisecond, in the order they were stored, which is log order
 * (a scan reads every file front to back and rollovers oldest first).
 *
 * Health model: a finding of category "health" (AW_CATEGORY_HEALTH) is a
 * success marker, any other finding a failure.  An incident is a maximal
 * run of failures with no success marker between them; it ends at the
 * first success marker after its last failure, or is ongoing.  The
 * category, rule and host filters select the failures; success markers
 * are selected by host only, because a success marker is evidence that
 * the endpoint talks to its server whatever the rule of the failures was.
 *
 * Counts over long windows come from the per-hour table finding_hours
 * (schema 4), the partial hours at the edges from the findings, so the
 * cost grows with the number of hours, not of findings.
 */
#ifndef AGENTWATCH_QUERY_H
#define AGENTWATCH_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/store.h"

#define AW_MS_PER_MINUTE INT64_C(60000)
#define AW_MS_PER_HOUR INT64_C(3600000)
#define AW_MS_PER_DAY INT64_C(86400000)

struct aw_query_filter {
    int64_t since_ms;         /* record time >= since; AW_TIME_NONE: open */
    int64_t until_ms;         /* record time <= until; AW_TIME_NONE: open */
    const char *category;     /* NULL: any */
    const char *rule;
    const char *host;
};

struct aw_query;

/* Prepare queries over s (which must outlive the query) for filter f
 * (copied; its strings must outlive the query).  Caller frees with
 * aw_query_close(). */
int aw_query_open(struct aw_query **out, struct aw_store *s, const struct aw_query_filter *f,
                  struct aw_err *err);

/* Accepts NULL; sets *q to NULL. */
void aw_query_close(struct aw_query **q);

/* Findings per category / per rule (with cause and remedy), most recently
 * seen first; rows as in store.h. */
int aw_query_by_category(struct aw_query *q, aw_count_fn fn, void *ctx, struct aw_err *err);
int aw_query_by_rule(struct aw_query *q, aw_count_fn fn, void *ctx, struct aw_err *err);

struct aw_bucket_row {
    int64_t start_ms;         /* a multiple of the bucket width (UTC) */
    const char *category;
    int64_t count;
};

typedef int (*aw_bucket_fn)(void *ctx, const struct aw_bucket_row *row, struct aw_err *err);

/* Findings per bucket of bucket_ms (> 0) and category, in time then
 * category order; only non-empty buckets are reported. */
int aw_query_buckets(struct aw_query *q, int64_t bucket_ms, aw_bucket_fn fn, void *ctx,
                     struct aw_err *err);

struct aw_category_count {
    char *name;
    int64_t count;
};

struct aw_incident {
    int64_t start_ms;         /* first failure */
    int64_t last_ms;          /* last failure */
    int64_t end_ms;           /* the success marker that ended it, or
                                 AW_TIME_NONE while ongoing */
    int64_t count;            /* failures in it */
    char *category;           /* the most frequent category (ties: first
                                 by name); owned by the list */
    struct aw_category_count *by_category;   /* its failures per category
                                 (count > 0 only, by name; owned by the
                                 list) */
    size_t ncategories;
};

struct aw_incidents {
    struct aw_incident *items;  /* most recent first */
    size_t count, cap;
    bool more;                /* older incidents exist in the window */
};

/* The max most recent incidents in the window into *out (zeroed first).
 * Caller frees with aw_incidents_free(), also after an error. */
int aw_query_incidents(struct aw_query *q, size_t max, struct aw_incidents *out,
                       struct aw_err *err);

void aw_incidents_free(struct aw_incidents *l);

enum aw_health {
    AW_HEALTH_UNKNOWN = 0,    /* no failure and no success marker */
    AW_HEALTH_HEALTHY,        /* the last success marker is after the last
                                 failure, or there are only successes */
    AW_HEALTH_FAILING         /* failures after the last success marker,
                                 or failures and no success at all */
};

struct aw_health_state {
    enum aw_health health;
    int64_t since_ms;         /* failing: first failure after the last
                                 success; healthy: the success that ended
                                 the last incident, else the first success;
                                 unknown: AW_TIME_NONE */
    int64_t failures;         /* failing: failures since since_ms; else 0 */
    const char *category;     /* failing: most frequent category of those
                                 failures (borrowed from the incidents);
                                 else NULL */
    int64_t last_failure_ms;  /* AW_TIME_NONE when none */
    int64_t last_success_ms;
    int64_t last_record_ms;   /* failing: the newest record time read from
                                 the logs of the last failure's host, when
                                 later than the last failure and not after
                                 the window (files.last_record, schema 10);
                                 else AW_TIME_NONE: a log that went on with
                                 no further failure, when the agent's
                                 success markers are unknown */
};

/* The current state, from recent (the result of aw_query_incidents() with
 * max >= 1 on the same query). */
int aw_query_state(struct aw_query *q, const struct aw_incidents *recent,
                   struct aw_health_state *out, struct aw_err *err);

/* Name of a health value: "unknown", "healthy", "failing". */
const char *aw_health_name(enum aw_health h);

/* How many findings of the window have a time whose year or zone was
 * inferred (the record did not say them). */
int aw_query_inferred(struct aw_query *q, int64_t *out, struct aw_err *err);

/* Records of the window a match limit kept from being classified
 * (findings of rule agentwatch.match-limit, see scan.h), per rule that
 * was stopped: row.rule is that rule, row.category its category ("" when
 * the rule is no longer known), most recently seen first.  The rule,
 * category and host filters apply to the stopped rule and the host. */
int aw_query_limit_hits(struct aw_query *q, aw_count_fn fn, void *ctx, struct aw_err *err);

/* The newest evidence the store holds, into *out (AW_TIME_NONE when
 * none): the later of the newest finding's time and the last time a scan
 * or follow read new content from a log (files.last_read).  For status
 * --max-age: a state computed from old data must not pass for current. */
int aw_query_newest(struct aw_store *s, int64_t *out, struct aw_err *err);

/* How many of the most recent failures aw_query_top_target() looks at. */
#define AW_QUERY_TARGET_SAMPLE 10000

/* The target (the server or URL a rule captured) most often named by the
 * failures of the window at or after from_ms (AW_TIME_NONE: the whole
 * window), among the AW_QUERY_TARGET_SAMPLE most recent of them; ties go
 * to the first by name.  *out is NULL when none names one; caller frees. */
int aw_query_top_target(struct aw_query *q, int64_t from_ms, char **out, struct aw_err *err);

/* The server certificate a probe finding saw (table probe_certs): the
 * texts of struct aw_probe_cert as the probe stored them. */
struct aw_export_cert {
    const char *sha256;       /* hex */
    const char *sha1;         /* hex, the Windows thumbprint */
    const char *serial;       /* hex */
    const char *subject;      /* RFC 2253 */
    const char *issuer;
    const char *not_before;   /* ISO-8601 UTC */
    const char *not_after;
    const char *san;          /* "DNS:a, IP:1.2.3.4", "" when none */
};

/* Every stored field of a finding.  Strings are valid UTF-8 (cleaned on
 * insert) and valid during the callback; target and code may be NULL. */
struct aw_export_row {
    int64_t ts_ms;            /* record time, or read time when unknown */
    bool ts_known;
    int64_t read_ms;
    const char *host;
    int64_t file_id;
    const char *path;
    uint64_t offset;
    const char *rule;
    const char *category;
    const char *severity;
    const char *level;
    const char *message;
    bool partial;
    const char *target;
    const char *code;
    int64_t id;               /* the finding's row id (export cursors) */
    const unsigned char *head;  /* its file's head sums as stored
                                   (fileid.h; the file identity of the ECS
                                   event.id) */
    size_t head_len;
    bool ts_inferred;         /* ts_ms's year or zone was guessed */
    const struct aw_export_cert *cert;  /* a probe finding's server
                                           certificate, else NULL */
};

typedef int (*aw_export_fn)(void *ctx, const struct aw_export_row *row, struct aw_err *err);

/* Every finding in the window, in time (then log) order. */
int aw_query_export(struct aw_query *q, aw_export_fn fn, void *ctx, struct aw_err *err);

/* The findings in the window with after_id < id <= upto_id, in id order
 * (the order they were stored): an export cursor's batch. */
int aw_query_export_ids(struct aw_query *q, int64_t after_id, int64_t upto_id, aw_export_fn fn,
                        void *ctx, struct aw_err *err);

#endif
