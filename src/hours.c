/*
 * Hours (see hours.h).  An open-addressing hash table keyed by (hour,
 * host, rule, category); the key strings are copied because the caller's
 * live only for one add.  Consecutive findings usually share their group,
 * so the last group hit is tried first.
 */
#include "hours.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS INT64_C(3600000)

struct group {
    bool used;
    uint64_t hash;
    int64_t hour;
    char *host;
    char *rule;
    char *category;
    int64_t count;
    int64_t first;
    int64_t last;
};

struct aw_hours {
    struct group *slots;
    size_t cap;               /* a power of two */
    size_t used;
    struct group *last;       /* the group hit last, or NULL */
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 0x100000001B3u;
    }
    return (h ^ 0xFF) * 0x100000001B3u;   /* separator: "a"+"bc" != "ab"+"c" */
}

static bool same(const struct group *g, int64_t hour, const char *host, const char *rule,
                 const char *category)
{
    return g->hour == hour && strcmp(g->rule, rule) == 0 &&
           strcmp(g->category, category) == 0 && strcmp(g->host, host) == 0;
}

static void group_free(struct group *g)
{
    free(g->host);
    free(g->rule);
    free(g->category);
    memset(g, 0, sizeof(*g));
}

/* Double the table (or create it). */
static int grow(struct aw_hours *h, struct aw_err *err)
{
    size_t cap = h->cap ? h->cap * 2 : 64;
    struct group *slots = calloc(cap, sizeof(*slots));

    if (slots == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory counting findings per hour");
    }
    for (size_t i = 0; i < h->cap; i++) {
        if (h->slots[i].used) {
            size_t j = h->slots[i].hash & (cap - 1);
            while (slots[j].used) {
                j = (j + 1) & (cap - 1);
            }
            slots[j] = h->slots[i];
        }
    }
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
    h->last = NULL;
    return AW_OK;
}

int aw_hours_add(struct aw_hours **hp, int64_t ts, const char *host, const char *rule,
                 const char *category, struct aw_err *err)
{
    struct aw_hours *h = *hp;
    int64_t m = ts % HOUR_MS, hour = ts - (m < 0 ? m + HOUR_MS : m);
    struct group *g = NULL;
    uint64_t hash;
    size_t j;
    int rc;

    if (h == NULL) {
        h = *hp = calloc(1, sizeof(*h));
        if (h == NULL) {
            return aw_err_set(err, AW_ENOMEM, "out of memory counting findings per hour");
        }
    }
    if (h->last != NULL && same(h->last, hour, host, rule, category)) {
        g = h->last;
    } else {
        if (2 * (h->used + 1) > h->cap) {
            rc = grow(h, err);
            if (rc != AW_OK) {
                return rc;
            }
        }
        hash = fnv(fnv(fnv(0xCBF29CE484222325u ^ (uint64_t)hour, host), rule), category);
        for (j = hash & (h->cap - 1); h->slots[j].used; j = (j + 1) & (h->cap - 1)) {
            if (h->slots[j].hash == hash && same(&h->slots[j], hour, host, rule, category)) {
                g = &h->slots[j];
                break;
            }
        }
        if (g == NULL) {
            g = &h->slots[j];
            g->host = strdup(host);
            g->rule = strdup(rule);
            g->category = strdup(category);
            if (g->host == NULL || g->rule == NULL || g->category == NULL) {
                group_free(g);
                return aw_err_set(err, AW_ENOMEM, "out of memory counting findings per hour");
            }
            g->used = true;
            g->hash = hash;
            g->hour = hour;
            g->first = g->last = ts;
            h->used++;
        }
        h->last = g;
    }
    g->count++;
    g->first = ts < g->first ? ts : g->first;
    g->last = ts > g->last ? ts : g->last;
    return AW_OK;
}

int aw_hours_flush(struct aw_hours *h, sqlite3_stmt *st, struct aw_err *err)
{
    if (h == NULL || h->used == 0) {
        return AW_OK;
    }
    for (size_t i = 0; i < h->cap; i++) {
        struct group *g = &h->slots[i];
        int step;

        if (!g->used) {
            continue;
        }
        sqlite3_bind_int64(st, 1, g->hour);
        sqlite3_bind_text(st, 2, g->host, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, g->rule, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, g->category, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, g->count);
        sqlite3_bind_int64(st, 6, g->first);
        sqlite3_bind_int64(st, 7, g->last);
        step = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (step != SQLITE_DONE) {
            return aw_err_set(err, AW_EDB, "cannot update the hourly counts: %s",
                              sqlite3_errmsg(sqlite3_db_handle(st)));
        }
    }
    aw_hours_clear(h);
    return AW_OK;
}

void aw_hours_clear(struct aw_hours *h)
{
    if (h == NULL) {
        return;
    }
    for (size_t i = 0; i < h->cap; i++) {
        if (h->slots[i].used) {
            group_free(&h->slots[i]);
        }
    }
    h->used = 0;
    h->last = NULL;
}

void aw_hours_free(struct aw_hours **hp)
{
    if (hp == NULL || *hp == NULL) {
        return;
    }
    aw_hours_clear(*hp);
    free((*hp)->slots);
    free(*hp);
    *hp = NULL;
}
