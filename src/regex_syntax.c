/*
 * PCRE2 pattern syntax shared by the literal extractor and the pattern
 * lint (see regex_syntax.h).  Both read patterns the compiler has already
 * accepted or will judge itself, so these functions only need to be
 * right about where a construct ends; anything unexpected makes them
 * return false and the caller gives up on the pattern.
 */
#include "regex_syntax.h"

/* Bounds are read up to about a million; beyond it their value no longer
 * matters to either reader. */
#define QUANT_BOUND_CAP 100000

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The braces of a bounded quantifier at p[j] == '{'; *end = after '}'. */
static bool brace(const char *p, size_t n, size_t j, bool lax, size_t *end, unsigned long *min,
                  bool *unbounded)
{
    unsigned long lo = 0;
    bool lo_digits = false, comma = false, hi_digits = false;

    j++;
    while (lax && j < n && is_blank(p[j])) {
        j++;
    }
    while (j < n && is_digit(p[j])) {
        if (lo < QUANT_BOUND_CAP) {
            lo = lo * 10 + (unsigned long)(p[j] - '0');
        }
        lo_digits = true;
        j++;
    }
    while (lax && j < n && is_blank(p[j])) {
        j++;
    }
    if (j < n && p[j] == ',') {
        comma = true;
        j++;
        while (j < n && (is_digit(p[j]) || (lax && is_blank(p[j])))) {
            hi_digits = hi_digits || is_digit(p[j]);
            j++;
        }
    }
    if (j >= n || p[j] != '}' || !(lo_digits || hi_digits)) {
        return false;         /* a literal brace */
    }
    *end = j + 1;
    *min = lo;
    *unbounded = comma && !hi_digits;
    return true;
}

bool aw_rx_quant(const char *p, size_t n, size_t *i, bool lax, struct aw_rx_quant *q)
{
    size_t j = *i, end;

    if (j >= n) {
        return false;
    }
    q->possessive = false;
    q->lazy = false;
    if (p[j] == '*' || p[j] == '+' || p[j] == '?') {
        q->min = p[j] == '+' ? 1 : 0;
        q->unbounded = p[j] != '?';
        j++;
    } else if (p[j] != '{' || !brace(p, n, j, lax, &end, &q->min, &q->unbounded)) {
        return false;
    } else {
        j = end;
    }
    if (j < n && p[j] == '+') {
        q->possessive = true;
        j++;
    } else if (j < n && p[j] == '?') {
        q->lazy = true;
        j++;
    }
    *i = j;
    return true;
}

bool aw_rx_skip_class(const char *p, size_t n, size_t *i)
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

static bool is_hex(char c)
{
    unsigned char f = aw_rx_fold((unsigned char)c);

    return is_digit(c) || (f >= 'a' && f <= 'f');
}

bool aw_rx_skip_alnum_escape(const char *p, size_t n, size_t *i)
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
        for (int k = 0; k < 2 && j < n && is_hex(p[j]); k++) {
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
