/*
 * Records: cutting a log file's bytes into log records.
 *
 * A reader opens one file read-only at a byte offset, detects its encoding
 * (UTF-8 with or without BOM, UTF-16LE with BOM or by its zero-byte
 * pattern) and its format (itms, cmtrace, line; see aw_format), and hands
 * out records one at a time.  Memory is bounded by the chunk size and the
 * record cap, whatever the file contains: a record longer than max_record
 * is cut for matching, flagged truncated and counted, and reading goes on
 * at its end.  NUL bytes, invalid UTF-8 and garbage between records are
 * tolerated (garbage is skipped and counted).
 *
 * Offsets are always raw file offsets, also for UTF-16 files whose text
 * is handed out converted to UTF-8.
 *
 * Parsing is split in two: aw_reader_next() only finds the record and its
 * message (the hot path); aw_record_parse_meta() parses timestamp,
 * severity, host, source and module, and is called only for records a
 * rule matched and for the records of a file's last 64 KiB (scan's
 * newest record time of the file).
 */
#ifndef AGENTWATCH_RECORD_H
#define AGENTWATCH_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"

enum aw_format {
    AW_FORMAT_AUTO = 0, /* detect from the first bytes */
    AW_FORMAT_ITMS,     /* <event date='..' severity='..' ...><![CDATA[..]]></event> */
    AW_FORMAT_CMTRACE,  /* <![LOG[..]LOG]!><time=".." date=".." type=".." ...> */
    AW_FORMAT_LINE      /* one record per line */
};

enum aw_encoding {
    AW_ENCODING_UTF8 = 0,   /* no BOM: UTF-8, or any ASCII-compatible bytes */
    AW_ENCODING_UTF8_BOM,   /* EF BB BF */
    AW_ENCODING_UTF16LE     /* FF FE, or detected by its zero high bytes */
};

/* Record severity, normalised across formats. */
enum aw_level {
    AW_LEVEL_UNKNOWN = 0,
    AW_LEVEL_VERBOSE,
    AW_LEVEL_TRACE,
    AW_LEVEL_INFO,
    AW_LEVEL_WARNING,
    AW_LEVEL_ERROR
};

/* Default cap on the bytes of one record kept for matching. */
#define AW_RECORD_MAX_DEFAULT (64u * 1024u)

struct aw_span {
    const char *ptr;  /* not NUL-terminated; may contain NUL bytes */
    size_t len;
};

struct aw_record {
    uint64_t offset;          /* raw file offset where the record starts */
    uint64_t end;             /* raw file offset just past the record */
    struct aw_span message;   /* message text (CDATA / LOG[..] / the line);
                                 UTF-8 for UTF-16 files, raw bytes otherwise */
    struct aw_span header;    /* the attribute text (itms: inside <event ..>,
                                 cmtrace: inside <..> after ]LOG]!>); empty
                                 for line */
    bool truncated;           /* longer than max_record: message is cut */
    bool broken;              /* ended by the start of the next record or by
                                 garbage, not by its own terminator */
    bool partial;             /* the final record of the data, without its
                                 terminator yet (the writer may still be
                                 writing it); only with deliver_partial */
};

/* Metadata parsed on demand from a record (aw_record_parse_meta()). */
struct aw_record_meta {
    int64_t ts_ms;            /* AW_TIME_NONE when absent or unparseable */
    bool ts_inferred;         /* the record did not say its year or its
                                 UTC offset: ts_ms rests on the time
                                 context (aw_time_resolve()) */
    enum aw_level level;
    int raw_severity;         /* as written (itms bit value, cmtrace type),
                                 -1 when absent */
    struct aw_span host;      /* itms hostName; empty when absent */
    struct aw_span source;    /* itms source, cmtrace component */
    struct aw_span module;    /* itms module, cmtrace file */
};

struct aw_reader_opts {
    enum aw_format format;    /* AW_FORMAT_AUTO to detect */
    size_t max_record;        /* 0: AW_RECORD_MAX_DEFAULT */
    size_t chunk_size;        /* read() size; 0: 256 KiB. Tests use tiny
                                 values to exercise every boundary. */
    bool deliver_partial;     /* hand out a final unterminated record
                                 (flagged partial) instead of holding it */
    bool named_file;          /* the user named this very file (rules test
                                 FILE): open it as named, links followed;
                                 otherwise the file policy of
                                 aw_fileid_open() applies */
};

struct aw_reader_stats {
    uint64_t records;         /* records handed out */
    uint64_t truncated;       /* of which longer than max_record */
    uint64_t broken;          /* of which without their own terminator */
    uint64_t skipped_bytes;   /* raw bytes that belonged to no record */
    uint64_t bytes_read;      /* raw bytes read from the file */
};

struct aw_reader;

/* Open path read-only and position at raw offset start (0, or an offset an
 * earlier reader returned from aw_reader_offset()).  The encoding is
 * always detected from the start of the file; the format from the first
 * bytes of the file when opts->format is AW_FORMAT_AUTO.  Caller frees
 * with aw_reader_close().  AW_EDENIED as aw_fileid_open(). */
int aw_reader_open(struct aw_reader **out, const char *path, uint64_t start,
                   const struct aw_reader_opts *opts, struct aw_err *err);

/* Next record into *rec, whose spans stay valid until the next call.
 * Returns 1 for a record, 0 at the end of the available data, or a
 * negative status (read error, with path and offset in err). */
int aw_reader_next(struct aw_reader *r, struct aw_record *rec, struct aw_err *err);

/* Raw offset just past the last complete record handed out: where a later
 * reader resumes.  A partial record is not included. */
uint64_t aw_reader_offset(const struct aw_reader *r);

enum aw_format aw_reader_format(const struct aw_reader *r);
enum aw_encoding aw_reader_encoding(const struct aw_reader *r);
const char *aw_reader_path(const struct aw_reader *r);
void aw_reader_get_stats(const struct aw_reader *r, struct aw_reader_stats *out);

/* The reader's open, read-only file descriptor (owned by the reader): lets
 * a caller check, on the very file it read, that the content is still what
 * it identified before trusting what it read. */
int aw_reader_fd(const struct aw_reader *r);

/* Close the file and free the reader; sets *r to NULL. Accepts NULL. */
void aw_reader_close(struct aw_reader **r);

/* Detect the format from the first bytes of a (decoded) file. */
enum aw_format aw_format_detect(const char *data, size_t len);

struct aw_time_ctx;

/* Parse timestamp, severity, host, source and module of rec, read in
 * format fmt; the timestamp is resolved against tc (zone and year bound;
 * NULL: UTC and no bound).  Timestamps: itms the date attribute; cmtrace
 * time + date with the bias in minutes after the time (UTC = local time
 * + bias, the Windows convention); line a timestamp at the start of the
 * line (after blanks and one '['), else the SMS trace suffix
 * "$$<component><MM-DD-YYYY HH:MM:SS.mmm+BIAS><thread=..>".  Never fails:
 * what cannot be parsed is left unknown. */
void aw_record_parse_meta(enum aw_format fmt, const struct aw_record *rec,
                          const struct aw_time_ctx *tc, struct aw_record_meta *out);

/* "auto", "itms", "cmtrace", "line"; NULL for an invalid value. */
const char *aw_format_name(enum aw_format fmt);
/* Inverse of aw_format_name(); AW_ESYNTAX for an unknown name. */
int aw_format_from_name(const char *name, enum aw_format *out);
/* "utf-8", "utf-8-bom", "utf-16le". */
const char *aw_encoding_name(enum aw_encoding enc);
/* "unknown", "verbose", "trace", "info", "warning", "error". */
const char *aw_level_name(enum aw_level level);

#endif
