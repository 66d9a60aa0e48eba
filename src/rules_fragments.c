/*
 * Pattern fragments (rules/README.md, "Fragments"): a rule file's
 * top-level `fragments:` mapping names pieces of regex text that the
 * file's patterns use as (?{name}); each placeholder is replaced by the
 * fragment's text before the pattern is compiled, so the compiler, the
 * lint, the literal extractor, the examples and `rules list` all see
 * the expanded pattern and nothing downstream knows fragments exist.
 *
 * Why (?{name}): PCRE2 has no (?{ ... }) construct (Perl's code blocks),
 * so it is a compile error wherever a group may start; a working pattern
 * can contain it only escaped, inside a class, \Q...\E or a (?#...)
 * comment, which the scanner steps over.  No pattern that loaded before
 * fragments existed changes meaning.
 *
 * Why per file and one level: a file stays readable and loadable on its
 * own (a local file cannot change a shipped pattern), and a fragment
 * holding no placeholder needs no cycle detection and makes every
 * pattern at most one look-up away from its text.  An expanded pattern
 * is held to RULE_FILE_MAX, the longest pattern a file could spell out
 * without fragments, and its length is computed before anything is
 * allocated.  An unused fragment is a warning (`rules check`), not an
 * error: it changes no match, and a rule commented out for a while must
 * not stop the whole set from loading.
 */
#include "rules_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/grow.h"
#include "regex_syntax.h"

#define PH_OPEN "(?{"
#define PH_OPEN_LEN 3
#define PH_CLOSE_LEN 2            /* "})" */

/* The next placeholder in p[*i..n) outside escapes, classes, \Q...\E and
 * comments: true with [*s, *e) its whole text, [*ns, *ne) its name and
 * *ok false when it does not end in "})".  *i moves past it. */
static bool next_placeholder(const char *p, size_t n, size_t *i, size_t *s, size_t *e, size_t *ns, size_t *ne,
                             bool *ok)
{
    size_t j = *i;

    while (j < n) {
        if (p[j] == '\\' && j + 1 < n && p[j + 1] == 'Q') {
            const char *q = NULL;
            for (size_t k = j + 2; k + 1 < n && q == NULL; k++) {
                q = (p[k] == '\\' && p[k + 1] == 'E') ? p + k : NULL;
            }
            j = q != NULL ? (size_t)(q - p) + 2 : n;
        } else if (p[j] == '\\') {
            j += 2;
        } else if (p[j] == '[') {
            if (!aw_rx_skip_class(p, n, &j)) {
                j++;              /* PCRE2 reports it; keep scanning */
            }
        } else if (n - j >= 3 && memcmp(p + j, "(?#", 3) == 0) {
            while (j < n && p[j] != ')') {
                j++;
            }
        } else if (n - j >= PH_OPEN_LEN && memcmp(p + j, PH_OPEN, PH_OPEN_LEN) == 0) {
            size_t k = j + PH_OPEN_LEN;
            while (k < n && p[k] != '}' && k - j <= RULE_NAME_MAX + PH_OPEN_LEN) {
                k++;
            }
            *s = j;
            *ns = j + PH_OPEN_LEN;
            *ne = k;
            *ok = k + 1 < n && p[k] == '}' && p[k + 1] == ')';
            *e = *ok ? k + PH_CLOSE_LEN : *ns;
            *i = *e;
            return true;
        } else {
            j++;
        }
    }
    *i = n;
    return false;
}

static struct fragment *find_fragment(struct loader *ld, const char *name, size_t len)
{
    for (size_t f = 0; f < ld->nfrags; f++) {
        const struct aw_yaml_node *k = ld->frags[f].name;
        if (k->len == len && memcmp(k->val, name, len) == 0) {
            return &ld->frags[f];
        }
    }
    return NULL;
}

/* One `name: text` entry of the mapping; false when it is not kept. */
static bool check_fragment(struct loader *ld, const struct aw_yaml_node *k, const struct aw_yaml_node *v)
{
    char buf[96];
    size_t i = 0, s, e, ns, ne;
    bool ok;

    if (k->bad || v->bad) {
        return false;
    }
    if (k->kind != AW_YAML_SCALAR || k->null || !aw_rules_valid_name(k->val, k->len, false)) {
        DIAG(ld, k->start, "invalid fragment name '%s': expected [a-z][a-z0-9_-]*, at most %d characters",
             k->kind == AW_YAML_SCALAR ? aw_yaml_show(buf, sizeof(buf), k->val, k->len) : aw_yaml_kind_name(k),
             RULE_NAME_MAX);
        return false;
    }
    if (find_fragment(ld, k->val, k->len) != NULL) {
        const struct aw_yaml_node *first = find_fragment(ld, k->val, k->len)->name;
        DIAG(ld, k->start, "duplicate fragment '%s' (first defined at %s:%u:%u)", k->val, ld->yc.file,
             (unsigned)first->start.line + 1, (unsigned)first->start.column + 1);
        return false;
    }
    if (v->kind != AW_YAML_SCALAR || v->null || memchr(v->val, '\0', v->len) != NULL || v->len == 0) {
        DIAG(ld, v->start, "fragment '%s' must be a non-empty string, not %s", k->val,
             v->kind == AW_YAML_SCALAR && !v->null ? (v->len == 0 ? "empty" : "one with NUL bytes")
                                                   : aw_yaml_kind_name(v));
        return false;
    }
    if (next_placeholder(v->val, v->len, &i, &s, &e, &ns, &ne, &ok)) {
        DIAG(ld, v->start, "fragment '%s' uses another fragment ('%s'): fragments cannot nest", k->val,
             aw_yaml_show(buf, sizeof(buf), v->val + s, (ok ? e : ne) - s));
        return false;
    }
    return true;
}

void aw_rules_fragments_load(struct loader *ld, const struct aw_yaml_node *map)
{
    ld->have_fragments = true;
    if (map->nkids / 2 > FRAGMENTS_MAX) {
        DIAG(ld, map->start, "more than %d fragments in one file", FRAGMENTS_MAX);
        return;
    }
    for (size_t i = 0; i + 1 < map->nkids && !ld->yc.oom; i += 2) {
        if (!check_fragment(ld, map->kids[i], map->kids[i + 1])) {
            continue;
        }
        if (AW_GROW(ld->frags, ld->fragcap, ld->nfrags + 1, 16) != AW_OK) {
            ld->yc.oom = true;
            return;
        }
        ld->frags[ld->nfrags].name = map->kids[i];
        ld->frags[ld->nfrags].val = map->kids[i + 1];
        ld->frags[ld->nfrags].used = false;
        ld->nfrags++;
    }
}

void aw_rules_fragments_end(struct loader *ld)
{
    for (size_t f = 0; f < ld->nfrags; f++) {
        const struct aw_yaml_node *k = ld->frags[f].name;
        if (!ld->frags[f].used) {
            aw_rules_warn_at(ld, (unsigned)k->start.line + 1, (unsigned)k->start.column + 1,
                             "fragment '%s' is not used by any pattern of this file", k->val);
        }
    }
    ld->nfrags = 0;
    ld->have_fragments = false;
}

/* Check every placeholder of v and add up the expanded length; false
 * after reporting a problem. */
static bool measure(struct loader *ld, const struct aw_yaml_node *v, const char *label, size_t *total,
                    size_t *first)
{
    char buf[96];
    size_t i = 0, s, e, ns, ne, len = v->len;
    bool ok, good = true;

    *first = v->len;
    while (next_placeholder(v->val, v->len, &i, &s, &e, &ns, &ne, &ok)) {
        struct fragment *f = ok ? find_fragment(ld, v->val + ns, ne - ns) : NULL;
        *first = *first < s ? *first : s;
        if (!ok) {
            DIAG(ld, v->start, "%s: malformed fragment placeholder '%s' at pattern offset %zu: expected "
                 "(?{name})", label, aw_yaml_show(buf, sizeof(buf), v->val + s, ne - s), s);
        } else if (!ld->have_fragments) {
            DIAG(ld, v->start, "%s: pattern uses fragment '%s' but this file has no 'fragments' mapping "
                 "(fragments are per file)", label, aw_yaml_show(buf, sizeof(buf), v->val + ns, ne - ns));
        } else if (f == NULL) {
            DIAG(ld, v->start, "%s: unknown fragment '%s' (not defined in this file's 'fragments')", label,
                 aw_yaml_show(buf, sizeof(buf), v->val + ns, ne - ns));
        }
        if (f == NULL) {
            good = false;
            continue;
        }
        f->used = true;
        len = len - (e - s) + f->val->len;
        if (len > RULE_FILE_MAX) {
            DIAG(ld, v->start, "%s: pattern with its fragments expanded is longer than %zu bytes", label,
                 (size_t)RULE_FILE_MAX);
            return false;
        }
    }
    *total = len;
    return good;
}

bool aw_rules_expand(struct loader *ld, const struct aw_yaml_node *v, const char *label, struct pattern_text *out)
{
    size_t total = 0, i = 0, o = 0, done = 0, s, e, ns, ne;
    bool ok;

    out->p = v->val;
    out->n = v->len;
    out->owned = NULL;
    out->same = v->len;
    if (!measure(ld, v, label, &total, &out->same)) {
        return false;
    }
    if (out->same == v->len) {
        return true;              /* no placeholder: the scalar itself */
    }
    out->owned = malloc(total + 1);
    if (out->owned == NULL) {
        ld->yc.oom = true;
        return false;
    }
    while (next_placeholder(v->val, v->len, &i, &s, &e, &ns, &ne, &ok)) {
        const struct fragment *f = find_fragment(ld, v->val + ns, ne - ns);
        memcpy(out->owned + o, v->val + done, s - done);
        o += s - done;
        memcpy(out->owned + o, f->val->val, f->val->len);
        o += f->val->len;
        done = e;
    }
    memcpy(out->owned + o, v->val + done, v->len - done);
    o += v->len - done;
    out->owned[o] = '\0';
    out->p = out->owned;
    out->n = o;
    return true;
}

unsigned aw_rules_pattern_column(const struct loader *ld, const struct aw_yaml_node *v,
                                 const struct pattern_text *pt, size_t off)
{
    /* past the first placeholder an offset no longer matches the scalar's
     * text: point at the scalar */
    if (pt->owned != NULL && off >= pt->same) {
        return (unsigned)v->start.column + 1;
    }
    return aw_yaml_scalar_column(ld->buf, ld->buflen, v, off);
}
