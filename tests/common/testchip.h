/* SPDX-License-Identifier: MIT */
/*
 * "testchip": a counting chip that exercises every part of the device
 * interface (pins, PPI/LPI, MSI doorbell, MMIO region, attributes), used
 * by the unit tests, the stress tests and virq-bench.
 */
#ifndef VIRQ_TESTCHIP_H
#define VIRQ_TESTCHIP_H

#include <stdint.h>

#include <virq/virq.h>

struct testchip_args {
	uint32_t chip;		/* chip id to claim */
	uint32_t nr_pins;	/* <= TESTCHIP_MAX_PINS */
	unsigned accepts;	/* VIRQ_CHIP_PPI | VIRQ_CHIP_LPI */
	uint64_t doorbell_base; /* 0 = no MSI input */
	uint64_t doorbell_size;
	uint64_t mmio_base; /* 0 = no region; 16 bytes: 2 x 8-byte registers */
};

#define TESTCHIP_MAX_PINS 4096u
#define TESTCHIP_MSI_SLOTS 64u /* MSI counters, indexed by data % 64 */
/* MSI data bit: count only, do not record as the last message */
#define TESTCHIP_DATA_FAST 0x80000000u

/* Attribute groups */
#define TESTCHIP_GRP_LEVEL 1	 /* attr = pin: u32 ORed line level (RO) */
#define TESTCHIP_GRP_RISING 2	 /* attr = pin: u64 rising edges seen (RO) */
#define TESTCHIP_GRP_RESULT 3	 /* attr = pin: s32 what set_pin returns (RW) */
#define TESTCHIP_GRP_CONFIG 4	 /* attr 0: u32 scratch; EBUSY while running */
#define TESTCHIP_GRP_MSI 5	 /* attr = slot: u64 MSIs counted (RO) */
#define TESTCHIP_GRP_LOCKED 6	 /* attr 0: always EPERM */
#define TESTCHIP_GRP_LAST_VCPU 7 /* attr 0: u32 vCPU of the last MMIO access */

int testchip_register(void);

/* Direct counters (same values as the attributes, cheaper in loops). */
uint64_t testchip_rising(struct virq_device *dev, uint32_t pin);
uint64_t testchip_calls(struct virq_device *dev, uint32_t pin);
uint64_t testchip_asserts(struct virq_device *dev, uint32_t pin);
int testchip_level(struct virq_device *dev, uint32_t pin);
uint64_t testchip_msis(struct virq_device *dev); /* all slots */
uint64_t testchip_ppis(struct virq_device *dev);
uint64_t testchip_lpis(struct virq_device *dev);
/* Last MSI received (data, devid, flags). */
struct virq_msi testchip_last_msi(struct virq_device *dev);
void testchip_set_result(struct virq_device *dev, uint32_t pin, int result);

#endif
