/*
 * File identity: heads, device/inode and offset markers (see fileid.h).
 *
 * Files are opened read-only and closed before returning, so agentwatch
 * never holds a handle that would stop the agent from rotating its logs.
 */
#include "agentwatch/fileid.h"

#include <errno.h>
#include <string.h>

#include "agentwatch/platform.h"

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

static int open_regular(const char *path, int *fd_out, struct aw_os_stat *st, struct aw_err *err)
{
    int fd = aw_os_open_read(path);

    if (fd < 0) {
        return aw_err_set(err, errno == ENOENT ? AW_ENOTFOUND : AW_EIO,
                          "%s: cannot open: %s", path, strerror(errno));
    }
    if (aw_os_fstat(fd, st) != 0) {
        int saved = errno;
        aw_os_close(fd);
        return aw_err_set(err, AW_EIO, "%s: cannot stat: %s", path, strerror(saved));
    }
    if (!st->is_reg) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EIO, "%s: not a regular file", path);
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

    rc = open_regular(path, &fd, &st, err);
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
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
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
    rc = open_regular(path, &fd, &st, err);
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
