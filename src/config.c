/*
 * The configuration file (see config.h; documented in README.md and
 * agentwatch(1)).
 *
 * Like the rule loader, the file is read whole (at most 1 MiB) and turned
 * into a node tree (yamltree.h) in which every key and value keeps its
 * position, then validated key by key; every problem
 * is collected and reported sorted by position, so an administrator fixes
 * a broken file in one pass.  Only a YAML syntax error stops the walk,
 * because after it the tree means nothing.
 *
 * Typing is explicit rather than YAML 1.1 guessing: every scalar is a
 * string, an integer is a plain (unquoted) run of decimal digits, and a
 * plain empty/~/null value means "not set", so a key left empty in an
 * edited file falls back to its default instead of becoming an error.
 * Paths must be absolute: the service runs from / and a path relative to
 * whatever directory a command was started in would silently differ
 * between the service and an administrator's shell.
 */
#include "agentwatch/config.h"
#include "agentwatch/tz.h"
#include "agentwatch/platform.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/autoprobe.h"
#include "agentwatch/probe.h"
#include "agentwatch/retention.h"
#include "agentwatch/yamltree.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define NEST_MAX 16                 /* the schema needs 4 */

/* ------------------------------------------------------------------ */
/* Diagnostics                                                          */

#define DIAG(ld, mark, ...) AW_YAML_DIAG((ld), mark, __VA_ARGS__)

/* Integers must be plain, so a quoted "5" is named for what it is. */
static const char *kind_name(const struct aw_yaml_node *n)
{
    if (n->kind == AW_YAML_SCALAR && !n->null && !n->plain) {
        return "a quoted string";
    }
    return aw_yaml_kind_name(n);
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */

/* A string value: a scalar without NUL bytes. */
static bool want_string(struct aw_yaml_check *ld, const char *name, const struct aw_yaml_node *v)
{
    if (v->kind != AW_YAML_SCALAR) {
        DIAG(ld, v->start, "key '%s' must be a string, not %s", name, kind_name(v));
        return false;
    }
    if (memchr(v->val, '\0', v->len) != NULL) {
        DIAG(ld, v->start, "key '%s' must not contain NUL bytes", name);
        return false;
    }
    return true;
}

/* An absolute path; returns a copy or NULL (reported, or out of memory). */
static char *take_path(struct aw_yaml_check *ld, const char *name, const struct aw_yaml_node *v)
{
    char buf[96];
    char *copy;

    if (!want_string(ld, name, v)) {
        return NULL;
    }
    if (!aw_path_is_absolute(v->val)) {
        DIAG(ld, v->start, "key '%s' must be an absolute path, not '%s'", name,
             aw_yaml_show(buf, sizeof(buf), v->val, v->len));
        return NULL;
    }
    if (v->len >= PATH_MAX) {
        DIAG(ld, v->start, "key '%s' is longer than %d bytes", name, PATH_MAX - 1);
        return NULL;
    }
    copy = strdup(v->val);
    if (copy == NULL) {
        ld->oom = true;
    }
    return copy;
}

/* A plain decimal integer in [min, max]. */
static bool take_uint(struct aw_yaml_check *ld, const char *name, const struct aw_yaml_node *v,
                      unsigned long min, unsigned long max, unsigned long *out)
{
    char buf[96];
    unsigned long long n = 0;
    bool ok;

    if (v->kind != AW_YAML_SCALAR || !v->plain) {
        DIAG(ld, v->start, "key '%s' must be an integer, not %s", name, kind_name(v));
        return false;
    }
    ok = v->len > 0 && v->len <= 10;
    for (size_t i = 0; ok && i < v->len; i++) {
        ok = v->val[i] >= '0' && v->val[i] <= '9';
        n = n * 10 + (unsigned long long)(v->val[i] - '0');
    }
    if (!ok || n < min || n > max) {
        DIAG(ld, v->start, "key '%s' must be an integer from %lu to %lu, not '%s'", name, min, max,
             aw_yaml_show(buf, sizeof(buf), v->val, v->len));
        return false;
    }
    *out = (unsigned long)n;
    return true;
}

/* true or false, plain (YAML 1.1's yes/on are not booleans here: a
 * configuration means what it says). */
static void take_bool(struct aw_yaml_check *ld, const char *name, const struct aw_yaml_node *v, bool *out)
{
    char buf[96];

    if (v->kind == AW_YAML_SCALAR && v->plain && (strcmp(v->val, "true") == 0 || strcmp(v->val, "false") == 0)) {
        *out = v->val[0] == 't';
        return;
    }
    if (v->kind != AW_YAML_SCALAR) {
        DIAG(ld, v->start, "key '%s' must be true or false, not %s", name, kind_name(v));
    } else {
        DIAG(ld, v->start, "key '%s' must be true or false, not '%s'", name,
             aw_yaml_show(buf, sizeof(buf), v->val, v->len));
    }
}

static void take_host(struct aw_yaml_check *ld, const struct aw_yaml_node *v, struct aw_config *cfg)
{
    if (!want_string(ld, "host", v)) {
        return;
    }
    if (v->len == 0 || v->len > AW_CONFIG_HOST_MAX) {
        DIAG(ld, v->start, "key 'host' must have 1 to %d characters", AW_CONFIG_HOST_MAX);
        return;
    }
    for (size_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->val[i];
        if (c < 0x20 || c == 0x7f) {
            DIAG(ld, v->start, "key 'host' must not contain control characters");
            return;
        }
    }
    cfg->host = strdup(v->val);
    if (cfg->host == NULL) {
        ld->oom = true;
    }
}

/* A zone aw_tz_open() accepts; the zone itself is opened again by the
 * command that uses it (a configuration stays plain data). */
static void take_timezone(struct aw_yaml_check *ld, const struct aw_yaml_node *v, struct aw_config *cfg)
{
    struct aw_tz *tz = NULL;
    struct aw_err err = { 0 };
    int rc;

    if (!want_string(ld, "timezone", v)) {
        return;
    }
    rc = aw_tz_open(v->val, &tz, &err);
    aw_tz_free(&tz);
    if (rc == AW_ENOMEM) {
        ld->oom = true;
        return;
    }
    if (rc != AW_OK) {
        DIAG(ld, v->start, "key 'timezone': %s", err.msg);
        return;
    }
    cfg->timezone = strdup(v->val);
    if (cfg->timezone == NULL) {
        ld->oom = true;
    }
}

static void take_follow(struct aw_yaml_check *ld, const struct aw_yaml_node *v, struct aw_config *cfg)
{
    struct aw_yaml_key keys[] = { { .name = "commit_ms" }, { .name = "rescan_seconds" },
                              { .name = "poll_interval_ms" }, { .name = "probe_interval_seconds" } };
    unsigned long n;

    if (v->kind != AW_YAML_MAP) {
        DIAG(ld, v->start, "key 'follow' must be a mapping, not %s", kind_name(v));
        return;
    }
    aw_yaml_walk_map(ld, v, " in follow", "commit_ms, rescan_seconds, poll_interval_ms or"
                     " probe_interval_seconds", keys, 4);
    if (keys[0].val != NULL && take_uint(ld, "commit_ms", keys[0].val, AW_CONFIG_COMMIT_MS_MIN,
                                         AW_CONFIG_COMMIT_MS_MAX, &n)) {
        cfg->commit_ms = (unsigned)n;
    }
    if (keys[1].val != NULL && take_uint(ld, "rescan_seconds", keys[1].val, AW_CONFIG_RESCAN_MIN,
                                         AW_CONFIG_RESCAN_MAX, &n)) {
        cfg->rescan_seconds = (unsigned)n;
    }
    if (keys[2].val != NULL && take_uint(ld, "poll_interval_ms", keys[2].val,
                                         AW_CONFIG_POLL_MS_MIN, AW_CONFIG_POLL_MS_MAX, &n)) {
        cfg->poll_interval_ms = (unsigned)n;
    }
    if (keys[3].val != NULL && take_uint(ld, "probe_interval_seconds", keys[3].val,
                                         AW_AUTOPROBE_INTERVAL_MIN, AW_AUTOPROBE_INTERVAL_MAX, &n)) {
        cfg->probe_interval_s = (unsigned)n;
    }
}

static void take_spool(struct aw_yaml_check *ld, const struct aw_yaml_node *v, struct aw_config *cfg)
{
    struct aw_yaml_key keys[] = { { .name = "path" }, { .name = "max_size" },
                              { .name = "keep" } };
    unsigned long n;

    if (v->kind != AW_YAML_MAP) {
        DIAG(ld, v->start, "key 'spool' must be a mapping, not %s", kind_name(v));
        return;
    }
    aw_yaml_walk_map(ld, v, " in spool", "path, max_size or keep", keys, 3);
    if (keys[0].val != NULL) {
        cfg->spool_path = take_path(ld, "path", keys[0].val);
    }
    if (keys[1].val != NULL && take_uint(ld, "max_size", keys[1].val, AW_CONFIG_SPOOL_SIZE_MIN,
                                         AW_CONFIG_SPOOL_SIZE_MAX, &n)) {
        cfg->spool_max_size = n;
    }
    if (keys[2].val != NULL && take_uint(ld, "keep", keys[2].val, AW_CONFIG_SPOOL_KEEP_MIN,
                                         AW_CONFIG_SPOOL_KEEP_MAX, &n)) {
        cfg->spool_keep = (unsigned)n;
    }
}

/* One item of sources: a path, or {path, format}.  Appends to cfg. */
static void take_source(struct aw_yaml_check *ld, const struct aw_yaml_node *item, size_t index,
                        struct aw_config *cfg)
{
    char where[48], buf[96];
    const struct aw_yaml_node *path_node = item;
    enum aw_format format = AW_FORMAT_AUTO;
    struct aw_config_source *src;
    char *path;

    if (item->bad) {
        return;
    }
    if (item->kind == AW_YAML_MAP) {
        struct aw_yaml_key keys[] = { { .name = "path" }, { .name = "format" } };

        snprintf(where, sizeof(where), " in source #%zu", index);
        aw_yaml_walk_map(ld, item, where, "path or format", keys, 2);
        if (keys[1].val != NULL && want_string(ld, "format", keys[1].val) &&
            aw_format_from_name(keys[1].val->val, &format) != AW_OK) {
            DIAG(ld, keys[1].val->start,
                 "key 'format' must be auto, itms, cmtrace or line, not '%s'",
                 aw_yaml_show(buf, sizeof(buf), keys[1].val->val, keys[1].val->len));
        }
        if (keys[0].val == NULL) {
            if (keys[0].key == NULL || !keys[0].key->bad) {
                DIAG(ld, item->start, "source #%zu has no 'path'", index);
            }
            return;
        }
        path_node = keys[0].val;
    } else if (item->kind != AW_YAML_SCALAR || item->null) {
        DIAG(ld, item->start, "source #%zu must be a path or a mapping, not %s", index,
             kind_name(item));
        return;
    }
    path = take_path(ld, "path", path_node);
    if (path == NULL) {
        return;
    }
    for (size_t i = 0; i < cfg->nsources; i++) {
        if (strcmp(cfg->sources[i].path, path) == 0) {
            DIAG(ld, path_node->start, "duplicate source '%s' (first defined at %s:%u:%u)",
                 aw_yaml_show(buf, sizeof(buf), path, strlen(path)), ld->file,
                 cfg->sources[i].line, cfg->sources[i].column);
            free(path);
            return;
        }
    }
    src = &cfg->sources[cfg->nsources++];
    src->path = path;
    src->format = format;
    src->line = (unsigned)path_node->start.line + 1;
    src->column = (unsigned)path_node->start.column + 1;
}

static void take_sources(struct aw_yaml_check *ld, const struct aw_yaml_node *v, struct aw_config *cfg)
{
    if (v->kind != AW_YAML_SEQ) {
        DIAG(ld, v->start, "key 'sources' must be a sequence, not %s", kind_name(v));
        return;
    }
    if (v->nkids == 0) {
        return;
    }
    cfg->sources = calloc(v->nkids, sizeof(*cfg->sources));
    cfg->source_paths = calloc(v->nkids + 1, sizeof(*cfg->source_paths));
    if (cfg->sources == NULL || cfg->source_paths == NULL) {
        ld->oom = true;
        return;
    }
    for (size_t i = 0; i < v->nkids && !ld->oom; i++) {
        take_source(ld, v->kids[i], i + 1, cfg);
    }
    for (size_t i = 0; i < cfg->nsources; i++) {
        cfg->source_paths[i] = cfg->sources[i].path;
    }
}

/* servers: the management servers probe checks when given no TARGET,
 * each checked as a TARGET is on the command line, so that a typo is named
 * with its position here rather than at the first probe. */
static void take_servers(struct aw_yaml_check *ld, const struct aw_yaml_node *v,
                         struct aw_config *cfg)
{
    char buf[96];

    if (v->kind != AW_YAML_SEQ) {
        DIAG(ld, v->start, "key 'servers' must be a sequence, not %s", kind_name(v));
        return;
    }
    if (v->nkids > AW_CONFIG_SERVERS_MAX) {
        DIAG(ld, v->start, "key 'servers' has %zu entries, more than %d", v->nkids,
             AW_CONFIG_SERVERS_MAX);
        return;
    }
    cfg->servers = calloc(v->nkids + 1, sizeof(*cfg->servers));
    if (cfg->servers == NULL) {
        ld->oom = true;
        return;
    }
    for (size_t i = 0; i < v->nkids && !ld->oom; i++) {
        const struct aw_yaml_node *item = v->kids[i];
        struct aw_probe_target t, o;
        struct aw_err perr = { 0 };
        bool dup = false;

        if (item->bad || !want_string(ld, "servers", item)) {
            continue;
        }
        if (aw_probe_parse_target(item->val, &t, &perr) != AW_OK) {
            DIAG(ld, item->start, "server #%zu: %s", i + 1, perr.msg);
            continue;
        }
        for (size_t j = 0; j < cfg->nservers && !dup; j++) {
            dup = aw_probe_parse_target(cfg->servers[j], &o, &perr) == AW_OK &&
                  strcmp(o.host, t.host) == 0 && o.port == t.port;
        }
        if (dup) {
            DIAG(ld, item->start, "duplicate server '%s' (%s:%u)",
                 aw_yaml_show(buf, sizeof(buf), item->val, item->len), t.host, t.port);
            continue;
        }
        cfg->servers[cfg->nservers] = strdup(item->val);
        if (cfg->servers[cfg->nservers] == NULL) {
            ld->oom = true;
            return;
        }
        cfg->nservers++;
    }
}

static void load_tree(struct aw_yaml_check *ld, const struct aw_yaml_node *root, struct aw_config *cfg)
{
    struct aw_yaml_key keys[] = { { .name = "database" }, { .name = "rules" },
                                  { .name = "sources" },  { .name = "host" },
                                  { .name = "retention_days" }, { .name = "follow" },
                                  { .name = "spool" }, { .name = "timezone" },
                                  { .name = "servers" }, { .name = "local_rules" },
                                  { .name = "local_time" } };
    unsigned long n;

    if (root->bad || (root->kind == AW_YAML_SCALAR && root->null)) {
        return;
    }
    if (root->kind != AW_YAML_MAP) {
        DIAG(ld, root->start, "the configuration must be a mapping, not %s", kind_name(root));
        return;
    }
    aw_yaml_walk_map(ld, root, "",
                     "database, rules, local_rules, sources, host, retention_days, follow, spool, "
                     "timezone, local_time or servers", keys, 11);
    if (keys[0].val != NULL) {
        cfg->database = take_path(ld, "database", keys[0].val);
    }
    if (keys[1].val != NULL) {
        cfg->rules = take_path(ld, "rules", keys[1].val);
    }
    if (keys[2].val != NULL) {
        take_sources(ld, keys[2].val, cfg);
    }
    if (keys[3].val != NULL) {
        take_host(ld, keys[3].val, cfg);
    }
    if (keys[4].val != NULL &&
        take_uint(ld, "retention_days", keys[4].val, 0, AW_CONFIG_RETENTION_MAX, &n)) {
        cfg->retention_days = (int)n;
    }
    if (keys[5].val != NULL) {
        take_follow(ld, keys[5].val, cfg);
    }
    if (keys[6].val != NULL) {
        take_spool(ld, keys[6].val, cfg);
    }
    if (keys[7].val != NULL) {
        take_timezone(ld, keys[7].val, cfg);
    }
    if (keys[8].val != NULL) {
        take_servers(ld, keys[8].val, cfg);
    }
    if (keys[9].val != NULL) {
        cfg->local_rules = take_path(ld, "local_rules", keys[9].val);
    }
    if (keys[10].val != NULL) {
        take_bool(ld, "local_time", keys[10].val, &cfg->local_time);
    }
}

/* ------------------------------------------------------------------ */

static void config_init(struct aw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->retention_days = AW_RETENTION_DAYS_DEFAULT;
    cfg->probe_interval_s = AW_AUTOPROBE_INTERVAL_DEFAULT;
}

void aw_config_free(struct aw_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < cfg->nsources; i++) {
        free(cfg->sources[i].path);
    }
    free(cfg->sources);
    free(cfg->source_paths);
    for (size_t i = 0; i < cfg->nservers; i++) {
        free(cfg->servers[i]);
    }
    free(cfg->servers);
    free(cfg->file);
    free(cfg->database);
    free(cfg->rules);
    free(cfg->local_rules);
    free(cfg->host);
    free(cfg->spool_path);
    free(cfg->timezone);
    config_init(cfg);
}

/* Read the configuration, at most CONFIG_FILE_MAX bytes; AW_ENOTFOUND
 * when it does not exist. */
static int read_config_file(const char *path, unsigned char **buf, size_t *len,
                            struct aw_err *err)
{
    switch (aw_yaml_read_file(path, CONFIG_FILE_MAX, buf, len)) {
    case AW_YAML_READ_OK:
        return AW_OK;
    case AW_YAML_READ_OPEN:
        return aw_err_set(err, errno == ENOENT || errno == ENOTDIR ? AW_ENOTFOUND : AW_EIO,
                          "%s: cannot open the configuration: %s", path, strerror(errno));
    case AW_YAML_READ_NOT_FILE:
        return aw_err_set(err, AW_EIO, "%s: the configuration is not a regular file", path);
    case AW_YAML_READ_TOO_BIG:
        return aw_err_set(err, AW_EIO, "%s: the configuration is larger than %d bytes", path,
                          CONFIG_FILE_MAX);
    case AW_YAML_READ_IO:
        return aw_err_set(err, AW_EIO, "%s: cannot read the configuration: %s", path,
                          strerror(errno));
    case AW_YAML_READ_NOMEM:
    default:
        return aw_err_set(err, AW_ENOMEM, "%s: out of memory", path);
    }
}

int aw_config_load(const char *path, bool must_exist, struct aw_config *out,
                   struct aw_diags *diags, struct aw_err *err)
{
    struct aw_yaml_check ld;
    struct aw_yaml_node *root = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    config_init(out);
    memset(&ld, 0, sizeof(ld));
    rc = read_config_file(path, &buf, &len, err);
    if (rc == AW_ENOTFOUND && !must_exist) {
        aw_err_clear(err);
        return AW_OK;
    }
    if (rc != AW_OK) {
        return rc;
    }
    out->file = strdup(path);
    if (out->file == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    ld.file = path;
    rc = aw_yaml_parse(buf, len, NEST_MAX, &ld.diags, &root);
    if (rc == AW_ENOMEM) {
        ld.oom = true;
    } else if (rc == AW_OK && root != NULL) {
        load_tree(&ld, root, out);
    }
    rc = AW_OK;
    if (ld.oom) {
        rc = aw_err_set(err, AW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    aw_yaml_diags_sort(&ld.diags);
    for (size_t i = 0; i < ld.diags.count; i++) {
        const struct aw_yaml_diag *d = &ld.diags.items[i];
        if (aw_diags_add(diags, "%s:%u:%u: %s", path, d->line, d->col, d->msg) != AW_OK) {
            rc = aw_err_set(err, AW_ENOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    if (ld.diags.count > 0) {
        rc = aw_err_set(err, AW_ESYNTAX, "%s: %zu problem%s in the configuration", path,
                        ld.diags.count, ld.diags.count == 1 ? "" : "s");
    }
out:
    if (rc != AW_OK) {
        /* Half a configuration must never be used by mistake. */
        char *file = out->file;
        out->file = NULL;
        aw_config_free(out);
        out->file = file;
    }
    aw_yaml_diags_free(&ld.diags);
    aw_yaml_free(root);
    free(buf);
    return rc;
}
