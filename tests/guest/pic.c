/* SPDX-License-Identifier: MIT */
/* 8259A pair: master 0x20/0x21, slave 0xA0/0xA1, cascade on IRQ 2. */
#include "kernel.h"

void pic_init(uint8_t master_base, uint8_t slave_base)
{
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(0xa0, 0x11);
	outb(0x21, master_base); /* ICW2: vector base */
	outb(0xa1, slave_base);
	outb(0x21, 0x04); /* ICW3: slave on IRQ 2 */
	outb(0xa1, 0x02); /* ICW3: slave id 2 */
	outb(0x21, 0x01); /* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	pic_set_mask(0xffff);
}

void pic_set_mask(uint16_t mask)
{
	outb(0x21, (uint8_t)mask);
	outb(0xa1, (uint8_t)(mask >> 8));
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(0xa0, 0x20);
	outb(0x20, 0x20);
}

static uint16_t pic_read_ocw3(uint8_t ocw3)
{
	uint16_t v;

	outb(0x20, ocw3);
	outb(0xa0, ocw3);
	v = (uint16_t)(inb(0x20) | inb(0xa0) << 8);
	return v;
}

uint16_t pic_read_isr(void)
{
	return pic_read_ocw3(0x0b); /* OCW3: read ISR */
}

uint16_t pic_read_irr(void)
{
	return pic_read_ocw3(0x0a); /* OCW3: read IRR */
}
