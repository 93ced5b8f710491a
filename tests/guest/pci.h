/* SPDX-License-Identifier: MIT */
/* Test kernels: PCI configuration mechanism #1 (ports 0xCF8/0xCFC), bus 0. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_CMD_MEM 0x0002u
#define PCI_CMD_MASTER 0x0004u
#define PCI_STATUS_CAP_LIST 0x0010u
#define PCI_CAP_MSIX 0x11

uint32_t pci_read32(unsigned dev, unsigned off);
uint16_t pci_read16(unsigned dev, unsigned off);
uint8_t pci_read8(unsigned dev, unsigned off);
void pci_write32(unsigned dev, unsigned off, uint32_t val);
void pci_write16(unsigned dev, unsigned off, uint16_t val);
void pci_write8(unsigned dev, unsigned off, uint8_t val);
/* Bus 0 device number of vendor:device, or -1. */
int pci_find(uint16_t vendor, uint16_t device);
/* Config offset of capability @id, or 0. */
unsigned pci_find_cap(unsigned dev, uint8_t id);
/*
 * The PCI test device with memory decoding, bus mastering and MSI-X on
 * (every vector still masked): its MSI-X table, where the BAR is now.
 * Fails the test if the device is not there.
 */
volatile uint32_t *pcitest_msix_on(void);

#endif
