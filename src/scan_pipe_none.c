/*
 * The scan's pipeline where the build has no threads (Windows, see
 * meson.build): aw_pipe_start() starts nothing, and scan.c reads and
 * stores on one thread.  The other calls are never reached then.
 */
#include "scan_pipe.h"

#include <string.h>

int aw_pipe_start(struct aw_pipe **out, struct aw_store *store, size_t slot_findings,
                  struct aw_err *err)
{
    (void)store;
    (void)slot_findings;
    (void)err;
    *out = NULL;
    return AW_OK;
}

int aw_pipe_add(struct aw_pipe *p, const struct aw_finding *f, bool host_stable,
                struct aw_err *err)
{
    (void)p;
    (void)f;
    (void)host_stable;
    return aw_err_set(err, AW_EUSAGE, "scan: no store thread in this build");
}

int aw_pipe_commit(struct aw_pipe *p, const struct aw_file_progress *prog, bool only_if_new,
                   struct aw_err *err)
{
    (void)p;
    (void)prog;
    (void)only_if_new;
    return aw_err_set(err, AW_EUSAGE, "scan: no store thread in this build");
}

int aw_pipe_rollback(struct aw_pipe *p, struct aw_err *err)
{
    (void)p;
    return aw_err_set(err, AW_EUSAGE, "scan: no store thread in this build");
}

int aw_pipe_finish(struct aw_pipe **pp, struct aw_pipe_totals *totals, struct aw_err *err)
{
    (void)err;
    memset(totals, 0, sizeof(*totals));
    *pp = NULL;
    return AW_OK;
}
