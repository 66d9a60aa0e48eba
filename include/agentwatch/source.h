/*
 * Sources: which files make up a log, and in which order to read them.
 *
 * A PATH naming an active log (".../agent.log") stands for its whole
 * rollover family in the same folder: agent.log, agent1.log ... agentN.log
 * (the stem, optional digits, the same extension) and, for ConfigMgr logs,
 * agent.lo_.  A PATH naming a rollover itself (agent1.log) stands for that
 * file only.  A directory stands for every *.log and *.lo_ file in it.
 *
 * Files are returned oldest content first: by the timestamp of their first
 * record when every file of the family has one, else by modification time;
 * a first record without a year (agent.log's 'May 16 11:51:05') takes the
 * year its file's modification time allows (aw_time_resolve()), then,
 * once the family is ordered, the year the next newer member allows: each
 * rollover's records end before the next file's first record, so that
 * record bounds it (next_first_ts), which also holds for copies that lost
 * their modification times;
 * ties go to the higher rollover number (agent2.log before agent1.log),
 * the active file last.  The same file reached twice (two PATHs, a hard
 * link) is listed once.
 *
 * File policy (see aw_fileid_open): a file found by listing a folder or a
 * rollover family is never reached through a symbolic link, and must be a
 * regular file owned by root, the folder's owner or the user agentwatch
 * runs as; one that is not, or cannot be read, is skipped with one line
 * naming it (list->skipped).  An explicit PATH that is a symbolic link is
 * resolved once, before expansion (aw_source_resolve), and said so.
 */
#ifndef AGENTWATCH_SOURCE_H
#define AGENTWATCH_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentwatch/err.h"
#include "agentwatch/fileid.h"
#include "agentwatch/record.h"
#include "agentwatch/tz.h"

struct aw_source_file {
    char *path;               /* owned */
    struct aw_file_id id;     /* identity as read during expansion */
    long rollover;            /* N of agentN.log, 0 for the active file,
                                 -1 for a .lo_ rollover (older than all) */
    int64_t first_ts;         /* first record's time, AW_TIME_NONE if none */
    int64_t next_first_ts;    /* first record's time of the next newer
                                 member of the family (same name stem),
                                 AW_TIME_NONE for the newest or unknown:
                                 no record of this file is later */
    int64_t age_key;          /* what the family was sorted by */
};

struct aw_source_list {
    struct aw_source_file *items;
    size_t count;
    size_t cap;
    struct aw_diags skipped;  /* one line per member not read, and why */
};

/* Append the files PATH stands for to list, each family sorted oldest
 * first, skipping files already listed.  format is used to peek at each
 * file's first record (AW_FORMAT_AUTO detects), whose time is read in
 * zone tz (NULL: UTC) when it has no offset.  AW_ENOTFOUND when PATH
 * does not exist; a family member vanishing during expansion is skipped. */
int aw_source_expand(const char *path, enum aw_format format, const struct aw_tz *tz,
                     struct aw_source_list *list, struct aw_err *err);

/* The latest time a record of f can carry, for the year of dates that
 * have none: mtime_ms (the file's current modification time), lowered to
 * f->next_first_ts when that is earlier. */
int64_t aw_source_year_bound(const struct aw_source_file *f, int64_t mtime_ms);

/* Does PATH (as given to aw_source_expand) stand for the file at path,
 * by name: the same rules as expansion, without touching the disk. */
bool aw_source_covers(const char *arg, const char *path);

/* The n paths as they are to be read: a copy of each, except that a path
 * whose last component is a symbolic link becomes its resolved target,
 * with a line in notes saying so.  *out is a NULL-terminated array; free
 * it with aw_source_paths_free().  AW_ENOTFOUND for a dangling link. */
int aw_source_resolve(char *const paths[], size_t n, char ***out, struct aw_diags *notes,
                      struct aw_err *err);

void aw_source_paths_free(char ***paths);

/* Free every item; the list is empty afterwards. Accepts an empty list. */
void aw_source_list_free(struct aw_source_list *list);

#endif
