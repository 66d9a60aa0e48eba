/*
 * Internal entry points of the rules module, for its test suite and rule
 * tooling only.  Nothing outside the rules engine (see rules_engine.h)
 * and tests/test_rules.c should depend on them; the public contract is
 * include/agentwatch/rules.h.
 */
#ifndef AGENTWATCH_RULES_INTERNAL_H
#define AGENTWATCH_RULES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "agentwatch/rules.h"

/* The prefilter literals of a pattern as the loader extracts them:
 * ASCII-lower-cased, NUL-terminated, deduplicated, one per top-level
 * branch.  *count == 0 means "no prefilter: the regex always runs".
 * Returns AW_OK or AW_ENOMEM.  Caller frees with aw_rules_literals_free(). */
int aw_rules_extract_literals(const char *pattern, size_t len, char ***lits,
                              size_t *count);
void aw_rules_literals_free(char **lits, size_t count);

/* Literal j (0 <= j < literal_count) of rule i, as used by the prefilter. */
const char *aw_rules_get_literal(const struct aw_ruleset *rs, size_t i, size_t j);

/* Example j of rule i: a `match` example when no_match is false, else a
 * `no_match` example.  *len gets its length (examples may hold NUL bytes).
 * NULL when out of range.  Owned by the rule set. */
const char *aw_rules_get_example(const struct aw_ruleset *rs, size_t i,
                                 bool no_match, size_t j, size_t *len);

/* classify without the prefilter: every rule's regex, in order.  The
 * reference the prefilter must agree with. */
long aw_matcher_classify_brute(struct aw_matcher *m, const char *msg, size_t len);

#endif
