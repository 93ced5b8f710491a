/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_INJECT_H
#define VIRQ_INJECT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;

/* An MSI message, as KVM_SIGNAL_MSI takes it. */
struct virq_msi {
	uint32_t address_lo;
	uint32_t address_hi;
	uint32_t data;
	uint32_t flags; /* VIRQ_MSI_VALID_DEVID or 0 */
	uint32_t devid;
};

/*
 * Drive GSI @gsi to @level on behalf of @source_id (< 64).  Every entry
 * of the GSI is driven; a chip sees the OR of all sources' levels.
 * Returns -1 if the GSI has no route or every entry refused it (masked),
 * otherwise the sum of the entries' non-negative results: 0 coalesced,
 * > 0 delivered.  Bad arguments give -EINVAL (distinct from -1 only in
 * that virq_last_error() then has a reason).
 * An edge interrupt is a 1 followed by a 0.
 */
int virq_set_irq(struct virq_vm *vm, uint32_t gsi, int level, uint32_t source_id);

/*
 * Send an MSI: to the virq device whose doorbell window holds the
 * address (an ITS, a GICv2m frame, an MPIC MSIIR, ...), else to the VMM's
 * msi sink.  > 0 delivered, 0 blocked by the guest, < 0 error
 * (-EINVAL for flags other than VIRQ_MSI_VALID_DEVID, -ENODEV with no
 * target at all).
 */
int virq_signal_msi(struct virq_vm *vm, const struct virq_msi *msi);

#ifdef __cplusplus
}
#endif
#endif
