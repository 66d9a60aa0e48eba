/*
 * A labelled corpus of agent logs for measuring the shipped rules.
 *
 * corpus_write() writes log files of every supported format (itms in UTF-8
 * and in UTF-16LE with BOM, cmtrace, line) from a deterministic seed, and
 * records for every record it writes the ground truth: the category a
 * correct classifier gives it (NULL for none), and for records built
 * around an error code the code as written and the server the message
 * names before it.  Records are written in order, so the n-th record a
 * reader hands out for a file is truth[n] of that file.
 *
 * The benign records are meant to be hard: they mention "error",
 * "certificate", "timeout", "revocation", HTTP status numbers, code-like
 * numbers without code context, codes inside longer hex strings, "0 errors"
 * and "error=0x00000000", as real healthy agent logs do.
 */
#ifndef AGENTWATCH_TEST_CORPUS_H
#define AGENTWATCH_TEST_CORPUS_H

#include <stddef.h>
#include <stdint.h>

enum corpus_format {
    CORPUS_ITMS,
    CORPUS_ITMS_UTF16,
    CORPUS_CMTRACE,
    CORPUS_LINE,
    CORPUS_FORMATS
};

struct corpus_record {
    const char *category;     /* "ssl", "connection", "resolution", "health" or NULL */
    char *code;               /* the code as written, or NULL; owned */
    char *target;             /* the server named before the code, or NULL; owned */
};

struct corpus_file {
    char *path;               /* owned */
    enum corpus_format format;
    struct corpus_record *truth;
    size_t count;
};

struct corpus {
    struct corpus_file files[CORPUS_FORMATS];
    size_t nfiles;
};

/* Write one file per format into dir, records_per_file records each,
 * generated from seed.  Returns 0, or -1 when a file cannot be written
 * (errno set).  Free with corpus_free() in both cases. */
int corpus_write(struct corpus *c, const char *dir, uint64_t seed, size_t records_per_file);

void corpus_free(struct corpus *c);

#endif
