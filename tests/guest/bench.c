/* SPDX-License-Identifier: MIT */
/*
 * bench: the guest side of virq-vm's --traffic (virq-bench guest).  IOAPIC
 * pin 10 edge -> vector 0x50 on this CPU (the virq-msi path's MSI route
 * targets the same vector); the handler acknowledges each interrupt with
 * an `out` to the traffic port (the VMM times the round trip there) and
 * EOIs.  The PCI test device's MSI-X vector 0 sends the same vector here
 * (the virq-msix path).  The VMM ends the run when its rounds are done.
 */
#include "guest_abi.h"
#include "kernel.h"
#include "pci.h"

#define PIN BENCH_GSI /* IOAPIC pin = GSI */
#define VECTOR BENCH_VECTOR

static uint32_t ack;

static void handler(struct irq_frame *f)
{
	(void)f;
	outl(TRAFFIC_PORT_ACK, ack);
	lapic_eoi();
}

void kmain(void)
{
	pic_init(0x20, 0x28); /* masked: only the IOAPIC and MSIs deliver */
	lapic_enable();
	irq_set_handler(VECTOR, handler);
	ioapic_set_redir(PIN, VECTOR, (uint8_t)lapic_id());
	volatile uint32_t *table = pcitest_msix_on();
	table[0] = 0xfee00000u | lapic_id() << 12;
	table[1] = 0;
	table[2] = VECTOR;
	table[3] = 0;				  /* unmasked */
	ack = 0 | lapic_id() << 8 | VECTOR << 16; /* stream 0 */
	outl(TRAFFIC_PORT_CTRL, 1);
	for (;;)
		sti_hlt();
}
