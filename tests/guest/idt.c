/* SPDX-License-Identifier: MIT */
/* The IDT: 256 interrupt gates to boot.S's stubs, a C handler table. */
#include "kernel.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

extern char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t handlers[256];

void idt_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint64_t a = (uintptr_t)isr_stubs + 16 * i;
		idt[i] = (struct idt_gate){
			.off_lo = (uint16_t)a,
			.sel = GDT_CODE64,
			.type = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
			.off_mid = (uint16_t)(a >> 16),
			.off_hi = (uint32_t)(a >> 32),
		};
	}
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void irq_set_handler(uint8_t vector, irq_handler_t fn)
{
	handlers[vector] = fn;
}

void isr_dispatch(struct irq_frame *f);
void isr_dispatch(struct irq_frame *f)
{
	irq_handler_t h = handlers[f->vector & 0xff];
	if (h) {
		h(f);
		return;
	}
	if (f->vector < 32)
		fail("exception %u, error 0x%lx, rip 0x%lx", (unsigned)f->vector,
		     (unsigned long)f->error, (unsigned long)f->rip);
	fail("unexpected interrupt vector %u on APIC %u", (unsigned)f->vector,
	     lapic_id());
}
