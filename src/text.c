/*
 * Text hygiene (see text.h).
 */
#include "agentwatch/text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid
 * (overlongs, surrogates and values above U+10FFFF are invalid). */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80) {
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

size_t aw_text_utf8_clean(const char *src, size_t len, char *dst, size_t max)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *s = (const unsigned char *)src;
    size_t in = 0, out = 0;

    while (in < len) {
        size_t n = s[in] == 0 ? 0 : utf8_seq_len(s + in, len - in);
        const char *piece = n > 0 ? (const char *)s + in : replacement;
        size_t piece_len = n > 0 ? n : 3;

        if (out + piece_len > max) {
            break;
        }
        memcpy(dst + out, piece, piece_len);
        out += piece_len;
        in += n > 0 ? n : 1;
    }
    dst[out] = '\0';
    return out;
}

void aw_text_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end;

    if (s == NULL) {
        fputs("null", out);
        return;
    }
    end = p + strlen(s);

    fputc('"', out);
    while (*p != '\0') {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (n == 0) {
            fputs("\\ufffd", out);
            p++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, out);
            p += n;
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7F) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out);
            }
        }
        p++;
    }
    fputc('"', out);
}

/* Is the code point at p (n bytes) a C1 control (U+0080..U+009F)? */
static bool is_c1(const unsigned char *p, size_t n)
{
    return n == 2 && p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
}

/* Is the code point at p (n bytes) a bidirectional override or isolate
 * (U+202A..U+202E, U+2066..U+2069)?  They reorder what a terminal or
 * editor shows, so that a file name or message can read as something it
 * is not (CVE-2021-42574, "Trojan Source"). */
static bool is_bidi_control(const unsigned char *p, size_t n)
{
    return n == 3 && p[0] == 0xE2 &&
           ((p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE) ||
            (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9));
}

/* What a terminal must never receive from outside: invalid UTF-8 (n 0),
 * C0 controls (ESC starts every escape sequence; CR, LF and TAB would
 * forge or split a line), DEL, C1 controls and bidi controls. */
static bool unsafe_for_terminal(const unsigned char *p, size_t n)
{
    return n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)) || is_c1(p, n) ||
           is_bidi_control(p, n);
}

void aw_text_csv_field(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + strlen(s);
    /* CR, LF and TAB become '?' below, so only these need quotes. */
    bool quote = strpbrk(s, ",\"") != NULL;
    /* A cell a spreadsheet would evaluate as a formula (OWASP, "CSV
     * Injection": =, +, -, @, tab, CR) is prefixed with a single quote,
     * which makes it text. */
    bool formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';

    if (quote) {
        fputc('"', out);
    }
    if (formula) {
        fputc('\'', out);
    }
    while (p < end) {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (n == 0) {
            fputs("\xEF\xBF\xBD", out);
            p++;
            continue;
        }
        /* CSV cannot escape control characters; they are defanged so a
         * file that is cat'ed to a terminal cannot drive it, and a line
         * break cannot split a row for a reader that ignores quotes. */
        if (unsafe_for_terminal(p, n)) {
            fputc('?', out);
        } else if (*p == '"') {
            fputs("\"\"", out);
        } else {
            fwrite(p, 1, n, out);
        }
        p += n;
    }
    if (quote) {
        fputc('"', out);
    }
}

size_t aw_text_terminal_clean(const char *s, size_t len, char *dst, size_t max)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t out = 0;

    while (p < end) {
        size_t n = *p == 0 ? 0 : utf8_seq_len(p, (size_t)(end - p));

        if (unsafe_for_terminal(p, n)) {
            if (out + 1 > max) {
                break;
            }
            dst[out++] = '?';
            p += n == 0 ? 1 : n;
            continue;
        }
        if (out + n > max) {
            break;
        }
        memcpy(dst + out, p, n);
        out += n;
        p += n;
    }
    dst[out] = '\0';
    return out;
}

/* One conversion of aw_text_printf(): spec is "%...c" (NUL-terminated),
 * stars the values of its '*' width and precision. */
static void print_one(FILE *out, const char *spec, const int *stars, int nstars, char conv,
                      const char *len_mod, va_list *ap)
{
#define AW_PRINT_STARRED(value)                                               \
    do {                                                                     \
        if (nstars == 0) {                                                   \
            fprintf(out, spec, value);                                       \
        } else if (nstars == 1) {                                            \
            fprintf(out, spec, stars[0], value);                             \
        } else {                                                             \
            fprintf(out, spec, stars[0], stars[1], value);                   \
        }                                                                    \
    } while (0)
    switch (conv) {
    case 'd': case 'i':
        if (strcmp(len_mod, "ll") == 0) AW_PRINT_STARRED(va_arg(*ap, long long));
        else if (strcmp(len_mod, "l") == 0) AW_PRINT_STARRED(va_arg(*ap, long));
        else if (strcmp(len_mod, "z") == 0) AW_PRINT_STARRED(va_arg(*ap, ptrdiff_t));
        else if (strcmp(len_mod, "j") == 0) AW_PRINT_STARRED(va_arg(*ap, intmax_t));
        else if (strcmp(len_mod, "t") == 0) AW_PRINT_STARRED(va_arg(*ap, ptrdiff_t));
        else AW_PRINT_STARRED(va_arg(*ap, int));
        break;
    case 'u': case 'x': case 'X': case 'o':
        if (strcmp(len_mod, "ll") == 0) AW_PRINT_STARRED(va_arg(*ap, unsigned long long));
        else if (strcmp(len_mod, "l") == 0) AW_PRINT_STARRED(va_arg(*ap, unsigned long));
        else if (strcmp(len_mod, "z") == 0) AW_PRINT_STARRED(va_arg(*ap, size_t));
        else if (strcmp(len_mod, "j") == 0) AW_PRINT_STARRED(va_arg(*ap, uintmax_t));
        else if (strcmp(len_mod, "t") == 0) AW_PRINT_STARRED(va_arg(*ap, ptrdiff_t));
        else AW_PRINT_STARRED(va_arg(*ap, unsigned int));
        break;
    case 'c':
        AW_PRINT_STARRED(va_arg(*ap, int));
        break;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
        if (strcmp(len_mod, "L") == 0) AW_PRINT_STARRED(va_arg(*ap, long double));
        else AW_PRINT_STARRED(va_arg(*ap, double));
        break;
    case 'p':
        AW_PRINT_STARRED(va_arg(*ap, void *));
        break;
    default:
        break;
    }
#undef AW_PRINT_STARRED
}

/* One %s conversion (spec, with its star arguments) of arg cleaned for
 * the terminal; precision, when not -1, bounds the bytes taken from arg. */
static void print_string(FILE *out, const char *spec, const int *stars, int nstars,
                         long precision, const char *arg)
{
    size_t n = arg == NULL ? 0 : (precision >= 0 ? strnlen(arg, (size_t)precision)
                                                 : strlen(arg));
    char *clean = malloc(n + 1);

    if (clean == NULL) {
        return;
    }
    aw_text_terminal_clean(arg != NULL ? arg : "", n, clean, n);
    /* The precision now counts cleaned bytes, never more. */
    if (nstars == 0) {
        fprintf(out, spec, clean);
    } else if (nstars == 1) {
        fprintf(out, spec, stars[0], clean);
    } else {
        fprintf(out, spec, stars[0], stars[1], clean);
    }
    free(clean);
}

/* Why a printf of its own: every human output line mixes our text (with
 * its newlines and tabs) and strings from outside (file names, hosts,
 * messages, rule texts).  Cleaning each %s argument here, in one place,
 * is the only way not to miss one at any of the call sites. */
void aw_text_printf(FILE *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    aw_text_vprintf(out, fmt, ap);
    va_end(ap);
}

/* A format walker: one state machine over the conversion syntax (flags,
 * width, precision, length, conversion); print_string() and print_one()
 * print a conversion. */
void aw_text_vprintf(FILE *out, const char *fmt, va_list ap_in)
{
    va_list ap;
    const char *p = fmt;

    va_copy(ap, ap_in);
    while (*p != '\0') {
        char spec[32], len_mod[3] = "";
        int stars[2], nstars = 0;
        size_t sl = 0;
        long precision = -1;

        if (*p != '%') {
            const char *q = strchr(p, '%');
            size_t n = q != NULL ? (size_t)(q - p) : strlen(p);
            fwrite(p, 1, n, out);
            p += n;
            continue;
        }
        if (p[1] == '%') {
            fputc('%', out);
            p += 2;
            continue;
        }
        spec[sl++] = *p++;
        while (*p != '\0' && strchr("-+ #0", *p) != NULL && sl < 20) {
            spec[sl++] = *p++;
        }
        if (*p == '*') {
            stars[nstars++] = va_arg(ap, int);
            spec[sl++] = *p++;
        }
        while (*p >= '0' && *p <= '9' && sl < 24) {
            spec[sl++] = *p++;
        }
        if (*p == '.') {
            spec[sl++] = *p++;
            precision = 0;
            if (*p == '*') {
                stars[nstars] = va_arg(ap, int);
                precision = stars[nstars] < 0 ? -1 : stars[nstars];
                nstars++;
                spec[sl++] = *p++;
            }
            while (*p >= '0' && *p <= '9' && sl < 28) {
                precision = precision * 10 + (*p - '0');
                spec[sl++] = *p++;
            }
        }
        while (*p != '\0' && strchr("hlzjtL", *p) != NULL && strlen(len_mod) < 2) {
            len_mod[strlen(len_mod)] = *p;
            spec[sl++] = *p++;
        }
        if (*p == '\0') {
            break;
        }
        spec[sl++] = *p;
        spec[sl] = '\0';
        if (*p == 's') {
            print_string(out, spec, stars, nstars, precision, va_arg(ap, const char *));
        } else {
            print_one(out, spec, stars, nstars, *p, len_mod, &ap);
        }
        p++;
    }
    va_end(ap);
}

void aw_text_terminal(FILE *out, const char *s, size_t max_cols)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + strlen(s);
    size_t cols = 0, width = max_cols ? aw_text_width(s) : 0;

    while (*p != '\0') {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (max_cols && width > max_cols && cols + 3 >= max_cols) {
            fputs("...", out);
            return;
        }
        if (unsafe_for_terminal(p, n)) {
            fputc('?', out);
            p += n == 0 ? 1 : n;
        } else {
            fwrite(p, 1, n, out);
            p += n;
        }
        cols++;
    }
}

size_t aw_text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + strlen(s);
    size_t cols = 0;

    while (*p != '\0') {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        p += n == 0 ? 1 : n;
        cols++;
    }
    return cols;
}
