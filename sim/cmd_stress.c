/* SPDX-License-Identifier: MIT */
/*
 * iommusim stress: real threads on the DMA layer, the flush queues and the
 * IOVA allocator at full speed for a bounded time, with the safety
 * invariant checked all along (iommusim/stress.h, docs/reliability.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <iommusim/iommusim.h>

#include "cmd.h"
#include "output.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: iommusim stress [OPTION]...\n"
		"Drive one dma-iommu domain of the s390 driver from N real threads, each a\n"
		"CPU, mapping and unmapping at full speed, with the flush-queue timer on a\n"
		"thread of its own; check all along that no IOVA is handed out again before\n"
		"a flush after its unmap and that every held mapping still translates to its\n"
		"buffer; report operations per second, latencies and lock contention. It\n"
		"measures this library on this host, not a platform: RPCITs answer at once.\n"
		"\n"
		"  -t, --threads=N        worker threads, 1 to 256 (default: the online CPUs)\n"
		"  -d, --duration=TIME    wall time per policy (default 1s; no unit means s)\n"
		"  -p, --policy=LIST      lazy-percpu, lazy-single, strict or all, comma-separated\n"
		"                         (default: all)\n"
		"      --fq-size=N        flush-queue entries, a power of two (default: the rule's)\n"
		"      --fq-timeout=TIME  flush-queue timeout, whole ms (default: the rule's)\n"
		"      --live=N           mappings each thread holds at most, 1 to 4096 (32)\n"
		"      --max-size=SIZE    bytes per map: 1 to this, at most 1m (16k)\n"
		"  -s, --seed=N           the threads' random streams (default 1)\n"
		"      --json             one JSON object per policy, one per line\n"
		"  -q, --quiet            no progress on standard error\n"
		"  -h, --help             show this help\n"
		"\n"
		"More threads than cores makes spinning waiters wait on preempted holders,\n"
		"which the kernel's spinlocks (preemption off) never do: keep N at or below\n"
		"the cores for figures, above them only to shake out races.\n"
		"\n"
		"Exit status: 0 if every check passed, 1 if one failed (named on stderr),\n"
		"2 on a usage error.\n");
}

#define bad(...) cli_usage_error("stress", __VA_ARGS__)

struct progress_state {
	const char *policy;
};

static void
report(void *priv, uint64_t elapsed_ns, uint64_t duration_ns, uint64_t ops)
{
	const struct progress_state *p = priv;

	fprintf(stderr, "\r%s: %.0f/%.0f s, %" PRIu64 " operations   ", p->policy,
		(double)elapsed_ns / 1e9, (double)duration_ns / 1e9, ops);
}

IOMMUSIM_NODISCARD static int
print_text(const struct iommusim_stress_result *r, bool header)
{
	int n = 0;

	if (header)
		n |= printf("%-12s %7s %12s %9s %9s %9s %9s %10s %10s %12s %8s  %s\n", "policy",
			    "threads", "ops/s", "map p50", "map p99", "unmap p50", "unmap p99",
			    "fq flushes", "timer", "lock waits", "per 1k", "checks") < 0;
	n |= printf("%-12s %7u %12.0f %7" PRIu64 "ns %7" PRIu64 "ns %7" PRIu64 "ns %7" PRIu64
		    "ns %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %8.2f  %s\n",
		    iommusim_stress_policy_name(r->policy), r->threads, r->ops_per_sec,
		    r->map_ns.p50, r->map_ns.p99, r->unmap_ns.p50, r->unmap_ns.p99,
		    r->full_flushes + r->timer_flushes, r->timer_flushes, r->lock_waits,
		    r->unmaps ? 1000.0 * (double)r->lock_waits / (double)r->unmaps : 0.0,
		    iommusim_stress_passed(r) ? "passed" : "FAILED") < 0;
	return n;
}

static json_t *
hist_json(const struct iommusim_hist_summary *h)
{
	return json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I}", "count", (json_int_t)h->count,
			 "min", (json_int_t)h->min, "max", (json_int_t)h->max, "mean", h->mean,
			 "p50", (json_int_t)h->p50, "p90", (json_int_t)h->p90, "p99",
			 (json_int_t)h->p99, "p999", (json_int_t)h->p999);
}

IOMMUSIM_NODISCARD static int
print_json(const struct iommusim_stress_result *r)
{
	json_t *o = json_pack(
		"{s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:f, s:o, s:o, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:b, s:s}",
		"policy", iommusim_stress_policy_name(r->policy), "threads", (json_int_t)r->threads,
		"lazy", r->lazy, "fq_size", (json_int_t)r->fq_size, "fq_timeout_ms",
		(json_int_t)r->fq_timeout_ms, "elapsed_ns", (json_int_t)r->elapsed_ns, "maps",
		(json_int_t)r->maps, "unmaps", (json_int_t)r->unmaps, "ops_per_sec", r->ops_per_sec,
		"map_ns", hist_json(&r->map_ns), "unmap_ns", hist_json(&r->unmap_ns),
		"full_flushes", (json_int_t)r->full_flushes, "timer_flushes",
		(json_int_t)r->timer_flushes, "strict_syncs", (json_int_t)r->strict_syncs,
		"global_rpcits", (json_int_t)r->global_rpcits, "lock_waits",
		(json_int_t)r->lock_waits, "max_entries", (json_int_t)r->max_entries, "checks",
		"lazy_reuse_violations", (json_int_t)r->lazy_reuse_violations, "stale_translations",
		(json_int_t)r->stale_translations, "map_errors", (json_int_t)r->map_errors,
		"unmap_errors", (json_int_t)r->unmap_errors, "leaked_pages",
		(json_int_t)r->leaked_pages, "passed", iommusim_stress_passed(r), "first_failure",
		r->first_failure);

	return output_json_line(o);
}

/* Parse --policy's list into @p want (indexed by policy). */
IOMMUSIM_NODISCARD static int
parse_policies(char *list, bool want[3])
{
	char *save = NULL, *t;

	memset(want, 0, 3 * sizeof(bool));
	for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned p;

		if (!strcmp(t, "all")) {
			want[0] = want[1] = want[2] = true;
			continue;
		}
		for (p = 0; p < 3 && strcmp(t, iommusim_stress_policy_name(p)); p++)
			;
		if (p == 3)
			return bad(
				"--policy: unknown policy '%s' (lazy-percpu, lazy-single, strict "
				"or all)",
				t);
		want[p] = true;
	}
	return want[0] || want[1] || want[2] ? 0 : bad("--policy: no policy given");
}

enum { OPT_FQ_SIZE = 256, OPT_FQ_TIMEOUT, OPT_LIVE, OPT_MAX_SIZE, OPT_JSON };

int
cmd_stress(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "policy", required_argument, NULL, 'p' },
		{ "fq-size", required_argument, NULL, OPT_FQ_SIZE },
		{ "fq-timeout", required_argument, NULL, OPT_FQ_TIMEOUT },
		{ "live", required_argument, NULL, OPT_LIVE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim stress";
	struct iommusim_stress_cfg cfg = { 0 };
	struct iommusim_policy pol = { 0 };
	bool want[3] = { true, true, true }, json = false, quiet = false, first = true;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	char msg[224], err[256];
	uint64_t v;
	int c, rc = 0;
	unsigned p;

	argv[0] = prog;
	opterr = 1;
	optind = 1;
	cfg.threads =
		online > 0 && online <= (long)IOMMUSIM_STRESS_MAX_THREADS ? (unsigned)online : 2;
	while ((c = getopt_long(argc, argv, "t:d:p:s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (iommusim_count_parse(optarg, 1, IOMMUSIM_STRESS_MAX_THREADS, &v))
				return bad("--threads wants a number from 1 to %u, not '%s'",
					   IOMMUSIM_STRESS_MAX_THREADS, optarg);
			cfg.threads = (unsigned)v;
			break;
		case 'd':
			if (iommusim_time_parse(optarg, IOMMUSIM_NS_PER_S, IOMMUSIM_NS_PER_MS,
						3600 * IOMMUSIM_NS_PER_S, &v))
				return bad(
					"--duration wants a time from 1ms to 1h (no unit means s), "
					"not '%s'",
					optarg);
			cfg.duration_ns = v;
			break;
		case 'p':
			if (parse_policies(optarg, want))
				return 2;
			break;
		case OPT_FQ_SIZE:
		case OPT_FQ_TIMEOUT:
			/* The policy keys' rows (docs/keys.md). */
			if (iommusim_policy_set(&pol, c == OPT_FQ_SIZE ? "fq_size" : "fq_timeout",
						optarg, msg, sizeof(msg)))
				return bad("--%s: %s", c == OPT_FQ_SIZE ? "fq-size" : "fq-timeout",
					   msg);
			break;
		case OPT_LIVE:
			if (iommusim_count_parse(optarg, 1, IOMMUSIM_STRESS_MAX_LIVE, &v))
				return bad("--live wants a number from 1 to %u, not '%s'",
					   IOMMUSIM_STRESS_MAX_LIVE, optarg);
			cfg.live = (unsigned)v;
			break;
		case OPT_MAX_SIZE:
			if (iommusim_size_parse(optarg, 1, UINT64_C(1) << 20, &v))
				return bad("--max-size wants a size from 1 to 1m, not '%s'",
					   optarg);
			cfg.max_size = v;
			break;
		case 's':
			if (output_parse_seed(optarg, &cfg.seed, msg, sizeof(msg)))
				return bad("--seed: %s", msg);
			/* 0 asks for the default stream; keep 0 distinct from it */
			if (!cfg.seed)
				cfg.seed = UINT64_C(1) << 63;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			fputs("Try 'iommusim stress --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	cfg.fq_size = pol.fq_size;
	cfg.fq_timeout_ms = pol.fq_timeout_ms;
	for (p = 0; p < 3; p++) {
		struct progress_state ps = { iommusim_stress_policy_name(p) };
		const struct iommusim_stress_progress prog_cb = { report, &ps };
		struct iommusim_stress_result r;
		int ret;

		if (!want[p])
			continue;
		cfg.policy = (enum iommusim_stress_policy)p;
		cfg.progress = !quiet && isatty(STDERR_FILENO) ? &prog_cb : NULL;
		ret = iommusim_stress_run(&cfg, &r, err, sizeof(err));
		if (cfg.progress)
			fputs("\r\033[K", stderr);
		if (ret == -EINVAL)
			return bad("%s", err);
		if (ret) {
			fprintf(stderr, "iommusim stress: %s: %s\n", ps.policy, err);
			return 1;
		}
		ret = json ? print_json(&r) : print_text(&r, first) ? -EIO : 0;
		if (ret) {
			fprintf(stderr, "iommusim stress: %s\n",
				ret == -ENOMEM ? "out of memory building the JSON" :
						 "writing the output failed");
			return 1;
		}
		first = false;
		if (!iommusim_stress_passed(&r)) {
			fprintf(stderr, "iommusim stress: %s: check failed: %s\n", ps.policy,
				r.first_failure);
			rc = 1;
		}
	}
	if (!quiet && !json && cfg.threads > (unsigned)(online > 0 ? online : 1))
		fprintf(stderr,
			"iommusim stress: %u threads on %ld online CPUs: the latencies and lock "
			"waits include preempted lock holders\n",
			cfg.threads, online);
	return rc;
}
