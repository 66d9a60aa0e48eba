/*
 * The probe where there is no engine yet (Windows: the CryptoAPI engine of
 * issue 12 is still to come).  `agentwatch probe` says so and exits 2
 * rather than pretend: a verdict from another trust engine than the
 * agent's would mislead.
 */
#include "agentwatch/probe.h"

#include <string.h>

bool aw_probe_available(void)
{
    return false;
}

int aw_probe_check_ca_file(const char *path, struct aw_err *err)
{
    (void)path;
    return aw_err_set(err, AW_EUSAGE, "probe is not available on this platform yet");
}

int aw_probe_run(const struct aw_probe_target *t, const struct aw_probe_opts *opts,
                 struct aw_probe_result *r, struct aw_err *err)
{
    (void)opts;
    memset(r, 0, sizeof(*r));
    r->target = *t;
    return aw_err_set(err, AW_EUSAGE, "probe is not available on this platform yet (the "
                      "CryptoAPI engine is not written)");
}
