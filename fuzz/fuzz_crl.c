/*
 * Fuzz target: the probe's CRL parsing (src/probe_tls_openssl.c): DER or
 * PEM, as a CDP response, recorded as the revocation step records it --
 * this and next update, a stale CRL a failure -- with its revoked
 * serials read.  Never a crash or a leak; a CRL that is none fails with a
 * reason, the update times are ISO-8601 or empty.
 */
#include <stdlib.h>
#include <string.h>

#include "agentwatch/probe.h"
#include "fuzz.h"
#include "src/probe_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aw_probe_url u;
    size_t revoked = 0;
    int rc;

    memset(&u, 0, sizeof(u));
    rc = aw_probe_crl_record(data, size, &u, &revoked);
    if ((rc != 0 && (u.result != AW_PC_FAIL || u.error[0] == '\0' || revoked != 0)) ||
        (u.result == AW_PC_FAIL) != (u.error[0] != '\0')) {
        abort();
    }
    fuzz_check_iso_time(u.this_update, sizeof(u.this_update));
    fuzz_check_iso_time(u.next_update, sizeof(u.next_update));
    return 0;
}
