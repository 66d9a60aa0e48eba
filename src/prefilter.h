/*
 * The literal prefilter of a rule set: one Aho-Corasick automaton over the
 * prefilter literals of all rules, compiled to a full DFA, that marks in
 * one pass over a message every rule one of whose literals occurs in it.
 * Rules without literals (or every rule, when the automaton would be too
 * big) are in `always`.  See prefilter.c for the design.
 */
#ifndef AGENTWATCH_PREFILTER_H
#define AGENTWATCH_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct aw_prefilter {
    size_t words;                 /* 64-bit words of a rule bitset */
    uint64_t *always;             /* rules that always run their regex */
    bool have_dfa;
    uint8_t cls[256];             /* byte -> equivalence class (case folded) */
    uint32_t ncls;
    uint32_t nstates;
    /* delta[row + cls] = (next_row << 1) | next_has_output, where
     * row = state * ncls */
    uint32_t *delta;
    uint32_t *out_off;            /* per state, into outs */
    uint32_t *out_cnt;
    uint32_t *outs;               /* rule indices */
};

/* Build pf for nrules rules whose literals are lits[r][0..nlits[r]) (NUL-
 * terminated, lower case).  AW_OK also when the automaton would be too big
 * (then every rule is in always), or AW_ENOMEM.  Free with
 * aw_prefilter_free() either way. */
int aw_prefilter_build(struct aw_prefilter *pf, size_t nrules, char **const *lits,
                       const size_t *nlits);

void aw_prefilter_free(struct aw_prefilter *pf);

static inline bool aw_prefilter_always(const struct aw_prefilter *pf, size_t i)
{
    return (pf->always[i >> 6] & ((uint64_t)1 << (i & 63))) != 0;
}

/* Mark in bits (pf->words words) every rule with a literal occurring in
 * s.  Inline: it is the hot loop of classification, one table load per
 * byte, and the outputs are only read on states that have some. */
static inline void aw_prefilter_scan(const struct aw_prefilter *pf, uint64_t *bits,
                                     const unsigned char *s, size_t len)
{
    const uint32_t *delta = pf->delta;
    const uint8_t *cls = pf->cls;
    uint32_t row = 0;

    memset(bits, 0, pf->words * sizeof(*bits));
    for (size_t i = 0; i < len; i++) {
        uint32_t x = delta[row + cls[s[i]]];
        row = x >> 1;
        if (x & 1u) {
            uint32_t st = row / pf->ncls;
            const uint32_t *o = &pf->outs[pf->out_off[st]];
            for (uint32_t k = 0; k < pf->out_cnt[st]; k++) {
                bits[o[k] >> 6] |= (uint64_t)1 << (o[k] & 63);
            }
        }
    }
}

#endif
