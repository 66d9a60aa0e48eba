/*
 * Replay driver: runs LLVMFuzzerTestOneInput on every file of the corpus
 * folders (or files) named on the command line, so that the checked-in
 * corpus is replayed by `meson test` with any compiler, under the
 * sanitizers of the build.  Built instead of libFuzzer's main when the
 * compiler is not clang (and always, for meson test).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long len;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        if (f != NULL) {
            fclose(f);
        }
        return 1;
    }
    buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        perror(path);
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    size_t files = 0;
    int failures = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            failures += replay_file(argv[i]);
            files++;
            continue;
        }
        d = opendir(argv[i]);
        if (d == NULL) {
            perror(argv[i]);
            return 1;
        }
        while ((de = readdir(d)) != NULL) {
            char **grown;
            if (de->d_name[0] == '.') {
                continue;
            }
            grown = realloc(names, (n + 1) * sizeof(*names));
            if (grown == NULL) {
                return 1;
            }
            names = grown;
            names[n] = malloc(strlen(argv[i]) + strlen(de->d_name) + 2);
            if (names[n] == NULL) {
                return 1;
            }
            sprintf(names[n], "%s/%s", argv[i], de->d_name);
            n++;
        }
        closedir(d);
        /* Same order every run, so a failure is reproducible. */
        if (n > 1) {
            qsort(names, n, sizeof(*names), compare_names);
        }
        for (size_t k = 0; k < n; k++) {
            failures += replay_file(names[k]);
            files++;
            free(names[k]);
        }
        free(names);
    }
    printf("replayed %zu input%s, %d unreadable\n", files, files == 1 ? "" : "s", failures);
    return failures == 0 && files > 0 ? 0 : 1;
}
