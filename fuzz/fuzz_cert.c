/*
 * Fuzz target: the probe's certificate handling (src/probe_tls_openssl.c):
 * DER, PEM or a PKCS#7 bundle, as an AIA response or a server's chain,
 * recorded as the probe records a chain -- subject, issuer, serial, dates,
 * thumbprints, SAN and the CRL, AIA and OCSP URLs.  Never a crash or a
 * leak; every text field of the record is NUL-terminated within its size
 * (output sanitises what is in them), a thumbprint is whole or empty.
 */
#include <stdlib.h>
#include <string.h>

#include "agentwatch/probe.h"
#include "fuzz.h"
#include "src/probe_internal.h"

static void check_text(const char *s, size_t size)
{
    const char *nul = memchr(s, '\0', size);

    if (nul == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct aw_probe_result r;   /* large: not on the stack */
    size_t n;

    memset(&r, 0, sizeof(r));
    n = aw_probe_certs_record(data, size, &r);
    if (r.nchain > AW_PROBE_CHAIN_MAX || r.nurls > AW_PROBE_URL_MAX || r.nchain > n) {
        abort();
    }
    for (size_t i = 0; i < r.nchain; i++) {
        const struct aw_probe_cert *c = &r.chain[i];
        check_text(c->subject, sizeof(c->subject));
        check_text(c->issuer, sizeof(c->issuer));
        check_text(c->serial, sizeof(c->serial));
        check_text(c->not_before, sizeof(c->not_before));
        check_text(c->not_after, sizeof(c->not_after));
        check_text(c->san, sizeof(c->san));
        if ((strlen(c->sha1) != 40 && c->sha1[0] != '\0') ||
            (strlen(c->sha256) != 64 && c->sha256[0] != '\0')) {
            abort();
        }
    }
    for (size_t i = 0; i < r.nurls; i++) {
        check_text(r.urls[i].url, sizeof(r.urls[i].url));
    }
    return 0;
}
