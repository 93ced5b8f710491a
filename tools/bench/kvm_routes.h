/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_BENCH_KVM_ROUTES_H
#define VIRQ_BENCH_KVM_ROUTES_H

/*
 * Baseline for the "route-update" benchmark: the cost of changing routes
 * through KVM_SET_GSI_ROUTING on a real /dev/kvm VM (x86).
 *
 * KVM has no incremental route API: every change replaces the whole table,
 * re-caches every irqfd and waits for an expedited SRCU grace period.
 */

#include <linux/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kvm_routes;

/*
 * Open /dev/kvm, create a VM and make GSI routing usable: a full in-kernel
 * irqchip (KVM_CREATE_IRQCHIP) or, if that fails, a split irqchip
 * (KVM_CAP_SPLIT_IRQCHIP, MSI routes only).
 * Returns 0 or -errno; -ENODEV if /dev/kvm is not usable.
 */
int kvm_routes_open(struct kvm_routes **out);

/* 1 if the VM uses a split irqchip (IRQCHIP routes then give -EINVAL). */
int kvm_routes_is_split(const struct kvm_routes *k);

/* The route limit KVM reports (KVM_CAP_IRQ_ROUTING, 4096 today). */
unsigned kvm_routes_max(const struct kvm_routes *k);

/*
 * KVM_SET_GSI_ROUTING with @nr entries (@e may be NULL if @nr is 0).
 * Returns 0 or -errno of KVM (-EINVAL for @nr above kvm_routes_max()).
 * With a full irqchip the table replaces KVM's default PIC/IOAPIC routes.
 */
int kvm_routes_set(struct kvm_routes *k, const struct kvm_irq_routing_entry *e,
		   unsigned nr);

/*
 * Install a table of @nr_routes MSI entries (GSI i -> address 0xfee00000,
 * data i & 0xff; not timed), then time @iters calls of
 * KVM_SET_GSI_ROUTING with CLOCK_MONOTONIC, each changing exactly one
 * entry's data (GSI j % nr_routes on call j, so a different GSI each call
 * while iters <= nr_routes).  *@median_ns gets the median, *@p99_ns (if
 * not NULL) the 99th percentile (nearest rank).
 * Returns 0, -EINVAL for bad arguments (nr_routes 0 or above
 * kvm_routes_max(), iters 0, median_ns NULL), -ENOMEM, or KVM's -errno.
 */
int kvm_routes_bench_one_change(struct kvm_routes *k, unsigned nr_routes, unsigned iters,
				double *median_ns, double *p99_ns);

/* Close the VM and /dev/kvm.  NULL is allowed. */
void kvm_routes_close(struct kvm_routes *k);

#ifdef __cplusplus
}
#endif
#endif
