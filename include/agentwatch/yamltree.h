/*
 * A YAML document as a small node tree, shared by the rule loader and the
 * configuration loader.
 *
 * The tree is built from libyaml's event stream rather than its document
 * API so that every key and value keeps its position (marks) for the
 * loaders' messages.  The files it serves are plain data, where what you
 * read is what is used: anchors, aliases and tags are reported (an alias
 * becomes a placeholder marked bad), and a syntax error, a second
 * document or nesting deeper than the caller's limit ends the parse with
 * no tree.  No YAML 1.1 type guessing: every scalar is a string, and only
 * a plain, untagged "", "~", "null", "Null" or "NULL" is null.
 *
 * Problems are collected with their positions in a struct aw_yaml_diags,
 * to which a loader adds its own while it validates the tree, then sorts
 * them so that a user reads them top to bottom.
 */
#ifndef AGENTWATCH_YAMLTREE_H
#define AGENTWATCH_YAMLTREE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "agentwatch/err.h"

enum aw_yaml_kind { AW_YAML_SCALAR, AW_YAML_SEQ, AW_YAML_MAP };

struct aw_yaml_node {
    enum aw_yaml_kind kind;
    bool bad;                     /* alias placeholder, already reported */
    bool null;                    /* plain, untagged "", "~", "null", ... */
    bool plain;                   /* scalar in plain style without a tag */
    yaml_scalar_style_t style;    /* scalars only */
    yaml_mark_t start, end;       /* 0-based line and column, as libyaml's */
    char *val;                    /* scalars: len bytes, NUL-terminated */
    size_t len;
    struct aw_yaml_node **kids;   /* sequence items; map: key, value, ... */
    size_t nkids, cap;
};

/* One problem at a 1-based line and column. */
struct aw_yaml_diag {
    unsigned line, col;
    size_t seq;                   /* order of arrival: sorting stays stable */
    char *msg;
};

/* Zero-initialise before use; release with aw_yaml_diags_free(). */
struct aw_yaml_diags {
    struct aw_yaml_diag *items;
    size_t count, cap;
};

/* Append a formatted message (cut at 1023 bytes).  AW_OK or AW_ENOMEM. */
int aw_yaml_diag_add(struct aw_yaml_diags *d, unsigned line, unsigned col, const char *fmt, ...)
    AW_PRINTF(4, 5);
int aw_yaml_diag_vadd(struct aw_yaml_diags *d, unsigned line, unsigned col, const char *fmt,
                      va_list ap) AW_PRINTF(4, 0);

/* Sort by line, then column, then order of arrival. */
void aw_yaml_diags_sort(struct aw_yaml_diags *d);

/* Free every message and reset the list to empty. */
void aw_yaml_diags_free(struct aw_yaml_diags *d);

/* A file being validated against its schema: where messages point and
 * what they collect.  Zero-initialise, set file; the loader adds its own
 * problems with aw_yaml_check_diag() or AW_YAML_DIAG() and owns diags. */
struct aw_yaml_check {
    const char *file;             /* for "first defined at FILE:..." */
    struct aw_yaml_diags diags;
    bool oom;                     /* a message could not be stored */
};

/* A problem at a 1-based line and column. */
void aw_yaml_check_diag(struct aw_yaml_check *c, unsigned line, unsigned col, const char *fmt, ...)
    AW_PRINTF(4, 5);

/* A problem at a node's mark. */
#define AW_YAML_DIAG(c, mark, ...) \
    aw_yaml_check_diag((c), (unsigned)(mark).line + 1, (unsigned)(mark).column + 1, __VA_ARGS__)

/* What a key's value must be. */
enum aw_yaml_want {
    AW_YAML_ANY = 0,              /* anything but null: the loader checks it */
    AW_YAML_STRING,               /* a non-null scalar without NUL bytes */
    AW_YAML_SEQUENCE,
    AW_YAML_MAPPING
};

/* One key of a mapping's schema, filled by aw_yaml_walk_map(). */
struct aw_yaml_key {
    const char *name;
    enum aw_yaml_want want;
    const struct aw_yaml_node *key;   /* its first occurrence, or NULL */
    const struct aw_yaml_node *val;   /* its value when usable: present, no
                                       * alias, as wanted; else NULL */
};

/* Match the keys of map against keys[0..nkeys) and report, at their
 * positions: keys that are not strings, unknown keys ("unknown key 'K'"
 * + where, then " (expected " + expected + ")" unless expected is NULL),
 * duplicates, and values that are not what the key wants.  A null value
 * of an AW_YAML_ANY key is silently unusable ("not set"). */
void aw_yaml_walk_map(struct aw_yaml_check *c, const struct aw_yaml_node *map, const char *where,
                      const char *expected, struct aw_yaml_key *keys, size_t nkeys);

/* How aw_yaml_read_file() ended. */
enum aw_yaml_read {
    AW_YAML_READ_OK = 0,
    AW_YAML_READ_OPEN,        /* cannot open: errno says why */
    AW_YAML_READ_NOT_FILE,    /* not a regular file */
    AW_YAML_READ_TOO_BIG,     /* more than max bytes */
    AW_YAML_READ_IO,          /* cannot read: errno says why */
    AW_YAML_READ_NOMEM
};

/* Read the file at path, at most max bytes, into *buf (the caller frees
 * it; *len bytes) through the platform layer, so that a path is UTF-8 on
 * every system.  The loaders word the messages. */
enum aw_yaml_read aw_yaml_read_file(const char *path, size_t max, unsigned char **buf,
                                    size_t *len);

/* Parse the single document in buf into *root: NULL when the stream holds
 * no document (an empty or comment-only file).  Collections may nest at
 * most max_depth deep.  Problems go to diags.  Returns AW_OK (a tree,
 * possibly with reported anchors, aliases or tags in it), AW_ESYNTAX
 * after a fatal problem (reported; no tree), or AW_ENOMEM.  Free the tree
 * with aw_yaml_free(). */
int aw_yaml_parse(const unsigned char *buf, size_t len, unsigned max_depth,
                  struct aw_yaml_diags *diags, struct aw_yaml_node **root);

void aw_yaml_free(struct aw_yaml_node *n);

/* "a sequence", "a mapping", "null" or "a string", for messages that say
 * what was found instead of what was wanted. */
const char *aw_yaml_kind_name(const struct aw_yaml_node *n);

/* s made safe for a one-line message in out (cap bytes, at least 8):
 * control bytes become '?', a value too long is cut and ends in "...".
 * Returns out. */
const char *aw_yaml_show(char *out, size_t cap, const char *s, size_t len);

/* The 1-based column of byte off of scalar v in buf (the file's buflen
 * bytes it was parsed from), when the scalar's source text is exactly its
 * value (one line; plain, or quoted without escapes); otherwise the
 * scalar's own column.  Lets a message point into a value, such as the
 * offending character of a pattern. */
unsigned aw_yaml_scalar_column(const unsigned char *buf, size_t buflen, const struct aw_yaml_node *v,
                               size_t off);

#endif
