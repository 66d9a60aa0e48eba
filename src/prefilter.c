/*
 * The literal prefilter (see prefilter.h).
 *
 * All literals of all rules go into one Aho-Corasick automaton compiled to
 * a full DFA: bytes are first mapped to equivalence classes (case folding
 * is done by that map, and bytes that occur in no literal share one
 * class), so the table stays small and the hot loop is one load per byte
 * with no failure links.  Each transition carries a flag bit that says
 * "the target state has outputs", so the common case never touches the
 * output lists.
 *
 * Building: a trie of the literals (one cell per state and class; 0 is
 * "no edge", as no edge leads back to the root), then a breadth-first
 * pass that computes the failure links, fills every missing transition
 * from the failure state's row, and collects each state's outputs (its
 * own rules, then those of its failure state), then the cells are encoded
 * as row offsets with the output flag.
 */
#include "prefilter.h"

#include <stdlib.h>

#include "agentwatch/err.h"
#include "agentwatch/grow.h"

/* Cap on DFA cells (states x byte classes); beyond it the prefilter is
 * skipped altogether rather than eating memory.  Real rule sets use a
 * few hundred thousand at most. */
#define DFA_CELLS_MAX ((size_t)16 * 1024 * 1024)

struct pair {
    uint32_t state, rule;
};

/* The automaton under construction. */
struct build {
    struct aw_prefilter *pf;
    size_t nrules;
    char **const *lits;
    const size_t *nlits;
    uint32_t *trie;               /* becomes pf->delta */
    struct pair *pairs;           /* (final state, rule) per literal, sorted */
    size_t npairs;
    uint32_t *fail, *queue;
    uint32_t *own_off;            /* per state, into pairs */
    uint32_t *goto_;              /* the trie's own edges, before linking */
    size_t nouts, outcap;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;

    if (x->state != y->state) {
        return x->state < y->state ? -1 : 1;
    }
    return (x->rule > y->rule) - (x->rule < y->rule);
}

/* The byte classes; *total = bytes of all literals, *count = literals. */
static void assign_classes(struct build *b, size_t *total, size_t *count)
{
    struct aw_prefilter *pf = b->pf;
    bool used[256] = { false };
    uint32_t ncls = 1;

    *total = 0;
    *count = 0;
    for (size_t r = 0; r < b->nrules; r++) {
        for (size_t j = 0; j < b->nlits[r]; j++) {
            const unsigned char *l = (const unsigned char *)b->lits[r][j];
            *total += strlen((const char *)l);
            (*count)++;
            for (; *l != '\0'; l++) {
                used[*l] = true;
            }
        }
    }
    memset(pf->cls, 0, sizeof(pf->cls));
    for (unsigned c = 0; c < 256; c++) {
        if (used[c]) {
            pf->cls[c] = (uint8_t)ncls++;
        }
    }
    for (unsigned c = 'A'; c <= 'Z'; c++) {
        pf->cls[c] = pf->cls[c + ('a' - 'A')];
    }
    pf->ncls = ncls;
}

static void set_bit(uint8_t *set, unsigned bit)
{
    set[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}

static unsigned upper(unsigned c)
{
    return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

/* The first-look entries of literal l, in both cases of each byte (the
 * literals are lower case). */
static void add_pair(struct aw_prefilter *pf, const unsigned char *l)
{
    unsigned a[2] = { l[0], upper(l[0]) }, b[2] = { l[1], upper(l[1]) };

    for (int x = 0; x < 2 && l[0] != '\0'; x++) {
        if (l[1] == '\0') {
            /* A one-byte literal starts at its byte whatever follows. */
            pf->single[a[x]] = true;
            for (unsigned c = 0; c < 256; c++) {
                set_bit(pf->pairs, a[x] | c << 8);
                set_bit(pf->short_pairs, a[x] | c << 8);
            }
            continue;
        }
        for (int y = 0; y < 2; y++) {
            set_bit(pf->pairs, a[x] | b[y] << 8);
            if (l[2] == '\0' || l[3] == '\0') {
                set_bit(pf->short_pairs, a[x] | b[y] << 8);
            }
        }
    }
    if (l[1] != '\0' && l[2] != '\0' && l[3] != '\0') {
        set_bit(pf->quads, aw_prefilter_quad_hash(aw_prefilter_quad_key(l)));
    }
}

/* The jump of a literal whose first four bytes lead to trie state s (a
 * state id until encode_quads()). */
static void add_quad(struct aw_prefilter *pf, const unsigned char *l, uint32_t s)
{
    uint32_t key = aw_prefilter_quad_key(l);

    for (uint32_t h = (key * 0x85EBCA6Bu) >> 7;; h++) {
        uint32_t *k = &pf->qkey[h & pf->qmask], *cell = &pf->qcell[h & pf->qmask];
        if (*k == 0) {
            *k = key;
            *cell = s;
            return;
        }
        if (*k == key) {
            if (*cell != s) {
                *cell = AW_PF_QUAD_WALK;   /* different bytes, same fold */
            }
            return;
        }
    }
}

/* The jump table's state ids as delta cells, once the outputs are known. */
static void encode_quads(struct aw_prefilter *pf)
{
    for (uint32_t i = 0; i <= pf->qmask; i++) {
        uint32_t t = pf->qcell[i];
        if (pf->qkey[i] != 0 && t != AW_PF_QUAD_WALK) {
            pf->qcell[i] = ((t * pf->ncls) << 1) | (pf->out_cnt[t] != 0 ? 1u : 0u);
        }
    }
}

/* Insert every literal into the trie, recording its final state. */
static void build_trie(struct build *b)
{
    struct aw_prefilter *pf = b->pf;
    uint32_t ncls = pf->ncls;

    pf->nstates = 1;
    b->npairs = 0;
    for (size_t r = 0; r < b->nrules; r++) {
        for (size_t j = 0; j < b->nlits[r]; j++) {
            const unsigned char *l = (const unsigned char *)b->lits[r][j];
            uint32_t s = 0;
            add_pair(pf, l);
            for (size_t k = 0; l[k] != '\0'; k++) {
                uint32_t *cell = &b->trie[(size_t)s * ncls + pf->cls[l[k]]];
                if (*cell == 0) {
                    *cell = pf->nstates++;
                }
                s = *cell;
                if (k == 3) {
                    add_quad(pf, l, s);
                }
            }
            b->pairs[b->npairs].state = s;
            b->pairs[b->npairs].rule = (uint32_t)r;
            b->npairs++;
        }
    }
    qsort(b->pairs, b->npairs, sizeof(*b->pairs), cmp_pair);
}

/* outputs(s) = own(s) + outputs(fail(s)); fail(s) was done before s in
 * breadth-first order. */
static int collect_outputs(struct build *b, uint32_t s)
{
    struct aw_prefilter *pf = b->pf;
    size_t need = b->nouts + (b->own_off[s + 1] - b->own_off[s]) + (s != 0 ? pf->out_cnt[b->fail[s]] : 0);

    if (AW_GROW(pf->outs, b->outcap, need, 64) != AW_OK) {
        return AW_ENOMEM;
    }
    pf->out_off[s] = (uint32_t)b->nouts;
    for (uint32_t k = b->own_off[s]; k < b->own_off[s + 1]; k++) {
        if (b->nouts == pf->out_off[s] || pf->outs[b->nouts - 1] != b->pairs[k].rule) {
            pf->outs[b->nouts++] = b->pairs[k].rule;
        }
    }
    if (s != 0) {
        uint32_t f = b->fail[s];
        for (uint32_t k = 0; k < pf->out_cnt[f]; k++) {
            pf->outs[b->nouts++] = pf->outs[pf->out_off[f] + k];
        }
    }
    pf->out_cnt[s] = (uint32_t)(b->nouts - pf->out_off[s]);
    return AW_OK;
}

/* Breadth-first: failure links, outputs, and the missing transitions. */
static int link_dfa(struct build *b)
{
    struct aw_prefilter *pf = b->pf;
    uint32_t ncls = pf->ncls;
    size_t head = 0, tail = 0;

    for (size_t k = 0; k < b->npairs; k++) {
        b->own_off[b->pairs[k].state + 1]++;
    }
    for (uint32_t s = 0; s < pf->nstates; s++) {
        b->own_off[s + 1] += b->own_off[s];
    }
    b->queue[tail++] = 0;
    while (head < tail) {
        uint32_t s = b->queue[head++];
        uint32_t *row = &b->trie[(size_t)s * ncls];

        if (collect_outputs(b, s) != AW_OK) {
            return AW_ENOMEM;
        }
        for (uint32_t c = 0; c < ncls; c++) {
            uint32_t t = row[c];
            if (t != 0) {
                b->fail[t] = s == 0 ? 0 : b->trie[(size_t)b->fail[s] * ncls + c];
                b->queue[tail++] = t;
            } else {
                row[c] = s == 0 ? 0 : b->trie[(size_t)b->fail[s] * ncls + c];
            }
        }
    }
    return AW_OK;
}

/* Build the DFA; AW_OK with have_dfa false when it would be too big. */
static int build_dfa(struct build *b)
{
    struct aw_prefilter *pf = b->pf;
    size_t total, count;
    uint32_t ns;

    assign_classes(b, &total, &count);
    if (count == 0 || (total + 1) * pf->ncls > DFA_CELLS_MAX) {
        return AW_OK;
    }
    b->trie = calloc((total + 1) * pf->ncls, sizeof(*b->trie));
    b->pairs = malloc(count * sizeof(*b->pairs));
    for (pf->qmask = 15; pf->qmask < 2 * count; pf->qmask = pf->qmask * 2 + 1) {
    }
    pf->qkey = calloc((size_t)pf->qmask + 1, sizeof(*pf->qkey));
    pf->qcell = calloc((size_t)pf->qmask + 1, sizeof(*pf->qcell));
    if (b->trie == NULL || b->pairs == NULL || pf->qkey == NULL || pf->qcell == NULL) {
        return AW_ENOMEM;
    }
    build_trie(b);
    ns = pf->nstates;
    b->fail = calloc(ns, sizeof(*b->fail));
    b->queue = malloc(ns * sizeof(*b->queue));
    b->own_off = calloc((size_t)ns + 1, sizeof(*b->own_off));
    b->goto_ = malloc((size_t)ns * pf->ncls * sizeof(*b->goto_));
    pf->out_off = calloc(ns, sizeof(*pf->out_off));
    pf->out_cnt = calloc(ns, sizeof(*pf->out_cnt));
    if (b->goto_ == NULL) {
        return AW_ENOMEM;
    }
    memcpy(b->goto_, b->trie, (size_t)ns * pf->ncls * sizeof(*b->goto_));
    if (b->fail == NULL || b->queue == NULL || b->own_off == NULL || pf->out_off == NULL ||
        pf->out_cnt == NULL || link_dfa(b) != AW_OK) {
        return AW_ENOMEM;
    }
    /* The scan walks the trie from each candidate position, so it keeps
     * the trie's own edges (0: none); the linking was for the outputs. */
    for (size_t k = 0; k < (size_t)ns * pf->ncls; k++) {
        uint32_t t = b->goto_[k];
        b->goto_[k] = t == 0 ? 0 : ((t * pf->ncls) << 1) | (pf->out_cnt[t] != 0 ? 1u : 0u);
    }
    encode_quads(pf);
    pf->delta = b->goto_;
    b->goto_ = NULL;
    pf->have_dfa = true;
    return AW_OK;
}

int aw_prefilter_build(struct aw_prefilter *pf, size_t nrules, char **const *lits,
                       const size_t *nlits)
{
    struct build b = { .pf = pf, .nrules = nrules, .lits = lits, .nlits = nlits };
    int rc;

    memset(pf, 0, sizeof(*pf));
    pf->words = (nrules + 63) / 64;
    pf->always = calloc(pf->words, sizeof(*pf->always));
    rc = pf->always == NULL ? AW_ENOMEM : build_dfa(&b);
    for (size_t i = 0; rc == AW_OK && i < nrules; i++) {
        if (nlits[i] == 0 || !pf->have_dfa) {
            pf->always[i >> 6] |= (uint64_t)1 << (i & 63);
        }
    }
    free(b.trie);
    free(b.pairs);
    free(b.fail);
    free(b.queue);
    free(b.own_off);
    free(b.goto_);
    return rc;
}

void aw_prefilter_free(struct aw_prefilter *pf)
{
    free(pf->always);
    free(pf->delta);
    free(pf->out_off);
    free(pf->out_cnt);
    free(pf->outs);
    free(pf->qkey);
    free(pf->qcell);
    memset(pf, 0, sizeof(*pf));
}
