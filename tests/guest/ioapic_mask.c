/* SPDX-License-Identifier: MIT */
/*
 * ioapic_mask: the IOAPIC's mask bit.
 *  - level pin 12 masked, line raised: nothing arrives and remote IRR
 *    stays clear; unmasking with the line high delivers once (the handler
 *    lowers the line before its EOI);
 *  - a level line raised and lowered while masked: nothing on unmask;
 *  - edge pin 13: an edge while masked (pulse, or a line left high) is
 *    not delivered on unmask, as KVM does (an 82093AA would have latched
 *    it); unmasked, the next edge is delivered.
 * Repeated "count=N" times (default 5).
 *
 * The level line is lowered after the unmask has delivered it (the
 * vector is in the LAPIC's IRR) and before the CPU takes it: this
 * machine's PVM backend ends an interrupt as it delivers it, so a line
 * lowered in the handler may be lowered after the EOI and be delivered
 * once more (always with KVM's IOAPIC, now and then with virq's; docs/vm.md).
 * "level_early=0" lowers it in the handler instead, for a LAPIC that
 * waits for the EOI write.
 */
#include "kernel.h"

#define PIN_L 12
#define VEC_L 0x52
#define PIN_E 13
#define VEC_E 0x53

static volatile uint32_t count_l, count_e, early;

static void level_handler(struct irq_frame *f)
{
	(void)f;
	count_l++;
	if (!early)
		testdev_set_irq(PIN_L, 0);
	lapic_eoi();
}

static void edge_handler(struct irq_frame *f)
{
	(void)f;
	count_e++;
	lapic_eoi();
}

static void set_low(unsigned pin, uint32_t low)
{
	ioapic_write(0x10 + 2 * pin, low);
}

static void expect(const char *what, uint32_t got, uint32_t want)
{
	if (got != want)
		fail("%s: %u interrupts, expected %u", what, got, want);
}

void kmain(void)
{
	uint32_t n = cmdline_uint("count", 5), id;

	early = cmdline_uint("level_early", 1);
	pic_init(0x20, 0x28);
	lapic_enable();
	id = lapic_id();
	irq_set_handler(VEC_L, level_handler);
	irq_set_handler(VEC_E, edge_handler);
	ioapic_set_redir(PIN_L, VEC_L | IOAPIC_REDIR_LEVEL | IOAPIC_REDIR_MASKED,
			 (uint8_t)id);
	ioapic_set_redir(PIN_E, VEC_E | IOAPIC_REDIR_MASKED, (uint8_t)id);

	for (uint32_t i = 0; i < n; i++) {
		/* level, masked, line high: nothing */
		testdev_set_irq(PIN_L, 1);
		irq_fence();
		expect("level line high while masked", count_l, i);
		if (ioapic_redir_low(PIN_L) & IOAPIC_REDIR_REMOTE_IRR)
			fail("remote IRR set on a masked pin");
		/* unmask with the line high: delivered once */
		set_low(PIN_L, VEC_L | IOAPIC_REDIR_LEVEL);
		if (early) {
			if (!lapic_irr_set(VEC_L))
				fail("unmasking a high level line delivered nothing");
			testdev_set_irq(PIN_L, 0);
		}
		expect("unmasking a high level line",
		       irq_wait_for(&count_l, i + 1, IRQ_WAIT_FENCES), i + 1);
		if (ioapic_redir_low(PIN_L) & IOAPIC_REDIR_REMOTE_IRR)
			fail("remote IRR set after the EOI");
		/* masked again; a level pulse while masked is gone on unmask */
		set_low(PIN_L, VEC_L | IOAPIC_REDIR_LEVEL | IOAPIC_REDIR_MASKED);
		testdev_set_irq(PIN_L, 1);
		testdev_set_irq(PIN_L, 0);
		set_low(PIN_L, VEC_L | IOAPIC_REDIR_LEVEL);
		irq_fence();
		expect("level pulse while masked, then unmask", count_l, i + 1);
		set_low(PIN_L, VEC_L | IOAPIC_REDIR_LEVEL | IOAPIC_REDIR_MASKED);

		/* edge pulse while masked: not delivered on unmask */
		testdev_set_irq(PIN_E, 1);
		testdev_set_irq(PIN_E, 0);
		irq_fence();
		expect("edge while masked", count_e, i);
		set_low(PIN_E, VEC_E);
		irq_fence();
		expect("edge pulsed while masked, after unmask", count_e, i);
		/* edge line left high while masked: not delivered on unmask */
		set_low(PIN_E, VEC_E | IOAPIC_REDIR_MASKED);
		testdev_set_irq(PIN_E, 1);
		set_low(PIN_E, VEC_E);
		irq_fence();
		expect("edge raised while masked, after unmask", count_e, i);
		testdev_set_irq(PIN_E, 0);
		/* unmasked: the next edge arrives */
		testdev_set_irq(PIN_E, 1);
		testdev_set_irq(PIN_E, 0);
		expect("edge while unmasked",
		       irq_wait_for(&count_e, i + 1, IRQ_WAIT_FENCES), i + 1);
		set_low(PIN_E, VEC_E | IOAPIC_REDIR_MASKED);
	}
	if (lapic_isr_set(VEC_L) || lapic_isr_set(VEC_E))
		fail("vector still in service");
	printf("ioapic_mask: %u rounds, %u level and %u edge interrupts, none while "
	       "masked\n",
	       n, count_l, count_e);
}
