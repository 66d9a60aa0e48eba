/*
 * Fuzz target: the probe's HTTP response reader (src/probe_http.c: status
 * line, headers, Content-Length, chunked refused, the close, the size
 * bound), differentially.  The same bytes are handed to the reader twice,
 * in one read and in tiny reads (1 to 16 bytes, from the input), as a
 * server that trickles them would: the outcome, status, error and body
 * must be the same.  The body never exceeds the bound.
 *
 * Input: byte 0 picks the tiny read size and the body bound (64 bytes to
 * 64 KiB); the rest is what the server sends before it closes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "src/probe_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aw_http_result whole, tiny;
    size_t chunk, max_body;
    int rw, rt;

    if (size < 1) {
        return 0;
    }
    chunk = (size_t)(data[0] & 0x0f) + 1;
    max_body = (size_t)64 << ((data[0] >> 4) % 11);
    rw = aw_http_parse_response(data + 1, size - 1, 0, max_body, &whole);
    rt = aw_http_parse_response(data + 1, size - 1, chunk, max_body, &tiny);
    if (rw != rt || whole.status != tiny.status || whole.len > max_body ||
        (rw == 0 && (whole.len != tiny.len || (whole.len > 0 && memcmp(whole.body, tiny.body, whole.len) != 0))) ||
        (rw != 0 && strcmp(whole.error, tiny.error) != 0) || (rw != 0) != (whole.error[0] != '\0') ||
        memchr(whole.error, '\n', strlen(whole.error)) != NULL) {
        abort();
    }
    free(whole.body);
    free(tiny.body);
    return 0;
}
