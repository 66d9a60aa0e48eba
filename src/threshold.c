/*
 * Monitoring-plugin ranges (see threshold.h).  Numbers are checked by
 * hand before strtod() reads them: strtod() alone would also take "inf",
 * "nan", hex floats and leading blanks, none of which a range may hold.
 */
#include "threshold.h"

#include <stdlib.h>
#include <string.h>

/* Is s[0..len) a decimal number: [+-]digits[.digits]? */
static bool is_number(const char *s, size_t len)
{
    size_t i = 0, digits = 0;

    if (i < len && (s[i] == '+' || s[i] == '-')) {
        i++;
    }
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < len && s[i] == '.') {
        size_t frac = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            frac++;
        }
        if (frac == 0) {
            return false;
        }
        digits += frac;
    }
    return digits > 0 && digits <= 18 && i == len;
}

static bool number(const char *s, size_t len, double *out)
{
    char buf[AW_THRESHOLD_MAX + 1];

    if (!is_number(s, len) || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

bool aw_threshold_parse(const char *text, struct aw_threshold *t)
{
    const char *p = text, *colon;
    size_t len = strlen(text);

    memset(t, 0, sizeof(*t));
    if (len == 0 || len > AW_THRESHOLD_MAX) {
        return false;
    }
    memcpy(t->text, text, len + 1);
    if (*p == '@') {
        t->inside = true;
        p++;
    }
    colon = strchr(p, ':');
    if (colon == NULL) {
        /* "N" is "0:N". */
        return number(p, strlen(p), &t->end) && t->end >= 0;
    }
    if (colon - p == 1 && p[0] == '~') {
        t->no_start = true;
    } else if (!number(p, (size_t)(colon - p), &t->start)) {
        return false;
    }
    p = colon + 1;
    if (*p == '\0') {
        t->no_end = true;
    } else if (!number(p, strlen(p), &t->end)) {
        return false;
    }
    return t->no_start || t->no_end || t->start <= t->end;
}

bool aw_threshold_alerts(const struct aw_threshold *t, double value)
{
    bool in = (t->no_start || value >= t->start) && (t->no_end || value <= t->end);

    return t->inside ? in : !in;
}
