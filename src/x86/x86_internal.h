/* SPDX-License-Identifier: MIT */
/* What the x86 chips offer other parts of libvirq (the KVM backend). */
#ifndef VIRQ_X86_INTERNAL_H
#define VIRQ_X86_INTERNAL_H

#include <stdint.h>

#include "../core/internal.h"

/*
 * Called, with the IOAPIC lock dropped, after a guest write, a restore or
 * a reset changed how the redirection entries in @pins (a bitmask) would
 * be delivered (vector, modes, trigger, destination, mask).  One hook per
 * IOAPIC; NULL removes it.  Returns once no call of the previous hook is
 * running any more; so it must not be called from the hook itself.
 * -EINVAL if @dev is not an IOAPIC.
 */
typedef void (*ioapic_entry_hook_fn)(void *opaque, uint32_t pins);
VIRQ_INTERNAL int ioapic_set_entry_hook(struct virq_device *dev, ioapic_entry_hook_fn fn,
					void *opaque);

#endif
