/*
 * The lint (see aw_rules_lint() in rules.h).
 *
 * Pattern warnings are found while loading, because placing them needs
 * the file's bytes (aw_rules_lint_pattern(), called by rules_schema.c);
 * shadowing is judged afterwards on the examples with a real matcher.
 *
 * The pattern lint is a heuristic for patterns likely to backtrack badly.
 * The match limits already make such a pattern harmless for the program
 * (it just stops matching and is counted), but a rule that silently stops
 * matching on long messages is a bug, so `rules check` says so up front.
 * It flags:
 *   - a group repeated without bound whose body also repeats without
 *     bound: (a+)+, (.*)*, (?:\s*x+)*;
 *   - a group repeated without bound whose body can match the empty
 *     string: (a?)*, (x|x?)+, (|a)+;
 *   - a group repeated without bound whose alternatives can start with
 *     the same character: (a|ab)+, (.|x)*;
 *   - two adjacent atoms, both repeated without bound, over the same
 *     class or one of them '.': .*.*, \s*\s+, [a-z]+[a-z]*.
 * It also flags, as a cost rather than a backtracking risk, two or more
 * top-level alternatives that each open with \b: PCRE2 tries every
 * alternative at every start position its first-byte set lets through,
 * so inside a long word each of them pays its own boundary test, where one
 * \b(?:...) in front of them pays one (bench/README.md, "Rule cost").
 * Possessive quantifiers and atomic groups never backtrack and are not
 * flagged.  Anything the lint does not understand ends the lint of that
 * pattern silently: no warning is better than a wrong one.
 */
#include "rules_load.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "regex_syntax.h"

#define LINT_DEPTH_MAX 32
#define LINT_BRANCHES_MAX 64

struct lint_ctx {
    struct loader *ld;
    const struct aw_yaml_node *v;
    const struct pattern_text *pt;
    const char *label;
    const char *p;
    size_t n;
    bool gave_up;
};

struct lint_seq {
    bool has_unbounded;       /* some quantifier inside repeats without bound */
    bool nullable;            /* some branch can match the empty string */
    bool overlap;             /* two branches can start with the same byte */
    size_t overlap_at;        /* offset of the second such branch */
    size_t boundary_branches; /* branches whose first atom is \b */
    size_t boundary_at;       /* offset of the second of them */
};

#define LINT_FIRST_UNKNOWN (-1)
#define LINT_FIRST_ANY 256

void aw_rules_warn_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (aw_diags_add(&ld->lint, "%s:%u:%u: warning: %s", ld->yc.file, line, col, msg) != AW_OK) {
        ld->yc.oom = true;
    }
}

static void lint_warn(struct lint_ctx *c, size_t off, const char *what)
{
    char buf[64];
    size_t end = off;

    /* quote a short piece of the pattern so the warning reads on its own */
    while (end < c->n && end - off < 24) {
        end++;
    }
    aw_rules_warn_at(c->ld, (unsigned)c->v->start.line + 1, aw_rules_pattern_column(c->ld, c->v, c->pt, off),
            "%s: pattern may backtrack badly: %s at '%s%s'", c->label, what,
            aw_yaml_show(buf, sizeof(buf), c->p + off, end - off), end < c->n ? "..." : "");
}

static void lint_seq_parse(struct lint_ctx *c, size_t *ip, unsigned depth, struct lint_seq *out);

/* Parse the group whose '(' is at p[*ip]; on return *ip is after ')'. */
static void lint_group(struct lint_ctx *c, size_t *ip, unsigned depth, struct lint_seq *body,
                       bool *atomic, bool *zero_width, bool *is_atom)
{
    const char *p = c->p;
    size_t n = c->n, i = *ip + 1;

    *atomic = false;
    *zero_width = false;
    *is_atom = true;
    if (i < n && p[i] == '*') {
        c->gave_up = true;
        return;
    }
    if (i < n && p[i] == '?') {
        i++;
        if (i >= n) {
            c->gave_up = true;
            return;
        }
        if (p[i] == '#') {
            while (i < n && p[i] != ')') {
                i++;
            }
            *ip = i < n ? i + 1 : n;
            *is_atom = false;
            return;
        } else if (p[i] == ':' || p[i] == '|') {
            i++;
        } else if (p[i] == '>') {
            *atomic = true;
            i++;
        } else if (p[i] == '=' || p[i] == '!') {
            *zero_width = true;
            i++;
        } else if (p[i] == '<' && i + 1 < n && (p[i + 1] == '=' || p[i + 1] == '!')) {
            *zero_width = true;
            i += 2;
        } else if (p[i] == '<' || p[i] == '\'' || (p[i] == 'P' && i + 1 < n && p[i + 1] == '<')) {
            char close = p[i] == '\'' ? '\'' : '>';
            while (i < n && p[i] != close) {
                i++;
            }
            if (i >= n) {
                c->gave_up = true;
                return;
            }
            i++;
        } else {
            /* option setting (?i) or option group (?i: */
            while (i < n && (((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') || p[i] == '-' || p[i] == '^')) {
                i++;
            }
            if (i < n && p[i] == ')') {
                *ip = i + 1;
                *is_atom = false;
                return;
            }
            if (i >= n || p[i] != ':') {
                c->gave_up = true;
                return;
            }
            i++;
        }
    }
    lint_seq_parse(c, &i, depth + 1, body);
    if (c->gave_up || i >= n || p[i] != ')') {
        c->gave_up = true;
        return;
    }
    *ip = i + 1;
}

/* The branches of one sequence, as lint_seq_parse() reads them. */
struct lint_branches {
    int first[LINT_BRANCHES_MAX];     /* first byte of each finished branch */
    size_t bstart[LINT_BRANCHES_MAX], bend[LINT_BRANCHES_MAX];
    size_t nb;
    /* the current branch */
    bool nullable, have_first, any_atom;
    int first_byte;
    size_t start;
    /* the previous consuming atom of this branch */
    bool prev_unb;
    size_t prev_s, prev_e;
};

/* One atom: a group, class, escape, '.', anchor or byte. */
struct lint_atom {
    size_t s, e;                      /* its text, without its quantifier */
    int first;                        /* LINT_FIRST_* or the byte it starts with */
    bool zero;                        /* zero width: anchors, lookarounds */
    bool nullable, atomic, have_body;
    struct lint_seq body;             /* of a group */
};

static void branch_start(struct lint_branches *b, size_t i)
{
    b->nullable = true;
    b->have_first = false;
    b->any_atom = false;
    b->first_byte = LINT_FIRST_UNKNOWN;
    b->start = i;
    b->prev_unb = false;
}

/* The branch ending at p[i]: can it be empty, does it start like an
 * earlier one? */
static void branch_end(const struct lint_ctx *c, struct lint_branches *b, size_t i, struct lint_seq *out)
{
    const char *p = c->p;
    size_t nb = b->nb;

    out->nullable = out->nullable || b->nullable;
    if (nb >= LINT_BRANCHES_MAX) {
        return;
    }
    b->first[nb] = b->have_first ? b->first_byte : LINT_FIRST_UNKNOWN;
    b->bstart[nb] = b->start;
    b->bend[nb] = i;
    for (size_t k = 0; k < nb && !out->overlap; k++) {
        bool same_text = b->bend[k] - b->bstart[k] == i - b->start && i > b->start &&
                         memcmp(p + b->bstart[k], p + b->start, i - b->start) == 0;
        int f = b->first[nb], g = b->first[k];
        bool same_first = f != LINT_FIRST_UNKNOWN && g != LINT_FIRST_UNKNOWN &&
                          (f == g || f == LINT_FIRST_ANY || g == LINT_FIRST_ANY);
        if (same_text || same_first) {
            out->overlap = true;
            out->overlap_at = b->start;
        }
    }
    b->nb = nb + 1;
}

/* Read the atom at p[*ip] into *a.  false: no atom (an option setting or
 * a comment), or c->gave_up. */
static bool lint_atom(struct lint_ctx *c, size_t *ip, unsigned depth, struct lint_atom *a, struct lint_seq *out)
{
    const char *p = c->p;
    size_t n = c->n, i = *ip;
    bool is_atom = true;

    memset(a, 0, sizeof(*a));
    a->s = i;
    a->first = LINT_FIRST_UNKNOWN;
    switch (p[i]) {
    case '(':
        lint_group(c, &i, depth, &a->body, &a->atomic, &a->zero, &is_atom);
        if (c->gave_up || !is_atom) {
            *ip = i;
            return false;
        }
        a->have_body = !a->zero;
        a->nullable = a->zero || a->body.nullable;
        out->has_unbounded = out->has_unbounded || a->body.has_unbounded;
        break;
    case '[':
        if (!aw_rx_skip_class(p, n, &i)) {
            c->gave_up = true;
            return false;
        }
        break;
    case '\\':
        if (i + 1 >= n) {
            c->gave_up = true;
            return false;
        }
        if (aw_rx_is_alnum((unsigned char)p[i + 1])) {
            char e = p[i + 1];
            i++;
            if (!aw_rx_skip_alnum_escape(p, n, &i)) {
                c->gave_up = true;
                return false;
            }
            a->zero = e == 'b' || e == 'B' || e == 'A' || e == 'z' || e == 'Z' || e == 'G';
        } else {
            a->first = aw_rx_fold((unsigned char)p[i + 1]);
            i += 2;
        }
        break;
    case '.':
        a->first = LINT_FIRST_ANY;
        i++;
        break;
    case '^':
    case '$':
        a->zero = true;
        i++;
        break;
    case '*':
    case '+':
    case '?':
        c->gave_up = true;    /* a quantifier without an atom */
        return false;
    default:                  /* a byte, '{' included */
        a->first = aw_rx_fold((unsigned char)p[i]);
        i++;
        break;
    }
    a->e = i;
    *ip = i;
    return true;
}

/* The atom a and its quantifier q (quant: it has one): warn about what
 * backtracks, and follow how the branch starts. */
static void lint_judge(struct lint_ctx *c, struct lint_branches *b, const struct lint_atom *a, bool quant,
                       const struct aw_rx_quant *q, struct lint_seq *out)
{
    const char *p = c->p;
    bool unb = quant && q->unbounded && !q->possessive;   /* possessive: never backtracks */

    if (a->zero) {
        return;
    }
    out->has_unbounded = out->has_unbounded || unb;
    if (a->have_body && unb && !a->atomic) {
        if (a->body.has_unbounded) {
            lint_warn(c, a->s, "nested unbounded quantifiers (like (a+)+)");
        } else if (a->body.nullable) {
            lint_warn(c, a->s, "a repeated group that can match the empty string (like (a?)*)");
        } else if (a->body.overlap) {
            lint_warn(c, a->body.overlap_at, "alternatives of a repeated group start alike (like (a|ab)+)");
        }
    }
    if (!a->have_body && unb && b->prev_unb) {
        bool same = a->e - a->s == b->prev_e - b->prev_s && memcmp(p + a->s, p + b->prev_s, a->e - a->s) == 0;
        bool dot = (a->e - a->s == 1 && p[a->s] == '.') || (b->prev_e - b->prev_s == 1 && p[b->prev_s] == '.');
        if (same || dot) {
            lint_warn(c, b->prev_s, "adjacent unbounded repeats of overlapping atoms (like .*.*)");
        }
    }
    b->prev_unb = !a->have_body && unb;
    b->prev_s = a->s;
    b->prev_e = a->e;
    if (!(quant && q->min == 0) && !a->nullable) {
        if (b->nullable && !b->have_first) {
            b->first_byte = a->first;
            b->have_first = true;
        }
        b->nullable = false;
    } else if (b->nullable && !b->have_first) {
        /* an optional first atom: the branch may start with anything */
        b->first_byte = LINT_FIRST_UNKNOWN;
        b->have_first = true;
    }
}

/* Parse a sequence of branches from p[*ip] up to an unmatched ')' or the
 * end into *out; on return *ip is at that ')' or the end. */
static void lint_seq_parse(struct lint_ctx *c, size_t *ip, unsigned depth, struct lint_seq *out)
{
    const char *p = c->p;
    size_t n = c->n, i = *ip;
    struct lint_branches b = { .nb = 0 };

    memset(out, 0, sizeof(*out));
    if (depth > LINT_DEPTH_MAX) {
        c->gave_up = true;
        return;
    }
    branch_start(&b, i);
    while (!c->gave_up) {
        struct lint_atom a;
        struct aw_rx_quant q;
        bool quant;

        if (i >= n || p[i] == ')' || p[i] == '|') {
            branch_end(c, &b, i, out);
            if (i >= n || p[i] == ')') {
                *ip = i;
                return;
            }
            i++;
            branch_start(&b, i);
            continue;
        }
        if (!lint_atom(c, &i, depth, &a, out)) {
            continue;
        }
        if (!b.any_atom && a.e - a.s == 2 && p[a.s] == '\\' && p[a.s + 1] == 'b' &&
            ++out->boundary_branches == 2) {
            out->boundary_at = a.s;
        }
        b.any_atom = true;
        quant = aw_rx_quant(p, n, &i, false, &q);
        lint_judge(c, &b, &a, quant, &q, out);
    }
}

void aw_rules_lint_pattern(struct loader *ld, const struct aw_yaml_node *v, const struct pattern_text *pt,
                           const char *label)
{
    struct lint_ctx c = { ld, v, pt, label, pt->p, pt->n, false };
    struct lint_seq top;
    size_t i = 0;

    lint_seq_parse(&c, &i, 0, &top);
    /* the top-level branches that open with \b (see the comment at the top) */
    if (!c.gave_up && top.boundary_branches >= 2) {
        aw_rules_warn_at(ld, (unsigned)v->start.line + 1, aw_rules_pattern_column(ld, v, pt, top.boundary_at),
                "%s: %zu top-level alternatives each open with \\b: put them behind one \\b(?:...), "
                "tested once per start position instead of once per alternative", label, top.boundary_branches);
    }
}

/* ------------------------------------------------------------------ */
/* Shadowing                                                            */

int aw_rules_lint(const struct aw_ruleset *rs, struct aw_diags *warnings, struct aw_err *err)
{
    struct aw_matcher *m = NULL;
    int rc = AW_OK;

    if (rs == NULL || warnings == NULL) {
        return aw_err_set(err, AW_EUSAGE, "rules lint: no rule set");
    }
    /* the kept pattern warnings, then as many as were left out (the
     * list's own "... and N more" line is not one of them) */
    for (size_t i = 0; i < rs->pattern_lint.count - (rs->pattern_lint.more > 0) && rc == AW_OK; i++) {
        rc = aw_diags_add(warnings, "%s", rs->pattern_lint.items[i]);
    }
    for (size_t i = 0; i < rs->pattern_lint.more && rc == AW_OK; i++) {
        rc = aw_diags_add(warnings, "(left out)");
    }
    if (rc == AW_OK) {
        rc = aw_matcher_new(rs, &m, err);
    }
    /* Shadowing: judged on the examples, the only inputs a rule declares;
     * a rule without match examples cannot be judged. */
    for (size_t i = 0; i < rs->count && rc == AW_OK; i++) {
        const struct rule *r = &rs->rules[i];
        size_t shadowed = 0;
        long by = -1;

        for (size_t e = 0; e < r->info.example_match_count; e++) {
            long got = aw_matcher_classify(m, r->ex[0][e].text, r->ex[0][e].len);
            if (got >= 0 && got < (long)i) {
                shadowed++;
                by = by < 0 ? got : by;
            }
        }
        if (shadowed > 0 && shadowed == r->info.example_match_count) {
            const struct aw_rule_info *b = &rs->rules[by].info;
            rc = aw_diags_add(warnings,
                              "%s:%u:%u: warning: rule '%s' can never match: an earlier rule matches "
                              "all its match examples first ('%s' at %s:%u:%u)",
                              r->info.file, r->info.line, r->info.column, r->id, b->id, b->file, b->line,
                              b->column);
        }
    }
    if (rc == AW_ENOMEM) {
        aw_err_set(err, AW_ENOMEM, "rules lint: out of memory");
    }
    aw_matcher_free(&m);
    return rc;
}
