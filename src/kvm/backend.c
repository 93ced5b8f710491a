/* SPDX-License-Identifier: MIT */
/*
 * The KVM split-irqchip backend: LAPICs in the kernel, virq's IOAPIC and
 * PIC in userspace.  This file attaches it and carries interrupts across
 * the boundary: MSIs in (KVM_SIGNAL_MSI), EOIs out (KVM_EXIT_IOAPIC_EOI),
 * the PIC's ExtINT in (KVM_INTERRUPT).  routes.c mirrors the route table,
 * irqfd.c places irqfds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <virq/x86.h>

#include "kvm_internal.h"

int virq_kvm_attach(struct virq_vm *vm, const struct virq_kvm_config *cfg,
		    struct virq_kvm **out)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP };
	struct virq_route_stats rs;
	struct virq_kvm *k;
	int ret;

	if (!vm || !cfg || !out || cfg->vm_fd < 0)
		return virq_fail(EINVAL, "kvm attach: bad arguments");
	if (cfg->ioapic_pins > VIRQ_X86_IOAPIC_PINS)
		return virq_fail(EINVAL, "kvm attach: %u IOAPIC pins, at most %u",
				 cfg->ioapic_pins, VIRQ_X86_IOAPIC_PINS);
	if (ioctl(cfg->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0)
		return virq_fail(ENOTSUP, "kvm attach: KVM has no split irqchip");
	k = calloc(1, sizeof(*k));
	if (!k)
		return virq_fail(ENOMEM, "kvm attach: out of memory");
	k->vm = vm;
	k->vm_fd = cfg->vm_fd;
	k->ioapic_pins = cfg->ioapic_pins ? cfg->ioapic_pins : VIRQ_X86_IOAPIC_PINS;
	k->ioapic = cfg->ioapic;
	k->pic = cfg->pic;
	k->edge_eois = cfg->edge_eois;
	virq_route_get_stats(vm, &rs);
	k->limit = rs.limit < KVM_ROUTES_MAX ? (uint32_t)rs.limit : KVM_ROUTES_MAX;
	pthread_mutex_init(&k->lock, NULL);

	cap.args[0] = k->ioapic_pins;
	if (ioctl(k->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		ret = virq_fail(
			errno,
			errno == EEXIST
				? "kvm attach: the VM has an irqchip or vCPUs already"
				: "kvm attach: KVM_ENABLE_CAP(SPLIT_IRQCHIP): %s",
			strerror(errno));
		goto out;
	}
	ret = kvm_routes_init(k);
	if (!ret) {
		kvm_irqfd_accel_init(k);
		irqfd_accel_set(vm, &k->accel);
	}
out:
	if (ret) {
		pthread_mutex_destroy(&k->lock);
		free(k);
		return ret;
	}
	*out = k;
	return 0;
}

void virq_kvm_detach(struct virq_kvm *k)
{
	if (!k)
		return;
	/* MSI-X eventfds leave KVM while its routes are still mirrored */
	irqfd_accel_set(k->vm, NULL);
	config_lock(k->vm);
	kvm_routes_fini(k);
	config_unlock(k->vm);
	pthread_mutex_lock(&k->lock);
	kvm_irqfd_fini(k);
	pthread_mutex_unlock(&k->lock);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

int virq_kvm_signal_msi(struct virq_kvm *k, const struct virq_msi *msi)
{
	struct kvm_msi m = { 0 };
	int ret;

	if (!k || !msi)
		return virq_fail(EINVAL, "kvm signal_msi: NULL argument");
	m.address_lo = msi->address_lo;
	m.address_hi = msi->address_hi;
	m.data = msi->data;
	atomic_fetch_add_explicit(&k->msis, 1, memory_order_relaxed);
	ret = ioctl(k->vm_fd, KVM_SIGNAL_MSI, &m);
	if (ret >= 0)
		return ret;
	/* KVM turns "no LAPIC took it" (-1) into -EPERM on the way out */
	if (errno == EPERM)
		return -1;
	return virq_fail(errno, "kvm: KVM_SIGNAL_MSI: %s", strerror(errno));
}

int virq_kvm_ioapic_eoi(struct virq_kvm *k, uint8_t vector)
{
	if (!k)
		return virq_fail(EINVAL, "kvm ioapic_eoi: NULL backend");
	atomic_fetch_add_explicit(&k->eoi_exits, 1, memory_order_relaxed);
	if (!k->ioapic)
		return 0;
	/*
	 * KVM exits only for vectors the mirror marks level, and does not
	 * say whether the LAPIC's TMR bit was set: a level EOI clears remote
	 * IRR of level pins only, and merely notifies edge pins.
	 */
	return virq_ioapic_eoi(k->ioapic, vector, true);
}

int virq_kvm_pre_run(struct virq_kvm *k, int vcpu_fd, struct kvm_run *run)
{
	struct kvm_interrupt irq;
	int vector;

	if (!k || !run)
		return virq_fail(EINVAL, "kvm pre_run: NULL argument");
	run->request_interrupt_window = 0;
	if (!k->pic || virq_pic_output(k->pic) <= 0)
		return 0;
	/*
	 * KVM reports ready only if the vCPU can take an ExtINT now (IF set,
	 * no interrupt shadow, LINT0 in ExtINT mode or the LAPIC disabled);
	 * otherwise it exits with KVM_EXIT_IRQ_WINDOW_OPEN once it can.
	 */
	if (!run->ready_for_interrupt_injection) {
		run->request_interrupt_window = 1;
		return 0;
	}
	vector = virq_pic_read_irq(k->pic);
	if (vector < 0)
		return vector;
	irq.irq = (uint32_t)vector;
	if (ioctl(vcpu_fd, KVM_INTERRUPT, &irq) < 0)
		return virq_fail(errno, "kvm: KVM_INTERRUPT vector 0x%x: %s", vector,
				 strerror(errno));
	atomic_fetch_add_explicit(&k->extints, 1, memory_order_relaxed);
	/*
	 * Another request behind the one just injected: ask for the next
	 * window now, so that it is taken even if the guest makes no exit
	 * before it halts (auto-EOI).  KVM opens the window only once the
	 * injected vector has been taken and IF is set again.
	 */
	if (virq_pic_output(k->pic) > 0)
		run->request_interrupt_window = 1;
	return 1;
}

void virq_kvm_get_stats(struct virq_kvm *k, struct virq_kvm_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	st->route_syncs = k->route_syncs;
	st->routes = k->nr_present;
	st->msix_irqfds = atomic_load_explicit(&k->msix_irqfds, memory_order_relaxed);
	st->irqfds_moved = k->irqfds_moved;
	for (size_t i = 0; i < k->nr_bind; i++) {
		if (k->bind[i].in_kvm)
			st->kvm_irqfds++;
		else
			st->virq_irqfds++;
	}
	pthread_mutex_unlock(&k->lock);
	st->msis = atomic_load_explicit(&k->msis, memory_order_relaxed);
	st->eoi_exits = atomic_load_explicit(&k->eoi_exits, memory_order_relaxed);
	st->extints = atomic_load_explicit(&k->extints, memory_order_relaxed);
}
