/* SPDX-License-Identifier: MIT */
/* Local APIC (xAPIC MMIO at 0xFEE00000) and IOAPIC (0xFEC00000) helpers. */
#include "kernel.h"

uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

void lapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = val;
}

void lapic_enable(void)
{
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, 0x100 | 0xff);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_icr(uint32_t dest, uint32_t low)
{
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, low);
	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		cpu_relax();
}

bool lapic_isr_set(uint8_t vector)
{
	return lapic_read(LAPIC_ISR + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

bool lapic_irr_set(uint8_t vector)
{
	return lapic_read(LAPIC_IRR + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

bool lapic_tmr_set(uint8_t vector)
{
	return lapic_read(LAPIC_TMR + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}

void ioapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = val;
}

/* Destination first, so the entry never points at a stale APIC. */
void ioapic_set_redir(unsigned pin, uint32_t low, uint8_t dest)
{
	ioapic_write(0x10 + 2 * pin, IOAPIC_REDIR_MASKED);
	ioapic_write(0x11 + 2 * pin, (uint32_t)dest << 24);
	ioapic_write(0x10 + 2 * pin, low);
}

uint32_t ioapic_redir_low(unsigned pin)
{
	return ioapic_read(0x10 + 2 * pin);
}

/*
 * Fence: a self-IPI at the lowest-priority vector.  The LAPIC delivers
 * higher vectors first, so once the fence arrives no interrupt that was
 * pending before it is still waiting.
 */
#define FENCE_VECTOR 0x20
static volatile uint32_t fence_seen;

static void fence_handler(struct irq_frame *f)
{
	(void)f;
	fence_seen++;
	lapic_eoi();
}

void irq_fence(void)
{
	uint32_t want = fence_seen + 1;
	irq_set_handler(FENCE_VECTOR, fence_handler);
	lapic_icr(0, ICR_SELF | ICR_FIXED | ICR_ASSERT | FENCE_VECTOR);
	while (fence_seen < want)
		sti_hlt();
}

uint32_t irq_wait_for(const volatile uint32_t *count, uint32_t want, unsigned max_fences)
{
	for (unsigned i = 0; i < max_fences && *count < want; i++)
		irq_fence();
	irq_fence();
	return *count;
}
