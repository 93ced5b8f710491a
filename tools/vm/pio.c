/* SPDX-License-Identifier: MIT */
/*
 * Port I/O dispatch: a short table of claimed ranges.  Registration
 * happens before the vCPUs start, so lookups need no lock.
 */
#include <errno.h>

#include "vm.h"

#define PIO_MAX_RANGES 16

struct pio_range {
	uint16_t base, len;
	pio_read_fn rd;
	pio_write_fn wr;
	void *opaque;
};

static struct pio_range ranges[PIO_MAX_RANGES];
static unsigned nr_ranges;

int pio_register(uint16_t base, uint16_t len, pio_read_fn rd, pio_write_fn wr,
		 void *opaque)
{
	if (nr_ranges == PIO_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < nr_ranges; i++) {
		const struct pio_range *r = &ranges[i];
		if ((uint32_t)base < (uint32_t)r->base + r->len &&
		    (uint32_t)r->base < (uint32_t)base + len)
			return -EEXIST;
	}
	ranges[nr_ranges++] = (struct pio_range){ base, len, rd, wr, opaque };
	return 0;
}

static const struct pio_range *pio_find(uint16_t port)
{
	for (unsigned i = 0; i < nr_ranges; i++)
		if (port >= ranges[i].base && port - ranges[i].base < ranges[i].len)
			return &ranges[i];
	return NULL;
}

uint32_t pio_read(uint16_t port, unsigned size)
{
	const struct pio_range *r = pio_find(port);
	if (!r || !r->rd)
		return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	return r->rd(r->opaque, port, size);
}

void pio_write(uint16_t port, unsigned size, uint32_t val)
{
	const struct pio_range *r = pio_find(port);
	if (r && r->wr)
		r->wr(r->opaque, port, size, val);
}
