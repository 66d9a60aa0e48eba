/*
 * Loading a rule set (see rules.h): a file, or a folder of *.yaml and
 * *.yml files taken in byte order of their names; then the local layer
 * the same way (its rules replace shipped ones of the same id in place,
 * its `disable:` lists take shipped ones out, last); then the prefilter of
 * the whole set.
 *
 * Each file is read whole (at most 4 MiB) and turned into a node tree
 * (yamltree.h), so positions (marks) stay attached to every key and
 * value.  Anchors, aliases, tags and multiple documents are rejected: a
 * rule file is plain data and what you read is what runs.  Only a YAML
 * syntax error ends the walk of that one file, because after it the tree
 * is meaningless; rules_schema.c validates the tree.  A file's problems
 * are sorted by position before they join the list, file after file.
 *
 * Tooling may load with AW_RULES_LOAD_KEEP_FAILING_EXAMPLES to judge
 * examples itself.
 */
#include "agentwatch/rules.h"

#include "rules_load.h"
#include "rules_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/grow.h"
#include "agentwatch/platform.h"

#define NEST_MAX 32               /* YAML nesting; rule files need 4 */

/* Validation walks the tree key by key, so a file's diagnostics arrive
 * out of order; users read them top to bottom, file after file. */
static void flush_diags(struct loader *ld)
{
    ld->errors += ld->yc.diags.count;
    aw_yaml_diags_sort(&ld->yc.diags);
    for (size_t i = 0; i < ld->yc.diags.count; i++) {
        const struct aw_yaml_diag *d = &ld->yc.diags.items[i];
        if (aw_diags_add(ld->diags, "%s:%u:%u: %s", ld->yc.file, d->line, d->col, d->msg) != AW_OK) {
            ld->yc.oom = true;
        }
    }
    aw_yaml_diags_free(&ld->yc.diags);
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
    if (AW_GROW(ld->files, ld->fcap, ld->nfiles + 1, 8) != AW_OK) {
        free(copy);
        return AW_ENOMEM;
    }
    ld->files[ld->nfiles++] = copy;
    ld->yc.file = copy;
    return AW_OK;
}

static int load_one(struct loader *ld, const char *path, struct aw_err *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    bool too_big = false;
    struct aw_yaml_node *root = NULL;
    int rc;

    if (add_file_name(ld, path) != AW_OK) {
        return aw_err_set(err, AW_ENOMEM, "rules: out of memory");
    }
    rc = read_rule_file(path, &buf, &len, &too_big, err);
    if (rc != AW_OK) {
        return rc;
    }
    if (too_big) {
        aw_yaml_check_diag(&ld->yc, 1, 1, "rule file is larger than %zu bytes", RULE_FILE_MAX);
        flush_diags(ld);
        free(buf);
        return AW_OK;
    }
    ld->buf = buf;
    ld->buflen = len;
    rc = aw_yaml_parse(buf, len, NEST_MAX, &ld->yc.diags, &root);
    if (rc == AW_ENOMEM) {
        ld->yc.oom = true;
    } else if (rc == AW_OK) {
        aw_rules_load_tree(ld, root);
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
        if (AW_GROW(names, cap, n + 1, 16) != AW_OK) {
            free(full);
            rc = aw_err_set(err, AW_ENOMEM, "rules: out of memory");
            goto out;
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
    aw_rules_free_arrays(ld->rules, ld->count, ld->files, ld->nfiles);
    for (size_t i = 0; i < ld->idcap; i++) {
        free(ld->ids[i].id);
    }
    free(ld->ids);
    for (size_t i = 0; i < ld->ndisabled; i++) {
        free(ld->disabled[i]);
    }
    free(ld->disabled);
    free(ld->frags);
    aw_yaml_diags_free(&ld->yc.diags);
    aw_diags_free(&ld->lint);
    aw_matcher_scratch_fini(&ld->scratch);
}

int aw_rules_load(const char *path, struct aw_ruleset **out, struct aw_diags *diags, struct aw_err *err)
{
    return aw_rules_load_ex(path, 0, out, diags, err);
}

/* Load the file or every rule file of the folder at path into ld. */
static int load_path(struct loader *ld, const char *path, struct aw_err *err)
{
    struct aw_os_stat st;
    char **names = NULL;
    size_t nnames = 0;
    int rc = AW_OK;

    if (aw_os_stat(path, &st) != 0) {
        if (ld->local && (ld->flags & AW_RULES_LOAD_LOCAL_OPTIONAL) && errno == ENOENT) {
            return AW_OK;
        }
        return aw_err_set(err, (errno == ENOENT || errno == ENOTDIR) ? AW_ENOTFOUND : AW_EIO,
                          "%srules '%s': %s", ld->local ? "local " : "", path, strerror(errno));
    }
    if (st.is_dir) {
        if ((rc = list_dir(path, &names, &nnames, err)) != AW_OK) {
            return rc;
        }
        /* an empty local folder is the state packages install */
        if (nnames == 0 && !ld->local) {
            rc = aw_err_set(err, AW_ENOTFOUND, "rules directory '%s' has no *.yaml or *.yml files", path);
        }
        for (size_t i = 0; i < nnames && rc == AW_OK && !ld->yc.oom; i++) {
            rc = load_one(ld, names[i], err);
        }
    } else if (st.is_reg) {
        rc = load_one(ld, path, err);
    } else {
        rc = aw_err_set(err, AW_EIO, "%srules '%s': not a file or directory", ld->local ? "local " : "", path);
    }
    for (size_t i = 0; i < nnames; i++) {
        free(names[i]);
    }
    free(names);
    return rc;
}

/* The rule set from a loader that found no problem: takes over its rules,
 * files and pattern warnings, and builds the prefilter. */
static int make_set(struct loader *ld, const char *path, struct aw_ruleset **out, struct aw_err *err)
{
    struct aw_ruleset *rs = calloc(1, sizeof(*rs));
    char ***lits = NULL;
    size_t *nlits = NULL;
    int rc = AW_OK;

    if (rs == NULL) {
        return aw_err_set(err, AW_ENOMEM, "rules '%s': out of memory", path);
    }
    rs->rules = ld->rules;
    rs->count = ld->count;
    rs->files = ld->files;
    rs->nfiles = ld->nfiles;
    rs->pattern_lint = ld->lint;
    memset(&ld->lint, 0, sizeof(ld->lint));
    ld->rules = NULL;
    ld->count = 0;
    ld->files = NULL;
    ld->nfiles = 0;
    lits = calloc(rs->count ? rs->count : 1, sizeof(*lits));
    nlits = calloc(rs->count ? rs->count : 1, sizeof(*nlits));
    for (size_t i = 0; lits != NULL && nlits != NULL && i < rs->count; i++) {
        lits[i] = rs->rules[i].lits;
        nlits[i] = rs->rules[i].nlits;
    }
    if (lits == NULL || nlits == NULL ||
        aw_prefilter_build(&rs->pf, rs->count, (char **const *)lits, nlits) != AW_OK) {
        rc = aw_err_set(err, AW_ENOMEM, "rules '%s': out of memory", path);
        aw_rules_free(&rs);
    }
    free(lits);
    free(nlits);
    *out = rs;
    return rc;
}

/* Take the rules local files disabled out of the set, keeping the order
 * of the rest. */
static void apply_disabled(struct loader *ld)
{
    size_t kept = 0;

    for (size_t i = 0; i < ld->count; i++) {
        bool off = false;
        for (size_t d = 0; d < ld->ndisabled && !off; d++) {
            off = strcmp(ld->rules[i].id, ld->disabled[d]) == 0;
        }
        if (off) {
            aw_rule_fini(&ld->rules[i]);
        } else {
            ld->rules[kept++] = ld->rules[i];
        }
    }
    ld->count = kept;
}

int aw_rules_load_ex(const char *path, unsigned flags, struct aw_ruleset **out, struct aw_diags *diags,
                     struct aw_err *err)
{
    return aw_rules_load_layers(path, NULL, flags, out, diags, err);
}

int aw_rules_load_layers(const char *path, const char *local, unsigned flags, struct aw_ruleset **out,
                         struct aw_diags *diags, struct aw_err *err)
{
    struct loader ld;
    struct aw_diags own = { 0 };
    int rc = AW_OK;

    memset(&ld, 0, sizeof(ld));
    if (out != NULL) {
        *out = NULL;
    }
    ld.diags = diags != NULL ? diags : &own;
    ld.flags = flags;
    if ((rc = aw_matcher_scratch_init(&ld.scratch, err)) != AW_OK) {
        goto out;
    }
    if (path == NULL || out == NULL) {
        rc = aw_err_set(err, AW_EUSAGE, "rules: no path given");
        goto out;
    }
    if ((rc = load_path(&ld, path, err)) != AW_OK) {
        goto out;
    }
    ld.shipped = ld.count;
    ld.local = true;
    if (local != NULL && !ld.yc.oom && (rc = load_path(&ld, local, err)) != AW_OK) {
        goto out;
    }
    apply_disabled(&ld);
    if (ld.yc.oom) {
        rc = aw_err_set(err, AW_ENOMEM, "rules '%s': out of memory", path);
        goto out;
    }
    if (ld.errors == 0 && ld.count == 0) {
        ld.yc.file = ld.have_empty_pos ? ld.empty_file : ld.files[0];
        aw_yaml_check_diag(&ld.yc, ld.have_empty_pos ? ld.empty_line : 1, ld.have_empty_pos ? ld.empty_col : 1,
                     "empty rule set: no rules defined");
        flush_diags(&ld);
    }
    if (ld.errors > 0) {
        rc = aw_err_set(err, AW_ESYNTAX, "rules '%s': %zu problem%s found", path, ld.errors,
                        ld.errors == 1 ? "" : "s");
        goto out;
    }
    rc = make_set(&ld, path, out, err);
out:
    loader_fini(&ld);
    aw_diags_free(&own);
    return rc;
}
