/*
 * Rules: YAML rule sets, PCRE2 JIT matching and the literal prefilter
 * (see rules.h; the file format is documented in rules/README.md).
 *
 * Loading.  Each file is read whole (at most 4 MiB) and turned into a
 * node tree (yamltree.h), so positions (marks) stay attached to every key
 * and value.  Anchors, aliases, tags and multiple documents are rejected:
 * a rule file is plain data and what you read is what runs.  Validation
 * walks the tree and reports every problem it finds instead of stopping
 * at the first; only a YAML syntax error ends the walk of that one file,
 * because after it the tree is meaningless.
 * Every scalar is taken as a string (no YAML 1.1 type guessing), except
 * that a plain empty/~/null scalar is null and never a valid string.
 *
 * Matching.  Patterns are compiled in byte mode (PCRE2_NEVER_UTF: a log
 * line with invalid UTF-8 can never make a match fail or error) and JIT
 * compiled when possible.  All matching runs under a match limit, a
 * depth limit (interpreter), a heap limit and a bounded JIT stack; a
 * limit hit is "no match" plus a counter, never an error or a hang.
 *
 * Prefilter.  For each pattern we extract, per top-level branch, the
 * longest run of literal bytes that every match of that branch must
 * contain (extract_literals() documents the exact, deliberately
 * conservative grammar).  All literals of all rules go into one
 * Aho-Corasick automaton compiled to a full DFA: bytes are first mapped
 * to equivalence classes (case folding is done by that map, and bytes
 * that occur in no literal share one class), so the table stays small
 * and the hot loop is one load per byte with no failure links.  Each
 * transition carries a flag bit that says "the target state has
 * outputs", so the common case never touches the output lists.  A rule
 * whose literals cannot be extracted soundly simply has no prefilter.
 * As a safety net, every `match` example of a rule must pass its own
 * prefilter at load time, otherwise the prefilter of that rule is
 * dropped; correctness never depends on the extractor being right.
 *
 * Captures.  Patterns compile with PCRE2_DUPNAMES so a rule can capture
 * `code` once per spelling alternative; aw_matcher_capture() reports the
 * group of that name that took part in the match.
 *
 * Lint (aw_rules_lint()).  Pattern warnings are found while loading,
 * because placing them needs the file's bytes; shadowing is judged
 * afterwards on the examples with a real matcher.  Tooling may load with
 * AW_RULES_LOAD_KEEP_FAILING_EXAMPLES to judge examples itself.
 *
 * Ownership: the rule set is immutable after load and may be shared by
 * many matchers; all mutable scratch lives in struct aw_matcher.
 */
#include "agentwatch/rules.h"

#include "rules_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/platform.h"
#include "agentwatch/yamltree.h"

#define RULE_FILE_MAX ((size_t)4 * 1024 * 1024)
#define RULE_NAME_MAX 64          /* ids and categories */
#define NEST_MAX 32               /* YAML nesting; rule files need 4 */
#define MATCH_LIMIT 1000000u
#define DEPTH_LIMIT 10000u
#define HEAP_LIMIT_KIB (64u * 1024u)
#define JIT_STACK_MIN (32u * 1024u)
#define JIT_STACK_MAX (512u * 1024u)
#define LITERAL_MIN 3
/* Cap on DFA cells (states x byte classes); beyond it the prefilter is
 * skipped altogether rather than eating memory.  Real rule sets use a
 * few hundred thousand at most. */
#define DFA_CELLS_MAX ((size_t)16 * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* Rule set                                                             */

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

    /* prefilter: bitset words, rules that always run, the DFA */
    size_t words;
    uint64_t *always;
    bool have_dfa;
    uint8_t cls[256];
    uint32_t ncls;
    uint32_t nstates;
    /* delta[row + cls] = (next_row << 1) | next_has_output, where
     * row = state * ncls */
    uint32_t *delta;
    uint32_t *out_off;            /* per state, into outs */
    uint32_t *out_cnt;
    uint32_t *outs;               /* rule indices */
};

struct aw_matcher {
    const struct aw_ruleset *rs;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    uint64_t *bits;
    struct aw_matcher_stats stats;
    long last_rule;               /* rule of the last classify, or -1 */
    const char *last_subject;     /* the message it matched */
};

/* Capture pairs kept per match; groups beyond it still match but are not
 * reported by aw_matcher_capture(). */
#define CAPTURE_PAIRS 32

static const char *const severity_names[] = { "info", "warning", "error", "critical" };

const char *aw_rule_severity_name(enum aw_rule_severity sev)
{
    if ((unsigned)sev < sizeof(severity_names) / sizeof(severity_names[0])) {
        return severity_names[sev];
    }
    return "unknown";
}

int aw_rule_severity_from_name(const char *name, enum aw_rule_severity *out)
{
    for (size_t i = 0; name != NULL && i < sizeof(severity_names) / sizeof(severity_names[0]); i++) {
        if (strcmp(name, severity_names[i]) == 0) {
            if (out != NULL) {
                *out = (enum aw_rule_severity)i;
            }
            return AW_OK;
        }
    }
    return AW_ESYNTAX;
}

static void rule_fini(struct rule *r)
{
    free(r->id);
    free(r->category);
    free(r->pattern);
    free(r->cause);
    free(r->remedy);
    free(r->description);
    pcre2_code_free(r->code);
    for (int k = 0; k < 2; k++) {
        size_t n = k == 0 ? r->info.example_match_count : r->info.example_no_match_count;
        for (size_t i = 0; r->ex[k] != NULL && i < n; i++) {
            free(r->ex[k][i].text);
        }
        free(r->ex[k]);
    }
    aw_rules_literals_free(r->lits, r->nlits);
    memset(r, 0, sizeof(*r));
}

void aw_rules_free(struct aw_ruleset **rsp)
{
    struct aw_ruleset *rs;

    if (rsp == NULL || *rsp == NULL) {
        return;
    }
    rs = *rsp;
    for (size_t i = 0; i < rs->count; i++) {
        rule_fini(&rs->rules[i]);
    }
    free(rs->rules);
    for (size_t i = 0; i < rs->nfiles; i++) {
        free(rs->files[i]);
    }
    free(rs->files);
    aw_diags_free(&rs->pattern_lint);
    free(rs->always);
    free(rs->delta);
    free(rs->out_off);
    free(rs->out_cnt);
    free(rs->outs);
    free(rs);
    *rsp = NULL;
}

size_t aw_rules_count(const struct aw_ruleset *rs)
{
    return rs != NULL ? rs->count : 0;
}

const struct aw_rule_info *aw_rules_get(const struct aw_ruleset *rs, size_t i)
{
    return (rs != NULL && i < rs->count) ? &rs->rules[i].info : NULL;
}

long aw_rules_find(const struct aw_ruleset *rs, const char *id)
{
    for (size_t i = 0; rs != NULL && id != NULL && i < rs->count; i++) {
        if (strcmp(rs->rules[i].id, id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

const char *aw_rules_get_literal(const struct aw_ruleset *rs, size_t i, size_t j)
{
    if (rs == NULL || i >= rs->count || j >= rs->rules[i].info.literal_count) {
        return NULL;
    }
    return rs->rules[i].lits[j];
}

const char *aw_rules_get_example(const struct aw_ruleset *rs, size_t i,
                                 bool no_match, size_t j, size_t *len)
{
    const struct rule *r;
    size_t n;

    if (rs == NULL || i >= rs->count) {
        return NULL;
    }
    r = &rs->rules[i];
    n = no_match ? r->info.example_no_match_count : r->info.example_match_count;
    if (j >= n) {
        return NULL;
    }
    if (len != NULL) {
        *len = r->ex[no_match][j].len;
    }
    return r->ex[no_match][j].text;
}

bool aw_rules_example(const struct aw_ruleset *rs, size_t i, bool no_match, size_t j,
                      struct aw_rule_example *out)
{
    const struct rule *r;
    size_t n;

    if (rs == NULL || out == NULL || i >= rs->count) {
        return false;
    }
    r = &rs->rules[i];
    n = no_match ? r->info.example_no_match_count : r->info.example_match_count;
    if (j >= n) {
        return false;
    }
    out->text = r->ex[no_match][j].text;
    out->len = r->ex[no_match][j].len;
    out->file = r->info.file;
    out->line = r->ex[no_match][j].line;
    out->column = r->ex[no_match][j].col;
    return true;
}

/* ------------------------------------------------------------------ */
/* Regex execution (shared by the loader's example checks and matchers) */

static int scratch_init(struct aw_matcher *m, struct aw_err *err)
{
    memset(m, 0, sizeof(*m));
    m->last_rule = -1;
    m->md = pcre2_match_data_create(CAPTURE_PAIRS, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    if (m->md == NULL || m->mctx == NULL) {
        return aw_err_set(err, AW_ENOMEM, "rules: cannot allocate PCRE2 match data");
    }
    pcre2_set_match_limit(m->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(m->mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(m->mctx, HEAP_LIMIT_KIB);
    /* Without a JIT stack of our own the JIT would use 32K on the machine
     * stack; a bounded private one keeps deep patterns from failing early
     * and from growing without limit.  No JIT support is not an error. */
    m->jstack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
    if (m->jstack != NULL) {
        pcre2_jit_stack_assign(m->mctx, NULL, m->jstack);
    }
    return AW_OK;
}

static void scratch_fini(struct aw_matcher *m)
{
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    pcre2_jit_stack_free(m->jstack);
    free(m->bits);
    m->md = NULL;
    m->mctx = NULL;
    m->jstack = NULL;
    m->bits = NULL;
}

/* 1 = match, 0 = no match, -1 = a limit stopped the match (= no match). */
static int run_regex(struct aw_matcher *m, const struct rule *r, const char *s, size_t len)
{
    PCRE2_SPTR subj = (PCRE2_SPTR)(s != NULL ? s : "");
    int rc;

    m->stats.regex_runs++;
    if (r->jit) {
        rc = pcre2_jit_match(r->code, subj, len, 0, 0, m->md, m->mctx);
    } else {
        rc = pcre2_match(r->code, subj, len, 0, 0, m->md, m->mctx);
    }
    if (rc >= 0) {
        return 1;
    }
    switch (rc) {
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
    case PCRE2_ERROR_NOMEMORY:
        m->stats.limit_hits++;
        return -1;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* Literal extraction                                                   */

struct litset {
    char **v;
    size_t n, cap;
};

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Is p[i] the start of a {m}, {m,}, {m,n} or {,n} quantifier?  Deliberately
 * more permissive than PCRE2 (spaces, {,n}): treating a literal brace as a
 * quantifier only loses literals, never soundness.  *end = index after
 * '}', *min = the lower bound (0 when absent). */
static bool brace_quant(const char *p, size_t n, size_t i, size_t *end, unsigned long *min)
{
    size_t j = i + 1;
    bool digits = false;
    unsigned long lo = 0;

    if (i >= n || p[i] != '{') {
        return false;
    }
    while (j < n && (p[j] == ' ' || p[j] == '\t')) {
        j++;
    }
    while (j < n && p[j] >= '0' && p[j] <= '9') {
        if (lo < 100000) {
            lo = lo * 10 + (unsigned long)(p[j] - '0');
        }
        digits = true;
        j++;
    }
    while (j < n && (p[j] == ' ' || p[j] == '\t')) {
        j++;
    }
    if (j < n && p[j] == ',') {
        j++;
        while (j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ' ' || p[j] == '\t')) {
            digits = digits || (p[j] >= '0' && p[j] <= '9');
            j++;
        }
    }
    if (j >= n || p[j] != '}' || !digits) {
        return false;
    }
    *end = j + 1;
    *min = lo;
    return true;
}

/* Quantifier at p[*i]?  Consumes it and one lazy/possessive modifier.
 * Returns 0 (none), 1 (consumed; *min set), -1 (a stacked quantifier we
 * do not try to understand: give up on the prefilter). */
static int take_quant(const char *p, size_t n, size_t *i, unsigned long *min)
{
    size_t j = *i, end;
    unsigned long lo;

    if (j >= n) {
        return 0;
    }
    if (p[j] == '*' || p[j] == '?') {
        *min = 0;
        j++;
    } else if (p[j] == '+') {
        *min = 1;
        j++;
    } else if (brace_quant(p, n, j, &end, &lo)) {
        *min = lo;
        j = end;
    } else {
        return 0;
    }
    if (j < n && (p[j] == '+' || p[j] == '?')) {
        j++;
    }
    if (j < n && (p[j] == '*' || p[j] == '+' || p[j] == '?' || brace_quant(p, n, j, &end, &lo))) {
        return -1;
    }
    *i = j;
    return 1;
}

/* Skip a character class starting at p[*i] == '['.  false = give up. */
static bool skip_class(const char *p, size_t n, size_t *i)
{
    size_t j = *i + 1;

    if (j < n && p[j] == '^') {
        j++;
    }
    if (j < n && p[j] == ']') {
        j++;
    }
    while (j < n) {
        if (p[j] == '\\') {
            if (j + 1 < n && p[j + 1] == 'Q') {
                return false;
            }
            j += 2;
        } else if (p[j] == '[' && j + 1 < n && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
            char t = p[j + 1];
            size_t k = j + 2;
            while (k + 1 < n && !(p[k] == t && p[k + 1] == ']')) {
                k++;
            }
            if (k + 1 >= n) {
                return false;
            }
            j = k + 2;
        } else if (p[j] == ']') {
            *i = j + 1;
            return true;
        } else {
            j++;
        }
    }
    return false;
}

/* Skip the arguments of an alphanumeric escape \<c> whose letter is at
 * p[*i]; on return *i is after the escape.  false = give up (backrefs,
 * \Q, malformed). */
static bool skip_alnum_escape(const char *p, size_t n, size_t *i)
{
    size_t j = *i;
    char c = p[j++];

    if ((c >= '1' && c <= '9') || c == 'g' || c == 'k' || c == 'Q') {
        return false;
    }
    if ((c == 'x' || c == 'o' || c == 'p' || c == 'P' || c == 'N') && j < n && p[j] == '{') {
        while (j < n && p[j] != '}') {
            j++;
        }
        if (j >= n) {
            return false;
        }
        j++;
    } else if (c == 'x') {
        for (int k = 0; k < 2 && j < n && ((p[j] >= '0' && p[j] <= '9') ||
                                          (fold((unsigned char)p[j]) >= 'a' && fold((unsigned char)p[j]) <= 'f')); k++) {
            j++;
        }
    } else if (c == 'o') {
        return false;                 /* \o without braces: malformed */
    } else if (c == 'p' || c == 'P' || c == 'c') {
        if (j >= n) {
            return false;
        }
        j++;
    } else if (c == '0') {
        for (int k = 0; k < 2 && j < n && p[j] >= '0' && p[j] <= '7'; k++) {
            j++;
        }
    }
    *i = j;
    return true;
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
    GROUP_OTHER               /* lookarounds and anything else */
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
        } else if (j + 2 < n && p[j + 1] == '<' &&
                   (((p[j + 2] | 0x20) >= 'a' && (p[j + 2] | 0x20) <= 'z') || p[j + 2] == '_')) {
            j += 2;
            while (j < n && (is_alnum((unsigned char)p[j]) || p[j] == '_')) {
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
            if (!skip_class(p, n, &j)) {
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

/* Is p[j] a quantifier that lets what precedes it match zero times? */
static bool optional_quant(const char *p, size_t n, size_t j)
{
    size_t end;
    unsigned long lo;

    if (j >= n) {
        return false;
    }
    if (p[j] == '?' || p[j] == '*') {
        return true;
    }
    return brace_quant(p, n, j, &end, &lo) && lo == 0;
}

static bool any_quant(const char *p, size_t n, size_t j)
{
    size_t end;
    unsigned long lo;

    return j < n && (p[j] == '?' || p[j] == '*' || p[j] == '+' || brace_quant(p, n, j, &end, &lo));
}

static int litset_add(struct litset *ls, const unsigned char *s, size_t len)
{
    char *copy;

    for (size_t i = 0; i < ls->n; i++) {
        if (strlen(ls->v[i]) == len && memcmp(ls->v[i], s, len) == 0) {
            return AW_OK;
        }
    }
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 4;
        char **v = realloc(ls->v, cap * sizeof(*v));
        if (v == NULL) {
            return AW_ENOMEM;
        }
        ls->v = v;
        ls->cap = cap;
    }
    copy = malloc(len + 1);
    if (copy == NULL) {
        return AW_ENOMEM;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
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
 *   - the pattern is split at '|' at depth 0 outside classes; per branch
 *     we keep the longest run of literal bytes at depth 0;
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
 *     named or atomic, not followed by ?, * or {0,..}), extracted by the
 *     same rules from the group's contents: one of them occurs in every
 *     match.  "\b(?:0x)?(?:800b0109|80090325)\b" thus yields both codes;
 *   - a branch with neither gives up.
 * Each kept run is something every match of its branch contains, so
 * "some literal occurs" is necessary for a match.
 */
/* Groups are read for literal sets down to this nesting. */
#define LITERAL_GROUP_DEPTH 8

static int extract_literals(const char *pattern, size_t len, unsigned rdepth, char ***lits, size_t *count);

/* Add the group set of a branch (or its best run) to ls; false = give up. */
static int branch_done(struct litset *ls, const unsigned char *best, size_t best_len, struct litset *gset,
                       bool have_gset, bool *give_up)
{
    int rc = AW_OK;

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

int aw_rules_extract_literals(const char *pattern, size_t len, char ***lits, size_t *count)
{
    return extract_literals(pattern, len, 0, lits, count);
}

static int extract_literals(const char *pattern, size_t len, unsigned rdepth, char ***lits, size_t *count)
{
    const char *p = pattern;
    size_t n = len, i = 0, cur_len = 0, best_len = 0, depth = 0;
    unsigned char *cur = NULL, *best = NULL;
    struct litset ls = { NULL, 0, 0 };
    /* the literal set of the branch's first required group: used when the
     * branch has no run of its own */
    struct litset gset = { NULL, 0, 0 };
    bool have_gset = false;
    size_t trans[16], ntrans = 0, body, close;
    bool give_up = false;
    int rc = AW_OK;

    *lits = NULL;
    *count = 0;
    if (p == NULL || n == 0) {
        return AW_OK;
    }
    cur = malloc(n);
    best = malloc(n);
    if (cur == NULL || best == NULL) {
        rc = AW_ENOMEM;
        goto out;
    }
    if (rdepth == 0 && n >= 4 && memcmp(p, "(?i)", 4) == 0) {
        i = 4;
    }

#define END_RUN()                                   \
    do {                                            \
        if (cur_len > best_len) {                   \
            memcpy(best, cur, cur_len);             \
            best_len = cur_len;                     \
        }                                           \
        cur_len = 0;                                \
    } while (0)

    while (i < n && !give_up) {
        unsigned char c = (unsigned char)p[i];
        unsigned long min = 0;

        if (c == '(') {
            if (i + 1 < n && p[i + 1] == '*') {
                give_up = true;
                break;
            }
            if (i + 1 < n && p[i + 1] == '?') {
                if ((i + 2 < n && p[i + 2] == '#') || inline_option(p, n, i) ||
                    (i + 3 < n && p[i + 2] == 'P' && p[i + 3] == '=')) {
                    give_up = true;
                    break;
                }
            }
            if (depth == 0) {
                enum group_kind kind;
                bool bar;

                if (scan_group(p, n, i, &kind, &body, &close, &bar)) {
                    if (kind == GROUP_NAMED && !bar && !any_quant(p, n, close + 1) &&
                        ntrans < sizeof(trans) / sizeof(trans[0])) {
                        /* transparent: read on as if the parentheses were not there */
                        trans[ntrans++] = close;
                        i = body;
                        continue;
                    }
                    if (kind != GROUP_OTHER && !have_gset && !optional_quant(p, n, close + 1) &&
                        rdepth < LITERAL_GROUP_DEPTH) {
                        char **sub = NULL;
                        size_t nsub = 0;
                        if ((rc = extract_literals(p + body, close - body, rdepth + 1, &sub, &nsub)) != AW_OK) {
                            goto out;
                        }
                        if (nsub > 0) {
                            gset.v = sub;
                            gset.n = nsub;
                            gset.cap = nsub;
                            have_gset = true;
                        }
                    }
                }
                END_RUN();
            }
            depth++;
            i++;
            continue;
        }
        if (c == ')') {
            if (depth == 0 && ntrans > 0 && trans[ntrans - 1] == i) {
                ntrans--;
                i++;
                continue;
            }
            if (depth == 0) {
                give_up = true;
                break;
            }
            depth--;
            i++;
            if (depth == 0 && take_quant(p, n, &i, &min) < 0) {
                give_up = true;
            }
            continue;
        }
        if (c == '[') {
            if (depth == 0) {
                END_RUN();
            }
            if (!skip_class(p, n, &i)) {
                give_up = true;
                break;
            }
            if (depth == 0 && take_quant(p, n, &i, &min) < 0) {
                give_up = true;
            }
            continue;
        }
        if (c == '\\') {
            unsigned char e;

            if (i + 1 >= n) {
                give_up = true;
                break;
            }
            e = (unsigned char)p[i + 1];
            if (is_alnum(e)) {
                i++;
                if (!skip_alnum_escape(p, n, &i)) {
                    give_up = true;
                    break;
                }
                if (depth == 0) {
                    END_RUN();
                    if (take_quant(p, n, &i, &min) < 0) {
                        give_up = true;
                    }
                }
                continue;
            }
            i += 2;
            if (depth > 0) {
                continue;
            }
            c = e;
            goto literal;
        }
        if (depth > 0) {
            i++;
            continue;
        }
        if (c == '|') {
            END_RUN();
            if ((rc = branch_done(&ls, best, best_len, &gset, have_gset, &give_up)) != AW_OK) {
                goto out;
            }
            if (give_up) {
                break;
            }
            have_gset = false;
            best_len = 0;
            i++;
            continue;
        }
        if (c == '.' || c == '^' || c == '$' || c == ']' || c == '}' ||
            c == '*' || c == '+' || c == '?' || c == '{') {
            END_RUN();
            i++;
            if (take_quant(p, n, &i, &min) < 0) {
                give_up = true;
            }
            continue;
        }
        i++;
literal:
        {
            int q = take_quant(p, n, &i, &min);
            if (q < 0) {
                give_up = true;
            } else if (c == '\0') {
                END_RUN();        /* literals are C strings */
            } else if (q == 0) {
                cur[cur_len++] = fold(c);
            } else {
                if (min >= 1) {
                    cur[cur_len++] = fold(c);
                }
                END_RUN();
            }
        }
    }
    if (!give_up && depth == 0 && ntrans == 0) {
        END_RUN();
        if ((rc = branch_done(&ls, best, best_len, &gset, have_gset, &give_up)) != AW_OK) {
            goto out;
        }
    } else {
        give_up = true;
    }
#undef END_RUN

    if (!give_up) {
        *lits = ls.v;
        *count = ls.n;
        ls.v = NULL;
        ls.n = 0;
    }
out:
    aw_rules_literals_free(ls.v, ls.n);
    aw_rules_literals_free(gset.v, gset.n);
    free(cur);
    free(best);
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
        while (k < llen && fold((unsigned char)hay[i + k]) == (unsigned char)lit[k]) {
            k++;
        }
        if (k == llen) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Aho-Corasick DFA                                                     */

struct pair {
    uint32_t state, rule;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;

    if (x->state != y->state) {
        return x->state < y->state ? -1 : 1;
    }
    return (x->rule > y->rule) - (x->rule < y->rule);
}

/* Build rs->delta & co from the rules' literals.  AW_OK also when the
 * automaton would be too big: then have_dfa stays false and every rule
 * runs its regex. */
static int build_dfa(struct aw_ruleset *rs)
{
    size_t total = 0, npairs = 0, nouts = 0, outcap = 0;
    uint32_t ncls = 1, nstates = 1;
    uint32_t *trie = NULL, *fail = NULL, *queue = NULL, *own_off = NULL;
    struct pair *pairs = NULL;
    int rc = AW_ENOMEM;
    bool used[256] = { false };

    for (size_t r = 0; r < rs->count; r++) {
        for (size_t j = 0; j < rs->rules[r].nlits; j++) {
            const unsigned char *l = (const unsigned char *)rs->rules[r].lits[j];
            total += strlen((const char *)l);
            npairs++;
            for (; *l != '\0'; l++) {
                used[*l] = true;
            }
        }
    }
    if (npairs == 0) {
        return AW_OK;
    }
    memset(rs->cls, 0, sizeof(rs->cls));
    for (unsigned b = 0; b < 256; b++) {
        if (used[b]) {
            rs->cls[b] = (uint8_t)ncls++;
        }
    }
    for (unsigned b = 'A'; b <= 'Z'; b++) {
        rs->cls[b] = rs->cls[b + ('a' - 'A')];
    }
    if ((total + 1) * ncls > DFA_CELLS_MAX) {
        return AW_OK;
    }
    trie = calloc((total + 1) * ncls, sizeof(*trie));
    pairs = malloc(npairs * sizeof(*pairs));
    if (trie == NULL || pairs == NULL) {
        goto out;
    }
    npairs = 0;
    for (size_t r = 0; r < rs->count; r++) {
        for (size_t j = 0; j < rs->rules[r].nlits; j++) {
            const unsigned char *l = (const unsigned char *)rs->rules[r].lits[j];
            uint32_t s = 0;
            for (; *l != '\0'; l++) {
                uint32_t *cell = &trie[(size_t)s * ncls + rs->cls[*l]];
                if (*cell == 0) {
                    *cell = nstates++;
                }
                s = *cell;
            }
            pairs[npairs].state = s;
            pairs[npairs].rule = (uint32_t)r;
            npairs++;
        }
    }
    qsort(pairs, npairs, sizeof(*pairs), cmp_pair);
    fail = calloc(nstates, sizeof(*fail));
    queue = malloc(nstates * sizeof(*queue));
    own_off = calloc((size_t)nstates + 1, sizeof(*own_off));
    rs->out_off = calloc(nstates, sizeof(*rs->out_off));
    rs->out_cnt = calloc(nstates, sizeof(*rs->out_cnt));
    if (fail == NULL || queue == NULL || own_off == NULL || rs->out_off == NULL || rs->out_cnt == NULL) {
        goto out;
    }
    for (size_t k = 0; k < npairs; k++) {
        own_off[pairs[k].state + 1]++;
    }
    for (uint32_t s = 0; s < nstates; s++) {
        own_off[s + 1] += own_off[s];
    }

    /* BFS: turn the trie into the full DFA; a zero cell is "no trie edge"
     * because no edge ever leads back to the root. */
    {
        size_t head = 0, tail = 0;
        queue[tail++] = 0;
        while (head < tail) {
            uint32_t s = queue[head++];
            uint32_t *row = &trie[(size_t)s * ncls];
            size_t need;

            /* outputs(s) = own(s) + outputs(fail(s)); fail(s) was done
             * before s in BFS order. */
            need = nouts + (own_off[s + 1] - own_off[s]) + (s != 0 ? rs->out_cnt[fail[s]] : 0);
            if (need > outcap) {
                size_t cap = outcap ? outcap : 64;
                uint32_t *grown;
                while (cap < need) {
                    cap *= 2;
                }
                grown = realloc(rs->outs, cap * sizeof(*grown));
                if (grown == NULL) {
                    goto out;
                }
                rs->outs = grown;
                outcap = cap;
            }
            rs->out_off[s] = (uint32_t)nouts;
            for (uint32_t k = own_off[s]; k < own_off[s + 1]; k++) {
                if (nouts == rs->out_off[s] || rs->outs[nouts - 1] != pairs[k].rule) {
                    rs->outs[nouts++] = pairs[k].rule;
                }
            }
            if (s != 0) {
                uint32_t f = fail[s];
                for (uint32_t k = 0; k < rs->out_cnt[f]; k++) {
                    rs->outs[nouts++] = rs->outs[rs->out_off[f] + k];
                }
            }
            rs->out_cnt[s] = (uint32_t)(nouts - rs->out_off[s]);

            for (uint32_t c = 0; c < ncls; c++) {
                uint32_t t = row[c];
                if (t != 0) {
                    fail[t] = s == 0 ? 0 : trie[(size_t)fail[s] * ncls + c];
                    queue[tail++] = t;
                } else {
                    row[c] = s == 0 ? 0 : trie[(size_t)fail[s] * ncls + c];
                }
            }
        }
    }
    for (size_t k = 0; k < (size_t)nstates * ncls; k++) {
        uint32_t t = trie[k];
        trie[k] = ((t * ncls) << 1) | (rs->out_cnt[t] != 0 ? 1u : 0u);
    }
    rs->delta = trie;
    trie = NULL;
    rs->ncls = ncls;
    rs->nstates = nstates;
    rs->have_dfa = true;
    rc = AW_OK;
out:
    free(trie);
    free(pairs);
    free(fail);
    free(queue);
    free(own_off);
    return rc;
}

/* Mark in bits every rule with a literal occurring in s. */
static void prefilter_scan(const struct aw_ruleset *rs, uint64_t *bits, const unsigned char *s, size_t len)
{
    const uint32_t *delta = rs->delta;
    const uint8_t *cls = rs->cls;
    uint32_t row = 0;

    memset(bits, 0, rs->words * sizeof(*bits));
    for (size_t i = 0; i < len; i++) {
        uint32_t x = delta[row + cls[s[i]]];
        row = x >> 1;
        if (x & 1u) {
            uint32_t st = row / rs->ncls;
            const uint32_t *o = &rs->outs[rs->out_off[st]];
            for (uint32_t k = 0; k < rs->out_cnt[st]; k++) {
                bits[o[k] >> 6] |= (uint64_t)1 << (o[k] & 63);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Loader                                                               */

struct idpos {
    char *id;
    const char *file;
    unsigned line, col;
};

struct loader {
    struct aw_diags *diags;
    size_t errors;
    struct aw_yaml_diags fdiags;  /* this file's, until flush_diags() */
    bool oom;
    const char *file;             /* current file (owned by files[]) */
    const unsigned char *buf;     /* its bytes, for pattern columns */
    size_t buflen;

    struct rule *rules;
    size_t count, cap;
    char **files;
    size_t nfiles, fcap;

    struct idpos *ids;            /* open addressing, cap is a power of 2 */
    size_t idcount, idcap;

    bool have_empty_pos;
    const char *empty_file;
    unsigned empty_line, empty_col;

    struct aw_matcher scratch;
    unsigned flags;               /* AW_RULES_LOAD_* */
    struct aw_diags lint;         /* pattern warnings, become rs->pattern_lint */
};

static void diag_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...) AW_PRINTF(4, 5);

static void diag_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...)
{
    va_list ap;

    ld->errors++;
    va_start(ap, fmt);
    if (aw_yaml_diag_vadd(&ld->fdiags, line, col, fmt, ap) != AW_OK) {
        ld->oom = true;
    }
    va_end(ap);
}

/* Validation walks the tree key by key, so a file's diagnostics arrive
 * out of order; users read them top to bottom, file after file. */
static void flush_diags(struct loader *ld)
{
    aw_yaml_diags_sort(&ld->fdiags);
    for (size_t i = 0; i < ld->fdiags.count; i++) {
        const struct aw_yaml_diag *d = &ld->fdiags.items[i];
        if (aw_diags_add(ld->diags, "%s:%u:%u: %s", ld->file, d->line, d->col, d->msg) != AW_OK) {
            ld->oom = true;
        }
    }
    aw_yaml_diags_free(&ld->fdiags);
}

#define DIAG(ld, mark, ...) \
    diag_at((ld), (unsigned)(mark).line + 1, (unsigned)(mark).column + 1, __VA_ARGS__)

/* ---- validation helpers ---- */

enum want { WANT_STRING, WANT_SEQ, WANT_MAP };

struct keyspec {
    const char *name;
    enum want want;
    struct aw_yaml_node *key;
    struct aw_yaml_node *val;
    bool ok;                  /* present with the right type */
};

static const char *want_name(enum want w)
{
    return w == WANT_STRING ? "a string" : w == WANT_SEQ ? "a sequence" : "a mapping";
}

static bool node_is(const struct aw_yaml_node *n, enum want w)
{
    switch (w) {
    case WANT_STRING: return n->kind == AW_YAML_SCALAR && !n->null;
    case WANT_SEQ: return n->kind == AW_YAML_SEQ;
    default: return n->kind == AW_YAML_MAP;
    }
}

static void walk_map(struct loader *ld, const struct aw_yaml_node *map, const char *where,
                     struct keyspec *keys, size_t nkeys)
{
    char buf[96];

    for (size_t i = 0; i + 1 < map->nkids; i += 2) {
        struct aw_yaml_node *k = map->kids[i], *v = map->kids[i + 1];
        struct keyspec *spec = NULL;

        if (k->bad) {
            continue;
        }
        if (k->kind != AW_YAML_SCALAR || k->null) {
            DIAG(ld, k->start, "mapping keys must be strings, not %s", aw_yaml_kind_name(k));
            continue;
        }
        for (size_t s = 0; s < nkeys; s++) {
            if (strlen(keys[s].name) == k->len && memcmp(keys[s].name, k->val, k->len) == 0) {
                spec = &keys[s];
                break;
            }
        }
        if (spec == NULL) {
            DIAG(ld, k->start, "unknown key '%s' %s", aw_yaml_show(buf, sizeof(buf), k->val, k->len), where);
            continue;
        }
        if (spec->key != NULL) {
            DIAG(ld, k->start, "duplicate key '%s' (first defined at %s:%u:%u)", spec->name, ld->file,
                 (unsigned)spec->key->start.line + 1, (unsigned)spec->key->start.column + 1);
            continue;
        }
        spec->key = k;
        spec->val = v;
        if (v->bad) {
            continue;
        }
        if (!node_is(v, spec->want)) {
            DIAG(ld, v->start, "key '%s' must be %s, not %s", spec->name, want_name(spec->want),
                 aw_yaml_kind_name(v));
            continue;
        }
        if (spec->want == WANT_STRING && memchr(v->val, '\0', v->len) != NULL) {
            DIAG(ld, v->start, "key '%s' must not contain NUL bytes", spec->name);
            continue;
        }
        spec->ok = true;
    }
}

static bool valid_name(const char *s, size_t len, bool id)
{
    if (len == 0 || len > RULE_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
        if (i == 0) {
            if (!(lower || (id && digit))) {
                return false;
            }
        } else if (!(lower || digit || c == '-' || c == '_' || (id && c == '.'))) {
            return false;
        }
    }
    return true;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* Register id; returns the earlier definition when it is a duplicate. */
static const struct idpos *id_register(struct loader *ld, const char *id, unsigned line, unsigned col)
{
    size_t mask, i;

    if (ld->idcount * 2 >= ld->idcap) {
        size_t cap = ld->idcap ? ld->idcap * 2 : 64;
        struct idpos *t = calloc(cap, sizeof(*t));
        if (t == NULL) {
            ld->oom = true;
            return NULL;
        }
        for (size_t k = 0; k < ld->idcap; k++) {
            if (ld->ids[k].id != NULL) {
                size_t j = hash_str(ld->ids[k].id) & (cap - 1);
                while (t[j].id != NULL) {
                    j = (j + 1) & (cap - 1);
                }
                t[j] = ld->ids[k];
            }
        }
        free(ld->ids);
        ld->ids = t;
        ld->idcap = cap;
    }
    mask = ld->idcap - 1;
    for (i = hash_str(id) & mask; ld->ids[i].id != NULL; i = (i + 1) & mask) {
        if (strcmp(ld->ids[i].id, id) == 0) {
            return &ld->ids[i];
        }
    }
    ld->ids[i].id = strdup(id);
    if (ld->ids[i].id == NULL) {
        ld->oom = true;
        return NULL;
    }
    ld->ids[i].file = ld->file;
    ld->ids[i].line = line;
    ld->ids[i].col = col;
    ld->idcount++;
    return NULL;
}

/* Byte offset of (line, column) marks in the file, or SIZE_MAX.  Line
 * breaks as libyaml counts them; columns are characters. */
static size_t mark_offset(const struct loader *ld, const yaml_mark_t *mk)
{
    const unsigned char *b = ld->buf;
    size_t n = ld->buflen, i = 0, line = 0;

    if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
        i = 3;
    }
    while (line < mk->line && i < n) {
        if (b[i] == '\r') {
            i += (i + 1 < n && b[i + 1] == '\n') ? 2 : 1;
            line++;
        } else if (b[i] == '\n') {
            i++;
            line++;
        } else if (b[i] == 0xC2 && i + 1 < n && b[i + 1] == 0x85) {
            i += 2;
            line++;
        } else if (b[i] == 0xE2 && i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9)) {
            i += 3;
            line++;
        } else {
            i++;
        }
    }
    if (line != mk->line) {
        return SIZE_MAX;
    }
    for (size_t c = 0; c < mk->column; c++) {
        if (i >= n) {
            return SIZE_MAX;
        }
        i++;
        while (i < n && (b[i] & 0xC0) == 0x80) {
            i++;
        }
    }
    return i;
}

/* 1-based column of byte off of a pattern scalar, when the scalar's source
 * text is exactly its value (one line; plain, or quoted without escapes);
 * otherwise the scalar's own column. */
static unsigned pattern_column(const struct loader *ld, const struct aw_yaml_node *v, size_t off)
{
    unsigned col = (unsigned)v->start.column + 1;
    size_t pos, q;
    char quote = 0;

    if (v->start.line != v->end.line) {
        return col;
    }
    switch (v->style) {
    case YAML_PLAIN_SCALAR_STYLE: q = 0; break;
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: q = 1; quote = '\''; break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: q = 1; quote = '"'; break;
    default: return col;
    }
    pos = mark_offset(ld, &v->start);
    if (pos == SIZE_MAX || pos + q + v->len + q > ld->buflen ||
        memcmp(ld->buf + pos + q, v->val, v->len) != 0) {
        return col;
    }
    if (quote != 0 && (ld->buf[pos] != (unsigned char)quote || ld->buf[pos + 1 + v->len] != (unsigned char)quote)) {
        return col;
    }
    col += (unsigned)q;
    for (size_t i = 0; i < off && i < v->len; i++) {
        if (((unsigned char)v->val[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    return col;
}

static char *dup_node(struct loader *ld, const struct keyspec *k)
{
    char *s;

    if (k == NULL || !k->ok) {
        s = strdup("");
    } else {
        s = malloc(k->val->len + 1);
        if (s != NULL) {
            memcpy(s, k->val->val, k->val->len + 1);
        }
    }
    if (s == NULL) {
        ld->oom = true;
    }
    return s;
}

enum { K_ID, K_CATEGORY, K_SEVERITY, K_PATTERN, K_CAUSE, K_REMEDY, K_DESCRIPTION, K_EXAMPLES, K_COUNT };

/* Check the examples of a rule against its compiled pattern and copy
 * them into r. */
static void load_examples(struct loader *ld, struct rule *r, const struct aw_yaml_node *exmap, const char *label)
{
    struct keyspec keys[2] = {
        { "match", WANT_SEQ, NULL, NULL, false },
        { "no_match", WANT_SEQ, NULL, NULL, false },
    };

    walk_map(ld, exmap, "in examples", keys, 2);
    for (int k = 0; k < 2; k++) {
        const struct aw_yaml_node *seq = keys[k].val;
        size_t cnt = 0;

        if (!keys[k].ok) {
            continue;
        }
        if (r != NULL) {
            r->ex[k] = calloc(seq->nkids ? seq->nkids : 1, sizeof(*r->ex[k]));
            if (r->ex[k] == NULL) {
                ld->oom = true;
                return;
            }
        }
        for (size_t i = 0; i < seq->nkids; i++) {
            const struct aw_yaml_node *e = seq->kids[i];
            int m;

            if (e->bad) {
                continue;
            }
            if (e->kind != AW_YAML_SCALAR || e->null) {
                DIAG(ld, e->start, "%s: examples must be strings, not %s", label, aw_yaml_kind_name(e));
                continue;
            }
            if (r == NULL || r->code == NULL) {
                continue;
            }
            m = run_regex(&ld->scratch, r, e->val, e->len);
            if (ld->flags & AW_RULES_LOAD_KEEP_FAILING_EXAMPLES) {
                /* kept for aw_rules_example() users to judge */
            } else if (k == 0 && m != 1) {
                DIAG(ld, e->start, "%s: example does not match the pattern%s", label,
                     m < 0 ? " (match limit hit)" : "");
            } else if (k == 1 && m == 1) {
                DIAG(ld, e->start, "%s: no_match example matches the pattern", label);
            }
            r->ex[k][cnt].text = malloc(e->len + 1);
            if (r->ex[k][cnt].text == NULL) {
                ld->oom = true;
                return;
            }
            memcpy(r->ex[k][cnt].text, e->val, e->len + 1);
            r->ex[k][cnt].len = e->len;
            r->ex[k][cnt].line = (unsigned)e->start.line + 1;
            r->ex[k][cnt].col = (unsigned)e->start.column + 1;
            cnt++;
            /* kept current so rule_fini() frees exactly what exists */
            if (k == 0) {
                r->info.example_match_count = cnt;
            } else {
                r->info.example_no_match_count = cnt;
            }
        }
    }
}

/* ---- pattern lint ----
 *
 * A heuristic for patterns likely to backtrack badly.  The match limits
 * already make such a pattern harmless for the program (it just stops
 * matching and is counted), but a rule that silently stops matching on
 * long messages is a bug, so `rules check` says so up front.  It flags:
 *   - a group repeated without bound whose body also repeats without
 *     bound: (a+)+, (.*)*, (?:\s*x+)*;
 *   - a group repeated without bound whose body can match the empty
 *     string: (a?)*, (x|x?)+, (|a)+;
 *   - a group repeated without bound whose alternatives can start with
 *     the same character: (a|ab)+, (.|x)*;
 *   - two adjacent atoms, both repeated without bound, over the same
 *     class or one of them '.': .*.*, \s*\s+, [a-z]+[a-z]*.
 * Possessive quantifiers and atomic groups never backtrack and are not
 * flagged.  Anything the lint does not understand ends the lint of that
 * pattern silently: no warning is better than a wrong one. */

#define LINT_DEPTH_MAX 32
#define LINT_BRANCHES_MAX 64

struct lint_ctx {
    struct loader *ld;
    const struct aw_yaml_node *v;
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
};

#define LINT_FIRST_UNKNOWN (-1)
#define LINT_FIRST_ANY 256

static void warn_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...) AW_PRINTF(4, 5);

static void warn_at(struct loader *ld, unsigned line, unsigned col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (aw_diags_add(&ld->lint, "%s:%u:%u: warning: %s", ld->file, line, col, msg) != AW_OK) {
        ld->oom = true;
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
    warn_at(c->ld, (unsigned)c->v->start.line + 1, pattern_column(c->ld, c->v, off),
            "%s: pattern may backtrack badly: %s at '%s%s'", c->label, what,
            aw_yaml_show(buf, sizeof(buf), c->p + off, end - off), end < c->n ? "..." : "");
}

/* A quantifier at p[*i]: consumed with its lazy/possessive modifier. */
static bool lint_quant(const struct lint_ctx *c, size_t *i, unsigned long *min, bool *unbounded,
                       bool *possessive)
{
    const char *p = c->p;
    size_t n = c->n, j = *i;

    *possessive = false;
    if (j >= n) {
        return false;
    }
    if (p[j] == '*' || p[j] == '+' || p[j] == '?') {
        *min = p[j] == '+' ? 1 : 0;
        *unbounded = p[j] != '?';
        j++;
    } else if (p[j] == '{') {
        unsigned long lo = 0;
        bool digits = false, comma = false, hi = false;
        j++;
        while (j < n && p[j] >= '0' && p[j] <= '9') {
            lo = lo < 100000 ? lo * 10 + (unsigned long)(p[j] - '0') : lo;
            digits = true;
            j++;
        }
        if (j < n && p[j] == ',') {
            comma = true;
            j++;
            while (j < n && p[j] >= '0' && p[j] <= '9') {
                hi = true;
                j++;
            }
        }
        if (j >= n || p[j] != '}' || !(digits || hi)) {
            return false;     /* a literal brace */
        }
        j++;
        *min = lo;
        *unbounded = comma && !hi;
    } else {
        return false;
    }
    if (j < n && p[j] == '+') {
        *possessive = true;
        j++;
    } else if (j < n && p[j] == '?') {
        j++;
    }
    *i = j;
    return true;
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

static void lint_seq_parse(struct lint_ctx *c, size_t *ip, unsigned depth, struct lint_seq *out)
{
    const char *p = c->p;
    size_t n = c->n, i = *ip;
    int first[LINT_BRANCHES_MAX];
    size_t bstart[LINT_BRANCHES_MAX], bend[LINT_BRANCHES_MAX];
    size_t nb = 0;
    /* per branch */
    bool b_nullable = true, b_have_first = false;
    int b_first = LINT_FIRST_UNKNOWN;
    size_t b_start = i;
    /* the previous consuming atom of this branch */
    bool prev_unb = false;
    size_t prev_s = 0, prev_e = 0;

    memset(out, 0, sizeof(*out));
    if (depth > LINT_DEPTH_MAX) {
        c->gave_up = true;
        return;
    }
    for (;;) {
        size_t a_s = i, a_e;
        int a_first = LINT_FIRST_UNKNOWN;
        bool a_zero = false, a_nullable = false, atomic = false, is_atom = true;
        bool have_body = false;
        struct lint_seq body;
        unsigned long min = 1;
        bool unb = false, poss = false, quant;

        if (c->gave_up) {
            return;
        }
        if (i >= n || p[i] == ')' || p[i] == '|') {
            /* end of a branch */
            out->nullable = out->nullable || b_nullable;
            if (nb < LINT_BRANCHES_MAX) {
                first[nb] = b_have_first ? b_first : LINT_FIRST_UNKNOWN;
                bstart[nb] = b_start;
                bend[nb] = i;
                for (size_t k = 0; k < nb && !out->overlap; k++) {
                    bool same_text = bend[k] - bstart[k] == i - b_start && i > b_start &&
                                     memcmp(p + bstart[k], p + b_start, i - b_start) == 0;
                    int f = first[nb], g = first[k];
                    bool same_first = f != LINT_FIRST_UNKNOWN && g != LINT_FIRST_UNKNOWN &&
                                      (f == g || f == LINT_FIRST_ANY || g == LINT_FIRST_ANY);
                    if (same_text || same_first) {
                        out->overlap = true;
                        out->overlap_at = b_start;
                    }
                }
                nb++;
            }
            if (i >= n || p[i] == ')') {
                *ip = i;
                return;
            }
            i++;
            b_nullable = true;
            b_have_first = false;
            b_first = LINT_FIRST_UNKNOWN;
            b_start = i;
            prev_unb = false;
            continue;
        }
        switch (p[i]) {
        case '(':
            lint_group(c, &i, depth, &body, &atomic, &a_zero, &is_atom);
            if (c->gave_up) {
                return;
            }
            if (!is_atom) {
                continue;
            }
            have_body = !a_zero;
            a_nullable = a_zero || body.nullable;
            out->has_unbounded = out->has_unbounded || body.has_unbounded;
            break;
        case '[':
            if (!skip_class(p, n, &i)) {
                c->gave_up = true;
                return;
            }
            break;
        case '\\':
            if (i + 1 >= n) {
                c->gave_up = true;
                return;
            }
            if (is_alnum((unsigned char)p[i + 1])) {
                char e = p[i + 1];
                i++;
                if (!skip_alnum_escape(p, n, &i)) {
                    c->gave_up = true;
                    return;
                }
                a_zero = e == 'b' || e == 'B' || e == 'A' || e == 'z' || e == 'Z' || e == 'G';
            } else {
                a_first = fold((unsigned char)p[i + 1]);
                i += 2;
            }
            break;
        case '.':
            a_first = LINT_FIRST_ANY;
            i++;
            break;
        case '^':
        case '$':
            a_zero = true;
            i++;
            break;
        case '*':
        case '+':
        case '?':
        case '{':
            if (p[i] != '{') {
                c->gave_up = true;  /* a quantifier without an atom */
                return;
            }
            a_first = '{';
            i++;
            break;
        default:
            a_first = fold((unsigned char)p[i]);
            i++;
            break;
        }
        a_e = i;
        quant = lint_quant(c, &i, &min, &unb, &poss);
        if (quant && poss) {
            unb = false;      /* possessive: never backtracks */
        }
        if (a_zero) {
            continue;
        }
        if (quant && unb) {
            out->has_unbounded = true;
        }
        if (have_body && quant && unb && !atomic) {
            if (body.has_unbounded) {
                lint_warn(c, a_s, "nested unbounded quantifiers (like (a+)+)");
            } else if (body.nullable) {
                lint_warn(c, a_s, "a repeated group that can match the empty string (like (a?)*)");
            } else if (body.overlap) {
                lint_warn(c, body.overlap_at, "alternatives of a repeated group start alike (like (a|ab)+)");
            }
        }
        if (!have_body && quant && unb && prev_unb) {
            bool same = a_e - a_s == prev_e - prev_s && memcmp(p + a_s, p + prev_s, a_e - a_s) == 0;
            bool dot = (a_e - a_s == 1 && p[a_s] == '.') || (prev_e - prev_s == 1 && p[prev_s] == '.');
            if (same || dot) {
                lint_warn(c, prev_s, "adjacent unbounded repeats of overlapping atoms (like .*.*)");
            }
        }
        prev_unb = !have_body && quant && unb;
        prev_s = a_s;
        prev_e = a_e;
        if (!(quant && min == 0) && !a_nullable) {
            if (b_nullable && !b_have_first) {
                b_first = a_first;
                b_have_first = true;
            }
            b_nullable = false;
        } else if (b_nullable && !b_have_first) {
            /* an optional first atom: the branch may start with anything */
            b_first = LINT_FIRST_UNKNOWN;
            b_have_first = true;
        }
    }
}

static void lint_pattern(struct loader *ld, const struct aw_yaml_node *v, const char *label)
{
    struct lint_ctx c = { ld, v, label, v->val, v->len, false };
    struct lint_seq top;
    size_t i = 0;

    lint_seq_parse(&c, &i, 0, &top);
}

static void compile_pattern(struct loader *ld, struct rule *r, const struct aw_yaml_node *v, const char *label)
{
    int errcode;
    PCRE2_SIZE erroff;

    /* DUPNAMES: one rule may capture "code" in each of its alternatives */
    r->code = pcre2_compile((PCRE2_SPTR)v->val, v->len, PCRE2_NEVER_UTF | PCRE2_DUPNAMES, &errcode,
                            &erroff, NULL);
    if (r->code == NULL) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0) {
            snprintf((char *)msg, sizeof(msg), "error %d", errcode);
        }
        if (errcode == PCRE2_ERROR_NOMEMORY) {
            ld->oom = true;
            return;
        }
        diag_at(ld, (unsigned)v->start.line + 1, pattern_column(ld, v, erroff),
                "%s: invalid pattern: %s at pattern offset %zu", label, (const char *)msg, (size_t)erroff);
        return;
    }
    r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
}

static void load_rule(struct loader *ld, const struct aw_yaml_node *map, size_t index)
{
    struct keyspec k[K_COUNT] = {
        { "id", WANT_STRING, NULL, NULL, false },
        { "category", WANT_STRING, NULL, NULL, false },
        { "severity", WANT_STRING, NULL, NULL, false },
        { "pattern", WANT_STRING, NULL, NULL, false },
        { "cause", WANT_STRING, NULL, NULL, false },
        { "remedy", WANT_STRING, NULL, NULL, false },
        { "description", WANT_STRING, NULL, NULL, false },
        { "examples", WANT_MAP, NULL, NULL, false },
    };
    static const int required[] = { K_ID, K_CATEGORY, K_SEVERITY, K_PATTERN };
    char label[128], buf[96];
    size_t errors_before = ld->errors;
    struct rule r;
    bool complete = true;
    enum aw_rule_severity sev = AW_RULE_INFO;

    memset(&r, 0, sizeof(r));
    walk_map(ld, map, "in rule", k, K_COUNT);
    if (k[K_ID].ok) {
        snprintf(label, sizeof(label), "rule '%s'",
                 aw_yaml_show(buf, sizeof(buf), k[K_ID].val->val, k[K_ID].val->len));
    } else {
        snprintf(label, sizeof(label), "rule #%zu", index);
    }
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (k[required[i]].key == NULL) {
            DIAG(ld, map->start, "%s: missing required key '%s'", label, k[required[i]].name);
        }
        complete = complete && k[required[i]].ok;
    }
    if (k[K_ID].ok) {
        const struct aw_yaml_node *v = k[K_ID].val;
        if (!valid_name(v->val, v->len, true)) {
            DIAG(ld, v->start, "invalid rule id '%s': expected [a-z0-9][a-z0-9._-]*, at most %d characters",
                 aw_yaml_show(buf, sizeof(buf), v->val, v->len), RULE_NAME_MAX);
        } else {
            const struct idpos *first = id_register(ld, v->val, (unsigned)v->start.line + 1,
                                                    (unsigned)v->start.column + 1);
            if (first != NULL) {
                DIAG(ld, v->start, "duplicate rule id '%s' (first defined at %s:%u:%u)", v->val,
                     first->file, first->line, first->col);
            }
        }
    }
    if (k[K_CATEGORY].ok) {
        const struct aw_yaml_node *v = k[K_CATEGORY].val;
        if (!valid_name(v->val, v->len, false)) {
            DIAG(ld, v->start, "invalid category '%s': expected [a-z][a-z0-9_-]*, at most %d characters",
                 aw_yaml_show(buf, sizeof(buf), v->val, v->len), RULE_NAME_MAX);
        }
    }
    if (k[K_SEVERITY].ok) {
        const struct aw_yaml_node *v = k[K_SEVERITY].val;
        if (aw_rule_severity_from_name(v->val, &sev) != AW_OK) {
            DIAG(ld, v->start, "invalid severity '%s': expected info, warning, error or critical",
                 aw_yaml_show(buf, sizeof(buf), v->val, v->len));
        }
    }
    if (k[K_PATTERN].ok) {
        const struct aw_yaml_node *v = k[K_PATTERN].val;
        if (v->len == 0) {
            DIAG(ld, v->start, "%s: empty pattern", label);
        } else {
            compile_pattern(ld, &r, v, label);
            if (r.code != NULL) {
                lint_pattern(ld, v, label);
            }
        }
    }
    if (k[K_EXAMPLES].ok) {
        load_examples(ld, &r, k[K_EXAMPLES].val, label);
    }
    if (ld->oom || !complete || ld->errors != errors_before) {
        rule_fini(&r);
        return;
    }

    r.id = dup_node(ld, &k[K_ID]);
    r.category = dup_node(ld, &k[K_CATEGORY]);
    r.pattern = dup_node(ld, &k[K_PATTERN]);
    r.pattern_len = k[K_PATTERN].val->len;
    r.cause = dup_node(ld, &k[K_CAUSE]);
    r.remedy = dup_node(ld, &k[K_REMEDY]);
    r.description = dup_node(ld, &k[K_DESCRIPTION]);
    if (!ld->oom && aw_rules_extract_literals(r.pattern, r.pattern_len, &r.lits, &r.nlits) != AW_OK) {
        ld->oom = true;
    }
    if (ld->oom) {
        rule_fini(&r);
        return;
    }
    /* Safety net: a match example the prefilter would reject means the
     * extractor is wrong for this pattern; run its regex always.  (Only
     * examples the regex matches count: with failing examples kept, a
     * wrong example must not cost the rule its prefilter.) */
    for (size_t e = 0; e < r.info.example_match_count && r.nlits > 0; e++) {
        bool hit = run_regex(&ld->scratch, &r, r.ex[0][e].text, r.ex[0][e].len) != 1;
        for (size_t j = 0; j < r.nlits && !hit; j++) {
            hit = contains_folded(r.ex[0][e].text, r.ex[0][e].len, r.lits[j]);
        }
        if (!hit) {
            aw_rules_literals_free(r.lits, r.nlits);
            r.lits = NULL;
            r.nlits = 0;
        }
    }
    r.info.id = r.id;
    r.info.category = r.category;
    r.info.severity = sev;
    r.info.pattern = r.pattern;
    r.info.cause = r.cause;
    r.info.remedy = r.remedy;
    r.info.file = ld->file;
    r.info.line = (unsigned)map->start.line + 1;
    r.info.column = (unsigned)map->start.column + 1;
    r.info.literal_count = r.nlits;
    if (ld->count == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 32;
        struct rule *grown = realloc(ld->rules, cap * sizeof(*grown));
        if (grown == NULL) {
            ld->oom = true;
            rule_fini(&r);
            return;
        }
        ld->rules = grown;
        ld->cap = cap;
    }
    ld->rules[ld->count++] = r;
}

static void load_tree(struct loader *ld, const struct aw_yaml_node *root)
{
    struct keyspec top[2] = {
        { "version", WANT_STRING, NULL, NULL, false },
        { "rules", WANT_SEQ, NULL, NULL, false },
    };
    const struct aw_yaml_node *rules;

    if (root == NULL) {
        diag_at(ld, 1, 1, "empty rule file: expected a mapping with a 'rules' sequence");
        return;
    }
    if (root->kind != AW_YAML_MAP) {
        DIAG(ld, root->start, "top level must be a mapping, not %s", aw_yaml_kind_name(root));
        return;
    }
    walk_map(ld, root, "at top level", top, 2);
    if (top[0].ok && !(top[0].val->len == 1 && top[0].val->val[0] == '1')) {
        char buf[96];
        DIAG(ld, top[0].val->start, "unsupported version '%s': expected 1",
             aw_yaml_show(buf, sizeof(buf), top[0].val->val, top[0].val->len));
    }
    if (top[1].key == NULL) {
        DIAG(ld, root->start, "missing required key 'rules'");
        return;
    }
    if (!top[1].ok) {
        return;
    }
    rules = top[1].val;
    if (!ld->have_empty_pos) {
        ld->have_empty_pos = true;
        ld->empty_file = ld->file;
        ld->empty_line = (unsigned)rules->start.line + 1;
        ld->empty_col = (unsigned)rules->start.column + 1;
    }
    for (size_t i = 0; i < rules->nkids && !ld->oom; i++) {
        const struct aw_yaml_node *item = rules->kids[i];
        if (item->bad) {
            continue;
        }
        if (item->kind != AW_YAML_MAP) {
            DIAG(ld, item->start, "rule #%zu must be a mapping, not %s", i + 1, aw_yaml_kind_name(item));
            continue;
        }
        load_rule(ld, item, i + 1);
    }
}

/* Read a regular file of at most RULE_FILE_MAX bytes. */
static int read_rule_file(const char *path, unsigned char **buf, size_t *len, bool *too_big, struct aw_err *err)
{
    *too_big = false;
    switch (aw_yaml_read_file(path, RULE_FILE_MAX, buf, len)) {
    case AW_YAML_READ_OK:
        return AW_OK;
    case AW_YAML_READ_OPEN:
        return aw_err_set(err, errno == ENOENT ? AW_ENOTFOUND : AW_EIO,
                          "cannot open rule file '%s': %s", path, strerror(errno));
    case AW_YAML_READ_NOT_FILE:
        return aw_err_set(err, AW_EIO, "rule file '%s': not a regular file", path);
    case AW_YAML_READ_TOO_BIG:
        *too_big = true;
        return AW_OK;
    case AW_YAML_READ_IO:
        return aw_err_set(err, AW_EIO, "cannot read rule file '%s': %s", path, strerror(errno));
    case AW_YAML_READ_NOMEM:
    default:
        return aw_err_set(err, AW_ENOMEM, "rule file '%s': out of memory", path);
    }
}

static int add_file_name(struct loader *ld, const char *path)
{
    char *copy = strdup(path);

    if (copy == NULL) {
        return AW_ENOMEM;
    }
    if (ld->nfiles == ld->fcap) {
        size_t cap = ld->fcap ? ld->fcap * 2 : 8;
        char **f = realloc(ld->files, cap * sizeof(*f));
        if (f == NULL) {
            free(copy);
            return AW_ENOMEM;
        }
        ld->files = f;
        ld->fcap = cap;
    }
    ld->files[ld->nfiles++] = copy;
    ld->file = copy;
    return AW_OK;
}

static int load_one(struct loader *ld, const char *path, struct aw_err *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    bool too_big = false;
    struct aw_yaml_node *root = NULL;
    size_t before = ld->fdiags.count;
    int rc;

    if (add_file_name(ld, path) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "rules: out of memory");
    }
    rc = read_rule_file(path, &buf, &len, &too_big, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (too_big) {
        diag_at(ld, 1, 1, "rule file is larger than %zu bytes", RULE_FILE_MAX);
        flush_diags(ld);
        free(buf);
        return AW_OK;
    }
    ld->buf = buf;
    ld->buflen = len;
    rc = aw_yaml_parse(buf, len, NEST_MAX, &ld->fdiags, &root);
    ld->errors += ld->fdiags.count - before;
    if (rc == AW_ENOMEM) {
        ld->oom = true;
    } else if (rc == AW_OK) {
        load_tree(ld, root);
    }
    flush_diags(ld);
    aw_yaml_free(root);
    ld->buf = NULL;
    ld->buflen = 0;
    free(buf);
    return AW_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool rule_file_name(const char *name)
{
    size_t n = strlen(name);

    if (name[0] == '.') {
        return false;
    }
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* The rule files of a directory, sorted by name (strcmp). */
static int list_dir(const char *dir, char ***out, size_t *count, struct aw_err *err)
{
    struct aw_os_dir *d = aw_os_dir_open(dir);
    const char *d_name;
    char **names = NULL;
    size_t n = 0, cap = 0, dlen = strlen(dir);
    int rc = AW_OK;

    *out = NULL;
    *count = 0;
    if (d == NULL) {
        return aw_err_set(err, errno == ENOENT ? AW_ENOTFOUND : AW_EIO, "cannot open rules directory '%s': %s",
                          dir, strerror(errno));
    }
    while (dlen > 1 && aw_path_is_sep(dir[dlen - 1])) {
        dlen--;
    }
    while ((d_name = aw_os_dir_next(d)) != NULL) {
        struct aw_os_stat st;
        char *full;
        size_t flen;

        if (!rule_file_name(d_name)) {
            continue;
        }
        flen = dlen + 1 + strlen(d_name) + 1;
        full = malloc(flen);
        if (full == NULL) {
            rc = aw_err_set(err, AW_ENOMEM, "rules: out of memory");
            goto out;
        }
        snprintf(full, flen, "%.*s%c%s", (int)dlen, dir, AW_PATH_SEP, d_name);
        if (aw_os_stat(full, &st) != 0 || !st.is_reg) {
            free(full);
            continue;
        }
        if (n == cap) {
            size_t c = cap ? cap * 2 : 16;
            char **g = realloc(names, c * sizeof(*g));
            if (g == NULL) {
                free(full);
                rc = aw_err_set(err, AW_ENOMEM, "rules: out of memory");
                goto out;
            }
            names = g;
            cap = c;
        }
        names[n++] = full;
    }
    if (errno != 0) {
        rc = aw_err_set(err, AW_EIO, "cannot read rules directory '%s': %s", dir, strerror(errno));
        goto out;
    }
    if (n > 1) {
        qsort(names, n, sizeof(*names), cmp_str);
    }
    *out = names;
    *count = n;
    names = NULL;
    n = 0;
out:
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    aw_os_dir_close(d);
    return rc;
}

static void loader_fini(struct loader *ld)
{
    for (size_t i = 0; i < ld->count; i++) {
        rule_fini(&ld->rules[i]);
    }
    free(ld->rules);
    for (size_t i = 0; i < ld->nfiles; i++) {
        free(ld->files[i]);
    }
    free(ld->files);
    for (size_t i = 0; i < ld->idcap; i++) {
        free(ld->ids[i].id);
    }
    free(ld->ids);
    aw_yaml_diags_free(&ld->fdiags);
    aw_diags_free(&ld->lint);
    scratch_fini(&ld->scratch);
}

int aw_rules_load(const char *path, struct aw_ruleset **out, struct aw_diags *diags, struct aw_err *err)
{
    return aw_rules_load_ex(path, 0, out, diags, err);
}

int aw_rules_load_ex(const char *path, unsigned flags, struct aw_ruleset **out, struct aw_diags *diags,
                     struct aw_err *err)
{
    struct loader ld;
    struct aw_diags local = { NULL, 0, 0 };
    struct aw_ruleset *rs = NULL;
    struct aw_os_stat st;
    char **names = NULL;
    size_t nnames = 0;
    int rc = AW_OK;

    memset(&ld, 0, sizeof(ld));
    if (out != NULL) {
        *out = NULL;
    }
    ld.diags = diags != NULL ? diags : &local;
    ld.flags = flags;
    if ((rc = scratch_init(&ld.scratch, err)) != AW_OK) {
        goto out;
    }
    if (path == NULL || out == NULL) {
        rc = aw_err_set(err, AW_EUSAGE, "rules: no path given");
        goto out;
    }
    if (aw_os_stat(path, &st) != 0) {
        rc = aw_err_set(err, (errno == ENOENT || errno == ENOTDIR) ? AW_ENOTFOUND : AW_EIO,
                        "rules '%s': %s", path, strerror(errno));
        goto out;
    }
    if (st.is_dir) {
        if ((rc = list_dir(path, &names, &nnames, err)) != AW_OK) {
            goto out;
        }
        if (nnames == 0) {
            rc = aw_err_set(err, AW_ENOTFOUND, "rules directory '%s' has no *.yaml or *.yml files", path);
            goto out;
        }
        for (size_t i = 0; i < nnames && rc == AW_OK && !ld.oom; i++) {
            rc = load_one(&ld, names[i], err);
        }
    } else if (st.is_reg) {
        rc = load_one(&ld, path, err);
    } else {
        rc = aw_err_set(err, AW_EIO, "rules '%s': not a file or directory", path);
    }
    if (rc != AW_OK) {
        goto out;
    }
    if (ld.oom) {
        rc = aw_err_set(err, AW_ENOMEM, "rules '%s': out of memory", path);
        goto out;
    }
    if (ld.errors == 0 && ld.count == 0) {
        ld.file = ld.have_empty_pos ? ld.empty_file : ld.files[0];
        diag_at(&ld, ld.have_empty_pos ? ld.empty_line : 1, ld.have_empty_pos ? ld.empty_col : 1,
                "empty rule set: no rules defined");
        flush_diags(&ld);
    }
    if (ld.errors > 0) {
        rc = aw_err_set(err, AW_ESYNTAX, "rules '%s': %zu problem%s found", path, ld.errors,
                        ld.errors == 1 ? "" : "s");
        goto out;
    }

    rs = calloc(1, sizeof(*rs));
    if (rs == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "rules '%s': out of memory", path);
        goto out;
    }
    rs->rules = ld.rules;
    rs->count = ld.count;
    rs->files = ld.files;
    rs->nfiles = ld.nfiles;
    rs->pattern_lint = ld.lint;
    memset(&ld.lint, 0, sizeof(ld.lint));
    ld.rules = NULL;
    ld.count = 0;
    ld.files = NULL;
    ld.nfiles = 0;
    rs->words = (rs->count + 63) / 64;
    rs->always = calloc(rs->words, sizeof(*rs->always));
    if (rs->always == NULL || build_dfa(rs) != AW_OK) {
        rc = aw_err_set(err, AW_ENOMEM, "rules '%s': out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < rs->count; i++) {
        if (rs->rules[i].nlits == 0 || !rs->have_dfa) {
            rs->always[i >> 6] |= (uint64_t)1 << (i & 63);
        }
    }
    *out = rs;
    rs = NULL;
out:
    aw_rules_free(&rs);
    for (size_t i = 0; i < nnames; i++) {
        free(names[i]);
    }
    free(names);
    loader_fini(&ld);
    aw_diags_free(&local);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Matcher                                                              */

int aw_matcher_new(const struct aw_ruleset *rs, struct aw_matcher **out, struct aw_err *err)
{
    struct aw_matcher *m = NULL;
    int rc;

    *out = NULL;
    if (rs == NULL) {
        return aw_err_set(err, AW_EUSAGE, "matcher: no rule set");
    }
    m = malloc(sizeof(*m));
    if (m == NULL) {
        return aw_err_set(err, AW_ENOMEM, "matcher: out of memory");
    }
    if ((rc = scratch_init(m, err)) != AW_OK) {
        goto fail;
    }
    m->rs = rs;
    m->bits = calloc(rs->words ? rs->words : 1, sizeof(*m->bits));
    if (m->bits == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "matcher: out of memory");
        goto fail;
    }
    *out = m;
    return AW_OK;
fail:
    scratch_fini(m);
    free(m);
    return rc;
}

void aw_matcher_free(struct aw_matcher **mp)
{
    if (mp == NULL || *mp == NULL) {
        return;
    }
    scratch_fini(*mp);
    free(*mp);
    *mp = NULL;
}

long aw_matcher_classify(struct aw_matcher *m, const char *msg, size_t len)
{
    const struct aw_ruleset *rs = m->rs;

    m->stats.messages++;
    m->last_rule = -1;
    if (rs->have_dfa) {
        prefilter_scan(rs, m->bits, (const unsigned char *)msg, len);
    }
    for (size_t w = 0; w < rs->words; w++) {
        uint64_t cand = rs->have_dfa ? (m->bits[w] | rs->always[w]) : rs->always[w];
        while (cand != 0) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(cand);
            cand &= cand - 1;
            if (run_regex(m, &rs->rules[i], msg, len) == 1) {
                m->stats.matches++;
                m->last_rule = (long)i;
                m->last_subject = msg;
                return (long)i;
            }
        }
    }
    return -1;
}

long aw_matcher_classify_brute(struct aw_matcher *m, const char *msg, size_t len)
{
    for (size_t i = 0; i < m->rs->count; i++) {
        if (run_regex(m, &m->rs->rules[i], msg, len) == 1) {
            return (long)i;
        }
    }
    return -1;
}

bool aw_matcher_rule_matches(struct aw_matcher *m, size_t i, const char *msg, size_t len)
{
    const struct aw_ruleset *rs = m->rs;

    m->last_rule = -1;
    if (i >= rs->count) {
        return false;
    }
    if (!(rs->always[i >> 6] & ((uint64_t)1 << (i & 63)))) {
        prefilter_scan(rs, m->bits, (const unsigned char *)msg, len);
        if (!(m->bits[i >> 6] & ((uint64_t)1 << (i & 63)))) {
            return false;
        }
    }
    return run_regex(m, &rs->rules[i], msg, len) == 1;
}

bool aw_matcher_capture(const struct aw_matcher *m, const char *name, const char **text,
                        size_t *len)
{
    const PCRE2_SIZE *ov;
    PCRE2_SPTR first, last;
    int size;

    if (m->last_rule < 0 || name == NULL) {
        return false;
    }
    /* Names may repeat (PCRE2_DUPNAMES, one per alternative): the group
     * that took part in the match is the one to report. */
    size = pcre2_substring_nametable_scan(m->rs->rules[m->last_rule].code, (PCRE2_SPTR)name, &first, &last);
    if (size <= 0) {
        return false;
    }
    ov = pcre2_get_ovector_pointer(m->md);
    for (PCRE2_SPTR e = first; e <= last; e += size) {
        uint32_t n = ((uint32_t)e[0] << 8) | e[1];
        if (n == 0 || n >= pcre2_get_ovector_count(m->md)) {
            continue;
        }
        if (ov[2 * n] == PCRE2_UNSET || ov[2 * n + 1] < ov[2 * n]) {
            continue;
        }
        *text = m->last_subject + ov[2 * n];
        *len = ov[2 * n + 1] - ov[2 * n];
        return true;
    }
    return false;
}

void aw_matcher_get_stats(const struct aw_matcher *m, struct aw_matcher_stats *out)
{
    if (out == NULL) {
        return;
    }
    if (m == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = m->stats;
}

/* ------------------------------------------------------------------ */
/* Lint                                                                 */

int aw_rules_lint(const struct aw_ruleset *rs, struct aw_diags *warnings, struct aw_err *err)
{
    struct aw_matcher *m = NULL;
    int rc = AW_OK;

    if (rs == NULL || warnings == NULL) {
        return aw_err_set(err, AW_EUSAGE, "rules lint: no rule set");
    }
    for (size_t i = 0; i < rs->pattern_lint.count && rc == AW_OK; i++) {
        rc = aw_diags_add(warnings, "%s", rs->pattern_lint.items[i]);
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
