/*
 * Fuzz target: the configuration loader (src/config.c over
 * src/yamltree.c): any bytes as /etc/agentwatch/agentwatch.yaml must give
 * AW_OK or a list of one-line problems -- never a crash, a leak or a hang.
 */
#include <stdlib.h>
#include <string.h>

#include "agentwatch/config.h"
#include "agentwatch/err.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aw_config cfg;
    struct aw_diags diags = { 0 };
    struct aw_err err = { 0 };
    const char *path = fuzz_write_file(".yaml", data, size);
    int rc = aw_config_load(path, true, &cfg, &diags, &err);

    /* A problem is always said: AW_ESYNTAX comes with diagnostics. */
    if (rc == AW_ESYNTAX && diags.count == 0) {
        abort();
    }
    for (size_t i = 0; i < diags.count; i++) {
        if (strchr(diags.items[i], '\n') != NULL) {
            abort();   /* one line each, by contract */
        }
    }
    aw_config_free(&cfg);
    aw_diags_free(&diags);
    return 0;
}
