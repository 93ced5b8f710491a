/* SPDX-License-Identifier: MIT */
/*
 * ioapic_edge: IOAPIC pin 10 programmed edge-triggered, fixed, to this
 * CPU; pc-testdev pulses GSI 10 ("count=N" times, default 100) and every
 * pulse must be one interrupt.  A line raised twice without lowering is
 * one edge, so one interrupt.
 */
#include "kernel.h"

#define PIN 10
#define VECTOR 0x50

static volatile uint32_t count;

static void handler(struct irq_frame *f)
{
	(void)f;
	count++;
	lapic_eoi();
}

/* Wait for interrupts up to @want; the fence bounds the wait. */
static void wait_count(uint32_t want)
{
	irq_fence();
	if (count != want)
		fail("%u interrupts, expected %u", count, want);
}

void kmain(void)
{
	uint32_t n = cmdline_uint("count", 100);

	pic_init(0x20, 0x28); /* and masked: only the IOAPIC delivers */
	lapic_enable();
	irq_set_handler(VECTOR, handler);
	ioapic_set_redir(PIN, VECTOR, (uint8_t)lapic_id());
	if ((ioapic_redir_low(PIN) & 0x1ffff) != VECTOR)
		fail("redirection entry reads 0x%x", ioapic_redir_low(PIN));

	for (uint32_t i = 1; i <= n; i++) {
		testdev_set_irq(PIN, 1);
		testdev_set_irq(PIN, 0);
		wait_count(i);
	}
	if (lapic_isr_set(VECTOR))
		fail("ISR bit still set after EOI");

	/* a second raise of a high line is no new edge */
	testdev_set_irq(PIN, 1);
	testdev_set_irq(PIN, 1);
	testdev_set_irq(PIN, 0);
	wait_count(n + 1);
	printf("ioapic_edge: %u edges, %u interrupts\n", n + 1, count);
}
