/*
 * common/hash.h: FNV-1a, the one non-cryptographic hash of the project
 * (slot names, the value flow's tables, keyed hashes of secrets kept only in
 * memory or as classes that tell nothing of the value).
 *
 * Contract: pure, inline, no allocation.
 */
#ifndef RCX_HASH_H
#define RCX_HASH_H

#include <stddef.h>
#include <stdint.h>

#define RCX_FNV_OFFSET 1469598103934665603ULL

/** FNV-1a of p[0..n), continued from h (RCX_FNV_OFFSET to start; xor a key into it for a keyed hash). */
static inline uint64_t rcx_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

#endif
