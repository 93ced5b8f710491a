/* SPDX-License-Identifier: MIT */
/*
 * Local APIC acceptance model: the xAPIC registers, IRR/ISR/TMR, PPR and
 * the INTR/NMI outputs of every vCPU of a VM, without timers.  Behaviour
 * follows KVM's in-kernel LAPIC (arch/x86/kvm/lapic.c), so a VMM sees the
 * same answers here as with KVM's irqchip; docs/lapic.md lists the places
 * that differ on purpose.
 *
 * Locks: one mutex per vCPU bank, so vCPUs acknowledging and EOIing their
 * own interrupts never meet.  A bank's lock is held only for that bank's
 * state and for the calls to the VMM's cpu_line and guest_error hooks
 * (the sink contract allows both).  It is never held while taking another
 * bank's lock or calling into another device: IPIs are sent, IOAPIC EOIs
 * broadcast and the PIC acknowledged after it is dropped.  Lock order is
 * therefore IOAPIC -> bank (the IOAPIC emits MSIs under its own lock) and
 * PIC -> bank (a VMM may feed the PIC's INT into virq_lapic_set_lint from
 * its cpu_line hook).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <virq/x86.h>

#include "../core/internal.h"

/* register offsets (xAPIC MMIO, Intel SDM vol. 3 table 11-1) */
#define R_ID 0x020
#define R_LVR 0x030
#define R_TPR 0x080
#define R_APR 0x090
#define R_PPR 0x0a0
#define R_EOI 0x0b0
#define R_LDR 0x0d0
#define R_DFR 0x0e0
#define R_SVR 0x0f0
#define R_ISR 0x100
#define R_TMR 0x180
#define R_IRR 0x200
#define R_ESR 0x280
#define R_ICR 0x300
#define R_ICR2 0x310
#define R_LVTT 0x320
#define R_LVTTHMR 0x330
#define R_LVTPC 0x340
#define R_LVT0 0x350
#define R_LVT1 0x360
#define R_LVTERR 0x370
#define R_TMICT 0x380
#define R_TMCCT 0x390
#define R_TDCR 0x3e0

#define NR_REGS 64 /* 0x000-0x3f0, one 32-bit register per 16 bytes */
#define MMIO_SIZE 0x1000u
#define DOORBELL_SIZE 0x100000u

/* KVM's version register: 0x14, 6 LVT entries (no CMCI) */
#define LVR_VALUE 0x00050014u

#define SVR_ENABLED (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define LVT_MODE(v) (((v) >> 8) & 7u)
#define DFR_FLAT 0xffffffffu
#define DFR_CLUSTER 0x0fffffffu
#define ICR_BUSY (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_LEVEL (1u << 15)
#define ICR_LOGICAL (1u << 11)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3u)
#define TIMER_MODE_TSC_DEADLINE (2u << 17)

/* KVM's write masks (apic_lvt_mask[], LVT_MASK, LINT_MASK) */
#define LVT_MASK (LVT_MASKED | ICR_BUSY | 0xffu)
#define LINT_MASK (LVT_MASK | 0x700u | (1u << 13) | (1u << 14) | LVT_LEVEL)
#define LVTT_MASK (LVT_MASK | (3u << 17))

/* delivery modes beyond enum virq_x86_delivery */
#define DM_REMRD 3u
#define DM_STARTUP 6u

enum { SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_ALL_BUT_SELF = 3 };

/* KVM queues at most two NMIs (one injected, one pending) */
#define NMI_MAX 2u

#define IDX(off) ((off) >> 4)
#define REG_BIT(off) (1ull << IDX(off))
#define REG_RANGE(off) (0xffull << IDX(off))

/* registers that exist (KVM's readable set; also the attributes) */
static const uint64_t regs_valid =
	REG_BIT(R_ID) | REG_BIT(R_LVR) | REG_BIT(R_TPR) | REG_BIT(R_APR) |
	REG_BIT(R_PPR) | REG_BIT(R_LDR) | REG_BIT(R_DFR) | REG_BIT(R_SVR) |
	REG_RANGE(R_ISR) | REG_RANGE(R_TMR) | REG_RANGE(R_IRR) | REG_BIT(R_ESR) |
	REG_BIT(R_ICR) | REG_BIT(R_ICR2) | REG_BIT(R_LVTT) | REG_BIT(R_LVTTHMR) |
	REG_BIT(R_LVTPC) | REG_BIT(R_LVT0) | REG_BIT(R_LVT1) | REG_BIT(R_LVTERR) |
	REG_BIT(R_TMICT) | REG_BIT(R_TMCCT) | REG_BIT(R_TDCR);

/* the six LVT entries, masked together when the APIC is disabled */
static const uint32_t lvts[] = { R_LVTT, R_LVTTHMR, R_LVTPC, R_LVT0, R_LVT1, R_LVTERR };

struct bank {
	pthread_mutex_t lock;
	/*
	 * All below: lock.  Registers are also stored with atomic stores, so
	 * that the message path may read ID, LDR, DFR and SVR without the
	 * lock to find its destinations (a message racing with a change of
	 * them lands by either the old or the new value, as on hardware).
	 */
	uint32_t reg[NR_REGS];
	uint32_t nmi_pending; /* 0..NMI_MAX */
	uint32_t lint;	      /* bit n: level of LINTn */
	uint32_t init_count, sipi_count, sipi_vector, smi_count;
	int irq_out, nmi_out;	/* levels last sent to the vCPU's lines */
} __attribute__((aligned(64))); /* vCPUs on different CPUs share no line */

struct lapic {
	struct virq_device *dev;
	struct virq_vm *vm;
	struct virq_device *ioapic, *pic; /* fixed at create */
	uint64_t base;
	uint32_t nr;
	/* banks whose xAPIC ID is not the default (vCPU index): atomic */
	uint32_t moved_ids;
	struct bank b[];
};

/* A message on the APIC bus (KVM's struct kvm_lapic_irq). */
struct apic_irq {
	uint32_t dest;
	uint8_t vector, mode, shorthand;
	bool logical, level, trig, lowest;
};

static struct lapic *to_lapic(struct virq_device *dev)
{
	return virq_device_priv(dev);
}

static uint32_t reg_get(const struct bank *b, uint32_t off)
{
	return __atomic_load_n(&b->reg[IDX(off)], __ATOMIC_RELAXED);
}

/* Bank lock held. */
static void reg_set(struct bank *b, uint32_t off, uint32_t v)
{
	__atomic_store_n(&b->reg[IDX(off)], v, __ATOMIC_RELAXED);
}

static uint32_t default_id(uint32_t vcpu)
{
	return (vcpu & 0xffu) << 24; /* KVM truncates vcpu_id << 24 */
}

/* Bank lock held: keeps the count of moved IDs right. */
static void set_id(struct lapic *l, uint32_t vcpu, uint32_t id)
{
	struct bank *b = &l->b[vcpu];
	bool was = reg_get(b, R_ID) != default_id(vcpu), is = id != default_id(vcpu);

	reg_set(b, R_ID, id);
	if (was != is)
		__atomic_add_fetch(&l->moved_ids, is ? 1u : (uint32_t)-1,
				   __ATOMIC_RELAXED);
}

/* ---- vectors ---- */

static bool vec_test(const struct bank *b, uint32_t base, unsigned v)
{
	return b->reg[IDX(base) + v / 32] & (1u << (v % 32));
}

static void vec_set(struct bank *b, uint32_t base, unsigned v, bool on)
{
	uint32_t off = base + (v / 32) * 0x10, w = reg_get(b, off);

	reg_set(b, off, on ? w | 1u << (v % 32) : w & ~(1u << (v % 32)));
}

static int vec_highest(const struct bank *b, uint32_t base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = b->reg[IDX(base) + (unsigned)i];

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* ---- priority and outputs (bank lock held) ---- */

static void update_ppr(struct bank *b)
{
	uint32_t tpr = b->reg[IDX(R_TPR)] & 0xff;
	int isr = vec_highest(b, R_ISR);
	uint32_t isrv = isr < 0 ? 0 : (uint32_t)isr;

	/* the class rule: PPR = TPR if its class is not below ISRV's */
	reg_set(b, R_PPR, (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0);
}

/* The highest IRR vector whose class is above PPR, else -1. */
static int deliverable(const struct bank *b)
{
	int irr = vec_highest(b, R_IRR);

	if (irr < 0 || ((uint32_t)irr & 0xf0) <= b->reg[IDX(R_PPR)])
		return -1;
	return irr;
}

/* KVM's kvm_apic_accept_pic_intr (the APIC is always hardware-enabled
 * here), and LINT0 high: the PIC asks for an INTA. */
static bool extint_ready(const struct lapic *l, const struct bank *b)
{
	uint32_t lvt0 = b->reg[IDX(R_LVT0)];

	return l->pic && (b->lint & 1u) && !(lvt0 & LVT_MASKED) &&
	       LVT_MODE(lvt0) == VIRQ_X86_DM_EXTINT;
}

static void update_lines(struct lapic *l, uint32_t vcpu, bool force)
{
	struct bank *b = &l->b[vcpu];
	int irq = extint_ready(l, b) || deliverable(b) >= 0;
	int nmi = b->nmi_pending != 0;

	if (force || irq != b->irq_out) {
		b->irq_out = irq;
		virq_cpu_set_line(l->vm, vcpu, VIRQ_CPU_IRQ, irq);
	}
	if (force || nmi != b->nmi_out) {
		b->nmi_out = nmi;
		virq_cpu_set_line(l->vm, vcpu, VIRQ_CPU_NMI, nmi);
	}
}

/*
 * KVM's __apic_accept_irq (bank lock held): 1 accepted, 0 discarded.
 * Lowest priority arrives here as fixed, its target already chosen.
 */
static int accept(struct lapic *l, uint32_t vcpu, unsigned mode, uint8_t vector,
		  bool level, bool trig)
{
	struct bank *b = &l->b[vcpu];
	int ret = 0;

	switch (mode) {
	case VIRQ_X86_DM_FIXED:
	case VIRQ_X86_DM_LOWEST:
		/* a level message's deassert carries nothing */
		if (trig && !level)
			break;
		if (!(b->reg[IDX(R_SVR)] & SVR_ENABLED))
			break;
		vec_set(b, R_TMR, vector, trig);
		vec_set(b, R_IRR, vector, true);
		ret = 1;
		break;
	case VIRQ_X86_DM_NMI:
		/* accepted even by a disabled APIC, as KVM does */
		if (b->nmi_pending < NMI_MAX)
			b->nmi_pending++;
		ret = 1;
		break;
	case VIRQ_X86_DM_SMI:
		b->smi_count++; /* no SMM here: counted, not delivered */
		ret = 1;
		break;
	case VIRQ_X86_DM_INIT:
		if (!trig || level) {
			b->init_count++; /* the VMM resets the vCPU, not us */
			ret = 1;
		}
		break;
	case DM_STARTUP:
		b->sipi_count++;
		b->sipi_vector = vector;
		ret = 1;
		break;
	case DM_REMRD:
		ret = 1; /* KVM: a PV unhalt kick, nothing to hold */
		break;
	default:
		/* ExtINT as a message: KVM takes it only through LVT0 */
		break;
	}
	update_lines(l, vcpu, false);
	return ret;
}

static int accept_locked(struct lapic *l, uint32_t vcpu, const struct apic_irq *irq)
{
	struct bank *b = &l->b[vcpu];
	int ret;

	pthread_mutex_lock(&b->lock);
	ret = accept(l, vcpu, irq->mode, irq->vector, irq->level, irq->trig);
	pthread_mutex_unlock(&b->lock);
	return ret;
}

/* ---- destinations ---- */

/* KVM's kvm_apic_match_dest for an xAPIC; no lock (atomic reads). */
static bool match(const struct lapic *l, uint32_t vcpu, int src,
		  const struct apic_irq *irq)
{
	const struct bank *b = &l->b[vcpu];
	uint32_t lid, dfr;

	switch (irq->shorthand) {
	case SH_SELF:
		return (int)vcpu == src;
	case SH_ALL:
		return true;
	case SH_ALL_BUT_SELF:
		return (int)vcpu != src;
	}
	if (irq->dest == 0xff)
		return true; /* broadcast, physical or logical */
	if (!irq->logical)
		return irq->dest == reg_get(b, R_ID) >> 24;
	lid = reg_get(b, R_LDR) >> 24;
	dfr = reg_get(b, R_DFR);
	if (dfr == DFR_FLAT)
		return (lid & irq->dest) != 0;
	if (dfr == DFR_CLUSTER)
		return (lid >> 4) == (irq->dest >> 4) && (lid & irq->dest & 0xf) != 0;
	return false; /* a DFR model KVM does not know matches nothing */
}

/*
 * KVM's kvm_irq_delivery_to_apic (its slow path, which defines the
 * semantics): -1 if no APIC matched, else the sum of the acceptances.
 * Lowest priority goes to one software-enabled APIC among those matched,
 * chosen by KVM's vector hashing: the (vector % n)-th of the n candidates
 * in vCPU order.  @src is the sending vCPU (IPI) or -1 (message).  No
 * bank lock held.
 */
static int deliver(struct lapic *l, int src, struct apic_irq *irq)
{
	uint32_t first = 0, end = l->nr, n = 0;
	int ret = -1;

	if (irq->shorthand == SH_SELF)
		return accept_locked(l, (uint32_t)src, irq);
	/* KVM's "phys broadcast and lowest prio": fixed, to every APIC.  MSIs
	 * arrive already converted (virq_x86_msi_decode); this is for IPIs. */
	if (!irq->logical && irq->dest == 0xff && irq->mode == VIRQ_X86_DM_LOWEST) {
		irq->mode = VIRQ_X86_DM_FIXED;
		irq->lowest = false;
	}
	/* default IDs: physical destination d is vCPU d alone */
	if (irq->shorthand == SH_NONE && !irq->logical && irq->dest != 0xff &&
	    l->nr <= 256 && !__atomic_load_n(&l->moved_ids, __ATOMIC_RELAXED)) {
		first = irq->dest < l->nr ? irq->dest : l->nr;
		end = first < l->nr ? first + 1 : first;
	}
	for (uint32_t v = first; v < end; v++) {
		if (!match(l, v, src, irq))
			continue;
		if (!irq->lowest) {
			ret = (ret < 0 ? 0 : ret) + accept_locked(l, v, irq);
			continue;
		}
		if (reg_get(&l->b[v], R_SVR) & SVR_ENABLED)
			n++;
	}
	if (!irq->lowest || !n)
		return ret;
	/* second pass: the chosen candidate (the set may have changed
	 * meanwhile; then the last candidate seen takes it) */
	{
		uint32_t k = irq->vector % n, target = l->nr;

		for (uint32_t v = first; v < end; v++) {
			if (!match(l, v, src, irq) ||
			    !(reg_get(&l->b[v], R_SVR) & SVR_ENABLED))
				continue;
			target = v;
			if (!k--)
				break;
		}
		if (target < l->nr)
			ret = accept_locked(l, target, irq);
	}
	return ret;
}

static int lapic_msi(struct virq_device *dev, const struct virq_msi *msi)
{
	struct lapic *l = to_lapic(dev);
	struct virq_x86_msi_info info;
	struct apic_irq irq;

	if (virq_x86_msi_decode(msi, 0, &info))
		return -1;
	irq = (struct apic_irq){
		.dest = info.dest_id,
		.vector = info.vector,
		.mode = info.delivery_mode,
		.logical = info.logical,
		.level = true, /* KVM: every MSI asserts */
		.trig = info.level_trigger,
		/* KVM treats the redirection hint as lowest priority */
		.lowest = info.delivery_mode == VIRQ_X86_DM_LOWEST || info.redir_hint,
	};
	return deliver(l, -1, &irq);
}

/* ---- the vCPU side ---- */

static const struct virq_device_type lapic_type;

static int check(struct virq_device *dev, uint32_t vcpu, const char *what)
{
	if (!dev || virq_device_get_type(dev) != &lapic_type)
		return virq_fail(EINVAL, "%s: not a lapic device", what);
	if (vcpu >= to_lapic(dev)->nr)
		return virq_fail(EINVAL, "%s: vCPU %u out of range", what, vcpu);
	return 0;
}

int virq_lapic_ack(struct virq_device *dev, uint32_t vcpu)
{
	struct lapic *l;
	struct bank *b;
	int ret = check(dev, vcpu, "lapic_ack"), vec;

	if (ret)
		return ret;
	l = to_lapic(dev);
	b = &l->b[vcpu];
	pthread_mutex_lock(&b->lock);
	if (extint_ready(l, b)) {
		/* the PIC answers the INTA cycle; its lock comes before ours */
		pthread_mutex_unlock(&b->lock);
		vec = virq_pic_read_irq(l->pic);
		return vec < 0 ? -ENOENT : vec;
	}
	vec = deliverable(b);
	if (vec < 0) {
		ret = -ENOENT;
		goto out;
	}
	vec_set(b, R_IRR, (unsigned)vec, false);
	vec_set(b, R_ISR, (unsigned)vec, true);
	update_ppr(b);
	update_lines(l, vcpu, false);
	ret = vec;
out:
	pthread_mutex_unlock(&b->lock);
	return ret;
}

/* Bank lock held.  The vector leaving ISR, its TMR bit in *level. */
static int eoi_locked(struct lapic *l, uint32_t vcpu, bool *level)
{
	struct bank *b = &l->b[vcpu];
	int vec = vec_highest(b, R_ISR);

	if (vec < 0)
		return -ENOENT; /* EOI with nothing in service: harmless */
	vec_set(b, R_ISR, (unsigned)vec, false);
	*level = vec_test(b, R_TMR, (unsigned)vec);
	update_ppr(b);
	update_lines(l, vcpu, false);
	return vec;
}

/* After the bank lock is dropped: KVM broadcasts every EOI. */
static void eoi_broadcast(struct lapic *l, int vec, bool level)
{
	if (vec >= 0 && l->ioapic)
		virq_ioapic_eoi(l->ioapic, (uint8_t)vec, level);
}

int virq_lapic_eoi(struct virq_device *dev, uint32_t vcpu)
{
	struct lapic *l;
	bool level = false;
	int ret = check(dev, vcpu, "lapic_eoi");

	if (ret)
		return ret;
	l = to_lapic(dev);
	pthread_mutex_lock(&l->b[vcpu].lock);
	ret = eoi_locked(l, vcpu, &level);
	pthread_mutex_unlock(&l->b[vcpu].lock);
	eoi_broadcast(l, ret, level);
	return ret;
}

int virq_lapic_take_nmi(struct virq_device *dev, uint32_t vcpu)
{
	struct lapic *l;
	struct bank *b;
	int ret = check(dev, vcpu, "lapic_take_nmi");

	if (ret)
		return ret;
	l = to_lapic(dev);
	b = &l->b[vcpu];
	pthread_mutex_lock(&b->lock);
	if (b->nmi_pending) {
		b->nmi_pending--;
		ret = 1;
	}
	update_lines(l, vcpu, false);
	pthread_mutex_unlock(&b->lock);
	return ret;
}

int virq_lapic_set_lint(struct virq_device *dev, uint32_t vcpu, unsigned lint, int level)
{
	struct lapic *l;
	struct bank *b;
	uint32_t lvt, bit = 1u << (lint & 1);
	bool rising;
	int ret = check(dev, vcpu, "lapic_set_lint");

	if (ret)
		return ret;
	if (lint > 1)
		return virq_fail(EINVAL, "lapic_set_lint: LINT%u does not exist", lint);
	l = to_lapic(dev);
	b = &l->b[vcpu];
	pthread_mutex_lock(&b->lock);
	rising = level && !(b->lint & bit);
	b->lint = level ? b->lint | bit : b->lint & ~bit;
	lvt = b->reg[IDX(lint ? R_LVT1 : R_LVT0)];
	/*
	 * ExtINT is level-sensitive: the line asks for an INTA while high
	 * (update_lines sees it).  Any other mode is KVM's
	 * kvm_apic_local_deliver on the rising edge.
	 */
	if (rising && !(lvt & LVT_MASKED) && LVT_MODE(lvt) != VIRQ_X86_DM_EXTINT)
		accept(l, vcpu, LVT_MODE(lvt), (uint8_t)lvt, true, lvt & LVT_LEVEL);
	update_lines(l, vcpu, false);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* ---- guest registers ---- */

/* Bank lock held.  The value a 32-bit read of @off gives. */
static uint32_t read_reg(struct lapic *l, uint32_t vcpu, uint32_t off)
{
	struct bank *b = &l->b[vcpu];

	if (off >= NR_REGS * 0x10 || !(regs_valid & REG_BIT(off))) {
		/* reserved or write-only (EOI): KVM supplies nothing */
		virq_guest_error(l->dev, "vCPU %u: read of register 0x%03x", vcpu, off);
		return 0;
	}
	if (off == R_APR)
		return 0; /* KVM does not model arbitration priority */
	return b->reg[IDX(off)];
}

/* What a register write leaves for after the bank lock is dropped. */
struct after {
	int eoi_vec;
	bool eoi_level;
	bool ipi;
	struct apic_irq irq;
};

static void write_lvt(struct bank *b, uint32_t off, uint32_t val, uint32_t mask)
{
	if (!(b->reg[IDX(R_SVR)] & SVR_ENABLED))
		val |= LVT_MASKED; /* a disabled APIC keeps its LVTs masked */
	reg_set(b, off, val & mask);
}

/* Bank lock held: KVM's kvm_lapic_reg_write for an xAPIC. */
static void write_reg(struct lapic *l, uint32_t vcpu, uint32_t off, uint32_t val,
		      struct after *after)
{
	struct bank *b = &l->b[vcpu];

	switch (off) {
	case R_ID:
		set_id(l, vcpu, val & 0xff000000u);
		break;
	case R_TPR:
		reg_set(b, R_TPR, val & 0xff);
		update_ppr(b);
		break;
	case R_EOI:
		after->eoi_vec = eoi_locked(l, vcpu, &after->eoi_level);
		break;
	case R_LDR:
		reg_set(b, R_LDR, val & 0xff000000u);
		break;
	case R_DFR:
		reg_set(b, R_DFR, val | 0x0fffffffu);
		break;
	case R_SVR:
		reg_set(b, R_SVR, val & 0x3ff);
		if (!(val & SVR_ENABLED))
			for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
				reg_set(b, lvts[i], b->reg[IDX(lvts[i])] | LVT_MASKED);
		break;
	case R_ICR:
		val &= ~ICR_BUSY; /* no delay: never busy */
		reg_set(b, R_ICR, val);
		after->ipi = true;
		after->irq = (struct apic_irq){
			.dest = b->reg[IDX(R_ICR2)] >> 24,
			.vector = (uint8_t)val,
			.mode = (uint8_t)LVT_MODE(val),
			.shorthand = (uint8_t)ICR_SHORTHAND(val),
			.logical = val & ICR_LOGICAL,
			.level = val & ICR_ASSERT,
			.trig = val & ICR_LEVEL,
			.lowest = LVT_MODE(val) == VIRQ_X86_DM_LOWEST,
		};
		break;
	case R_ICR2:
		reg_set(b, R_ICR2, val & 0xff000000u);
		break;
	case R_LVTT:
		write_lvt(b, off, val, LVTT_MASK);
		break;
	case R_LVTTHMR:
	case R_LVTPC:
		write_lvt(b, off, val, LVT_MASK | 0x700u);
		break;
	case R_LVT0:
	case R_LVT1:
		write_lvt(b, off, val, LINT_MASK);
		break;
	case R_LVTERR:
		write_lvt(b, off, val, LVT_MASK);
		break;
	case R_TMICT:
		/* stored, never counts (no timer); ignored in TSC-deadline
		 * mode, as KVM does */
		if ((b->reg[IDX(R_LVTT)] & (3u << 17)) != TIMER_MODE_TSC_DEADLINE)
			reg_set(b, R_TMICT, val);
		break;
	case R_TDCR:
		reg_set(b, R_TDCR, val & 0xb);
		break;
	case R_ESR:
		break; /* xAPIC: the write arms the next read; nothing latches */
	default:
		virq_guest_error(l->dev, "vCPU %u: write of 0x%x to register 0x%03x",
				 vcpu, val, off);
		return;
	}
	update_lines(l, vcpu, false);
}

static bool bad_access(struct lapic *l, uint32_t vcpu, uint64_t offset, unsigned size,
		       const char *what)
{
	if (vcpu == VIRQ_VCPU_NONE || vcpu >= l->nr) {
		/* the registers are banked: without a vCPU there is no bank */
		virq_guest_error(l->dev, "%s at 0x%03llx without a vCPU", what,
				 (unsigned long long)offset);
		return true;
	}
	if (size != 4 || (offset & 0xf)) {
		virq_guest_error(l->dev, "vCPU %u: %u-byte %s at 0x%03llx", vcpu, size,
				 what, (unsigned long long)offset);
		return true;
	}
	return false;
}

static int lapic_read(struct virq_device *dev, uint32_t vcpu, unsigned region,
		      uint64_t offset, unsigned size, uint64_t *val)
{
	struct lapic *l = to_lapic(dev);

	(void)region;
	if (bad_access(l, vcpu, offset, size, "read")) {
		*val = size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
		return vcpu == VIRQ_VCPU_NONE ? -EINVAL : 0;
	}
	pthread_mutex_lock(&l->b[vcpu].lock);
	*val = read_reg(l, vcpu, (uint32_t)offset);
	pthread_mutex_unlock(&l->b[vcpu].lock);
	return 0;
}

static int lapic_write(struct virq_device *dev, uint32_t vcpu, unsigned region,
		       uint64_t offset, unsigned size, uint64_t val)
{
	struct lapic *l = to_lapic(dev);
	struct after after = { .eoi_vec = -1 };

	(void)region;
	if (bad_access(l, vcpu, offset, size, "write"))
		return vcpu == VIRQ_VCPU_NONE ? -EINVAL : 0;
	pthread_mutex_lock(&l->b[vcpu].lock);
	write_reg(l, vcpu, (uint32_t)offset, (uint32_t)val, &after);
	pthread_mutex_unlock(&l->b[vcpu].lock);
	eoi_broadcast(l, after.eoi_vec, after.eoi_level);
	if (after.ipi)
		deliver(l, (int)vcpu, &after.irq);
	return 0;
}

/* ---- attributes ---- */

/* Values a register attribute may hold (KVM's write masks). */
static bool reg_value_ok(uint32_t off, uint32_t v)
{
	switch (off) {
	case R_ID:
	case R_LDR:
	case R_ICR2:
		return !(v & 0x00ffffffu);
	case R_LVR:
		return v == LVR_VALUE;
	case R_APR:
		return v == 0;
	case R_TPR:
	case R_PPR:
		return v <= 0xff;
	case R_DFR:
		return (v & 0x0fffffffu) == 0x0fffffffu;
	case R_SVR:
		return v <= 0x3ff;
	case R_ICR:
		return !(v & ICR_BUSY);
	case R_LVTT:
		return !(v & ~LVTT_MASK);
	case R_LVTTHMR:
	case R_LVTPC:
		return !(v & ~(LVT_MASK | 0x700u));
	case R_LVT0:
	case R_LVT1:
		return !(v & ~LINT_MASK);
	case R_LVTERR:
		return !(v & ~LVT_MASK);
	case R_TDCR:
		return !(v & ~0xbu);
	default:
		return true; /* IRR/ISR/TMR words, ESR, TMICT, TMCCT */
	}
}

static int attr_size(const struct lapic *l, uint32_t group, uint64_t attr)
{
	uint32_t vcpu = (uint32_t)(attr >> 32), idx = (uint32_t)attr;

	switch (group) {
	case VIRQ_LAPIC_GRP_REG:
		return vcpu < l->nr && !(idx & 0xf) && idx < NR_REGS * 0x10 &&
				       (regs_valid & REG_BIT(idx))
			       ? 4
			       : -1;
	case VIRQ_LAPIC_GRP_STATE:
		return vcpu < l->nr && idx <= VIRQ_LAPIC_STATE_SMI ? 4 : -1;
	case VIRQ_LAPIC_GRP_SYNC:
		return attr == 0 ? 0 : -1;
	default:
		return -1;
	}
}

static int lapic_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr)
{
	return attr_size(to_lapic(dev), group, attr) < 0 ? -ENXIO : 0;
}

static uint32_t *state_field(struct bank *b, uint32_t idx)
{
	switch (idx) {
	case VIRQ_LAPIC_STATE_NMI:
		return &b->nmi_pending;
	case VIRQ_LAPIC_STATE_LINT:
		return &b->lint;
	case VIRQ_LAPIC_STATE_INIT:
		return &b->init_count;
	case VIRQ_LAPIC_STATE_SIPI:
		return &b->sipi_count;
	case VIRQ_LAPIC_STATE_SIPI_VECTOR:
		return &b->sipi_vector;
	default:
		return &b->smi_count;
	}
}

static int lapic_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			  void *buf, size_t size)
{
	struct lapic *l = to_lapic(dev);
	int want = attr_size(l, group, attr);
	uint32_t idx = (uint32_t)attr, v;
	struct bank *b;

	if (want < 0)
		return -ENXIO;
	if (group == VIRQ_LAPIC_GRP_SYNC)
		return -EPERM; /* write-only */
	if (size != (size_t)want)
		return -EINVAL;
	b = &l->b[attr >> 32];
	pthread_mutex_lock(&b->lock);
	v = group == VIRQ_LAPIC_GRP_REG ? b->reg[IDX(idx)] : *state_field(b, idx);
	pthread_mutex_unlock(&b->lock);
	memcpy(buf, &v, 4);
	return 0;
}

/*
 * After a restore: recompute PPR from TPR and ISR, and put every vCPU's
 * lines where the restored state says (KVM_SET_LAPIC's KVM_REQ_EVENT).
 * The lines are set even where they seem unchanged, since the VMM's view
 * of them is new.
 */
static void lapic_sync(struct lapic *l)
{
	for (uint32_t v = 0; v < l->nr; v++) {
		pthread_mutex_lock(&l->b[v].lock);
		update_ppr(&l->b[v]);
		update_lines(l, v, true);
		pthread_mutex_unlock(&l->b[v].lock);
	}
}

/* Setting state stores it and delivers nothing; SYNC, written last by a
 * restore, drives the lines. */
static int lapic_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			  const void *buf, size_t size)
{
	struct lapic *l = to_lapic(dev);
	int want = attr_size(l, group, attr), ret = 0;
	uint32_t idx = (uint32_t)attr, vcpu = (uint32_t)(attr >> 32), v;
	struct bank *b;

	if (want < 0)
		return -ENXIO;
	if (size != (size_t)want)
		return -EINVAL;
	if (group == VIRQ_LAPIC_GRP_SYNC) {
		lapic_sync(l);
		return 0;
	}
	memcpy(&v, buf, 4);
	b = &l->b[vcpu];
	pthread_mutex_lock(&b->lock);
	if (group == VIRQ_LAPIC_GRP_REG) {
		if (!reg_value_ok(idx, v))
			ret = -EINVAL;
		else if (idx == R_ID)
			set_id(l, vcpu, v);
		else
			reg_set(b, idx, v);
	} else if ((idx == VIRQ_LAPIC_STATE_NMI && v > NMI_MAX) ||
		   (idx == VIRQ_LAPIC_STATE_LINT && v > 3) ||
		   (idx == VIRQ_LAPIC_STATE_SIPI_VECTOR && v > 0xff)) {
		ret = -EINVAL;
	} else {
		*state_field(b, idx) = v;
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

/* ---- lifetime ---- */

/* KVM's kvm_lapic_reset (power-on, not INIT); bank lock held. */
static void bank_reset(struct lapic *l, uint32_t vcpu)
{
	struct bank *b = &l->b[vcpu];

	for (unsigned i = 0; i < NR_REGS; i++)
		if (i != IDX(R_ID))
			reg_set(b, i * 0x10, 0);
	set_id(l, vcpu, default_id(vcpu));
	reg_set(b, R_LVR, LVR_VALUE);
	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		reg_set(b, lvts[i], LVT_MASKED);
	/* KVM_X86_QUIRK_LINT0_REENABLED: the BSP starts in virtual-wire
	 * mode, so the PIC reaches it before the guest touches its APIC */
	if (vcpu == 0)
		reg_set(b, R_LVT0, VIRQ_X86_DM_EXTINT << 8);
	reg_set(b, R_DFR, DFR_FLAT);
	reg_set(b, R_SVR, 0xff);
	b->nmi_pending = 0;
	b->init_count = b->sipi_count = b->sipi_vector = b->smi_count = 0;
	/* the LINT lines are wires from outside: their levels stay */
}

static void lapic_reset(struct virq_device *dev)
{
	struct lapic *l = to_lapic(dev);

	for (uint32_t v = 0; v < l->nr; v++) {
		pthread_mutex_lock(&l->b[v].lock);
		bank_reset(l, v);
		update_lines(l, v, false);
		pthread_mutex_unlock(&l->b[v].lock);
	}
}

static int lapic_create(struct virq_device *dev, const void *args)
{
	const struct virq_lapic_args *a = args;
	uint32_t nr = virq_vm_nr_vcpus(virq_device_vm(dev));
	struct lapic *l;
	size_t size;
	int ret;

	if ((a && a->ioapic && virq_device_vm(a->ioapic) != virq_device_vm(dev)) ||
	    (a && a->pic && virq_device_vm(a->pic) != virq_device_vm(dev)))
		return -EINVAL;
	size = (sizeof(*l) + nr * sizeof(l->b[0]) + 63) & ~(size_t)63;
	l = aligned_alloc(64, size);
	if (!l)
		return -ENOMEM;
	memset(l, 0, size);
	l->dev = dev;
	l->vm = virq_device_vm(dev);
	l->nr = nr;
	l->base = a && a->base ? a->base : VIRQ_LAPIC_DEFAULT_BASE;
	l->ioapic = a ? a->ioapic : NULL;
	l->pic = a ? a->pic : NULL;
	for (uint32_t v = 0; v < nr; v++) {
		pthread_mutex_init(&l->b[v].lock, NULL);
		bank_reset(l, v); /* no line is up yet: nothing to send */
	}
	virq_device_set_priv(dev, l);
	ret = virq_device_add_region(dev, VIRQ_SPACE_MMIO, l->base, MMIO_SIZE, 0);
	if (!ret)
		ret = virq_device_add_doorbell(dev, l->base, DOORBELL_SIZE);
	if (ret) {
		for (uint32_t v = 0; v < nr; v++)
			pthread_mutex_destroy(&l->b[v].lock);
		free(l);
	}
	return ret;
}

static void lapic_destroy(struct virq_device *dev)
{
	struct lapic *l = to_lapic(dev);

	for (uint32_t v = 0; v < l->nr; v++)
		pthread_mutex_destroy(&l->b[v].lock);
	free(l);
}

static const struct virq_device_type lapic_type = {
	.name = "lapic",
	.ops = {
		.create = lapic_create,
		.destroy = lapic_destroy,
		.reset = lapic_reset,
		.msi = lapic_msi,
		.read = lapic_read,
		.write = lapic_write,
		.get_attr = lapic_get_attr,
		.set_attr = lapic_set_attr,
		.has_attr = lapic_has_attr,
	},
};

int virq_lapic_register(void)
{
	return virq_device_type_register(&lapic_type);
}
