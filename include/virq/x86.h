/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_X86_H
#define VIRQ_X86_H

#include <stdbool.h>
#include <stdint.h>

#include <virq/inject.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;

/* KVM's x86 chip ids (spec/x86.md). */
#define VIRQ_X86_CHIP_PIC_MASTER 0u
#define VIRQ_X86_CHIP_PIC_SLAVE 1u
#define VIRQ_X86_CHIP_IOAPIC 2u
#define VIRQ_X86_IOAPIC_PINS 24u
#define VIRQ_X86_PIC_PINS 8u

/*
 * Install KVM's default x86 GSI table (what KVM_CREATE_IRQCHIP sets up):
 * GSI 0-15 -> IOAPIC pin n and PIC pin n (master for n < 8, else slave
 * pin n - 8); GSI 16-23 -> IOAPIC pin n.  Replaces the whole table, as
 * virq_route_set_table() does; the three chips must exist.
 */
int virq_x86_default_routes(struct virq_vm *vm);

/* ---- MSI messages (Intel SDM 11.11) ---- */

enum virq_x86_delivery {
	VIRQ_X86_DM_FIXED = 0,
	VIRQ_X86_DM_LOWEST = 1,
	VIRQ_X86_DM_SMI = 2,
	VIRQ_X86_DM_NMI = 4,
	VIRQ_X86_DM_INIT = 5,
	VIRQ_X86_DM_EXTINT = 7,
};

struct virq_x86_msi_info {
	uint32_t dest_id;      /* APIC id, or logical destination */
	bool logical;	       /* destination mode */
	bool redir_hint;       /* address bit 3 */
	uint8_t vector;	       /* data 7:0 */
	uint8_t delivery_mode; /* enum virq_x86_delivery, data 10:8 */
	bool level_assert;     /* data bit 14 */
	bool level_trigger;    /* data bit 15 */
};

/* Decoding options */
#define VIRQ_X86_MSI_X2APIC (1u << 0)	   /* address_hi 31:8 = dest 8-31 */
#define VIRQ_X86_MSI_EXT_DEST_ID (1u << 1) /* address 11:5 = dest 8-14 */

/*
 * Decode an MSI bound for the local APICs.  -EINVAL if the address is not
 * in the 0xFEExxxxx window, or, with VIRQ_X86_MSI_X2APIC, if address_hi
 * bits 7:0 are set (KVM refuses such routes) or, without it, if
 * address_hi is nonzero.  Lowest-priority delivery to the physical
 * broadcast 0xFF comes back as fixed delivery, as KVM treats it.
 */
int virq_x86_msi_decode(const struct virq_msi *msi, unsigned opts,
			struct virq_x86_msi_info *out);

/* The inverse: -EINVAL if the destination does not fit the format. */
int virq_x86_msi_encode(const struct virq_x86_msi_info *info, unsigned opts,
			struct virq_msi *out);

#ifdef __cplusplus
}
#endif
#endif
