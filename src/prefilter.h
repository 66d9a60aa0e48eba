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
    /* The trie of the literals: delta[row + cls] = (next_row << 1) |
     * next_has_output, or 0 for no edge, where row = state * ncls.  The
     * outputs of a state include those of its Aho-Corasick failure chain
     * (literals that end there too). */
    uint32_t *delta;
    /* The first look: bit (b0 | b1 << 8) is set when some literal can
     * start with bytes b0 b1 (both cases), or b0 alone is a literal.
     * A position whose pair is clear starts no literal, so the scan skips
     * it without walking the automaton.  single[b] is for the last byte. */
    uint8_t pairs[65536 / 8];
    bool single[256];
    /* Sharper, where four bytes are left: a position may start a literal
     * only when its pair starts a literal of two or three bytes, or the
     * hash of its four bytes is that of a longer literal's first four. */
    uint8_t short_pairs[65536 / 8];
    uint8_t quads[65536 / 8];
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

static inline bool aw_prefilter_pair(const struct aw_prefilter *pf, const unsigned char *p)
{
    return (pf->pairs[p[0] >> 3 | (unsigned)p[1] << 5] >> (p[0] & 7)) & 1u;
}

static inline unsigned aw_prefilter_quad_hash(const unsigned char *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;

    return (v * 2654435761u) >> 16;
}

static inline bool aw_prefilter_may_start(const struct aw_prefilter *pf, const unsigned char *p)
{
    unsigned pair = p[0] | (unsigned)p[1] << 8, h = aw_prefilter_quad_hash(p);

    return ((pf->short_pairs[pair >> 3] >> (pair & 7)) & 1u) |
           ((pf->quads[h >> 3] >> (h & 7)) & 1u);
}

/* The first position at or after i where a literal may start, or len.
 * Independent loads, two at a time: no chain through the automaton. */
static inline size_t aw_prefilter_skip(const struct aw_prefilter *pf, const unsigned char *s,
                                       size_t i, size_t len)
{
    while (i + 5 <= len) {
        if (aw_prefilter_may_start(pf, s + i)) {
            return i;
        }
        if (aw_prefilter_may_start(pf, s + i + 1)) {
            return i + 1;
        }
        i += 2;
    }
    for (; i + 4 <= len; i++) {
        if (aw_prefilter_may_start(pf, s + i)) {
            return i;
        }
    }
    for (; i + 1 < len; i++) {
        if (aw_prefilter_pair(pf, s + i)) {
            return i;
        }
    }
    return (i < len && pf->single[s[i]]) ? i : len;
}

/* Mark in bits (pf->words words) every rule with a literal occurring in
 * s.  Inline: it is the hot loop of classification.  The first look skips
 * the positions that can start no literal (independent loads, no chain
 * through a table); from each remaining position the trie is walked until
 * it has no edge, which is usually after a byte or two.  The outputs are
 * only read on states that have some. */
static inline void aw_prefilter_scan(const struct aw_prefilter *pf, uint64_t *bits,
                                     const unsigned char *s, size_t len)
{
    const uint32_t *delta = pf->delta;
    const uint8_t *cls = pf->cls;

    memset(bits, 0, pf->words * sizeof(*bits));
    for (size_t i = aw_prefilter_skip(pf, s, 0, len); i < len;
         i = aw_prefilter_skip(pf, s, i + 1, len)) {
        uint32_t row = 0;
        for (size_t j = i; j < len; j++) {
            uint32_t x = delta[row + cls[s[j]]];
            if (x == 0) {
                break;
            }
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
}

#endif
