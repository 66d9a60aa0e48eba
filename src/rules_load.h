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
};

/* A problem at a node's mark in the current file. */
#define DIAG(ld, mark, ...) AW_YAML_DIAG(&(ld)->yc, mark, __VA_ARGS__)

/* Validate one file's tree (root may be NULL: an empty file) and append
 * its rules to ld->rules (rules_schema.c). */
void aw_rules_load_tree(struct loader *ld, const struct aw_yaml_node *root);

/* Add the backtracking warnings of the pattern scalar v to ld->lint
 * (rules_lint.c). */
void aw_rules_lint_pattern(struct loader *ld, const struct aw_yaml_node *v, const char *label);

#endif
