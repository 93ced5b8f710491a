/* SPDX-License-Identifier: MIT */
/*
 * virq-vm: a PCI host bridge (configuration mechanism #1, bus 0 only) and
 * the devices behind it (docs/vm.md, "PCI and the MSI-X test device").
 */
#ifndef VIRQ_VM_PCI_H
#define VIRQ_VM_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct virq_vm;

#define PCI_SLOTS 32u
#define PCI_CFG_SIZE 256u
#define PCI_MEM_DEFAULT_BASE 0xe0000000u /* first default BAR placement */

/* Standard type-0 header offsets used here. */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_CMD_MEM 0x0002u
#define PCI_CMD_MASTER 0x0004u
#define PCI_CMD_INTX_DISABLE 0x0400u
#define PCI_STATUS_CAP_LIST 0x0010u

struct pci_dev;

struct pci_dev_ops {
	/*
	 * Device-specific config space (offsets 0x40..0xff), @size 1, 2 or
	 * 4 and naturally aligned.  Called with the bus lock held.
	 */
	uint32_t (*cfg_read)(struct pci_dev *d, unsigned off, unsigned size);
	void (*cfg_write)(struct pci_dev *d, unsigned off, unsigned size, uint32_t val);
	/*
	 * BAR @bar decodes at @addr now (memory enable set), or no longer
	 * (@enabled false).  Called with the bus lock held.
	 */
	void (*bar_map)(struct pci_dev *d, unsigned bar, uint32_t addr, bool enabled);
	/* An access to BAR @bar at @off (size 1, 2, 4 or 8); no lock held. */
	uint64_t (*mmio_read)(struct pci_dev *d, unsigned bar, uint64_t off,
			      unsigned size, uint32_t vcpu);
	void (*mmio_write)(struct pci_dev *d, unsigned bar, uint64_t off, unsigned size,
			   uint64_t val, uint32_t vcpu);
};

struct pci_dev {
	uint16_t vendor, device;
	uint32_t class_rev;   /* class << 8 | revision */
	uint8_t cap_ptr;      /* first capability (0: none) */
	uint32_t bar_size[6]; /* 32-bit memory BARs: power of two >= 16, 0 = none */
	const struct pci_dev_ops *ops;
	void *opaque;
	/* bus state: config lock; addr/decode also read with atomics */
	uint16_t command;
	uint8_t int_line;
	uint32_t bar_addr[6];
	bool bar_decoding[6];
};

/* Claim ports 0xCF8-0xCFF and put the host bridge at device 0. */
int pci_init(void);
/*
 * Put @d at bus 0 device @slot (1..31, function 0).  Its memory BARs get
 * default addresses from PCI_MEM_DEFAULT_BASE up (each aligned to its
 * size) and memory decoding on, as firmware would leave them.  Before
 * the vCPUs start.
 */
int pci_add_device(unsigned slot, struct pci_dev *d);

/*
 * MMIO exit dispatch: true if a decoding BAR claims [addr, addr + len);
 * reads fill @data.
 */
bool pci_mmio(uint64_t addr, unsigned len, bool is_write, uint8_t *data, uint32_t vcpu);

/* ---- the MSI-X test device (pcitest.c) ---- */
#define PCITEST_SLOT 1u

/*
 * One of main's options "msix-vectors" N or "msix-host-fire" COUNT.
 * Returns -1 with one line on stderr for a bad value.
 */
int pcitest_option(const char *name, const char *val);

/*
 * Build the bus and the test device on @vm (NULL: create a virq VM of
 * @nr_vcpus vCPUs whose msi sink is KVM_SIGNAL_MSI on @kvm_vm_fd, for the
 * in-kernel irqchip).  Before the vCPUs start.
 */
int pci_setup(struct virq_vm *vm, int kvm_vm_fd, unsigned nr_vcpus);

/*
 * Stop the test device's host thread: before the virq VM goes away (the
 * vCPUs may still run; later "start" writes fire nothing).
 */
void pci_stop(void);
void pcitest_print_stats(FILE *f);
/* For traffic.c: the test device's MSI-X (NULL before pci_setup). */
struct virq_device *pcitest_msix(void);

#endif
