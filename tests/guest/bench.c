/* SPDX-License-Identifier: MIT */
/*
 * bench: the guest side of virq-vm's --traffic (virq-bench guest).  IOAPIC
 * pin 10 edge -> vector 0x50 on this CPU (the virq-msi path's MSI route
 * targets the same vector); the handler acknowledges each interrupt with
 * an `out` to the traffic port (the VMM times the round trip there) and
 * EOIs.  The VMM ends the run when its rounds are done.
 */
#include "guest_abi.h"
#include "kernel.h"

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
	ack = 0 | lapic_id() << 8 | VECTOR << 16; /* stream 0 */
	outl(TRAFFIC_PORT_CTRL, 1);
	for (;;)
		sti_hlt();
}
