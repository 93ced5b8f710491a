/* SPDX-License-Identifier: MIT */
/*
 * pic_extint: the 8259A pair as the interrupt source (virtual wire).
 * The pair is programmed with ICW1-4 (vector bases 0x30/0x38), the LAPIC's
 * LVT0 is ExtINT and every IOAPIC entry stays masked.  pc-testdev pulses
 * IRQ 3 (master) and IRQ 10 (slave, through the cascade on IRQ 2).
 *  - Each arrives once with its vector; the handler sees its ISR bits
 *    (master bit 3; slave bit 2 and master bit 2 for IRQ 10) and EOIs
 *    with OCW2: non-specific for IRQ 3, specific EOIs for IRQ 10.
 *  - Both raised together: IRQ 10 first (the cascade, IR2, outranks
 *    IR3), then IRQ 3.
 *  - IRQ 3 raised with IF=0 and masked in the IMR before the CPU can take
 *    it: the master's INT falls with the mask, so no INTA happens and
 *    nothing arrives (neither vector 0x33 nor a spurious 0x37: the 8259A
 *    and KVM only give the spurious vector when INTA finds the request
 *    gone, and the INT is re-evaluated at the IMR write); ISR bit 7 stays
 *    clear.  The request stays latched in IRR and is delivered on unmask.
 *  - The spurious vector on the slave, deterministically: IRQ 10 raised
 *    with IF=0 latches the master's cascade input; masking IRQ 10 in the
 *    slave's IMR leaves that request latched, so the INTA finds the master
 *    asking for IR2 and the slave with nothing: vector 0x38 + 7 (spurious
 *    IRQ 15).  Slave ISR bit 7 stays clear, master ISR bit 2 is set and is
 *    ended with a master-only EOI (what Linux does).  IRQ 10 stays in the
 *    slave's IRR and arrives on unmask.
 * "count=N" rounds of the first two parts (default 20).
 */
#include "kernel.h"

#define MASTER_BASE 0x30
#define SLAVE_BASE 0x38
#define IRQ_M 3
#define IRQ_S 10
#define VEC_M (MASTER_BASE + IRQ_M)
#define VEC_S (SLAVE_BASE + IRQ_S - 8)
#define VEC_SPURIOUS_M (MASTER_BASE + 7)
#define VEC_SPURIOUS_S (SLAVE_BASE + 7)
#define LVT_EXTINT 0x700

static volatile uint32_t count_m, count_s, count_spur_m, count_spur_s, total;
static volatile uint16_t isr_m, isr_s, isr_spur;
static volatile uint8_t order[2];

static void handler_m(struct irq_frame *f)
{
	(void)f;
	isr_m = pic_read_isr();
	if (total < 2)
		order[total] = IRQ_M;
	count_m++;
	total++;
	outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
}

static void handler_s(struct irq_frame *f)
{
	(void)f;
	isr_s = pic_read_isr();
	if (total < 2)
		order[total] = IRQ_S;
	count_s++;
	total++;
	outb(PIC_SLAVE_CMD, PIC_OCW2_SPECIFIC_EOI | (IRQ_S - 8));
	outb(PIC_MASTER_CMD, PIC_OCW2_SPECIFIC_EOI | 2);
}

static void handler_spurious_m(struct irq_frame *f)
{
	(void)f;
	isr_spur = pic_read_isr();
	count_spur_m++;
	/* no EOI: nothing is in service */
}

static void handler_spurious_s(struct irq_frame *f)
{
	(void)f;
	isr_spur = pic_read_isr();
	count_spur_s++;
	outb(PIC_MASTER_CMD, PIC_OCW2_EOI); /* the cascade's in service */
}

static void pulse(unsigned irq)
{
	testdev_set_irq(irq, 1);
	testdev_set_irq(irq, 0);
}

static void expect(const char *what, uint32_t got, uint32_t want)
{
	if (got != want)
		fail("%s: %u, expected %u", what, got, want);
}

static void check_clear(const char *when)
{
	uint16_t isr = pic_read_isr(), irr = pic_read_irr();

	if (isr || (irr & ((1u << IRQ_M) | (1u << IRQ_S))))
		fail("%s: ISR 0x%x IRR 0x%x", when, isr, irr);
}

#define UNMASKED ((uint16_t) ~((1u << IRQ_M) | (1u << 2) | (1u << IRQ_S)))

void kmain(void)
{
	uint32_t n = cmdline_uint("count", 20);

	pic_init(MASTER_BASE, SLAVE_BASE);
	lapic_enable();
	lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT); /* virtual wire */
	ioapic_write(0x10 + 2 * IRQ_M, IOAPIC_REDIR_MASKED);
	ioapic_write(0x10 + 2 * IRQ_S, IOAPIC_REDIR_MASKED);
	irq_set_handler(VEC_M, handler_m);
	irq_set_handler(VEC_S, handler_s);
	irq_set_handler(VEC_SPURIOUS_M, handler_spurious_m);
	irq_set_handler(VEC_SPURIOUS_S, handler_spurious_s);
	pic_set_mask(UNMASKED);

	for (uint32_t r = 1; r <= n; r++) {
		pulse(IRQ_M);
		expect("IRQ 3 interrupts", irq_wait_for(&count_m, r, IRQ_WAIT_FENCES), r);
		if (isr_m != (1u << IRQ_M))
			fail("IRQ 3 handler: ISR 0x%x", isr_m);
		pulse(IRQ_S);
		expect("IRQ 10 interrupts", irq_wait_for(&count_s, r, IRQ_WAIT_FENCES),
		       r);
		if (isr_s != ((1u << IRQ_S) | (1u << 2)))
			fail("IRQ 10 handler: ISR 0x%x", isr_s);
		expect("interrupts in all", total, 2 * r);
		check_clear("after the EOIs");
	}

	/* both at once: priority order */
	total = 0;
	pulse(IRQ_S);
	pulse(IRQ_M);
	expect("both raised", irq_wait_for(&total, 2, IRQ_WAIT_FENCES), 2);
	/* IRQ 10 comes in on the master's IR2, ahead of IR3 */
	if (order[0] != IRQ_S || order[1] != IRQ_M)
		fail("order IRQ %u then %u, expected 10 then 3", order[0], order[1]);
	check_clear("after both");

	/* raised with IF=0, masked before the CPU can take it */
	testdev_set_irq(IRQ_M, 1);
	pic_set_mask(UNMASKED | (1u << IRQ_M));
	irq_fence();
	testdev_set_irq(IRQ_M, 0);
	expect("IRQ 3 after masking", count_m, n + 1);
	expect("spurious IRQ 7", count_spur_m, 0);
	if (pic_read_isr() & 0x80)
		fail("master ISR bit 7 set");
	if (!(pic_read_irr() & (1u << IRQ_M)))
		fail("the masked request left IRR");
	pic_set_mask(UNMASKED);
	expect("IRQ 3 on unmask", irq_wait_for(&count_m, n + 2, IRQ_WAIT_FENCES), n + 2);
	check_clear("after the unmasked IRQ 3");

	/* spurious IRQ 15: the slave's request gone, the cascade's latched */
	total = 0;
	pulse(IRQ_S);
	pic_set_mask(UNMASKED | (1u << IRQ_S));
	expect("spurious IRQ 15", irq_wait_for(&count_spur_s, 1, IRQ_WAIT_FENCES), 1);
	if (isr_spur != (1u << 2))
		fail("spurious IRQ 15 handler: ISR 0x%x (want master bit 2 only)",
		     isr_spur);
	expect("IRQ 10 while masked", count_s, n + 1);
	pic_set_mask(UNMASKED);
	expect("IRQ 10 on unmask", irq_wait_for(&count_s, n + 2, IRQ_WAIT_FENCES), n + 2);
	expect("spurious IRQ 7", count_spur_m, 0);
	expect("spurious IRQ 15", count_spur_s, 1);
	check_clear("at the end");
	printf("pic_extint: %u rounds of IRQ 3 and IRQ 10 (cascade) by ExtINT, priority "
	       "order, masked request held, spurious IRQ 15 once\n",
	       n);
}
