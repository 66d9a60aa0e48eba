/*
 * Reading PCRE2 pattern syntax without compiling it: what the literal
 * extractor (rules_literals.c) and the pattern lint (rules_lint.c) both
 * need to step over.  One quantifier parser serves both; they differ only
 * in how they treat a brace PCRE2 versions disagree about (see
 * aw_rx_quant()).  Every function reads p[0..n) and never past it.
 */
#ifndef AGENTWATCH_REGEX_SYNTAX_H
#define AGENTWATCH_REGEX_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

static inline bool aw_rx_is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII lower case; other bytes unchanged. */
static inline unsigned char aw_rx_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* A quantifier as aw_rx_quant() read it. */
struct aw_rx_quant {
    unsigned long min;        /* lower bound (0 when absent; capped near 10^6) */
    bool unbounded;           /* *, +, {m,} */
    bool possessive;          /* followed by '+' */
    bool lazy;                /* followed by '?' */
};

/* Is there a quantifier at p[*i] (?, *, +, {m}, {m,}, {m,n}, {,n})?  If
 * so it is consumed with one lazy or possessive modifier, *i moves past
 * it and *q describes it.  lax also takes blanks inside the braces
 * ({ 2 , 3 }), which newer PCRE2 versions read as a quantifier and older
 * ones as literal text: the extractor must assume a quantifier (taking a
 * literal brace for one only loses literals), the lint must not (a
 * warning about a quantifier that is not one would be wrong). */
bool aw_rx_quant(const char *p, size_t n, size_t *i, bool lax, struct aw_rx_quant *q);

/* Skip the character class that opens at p[*i] == '['; *i moves past its
 * ']'.  false = not understood (\Q inside, unclosed). */
bool aw_rx_skip_class(const char *p, size_t n, size_t *i);

/* Skip an alphanumeric escape \<c> whose letter is at p[*i], with its
 * arguments (\x{..}, \p{..}, \cX, octal digits); *i moves past it.
 * false = back references (\1-\9, \g, \k), \Q, or malformed. */
bool aw_rx_skip_alnum_escape(const char *p, size_t n, size_t *i);

#endif
