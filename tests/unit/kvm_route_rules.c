/* SPDX-License-Identifier: MIT */
/*
 * KVM's GSI routing rules on x86, for the differential test of
 * virq_route_set_table().  See kvm_route_rules.h for the API.
 *
 * ---------------------------------------------------------------------
 * What KVM_SET_GSI_ROUTING rejects (x86), and with which errno
 * ---------------------------------------------------------------------
 * Sources read: virt/kvm/kvm_main.c (the ioctl), virt/kvm/irqchip.c
 * (kvm_set_irq_routing, setup_routing_entry) and the x86
 * kvm_set_routing_entry / kvm_msi_route_invalid (arch/x86/kvm/irq_comm.c,
 * moved into arch/x86/kvm/irq.c around v6.16), as of v6.18.
 * [V] = checked against /dev/kvm on this machine (Linux 6.18.44, kvm +
 * kvm_pvm, VM with KVM_CREATE_IRQCHIP unless noted).
 *
 * Every validation failure is EINVAL.  The only other errors are EFAULT
 * (unreadable argument) [V] and ENOMEM.  There is no ENOSPC, E2BIG or
 * EEXIST.
 *
 * Whole call
 *  R1  VM without an in-kernel irqchip (neither KVM_CREATE_IRQCHIP nor
 *      KVM_CAP_SPLIT_IRQCHIP): EINVAL for every table, even an empty one.
 *      [V]
 *  R2  kvm_irq_routing.flags != 0: EINVAL.  [V]
 *  R3  nr > KVM_MAX_IRQ_ROUTES (4096): EINVAL.  nr == 4096 is accepted
 *      [V: 4096 MSI or IRQCHIP entries OK, 4097 EINVAL].  nr == 0 is
 *      accepted and leaves no routes at all (the default PIC/IOAPIC
 *      routes are gone too) [V].
 *  R4  Any entry with gsi >= 4096: EINVAL, checked for all entries before
 *      any entry is looked at [V: 4094, 4095 OK; 4096, 4097, 0xffffffff
 *      EINVAL].  The GSI space is sparse: the table is sized by the
 *      largest GSI, not by nr.
 *  R5  All or nothing: the new table is built completely before it is
 *      published; on any error the old table stays in force.
 *      [V: with KVM_IRQ_LINE_STATUS, a rejected table left the previous
 *      GSI -> PIC route working and added nothing.]
 *
 * Per entry, in array order (the first failure wins; all are EINVAL)
 *  R6  flags: an MSI entry may have 0 or KVM_MSI_VALID_DEVID (1); any
 *      other bit is EINVAL [V: 0, 1 OK; 2, 3, 4 EINVAL].  Every other
 *      type needs flags == 0 [V: IRQCHIP with flags 1, 2, 3 EINVAL].
 *  R7  Sharing a GSI: an entry whose GSI already holds an entry (from
 *      earlier in the same array) is EINVAL unless both are IRQCHIP
 *      entries on different chip ids.  So a GSI holds one MSI (or other
 *      non-irqchip) entry alone, or up to three IRQCHIP entries, one per
 *      chip [V: chip0+chip0 (same or different pin), ioapic+ioapic,
 *      msi+irqchip, irqchip+msi, msi+msi EINVAL; PIC master + PIC slave,
 *      PIC + IOAPIC, master + slave + IOAPIC OK].  The chip ids compared
 *      are the ones given (0, 1 and 2 are distinct even though 0 and 1
 *      are one kernel PIC device).
 *  R8  The same (chip, pin) on several GSIs is accepted [V]; KVM's
 *      reverse map then keeps the GSI of the last such entry in array
 *      order (virq documents "lowest GSI" instead: not a validation
 *      difference, but a lookup one).
 *  R9  type IRQCHIP (1):
 *        chip 0 (PIC master), chip 1 (PIC slave): pin 0..7, else EINVAL
 *        chip 2 (IOAPIC): pin 0..23, else EINVAL
 *        any other chip id (3, 4, 5, ..., 0xffffffff): EINVAL
 *      [V: every chip 0..5 x pin 0,7,8,15,16,23,24,30,0xffffffff].
 *      With a split irqchip every IRQCHIP entry is EINVAL [V].
 *  R10 type MSI (2): address_lo, address_hi, data and devid are not
 *      checked [V: all-zero and all-ones payloads OK, with flags 0 and 1]
 *      unless KVM_CAP_X2APIC_API was enabled with
 *      KVM_X2APIC_API_USE_32BIT_IDS: then (address_hi & 0xff) != 0 is
 *      EINVAL [V: 0x1, 0x80 EINVAL; 0x100, 0xffffff00 OK; without the
 *      cap 0x12345678 OK].  kvm_rules_try() never enables that cap.
 *      MSI routes also work with a split irqchip [V].
 *  R11 Any other type: EINVAL on x86 [V: 0, 3, 4, 5, 6, 7, 100,
 *      0x80000000, 0xffffffff].  3 (S390_ADAPTER) is always EINVAL on
 *      x86; 4 (HV_SINT) is accepted when the kernel has CONFIG_KVM_HYPERV
 *      and 5 (XEN_EVTCHN) when it has CONFIG_KVM_XEN (then checked by
 *      kvm_xen_setup_evtchn); this kernel has neither (KVM_CAP_HYPERV_SYNIC
 *      and KVM_CAP_XEN_HVM report 0).
 *  R12 Padding (entry.pad, unused union words) is ignored [V].
 *
 * Version-dependent points
 *  - KVM_MSI_VALID_DEVID: the generic flags check has allowed it on MSI
 *    routes on every architecture since v4.8 (before, any nonzero flags
 *    was EINVAL).  x86 does NOT reject it; it ignores devid.  x86 does not
 *    report KVM_CAP_MSI_DEVID (0 here [V]), so the flag is accepted but
 *    meaningless on x86.
 *  - x2APIC format check (R10): only with KVM_CAP_X2APIC_API +
 *    USE_32BIT_IDS (v4.7 onwards).  Proposed patches (TDX era) extend
 *    kvm_msi_route_invalid() with level-triggered / SMI / INIT checks for
 *    VMs that cannot intercept EOI or lack SMM; not in v6.18 mainline as
 *    read, and irrelevant to a plain VM.
 *  - Chip ids >= 3: EINVAL in every version read (the x86 switch has no
 *    other case).  Pins: modern kernels require pin < 8 on both PIC chips.
 *    Old kernels (the v4.x irq_comm.c read) added 8 to slave pins and
 *    compared against 16 for both PICs, so master pins 8..15 were
 *    accepted (as aliases of slave pins).  Exact release of the change
 *    not verified.
 *  - Old kernels rejected nr >= 4096 (off by one) and any nonzero entry
 *    flags; later ones use nr > 4096 (R3) and R6.
 *  - R1 (kvm_arch_can_set_irq_routing) came with the split irqchip era;
 *    the split-irqchip IRQCHIP rejection (R9) likewise.  Since about
 *    v6.16 the IRQCHIP case exists only with CONFIG_KVM_IOAPIC; without
 *    it an IRQCHIP entry is EINVAL like an unknown type.
 *  - HV_SINT / XEN_EVTCHN acceptance depends on the kernel configuration
 *    (R11), which is why the generator never produces types 3, 4, 5.
 *
 * Surprises
 *  - PIC master and PIC slave may both appear on one GSI (R7).
 *  - Setting any table, even an empty one, drops KVM's default 24-pin
 *    routes for good (R3).
 *  - A rejected flag or chip anywhere makes the whole call fail, but the
 *    error cannot tell which entry was bad (always EINVAL).
 * ---------------------------------------------------------------------
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "kvm_route_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define RULES_MAX_ROUTES 4096u	 /* KVM_MAX_IRQ_ROUTES */
#define RULES_MAX_ASK 65536u	 /* largest table kvm_rules_try() sends */
#define RULES_CHIP_PIC_MASTER 0u /* KVM_IRQCHIP_PIC_MASTER */
#define RULES_CHIP_PIC_SLAVE 1u	 /* KVM_IRQCHIP_PIC_SLAVE */
#define RULES_CHIP_IOAPIC 2u	 /* KVM_IRQCHIP_IOAPIC */
#define RULES_PIC_PINS 8u
#define RULES_IOAPIC_PINS 24u /* KVM_IOAPIC_NUM_PINS */

/* ---- asking KVM ---- */

static int rules_kvm_fd = -1;
static int rules_vm_fd = -1;

static int rules_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int rules_vm(void)
{
#if defined(__x86_64__) || defined(__i386__)
	int kvm, vm;

	if (rules_vm_fd >= 0)
		return rules_vm_fd;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -ENODEV;
	if (rules_ioctl(kvm, KVM_GET_API_VERSION, NULL) != KVM_API_VERSION ||
	    rules_ioctl(kvm, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_IRQCHIP) <=
		    0 ||
	    rules_ioctl(kvm, KVM_CHECK_EXTENSION,
			(void *)(uintptr_t)KVM_CAP_IRQ_ROUTING) <= 0)
		goto fail_kvm;
	do {
		vm = ioctl(kvm, KVM_CREATE_VM, 0UL);
	} while (vm < 0 && errno == EINTR);
	if (vm < 0)
		goto fail_kvm;
	if (rules_ioctl(vm, KVM_CREATE_IRQCHIP, NULL) < 0) {
		close(vm);
		goto fail_kvm;
	}
	rules_kvm_fd = kvm;
	rules_vm_fd = vm;
	return vm;
fail_kvm:
	close(kvm);
	return -ENODEV;
#else
	return -ENODEV; /* the rules (and chip numbers) are x86's */
#endif
}

void kvm_rules_release(void)
{
	if (rules_vm_fd >= 0)
		close(rules_vm_fd);
	if (rules_kvm_fd >= 0)
		close(rules_kvm_fd);
	rules_vm_fd = -1;
	rules_kvm_fd = -1;
}

int kvm_rules_try(const struct kvm_irq_routing_entry *e, unsigned nr, int *kvm_result)
{
	struct kvm_irq_routing *rt;
	int vm;

	if (!kvm_result || (nr && !e))
		return -EINVAL;
	if (nr > RULES_MAX_ASK)
		return -E2BIG;
	vm = rules_vm();
	if (vm < 0)
		return vm;
	rt = calloc(1, sizeof(*rt) + (size_t)nr * sizeof(*e));
	if (!rt)
		return -ENOMEM;
	rt->nr = nr;
	rt->flags = 0;
	if (nr)
		memcpy(rt->entries, e, (size_t)nr * sizeof(*e));
	*kvm_result = rules_ioctl(vm, KVM_SET_GSI_ROUTING, rt);
	if (*kvm_result > 0)
		*kvm_result = 0;
	free(rt);
	return 0;
}

/* ---- the model ---- */

static int rules_entry_ok(const struct kvm_irq_routing_entry *e)
{
	switch (e->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (e->flags)
			return 0;
		switch (e->u.irqchip.irqchip) {
		case RULES_CHIP_PIC_MASTER:
		case RULES_CHIP_PIC_SLAVE:
			return e->u.irqchip.pin < RULES_PIC_PINS;
		case RULES_CHIP_IOAPIC:
			return e->u.irqchip.pin < RULES_IOAPIC_PINS;
		default:
			return 0;
		}
	case KVM_IRQ_ROUTING_MSI:
		return (e->flags & ~(uint32_t)KVM_MSI_VALID_DEVID) == 0;
	default:
		return 0;
	}
}

int kvm_rules_model(const struct kvm_irq_routing_entry *e, unsigned nr)
{
	unsigned i, j;

	if (nr > RULES_MAX_ROUTES)
		return -EINVAL;
	if (nr && !e)
		return -EFAULT;
	for (i = 0; i < nr; i++)
		if (e[i].gsi >= RULES_MAX_ROUTES)
			return -EINVAL;
	for (i = 0; i < nr; i++) {
		for (j = 0; j < i; j++) {
			if (e[j].gsi != e[i].gsi)
				continue;
			if (e[j].type != KVM_IRQ_ROUTING_IRQCHIP ||
			    e[i].type != KVM_IRQ_ROUTING_IRQCHIP ||
			    e[j].u.irqchip.irqchip == e[i].u.irqchip.irqchip)
				return -EINVAL;
		}
		if (!rules_entry_ok(&e[i]))
			return -EINVAL;
	}
	return 0;
}

/* ---- the generator ---- */

/*
 * Each table is valid except for 0, 1 or 2 deliberate hazards, so that
 * accepted and rejected tables both come up often and a rejection
 * usually has a single cause.
 */

struct rules_rng {
	uint64_t s;
};

static uint32_t rules_next(struct rules_rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t rules_below(struct rules_rng *g, uint32_t n)
{
	return rules_next(g) % n;
}

#define RULES_PICK(g, a) ((a)[rules_below((g), sizeof(a) / sizeof((a)[0]))])

static const uint32_t rules_bad_gsis[] = { 4096, 4097, 0xffffffffu };
static const uint32_t rules_odd_types[] = { 0, 6, 7, 0x100, 0xffffffffu };
static const uint32_t rules_odd_chips[] = { 4, 63, 64, 0xffffffffu };
static const uint32_t rules_odd_pins[] = { 31, 255, 0xffffffffu };
static const uint32_t rules_chip_flags[] = { 1, 2, 0x80000000u };
static const uint32_t rules_msi_flags[] = { 2, 3, 0x80000001u };

enum rules_hazard {
	RH_NONE,
	RH_PIN,	       /* pin beyond the chip: PIC 8..30, IOAPIC 24..30, ... */
	RH_CHIP,       /* chip 3 (mostly) or a larger id */
	RH_CHIP_FLAGS, /* irqchip entry with flags != 0 */
	RH_MSI_FLAGS,  /* MSI flags other than 0 / VALID_DEVID */
	RH_GSI,	       /* GSI 4096, 4097 or 0xffffffff */
	RH_TYPE,       /* unknown type */
	RH_SAME_CHIP,  /* second entry of one chip on a GSI */
	RH_MIX,	       /* MSI sharing a GSI with anything */
	RH_COUNT
};

static uint32_t rules_valid_pin(struct rules_rng *g, uint32_t chip)
{
	return rules_below(g, chip == RULES_CHIP_IOAPIC ? RULES_IOAPIC_PINS
							: RULES_PIC_PINS);
}

/* A GSI no earlier entry uses: mostly low, sometimes 4094/4095. */
static uint32_t rules_fresh_gsi(struct rules_rng *g,
				const struct kvm_irq_routing_entry *out, unsigned i)
{
	uint32_t gsi = 0;
	unsigned tries, j;

	for (tries = 0; tries < 16; tries++) {
		uint32_t r = rules_below(g, 100);

		if (r < 70)
			gsi = rules_below(g, 24);
		else if (r < 85)
			gsi = 4094 + rules_below(g, 2);
		else
			gsi = rules_below(g, RULES_MAX_ROUTES);
		for (j = 0; j < i && out[j].gsi != gsi; j++)
			;
		if (j == i)
			break;
	}
	return gsi;
}

/* Valid chip ids (0..2) not yet used on @gsi by out[0..i). */
static unsigned rules_free_chips(const struct kvm_irq_routing_entry *out, unsigned i,
				 uint32_t gsi, uint32_t *chips)
{
	unsigned n = 0, j;
	uint32_t c;

	for (c = 0; c < 3; c++) {
		for (j = 0; j < i; j++)
			if (out[j].gsi == gsi &&
			    (out[j].type != KVM_IRQ_ROUTING_IRQCHIP ||
			     out[j].u.irqchip.irqchip == c))
				break;
		if (j == i)
			chips[n++] = c;
	}
	return n;
}

static void rules_set_msi(struct rules_rng *g, struct kvm_irq_routing_entry *e)
{
	e->type = KVM_IRQ_ROUTING_MSI;
	e->flags = rules_below(g, 100) < 70 ? 0 : KVM_MSI_VALID_DEVID;
	e->u.msi.address_lo = 0xfee00000u | (rules_below(g, 256) << 12);
	e->u.msi.address_hi = rules_below(g, 100) < 90 ? 0 : rules_next(g);
	e->u.msi.data = rules_below(g, 256);
	if (e->flags & KVM_MSI_VALID_DEVID)
		e->u.msi.devid = rules_next(g) & 0xffff;
}

static void rules_set_chip(struct kvm_irq_routing_entry *e, uint32_t chip, uint32_t pin)
{
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

static void rules_entry(struct rules_rng *g, struct kvm_irq_routing_entry *out,
			unsigned i, enum rules_hazard hz)
{
	struct kvm_irq_routing_entry *e = &out[i];
	const struct kvm_irq_routing_entry *partner = NULL;
	uint32_t chips[3], chip;
	unsigned nfree;

	/* Hazards that need an earlier entry fall back to a bad pin. */
	if ((hz == RH_SAME_CHIP || hz == RH_MIX) && i == 0)
		hz = RH_PIN;
	if (hz == RH_SAME_CHIP) {
		/* Prefer an earlier irqchip entry as the partner. */
		unsigned j, pick = rules_below(g, i);

		for (j = 0; j < i; j++)
			if (out[(pick + j) % i].type == KVM_IRQ_ROUTING_IRQCHIP)
				break;
		if (j == i)
			hz = RH_MIX;
		else
			partner = &out[(pick + j) % i];
	}

	switch (hz) {
	case RH_SAME_CHIP:
		e->gsi = partner->gsi;
		chip = partner->u.irqchip.irqchip;
		rules_set_chip(e, chip, chip < 3 ? rules_valid_pin(g, chip) : 0);
		return;
	case RH_MIX:
		partner = &out[rules_below(g, i)];
		e->gsi = partner->gsi;
		if (partner->type == KVM_IRQ_ROUTING_MSI && rules_below(g, 2) == 0) {
			chip = rules_below(g, 3);
			rules_set_chip(e, chip, rules_valid_pin(g, chip));
		} else {
			rules_set_msi(g, e);
		}
		return;
	case RH_GSI:
		e->gsi = RULES_PICK(g, rules_bad_gsis);
		break;
	default:
		/* Sometimes a valid second chip on an earlier GSI. */
		e->gsi = rules_fresh_gsi(g, out, i);
		if (i > 0 && rules_below(g, 100) < 30) {
			partner = &out[rules_below(g, i)];
			if (partner->type == KVM_IRQ_ROUTING_IRQCHIP) {
				nfree = rules_free_chips(out, i, partner->gsi, chips);
				if (nfree) {
					e->gsi = partner->gsi;
					chip = chips[rules_below(g, nfree)];
					rules_set_chip(e, chip, rules_valid_pin(g, chip));
					goto hazard;
				}
			}
		}
		break;
	}

	if (rules_below(g, 100) < 60) {
		chip = rules_below(g, 3);
		rules_set_chip(e, chip, rules_valid_pin(g, chip));
	} else {
		rules_set_msi(g, e);
	}

hazard:
	switch (hz) {
	case RH_PIN:
		if (e->type != KVM_IRQ_ROUTING_IRQCHIP)
			rules_set_chip(e, rules_below(g, 3), 0);
		chip = e->u.irqchip.irqchip;
		if (rules_below(g, 100) < 85) {
			uint32_t lo = chip == RULES_CHIP_IOAPIC ? RULES_IOAPIC_PINS
								: RULES_PIC_PINS;
			e->u.irqchip.pin = lo + rules_below(g, 31 - lo);
		} else {
			e->u.irqchip.pin = RULES_PICK(g, rules_odd_pins);
		}
		break;
	case RH_CHIP:
		if (e->type != KVM_IRQ_ROUTING_IRQCHIP)
			rules_set_chip(e, 0, rules_below(g, 31));
		e->u.irqchip.irqchip =
			rules_below(g, 100) < 75 ? 3 : RULES_PICK(g, rules_odd_chips);
		break;
	case RH_CHIP_FLAGS:
		if (e->type != KVM_IRQ_ROUTING_IRQCHIP)
			rules_set_chip(e, RULES_CHIP_IOAPIC,
				       rules_valid_pin(g, RULES_CHIP_IOAPIC));
		e->flags = RULES_PICK(g, rules_chip_flags);
		break;
	case RH_MSI_FLAGS:
		if (e->type != KVM_IRQ_ROUTING_MSI) {
			memset(&e->u, 0, sizeof(e->u));
			rules_set_msi(g, e);
		}
		e->flags = RULES_PICK(g, rules_msi_flags);
		break;
	case RH_TYPE:
		e->type = RULES_PICK(g, rules_odd_types);
		e->flags = rules_below(g, 4) == 0 ? 1 : 0;
		break;
	default:
		break;
	}
}

void kvm_rules_random_table(unsigned seed, struct kvm_irq_routing_entry *out,
			    unsigned *nr, unsigned max)
{
	struct rules_rng g = { .s = (uint64_t)seed * 0x2545f4914f6cdd1dull + 1 };
	enum rules_hazard hz[KVM_RULES_MAX_TABLE];
	unsigned n, i, k, nhz;
	uint32_t r;

	if (!nr)
		return;
	*nr = 0;
	if (!out || max == 0)
		return;
	n = 1 + rules_below(&g, KVM_RULES_MAX_TABLE);
	if (n > max)
		n = max;
	memset(out, 0, (size_t)n * sizeof(*out));

	for (i = 0; i < n; i++)
		hz[i] = RH_NONE;
	r = rules_below(&g, 100);
	nhz = r < 45 ? 0 : r < 85 ? 1 : 2;
	for (k = 0; k < nhz; k++)
		hz[rules_below(&g, n)] =
			(enum rules_hazard)(1 + rules_below(&g, RH_COUNT - 1));

	for (i = 0; i < n; i++)
		rules_entry(&g, out, i, hz[i]);
	*nr = n;
}
