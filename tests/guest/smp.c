/* SPDX-License-Identifier: MIT */
/*
 * smp: the boot CPU starts every AP (INIT/SIPI/SIPI); each AP reports its
 * APIC id over serial, counts itself in and wakes the boot CPU with an
 * IPI.  Pass when fw_cfg's CPU count have reported, each id once.
 */
#include "kernel.h"

static volatile uint64_t seen = 1; /* bit n: APIC id n reported */

void ap_main(unsigned cpu)
{
	uint32_t id = lapic_id();
	printf("smp: CPU %u up, APIC id %u\n", cpu, id);
	/* seen before counted: CPU 0 checks seen once all are counted */
	__atomic_fetch_or(&seen, 1ull << (id & 63), __ATOMIC_SEQ_CST);
	ap_online();
}

void kmain(void)
{
	uint32_t n = fwcfg_nr_cpus();
	if (n < 1 || n > MAX_CPUS)
		fail("fw_cfg CPU count %u", n);
	if (lapic_id() != 0)
		fail("boot CPU has APIC id %u", lapic_id());
	lapic_enable();
	smp_start();
	smp_wait_online(n);
	if (smp_online != n || seen != (n == 64 ? ~0ull : (1ull << n) - 1))
		fail("online %u, ids 0x%lx", smp_online, (unsigned long)seen);
	printf("smp: all %u CPUs up\n", n);
}
