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
/* attr: 0 id, 1 ioregsel, 2 irr, 3 base (u64), 4 edge pins delivered since
 * their line rose */
#define VIRQ_IOAPIC_GRP_REG 1
#define VIRQ_IOAPIC_GRP_REDIR 2 /* attr n: redirection entry n (u64) */
#define VIRQ_IOAPIC_GRP_LINE 3	/* attr n: source mask of pin n (u64) */
#define VIRQ_IOAPIC_GRP_EOI 4	/* attr n: back-to-back re-deliveries of pin n */
/* attr 0, write-only, size 0: deliver what restored state holds pending
 * (written last by a restore; KVM_SET_IRQCHIP's re-injection of IRR) */
#define VIRQ_IOAPIC_GRP_SYNC 5
#define VIRQ_IOAPIC_REG_ID 0
#define VIRQ_IOAPIC_REG_IOREGSEL 1
#define VIRQ_IOAPIC_REG_IRR 2
#define VIRQ_IOAPIC_REG_BASE 3
#define VIRQ_IOAPIC_REG_IRR_DELIVERED 4

/* ---- 8259A PIC pair (device type "i8259") ---- */

struct virq_pic_args {
	uint32_t vcpu; /* whose INTR the master's INT drives; default 0 */
};

/*
 * Register the "i8259" device type (idempotent).  One device is the
 * master/slave pair: chips 0 (IRQ 0-7) and 1 (IRQ 8-15), ports 0x20/0x21,
 * 0xA0/0xA1 and the ELCR at 0x4D0/0x4D1 (byte accesses only).  The
 * master's INT output goes to virq_cpu_set_line(vm, args.vcpu,
 * VIRQ_CPU_IRQ, level) whenever it changes.
 */
int virq_pic_register(void);

/*
 * Interrupt acknowledge (the CPU's INTA cycle, or KVM_INTERRUPT's vector
 * under a split irqchip): the vector of the highest-priority request,
 * moved from IRR to ISR, or the spurious vector (base + 7 of the chip
 * that has nothing) when the request went away.  -EINVAL if @pic is not
 * an i8259 device.
 */
int virq_pic_read_irq(struct virq_device *pic);

/* Level of the master's INT output (1 = an interrupt is requested). */
int virq_pic_output(struct virq_device *pic);

/*
 * PIC attributes.  Groups MASTER and SLAVE hold one u8 per register, in
 * the order (and with the meaning) of KVM's struct kvm_pic_state, so that
 * KVM_GET/SET_IRQCHIP state maps field by field.  ELCR_MASK is fixed by
 * the hardware (0xF8 master, 0xDE slave): setting another value is
 * -EINVAL.  LINE: u64 source mask of IRQ n (0-15).  SYNC (write-only,
 * size 0): re-evaluate the cascade and the INT output after a restore.
 */
#define VIRQ_PIC_GRP_MASTER 1
#define VIRQ_PIC_GRP_SLAVE 2
#define VIRQ_PIC_GRP_LINE 3
#define VIRQ_PIC_GRP_SYNC 4
enum virq_pic_reg {
	VIRQ_PIC_LAST_IRR = 0,
	VIRQ_PIC_IRR,
	VIRQ_PIC_IMR,
	VIRQ_PIC_ISR,
	VIRQ_PIC_PRIORITY_ADD,
	VIRQ_PIC_IRQ_BASE,
	VIRQ_PIC_READ_REG_SELECT,
	VIRQ_PIC_POLL,
	VIRQ_PIC_SPECIAL_MASK,
	VIRQ_PIC_INIT_STATE,
	VIRQ_PIC_AUTO_EOI,
	VIRQ_PIC_ROTATE_ON_AUTO_EOI,
	VIRQ_PIC_SPECIAL_FULLY_NESTED,
	VIRQ_PIC_INIT4,
	VIRQ_PIC_ELCR,
	VIRQ_PIC_ELCR_MASK,
	VIRQ_PIC_NR_REGS,
};

/* ---- LAPIC acceptance model (device type "lapic") ---- */

#define VIRQ_LAPIC_DEFAULT_BASE 0xfee00000ull

struct virq_lapic_args {
	/* xAPIC MMIO window (4 KiB, banked by the accessing vCPU) and MSI
	 * doorbell (1 MiB); 0 = 0xFEE00000 */
	uint64_t base;
	struct virq_device *ioapic; /* EOI broadcast target, or NULL */
	struct virq_device *pic;    /* ExtINT source (INTA), or NULL */
};

/*
 * Register the "lapic" device type (idempotent).  One device models the
 * local APICs of every vCPU of the VM: no timers, only interrupt
 * acceptance.  It takes the MSIs at its doorbell (so IOAPIC output and
 * MSI routes reach it), and drives each vCPU's VIRQ_CPU_IRQ line
 * (an interrupt is deliverable) and VIRQ_CPU_NMI line.
 */
int virq_lapic_register(void);

/*
 * The vCPU takes an interrupt: ExtINT first (vector from the PIC's INTA),
 * else the highest IRR vector above PPR moves to ISR.  Returns the
 * vector, or -ENOENT if nothing is deliverable.
 */
int virq_lapic_ack(struct virq_device *lapic, uint32_t vcpu);

/*
 * EOI from @vcpu (as a write to the EOI register): the highest ISR vector
 * leaves service and, with an IOAPIC attached, is broadcast to it as
 * virq_ioapic_eoi(ioapic, vector, TMR bit).  Returns the vector, or
 * -ENOENT if nothing was in service (harmless, as on hardware).
 */
int virq_lapic_eoi(struct virq_device *lapic, uint32_t vcpu);

/* Take a pending NMI: 1 if one was pending, else 0. */
int virq_lapic_take_nmi(struct virq_device *lapic, uint32_t vcpu);

/*
 * LINT0/LINT1 input of @vcpu (e.g. the PIC's INT on vCPU 0's LINT0).  An
 * LVT in ExtINT mode follows the level (an INTA is asked for while it is
 * high and args.pic is set); other modes deliver on the rising edge.
 * 0, or -EINVAL (not a lapic, vCPU or lint out of range).
 */
int virq_lapic_set_lint(struct virq_device *lapic, uint32_t vcpu, unsigned lint,
			int level);

/*
 * LAPIC attributes, all u32.  Group REG: attr = vcpu << 32 | register
 * offset (xAPIC MMIO offset, 16-byte aligned, e.g. 0x80 TPR, 0x100 ISR0);
 * every register KVM lets a guest read.  Group STATE: attr = vcpu << 32 |
 * VIRQ_LAPIC_STATE_*.  SYNC (attr 0, write-only, size 0): recompute PPR
 * and drive every vCPU's IRQ and NMI lines from the restored state
 * (written last by a restore; setting other attributes delivers nothing).
 * A value the register cannot hold is -EINVAL.
 */
#define VIRQ_LAPIC_GRP_REG 1
#define VIRQ_LAPIC_GRP_STATE 2
#define VIRQ_LAPIC_GRP_SYNC 3
#define VIRQ_LAPIC_STATE_NMI 0	       /* NMIs pending, 0..2 (KVM's limit) */
#define VIRQ_LAPIC_STATE_LINT 1	       /* bit n: level of LINTn */
#define VIRQ_LAPIC_STATE_INIT 2	       /* INIT messages accepted (counted) */
#define VIRQ_LAPIC_STATE_SIPI 3	       /* STARTUP messages accepted */
#define VIRQ_LAPIC_STATE_SIPI_VECTOR 4 /* vector of the last STARTUP */
#define VIRQ_LAPIC_STATE_SMI 5	       /* SMI messages accepted */

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
