/*
 * Classification (see rules.h): the prefilter picks the candidate rules,
 * then their regexes run in rule order until one matches.
 *
 * Patterns are compiled in byte mode (PCRE2_NEVER_UTF: a log line with
 * invalid UTF-8 can never make a match fail or error) and JIT compiled
 * when possible (rules_schema.c).  All matching runs under a match limit,
 * a depth limit (interpreter), a heap limit and a bounded JIT stack; a
 * limit hit is "no match", never an error or a hang, but it is counted per
 * rule and the classification remembers it, so that scan stores it and
 * reports it ("N records could not be matched by rule X").
 *
 * The match limit bounds what a catastrophic pattern costs per record.
 * Measured with bench/limit_cost.c (`(a+)+$|b$` on "aaa...ab", 2 cores
 * shared): at 1,000,000 a limit hit cost 1.3 ms (JIT) and 12 ms
 * (interpreter); at 100,000 it costs 0.13 ms and 1.2 ms.  The most any
 * shipped rule needs on the real and the synthetic corpora, also on their
 * records repeated to 64 KiB, is 5,469 (JIT) and 40,192 (interpreter, a
 * no_match example of the shipped rules): 100,000 leaves every result as
 * it was, with room.  The interpreter runs only where JIT compilation
 * failed, so its cost stays above the JIT's.  The deepest backtracking
 * measured was 12 frames: the depth and heap limits only bound memory.
 *
 * Captures.  Patterns compile with PCRE2_DUPNAMES so a rule can capture
 * `code` once per spelling alternative; aw_matcher_capture() reports the
 * group of that name that took part in the match.
 */
#include "agentwatch/rules.h"

#include "rules_engine.h"
#include "rules_internal.h"

#include <stdlib.h>
#include <string.h>

#define MATCH_LIMIT 100000u
#define DEPTH_LIMIT 10000u
#define HEAP_LIMIT_KIB (64u * 1024u)
#define JIT_STACK_MIN (32u * 1024u)
#define JIT_STACK_MAX (512u * 1024u)

/* Capture pairs of the loader's scratch (its example checks read no
 * captures); a matcher sizes its match data to the rule set's largest
 * pattern, so a code captured in a rule's 40th alternative is still
 * reported (a fixed 32 once dropped the codes of the later spellings). */
#define CAPTURE_PAIRS 32

int aw_matcher_scratch_init(struct aw_matcher *m, struct aw_err *err)
{
    memset(m, 0, sizeof(*m));
    m->last_rule = -1;
    m->last_limited = -1;
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

void aw_matcher_scratch_fini(struct aw_matcher *m)
{
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    pcre2_jit_stack_free(m->jstack);
    free(m->bits);
    free(m->limited);
    m->limited = NULL;
    m->md = NULL;
    m->mctx = NULL;
    m->jstack = NULL;
    m->bits = NULL;
}

int aw_rule_run(struct aw_matcher *m, const struct rule *r, const char *s, size_t len)
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

/* Match data with a pair for every group of the rule set's largest
 * pattern (PCRE2 reports only the groups that fit). */
static int size_match_data(struct aw_matcher *m, const struct aw_ruleset *rs, struct aw_err *err)
{
    uint32_t most = CAPTURE_PAIRS - 1;

    for (size_t i = 0; i < rs->count; i++) {
        uint32_t groups = 0;
        if (rs->rules[i].code != NULL &&
            pcre2_pattern_info(rs->rules[i].code, PCRE2_INFO_CAPTURECOUNT, &groups) == 0 && groups > most) {
            most = groups;
        }
    }
    if (most + 1 > pcre2_get_ovector_count(m->md)) {
        pcre2_match_data *md = pcre2_match_data_create(most + 1, NULL);
        if (md == NULL) {
            return aw_err_set(err, AW_ENOMEM, "matcher: cannot allocate PCRE2 match data for %u groups",
                              (unsigned)most);
        }
        pcre2_match_data_free(m->md);
        m->md = md;
    }
    return AW_OK;
}

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
    if ((rc = aw_matcher_scratch_init(m, err)) != AW_OK) {
        goto fail;
    }
    m->rs = rs;
    if ((rc = size_match_data(m, rs, err)) != AW_OK) {
        goto fail;
    }
    m->bits = calloc(rs->pf.words ? rs->pf.words : 1, sizeof(*m->bits));
    m->limited = calloc(rs->count ? rs->count : 1, sizeof(*m->limited));
    if (m->bits == NULL || m->limited == NULL) {
        rc = aw_err_set(err, AW_ENOMEM, "matcher: out of memory");
        goto fail;
    }
    *out = m;
    return AW_OK;
fail:
    aw_matcher_scratch_fini(m);
    free(m);
    return rc;
}

void aw_matcher_free(struct aw_matcher **mp)
{
    if (mp == NULL || *mp == NULL) {
        return;
    }
    aw_matcher_scratch_fini(*mp);
    free(*mp);
    *mp = NULL;
}

/* Rule i was stopped by a limit on the message being classified. */
static void note_limit(struct aw_matcher *m, size_t i)
{
    m->limited[i]++;
    if (m->last_limited < 0) {
        m->last_limited = (long)i;
    }
}

long aw_matcher_classify(struct aw_matcher *m, const char *msg, size_t len)
{
    const struct aw_ruleset *rs = m->rs;
    const struct aw_prefilter *pf = &rs->pf;

    m->stats.messages++;
    m->last_rule = -1;
    m->last_limited = -1;
    if (pf->have_dfa) {
        aw_prefilter_scan(pf, m->bits, (const unsigned char *)msg, len);
    }
    for (size_t w = 0; w < pf->words; w++) {
        uint64_t cand = pf->have_dfa ? (m->bits[w] | pf->always[w]) : pf->always[w];
        while (cand != 0) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(cand);
            cand &= cand - 1;
            switch (aw_rule_run(m, &rs->rules[i], msg, len)) {
            case 1:
                m->stats.matches++;
                m->last_rule = (long)i;
                m->last_subject = msg;
                return (long)i;
            case -1:
                note_limit(m, i);
                break;
            default:
                break;
            }
        }
    }
    return -1;
}

long aw_matcher_classify_brute(struct aw_matcher *m, const char *msg, size_t len)
{
    for (size_t i = 0; i < m->rs->count; i++) {
        if (aw_rule_run(m, &m->rs->rules[i], msg, len) == 1) {
            return (long)i;
        }
    }
    return -1;
}

bool aw_matcher_rule_matches(struct aw_matcher *m, size_t i, const char *msg, size_t len)
{
    const struct aw_ruleset *rs = m->rs;

    m->last_rule = -1;
    m->last_limited = -1;
    if (i >= rs->count) {
        return false;
    }
    if (!aw_prefilter_always(&rs->pf, i)) {
        aw_prefilter_scan(&rs->pf, m->bits, (const unsigned char *)msg, len);
        if (!(m->bits[i >> 6] & ((uint64_t)1 << (i & 63)))) {
            return false;
        }
    }
    switch (aw_rule_run(m, &rs->rules[i], msg, len)) {
    case 1:
        return true;
    case -1:
        note_limit(m, i);
        return false;
    default:
        return false;
    }
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


long aw_matcher_last_limited(const struct aw_matcher *m)
{
    return m->last_limited;
}

uint64_t aw_matcher_rule_limit_hits(const struct aw_matcher *m, size_t i)
{
    return i < m->rs->count ? m->limited[i] : 0;
}
