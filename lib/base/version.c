/* SPDX-License-Identifier: MIT */
/* The library version string. */
#include "config.h"

#include <iommusim/common.h>

const char *
iommusim_version(void)
{
	return IOMMUSIM_VERSION_STRING;
}
