/* SPDX-License-Identifier: MIT */
/*
 * QEMU's fw_cfg, legacy port interface: write a 16-bit key to 0x510,
 * read its bytes one at a time from 0x511.  Keys: 0x00 signature "QEMU",
 * 0x01 interface id (1: ports only, no DMA), 0x03 RAM size (u64 LE),
 * 0x05 CPU count (u16 LE).  Reads past an item's end, or of an unknown
 * key, return 0.  Only the vCPU that selected reads meaningfully: the
 * selector and offset are global, as on QEMU.
 */
#include <pthread.h>
#include <string.h>

#include "vm.h"

#define FWCFG_PORT_SEL 0x510
#define FWCFG_PORT_DATA 0x511
#define FWCFG_SIGNATURE 0x00
#define FWCFG_ID 0x01
#define FWCFG_RAM_SIZE 0x03
#define FWCFG_NB_CPUS 0x05

static pthread_mutex_t fwcfg_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t item_sig[4] = { 'Q', 'E', 'M', 'U' };
static uint8_t item_id[4] = { 1, 0, 0, 0 };
static uint8_t item_ram[8];
static uint8_t item_cpus[2];
static uint16_t cur_key;
static uint32_t cur_off;

static const uint8_t *item(uint16_t key, uint32_t *len)
{
	switch (key) {
	case FWCFG_SIGNATURE:
		*len = sizeof(item_sig);
		return item_sig;
	case FWCFG_ID:
		*len = sizeof(item_id);
		return item_id;
	case FWCFG_RAM_SIZE:
		*len = sizeof(item_ram);
		return item_ram;
	case FWCFG_NB_CPUS:
		*len = sizeof(item_cpus);
		return item_cpus;
	default:
		*len = 0;
		return NULL;
	}
}

static void sel_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	(void)opaque;
	(void)port;
	(void)size;
	pthread_mutex_lock(&fwcfg_lock);
	cur_key = (uint16_t)val;
	cur_off = 0;
	pthread_mutex_unlock(&fwcfg_lock);
}

static uint32_t data_read(void *opaque, uint16_t port, unsigned size)
{
	uint32_t len, val = 0;
	(void)opaque;
	(void)port;
	(void)size;
	pthread_mutex_lock(&fwcfg_lock);
	const uint8_t *p = item(cur_key, &len);
	if (p && cur_off < len)
		val = p[cur_off++];
	pthread_mutex_unlock(&fwcfg_lock);
	return val;
}

int fwcfg_init(uint32_t nr_cpus, uint64_t ram_size)
{
	int r;
	for (unsigned i = 0; i < 8; i++)
		item_ram[i] = (uint8_t)(ram_size >> (8 * i));
	item_cpus[0] = (uint8_t)nr_cpus;
	item_cpus[1] = (uint8_t)(nr_cpus >> 8);
	r = pio_register(FWCFG_PORT_SEL, 1, NULL, sel_write, NULL);
	if (r < 0)
		return r;
	return pio_register(FWCFG_PORT_DATA, 1, data_read, NULL, NULL);
}
