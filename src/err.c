/*
 * Status codes, error messages and diagnostic lists (see err.h).
 */
#include "agentwatch/err.h"
#include "agentwatch/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aw_err_set(struct aw_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return code;
    }
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    /* Messages are one line by contract; a stray newline from a log or a
     * library message would break scripts that read stderr by line. */
    for (char *p = err->msg; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    return code;
}

void aw_err_clear(struct aw_err *err)
{
    if (err != NULL) {
        err->code = AW_OK;
        err->msg[0] = '\0';
    }
}

const char *aw_status_text(int code)
{
    switch (code) {
    case AW_OK: return "ok";
    case AW_ENOMEM: return "out of memory";
    case AW_EIO: return "input/output error";
    case AW_ESYNTAX: return "syntax error";
    case AW_EDB: return "database error";
    case AW_EUSAGE: return "usage error";
    case AW_ENOTFOUND: return "not found";
    case AW_ELIMIT: return "limit exceeded";
    case AW_EBUSY: return "busy";
    case AW_EDENIED: return "not read";
    default: return "unknown error";
    }
}

/* Count one more left-out diagnostic in the last item. */
static int count_more(struct aw_diags *d)
{
    char line[64], *item;

    snprintf(line, sizeof(line), "... and %zu more", d->more + 1);
    item = strdup(line);
    if (item == NULL) {
        return AW_ENOMEM;
    }
    if (d->more == 0) {
        if (AW_GROW(d->items, d->cap, d->count + 1, 8) != AW_OK) {
            free(item);
            return AW_ENOMEM;
        }
        d->count++;
    } else {
        free(d->items[d->count - 1]);
    }
    d->items[d->count - 1] = item;
    d->more++;
    return AW_OK;
}

int aw_diags_add(struct aw_diags *d, const char *fmt, ...)
{
    va_list ap;
    int len;
    char *item;

    if (d->count - (d->more > 0) >= AW_DIAGS_MAX) {
        return count_more(d);
    }
    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        return AW_ENOMEM;
    }
    if (AW_GROW(d->items, d->cap, d->count + 1, 8) != AW_OK) {
        return AW_ENOMEM;
    }
    item = malloc((size_t)len + 1);
    if (item == NULL) {
        return AW_ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(item, (size_t)len + 1, fmt, ap);
    va_end(ap);
    d->items[d->count++] = item;
    return AW_OK;
}

size_t aw_diags_total(const struct aw_diags *d)
{
    return d->count - (d->more > 0) + d->more;
}

void aw_diags_free(struct aw_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i]);
    }
    free(d->items);
    d->items = NULL;
    d->count = 0;
    d->cap = 0;
    d->more = 0;
}
