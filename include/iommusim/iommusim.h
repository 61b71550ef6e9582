/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Umbrella header: includes every public libiommusim header.
 */
#ifndef IOMMUSIM_IOMMUSIM_H
#define IOMMUSIM_IOMMUSIM_H

#include <iommusim/common.h>
#include <iommusim/iova.h>

#endif /* IOMMUSIM_IOMMUSIM_H */
