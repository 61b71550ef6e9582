/* SPDX-License-Identifier: MIT */
/* Internal helpers shared by every module: assertions and bit arithmetic. */
#ifndef IMS_UTIL_INT_H
#define IMS_UTIL_INT_H

#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A broken internal invariant: never used for caller input. */
#define ims_assert(cond)                                            \
	do {                                                        \
		if (__builtin_expect(!(cond), 0))                   \
			ims_assert_fail(#cond, __FILE__, __LINE__); \
	} while (0)

_Noreturn void ims_assert_fail(const char *what, const char *file, int line);

/* A message into @p err (NULL or @p len 0: none), as the error-buffer
 * parameters of the public API take it. @return -EINVAL, for
 * `return ims_errf(...)` */
int ims_errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define IMS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IMS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define IMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define IMS_CACHELINE 64

/*
 * The room to grow of a public struct (docs/abi.md): the reserved members
 * from @p first to the end of *@p ptr. A caller's input must have them zero
 * (so that a later release can give them a meaning whose zero is today's
 * behaviour); an output the library fills has them zero.
 */
bool ims_bytes_zero(const void *p, size_t n);
#define IMS_RESERVED_ZERO(ptr, first)                                                      \
	ims_bytes_zero((const unsigned char *)(ptr) + offsetof(__typeof__(*(ptr)), first), \
		       sizeof(*(ptr)) - offsetof(__typeof__(*(ptr)), first))

static inline bool
ims_is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Position of the most significant set bit, counting from 1; 0 for 0 (fls_long). */
static inline unsigned
ims_fls64(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* ceil(log2(x)) for x >= 1; 0 for 0 and 1 (order_base_2). */
static inline unsigned
ims_order_base_2(uint64_t x)
{
	return x > 1 ? ims_fls64(x - 1) : 0u;
}

/* Smallest power of two >= x, for 1 <= x <= 2^63 (roundup_pow_of_two). */
static inline uint64_t
ims_roundup_pow2(uint64_t x)
{
	return x > 1 ? UINT64_C(1) << ims_fls64(x - 1) : 1u;
}

/*
 * How many of the sorted (non-decreasing) @a[0..n) are <= @t, in O(log d)
 * steps for an answer d entries from the end: for searches that are nearly
 * always about the latest entries (the flush queue's flush times, asked
 * about entries queued around the latest flushes: a plain bisection of all
 * of a run's flushes per freed entry was a tenth of the run).
 */
size_t ims_count_le_recent(const uint64_t *a, size_t n, uint64_t t);

/* First bit of the bitmap @map in [@start, @size) that differs from @fill
 * (0 or ~0), or @size: a word at a time; bits of the last word at and beyond
 * @size are never looked at. */
static inline uint64_t
ims_bitmap_next(const uint64_t *map, uint64_t size, uint64_t start, uint64_t fill)
{
	uint64_t w, word;

	if (start >= size)
		return size;
	w = start >> 6;
	word = (map[w] ^ fill) & (~UINT64_C(0) << (start & 63));
	while (!word) {
		if (++w << 6 >= size)
			return size;
		word = map[w] ^ fill;
	}
	return IMS_MIN((w << 6) + (uint64_t)__builtin_ctzll(word), size);
}

/* First set bit of @map in [@start, @size), or @size (find_next_bit). */
static inline uint64_t
ims_bitmap_next_set(const uint64_t *map, uint64_t size, uint64_t start)
{
	return ims_bitmap_next(map, size, start, 0);
}

/* First clear bit of @map in [@start, @size), or @size (find_next_zero_bit). */
static inline uint64_t
ims_bitmap_next_zero(const uint64_t *map, uint64_t size, uint64_t start)
{
	return ims_bitmap_next(map, size, start, ~UINT64_C(0));
}

/* Internal functions whose error must be looked at (IMS_IGNORE to drop it). */
#define IMS_NODISCARD __attribute__((warn_unused_result))

/*
 * Discard a result whose loss is correct; the call site says why. (GCC's
 * warn_unused_result is not silenced by a (void) cast; negating uses it.)
 */
#define IMS_IGNORE(expr) ((void)!(expr))

/* a + b, saturating at UINT64_MAX. */
static inline uint64_t
ims_add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* acc + n * cost, saturating at UINT64_MAX; sets *overflow when it does
 * (cost sums of user-given costs must never wrap). */
static inline uint64_t
ims_mul_add_sat(uint64_t acc, uint64_t n, uint64_t cost, bool *overflow)
{
	uint64_t prod;

	if (__builtin_mul_overflow(n, cost, &prod) || acc + prod < acc) {
		*overflow = true;
		return UINT64_MAX;
	}
	return acc + prod;
}

/*
 * Exact division by a divisor fixed in advance, without a divide instruction
 * (Granlund and Montgomery, "Division by invariant integers using
 * multiplication", PLDI 1994, figure 4.1, N = 64): with l = ceil(log2 d) and
 * m = floor(2^64 (2^l - d) / d) + 1, which fits 64 bits, n / d is
 * (t + ((n - t) >> min(l, 1))) >> max(l - 1, 0) for t = the high half of
 * m * n, for every 64-bit n. The engine's time conversions divide by the
 * same clock ratio millions of times a second.
 */
struct ims_divider {
	uint64_t magic;
	unsigned char sh1, sh2;
};

/* @p d >= 1. */
static inline void
ims_divider_init(struct ims_divider *dv, uint64_t d)
{
	unsigned l = d > 1 ? 64 - (unsigned)__builtin_clzll(d - 1) : 0;

	/* l <= 64; for l = 64 (d > 2^63), 2^l - d is 2^64 - d, still < d. */
	__extension__ unsigned __int128 top =
		l == 64 ? (unsigned __int128)(0 - d) : (unsigned __int128)((UINT64_C(1) << l) - d);

	dv->magic = (uint64_t)((top << 64) / d) + 1;
	dv->sh1 = l ? 1 : 0;
	dv->sh2 = l ? (unsigned char)(l - 1) : 0;
}

static inline uint64_t
ims_divide(const struct ims_divider *dv, uint64_t n)
{
	__extension__ uint64_t t = (uint64_t)(((unsigned __int128)dv->magic * n) >> 64);

	return (t + ((n - t) >> dv->sh1)) >> dv->sh2;
}

/*
 * Solo mode: the calling thread is the only one using the objects it touches
 * now. iommusim_run() is: it makes every object it uses and no other thread
 * ever sees them. The statistics then need no atomic read-modify-write (a
 * locked instruction of some 20 cycles, a quarter of a simulated I/O's time
 * in issue 14's profile): a relaxed load and a relaxed store of the same
 * _Atomic counter are still free of data races (ThreadSanitizer agrees), and
 * with a single writer they leave the value the read-modify-write would.
 * Code that shares objects between threads (the stress mode, the tests, a
 * program's own threads) never enters it; ims_solo_begin/_end nest.
 * Initial-exec TLS: a read is one instruction, not a call into ld.so.
 */
extern _Thread_local bool ims_solo __attribute__((tls_model("initial-exec")));

/* Enter solo mode; @return the mode to give back to ims_solo_end(). */
static inline bool
ims_solo_begin(void)
{
	bool was = ims_solo;

	ims_solo = true;
	return was;
}

static inline void
ims_solo_end(bool was)
{
	ims_solo = was;
}

/*
 * The single-writer forms, for a caller that already knows it is in solo
 * mode (a relaxed load and a relaxed store; no locked instruction): add
 * (returning the old value), and the water marks.
 */
static inline uint64_t
ims_solo_add(_Atomic uint64_t *c, uint64_t n)
{
	uint64_t old = atomic_load_explicit(c, memory_order_relaxed);

	atomic_store_explicit(c, old + n, memory_order_relaxed);
	return old;
}

static inline void
ims_solo_max(_Atomic uint64_t *m, uint64_t v)
{
	if (v > atomic_load_explicit(m, memory_order_relaxed))
		atomic_store_explicit(m, v, memory_order_relaxed);
}

static inline void
ims_solo_min(_Atomic uint64_t *m, uint64_t v)
{
	if (v < atomic_load_explicit(m, memory_order_relaxed))
		atomic_store_explicit(m, v, memory_order_relaxed);
}

/* Relaxed fetch-and-add and fetch-and-sub of a counter that is also read
 * for its value (occupancies, pools): plain in solo mode. @return the old
 * value. */
static inline uint64_t
ims_solo_fetch_add(_Atomic uint64_t *c, uint64_t n)
{
	if (!ims_solo)
		return atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	return ims_solo_add(c, n);
}

/* Unsigned arithmetic wraps: subtracting n is adding 2^64 - n. */
static inline uint64_t
ims_solo_fetch_sub(_Atomic uint64_t *c, uint64_t n)
{
	return ims_solo_fetch_add(c, 0 - n);
}

/* Statistics: relaxed counters and high/low-water marks. */
static inline void
ims_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	(void)ims_solo_fetch_add(c, n);
}

static inline void
ims_stat_max(_Atomic uint64_t *m, uint64_t v)
{
	uint64_t cur;

	if (ims_solo) {
		ims_solo_max(m, v);
		return;
	}
	cur = atomic_load_explicit(m, memory_order_relaxed);
	/* A failed exchange reloads cur. */
	while (v > cur)
		if (atomic_compare_exchange_weak_explicit(m, &cur, v, memory_order_relaxed,
							  memory_order_relaxed))
			break;
}

static inline void
ims_stat_min(_Atomic uint64_t *m, uint64_t v)
{
	uint64_t cur;

	if (ims_solo) {
		ims_solo_min(m, v);
		return;
	}
	cur = atomic_load_explicit(m, memory_order_relaxed);
	while (v < cur)
		if (atomic_compare_exchange_weak_explicit(m, &cur, v, memory_order_relaxed,
							  memory_order_relaxed))
			break;
}

/*
 * A spinlock for short critical sections, inline like the kernel's
 * spin_lock(): test-and-test-and-set on a C11 atomic (acquire on lock,
 * release on unlock), so ThreadSanitizer understands it. Zero-initialised
 * memory is an unlocked lock.
 */
struct ims_spinlock {
	atomic_int locked;
};

static inline void
ims_spin_init(struct ims_spinlock *l)
{
	atomic_init(&l->locked, 0);
}

/* One attempt, no spinning: true if the lock was taken. In solo mode no
 * other thread can hold it or see it: a held lock still reads as held (a
 * second take fails as it would), without a locked instruction. */
static inline bool
ims_spin_trylock(struct ims_spinlock *l)
{
	if (ims_solo) {
		if (atomic_load_explicit(&l->locked, memory_order_relaxed))
			return false;
		atomic_store_explicit(&l->locked, 1, memory_order_relaxed);
		return true;
	}
	return !atomic_exchange_explicit(&l->locked, 1, memory_order_acquire);
}

static inline void
ims_spin_lock(struct ims_spinlock *l)
{
	while (!ims_spin_trylock(l)) {
		while (atomic_load_explicit(&l->locked, memory_order_relaxed)) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		}
	}
}

static inline void
ims_spin_unlock(struct ims_spinlock *l)
{
	atomic_store_explicit(&l->locked, 0,
			      ims_solo ? memory_order_relaxed : memory_order_release);
}

/*
 * The library's pthread locks, taken only outside solo mode: in it no other
 * thread can hold them, and an uncontended lock and unlock are still two
 * locked instructions. Solo mode changes only outside critical sections, so
 * an unlock always matches its lock. (Their errors are those of misuse.)
 */
static inline void
ims_mutex_lock(pthread_mutex_t *m)
{
	if (!ims_solo)
		pthread_mutex_lock(m);
}

static inline void
ims_mutex_unlock(pthread_mutex_t *m)
{
	if (!ims_solo)
		pthread_mutex_unlock(m);
}

static inline void
ims_rwlock_rdlock(pthread_rwlock_t *l)
{
	if (!ims_solo)
		pthread_rwlock_rdlock(l);
}

static inline void
ims_rwlock_unlock(pthread_rwlock_t *l)
{
	if (!ims_solo)
		pthread_rwlock_unlock(l);
}

#endif /* IMS_UTIL_INT_H */
