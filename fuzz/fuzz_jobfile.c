/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the job-file parser (iommusim/job.h). Parses the input as
 * a job file, from a string, or through a memfd and the path-based entry when
 * it holds a NUL byte (only the file reader sees those); then applies its
 * [platform] overrides to every built-in profile. Nothing runs.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iommusim/job.h>
#include <iommusim/platform.h>

#include "fuzz_common.h"

#define NAME "fuzz.ini"

/* The path-based parser on an in-memory file; false if no memfd could be made. */
static bool
parse_memfd(const uint8_t *data, size_t size, struct iommusim_jobfile *jf, char *err,
	    size_t err_len, int *ret)
{
	char path[64];
	size_t off = 0;
	int fd;

	fd = memfd_create("fuzz_jobfile", MFD_CLOEXEC);
	if (fd < 0)
		return false;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0) {
			close(fd);
			return false;
		}
		off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	*ret = iommusim_jobfile_parse(path, jf, err, err_len);
	close(fd);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommusim_jobfile *jf;
	char err[160];
	bool nul = memchr(data, '\0', size) != NULL;
	char *text;
	size_t i;
	int ret;

	text = fuzz_text(data, size);
	jf = malloc(sizeof(*jf));
	if (!text || !jf)
		goto out;
	err[0] = '\0';
	if (nul) {
		if (!parse_memfd(data, size, jf, err, sizeof(err), &ret))
			goto out;
		/* The file holds a NUL byte: that is always an error. */
		FUZZ_CHECK(ret == -EINVAL);
	} else {
		ret = iommusim_jobfile_parse_string(text, NAME, jf, err, sizeof(err));
	}
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	FUZZ_CHECK(fuzz_is_string(err, sizeof(err)));
	if (ret)
		goto out;
	FUZZ_CHECK(fuzz_is_string(jf->platform, sizeof(jf->platform)));
	FUZZ_CHECK(fuzz_is_string(jf->job.name, sizeof(jf->job.name)));
	FUZZ_CHECK(jf->noverrides <= IOMMUSIM_JOBFILE_MAX_OVERRIDES);
	FUZZ_CHECK(!jf->platform[0] || iommusim_profile_find(jf->platform));
	for (i = 0; i < jf->noverrides; i++) {
		FUZZ_CHECK(fuzz_is_string(jf->overrides[i].key, sizeof(jf->overrides[i].key)));
		FUZZ_CHECK(fuzz_is_string(jf->overrides[i].value, sizeof(jf->overrides[i].value)));
	}
	for (i = 0; i < iommusim_profile_count(); i++) {
		struct iommusim_profile p;

		memcpy(&p, iommusim_profile_at(i), sizeof(p));
		err[0] = '\0';
		/* The parser checked every override against a profile: any takes them. */
		ret = iommusim_jobfile_apply_overrides(jf, NAME, &p, err, sizeof(err));
		FUZZ_CHECK(ret == 0);
	}
out:
	free(jf);
	free(text);
	return 0;
}
