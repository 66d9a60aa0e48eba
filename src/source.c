/*
 * Sources: PATH expansion into rollover families (see source.h).
 *
 * Why order by content: the agent's rollover numbering is not documented
 * (higher-is-older is the common convention, but not guaranteed), and
 * copies made by an admin lose their modification times.  The first
 * record's timestamp says what is older; mtime and numbers only break ties
 * or stand in when a file has no timestamp.
 */
#include "agentwatch/source.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentwatch/grow.h"
#include "agentwatch/platform.h"
#include "agentwatch/timeutil.h"

/* Split base name into stem (without trailing digits) and extension
 * (from the last dot, or ""). */
struct name_parts {
    size_t stem_len;      /* length of the stem without rollover digits */
    size_t digits_len;    /* trailing digits of the stem */
    const char *ext;      /* ".log", or "" */
};

static void split_name(const char *name, struct name_parts *p)
{
    const char *dot = strrchr(name, '.');
    size_t stem_end = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
    size_t i = stem_end;

    while (i > 0 && isdigit((unsigned char)name[i - 1])) {
        i--;
    }
    p->stem_len = i;
    p->digits_len = stem_end - i;
    p->ext = name + stem_end;
}

static bool has_log_ext(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot != NULL && (strcasecmp(dot, ".log") == 0 || strcasecmp(dot, ".lo_") == 0);
}

/* dir + separator + name; the separator is the one dir already uses
 * (Windows accepts both), so that members of a family compare equal in
 * their folder part (aw_source_covers). */
static char *join_path(const char *dir, const char *name)
{
    size_t dlen = strlen(dir), nlen = strlen(name);
    const char *sep = aw_path_last_sep(dir);
    char *p = malloc(dlen + nlen + 2);

    if (p == NULL) {
        return NULL;
    }
    memcpy(p, dir, dlen);
    p[dlen] = sep != NULL ? *sep : AW_PATH_SEP;
    memcpy(p + dlen + 1, name, nlen + 1);
    return p;
}

/* Timestamp of the first record of path, or AW_TIME_NONE; a date without
 * a year takes the latest year that does not put it after bound_ms. */
static int64_t first_record_ts(const char *path, enum aw_format format,
                               const struct aw_tz *tz, int64_t bound_ms)
{
    struct aw_time_ctx tc = { tz, bound_ms };
    /* Small reads: this runs for every family member on every pass of a
     * follower, and a first record rarely needs more (the reader reads on
     * when it does). */
    struct aw_reader_opts opts = { .format = format, .deliver_partial = true,
                                   .chunk_size = 4096 };
    struct aw_reader *r = NULL;
    struct aw_record rec;
    struct aw_record_meta meta;
    int64_t ts = AW_TIME_NONE;

    if (aw_reader_open(&r, path, 0, &opts, NULL) != AW_OK) {
        return AW_TIME_NONE;
    }
    if (aw_reader_next(r, &rec, NULL) == 1) {
        aw_record_parse_meta(aw_reader_format(r), &rec, &tc, &meta);
        ts = meta.ts_ms;
    }
    aw_reader_close(&r);
    return ts;
}

static bool listed(const struct aw_source_list *list, const struct aw_file_id *id)
{
    for (size_t i = 0; i < list->count; i++) {
        if (list->items[i].id.dev == id->dev && list->items[i].id.ino == id->ino) {
            return true;
        }
    }
    return false;
}

/* Add path (owned by the list on success, freed on failure) unless already
 * listed or gone. */
static int add_file(struct aw_source_list *list, char *path, long rollover,
                    enum aw_format format, const struct aw_tz *tz, bool must_exist,
                    struct aw_err *err)
{
    struct aw_source_file *f;
    int rc;

    if (AW_GROW(list->items, list->cap, list->count + 1, 8) != AW_OK) {
        free(path);
        return aw_err_set(err, AW_ENOMEM, "out of memory listing sources");
    }
    f = &list->items[list->count];
    rc = aw_fileid_read(path, &f->id, err);
    if (rc != AW_OK) {
        free(path);
        if (must_exist) {
            return rc;
        }
        /* A member that vanished was rotated away (its content is found
         * under the new name); one that cannot or may not be read is
         * said, never skipped silently. */
        if (rc != AW_ENOTFOUND && aw_diags_add(&list->skipped, "%s", err->msg) != AW_OK) {
            return aw_err_set(err, AW_ENOMEM, "out of memory listing sources");
        }
        aw_err_clear(err);
        return AW_OK;
    }
    if (listed(list, &f->id)) {
        free(path);
        return AW_OK;
    }
    f->path = path;
    f->rollover = rollover;
    f->first_ts = first_record_ts(path, format, tz, f->id.mtime_ms);
    f->next_first_ts = AW_TIME_NONE;
    list->count++;
    return AW_OK;
}

/* Oldest first, see the file comment: qsort comparator over a family
 * whose age keys are set. */
static int compare_age(const void *pa, const void *pb)
{
    const struct aw_source_file *a = pa, *b = pb;
    long ra = a->rollover == 0 ? -2 : a->rollover;   /* active file newest */
    long rb = b->rollover == 0 ? -2 : b->rollover;

    if (a->age_key != b->age_key) {
        return a->age_key < b->age_key ? -1 : 1;
    }
    /* .lo_ (-1) is older than any numbered file; higher numbers older. */
    if (ra == -1 || rb == -1) {
        return ra == rb ? 0 : (ra == -1 ? -1 : 1);
    }
    if (ra != rb) {
        return ra > rb ? -1 : 1;
    }
    return strcmp(a->path, b->path);
}

/* Do paths a and b name members of one family (same stem, without
 * rollover digits, in any case)? */
static bool same_family(const char *a, const char *b)
{
    const char *sa = aw_path_last_sep(a), *sb = aw_path_last_sep(b);
    struct name_parts pa, pb;

    a = sa != NULL ? sa + 1 : a;
    b = sb != NULL ? sb + 1 : b;
    split_name(a, &pa);
    split_name(b, &pb);
    return pa.stem_len == pb.stem_len && strncasecmp(a, b, pa.stem_len) == 0;
}

/* Before sorting: the active file (agent.log) is certainly the newest of
 * its family, whatever the numbering, so its first record bounds every
 * other member.  That decides the year of a rollover whose modification
 * time was lost (a copy made months later) before the order is decided
 * on it. */
static void bound_by_active(struct aw_source_list *list, size_t from, enum aw_format format,
                            const struct aw_tz *tz)
{
    for (size_t i = from; i < list->count; i++) {
        const struct aw_source_file *a = &list->items[i];

        if (a->rollover != 0 || a->first_ts == AW_TIME_NONE) {
            continue;
        }
        for (size_t j = from; j < list->count; j++) {
            struct aw_source_file *f = &list->items[j];
            if (j != i && same_family(a->path, f->path) && a->first_ts < f->id.mtime_ms) {
                f->first_ts = first_record_ts(f->path, format, tz, a->first_ts);
            }
        }
    }
}

/* After sorting: bound each member of items [from, count) by the next
 * newer member of its family, newest first, so that a bound is final
 * before the older file is resolved against it; a first record whose
 * year came from a later bound is read again against the tighter one.
 * The order is not revised: it was decided on the same records. */
static void bound_family(struct aw_source_list *list, size_t from, enum aw_format format,
                         const struct aw_tz *tz)
{
    for (size_t i = list->count; i-- > from;) {
        struct aw_source_file *f = &list->items[i];

        for (size_t j = i + 1; j < list->count; j++) {
            if (same_family(f->path, list->items[j].path)) {
                f->next_first_ts = list->items[j].first_ts;
                break;
            }
        }
        if (f->next_first_ts != AW_TIME_NONE && f->next_first_ts < f->id.mtime_ms) {
            f->first_ts = first_record_ts(f->path, format, tz, f->next_first_ts);
        }
    }
}

int64_t aw_source_year_bound(const struct aw_source_file *f, int64_t mtime_ms)
{
    if (f->next_first_ts != AW_TIME_NONE && f->next_first_ts < mtime_ms) {
        return f->next_first_ts;
    }
    return mtime_ms;
}

/* Sort list items [from, count) oldest first. */
static void sort_family(struct aw_source_list *list, size_t from)
{
    bool all_timed = true;

    for (size_t i = from; i < list->count; i++) {
        if (list->items[i].first_ts == AW_TIME_NONE) {
            all_timed = false;
        }
    }
    for (size_t i = from; i < list->count; i++) {
        struct aw_source_file *f = &list->items[i];
        f->age_key = all_timed ? f->first_ts : f->id.mtime_ms;
    }
    /* qsort's pointer must be valid even for no items: items is NULL
     * while the list is empty (UBSan: null pointer passed as argument). */
    if (list->count - from > 1) {
        qsort(list->items + from, list->count - from, sizeof(list->items[0]), compare_age);
    }
}

/* Sort a family (or a folder's families) oldest first and bound each
 * member's years by the newer ones. */
static void order_family(struct aw_source_list *list, size_t from, enum aw_format format,
                         const struct aw_tz *tz)
{
    bound_by_active(list, from, format, tz);
    sort_family(list, from);
    bound_family(list, from, format, tz);
}

/* Is name a member of the family of the active file base (same stem,
 * digits or none, same extension; or stem + ".lo_")?  Sets *rollover. */
static bool family_member(const char *base, const char *name, long *rollover)
{
    struct name_parts bp, np;

    split_name(base, &bp);
    split_name(name, &np);
    if (np.stem_len != bp.stem_len || strncmp(base, name, bp.stem_len) != 0) {
        return false;
    }
    if (strcasecmp(np.ext, ".lo_") == 0 && np.digits_len == 0) {
        *rollover = -1;
        return true;
    }
    if (strcmp(np.ext, bp.ext) != 0) {
        return false;
    }
    if (np.digits_len == 0) {
        *rollover = 0;
        return true;
    }
    if (np.digits_len > 9) {
        return false;
    }
    *rollover = strtol(name + np.stem_len, NULL, 10);
    return *rollover > 0;
}

static int expand_dir(const char *dir, enum aw_format format, const struct aw_tz *tz,
                      struct aw_source_list *list, struct aw_err *err)
{
    struct aw_os_dir *d = aw_os_dir_open(dir);
    const char *d_name;
    size_t from = list->count;
    int rc = AW_OK;

    if (d == NULL) {
        return aw_err_set(err, AW_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
    }
    while ((d_name = aw_os_dir_next(d)) != NULL) {
        struct name_parts np;
        long rollover = 0;
        char *path;

        if (d_name[0] == '.' || !has_log_ext(d_name)) {
            continue;
        }
        split_name(d_name, &np);
        if (strcasecmp(np.ext, ".lo_") == 0) {
            rollover = -1;
        } else if (np.digits_len > 0 && np.digits_len <= 9) {
            rollover = strtol(d_name + np.stem_len, NULL, 10);
        }
        path = join_path(dir, d_name);
        if (path == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory listing %s", dir);
            break;
        }
        rc = add_file(list, path, rollover, format, tz, false, err);
        if (rc != AW_OK) {
            break;
        }
    }
    aw_os_dir_close(d);
    if (rc == AW_OK) {
        order_family(list, from, format, tz);
    }
    return rc;
}

static int expand_family(const char *path, enum aw_format format, const struct aw_tz *tz,
                         struct aw_source_list *list, struct aw_err *err)
{
    const char *slash = aw_path_last_sep(path);
    const char *base = slash != NULL ? slash + 1 : path;
    char *dir = NULL;
    struct aw_os_dir *d = NULL;
    const char *d_name;
    struct name_parts bp;
    size_t from = list->count;
    char *own;
    int rc;

    own = strdup(path);
    if (own == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    split_name(base, &bp);
    if (bp.digits_len > 0) {
        /* A rollover named on its own stands for itself only. */
        return add_file(list, own, strtol(base + bp.stem_len, NULL, 10), format, tz, true, err);
    }
    rc = add_file(list, own, 0, format, tz, true, err);
    if (rc != AW_OK) {
        return rc;
    }
    dir = slash != NULL ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (dir == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "out of memory");
        goto out;
    }
    if (dir[0] == '\0') {
        free(dir);
        dir = strndup(slash, 1);   /* the root: "/" */
        if (dir == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory");
            goto out;
        }
    }
    d = aw_os_dir_open(dir);
    if (d == NULL) {
        rc = aw_err_set(err, AW_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
        goto out;
    }
    while ((d_name = aw_os_dir_next(d)) != NULL) {
        long rollover;
        char *member;

        if (strcmp(d_name, base) == 0 || !family_member(base, d_name, &rollover)) {
            continue;
        }
        /* Members are named the way the active file was given, so that a
         * bare "agent.log" has a bare "agent1.log" (see aw_source_covers). */
        member = slash != NULL ? join_path(dir, d_name) : strdup(d_name);
        if (member == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory listing %s", dir);
            goto out;
        }
        rc = add_file(list, member, rollover, format, tz, false, err);
        if (rc != AW_OK) {
            goto out;
        }
    }
    order_family(list, from, format, tz);
    rc = AW_OK;
out:
    aw_os_dir_close(d);
    free(dir);
    return rc;
}

int aw_source_expand(const char *path, enum aw_format format, const struct aw_tz *tz,
                     struct aw_source_list *list, struct aw_err *err)
{
    struct aw_os_stat st;

    if (aw_os_stat(path, &st) != 0) {
        return aw_err_set(err, errno == ENOENT ? AW_ENOTFOUND : AW_EIO, "%s: %s", path,
                          strerror(errno));
    }
    if (st.is_dir) {
        return expand_dir(path, format, tz, list, err);
    }
    if (!st.is_reg) {
        return aw_err_set(err, AW_EIO, "%s: not a regular file or directory", path);
    }
    return expand_family(path, format, tz, list, err);
}

/* Length of the directory part of path ("" for none, "/" kept). */
static size_t dir_len(const char *path)
{
    const char *slash = aw_path_last_sep(path);

    return slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));
}

bool aw_source_covers(const char *arg, const char *path)
{
    struct aw_os_stat st;
    size_t alen = strlen(arg), plen = dir_len(path);
    const char *base = path + (plen > 0 && aw_path_is_sep(path[plen]) ? plen + 1 : plen);
    const char *abase;
    struct name_parts ap;
    long rollover;

    while (alen > 1 && aw_path_is_sep(arg[alen - 1])) {
        alen--;
    }
    if (aw_os_stat(arg, &st) == 0 && st.is_dir) {
        return plen == alen && strncmp(arg, path, alen) == 0 && has_log_ext(base);
    }
    if (strcmp(arg, path) == 0) {
        return true;
    }
    if (dir_len(arg) != plen || strncmp(arg, path, plen) != 0) {
        return false;
    }
    abase = arg + (plen > 0 && aw_path_is_sep(arg[plen]) ? plen + 1 : plen);
    split_name(abase, &ap);
    return ap.digits_len == 0 && family_member(abase, base, &rollover);
}

int aw_source_resolve(char *const paths[], size_t n, char ***out, struct aw_diags *notes,
                      struct aw_err *err)
{
    char **res = calloc(n + 1, sizeof(*res));
    int rc = AW_OK;

    *out = NULL;
    if (res == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && rc == AW_OK; i++) {
        char *target = NULL;

        if (aw_os_resolve_link(paths[i], &target) != 0) {
            rc = aw_err_set(err, AW_ENOTFOUND, "%s: a symbolic link that cannot be resolved: %s",
                            paths[i], strerror(errno));
            break;
        }
        if (target != NULL) {
            res[i] = target;
            if (aw_diags_add(notes, "%s: a symbolic link; reading its target %s", paths[i],
                             target) != AW_OK) {
                rc = aw_err_set(err, AW_ENOMEM, "out of memory");
            }
        } else if ((res[i] = strdup(paths[i])) == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "out of memory");
        }
    }
    if (rc != AW_OK) {
        aw_source_paths_free(&res);
        return rc;
    }
    *out = res;
    return AW_OK;
}

void aw_source_paths_free(char ***paths)
{
    if (paths == NULL || *paths == NULL) {
        return;
    }
    for (char **p = *paths; *p != NULL; p++) {
        free(*p);
    }
    free(*paths);
    *paths = NULL;
}

void aw_source_list_free(struct aw_source_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
    }
    free(list->items);
    aw_diags_free(&list->skipped);
    list->items = NULL;
    list->count = 0;
    list->cap = 0;
}
