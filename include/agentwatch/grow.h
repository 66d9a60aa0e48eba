/*
 * Growable arrays: the one way agentwatch makes room in a heap array.
 *
 *     if (AW_GROW(v, cap, n + 1, 16) != AW_OK) { ...out of memory... }
 *     v[n++] = x;
 *
 * The capacity starts at `first` and doubles until it holds `need`
 * elements; a size that would overflow is refused like a failed
 * allocation.  On failure the array and its capacity are unchanged, so
 * the caller still owns (and frees) what it had.
 */
#ifndef AGENTWATCH_GROW_H
#define AGENTWATCH_GROW_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentwatch/err.h"

/* itemsp points at the array pointer (any T *: read and written through
 * memcpy, so no type punning); elements are size bytes. */
static inline int aw_grow_to(void *itemsp, size_t *cap, size_t need, size_t size, size_t first)
{
    size_t c = *cap != 0 ? *cap : (first != 0 ? first : 1);
    void *items, *grown;

    if (need <= *cap) {
        return AW_OK;
    }
    while (c < need) {
        if (c > SIZE_MAX / 2) {
            return AW_ENOMEM;
        }
        c *= 2;
    }
    if (size != 0 && c > SIZE_MAX / size) {
        return AW_ENOMEM;
    }
    memcpy(&items, itemsp, sizeof(items));
    grown = realloc(items, c * size);
    if (grown == NULL) {
        return AW_ENOMEM;
    }
    memcpy(itemsp, &grown, sizeof(grown));
    *cap = c;
    return AW_OK;
}

/* Room for need elements in the array items of capacity cap (lvalues). */
#define AW_GROW(items, cap, need, first) \
    aw_grow_to(&(items), &(cap), (need), sizeof(*(items)), (first))

#endif
