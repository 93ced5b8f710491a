/* SPDX-License-Identifier: MIT */
/*
 * ipi: "count=N" (default 1000) self-IPIs, alternating the "self"
 * shorthand and a physical destination of our own APIC id; each must
 * arrive exactly once, and the ISR must be clear after EOI.
 */
#include "kernel.h"

#define VECTOR 0x60

static volatile uint32_t count;

static void handler(struct irq_frame *f)
{
	(void)f;
	count++;
	lapic_eoi();
}

void kmain(void)
{
	uint32_t n = cmdline_uint("count", 1000), id;

	lapic_enable();
	id = lapic_id();
	irq_set_handler(VECTOR, handler);
	for (uint32_t i = 1; i <= n; i++) {
		if (i & 1)
			lapic_icr(0, ICR_SELF | ICR_FIXED | ICR_ASSERT | VECTOR);
		else
			lapic_icr(id, ICR_FIXED | ICR_ASSERT | VECTOR);
		while (count < i)
			sti_hlt();
		if (count != i)
			fail("IPI %u: %u interrupts", i, count);
	}
	irq_fence();
	if (count != n)
		fail("%u interrupts after %u IPIs", count, n);
	if (lapic_isr_set(VECTOR) || lapic_irr_set(VECTOR))
		fail("vector still in ISR/IRR");
	printf("ipi: %u self-IPIs delivered\n", count);
}
