/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz/fuzz_*.c share.
 *
 * SYNOPSIS
 *	CHECK(cond)		an invariant: when false, print where and abort
 *				(libFuzzer saves the input as a crash)
 *	struct chunker ch; chunker_init(&ch, seed)
 *	size_t chunk_next(&ch, left)
 *		Size of the next piece (1..left) of an input cut at random
 *		places, reproducible from seed: TCP segments and read(2)
 *		sizes fall where they like, and a parser must not care.
 *	char *fuzz_strndup(data, size)
 *		A NUL-terminated copy (stops at the first NUL byte, as a C
 *		string parser would see it).
 *
 * Each target reads its input layout from the first bytes (seed, options)
 * and treats the rest as what an attacker or a careless admin sends; the
 * comment at the top of each target says which invariants it checks.
 */
#ifndef EXORELAY_FUZZ_H
#define EXORELAY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

struct chunker {
    uint32_t state;
};

/* chunker_init - a cutting pattern from a seed */
static inline void chunker_init(struct chunker *ch, uint32_t seed)
{
    ch->state = seed ? seed : 0x9e3779b9u;
}

/* chunk_next - xorshift32: mostly tiny pieces, sometimes large ones */
static inline size_t chunk_next(struct chunker *ch, size_t left)
{
    uint32_t x = ch->state;
    size_t  n;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ch->state = x;
    n = (x & 0x80) ? (x >> 8) % 4096 + 1 : (x >> 8) % 8 + 1;
    return n < left ? n : left;
}

/* fuzz_strndup - the input as a C string */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    size_t  n = strnlen((const char *) data, size);
    char   *s = malloc(n + 1);

    if (s == NULL)
        abort();
    memcpy(s, data, n);
    s[n] = 0;
    return s;
}

#endif
