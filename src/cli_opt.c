/*
 * Command-line options as data (see cli_opt.h).
 *
 * Why not getopt_long: it accepts any unambiguous prefix of a long option
 * (--form for --format), which silently makes every prefix part of the
 * contract, and it knows nothing of values, so each command re-checked
 * its own ranges with its own literals.  Here an option is matched by its
 * exact name only, and the row that names it also says what value it
 * takes, so the check and its message are written once.
 *
 * Usage messages keep the shapes the commands always printed (pinned by
 * tests/test_cli.c): "option '--x' needs a value", "unknown option '--x'",
 * "invalid --x 'v': expected ...".
 */
#include "cli_opt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/record.h"
#include "agentwatch/text.h"
#include "agentwatch/timeutil.h"
#include "cli_internal.h"

/* The column where help texts start, after "  --name ARG". */
#define HELP_COLUMN 21

const struct aw_opt_word aw_cli_log_formats[] = {
    { "auto", AW_FORMAT_AUTO },
    { "itms", AW_FORMAT_ITMS },
    { "cmtrace", AW_FORMAT_CMTRACE },
    { "line", AW_FORMAT_LINE },
    { NULL, 0 }
};

bool aw_cli_word(const struct aw_opt_word *words, const char *word, int *value)
{
    for (size_t i = 0; words[i].word != NULL; i++) {
        if (strcmp(words[i].word, word) == 0) {
            *value = words[i].value;
            return true;
        }
    }
    return false;
}

int aw_cli_bad_word(const char *cmd, const char *name, const char *value,
                    const struct aw_opt_word *words)
{
    char list[256];
    size_t n = 0, len = 0;

    while (words[n].word != NULL) {
        n++;
    }
    list[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof(list); i++) {
        int w = snprintf(list + len, sizeof(list) - len, "%s%s",
                         i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i].word);
        len += w > 0 ? (size_t)w : 0;
    }
    return aw_cli_usage_error(cmd, "invalid --%s '%s': expected %s", name, value, list);
}

/* A decimal number in [min, max], as strtoull reads it (leading blanks
 * and '+' allowed, as always); no sign, no trailing text. */
static bool parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static bool takes_value(const struct aw_opt *o)
{
    return o->kind != AW_OPT_FLAG && o->kind != AW_OPT_HELP && o->kind != AW_OPT_VERSION;
}

static void *field_of(const struct aw_opt *o, const struct aw_cli *cli, const void *args)
{
    return (o->flags & AW_OPT_IN_CLI ? (char *)cli : (char *)args) + o->offset;
}

/* Check value against row o and store it; see aw_cli_parse(). */
static int apply(const struct aw_cli_spec *spec, const struct aw_opt *o, struct aw_cli *cli,
                 void *args, const char *value, int64_t now_ms)
{
    void *field = field_of(o, cli, args);
    struct aw_err err = { 0 };
    size_t len;

    switch (o->kind) {
    case AW_OPT_FLAG:
        *(bool *)field = true;
        return AW_CLI_CONTINUE;
    case AW_OPT_STRING:
    case AW_OPT_PATH:
        *(const char **)field = value;
        return AW_CLI_CONTINUE;
    case AW_OPT_TEXT:
        len = strlen(value);
        if (len < o->min || len > o->max) {
            return aw_cli_usage_error(spec->name, "invalid --%s: expected %" PRIu64 " to %" PRIu64
                                      " characters", o->name, o->min, o->max);
        }
        *(const char **)field = value;
        return AW_CLI_CONTINUE;
    case AW_OPT_UINT:
        if (!parse_uint(value, o->min, o->max, field)) {
            if (o->flags & AW_OPT_NO_UPPER) {
                return aw_cli_usage_error(spec->name, "invalid --%s '%s': expected %s of %" PRIu64
                                          " or more", o->name, value, o->unit, o->min);
            }
            return aw_cli_usage_error(spec->name, "invalid --%s '%s': expected %s from %" PRIu64
                                      " to %" PRIu64, o->name, value, o->unit, o->min, o->max);
        }
        return AW_CLI_CONTINUE;
    case AW_OPT_WORD:
        if (!aw_cli_word(o->words, value, field)) {
            return aw_cli_bad_word(spec->name, o->name, value, o->words);
        }
        return AW_CLI_CONTINUE;
    case AW_OPT_WHEN:
        if (aw_time_parse_when(value, now_ms, field, &err) != AW_OK) {
            return aw_cli_usage_error(spec->name, "--%s: %s", o->name, err.msg);
        }
        return AW_CLI_CONTINUE;
    case AW_OPT_VERSION:
        aw_text_printf(stdout, "agentwatch %s\n", AW_VERSION);
        return AW_EXIT_OK;
    case AW_OPT_HELP:
    default:
        aw_cli_help(stdout, spec);
        return AW_EXIT_OK;
    }
}

static const struct aw_opt *find_long(const struct aw_cli_spec *spec, const char *name, size_t len)
{
    for (const struct aw_opt *o = spec->opts; o->name != NULL; o++) {
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0) {
            return o;
        }
    }
    return NULL;
}

static const struct aw_opt *find_alias(const struct aw_cli_spec *spec, char c)
{
    for (const struct aw_opt *o = spec->opts; o->name != NULL; o++) {
        if (o->alias != 0 && o->alias == c) {
            return o;
        }
    }
    return NULL;
}

/* The row a "--name" or "--name=value" word names (NULL: none, or a value
 * given to a row that takes none); *value gets what follows '=', else
 * NULL. */
static const struct aw_opt *long_row(const struct aw_cli_spec *spec, const char *word,
                                     const char **value)
{
    const char *eq = strchr(word + 2, '=');
    size_t len = eq != NULL ? (size_t)(eq - (word + 2)) : strlen(word + 2);
    const struct aw_opt *o = find_long(spec, word + 2, len);

    *value = eq != NULL ? eq + 1 : NULL;
    return o == NULL || (eq != NULL && !takes_value(o)) ? NULL : o;
}

/* One word of short options ("-h", or a cluster "-hx"); *i moves past a
 * value taken from the next word. */
static int parse_short(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                       int *i, void *args, int64_t now_ms)
{
    for (const char *p = argv[*i] + 1; *p != '\0'; p++) {
        const struct aw_opt *o = find_alias(spec, *p);
        const char *value = NULL;
        int rc;

        if (o == NULL) {
            return aw_cli_usage_error(spec->name, "unknown option '-%c'", *p);
        }
        if (takes_value(o)) {
            if (p[1] != '\0') {
                value = p + 1;
            } else if (*i + 1 < argc) {
                value = argv[++*i];
            } else {
                return aw_cli_usage_error(spec->name, "option '-%c' needs a value", *p);
            }
        }
        rc = apply(spec, o, cli, args, value, now_ms);
        if (rc != AW_CLI_CONTINUE || value != NULL) {
            return rc;
        }
    }
    return AW_CLI_CONTINUE;
}

/* One "--name" or "--name=value" word; *i moves past a value taken from
 * the next word. */
static int parse_long(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                      int *i, void *args, int64_t now_ms)
{
    const char *a = argv[*i], *value;
    const struct aw_opt *o = long_row(spec, a, &value);

    if (o == NULL) {
        return aw_cli_usage_error(spec->name, "unknown option '%s'", a);
    }
    if (value == NULL && takes_value(o)) {
        if (*i + 1 >= argc) {
            return aw_cli_usage_error(spec->name, "option '%s' needs a value", a);
        }
        value = argv[++*i];
    }
    return apply(spec, o, cli, args, value, now_ms);
}

int aw_cli_parse(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                 void *args, int *nargs)
{
    int64_t now_ms = aw_time_now_ms();   /* one "now" for every WHEN */
    bool options = true;
    int n = 0, rc;

    for (int i = 1; i < argc; i++) {
        char *a = argv[i];

        if (!options || a[0] != '-' || a[1] == '\0') {
            argv[1 + n++] = a;   /* never ahead of i: nothing unread is overwritten */
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options = false;
            continue;
        }
        if (a[1] != '-') {
            rc = parse_short(spec, cli, argc, argv, &i, args, now_ms);
        } else {
            rc = parse_long(spec, cli, argc, argv, &i, args, now_ms);
        }
        if (rc != AW_CLI_CONTINUE) {
            return rc;
        }
    }
    argv[1 + n] = NULL;
    *nargs = n;
    return aw_cli_check_paths(spec, cli, args, 0);
}

/* The row word names as a leading option ("--name", "--name=value", or a
 * lone "-x"; no cluster), NULL when none; *value as for long_row(). */
static const struct aw_opt *leading_row(const struct aw_cli_spec *spec, const char *word,
                                        const char **value)
{
    *value = NULL;
    if (word[0] != '-' || word[1] == '\0') {
        return NULL;
    }
    if (word[1] == '-') {
        return long_row(spec, word, value);
    }
    return word[2] == '\0' ? find_alias(spec, word[1]) : NULL;
}

int aw_cli_parse_leading(const struct aw_cli_spec *spec, struct aw_cli *cli, int argc, char **argv,
                         void *args, bool pass_on, int *first)
{
    int64_t now_ms = aw_time_now_ms();
    int i, rc = AW_CLI_CONTINUE;

    for (i = 1; i < argc && argv[i][0] == '-' && rc == AW_CLI_CONTINUE; i++) {
        const char *a = argv[i], *value;

        if (pass_on && leading_row(spec, a, &value) == NULL) {
            break;
        }
        if (a[1] == '-') {
            rc = parse_long(spec, cli, argc, argv, &i, args, now_ms);
        } else if (a[1] != '\0' && a[2] == '\0') {
            rc = parse_short(spec, cli, argc, argv, &i, args, now_ms);
        } else {
            rc = aw_cli_usage_error(spec->name, "unknown option '%s'", a);
        }
    }
    *first = i;
    return rc;
}

int aw_cli_skip_leading(const struct aw_cli_spec *spec, int argc, char **argv)
{
    int i = 1;

    while (i < argc && argv[i][0] == '-') {
        const char *value;
        const struct aw_opt *o = leading_row(spec, argv[i], &value);

        i += o != NULL && value == NULL && takes_value(o) ? 2 : 1;
    }
    return i;
}

int aw_cli_take(const struct aw_cli_spec *spec, struct aw_cli *cli, int *argc, char **argv,
                void *args)
{
    int kept = 1, i;

    for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
        const char *value = NULL;
        const struct aw_opt *o = strncmp(argv[i], "--", 2) == 0 ? long_row(spec, argv[i], &value)
                                                                 : NULL;

        if (o == NULL || !(o->flags & AW_OPT_ANYWHERE)) {
            argv[kept++] = argv[i];
            continue;
        }
        if (value == NULL && takes_value(o)) {
            if (i + 1 >= *argc) {
                return aw_cli_usage_error(argv[0], "option '%s' needs a value", argv[i]);
            }
            value = argv[++i];
        }
        /* only FLAG, STRING and PATH rows go anywhere: nothing to check */
        apply(spec, o, cli, args, value, 0);
    }
    while (i < *argc) {
        argv[kept++] = argv[i++];
    }
    argv[kept] = NULL;
    *argc = kept;
    return AW_CLI_CONTINUE;
}

int aw_cli_check_paths(const struct aw_cli_spec *spec, const struct aw_cli *cli, const void *args,
                       unsigned skip)
{
    for (const struct aw_opt *o = spec->opts; o->name != NULL; o++) {
        const char *const *path;

        if (o->kind != AW_OPT_PATH || (o->flags & skip) || (!(o->flags & AW_OPT_IN_CLI) && args == NULL) ||
            ((o->flags & AW_OPT_IN_CLI) && cli == NULL)) {
            continue;
        }
        path = field_of(o, cli, args);
        if (*path != NULL && (*path)[0] == '\0') {
            return aw_cli_usage_error(spec->name, "--%s needs a non-empty path", o->name);
        }
    }
    return AW_CLI_CONTINUE;
}

void aw_cli_help(FILE *out, const struct aw_cli_spec *spec)
{
    int column = spec->column > 0 ? spec->column : HELP_COLUMN;

    if (spec->usage != NULL) {
        fputs(spec->usage, out);
    } else {
        spec->usage_fn(out);
    }
    for (const struct aw_opt *o = spec->opts; o->name != NULL; o++) {
        char label[64];
        const char *h = o->help;
        int w;

        if (o->alias != 0) {
            w = snprintf(label, sizeof(label), "  -%c, --%s%s%s", o->alias, o->name,
                         o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
        } else {
            w = snprintf(label, sizeof(label), "  --%s%s%s", o->name, o->arg != NULL ? " " : "",
                         o->arg != NULL ? o->arg : "");
        }
        if (h[0] == '\n') {
            fprintf(out, "%s\n%*s", label, column, "");
            h++;
        } else {
            fprintf(out, "%-*s", w < column ? column : w + 1, label);
        }
        for (;;) {
            const char *nl = strchr(h, '\n');
            size_t len = nl != NULL ? (size_t)(nl - h) : strlen(h);

            fprintf(out, "%.*s\n", (int)len, h);
            if (nl == NULL) {
                break;
            }
            h = nl + 1;
            fprintf(out, "%*s", column, "");
        }
    }
    if (spec->notes != NULL) {
        fputs(spec->notes, out);
    }
}
