/* SPDX-License-Identifier: MIT */
/* The 8259A pair against spec/x86.md (KVM's in-kernel PIC, the datasheet). */
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

struct px {
	struct virq_vm *vm;
	struct virq_device *pic, *io;
	int intr;	   /* vCPU 0's INTR as last driven */
	unsigned raises;   /* 0 -> 1 transitions of INTR */
	unsigned acks[24]; /* ack notifier runs per GSI */
	unsigned mask_calls[24];
	bool masked[24];
};

static struct px X;

static void cpu_line(void *opaque, uint32_t vcpu, enum virq_cpu_line line, int level)
{
	struct px *x = opaque;

	assert_int_equal(vcpu, 0);
	assert_int_equal(line, VIRQ_CPU_IRQ);
	if (level && !x->intr)
		x->raises++;
	x->intr = level;
}

static void on_ack(void *opaque, uint32_t gsi)
{
	((struct px *)opaque)->acks[gsi]++;
}

static void on_mask(void *opaque, uint32_t gsi, bool masked)
{
	struct px *x = opaque;

	x->mask_calls[gsi]++;
	x->masked[gsi] = masked;
}

static int msi_sink(void *opaque, const struct virq_msi *m)
{
	(void)opaque, (void)m;
	return 1;
}

static void out(uint16_t port, uint8_t v)
{
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_PIO, port, 1, v), 0);
}

static uint8_t in(uint16_t port)
{
	uint64_t v = 0xdead;

	assert_int_equal(virq_io_read(X.vm, 0, VIRQ_SPACE_PIO, port, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static uint8_t reg(uint32_t grp, enum virq_pic_reg r)
{
	uint8_t v;

	assert_int_equal(virq_device_get_attr(X.pic, grp, r, &v, 1), 0);
	return v;
}

#define M VIRQ_PIC_GRP_MASTER
#define S VIRQ_PIC_GRP_SLAVE

/* What a BIOS/Linux does: vectors 0x20 and 0x28, 8086 mode. */
static void init_pair(uint8_t icw4)
{
	out(0x20, 0x11);
	out(0x21, 0x20);
	out(0x21, 0x04);
	out(0x21, icw4);
	out(0xa0, 0x11);
	out(0xa1, 0x28);
	out(0xa1, 0x02);
	out(0xa1, icw4);
}

static int setup(void **state)
{
	struct virq_vm_config cfg = {
		.nr_vcpus = 2,
		.ops = { .cpu_line = cpu_line, .msi = msi_sink },
		.opaque = &X,
	};

	memset(&X, 0, sizeof(X));
	assert_int_equal(virq_pic_register(), 0);
	assert_int_equal(virq_ioapic_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &X.vm), 0);
	assert_int_equal(virq_device_create(X.vm, "i8259", NULL, &X.pic), 0);
	assert_int_equal(virq_device_create(X.vm, "ioapic", NULL, &X.io), 0);
	assert_int_equal(virq_x86_default_routes(X.vm), 0);
	for (uint32_t gsi = 0; gsi < 16; gsi++) {
		assert_int_equal(virq_ack_notifier_add(X.vm, gsi, on_ack, &X), 0);
		assert_int_equal(virq_mask_notifier_add(X.vm, gsi, on_mask, &X), 0);
	}
	init_pair(0x01);
	*state = &X;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	virq_vm_destroy(X.vm);
	return 0;
}

/*
 * The PIC's answer.  set_irq sums the non-negative answers of both chips
 * (KVM's rule); the IOAPIC pins stay masked here, so they answer -1 to an
 * assert and 1 to a deassert.
 */
static int pic_irq(uint32_t gsi, int level)
{
	int r = virq_set_irq(X.vm, gsi, level, 0);

	return level ? r : r - 1;
}

static void test_init_sequence(void **state)
{
	(void)state;
	assert_int_equal(reg(M, VIRQ_PIC_IRQ_BASE), 0x20);
	assert_int_equal(reg(S, VIRQ_PIC_IRQ_BASE), 0x28);
	assert_int_equal(reg(M, VIRQ_PIC_INIT_STATE), 0);
	assert_int_equal(reg(M, VIRQ_PIC_INIT4), 1);
	assert_int_equal(reg(M, VIRQ_PIC_IMR), 0);
	assert_int_equal(reg(M, VIRQ_PIC_ELCR_MASK), 0xf8);
	assert_int_equal(reg(S, VIRQ_PIC_ELCR_MASK), 0xde);
	/* ICW2 keeps T7-T3 only */
	out(0x20, 0x11);
	assert_int_equal(reg(M, VIRQ_PIC_INIT_STATE), 1);
	out(0x21, 0x37);
	assert_int_equal(reg(M, VIRQ_PIC_IRQ_BASE), 0x30);
	out(0x21, 0x04);
	out(0x21, 0x01);
	assert_int_equal(reg(M, VIRQ_PIC_INIT_STATE), 0);
	/* without IC4 the sequence ends after ICW3 and ICW4's modes clear */
	out(0x20, 0x10);
	out(0x21, 0x20);
	out(0x21, 0x04);
	assert_int_equal(reg(M, VIRQ_PIC_INIT_STATE), 0);
	assert_int_equal(reg(M, VIRQ_PIC_AUTO_EOI), 0);
	out(0x21, 0xfb); /* now OCW1 */
	assert_int_equal(in(0x21), 0xfb);
	assert_int_equal(reg(M, VIRQ_PIC_IRQ_BASE), 0x20);
}

static void test_edge_inta_eoi(void **state)
{
	(void)state;
	assert_int_equal(pic_irq(1, 1), 1);
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_pic_output(X.pic), 1);
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0x02);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x21);
	assert_int_equal(X.intr, 0);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0x02);
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0x00);
	assert_int_equal(X.acks[1], 0);
	out(0x20, 0x20); /* non-specific EOI */
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0);
	assert_int_equal(X.acks[1], 1);
	/* the line is still high: no new edge, nothing pending */
	assert_int_equal(pic_irq(1, 1), 1);
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0);
	assert_int_equal(X.intr, 0);
	assert_int_equal(pic_irq(1, 0), 1);
}

static void test_edge_coalescing(void **state)
{
	(void)state;
	assert_int_equal(pic_irq(4, 1), 1);
	assert_int_equal(pic_irq(4, 0), 1);
	/* a second edge before INTA merges with the first */
	assert_int_equal(pic_irq(4, 1), 0);
	assert_int_equal(pic_irq(4, 0), 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x24);
	/* nothing left: the next INTA is spurious */
	assert_int_equal(virq_pic_read_irq(X.pic), 0x27);
	out(0x20, 0x64); /* specific EOI, IRQ 4 */
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0);
	assert_int_equal(X.acks[4], 1);
}

static void test_masked(void **state)
{
	(void)state;
	out(0x21, 0x08);
	assert_int_equal(pic_irq(3, 1), -1);
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0x08); /* latched all the same */
	assert_int_equal(X.intr, 0);
	out(0x21, 0x00);
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x23);
	out(0x20, 0x20);
	assert_int_equal(pic_irq(3, 0), 1);
}

static void test_level_elcr(void **state)
{
	(void)state;
	/* IRQ 0-2, 8 and 13 are edge-only */
	out(0x4d0, 0xff);
	out(0x4d1, 0xff);
	assert_int_equal(in(0x4d0), 0xf8);
	assert_int_equal(in(0x4d1), 0xde);
	out(0x4d0, 0x00);
	out(0x4d1, 0x04); /* IRQ 10 level */
	assert_int_equal(reg(S, VIRQ_PIC_ELCR), 0x04);
	assert_int_equal(pic_irq(10, 1), 1);
	assert_int_equal(pic_irq(10, 1), 0); /* already requested */
	assert_int_equal(reg(S, VIRQ_PIC_IRR), 0x04);
	/* cascade: the slave's request reaches master IR2 */
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x2a);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0x04);
	assert_int_equal(reg(S, VIRQ_PIC_ISR), 0x04);
	/* a level request stays in IRR while its line is high */
	assert_int_equal(reg(S, VIRQ_PIC_IRR), 0x04);
	assert_int_equal(X.intr, 0);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	assert_int_equal(X.acks[10], 1);
	assert_int_equal(X.acks[2], 1);
	/* EOI with the line high: requested again */
	assert_int_equal(X.intr, 1);
	assert_int_equal(pic_irq(10, 0), 1);
	assert_int_equal(reg(S, VIRQ_PIC_IRR), 0);
	/* the master still holds the cascade pulse: its INTA is the
	 * slave's spurious IRQ 7 */
	assert_int_equal(virq_pic_read_irq(X.pic), 0x2f);
	out(0x20, 0x20);
	assert_int_equal(X.intr, 0);
}

static void test_spurious_irq7(void **state)
{
	(void)state;
	assert_int_equal(pic_irq(5, 1), 1);
	assert_int_equal(X.intr, 1);
	/* the request is masked away before the CPU's INTA */
	out(0x21, 0x20);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x27);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0); /* IRQ 7 is not in service */
	out(0x21, 0x00);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x25);
	out(0x20, 0x20);
	assert_int_equal(pic_irq(5, 0), 1);
}

static void test_priority_nesting(void **state)
{
	(void)state;
	pic_irq(5, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x25);
	/* IRQ 6 is lower than IRQ 5 in service: held */
	pic_irq(6, 1);
	assert_int_equal(X.intr, 0);
	/* IRQ 3 is higher: nests */
	pic_irq(3, 1);
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x23);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0x28);
	out(0x20, 0x20); /* ends IRQ 3, the highest in service */
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0x20);
	assert_int_equal(X.intr, 0);
	out(0x20, 0x20);
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x26);
	out(0x20, 0x20);
	for (uint32_t g = 3; g <= 6; g++)
		pic_irq(g, 0);
}

static void test_rotation(void **state)
{
	(void)state;
	/* rotate on non-specific EOI: the IRQ just served becomes lowest */
	pic_irq(3, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x23);
	out(0x20, 0xa0);
	assert_int_equal(reg(M, VIRQ_PIC_PRIORITY_ADD), 4);
	pic_irq(1, 1);
	pic_irq(5, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x25); /* 5 now beats 1 */
	out(0x20, 0x20);
	/* set priority: IRQ 4 lowest, so 5 is highest, then 6, 7, 0, 1 */
	out(0x20, 0xc4);
	assert_int_equal(reg(M, VIRQ_PIC_PRIORITY_ADD), 5);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x21);
	/* rotate on specific EOI */
	out(0x20, 0xe1);
	assert_int_equal(reg(M, VIRQ_PIC_PRIORITY_ADD), 2);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0);
	/* rotate in auto-EOI mode: set and clear */
	out(0x20, 0x80);
	assert_int_equal(reg(M, VIRQ_PIC_ROTATE_ON_AUTO_EOI), 1);
	out(0x20, 0x00);
	assert_int_equal(reg(M, VIRQ_PIC_ROTATE_ON_AUTO_EOI), 0);
	/* OCW2 0x40 is a no-op */
	out(0x20, 0x40);
	assert_int_equal(reg(M, VIRQ_PIC_PRIORITY_ADD), 2);
	pic_irq(1, 0);
	pic_irq(3, 0);
	pic_irq(5, 0);
}

static void test_special_mask(void **state)
{
	(void)state;
	pic_irq(3, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x23);
	pic_irq(5, 1);
	assert_int_equal(X.intr, 0); /* blocked by IRQ 3 in service */
	out(0x21, 0x08);	     /* mask IRQ 3 ... */
	assert_int_equal(X.intr, 0);
	out(0x20, 0x68); /* ... and enter special mask mode */
	assert_int_equal(reg(M, VIRQ_PIC_SPECIAL_MASK), 1);
	pic_irq(5, 0);
	pic_irq(5, 1);
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x25);
	out(0x20, 0x65);
	out(0x20, 0x48); /* leave special mask mode */
	assert_int_equal(reg(M, VIRQ_PIC_SPECIAL_MASK), 0);
	out(0x21, 0x00);
	out(0x20, 0x63);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0);
	pic_irq(3, 0);
	pic_irq(5, 0);
}

static void test_read_registers_and_poll(void **state)
{
	(void)state;
	pic_irq(6, 1);
	pic_irq(3, 1);
	out(0x20, 0x0a); /* read IRR */
	assert_int_equal(in(0x20), 0x48);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x23);
	out(0x20, 0x0b); /* read ISR */
	assert_int_equal(in(0x20), 0x08);
	out(0x20, 0x20);
	/* poll: the read acknowledges the highest request */
	out(0x20, 0x0c);
	assert_int_equal(reg(M, VIRQ_PIC_POLL), 1);
	assert_int_equal(in(0x20), 0x86);
	assert_int_equal(reg(M, VIRQ_PIC_POLL), 0);
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0);
	assert_int_equal(X.acks[6], 1);
	/* nothing requested: KVM's 0x07 */
	out(0x20, 0x0c);
	assert_int_equal(in(0x20), 0x07);
	/* the read register choice survived the polls */
	assert_int_equal(in(0x20), 0x00);
	pic_irq(3, 0);
	pic_irq(6, 0);
}

static void test_auto_eoi(void **state)
{
	(void)state;
	init_pair(0x03);
	assert_int_equal(reg(M, VIRQ_PIC_AUTO_EOI), 1);
	pic_irq(7, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x27);
	assert_int_equal(reg(M, VIRQ_PIC_ISR), 0);
	assert_int_equal(X.acks[7], 1); /* acknowledged at INTA */
	/* with rotation */
	out(0x20, 0x80);
	pic_irq(7, 0);
	pic_irq(7, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x27);
	assert_int_equal(reg(M, VIRQ_PIC_PRIORITY_ADD), 0);
	pic_irq(4, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x24);
	assert_int_equal(reg(M, VIRQ_PIC_PRIORITY_ADD), 5);
	pic_irq(4, 0);
	pic_irq(7, 0);
}

static void test_icw1_resets(void **state)
{
	(void)state;
	out(0x21, 0xf0);
	out(0x20, 0x6b); /* special mask, read ISR */
	out(0x4d0, 0x08);
	pic_irq(3, 1); /* level, ELCR */
	pic_irq(1, 1); /* edge */
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0x0a);
	init_pair(0x01);
	assert_int_equal(reg(M, VIRQ_PIC_IMR), 0);
	assert_int_equal(reg(M, VIRQ_PIC_SPECIAL_MASK), 0);
	assert_int_equal(reg(M, VIRQ_PIC_READ_REG_SELECT), 0);
	/* edge latches reset; the level request stays */
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0x08);
	assert_int_equal(reg(M, VIRQ_PIC_ELCR), 0x08);
	pic_irq(1, 0);
	pic_irq(3, 0);
	out(0x4d0, 0);
}

static void test_sources_or(void **state)
{
	(void)state;
	assert_int_equal(virq_set_irq(X.vm, 9, 1, 5), 1);
	assert_int_equal(reg(S, VIRQ_PIC_IRR), 0x02);
	/* a second source on a line already high is no edge */
	virq_set_irq(X.vm, 9, 1, 6);
	virq_set_irq(X.vm, 9, 0, 5);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x29);
	out(0xa0, 0x20);
	out(0x20, 0x20);
	virq_set_irq(X.vm, 9, 1, 5);
	assert_int_equal(reg(S, VIRQ_PIC_IRR), 0x00);
	uint64_t mask = 0;
	assert_int_equal(virq_device_get_attr(X.pic, VIRQ_PIC_GRP_LINE, 9, &mask, 8), 0);
	assert_int_equal(mask, (1u << 5) | (1u << 6));
	virq_set_irq(X.vm, 9, 0, 5);
	virq_set_irq(X.vm, 9, 0, 6);
}

static void test_byte_access_only(void **state)
{
	uint64_t v = 1, before = virq_vm_guest_errors(X.vm);

	(void)state;
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_PIO, 0x20, 2, 0x0011), 0);
	assert_int_equal(reg(M, VIRQ_PIC_INIT_STATE), 0); /* dropped */
	assert_int_equal(virq_io_read(X.vm, 0, VIRQ_SPACE_PIO, 0x20, 2, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(virq_vm_guest_errors(X.vm), before + 2);
}

static void test_attributes(void **state)
{
	uint8_t v = 9;
	uint64_t big = 0;

	(void)state;
	assert_int_equal(virq_device_has_attr(X.pic, M, VIRQ_PIC_ELCR_MASK), 0);
	assert_int_equal(virq_device_has_attr(X.pic, S, VIRQ_PIC_NR_REGS), -ENXIO);
	assert_int_equal(virq_device_has_attr(X.pic, VIRQ_PIC_GRP_LINE, 16), -ENXIO);
	assert_int_equal(virq_device_has_attr(X.pic, 99, 0), -ENXIO);
	assert_int_equal(virq_device_get_attr(X.pic, M, 0, &big, 8), -EINVAL);
	assert_int_equal(virq_device_get_attr(X.pic, VIRQ_PIC_GRP_SYNC, 0, NULL, 0),
			 -EPERM);
	assert_int_equal(virq_device_set_attr(X.pic, M, VIRQ_PIC_PRIORITY_ADD, &v, 1),
			 -EINVAL);
	v = 0x21;
	assert_int_equal(virq_device_set_attr(X.pic, M, VIRQ_PIC_IRQ_BASE, &v, 1),
			 -EINVAL);
	v = 4;
	assert_int_equal(virq_device_set_attr(X.pic, S, VIRQ_PIC_INIT_STATE, &v, 1),
			 -EINVAL);
	v = 2;
	assert_int_equal(virq_device_set_attr(X.pic, S, VIRQ_PIC_POLL, &v, 1), -EINVAL);
	v = 0xff;
	assert_int_equal(virq_device_set_attr(X.pic, M, VIRQ_PIC_ELCR_MASK, &v, 1),
			 -EINVAL);
	assert_int_equal(virq_device_set_attr(X.pic, S, VIRQ_PIC_ELCR, &v, 1), -EINVAL);
	v = 0xf8;
	assert_int_equal(virq_device_set_attr(X.pic, M, VIRQ_PIC_ELCR_MASK, &v, 1), 0);
	/* setting state moves nothing until SYNC */
	v = 0x10;
	assert_int_equal(virq_device_set_attr(X.pic, M, VIRQ_PIC_IRR, &v, 1), 0);
	assert_int_equal(X.intr, 0);
	assert_int_equal(virq_device_set_attr(X.pic, VIRQ_PIC_GRP_SYNC, 0, NULL, 0), 0);
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x24);
	out(0x20, 0x20);
	assert_int_equal(virq_pic_read_irq(NULL), -EINVAL);
	assert_int_equal(virq_pic_read_irq(X.io), -EINVAL);
	assert_int_equal(virq_pic_output(X.io), -EINVAL);
}

/* Copy every attribute into a second VM's PIC: it behaves the same. */
static void test_save_restore(void **state)
{
	struct virq_vm_config cfg = { .nr_vcpus = 1 };
	struct virq_vm *vm2;
	struct virq_device *pic2;
	int v1, v2;

	(void)state;
	out(0x20, 0xc2); /* some rotation */
	out(0x4d1, 0x02);
	pic_irq(9, 1); /* level, slave */
	pic_irq(4, 1); /* edge */
	pic_irq(6, 1);
	assert_int_equal(virq_pic_read_irq(X.pic), 0x24);
	out(0x21, 0x40);

	assert_int_equal(virq_vm_create(&cfg, &vm2), 0);
	assert_int_equal(virq_device_create(vm2, "i8259", NULL, &pic2), 0);
	for (uint32_t grp = M; grp <= S; grp++)
		for (uint64_t r = 0; r < VIRQ_PIC_NR_REGS; r++) {
			uint8_t v;

			assert_int_equal(virq_device_get_attr(X.pic, grp, r, &v, 1), 0);
			assert_int_equal(virq_device_set_attr(pic2, grp, r, &v, 1), 0);
		}
	for (uint64_t irq = 0; irq < 16; irq++) {
		uint64_t m;

		assert_int_equal(
			virq_device_get_attr(X.pic, VIRQ_PIC_GRP_LINE, irq, &m, 8), 0);
		assert_int_equal(
			virq_device_set_attr(pic2, VIRQ_PIC_GRP_LINE, irq, &m, 8), 0);
	}
	assert_int_equal(virq_device_set_attr(pic2, VIRQ_PIC_GRP_SYNC, 0, NULL, 0), 0);
	assert_int_equal(virq_pic_output(pic2), virq_pic_output(X.pic));
	for (int i = 0; i < 4; i++) {
		v1 = virq_pic_read_irq(X.pic);
		v2 = virq_pic_read_irq(pic2);
		assert_int_equal(v1, v2);
		assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_PIO, 0x20, 1, 0x20),
				 0);
		assert_int_equal(virq_io_write(vm2, 0, VIRQ_SPACE_PIO, 0x20, 1, 0x20), 0);
		if (v1 == 0x22)
			continue;
		assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_PIO, 0xa0, 1, 0x20),
				 0);
		assert_int_equal(virq_io_write(vm2, 0, VIRQ_SPACE_PIO, 0xa0, 1, 0x20), 0);
	}
	/* the line state came along: lowering it in the copy works */
	assert_int_equal(virq_set_irq(vm2, 9, 0, 0), -1); /* no routes there */
	virq_vm_destroy(vm2);
	pic_irq(9, 0);
	pic_irq(4, 0);
	pic_irq(6, 0);
}

static void test_reset(void **state)
{
	(void)state;
	pic_irq(3, 1);
	assert_int_equal(X.intr, 1);
	assert_int_equal(virq_device_reset(X.pic), 0);
	assert_int_equal(X.intr, 0);
	assert_int_equal(reg(M, VIRQ_PIC_IRR), 0);
	assert_int_equal(reg(M, VIRQ_PIC_IRQ_BASE), 0);
	assert_int_equal(reg(M, VIRQ_PIC_ELCR_MASK), 0xf8);
	/* the line is still high: not a new edge */
	assert_int_equal(reg(M, VIRQ_PIC_LAST_IRR), 0x08);
	pic_irq(3, 0);
}

/* IMR changes run the mask notifiers of exactly the IRQs that changed;
 * IOAPIC entry mask changes do too. */
static void test_mask_notifiers(void **state)
{
	(void)state;
	out(0xa1, 0x12); /* IRQ 9 and 12 */
	for (uint32_t g = 0; g < 16; g++)
		assert_int_equal(X.mask_calls[g], g == 9 || g == 12);
	assert_true(X.masked[9] && X.masked[12]);
	out(0xa1, 0x02);
	assert_int_equal(X.mask_calls[12], 2);
	assert_false(X.masked[12]);
	assert_int_equal(X.mask_calls[9], 1);
	/* a notifier can go away */
	assert_int_equal(virq_mask_notifier_remove(X.vm, 9, on_mask, &X), 0);
	assert_int_equal(virq_mask_notifier_remove(X.vm, 9, on_mask, &X), -ENOENT);
	out(0xa1, 0x00);
	assert_int_equal(X.mask_calls[9], 1);
	/* ICW1 clears the IMR: the IRQs it unmasks are notified too */
	out(0x21, 0x40);
	assert_true(X.masked[6]);
	out(0x20, 0x11);
	assert_int_equal(X.mask_calls[6], 2);
	assert_false(X.masked[6]);
	init_pair(0x01);
	assert_int_equal(X.mask_calls[6], 2);
	/* IOAPIC: unmask entry 12 (edge, vector 0x50), then rewrite it masked */
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_MMIO, 0xfec00000, 4, 0x28), 0);
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_MMIO, 0xfec00010, 4, 0x50), 0);
	assert_int_equal(X.mask_calls[12], 3);
	assert_false(X.masked[12]);
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_MMIO, 0xfec00010, 4, 0x51), 0);
	assert_int_equal(X.mask_calls[12], 3); /* the mask did not change */
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_MMIO, 0xfec00010, 4, 0x10050),
			 0);
	assert_int_equal(X.mask_calls[12], 4);
	assert_true(X.masked[12]);
	/* bad arguments */
	assert_int_equal(virq_mask_notifier_add(X.vm, 1u << 30, on_mask, &X), -EINVAL);
	assert_int_equal(virq_mask_notifier_add(X.vm, 1, NULL, &X), -EINVAL);
}

/* GSI 0-15 reach both chips: the result is the sum of both answers. */
static void test_both_chips(void **state)
{
	(void)state;
	/* IOAPIC pin 3 unmasked, edge, vector 0x40 */
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_MMIO, 0xfec00000, 4, 0x16), 0);
	assert_int_equal(virq_io_write(X.vm, 0, VIRQ_SPACE_MMIO, 0xfec00010, 4, 0x40), 0);
	assert_int_equal(virq_set_irq(X.vm, 3, 1, 0), 2);
	out(0x21, 0x08);
	/* a masked PIC's -1 does not count */
	assert_int_equal(virq_set_irq(X.vm, 3, 0, 0), 1);
	assert_int_equal(virq_set_irq(X.vm, 3, 1, 0), 1);
	virq_set_irq(X.vm, 3, 0, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_sequence),
		T(test_edge_inta_eoi),
		T(test_edge_coalescing),
		T(test_masked),
		T(test_level_elcr),
		T(test_spurious_irq7),
		T(test_priority_nesting),
		T(test_rotation),
		T(test_special_mask),
		T(test_read_registers_and_poll),
		T(test_auto_eoi),
		T(test_icw1_resets),
		T(test_sources_or),
		T(test_byte_access_only),
		T(test_attributes),
		T(test_save_restore),
		T(test_reset),
		T(test_both_chips),
		T(test_mask_notifiers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
