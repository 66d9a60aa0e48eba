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
     * start with bytes b0 b1 (both cases), or b0 alone is a literal.  A
     * position whose pair is clear starts no literal.  Used where fewer
     * than four bytes are left; single[b] is for the last byte. */
    uint8_t pairs[65536 / 8];
    bool single[256];
    /* Sharper, where four bytes are left: a position may start a literal
     * only when its pair starts a literal shorter than four bytes
     * (short_pairs; any pair after a one-byte literal), or
     * the hash of its four bytes, case folded (aw_prefilter_quad_key()),
     * is that of a longer literal's first four (quads). */
    uint8_t short_pairs[65536 / 8];
    uint8_t quads[65536 / 8];
    /* The jump: an open-addressing table from the folded first four bytes
     * of every literal of four bytes or more to the trie cell (as in
     * delta) four bytes down, so that a walk starts there and not at the
     * root: most candidates are real prefixes of a literal ("conn",
     * "cert"), and the four dependent loads were most of the walk.
     * qkey 0 is an empty slot (a folded key is never 0); qcell
     * AW_PF_QUAD_WALK when two literals' different bytes fold to the same
     * key, whose walk then starts at the root. */
    uint32_t *qkey, *qcell;
    uint32_t qmask;
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

#define AW_PF_QUAD_WALK UINT32_MAX

/* Four bytes as one key, case folded by setting bit 5 of each byte: every
 * case variant of a literal gets its key (the literals are lower case);
 * a few other bytes fold together too ('@' and '`'), which can only add
 * candidates, never lose one. */
static inline uint32_t aw_prefilter_quad_key(const unsigned char *p)
{
    return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
            (uint32_t)p[3] << 24) | 0x20202020u;
}

static inline unsigned aw_prefilter_quad_hash(uint32_t key)
{
    return (key * 2654435761u) >> 16;
}

static inline bool aw_prefilter_short(const struct aw_prefilter *pf, const unsigned char *p)
{
    unsigned pair = p[0] | (unsigned)p[1] << 8;

    return (pf->short_pairs[pair >> 3] >> (pair & 7)) & 1u;
}

static inline bool aw_prefilter_may_start(const struct aw_prefilter *pf, const unsigned char *p)
{
    unsigned h = aw_prefilter_quad_hash(aw_prefilter_quad_key(p));

    return aw_prefilter_short(pf, p) | ((pf->quads[h >> 3] >> (h & 7)) & 1u);
}

/* The trie cell four bytes down from p, 0 when no literal of four bytes
 * or more starts there, AW_PF_QUAD_WALK when the walk must start at the
 * root. */
static inline uint32_t aw_prefilter_quad_cell(const struct aw_prefilter *pf, const unsigned char *p)
{
    uint32_t key = aw_prefilter_quad_key(p);

    for (uint32_t h = (key * 0x85EBCA6Bu) >> 7;; h++) {
        uint32_t k = pf->qkey[h & pf->qmask];
        if (k == key) {
            return pf->qcell[h & pf->qmask];
        }
        if (k == 0) {
            return 0;
        }
    }
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

static inline void aw_prefilter_mark(const struct aw_prefilter *pf, uint64_t *bits, uint32_t row)
{
    uint32_t st = row / pf->ncls;
    const uint32_t *o = &pf->outs[pf->out_off[st]];

    for (uint32_t k = 0; k < pf->out_cnt[st]; k++) {
        bits[o[k] >> 6] |= (uint64_t)1 << (o[k] & 63);
    }
}

/* Mark in bits (pf->words words) every rule with a literal occurring in
 * s.  Inline: it is the hot loop of classification.  The first look skips
 * the positions that can start no literal (independent loads, no chain
 * through a table); a position with four bytes left and no three-byte
 * literal starting there jumps four bytes down the trie (or is dropped);
 * from there the trie is walked until it has no edge.  The outputs are
 * only read on states that have some.  The outputs of the states jumped
 * over need no look: a literal ending there is shorter than four bytes
 * (a short pair, walked from the root) or starts later (its own
 * position). */
static inline void aw_prefilter_scan(const struct aw_prefilter *pf, uint64_t *bits,
                                     const unsigned char *s, size_t len)
{
    const uint32_t *delta = pf->delta;
    const uint8_t *cls = pf->cls;

    memset(bits, 0, pf->words * sizeof(*bits));
    for (size_t i = aw_prefilter_skip(pf, s, 0, len); i < len;
         i = aw_prefilter_skip(pf, s, i + 1, len)) {
        uint32_t row = 0;
        size_t j = i;
        if (i + 4 <= len && !aw_prefilter_short(pf, s + i)) {
            uint32_t x = aw_prefilter_quad_cell(pf, s + i);
            if (x == 0) {
                continue;
            }
            if (x != AW_PF_QUAD_WALK) {
                row = x >> 1;
                j = i + 4;
                if (x & 1u) {
                    aw_prefilter_mark(pf, bits, row);
                }
            }
        }
        for (; j < len; j++) {
            uint32_t x = delta[row + cls[s[j]]];
            if (x == 0) {
                break;
            }
            row = x >> 1;
            if (x & 1u) {
                aw_prefilter_mark(pf, bits, row);
            }
        }
    }
}

#endif
