/*
 * File identity: heads, device/inode and offset markers (see fileid.h).
 *
 * Files are opened read-only and closed before returning, so agentwatch
 * never holds a handle that would stop the agent from rotating its logs.
 */
#include "agentwatch/fileid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agentwatch/platform.h"

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

/* Read up to len bytes at offset, retrying short reads; returns bytes read
 * or -1 with errno set. */
static ssize_t read_at(int fd, void *buf, size_t len, uint64_t offset)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = aw_os_pread(fd, (char *)buf + done, len - done, offset + done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/* The owner of the folder holding path ("." for a bare name). */
static int folder_owner(const char *path, uint64_t *uid)
{
    const char *sep = aw_path_last_sep(path);
    char dir[4096];
    struct aw_os_stat st;

    if (sep == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if ((size_t)(sep - path) + 2 > sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    } else {
        /* "/x" lives in "/": keep the root's separator. */
        size_t n = sep == path ? 1 : (size_t)(sep - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    if (aw_os_stat(dir, &st) != 0) {
        return -1;
    }
    *uid = st.uid;
    return 0;
}

int aw_fileid_open(const char *path, int *fd_out, struct aw_os_stat *st, struct aw_err *err)
{
    uint64_t dir_uid = 0;
    int fd = aw_os_open_log(path, st);

    *fd_out = -1;
    if (fd < 0) {
        if (st->is_link) {
            return aw_err_set(err, AW_EDENIED, "%s: not read: a symbolic link (links found in a"
                              " folder are never followed; name the target instead)", path);
        }
        return aw_err_set(err, errno == ENOENT ? AW_ENOTFOUND
                               : (errno == EACCES || errno == EPERM) ? AW_EDENIED : AW_EIO,
                          "%s: cannot open: %s", path, strerror(errno));
    }
    if (!st->is_reg) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EDENIED, "%s: not read: not a regular file", path);
    }
    if (st->owner_known && st->uid != 0 && st->uid != aw_os_euid()) {
        if (folder_owner(path, &dir_uid) != 0 || dir_uid != st->uid) {
            aw_os_close(fd);
            return aw_err_set(err, AW_EDENIED, "%s: not read: owned by uid %llu, which is"
                              " neither root, the folder's owner nor this user", path,
                              (unsigned long long)st->uid);
        }
    }
    *fd_out = fd;
    return AW_OK;
}

int aw_fileid_read(const char *path, struct aw_file_id *out, struct aw_err *err)
{
    struct aw_os_stat st;
    int fd = -1;
    int rc;
    ssize_t n;

    rc = aw_fileid_open(path, &fd, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    n = read_at(fd, out->head, sizeof(out->head), 0);
    if (n < 0) {
        rc = aw_err_set(err, AW_EIO, "%s: read error at offset 0: %s", path, strerror(errno));
        goto out;
    }
    out->dev = st.dev;
    out->ino = st.ino;
    /* The head may have grown between fstat and read; the bytes read are
     * what counts, and size is never reported below them. */
    out->size = st.size > (uint64_t)n ? st.size : (uint64_t)n;
    out->mtime_ms = st.mtime_sec * 1000 + st.mtime_nsec / 1000000;
    out->head_len = (size_t)n;
    rc = AW_OK;
out:
    aw_os_close(fd);
    return rc;
}

bool aw_fileid_head_compatible(const unsigned char *a, size_t alen,
                               const unsigned char *b, size_t blen)
{
    size_t common = alen < blen ? alen : blen;

    return common > 0 && memcmp(a, b, common) == 0;
}

uint64_t aw_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = FNV_OFFSET;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

size_t aw_fileid_head_sums(const unsigned char *head, size_t len, unsigned char *out)
{
    uint64_t h = FNV_OFFSET;
    size_t n = 0, next = 1;

    if (len > AW_HEAD_MAX) {
        len = AW_HEAD_MAX;
    }
    /* One pass: FNV-1a's running state after k bytes is the hash of the
     * first k bytes. */
    for (size_t i = 0; i < len; i++) {
        h ^= head[i];
        h *= FNV_PRIME;
        if (i + 1 == next && next < len) {
            put_le64(out + n, h);
            n += 8;
            next *= 2;
        }
    }
    if (len > 0) {
        put_le64(out + n, h);
        n += 8;
    }
    return n;
}

size_t aw_fileid_head_common(size_t stored_len, const unsigned char *sums, size_t sums_len,
                             const unsigned char *head, size_t head_len)
{
    size_t k = 1, idx = 0;

    if (stored_len == 0 || head_len == 0 || sums_len < 8 || sums_len % 8 != 0) {
        return 0;
    }
    if (head_len >= stored_len) {
        return aw_hash64(head, stored_len) == get_le64(sums + sums_len - 8) ? stored_len : 0;
    }
    while (k * 2 <= head_len) {
        k *= 2;
        idx++;
    }
    /* k <= head_len < stored_len: the sums hold k's hash at idx, before
     * the whole head's, unless they are damaged. */
    if ((idx + 2) * 8 > sums_len) {
        return 0;
    }
    return aw_hash64(head, k) == get_le64(sums + idx * 8) ? k : 0;
}

int aw_fileid_marker_fd(int fd, const char *path, uint64_t offset, uint64_t *out,
                        struct aw_err *err)
{
    unsigned char buf[AW_MARKER_MAX];
    size_t want = offset < AW_MARKER_MAX ? (size_t)offset : AW_MARKER_MAX;
    ssize_t n;

    if (offset == 0) {
        *out = 0;
        return AW_OK;
    }
    n = read_at(fd, buf, want, offset - want);
    if (n < 0) {
        return aw_err_set(err, AW_EIO, "%s: read error at offset %llu: %s", path,
                          (unsigned long long)(offset - want), strerror(errno));
    }
    if ((size_t)n < want) {
        return aw_err_set(err, AW_ELIMIT, "%s: file is shorter than offset %llu", path,
                          (unsigned long long)offset);
    }
    *out = aw_hash64(buf, want);
    return AW_OK;
}

int aw_fileid_marker(const char *path, uint64_t offset, uint64_t *out, struct aw_err *err)
{
    struct aw_os_stat st;
    int fd = -1;
    int rc;

    if (offset == 0) {
        *out = 0;
        return AW_OK;
    }
    rc = aw_fileid_open(path, &fd, &st, err);
    if (rc != AW_OK) {
        return rc;
    }
    rc = aw_fileid_marker_fd(fd, path, offset, out, err);
    aw_os_close(fd);
    return rc;
}

bool aw_fileid_head_matches_fd(int fd, const unsigned char *head, size_t head_len)
{
    unsigned char buf[AW_HEAD_MAX];
    ssize_t n;

    if (head_len > sizeof(buf)) {
        head_len = sizeof(buf);
    }
    n = read_at(fd, buf, head_len, 0);
    return n == (ssize_t)head_len && memcmp(buf, head, head_len) == 0;
}
