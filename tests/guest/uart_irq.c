/* SPDX-License-Identifier: MIT */
/*
 * uart_irq: the 16550's interrupts through IOAPIC pin 4.  Enabling the
 * THR-empty interrupt (with MCR.OUT2) raises one at once, acknowledged by
 * reading IIR; in loopback mode each byte written comes back as a
 * received-data interrupt, acknowledged by reading RBR.
 */
#include "kernel.h"

#define COM1 0x3f8
#define PIN 4
#define VECTOR 0x44

static volatile uint32_t thre, nrx;
static volatile char rx[8];

static void handler(struct irq_frame *f)
{
	uint8_t iir = inb(COM1 + 2) & 0x0f;
	(void)f;
	if (iir == 0x02)
		thre++;
	else if (iir == 0x04 && nrx < sizeof(rx))
		rx[nrx++] = (char)inb(COM1);
	lapic_eoi();
}

void kmain(void)
{
	static const char msg[] = "virq";

	pic_init(0x20, 0x28);
	lapic_enable();
	irq_set_handler(VECTOR, handler);
	ioapic_set_redir(PIN, VECTOR, (uint8_t)lapic_id());

	outb(COM1 + 4, 0x08); /* MCR: OUT2 gates the IRQ */
	outb(COM1 + 1, 0x02); /* IER: THR empty */
	irq_fence();
	outb(COM1 + 1, 0x00);
	if (thre != 1)
		fail("%u THR-empty interrupts, expected 1", thre);

	outb(COM1 + 4, 0x18); /* OUT2 | loopback */
	outb(COM1 + 1, 0x01); /* IER: received data */
	for (unsigned i = 0; i < sizeof(msg) - 1; i++) {
		outb(COM1, (uint8_t)msg[i]);
		irq_fence();
		if (nrx != i + 1 || rx[i] != msg[i] || (inb(COM1 + 5) & 0x01))
			fail("loopback byte %u: %u received", i, nrx);
	}
	outb(COM1 + 1, 0x00);
	outb(COM1 + 4, 0x00);
	printf("uart_irq: 1 THR-empty and %u received-data interrupts\n", nrx);
}
