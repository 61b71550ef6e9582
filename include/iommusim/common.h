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
 * Room to grow (docs/abi.md). A public struct that callers allocate ends in
 * reserved members (`uint64_t reserved0, reserved1, ...`, or function
 * pointers in an ops table), zero today. A later release gives one a
 * meaning without moving anything: IOMMUSIM_ABI_USE(0, uint32_t new_a;
 * uint32_t new_b;) in reserved0's place keeps reserved0 in an anonymous
 * union with the new members (at most 8 bytes), which abidiff accepts as
 * compatible. The new members' zero must mean what the library did before.
 */
/* Anonymous structs, and a type declared in an anonymous union (clang's
 * -Wnested-anon-types), are extensions in C++: marked as such. */
#if defined(__GNUC__) || defined(__clang__)
#define IOMMUSIM_EXTENSION __extension__
#else
#define IOMMUSIM_EXTENSION
#endif
#define IOMMUSIM_ABI_USE(n, ...)            \
	IOMMUSIM_EXTENSION union {          \
		IOMMUSIM_EXTENSION struct { \
			__VA_ARGS__         \
		};                          \
		uint64_t reserved##n;       \
	}
/** The same for a reserved function pointer of an ops table. */
#define IOMMUSIM_ABI_USE_OP(n, member)     \
	union {                            \
		member;                    \
		void (*reserved##n)(void); \
	}

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
