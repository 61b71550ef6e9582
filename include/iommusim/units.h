/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The one parser for numbers, sizes, times and booleans that job files,
 * scenario scripts and the command line's options and `--set` all use, so a
 * value reads the same wherever it is written. The grammar (docs/cli.md,
 * "Values"):
 *
 *     value    = number [unit]
 *     number   = decimal | hex
 *     decimal  = digits ["." digits] [("e" | "E") ["+" | "-"] digits]
 *              | "." digits [exponent]
 *     hex      = ("0x" | "0X") hexdigits          (an integer; takes no unit)
 *     digits   = digit {["_"] digit}              ("1_000_000": one "_" between digits)
 *     size     = b | k | kb | kib | m | mb | mib | g | gb | gib | t | tb | tib
 *                (powers of 1024, as fio's bs=; any case)
 *     time     = ns | nsec | us | usec | ms | msec | s | sec   (any case)
 *     bool     = 1 | 0 | true | false | yes | no | on | off   (any case)
 *
 * There is no sign and no white space: " 1", "+1" and "-1" are refused, never
 * wrapped. Integer results are exact: a fraction or exponent is taken only
 * when the value is a whole number of the base unit (bytes, nanoseconds, or
 * ones for a count), so "1.5k" is 1536 bytes and "1.5ns" is refused. A value
 * beyond 64 bits, or outside the caller's [min, max], is -ERANGE; so is a
 * number whose significant digits (trailing zeros aside) need more than 64
 * bits, even where a negative exponent would bring the value back in range.
 *
 * Thread-safety: every function is pure and may be called from any thread.
 */
#ifndef IOMMUSIM_UNITS_H
#define IOMMUSIM_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The unit a quantity was written with. */
enum iommusim_unit {
	IOMMUSIM_UNIT_NONE = 0, /**< no unit: a plain number */
	IOMMUSIM_UNIT_BYTES, /**< a size unit; the value is in bytes */
	IOMMUSIM_UNIT_NS, /**< a time unit; the value is in nanoseconds */
};

/** Nanoseconds per unit, for iommusim_time_parse()'s @p bare_unit_ns. */
#define IOMMUSIM_NS_PER_US UINT64_C(1000)
#define IOMMUSIM_NS_PER_MS UINT64_C(1000000)
#define IOMMUSIM_NS_PER_S UINT64_C(1000000000)

/**
 * A count: a number without a unit, in [@p min, @p max].
 * @return 0 and *@p out; -EINVAL (NULL, not a number of the grammar, a unit,
 *         not a whole number); -ERANGE (beyond 64 bits or outside [min, max])
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_count_parse(const char *s, uint64_t min, uint64_t max,
							 uint64_t *out);

/**
 * A size in bytes: a number with an optional size unit (none: bytes), in
 * [@p min, @p max] bytes. Addresses are sizes too ("4g", "0x100000000").
 * @return 0 and *@p out; -EINVAL (also for a time unit); -ERANGE
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_size_parse(const char *s, uint64_t min, uint64_t max,
							uint64_t *out);

/**
 * A time in nanoseconds: a number with a time unit, in [@p min_ns, @p max_ns].
 * A number without a unit is in units of @p bare_unit_ns (IOMMUSIM_NS_PER_MS
 * for a key documented as "no unit means ms"); with @p bare_unit_ns 0 a unit
 * is required, except for 0 itself.
 * @return 0 and *@p out_ns; -EINVAL (also for a size unit, or a missing unit); -ERANGE
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_time_parse(const char *s, uint64_t bare_unit_ns,
							uint64_t min_ns, uint64_t max_ns,
							uint64_t *out_ns);

/**
 * A number with any unit or none, as an expression's literal is: *@p out is
 * in bytes, nanoseconds or ones as *@p unit_out says.
 * @return 0; -EINVAL; -ERANGE (beyond 64 bits)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_quantity_parse(const char *s, uint64_t *out,
							    enum iommusim_unit *unit_out);

/**
 * A real number (a decimal, no unit, no hex), finite and in [@p min, @p max];
 * rounded to the nearest double as strtod() does.
 * @return 0 and *@p out; -EINVAL; -ERANGE
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_real_parse(const char *s, double min, double max,
							double *out);

/**
 * A boolean: 1, true, yes, on or 0, false, no, off, in any case.
 * @return 0 and *@p out; -EINVAL
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_bool_parse(const char *s, bool *out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_UNITS_H */
