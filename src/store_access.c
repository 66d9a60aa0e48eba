/*
 * Store access: the database file on disk before SQLite opens it.  A
 * folder others may write to is refused, the file is created private (or
 * shared with the folder's group for monitoring), a file there must be
 * ours, one writer at a time holds PATH.lock, and a reader is told plainly
 * when it may not read, or reads without the WAL index in a read-only
 * folder.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/platform.h"
#include "store_impl.h"
#include "store_internal.h"

/* The folder holding path ("." for a bare name) into dir. */
static void folder_of(const char *path, char *dir, size_t size)
{
    const char *sep = aw_path_last_sep(path);
    size_t n = sep == NULL ? 0 : (sep == path ? 1 : (size_t)(sep - path));

    if (n == 0) {
        snprintf(dir, size, ".");
    } else {
        snprintf(dir, size, "%.*s", (int)n, path);
    }
}

/* Must a read-only open go without the WAL index?  When the -shm file
 * exists and we may read it, or we may create it in the folder, SQLite
 * opens a WAL database read-only by itself (since 3.22.0; a -shm it may
 * only read is replaced by a private copy of the index built from the
 * -wal: https://www.sqlite.org/wal.html, "Read-Only Databases").  That is
 * how a monitoring user of the database's group reads while follow
 * writes. */
bool aw_store_readonly_needs_immutable(const char *path)
{
    char shm[4096], dir[4096];
    struct aw_os_stat st;
    int fd;

    if ((size_t)snprintf(shm, sizeof(shm), "%s-shm", path) >= sizeof(shm)) {
        return false;
    }
    if (aw_os_stat(shm, &st) == 0) {
        if (aw_os_writable(shm)) {
            return false;
        }
        fd = aw_os_open_log(shm, &st);
        if (fd >= 0) {
            aw_os_close(fd);
            return false;
        }
        return true;
    }
    folder_of(path, dir, sizeof(dir));
    return !aw_os_writable(dir);
}

/* "file:PATH?immutable=1", with the characters a URI path may not hold
 * raw percent-encoded (https://www.sqlite.org/uri.html). */
int aw_store_open_immutable(struct aw_store *s, const char *path, struct aw_err *err)
{
    char wal[4096];
    struct aw_os_stat st;
    size_t len = strlen(path), n = 0;
    char *uri = malloc(len * 3 + 32);
    int rc = AW_OK;

    if (uri == NULL) {
        return aw_err_set(err, AW_ENOMEM, "out of memory opening %s", path);
    }
    /* Committed content still in the -wal would be invisible without the
     * index: refuse rather than report stale figures. */
    snprintf(wal, sizeof(wal), "%s-wal", path);
    if (aw_os_stat(wal, &st) == 0 && st.size > 0) {
        free(uri);
        return aw_err_set(err, AW_EDB, "%s: cannot read: its write-ahead log holds recent"
                          " changes and the folder is read-only for this user (run report"
                          " as the user that writes the database, or after a scan ended)",
                          path);
    }
    n += (size_t)sprintf(uri, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        if (*p == '?' || *p == '#' || *p == '%' || *p <= 0x20 || *p >= 0x7F) {
            n += (size_t)sprintf(uri + n, "%%%02X", *p);
        } else {
            uri[n++] = (char)*p;
        }
    }
    snprintf(uri + n, 32, "?immutable=1");
    if (sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = s->db != NULL ? aw_store_db_error(s, err, "cannot open database")
                           : aw_err_set(err, AW_ENOMEM, "%s: cannot open database", path);
    }
    free(uri);
    return rc;
}

/* A folder others may write to lets them plant the database, its -wal,
 * -shm and lock files, or links in their place, before we create them:
 * refuse it unless the user said otherwise (--allow-unsafe-dir).  The
 * sticky bit does not help: it stops others from replacing our files,
 * not from creating theirs under our names first. */
int aw_store_check_folder(const char *path, unsigned flags, struct aw_err *err)
{
    char dir[4096];
    struct aw_os_stat st;

    if (flags & AW_STORE_ALLOW_UNSAFE_DIR) {
        return AW_OK;
    }
    folder_of(path, dir, sizeof(dir));
    if (aw_os_stat(dir, &st) != 0) {
        return aw_err_set(err, AW_EIO, "%s: cannot stat the database folder %s: %s", path, dir,
                          strerror(errno));
    }
    if (st.owner_known && (st.perm & 022) != 0) {
        return aw_err_set(err, AW_EDENIED,
                          "%s: refused: the database folder %s is writable by %s (mode %04o),"
                          " so another user could plant files or links there; use a private"
                          " folder, or --allow-unsafe-dir", path, dir,
                          (st.perm & 002) ? "others" : "its group", st.perm);
    }
    return AW_OK;
}

/* May the database's group read it?  Only when the administrator made the
 * folder enterable and readable by its group, and not writable by it
 * (check_folder): the packages make /var/lib/agentwatch 2750
 * root:agentwatch so that a monitoring user in group agentwatch can run
 * status (README, "Read access for monitoring"). */
static bool folder_shares_with_group(const char *path)
{
    char dir[4096];
    struct aw_os_stat st;

    folder_of(path, dir, sizeof(dir));
    return aw_os_stat(dir, &st) == 0 && st.owner_known && (st.perm & 050) == 050 &&
           (st.perm & 022) == 0;
}

/* Make fd's mode 0600, or 0640 when its folder is shared with its group. */
static int set_mode(int fd, bool group_read)
{
    return group_read ? aw_os_fchmod_group_read(fd) : aw_os_fchmod_private(fd);
}

/* Create the database file ourselves so its mode is 0600 from the start
 * (0640 in a folder shared with its group, see above): findings quote log
 * messages, which may name hosts and users.  A file already there must be
 * ours: not a link (never written through), a regular file, owned by this
 * user; a mode open to others is repaired and said so (s->notice).  SQLite
 * gives the -wal and -shm files the database's mode and owner. */
int aw_store_create_private(struct aw_store *s, const char *path, struct aw_err *err)
{
    struct aw_os_stat st;
    bool group_read = folder_shares_with_group(path);
    unsigned allowed = group_read ? 040 : 0;
    int fd = aw_os_create_private(path);

    if (fd >= 0) {
        int rc = AW_OK;
        if (group_read && set_mode(fd, true) != 0) {
            rc = aw_err_set(err, AW_EIO, "%s: cannot make it readable by its group: %s", path,
                            strerror(errno));
        }
        aw_os_close(fd);
        return rc;
    }
    if (errno != EEXIST) {
        return aw_err_set(err, AW_EIO, "%s: cannot create database: %s", path, strerror(errno));
    }
    fd = aw_os_open_log(path, &st);
    if (fd < 0) {
        if (st.is_link) {
            return aw_err_set(err, AW_EDENIED, "%s: refused: the database path is a symbolic"
                              " link, which agentwatch never writes through", path);
        }
        return aw_err_set(err, AW_EIO, "%s: cannot open database: %s", path, strerror(errno));
    }
    if (!st.is_reg) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EDENIED, "%s: refused: not a regular file", path);
    }
    if (st.owner_known && st.uid != aw_os_euid()) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EDENIED, "%s: refused: owned by uid %llu, another user, who"
                          " could read or rewrite the findings; remove it or fix its owner",
                          path, (unsigned long long)st.uid);
    }
    if (st.owner_known && (st.perm & 077 & ~allowed) != 0) {
        if (set_mode(fd, group_read) != 0) {
            int saved = errno;
            aw_os_close(fd);
            return aw_err_set(err, AW_EIO, "%s: cannot repair mode %04o: %s", path, st.perm,
                              strerror(saved));
        }
        snprintf(s->notice, sizeof(s->notice), "%s: repaired: mode %04o let others read or"
                 " write the findings; it is now %s", path, st.perm, group_read ? "0640" : "0600");
    }
    aw_os_close(fd);
    return AW_OK;
}

/* Take PATH.lock for this process, or fail naming the process holding it.
 * The lock file is separate from the database so that it never interferes
 * with SQLite's own locking; the kernel drops it when the process dies, so
 * a killed writer never leaves a stale lock (flock on Linux, LockFileEx on
 * Windows; see platform.h). */
int aw_store_take_writer_lock(struct aw_store *s, struct aw_err *err)
{
    char lock_path[4096], pid_text[32] = "";
    struct aw_os_stat st;
    ssize_t n;
    int fd;

    if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s.lock", s->path) >= sizeof(lock_path)) {
        return aw_err_set(err, AW_EIO, "%s: path too long", s->path);
    }
    fd = aw_os_open_lock(lock_path);
    if (fd < 0) {
        if (errno == ELOOP) {
            return aw_err_set(err, AW_EDENIED, "%s: refused: the lock file is a symbolic link,"
                              " which agentwatch never writes through", lock_path);
        }
        return aw_err_set(err, AW_EIO, "%s: cannot open lock file: %s", lock_path,
                          strerror(errno));
    }
    if (aw_os_fstat(fd, &st) == 0 && st.owner_known && st.uid != aw_os_euid()) {
        aw_os_close(fd);
        return aw_err_set(err, AW_EDENIED, "%s: refused: the lock file is owned by uid %llu,"
                          " another user; remove it", lock_path, (unsigned long long)st.uid);
    }
    if (aw_os_try_lock(fd) != 0) {
        int saved = errno;
        n = aw_os_pread(fd, pid_text, sizeof(pid_text) - 1, 0);
        pid_text[n > 0 ? n : 0] = '\0';
        pid_text[strcspn(pid_text, "\n")] = '\0';
        aw_os_close(fd);
        if (saved == EWOULDBLOCK) {
            return aw_err_set(err, AW_EBUSY,
                              "%s: database in use by another agentwatch scan or follow%s%s%s;"
                              " only one may write at a time", s->path,
                              pid_text[0] ? " (pid " : "", pid_text, pid_text[0] ? ")" : "");
        }
        return aw_err_set(err, AW_EIO, "%s: cannot lock: %s", lock_path, strerror(saved));
    }
    n = snprintf(pid_text, sizeof(pid_text), "%ld\n", aw_os_getpid());
    if (aw_os_replace_content(fd, pid_text, (size_t)n) != 0) {
        /* The lock holds without the pid; it only improves the message. */
    }
    s->lock_fd = fd;
    return AW_OK;
}

/* A reader's first check: the database is there and this user may read
 * it.  Said plainly, because SQLite would only say "unable to open
 * database file", and a monitoring user without read access (status, see
 * README "Read access for monitoring") must be told what to fix. */
int aw_store_check_readable(const char *path, struct aw_err *err)
{
    struct aw_os_stat st;
    int fd;

    if (aw_os_stat(path, &st) != 0) {
        if (errno == EACCES) {
            return aw_err_set(err, AW_EDENIED, "%s: permission denied (this user may not open"
                              " the database folder)", path);
        }
        return aw_err_set(err, AW_ENOTFOUND, "%s: no database here (run 'agentwatch scan' first)",
                          path);
    }
    fd = aw_os_open_log(path, &st);
    if (fd < 0 && errno == EACCES) {
        return aw_err_set(err, AW_EDENIED, "%s: permission denied (this user may not read the"
                          " database)", path);
    }
    if (fd >= 0) {
        aw_os_close(fd);
    }
    return AW_OK;
}

