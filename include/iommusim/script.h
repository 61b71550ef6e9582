/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Scenario scripts (docs/scenario.md): a line-oriented language that declares a
 * platform, zPCI functions, domains and their DMA policies, then maps,
 * unmaps and advances simulated time step by step, with `expect` lines on
 * handles, the kernel's counters, flush-queue state, ISM state and the
 * platform. `iommusim script FILE` runs one; docs/scenario.md is the guide.
 *
 * A script is checked as a whole before anything runs (a syntax error stops
 * it at once), then executed statement by statement on a fresh simulation:
 * a failed expectation is reported and the script goes on; any other
 * problem (an unknown name, a handle unmapped twice, a map that fails
 * without `fails=1`) stops it. Every message starts with NAME:LINE.
 */
#ifndef IOMMUSIM_SCRIPT_H
#define IOMMUSIM_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a run returns: an exit status, not an errno. */
/** Every expectation held. */
#define IOMMUSIM_SCRIPT_OK 0
/** An expectation failed, or a DMA operation failed that was not expected to. */
#define IOMMUSIM_SCRIPT_FAILED 1
/** A syntax error, a misuse (unknown name, unmapping twice...), an unreadable
 *  file, or memory exhausted. */
#define IOMMUSIM_SCRIPT_ERROR 2

/** What a run did. */
struct iommusim_script_summary {
	uint64_t statements; /**< statements executed (a repeat's body counts each time) */
	uint64_t expectations; /**< expectations evaluated */
	uint64_t failed; /**< ... that did not hold */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** One expectation's outcome, as a hook sees it. Strings live during the call only. */
struct iommusim_script_expectation {
	const char *script; /**< the script's name, as in messages */
	unsigned line;
	int64_t iteration; /**< the innermost repeat's {i}; -1 outside a repeat */
	const char *text; /**< as written: "d1.global_rpcits == 1" */
	bool passed;
	const char *message; /**< why it failed ("expected ..., got 3"); "" when it held */
};

/** Calls made while a script runs; any may be NULL. */
struct iommusim_script_hooks {
	/** After each expectation (each iteration of one in a repeat). */
	void (*expectation)(void *priv, const struct iommusim_script_expectation *e);
	/** When something stops the script (an error, a failed DMA operation):
	 *  the message as written to the error stream, without the newline. */
	void (*stopped)(void *priv, const char *message);
	void *priv;
	/** Room to grow (docs/abi.md): NULL, or the table is refused (-EINVAL). */
	void (*reserved0)(void);
	void (*reserved1)(void);
	void (*reserved2)(void);
	void (*reserved3)(void);
};

/**
 * Run the script @p text.
 * @param name what messages call the script (NAME:LINE: ...); NULL = "<string>"
 * @param out where `print` and `echo` write; NULL discards
 * @param err where failures and errors are reported, one line each; NULL discards
 * @param summary filled in (also on failure); may be NULL
 * @return IOMMUSIM_SCRIPT_OK, IOMMUSIM_SCRIPT_FAILED or IOMMUSIM_SCRIPT_ERROR
 *         (also for a NULL @p text)
 * Thread-safety: runs are independent; @p out and @p err are written only
 *         by the calling thread.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_script_run_string(const char *text, const char *name, FILE *out, FILE *err,
			   struct iommusim_script_summary *summary);

/** iommusim_script_run_string() with @p hooks (NULL: none). */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_script_run_string_hooks(const char *text, const char *name, FILE *out, FILE *err,
				 const struct iommusim_script_hooks *hooks,
				 struct iommusim_script_summary *summary);

/** The largest script file iommusim_script_run_file() reads, in bytes. */
#define IOMMUSIM_SCRIPT_MAX_BYTES (UINT64_C(16) << 20)

/**
 * Read the file at @p path and run it as iommusim_script_run_string() with
 * the path as its name. A file that cannot be read, that holds a NUL byte
 * or that is larger than IOMMUSIM_SCRIPT_MAX_BYTES (e.g. /dev/zero) is
 * IOMMUSIM_SCRIPT_ERROR, with a message. A @p path of "-" is standard input
 * (named "<stdin>" in messages).
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_script_run_file(const char *path, FILE *out, FILE *err,
			 struct iommusim_script_summary *summary);

/**
 * Check the script @p text without running it: every line tokenised, every
 * statement parsed with its options and values, the repeat blocks matched
 * (the first pass of iommusim_script_run_string(); names are not looked up,
 * as a repeat may declare them). What `iommusim script --check` does.
 * @return IOMMUSIM_SCRIPT_OK, or IOMMUSIM_SCRIPT_ERROR with the reason on
 *         @p err (NULL discards)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_script_check_string(const char *text, const char *name,
								 FILE *err);

/** The same for a file, read as iommusim_script_run_file() reads it. */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_script_check_file(const char *path, FILE *err);

/** iommusim_script_run_file() with @p hooks (NULL: none); a file that cannot be
 *  read is reported through the stopped hook too. */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_script_run_file_hooks(const char *path, FILE *out, FILE *err,
			       const struct iommusim_script_hooks *hooks,
			       struct iommusim_script_summary *summary);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_SCRIPT_H */
