/*
 * File identity.
 *
 * A log file is known by its content, not its name: rotation renames
 * agent.log to agent1.log, copy-and-truncate empties agent.log in place, and
 * inodes are reused.  Identity is therefore
 *   - the head: the first AW_HEAD_MAX bytes of the file (all of it while the
 *     file is smaller), compared as a prefix so that a file still tiny after
 *     rotation matches its own later, longer self;
 *   - the device and inode, as a hint that disambiguates short heads;
 *   - the offset marker: a hash of the AW_MARKER_MAX bytes just before a
 *     saved read offset, checked before resuming there, so that content
 *     rewritten behind the same head is never resumed into.
 */
#ifndef AGENTWATCH_FILEID_H
#define AGENTWATCH_FILEID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"

#define AW_HEAD_MAX 1024
#define AW_MARKER_MAX 64

struct aw_file_id {
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ms;
    size_t head_len;                   /* min(size, AW_HEAD_MAX) */
    unsigned char head[AW_HEAD_MAX];
};

struct aw_os_stat;

/* Open a log file under the file policy, the one place it lives: the
 * file is opened without following a symbolic link in its last component
 * and without blocking (see aw_os_open_log), and must be a regular file
 * owned by root, by the owner of its folder, or by the user agentwatch
 * runs as (POSIX; Windows refuses reparse points and leaves access to the
 * ACLs).  Anything else is AW_EDENIED with a one-line reason naming the
 * file, as is permission denied; AW_ENOTFOUND when it does not exist.
 * *fd_out is the descriptor (caller closes with aw_os_close) or -1. */
int aw_fileid_open(const char *path, int *fd_out, struct aw_os_stat *st, struct aw_err *err);

/* Stat and read the head of path (opened with aw_fileid_open).
 * AW_ENOTFOUND when it does not exist, AW_EDENIED when the policy refuses
 * it or permission is denied, AW_EIO when it cannot be read. */
int aw_fileid_read(const char *path, struct aw_file_id *out, struct aw_err *err);

/* True when the heads are non-empty and one is a prefix of the other. */
bool aw_fileid_head_compatible(const unsigned char *a, size_t alen,
                               const unsigned char *b, size_t blen);

/* What the database keeps of a head instead of its bytes: the 64-bit
 * hashes (little-endian) of its first 1, 2, 4 ... bytes below its length,
 * then of the whole head.  At most AW_HEAD_SUMS_MAX bytes. */
#define AW_HEAD_SUMS_MAX (8 * 12)

/* Fill out with the sums of head[0..len); returns their size in bytes. */
size_t aw_fileid_head_sums(const unsigned char *head, size_t len, unsigned char *out);

/* How long a prefix the stored head (its length and sums) and the head
 * read now (bytes) are known to share: the stored length when it is a
 * prefix of the head now (exact); when the file is now shorter, the
 * longest power of two up to its length whose hashes agree; 0 when they
 * disagree (or either is empty). */
size_t aw_fileid_head_common(size_t stored_len, const unsigned char *sums, size_t sums_len,
                             const unsigned char *head, size_t head_len);

/* 64-bit FNV-1a hash: stable across platforms and versions, because hashes
 * are stored in the database. */
uint64_t aw_hash64(const void *data, size_t len);

/* Hash of the min(offset, AW_MARKER_MAX) bytes of path just before offset
 * (0 for offset 0).  AW_ENOTFOUND/AW_EIO as aw_fileid_read(); AW_ELIMIT
 * when the file is now shorter than offset. */
int aw_fileid_marker(const char *path, uint64_t offset, uint64_t *out,
                     struct aw_err *err);

/* The same on an open file: the hash of the bytes before offset, read with
 * pread (the file position is not moved).  path is for messages only. */
int aw_fileid_marker_fd(int fd, const char *path, uint64_t offset, uint64_t *out,
                        struct aw_err *err);

/* Do the first head_len bytes of the open file still equal head?  False
 * when the file was truncated or rewritten (or cannot be read). */
bool aw_fileid_head_matches_fd(int fd, const unsigned char *head, size_t head_len);

#endif
