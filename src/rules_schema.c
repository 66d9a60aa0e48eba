/*
 * The rule schema: one rule file's YAML tree (yamltree.h) validated key by
 * key into rules (the format is documented in rules/README.md).
 *
 * Validation reports every problem it finds instead of stopping at the
 * first.  Every scalar is taken as a string (no YAML 1.1 type guessing),
 * except that a plain empty/~/null scalar is null and never a valid
 * string.  A rule with any problem is not kept; its patterns are still
 * compiled and its examples run, so one pass reports everything.
 */
#include "rules_load.h"
#include "rules_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/grow.h"

bool aw_rules_valid_name(const char *s, size_t len, bool id)
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
static struct idpos *id_register(struct loader *ld, const char *id, unsigned line, unsigned col)
{
    size_t mask, i;

    if (ld->idcount * 2 >= ld->idcap) {
        size_t cap = ld->idcap ? ld->idcap * 2 : 64;
        struct idpos *t = calloc(cap, sizeof(*t));
        if (t == NULL) {
            ld->yc.oom = true;
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
        ld->yc.oom = true;
        return NULL;
    }
    ld->ids[i].file = ld->yc.file;
    ld->ids[i].line = line;
    ld->ids[i].col = col;
    ld->ids[i].shipped = !ld->local;
    ld->ids[i].local = ld->local;
    ld->idcount++;
    return NULL;
}

/* The registered id, or NULL. */
static const struct idpos *id_lookup(const struct loader *ld, const char *id, size_t len)
{
    size_t mask = ld->idcap - 1;

    if (ld->idcap == 0 || strlen(id) != len) {
        return NULL;
    }
    for (size_t i = hash_str(id) & mask; ld->ids[i].id != NULL; i = (i + 1) & mask) {
        if (strcmp(ld->ids[i].id, id) == 0) {
            return &ld->ids[i];
        }
    }
    return NULL;
}

static char *dup_node(struct loader *ld, const struct aw_yaml_key *k)
{
    char *s;

    if (k == NULL || k->val == NULL) {
        s = strdup("");
    } else {
        s = malloc(k->val->len + 1);
        if (s != NULL) {
            memcpy(s, k->val->val, k->val->len + 1);
        }
    }
    if (s == NULL) {
        ld->yc.oom = true;
    }
    return s;
}

enum { K_ID, K_CATEGORY, K_SEVERITY, K_PATTERN, K_CAUSE, K_REMEDY, K_DESCRIPTION, K_EXAMPLES, K_COUNT };

/* Check the examples of a rule against its compiled pattern and copy
 * them into r. */
static void load_examples(struct loader *ld, struct rule *r, const struct aw_yaml_node *exmap, const char *label)
{
    struct aw_yaml_key keys[2] = {
        { "match", AW_YAML_SEQUENCE, NULL, NULL },
        { "no_match", AW_YAML_SEQUENCE, NULL, NULL },
    };

    aw_yaml_walk_map(&ld->yc, exmap, " in examples", NULL, keys, 2);
    for (int k = 0; k < 2; k++) {
        const struct aw_yaml_node *seq = keys[k].val;
        size_t cnt = 0;

        if (keys[k].val == NULL) {
            continue;
        }
        if (r != NULL) {
            r->ex[k] = calloc(seq->nkids ? seq->nkids : 1, sizeof(*r->ex[k]));
            if (r->ex[k] == NULL) {
                ld->yc.oom = true;
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
            m = aw_rule_run(&ld->scratch, r, e->val, e->len);
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
                ld->yc.oom = true;
                return;
            }
            memcpy(r->ex[k][cnt].text, e->val, e->len + 1);
            r->ex[k][cnt].len = e->len;
            r->ex[k][cnt].line = (unsigned)e->start.line + 1;
            r->ex[k][cnt].col = (unsigned)e->start.column + 1;
            cnt++;
            /* kept current so aw_rule_fini() frees exactly what exists */
            if (k == 0) {
                r->info.example_match_count = cnt;
            } else {
                r->info.example_no_match_count = cnt;
            }
        }
    }
}

static void compile_pattern(struct loader *ld, struct rule *r, const struct aw_yaml_node *v,
                            const struct pattern_text *pt, const char *label)
{
    int errcode;
    PCRE2_SIZE erroff;

    /* DUPNAMES: one rule may capture "code" in each of its alternatives */
    r->code = pcre2_compile((PCRE2_SPTR)pt->p, pt->n, PCRE2_NEVER_UTF | PCRE2_DUPNAMES, &errcode,
                            &erroff, NULL);
    if (r->code == NULL) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0) {
            snprintf((char *)msg, sizeof(msg), "error %d", errcode);
        }
        if (errcode == PCRE2_ERROR_NOMEMORY) {
            ld->yc.oom = true;
            return;
        }
        aw_yaml_check_diag(&ld->yc, (unsigned)v->start.line + 1, aw_rules_pattern_column(ld, v, pt, erroff),
                "%s: invalid pattern: %s at pattern offset %zu%s", label, (const char *)msg, (size_t)erroff,
                pt->owned != NULL ? " (fragments expanded)" : "");
        return;
    }
    r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
}

/* The id (unique across files; in the local layer it may be a shipped
 * rule's, once, and then *replaces is set), category and severity of a
 * rule. */
static void check_names(struct loader *ld, const struct aw_yaml_key *k, enum aw_rule_severity *sev,
                        bool *replaces)
{
    char buf[96];

    if (k[K_ID].val != NULL) {
        const struct aw_yaml_node *v = k[K_ID].val;
        if (!aw_rules_valid_name(v->val, v->len, true)) {
            DIAG(ld, v->start, "invalid rule id '%s': expected [a-z0-9][a-z0-9._-]*, at most %d characters",
                 aw_yaml_show(buf, sizeof(buf), v->val, v->len), RULE_NAME_MAX);
        } else {
            struct idpos *first = id_register(ld, v->val, (unsigned)v->start.line + 1,
                                              (unsigned)v->start.column + 1);
            if (first != NULL && ld->local && !first->local) {
                /* a duplicate from now on points at the replacement */
                *replaces = true;
                first->local = true;
                first->file = ld->yc.file;
                first->line = (unsigned)v->start.line + 1;
                first->col = (unsigned)v->start.column + 1;
            } else if (first != NULL) {
                DIAG(ld, v->start, "duplicate rule id '%s' (first defined at %s:%u:%u)", v->val,
                     first->file, first->line, first->col);
            }
        }
    }
    if (k[K_CATEGORY].val != NULL) {
        const struct aw_yaml_node *v = k[K_CATEGORY].val;
        if (!aw_rules_valid_name(v->val, v->len, false)) {
            DIAG(ld, v->start, "invalid category '%s': expected [a-z][a-z0-9_-]*, at most %d characters",
                 aw_yaml_show(buf, sizeof(buf), v->val, v->len), RULE_NAME_MAX);
        }
    }
    if (k[K_SEVERITY].val != NULL) {
        const struct aw_yaml_node *v = k[K_SEVERITY].val;
        if (aw_rule_severity_from_name(v->val, sev) != AW_OK) {
            DIAG(ld, v->start, "invalid severity '%s': expected info, warning, error or critical",
                 aw_yaml_show(buf, sizeof(buf), v->val, v->len));
        }
    }
}

/* A valid rule r (its pattern compiled, its examples copied): give it its
 * strings (the pattern as compiled, fragments expanded: pt's own copy is
 * taken over) and prefilter literals and append it to ld->rules.  r is
 * taken over either way. */
static void keep_rule(struct loader *ld, struct rule *r, const struct aw_yaml_key *k, enum aw_rule_severity sev,
                      const struct aw_yaml_node *map, bool replaces, struct pattern_text *pt)
{
    r->id = dup_node(ld, &k[K_ID]);
    r->category = dup_node(ld, &k[K_CATEGORY]);
    r->pattern = pt->owned != NULL ? pt->owned : dup_node(ld, &k[K_PATTERN]);
    r->pattern_len = pt->n;
    pt->owned = NULL;
    r->cause = dup_node(ld, &k[K_CAUSE]);
    r->remedy = dup_node(ld, &k[K_REMEDY]);
    r->description = dup_node(ld, &k[K_DESCRIPTION]);
    if (!ld->yc.oom && aw_rules_extract_literals(r->pattern, r->pattern_len, &r->lits, &r->nlits) != AW_OK) {
        ld->yc.oom = true;
    }
    if (ld->yc.oom) {
        aw_rule_fini(r);
        return;
    }
    /* Safety net: a match example the prefilter would reject means the
     * extractor is wrong for this pattern; run its regex always.  (Only
     * examples the regex matches count: with failing examples kept, a
     * wrong example must not cost the rule its prefilter.) */
    for (size_t e = 0; e < r->info.example_match_count && r->nlits > 0; e++) {
        const struct example *x = &r->ex[0][e];
        if (aw_rule_run(&ld->scratch, r, x->text, x->len) == 1 &&
            !aw_literals_any_in(r->lits, r->nlits, x->text, x->len)) {
            aw_rules_literals_free(r->lits, r->nlits);
            r->lits = NULL;
            r->nlits = 0;
        }
    }
    r->info.id = r->id;
    r->info.category = r->category;
    r->info.severity = sev;
    r->info.pattern = r->pattern;
    r->info.cause = r->cause;
    r->info.remedy = r->remedy;
    r->info.file = ld->yc.file;
    r->info.line = (unsigned)map->start.line + 1;
    r->info.column = (unsigned)map->start.column + 1;
    r->info.literal_count = r->nlits;
    r->info.local = ld->local;
    r->info.replaces = replaces;
    /* in place, so the shipped order of precedence stays what it was */
    for (size_t i = 0; replaces && i < ld->shipped; i++) {
        if (strcmp(ld->rules[i].id, r->id) == 0) {
            aw_rule_fini(&ld->rules[i]);
            ld->rules[i] = *r;
            return;
        }
    }
    if (AW_GROW(ld->rules, ld->cap, ld->count + 1, 32) != AW_OK) {
        ld->yc.oom = true;
        aw_rule_fini(r);
        return;
    }
    ld->rules[ld->count++] = *r;
}

static void load_rule(struct loader *ld, const struct aw_yaml_node *map, size_t index)
{
    struct aw_yaml_key k[K_COUNT] = {
        { "id", AW_YAML_STRING, NULL, NULL },
        { "category", AW_YAML_STRING, NULL, NULL },
        { "severity", AW_YAML_STRING, NULL, NULL },
        { "pattern", AW_YAML_STRING, NULL, NULL },
        { "cause", AW_YAML_STRING, NULL, NULL },
        { "remedy", AW_YAML_STRING, NULL, NULL },
        { "description", AW_YAML_STRING, NULL, NULL },
        { "examples", AW_YAML_MAPPING, NULL, NULL },
    };
    static const int required[] = { K_ID, K_CATEGORY, K_SEVERITY, K_PATTERN };
    char label[128], buf[96];
    size_t problems_before = ld->yc.diags.count;
    struct rule r;
    struct pattern_text pt = { NULL, 0, NULL, 0 };
    bool complete = true, replaces = false;
    enum aw_rule_severity sev = AW_RULE_INFO;

    memset(&r, 0, sizeof(r));
    aw_yaml_walk_map(&ld->yc, map, " in rule", NULL, k, K_COUNT);
    if (k[K_ID].val != NULL) {
        snprintf(label, sizeof(label), "rule '%s'",
                 aw_yaml_show(buf, sizeof(buf), k[K_ID].val->val, k[K_ID].val->len));
    } else {
        snprintf(label, sizeof(label), "rule #%zu", index);
    }
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (k[required[i]].key == NULL) {
            DIAG(ld, map->start, "%s: missing required key '%s'", label, k[required[i]].name);
        }
        complete = complete && k[required[i]].val != NULL;
    }
    check_names(ld, k, &sev, &replaces);
    if (k[K_PATTERN].val != NULL) {
        const struct aw_yaml_node *v = k[K_PATTERN].val;
        if (v->len == 0) {
            DIAG(ld, v->start, "%s: empty pattern", label);
        } else if (aw_rules_expand(ld, v, label, &pt)) {
            compile_pattern(ld, &r, v, &pt, label);
            if (r.code != NULL) {
                aw_rules_lint_pattern(ld, v, &pt, label);
            }
        }
    }
    if (k[K_EXAMPLES].val != NULL) {
        load_examples(ld, &r, k[K_EXAMPLES].val, label);
    }
    if (ld->yc.oom || !complete || ld->yc.diags.count != problems_before) {
        aw_rule_fini(&r);
    } else {
        keep_rule(ld, &r, k, sev, map, replaces, &pt);
    }
    free(pt.owned);
}

/* A local file's `disable:` list: each id must be a shipped rule's (the
 * shipped layer is loaded by now); the ids are kept for the loader to take
 * out once every local file is in. */
static void load_disable(struct loader *ld, const struct aw_yaml_key *key)
{
    const struct aw_yaml_node *seq = key->val;
    char buf[96];

    if (!ld->local) {
        DIAG(ld, key->key->start, "'disable' belongs in a local rules file (--local-rules), not in the "
             "shipped rules");
        return;
    }
    for (size_t i = 0; i < seq->nkids && !ld->yc.oom; i++) {
        const struct aw_yaml_node *e = seq->kids[i];
        const struct idpos *p;

        if (e->bad) {
            continue;
        }
        if (e->kind != AW_YAML_SCALAR || e->null) {
            DIAG(ld, e->start, "disable: a rule id must be a string, not %s", aw_yaml_kind_name(e));
            continue;
        }
        p = id_lookup(ld, e->val, e->len);
        if (p == NULL || !p->shipped) {
            DIAG(ld, e->start, "disable: unknown rule id '%s': no shipped rule has it",
                 aw_yaml_show(buf, sizeof(buf), e->val, e->len));
            continue;
        }
        if (AW_GROW(ld->disabled, ld->dcap, ld->ndisabled + 1, 8) != AW_OK ||
            (ld->disabled[ld->ndisabled] = strdup(p->id)) == NULL) {
            ld->yc.oom = true;
            return;
        }
        ld->ndisabled++;
    }
}

/* The top level of a file: version, fragments (before any pattern is
 * read), disable, then the rules. */
static void load_top(struct loader *ld, const struct aw_yaml_node *root)
{
    struct aw_yaml_key top[4] = {
        { "version", AW_YAML_STRING, NULL, NULL },
        { "rules", AW_YAML_SEQUENCE, NULL, NULL },
        { "disable", AW_YAML_SEQUENCE, NULL, NULL },
        { "fragments", AW_YAML_MAPPING, NULL, NULL },
    };
    const struct aw_yaml_node *rules;

    aw_yaml_walk_map(&ld->yc, root, " at top level", NULL, top, 4);
    if (top[3].val != NULL) {
        aw_rules_fragments_load(ld, top[3].val);
    }
    if (top[0].val != NULL && !(top[0].val->len == 1 && top[0].val->val[0] == '1')) {
        char buf[96];
        DIAG(ld, top[0].val->start, "unsupported version '%s': expected 1",
             aw_yaml_show(buf, sizeof(buf), top[0].val->val, top[0].val->len));
    }
    if (top[2].val != NULL) {
        load_disable(ld, &top[2]);
    }
    if (top[1].key == NULL && !(ld->local && top[2].key != NULL)) {
        DIAG(ld, root->start, ld->local ? "missing required key 'rules' or 'disable'"
                                        : "missing required key 'rules'");
        return;
    }
    if (top[1].val == NULL) {
        return;
    }
    rules = top[1].val;
    if (!ld->have_empty_pos) {
        ld->have_empty_pos = true;
        ld->empty_file = ld->yc.file;
        ld->empty_line = (unsigned)rules->start.line + 1;
        ld->empty_col = (unsigned)rules->start.column + 1;
    }
    for (size_t i = 0; i < rules->nkids && !ld->yc.oom; i++) {
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


void aw_rules_load_tree(struct loader *ld, const struct aw_yaml_node *root)
{
    if (root == NULL) {
        aw_yaml_check_diag(&ld->yc, 1, 1, "empty rule file: expected a mapping with a 'rules' sequence");
        return;
    }
    if (root->kind != AW_YAML_MAP) {
        DIAG(ld, root->start, "top level must be a mapping, not %s", aw_yaml_kind_name(root));
        return;
    }
    load_top(ld, root);
    aw_rules_fragments_end(ld);
}
