/*
 * Prefilter literals (see rules_internal.h): for each pattern, per
 * top-level branch, the longest run of literal bytes that every match of
 * that branch must contain.  The grammar it reads is documented above
 * aw_rules_extract_literals(); it is deliberately conservative, and
 * anything it does not understand means "no prefilter" for that pattern
 * (the regex then always runs).  As a safety net the loader checks every
 * `match` example of a rule against its literals (aw_literals_any_in()),
 * so correctness never depends on the extractor being right.
 */
#include "rules_engine.h"
#include "rules_internal.h"

#include <stdlib.h>
#include <string.h>

#include "agentwatch/grow.h"
#include "agentwatch/platform.h"
#include "regex_syntax.h"

/* Groups are read for literal sets down to this nesting. */
#define LITERAL_GROUP_DEPTH 8
/* Top-level branches a pattern may grow to when its small alternations of
 * plain literals are distributed (expand_alternations()). */
#define EXPAND_BRANCHES_MAX 16
/* Named groups read through (as if without parentheses) at a time. */
#define TRANSPARENT_MAX 16

struct litset {
    char **v;
    size_t n, cap;
};

/* A quantifier at p[*i]?  Consumes it with one lazy/possessive modifier.
 * Returns 0 (none), 1 (consumed; *min set), -1 (a stacked quantifier we
 * do not try to understand: give up on the prefilter). */
static int take_quant(const char *p, size_t n, size_t *i, unsigned long *min)
{
    struct aw_rx_quant q;
    size_t j = *i;

    if (!aw_rx_quant(p, n, &j, true, &q)) {
        return 0;
    }
    *min = q.min;
    if (aw_rx_quant(p, n, &j, true, &q)) {
        return -1;
    }
    *i = j;
    return 1;
}

/* Is p[j] a quantifier? */
static bool any_quant(const char *p, size_t n, size_t j)
{
    struct aw_rx_quant q;

    return aw_rx_quant(p, n, &j, true, &q);
}

/* Is p[j] a quantifier that lets what precedes it match zero times? */
static bool optional_quant(const char *p, size_t n, size_t j)
{
    struct aw_rx_quant q;

    return aw_rx_quant(p, n, &j, true, &q) && q.min == 0;
}

/* "(?" + option letters + ")" : an inline option setting. */
static bool inline_option(const char *p, size_t n, size_t i)
{
    size_t j = i + 2;

    while (j < n && (((p[j] | 0x20) >= 'a' && (p[j] | 0x20) <= 'z') || p[j] == '^' || p[j] == '-')) {
        j++;
    }
    return j < n && p[j] == ')';
}

enum group_kind {
    GROUP_PLAIN,              /* ( ), (?: ), (?> ), (?| ): contents required */
    GROUP_NAMED,              /* (?<name> ) */
    /* (?= ): its contents must match somewhere in the message, so one of
     * their literals occurs in it: a fallback like a plain group (the
     * shape rules of rules/95-shapes.yaml lead with one) */
    GROUP_LOOKAHEAD,
    GROUP_OTHER               /* negative lookarounds, lookbehinds, anything else */
};

/* The group opening at p[i]: its kind, *body = index of its contents,
 * *close = index of its ')', *bar = it has a '|' of its own.  false when
 * it is not closed or holds what the extractor does not read (\Q). */
static bool scan_group(const char *p, size_t n, size_t i, enum group_kind *kind, size_t *body,
                       size_t *close, bool *bar)
{
    size_t j = i + 1, depth = 1;

    *kind = GROUP_PLAIN;
    *bar = false;
    if (j < n && p[j] == '?') {
        if (j + 1 < n && (p[j + 1] == ':' || p[j + 1] == '>' || p[j + 1] == '|')) {
            j += 2;
        } else if (j + 1 < n && p[j + 1] == '=') {
            j += 2;
            *kind = GROUP_LOOKAHEAD;
        } else if (j + 2 < n && p[j + 1] == '<' &&
                   (((p[j + 2] | 0x20) >= 'a' && (p[j + 2] | 0x20) <= 'z') || p[j + 2] == '_')) {
            j += 2;
            while (j < n && (aw_rx_is_alnum((unsigned char)p[j]) || p[j] == '_')) {
                j++;
            }
            if (j >= n || p[j] != '>') {
                return false;
            }
            j++;
            *kind = GROUP_NAMED;
        } else {
            *kind = GROUP_OTHER;
        }
    }
    *body = j;
    while (j < n) {
        if (p[j] == '\\') {
            if (j + 1 >= n || p[j + 1] == 'Q') {
                return false;
            }
            j += 2;
        } else if (p[j] == '[') {
            if (!aw_rx_skip_class(p, n, &j)) {
                return false;
            }
        } else if (p[j] == '(') {
            depth++;
            j++;
        } else if (p[j] == ')') {
            if (--depth == 0) {
                *close = j;
                return true;
            }
            j++;
        } else {
            *bar = *bar || (p[j] == '|' && depth == 1);
            j++;
        }
    }
    return false;
}

static int litset_add(struct litset *ls, const unsigned char *s, size_t len)
{
    char *copy;

    for (size_t i = 0; i < ls->n; i++) {
        if (strlen(ls->v[i]) == len && memcmp(ls->v[i], s, len) == 0) {
            return AW_OK;
        }
    }
    if (AW_GROW(ls->v, ls->cap, ls->n + 1, 4) != AW_OK) {
        return AW_ENOMEM;
    }
    copy = strndup((const char *)s, len);
    if (copy == NULL) {
        return AW_ENOMEM;
    }
    ls->v[ls->n++] = copy;
    return AW_OK;
}

void aw_rules_literals_free(char **lits, size_t count)
{
    for (size_t i = 0; lits != NULL && i < count; i++) {
        free(lits[i]);
    }
    free(lits);
}

/*
 * The extraction grammar (sound and conservative; anything unexpected
 * means "no prefilter"):
 *   - a leading "(?i)" is skipped (the automaton folds ASCII case anyway);
 *     any other inline option "(?x)", "(?-i)", ... anywhere, "(*VERB)",
 *     "(?#comment)", "\Q..\E", and back references (\1-\9, \g, \k,
 *     (?P=name)) give up;
 *   - the pattern is split at '|' at depth 0 outside classes; a group at
 *     depth 0 of plain literals and '|' alone, unquantified, with at least
 *     3 literal bytes beside it, is first distributed over its branch
 *     (expand_alternations()); per branch we keep the longest run of
 *     literal bytes at depth 0;
 *   - literal bytes are plain characters other than the metacharacters
 *     (and other than ']', '}' and NUL, to be safe) and escaped
 *     non-alphanumerics such as "\.";
 *   - a literal followed by ?, *, {0..} or {,n} is optional: it is dropped
 *     and ends the run; followed by + or {n..} (n >= 1) it is kept and
 *     ends the run;
 *   - groups, classes, '.', anchors and alphanumeric escapes end the run
 *     (their own quantifiers are skipped), except a named group at depth 0
 *     without '|' of its own and without a quantifier, which is read as
 *     if its parentheses were not there (so capturing a code or a host
 *     name does not cost a rule its prefilter);
 *   - a branch whose best run is shorter than 3 bytes falls back to the
 *     literals of its first required group at depth 0 (plain, non-capturing,
 *     named, atomic or a positive lookahead, not followed by ?, * or
 *     {0,..}), extracted by the same rules from the group's contents: one
 *     of them occurs in every match, or for a lookahead in the message.
 *     "\b(?:0x)?(?:800b0109|80090325)\b" thus yields both codes;
 *   - a kept run loses its leading spaces while it is longer than 3 bytes
 *     (what is left is still in every match);
 *   - a branch with neither gives up.
 * Each kept run is something every match of its branch contains (or,
 * from a lookahead, every message it matches in), so
 * "some literal occurs" is necessary for a match.
 */

static int extract_literals(const char *pattern, size_t len, unsigned rdepth, char ***lits, size_t *count);

/* Add the group set of a branch (or its best run) to ls; false = give up. */
static int branch_done(struct litset *ls, const unsigned char *best, size_t best_len, struct litset *gset,
                       bool have_gset, bool *give_up)
{
    int rc = AW_OK;

    /* A run's leading spaces are dropped while it is longer than
     * LITERAL_MIN bytes:
     * the prefilter keys a literal on its first four bytes, and a key that
     * starts with a space (" err", " to ") begins at far more positions of
     * a message than the word after it does (bench/README.md, "Scan cost
     * per rule set"). */
    while (best_len > LITERAL_MIN && best[0] == ' ') {
        best++;
        best_len--;
    }
    if (best_len >= LITERAL_MIN) {
        rc = litset_add(ls, best, best_len);
    } else if (have_gset) {
        for (size_t k = 0; k < gset->n && rc == AW_OK; k++) {
            rc = litset_add(ls, (const unsigned char *)gset->v[k], strlen(gset->v[k]));
        }
    } else {
        *give_up = true;
    }
    aw_rules_literals_free(gset->v, gset->n);
    memset(gset, 0, sizeof(*gset));
    return rc;
}

/* A byte the alternation distribution below never reads as literal text:
 * a metacharacter, '|', '\\' or NUL (strchr() finds the terminator). */
static bool meta_byte(unsigned char c)
{
    return strchr("^$.[](){}*+?|\\", c) != NULL;
}

/* Is p[body..close) an alternation of plain literals ("pull|download",
 * "a|b\.c"): only literal bytes, escaped non-alphanumerics and '|'? */
static bool plain_alternation(const char *p, size_t body, size_t close)
{
    for (size_t j = body; j < close; j++) {
        unsigned char c = (unsigned char)p[j];

        if (c == '\\') {
            if (j + 1 >= close || aw_rx_is_alnum((unsigned char)p[j + 1]) || p[j + 1] == '\0') {
                return false;
            }
            j++;
        } else if (c != '|' && meta_byte(c)) {
            return false;
        }
    }
    return true;
}

/* Is b[i] a character the extractor reads as a literal byte, with no
 * quantifier after it?  (An escape is literal when its letter is not
 * alphanumeric.) */
static bool literal_at(const char *b, size_t n, size_t i)
{
    if (i >= n || b[i] == '\0') {
        return false;
    }
    if (b[i] == '\\') {
        return i + 1 < n && !aw_rx_is_alnum((unsigned char)b[i + 1]) && b[i + 1] != '\0' &&
               !any_quant(b, n, i + 2);
    }
    return !meta_byte((unsigned char)b[i]) && !any_quant(b, n, i + 1);
}

/* How many plain literal bytes end right before b[i] ("abc(" 3; "\b(" 0;
 * an escaped byte stops the count, which only has to be a fair guess). */
static size_t literal_run_before(const char *b, size_t i)
{
    size_t k = 0;

    while (k < i && !meta_byte((unsigned char)b[i - 1 - k]) && !(i - 1 - k > 0 && b[i - 2 - k] == '\\')) {
        k++;
    }
    return k;
}

/* How many literal bytes, none optional, start at b[i]. */
static size_t literal_run_after(const char *b, size_t n, size_t i)
{
    size_t k = 0;

    while (literal_at(b, n, i)) {
        i += b[i] == '\\' ? 2 : 1;
        k++;
    }
    return k;
}

/* The first group at depth 0 of branch b[0..n) that plain_alternation()
 * accepts and no quantifier follows: *open, *body, *close.  false if none
 * or if the branch holds what scan_group() does not read. */
static bool find_plain_alternation(const char *b, size_t n, size_t *open, size_t *body, size_t *close)
{
    size_t i = 0;

    while (i < n) {
        enum group_kind kind;
        bool bar;

        if (b[i] == '\\') {
            i += 2;
        } else if (b[i] == '[') {
            if (!aw_rx_skip_class(b, n, &i)) {
                return false;
            }
        } else if (b[i] == '(') {
            if (!scan_group(b, n, i, &kind, body, close, &bar)) {
                return false;
            }
            if ((kind == GROUP_PLAIN || kind == GROUP_NAMED) && bar && !any_quant(b, n, *close + 1) &&
                plain_alternation(b, *body, *close) &&
                (literal_run_before(b, i) >= LITERAL_MIN || literal_run_after(b, n, *close + 1) >= LITERAL_MIN)) {
                *open = i;
                return true;
            }
            i = *close + 1;
        } else {
            i++;
        }
    }
    return false;
}

/* The end of the top-level branch that starts at p[i]: the index of its
 * '|', or n. */
static size_t branch_end(const char *p, size_t n, size_t i)
{
    size_t depth = 0;

    while (i < n) {
        if (p[i] == '\\') {
            i += 2;
            continue;
        }
        if (p[i] == '[') {
            if (!aw_rx_skip_class(p, n, &i)) {
                return n;
            }
            continue;
        }
        if (p[i] == '(') {
            depth++;
        } else if (p[i] == ')' && depth > 0) {
            depth--;
        } else if (p[i] == '|' && depth == 0) {
            return i;
        }
        i++;
    }
    return n;
}

/* The branches distributed so far, in pattern order, and their budget. */
struct expansion {
    struct litset branches;
    size_t total;                 /* branches once the pending ones are in */
    bool grew;
};

/* Append b[0..n) as one finished branch. */
static int push_branch(struct expansion *x, const char *b, size_t n)
{
    char *v;

    if (AW_GROW(x->branches.v, x->branches.cap, x->branches.n + 1, 8) != AW_OK ||
        (v = strndup(b, n)) == NULL) {
        return AW_ENOMEM;
    }
    x->branches.v[x->branches.n++] = v;
    return AW_OK;
}

/* Distribute the first plain alternation of branch b[0..n), then what is
 * left in each result, while the budget allows; else keep b as it is. */
static int expand_branch(struct expansion *x, const char *b, size_t n)
{
    size_t open, body, close, alts = 1;
    int rc = AW_OK;

    if (!find_plain_alternation(b, n, &open, &body, &close)) {
        return push_branch(x, b, n);
    }
    for (size_t j = body; j < close; j += b[j] == '\\' ? 2 : 1) {
        alts += b[j] == '|';
    }
    if (x->total + alts - 1 > EXPAND_BRANCHES_MAX) {
        return push_branch(x, b, n);
    }
    x->total += alts - 1;
    x->grew = true;
    for (size_t a = body; rc == AW_OK && a <= close;) {
        size_t z = a;
        char *one;

        while (z < close && b[z] != '|') {
            z += b[z] == '\\' ? 2 : 1;
        }
        one = malloc(open + (z - a) + (n - close - 1) + 1);
        if (one == NULL) {
            return AW_ENOMEM;
        }
        memcpy(one, b, open);
        memcpy(one + open, b + a, z - a);
        memcpy(one + open + (z - a), b + close + 1, n - close - 1);
        rc = expand_branch(x, one, open + (z - a) + (n - close - 1));
        free(one);
        a = z + 1;
    }
    return rc;
}

/*
 * Distribute small alternations of plain literals over their branch:
 * "(?:pull|download) complete" is read as "pull complete|download
 * complete", so each alternative keeps the run it forms with the text
 * beside it instead of the branch keeping only the shared tail
 * ("complete", which far more messages hold).  A match of the branch is a
 * match of one of the distributed branches, so their literals are as
 * necessary as before.  Only groups at depth 0 of plain literals and '|'
 * alone, without a quantifier, with LITERAL_MIN literal bytes beside them
 * (else the distributed run gains little over the branch's own best run:
 * "(?:connection|request) (?:has )?timed out" keeps "timed out", not
 * "connection "), while the pattern stays within
 * EXPAND_BRANCHES_MAX branches.  *out (owned by the caller) is NULL when
 * nothing was distributed.
 */
static int expand_alternations(const char *p, size_t n, char **out, size_t *out_len)
{
    struct expansion x = {0};
    size_t i = 0, len = 0;
    int rc = AW_OK;

    *out = NULL;
    *out_len = 0;
    if (memchr(p, '\0', n) != NULL) {
        return AW_OK;             /* branches are C strings here */
    }
    for (size_t k = 0; (k = branch_end(p, n, k)) < n; k++) {
        x.total++;
    }
    x.total++;
    for (;;) {
        size_t e = branch_end(p, n, i);
        if ((rc = expand_branch(&x, p + i, e - i)) != AW_OK || e >= n) {
            break;
        }
        i = e + 1;
    }
    if (rc == AW_OK && x.grew) {
        for (size_t k = 0; k < x.branches.n; k++) {
            len += strlen(x.branches.v[k]) + 1;
        }
        if ((*out = malloc(len)) == NULL) {
            rc = AW_ENOMEM;
        } else {
            char *w = *out;
            for (size_t k = 0; k < x.branches.n; k++) {
                size_t bl = strlen(x.branches.v[k]);
                memcpy(w, x.branches.v[k], bl);
                w += bl;
                *w++ = k + 1 < x.branches.n ? '|' : '\0';
            }
            *out_len = len - 1;
        }
    }
    aw_rules_literals_free(x.branches.v, x.branches.n);
    return rc;
}

int aw_rules_extract_literals(const char *pattern, size_t len, char ***lits, size_t *count)
{
    size_t skip = len >= 4 && pattern != NULL && memcmp(pattern, "(?i)", 4) == 0 ? 4 : 0;
    char *expanded = NULL;
    size_t elen = 0;
    int rc;

    if (pattern == NULL || len == 0) {
        *lits = NULL;
        *count = 0;
        return AW_OK;
    }
    rc = expand_alternations(pattern + skip, len - skip, &expanded, &elen);
    if (rc != AW_OK) {
        *lits = NULL;
        *count = 0;
        return rc;
    }
    if (expanded == NULL) {
        return extract_literals(pattern, len, 0, lits, count);
    }
    rc = extract_literals(expanded, elen, 0, lits, count);
    free(expanded);
    return rc;
}

/* The state of one extraction (one pattern or one group's contents). */
struct extract {
    const char *p;
    size_t n, i, depth;
    unsigned rdepth;                  /* group nesting of this extraction */
    unsigned char *cur, *best;        /* the current and the longest run */
    size_t cur_len, best_len;
    struct litset ls;                 /* literals of the finished branches */
    /* the literal set of the branch's first required group: used when the
     * branch has no run of its own */
    struct litset gset;
    bool have_gset;
    size_t trans[TRANSPARENT_MAX];    /* ')' of the named groups read through */
    size_t ntrans;
    bool give_up;
};

static void end_run(struct extract *x)
{
    if (x->cur_len > x->best_len) {
        memcpy(x->best, x->cur, x->cur_len);
        x->best_len = x->cur_len;
    }
    x->cur_len = 0;
}

/* take_quant() at x->i; a stacked quantifier gives up. */
static int x_quant(struct extract *x, unsigned long *min)
{
    int q = take_quant(x->p, x->n, &x->i, min);

    if (q < 0) {
        x->give_up = true;
    }
    return q;
}

/* At depth 0, the group opening at p[i]: read through a lone named group,
 * or take the literal set of the branch's first required group. */
static int x_group_at_top(struct extract *x)
{
    const char *p = x->p;
    size_t n = x->n, body, close;
    enum group_kind kind;
    bool bar;

    if (!scan_group(p, n, x->i, &kind, &body, &close, &bar)) {
        return AW_OK;
    }
    if (kind == GROUP_NAMED && !bar && !any_quant(p, n, close + 1) && x->ntrans < TRANSPARENT_MAX) {
        /* transparent: read on as if the parentheses were not there */
        x->trans[x->ntrans++] = close;
        x->i = body;
        return 1;
    }
    if (kind != GROUP_OTHER && !x->have_gset && !optional_quant(p, n, close + 1) &&
        x->rdepth < LITERAL_GROUP_DEPTH) {
        char **sub = NULL;
        size_t nsub = 0;
        int rc = extract_literals(p + body, close - body, x->rdepth + 1, &sub, &nsub);
        if (rc != AW_OK) {
            return rc;
        }
        if (nsub > 0) {
            x->gset.v = sub;
            x->gset.n = nsub;
            x->gset.cap = nsub;
            x->have_gset = true;
        }
    }
    return AW_OK;
}

static int x_open(struct extract *x)
{
    const char *p = x->p;
    size_t n = x->n, i = x->i;

    if (i + 1 < n && p[i + 1] == '*') {
        x->give_up = true;
        return AW_OK;
    }
    if (i + 1 < n && p[i + 1] == '?' &&
        ((i + 2 < n && p[i + 2] == '#') || inline_option(p, n, i) ||
         (i + 3 < n && p[i + 2] == 'P' && p[i + 3] == '='))) {
        x->give_up = true;
        return AW_OK;
    }
    if (x->depth == 0) {
        int rc = x_group_at_top(x);
        if (rc != AW_OK) {
            return rc > 0 ? AW_OK : rc;
        }
        end_run(x);
    }
    x->depth++;
    x->i++;
    return AW_OK;
}

static void x_close(struct extract *x)
{
    unsigned long min;

    if (x->depth == 0 && x->ntrans > 0 && x->trans[x->ntrans - 1] == x->i) {
        x->ntrans--;
        x->i++;
        return;
    }
    if (x->depth == 0) {
        x->give_up = true;
        return;
    }
    x->depth--;
    x->i++;
    if (x->depth == 0) {
        x_quant(x, &min);
    }
}

static void x_class(struct extract *x)
{
    unsigned long min;

    if (x->depth == 0) {
        end_run(x);
    }
    if (!aw_rx_skip_class(x->p, x->n, &x->i)) {
        x->give_up = true;
        return;
    }
    if (x->depth == 0) {
        x_quant(x, &min);
    }
}

/* The literal byte c, just consumed at depth 0, and its quantifier. */
static void x_literal(struct extract *x, unsigned char c)
{
    unsigned long min = 0;
    int q = x_quant(x, &min);

    if (q < 0) {
        return;
    } else if (c == '\0') {
        end_run(x);               /* literals are C strings */
    } else if (q == 0) {
        x->cur[x->cur_len++] = aw_rx_fold(c);
    } else {
        if (min >= 1) {
            x->cur[x->cur_len++] = aw_rx_fold(c);
        }
        end_run(x);
    }
}

/* The escape at p[i] == '\\': an escaped non-alphanumeric is a literal. */
static void x_escape(struct extract *x)
{
    unsigned long min;
    unsigned char e;

    if (x->i + 1 >= x->n) {
        x->give_up = true;
        return;
    }
    e = (unsigned char)x->p[x->i + 1];
    if (aw_rx_is_alnum(e)) {
        x->i++;
        if (!aw_rx_skip_alnum_escape(x->p, x->n, &x->i)) {
            x->give_up = true;
        } else if (x->depth == 0) {
            end_run(x);
            x_quant(x, &min);
        }
        return;
    }
    x->i += 2;
    if (x->depth == 0) {
        x_literal(x, e);
    }
}

/* A '|' at depth 0 ends a branch. */
static int x_bar(struct extract *x)
{
    int rc;

    end_run(x);
    rc = branch_done(&x->ls, x->best, x->best_len, &x->gset, x->have_gset, &x->give_up);
    if (rc != AW_OK || x->give_up) {
        return rc;
    }
    x->have_gset = false;
    x->best_len = 0;
    x->i++;
    return AW_OK;
}

/* One step at p[i]. */
static int x_step(struct extract *x)
{
    unsigned char c = (unsigned char)x->p[x->i];
    unsigned long min;

    switch (c) {
    case '(':
        return x_open(x);
    case ')':
        x_close(x);
        return AW_OK;
    case '[':
        x_class(x);
        return AW_OK;
    case '\\':
        x_escape(x);
        return AW_OK;
    default:
        break;
    }
    if (x->depth > 0) {
        x->i++;
        return AW_OK;
    }
    if (c == '|') {
        return x_bar(x);
    }
    if (c == '.' || c == '^' || c == '$' || c == ']' || c == '}' ||
        c == '*' || c == '+' || c == '?' || c == '{') {
        end_run(x);
        x->i++;
        x_quant(x, &min);
        return AW_OK;
    }
    x->i++;
    x_literal(x, c);
    return AW_OK;
}

static int extract_literals(const char *pattern, size_t len, unsigned rdepth, char ***lits, size_t *count)
{
    struct extract x;
    int rc = AW_OK;

    *lits = NULL;
    *count = 0;
    if (pattern == NULL || len == 0) {
        return AW_OK;
    }
    memset(&x, 0, sizeof(x));
    x.p = pattern;
    x.n = len;
    x.rdepth = rdepth;
    x.cur = malloc(len);
    x.best = malloc(len);
    if (x.cur == NULL || x.best == NULL) {
        rc = AW_ENOMEM;
        goto out;
    }
    if (rdepth == 0 && len >= 4 && memcmp(pattern, "(?i)", 4) == 0) {
        x.i = 4;
    }
    while (x.i < len && !x.give_up && rc == AW_OK) {
        rc = x_step(&x);
    }
    if (rc != AW_OK) {
        goto out;
    }
    if (!x.give_up && x.depth == 0 && x.ntrans == 0) {
        end_run(&x);
        if ((rc = branch_done(&x.ls, x.best, x.best_len, &x.gset, x.have_gset, &x.give_up)) != AW_OK) {
            goto out;
        }
    } else {
        x.give_up = true;
    }
    if (!x.give_up) {
        *lits = x.ls.v;
        *count = x.ls.n;
        x.ls.v = NULL;
        x.ls.n = 0;
    }
out:
    aw_rules_literals_free(x.ls.v, x.ls.n);
    aw_rules_literals_free(x.gset.v, x.gset.n);
    free(x.cur);
    free(x.best);
    return rc;
}

/* Case-insensitive (ASCII) substring test used by the load-time check. */
static bool contains_folded(const char *hay, size_t hlen, const char *lit)
{
    size_t llen = strlen(lit);

    if (llen == 0) {
        return true;
    }
    for (size_t i = 0; i + llen <= hlen; i++) {
        size_t k = 0;
        while (k < llen && aw_rx_fold((unsigned char)hay[i + k]) == (unsigned char)lit[k]) {
            k++;
        }
        if (k == llen) {
            return true;
        }
    }
    return false;
}

bool aw_literals_any_in(char **lits, size_t nlits, const char *hay, size_t hlen)
{
    for (size_t j = 0; j < nlits; j++) {
        if (contains_folded(hay, hlen, lits[j])) {
            return true;
        }
    }
    return false;
}
