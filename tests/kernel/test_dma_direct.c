/* SPDX-License-Identifier: MIT */
/*
 * Tests of dma-direct (lib/kernel/dma_direct.c), the DMA API of a device in
 * an identity domain: DMA address = physical address, the device's reach
 * (DMA mask, bus limit) checked, scatterlists one segment per element.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/dma.h>
#include <iommusim/dma_direct.h>
#include <iommusim/iommu.h>

#include "test_common.h"

/* A bare mock IOMMU: devices only need to exist. */
static int
m_probe(void *drv, struct iommusim_device *dev)
{
	return 0;
}
static bool
m_capable(void *drv, struct iommusim_device *dev, enum iommusim_iommu_cap cap)
{
	return false;
}
static int
m_alloc(void *drv, struct iommusim_device *dev, struct iommusim_domain *dom, void **priv)
{
	return -ENOMEM;
}
static void
m_free(void *priv)
{
}
static int
m_attach(void *priv, struct iommusim_device *dev, const struct iommusim_ctx *ctx)
{
	return 0;
}
static int
m_map(void *priv, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount, unsigned prot,
      uint64_t *mapped, const struct iommusim_ctx *ctx)
{
	return -EINVAL;
}
static uint64_t
m_unmap(void *priv, uint64_t iova, uint64_t pgsize, uint64_t pgcount,
	struct iommusim_iotlb_gather *g, const struct iommusim_ctx *ctx)
{
	return 0;
}
static uint64_t
m_xlate(void *priv, uint64_t iova)
{
	return 0;
}

static const struct iommusim_iommu_ops m_ops = {
	.probe_device = m_probe,
	.capable = m_capable,
	.domain_alloc_paging = m_alloc,
	.domain_free = m_free,
	.attach_dev = m_attach,
	.map_pages = m_map,
	.unmap_pages = m_unmap,
	.iova_to_phys = m_xlate,
};

struct fix {
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev;
	struct iommusim_dma_direct *d;
	struct iommusim_dma dma;
};

static int
setup(void **state)
{
	static struct fix f;
	const struct iommusim_device_cfg cfg = { .is_pci = true,
						 .dma_mask = UINT64_C(0xffffffffff) };

	memset(&f, 0, sizeof(f));
	assert_int_equal(iommusim_iommu_create(&m_ops, NULL, NULL, &f.iommu), 0);
	assert_int_equal(iommusim_device_create(f.iommu, &cfg, &f.dev), 0);
	assert_int_equal(iommusim_dma_direct_create(f.dev, &f.d, &f.dma), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	iommusim_dma_direct_destroy(f->d);
	iommusim_device_destroy(f->dev, NULL);
	iommusim_iommu_destroy(f->iommu);
	return 0;
}

static void
test_dma_direct_address_is_physical_and_counted(void **state)
{
	struct fix *f = *state;
	struct iommusim_dma_stats st;
	uint64_t dma = 0;

	assert_string_equal(f->dma.ops->name, "dma-direct");
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x12345678, 0x3000, IOMMUSIM_DMA_TO_DEVICE,
					       0, NULL, &dma),
			 0);
	assert_int_equal(dma, 0x12345678);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 0x3000, IOMMUSIM_DMA_TO_DEVICE, 0, NULL), 0);
	assert_int_equal(iommusim_dma_stats_get(&f->dma, &st), 0);
	assert_int_equal(st.map_pages, 1);
	assert_int_equal(st.unmap_pages, 1);
	assert_int_equal(st.bytes_mapped, 0x3000);
	assert_int_equal(st.map_errors, 0);
	assert_int_equal(st.iova_pages_live, 0);
}

static void
test_dma_direct_refuses_what_the_device_cannot_reach(void **state)
{
	struct fix *f = *state;
	struct iommusim_dma_stats st;
	uint64_t dma = 7;

	/* The last byte at the 40-bit mask: fine; one past it: not. */
	assert_int_equal(iommusim_dma_map_page(&f->dma, UINT64_C(0xfffffff000), 0x1000,
					       IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL, &dma),
			 0);
	assert_int_equal(iommusim_dma_map_page(&f->dma, UINT64_C(0xfffffff001), 0x1000,
					       IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL, &dma),
			 -EIO);
	/* Wrapping around the address space, and zero bytes, are refused. */
	assert_int_equal(iommusim_dma_map_page(&f->dma, UINT64_MAX, 2, IOMMUSIM_DMA_BIDIRECTIONAL,
					       0, NULL, &dma),
			 -EIO);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x1000, 0, IOMMUSIM_DMA_BIDIRECTIONAL, 0,
					       NULL, &dma),
			 -EIO);
	/* A wider mask reaches further. */
	iommusim_device_set_dma_masks(f->dev, UINT64_MAX, UINT64_MAX);
	assert_int_equal(iommusim_dma_map_page(&f->dma, UINT64_C(1) << 50, 0x1000,
					       IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL, &dma),
			 0);
	assert_int_equal(iommusim_dma_stats_get(&f->dma, &st), 0);
	assert_int_equal(st.map_errors, 3);
	assert_int_equal(st.map_pages, 2);
}

static void
test_dma_direct_sg_one_segment_per_element_all_or_nothing(void **state)
{
	struct fix *f = *state;
	struct iommusim_dma_sg sg[3] = {
		{ .phys = 0x10000, .length = 0x1000 },
		{ .phys = 0x11000, .length = 0x800 }, /* contiguous: still its own segment */
		{ .phys = 0x40000, .length = 0x2000 },
	};
	struct iommusim_dma_stats st;
	size_t n = 0, i;

	assert_int_equal(iommusim_dma_map_sg(&f->dma, sg, 3, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &n),
			 0);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(sg[i].dma_address, sg[i].phys);
		assert_int_equal(sg[i].dma_length, sg[i].length);
	}
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 3, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL),
			 0);
	/* One unreachable element fails the list and writes no segment. */
	memset(sg, 0, sizeof(sg));
	sg[0].phys = 0x1000;
	sg[0].length = 0x1000;
	sg[1].phys = UINT64_C(1) << 41;
	sg[1].length = 0x1000;
	assert_int_equal(iommusim_dma_map_sg(&f->dma, sg, 2, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &n),
			 -EIO);
	assert_int_equal(sg[0].dma_length, 0);
	assert_int_equal(iommusim_dma_stats_get(&f->dma, &st), 0);
	assert_int_equal(st.map_sgs, 1);
	assert_int_equal(st.unmap_sgs, 1);
	assert_int_equal(st.map_errors, 1);
	assert_int_equal(st.bytes_mapped, 0x3800);
}

static void
test_dma_direct_create_rejects_null(void **state)
{
	struct fix *f = *state;
	struct iommusim_dma_direct *d;
	struct iommusim_dma dma;

	assert_int_equal(iommusim_dma_direct_create(NULL, &d, &dma), -EINVAL);
	assert_int_equal(iommusim_dma_direct_create(f->dev, NULL, &dma), -EINVAL);
	assert_int_equal(iommusim_dma_direct_create(f->dev, &d, NULL), -EINVAL);
	iommusim_dma_direct_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dma_direct_address_is_physical_and_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dma_direct_refuses_what_the_device_cannot_reach, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dma_direct_sg_one_segment_per_element_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_direct_create_rejects_null, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
