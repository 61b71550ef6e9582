/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Definitions shared by every libiommusim header: export and attribute
 * macros, the library version, and the page geometry of the simulated CPUs.
 */
#ifndef IOMMUSIM_COMMON_H
#define IOMMUSIM_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define IOMMUSIM_API __attribute__((visibility("default")))
#define IOMMUSIM_NODISCARD __attribute__((warn_unused_result))
#else
#define IOMMUSIM_API
#define IOMMUSIM_NODISCARD
#endif

/** CPU page shift of the simulated machines (s390 and x86 both use 4 KiB). */
#define IOMMUSIM_PAGE_SHIFT 12
/** CPU page size in bytes. */
#define IOMMUSIM_PAGE_SIZE (1u << IOMMUSIM_PAGE_SHIFT)

/** The largest HZ (guest kernel ticks per second) any layer takes; the
 *  kernel offers 100, 250, 300 and 1000 (iommusim/jiffies.h). */
#define IOMMUSIM_HZ_MAX 100000u

/**
 * The library version as "MAJOR.MINOR.PATCH".
 * @return a static string, never NULL.
 * Thread-safety: safe from any thread.
 */
IOMMUSIM_API const char *iommusim_version(void);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_COMMON_H */
