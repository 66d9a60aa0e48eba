/*
 * What every fuzz target shares: the libFuzzer entry point, and a scratch
 * file to hand the input to loaders that read from a path (the record
 * reader, the rules and configuration loaders open files by name, as in
 * production).
 */
#ifndef AGENTWATCH_FUZZ_H
#define AGENTWATCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Write data to this process's scratch file (under $TMPDIR) with the
 * given name suffix (".log", ".yaml") and return its path (static
 * storage, the same for every call with the same suffix).  Aborts on
 * failure: a fuzz run that cannot write its input is broken. */
const char *fuzz_write_file(const char *suffix, const uint8_t *data, size_t size);

/* Abort unless t (a field of size bytes) is NUL-terminated and either
 * empty or an ISO-8601 UTC time "YYYY-MM-DDTHH:MM:SSZ", as the probe
 * records certificate, CRL and OCSP times. */
void fuzz_check_iso_time(const char *t, size_t size);

#endif
