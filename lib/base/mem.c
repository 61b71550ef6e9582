/* SPDX-License-Identifier: MIT */
/*
 * Allocation wrappers: jemalloc's mallocx/dallocx when built with it, libc
 * otherwise (sanitizer builds), plus a fail-the-Nth-allocation switch.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if IMS_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "base/mem_int.h"
#include "base/util_int.h"

static atomic_uint_fast64_t attempts;
static atomic_uint_fast64_t fail_first; /* 0 = injection off */
static atomic_uint_fast64_t fail_last;
static atomic_uint_fast64_t injected;
static atomic_uint_fast64_t failures; /* every NULL for a non-zero request */

void
ims_mem_fault_inject(uint64_t nth, uint64_t count)
{
	atomic_store(&fail_first, 0);
	atomic_store(&attempts, 0);
	atomic_store(&fail_last, nth ? nth + (count ? count : 1) - 1 : 0);
	atomic_store(&fail_first, nth);
}

uint64_t
ims_mem_attempts(void)
{
	return atomic_load(&attempts);
}

uint64_t
ims_mem_injected_failures(void)
{
	return atomic_load(&injected);
}

uint64_t
ims_mem_failures(void)
{
	return atomic_load(&failures);
}

static bool
should_fail(void)
{
	uint64_t n = atomic_fetch_add(&attempts, 1) + 1;
	uint64_t first = atomic_load_explicit(&fail_first, memory_order_relaxed);

	if (!first || n < first || n > atomic_load(&fail_last))
		return false;
	atomic_fetch_add(&injected, 1);
	return true;
}

void *
ims_aligned_zalloc(size_t n, size_t align)
{
	void *p = NULL;

	ims_assert(ims_is_pow2(align));
	if (!n)
		return NULL;
	if (!should_fail()) {
#if IMS_HAVE_JEMALLOC
		p = mallocx(n, MALLOCX_ZERO | MALLOCX_ALIGN(align));
#else
		if (align < sizeof(void *))
			align = sizeof(void *);
		if (posix_memalign(&p, align, n))
			p = NULL;
		else
			memset(p, 0, n);
#endif
	}
	if (!p)
		atomic_fetch_add(&failures, 1);
	return p;
}

void *
ims_zalloc(size_t n)
{
	return ims_aligned_zalloc(n, 16);
}

char *
ims_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ims_zalloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void
ims_free(void *p)
{
	if (!p)
		return;
#if IMS_HAVE_JEMALLOC
	dallocx(p, 0);
#else
	free(p);
#endif
}
