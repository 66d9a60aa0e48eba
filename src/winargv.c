/*
 * Windows command lines (see winargv.h).
 */
#include "agentwatch/winargv.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool needs_quotes(const char *arg)
{
    return arg[0] == '\0' || strpbrk(arg, " \t\n\v\"") != NULL;
}

/* Write arg at out (when out is not NULL); the bytes it takes. */
static size_t put_arg(const char *arg, char *out)
{
    size_t n = 0;

#define PUT(c) do { if (out != NULL) { out[n] = (c); } n++; } while (0)
    if (!needs_quotes(arg)) {
        for (const char *p = arg; *p != '\0'; p++) {
            PUT(*p);
        }
        return n;
    }
    PUT('"');
    for (const char *p = arg;; p++) {
        size_t slashes = 0;

        while (*p == '\\') {
            slashes++;
            p++;
        }
        /* Before a quote of the argument or the closing quote, each
         * backslash is doubled; elsewhere backslashes are literal. */
        if (*p == '"' || *p == '\0') {
            slashes *= 2;
        }
        for (size_t i = 0; i < slashes; i++) {
            PUT('\\');
        }
        if (*p == '\0') {
            break;
        }
        if (*p == '"') {
            PUT('\\');
        }
        PUT(*p);
    }
    PUT('"');
#undef PUT
    return n;
}

int aw_win_command_line(const char *const *argv, char **out)
{
    size_t len = 0, at = 0;
    char *line;

    *out = NULL;
    for (size_t i = 0; argv[i] != NULL; i++) {
        size_t n = put_arg(argv[i], NULL);
        if (n > SIZE_MAX - len - 2) {
            return AW_ENOMEM;
        }
        len += n + 1;           /* the argument and a space or the NUL */
    }
    line = malloc(len != 0 ? len : 1);
    if (line == NULL) {
        return AW_ENOMEM;
    }
    for (size_t i = 0; argv[i] != NULL; i++) {
        if (i > 0) {
            line[at++] = ' ';
        }
        at += put_arg(argv[i], line + at);
    }
    line[at] = '\0';
    *out = line;
    return AW_OK;
}
