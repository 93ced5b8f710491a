/* SPDX-License-Identifier: MIT */
/*
 * QEMU's pc-testdev, the parts the test kernels use:
 *   0x2000 + n (n < 24), write: set GSI n's level to (value != 0);
 *   0xe0..0xe3: a 32-bit scratch register, read/write at any size.
 */
#include <string.h>

#include "vm.h"

#define TESTDEV_IRQ_BASE 0x2000
#define TESTDEV_NR_IRQ 24
#define TESTDEV_SCRATCH 0xe0

static struct vm_irq testdev_irq;
static uint8_t scratch[4];

static void irq_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	(void)opaque;
	(void)size;
	vm_irq_set(&testdev_irq, (uint32_t)(port - TESTDEV_IRQ_BASE), val != 0);
}

static uint32_t scratch_read(void *opaque, uint16_t port, unsigned size)
{
	unsigned off = port - TESTDEV_SCRATCH;
	uint32_t val = 0;
	(void)opaque;
	for (unsigned i = 0; i < size && off + i < 4; i++)
		val |= (uint32_t)__atomic_load_n(&scratch[off + i], __ATOMIC_RELAXED)
		       << (8 * i);
	return val;
}

static void scratch_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	unsigned off = port - TESTDEV_SCRATCH;
	(void)opaque;
	for (unsigned i = 0; i < size && off + i < 4; i++)
		__atomic_store_n(&scratch[off + i], (uint8_t)(val >> (8 * i)),
				 __ATOMIC_RELAXED);
}

int testdev_init(const struct vm_irq *irq)
{
	int r;
	testdev_irq = *irq;
	r = pio_register(TESTDEV_IRQ_BASE, TESTDEV_NR_IRQ, NULL, irq_write, NULL);
	if (r < 0)
		return r;
	return pio_register(TESTDEV_SCRATCH, 4, scratch_read, scratch_write, NULL);
}
