/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Kernel timers on jiffies: when a timer armed with
 * mod_timer(jiffies + msecs_to_jiffies(ms)) fires, for a given HZ
 * (KERNEL_SPEC §2.4 step 7 arms the flush-queue timer this way; the rounding
 * is kernel/time/time.c's msecs_to_jiffies and kernel/time/timer.c's timer
 * wheel, calc_wheel_index and calc_index, described in our own words).
 *
 * msecs_to_jiffies rounds up to whole ticks. The timer wheel then never
 * fires early: a timer whose expiry is D jiffies ahead goes to level L, the
 * first with D < 63 << 3L (level 0: D < 63, one jiffy granularity; level 1:
 * D < 504, eight; level 2: D < 4032, 64; ...), and its bucket is the next
 * multiple of 8^L strictly above the expiry. The softirq of the tick that
 * reaches the bucket runs it. So at HZ=100 a 10 ms timer (1 jiffy) armed
 * during tick j fires at tick j + 2: 10 to 20 ms later; a 1000 ms timer (100
 * jiffies, level 1) fires at the next multiple of 8 ticks above j + 100.
 *
 * Jiffies count from 0 at simulated time 0 (the kernel starts them at
 * INITIAL_JIFFIES, 300 s before wrapping, which shifts where level buckets
 * fall by a constant; not modelled). NO_HZ idle catch-up is not modelled:
 * the timer base is taken to be current.
 */
#ifndef IOMMUSIM_JIFFIES_H
#define IOMMUSIM_JIFFIES_H

#include <stdint.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** msecs_to_jiffies(): @p ms rounded up to whole ticks of 1/@p hz s (hz > 0). */
IOMMUSIM_API uint64_t iommusim_msecs_to_jiffies(uint64_t ms, unsigned hz);

/**
 * The tick a timer wheel runs a timer whose expiry is @p expires, armed
 * when jiffies is @p now (calc_wheel_index's bucket expiry): always after
 * @p expires; @p now itself for an expiry not after it.
 */
IOMMUSIM_API uint64_t iommusim_timer_wheel_tick(uint64_t now, uint64_t expires);

/**
 * When, in simulated ns, a timer armed at @p now_ns with
 * mod_timer(jiffies + msecs_to_jiffies(@p ms)) runs at @p hz; with @p hz 0,
 * exactly @p ms later (no tick). Saturates at UINT64_MAX.
 */
IOMMUSIM_API uint64_t iommusim_timer_expiry_ns(uint64_t now_ns, uint64_t ms, unsigned hz);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_JIFFIES_H */
