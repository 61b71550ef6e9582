/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The discrete-event engine (docs/model.md): one timeline in cycles of the
 * platform clock, events ordered by (time, order of scheduling), servers
 * with queues (a hypervisor that serialises RPCITs is a one-slot server; a
 * device has N slots), simulated CPUs that run one work item at a time and
 * account their busy cycles per component, and seeded random streams. Same
 * inputs and seed give the same results on any machine: nothing here reads
 * a wall clock or depends on thread order.
 *
 * Kernel-derived layers never see the engine: a work item hands them a
 * struct iommusim_ctx whose now_ns is the CPU's time inside the item and
 * whose delay_ns advances it.
 *
 * Thread-safety: an engine and everything it owns (servers, CPUs, the
 * contexts it fills) are used by one thread at a time; distinct engines and
 * rng streams are independent.
 */
#ifndef IOMMUSIM_SIM_H
#define IOMMUSIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- random streams ---- */

/** A xoshiro256** generator; embeddable. */
struct iommusim_rng {
	uint64_t s[4];
};

/** Seed stream @p stream of run seed @p seed (streams are independent). */
IOMMUSIM_API void iommusim_rng_seed(struct iommusim_rng *r, uint64_t seed, uint64_t stream);
/** The next 64 random bits. */
IOMMUSIM_API uint64_t iommusim_rng_next(struct iommusim_rng *r);
/** Uniform in [0, n) without modulo bias; 0 when n is 0. */
IOMMUSIM_API uint64_t iommusim_rng_below(struct iommusim_rng *r, uint64_t n);
/** Uniform in [0, 1). */
IOMMUSIM_API double iommusim_rng_double(struct iommusim_rng *r);

/* ---- the engine ---- */

struct iommusim_sim;

/** Where a CPU's cycles go (the breakdown reports show). */
enum iommusim_cost {
	IOMMUSIM_COST_IO = 0, /**< the per-I/O base cost (block layer, driver, interrupt) */
	IOMMUSIM_COST_ALLOC, /**< IOVA allocation and free */
	IOMMUSIM_COST_PTE, /**< page-table updates */
	IOMMUSIM_COST_MAP_SYNC, /**< map-time refresh (RPCIT on map) */
	IOMMUSIM_COST_UNMAP_SYNC, /**< strict unmap invalidation */
	IOMMUSIM_COST_FLUSH, /**< flush-queue flushes (global RPCITs) */
	IOMMUSIM_COST_QUEUE, /**< flush-queue enqueue */
	IOMMUSIM_COST_COPY, /**< bounce copies */
	IOMMUSIM_COST_OTHER,
	IOMMUSIM_COST_NR
};

/** "io", "alloc", "pte", "map_sync", ... */
IOMMUSIM_API const char *iommusim_cost_name(enum iommusim_cost c);

struct iommusim_sim_cfg {
	double clock_ghz; /**< cycles per ns (to 9 decimals, exactly); 0 = 5.2 (IBM Z) */
	unsigned ncpus; /**< simulated CPUs; 0 = 1 */
	uint64_t seed; /**< the run's seed */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** The clock rates the engine takes, in GHz (inclusive). */
#define IOMMUSIM_SIM_CLOCK_GHZ_MIN 1e-6
#define IOMMUSIM_SIM_CLOCK_GHZ_MAX 1e6

/**
 * @return 0; -EINVAL (NULL, clock not in [IOMMUSIM_SIM_CLOCK_GHZ_MIN,
 *         IOMMUSIM_SIM_CLOCK_GHZ_MAX], ncpus > 4096); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_sim_create(const struct iommusim_sim_cfg *cfg,
							struct iommusim_sim **out);
/** Frees the engine, its servers and pending events. NULL is a no-op. */
IOMMUSIM_API void iommusim_sim_destroy(struct iommusim_sim *sim);

/** The time of the event being run (or of the last one run), in cycles. */
IOMMUSIM_API uint64_t iommusim_sim_now(const struct iommusim_sim *sim);
/** Conversions at the edges (exact, rounded to nearest with halves up, saturating). */
IOMMUSIM_API uint64_t iommusim_sim_ns_to_cycles(const struct iommusim_sim *sim, uint64_t ns);
IOMMUSIM_API uint64_t iommusim_sim_cycles_to_ns(const struct iommusim_sim *sim, uint64_t cycles);
/** Seed a random stream of this run (see iommusim_rng_seed). */
IOMMUSIM_API void iommusim_sim_rng(const struct iommusim_sim *sim, uint64_t stream,
				   struct iommusim_rng *r);

/**
 * Run @p fn(sim, priv) at cycle @p at (not before now); events at the same
 * cycle run in the order they were scheduled.
 * @param id_out identifies the event for cancelling; may be NULL, and then the
 *        event cannot be cancelled (its id is still used up: ids are 1, 2, ...
 *        in schedule order)
 * @return 0; -EINVAL (NULL fn, at < now); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_sim_schedule(struct iommusim_sim *sim, uint64_t at,
							  void (*fn)(struct iommusim_sim *sim,
								     void *priv),
							  void *priv, uint64_t *id_out);
/** @return 0; -ENOENT if it already ran, was cancelled, never existed or was
 *  scheduled without asking for its id */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_sim_cancel(struct iommusim_sim *sim, uint64_t id);
/**
 * Run every event due at or before @p until, in order (events may schedule
 * more); then now = until (unless no event was due and until < now).
 * @param events_out events run; may be NULL
 * @return 0; -EINVAL on NULL
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_sim_run(struct iommusim_sim *sim, uint64_t until,
						     uint64_t *events_out);
/**
 * From an event's callback: the running iommusim_sim_run() returns after
 * this event, with now at its time and later events left waiting (a run
 * that reached its end early). Outside a run it does nothing.
 */
IOMMUSIM_API void iommusim_sim_stop(struct iommusim_sim *sim);
/** Events waiting. */
IOMMUSIM_API uint64_t iommusim_sim_pending(const struct iommusim_sim *sim);

/* ---- servers ---- */

/** The most parallel slots a server has (a device's dev_slots). */
#define IOMMUSIM_SERVER_MAX_SLOTS 4096u

struct iommusim_server;

struct iommusim_server_stats {
	uint64_t jobs;
	uint64_t busy_cycles; /**< sum of service times */
	uint64_t wait_cycles; /**< sum of queueing delays */
	uint64_t max_wait;
	uint64_t last_finish; /**< when the last job served finishes */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/**
 * A first-come-first-served server with @p slots parallel slots, owned by
 * the engine.
 * @return 0; -EINVAL (slots 0 or > IOMMUSIM_SERVER_MAX_SLOTS, NULL); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_server_create(struct iommusim_sim *sim,
							   const char *name, unsigned slots,
							   struct iommusim_server **out);
/**
 * A job arriving at @p arrival needing @p service cycles: it starts when a
 * slot is free (the earliest-free slot, ties to the lowest slot) and the
 * finish time is returned. Arrivals must come in non-decreasing order per
 * server for FCFS to hold (the engine's event order guarantees it).
 */
IOMMUSIM_API uint64_t iommusim_server_serve(struct iommusim_server *srv, uint64_t arrival,
					    uint64_t service);
/** @return 0; -EINVAL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_server_stats_get(const struct iommusim_server *srv,
							      struct iommusim_server_stats *out);

/*
 * ---- CPUs running work items ----
 *
 * charge, set_cost, wait and end (and a context's delay_ns) without an item
 * running on the CPU, or with a bad CPU, cost or server, are caller bugs:
 * they change nothing (wait and end return the CPU's time).
 */

struct iommusim_cpu_stats {
	uint64_t items; /**< work items run */
	uint64_t busy_cycles; /**< all charged cycles */
	uint64_t by_cost[IOMMUSIM_COST_NR]; /**< ... per component */
	uint64_t free_at; /**< when the CPU is next free */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/**
 * Start a work item on @p cpu at @p at, or when the CPU is free if later,
 * and fill @p ctx for the kernel-derived layers (now_ns: the CPU's time in
 * the item; delay_ns: busy-waits, charged as IOMMUSIM_COST_OTHER unless a
 * component is set with iommusim_sim_cpu_set_cost()).
 * @param start_out when the item really starts; may be NULL
 * @return 0; -EINVAL (bad CPU, an item already running on it, NULL ctx)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_sim_cpu_begin(struct iommusim_sim *sim, unsigned cpu,
							   uint64_t at, struct iommusim_ctx *ctx,
							   uint64_t *start_out);
/** Charge @p cycles of @p cost to the running item (its clock advances). */
IOMMUSIM_API void iommusim_sim_cpu_charge(struct iommusim_sim *sim, unsigned cpu,
					  enum iommusim_cost cost, uint64_t cycles);
/** The component delay_ns charges to from now on in this item. */
IOMMUSIM_API void iommusim_sim_cpu_set_cost(struct iommusim_sim *sim, unsigned cpu,
					    enum iommusim_cost cost);
/**
 * The running item waits (busy) for a job of @p service cycles on @p srv:
 * it arrives at the item's current time, and the item's clock moves to the
 * job's finish; the whole wait is charged to @p cost.
 * @return the finish time
 */
IOMMUSIM_API uint64_t iommusim_sim_cpu_wait(struct iommusim_sim *sim, unsigned cpu,
					    struct iommusim_server *srv, uint64_t service,
					    enum iommusim_cost cost);
/** The item's current time. */
IOMMUSIM_API uint64_t iommusim_sim_cpu_time(const struct iommusim_sim *sim, unsigned cpu);
/** End the item: the CPU is free from its current time. @return that time */
IOMMUSIM_API uint64_t iommusim_sim_cpu_end(struct iommusim_sim *sim, unsigned cpu);
/** @return 0; -EINVAL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_sim_cpu_stats_get(const struct iommusim_sim *sim,
							       unsigned cpu,
							       struct iommusim_cpu_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_SIM_H */
