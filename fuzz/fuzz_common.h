/* SPDX-License-Identifier: MIT */
/*
 * What the harnesses share: the input as a C string, and a check that aborts
 * (so libFuzzer saves the input) when a documented promise does not hold.
 */
#ifndef IMS_FUZZ_COMMON_H
#define IMS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise of the API: report it and abort, which libFuzzer catches. */
#define FUZZ_CHECK(cond)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                       \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* @data as a NUL-terminated string (it ends at the first NUL byte); free() it. */
static inline char *
fuzz_text(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);

	if (t) {
		if (size)
			memcpy(t, data, size);
		t[size] = '\0';
	}
	return t;
}

/* An error buffer holds a string: NUL-terminated within its size. */
static inline int
fuzz_is_string(const char *buf, size_t len)
{
	return memchr(buf, '\0', len) != NULL;
}

#endif /* IMS_FUZZ_COMMON_H */
