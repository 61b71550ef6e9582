/* SPDX-License-Identifier: MIT */
/**
 * @file
 * fio-like job files (docs/cli.md "Job files": fio's key names and units): INI text
 * read with inih, fio's own keys where they fit. Every function is
 * reentrant (inih's stream reader keeps no state between calls): parse on
 * any threads, each into its own struct.
 *
 * ```
 * ; 4 KiB random reads on an NVMe-like device under KVM
 * [global]
 * platform=kvm
 * policy=lazy-single      ; kernel, strict, lazy-percpu, lazy-single, legacy, legacy-strict
 * fq_size=32768
 * fq_timeout=1000ms
 * seed=42
 *
 * [randread]
 * rw=randread
 * bs=4k
 * iodepth=32
 * numjobs=4
 * runtime=2s
 * dev_latency=10us
 *
 * [platform]              ; overrides of the profile's keys (iommusim profile show kvm)
 * shadow_limit=65535
 *
 * [sweep]                 ; axes of `iommusim sweep` (docs/sweeps.md); skipped here
 * fq_size=256..65536:x2
 * ```
 *
 * Keys of [global] apply to the job section (which may override them);
 * exactly one job section per file, after any [global]. Values follow the
 * one grammar of <iommusim/units.h>: sizes take k/m/g/t (powers of 1024, as
 * fio's bs=), times ns/us/ms/s (no unit: seconds for runtime, as fio, ns for
 * dev_latency, ms for fq_timeout), booleans 1/0/true/false/yes/no/on/off. Lines are
 * limited to 199 characters (inih's 200-byte buffer); longer ones are an error.
 */
#ifndef IOMMUSIM_JOB_H
#define IOMMUSIM_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/keys.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The most [platform] overrides one file may carry. */
#define IOMMUSIM_JOBFILE_MAX_OVERRIDES 32

/** A parsed job file. */
struct iommusim_jobfile {
	struct iommusim_job job; /**< defaults, then [global], then the job section */
	char platform[16]; /**< platform= ("" if not given) */
	bool has_policy; /**< policy= or fq_* was given */
	struct iommusim_policy policy; /**< policy=, fq_size=, fq_timeout=, ism_force_fq= */
	bool has_seed;
	uint64_t seed; /**< seed= */
	size_t noverrides;
	struct {
		char key[32];
		char value[64];
		unsigned line; /**< where it was given, for error messages */
	} overrides[IOMMUSIM_JOBFILE_MAX_OVERRIDES]; /**< [platform] key=value, in order */
	/** The [sweep] section (since 0.2): its line (0 without one) and its
	 *  number of keys. `iommusim sweep` reads its axes; the parser checks
	 *  nothing in it and runs ignore it (docs/sweeps.md). */
	IOMMUSIM_ABI_USE(0, uint32_t sweep_line; uint32_t sweep_keys;);
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved1, reserved2, reserved3, reserved4, reserved5, reserved6, reserved7;
};

/**
 * Row @p i (0-based) of the table of every user-settable key: the job's,
 * the policy's, the job file's, the scenario platform's, then the
 * profile's (iommusim_profile_key_at()); NULL past the last. A name is
 * unique within a scope. Every reader of keys parses through these rows
 * (docs/keys.md; `iommusim keys` prints them).
 */
IOMMUSIM_API const struct iommusim_key *iommusim_key_at(size_t i);
/** The row named @p name whose scope is one of the bits of @p scopes, or NULL. */
IOMMUSIM_API const struct iommusim_key *iommusim_key_find(unsigned scopes, const char *name);

/**
 * Set one job key from text (also what `--set key=value` uses for job keys):
 * rw, rwmixread, bs, iodepth, numjobs, cpus, runtime, size, randseed,
 * workload (block, net, ism), dev_latency, dev_bandwidth (bytes/s, a size),
 * dev_slots, io_base_cycles, sg_segments, ism_dmbs, ism_dmb_size.
 * @return 0; -ENOENT for an unknown key; -EINVAL for a bad value (with a
 *         message in @p err); nothing changes on error
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_job_set(struct iommusim_job *job, const char *key,
						     const char *value, char *err, size_t err_len);

/**
 * Parse a job file. Errors name the place: "FILE:LINE: unknown key 'bss' in
 * [randread]", "FILE:LINE: bad value 'fast' for iodepth", "FILE: no job
 * section", "FILE:LINE: a second job section [b] (one per file)"...
 * @return 0; -ENOENT if the file cannot be read; -EINVAL on any error in it
 *         (@p out is then unspecified); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_jobfile_parse(const char *path, struct iommusim_jobfile *out, char *err, size_t err_len);

/** The same from a string; @p name stands for the file in messages. */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_jobfile_parse_string(const char *text,
								  const char *name,
								  struct iommusim_jobfile *out,
								  char *err, size_t err_len);

/**
 * Apply the file's [platform] overrides to @p profile (a copy of the
 * profile its platform= names).
 * @return 0; -EINVAL with "FILE:LINE: ..." in @p err for a bad key or value
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_jobfile_apply_overrides(const struct iommusim_jobfile *jf, const char *name,
				 struct iommusim_profile *profile, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_JOB_H */
