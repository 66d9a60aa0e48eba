/*
 * Rules: the YAML rule set and the classifier built from it.
 *
 * A rule set is loaded from one YAML file or from a directory of *.yaml
 * and *.yml files taken in byte order of their names; rule order is file
 * order, then order within the file.  A record yields at most one
 * finding: the first rule, in that order, whose pattern matches the
 * record's message.  The schema is documented in rules/README.md.
 *
 * Loading validates everything and reports every problem it finds as
 * "FILE:LINE:COLUMN: message" in a struct aw_diags: YAML syntax, unknown
 * or duplicate keys, missing fields, wrong types, invalid values,
 * duplicate ids (also across files), patterns that do not compile (the
 * column points at the offending character inside the pattern where the
 * scalar allows it), and examples that do not behave as declared.
 *
 * Patterns are PCRE2, compiled in byte mode (no UTF check, so invalid
 * UTF-8 in a log can never make matching fail) and JIT-compiled.  Every
 * match runs under a match limit and a depth limit, so no pattern and no
 * message can hang the program; a limit hit counts as no match and is
 * counted, in aw_matcher_stats and per rule (aw_matcher_last_limited(),
 * aw_matcher_rule_limit_hits()), for the caller to report.
 *
 * Matching is fast because most rules are skipped without running their
 * regex: each pattern's required literals (case-folded) are extracted at
 * load time and all of them are searched for in one pass over the message
 * with an Aho-Corasick automaton.  A rule whose literals cannot be
 * extracted safely always runs its regex.
 */
#ifndef AGENTWATCH_RULES_H
#define AGENTWATCH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"

enum aw_rule_severity {
    AW_RULE_INFO = 0,
    AW_RULE_WARNING,
    AW_RULE_ERROR,
    AW_RULE_CRITICAL
};

/* The category of success markers: a record that proves the agent talked
 * to its server.  report uses it to tell recovery. */
#define AW_CATEGORY_HEALTH "health"

/* What a loaded rule exposes.  Strings are NUL-terminated and owned by the
 * rule set. */
struct aw_rule_info {
    const char *id;
    const char *category;
    enum aw_rule_severity severity;
    const char *pattern;
    const char *cause;        /* "" when not given */
    const char *remedy;       /* "" when not given */
    const char *file;         /* file the rule came from */
    unsigned line;            /* 1-based line of the rule's mapping */
    size_t example_match_count;
    size_t example_no_match_count;
    size_t literal_count;     /* prefilter literals; 0 = regex always runs */
    unsigned column;          /* 1-based column of the rule's mapping */
    bool local;               /* from the local layer (aw_rules_load_layers) */
    bool replaces;            /* local, and in place of the shipped rule of
                                 the same id */
};

/* One example of a rule, with where it is written. */
struct aw_rule_example {
    const char *text;         /* owned by the rule set; may hold NUL bytes */
    size_t len;
    const char *file;
    unsigned line, column;    /* 1-based position of the example scalar */
};

struct aw_ruleset;
struct aw_matcher;

struct aw_matcher_stats {
    uint64_t messages;        /* messages classified */
    uint64_t regex_runs;      /* regexes actually run (prefilter passed) */
    uint64_t matches;         /* messages that yielded a rule */
    uint64_t limit_hits;      /* matches stopped by the match/depth limit */
};

/* Load the rule set at path (a file or a directory).  On AW_ESYNTAX every
 * problem is in diags (err summarises); on other failures err says why.
 * An empty rule set is an error.  Caller frees with aw_rules_free(). */
int aw_rules_load(const char *path, struct aw_ruleset **out,
                  struct aw_diags *diags, struct aw_err *err);

/* Flags of aw_rules_load_ex(). */
enum {
    /* Examples that do not behave as declared are no load error: the rule
     * is loaded with them, for tooling (`rules test`) to report per rule. */
    AW_RULES_LOAD_KEEP_FAILING_EXAMPLES = 1u << 0
};

/* aw_rules_load() with AW_RULES_LOAD_* flags (0 = aw_rules_load()). */
int aw_rules_load_ex(const char *path, unsigned flags, struct aw_ruleset **out,
                     struct aw_diags *diags, struct aw_err *err);

/* Flag of aw_rules_load_layers(): a local path that does not exist is an
 * empty layer (the default folder), not an error (a path the user named). */
enum { AW_RULES_LOAD_LOCAL_OPTIONAL = 1u << 1 };

/* The shipped rule set at path, then the local layer at local (a file or
 * a folder, whose rule files are taken in byte order of their names; NULL:
 * none; a folder without rule files is an empty layer).  A local rule
 * whose id is a shipped rule's takes that rule's place in the order; any
 * other local rule is appended; a local file's `disable: [ID, ...]` takes
 * shipped rules out (an id that is no shipped rule's is a problem at its
 * position).  Two local rules with one id are a duplicate, as in one
 * layer.  Otherwise as aw_rules_load_ex(). */
int aw_rules_load_layers(const char *path, const char *local, unsigned flags,
                         struct aw_ruleset **out, struct aw_diags *diags,
                         struct aw_err *err);

/* Free a rule set; sets *rs to NULL. Accepts NULL.  Every matcher made
 * from it must be freed first. */
void aw_rules_free(struct aw_ruleset **rs);

size_t aw_rules_count(const struct aw_ruleset *rs);

/* Info of rule i (0 <= i < count), in rule-set order. */
const struct aw_rule_info *aw_rules_get(const struct aw_ruleset *rs, size_t i);

/* Example j of rule i (a `no_match` example when no_match is true) into
 * *out; false when out of range. */
bool aw_rules_example(const struct aw_ruleset *rs, size_t i, bool no_match, size_t j,
                      struct aw_rule_example *out);

/* Append to warnings one "FILE:LINE:COLUMN: warning: message" per likely
 * mistake that does not stop the rule set from working: patterns likely
 * to backtrack badly (nested unbounded quantifiers and the like; the
 * column points into the pattern where the scalar allows it), and rules
 * that can never match because an earlier rule matches every one of their
 * `match` examples first (shadowing).  A heuristic: silence proves
 * nothing.  Returns AW_OK or AW_ENOMEM (err says so). */
int aw_rules_lint(const struct aw_ruleset *rs, struct aw_diags *warnings, struct aw_err *err);

/* Index of the rule with this id, or -1. */
long aw_rules_find(const struct aw_ruleset *rs, const char *id);

/* "info", "warning", "error", "critical". */
const char *aw_rule_severity_name(enum aw_rule_severity sev);
/* Inverse; AW_ESYNTAX for an unknown name. */
int aw_rule_severity_from_name(const char *name, enum aw_rule_severity *out);

/* Scratch state for matching (PCRE2 match data, automaton state): one per
 * thread of classification.  Caller frees with aw_matcher_free(). */
int aw_matcher_new(const struct aw_ruleset *rs, struct aw_matcher **out,
                   struct aw_err *err);
void aw_matcher_free(struct aw_matcher **m);

/* Classify one message: index of the first matching rule, or -1. */
long aw_matcher_classify(struct aw_matcher *m, const char *msg, size_t len);

/* Does rule i alone match msg?  (Prefilter and regex, as classify would.)
 * Used by example checks and rule tooling. */
bool aw_matcher_rule_matches(struct aw_matcher *m, size_t i, const char *msg,
                             size_t len);

/* After aw_matcher_classify() returned a rule: the text its pattern
 * captured in the named group `name` ("target": server or URL, "code":
 * error code).  False when the pattern has no such group or it did not
 * take part in the match.  The span points into the classified message. */
bool aw_matcher_capture(const struct aw_matcher *m, const char *name, const char **text,
                        size_t *len);

void aw_matcher_get_stats(const struct aw_matcher *m, struct aw_matcher_stats *out);

/* After aw_matcher_classify() or aw_matcher_rule_matches(): the first
 * rule a match or depth limit stopped on that message (its result counts
 * as no match, so the message may belong to it), or -1.  A later rule may
 * still have matched. */
long aw_matcher_last_limited(const struct aw_matcher *m);

/* Messages a limit stopped rule i on, since the matcher was made. */
uint64_t aw_matcher_rule_limit_hits(const struct aw_matcher *m, size_t i);

#endif
