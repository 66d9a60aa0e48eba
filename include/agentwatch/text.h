/*
 * Text hygiene for what leaves agentwatch: log messages are untrusted bytes
 * (invalid UTF-8, NULs, escape sequences), but the database stores valid
 * UTF-8 text and every output format must stay well-formed and must never
 * pass a raw control character to a terminal.
 */
#ifndef AGENTWATCH_TEXT_H
#define AGENTWATCH_TEXT_H

#include <stdio.h>
#include <stddef.h>

/* The plural "s" of a count, for messages: "%llu finding%s", n, AW_PLURAL(n). */
#define AW_PLURAL(n) ((n) == 1 ? "" : "s")

/* Copy at most max bytes of valid UTF-8 made from src into dst (which has
 * room for max + 1 bytes) and NUL-terminate it: invalid sequences and NUL
 * bytes become U+FFFD, a character that would not fit is dropped whole.
 * Returns the length written. */
size_t aw_text_utf8_clean(const char *src, size_t len, char *dst, size_t max);

/* Write s as a JSON string literal (with quotes); NULL writes null. */
void aw_text_json_string(FILE *out, const char *s);

/* Write s as one CSV field (RFC 4180 quoting when needed).  CSV cannot
 * escape control characters: C0 (but tab, CR, LF), DEL and C1 are written
 * as '?', invalid UTF-8 as U+FFFD. */
void aw_text_csv_field(FILE *out, const char *s);

/* Write s for a human on a terminal: control characters (C0, DEL, C1)
 * and escape sequences are shown as '?' ; at most max_cols characters
 * (0 = no limit), with "..." when cut. */
void aw_text_terminal(FILE *out, const char *s, size_t max_cols);

/* Display width of s as aw_text_terminal() would write it (one column per
 * code point). */
size_t aw_text_width(const char *s);

#endif
