/* SPDX-License-Identifier: MIT */
/* The KVM backend's state, shared by the files of src/kvm. */
#ifndef VIRQ_KVM_INTERNAL_H
#define VIRQ_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>

#include <virq/kvm.h>

#include "../core/internal.h"

/* KVM's route table size on x86 (KVM_MAX_IRQ_ROUTES) */
#define KVM_ROUTES_MAX 4096u

/* An irqfd bound through the backend: in KVM, or in virq's engine. */
struct kvm_binding {
	int eventfd; /* the caller's number, theirs until unbind */
	uint64_t id; /* the eventfd's identity */
	uint32_t gsi;
	bool in_kvm;
};

struct virq_kvm {
	struct virq_vm *vm;
	int vm_fd;
	uint32_t ioapic_pins;
	uint32_t limit; /* GSIs KVM can hold: min(VM limit, KVM_ROUTES_MAX) */
	struct virq_device *ioapic, *pic;
	bool edge_eois;

	/*
	 * Lock order: the VM's config lock, then this.  Route commits (the
	 * observer) and IOAPIC entry writes (the entry hook) both update the
	 * mirror and call KVM_SET_GSI_ROUTING under it.
	 */
	pthread_mutex_t lock;
	struct kvm_irq_routing_entry *mirror; /* per GSI, valid if present */
	uint8_t *present;
	uint32_t nr_present;
	struct kvm_irq_routing *table; /* buffer for KVM_SET_GSI_ROUTING */
	struct kvm_binding *bind;      /* irqfds bound through us */
	size_t nr_bind, cap_bind;
	uint64_t route_syncs, irqfds_moved;
	/* atomic: the last KVM_SET_GSI_ROUTING failed, KVM's table is not
	 * the mirror (MSI-X eventfds are not assigned then) */
	bool stale;

	atomic_uint_fast64_t msis, eoi_exits, extints;
	/* MSI-X eventfds in KVM now (irqfd accelerator) */
	atomic_uint_fast64_t msix_irqfds;
	struct irqfd_accel accel;
};

/* routes.c */
VIRQ_INTERNAL int kvm_routes_init(struct virq_kvm *k);
VIRQ_INTERNAL void kvm_routes_fini(struct virq_kvm *k);
/* Is @gsi an MSI route in KVM's table, one an irqfd may use?  (lock) */
VIRQ_INTERNAL bool kvm_routes_is_msi(struct virq_kvm *k, uint32_t gsi);
/* Does the mirror carry virq's MSI routes at @gsi?  (no lock) */
VIRQ_INTERNAL bool kvm_routes_covers(const struct virq_kvm *k, uint32_t gsi);

/* irqfd.c: move KVM-bound irqfds of @gsi to virq (config lock and lock) */
VIRQ_INTERNAL void kvm_irqfd_route_gone(struct virq_kvm *k, uint32_t gsi);
VIRQ_INTERNAL void kvm_irqfd_fini(struct virq_kvm *k);
/* The irqfd accelerator MSI-X devices use (k->accel) */
VIRQ_INTERNAL void kvm_irqfd_accel_init(struct virq_kvm *k);

#endif
