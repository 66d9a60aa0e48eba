/*
 * What the files of the rules engine share (not for use outside them):
 *
 *   rules.c          the loaded rule set: accessors, severity names, free
 *   rules_load.c     rule files and folders -> a rule set (rules_load.h)
 *   rules_schema.c   one rule file's YAML tree -> validated rules
 *   rules_lint.c     pattern lint (at load) and shadowing lint
 *   rules_literals.c prefilter literals of a pattern
 *   rules_fragments.c a file's fragments put into its patterns
 *   regex_syntax.c   PCRE2 syntax both of the above read
 *   prefilter.c      the Aho-Corasick DFA over all literals
 *   matcher.c        classification: prefilter, then PCRE2 (JIT)
 *
 * The rule set is immutable after load and may be shared by many
 * matchers; all mutable scratch lives in struct aw_matcher.
 */
#ifndef AGENTWATCH_RULES_ENGINE_H
#define AGENTWATCH_RULES_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "agentwatch/rules.h"
#include "prefilter.h"

/* Literals shorter than this make no prefilter: too many false hits. */
#define LITERAL_MIN 3

struct example {
    char *text;
    size_t len;
    unsigned line, col;           /* position of the scalar in its file */
};

struct rule {
    struct aw_rule_info info;
    char *id, *category, *pattern, *cause, *remedy, *description;
    size_t pattern_len;
    pcre2_code *code;
    bool jit;
    struct example *ex[2];        /* [0] match, [1] no_match */
    char **lits;
    size_t nlits;
};

struct aw_ruleset {
    struct rule *rules;
    size_t count;
    char **files;
    size_t nfiles;
    /* pattern warnings found while loading (the file bytes are needed to
     * place them), handed out by aw_rules_lint() */
    struct aw_diags pattern_lint;
    struct aw_prefilter pf;
};

struct aw_matcher {
    const struct aw_ruleset *rs;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    uint64_t *bits;
    struct aw_matcher_stats stats;
    uint64_t *limited;            /* per rule: messages a limit stopped it on */
    long last_rule;               /* rule of the last classify, or -1 */
    long last_limited;            /* first rule a limit stopped in the last
                                     classify, or -1 */
    const char *last_subject;     /* the message it matched */
};

/* Free what a rule owns and zero it (rules.c). */
void aw_rule_fini(struct rule *r);

/* Free count rules (aw_rule_fini() each) and the array, and the nfiles
 * file names and their array: what a loader and a loaded set both own. */
void aw_rules_free_arrays(struct rule *rules, size_t count, char **files, size_t nfiles);

/* Matcher scratch without a rule set, for the loader's example checks
 * (matcher.c).  aw_matcher_scratch_fini() accepts a zeroed struct. */
int aw_matcher_scratch_init(struct aw_matcher *m, struct aw_err *err);
void aw_matcher_scratch_fini(struct aw_matcher *m);

/* Run rule r's regex on s: 1 = match, 0 = no match, -1 = a limit stopped
 * the match (= no match, counted in m->stats.limit_hits) (matcher.c). */
int aw_rule_run(struct aw_matcher *m, const struct rule *r, const char *s, size_t len);

/* Does one of lits occur in hay, ASCII case folded (rules_literals.c)? */
bool aw_literals_any_in(char **lits, size_t nlits, const char *hay, size_t hlen);

#endif
