/* SPDX-License-Identifier: MIT */
/**
 * @file
 * What a user-settable key is: its name, where it applies, its type, unit and
 * range, and where its value lives. Every key of a job file, of `--set`, of
 * `iommusim profile show --set` and of a scenario's `platform`/`domain`
 * statements is one row of one table (iommusim_key_at() in job.h; the profile
 * keys' rows come from iommusim_profile_key_at() in platform.h), and every
 * one of those readers parses a value through iommusim_key_parse() with that
 * row, so a value is read, bounded and refused alike wherever it is written,
 * and a range is the range the layer below takes (docs/keys.md).
 *
 * Thread-safety: every function is pure (or writes only @p obj) and may be
 * called from any thread.
 */
#ifndef IOMMUSIM_KEYS_H
#define IOMMUSIM_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How a key's value is written (the grammar of units.h). */
enum iommusim_key_type {
	IOMMUSIM_KEY_COUNT, /**< a number without a unit */
	IOMMUSIM_KEY_SIZE, /**< bytes, or with a size unit */
	IOMMUSIM_KEY_TIME, /**< nanoseconds, with a time unit (or the key's bare unit) */
	IOMMUSIM_KEY_REAL, /**< a finite decimal */
	IOMMUSIM_KEY_BOOL, /**< 1, true, yes, on or 0, false, no, off */
	IOMMUSIM_KEY_ENUM, /**< one of the key's choices, in any case */
};

/** Where a key is written: one bit each. */
enum iommusim_key_scope {
	IOMMUSIM_KEY_JOB = 1u << 0, /**< a job section, [global], `--set` (struct iommusim_job) */
	IOMMUSIM_KEY_POLICY = 1u << 1, /**< the same places (struct iommusim_policy) */
	IOMMUSIM_KEY_FILE =
		1u << 2, /**< a job file's [global] or job section only (struct iommusim_jobfile) */
	IOMMUSIM_KEY_PROFILE =
		1u
		<< 3, /**< [platform], `--set`, a script's `platform` (struct iommusim_profile) */
	IOMMUSIM_KEY_SCRIPT =
		1u << 4, /**< a scenario's `platform` statement only (stored by the script) */
};

/** One name of an enumerated key and the value it stands for. */
struct iommusim_key_choice {
	const char *name;
	unsigned value;
};

/** One user-settable key. */
struct iommusim_key {
	const char *name;
	enum iommusim_key_scope scope;
	enum iommusim_key_type type;
	/** COUNT, SIZE, TIME (in ns), ENUM (the stored value): the accepted range. */
	uint64_t min, max;
	/** REAL: the accepted range. */
	double min_real, max_real;
	/** TIME: ns per unit of a number written without one (0: a unit is required but for 0). */
	uint64_t bare_ns;
	/** The value must be a multiple of this (0 or 1: any). */
	uint64_t multiple;
	/** The value must be a power of two. */
	bool pow2;
	/** Stored as value / scale, loaded as field x scale (0 or 1: as is). */
	uint64_t scale;
	/** ENUM: the names, ended by one whose name is NULL. */
	const struct iommusim_key_choice *choices;
	/** Where the value lives in its scope's struct; width 0: stored by its reader. */
	size_t offset, width;
	/** The unit of the stored value ("bytes", "ns", "cycles", "GHz"...; "" for none). */
	const char *unit;
	/** What the key means, one line. */
	const char *doc;
	/** The values it takes, as error messages say them ("a size from 1 to 1g: 4k, 64KiB"). */
	const char *hint;
};

/** A parsed value: ENUM, BOOL (0 or 1) and the integer types in u, REAL in d. */
struct iommusim_key_value {
	uint64_t u;
	double d;
};

/**
 * Parse @p text as @p key's value: its type's grammar, its range, its
 * multiple and its power of two.
 * @return 0 and *@p out; -EINVAL (a NULL argument, or a bad value: then @p err
 *         holds "bad value 'TEXT' for KEY (HINT)")
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_key_parse(const struct iommusim_key *key,
						       const char *text,
						       struct iommusim_key_value *out, char *err,
						       size_t err_len);

/**
 * Check @p v against @p key (as iommusim_key_parse() does) and store it in
 * @p obj, a struct of the key's scope. Nothing changes on an error.
 * @return 0; -EINVAL (NULL, a key without a field, a value outside the key's rules)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_key_store(const struct iommusim_key *key, void *obj,
						       const struct iommusim_key_value *v);

/** Read @p key's value from @p obj. @return 0; -EINVAL (NULL, a key without a field) */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_key_load(const struct iommusim_key *key, const void *obj, struct iommusim_key_value *out);

/**
 * Parse @p text and store it in @p obj: iommusim_key_parse() then
 * iommusim_key_store(). @return as they do
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_key_set(const struct iommusim_key *key, void *obj,
						     const char *text, char *err, size_t err_len);

/**
 * Write @p v as text that iommusim_key_parse() reads back to the same value
 * (a count or size in decimal, a time in ns, a real in the shortest of
 * %.15g to %.17g that reads back exactly, a choice's
 * first name, a boolean as 1 or 0).
 * @return 0; -EINVAL (NULL); -ERANGE (@p len too small; @p buf holds "" when len > 0)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_key_format(const struct iommusim_key *key,
							const struct iommusim_key_value *v,
							char *buf, size_t len);

/** "count", "size", "time", "real", "bool", "enum"; NULL for an unknown type. */
IOMMUSIM_API const char *iommusim_key_type_name(enum iommusim_key_type type);
/** "job", "policy", "file", "profile", "script"; NULL for anything else. */
IOMMUSIM_API const char *iommusim_key_scope_name(enum iommusim_key_scope scope);

#ifdef __cplusplus
}
#endif

#endif
