/*
 * Status codes and error messages.
 *
 * Every fallible function returns an int: AW_OK (0) or a negative enum
 * aw_status, and fills a caller-owned struct aw_err with a one-line,
 * human-readable message that already carries its context (file, line,
 * offset, database path).  Only the command layer prints messages.
 *
 * Loaders that can find many problems at once (rules, configuration)
 * collect them in a struct aw_diags, one "FILE:LINE:COLUMN: message"
 * string per problem, so a user sees every mistake in one run.
 */
#ifndef AGENTWATCH_ERR_H
#define AGENTWATCH_ERR_H

#include <stddef.h>

enum aw_status {
    AW_OK = 0,
    AW_ENOMEM = -1,   /* allocation failed */
    AW_EIO = -2,      /* file system or read error */
    AW_ESYNTAX = -3,  /* malformed input: rules, options, dates */
    AW_EDB = -4,      /* SQLite error */
    AW_EUSAGE = -5,   /* bad command-line usage */
    AW_ENOTFOUND = -6,/* a named thing does not exist */
    AW_ELIMIT = -7,   /* a configured limit was hit */
    AW_EBUSY = -8,    /* held by another process */
    AW_EDENIED = -9   /* a file not read: permission denied, or refused by
                         the file policy (a link, FIFO, foreign owner) */
};

#define AW_ERR_MSG_MAX 1024

struct aw_err {
    int code;                    /* last status set, AW_OK when clear */
    char msg[AW_ERR_MSG_MAX];    /* one line, no trailing newline */
};

#if defined(__GNUC__)
#if defined(__MINGW32__)
/* mingw-w64 builds use its C99 printf (__USE_MINGW_ANSI_STDIO), not
 * msvcrt's, so %zu and %lld are checked and printed the GNU way. */
#define AW_PRINTF(fmt_index, first_arg) \
    __attribute__((format(gnu_printf, fmt_index, first_arg)))
#else
#define AW_PRINTF(fmt_index, first_arg) \
    __attribute__((format(printf, fmt_index, first_arg)))
#endif
#else
#define AW_PRINTF(fmt_index, first_arg)
#endif

/* Record code and a formatted message in err (may be NULL); return code. */
int aw_err_set(struct aw_err *err, int code, const char *fmt, ...) AW_PRINTF(3, 4);

/* Reset err to AW_OK with an empty message. */
void aw_err_clear(struct aw_err *err);

/* Stable short name of a status ("ok", "out of memory", ...). */
const char *aw_status_text(int code);

/* At most this many diagnostics are kept; the rest are counted.  A file
 * can hold hundreds of thousands of problems (one alias a line), and
 * nobody reads past the first screenfuls. */
#define AW_DIAGS_MAX 100

/* A growable list of one-line diagnostics.  Zero-initialise before use;
 * release with aw_diags_free().  Past AW_DIAGS_MAX, the last item is the
 * line "... and N more" (kept current) and more is N, so printing the
 * items prints the cap; aw_diags_total() counts them all. */
struct aw_diags {
    char **items;
    size_t count;
    size_t cap;
    size_t more;              /* diagnostics left out */
};

/* Append a formatted diagnostic. Returns AW_OK or AW_ENOMEM. */
int aw_diags_add(struct aw_diags *d, const char *fmt, ...) AW_PRINTF(2, 3);

/* How many diagnostics were added, kept or not. */
size_t aw_diags_total(const struct aw_diags *d);

/* Free every item and reset the list to empty. Accepts an empty list. */
void aw_diags_free(struct aw_diags *d);

#endif
