/* SPDX-License-Identifier: MIT */
/*
 * smp_ioapic: IOAPIC delivery to every CPU in turn.  The boot CPU starts
 * the APs, then for each CPU c programs pin 16 (edge, vector 0x56) and
 * pin 17 (level, vector 0x57) with physical destination APIC id c, and
 * "count=N" times (default 5):
 *  - pulses pin 16: CPU c, and only CPU c, takes vector 0x56 (an AP's
 *    handler wakes the boot CPU with an IPI);
 *  - has CPU c itself run a level round (asked by IPI): with interrupts
 *    off it raises pin 17, finds vector 0x57 pending in its own LAPIC
 *    (so the IOAPIC sent it there), lowers the line, takes the interrupt
 *    and EOIs it.  That EOI comes from CPU c's vCPU and must clear remote
 *    IRR, or the next round's raise would deliver nothing.  The boot CPU
 *    waits for that (fences, at most about 1 s): an EOI reaches the
 *    IOAPIC some time after the other CPU's write, here even more so
 *    (virq-vm's split irqchip flushes an AP's deferred EOI after
 *    --eoi-flush microseconds; docs/vm.md, "The PVM backend").
 * The line is lowered before the interrupt is taken because this
 * machine's PVM backend ends an interrupt as it delivers it (docs/vm.md).
 * "level=N" runs the level rounds on CPUs 0..N-1 only (default: all).
 * Diagnostics of that EOI path (docs/vm.md): "ap_out=1" makes an AP write
 * an unclaimed port after its round (an exit to the VMM), "ap_spin=N"
 * makes it spin N pause loops before it halts again.
 */
#include "kernel.h"

#define PIN_E 16
#define VEC_E 0x56
#define PIN_L 17
#define VEC_L 0x57
static volatile uint32_t target; /* APIC id that may take the interrupts */
static volatile uint32_t got_e[MAX_CPUS], got_l[MAX_CPUS], wrong, wrong_id;
/* level round requests: CPU c runs one when req[c] != done[c] */
static volatile uint32_t req[MAX_CPUS], done[MAX_CPUS], cmd_failed;
static volatile uint32_t ap_out, ap_spin;

static void note(volatile uint32_t *counts)
{
	uint32_t id = lapic_id();

	if (id != target || id >= MAX_CPUS) {
		__atomic_store_n(&wrong_id, id, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&wrong, 1, __ATOMIC_SEQ_CST);
	} else {
		__atomic_fetch_add(&counts[id], 1, __ATOMIC_SEQ_CST);
	}
}

static void wake_boot_cpu(void)
{
	if (lapic_id() != 0)
		lapic_icr(0, ICR_FIXED | ICR_ASSERT | SMP_WAKE_VECTOR);
}

static void edge_handler(struct irq_frame *f)
{
	(void)f;
	note(got_e);
	lapic_eoi();
	wake_boot_cpu();
}

static void level_handler(struct irq_frame *f)
{
	(void)f;
	note(got_l);
	lapic_eoi();
}

/* A level round on this CPU, interrupts off. */
static void level_round(void)
{
	testdev_set_irq(PIN_L, 1);
	if (!lapic_irr_set(VEC_L))
		__atomic_fetch_add(&cmd_failed, 1, __ATOMIC_SEQ_CST);
	testdev_set_irq(PIN_L, 0);
	while (lapic_irr_set(VEC_L))
		sti_hlt();
}

void ap_main(unsigned cpu)
{
	uint32_t id;

	(void)cpu;
	ap_online();
	id = lapic_id() % MAX_CPUS;
	for (;;) {
		sti_hlt();
		uint32_t seq = __atomic_load_n(&req[id], __ATOMIC_SEQ_CST);
		if (seq != done[id]) {
			level_round();
			if (ap_out)
				outb(0x80, 0);
			for (uint32_t i = 0; i < ap_spin; i++)
				cpu_relax();
			__atomic_store_n(&done[id], seq, __ATOMIC_SEQ_CST);
			wake_boot_cpu();
		}
	}
}

static void expect(const char *what, uint32_t c, uint32_t got, uint32_t want)
{
	if (got != want)
		fail("CPU %u: %s: %u interrupts, expected %u (%u to the wrong CPU, last APIC %u)",
		     c, what, got, want, wrong, wrong_id);
}

/* Wait until the level pin's remote IRR is clear; the fences it took. */
static unsigned wait_remote_irr(uint32_t c)
{
	unsigned i = 0;

	while (ioapic_redir_low(PIN_L) & IOAPIC_REDIR_REMOTE_IRR) {
		if (i++ == IRQ_WAIT_FENCES)
			fail("CPU %u: remote IRR left set", c);
		irq_fence();
	}
	return i;
}

void kmain(void)
{
	uint32_t n = fwcfg_nr_cpus(), rounds = cmdline_uint("count", 5);
	uint32_t level = cmdline_uint("level", MAX_CPUS);
	unsigned fences, max_fences[2] = { 0, 0 }; /* CPU 0, the APs */

	ap_out = cmdline_uint("ap_out", 0);
	ap_spin = cmdline_uint("ap_spin", 0);

	if (n < 1 || n > MAX_CPUS)
		fail("fw_cfg CPU count %u", n);
	pic_init(0x20, 0x28);
	irq_set_handler(VEC_E, edge_handler);
	irq_set_handler(VEC_L, level_handler);
	lapic_enable();
	smp_start();
	/* bounded, unlike smp_wait_online: a lost AP fails with a reason */
	for (unsigned i = 0; i < IRQ_WAIT_FENCES && smp_online < n; i++)
		irq_fence();
	if (smp_online != n)
		fail("%u of %u CPUs online", smp_online, n);

	for (uint32_t c = 0; c < n; c++) {
		target = c;
		ioapic_set_redir(PIN_E, VEC_E, (uint8_t)c);
		ioapic_set_redir(PIN_L, VEC_L | IOAPIC_REDIR_LEVEL, (uint8_t)c);
		for (uint32_t r = 1; r <= rounds; r++) {
			testdev_set_irq(PIN_E, 1);
			testdev_set_irq(PIN_E, 0);
			expect("edge", c, irq_wait_for(&got_e[c], r, IRQ_WAIT_FENCES), r);
			if (c >= level)
				continue;
			if (c == 0) {
				level_round();
			} else {
				uint32_t seq = req[c] + 1;
				__atomic_store_n(&req[c], seq, __ATOMIC_SEQ_CST);
				lapic_icr(c, ICR_FIXED | ICR_ASSERT | SMP_WAKE_VECTOR);
				for (unsigned i = 0;
				     i < IRQ_WAIT_FENCES && done[c] != seq; i++)
					irq_fence();
				if (done[c] != seq)
					fail("CPU %u: level round %u not done", c, r);
			}
			if (cmd_failed)
				fail("CPU %u: the level interrupt was not pending on it",
				     c);
			expect("level", c, irq_wait_for(&got_l[c], r, IRQ_WAIT_FENCES),
			       r);
			fences = wait_remote_irr(c);
			if (fences > max_fences[c != 0])
				max_fences[c != 0] = fences;
		}
		ioapic_write(0x10 + 2 * PIN_E, IOAPIC_REDIR_MASKED);
		ioapic_write(0x10 + 2 * PIN_L, IOAPIC_REDIR_MASKED);
		if (wrong)
			fail("%u interrupts on the wrong CPU (APIC %u)", wrong, wrong_id);
	}
	printf("smp_ioapic: %u CPUs, each took %u edge interrupts, %u of them %u level "
	       "ones, no other CPU did; remote IRR clear within %u fences on CPU 0, "
	       "%u on the APs\n",
	       n, rounds, level < n ? level : n, rounds, max_fences[0], max_fences[1]);
}
