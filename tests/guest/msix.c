/* SPDX-License-Identifier: MIT */
/*
 * msix: virq-vm's PCI MSI-X test device (1b36:7671, docs/vm.md), whose
 * table, PBA and Message Control are virq's MSI-X.  Scans bus 0, sizes
 * and places BAR0, enables MSI-X under the function mask, programs
 * vectors to this CPU, then checks:
 *   masked fire: no interrupt, PBA bit set; unmask: exactly one, PBA clear;
 *   three masked fires: one interrupt at unmask;
 *   function mask: the same, for two vectors at once;
 *   address/data change while masked: the pending fire goes to the new
 *   vector (and, with 2+ CPUs, to the other CPU);
 *   the last vector of the table;
 *   disabling MSI-X keeps a pending bit, sent once re-enabled;
 *   the host thread's irqfd, unmasked: exactly one interrupt per signal;
 *   irqfd signals while masked: one pending bit, one interrupt;
 *   BAR0 moved while enabled: the table follows.
 * Command line: "vectors=N" (default 8: expected table size), "host=N"
 * (signals of the irqfd run; default: the device's HOST_COUNT).
 */
#include "guest_abi.h"
#include "kernel.h"
#include "pci.h"

#define BAR_DEFAULT 0xe0000000u /* virq-vm's first default BAR placement */
#define BAR_PLACE 0xd0000000u
#define BAR_MOVED 0xd8010000u

#define MSIX_ENABLE 0x8000u
#define MSIX_MASKALL 0x4000u

#define VEC_A 0x41  /* vector 0 */
#define VEC_B 0x42  /* vector 1: also the host thread's */
#define VEC_C 0x43  /* vector 0 after its data changed */
#define VEC_D 0x44  /* the last vector */
#define VEC_AP 0x45 /* vector 0 sent to CPU 1 */

static volatile uintptr_t bar;
static unsigned dev, cap;
static volatile uint32_t hits[256];
static volatile uint32_t ap_hits;
static uint32_t want[256];

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(bar + off);
}

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(bar + off) = v;
}

static void handler(struct irq_frame *f)
{
	hits[f->vector & 0xff]++;
	if (f->vector == VEC_B)
		wr(PCITEST_REG_HOST_ACK, 1);
	lapic_eoi();
}

static void ap_handler(struct irq_frame *f)
{
	(void)f;
	ap_hits++;
	lapic_eoi();
}

void ap_main(unsigned cpu)
{
	(void)cpu;
	ap_online();
	for (;;)
		sti_hlt();
}

/* Every interrupt sent so far has been taken: compare with want[]. */
static void check(const char *what)
{
	irq_fence();
	for (unsigned v = VEC_A; v <= VEC_D; v++)
		if (hits[v] != want[v])
			fail("%s: vector 0x%x: %u interrupts, expected %u", what, v,
			     hits[v], want[v]);
}

static uint32_t msg_addr(uint32_t apic)
{
	return 0xfee00000u | apic << 12;
}

/* Address as one 8-byte write (low and high dwords), then data. */
static void entry_set(uint32_t v, uint32_t addr, uint32_t data)
{
	*(volatile uint64_t *)(bar + PCITEST_TABLE + 16 * v) = addr;
	wr(PCITEST_TABLE + 16 * v + 8, data);
	if (rd(PCITEST_TABLE + 16 * v) != addr || rd(PCITEST_TABLE + 16 * v + 4) != 0 ||
	    rd(PCITEST_TABLE + 16 * v + 8) != data)
		fail("entry %u reads 0x%x 0x%x 0x%x", v, rd(PCITEST_TABLE + 16 * v),
		     rd(PCITEST_TABLE + 16 * v + 4), rd(PCITEST_TABLE + 16 * v + 8));
}

/* Vector mask + read-back (the flush point). */
static void vmask(uint32_t v, uint32_t masked)
{
	wr(PCITEST_TABLE + 16 * v + 12, masked);
	if (rd(PCITEST_TABLE + 16 * v + 12) != masked)
		fail("vector %u control reads 0x%x, wrote %u", v,
		     rd(PCITEST_TABLE + 16 * v + 12), masked);
}

static bool pending(uint32_t v)
{
	return (rd(PCITEST_PBA + v / 32 * 4) >> (v % 32)) & 1;
}

static uint32_t fire(uint32_t v)
{
	wr(PCITEST_REG_FIRE, v);
	return rd(PCITEST_REG_FIRE);
}

static void ctrl(uint16_t val)
{
	pci_write16(dev, cap + 2, val);
	uint16_t got = pci_read16(dev, cap + 2);
	if ((got & 0xc000) != val)
		fail("Message Control reads 0x%x after writing 0x%x", got, val);
}

static void place_bar(uint32_t addr)
{
	uint16_t cmd = pci_read16(dev, PCI_COMMAND);
	pci_write16(dev, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_MEM));
	pci_write32(dev, PCI_BAR0, addr);
	if (pci_read32(dev, PCI_BAR0) != addr)
		fail("BAR0 reads 0x%x after writing 0x%x", pci_read32(dev, PCI_BAR0),
		     addr);
	pci_write16(dev, PCI_COMMAND, (uint16_t)(cmd | PCI_CMD_MEM | PCI_CMD_MASTER));
	bar = addr;
	if (rd(PCITEST_REG_ID) != PCITEST_ID)
		fail("BAR0 at 0x%x: ID reads 0x%x", addr, rd(PCITEST_REG_ID));
}

static void find_device(uint32_t nvec)
{
	if (pci_read32(0, 0) != 0x12378086u ||
	    pci_read32(0, PCI_CLASS_REV) >> 16 != 0x0600)
		fail("host bridge 0:0 is %x class %x", pci_read32(0, 0),
		     pci_read32(0, PCI_CLASS_REV));
	int d = pci_find(PCITEST_VENDOR, PCITEST_DEVICE);
	if (d < 0)
		fail("no %x:%x on bus 0", PCITEST_VENDOR, PCITEST_DEVICE);
	dev = (unsigned)d;
	if (pci_read32(0x1f, 0) != 0xffffffffu)
		fail("absent device 31 reads 0x%x", pci_read32(0x1f, 0));
	cap = pci_find_cap(dev, PCI_CAP_MSIX);
	if (!cap)
		fail("no MSI-X capability");
	uint16_t mc = pci_read16(dev, cap + 2);
	if (mc != nvec - 1)
		fail("Message Control 0x%x, expected table size %u", mc, nvec);
	if (pci_read32(dev, cap + 4) != PCITEST_TABLE ||
	    pci_read32(dev, cap + 8) != PCITEST_PBA)
		fail("table/PBA offset+BIR 0x%x 0x%x", pci_read32(dev, cap + 4),
		     pci_read32(dev, cap + 8));

	/* BAR0: default placement, sizing, our own placement */
	if (pci_read32(dev, PCI_BAR0) != BAR_DEFAULT)
		fail("BAR0 default 0x%x", pci_read32(dev, PCI_BAR0));
	uint16_t cmd = pci_read16(dev, PCI_COMMAND);
	pci_write16(dev, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_MEM));
	pci_write32(dev, PCI_BAR0, 0xffffffffu);
	uint32_t sz = ~(pci_read32(dev, PCI_BAR0) & ~0xfu) + 1;
	if (sz != PCITEST_BAR0_SIZE)
		fail("BAR0 size 0x%x", sz);
	pci_write32(dev, PCI_BAR0 + 4, 0xffffffffu);
	if (pci_read32(dev, PCI_BAR0 + 4) != 0)
		fail("BAR1 is implemented");
	place_bar(BAR_PLACE);
	if (rd(PCITEST_REG_VECTORS) != nvec)
		fail("device has %u vectors, expected %u", rd(PCITEST_REG_VECTORS), nvec);
	printf("msix: device %u, MSI-X cap 0x%x, %u vectors, BAR0 %u KiB at 0x%x\n", dev,
	       cap, nvec, sz >> 10, (uint32_t)bar);
}

/* The host thread fires vector 1 @n times through its irqfd. */
static void host_fire(uint32_t n, bool paced)
{
	wr(PCITEST_REG_HOST_VECTOR, 1);
	wr(PCITEST_REG_HOST_COUNT, n);
	wr(PCITEST_REG_HOST_CTRL, PCITEST_HOST_START | (paced ? PCITEST_HOST_PACED : 0));
	if (paced)
		while (hits[VEC_B] < want[VEC_B] + n &&
		       (rd(PCITEST_REG_HOST_CTRL) & PCITEST_HOST_START))
			sti_hlt();
	while (rd(PCITEST_REG_HOST_CTRL) & PCITEST_HOST_START)
		cpu_relax();
	if (rd(PCITEST_REG_HOST_CTRL) & PCITEST_HOST_FAILED)
		fail("host firing gave up after %u of %u", rd(PCITEST_REG_HOST_DONE), n);
	if (rd(PCITEST_REG_HOST_DONE) != n)
		fail("host fired %u of %u", rd(PCITEST_REG_HOST_DONE), n);
}

void kmain(void)
{
	uint32_t nvec = cmdline_uint("vectors", 8), me, last;
	uint32_t ncpu = fwcfg_nr_cpus();

	pic_init(0x20, 0x28);
	lapic_enable();
	me = lapic_id();
	for (unsigned v = VEC_A; v <= VEC_D; v++)
		irq_set_handler((uint8_t)v, handler);
	irq_set_handler(VEC_AP, ap_handler);
	if (nvec < 2)
		fail("the test needs 2 vectors or more, not %u", nvec);
	if (ncpu >= 2) {
		smp_start();
		smp_wait_online(2);
	}

	find_device(nvec);
	last = nvec - 1;

	/* enable under the function mask; every vector starts masked */
	ctrl(MSIX_ENABLE | MSIX_MASKALL);
	for (uint32_t v = 0; v < nvec; v = v < 7 ? v + 1 : (v == last ? nvec : last))
		if (rd(PCITEST_TABLE + 16 * v + 12) != 1 || pending(v))
			fail("vector %u: control 0x%x at reset", v,
			     rd(PCITEST_TABLE + 16 * v + 12));
	entry_set(0, msg_addr(me), VEC_A);
	entry_set(1, msg_addr(me), VEC_B);
	if (last > 1)
		entry_set(last, msg_addr(me), VEC_D);
	ctrl(MSIX_ENABLE);
	check("enable");

	/* masked fire: pending, nothing sent; unmask sends it once */
	if (fire(0) != 0)
		fail("masked fire reported sent");
	check("masked fire");
	if (!pending(0))
		fail("PBA bit 0 clear after a masked fire");
	vmask(0, 0);
	want[VEC_A]++;
	check("unmask");
	if (pending(0))
		fail("PBA bit 0 set after the unmask");
	if (fire(0) != 1)
		fail("unmasked fire reported pending");
	want[VEC_A]++;
	check("unmasked fire");

	/* three masked fires coalesce */
	vmask(0, 1);
	fire(0);
	fire(0);
	fire(0);
	check("3 masked fires");
	if (!pending(0))
		fail("PBA bit 0 clear after 3 masked fires");
	vmask(0, 0);
	want[VEC_A]++;
	check("unmask after 3 fires");
	if (pending(0))
		fail("PBA bit 0 set after the unmask");

	/* the function mask, over two vectors */
	vmask(1, 0);
	ctrl(MSIX_ENABLE | MSIX_MASKALL);
	fire(0);
	fire(0);
	fire(1);
	check("function-masked fires");
	if (!pending(0) || !pending(1))
		fail("PBA 0x%x under the function mask", rd(PCITEST_PBA));
	if (rd(PCITEST_TABLE + 12) != 0 || rd(PCITEST_TABLE + 16 + 12) != 0)
		fail("the function mask changed vector control");
	ctrl(MSIX_ENABLE);
	want[VEC_A]++;
	want[VEC_B]++;
	check("function unmask");
	if (rd(PCITEST_PBA) & 3)
		fail("PBA 0x%x after the function unmask", rd(PCITEST_PBA));

	/* address/data change while masked: the pending fire follows it */
	vmask(0, 1);
	fire(0);
	entry_set(0, msg_addr(me), VEC_C);
	vmask(0, 0);
	want[VEC_C]++;
	check("new data");
	if (ncpu >= 2) {
		uint32_t other = me ^ 1;
		vmask(0, 1);
		fire(0);
		entry_set(0, msg_addr(other), VEC_AP);
		vmask(0, 0);
		while (__atomic_load_n(&ap_hits, __ATOMIC_SEQ_CST) == 0)
			cpu_relax();
		check("other CPU");
		if (ap_hits != 1 || pending(0))
			fail("CPU %u got %u interrupts", other, ap_hits);
		printf("msix: masked fire re-targeted to APIC %u\n", other);
	}
	vmask(0, 1);
	entry_set(0, msg_addr(me), VEC_A);
	vmask(0, 0);

	/* the last vector of the table */
	if (last > 1) {
		vmask(last, 0);
		fire(last);
		want[VEC_D]++;
		check("last vector");
		vmask(last, 1);
		fire(last);
		check("last vector masked");
		if (!pending(last))
			fail("PBA bit %u clear", last);
		vmask(last, 0);
		want[VEC_D]++;
		check("last vector unmask");
	}

	/* disabled is masked: the pending bit survives disable/enable */
	vmask(0, 1);
	fire(0);
	ctrl(0);
	vmask(0, 0);
	check("disabled");
	if (!pending(0))
		fail("PBA bit 0 lost by disabling MSI-X");
	ctrl(MSIX_ENABLE);
	want[VEC_A]++;
	check("re-enable");
	if (pending(0))
		fail("PBA bit 0 set after re-enable");

	/* the host thread's irqfd, unmasked: one interrupt per signal */
	uint32_t n = cmdline_uint("host", rd(PCITEST_REG_HOST_COUNT));
	host_fire(n, true);
	want[VEC_B] += n;
	check("host irqfd");
	if (rd(PCITEST_REG_HOST_ACK) != n)
		fail("%u acks for %u signals", rd(PCITEST_REG_HOST_ACK), n);

	/* irqfd signals while masked: one pending bit, one interrupt */
	vmask(1, 1);
	host_fire(5, false);
	check("host irqfd masked");
	if (!pending(1))
		fail("PBA bit 1 clear after masked irqfd signals");
	vmask(1, 0);
	want[VEC_B]++;
	check("host irqfd unmask");

	/* BAR0 moved while MSI-X is enabled: the table follows */
	place_bar(BAR_MOVED);
	if (rd(PCITEST_TABLE + 8) != VEC_A || rd(PCITEST_TABLE + 16 + 8) != VEC_B)
		fail("table after the move: data 0x%x 0x%x", rd(PCITEST_TABLE + 8),
		     rd(PCITEST_TABLE + 16 + 8));
	fire(0);
	want[VEC_A]++;
	check("moved BAR");

	ctrl(0);
	printf("msix: %u+%u+%u+%u interrupts on vectors 0x%x-0x%x, %u host signals\n",
	       hits[VEC_A], hits[VEC_B], hits[VEC_C], hits[VEC_D], VEC_A, VEC_D, n + 5);
}
