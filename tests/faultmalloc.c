/* SPDX-License-Identifier: MIT */
/*
 * An LD_PRELOAD shim that makes allocations fail inside one shared library
 * (the dependencies the library's own fault injection cannot reach: inih,
 * jansson, liburcu). tests/test_dep_faults.sh drives it.
 *
 *   FAULTMALLOC_LIB=libjansson   the library: a substring of its file name
 *   FAULTMALLOC_NTH=N            fail that library's Nth malloc/calloc/realloc
 *                                (1-based); 0 or unset: fail none, only count
 *   FAULTMALLOC_PERSIST=1        ... and every one after it
 *   FAULTMALLOC_REPORT=FILE      at exit, write "calls failed" there
 *   FAULTMALLOC_THREADS=N        let N pthread_create calls succeed (any
 *                                caller), fail the rest with EAGAIN
 *
 * The caller is told apart by the return address, which must lie in a
 * mapping of the library (dladdr). Only for plain builds: a sanitizer
 * brings its own allocator.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);

static const char *lib;
static unsigned long nth;
static bool persist;
static atomic_ulong calls, failed;
static __thread bool inside; /* dladdr may allocate: never recurse */
static long threads_left = -1; /* -1: no limit */
static atomic_long threads_made;

__attribute__((constructor)) static void
init(void)
{
	const char *s = getenv("FAULTMALLOC_NTH");

	lib = getenv("FAULTMALLOC_LIB");
	nth = s ? strtoul(s, NULL, 10) : 0;
	s = getenv("FAULTMALLOC_PERSIST");
	persist = s && *s == '1';
	s = getenv("FAULTMALLOC_THREADS");
	if (s)
		threads_left = strtol(s, NULL, 10);
}

__attribute__((destructor)) static void
fini(void)
{
	const char *path = getenv("FAULTMALLOC_REPORT");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%lu %lu\n", (unsigned long)calls, (unsigned long)failed);
	fclose(f);
}

/* True if this call, from @p caller, is to fail. */
static bool
should_fail(const void *caller)
{
	Dl_info info;
	unsigned long n;

	if (!lib || inside)
		return false;
	inside = true;
	if (!dladdr(caller, &info) || !info.dli_fname || !strstr(info.dli_fname, lib)) {
		inside = false;
		return false;
	}
	inside = false;
	n = atomic_fetch_add(&calls, 1) + 1;
	if (!nth || n < nth || (n > nth && !persist))
		return false;
	atomic_fetch_add(&failed, 1);
	return true;
}

void *
malloc(size_t n)
{
	return should_fail(__builtin_return_address(0)) ? NULL : __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	return should_fail(__builtin_return_address(0)) ? NULL : __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	return should_fail(__builtin_return_address(0)) ? NULL : __libc_realloc(p, n);
}

int
pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

	if (threads_left >= 0 && atomic_fetch_add(&threads_made, 1) >= threads_left)
		return EAGAIN;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
	return real ? real(t, attr, fn, arg) : EAGAIN;
}
