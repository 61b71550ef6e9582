/* SPDX-License-Identifier: MIT */
/*
 * Kernel timers on jiffies (iommusim/jiffies.h): msecs_to_jiffies and the
 * timer wheel's rounding of an expiry to its bucket.
 */
#include "config.h"

#include <stdint.h>

#include <iommusim/jiffies.h>

#include "base/util_int.h"

__extension__ typedef unsigned __int128 u128;

#define NS_PER_S UINT64_C(1000000000)
#define MS_PER_S UINT64_C(1000)

/* The wheel's geometry (kernel/time/timer.c): 64 buckets a level, each
 * level 8 times coarser; 9 levels when HZ > 100, 8 otherwise, but the last
 * level's cut-off (WHEEL_TIMEOUT_CUTOFF) is far beyond any run here. */
#define LVL_CLK_SHIFT 3
#define LVL_BITS 6
#define LVL_SIZE (UINT64_C(1) << LVL_BITS)
#define LVL_DEPTH 9

/* The first delta that no longer fits level @lvl - 1 (LVL_START). */
static uint64_t
lvl_start(unsigned lvl)
{
	return (LVL_SIZE - 1) << ((lvl - 1) * LVL_CLK_SHIFT);
}

uint64_t
iommusim_msecs_to_jiffies(uint64_t ms, unsigned hz)
{
	/* Round up: a timeout never ends early. */
	if (!hz)
		return 0;
	if (ms > (UINT64_MAX - (MS_PER_S - 1)) / hz)
		return UINT64_MAX / MS_PER_S;
	return (ms * hz + MS_PER_S - 1) / MS_PER_S;
}

uint64_t
iommusim_timer_wheel_tick(uint64_t now, uint64_t expires)
{
	uint64_t delta;
	unsigned lvl, shift;

	/* An expiry already due goes to the current bucket. */
	if (expires <= now)
		return now;
	delta = expires - now;
	for (lvl = 0; lvl + 1 < LVL_DEPTH && delta >= lvl_start(lvl + 1); lvl++)
		;
	/* calc_index(): the next multiple of the level's granularity strictly
	 * above the expiry. */
	shift = lvl * LVL_CLK_SHIFT;
	if ((expires >> shift) + 1 > UINT64_MAX >> shift)
		return UINT64_MAX;
	return ((expires >> shift) + 1) << shift;
}

/* The first instant at which jiffies reads @tick: ceil(tick / hz) seconds. */
static uint64_t
tick_ns(uint64_t tick, unsigned hz)
{
	u128 t = (u128)tick * NS_PER_S + hz - 1;

	t /= hz;
	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

uint64_t
iommusim_timer_expiry_ns(uint64_t now_ns, uint64_t ms, unsigned hz)
{
	uint64_t now, expires;

	if (!hz)
		return ms > (UINT64_MAX - now_ns) / UINT64_C(1000000) ?
			       UINT64_MAX :
			       now_ns + ms * UINT64_C(1000000);
	now = (uint64_t)(((u128)now_ns * hz) / NS_PER_S);
	expires = ims_add_sat(now, iommusim_msecs_to_jiffies(ms, hz));
	return tick_ns(iommusim_timer_wheel_tick(now, expires), hz);
}
