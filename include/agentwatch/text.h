/*
 * Text hygiene for what leaves agentwatch: log messages are untrusted bytes
 * (invalid UTF-8, NULs, escape sequences), but the database stores valid
 * UTF-8 text and every output format must stay well-formed and must never
 * pass a raw control character to a terminal.
 */
#ifndef AGENTWATCH_TEXT_H
#define AGENTWATCH_TEXT_H

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>

/* The plural "s" of a count, for messages: "%llu finding%s", n, AW_PLURAL(n). */
#define AW_PLURAL(n) ((n) == 1 ? "" : "s")

#include "agentwatch/err.h"

/* Copy at most max bytes of valid UTF-8 made from src into dst (which has
 * room for max + 1 bytes) and NUL-terminate it: invalid sequences and NUL
 * bytes become U+FFFD, a character that would not fit is dropped whole.
 * Returns the length written. */
size_t aw_text_utf8_clean(const char *src, size_t len, char *dst, size_t max);

/* Write s as a JSON string literal (with quotes); NULL writes null. */
void aw_text_json_string(FILE *out, const char *s);

/* Write s as one CSV field (RFC 4180 quoting when needed).  CSV cannot
 * escape control characters: C0 (tab, CR and LF included), DEL, C1 and
 * bidi controls are written as '?', invalid UTF-8 as U+FFFD.  A field
 * starting with =, +, -, @, tab or CR gets a leading single quote, so
 * that a spreadsheet does not evaluate it as a formula (OWASP, "CSV
 * Injection"). */
void aw_text_csv_field(FILE *out, const char *s);

/* Write s for a human on a terminal: control characters (C0, DEL, C1),
 * bidi controls and escape sequences are shown as '?' ; at most max_cols characters
 * (0 = no limit), with "..." when cut. */
void aw_text_terminal(FILE *out, const char *s, size_t max_cols);

/* The terminal-safe form of s[0..len): every C0 and C1 control, DEL,
 * bidi override or isolate (U+202A..U+202E, U+2066..U+2069) and invalid
 * UTF-8 byte becomes '?', so nothing from outside can drive a terminal,
 * split a line or reorder what is shown.  At most max bytes (a character
 * that would not fit is dropped whole) into dst (room for max + 1),
 * NUL-terminated; returns the length written. */
size_t aw_text_terminal_clean(const char *s, size_t len, char *dst, size_t max);

/* printf for human output: every %s argument is written terminal-safe
 * (aw_text_terminal_clean), the format itself as it is.  Supports the
 * conversions d i u x X o c e f g p s with flags, '*' width and precision
 * and the length modifiers hh h l ll z j t L. */
void aw_text_printf(FILE *out, const char *fmt, ...) AW_PRINTF(2, 3);
void aw_text_vprintf(FILE *out, const char *fmt, va_list ap);

/* Display width of s as aw_text_terminal() would write it (one column per
 * code point). */
size_t aw_text_width(const char *s);

#endif
