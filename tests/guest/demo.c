/* SPDX-License-Identifier: MIT */
/*
 * demo: the guest of `virq-vm --demo` (`make demo`, docs/vm.md "The
 * demo").  Takes interrupts from every path and acknowledges each with an
 * `out` to the traffic port (stream | APIC id << 8 | vector << 16):
 *   0 IOAPIC pin 10 edge   -> 0x50   (host irqfd)
 *   1 IOAPIC pin 11 level  -> 0x51   (host irqfd with resamplefd)
 *   2 PIC IRQ 3 (ExtINT on CPU 0, LVT0 virtual wire) -> 0x33
 *   3 MSI-X vector 0 of the PCI test device -> 0x60 (host irqfd)
 * Every DEMO_ROTATE interrupts a stream moves to the next CPU: the IOAPIC
 * entry's destination, the MSI-X entry's address.  The PIC only reaches
 * CPU 0.  (The level handler's exits after its EOI, the IOAPIC write and
 * the ack, also hand an AP's deferred EOI to the VMM at once on this PVM
 * backend, before virq-vm's EOI flush would: docs/vm.md, "The PVM backend".)
 */
#include "guest_abi.h"
#include "kernel.h"
#include "pci.h"

#define EDGE_PIN DEMO_EDGE_GSI /* IOAPIC pin = GSI, PIC IRQ = GSI */
#define LEVEL_PIN DEMO_LEVEL_GSI
#define PIC_IRQ DEMO_PIC_GSI

static uint32_t ncpu, count[DEMO_STREAMS], cpu_of[DEMO_STREAMS];
static volatile uint32_t *table; /* MSI-X entry 0 */
static spinlock_t io_lock;

static void ack(unsigned stream, unsigned vector)
{
	outl(TRAFFIC_PORT_ACK, stream | lapic_id() << 8 | vector << 16);
}

/* Next CPU for @stream every DEMO_ROTATE interrupts, or -1 to stay. */
static int rotate(unsigned stream)
{
	if (++count[stream] % DEMO_ROTATE || ncpu < 2)
		return -1;
	cpu_of[stream] = (cpu_of[stream] + 1) % ncpu;
	return (int)cpu_of[stream];
}

static void set_dest(unsigned pin, int cpu)
{
	spin_lock(&io_lock);
	ioapic_write(0x11 + 2 * pin, (uint32_t)cpu << 24);
	spin_unlock(&io_lock);
}

static void edge(struct irq_frame *f)
{
	int c = rotate(DEMO_EDGE);
	(void)f;
	if (c >= 0)
		set_dest(EDGE_PIN, c);
	lapic_eoi();
	ack(DEMO_EDGE, DEMO_V_EDGE);
}

static void level(struct irq_frame *f)
{
	int c = rotate(DEMO_LEVEL);
	(void)f;
	if (c >= 0)
		set_dest(LEVEL_PIN, c);
	lapic_eoi();
	ack(DEMO_LEVEL, DEMO_V_LEVEL);
}

static void pic(struct irq_frame *f)
{
	(void)f;
	pic_eoi(PIC_IRQ);
	ack(DEMO_PIC, DEMO_V_PIC);
}

static void msix(struct irq_frame *f)
{
	int c = rotate(DEMO_MSIX);
	(void)f;
	if (c >= 0) {
		table[3] = 1; /* mask, move, unmask */
		table[0] = 0xfee00000u | (uint32_t)c << 12;
		table[3] = 0;
	}
	lapic_eoi();
	ack(DEMO_MSIX, DEMO_V_MSIX);
}

void ap_main(unsigned cpu)
{
	(void)cpu;
	ap_online();
	for (;;)
		sti_hlt();
}

static void msix_setup(void)
{
	table = pcitest_msix_on();
	table[0] = 0xfee00000u | lapic_id() << 12;
	table[1] = 0;
	table[2] = DEMO_V_MSIX;
	table[3] = 0;
}

void kmain(void)
{
	bool split = inl(TRAFFIC_PORT_CTRL) & TRAFFIC_CFG_SPLIT;

	ncpu = fwcfg_nr_cpus();
	irq_set_handler(DEMO_V_EDGE, edge);
	irq_set_handler(DEMO_V_LEVEL, level);
	irq_set_handler(DEMO_V_PIC, pic);
	irq_set_handler(DEMO_V_MSIX, msix);
	pic_init(0x30, 0x38);
	lapic_enable();
	lapic_write(LAPIC_LVT_LINT0, 0x700); /* ExtINT: virtual wire */
	pic_set_mask((uint16_t) ~(1u << PIC_IRQ));
	if (ncpu > 1)
		smp_start();
	smp_wait_online(ncpu);
	ioapic_set_redir(EDGE_PIN, DEMO_V_EDGE, (uint8_t)lapic_id());
	ioapic_set_redir(LEVEL_PIN, DEMO_V_LEVEL | IOAPIC_REDIR_LEVEL,
			 (uint8_t)lapic_id());
	msix_setup();
	printf("demo: %u CPUs, %s\n", ncpu,
	       split ? "split irqchip (virq's IOAPIC and PIC)" : "KVM's irqchip");
	outl(TRAFFIC_PORT_CTRL, 1);
	for (;;)
		sti_hlt();
}
