/* SPDX-License-Identifier: MIT */
/*
 * KVM's route table as a mirror of virq's.  KVM cannot route to
 * userspace chips, so under a split irqchip it holds MSI routes only:
 * virq's MSI routes (for KVM irqfds) and, at the GSIs reserved for IOAPIC
 * pins, one MSI route per redirection entry.  Those never deliver (virq's
 * IOAPIC does, with KVM_SIGNAL_MSI); they tell KVM which vectors are the
 * IOAPIC's, so that a guest EOI of a level vector exits to userspace.
 *
 * KVM replaces its table whole, and every replacement waits for an SRCU
 * grace period: a change is sent only if the mirror really changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <virq/x86.h>

#include "../x86/x86_internal.h"
#include "kvm_internal.h"

#define RE_LEVEL (1ull << 15)
#define RE_DESTMODE (1ull << 11)

/* Send the mirror to KVM (lock held). */
static int routes_sync(struct virq_kvm *k)
{
	uint32_t n = 0;

	for (uint32_t gsi = 0; gsi < k->limit && n < k->nr_present; gsi++)
		if (k->present[gsi])
			k->table->entries[n++] = k->mirror[gsi];
	k->table->nr = n;
	k->table->flags = 0;
	k->route_syncs++;
	if (ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->table) < 0) {
		__atomic_store_n(&k->stale, true, __ATOMIC_RELEASE);
		return virq_fail(errno, "kvm: KVM_SET_GSI_ROUTING of %u routes: %s", n,
				 strerror(errno));
	}
	__atomic_store_n(&k->stale, false, __ATOMIC_RELEASE);
	return 0;
}

/* Put @e (or nothing) at @gsi; true if that changed the mirror (lock). */
static bool routes_set(struct virq_kvm *k, uint32_t gsi,
		       const struct kvm_irq_routing_entry *e)
{
	if (!e) {
		if (!k->present[gsi])
			return false;
		k->present[gsi] = 0;
		k->nr_present--;
		return true;
	}
	if (k->present[gsi] && !memcmp(&k->mirror[gsi], e, sizeof(*e)))
		return false;
	if (!k->present[gsi])
		k->nr_present++;
	k->present[gsi] = 1;
	k->mirror[gsi] = *e;
	return true;
}

static void msi_entry(struct kvm_irq_routing_entry *out, uint32_t gsi, uint32_t addr_lo,
		      uint32_t addr_hi, uint32_t data)
{
	memset(out, 0, sizeof(*out));
	out->gsi = gsi;
	out->type = KVM_IRQ_ROUTING_MSI;
	out->u.msi.address_lo = addr_lo;
	out->u.msi.address_hi = addr_hi;
	out->u.msi.data = data;
}

/* What IOAPIC pin @pin looks like to KVM (lock held). */
static bool ioapic_pin_entry(struct virq_kvm *k, uint32_t pin,
			     struct kvm_irq_routing_entry *out)
{
	uint64_t e;
	bool level;

	if (virq_device_get_attr(k->ioapic, VIRQ_IOAPIC_GRP_REDIR, pin, &e, sizeof(e)))
		return false;
	level = (e & RE_LEVEL) || k->edge_eois;
	/* the message ioapic.c sends, the trigger bit set where EOIs matter */
	msi_entry(out, pin,
		  0xfee00000u | (uint32_t)(e >> 56) << 12 | (e & RE_DESTMODE ? 4u : 0), 0,
		  (uint32_t)(e & 0x7ff) | 1u << 14 | (level ? 1u << 15 : 0));
	return true;
}

/* What virq's GSI @gsi looks like to KVM: an MSI route or nothing. */
static bool virq_gsi_entry(struct virq_kvm *k, uint32_t gsi,
			   struct kvm_irq_routing_entry *out)
{
	struct virq_route_entry e[2];

	if (virq_route_get(k->vm, gsi, e, 2) != 1 || e[0].kind != VIRQ_ROUTE_MSI)
		return false;
	/* x86 KVM refuses devids; the LAPICs do not need them */
	msi_entry(out, gsi, e[0].u.msi.address_lo, e[0].u.msi.address_hi,
		  e[0].u.msi.data);
	return true;
}

static bool is_ioapic_gsi(const struct virq_kvm *k, uint32_t gsi)
{
	return k->ioapic && gsi < k->ioapic_pins && gsi < VIRQ_X86_IOAPIC_PINS;
}

/* Router observer: config lock held. */
static void on_commit(void *opaque, struct virq_vm *vm, const uint32_t *gsis, size_t nr)
{
	struct virq_kvm *k = opaque;
	struct kvm_irq_routing_entry e;
	bool dirty = false;

	(void)vm;
	pthread_mutex_lock(&k->lock);
	for (size_t i = 0; i < nr; i++) {
		uint32_t gsi = gsis[i];
		bool msi;

		if (gsi >= k->limit || is_ioapic_gsi(k, gsi))
			continue;
		msi = virq_gsi_entry(k, gsi, &e);
		dirty |= routes_set(k, gsi, msi ? &e : NULL);
		if (!msi)
			kvm_irqfd_route_gone(k, gsi);
	}
	if (dirty)
		routes_sync(k);
	pthread_mutex_unlock(&k->lock);
}

/* IOAPIC entry hook: the IOAPIC lock is dropped. */
static void on_entries(void *opaque, uint32_t pins)
{
	struct virq_kvm *k = opaque;
	struct kvm_irq_routing_entry e;
	bool dirty = false;

	pthread_mutex_lock(&k->lock);
	for (uint32_t pin = 0; pin < VIRQ_X86_IOAPIC_PINS; pin++)
		if ((pins & (1u << pin)) && is_ioapic_gsi(k, pin) &&
		    ioapic_pin_entry(k, pin, &e))
			dirty |= routes_set(k, pin, &e);
	if (dirty)
		routes_sync(k);
	pthread_mutex_unlock(&k->lock);
}

bool kvm_routes_covers(const struct virq_kvm *k, uint32_t gsi)
{
	return gsi < k->limit && !is_ioapic_gsi(k, gsi);
}

bool kvm_routes_is_msi(struct virq_kvm *k, uint32_t gsi)
{
	return gsi < k->limit && !is_ioapic_gsi(k, gsi) && k->present[gsi];
}

int kvm_routes_init(struct virq_kvm *k)
{
	struct kvm_irq_routing_entry e;
	int ret;

	k->mirror = calloc(k->limit, sizeof(*k->mirror));
	k->present = calloc(k->limit, 1);
	k->table = calloc(1, sizeof(*k->table) + k->limit * sizeof(k->table->entries[0]));
	if (!k->mirror || !k->present || !k->table) {
		ret = virq_fail(ENOMEM, "kvm: out of memory for %u routes", k->limit);
		goto out;
	}
	pthread_mutex_lock(&k->lock);
	for (uint32_t gsi = 0; gsi < k->limit; gsi++) {
		if (is_ioapic_gsi(k, gsi) ? ioapic_pin_entry(k, gsi, &e)
					  : virq_gsi_entry(k, gsi, &e))
			routes_set(k, gsi, &e);
	}
	ret = routes_sync(k);
	pthread_mutex_unlock(&k->lock);
	if (ret)
		goto out;
	ret = virq_route_observe(k->vm, on_commit, k);
	if (ret)
		goto out;
	if (k->ioapic) {
		ret = ioapic_set_entry_hook(k->ioapic, on_entries, k);
		if (ret)
			virq_route_unobserve(k->vm, on_commit, k);
	}
out:
	if (ret)
		kvm_routes_fini(k);
	return ret;
}

void kvm_routes_fini(struct virq_kvm *k)
{
	if (k->ioapic)
		ioapic_set_entry_hook(k->ioapic, NULL, NULL);
	virq_route_unobserve(k->vm, on_commit, k);
	free(k->mirror);
	free(k->present);
	free(k->table);
	k->mirror = NULL;
	k->present = NULL;
	k->table = NULL;
}
