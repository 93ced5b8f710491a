/* SPDX-License-Identifier: MIT */
/* The LAPIC acceptance model against KVM's arch/x86/kvm/lapic.c rules. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

#define BASE VIRQ_LAPIC_DEFAULT_BASE
#define NR 4u

#define LEVEL (1ull << 15)
#define MASKED (1ull << 16)
#define RIRR (1ull << 14)

struct lx {
	struct virq_vm *vm;
	struct virq_device *lapic, *ioapic, *pic;
	int line[NR][VIRQ_CPU_LINE_MAX]; /* atomic */
	unsigned changes;		 /* atomic */
};

static void cpu_line(void *opaque, uint32_t vcpu, enum virq_cpu_line line, int level)
{
	struct lx *x = opaque;

	if (vcpu < NR) {
		__atomic_store_n(&x->line[vcpu][line], level, __ATOMIC_RELAXED);
		__atomic_add_fetch(&x->changes, 1, __ATOMIC_RELAXED);
	}
}

static void quiet(void *opaque, const char *device, const char *msg)
{
	(void)opaque, (void)device, (void)msg;
}

static int line(struct lx *x, uint32_t vcpu, enum virq_cpu_line l)
{
	return __atomic_load_n(&x->line[vcpu][l], __ATOMIC_RELAXED);
}

/* A VM with an IOAPIC, a PIC and the LAPIC model wired to both. */
static void make(struct lx *x)
{
	struct virq_vm_config cfg = {
		.nr_vcpus = NR,
		.ops = { .cpu_line = cpu_line, .guest_error = quiet },
		.opaque = x,
		.irqfd_workers = VIRQ_IRQFD_POLL,
	};
	struct virq_lapic_args a = { 0 };
	struct virq_pic_args pa = { .vcpu = NR - 1 }; /* INT observed via LINT0 */

	memset(x, 0, sizeof(*x));
	assert_int_equal(virq_lapic_register(), 0);
	assert_int_equal(virq_ioapic_register(), 0);
	assert_int_equal(virq_pic_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &x->vm), 0);
	assert_int_equal(virq_device_create(x->vm, "ioapic", NULL, &x->ioapic), 0);
	assert_int_equal(virq_device_create(x->vm, "i8259", &pa, &x->pic), 0);
	a.ioapic = x->ioapic;
	a.pic = x->pic;
	assert_int_equal(virq_device_create(x->vm, "lapic", &a, &x->lapic), 0);
	assert_int_equal(virq_x86_default_routes(x->vm), 0);
}

static int setup(void **state)
{
	static struct lx x;

	make(&x);
	*state = &x;
	return 0;
}

static int teardown(void **state)
{
	struct lx *x = *state;

	virq_vm_destroy(x->vm);
	return 0;
}

static void wr(struct lx *x, uint32_t vcpu, uint32_t off, uint32_t v)
{
	assert_int_equal(virq_io_write(x->vm, vcpu, VIRQ_SPACE_MMIO, BASE + off, 4, v),
			 0);
}

static uint32_t rd(struct lx *x, uint32_t vcpu, uint32_t off)
{
	uint64_t v = 0;

	assert_int_equal(virq_io_read(x->vm, vcpu, VIRQ_SPACE_MMIO, BASE + off, 4, &v),
			 0);
	return (uint32_t)v;
}

static uint32_t reg(struct virq_device *lapic, uint32_t vcpu, uint32_t off)
{
	uint32_t v = 0;

	assert_int_equal(virq_device_get_attr(lapic, VIRQ_LAPIC_GRP_REG,
					      (uint64_t)vcpu << 32 | off, &v, 4),
			 0);
	return v;
}

static uint32_t st(struct virq_device *lapic, uint32_t vcpu, uint32_t idx)
{
	uint32_t v = 0;

	assert_int_equal(virq_device_get_attr(lapic, VIRQ_LAPIC_GRP_STATE,
					      (uint64_t)vcpu << 32 | idx, &v, 4),
			 0);
	return v;
}

static bool vec_in(struct virq_device *lapic, uint32_t vcpu, uint32_t base, unsigned vec)
{
	return reg(lapic, vcpu, base + (vec / 32) * 0x10) & (1u << (vec % 32));
}

#define IRR 0x200
#define ISR 0x100
#define TMR 0x180

static int msi(struct lx *x, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
	       bool level, bool rh)
{
	struct virq_msi m = { 0 };

	m.address_lo = 0xfee00000u | dest << 12 | (logical ? 4u : 0) | (rh ? 8u : 0);
	m.data = vector | mode << 8 | 1u << 14 | (level ? 1u << 15 : 0);
	return virq_signal_msi(x->vm, &m);
}

static int fixed(struct lx *x, uint32_t dest, uint8_t vector)
{
	return msi(x, dest, false, VIRQ_X86_DM_FIXED, vector, false, false);
}

static void enable(struct lx *x, uint32_t vcpu)
{
	wr(x, vcpu, 0xf0, 0x1ff);
}

static void enable_all(struct lx *x)
{
	for (uint32_t v = 0; v < NR; v++)
		enable(x, v);
}

/* ---- tests ---- */

static void test_reset_values(void **state)
{
	struct lx *x = *state;

	for (uint32_t v = 0; v < NR; v++) {
		assert_int_equal(rd(x, v, 0x20), v << 24);
		assert_int_equal(rd(x, v, 0x30), 0x00050014);
		assert_int_equal(rd(x, v, 0x80), 0);
		assert_int_equal(rd(x, v, 0x90), 0);
		assert_int_equal(rd(x, v, 0xa0), 0);
		assert_int_equal(rd(x, v, 0xd0), 0);
		assert_int_equal(rd(x, v, 0xe0), 0xffffffff);
		assert_int_equal(rd(x, v, 0xf0), 0xff);
		for (uint32_t i = 0; i < 8; i++) {
			assert_int_equal(rd(x, v, ISR + i * 0x10), 0);
			assert_int_equal(rd(x, v, TMR + i * 0x10), 0);
			assert_int_equal(rd(x, v, IRR + i * 0x10), 0);
		}
		assert_int_equal(rd(x, v, 0x280), 0);
		assert_int_equal(rd(x, v, 0x300), 0);
		assert_int_equal(rd(x, v, 0x310), 0);
		for (uint32_t off = 0x320; off <= 0x370; off += 0x10)
			if (!(off == 0x350 && v == 0))
				assert_int_equal(rd(x, v, off), MASKED);
		/* KVM's LINT0_REENABLED quirk: the BSP is in virtual-wire mode */
		if (v == 0)
			assert_int_equal(rd(x, v, 0x350), 0x700);
		assert_int_equal(rd(x, v, 0x380), 0);
		assert_int_equal(rd(x, v, 0x390), 0);
		assert_int_equal(rd(x, v, 0x3e0), 0);
		assert_int_equal(line(x, v, VIRQ_CPU_IRQ), 0);
	}
	/* reset brings them back */
	wr(x, 1, 0x20, 0x07000000);
	wr(x, 1, 0xd0, 0x01000000);
	enable(x, 1);
	wr(x, 1, 0x80, 0x20);
	assert_int_equal(fixed(x, 7, 0x40), 1);
	assert_int_equal(virq_device_reset(x->lapic), 0);
	assert_int_equal(rd(x, 1, 0x20), 1u << 24);
	assert_int_equal(rd(x, 1, 0xd0), 0);
	assert_int_equal(rd(x, 1, 0xf0), 0xff);
	assert_int_equal(rd(x, 1, 0x80), 0);
	assert_false(vec_in(x->lapic, 1, IRR, 0x40));
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	/* the moved ID is forgotten: physical 1 is vCPU 1 again */
	assert_int_equal(fixed(x, 7, 0x40), -1);
}

static void test_disabled(void **state)
{
	struct lx *x = *state;

	/* software-disabled (SVR 0xFF): matched, but nothing is accepted */
	assert_int_equal(fixed(x, 1, 0x40), 0);
	assert_false(vec_in(x->lapic, 1, IRR, 0x40));
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), -ENOENT);
	/* ... except NMIs, as KVM accepts them regardless */
	assert_int_equal(msi(x, 1, false, VIRQ_X86_DM_NMI, 0, false, false), 1);
	assert_int_equal(line(x, 1, VIRQ_CPU_NMI), 1);
	/* broadcast to four disabled APICs: 0, not -1 */
	assert_int_equal(fixed(x, 0xff, 0x40), 0);
	/* LVT writes keep the mask while disabled */
	wr(x, 2, 0x360, 0x400);
	assert_int_equal(rd(x, 2, 0x360), MASKED | 0x400);
	enable(x, 2);
	wr(x, 2, 0x360, 0x400);
	assert_int_equal(rd(x, 2, 0x360), 0x400);
	assert_int_equal(fixed(x, 2, 0x40), 1);
	/* disabling masks every LVT; IRR already latched stays */
	wr(x, 2, 0xf0, 0x0ff);
	assert_int_equal(rd(x, 2, 0x360), MASKED | 0x400);
	assert_true(vec_in(x->lapic, 2, IRR, 0x40));
	assert_int_equal(virq_lapic_ack(x->lapic, 2), 0x40);
	/* SVR keeps bits 9:0 only */
	wr(x, 3, 0xf0, 0xfffff3ff);
	assert_int_equal(rd(x, 3, 0xf0), 0x3ff);
}

static void test_physical(void **state)
{
	struct lx *x = *state;

	enable_all(x);
	assert_int_equal(fixed(x, 2, 0x41), 1);
	for (uint32_t v = 0; v < NR; v++)
		assert_int_equal(vec_in(x->lapic, v, IRR, 0x41), v == 2);
	assert_int_equal(line(x, 2, VIRQ_CPU_IRQ), 1);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	/* nobody has ID 7 */
	assert_int_equal(fixed(x, 7, 0x41), -1);
	/* physical broadcast: everyone */
	assert_int_equal(fixed(x, 0xff, 0x42), 4);
	for (uint32_t v = 0; v < NR; v++)
		assert_true(vec_in(x->lapic, v, IRR, 0x42));
	/* a vector already pending is accepted again (KVM: 1) */
	assert_int_equal(fixed(x, 2, 0x41), 1);
	/* the ID register decides, not the vCPU index */
	wr(x, 3, 0x20, 0x09ffffff);
	assert_int_equal(rd(x, 3, 0x20), 0x09000000);
	assert_int_equal(fixed(x, 9, 0x43), 1);
	assert_true(vec_in(x->lapic, 3, IRR, 0x43));
	assert_int_equal(fixed(x, 3, 0x43), -1);
	/* two APICs with one ID both take it */
	wr(x, 1, 0x20, 0x09000000);
	assert_int_equal(fixed(x, 9, 0x44), 2);
	assert_true(vec_in(x->lapic, 1, IRR, 0x44));
	assert_true(vec_in(x->lapic, 3, IRR, 0x44));
	/* KVM delivers every MSI as an assert, whatever data bit 14 says */
	struct virq_msi m = { .address_lo = 0xfee02000u, .data = 1u << 15 | 0x46 };
	assert_int_equal(virq_signal_msi(x->vm, &m), 1);
	assert_true(vec_in(x->lapic, 2, IRR, 0x46));
	assert_true(vec_in(x->lapic, 2, TMR, 0x46));
	/* an edge message clears TMR, a level one sets it */
	assert_int_equal(msi(x, 2, false, VIRQ_X86_DM_FIXED, 0x45, true, false), 1);
	assert_true(vec_in(x->lapic, 2, TMR, 0x45));
	assert_int_equal(fixed(x, 2, 0x45), 1);
	assert_false(vec_in(x->lapic, 2, TMR, 0x45));
}

static void test_logical_flat(void **state)
{
	struct lx *x = *state;

	enable_all(x);
	for (uint32_t v = 0; v < NR; v++)
		wr(x, v, 0xd0, (1u << v) << 24 | 0x00abcdef); /* low bits dropped */
	assert_int_equal(rd(x, 1, 0xd0), 0x02000000);
	assert_int_equal(msi(x, 0x05, true, 0, 0x50, false, false), 2);
	for (uint32_t v = 0; v < NR; v++)
		assert_int_equal(vec_in(x->lapic, v, IRR, 0x50), v == 0 || v == 2);
	assert_int_equal(msi(x, 0x10, true, 0, 0x51, false, false), -1);
	assert_int_equal(msi(x, 0xff, true, 0, 0x52, false, false), 4);
	/* LDR 0 in flat mode matches only the broadcast */
	wr(x, 3, 0xd0, 0);
	assert_int_equal(msi(x, 0x08, true, 0, 0x53, false, false), -1);
	/* physical destinations ignore the LDR */
	assert_int_equal(fixed(x, 1, 0x54), 1);
}

static void test_logical_cluster(void **state)
{
	struct lx *x = *state;
	static const uint32_t ldr[NR] = { 0x11, 0x12, 0x21, 0x22 };

	enable_all(x);
	for (uint32_t v = 0; v < NR; v++) {
		wr(x, v, 0xe0, 0x00000000); /* cluster: written | 0x0fffffff */
		wr(x, v, 0xd0, ldr[v] << 24);
	}
	assert_int_equal(rd(x, 0, 0xe0), 0x0fffffff);
	assert_int_equal(msi(x, 0x13, true, 0, 0x60, false, false), 2);
	assert_true(vec_in(x->lapic, 0, IRR, 0x60));
	assert_true(vec_in(x->lapic, 1, IRR, 0x60));
	assert_int_equal(msi(x, 0x21, true, 0, 0x61, false, false), 1);
	assert_true(vec_in(x->lapic, 2, IRR, 0x61));
	/* cluster 3 is empty; cluster 1 with member bit 4 matches nobody */
	assert_int_equal(msi(x, 0x31, true, 0, 0x62, false, false), -1);
	assert_int_equal(msi(x, 0x14, true, 0, 0x62, false, false), -1);
	assert_int_equal(msi(x, 0xff, true, 0, 0x63, false, false), 4);
	/* a DFR model that is neither flat nor cluster matches nothing */
	wr(x, 2, 0xe0, 0x50000000);
	assert_int_equal(rd(x, 2, 0xe0), 0x5fffffff);
	assert_int_equal(msi(x, 0x21, true, 0, 0x64, false, false), -1);
}

static void test_ppr_nesting(void **state)
{
	struct lx *x = *state;

	enable(x, 1);
	wr(x, 1, 0x80, 0x40);
	assert_int_equal(rd(x, 1, 0xa0), 0x40);
	assert_int_equal(fixed(x, 1, 0x45), 1);
	/* class 4 is not above TPR 0x40: held */
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), -ENOENT);
	wr(x, 1, 0x80, 0x3f);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 1);
	wr(x, 1, 0x80, 0x4f);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	wr(x, 1, 0x80, 0x1ff); /* 8 bits */
	assert_int_equal(rd(x, 1, 0x80), 0xff);
	wr(x, 1, 0x80, 0);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 1);

	/* nested: 0x45 in service raises PPR to 0x40 */
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x45);
	assert_int_equal(rd(x, 1, 0xa0), 0x40);
	assert_true(vec_in(x->lapic, 1, ISR, 0x45));
	assert_false(vec_in(x->lapic, 1, IRR, 0x45));
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	assert_int_equal(fixed(x, 1, 0x48), 1); /* same class: waits */
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	assert_int_equal(fixed(x, 1, 0x51), 1); /* higher class: preempts */
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 1);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x51);
	assert_int_equal(rd(x, 1, 0xa0), 0x50);
	/* a TPR above ISRV's class wins PPR, and so does one of its class */
	wr(x, 1, 0x80, 0x63);
	assert_int_equal(rd(x, 1, 0xa0), 0x63);
	wr(x, 1, 0x80, 0x5e);
	assert_int_equal(rd(x, 1, 0xa0), 0x5e);
	wr(x, 1, 0x80, 0x4e);
	assert_int_equal(rd(x, 1, 0xa0), 0x50);
	wr(x, 1, 0x80, 0);
	/* EOI retires the highest in service first */
	assert_int_equal(virq_lapic_eoi(x->lapic, 1), 0x51);
	assert_int_equal(rd(x, 1, 0xa0), 0x40);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	wr(x, 1, 0xb0, 0); /* the EOI register does the same */
	assert_false(vec_in(x->lapic, 1, ISR, 0x45));
	assert_int_equal(rd(x, 1, 0xa0), 0);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 1);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x48);
	assert_int_equal(virq_lapic_eoi(x->lapic, 1), 0x48);
	assert_int_equal(virq_lapic_eoi(x->lapic, 1), -ENOENT);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	/* the highest IRR goes first */
	assert_int_equal(fixed(x, 1, 0x30), 1);
	assert_int_equal(fixed(x, 1, 0xe1), 1);
	assert_int_equal(fixed(x, 1, 0x90), 1);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0xe1);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), -ENOENT);
	assert_int_equal(virq_lapic_eoi(x->lapic, 1), 0xe1);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x90);
	assert_int_equal(virq_lapic_eoi(x->lapic, 1), 0x90);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x30);
}

/* IOAPIC register access through its MMIO window */
static void io_set_entry(struct lx *x, unsigned pin, uint64_t e)
{
	uint64_t base = VIRQ_IOAPIC_DEFAULT_BASE;

	assert_int_equal(
		virq_io_write(x->vm, 0, VIRQ_SPACE_MMIO, base, 4, 0x11 + 2 * pin), 0);
	assert_int_equal(
		virq_io_write(x->vm, 0, VIRQ_SPACE_MMIO, base + 0x10, 4, e >> 32), 0);
	assert_int_equal(
		virq_io_write(x->vm, 0, VIRQ_SPACE_MMIO, base, 4, 0x10 + 2 * pin), 0);
	assert_int_equal(
		virq_io_write(x->vm, 0, VIRQ_SPACE_MMIO, base + 0x10, 4, (uint32_t)e), 0);
}

static uint64_t io_entry(struct lx *x, unsigned pin)
{
	uint64_t v = 0;

	assert_int_equal(
		virq_device_get_attr(x->ioapic, VIRQ_IOAPIC_GRP_REDIR, pin, &v, 8), 0);
	return v;
}

static void test_ioapic_level(void **state)
{
	struct lx *x = *state;

	enable(x, 1);
	io_set_entry(x, 20, (uint64_t)1 << 56 | LEVEL | 0x61);
	/* router -> IOAPIC -> MSI -> doorbell -> vCPU 1 */
	assert_int_equal(virq_set_irq(x->vm, 20, 1, 0), 1);
	assert_true(io_entry(x, 20) & RIRR);
	assert_true(vec_in(x->lapic, 1, IRR, 0x61));
	assert_true(vec_in(x->lapic, 1, TMR, 0x61));
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 1);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x61);
	/* in service at the IOAPIC: further asserts refused */
	assert_int_equal(virq_set_irq(x->vm, 20, 1, 0), -1);
	/* EOI with the line still high: remote IRR cleared, delivered again */
	assert_int_equal(virq_lapic_eoi(x->lapic, 1), 0x61);
	assert_true(vec_in(x->lapic, 1, IRR, 0x61));
	assert_true(io_entry(x, 20) & RIRR);
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x61);
	/* the device lowers its line, the guest EOIs by register */
	assert_int_equal(virq_set_irq(x->vm, 20, 0, 0), 1);
	wr(x, 1, 0xb0, 0);
	assert_false(io_entry(x, 20) & RIRR);
	assert_false(vec_in(x->lapic, 1, IRR, 0x61));
	assert_false(vec_in(x->lapic, 1, ISR, 0x61));
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	/* a level pin aimed at a disabled APIC: 0 from the LAPIC, so the
	 * IOAPIC does not mark it in service (KVM's "coalesced") */
	io_set_entry(x, 21, (uint64_t)2 << 56 | LEVEL | 0x62);
	assert_int_equal(virq_set_irq(x->vm, 21, 1, 0), 0);
	assert_false(io_entry(x, 21) & RIRR);
	/* ... and at nobody: -1, which KVM's IOAPIC marks in service */
	io_set_entry(x, 22, (uint64_t)9 << 56 | LEVEL | 0x63);
	assert_int_equal(virq_set_irq(x->vm, 22, 1, 0), -1);
	assert_true(io_entry(x, 22) & RIRR);
}

static void count_ack(void *opaque, uint32_t gsi)
{
	(void)gsi;
	++*(unsigned *)opaque;
}

static void test_ioapic_edge(void **state)
{
	struct lx *x = *state;
	unsigned acks = 0;

	enable(x, 0);
	io_set_entry(x, 17, 0x71); /* edge, physical 0 */
	assert_int_equal(virq_ack_notifier_add(x->vm, 17, count_ack, &acks), 0);
	assert_int_equal(virq_set_irq(x->vm, 17, 1, 0), 1);
	assert_false(vec_in(x->lapic, 0, TMR, 0x71));
	assert_int_equal(virq_lapic_ack(x->lapic, 0), 0x71);
	/* every EOI is broadcast, edge ones too: the ack notifier runs */
	assert_int_equal(virq_lapic_eoi(x->lapic, 0), 0x71);
	assert_int_equal(acks, 1);
	assert_int_equal(virq_set_irq(x->vm, 17, 0, 0), 1);
	/* logical flat through the IOAPIC */
	wr(x, 0, 0xd0, 0x01000000);
	io_set_entry(x, 18, (uint64_t)1 << 56 | (1ull << 11) | 0x72);
	assert_int_equal(virq_set_irq(x->vm, 18, 1, 0), 1);
	assert_true(vec_in(x->lapic, 0, IRR, 0x72));
}

static void test_lowest(void **state)
{
	struct lx *x = *state;

	enable_all(x);
	for (uint32_t v = 0; v < NR; v++)
		wr(x, v, 0xd0, (1u << v) << 24);
	/* KVM's vector hashing: the (vector % n)-th candidate */
	assert_int_equal(msi(x, 0x0f, true, VIRQ_X86_DM_LOWEST, 0x42, false, false), 1);
	assert_true(vec_in(x->lapic, 2, IRR, 0x42));
	for (uint32_t v = 0; v < NR; v++)
		if (v != 2)
			assert_false(vec_in(x->lapic, v, IRR, 0x42));
	assert_int_equal(msi(x, 0x0f, true, VIRQ_X86_DM_LOWEST, 0x43, false, false), 1);
	assert_true(vec_in(x->lapic, 3, IRR, 0x43));
	/* a disabled APIC is no candidate: 0x43 % 3 = 1 -> vCPU 1 */
	wr(x, 3, 0xf0, 0xff);
	assert_int_equal(msi(x, 0x0f, true, VIRQ_X86_DM_LOWEST, 0x43, false, false), 1);
	assert_true(vec_in(x->lapic, 1, IRR, 0x43));
	/* candidates among those matched only: {0, 1}, 0x45 % 2 = 1 */
	assert_int_equal(msi(x, 0x03, true, VIRQ_X86_DM_LOWEST, 0x45, false, false), 1);
	assert_true(vec_in(x->lapic, 1, IRR, 0x45));
	/* matched but none enabled: -1 */
	assert_int_equal(msi(x, 0x08, true, VIRQ_X86_DM_LOWEST, 0x46, false, false), -1);
	/* the redirection hint makes a fixed message lowest priority */
	assert_int_equal(msi(x, 0x0f, true, VIRQ_X86_DM_FIXED, 0x47, false, true), 1);
	assert_true(vec_in(x->lapic, 2, IRR, 0x47)); /* 0x47 % 3 = 2 */
	assert_false(vec_in(x->lapic, 0, IRR, 0x47));
	assert_false(vec_in(x->lapic, 1, IRR, 0x47));
	/* lowest priority to physical broadcast is fixed: all three enabled */
	assert_int_equal(msi(x, 0xff, false, VIRQ_X86_DM_LOWEST, 0x48, false, false), 3);
}

static void test_nmi(void **state)
{
	struct lx *x = *state;

	assert_int_equal(msi(x, 1, false, VIRQ_X86_DM_NMI, 0, false, false), 1);
	assert_int_equal(line(x, 1, VIRQ_CPU_NMI), 1);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	assert_int_equal(msi(x, 1, false, VIRQ_X86_DM_NMI, 0, false, false), 1);
	assert_int_equal(msi(x, 1, false, VIRQ_X86_DM_NMI, 0, false, false), 1);
	assert_int_equal(st(x->lapic, 1, VIRQ_LAPIC_STATE_NMI), 2); /* KVM's limit */
	assert_int_equal(virq_lapic_take_nmi(x->lapic, 1), 1);
	assert_int_equal(line(x, 1, VIRQ_CPU_NMI), 1);
	assert_int_equal(virq_lapic_take_nmi(x->lapic, 1), 1);
	assert_int_equal(line(x, 1, VIRQ_CPU_NMI), 0);
	assert_int_equal(virq_lapic_take_nmi(x->lapic, 1), 0);
	/* LINT1 programmed for NMI: one per rising edge */
	enable(x, 2);
	wr(x, 2, 0x360, 0x400);
	assert_int_equal(virq_lapic_set_lint(x->lapic, 2, 1, 1), 0);
	assert_int_equal(line(x, 2, VIRQ_CPU_NMI), 1);
	assert_int_equal(virq_lapic_set_lint(x->lapic, 2, 1, 1), 0);
	assert_int_equal(st(x->lapic, 2, VIRQ_LAPIC_STATE_NMI), 1);
	assert_int_equal(virq_lapic_set_lint(x->lapic, 2, 1, 0), 0);
	assert_int_equal(virq_lapic_set_lint(x->lapic, 2, 1, 1), 0);
	assert_int_equal(st(x->lapic, 2, VIRQ_LAPIC_STATE_NMI), 2);
	/* masked LINT1: nothing */
	assert_int_equal(virq_lapic_take_nmi(x->lapic, 2), 1);
	assert_int_equal(virq_lapic_take_nmi(x->lapic, 2), 1);
	wr(x, 2, 0x360, MASKED | 0x400);
	virq_lapic_set_lint(x->lapic, 2, 1, 0);
	virq_lapic_set_lint(x->lapic, 2, 1, 1);
	assert_int_equal(line(x, 2, VIRQ_CPU_NMI), 0);
	/* LINT1 in fixed mode delivers its vector */
	wr(x, 2, 0x360, 0x33);
	virq_lapic_set_lint(x->lapic, 2, 1, 0);
	virq_lapic_set_lint(x->lapic, 2, 1, 1);
	assert_true(vec_in(x->lapic, 2, IRR, 0x33));
	assert_int_equal(virq_lapic_set_lint(x->lapic, 2, 2, 1), -EINVAL);
	assert_int_equal(virq_lapic_set_lint(x->lapic, NR, 0, 1), -EINVAL);
	assert_int_equal(virq_lapic_take_nmi(x->ioapic, 0), -EINVAL);
}

static void pic_out(struct lx *x, uint16_t port, uint8_t v)
{
	assert_int_equal(virq_io_write(x->vm, 0, VIRQ_SPACE_PIO, port, 1, v), 0);
}

/* What a VMM does: the PIC's INT drives vCPU 0's LINT0. */
static void follow_pic(struct lx *x)
{
	assert_int_equal(virq_lapic_set_lint(x->lapic, 0, 0, virq_pic_output(x->pic)), 0);
}

static void test_extint(void **state)
{
	struct lx *x = *state;

	/* the master: ICW1-4, vector base 0x20, everything unmasked */
	pic_out(x, 0x20, 0x11);
	pic_out(x, 0x21, 0x20);
	pic_out(x, 0x21, 0x04);
	pic_out(x, 0x21, 0x01);
	pic_out(x, 0x21, 0x00);
	assert_int_equal(virq_set_irq(x->vm, 1, 1, 0), 1);
	follow_pic(x);
	/* the BSP's reset LVT0 is ExtINT: INTR up though SVR disables it */
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 1);
	assert_int_equal(virq_lapic_ack(x->lapic, 0), 0x21);
	follow_pic(x);
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 0);
	assert_int_equal(virq_lapic_ack(x->lapic, 0), -ENOENT);
	/* ExtINT comes before a pending APIC vector, and PPR does not hold it */
	enable(x, 0);
	wr(x, 0, 0x350, 0x700);
	wr(x, 0, 0x80, 0xff);
	assert_int_equal(fixed(x, 0, 0xf1), 1);
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 0);
	pic_out(x, 0x20, 0x20); /* EOI at the PIC */
	virq_set_irq(x->vm, 1, 0, 0);
	assert_int_equal(virq_set_irq(x->vm, 1, 1, 0), 1);
	follow_pic(x);
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 1);
	assert_int_equal(virq_lapic_ack(x->lapic, 0), 0x21);
	follow_pic(x);
	wr(x, 0, 0x80, 0);
	assert_int_equal(virq_lapic_ack(x->lapic, 0), 0xf1);
	/* LVT0 masked: the PIC is not heard; another vCPU's LINT0 neither */
	pic_out(x, 0x20, 0x20);
	wr(x, 0, 0x350, MASKED | 0x700);
	virq_set_irq(x->vm, 1, 0, 0);
	virq_set_irq(x->vm, 1, 1, 0);
	follow_pic(x);
	assert_int_equal(virq_pic_output(x->pic), 1);
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 0);
	assert_int_equal(virq_lapic_set_lint(x->lapic, 1, 0, 1), 0);
	assert_int_equal(line(x, 1, VIRQ_CPU_IRQ), 0);
	/* unmasking with the line high: INTR rises */
	wr(x, 0, 0x350, 0x700);
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 1);
	/* ExtINT as a message is not taken (KVM): matched, 0 */
	assert_int_equal(msi(x, 2, false, VIRQ_X86_DM_EXTINT, 0, false, false), 0);
}

static void test_ipi(void **state)
{
	struct lx *x = *state;

	enable_all(x);
	wr(x, 0, 0x310, 0x02345678);
	assert_int_equal(rd(x, 0, 0x310), 0x02000000);
	wr(x, 0, 0x300, 0x1055); /* fixed, vector 0x55, busy bit dropped */
	assert_int_equal(rd(x, 0, 0x300), 0x0055);
	assert_true(vec_in(x->lapic, 2, IRR, 0x55));
	assert_int_equal(line(x, 2, VIRQ_CPU_IRQ), 1);
	/* shorthand self */
	wr(x, 1, 0x300, 1u << 18 | 0x56);
	assert_true(vec_in(x->lapic, 1, IRR, 0x56));
	assert_false(vec_in(x->lapic, 0, IRR, 0x56));
	/* all but self */
	wr(x, 3, 0x300, 3u << 18 | 0x57);
	for (uint32_t v = 0; v < NR; v++)
		assert_int_equal(vec_in(x->lapic, v, IRR, 0x57), v != 3);
	/* all including self */
	wr(x, 3, 0x300, 2u << 18 | 0x58);
	for (uint32_t v = 0; v < NR; v++)
		assert_true(vec_in(x->lapic, v, IRR, 0x58));
	/* NMI IPI, logical destination */
	wr(x, 1, 0xd0, 0x01000000);
	wr(x, 0, 0x310, 0x01000000);
	wr(x, 0, 0x300, 1u << 11 | 4u << 8);
	assert_int_equal(line(x, 1, VIRQ_CPU_NMI), 1);
	/* lowest priority IPI: one of the matched */
	wr(x, 2, 0xd0, 0x01000000);
	wr(x, 0, 0x300, 1u << 11 | 1u << 8 | 0x59);
	assert_int_equal(vec_in(x->lapic, 1, IRR, 0x59) + vec_in(x->lapic, 2, IRR, 0x59),
			 1);
	/* lowest priority to physical broadcast is fixed: every APIC takes it */
	wr(x, 0, 0x310, 0xff000000);
	wr(x, 0, 0x300, 1u << 8 | 0x5b);
	for (uint32_t v = 0; v < NR; v++)
		assert_true(vec_in(x->lapic, v, IRR, 0x5b));
	/* a level deassert IPI carries nothing */
	wr(x, 0, 0x310, 0x03000000);
	wr(x, 0, 0x300, 1u << 15 | 0x5a);
	assert_false(vec_in(x->lapic, 3, IRR, 0x5a));
	/* INIT assert, INIT deassert, STARTUP, SMI: counted only */
	wr(x, 0, 0x300, 1u << 14 | 5u << 8);
	wr(x, 0, 0x300, 1u << 15 | 5u << 8);
	wr(x, 0, 0x300, 6u << 8 | 0x9a);
	wr(x, 0, 0x300, 2u << 8);
	assert_int_equal(st(x->lapic, 3, VIRQ_LAPIC_STATE_INIT), 1);
	assert_int_equal(st(x->lapic, 3, VIRQ_LAPIC_STATE_SIPI), 1);
	assert_int_equal(st(x->lapic, 3, VIRQ_LAPIC_STATE_SIPI_VECTOR), 0x9a);
	assert_int_equal(st(x->lapic, 3, VIRQ_LAPIC_STATE_SMI), 1);
}

static void test_bad_access(void **state)
{
	struct lx *x = *state;
	uint64_t before = virq_vm_guest_errors(x->vm), v = 0;

	/* sub-dword and unaligned: all ones, a guest error, writes dropped */
	assert_int_equal(virq_io_read(x->vm, 0, VIRQ_SPACE_MMIO, BASE + 0xf0, 1, &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(virq_io_read(x->vm, 0, VIRQ_SPACE_MMIO, BASE + 0x84, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(virq_io_write(x->vm, 0, VIRQ_SPACE_MMIO, BASE + 0x80, 2, 0x50),
			 0);
	assert_int_equal(virq_io_write(x->vm, 0, VIRQ_SPACE_MMIO, BASE + 0x80, 8, 0x50),
			 0);
	assert_int_equal(rd(x, 0, 0x80), 0);
	assert_int_equal(virq_vm_guest_errors(x->vm), before + 4);
	/* reserved and write-only registers read 0; read-only ignore writes */
	assert_int_equal(rd(x, 0, 0x40), 0);
	assert_int_equal(rd(x, 0, 0xb0), 0);
	assert_int_equal(rd(x, 0, 0x800), 0);
	wr(x, 0, 0x30, 0);
	wr(x, 0, 0xa0, 0xff);
	wr(x, 0, 0x200, 0xffffffff);
	assert_int_equal(rd(x, 0, 0x30), 0x00050014);
	assert_int_equal(rd(x, 0, 0xa0), 0);
	assert_int_equal(rd(x, 0, 0x200), 0);
	assert_int_equal(virq_vm_guest_errors(x->vm), before + 10);
	/* ESR writes are accepted and latch nothing */
	wr(x, 0, 0x280, 0xffffffff);
	assert_int_equal(rd(x, 0, 0x280), 0);
	assert_int_equal(virq_vm_guest_errors(x->vm), before + 10);
	/* no vCPU, no bank: refused */
	assert_int_equal(
		virq_io_read(x->vm, VIRQ_VCPU_NONE, VIRQ_SPACE_MMIO, BASE + 0x20, 4, &v),
		-EINVAL);
	assert_int_equal(virq_io_write(x->vm, VIRQ_VCPU_NONE, VIRQ_SPACE_MMIO,
				       BASE + 0x80, 4, 0x20),
			 -EINVAL);
	assert_int_equal(reg(x->lapic, 0, 0x80), 0);
	/* the window ends at 4 KiB */
	assert_int_equal(virq_io_read(x->vm, 0, VIRQ_SPACE_MMIO, BASE + 0x1000, 4, &v),
			 -ENOENT);
	/* API misuse */
	assert_int_equal(virq_lapic_ack(x->ioapic, 0), -EINVAL);
	assert_int_equal(virq_lapic_ack(x->lapic, NR), -EINVAL);
	assert_int_equal(virq_lapic_eoi(NULL, 0), -EINVAL);
}

/* Every attribute of @from copied into @to; SYNC last. */
static void copy_attrs(struct virq_device *from, struct virq_device *to)
{
	for (uint64_t v = 0; v < NR; v++) {
		for (uint32_t off = 0; off < 0x400; off += 0x10) {
			uint64_t attr = v << 32 | off;
			uint32_t val = 0;

			if (virq_device_has_attr(from, VIRQ_LAPIC_GRP_REG, attr))
				continue;
			assert_int_equal(virq_device_get_attr(from, VIRQ_LAPIC_GRP_REG,
							      attr, &val, 4),
					 0);
			assert_int_equal(virq_device_set_attr(to, VIRQ_LAPIC_GRP_REG,
							      attr, &val, 4),
					 0);
		}
		for (uint32_t i = 0; i <= VIRQ_LAPIC_STATE_SMI; i++) {
			uint64_t attr = v << 32 | i;
			uint32_t val = 0;

			assert_int_equal(virq_device_get_attr(from, VIRQ_LAPIC_GRP_STATE,
							      attr, &val, 4),
					 0);
			assert_int_equal(virq_device_set_attr(to, VIRQ_LAPIC_GRP_STATE,
							      attr, &val, 4),
					 0);
		}
	}
	assert_int_equal(virq_device_set_attr(to, VIRQ_LAPIC_GRP_SYNC, 0, NULL, 0), 0);
}

static void test_save_restore(void **state)
{
	struct lx *x = *state, y;
	unsigned nregs = 0;

	/* varied state in VM x */
	enable_all(x);
	for (uint32_t v = 0; v < NR; v++) {
		wr(x, v, 0xe0, 0);
		wr(x, v, 0xd0, (0x10u | 1u << v) << 24);
	}
	wr(x, 3, 0x20, 0x0c000000);
	wr(x, 1, 0x80, 0x30);
	wr(x, 2, 0x360, 0x400);
	wr(x, 1, 0x310, 0x0c000000);
	assert_int_equal(fixed(x, 1, 0x81), 1);
	assert_int_equal(fixed(x, 1, 0x92), 1);
	assert_int_equal(msi(x, 1, false, 0, 0x25, true, false), 1); /* below TPR */
	assert_int_equal(virq_lapic_ack(x->lapic, 1), 0x92);
	assert_int_equal(msi(x, 2, false, VIRQ_X86_DM_NMI, 0, false, false), 1);
	virq_lapic_set_lint(x->lapic, 0, 1, 1);

	make(&y);
	assert_int_equal(line(&y, 1, VIRQ_CPU_IRQ), 0);
	/* setting stores, delivers nothing */
	for (uint32_t v = 0; v < NR; v++)
		for (uint32_t off = 0; off < 0x400; off += 0x10)
			if (!virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_REG,
						  (uint64_t)v << 32 | off))
				nregs++;
	assert_int_equal(nregs, NR * 44);
	unsigned before = __atomic_load_n(&y.changes, __ATOMIC_RELAXED);
	copy_attrs(x->lapic, y.lapic);
	/* SYNC sets every line of every vCPU, changed or not */
	assert_int_equal(__atomic_load_n(&y.changes, __ATOMIC_RELAXED) - before, NR * 2);
	/* round trip: every attribute reads back equal */
	for (uint32_t v = 0; v < NR; v++) {
		for (uint32_t off = 0; off < 0x400; off += 0x10)
			if (!virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_REG,
						  (uint64_t)v << 32 | off))
				assert_int_equal(reg(x->lapic, v, off),
						 reg(y.lapic, v, off));
		for (uint32_t i = 0; i <= VIRQ_LAPIC_STATE_SMI; i++)
			assert_int_equal(st(x->lapic, v, i), st(y.lapic, v, i));
	}
	/* SYNC drove the lines */
	for (uint32_t v = 0; v < NR; v++) {
		assert_int_equal(line(&y, v, VIRQ_CPU_IRQ), line(x, v, VIRQ_CPU_IRQ));
		assert_int_equal(line(&y, v, VIRQ_CPU_NMI), line(x, v, VIRQ_CPU_NMI));
	}
	assert_int_equal(line(&y, 1, VIRQ_CPU_IRQ), 0); /* 0x81 under ISR 0x92 */
	assert_int_equal(line(&y, 2, VIRQ_CPU_NMI), 1);
	/* and both behave the same from here */
	struct lx *both[2] = { x, &y };
	for (int i = 0; i < 2; i++) {
		struct lx *z = both[i];

		assert_int_equal(rd(z, 1, 0xa0), 0x90);
		assert_int_equal(virq_lapic_eoi(z->lapic, 1), 0x92);
		assert_int_equal(virq_lapic_ack(z->lapic, 1), 0x81);
		assert_int_equal(virq_lapic_eoi(z->lapic, 1), 0x81);
		assert_int_equal(virq_lapic_ack(z->lapic, 1), -ENOENT); /* 0x25 < TPR */
		assert_true(vec_in(z->lapic, 1, TMR, 0x25));
		/* cluster 1, member bits */
		assert_int_equal(msi(z, 0x1a, true, 0, 0x66, false, false), 2);
		assert_int_equal(fixed(z, 0x0c, 0x67), 1);
		assert_true(vec_in(z->lapic, 3, IRR, 0x67));
		assert_int_equal(virq_lapic_take_nmi(z->lapic, 2), 1);
		/* the IPI from the restored ICR2 */
		wr(z, 1, 0x300, 0x68);
		assert_true(vec_in(z->lapic, 3, IRR, 0x68));
	}
	virq_vm_destroy(y.vm);
}

static void test_attr_errors(void **state)
{
	struct lx *x = *state;
	uint32_t v = 0;
	uint64_t big = 0;

	assert_int_equal(virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_REG, 0xb0),
			 -ENXIO);
	assert_int_equal(virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_REG, 0x84),
			 -ENXIO);
	assert_int_equal(virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_REG, 0x400),
			 -ENXIO);
	assert_int_equal(virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_REG,
					      (uint64_t)NR << 32 | 0x20),
			 -ENXIO);
	assert_int_equal(virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_STATE, 6), -ENXIO);
	assert_int_equal(virq_device_has_attr(x->lapic, VIRQ_LAPIC_GRP_SYNC, 0), 0);
	assert_int_equal(virq_device_has_attr(x->lapic, 9, 0), -ENXIO);
	assert_int_equal(
		virq_device_get_attr(x->lapic, VIRQ_LAPIC_GRP_REG, 0x20, &big, 8),
		-EINVAL);
	assert_int_equal(virq_device_get_attr(x->lapic, VIRQ_LAPIC_GRP_SYNC, 0, NULL, 0),
			 -EPERM);
	static const struct {
		uint32_t off, bad;
	} bad[] = {
		{ 0x20, 0x01000001 }, { 0x30, 0x14 },	 { 0x80, 0x100 },
		{ 0x90, 1 },	      { 0xd0, 0xff },	 { 0xe0, 0 },
		{ 0xf0, 0x400 },      { 0x300, 0x1000 }, { 0x310, 1 },
		{ 0x350, 0x20000 },   { 0x370, 0x700 },	 { 0x3e0, 4 },
		{ 0x320, 0x80000 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(virq_device_set_attr(x->lapic, VIRQ_LAPIC_GRP_REG,
						      bad[i].off, &bad[i].bad, 4),
				 -EINVAL);
	v = 3;
	assert_int_equal(virq_device_set_attr(x->lapic, VIRQ_LAPIC_GRP_STATE,
					      VIRQ_LAPIC_STATE_NMI, &v, 4),
			 -EINVAL);
	v = 4;
	assert_int_equal(virq_device_set_attr(x->lapic, VIRQ_LAPIC_GRP_STATE,
					      VIRQ_LAPIC_STATE_LINT, &v, 4),
			 -EINVAL);
	/* a set IRR bit is stored, not delivered, until SYNC */
	enable(x, 0);
	v = 1u << 16; /* vector 0x70 */
	assert_int_equal(
		virq_device_set_attr(x->lapic, VIRQ_LAPIC_GRP_REG, IRR + 0x30, &v, 4), 0);
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 0);
	assert_int_equal(virq_device_set_attr(x->lapic, VIRQ_LAPIC_GRP_SYNC, 0, NULL, 0),
			 0);
	assert_int_equal(line(x, 0, VIRQ_CPU_IRQ), 1);
	assert_int_equal(virq_lapic_ack(x->lapic, 0), 0x70);
	/* two LAPIC models cannot share the doorbell */
	struct virq_device *other;
	assert_int_equal(virq_device_create(x->vm, "lapic", NULL, &other), -EEXIST);
}

/* ---- concurrency (meaningful under TSan) ---- */

struct worker {
	struct lx *x;
	uint32_t vcpu;
	unsigned got;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 2000; i++) {
		uint8_t vec = (uint8_t)(0x40 + (i % 0x80));
		int v;

		fixed(w->x, w->vcpu, vec);
		msi(w->x, 0xff, false, 0, 0x30, false, false); /* broadcast */
		wr(w->x, w->vcpu, 0x80, (uint32_t)(i & 0x10));
		while ((v = virq_lapic_ack(w->x->lapic, w->vcpu)) >= 0) {
			w->got++;
			virq_lapic_eoi(w->x->lapic, w->vcpu);
		}
		if (i % 64 == 0)
			wr(w->x, w->vcpu, 0x300, 2u << 18 | 0x31); /* IPI to all */
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct lx *x = *state;
	struct worker w[NR];
	pthread_t t[NR];

	enable_all(x);
	for (uint32_t v = 0; v < NR; v++) {
		w[v] = (struct worker){ .x = x, .vcpu = v };
		assert_int_equal(pthread_create(&t[v], NULL, work, &w[v]), 0);
	}
	for (uint32_t v = 0; v < NR; v++) {
		pthread_join(t[v], NULL);
		assert_true(w[v].got >= 2000);
	}
	/* drained: the lines agree with the state */
	for (uint32_t v = 0; v < NR; v++) {
		wr(x, v, 0x80, 0);
		while (virq_lapic_ack(x->lapic, v) >= 0)
			virq_lapic_eoi(x->lapic, v);
		while (virq_lapic_eoi(x->lapic, v) >= 0)
			;
		assert_int_equal(line(x, v, VIRQ_CPU_IRQ), 0);
		assert_int_equal(reg(x->lapic, v, 0xa0), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_physical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logical_flat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logical_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ppr_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioapic_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioapic_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lowest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nmi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attr_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
