/*
 * Rules: the loaded rule set (see rules.h; the file format is documented
 * in rules/README.md).  This file holds what a loaded set offers --
 * rules, examples, literals, severity names -- and its release; the
 * engine's other concerns each have a file of their own, listed in
 * rules_engine.h.
 *
 * Ownership: the rule set is immutable after load and may be shared by
 * many matchers; all mutable scratch lives in struct aw_matcher.
 */
#include "agentwatch/rules.h"

#include "rules_engine.h"
#include "rules_internal.h"

#include <stdlib.h>
#include <string.h>

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

void aw_rule_fini(struct rule *r)
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

void aw_rules_free_arrays(struct rule *rules, size_t count, char **files, size_t nfiles)
{
    for (size_t i = 0; i < count; i++) {
        aw_rule_fini(&rules[i]);
    }
    free(rules);
    for (size_t i = 0; i < nfiles; i++) {
        free(files[i]);
    }
    free(files);
}

void aw_rules_free(struct aw_ruleset **rsp)
{
    struct aw_ruleset *rs;

    if (rsp == NULL || *rsp == NULL) {
        return;
    }
    rs = *rsp;
    aw_rules_free_arrays(rs->rules, rs->count, rs->files, rs->nfiles);
    aw_diags_free(&rs->pattern_lint);
    aw_prefilter_free(&rs->pf);
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

