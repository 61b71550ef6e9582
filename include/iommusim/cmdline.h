/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The kernel command line, as far as the IOMMU code reads it (KERNEL_SPEC
 * §2.6, §3.3): `iommu.strict=`, `iommu.passthrough=`, `iommu.forcedac=`,
 * `s390_iommu=strict` and `s390_iommu_aperture=N`, split and matched the way
 * init/main.c and lib/cmdline.c do it (whitespace-separated, double quotes,
 * `-` and `_` alike in names, the last of a repeated parameter wins, `--`
 * ends the kernel's part).
 *
 * Values are read by the kernel's own parsers: kstrtobool() (only the first
 * character counts: y Y 1 / n N 0, or "on" / "of..."), kstrtou32() in base
 * 10 (an optional leading '+', one trailing newline).
 *
 * Where the kernel would quietly do something other than what was written
 * (it warns "Malformed early option" and keeps the old value, or resets the
 * aperture factor to 1, or ignores an `s390_iommu=` other than "strict"),
 * the parser refuses the line instead and says what the kernel would have
 * done: a simulation must not run a configuration nobody asked for.
 * Parameters outside the IOMMU code (root=, console=, x86's intel_iommu=)
 * are counted and ignored; an unknown `iommu.*` or `s390_iommu*` name is an
 * error (the kernel reports it as unknown too, and it is most likely a typo).
 *
 * Thread-safety: the functions keep no state; distinct objects may be used
 * from any thread.
 */
#ifndef IOMMUSIM_CMDLINE_H
#define IOMMUSIM_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The longest command line accepted (the s390 COMMAND_LINE_SIZE default). */
#define IOMMUSIM_CMDLINE_MAX 4096

/** What a command line sets. Zero-initialised: an empty command line. */
struct iommusim_cmdline {
	/** iommu.strict= (strict_set, strict), iommu.passthrough= (passthrough),
	 *  iommu.forcedac= (forcedac), s390_iommu=strict (s390_strict). */
	struct iommusim_iommu_policy iommu;
	bool passthrough_set; /**< iommu.passthrough= was given (0 or 1) */
	bool forcedac_set; /**< iommu.forcedac= was given */
	bool aperture_set; /**< s390_iommu_aperture= was given ... */
	uint32_t aperture_factor; /**< ... with this factor (0: no limit) */
	unsigned nignored; /**< parameters the IOMMU code does not read */
	char first_ignored[40]; /**< the first of them, cut to fit ("" if none) */
	bool init_args; /**< a `--` ended the kernel's part (the rest is init's) */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/**
 * Parse @p line into @p out (which is reset first).
 * @return 0; -EINVAL on NULL, a line longer than IOMMUSIM_CMDLINE_MAX, an
 *         unbalanced quote, a malformed value or an unknown IOMMU parameter,
 *         with a message in @p err that names the parameter and what the
 *         kernel would do with it; @p out is then all zero
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_cmdline_parse(const char *line, struct iommusim_cmdline *out, char *err, size_t err_len);

/**
 * The IOMMU parameters @p c sets, in the canonical form
 * (`iommu.strict=1 iommu.passthrough=0 iommu.forcedac=1 s390_iommu=strict
 * s390_iommu_aperture=N`, each only if given), "" for none; parsing the text
 * gives @p c back (less the ignored parameters).
 * @return the length the text needs, as snprintf (@p buf may be NULL when
 *         @p len is 0); 0 on a NULL @p c
 */
IOMMUSIM_API size_t iommusim_cmdline_format(const struct iommusim_cmdline *c, char *buf,
					    size_t len);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_CMDLINE_H */
