/* SPDX-License-Identifier: MIT */
/*
 * PCI host bridge, configuration mechanism #1: 0xCF8 is the 32-bit
 * address register (bit 31 enable, bus 23:16, device 15:11, function
 * 10:8, register 7:2), 0xCFC-0xCFF the data window (byte, word or dword,
 * naturally aligned within the dword).  Bus 0 only, function 0 only;
 * absent functions read all ones.  Device 0 is the host bridge (Intel
 * 440FX ids 8086:1237, class 0x0600).
 *
 * Every device's type-0 header is emulated here: ids and class
 * read-only, command register with memory enable, bus master and INTx
 * disable writable, status with the capability-list bit, 32-bit memory
 * BARs with the sizing protocol (write all ones, read back the size
 * mask), capability pointer, interrupt line.  0x40-0xff belong to the
 * device.  Memory BARs get default addresses from PCI_MEM_DEFAULT_BASE
 * with memory decoding on, as firmware would leave them; the guest may
 * move them.
 *
 * Config accesses are serialised by one lock; MMIO dispatch reads each
 * BAR's address and decode state with atomics and takes no lock.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "pci.h"
#include "vm.h"

#define PCI_PORT_ADDR 0xcf8
#define PCI_PORT_DATA 0xcfc

static pthread_mutex_t pci_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pci_dev *slots[PCI_SLOTS];
static uint32_t cfg_addr;
static uint32_t next_mem = PCI_MEM_DEFAULT_BASE;

static struct pci_dev host_bridge = {
	.vendor = 0x8086,
	.device = 0x1237,
	.class_rev = 0x06000002u, /* host bridge, revision 2 */
};

static uint32_t bar_value(const struct pci_dev *d, unsigned bar)
{
	if (!d->bar_size[bar])
		return 0;
	return d->bar_addr[bar]; /* 32-bit, non-prefetchable memory: flags 0 */
}

/* The header dword at @off (< 0x40), config lock held. */
static uint32_t header_read(const struct pci_dev *d, unsigned off)
{
	uint16_t status = d->cap_ptr ? PCI_STATUS_CAP_LIST : 0;

	switch (off) {
	case PCI_VENDOR_ID:
		return d->vendor | (uint32_t)d->device << 16;
	case PCI_COMMAND:
		return d->command | (uint32_t)status << 16;
	case PCI_CLASS_REV:
		return d->class_rev;
	case 0x0c: /* cache line, latency, header type 0, BIST: all 0 */
		return 0;
	case 0x2c: /* subsystem vendor / subsystem id */
		return d->vendor | (uint32_t)d->device << 16;
	case PCI_CAP_PTR:
		return d->cap_ptr;
	case PCI_INT_LINE: /* pin 0: no INTx */
		return d->int_line;
	default:
		if (off >= PCI_BAR0 && off < PCI_BAR0 + 24)
			return bar_value(d, (off - PCI_BAR0) / 4);
		return 0;
	}
}

/* Tell the device where each BAR decodes now, when that changed. */
static void update_decoding(struct pci_dev *d)
{
	for (unsigned b = 0; b < 6; b++) {
		if (!d->bar_size[b])
			continue;
		bool on = (d->command & PCI_CMD_MEM) != 0;
		bool was = __atomic_load_n(&d->bar_decoding[b], __ATOMIC_RELAXED);
		uint32_t addr = __atomic_load_n(&d->bar_addr[b], __ATOMIC_RELAXED);
		__atomic_store_n(&d->bar_decoding[b], on, __ATOMIC_RELEASE);
		/* the device compares with what it mapped last */
		if (d->ops && d->ops->bar_map && (on || was))
			d->ops->bar_map(d, b, addr, on);
	}
}

/* Merge @val (@size bytes at @off) into the header, config lock held. */
static void header_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t val)
{
	unsigned dw = off & ~3u, shift = (off & 3) * 8;
	uint32_t mask = size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1) << shift;
	uint32_t cur = header_read(d, dw);
	uint32_t v = (cur & ~mask) | ((val << shift) & mask);

	if (dw == PCI_COMMAND && (mask & 0xffff)) {
		uint16_t cmd = (uint16_t)v &
			       (PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
		if (cmd != d->command) {
			d->command = cmd;
			update_decoding(d);
		}
	} else if (dw >= PCI_BAR0 && dw < PCI_BAR0 + 24) {
		unsigned b = (dw - PCI_BAR0) / 4;
		if (!d->bar_size[b])
			return;
		uint32_t addr = v & ~(d->bar_size[b] - 1) & ~0xfu;
		if (addr == d->bar_addr[b])
			return;
		__atomic_store_n(&d->bar_addr[b], addr, __ATOMIC_RELEASE);
		if (d->command & PCI_CMD_MEM)
			update_decoding(d);
	} else if (dw == PCI_INT_LINE && (mask & 0xff)) {
		d->int_line = (uint8_t)v;
	}
}

static bool aligned(unsigned off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && (off & (size - 1)) == 0;
}

static struct pci_dev *addressed(unsigned *reg)
{
	uint32_t a = cfg_addr;
	if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0 || ((a >> 8) & 7) != 0)
		return NULL;
	*reg = a & 0xfc;
	return slots[(a >> 11) & 0x1f];
}

static uint32_t cfg_read(struct pci_dev *d, unsigned off, unsigned size)
{
	if (off >= 0x40) {
		if (d->ops && d->ops->cfg_read)
			return d->ops->cfg_read(d, off, size);
		return 0;
	}
	uint32_t v = header_read(d, off & ~3u) >> ((off & 3) * 8);
	return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

static uint32_t pci_port_read(void *opaque, uint16_t port, unsigned size)
{
	uint32_t all = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1, v = all;
	unsigned reg;
	(void)opaque;

	pthread_mutex_lock(&pci_lock);
	if (port == PCI_PORT_ADDR && size == 4) {
		v = cfg_addr;
	} else if (port >= PCI_PORT_DATA) {
		unsigned off = port - PCI_PORT_DATA;
		struct pci_dev *d = addressed(&reg);
		if (d && aligned(off, size))
			v = cfg_read(d, reg + off, size);
	}
	pthread_mutex_unlock(&pci_lock);
	return v;
}

static void pci_port_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	unsigned reg;
	(void)opaque;

	pthread_mutex_lock(&pci_lock);
	if (port == PCI_PORT_ADDR && size == 4) {
		cfg_addr = val & 0x80fffffcu;
	} else if (port >= PCI_PORT_DATA) {
		unsigned off = port - PCI_PORT_DATA;
		struct pci_dev *d = addressed(&reg);
		if (d && aligned(off, size)) {
			off += reg;
			if (off >= 0x40) {
				if (d->ops && d->ops->cfg_write)
					d->ops->cfg_write(d, off, size, val);
			} else {
				header_write(d, off, size, val);
			}
		}
	}
	/* other sizes at 0xCF8-0xCFB (0xCF9 reset control on a PC): ignored */
	pthread_mutex_unlock(&pci_lock);
}

int pci_init(void)
{
	slots[0] = &host_bridge;
	return pio_register(PCI_PORT_ADDR, 8, pci_port_read, pci_port_write, NULL);
}

int pci_add_device(unsigned slot, struct pci_dev *d)
{
	if (slot == 0 || slot >= PCI_SLOTS || slots[slot])
		return -EINVAL;
	for (unsigned b = 0; b < 6; b++) {
		uint32_t sz = d->bar_size[b];
		if (!sz)
			continue;
		if (sz < 16 || (sz & (sz - 1)))
			return -EINVAL;
		uint64_t base = ((uint64_t)next_mem + sz - 1) & ~(uint64_t)(sz - 1);
		if (base + sz > 0xfec00000u)
			return -ENOSPC;
		d->bar_addr[b] = (uint32_t)base;
		next_mem = (uint32_t)(base + sz);
	}
	d->command = PCI_CMD_MEM;
	pthread_mutex_lock(&pci_lock);
	update_decoding(d);
	slots[slot] = d;
	pthread_mutex_unlock(&pci_lock);
	return 0;
}

bool pci_mmio(uint64_t addr, unsigned len, bool is_write, uint8_t *data, uint32_t vcpu)
{
	for (unsigned s = 1; s < PCI_SLOTS; s++) {
		struct pci_dev *d = slots[s];
		if (!d || !d->ops)
			continue;
		for (unsigned b = 0; b < 6; b++) {
			if (!d->bar_size[b] ||
			    !__atomic_load_n(&d->bar_decoding[b], __ATOMIC_ACQUIRE))
				continue;
			uint64_t base =
				__atomic_load_n(&d->bar_addr[b], __ATOMIC_ACQUIRE);
			if (addr < base || addr - base >= d->bar_size[b])
				continue;
			uint64_t off = addr - base, val = 0;
			if (len > 8)
				len = 8;
			if (is_write) {
				memcpy(&val, data, len);
				if (d->ops->mmio_write)
					d->ops->mmio_write(d, b, off, len, val, vcpu);
			} else {
				val = d->ops->mmio_read
					      ? d->ops->mmio_read(d, b, off, len, vcpu)
					      : ~0ull;
				memcpy(data, &val, len);
			}
			return true;
		}
	}
	return false;
}
