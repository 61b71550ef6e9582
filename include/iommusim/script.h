/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Scenario scripts (DESIGN.md §5): a line-oriented language that declares a
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

/** The largest script file iommusim_script_run_file() reads, in bytes. */
#define IOMMUSIM_SCRIPT_MAX_BYTES (UINT64_C(16) << 20)

/**
 * Read the file at @p path and run it as iommusim_script_run_string() with
 * the path as its name. A file that cannot be read, that holds a NUL byte
 * or that is larger than IOMMUSIM_SCRIPT_MAX_BYTES (e.g. /dev/zero) is
 * IOMMUSIM_SCRIPT_ERROR, with a message.
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

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_SCRIPT_H */
