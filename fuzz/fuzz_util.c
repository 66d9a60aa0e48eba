/*
 * Scratch files for the fuzz targets (see fuzz.h).  One folder per
 * process, made private (0700) so the file policy of agentwatch
 * (fileid.c) accepts what is in it, removed at exit.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[4096];

static void remove_dir(void)
{
    char cmd[4200];

    if (dir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            /* best effort */
        }
    }
}

const char *fuzz_write_file(const char *suffix, const uint8_t *data, size_t size)
{
    static char path[4200];
    FILE *f;

    if (dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/awfuzz-XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_dir);
    }
    snprintf(path, sizeof(path), "%s/input%s", dir, suffix);
    f = fopen(path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

void fuzz_check_iso_time(const char *t, size_t size)
{
    size_t len = strnlen(t, size);

    if (len == size || (len != 0 && (len != 20 || t[4] != '-' || t[10] != 'T' || t[19] != 'Z'))) {
        abort();
    }
}
