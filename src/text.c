/*
 * Text hygiene (see text.h).
 */
#include "agentwatch/text.h"

#include <stdbool.h>
#include <stdint.h>
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

void aw_text_csv_field(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + strlen(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL;

    if (quote) {
        fputc('"', out);
    }
    while (p < end) {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (n == 0) {
            fputs("\xEF\xBF\xBD", out);
            p++;
            continue;
        }
        /* CSV cannot escape control characters; they are defanged so a
         * file that is cat'ed to a terminal cannot drive it. */
        if ((n == 1 && ((*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') || *p == 0x7F)) ||
            is_c1(p, n)) {
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
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)) || is_c1(p, n)) {
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
