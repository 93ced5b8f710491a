/* SPDX-License-Identifier: MIT */
/* Test kernels: PCI configuration mechanism #1, bus 0, function 0. */
#include "guest_abi.h"
#include "kernel.h"
#include "pci.h"

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void cfg_select(unsigned dev, unsigned off)
{
	outl(0xcf8, 0x80000000u | (dev & 31) << 11 | (off & 0xfc));
}

uint32_t pci_read32(unsigned dev, unsigned off)
{
	cfg_select(dev, off);
	return inl(0xcfc);
}

uint16_t pci_read16(unsigned dev, unsigned off)
{
	cfg_select(dev, off);
	return inw((uint16_t)(0xcfc + (off & 2)));
}

uint8_t pci_read8(unsigned dev, unsigned off)
{
	cfg_select(dev, off);
	return inb((uint16_t)(0xcfc + (off & 3)));
}

void pci_write32(unsigned dev, unsigned off, uint32_t val)
{
	cfg_select(dev, off);
	outl(0xcfc, val);
}

void pci_write16(unsigned dev, unsigned off, uint16_t val)
{
	cfg_select(dev, off);
	outw((uint16_t)(0xcfc + (off & 2)), val);
}

void pci_write8(unsigned dev, unsigned off, uint8_t val)
{
	cfg_select(dev, off);
	outb((uint16_t)(0xcfc + (off & 3)), val);
}

int pci_find(uint16_t vendor, uint16_t device)
{
	uint32_t want = vendor | (uint32_t)device << 16;
	for (unsigned d = 0; d < 32; d++)
		if (pci_read32(d, 0) == want)
			return (int)d;
	return -1;
}

unsigned pci_find_cap(unsigned dev, uint8_t id)
{
	if (!(pci_read16(dev, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	unsigned p = pci_read8(dev, PCI_CAP_PTR) & 0xfc;
	for (unsigned n = 0; p && n < 48; n++) {
		if (pci_read8(dev, p) == id)
			return p;
		p = pci_read8(dev, p + 1) & 0xfc;
	}
	return 0;
}

volatile uint32_t *pcitest_msix_on(void)
{
	int dev = pci_find(PCITEST_VENDOR, PCITEST_DEVICE);
	unsigned cap;

	if (dev < 0 || !(cap = pci_find_cap((unsigned)dev, PCI_CAP_MSIX)))
		fail("no MSI-X test device");
	pci_write16((unsigned)dev, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER);
	pci_write16((unsigned)dev, cap + 2, 0x8000); /* MSI-X enable */
	return (volatile uint32_t *)(uintptr_t)((pci_read32((unsigned)dev, PCI_BAR0) &
						 ~0xfu) +
						PCITEST_TABLE);
}
