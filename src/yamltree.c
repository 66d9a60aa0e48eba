/*
 * The YAML node tree (see yamltree.h).
 */
#include "agentwatch/yamltree.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/grow.h"
#include "agentwatch/platform.h"

/* ------------------------------------------------------------------ */
/* Positioned diagnostics                                               */

int aw_yaml_diag_vadd(struct aw_yaml_diags *d, unsigned line, unsigned col, const char *fmt,
                      va_list ap)
{
    char msg[1024];
    struct aw_yaml_diag *item;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (AW_GROW(d->items, d->cap, d->count + 1, 16) != AW_OK) {
        return AW_ENOMEM;
    }
    item = &d->items[d->count];
    item->msg = strdup(msg);
    if (item->msg == NULL) {
        return AW_ENOMEM;
    }
    item->line = line;
    item->col = col;
    item->seq = d->count;
    d->count++;
    return AW_OK;
}

int aw_yaml_diag_add(struct aw_yaml_diags *d, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = aw_yaml_diag_vadd(d, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

static int cmp_diag(const void *a, const void *b)
{
    const struct aw_yaml_diag *x = a, *y = b;

    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    if (x->col != y->col) {
        return x->col < y->col ? -1 : 1;
    }
    return (x->seq > y->seq) - (x->seq < y->seq);
}

void aw_yaml_diags_sort(struct aw_yaml_diags *d)
{
    if (d->count > 1) {
        qsort(d->items, d->count, sizeof(*d->items), cmp_diag);
    }
}

void aw_yaml_diags_free(struct aw_yaml_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].msg);
    }
    free(d->items);
    d->items = NULL;
    d->count = 0;
    d->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */

const char *aw_yaml_show(char *out, size_t cap, const char *s, size_t len)
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

const char *aw_yaml_kind_name(const struct aw_yaml_node *n)
{
    switch (n->kind) {
    case AW_YAML_SEQ: return "a sequence";
    case AW_YAML_MAP: return "a mapping";
    default: return n->null ? "null" : "a string";
    }
}

/* ------------------------------------------------------------------ */
/* The tree                                                             */

void aw_yaml_free(struct aw_yaml_node *n)
{
    if (n == NULL) {
        return;
    }
    for (size_t i = 0; i < n->nkids; i++) {
        aw_yaml_free(n->kids[i]);
    }
    free(n->kids);
    free(n->val);
    free(n);
}

static int node_add(struct aw_yaml_node *parent, struct aw_yaml_node *kid)
{
    if (AW_GROW(parent->kids, parent->cap, parent->nkids + 1, 8) != AW_OK) {
        return AW_ENOMEM;
    }
    parent->kids[parent->nkids++] = kid;
    return AW_OK;
}

static struct aw_yaml_node *node_new(enum aw_yaml_kind kind, const yaml_event_t *ev)
{
    struct aw_yaml_node *n = calloc(1, sizeof(*n));

    if (n != NULL) {
        n->kind = kind;
        n->start = ev->start_mark;
        n->end = ev->end_mark;
    }
    return n;
}

static bool is_null_plain(const char *v, size_t len)
{
    return len == 0 || (len == 1 && v[0] == '~') ||
           (len == 4 && (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
                         memcmp(v, "NULL", 4) == 0));
}

static struct aw_yaml_node *scalar_new(const yaml_event_t *ev)
{
    struct aw_yaml_node *n = node_new(AW_YAML_SCALAR, ev);

    if (n == NULL) {
        return NULL;
    }
    n->style = ev->data.scalar.style;
    n->len = ev->data.scalar.length;
    n->val = malloc(n->len + 1);
    if (n->val == NULL) {
        free(n);
        return NULL;
    }
    memcpy(n->val, ev->data.scalar.value, n->len);
    n->val[n->len] = '\0';
    n->plain = n->style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.tag == NULL;
    n->null = n->plain && is_null_plain(n->val, n->len);
    return n;
}

#define DIAG(d, mark, ...) \
    aw_yaml_diag_add((d), (unsigned)(mark).line + 1, (unsigned)(mark).column + 1, __VA_ARGS__)

/* Report the parser's error.  AW_OK or AW_ENOMEM. */
static int syntax_diag(const yaml_parser_t *p, const unsigned char *buf, size_t len,
                       struct aw_yaml_diags *diags)
{
    const char *problem = p->problem != NULL ? p->problem : "unknown error";
    char extra[160] = "";
    int rc;

    if (p->error == YAML_MEMORY_ERROR) {
        return AW_ENOMEM;
    }
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (buf[i] == '\n') {
                line++;
                col = 1;
            } else if ((buf[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        rc = aw_yaml_diag_add(diags, line, col, "YAML syntax error: %s (byte offset %zu)", problem,
                              p->problem_offset);
    } else {
        if (p->context != NULL) {
            snprintf(extra, sizeof(extra), " (%s started at line %u, column %u)", p->context,
                     (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
        }
        rc = DIAG(diags, p->problem_mark, "YAML syntax error: %s%s", problem, extra);
    }
    return rc;
}

/* The tree under construction. */
struct builder {
    struct aw_yaml_diags *diags;
    unsigned max_depth;
    struct aw_yaml_node **stack;      /* the open collections */
    size_t depth;
    struct aw_yaml_node *top;
    int docs;
    bool fatal, done;
};

/* Attach n to the innermost open collection (or make it the root); a
 * collection becomes the innermost open one.  On failure n is freed. */
static int attach(struct builder *b, struct aw_yaml_node *n)
{
    if (b->depth == 0) {
        aw_yaml_free(b->top);
        b->top = n;
    } else if (node_add(b->stack[b->depth - 1], n) != AW_OK) {
        aw_yaml_free(n);
        return AW_ENOMEM;
    }
    if (n->kind != AW_YAML_SCALAR) {
        b->stack[b->depth++] = n;
    }
    return AW_OK;
}

/* A collection's start: its node, unless it nests too deep. */
static int on_collection(struct builder *b, const yaml_event_t *ev, struct aw_yaml_node **n,
                         const char **anchor, const char **tag)
{
    if (ev->type == YAML_SEQUENCE_START_EVENT) {
        *anchor = (const char *)ev->data.sequence_start.anchor;
        *tag = (const char *)ev->data.sequence_start.tag;
    } else {
        *anchor = (const char *)ev->data.mapping_start.anchor;
        *tag = (const char *)ev->data.mapping_start.tag;
    }
    if (b->depth == b->max_depth) {
        b->fatal = true;
        return DIAG(b->diags, ev->start_mark, "YAML nesting deeper than %u levels", b->max_depth);
    }
    *n = node_new(ev->type == YAML_SEQUENCE_START_EVENT ? AW_YAML_SEQ : AW_YAML_MAP, ev);
    return *n == NULL ? AW_ENOMEM : AW_OK;
}

/* One parser event: the node it makes (*n, or NULL) and the anchor and
 * tag it carries. */
static int on_event(struct builder *b, const yaml_event_t *ev, struct aw_yaml_node **n,
                    const char **anchor, const char **tag)
{
    char shown[80];
    int rc;

    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        b->done = true;
        return AW_OK;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1) {
            b->fatal = true;
            return DIAG(b->diags, ev->start_mark, "multiple YAML documents in one file are not supported");
        }
        return AW_OK;
    case YAML_ALIAS_EVENT: {
        const char *a = (const char *)ev->data.alias.anchor;
        rc = DIAG(b->diags, ev->start_mark, "YAML aliases are not supported (alias '*%s')",
                  aw_yaml_show(shown, sizeof(shown), a, strlen(a)));
        *n = node_new(AW_YAML_SCALAR, ev);
        if (*n == NULL) {
            return rc == AW_OK ? AW_ENOMEM : rc;
        }
        (*n)->bad = true;
        return rc;
    }
    case YAML_SCALAR_EVENT:
        *anchor = (const char *)ev->data.scalar.anchor;
        *tag = (const char *)ev->data.scalar.tag;
        *n = scalar_new(ev);
        return *n == NULL ? AW_ENOMEM : AW_OK;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        return on_collection(b, ev, n, anchor, tag);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0) {
            b->stack[b->depth - 1]->end = ev->end_mark;
            b->depth--;
        }
        return AW_OK;
    default:
        return AW_OK;
    }
}

int aw_yaml_parse(const unsigned char *buf, size_t len, unsigned max_depth,
                  struct aw_yaml_diags *diags, struct aw_yaml_node **root)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct builder b = { .diags = diags, .max_depth = max_depth };
    int rc = AW_OK;

    *root = NULL;
    b.stack = calloc(max_depth > 0 ? max_depth : 1, sizeof(*b.stack));
    if (b.stack == NULL) {
        return AW_ENOMEM;
    }
    if (!yaml_parser_initialize(&parser)) {
        free(b.stack);
        return AW_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, buf, len);
    while (!b.done && !b.fatal && rc == AW_OK) {
        struct aw_yaml_node *n = NULL;
        const char *anchor = NULL, *tag = NULL;
        char shown[80];

        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_diag(&parser, buf, len, diags);
            b.fatal = true;
            break;
        }
        rc = on_event(&b, &ev, &n, &anchor, &tag);
        if (rc == AW_OK && anchor != NULL) {
            rc = DIAG(diags, ev.start_mark, "YAML anchors are not supported (anchor '&%s')",
                      aw_yaml_show(shown, sizeof(shown), anchor, strlen(anchor)));
        }
        if (rc == AW_OK && tag != NULL) {
            rc = DIAG(diags, ev.start_mark, "YAML tags are not supported (tag '%s')",
                      aw_yaml_show(shown, sizeof(shown), tag, strlen(tag)));
        }
        if (n != NULL && attach(&b, n) != AW_OK) {
            rc = AW_ENOMEM;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    free(b.stack);
    if (rc == AW_OK && b.fatal) {
        rc = AW_ESYNTAX;
    }
    if (rc != AW_OK) {
        aw_yaml_free(b.top);
        return rc;
    }
    *root = b.top;
    return AW_OK;
}

enum aw_yaml_read aw_yaml_read_file(const char *path, size_t max, unsigned char **buf,
                                    size_t *len)
{
    enum aw_yaml_read rc = AW_YAML_READ_OK;
    struct aw_os_stat st;
    unsigned char *b = NULL;
    size_t n = 0;
    int fd, saved;

    *buf = NULL;
    *len = 0;
    fd = aw_os_open_read(path);
    if (fd < 0) {
        return AW_YAML_READ_OPEN;
    }
    if (aw_os_fstat(fd, &st) != 0 || !st.is_reg) {
        rc = AW_YAML_READ_NOT_FILE;
        goto out;
    }
    if (st.size > max) {
        rc = AW_YAML_READ_TOO_BIG;
        goto out;
    }
    /* One byte more than allowed tells a file that grew meanwhile. */
    b = malloc(max + 1);
    if (b == NULL) {
        rc = AW_YAML_READ_NOMEM;
        goto out;
    }
    while (n < max + 1) {
        ssize_t got = aw_os_read(fd, b + n, max + 1 - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            rc = AW_YAML_READ_IO;
            goto out;
        }
        if (got == 0) {
            break;
        }
        n += (size_t)got;
    }
    if (n > max) {
        rc = AW_YAML_READ_TOO_BIG;
        goto out;
    }
    *buf = b;
    *len = n;
    b = NULL;
out:
    saved = errno;
    free(b);
    aw_os_close(fd);
    errno = saved;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Positions inside scalars                                             */

/* Byte offset of (line, column) marks in the file, or SIZE_MAX.  Line
 * breaks as libyaml counts them; columns are characters. */
static size_t mark_offset(const unsigned char *b, size_t n, const yaml_mark_t *mk)
{
    size_t i = 0, line = 0;

    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        i = 3;
    }
    while (line < mk->line && i < n) {
        if (b[i] == '\r') {
            i += (i + 1 < n && b[i + 1] == '\n') ? 2 : 1;
            line++;
        } else if (b[i] == '\n') {
            i++;
            line++;
        } else if (b[i] == 0xC2 && i + 1 < n && b[i + 1] == 0x85) {
            i += 2;
            line++;
        } else if (b[i] == 0xE2 && i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9)) {
            i += 3;
            line++;
        } else {
            i++;
        }
    }
    if (line != mk->line) {
        return SIZE_MAX;
    }
    for (size_t c = 0; c < mk->column; c++) {
        if (i >= n) {
            return SIZE_MAX;
        }
        i++;
        while (i < n && (b[i] & 0xC0) == 0x80) {
            i++;
        }
    }
    return i;
}

unsigned aw_yaml_scalar_column(const unsigned char *buf, size_t buflen, const struct aw_yaml_node *v,
                               size_t off)
{
    unsigned col = (unsigned)v->start.column + 1;
    size_t pos, q;
    char quote = 0;

    if (v->start.line != v->end.line) {
        return col;
    }
    switch (v->style) {
    case YAML_PLAIN_SCALAR_STYLE: q = 0; break;
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: q = 1; quote = '\''; break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: q = 1; quote = '"'; break;
    default: return col;
    }
    pos = mark_offset(buf, buflen, &v->start);
    if (pos == SIZE_MAX || pos + q + v->len + q > buflen ||
        memcmp(buf + pos + q, v->val, v->len) != 0) {
        return col;
    }
    if (quote != 0 && (buf[pos] != (unsigned char)quote || buf[pos + 1 + v->len] != (unsigned char)quote)) {
        return col;
    }
    col += (unsigned)q;
    for (size_t i = 0; i < off && i < v->len; i++) {
        if (((unsigned char)v->val[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    return col;
}

/* ------------------------------------------------------------------ */
/* Schema checks                                                        */

void aw_yaml_check_diag(struct aw_yaml_check *c, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (aw_yaml_diag_vadd(&c->diags, line, col, fmt, ap) != AW_OK) {
        c->oom = true;
    }
    va_end(ap);
}

static const char *want_name(enum aw_yaml_want w)
{
    return w == AW_YAML_STRING ? "a string" : w == AW_YAML_SEQUENCE ? "a sequence" : "a mapping";
}

/* Is v usable as a value of spec?  Reports why not. */
static bool value_ok(struct aw_yaml_check *c, const struct aw_yaml_key *spec, const struct aw_yaml_node *v)
{
    bool ok;

    switch (spec->want) {
    case AW_YAML_ANY:
        return !(v->kind == AW_YAML_SCALAR && v->null);
    case AW_YAML_STRING:
        ok = v->kind == AW_YAML_SCALAR && !v->null;
        break;
    case AW_YAML_SEQUENCE:
        ok = v->kind == AW_YAML_SEQ;
        break;
    default:
        ok = v->kind == AW_YAML_MAP;
        break;
    }
    if (!ok) {
        AW_YAML_DIAG(c, v->start, "key '%s' must be %s, not %s", spec->name, want_name(spec->want),
                     aw_yaml_kind_name(v));
        return false;
    }
    if (spec->want == AW_YAML_STRING && memchr(v->val, '\0', v->len) != NULL) {
        AW_YAML_DIAG(c, v->start, "key '%s' must not contain NUL bytes", spec->name);
        return false;
    }
    return true;
}

void aw_yaml_walk_map(struct aw_yaml_check *c, const struct aw_yaml_node *map, const char *where,
                      const char *expected, struct aw_yaml_key *keys, size_t nkeys)
{
    char buf[96];

    for (size_t i = 0; i + 1 < map->nkids; i += 2) {
        const struct aw_yaml_node *k = map->kids[i], *v = map->kids[i + 1];
        struct aw_yaml_key *spec = NULL;

        if (k->bad) {
            continue;
        }
        if (k->kind != AW_YAML_SCALAR || k->null) {
            AW_YAML_DIAG(c, k->start, "mapping keys must be strings, not %s", aw_yaml_kind_name(k));
            continue;
        }
        for (size_t s = 0; s < nkeys && spec == NULL; s++) {
            if (strlen(keys[s].name) == k->len && memcmp(keys[s].name, k->val, k->len) == 0) {
                spec = &keys[s];
            }
        }
        if (spec == NULL) {
            AW_YAML_DIAG(c, k->start, "unknown key '%s'%s%s%s%s", aw_yaml_show(buf, sizeof(buf), k->val, k->len),
                         where, expected != NULL ? " (expected " : "", expected != NULL ? expected : "",
                         expected != NULL ? ")" : "");
            continue;
        }
        if (spec->key != NULL) {
            AW_YAML_DIAG(c, k->start, "duplicate key '%s' (first defined at %s:%u:%u)", spec->name, c->file,
                         (unsigned)spec->key->start.line + 1, (unsigned)spec->key->start.column + 1);
            continue;
        }
        spec->key = k;
        if (!v->bad && value_ok(c, spec, v)) {
            spec->val = v;
        }
    }
}
