/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_ROUTER_H
#define VIRQ_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;

/*
 * The GSI routing table: a flat namespace of GSIs below the VM's route
 * limit.  A GSI holds either exactly one non-chip entry (MSI, PPI, LPI)
 * or at most one pin on each chip.  KVM's rules and error codes apply.
 */

enum virq_route_kind {
	VIRQ_ROUTE_IRQCHIP = 1, /* a pin of a chip */
	VIRQ_ROUTE_MSI = 2,	/* an MSI message, optional device id */
	VIRQ_ROUTE_PPI = 3,	/* an ARM private interrupt of one vCPU */
	VIRQ_ROUTE_LPI = 4,	/* an LPI injected directly into a GIC */
};

/* MSI entry flag: devid is valid (required by an ITS). */
#define VIRQ_MSI_VALID_DEVID (1u << 0)

struct virq_route_entry {
	uint32_t gsi;
	uint32_t kind;	/* enum virq_route_kind */
	uint32_t flags; /* MSI: VIRQ_MSI_VALID_DEVID; others: 0 */
	union {
		struct {
			uint32_t chip;
			uint32_t pin;
		} irqchip;
		struct {
			uint32_t address_lo;
			uint32_t address_hi;
			uint32_t data;
			uint32_t devid;
		} msi;
		struct {
			uint32_t chip;
			uint32_t vcpu;
			uint32_t ppi; /* 16..31 */
		} ppi;
		struct {
			uint32_t chip;
			uint32_t intid; /* >= 8192 */
		} lpi;
	} u;
};

/* A transaction: build with add/update/remove, apply with commit. */
struct virq_route_txn;

int virq_route_begin(struct virq_vm *vm, struct virq_route_txn **out);

/*
 * Add an entry.  Checked against the table at commit; the entry itself
 * (kind, flags, ranges) is checked here and refused with -EINVAL.
 */
int virq_route_add(struct virq_route_txn *txn, const struct virq_route_entry *e);

/*
 * Replace the entry occupying the same place: the same chip's entry of a
 * GSI for a chip pin, the GSI's single entry otherwise.  A missing entry
 * makes the commit fail with -ENOENT.
 */
int virq_route_update(struct virq_route_txn *txn, const struct virq_route_entry *e);

/* Remove the entry occupying @e's place (-ENOENT at commit if none). */
int virq_route_remove(struct virq_route_txn *txn, const struct virq_route_entry *e);

/* Remove every entry of @gsi (no error if it has none). */
int virq_route_remove_gsi(struct virq_route_txn *txn, uint32_t gsi);

/*
 * Apply the transaction: all of it or nothing.  Costs O(operations),
 * never waits for injecting threads, and does nothing if nothing changes.
 * After it returns, every injection that starts sees the new routes.
 * The transaction is consumed either way.
 */
int virq_route_commit(struct virq_route_txn *txn);

/* Drop a transaction without applying it. */
void virq_route_abort(struct virq_route_txn *txn);

/*
 * Replace the whole table, as KVM_SET_GSI_ROUTING does: @nr > limit, a
 * GSI >= limit, or any invalid entry -> -EINVAL and the old table stays.
 * Only the GSIs that differ are republished.
 */
int virq_route_set_table(struct virq_vm *vm, const struct virq_route_entry *entries,
			 size_t nr);

/*
 * Copy the entries of @gsi into @out (at most @max); returns how many
 * the GSI has (0 if none), which may exceed @max.
 */
int virq_route_get(struct virq_vm *vm, uint32_t gsi, struct virq_route_entry *out,
		   size_t max);

/*
 * Copy the whole table (ascending GSI) into @out; returns the entry count,
 * which may exceed @max (then only @max were copied).
 */
long virq_route_get_table(struct virq_vm *vm, struct virq_route_entry *out, size_t max);

/* Reverse map: the lowest GSI routed to (@chip, @pin), or -ENOENT. */
int virq_route_gsi_of_pin(struct virq_vm *vm, uint32_t chip, uint32_t pin, uint32_t *gsi);

struct virq_route_stats {
	uint64_t entries;      /* entries in the table now */
	uint64_t gsis;	       /* GSIs with at least one entry */
	uint64_t limit;	       /* route limit */
	uint64_t commits;      /* commits that changed the table */
	uint64_t noop_commits; /* commits that changed nothing */
	uint64_t failed_commits;
	uint64_t gsis_published; /* GSI sets replaced, over all commits */
};
void virq_route_get_stats(struct virq_vm *vm, struct virq_route_stats *st);

/*
 * Observe commits (a KVM backend mirrors routes; irqfds re-resolve).
 * Called after a commit changed the table, with the sorted list of GSIs
 * whose entries changed, under the VM's configuration lock: the callback
 * may read routes but must not commit.
 */
typedef void (*virq_route_observer_fn)(void *opaque, struct virq_vm *vm,
				       const uint32_t *gsis, size_t nr);
int virq_route_observe(struct virq_vm *vm, virq_route_observer_fn fn, void *opaque);
int virq_route_unobserve(struct virq_vm *vm, virq_route_observer_fn fn, void *opaque);

#ifdef __cplusplus
}
#endif
#endif
