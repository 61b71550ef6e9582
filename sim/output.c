/* SPDX-License-Identifier: MIT */
/*
 * Rendering of run results: text, JSON (jansson) and CSV, plus the progress
 * reporter. The JSON and CSV layouts are documented in docs/cli.md; keep the
 * two in step and bump OUTPUT_SCHEMA on incompatible changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <iommusim/iommusim.h>

#include "output.h"

/* ---- helpers ------------------------------------------------------------- */

/* cpus = 0 in a job means "as many as numjobs"; reports show the number used. */
static unsigned
job_cpus(const struct iommusim_job *j)
{
	return j->cpus ? j->cpus : j->numjobs;
}

static const struct {
	const char *name, *title, *what;
} platforms[] = {
	{ "lpar", "LPAR", "IBM Z logical partition: firmware answers RPCITs, no shadow tables" },
	{ "zvm", "z/VM", "z/VM guest: CP shadows the DMA tables; map-time and global RPCITs" },
	{ "kvm", "KVM", "KVM guest, QEMU 8.0+ and vfio: shadow, dma_entry_limit, window bound" },
	{ "kvm-qemu7.1", "KVM, QEMU 7.1",
	  "KVM guest, QEMU up to 7.1: full window, an unmap per page, no second pass" },
	{ "x86-vtd", "x86 VT-d", "x86 bare metal with Intel VT-d (comparison)" },
	{ "x86-virtio", "x86 virtio-iommu", "x86 guest with virtio-iommu (comparison)" },
};

const char *
output_platform_title(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
		if (!strcmp(platforms[i].name, name))
			return platforms[i].title;
	return name;
}

const char *
output_platform_what(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
		if (!strcmp(platforms[i].name, name))
			return platforms[i].what;
	return "";
}

const char *
output_rw_name(enum iommusim_rw rw)
{
	switch (rw) {
	case IOMMUSIM_RW_READ:
		return "read";
	case IOMMUSIM_RW_WRITE:
		return "write";
	case IOMMUSIM_RW_RANDREAD:
		return "randread";
	case IOMMUSIM_RW_RANDWRITE:
		return "randwrite";
	case IOMMUSIM_RW_RW:
		return "rw";
	case IOMMUSIM_RW_RANDRW:
		return "randrw";
	}
	return "?";
}

const char *
output_workload_name(enum iommusim_workload wl)
{
	switch (wl) {
	case IOMMUSIM_WL_BLOCK:
		return "block";
	case IOMMUSIM_WL_NET:
		return "net";
	case IOMMUSIM_WL_ISM:
		return "ism";
	}
	return "?";
}

/* @p v (>= 1) with three significant digits, trailing zeros kept: 1.00, 12.3, 513. */
static void
fmt3(char *buf, size_t len, double v, const char *unit)
{
	snprintf(buf, len, v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s", v, unit);
}

const char *
output_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 999500)
		fmt3(buf, len, (double)ns / 1e3, "us");
	else if (ns < 999500000)
		fmt3(buf, len, (double)ns / 1e6, "ms");
	else
		fmt3(buf, len, (double)ns / 1e9, "s");
	return buf;
}

const char *
output_fmt_ns_exact(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64 " ms", ns / 1000000, ns % 1000000);
	return buf;
}

const char *
output_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;

	while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes >= 1024 && !(bytes % 1024)) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", bytes, units[u]);
	return buf;
}

/* Append to @p buf (always terminated, truncated when full). */
static void __attribute__((format(printf, 3, 4)))
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

const char *
output_job_summary(char *buf, size_t len, const struct iommusim_job *job)
{
	char b1[32], b2[32];

	buf[0] = '\0';
	switch (job->workload) {
	case IOMMUSIM_WL_BLOCK:
		append(buf, len, "%s %s", output_rw_name(job->rw),
		       output_fmt_bytes(b1, sizeof(b1), job->bs));
		if (job->rw == IOMMUSIM_RW_RW || job->rw == IOMMUSIM_RW_RANDRW)
			append(buf, len, " (%u%% reads)", job->rwmixread);
		break;
	case IOMMUSIM_WL_NET:
		append(buf, len, "net packets of %s", output_fmt_bytes(b1, sizeof(b1), job->bs));
		break;
	case IOMMUSIM_WL_ISM:
		append(buf, len, "ISM: %u DMBs of %s, traffic of %s", job->ism_dmbs,
		       output_fmt_bytes(b1, sizeof(b1), job->ism_dmb_size),
		       output_fmt_bytes(b2, sizeof(b2), job->bs));
		break;
	}
	append(buf, len, ", iodepth %u x %u job%s on %u CPU%s, %s simulated", job->iodepth,
	       job->numjobs, job->numjobs == 1 ? "" : "s", job_cpus(job),
	       job_cpus(job) == 1 ? "" : "s", output_fmt_ns(b1, sizeof(b1), job->runtime_ns));
	return buf;
}

const char *
output_policy_summary(char *buf, size_t len, const struct iommusim_policy *policy)
{
	buf[0] = '\0';
	append(buf, len, "%s", iommusim_policy_name(policy->kind));
	if (policy->fq_size)
		append(buf, len, ", fq_size %" PRIu32, policy->fq_size);
	if (policy->fq_timeout_ms)
		append(buf, len, ", fq_timeout %" PRIu32 " ms", policy->fq_timeout_ms);
	if (policy->ism_force_fq)
		append(buf, len, ", ISM forced onto a flush queue");
	return buf;
}

uint64_t
output_global_rpcits(const struct iommusim_run_result *r)
{
	return r->global_rpcits > r->legacy_global_rpcits ? r->global_rpcits :
							    r->legacy_global_rpcits;
}

int
output_apply_set(const char *kv, struct iommusim_job *job, struct iommusim_policy *policy,
		 struct iommusim_profile *profile, char *err, size_t err_len)
{
	struct iommusim_profile scratch_profile;
	struct iommusim_policy scratch_policy = { 0 };
	struct iommusim_job scratch_job;
	const struct iommusim_key *k;
	char key[64], msg[224] = "";
	const char *eq = strchr(kv, '=');
	void *obj;

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		snprintf(err, err_len, "--set wants KEY=VALUE, not '%s'", kv);
		return -EINVAL;
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	/* The boot parameters are text with their own parser, not a row. */
	if (!strcmp(key, "cmdline")) {
		if (iommusim_policy_set(policy ? policy : &scratch_policy, key, eq + 1, msg,
					sizeof(msg))) {
			snprintf(err, err_len, "--set %s", msg);
			return -EINVAL;
		}
		return 0;
	}
	/* The rows of the key table that --set reaches (docs/keys.md). */
	k = iommusim_key_find(IOMMUSIM_KEY_JOB | IOMMUSIM_KEY_POLICY | IOMMUSIM_KEY_PROFILE, key);
	if (!k) {
		snprintf(err, err_len, "--set %s: unknown key '%s' (every key: 'iommusim keys')",
			 kv, key);
		return -ENOENT;
	}
	if (!job) {
		iommusim_job_defaults(&scratch_job);
		job = &scratch_job;
	}
	if (!policy)
		policy = &scratch_policy;
	if (!profile) {
		scratch_profile = *iommusim_profile_at(0);
		profile = &scratch_profile;
	}
	obj = k->scope == IOMMUSIM_KEY_JOB    ? (void *)job :
	      k->scope == IOMMUSIM_KEY_POLICY ? (void *)policy :
						(void *)profile;
	if (iommusim_key_set(k, obj, eq + 1, msg, sizeof(msg))) {
		snprintf(err, err_len, "--set %s: %s", kv, msg);
		return -EINVAL;
	}
	return 0;
}

int
output_json_line(json_t *o)
{
	int rc;

	if (!o)
		return -ENOMEM;
	rc = json_dumpf(o, stdout, JSON_COMPACT) || putchar('\n') == EOF ? -EIO : 0;
	json_decref(o);
	return rc;
}

int
output_gates_parse(struct output_gates *g, const char *list, char *err, size_t err_len)
{
	char buf[256], *save = NULL, *t;

	if (!list || !*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, err_len,
			 "--fail-on wants a list of gates (ism-exposure, status16, "
			 "map-errors, downgraded, exposure-p99>TIME)");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "ism-exposure")) {
			g->ism_exposure = true;
		} else if (!strcmp(t, "status16")) {
			g->status16 = true;
		} else if (!strcmp(t, "map-errors")) {
			g->map_errors = true;
		} else if (!strcmp(t, "downgraded")) {
			g->downgraded = true;
		} else if (!strncmp(t, "exposure-p99>", 13)) {
			/* A time with its unit (the grammar of docs/cli.md "Values"). */
			if (iommusim_time_parse(t + 13, 0, 0, UINT64_MAX, &g->exposure_p99_ns)) {
				snprintf(
					err, err_len,
					"--fail-on: '%s' wants a time with a unit: exposure-p99>100ms",
					t);
				return -EINVAL;
			}
			g->exposure_p99 = true;
		} else {
			snprintf(
				err, err_len,
				"--fail-on: unknown gate '%s' (ism-exposure, status16, map-errors, "
				"downgraded, exposure-p99>TIME)",
				t);
			return -EINVAL;
		}
		g->any = true;
	}
	if (!g->any) {
		snprintf(err, err_len, "--fail-on: no gate given");
		return -EINVAL;
	}
	return 0;
}

unsigned
output_gates_check(const struct output_gates *g, const char *cmd, const char *label,
		   const struct iommusim_run_result *r, bool ism_gate)
{
	char t1[32], t2[32];
	unsigned n = 0;

	if (!g || !g->any)
		return 0;
	if (g->ism_exposure && ism_gate && r->ism_events) {
		fprintf(stderr,
			"iommusim %s: --fail-on ism-exposure: %s: %" PRIu64
			" flushes exposed an in-use ISM IOVA (the first at %s, IOVA %#" PRIx64
			")\n",
			cmd, label, r->ism_events,
			output_fmt_ns(t1, sizeof(t1), r->ism_first_event_ns), r->ism_first_iova);
		n++;
	}
	if (g->status16 && r->status16) {
		fprintf(stderr,
			"iommusim %s: --fail-on status16: %s: %" PRIu64 " status-16 answers\n", cmd,
			label, r->status16);
		n++;
	}
	if (g->map_errors && r->map_errors) {
		fprintf(stderr,
			"iommusim %s: --fail-on map-errors: %s: %" PRIu64 " DMA maps failed\n", cmd,
			label, r->map_errors);
		n++;
	}
	if (g->downgraded && r->downgrade[0]) {
		fprintf(stderr, "iommusim %s: --fail-on downgraded: %s: ran %s: %s\n", cmd, label,
			r->domain, r->downgrade);
		n++;
	}
	if (g->exposure_p99 && r->exposure.count && r->exposure.p99 > g->exposure_p99_ns) {
		fprintf(stderr, "iommusim %s: --fail-on exposure-p99>%s: %s: p99 %s\n", cmd,
			output_fmt_ns(t1, sizeof(t1), g->exposure_p99_ns), label,
			output_fmt_ns(t2, sizeof(t2), r->exposure.p99));
		n++;
	} else if (g->exposure_p99 && r->exposure_censored) {
		/* Not tripped, but not proven either: say what the figure leaves out. */
		fprintf(stderr,
			"iommusim %s: --fail-on exposure-p99: %s: %" PRIu64
			" lazy unmaps still queued at the end are not in the p99; it is a lower "
			"bound\n",
			cmd, label, r->exposure_censored);
	}
	return n;
}

void
output_run_warnings(const char *cmd, const struct output_run *run, bool *x86_said)
{
	const struct iommusim_run_result *r = run->res;
	char t1[32];

	/* A timer that can never fire makes every flush a full-queue one. */
	if (r->fq_timeout_ms && (uint64_t)r->fq_timeout_ms * 1000000u > r->sim_ns)
		fprintf(stderr,
			"iommusim %s: warning: %s %s: the flush-queue timeout (%" PRIu32
			" ms) is longer than the run (%s): its timer never fires\n",
			cmd, r->platform, r->policy, r->fq_timeout_ms,
			output_fmt_ns(t1, sizeof(t1), r->sim_ns));
	if (run->profile->kind > IOMMUSIM_PLATFORM_KVM && !(x86_said && *x86_said)) {
		fprintf(stderr,
			"iommusim %s: warning: %s runs through the s390 driver (the VT-d and "
			"virtio-iommu drivers are not modelled yet): its costs are x86's, its "
			"mechanisms s390's\n",
			cmd, r->platform);
		if (x86_said)
			*x86_said = true;
	}
	if (run->policy->has_cmdline) {
		const struct iommusim_cmdline *c = &run->policy->cmdline;
		bool legacy = !strcmp(r->domain, "legacy");

		/* Parameters the run did not read: say so, never silently. */
		if (c->nignored)
			fprintf(stderr,
				"iommusim %s: note: %u boot parameter%s outside the IOMMU code "
				"ignored (the first: %s)\n",
				cmd, c->nignored, c->nignored == 1 ? "" : "s", c->first_ignored);
		if (legacy && (c->iommu.strict_set || c->passthrough_set || c->forcedac_set))
			fprintf(stderr,
				"iommusim %s: warning: iommu.* parameters do not reach the pre-6.7 "
				"s390 DMA API (only s390_iommu=strict and s390_iommu_aperture= do)\n",
				cmd);
		if (c->forcedac_set && !legacy)
			fprintf(stderr,
				"iommusim %s: note: iommu.forcedac= changes nothing on s390: "
				"s390_iommu_init() forces DAC\n",
				cmd);
		if (c->iommu.s390_strict && !legacy)
			fprintf(stderr,
				"iommusim %s: note: s390_iommu=strict is deprecated (the kernel "
				"warns: use iommu.strict=1)\n",
				cmd);
	}
}

int
output_parse_seed(const char *text, uint64_t *seed, char *err, size_t err_len)
{
	struct iommusim_key_value v;
	int ret;

	/* The job file's seed= row: the same range wherever a seed is written. */
	ret = iommusim_key_parse(iommusim_key_find(IOMMUSIM_KEY_FILE, "seed"), text, &v, err,
				 err_len);
	if (!ret)
		*seed = v.u;
	return ret;
}

/* ---- text ---------------------------------------------------------------- */

static void
hist_line(FILE *f, const char *what, const struct iommusim_hist_summary *h)
{
	char a[24], b[24], c[24], d[24], e[24], g[24], m[24];

	fprintf(f,
		"  %-12s min %s, p50 %s, p90 %s, p99 %s, p99.9 %s, max %s; mean %s (%" PRIu64
		" samples)\n",
		what, output_fmt_ns(a, sizeof(a), h->min), output_fmt_ns(b, sizeof(b), h->p50),
		output_fmt_ns(c, sizeof(c), h->p90), output_fmt_ns(d, sizeof(d), h->p99),
		output_fmt_ns(e, sizeof(e), h->p999), output_fmt_ns(g, sizeof(g), h->max),
		output_fmt_ns(m, sizeof(m), (uint64_t)(h->mean + 0.5)), h->count);
}

/* A counter as the s390 debugfs statistics file prints it ("%26s:\t%llu"). */
static void
counter(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%26s:\t%" PRIu64 "\n", name, v);
}

int
output_run_text(FILE *f, const struct output_run *run)
{
	const struct iommusim_run_result *r = run->res;
	char buf[256], t1[32], t2[32];
	bool first = true;
	int i;

	fprintf(f, "job %s on %s (%s), policy %s", run->job->name, r->platform,
		output_platform_title(r->platform),
		output_policy_summary(buf, sizeof(buf), run->policy));
	/* The kernel policy resolves to one of the others; say which. */
	if (strcmp(r->policy, iommusim_policy_name(run->policy->kind)))
		fprintf(f, " (in effect: %s)", r->policy);
	/* What ran, in sysfs's spelling (/sys/kernel/iommu_groups/N/type). */
	fprintf(f, ", domain %s%s%s%s, seed %" PRIu64 "\n", r->domain,
		r->domain_reason[0] ? " (" : "", r->domain_reason, r->domain_reason[0] ? ")" : "",
		r->seed);
	if (r->cmdline[0])
		fprintf(f, "  boot parameters: %s\n", r->cmdline);
	if (r->downgrade[0])
		fprintf(f, "  note: the domain ran strict (DMA): %s\n", r->downgrade);
	fprintf(f, "  %s\n\n", output_job_summary(buf, sizeof(buf), run->job));

	fprintf(f, "  %-12s %.0f IOPS, %.1f MiB/s; %" PRIu64 " I/Os, %" PRIu64 " bytes in %s\n",
		"throughput", r->iops, r->bytes_per_s / 1048576.0, r->ios, r->bytes,
		output_fmt_ns(t1, sizeof(t1), r->sim_ns));
	fprintf(f, "  %-12s %" PRIu64 " cycles/IO, %.1f%% busy\n", "cpu", r->cpu_cycles_per_io,
		r->cpu_utilisation * 100.0);
	fprintf(f, "  %-12s", "  by part");
	for (i = 0; i < IOMMUSIM_COST_NR; i++) {
		if (!r->cycles_per_io[i])
			continue;
		fprintf(f, "%s %s %" PRIu64, first ? "" : ",", iommusim_cost_name(i),
			r->cycles_per_io[i]);
		first = false;
	}
	fprintf(f, "%s\n", first ? " (nothing)" : "");
	if (r->latency.count)
		hist_line(f, "latency", &r->latency);
	else
		fprintf(f, "  %-12s no I/O completed\n", "latency");
	if (r->exposure.count)
		hist_line(f, "exposure", &r->exposure);
	else
		fprintf(f, "  %-12s none measured (no flush covered a lazy unmap)\n", "exposure");
	if (r->exposure_censored)
		fprintf(f,
			"  %-12s %" PRIu64
			" lazy unmaps still queued at the end are in no exposure "
			"figure\n",
			"", r->exposure_censored);
	fprintf(f, "  %-12s %s of hypervisor work (%.1f%% of the run)\n", "hypervisor",
		output_fmt_ns(t1, sizeof(t1), r->hv_busy_ns),
		r->sim_ns ? 100.0 * (double)r->hv_busy_ns / (double)r->sim_ns : 0.0);

	fprintf(f, "\ncounters (s390 debugfs statistics):\n");
	counter(f, "Mapped pages", r->mapped_pages);
	counter(f, "Unmapped pages", r->unmapped_pages);
	counter(f, "Global RPCITs", r->global_rpcits);
	counter(f, "Sync Map RPCITs", r->sync_map_rpcits);
	counter(f, "Sync RPCITs", r->sync_rpcits);
	counter(f, "Legacy global RPCITs", r->legacy_global_rpcits);
	counter(f, "RPCITs handled", r->rpcits);
	counter(f, "Status 16 events", r->status16);
	counter(f, "Global refresh recoveries", r->enomem_recoveries);
	counter(f, "DMA map errors", r->map_errors);
	counter(f, "Peak shadow entries", r->max_shadow_entries);
	counter(f, "Hypervisor walk steps", r->hv_steps);
	counter(f, "Hypervisor table loads", r->hv_loads);
	counter(f, "Hypervisor shadow lookups", r->hv_lookups);
	counter(f, "Host map calls", r->hv_host_maps);
	counter(f, "Host unmap calls", r->hv_host_unmaps);
	counter(f, "Flush queue peak entries", r->fq_max_entries);
	counter(f, "Flush queue peak pages", r->fq_max_pages);
	counter(f, "Flush queue memory (bytes)", r->fq_bytes);
	counter(f, "ISM exposures", r->ism_events);
	if (r->ism_events)
		fprintf(f,
			"\nISM: first in-use IOVA 0x%" PRIx64 " exposed at t=%s by %s, range "
			"[0x%" PRIx64 ", 0x%" PRIx64 ")\n",
			r->ism_first_iova,
			output_fmt_ns_exact(t2, sizeof(t2), r->ism_first_event_ns),
			r->ism_first_reason, r->ism_first_rpcit_addr,
			r->ism_first_rpcit_addr + r->ism_first_rpcit_len);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---------------------------------------------------------------- */

/* Counters are below 2^63 in practice; beyond, a real keeps the magnitude. */
static json_t *
ju64(uint64_t v)
{
	return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

/* A real; null if it is not finite (jansson refuses NaN and infinities). */
static json_t *
jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
hist_json(const struct iommusim_hist_summary *h)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "count", ju64(h->count), "min",
			 ju64(h->min), "max", ju64(h->max), "mean", jreal(h->mean), "p50",
			 ju64(h->p50), "p90", ju64(h->p90), "p99", ju64(h->p99), "p999",
			 ju64(h->p999));
}

/* Set @p key (taking @p v); clears @p ok if @p v is NULL or the set fails. */
static void
put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (json_object_set_new(o, key, v))
		*ok = false;
}

/* An address: "0x4ffc00000". */
static json_t *
jaddr(uint64_t a)
{
	char b[24];

	snprintf(b, sizeof(b), "%#" PRIx64, a);
	return json_string(a ? b : "0x0");
}

static json_t *
job_json(const struct iommusim_job *j)
{
	json_t *o = json_object();
	bool ok = true;

	if (!o)
		return NULL;
	put(o, "name", json_string(j->name), &ok);
	put(o, "workload", json_string(output_workload_name(j->workload)), &ok);
	put(o, "rw", json_string(output_rw_name(j->rw)), &ok);
	put(o, "rwmixread", ju64(j->rwmixread), &ok);
	put(o, "bs", ju64(j->bs), &ok);
	put(o, "iodepth", ju64(j->iodepth), &ok);
	put(o, "numjobs", ju64(j->numjobs), &ok);
	put(o, "cpus", ju64(job_cpus(j)), &ok);
	put(o, "runtime_ns", ju64(j->runtime_ns), &ok);
	put(o, "size", ju64(j->size), &ok);
	put(o, "randseed", ju64(j->randseed), &ok);
	put(o, "dev_latency_ns", ju64(j->dev_latency_ns), &ok);
	put(o, "dev_bandwidth", ju64(j->dev_bandwidth), &ok);
	put(o, "dev_slots", ju64(j->dev_slots), &ok);
	put(o, "io_base_cycles", ju64(j->io_base_cycles), &ok);
	put(o, "sg_segments", ju64(j->sg_segments), &ok);
	put(o, "ism_dmbs", ju64(j->ism_dmbs), &ok);
	put(o, "ism_dmb_size", ju64(j->ism_dmb_size), &ok);
	put(o, "memory", ju64(j->memory), &ok);
	put(o, "s390_iommu_aperture", ju64(j->s390_iommu_aperture), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The fio-like subset (fio 3.33's jobs[].read|write) so fio plotting scripts
 * work: block workloads in one direction only (a mixed run's split by
 * direction is not measured). Submission latency is not modelled apart, so
 * clat_ns and lat_ns are both submission to completion.
 */
static json_t *
fio_json(const struct output_run *run)
{
	const struct iommusim_run_result *r = run->res;
	const struct iommusim_hist_summary *h = &r->latency;
	/* fio's bw is in KiB/s, bw_bytes in bytes/s, runtime in ms */
	const uint64_t bw =
		r->bytes_per_s >= 1.0 && r->bytes_per_s < 1.8e19 ? (uint64_t)r->bytes_per_s : 0;
	const char *dir;
	json_t *lat, *clat, *job;

	switch (run->job->workload == IOMMUSIM_WL_BLOCK ? run->job->rw : IOMMUSIM_RW_RW) {
	case IOMMUSIM_RW_READ:
	case IOMMUSIM_RW_RANDREAD:
		dir = "read";
		break;
	case IOMMUSIM_RW_WRITE:
	case IOMMUSIM_RW_RANDWRITE:
		dir = "write";
		break;
	default:
		return json_null();
	}
	clat = json_pack("{s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o}}", "min", ju64(h->min), "max",
			 ju64(h->max), "mean", jreal(h->mean), "N", ju64(h->count), "percentile",
			 "50.000000", ju64(h->p50), "90.000000", ju64(h->p90), "99.000000",
			 ju64(h->p99), "99.900000", ju64(h->p999));
	lat = json_deep_copy(clat);
	job = json_pack("{s:s, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}}", "jobname",
			run->job->name, dir, "iops", jreal(r->iops), "bw", ju64(bw / 1024),
			"bw_bytes", ju64(bw), "io_bytes", ju64(r->bytes), "total_ios", ju64(r->ios),
			"runtime", ju64(r->sim_ns / 1000000), "clat_ns", clat, "lat_ns", lat);
	return job ? json_pack("{s:[o]}", "jobs", job) : NULL;
}

/* The profile in force, under the keys of `iommusim profile show`: every
 * row of the profile's key table, as its type says. */
static json_t *
profile_json(const struct iommusim_profile *p)
{
	const struct iommusim_key *k;
	struct iommusim_key_value v;
	json_t *o = json_object();
	bool ok = true;
	size_t i;

	if (!o)
		return NULL;
	put(o, "name", json_string(p->name), &ok);
	for (i = 0; ok && (k = iommusim_profile_key_at(i)); i++) {
		char text[32];

		if (iommusim_key_load(k, p, &v)) {
			ok = false;
			break;
		}
		switch (k->type) {
		case IOMMUSIM_KEY_REAL:
			put(o, k->name, jreal(v.d), &ok);
			break;
		case IOMMUSIM_KEY_BOOL:
			put(o, k->name, json_boolean(v.u), &ok);
			break;
		case IOMMUSIM_KEY_ENUM:
			ok = !iommusim_key_format(k, &v, text, sizeof(text));
			if (ok)
				put(o, k->name, json_string(text), &ok);
			break;
		default:
			put(o, k->name, ju64(v.u), &ok);
			break;
		}
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
output_run_json(const struct output_run *run)
{
	const struct iommusim_run_result *r = run->res;
	json_t *o = json_object(), *cyc = json_object();
	bool ok = true;
	int i;

	if (!o || !cyc)
		goto err;
	for (i = 0; i < IOMMUSIM_COST_NR; i++)
		put(cyc, iommusim_cost_name(i), ju64(r->cycles_per_io[i]), &ok);

	put(o, "schema", json_integer(OUTPUT_SCHEMA), &ok);
	put(o, "version", json_string(iommusim_version()), &ok);
	put(o, "job", job_json(run->job), &ok);
	put(o, "profile", profile_json(run->profile), &ok);
	put(o, "policy_options",
	    json_pack("{s:o, s:o, s:b}", "fq_size", ju64(run->policy->fq_size), "fq_timeout_ms",
		      ju64(run->policy->fq_timeout_ms), "ism_force_fq", run->policy->ism_force_fq),
	    &ok);
	put(o, "platform", json_string(r->platform), &ok);
	put(o, "policy", json_string(r->policy), &ok);
	put(o, "seed", ju64(r->seed), &ok);
	put(o, "sim_ns", ju64(r->sim_ns), &ok);
	put(o, "ios", ju64(r->ios), &ok);
	put(o, "bytes", ju64(r->bytes), &ok);
	put(o, "iops", jreal(r->iops), &ok);
	put(o, "bytes_per_s", jreal(r->bytes_per_s), &ok);
	put(o, "cpu_cycles_per_io", ju64(r->cpu_cycles_per_io), &ok);
	put(o, "cycles_per_io", cyc, &ok);
	cyc = NULL;
	put(o, "cpu_utilisation", jreal(r->cpu_utilisation), &ok);
	put(o, "latency", hist_json(&r->latency), &ok);
	put(o, "exposure", hist_json(&r->exposure), &ok);
	put(o, "exposure_censored", ju64(r->exposure_censored), &ok);
	put(o, "fq_in_force",
	    r->fq_size ? json_pack("{s:I, s:I}", "size", (json_int_t)r->fq_size, "timeout_ms",
				   (json_int_t)r->fq_timeout_ms) :
			 json_null(),
	    &ok);
	put(o, "mapped_pages", ju64(r->mapped_pages), &ok);
	put(o, "unmapped_pages", ju64(r->unmapped_pages), &ok);
	put(o, "global_rpcits", ju64(r->global_rpcits), &ok);
	put(o, "sync_map_rpcits", ju64(r->sync_map_rpcits), &ok);
	put(o, "sync_rpcits", ju64(r->sync_rpcits), &ok);
	put(o, "legacy_global_rpcits", ju64(r->legacy_global_rpcits), &ok);
	put(o, "rpcits", ju64(r->rpcits), &ok);
	put(o, "status16", ju64(r->status16), &ok);
	put(o, "enomem_recoveries", ju64(r->enomem_recoveries), &ok);
	put(o, "map_errors", ju64(r->map_errors), &ok);
	put(o, "max_shadow_entries", ju64(r->max_shadow_entries), &ok);
	put(o, "fq_max_entries", ju64(r->fq_max_entries), &ok);
	put(o, "fq_max_pages", ju64(r->fq_max_pages), &ok);
	put(o, "fq_bytes", ju64(r->fq_bytes), &ok);
	put(o, "domain", json_string(r->domain), &ok);
	put(o, "downgrade", json_string(r->downgrade), &ok);
	put(o, "domain_reason", json_string(r->domain_reason), &ok);
	put(o, "cmdline", json_string(r->cmdline), &ok);
	put(o, "hv_busy_ns", ju64(r->hv_busy_ns), &ok);
	put(o, "hv_steps", ju64(r->hv_steps), &ok);
	put(o, "hv_loads", ju64(r->hv_loads), &ok);
	put(o, "hv_lookups", ju64(r->hv_lookups), &ok);
	put(o, "hv_host_maps", ju64(r->hv_host_maps), &ok);
	put(o, "hv_host_unmaps", ju64(r->hv_host_unmaps), &ok);
	put(o, "ism_events", ju64(r->ism_events), &ok);
	put(o, "ism_first_event_ns", ju64(r->ism_first_event_ns), &ok);
	/* Addresses as the text prints them: hex strings (schema 2). */
	put(o, "ism_first_iova", jaddr(r->ism_first_iova), &ok);
	put(o, "ism_first_rpcit_addr", jaddr(r->ism_first_rpcit_addr), &ok);
	put(o, "ism_first_rpcit_len", ju64(r->ism_first_rpcit_len), &ok);
	put(o, "ism_first_reason", json_string(r->ism_first_reason), &ok);
	put(o, "fio", fio_json(run), &ok);
	if (!ok)
		goto err;
	return o;
err:
	json_decref(cyc);
	json_decref(o);
	return NULL;
}

int
output_json_dump(FILE *f, const json_t *json)
{
	if (json_dumpf(json, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12)) || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

/* ---- CSV ----------------------------------------------------------------- */

static const char *const hist_cols[] = {
	"count", "min", "max", "mean", "p50", "p90", "p99", "p999"
};

/* A string field, quoted as RFC 4180 when it needs to be. */
static void
csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int
output_csv_header(FILE *f)
{
	size_t i;
	int c;

	fputs("job,workload,rw,bs,iodepth,numjobs,cpus,runtime_ns,platform,policy,fq_size,"
	      "fq_timeout_ms,ism_force_fq,seed,sim_ns,ios,bytes,iops,bytes_per_s,cpu_cycles_per_io",
	      f);
	for (c = 0; c < IOMMUSIM_COST_NR; c++)
		fprintf(f, ",cycles_per_io_%s", iommusim_cost_name(c));
	fputs(",cpu_utilisation", f);
	for (i = 0; i < sizeof(hist_cols) / sizeof(hist_cols[0]); i++)
		fprintf(f, ",latency_%s", hist_cols[i]);
	for (i = 0; i < sizeof(hist_cols) / sizeof(hist_cols[0]); i++)
		fprintf(f, ",exposure_%s", hist_cols[i]);
	fputs(",mapped_pages,unmapped_pages,global_rpcits,sync_map_rpcits,sync_rpcits,"
	      "legacy_global_rpcits,rpcits,status16,enomem_recoveries,map_errors,"
	      "max_shadow_entries,fq_max_entries,fq_max_pages,hv_busy_ns,ism_events,"
	      "ism_first_event_ns,ism_first_iova,ism_first_rpcit_addr,ism_first_rpcit_len,"
	      "ism_first_reason,hv_steps,hv_loads,hv_lookups,hv_host_maps,hv_host_unmaps,domain,"
	      "downgrade,exposure_censored,fq_size_in_force,fq_timeout_ms_in_force,"
	      "domain_reason,cmdline,fq_bytes\n",
	      f);
	return ferror(f) ? -EIO : 0;
}

static void
csv_hist(FILE *f, const struct iommusim_hist_summary *h)
{
	fprintf(f,
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64,
		h->count, h->min, h->max, h->mean, h->p50, h->p90, h->p99, h->p999);
}

int
output_csv_row(FILE *f, const struct output_run *run)
{
	const struct iommusim_run_result *r = run->res;
	const struct iommusim_job *j = run->job;
	int c;

	csv_str(f, j->name);
	fprintf(f, ",%s,%s,%" PRIu32 ",%u,%u,%u,%" PRIu64 ",", output_workload_name(j->workload),
		output_rw_name(j->rw), j->bs, j->iodepth, j->numjobs, job_cpus(j), j->runtime_ns);
	csv_str(f, r->platform);
	fputc(',', f);
	csv_str(f, r->policy);
	fprintf(f,
		",%" PRIu32 ",%" PRIu32 ",%d,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%.3f,%.3f,%" PRIu64,
		run->policy->fq_size, run->policy->fq_timeout_ms, run->policy->ism_force_fq ? 1 : 0,
		r->seed, r->sim_ns, r->ios, r->bytes, r->iops, r->bytes_per_s,
		r->cpu_cycles_per_io);
	for (c = 0; c < IOMMUSIM_COST_NR; c++)
		fprintf(f, ",%" PRIu64, r->cycles_per_io[c]);
	fprintf(f, ",%.6f", r->cpu_utilisation);
	csv_hist(f, &r->latency);
	csv_hist(f, &r->exposure);
	fprintf(f,
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",",
		r->mapped_pages, r->unmapped_pages, r->global_rpcits, r->sync_map_rpcits,
		r->sync_rpcits, r->legacy_global_rpcits, r->rpcits, r->status16,
		r->enomem_recoveries, r->map_errors, r->max_shadow_entries, r->fq_max_entries,
		r->fq_max_pages, r->hv_busy_ns, r->ism_events, r->ism_first_event_ns,
		r->ism_first_iova, r->ism_first_rpcit_addr, r->ism_first_rpcit_len);
	csv_str(f, r->ism_first_reason);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", r->hv_steps,
		r->hv_loads, r->hv_lookups, r->hv_host_maps, r->hv_host_unmaps);
	csv_str(f, r->domain);
	fputc(',', f);
	csv_str(f, r->downgrade);
	fprintf(f, ",%" PRIu64 ",%" PRIu32 ",%" PRIu32 ",", r->exposure_censored, r->fq_size,
		r->fq_timeout_ms);
	csv_str(f, r->domain_reason);
	fputc(',', f);
	csv_str(f, r->cmdline);
	fprintf(f, ",%" PRIu64 "\n", r->fq_bytes);
	return ferror(f) ? -EIO : 0;
}

/* ---- progress ------------------------------------------------------------ */

#define BAR_WIDTH 30
/* Plain lines start only after this much wall time: short runs stay silent. */
#define QUIET_SECONDS 2.0

static double
elapsed(const struct output_progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - p->start.tv_sec) +
	       (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
}

void
output_progress_init(struct output_progress *p, bool quiet, unsigned nstages)
{
	memset(p, 0, sizeof(*p));
	p->enabled = !quiet;
	p->tty = isatty(STDERR_FILENO);
	p->nstages = nstages ? nstages : 1;
	p->last_pct = -1;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

void
output_progress_stage(struct output_progress *p, unsigned stage, const char *label)
{
	p->stage = stage;
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->last_pct = -1; /* redraw with the new label */
	output_progress_report(p, 0.0);
}

void
output_progress_report(void *priv, double done)
{
	struct output_progress *p = priv;
	double total, now;
	int pct, decile;

	if (!p->enabled)
		return;
	if (!(done >= 0.0)) /* also NaN */
		done = 0.0;
	if (done > 1.0)
		done = 1.0;
	total = (p->stage + done) / p->nstages;
	pct = (int)(total * 100.0);
	now = elapsed(p);
	if (p->tty) {
		char bar[BAR_WIDTH + 1];
		int fill = (int)(total * BAR_WIDTH), i;

		/* At most ~20 redraws a second, and only when something changed. */
		if (pct == p->last_pct || (p->drawn && now - p->last_draw < 0.05 && pct < 100))
			return;
		for (i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[BAR_WIDTH] = '\0';
		fprintf(stderr, "\r%-28.28s [%s] %3d%%", p->label, bar, pct);
		fflush(stderr);
		p->drawn = true;
		p->last_pct = pct;
		p->last_draw = now;
		return;
	}
	decile = pct / 10;
	if (decile <= p->last_decile || now < QUIET_SECONDS)
		return;
	fprintf(stderr, "iommusim: %3d%% (%s, %.1f s)\n", decile * 10, p->label, now);
	p->last_decile = decile;
}

void
output_progress_end(struct output_progress *p)
{
	if (!p->enabled)
		return;
	if (p->tty && p->drawn) {
		/* Erase the bar so stdout's text starts on a clean line. */
		fprintf(stderr, "\r%*s\r", 28 + 2 + BAR_WIDTH + 6, "");
		fflush(stderr);
		p->drawn = false;
	} else if (!p->tty && p->last_decile > 0 && p->last_decile < 10) {
		fprintf(stderr, "iommusim: 100%% (%.1f s)\n", elapsed(p));
		p->last_decile = 10;
	}
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "iommusim %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'iommusim %s --help'.\n", cmd);
	return 2;
}

/*
 * The default job's simulated time: long enough that the single flush queue
 * (32768 entries, 1000 ms) flushes (by its timer, or by filling up on z/VM
 * and KVM) so its cost shows, short enough that the whole default comparison
 * takes seconds.
 */
#define DEFAULT_RUNTIME_NS 2000000000ull

void
output_default_job(struct iommusim_job *job)
{
	iommusim_job_defaults(job);
	snprintf(job->name, sizeof(job->name), "randread");
	job->workload = IOMMUSIM_WL_BLOCK;
	job->rw = IOMMUSIM_RW_RANDREAD;
	job->bs = 4096;
	job->iodepth = 32;
	job->numjobs = 4;
	job->cpus = 4;
	job->runtime_ns = DEFAULT_RUNTIME_NS;
}
