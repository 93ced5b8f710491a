/* SPDX-License-Identifier: MIT */
/*
 * The KVM split-irqchip backend against this machine's KVM: a VM with one
 * vCPU (never run) whose in-kernel LAPIC is enabled, so that what virq
 * delivers shows up in the LAPIC's IRR (KVM_GET_LAPIC).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "kvm_fixture.h"

#define IOAPIC VIRQ_IOAPIC_DEFAULT_BASE

static void redir(uint32_t pin, uint64_t e)
{
	assert_int_equal(
		virq_io_write(X.v, 0, VIRQ_SPACE_MMIO, IOAPIC, 4, 0x10 + 2 * pin), 0);
	assert_int_equal(
		virq_io_write(X.v, 0, VIRQ_SPACE_MMIO, IOAPIC + 0x10, 4, (uint32_t)e), 0);
	assert_int_equal(
		virq_io_write(X.v, 0, VIRQ_SPACE_MMIO, IOAPIC, 4, 0x11 + 2 * pin), 0);
	assert_int_equal(virq_io_write(X.v, 0, VIRQ_SPACE_MMIO, IOAPIC + 0x10, 4,
				       (uint32_t)(e >> 32)),
			 0);
}

static void test_attach_rules(void **state)
{
	struct virq_kvm_config kc = { .vm_fd = X.vm };
	struct virq_kvm *k2;

	(void)state;
	/* the IOAPIC's 24 pins are mirrored from the start */
	assert_int_equal(stats().routes, 24);
	assert_int_equal(stats().route_syncs, 1);
	assert_int_equal(virq_kvm_attach(NULL, &kc, &k2), -EINVAL);
	kc.ioapic_pins = 25;
	assert_int_equal(virq_kvm_attach(X.v, &kc, &k2), -EINVAL);
	kc.ioapic_pins = 0;
	/* a vCPU exists now: KVM refuses a second split irqchip */
	assert_true(virq_kvm_attach(X.v, &kc, &k2) < 0);
	assert_true(strlen(virq_last_error()) > 0);
}

static void test_edge_pin_delivers(void **state)
{
	uint64_t before;

	(void)state;
	redir(20, 0x41); /* edge, fixed, physical dest 0 (GSI 20: IOAPIC only) */
	before = stats().msis;
	assert_int_equal(virq_set_irq(X.v, 20, 1, 0), 1);
	assert_int_equal(stats().msis, before + 1);
	assert_true(lapic_irr(0x41));
	virq_set_irq(X.v, 20, 0, 0);
	/* no APIC with id 5: not delivered (this KVM answers 0 until a vCPU
	 * has run, -1 after) */
	redir(20, 0x0500000000000042ull);
	assert_true(virq_set_irq(X.v, 20, 1, 0) <= 0);
	virq_set_irq(X.v, 20, 0, 0);
	clear_irr();
}

static void test_entry_writes_sync_only_changes(void **state)
{
	uint64_t syncs;

	(void)state;
	redir(7, 0x10037);
	syncs = stats().route_syncs;
	redir(7, 0x10037); /* the same entry again */
	assert_int_equal(stats().route_syncs, syncs);
	redir(7, 0x8037); /* unmasked, level: KVM must learn it */
	assert_true(stats().route_syncs > syncs);
}

static void test_level_eoi(void **state)
{
	uint64_t e = 0;

	(void)state;
	redir(21, 0x8051); /* level, vector 0x51 */
	assert_int_equal(virq_set_irq(X.v, 21, 1, 0), 1);
	assert_true(lapic_irr(0x51));
	assert_int_equal(virq_device_get_attr(X.io, VIRQ_IOAPIC_GRP_REDIR, 21, &e, 8), 0);
	assert_true(e & (1u << 14)); /* remote IRR */
	assert_int_equal(virq_set_irq(X.v, 21, 1, 0), -1);
	clear_irr();
	/* KVM_EXIT_IOAPIC_EOI for 0x51: remote IRR clears; the line is
	 * still high, so it is delivered again at once */
	assert_int_equal(virq_kvm_ioapic_eoi(X.k, 0x51), 0);
	assert_true(lapic_irr(0x51));
	assert_int_equal(virq_device_get_attr(X.io, VIRQ_IOAPIC_GRP_REDIR, 21, &e, 8), 0);
	assert_true(e & (1u << 14));
	virq_set_irq(X.v, 21, 0, 0);
	assert_int_equal(virq_kvm_ioapic_eoi(X.k, 0x51), 0);
	assert_int_equal(virq_device_get_attr(X.io, VIRQ_IOAPIC_GRP_REDIR, 21, &e, 8), 0);
	assert_false(e & (1u << 14));
	assert_int_equal(stats().eoi_exits, 2);
	clear_irr();
}

static void set_msi_route(uint32_t gsi, uint8_t vector)
{
	struct virq_route_txn *t;
	struct virq_route_entry e = { .gsi = gsi, .kind = VIRQ_ROUTE_MSI };

	e.u.msi.address_lo = 0xfee00000;
	e.u.msi.data = vector;
	assert_int_equal(virq_route_begin(X.v, &t), 0);
	assert_int_equal(virq_route_remove_gsi(t, gsi), 0);
	assert_int_equal(virq_route_add(t, &e), 0);
	assert_int_equal(virq_route_commit(t), 0);
}

static void test_msi_irqfd_in_kvm_then_moved(void **state)
{
	struct virq_route_txn *t;
	struct virq_route_entry pin = { .gsi = 40, .kind = VIRQ_ROUTE_IRQCHIP };
	uint64_t syncs, one = 1, msis;
	int efd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_true(efd >= 0);
	syncs = stats().route_syncs;
	set_msi_route(40, 0x61);
	assert_int_equal(stats().route_syncs, syncs + 1);
	assert_int_equal(stats().routes, 25);
	assert_int_equal(virq_kvm_irqfd_bind(X.k, efd, 40, 0, -1), 0);
	assert_int_equal(virq_kvm_irqfd_bind(X.k, efd, 40, 0, -1), -EBUSY);
	assert_int_equal(stats().kvm_irqfds, 1);
	/* the kernel delivers it: no KVM_SIGNAL_MSI from virq */
	msis = stats().msis;
	assert_int_equal(write(efd, &one, 8), 8);
	assert_true(lapic_irr(0x61));
	assert_int_equal(stats().msis, msis);
	clear_irr();

	/* the route becomes IOAPIC pin 6: the irqfd moves to virq's engine */
	redir(6, 0x46);
	pin.u.irqchip.chip = VIRQ_X86_CHIP_IOAPIC;
	pin.u.irqchip.pin = 6;
	assert_int_equal(virq_route_begin(X.v, &t), 0);
	assert_int_equal(virq_route_remove_gsi(t, 40), 0);
	assert_int_equal(virq_route_add(t, &pin), 0);
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(stats().routes, 24);
	assert_int_equal(stats().irqfds_moved, 1);
	assert_int_equal(stats().kvm_irqfds, 0);
	assert_int_equal(stats().virq_irqfds, 1);
	assert_int_equal(write(efd, &one, 8), 8);
	assert_true(lapic_irr(0x46));
	assert_int_equal(virq_kvm_irqfd_unbind(X.k, efd, 40), 0);
	assert_int_equal(virq_kvm_irqfd_unbind(X.k, efd, 40), 0);
	assert_int_equal(stats().virq_irqfds, 0);
	close(efd);
	clear_irr();
}

static void test_invisible_commits_do_not_sync(void **state)
{
	struct virq_route_txn *t;
	struct virq_route_entry pin = { .gsi = 50, .kind = VIRQ_ROUTE_IRQCHIP };
	uint64_t syncs = stats().route_syncs;

	(void)state;
	pin.u.irqchip.chip = VIRQ_X86_CHIP_IOAPIC;
	pin.u.irqchip.pin = 9;
	assert_int_equal(virq_route_begin(X.v, &t), 0);
	assert_int_equal(virq_route_add(t, &pin), 0);
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(stats().route_syncs, syncs);
	/* a batch of MSI changes: one KVM_SET_GSI_ROUTING */
	assert_int_equal(virq_route_begin(X.v, &t), 0);
	for (uint32_t g = 100; g < 164; g++) {
		struct virq_route_entry e = { .gsi = g, .kind = VIRQ_ROUTE_MSI };

		e.u.msi.address_lo = 0xfee00000;
		e.u.msi.data = 0x70;
		assert_int_equal(virq_route_add(t, &e), 0);
	}
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(stats().route_syncs, syncs + 1);
	assert_int_equal(stats().routes, 24 + 64);
}

static void test_resample_and_pins_stay_in_virq(void **state)
{
	int efd = eventfd(0, EFD_CLOEXEC), rfd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	set_msi_route(41, 0x62);
	assert_int_equal(virq_kvm_irqfd_bind(X.k, efd, 3, 0, -1), 0);
	assert_int_equal(virq_kvm_irqfd_unbind(X.k, efd, 3), 0);
	/* resample needs virq's engine even on an MSI GSI */
	assert_int_equal(virq_kvm_irqfd_bind(X.k, rfd, 41, VIRQ_IRQFD_RESAMPLE, efd), 0);
	assert_int_equal(stats().virq_irqfds, 1);
	assert_int_equal(stats().kvm_irqfds, 0);
	assert_int_equal(virq_kvm_irqfd_unbind(X.k, rfd, 41), 0);
	close(efd);
	close(rfd);
}

static void test_extint_window(void **state)
{
	struct kvm_run run;
	uint8_t isr;

	(void)state;
	memset(&run, 0, sizeof(run));
	assert_int_equal(virq_kvm_pre_run(X.k, X.vcpu, &run), 0);
	assert_int_equal(run.request_interrupt_window, 0);
	/* PIC: vectors 0x20/0x28, IRQ 3 raised */
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x20, 1, 0x11);
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x21, 1, 0x20);
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x21, 1, 0x04);
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x21, 1, 0x01);
	virq_set_irq(X.v, 3, 1, 0);
	/* not ready: ask for the window */
	assert_int_equal(virq_kvm_pre_run(X.k, X.vcpu, &run), 0);
	assert_int_equal(run.request_interrupt_window, 1);
	/* ready: INTA and KVM_INTERRUPT */
	run.ready_for_interrupt_injection = 1;
	assert_int_equal(virq_kvm_pre_run(X.k, X.vcpu, &run), 1);
	assert_int_equal(run.request_interrupt_window, 0);
	assert_int_equal(stats().extints, 1);
	assert_int_equal(
		virq_device_get_attr(X.pic, VIRQ_PIC_GRP_MASTER, VIRQ_PIC_ISR, &isr, 1),
		0);
	assert_int_equal(isr, 0x08);
	virq_set_irq(X.v, 3, 0, 0);
}

/* A request behind the one injected (auto-EOI: nothing in service blocks
 * it): the injection asks for the next window itself.  One injection per
 * test: the vCPU never runs, so KVM holds the first vector. */
static void test_extint_next_window(void **state)
{
	struct kvm_run run;

	(void)state;
	memset(&run, 0, sizeof(run));
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x20, 1, 0x11);
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x21, 1, 0x20);
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x21, 1, 0x04);
	virq_io_write(X.v, 0, VIRQ_SPACE_PIO, 0x21, 1, 0x03);
	virq_set_irq(X.v, 1, 1, 0);
	virq_set_irq(X.v, 4, 1, 0);
	run.ready_for_interrupt_injection = 1;
	assert_int_equal(virq_kvm_pre_run(X.k, X.vcpu, &run), 1);
	assert_int_equal(run.request_interrupt_window, 1);
	virq_set_irq(X.v, 1, 0, 0);
	virq_set_irq(X.v, 4, 0, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_attach_rules),
		T(test_edge_pin_delivers),
		T(test_entry_writes_sync_only_changes),
		T(test_level_eoi),
		T(test_msi_irqfd_in_kvm_then_moved),
		T(test_invisible_commits_do_not_sync),
		T(test_resample_and_pins_stay_in_virq),
		T(test_extint_window),
		T(test_extint_next_window),
	};

	return RUN_KVM_TESTS(tests);
}
