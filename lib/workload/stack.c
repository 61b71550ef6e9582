/* SPDX-License-Identifier: MIT */
/*
 * A whole DMA stack in one call (iommusim/stack.h): the s390 driver, the
 * functions on one canned-answer platform, a device and a domain each,
 * dma-iommu on each, ISM models; torn down in the reverse order.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/stack.h>

#include "base/mem_int.h"
#include "base/util_int.h"

struct stack_fn {
	struct iommusim_zpci_fn *fn;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;
	struct iommusim_dma_iommu *d;
	struct iommusim_dma dma;
	struct iommusim_ism *ism;
};

struct iommusim_stack {
	struct iommusim_s390_iommu *s390;
	struct iommusim_iommu *iommu;
	struct iommusim_zpci_canned *platform;
	unsigned nfns;
	struct stack_fn fns[IOMMUSIM_STACK_MAX_FNS];
};

void
iommusim_stack_destroy(struct iommusim_stack *st)
{
	unsigned i;

	if (!st)
		return;
	for (i = 0; i < st->nfns; i++) {
		struct stack_fn *f = &st->fns[i];

		iommusim_ism_destroy(f->ism);
		iommusim_dma_iommu_destroy(f->d);
		iommusim_device_destroy(f->dev, NULL);
		iommusim_domain_free(f->dom);
	}
	iommusim_s390_iommu_destroy(st->s390);
	for (i = 0; i < st->nfns; i++)
		iommusim_zpci_fn_destroy(st->fns[i].fn);
	iommusim_zpci_canned_destroy(st->platform);
	ims_free(st);
}

/* Function @p i: the zPCI function, its device, domain, dma-iommu and ISM. */
IMS_NODISCARD static int
build_fn(struct iommusim_stack *st, const struct iommusim_stack_cfg *cfg, unsigned i)
{
	struct stack_fn *f = &st->fns[i];
	const struct iommusim_zpci_fn_cfg fcfg = {
		.fid = i + 1,
		.pft = cfg->ism ? IOMMUSIM_PCI_FUNC_TYPE_ISM : 0,
		.tlb_refresh = cfg->tlb_refresh,
		.platform = cfg->platform ? cfg->platform : &iommusim_zpci_canned_ops,
		.platform_priv = cfg->platform ? cfg->platform_priv : st->platform,
	};
	struct iommusim_device_cfg dcfg = { .is_pci = true };
	const struct iommusim_dma_iommu_cfg dc = {
		.ncpus = cfg->ncpus ? cfg->ncpus : 1,
		.fq_type = cfg->fq_type,
		.fq_size = cfg->fq_size,
		.fq_timeout_ms = cfg->fq_timeout_ms,
		.fq_timer = cfg->fq_timer,
		.fq_timer_priv = cfg->fq_timer_priv,
		.check_lazy_reuse = cfg->check_lazy_reuse,
	};
	int ret;

	ret = iommusim_zpci_fn_create(&fcfg, &f->fn);
	if (ret)
		return ret;
	st->nfns = i + 1; /* from here on, destroy() undoes this function */
	dcfg.drvdata = f->fn;
	ret = iommusim_device_create(st->iommu, &dcfg, &f->dev);
	if (!ret)
		ret = iommusim_domain_alloc(
			f->dev, cfg->strict ? IOMMUSIM_DOMAIN_DMA : IOMMUSIM_DOMAIN_DMA_FQ,
			&f->dom);
	if (!ret)
		ret = iommusim_iommu_attach_device(f->dom, f->dev, NULL);
	if (!ret)
		ret = iommusim_dma_iommu_create(f->dom, f->dev, &dc, &f->d, &f->dma);
	if (!ret && cfg->ism)
		ret = iommusim_ism_create(f->fn, &f->ism);
	return ret;
}

int
iommusim_stack_create(const struct iommusim_stack_cfg *cfg, struct iommusim_stack **out, char *err,
		      size_t err_len)
{
	struct iommusim_s390_iommu_cfg scfg = { 0 };
	struct iommusim_policy scratch = { 0 };
	struct iommusim_key_value fq = { 0, 0 };
	struct iommusim_stack *st;
	unsigned i, nfns;
	int ret;

	if (!cfg || !out)
		return ims_errf(err, err_len, "no configuration or result");
	if (!IMS_RESERVED_ZERO(cfg, reserved0) ||
	    (cfg->platform && !IMS_RESERVED_ZERO(cfg->platform, reserved0)))
		return ims_errf(err, err_len,
				"the reserved members of the configuration (or its platform ops) "
				"are not zero (zero-initialise them: docs/abi.md)");
	nfns = cfg->nfns ? cfg->nfns : 1;
	fq.u = cfg->fq_size;
	if (nfns > IOMMUSIM_STACK_MAX_FNS)
		return ims_errf(err, err_len, "at most %u functions, not %u",
				IOMMUSIM_STACK_MAX_FNS, nfns);
	/* The policy key's row holds the rule (a power of two in range). */
	if (cfg->fq_size &&
	    iommusim_key_store(iommusim_key_find(IOMMUSIM_KEY_POLICY, "fq_size"), &scratch, &fq))
		return ims_errf(err, err_len, "fq_size must be a power of two from 2 to %u",
				(unsigned)IOMMUSIM_FQ_MAX_SIZE);
	if (cfg->memory && cfg->memory % 4096)
		return ims_errf(err, err_len, "memory must be a multiple of 4 KiB");
	st = ims_zalloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	scfg.memory_bytes = cfg->memory;
	ret = cfg->platform ? 0 : iommusim_zpci_canned_create(&st->platform);
	if (!ret)
		ret = iommusim_s390_iommu_create(&scfg, NULL, &st->s390, &st->iommu);
	for (i = 0; !ret && i < nfns; i++)
		ret = build_fn(st, cfg, i);
	if (ret) {
		iommusim_stack_destroy(st);
		if (ret != -ENOMEM)
			return ims_errf(err, err_len, "building the stack: %s", strerror(-ret));
		IMS_IGNORE(ims_errf(err, err_len, "out of memory")); /* the status is -ENOMEM */
		return -ENOMEM;
	}
	*out = st;
	return 0;
}

static const struct stack_fn *
fn_at(const struct iommusim_stack *st, unsigned i)
{
	return st && i < st->nfns ? &st->fns[i] : NULL;
}

const struct iommusim_dma *
iommusim_stack_dma(const struct iommusim_stack *st, unsigned i)
{
	return fn_at(st, i) ? &fn_at(st, i)->dma : NULL;
}

struct iommusim_dma_iommu *
iommusim_stack_dma_iommu(const struct iommusim_stack *st, unsigned i)
{
	return fn_at(st, i) ? fn_at(st, i)->d : NULL;
}

struct iommusim_domain *
iommusim_stack_domain(const struct iommusim_stack *st, unsigned i)
{
	return fn_at(st, i) ? fn_at(st, i)->dom : NULL;
}

struct iommusim_zpci_fn *
iommusim_stack_fn(const struct iommusim_stack *st, unsigned i)
{
	return fn_at(st, i) ? fn_at(st, i)->fn : NULL;
}

struct iommusim_ism *
iommusim_stack_ism(const struct iommusim_stack *st, unsigned i)
{
	return fn_at(st, i) ? fn_at(st, i)->ism : NULL;
}

struct iommusim_zpci_canned *
iommusim_stack_platform(const struct iommusim_stack *st)
{
	return st ? st->platform : NULL;
}
