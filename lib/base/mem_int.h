/* SPDX-License-Identifier: MIT */
/* The library's only allocator entry points, with fault injection for tests. */
#ifndef IMS_MEM_INT_H
#define IMS_MEM_INT_H

#include <stddef.h>
#include <stdint.h>

/* Zeroed memory of @n bytes; NULL on failure (real or injected). */
void *ims_zalloc(size_t n);
/* Zeroed memory of @n bytes aligned to @align (a power of two); NULL on failure. */
void *ims_aligned_zalloc(size_t n, size_t align);
/* A copy of the string @s (from ims_zalloc); NULL on failure. */
char *ims_strdup(const char *s);
/* Free memory from ims_zalloc/ims_aligned_zalloc/ims_strdup; NULL is a no-op. */
void ims_free(void *p);

/*
 * Fault injection: make allocations number @nth .. @nth + @count - 1, counted
 * from this call (1 = the next one), fail. @nth = 0 switches injection off.
 * Process-wide and thread-safe; meant for tests, which run one at a time.
 */
void ims_mem_fault_inject(uint64_t nth, uint64_t count);
/* Allocation attempts since the last ims_mem_fault_inject() call. */
uint64_t ims_mem_attempts(void);
/* Allocations that were made to fail since the process started. */
uint64_t ims_mem_injected_failures(void);
/* Allocations that failed since the process started, injected or not. */
uint64_t ims_mem_failures(void);

#endif /* IMS_MEM_INT_H */
