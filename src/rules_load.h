/*
 * The rule loader's state, shared by the files of the loading phase:
 * rules_load.c (files and folders, the finished set), rules_schema.c (one
 * file's YAML tree) and rules_lint.c (pattern warnings, which need the
 * file's bytes to place them).  Not for use outside them.
 */
#ifndef AGENTWATCH_RULES_LOAD_H
#define AGENTWATCH_RULES_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "agentwatch/err.h"
#include "agentwatch/yamltree.h"
#include "rules_engine.h"

#define RULE_FILE_MAX ((size_t)4 * 1024 * 1024)   /* a rule file, and an expanded pattern */
#define RULE_NAME_MAX 64          /* ids, categories and fragment names */
#define FRAGMENTS_MAX 256         /* per file */

/* A fragment of the current file: its key and value nodes, in the tree. */
struct fragment {
    const struct aw_yaml_node *name, *val;
    bool used;
};

/* A rule's pattern as it is compiled: the scalar's own text, or (when it
 * has placeholders) its expansion in owned; p[0..same) is the scalar's
 * text byte for byte, so offsets below same can point into the file. */
struct pattern_text {
    const char *p;
    size_t n;
    char *owned;
    size_t same;
};

/* Where an id was first defined, for the duplicate message. */
struct idpos {
    char *id;
    const char *file;
    unsigned line, col;
    bool shipped;                 /* a shipped rule has this id */
    bool local;                   /* file/line/col are a local rule's */
};

struct loader {
    struct aw_diags *diags;
    size_t errors;                /* problems of the files flushed so far */
    /* the current file (owned by files[]) and its problems, until flushed */
    struct aw_yaml_check yc;
    const unsigned char *buf;     /* its bytes, for pattern columns */
    size_t buflen;

    struct rule *rules;
    size_t count, cap;
    char **files;
    size_t nfiles, fcap;

    struct idpos *ids;            /* open addressing, cap is a power of 2 */
    size_t idcount, idcap;

    bool have_empty_pos;          /* where "empty rule set" points */
    const char *empty_file;
    unsigned empty_line, empty_col;

    struct aw_matcher scratch;    /* runs the examples */
    unsigned flags;               /* AW_RULES_LOAD_* */
    bool local;                   /* loading the local layer */
    size_t shipped;               /* rules[0..shipped) came shipped */
    char **disabled;              /* ids local files disable (owned) */
    size_t ndisabled, dcap;
    struct aw_diags lint;         /* pattern warnings, become rs->pattern_lint */

    /* the current file's fragments (nodes of its tree; forgotten at its end) */
    struct fragment *frags;
    size_t nfrags, fragcap;
    bool have_fragments;          /* the file has a `fragments` key */
};

/* A problem at a node's mark in the current file. */
#define DIAG(ld, mark, ...) AW_YAML_DIAG(&(ld)->yc, mark, __VA_ARGS__)

/* Validate one file's tree (root may be NULL: an empty file) and append
 * its rules to ld->rules (rules_schema.c). */
void aw_rules_load_tree(struct loader *ld, const struct aw_yaml_node *root);

/* Add the backtracking warnings of pattern pt, from scalar v, to ld->lint
 * (rules_lint.c). */
void aw_rules_lint_pattern(struct loader *ld, const struct aw_yaml_node *v, const struct pattern_text *pt,
                           const char *label);

/* A warning at a 1-based line and column of the current file, kept in
 * ld->lint for `rules check` (rules_lint.c). */
void aw_rules_warn_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...) AW_PRINTF(4, 5);

/* [a-z][a-z0-9_-]* (with id: also [0-9] first and '.'), at most
 * RULE_NAME_MAX bytes (rules_schema.c). */
bool aw_rules_valid_name(const char *s, size_t len, bool id);

/* Read the `fragments` mapping of the current file into ld->frags,
 * reporting bad names, values and nesting (rules_fragments.c). */
void aw_rules_fragments_load(struct loader *ld, const struct aw_yaml_node *map);

/* At the end of a file: warn about its unused fragments and forget them. */
void aw_rules_fragments_end(struct loader *ld);

/* The pattern of scalar v with its (?{name}) placeholders replaced by the
 * file's fragments into *out (out->owned is the caller's to free).  false
 * when a problem was reported (unknown or malformed placeholder, no
 * fragments in the file, expansion too long) or memory ran out. */
bool aw_rules_expand(struct loader *ld, const struct aw_yaml_node *v, const char *label,
                     struct pattern_text *out);

/* The 1-based column in the file of byte off of pattern pt (scalar v):
 * inside the scalar's text before its first placeholder, else the
 * scalar's own column. */
unsigned aw_rules_pattern_column(const struct loader *ld, const struct aw_yaml_node *v,
                                 const struct pattern_text *pt, size_t off);

#endif
