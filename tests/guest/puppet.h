/* SPDX-License-Identifier: MIT */
/*
 * The puppet's script file, shared by the host generator (puppet_gen.c)
 * and the guest (puppet.c).  Little-endian, passed as multiboot module 0:
 *   struct puppet_file_hdr, then per script struct puppet_script_hdr and
 *   nr_ops struct puppet_op.
 */
#ifndef GUEST_PUPPET_H
#define GUEST_PUPPET_H

#include <stdint.h>

#define PUPPET_MAGIC 0x54505550u /* "PUPT" */
#define PUPPET_VERSION 1u
#define PUPPET_MAX_OPS 96u
#define PUPPET_WAIT_LIMIT 8u /* interrupts taken per wait, the fence included */

struct puppet_file_hdr {
	uint32_t magic, version, nr_scripts, seed;
};

struct puppet_script_hdr {
	uint32_t seed, nr_ops;
};

enum puppet_opcode {
	OP_IO_WRITE = 1, /* IOREGSEL = reg, IOWIN = val */
	OP_IO_READ,	 /* IOREGSEL = reg, log IOWIN */
	OP_SEL_READ,	 /* IOREGSEL = val (32 bits), log IOREGSEL, IOWIN */
	OP_LINE,	 /* pc-testdev: GSI reg level val */
	OP_EOI,		 /* LAPIC EOI register write */
	OP_WAIT,	 /* sti; hlt until the fence: log the vectors taken */
	OP_LAPIC_IRR,	 /* log the LAPIC's IRR (vectors 0x20-0xff) */
	OP_PIC_OUT,	 /* outb(port, val): 0x20/0x21/0xa0/0xa1/0x4d0/0x4d1 */
	OP_PIC_IN,	 /* log inb(port) */
	OP_PIC_POLL,	 /* OCW3 poll to port, log inb(port + reg) (bit 7: below) */
};

struct puppet_op {
	uint8_t code, reg;
	uint16_t port;
	uint32_t val;
};

#endif
