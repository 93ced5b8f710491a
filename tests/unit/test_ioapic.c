/* SPDX-License-Identifier: MIT */
/* The IOAPIC model against spec/x86.md (KVM's in-kernel IOAPIC). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#define BASE VIRQ_IOAPIC_DEFAULT_BASE

struct tx {
	struct virq_vm *vm;
	struct virq_device *io;
	unsigned msis;
	struct virq_msi last;
	int result; /* what the "LAPICs" answer */
	pthread_mutex_t lock;
};

static int sink(void *opaque, const struct virq_msi *m)
{
	struct tx *t = opaque;

	pthread_mutex_lock(&t->lock);
	t->msis++;
	t->last = *m;
	pthread_mutex_unlock(&t->lock);
	return t->result;
}

static unsigned msis(struct tx *t)
{
	unsigned n;

	pthread_mutex_lock(&t->lock);
	n = t->msis;
	pthread_mutex_unlock(&t->lock);
	return n;
}

static int setup_args(void **state, const struct virq_ioapic_args *args, uint32_t workers)
{
	static struct tx t;
	struct virq_vm_config cfg = {
		.nr_vcpus = 2,
		.ops = { .msi = sink },
		.opaque = &t,
		.irqfd_workers = workers,
	};
	struct virq_route_entry e[24];

	memset(&t, 0, sizeof(t));
	pthread_mutex_init(&t.lock, NULL);
	t.result = 1;
	assert_int_equal(virq_ioapic_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &t.vm), 0);
	assert_int_equal(virq_device_create(t.vm, "ioapic", args, &t.io), 0);
	for (uint32_t i = 0; i < 24; i++)
		e[i] = chip_entry(i, VIRQ_X86_CHIP_IOAPIC, i);
	assert_int_equal(virq_route_set_table(t.vm, e, 24), 0);
	*state = &t;
	return 0;
}

static int setup(void **state)
{
	return setup_args(state, NULL, VIRQ_IRQFD_POLL);
}

static int teardown(void **state)
{
	struct tx *t = *state;

	virq_vm_destroy(t->vm);
	pthread_mutex_destroy(&t->lock);
	return 0;
}

static void wr(struct tx *t, uint64_t off, uint32_t v)
{
	assert_int_equal(virq_io_write(t->vm, 0, VIRQ_SPACE_MMIO, BASE + off, 4, v), 0);
}

static uint32_t rd(struct tx *t, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(virq_io_read(t->vm, 0, VIRQ_SPACE_MMIO, BASE + off, 4, &v), 0);
	return (uint32_t)v;
}

static uint32_t ind_read(struct tx *t, uint32_t reg)
{
	wr(t, 0x00, reg);
	return rd(t, 0x10);
}

static void ind_write(struct tx *t, uint32_t reg, uint32_t v)
{
	wr(t, 0x00, reg);
	wr(t, 0x10, v);
}

static uint64_t entry(struct tx *t, unsigned pin)
{
	return ind_read(t, 0x10 + 2 * pin) | (uint64_t)ind_read(t, 0x11 + 2 * pin) << 32;
}

static void set_entry(struct tx *t, unsigned pin, uint64_t e)
{
	ind_write(t, 0x11 + 2 * pin, (uint32_t)(e >> 32));
	ind_write(t, 0x10 + 2 * pin, (uint32_t)e);
}

#define LEVEL (1ull << 15)
#define MASKED (1ull << 16)
#define RIRR (1ull << 14)
#define DEST(d) ((uint64_t)(d) << 56)

static void test_registers(void **state)
{
	struct tx *t = *state;
	uint64_t v;

	assert_int_equal(ind_read(t, 0x01), 0x00170011);
	ind_write(t, 0x01, 0);
	assert_int_equal(ind_read(t, 0x01), 0x00170011);
	ind_write(t, 0x00, 0x0a000000);
	assert_int_equal(ind_read(t, 0x00), 0x0a000000);
	assert_int_equal(ind_read(t, 0x02), 0x0a000000);
	ind_write(t, 0x00, 0xffffffff); /* only bits 27:24 */
	assert_int_equal(ind_read(t, 0x00), 0x0f000000);
	/* every entry starts masked */
	for (unsigned pin = 0; pin < 24; pin++)
		assert_int_equal(entry(t, pin), MASKED);
	/* beyond the table: all ones, and a guest error */
	uint64_t before = virq_vm_guest_errors(t->vm);
	assert_int_equal(ind_read(t, 0x10 + 48), 0xffffffff);
	assert_int_equal(ind_read(t, 0x05), 0xffffffff);
	assert_int_equal(virq_vm_guest_errors(t->vm), before + 2);
	/* IOREGSEL is 8 bits; sub-dword accesses work */
	wr(t, 0x00, 0x1234);
	assert_int_equal(rd(t, 0x00), 0x34);
	assert_int_equal(virq_io_write(t->vm, 0, VIRQ_SPACE_MMIO, BASE, 1, 0x01), 0);
	assert_int_equal(virq_io_read(t->vm, 0, VIRQ_SPACE_MMIO, BASE + 0x10, 2, &v), 0);
	assert_int_equal(v, 0x0011);
	/* other offsets read 0 and count as guest errors */
	assert_int_equal(rd(t, 0x20), 0);
	/* writes never set remote IRR or delivery status */
	set_entry(t, 3, MASKED | LEVEL | RIRR | (1ull << 12) | 0x33);
	assert_int_equal(entry(t, 3), MASKED | LEVEL | 0x33);
}

static void test_edge(void **state)
{
	struct tx *t = *state;

	set_entry(t, 4, DEST(1) | 0x30);
	assert_int_equal(virq_set_irq(t->vm, 4, 1, 0), 1);
	assert_int_equal(msis(t), 1);
	assert_int_equal(t->last.address_lo, 0xfee01000);
	assert_int_equal(t->last.data, 0x4030); /* assert bit, edge, fixed */
	/* asserting a line already high: coalesced */
	assert_int_equal(virq_set_irq(t->vm, 4, 1, 0), 0);
	assert_int_equal(msis(t), 1);
	assert_int_equal(virq_set_irq(t->vm, 4, 0, 0), 1);
	assert_int_equal(virq_set_irq(t->vm, 4, 1, 0), 1);
	assert_int_equal(msis(t), 2);
	/* the "LAPIC" result is passed back: 0 = coalesced there */
	t->result = 0;
	virq_set_irq(t->vm, 4, 0, 0);
	assert_int_equal(virq_set_irq(t->vm, 4, 1, 0), 0);
	/* logical destination mode and other delivery modes reach the MSI */
	set_entry(t, 5, DEST(0x0f) | (1ull << 11) | (1ull << 8) | 0x31);
	t->result = 2;
	assert_int_equal(virq_set_irq(t->vm, 5, 1, 0), 2);
	assert_int_equal(t->last.address_lo, 0xfee0f004);
	assert_int_equal(t->last.data, 0x4131);
}

static void test_masked(void **state)
{
	struct tx *t = *state;

	/* masked: -1, but the line is recorded */
	set_entry(t, 6, MASKED | LEVEL | 0x40);
	assert_int_equal(virq_set_irq(t->vm, 6, 1, 0), -1);
	assert_int_equal(msis(t), 0);
	/* unmasking a level pin with the line high delivers */
	set_entry(t, 6, LEVEL | 0x40);
	assert_int_equal(msis(t), 1);
	assert_int_equal(t->last.data, 0xc040);
	assert_true(entry(t, 6) & RIRR);

	/* an edge latched while masked is not delivered on unmask (KVM) */
	set_entry(t, 7, MASKED | 0x41);
	assert_int_equal(virq_set_irq(t->vm, 7, 1, 0), -1);
	set_entry(t, 7, 0x41);
	assert_int_equal(msis(t), 1);
	/* the line is still latched: asserting again is coalesced */
	assert_int_equal(virq_set_irq(t->vm, 7, 1, 0), 0);
}

static void test_level_eoi(void **state)
{
	struct tx *t = *state;

	set_entry(t, 9, DEST(0) | LEVEL | 0x50);
	assert_int_equal(virq_set_irq(t->vm, 9, 1, 0), 1);
	assert_true(entry(t, 9) & RIRR);
	/* in service: further asserts refused */
	assert_int_equal(virq_set_irq(t->vm, 9, 1, 0), -1);
	assert_int_equal(msis(t), 1);
	/* EOI with the line still high: delivered again at once */
	assert_int_equal(virq_ioapic_eoi(t->io, 0x50, true), 0);
	assert_int_equal(msis(t), 2);
	assert_true(entry(t, 9) & RIRR);
	/* an EOI of another vector, or an edge EOI, leaves it */
	virq_ioapic_eoi(t->io, 0x51, true);
	virq_ioapic_eoi(t->io, 0x50, false);
	assert_true(entry(t, 9) & RIRR);
	assert_int_equal(msis(t), 2);
	/* line low, then EOI: remote IRR clears, nothing sent */
	assert_int_equal(virq_set_irq(t->vm, 9, 0, 0), 1);
	virq_ioapic_eoi(t->io, 0x50, true);
	assert_false(entry(t, 9) & RIRR);
	assert_int_equal(msis(t), 2);
	/* "no APIC took it" still marks the pin in service, as KVM does */
	t->result = -1;
	assert_int_equal(virq_set_irq(t->vm, 9, 1, 0), -1);
	assert_true(entry(t, 9) & RIRR);
	/* making the entry edge-triggered clears remote IRR */
	set_entry(t, 9, 0x50);
	assert_false(entry(t, 9) & RIRR);
}

static void count_ack(void *opaque, uint32_t gsi)
{
	(void)gsi;
	++*(unsigned *)opaque;
}

static void test_eoi_notifies_edge_pins(void **state)
{
	struct tx *t = *state;
	unsigned acks = 0;

	set_entry(t, 11, 0x60);
	set_entry(t, 12, LEVEL | 0x60);
	assert_int_equal(virq_ack_notifier_add(t->vm, 11, count_ack, &acks), 0);
	assert_int_equal(virq_ack_notifier_add(t->vm, 12, count_ack, &acks), 0);
	virq_ioapic_eoi(t->io, 0x60, false);
	assert_int_equal(acks, 2);
	virq_ioapic_eoi(t->io, 0x61, true);
	assert_int_equal(acks, 2);
}

/* A level EOI (a split irqchip's EOI exit carries no TMR bit) must not
 * re-deliver an edge pin with that vector whose line is still high. */
static void test_level_eoi_leaves_edge_pins(void **state)
{
	struct tx *t = *state;
	unsigned before;

	set_entry(t, 13, 0x62);
	set_entry(t, 14, LEVEL | 0x62);
	assert_int_equal(virq_set_irq(t->vm, 13, 1, 0), 1);
	before = msis(t);
	virq_ioapic_eoi(t->io, 0x62, true);
	virq_ioapic_eoi(t->io, 0x62, true);
	assert_int_equal(msis(t), before);
	virq_set_irq(t->vm, 13, 0, 0);
}

static void test_storm_damper(void **state)
{
	struct virq_ioapic_args a = { .storm_max = 5, .storm_delay_us = 20000 };
	struct tx *t;
	unsigned before;

	setup_args(state, &a, VIRQ_IRQFD_POLL);
	t = *state;
	set_entry(t, 2, LEVEL | 0x70);
	assert_int_equal(virq_set_irq(t->vm, 2, 1, 0), 1);
	for (int i = 0; i < 4; i++)
		virq_ioapic_eoi(t->io, 0x70, true);
	assert_int_equal(msis(t), 5);
	/* the fifth back-to-back re-delivery waits */
	virq_ioapic_eoi(t->io, 0x70, true);
	before = msis(t);
	assert_int_equal(before, 5);
	for (int i = 0; i < 200 && msis(t) == before; i++)
		usleep(1000);
	assert_int_equal(msis(t), 6);
	teardown(state);
}

static void test_stale_irr_resample(void **state)
{
	struct tx *t = *state;
	int e = eventfd(0, EFD_NONBLOCK), r = eventfd(0, EFD_NONBLOCK);
	uint64_t one = 1, n = 0;

	set_entry(t, 10, MASKED | LEVEL | 0x80);
	assert_int_equal(virq_irqfd_bind(t->vm, e, 10, VIRQ_IRQFD_RESAMPLE, r), 0);
	assert_int_equal(write(e, &one, 8), 8);
	assert_int_equal(virq_irqfd_dispatch(t->vm), 1);
	assert_int_equal(msis(t), 0);
	/* unmask with the latched level: the back-end is asked, no MSI */
	set_entry(t, 10, LEVEL | 0x80);
	assert_int_equal(msis(t), 0);
	assert_int_equal(read(r, &n, 8), 8);
	assert_int_equal(n, 1);
	/* the back-end re-asserts (its line really is high): delivered */
	virq_set_irq(t->vm, 10, 0, VIRQ_SOURCE_RESAMPLE);
	assert_int_equal(write(e, &one, 8), 8);
	assert_int_equal(virq_irqfd_dispatch(t->vm), 1);
	assert_int_equal(msis(t), 1);
	/* the guest's EOI runs the resampler: line lowered, fd signalled */
	virq_ioapic_eoi(t->io, 0x80, true);
	assert_int_equal(read(r, &n, 8), 8);
	assert_int_equal(msis(t), 1);
	assert_false(entry(t, 10) & RIRR);
	close(e);
	close(r);
}

static void test_eoi_register(void **state)
{
	struct virq_ioapic_args a = { .version = 0x20 };
	struct tx *t;

	setup_args(state, &a, VIRQ_IRQFD_POLL);
	t = *state;
	assert_int_equal(ind_read(t, 0x01), 0x00170020);
	set_entry(t, 1, LEVEL | 0x90);
	virq_set_irq(t->vm, 1, 1, 0);
	assert_true(entry(t, 1) & RIRR);
	virq_set_irq(t->vm, 1, 0, 0);
	wr(t, 0x40, 0x90);
	assert_false(entry(t, 1) & RIRR);
	teardown(state);

	/* version 0x11 has no EOI register */
	setup(state);
	t = *state;
	set_entry(t, 1, LEVEL | 0x90);
	virq_set_irq(t->vm, 1, 1, 0);
	virq_set_irq(t->vm, 1, 0, 0);
	wr(t, 0x40, 0x90);
	assert_true(entry(t, 1) & RIRR);
}

/* Every attribute of @from but the base copied into @to (no SYNC). */
static void copy_attrs(struct virq_device *from, struct virq_device *to)
{
	for (uint32_t g = VIRQ_IOAPIC_GRP_REG; g <= VIRQ_IOAPIC_GRP_EOI; g++) {
		for (uint64_t attr = 0; attr < 24; attr++) {
			uint64_t buf = 0;
			size_t sz =
				g == VIRQ_IOAPIC_GRP_REDIR || g == VIRQ_IOAPIC_GRP_LINE
					? 8
					: 4;

			if (virq_device_has_attr(from, g, attr))
				continue;
			if (g == VIRQ_IOAPIC_GRP_REG && attr == VIRQ_IOAPIC_REG_BASE)
				continue; /* the copy lives elsewhere */
			assert_int_equal(virq_device_get_attr(from, g, attr, &buf, sz),
					 0);
			assert_int_equal(virq_device_set_attr(to, g, attr, &buf, sz), 0);
		}
	}
}

static void test_attributes(void **state)
{
	struct tx *t = *state;
	struct virq_ioapic_args a = { .base = 0xfec10000, .chip = 5 };
	struct virq_device *other;
	uint64_t v64;
	uint32_t v32;

	set_entry(t, 8, DEST(3) | LEVEL | 0xa0);
	ind_write(t, 0x00, 0x05000000);
	virq_set_irq(t->vm, 8, 1, 0);
	virq_set_irq(t->vm, 2, 1, 0);
	wr(t, 0x00, 0x21);

	/* copy every attribute into a second IOAPIC */
	assert_int_equal(virq_device_create(t->vm, "ioapic", &a, &other), 0);
	copy_attrs(t->io, other);
	assert_int_equal(virq_io_read(t->vm, 0, VIRQ_SPACE_MMIO, 0xfec10010, 4, &v64), 0);
	assert_int_equal(v64, (uint32_t)(DEST(3) >> 32)); /* ioregsel 0x21 came over */
	assert_int_equal(virq_device_get_attr(other, VIRQ_IOAPIC_GRP_REDIR, 8, &v64, 8),
			 0);
	assert_int_equal(v64, DEST(3) | LEVEL | RIRR | 0xa0);
	assert_int_equal(virq_device_get_attr(other, VIRQ_IOAPIC_GRP_REG,
					      VIRQ_IOAPIC_REG_IRR, &v32, 4),
			 0);
	assert_int_equal(v32, (1u << 8) | (1u << 2));
	assert_int_equal(virq_device_get_attr(other, VIRQ_IOAPIC_GRP_REG,
					      VIRQ_IOAPIC_REG_ID, &v32, 4),
			 0);
	assert_int_equal(v32, 5);
	assert_int_equal(virq_device_get_attr(other, VIRQ_IOAPIC_GRP_LINE, 8, &v64, 8),
			 0);
	assert_int_equal(v64, 1);
	/* the restored pin behaves as the original: in service until EOI */
	virq_ioapic_eoi(other, 0xa0, true);
	assert_int_equal(virq_device_get_attr(other, VIRQ_IOAPIC_GRP_REDIR, 8, &v64, 8),
			 0);
	assert_true(v64 & RIRR); /* line still high: delivered again */

	/* errors */
	assert_int_equal(virq_device_has_attr(t->io, VIRQ_IOAPIC_GRP_REDIR, 24), -ENXIO);
	assert_int_equal(virq_device_get_attr(t->io, VIRQ_IOAPIC_GRP_REDIR, 0, &v32, 4),
			 -EINVAL);
	v32 = 16;
	assert_int_equal(virq_device_set_attr(t->io, VIRQ_IOAPIC_GRP_REG,
					      VIRQ_IOAPIC_REG_ID, &v32, 4),
			 -EINVAL);
	v32 = 1u << 24;
	assert_int_equal(virq_device_set_attr(t->io, VIRQ_IOAPIC_GRP_REG,
					      VIRQ_IOAPIC_REG_IRR, &v32, 4),
			 -EINVAL);
	/* the base moves the MMIO window */
	v64 = 0xfec20000;
	assert_int_equal(virq_device_set_attr(other, VIRQ_IOAPIC_GRP_REG,
					      VIRQ_IOAPIC_REG_BASE, &v64, 8),
			 0);
	assert_int_equal(virq_io_read(t->vm, 0, VIRQ_SPACE_MMIO, 0xfec20000, 4, &v64), 0);
	assert_int_equal(virq_io_read(t->vm, 0, VIRQ_SPACE_MMIO, 0xfec10000, 4, &v64),
			 -ENOENT);
}

/*
 * SYNC after a restore delivers what is pending, as KVM_SET_IRQCHIP's
 * re-assertion of IRR does, but not an edge that was delivered before the
 * save (REG_IRR_DELIVERED): without that attribute pin 4 would go twice.
 */
static void test_sync_restore(void **state)
{
	struct tx *t = *state;
	struct virq_ioapic_args a = { .base = 0xfec10000, .chip = 5 };
	struct virq_device *other;
	uint32_t v32;

	set_entry(t, 4, 0x34);		/* edge, delivered */
	set_entry(t, 5, MASKED | 0x35); /* edge, latched while masked */
	set_entry(t, 6, LEVEL | 0x36);	/* level, in service */
	assert_int_equal(virq_set_irq(t->vm, 4, 1, 0), 1);
	assert_int_equal(virq_set_irq(t->vm, 5, 1, 0), -1);
	assert_int_equal(virq_set_irq(t->vm, 6, 1, 0), 1);
	set_entry(t, 5, 0x35); /* unmasked: not delivered (KVM) */
	assert_int_equal(msis(t), 2);
	assert_int_equal(virq_device_get_attr(t->io, VIRQ_IOAPIC_GRP_REG,
					      VIRQ_IOAPIC_REG_IRR_DELIVERED, &v32, 4),
			 0);
	assert_int_equal(v32, 1u << 4);

	assert_int_equal(virq_device_create(t->vm, "ioapic", &a, &other), 0);
	copy_attrs(t->io, other);
	assert_int_equal(msis(t), 2); /* setting delivers nothing */
	assert_int_equal(virq_device_get_attr(other, VIRQ_IOAPIC_GRP_REG,
					      VIRQ_IOAPIC_REG_IRR_DELIVERED, &v32, 4),
			 0);
	assert_int_equal(v32, 1u << 4);
	assert_int_equal(virq_device_set_attr(other, VIRQ_IOAPIC_GRP_SYNC, 0, NULL, 0),
			 0);
	assert_int_equal(msis(t), 3); /* pin 5 alone */
	assert_int_equal(t->last.data & 0xff, 0x35);
	assert_int_equal(virq_device_get_attr(other, VIRQ_IOAPIC_GRP_SYNC, 0, NULL, 0),
			 -EPERM);
}

static void test_reset(void **state)
{
	struct tx *t = *state;

	set_entry(t, 3, LEVEL | 0x44);
	virq_set_irq(t->vm, 3, 1, 0);
	ind_write(t, 0x00, 0x07000000);
	assert_int_equal(virq_device_reset(t->io), 0);
	/* masked, other fields kept (as KVM); ID, IRR cleared */
	assert_int_equal(entry(t, 3) & ~RIRR, MASKED | LEVEL | 0x44);
	assert_int_equal(ind_read(t, 0x00), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_eoi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eoi_notifies_edge_pins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_level_eoi_leaves_edge_pins, setup,
						teardown),
		cmocka_unit_test(test_storm_damper),
		cmocka_unit_test_setup_teardown(test_stale_irr_resample, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eoi_register, NULL, teardown),
		cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
