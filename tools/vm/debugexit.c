/* SPDX-License-Identifier: MIT */
/*
 * QEMU's isa-debug-exit (as "-device isa-debug-exit,iobase=0xf4,iosize=4"):
 * a write of V stops the VM with exit status (V << 1) | 1.  A guest's
 * "pass" (V = 0) is therefore status 1.
 */
#include "vm.h"

static void debugexit_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	(void)opaque;
	(void)port;
	(void)size;
	vm_request_exit((int)(((val << 1) | 1) & 0xff));
}

int debugexit_init(uint16_t port)
{
	return pio_register(port, 4, NULL, debugexit_write, NULL);
}
