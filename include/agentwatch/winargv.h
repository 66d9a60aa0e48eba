/*
 * A Windows command line from an argument vector (CreateProcessW takes one
 * string; the child's C runtime or CommandLineToArgvW splits it again).
 * Platform-neutral, so that its unit test runs on Linux too.
 *
 * The rules are those of "Parsing C command-line arguments" (Microsoft C
 * runtime documentation, learn.microsoft.com/cpp/c-language/
 * parsing-c-command-line-arguments): arguments are separated by spaces or
 * tabs; "..." groups; backslashes are literal except before a double
 * quote, where 2n backslashes give n and a delimiting quote, 2n+1 give n
 * and a literal quote.  Each argument that is empty or holds a space, tab,
 * newline, vertical tab or double quote is written in double quotes with
 * its backslashes doubled only where they precede a quote (inside it, or
 * the closing one); any other argument is written as it is.  The result
 * never holds "" inside a quoted part, where the C runtime and
 * CommandLineToArgvW differ, so both read it back alike.  argv[0] is
 * quoted the same way: a Windows path holds no double quote and does not
 * end in a backslash, so the program-name rule (backslashes always
 * literal) reads it back unchanged too.
 */
#ifndef AGENTWATCH_WINARGV_H
#define AGENTWATCH_WINARGV_H

#include "agentwatch/err.h"

/* argv (NULL-terminated, at least one element, UTF-8) as one command line
 * in *out (malloc'd, the caller frees).  AW_OK or AW_ENOMEM. */
int aw_win_command_line(const char *const *argv, char **out);

#endif
