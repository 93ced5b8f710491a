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
struct virq_device;

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

/* ---- IOAPIC (82093AA; device type "ioapic") ---- */

#define VIRQ_IOAPIC_DEFAULT_BASE 0xfec00000ull
#define VIRQ_IOAPIC_SIZE 0x100u

struct virq_ioapic_args {
	uint64_t base;	  /* MMIO base; 0 = 0xFEC00000 */
	uint32_t chip;	  /* chip id of the pins; 0 = 2, KVM's (0 is the PIC) */
	uint32_t version; /* 0x11 (default when 0) or 0x20 (EOI register) */
	/* storm damper: after storm_max back-to-back re-deliveries on EOI the
	 * next one waits storm_delay_us (KVM: 10000 and 10 ms); 0 = default,
	 * UINT32_MAX storm_max = never defer */
	uint32_t storm_max;
	uint32_t storm_delay_us;
};

/*
 * Register the "ioapic" device type (idempotent); virq_device_create(vm,
 * "ioapic", &args or NULL, &dev) then makes one.  Pins are routed as chip
 * args.chip pins 0-23; output goes out as MSIs (virq_device_emit_msi:
 * to a doorbell owner such as the LAPIC model, or to the VMM's msi sink,
 * e.g. KVM_SIGNAL_MSI).
 */
int virq_ioapic_register(void);

/*
 * End of interrupt for @vector, broadcast by a local APIC (the LAPIC
 * model, or KVM_EXIT_IOAPIC_EOI under a split irqchip).  @level is the
 * APIC's TMR bit for the vector: only a level EOI clears remote IRR.  Ack
 * notifiers run for every pin with that vector, edge pins too.
 */
int virq_ioapic_eoi(struct virq_device *ioapic, uint8_t vector, bool level);

/* IOAPIC attribute groups (every piece of state; all u32 unless noted) */
#define VIRQ_IOAPIC_GRP_REG 1	/* attr: 0 id, 1 ioregsel, 2 irr, 3 base (u64) */
#define VIRQ_IOAPIC_GRP_REDIR 2 /* attr n: redirection entry n (u64) */
#define VIRQ_IOAPIC_GRP_LINE 3	/* attr n: source mask of pin n (u64) */
#define VIRQ_IOAPIC_GRP_EOI 4	/* attr n: back-to-back re-deliveries of pin n */
#define VIRQ_IOAPIC_REG_ID 0
#define VIRQ_IOAPIC_REG_IOREGSEL 1
#define VIRQ_IOAPIC_REG_IRR 2
#define VIRQ_IOAPIC_REG_BASE 3

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
