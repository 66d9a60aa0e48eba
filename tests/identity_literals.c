/*
 * For tests/identity.sh: print the prefilter literals the rules module
 * extracts for each pattern read from stdin (one per line), so that two
 * builds can be compared on the extractor alone.  Output per pattern:
 * "N<TAB>lit1<TAB>lit2...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

int main(void)
{
    char line[65536];

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t len = strcspn(line, "\n");
        char **lits = NULL;
        size_t n = 0;

        if (aw_rules_extract_literals(line, len, &lits, &n) != AW_OK) {
            puts("ENOMEM");
            return 1;
        }
        printf("%zu", n);
        for (size_t i = 0; i < n; i++) {
            printf("\t%s", lits[i]);
        }
        putchar('\n');
        aw_rules_literals_free(lits, n);
    }
    return 0;
}
