/*
 * The configuration file (see config.h; documented in README.md and
 * agentwatch(1)).
 *
 * Like the rule loader, the file is read whole (at most 1 MiB) and turned
 * into a small node tree from libyaml's event stream so that every key
 * and value keeps its position, then validated key by key; every problem
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
#include "agentwatch/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "agentwatch/retention.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define NEST_MAX 16                 /* the schema needs 4 */

/* ------------------------------------------------------------------ */
/* YAML node tree                                                       */

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };

struct node {
    enum node_kind kind;
    bool bad;                 /* alias placeholder, already reported */
    bool null;                /* plain "", "~", "null" */
    bool plain;
    yaml_mark_t start;
    char *val;
    size_t len;
    struct node **kids;       /* map: key, value, key, value, ... */
    size_t nkids, cap;
};

struct diagpos {
    unsigned line, col;
    size_t seq;
    char *msg;
};

struct loader {
    const char *file;
    const unsigned char *buf;
    size_t buflen;
    struct diagpos *d;
    size_t nd, dcap;
    bool oom;
};

static void node_free(struct node *n)
{
    if (n == NULL) {
        return;
    }
    for (size_t i = 0; i < n->nkids; i++) {
        node_free(n->kids[i]);
    }
    free(n->kids);
    free(n->val);
    free(n);
}

static int node_add(struct node *parent, struct node *kid)
{
    if (parent->nkids == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        struct node **k = realloc(parent->kids, cap * sizeof(*k));
        if (k == NULL) {
            return AW_ENOMEM;
        }
        parent->kids = k;
        parent->cap = cap;
    }
    parent->kids[parent->nkids++] = kid;
    return AW_OK;
}

static void diag_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...)
    AW_PRINTF(4, 5);

static void diag_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ld->nd == ld->dcap) {
        size_t cap = ld->dcap ? ld->dcap * 2 : 16;
        struct diagpos *g = realloc(ld->d, cap * sizeof(*g));
        if (g == NULL) {
            ld->oom = true;
            return;
        }
        ld->d = g;
        ld->dcap = cap;
    }
    ld->d[ld->nd].msg = strdup(msg);
    if (ld->d[ld->nd].msg == NULL) {
        ld->oom = true;
        return;
    }
    ld->d[ld->nd].line = line;
    ld->d[ld->nd].col = col;
    ld->d[ld->nd].seq = ld->nd;
    ld->nd++;
}

#define DIAG(ld, mark, ...) \
    diag_at((ld), (unsigned)(mark).line + 1, (unsigned)(mark).column + 1, __VA_ARGS__)

static int cmp_diagpos(const void *a, const void *b)
{
    const struct diagpos *x = a, *y = b;

    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    if (x->col != y->col) {
        return x->col < y->col ? -1 : 1;
    }
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* A user value made safe for a one-line message. */
static const char *show(char *out, size_t cap, const char *s, size_t len)
{
    size_t max = cap - 4, o = 0;

    for (size_t i = 0; i < len && o < max; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (len > max) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static const char *kind_name(const struct node *n)
{
    switch (n->kind) {
    case NODE_SEQ: return "a sequence";
    case NODE_MAP: return "a mapping";
    default: return n->null ? "null" : n->plain ? "a string" : "a quoted string";
    }
}

static bool is_null_plain(const char *v, size_t len)
{
    return len == 0 || (len == 1 && v[0] == '~') ||
           (len == 4 && (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
                         memcmp(v, "NULL", 4) == 0));
}

static struct node *node_new(struct loader *ld, enum node_kind kind, const yaml_event_t *ev)
{
    struct node *n = calloc(1, sizeof(*n));

    if (n == NULL) {
        ld->oom = true;
        return NULL;
    }
    n->kind = kind;
    n->start = ev->start_mark;
    return n;
}

static void yaml_syntax_diag(struct loader *ld, const yaml_parser_t *p)
{
    const char *problem = p->problem != NULL ? p->problem : "unknown error";
    char extra[160] = "";

    if (p->error == YAML_MEMORY_ERROR) {
        ld->oom = true;
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < ld->buflen; i++) {
            if (ld->buf[i] == '\n') {
                line++;
                col = 1;
            } else if ((ld->buf[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        diag_at(ld, line, col, "YAML syntax error: %s (byte offset %zu)", problem,
                p->problem_offset);
        return;
    }
    if (p->context != NULL) {
        snprintf(extra, sizeof(extra), " (%s started at line %u, column %u)", p->context,
                 (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
    }
    DIAG(ld, p->problem_mark, "YAML syntax error: %s%s", problem, extra);
}

/* The single document as a tree: NULL for an empty file, or with *fatal
 * set after a problem that leaves no tree to validate. */
static struct node *parse_yaml(struct loader *ld, bool *fatal)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct node *stack[NEST_MAX];
    size_t depth = 0;
    struct node *root = NULL;
    int docs = 0;
    bool done = false;

    *fatal = false;
    if (!yaml_parser_initialize(&parser)) {
        ld->oom = true;
        *fatal = true;
        return NULL;
    }
    yaml_parser_set_input_string(&parser, ld->buf, ld->buflen);
    while (!done && !ld->oom) {
        struct node *n = NULL;
        const char *anchor = NULL, *tag = NULL;
        char buf[80];

        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_syntax_diag(ld, &parser);
            *fatal = true;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                DIAG(ld, ev.start_mark, "multiple YAML documents in one file are not supported");
                *fatal = true;
                done = true;
            }
            break;
        case YAML_ALIAS_EVENT: {
            const char *a = (const char *)ev.data.alias.anchor;
            DIAG(ld, ev.start_mark, "YAML aliases are not supported (alias '*%s')",
                 show(buf, sizeof(buf), a, strlen(a)));
            n = node_new(ld, NODE_SCALAR, &ev);
            if (n != NULL) {
                n->bad = true;
            }
            break;
        }
        case YAML_SCALAR_EVENT:
            anchor = (const char *)ev.data.scalar.anchor;
            tag = (const char *)ev.data.scalar.tag;
            n = node_new(ld, NODE_SCALAR, &ev);
            if (n == NULL) {
                break;
            }
            n->len = ev.data.scalar.length;
            n->val = malloc(n->len + 1);
            if (n->val == NULL) {
                ld->oom = true;
                free(n);
                n = NULL;
                break;
            }
            memcpy(n->val, ev.data.scalar.value, n->len);
            n->val[n->len] = '\0';
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == NULL;
            n->null = n->plain && is_null_plain(n->val, n->len);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (ev.type == YAML_SEQUENCE_START_EVENT) {
                anchor = (const char *)ev.data.sequence_start.anchor;
                tag = (const char *)ev.data.sequence_start.tag;
            } else {
                anchor = (const char *)ev.data.mapping_start.anchor;
                tag = (const char *)ev.data.mapping_start.tag;
            }
            if (depth == NEST_MAX) {
                DIAG(ld, ev.start_mark, "YAML nesting deeper than %d levels", NEST_MAX);
                *fatal = true;
                done = true;
                break;
            }
            n = node_new(ld, ev.type == YAML_SEQUENCE_START_EVENT ? NODE_SEQ : NODE_MAP, &ev);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) {
                depth--;
            }
            break;
        default:
            break;
        }
        if (anchor != NULL) {
            DIAG(ld, ev.start_mark, "YAML anchors are not supported (anchor '&%s')",
                 show(buf, sizeof(buf), anchor, strlen(anchor)));
        }
        if (tag != NULL) {
            DIAG(ld, ev.start_mark, "YAML tags are not supported (tag '%s')",
                 show(buf, sizeof(buf), tag, strlen(tag)));
        }
        if (n != NULL) {
            if (depth == 0) {
                node_free(root);
                root = n;
            } else if (node_add(stack[depth - 1], n) != AW_OK) {
                ld->oom = true;
                node_free(n);
                n = NULL;
            }
            if (n != NULL && n->kind != NODE_SCALAR) {
                stack[depth++] = n;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (*fatal || ld->oom) {
        node_free(root);
        *fatal = true;
        return NULL;
    }
    return root;
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */

struct keyspec {
    const char *name;
    const struct node *key;   /* first occurrence */
    const struct node *val;   /* NULL when absent, null or already reported */
};

/* Match the keys of map against keys[]; report unknown, duplicate and
 * non-string keys.  where names the mapping ("" at the top level),
 * expected lists the valid keys for the message. */
static void walk_map(struct loader *ld, const struct node *map, const char *where,
                     const char *expected, struct keyspec *keys, size_t nkeys)
{
    char buf[96];

    for (size_t i = 0; i + 1 < map->nkids; i += 2) {
        const struct node *k = map->kids[i], *v = map->kids[i + 1];
        struct keyspec *spec = NULL;

        if (k->bad) {
            continue;
        }
        if (k->kind != NODE_SCALAR || k->null) {
            DIAG(ld, k->start, "mapping keys must be strings, not %s", kind_name(k));
            continue;
        }
        for (size_t s = 0; s < nkeys; s++) {
            if (strlen(keys[s].name) == k->len && memcmp(keys[s].name, k->val, k->len) == 0) {
                spec = &keys[s];
                break;
            }
        }
        if (spec == NULL) {
            DIAG(ld, k->start, "unknown key '%s'%s (expected %s)",
                 show(buf, sizeof(buf), k->val, k->len), where, expected);
            continue;
        }
        if (spec->key != NULL) {
            DIAG(ld, k->start, "duplicate key '%s' (first defined at %s:%u:%u)", spec->name,
                 ld->file, (unsigned)spec->key->start.line + 1,
                 (unsigned)spec->key->start.column + 1);
            continue;
        }
        spec->key = k;
        if (!v->bad && !(v->kind == NODE_SCALAR && v->null)) {
            spec->val = v;
        }
    }
}

/* A string value: a scalar without NUL bytes. */
static bool want_string(struct loader *ld, const char *name, const struct node *v)
{
    if (v->kind != NODE_SCALAR) {
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
static char *take_path(struct loader *ld, const char *name, const struct node *v)
{
    char buf[96];
    char *copy;

    if (!want_string(ld, name, v)) {
        return NULL;
    }
    if (!aw_path_is_absolute(v->val)) {
        DIAG(ld, v->start, "key '%s' must be an absolute path, not '%s'", name,
             show(buf, sizeof(buf), v->val, v->len));
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
static bool take_uint(struct loader *ld, const char *name, const struct node *v, unsigned long min,
                      unsigned long max, unsigned long *out)
{
    char buf[96];
    unsigned long long n = 0;
    bool ok;

    if (v->kind != NODE_SCALAR || !v->plain) {
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
             show(buf, sizeof(buf), v->val, v->len));
        return false;
    }
    *out = (unsigned long)n;
    return true;
}

static void take_host(struct loader *ld, const struct node *v, struct aw_config *cfg)
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

static void take_follow(struct loader *ld, const struct node *v, struct aw_config *cfg)
{
    struct keyspec keys[] = { { "commit_ms", NULL, NULL }, { "rescan_seconds", NULL, NULL },
                              { "poll_interval_ms", NULL, NULL } };
    unsigned long n;

    if (v->kind != NODE_MAP) {
        DIAG(ld, v->start, "key 'follow' must be a mapping, not %s", kind_name(v));
        return;
    }
    walk_map(ld, v, " in follow", "commit_ms, rescan_seconds or poll_interval_ms", keys, 3);
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
}

/* One item of sources: a path, or {path, format}.  Appends to cfg. */
static void take_source(struct loader *ld, const struct node *item, size_t index,
                        struct aw_config *cfg)
{
    char where[48], buf[96];
    const struct node *path_node = item;
    enum aw_format format = AW_FORMAT_AUTO;
    struct aw_config_source *src;
    char *path;

    if (item->bad) {
        return;
    }
    if (item->kind == NODE_MAP) {
        struct keyspec keys[] = { { "path", NULL, NULL }, { "format", NULL, NULL } };

        snprintf(where, sizeof(where), " in source #%zu", index);
        walk_map(ld, item, where, "path or format", keys, 2);
        if (keys[1].val != NULL && want_string(ld, "format", keys[1].val) &&
            aw_format_from_name(keys[1].val->val, &format) != AW_OK) {
            DIAG(ld, keys[1].val->start,
                 "key 'format' must be auto, itms, cmtrace or line, not '%s'",
                 show(buf, sizeof(buf), keys[1].val->val, keys[1].val->len));
        }
        if (keys[0].val == NULL) {
            if (keys[0].key == NULL || !keys[0].key->bad) {
                DIAG(ld, item->start, "source #%zu has no 'path'", index);
            }
            return;
        }
        path_node = keys[0].val;
    } else if (item->kind != NODE_SCALAR || item->null) {
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
                 show(buf, sizeof(buf), path, strlen(path)), ld->file, cfg->sources[i].line,
                 cfg->sources[i].column);
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

static void take_sources(struct loader *ld, const struct node *v, struct aw_config *cfg)
{
    if (v->kind != NODE_SEQ) {
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

static void load_tree(struct loader *ld, const struct node *root, struct aw_config *cfg)
{
    struct keyspec keys[] = { { "database", NULL, NULL }, { "rules", NULL, NULL },
                              { "sources", NULL, NULL },  { "host", NULL, NULL },
                              { "retention_days", NULL, NULL }, { "follow", NULL, NULL } };
    unsigned long n;

    if (root->bad || (root->kind == NODE_SCALAR && root->null)) {
        return;
    }
    if (root->kind != NODE_MAP) {
        DIAG(ld, root->start, "the configuration must be a mapping, not %s", kind_name(root));
        return;
    }
    walk_map(ld, root, "",
             "database, rules, sources, host, retention_days or follow", keys, 6);
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
}

/* ------------------------------------------------------------------ */

static void config_init(struct aw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->retention_days = AW_RETENTION_DAYS_DEFAULT;
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
    free(cfg->file);
    free(cfg->database);
    free(cfg->rules);
    free(cfg->host);
    config_init(cfg);
}

/* Read a regular file of at most CONFIG_FILE_MAX bytes.  *missing is set
 * (and AW_ENOTFOUND returned) when it does not exist. */
static int read_config_file(const char *path, unsigned char **buf, size_t *len,
                            struct aw_err *err)
{
    int fd = -1, rc = AW_OK;
    struct stat st;
    unsigned char *b = NULL;
    size_t n = 0;

    *buf = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = aw_err_set(err, errno == ENOENT || errno == ENOTDIR ? AW_ENOTFOUND : AW_EIO,
                        "%s: cannot open the configuration: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = aw_err_set(err, AW_EIO, "%s: the configuration is not a regular file", path);
        goto out;
    }
    if (st.st_size > CONFIG_FILE_MAX) {
        rc = aw_err_set(err, AW_EIO, "%s: the configuration is larger than %d bytes", path,
                        CONFIG_FILE_MAX);
        goto out;
    }
    b = malloc(CONFIG_FILE_MAX + 1);
    if (b == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    while (n < CONFIG_FILE_MAX + 1) {
        ssize_t got = read(fd, b + n, CONFIG_FILE_MAX + 1 - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            rc = aw_err_set(err, AW_EIO, "%s: cannot read the configuration: %s", path,
                            strerror(errno));
            goto out;
        }
        if (got == 0) {
            break;
        }
        n += (size_t)got;
    }
    if (n > CONFIG_FILE_MAX) {
        rc = aw_err_set(err, AW_EIO, "%s: the configuration is larger than %d bytes", path,
                        CONFIG_FILE_MAX);
        goto out;
    }
    *buf = b;
    *len = n;
    b = NULL;
out:
    free(b);
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

int aw_config_load(const char *path, bool must_exist, struct aw_config *out,
                   struct aw_diags *diags, struct aw_err *err)
{
    struct loader ld;
    struct node *root = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    bool fatal;
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
    ld.buf = buf;
    ld.buflen = len;
    root = parse_yaml(&ld, &fatal);
    if (root != NULL && !fatal) {
        load_tree(&ld, root, out);
    }
    if (ld.oom) {
        rc = aw_err_set(err, AW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if (ld.nd > 1) {
        qsort(ld.d, ld.nd, sizeof(*ld.d), cmp_diagpos);
    }
    for (size_t i = 0; i < ld.nd; i++) {
        if (aw_diags_add(diags, "%s:%u:%u: %s", path, ld.d[i].line, ld.d[i].col,
                         ld.d[i].msg) != AW_OK) {
            rc = aw_err_set(err, AW_ENOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    if (ld.nd > 0) {
        rc = aw_err_set(err, AW_ESYNTAX, "%s: %zu problem%s in the configuration", path, ld.nd,
                        ld.nd == 1 ? "" : "s");
    }
out:
    if (rc != AW_OK) {
        /* Half a configuration must never be used by mistake. */
        char *file = out->file;
        out->file = NULL;
        aw_config_free(out);
        out->file = file;
    }
    for (size_t i = 0; i < ld.nd; i++) {
        free(ld.d[i].msg);
    }
    free(ld.d);
    node_free(root);
    free(buf);
    return rc;
}
