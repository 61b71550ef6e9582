/* SPDX-License-Identifier: MIT */
/*
 * What the test suites share: the seed knob of the random and property
 * tests, and their two generators. Header-only, so that each suite stays one
 * self-contained file (STYLE: one test file per module).
 */
#ifndef IMS_TEST_COMMON_H
#define IMS_TEST_COMMON_H

#include <stdint.h>
#include <stdlib.h>

/* Set to replay a failing random test: every suite reads this one variable. */
#define TEST_SEED_ENV "IOMMUSIM_TEST_SEED"

/* The seed a random test starts from: $IOMMUSIM_TEST_SEED (any base strtoull
 * takes) if set and not empty, else the suite's own @dflt. */
static inline uint64_t
test_seed(uint64_t dflt)
{
	const char *s = getenv(TEST_SEED_ENV);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* splitmix64: any state, including 0, is fine. */
static inline uint64_t
test_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* xorshift64*: the state must not be 0 (it then stays 0). */
static inline uint64_t
test_xorshift64s(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(0x2545F4914F6CDD1D);
}

#endif /* IMS_TEST_COMMON_H */
