/* SPDX-License-Identifier: MIT */
/*
 * smp: the boot CPU starts every AP (INIT/SIPI/SIPI); each AP reports its
 * APIC id over serial, counts itself in and wakes the boot CPU with an
 * IPI.  Pass when fw_cfg's CPU count have reported, each id once.
 */
#include "kernel.h"

#define WAKE_VECTOR 0x40

static volatile uint32_t online = 1;
static volatile uint64_t seen = 1; /* bit n: APIC id n reported */

static void wake(struct irq_frame *f)
{
	(void)f;
	lapic_eoi();
}

void ap_main(unsigned cpu)
{
	uint32_t id = lapic_id();
	lapic_enable();
	printf("smp: CPU %u up, APIC id %u\n", cpu, id);
	__atomic_fetch_or(&seen, 1ull << (id & 63), __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&online, 1, __ATOMIC_SEQ_CST);
	lapic_icr(0, ICR_FIXED | ICR_ASSERT | WAKE_VECTOR);
}

void kmain(void)
{
	uint32_t n = fwcfg_nr_cpus();
	if (n < 1 || n > MAX_CPUS)
		fail("fw_cfg CPU count %u", n);
	if (lapic_id() != 0)
		fail("boot CPU has APIC id %u", lapic_id());
	irq_set_handler(WAKE_VECTOR, wake);
	lapic_enable();
	start_aps();
	while (online < n)
		sti_hlt();
	if (online != n || seen != (n == 64 ? ~0ull : (1ull << n) - 1))
		fail("online %u, ids 0x%lx", online, (unsigned long)seen);
	printf("smp: all %u CPUs up\n", n);
}
