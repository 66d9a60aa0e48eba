/*
 * Fuzz target: the probe's OCSP response reading (src/probe_ocsp.c), as
 * an OCSP responder's HTTP body: the response status, the basic response,
 * its first answer's status and this and next update, a stale answer a
 * failure.  The signature is not verified here (no anchors): the harness
 * (tests/probe/harness.py, "ocsp") covers that.  Never a crash or a leak;
 * a failure has a reason, the update times are ISO-8601 or empty.
 */
#include <stdlib.h>
#include <string.h>

#include "agentwatch/probe.h"
#include "fuzz.h"
#include "src/probe_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aw_probe_url u;
    int rc;

    memset(&u, 0, sizeof(u));
    rc = aw_probe_ocsp_record(data, size, &u);
    if (rc == AW_OCSP_NONE || (rc == AW_OCSP_FAILED) != (u.result == AW_PC_FAIL) ||
        (u.result == AW_PC_FAIL) != (u.error[0] != '\0')) {
        abort();
    }
    fuzz_check_iso_time(u.this_update, sizeof(u.this_update));
    fuzz_check_iso_time(u.next_update, sizeof(u.next_update));
    return 0;
}
