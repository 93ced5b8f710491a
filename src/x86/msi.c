/* SPDX-License-Identifier: MIT */
/* x86 MSI message layout (Intel SDM vol. 3, 11.11; spec/x86.md). */
#include <errno.h>
#include <string.h>

#include <virq/x86.h>

#include "../core/internal.h"

#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_BASE_MASK 0xfff00000u
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_EXT_DEST_SHIFT 5
#define MSI_ADDR_EXT_DEST_MASK 0x7fu
#define MSI_ADDR_RH (1u << 3)
#define MSI_ADDR_DM_LOGICAL (1u << 2)
#define MSI_DATA_DM_SHIFT 8
#define MSI_DATA_LEVEL_ASSERT (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL (1u << 15)

int virq_x86_msi_decode(const struct virq_msi *msi, unsigned opts,
			struct virq_x86_msi_info *out)
{
	uint32_t lo = msi->address_lo, hi = msi->address_hi, d = msi->data;

	if (opts & ~(VIRQ_X86_MSI_X2APIC | VIRQ_X86_MSI_EXT_DEST_ID))
		return virq_fail(EINVAL, "x86 msi: unknown options 0x%x", opts);
	if ((lo & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE)
		return virq_fail(EINVAL, "x86 msi: address 0x%08x outside 0xfeexxxxx",
				 lo);
	if ((opts & VIRQ_X86_MSI_X2APIC) ? (hi & 0xffu) != 0 : hi != 0)
		return virq_fail(EINVAL, "x86 msi: address_hi 0x%08x invalid here", hi);

	memset(out, 0, sizeof(*out));
	out->dest_id = (lo >> MSI_ADDR_DEST_SHIFT) & 0xffu;
	if (opts & VIRQ_X86_MSI_X2APIC)
		out->dest_id |= hi & 0xffffff00u;
	else if (opts & VIRQ_X86_MSI_EXT_DEST_ID)
		out->dest_id |= ((lo >> MSI_ADDR_EXT_DEST_SHIFT) & MSI_ADDR_EXT_DEST_MASK)
				<< 8;
	out->logical = lo & MSI_ADDR_DM_LOGICAL;
	out->redir_hint = lo & MSI_ADDR_RH;
	out->vector = (uint8_t)d;
	out->delivery_mode = (uint8_t)((d >> MSI_DATA_DM_SHIFT) & 7u);
	out->level_assert = d & MSI_DATA_LEVEL_ASSERT;
	out->level_trigger = d & MSI_DATA_TRIGGER_LEVEL;
	/* KVM: "phys broadcast and lowest prio" is delivered as fixed */
	if (out->delivery_mode == VIRQ_X86_DM_LOWEST && !out->logical &&
	    out->dest_id == 0xffu)
		out->delivery_mode = VIRQ_X86_DM_FIXED;
	return 0;
}

int virq_x86_msi_encode(const struct virq_x86_msi_info *info, unsigned opts,
			struct virq_msi *out)
{
	uint32_t max = (opts & VIRQ_X86_MSI_X2APIC)	   ? UINT32_MAX
		       : (opts & VIRQ_X86_MSI_EXT_DEST_ID) ? 0x7fffu
							   : 0xffu;

	if (opts & ~(VIRQ_X86_MSI_X2APIC | VIRQ_X86_MSI_EXT_DEST_ID))
		return virq_fail(EINVAL, "x86 msi: unknown options 0x%x", opts);
	if (info->dest_id > max || info->delivery_mode > 7)
		return virq_fail(EINVAL,
				 "x86 msi: destination 0x%x or mode %u does not fit",
				 info->dest_id, info->delivery_mode);
	memset(out, 0, sizeof(*out));
	out->address_lo = MSI_ADDR_BASE | (info->dest_id & 0xffu) << MSI_ADDR_DEST_SHIFT |
			  (info->logical ? MSI_ADDR_DM_LOGICAL : 0) |
			  (info->redir_hint ? MSI_ADDR_RH : 0);
	if (opts & VIRQ_X86_MSI_X2APIC)
		out->address_hi = info->dest_id & 0xffffff00u;
	else if (opts & VIRQ_X86_MSI_EXT_DEST_ID)
		out->address_lo |= ((info->dest_id >> 8) & MSI_ADDR_EXT_DEST_MASK)
				   << MSI_ADDR_EXT_DEST_SHIFT;
	out->data = info->vector | (uint32_t)info->delivery_mode << MSI_DATA_DM_SHIFT |
		    (info->level_assert ? MSI_DATA_LEVEL_ASSERT : 0) |
		    (info->level_trigger ? MSI_DATA_TRIGGER_LEVEL : 0);
	return 0;
}
