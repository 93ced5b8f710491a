/* SPDX-License-Identifier: MIT */
/*
 * ioapic_multi: eight IOAPIC pins, edge and level, distinct vectors in
 * several priority classes.  With interrupts off, pc-testdev raises all
 * eight lines and lowers the level ones again once they are delivered
 * (pending in the LAPIC's IRR); then every vector must arrive exactly
 * once.  "count=N" rounds (default 20).  "level_early=0": the level
 * handlers lower their lines instead, which this machine's PVM backend
 * cannot run reliably (it ends an interrupt as it delivers it: see
 * ioapic_mask.c, docs/vm.md).
 */
#include "kernel.h"

#define NPINS 8u

static const struct {
	uint8_t pin, vector;
	bool level;
} pins[NPINS] = {
	{ 3, 0x70, false },  { 5, 0x61, true },	 { 9, 0x92, false },  { 10, 0x53, true },
	{ 14, 0xa4, false }, { 16, 0x45, true }, { 19, 0xb6, false }, { 22, 0x87, true },
};

static volatile uint32_t count[NPINS], total, early;

static void handler(struct irq_frame *f)
{
	for (unsigned i = 0; i < NPINS; i++) {
		if (pins[i].vector != f->vector)
			continue;
		count[i]++;
		total++;
		if (pins[i].level && !early)
			testdev_set_irq(pins[i].pin, 0);
	}
	lapic_eoi();
}

void kmain(void)
{
	uint32_t n = cmdline_uint("count", 20), id;

	early = cmdline_uint("level_early", 1);
	pic_init(0x20, 0x28);
	lapic_enable();
	id = lapic_id();
	for (unsigned i = 0; i < NPINS; i++) {
		irq_set_handler(pins[i].vector, handler);
		ioapic_set_redir(pins[i].pin,
				 pins[i].vector |
					 (pins[i].level ? IOAPIC_REDIR_LEVEL : 0),
				 (uint8_t)id);
	}
	for (uint32_t r = 1; r <= n; r++) {
		for (unsigned i = 0; i < NPINS; i++) {
			testdev_set_irq(pins[i].pin, 1);
			if (!pins[i].level)
				testdev_set_irq(pins[i].pin, 0);
		}
		for (unsigned i = 0; i < NPINS && early; i++) {
			if (!pins[i].level)
				continue;
			if (!lapic_irr_set(pins[i].vector))
				fail("round %u: pin %u not delivered", r, pins[i].pin);
			testdev_set_irq(pins[i].pin, 0);
		}
		irq_wait_for(&total, NPINS * r, IRQ_WAIT_FENCES);
		for (unsigned i = 0; i < NPINS; i++)
			if (count[i] != r)
				fail("round %u: pin %u (vector 0x%x): %u interrupts", r,
				     pins[i].pin, pins[i].vector, count[i]);
		if (total != NPINS * r)
			fail("round %u: %u interrupts in all", r, total);
	}
	for (unsigned i = 0; i < NPINS; i++)
		if (ioapic_redir_low(pins[i].pin) & IOAPIC_REDIR_REMOTE_IRR)
			fail("pin %u: remote IRR left set", pins[i].pin);
	printf("ioapic_multi: %u rounds of %u pins raised together, each vector once per "
	       "round\n",
	       n, NPINS);
}
