/* SPDX-License-Identifier: MIT */
/* Engine internals that the tests read: misuse counter, clock ratio, names. */
#ifndef IMS_SIM_INT_H
#define IMS_SIM_INT_H

#include <stdint.h>

#include <iommusim/sim.h>

/*
 * Calls on a CPU that the public API accepts but ignores because they make
 * no sense (charge, set_cost, wait, end or a context's delay_ns without a
 * running item; a bad CPU index, cost or NULL server): each one is a caller
 * bug, counted here instead of crashing.
 */
uint64_t ims_sim_misuse(const struct iommusim_sim *sim);

/* The clock as the reduced fraction cycles/ns = *num / *den. */
void ims_sim_clock_ratio(const struct iommusim_sim *sim, uint64_t *num, uint64_t *den);

/* The server's name (a copy taken at creation). */
const char *ims_server_name(const struct iommusim_server *srv);

/* Slots the server has. */
unsigned ims_server_slots(const struct iommusim_server *srv);

#endif /* IMS_SIM_INT_H */
