/* SPDX-License-Identifier: MIT */
/*
 * `print` and `echo`: a domain's counters in the kernel's debugfs format, a
 * function's RPCITs and ISM events, the platform's counters, a line of text.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include <iommusim/dma_iommu.h>
#include <iommusim/iommu.h>
#include <iommusim/ism.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/platform.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/sim.h>
#include <iommusim/zpci.h>

#include "base/util_int.h"
#include "workload/scenario/script_int.h"

/* ---- print and echo --------------------------------------------------------------------- */

static void
print_dom(struct script *s, const struct sdom *sd)
{
	struct dom_stats d;

	ims_script_dom_stats_get(sd, &d);
	if (sd->legacy) {
		fprintf(s->out,
			"# %s: pre-6.7 s390 DMA API (%s), window [0x%" PRIx64 ", 0x%" PRIx64
			"], next_bit %" PRIu64 "\n",
			sd->name, d.li.strict ? "strict" : "lazy", d.li.start_dma, d.li.end_dma,
			d.li.next_bit);
		/* arch/s390/pci/pci_debug.c before v6.7: the same format, three counters. */
		fprintf(s->out, "%26s:\t%llu\n", "Allocated pages",
			(unsigned long long)d.lc.allocated_pages);
		fprintf(s->out, "%26s:\t%llu\n", "Mapped pages",
			(unsigned long long)d.lc.mapped_pages);
		fprintf(s->out, "%26s:\t%llu\n", "Unmapped pages",
			(unsigned long long)d.lc.unmapped_pages);
		return;
	}
	if (sd->direct) {
		fprintf(s->out,
			"# %s: identity (%s): dma-direct, the DMA address is the physical "
			"address\n",
			sd->name, ims_script_dom_reason(sd, &d));
		return;
	}
	if (d.info.type == IOMMUSIM_DOMAIN_DMA_FQ) {
		fprintf(s->out, "# %s: DMA-FQ, %s of %" PRIu32 " entries, timeout %" PRIu32 " ms\n",
			sd->name, d.info.single_queue ? "one queue" : "per-CPU queues",
			d.info.fq_size, d.info.fq_timeout_ms);
	} else {
		const char *why = ims_script_dom_reason(sd, &d);

		fprintf(s->out, "# %s: DMA (strict)%s%s%s\n", sd->name,
			d.info.downgraded ? ", downgraded from DMA-FQ" : "", *why ? ": " : "", why);
	}
	/* A write error shows when the output is flushed (main()). */
	IMS_IGNORE(iommusim_s390_counters_print(s->out, &d.c));
}

static void
print_fn(struct script *s, const struct sfn *f)
{
	struct iommusim_zpci_fn_stats fs;
	struct iommusim_zpci_fn_info fi;
	unsigned r;

	/* Getters fail only on NULL arguments, and none is NULL here. */
	IMS_IGNORE(iommusim_zpci_fn_stats_get(f->fn, &fs));
	IMS_IGNORE(iommusim_zpci_fn_info_get(f->fn, &fi));
	fprintf(s->out,
		"# %s: fid %" PRIu32 ", fh 0x%08" PRIx32 "%s, tlb_refresh %d, window [0x%" PRIx64
		", 0x%" PRIx64 "]\n",
		f->name, fi.fid, fi.fh, fi.is_ism ? ", ISM" : "", fi.tlb_refresh ? 1 : 0,
		fi.start_dma, fi.end_dma);
	fprintf(s->out, "rpcits %" PRIu64, fs.rpcits);
	for (r = 0; r < IOMMUSIM_RPCIT_NR_REASONS; r++)
		if (fs.by_reason[r])
			fprintf(s->out, " %s=%" PRIu64,
				iommusim_rpcit_reason_name((enum iommusim_rpcit_reason)r),
				fs.by_reason[r]);
	fprintf(s->out, "\n");
	if (f->ism) {
		struct iommusim_ism_stats is;
		size_t i, n = iommusim_ism_nevents(f->ism);

		/* f->ism is set: cannot fail. */
		IMS_IGNORE(iommusim_ism_stats_get(f->ism, &is));
		fprintf(s->out,
			"ism %s, %" PRIu64 " DMBs (%" PRIu64 " bytes), %" PRIu64 " events\n",
			iommusim_ism_in_error(f->ism) ? "in error" : "ok", is.dmbs, is.dmb_bytes,
			is.events);
		for (i = 0; i < n; i++) {
			struct iommusim_ism_event ev;
			char t[32];

			if (iommusim_ism_event_get(f->ism, i, &ev))
				break;
			ims_script_fmt_time(t, sizeof(t), ev.time_ns);
			fprintf(s->out,
				"  event %zu: time %s cpu %u %s RPCIT [0x%" PRIx64 ", +0x%" PRIx64
				") exposed iova 0x%" PRIx64 " (%" PRIu64 " bytes in use)\n",
				i, t, ev.cpu, iommusim_rpcit_reason_name(ev.reason), ev.rpcit_addr,
				ev.rpcit_len, ev.iova, ev.exposed_bytes);
		}
	}
}

static void
print_platform(struct script *s, const struct splat *p)
{
	struct iommusim_platform_stats ps = { 0 };
	char t[32], cl[IOMMUSIM_CMDLINE_MAX];

	if (p->pl)
		/* p->pl is set: cannot fail. */
		IMS_IGNORE(iommusim_platform_stats_get(p->pl, &ps));
	ims_script_fmt_time(t, sizeof(t), s->sim ? iommusim_sim_cycles_to_ns(s->sim, s->now) : 0);
	cl[0] = 0;
	if (p->has_cmdline)
		iommusim_cmdline_format(&p->cmdline, cl, sizeof(cl));
	fprintf(s->out, "# platform %s%s%s at %s%s%s%s\n", p->name[0] ? p->name : p->profile.name,
		p->name[0] ? " = " : "", p->name[0] ? p->profile.name : "", t,
		p->has_cmdline ? ", boot parameters \"" : "", cl, p->has_cmdline ? "\"" : "");
	fprintf(s->out,
		"rpcits %" PRIu64 " global %" PRIu64 " status16 %" PRIu64 " shadow_entries %" PRIu64
		" max_shadow_entries %" PRIu64 " host_maps %" PRIu64 " host_unmap_calls %" PRIu64
		" steps %" PRIu64 " loads %" PRIu64 " lookups %" PRIu64 "\n",
		ps.rpcits, ps.global, ps.status16, ps.shadow_entries, ps.max_shadow_entries,
		ps.host_maps, ps.host_unmap_calls, ps.steps, ps.loads, ps.lookups);
}

int
ims_script_do_print(struct script *s, const struct op *op)
{
	const void *o;
	int rc;

	if (ims_script_streq(op->a, "platform")) {
		const struct splat *p = ims_script_the_platform(s, "print platform", &rc);

		if (rc)
			return rc;
		if (s->out)
			print_platform(s, p);
		return RC_OK;
	}
	o = ims_script_names_find(&s->names, op->a);
	if (!o)
		return ims_script_error(s, "unknown name '%s'", ims_script_safe(s, op->a));
	if (*(const enum okind *)o == O_HANDLE)
		return ims_script_error(
			s,
			"'print' shows a domain, a function or a platform; '%s' is a "
			"handle",
			ims_script_safe(s, op->a));
	if (!s->out)
		return RC_OK;
	if (*(const enum okind *)o == O_DOM)
		print_dom(s, o);
	else if (*(const enum okind *)o == O_PLAT)
		print_platform(s, o);
	else
		print_fn(s, o);
	return RC_OK;
}

int
ims_script_do_echo(struct script *s, const struct op *op)
{
	unsigned i;

	if (!s->out)
		return RC_OK;
	for (i = 0; i < op->ntok; i++)
		fprintf(s->out, "%s%s", i ? " " : "", op->tok[i].s);
	fputc('\n', s->out);
	return RC_OK;
}
