/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Umbrella header: includes every public libiommusim header.
 */
#ifndef IOMMUSIM_IOMMUSIM_H
#define IOMMUSIM_IOMMUSIM_H

#include <iommusim/cmdline.h>
#include <iommusim/common.h>
#include <iommusim/ctx.h>
#include <iommusim/dma.h>
#include <iommusim/dma_direct.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/iommu.h>
#include <iommusim/iova.h>
#include <iommusim/jiffies.h>
#include <iommusim/ism.h>
#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/pareto.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/script.h>
#include <iommusim/shadow.h>
#include <iommusim/sim.h>
#include <iommusim/stack.h>
#include <iommusim/stress.h>
#include <iommusim/units.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#endif /* IOMMUSIM_IOMMUSIM_H */
