/* SPDX-License-Identifier: MIT */
/* fw_cfg (legacy ports 0x510/0x511) and AP start-up. */
#include "kernel.h"

void fwcfg_read(uint16_t key, void *buf, size_t len)
{
	uint8_t *p = buf;
	outw(0x510, key);
	for (size_t i = 0; i < len; i++)
		p[i] = inb(0x511);
}

uint32_t fwcfg_nr_cpus(void)
{
	uint16_t n = 0;
	fwcfg_read(0x05, &n, sizeof(n));
	return n;
}

uint64_t fwcfg_ram_size(void)
{
	uint64_t n = 0;
	fwcfg_read(0x03, &n, sizeof(n));
	return n;
}

extern const char tramp_start[];
extern const uint32_t tramp_size;

/*
 * INIT, then two STARTUPs, to every other CPU.  The MP specification's
 * 10 ms and 200 us pauses are left out: KVM does not need them, and a
 * busy wait here is expensive emulated code.
 */
void start_aps(void)
{
	memcpy((void *)TRAMPOLINE_ADDR, tramp_start, tramp_size);
	lapic_icr(0, ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
	lapic_icr(0,
		  ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | (TRAMPOLINE_ADDR >> 12));
	lapic_icr(0,
		  ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | (TRAMPOLINE_ADDR >> 12));
}

volatile uint32_t smp_online = 1;

static void smp_wake(struct irq_frame *f)
{
	(void)f;
	lapic_eoi();
}

void smp_start(void)
{
	irq_set_handler(SMP_WAKE_VECTOR, smp_wake);
	start_aps();
}

void smp_wait_online(unsigned n)
{
	while (smp_online < n)
		sti_hlt();
}

void ap_online(void)
{
	lapic_enable();
	__atomic_fetch_add(&smp_online, 1, __ATOMIC_SEQ_CST);
	lapic_icr(0, ICR_FIXED | ICR_ASSERT | SMP_WAKE_VECTOR);
}
