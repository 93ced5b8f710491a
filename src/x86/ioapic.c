/* SPDX-License-Identifier: MIT */
/*
 * The 82093AA I/O APIC: 24 pins, redirection table, remote IRR, output as
 * MSIs.  Behaviour follows KVM's in-kernel model (arch/x86/kvm/ioapic.c),
 * which Linux, Windows and firmware are known to work with; see
 * docs/x86.md for the few places that differ on purpose.
 *
 * Lock: one mutex guards all state.  Output MSIs are emitted under it (the
 * MSI sink contract allows that); ack and mask notifiers run with it
 * dropped, since a resampler lowers a line through set_pin.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virq/x86.h>

#include "x86_internal.h"

#define PINS VIRQ_X86_IOAPIC_PINS

#define REG_SELECT 0x00
#define REG_WINDOW 0x10
#define REG_EOI 0x40

#define IND_ID 0x00
#define IND_VERSION 0x01
#define IND_ARB 0x02
#define IND_REDIR 0x10

#define RE_DESTMODE (1ull << 11)
#define RE_DELIVS (1ull << 12)
#define RE_REMOTE_IRR (1ull << 14)
#define RE_LEVEL (1ull << 15)
#define RE_MASK (1ull << 16)

#define DEFAULT_STORM_MAX 10000u
#define DEFAULT_STORM_DELAY_US 10000u

struct ioapic {
	struct virq_device *dev;
	uint32_t chip, version, storm_max, storm_delay_us;

	pthread_mutex_t lock;
	/* all below: lock */
	uint32_t id;
	uint32_t ioregsel;
	uint32_t irr;		/* pins latched (edge) or high (level) */
	uint32_t irr_delivered; /* edge pins delivered since their assert */
	uint64_t redir[PINS];
	uint64_t sources[PINS]; /* line level per source id */
	uint32_t eoi_count[PINS];
	ioapic_entry_hook_fn entry_hook;
	void *entry_hook_opaque;
	unsigned hooks_running; /* calls of entry_hook in flight */
	pthread_cond_t hooks_idle;
	uint64_t base;

	/* the storm damper's deferred delivery (lock) */
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_started, stop;
	uint64_t deadline_ns; /* 0 = nothing deferred */
};

static struct ioapic *to_ioapic(struct virq_device *dev)
{
	return virq_device_priv(dev);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Deliver pin @pin if it may be delivered (lock held).  KVM's codes. */
static int ioapic_service(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];
	bool level = e & RE_LEVEL;
	struct virq_msi msi = { 0 };
	int ret;

	if ((e & RE_MASK) || (level && (e & RE_REMOTE_IRR)))
		return -1;
	if (!level)
		io->irr_delivered |= 1u << pin;
	msi.address_lo =
		0xfee00000u | (uint32_t)(e >> 56) << 12 | (e & RE_DESTMODE ? 4u : 0);
	msi.data = (uint32_t)(e & 0x7ff) | 1u << 14 | (level ? 1u << 15 : 0);
	ret = virq_device_emit_msi(io->dev, &msi);
	/* as KVM: any answer but "coalesced" (0) marks a level pin in service,
	 * even "no APIC took it" (< 0) */
	if (ret && level)
		io->redir[pin] |= RE_REMOTE_IRR;
	return ret;
}

static int ioapic_set_pin(struct virq_device *dev, uint32_t chip, uint32_t pin, int level,
			  uint32_t source_id)
{
	struct ioapic *io = to_ioapic(dev);
	uint32_t bit = 1u << pin, old;
	int ret;

	(void)chip;
	pthread_mutex_lock(&io->lock);
	if (!virq_line_level(&io->sources[pin], source_id, level)) {
		io->irr &= ~bit;
		ret = 1;
		goto out;
	}
	old = io->irr;
	io->irr |= bit;
	if (!(io->redir[pin] & RE_LEVEL)) {
		io->irr_delivered &= ~bit;
		if (old == io->irr) {
			ret = 0; /* an edge already latched: coalesced */
			goto out;
		}
	}
	ret = ioapic_service(io, pin);
out:
	pthread_mutex_unlock(&io->lock);
	return ret;
}

static void ioapic_clear_source(struct virq_device *dev, uint32_t source_id)
{
	struct ioapic *io = to_ioapic(dev);

	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < PINS; pin++)
		if (!virq_line_level(&io->sources[pin], source_id, 0))
			io->irr &= ~(1u << pin);
	pthread_mutex_unlock(&io->lock);
}

/* ---- storm damper ---- */

static void *storm_thread(void *arg)
{
	struct ioapic *io = arg;

	pthread_mutex_lock(&io->lock);
	while (!io->stop) {
		uint64_t now = now_ns();
		struct timespec ts;

		if (!io->deadline_ns) {
			pthread_cond_wait(&io->cond, &io->lock);
			continue;
		}
		if (now < io->deadline_ns) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)((io->deadline_ns - now) % 1000000000ull);
			ts.tv_sec += (time_t)((io->deadline_ns - now) / 1000000000ull) +
				     ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&io->cond, &io->lock, &ts);
			continue;
		}
		io->deadline_ns = 0;
		/* as KVM's eoi_inject work: every level pin pending and idle */
		for (unsigned pin = 0; pin < PINS; pin++)
			if ((io->redir[pin] & RE_LEVEL) && (io->irr & (1u << pin)) &&
			    !(io->redir[pin] & RE_REMOTE_IRR))
				ioapic_service(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

/* Lock held. */
static void storm_defer(struct ioapic *io)
{
	if (!io->thread_started) {
		io->thread_started =
			pthread_create(&io->thread, NULL, storm_thread, io) == 0;
		if (!io->thread_started) {
			virq_guest_error(io->dev,
					 "storm damper unavailable: delivering at once");
			for (unsigned pin = 0; pin < PINS; pin++)
				if ((io->irr & (1u << pin)) &&
				    (io->redir[pin] & RE_LEVEL))
					ioapic_service(io, pin);
			return;
		}
	}
	if (!io->deadline_ns)
		io->deadline_ns = now_ns() + (uint64_t)io->storm_delay_us * 1000u;
	pthread_cond_signal(&io->cond);
}

/* ---- EOI ---- */

static const struct virq_device_type ioapic_type;

int virq_ioapic_eoi(struct virq_device *dev, uint8_t vector, bool level)
{
	struct ioapic *io;

	if (!dev || virq_device_get_type(dev) != &ioapic_type)
		return virq_fail(EINVAL, "ioapic_eoi: not an ioapic device");
	io = to_ioapic(dev);
	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < PINS; pin++) {
		if ((io->redir[pin] & 0xff) != vector)
			continue;
		/* notifiers may re-enter set_pin (a resampler lowers the line) */
		pthread_mutex_unlock(&io->lock);
		virq_notify_ack(virq_device_vm(dev), io->chip, pin);
		pthread_mutex_lock(&io->lock);
		/* remote IRR is a level entry's alone: an edge pin sharing the
		 * vector is left as it is even by a level EOI (a split irqchip's
		 * EOI exit carries no TMR bit, so it is always called level) */
		if (!level || !(io->redir[pin] & RE_LEVEL))
			continue;
		io->redir[pin] &= ~RE_REMOTE_IRR;
		if ((io->redir[pin] & RE_MASK) || !(io->irr & (1u << pin))) {
			io->eoi_count[pin] = 0;
			continue;
		}
		/* the line is still high: deliver again, unless it storms */
		if (io->storm_max != UINT32_MAX &&
		    ++io->eoi_count[pin] >= io->storm_max) {
			io->eoi_count[pin] = 0;
			storm_defer(io);
		} else {
			ioapic_service(io, pin);
		}
	}
	pthread_mutex_unlock(&io->lock);
	return 0;
}

/* ---- guest registers ---- */

static uint32_t read_indirect(struct ioapic *io)
{
	uint32_t idx;

	switch (io->ioregsel) {
	case IND_ID:
	case IND_ARB: /* KVM answers the ID for ARB as well */
		return (io->id & 0xf) << 24;
	case IND_VERSION:
		return (PINS - 1) << 16 | io->version;
	default:
		idx = (io->ioregsel - IND_REDIR) >> 1;
		if (io->ioregsel < IND_REDIR || idx >= PINS) {
			virq_guest_error(io->dev, "read of register 0x%02x",
					 io->ioregsel);
			return 0xffffffffu;
		}
		return (uint32_t)(io->redir[idx] >> (io->ioregsel & 1 ? 32 : 0));
	}
}

/* The bits of the entry the write changed (0 for another register). */
static uint64_t write_indirect(struct ioapic *io, uint32_t val)
{
	uint32_t idx = (io->ioregsel - IND_REDIR) >> 1;
	uint64_t *e, old, changed;

	switch (io->ioregsel) {
	case IND_ID:
		io->id = (val >> 24) & 0xf;
		return 0;
	case IND_VERSION:
	case IND_ARB:
		return 0; /* read-only */
	}
	if (io->ioregsel < IND_REDIR || idx >= PINS) {
		virq_guest_error(io->dev, "write of register 0x%02x", io->ioregsel);
		return 0;
	}
	e = &io->redir[idx];
	old = *e;
	if (io->ioregsel & 1)
		*e = (*e & 0xffffffffull) | (uint64_t)val << 32;
	else
		*e = (*e & ~0xffffffffull) | val;
	*e = (*e & ~(RE_REMOTE_IRR | RE_DELIVS)) | (old & (RE_REMOTE_IRR | RE_DELIVS));
	/* Linux and Xen rely on this as an EOI on IOAPICs without the EOI
	 * register: making an entry edge-triggered clears remote IRR */
	if (!(*e & RE_LEVEL))
		*e &= ~RE_REMOTE_IRR;
	changed = old ^ *e;
	if ((*e & RE_LEVEL) && (io->irr & (1u << idx)) &&
	    !(*e & (RE_MASK | RE_REMOTE_IRR))) {
		/* the latched level may be stale (the device lowered its line
		 * while masked): with a resampler, ask the back-end instead */
		if (virq_notify_resampler(virq_device_vm(io->dev), io->chip, idx))
			io->irr &= ~(1u << idx);
		else
			ioapic_service(io, idx);
	}
	return changed;
}

/*
 * Tell the entry hook that the entries in @pins changed.  Lock not held:
 * the hook reads entries back through the attributes.
 */
static void ioapic_run_entry_hook(struct ioapic *io, uint32_t pins)
{
	ioapic_entry_hook_fn fn;
	void *opaque;

	if (!pins)
		return;
	pthread_mutex_lock(&io->lock);
	fn = io->entry_hook;
	opaque = io->entry_hook_opaque;
	io->hooks_running += fn != NULL;
	pthread_mutex_unlock(&io->lock);
	if (!fn)
		return;
	fn(opaque, pins);
	pthread_mutex_lock(&io->lock);
	if (!--io->hooks_running)
		pthread_cond_broadcast(&io->hooks_idle);
	pthread_mutex_unlock(&io->lock);
}

static int ioapic_read(struct virq_device *dev, uint32_t vcpu, unsigned region,
		       uint64_t offset, unsigned size, uint64_t *val)
{
	struct ioapic *io = to_ioapic(dev);
	uint32_t v = 0;

	(void)vcpu, (void)region;
	pthread_mutex_lock(&io->lock);
	if (offset == REG_SELECT)
		v = io->ioregsel;
	else if (offset == REG_WINDOW)
		v = read_indirect(io);
	else
		virq_guest_error(dev, "read at offset 0x%llx",
				 (unsigned long long)offset);
	pthread_mutex_unlock(&io->lock);
	*val = size >= 4 ? v : v & ((1u << (size * 8)) - 1);
	return 0;
}

static int ioapic_write(struct virq_device *dev, uint32_t vcpu, unsigned region,
			uint64_t offset, unsigned size, uint64_t val)
{
	struct ioapic *io = to_ioapic(dev);
	uint32_t v = size >= 4 ? (uint32_t)val : (uint32_t)val & ((1u << (size * 8)) - 1);
	uint64_t changed = 0;
	unsigned pin = 0;
	bool masked = false;

	(void)vcpu, (void)region;
	if (offset == REG_EOI && io->version >= 0x20)
		return virq_ioapic_eoi(dev, (uint8_t)v, true);
	pthread_mutex_lock(&io->lock);
	if (offset == REG_SELECT) {
		io->ioregsel = v & 0xff;
	} else if (offset == REG_WINDOW) {
		changed = write_indirect(io, v);
		pin = (io->ioregsel - IND_REDIR) >> 1; /* valid when changed */
		masked = changed && (io->redir[pin] & RE_MASK);
	} else {
		virq_guest_error(dev, "write of 0x%x at offset 0x%llx", v,
				 (unsigned long long)offset);
	}
	pthread_mutex_unlock(&io->lock);
	if (changed & ~(RE_REMOTE_IRR | RE_DELIVS))
		ioapic_run_entry_hook(io, 1u << pin);
	/* mask notifiers may re-enter set_pin, as ack notifiers do */
	if (changed & RE_MASK)
		virq_notify_mask(virq_device_vm(dev), io->chip, pin, masked);
	return 0;
}

/* ---- attributes ---- */

static int attr_size(uint32_t group, uint64_t attr)
{
	switch (group) {
	case VIRQ_IOAPIC_GRP_REG:
		return attr == VIRQ_IOAPIC_REG_BASE	       ? 8
		       : attr <= VIRQ_IOAPIC_REG_IRR_DELIVERED ? 4
							       : -1;
	case VIRQ_IOAPIC_GRP_SYNC:
		return attr == 0 ? 0 : -1;
	case VIRQ_IOAPIC_GRP_REDIR:
	case VIRQ_IOAPIC_GRP_LINE:
		return attr < PINS ? 8 : -1;
	case VIRQ_IOAPIC_GRP_EOI:
		return attr < PINS ? 4 : -1;
	default:
		return -1;
	}
}

static int ioapic_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr)
{
	(void)dev;
	return attr_size(group, attr) < 0 ? -ENXIO : 0;
}

static uint64_t *attr_u64(struct ioapic *io, uint32_t group, uint64_t attr)
{
	if (group == VIRQ_IOAPIC_GRP_REDIR)
		return &io->redir[attr];
	if (group == VIRQ_IOAPIC_GRP_LINE)
		return &io->sources[attr];
	return &io->base;
}

static uint32_t *attr_u32(struct ioapic *io, uint32_t group, uint64_t attr)
{
	if (group == VIRQ_IOAPIC_GRP_EOI)
		return &io->eoi_count[attr];
	return attr == VIRQ_IOAPIC_REG_ID	  ? &io->id
	       : attr == VIRQ_IOAPIC_REG_IOREGSEL ? &io->ioregsel
	       : attr == VIRQ_IOAPIC_REG_IRR	  ? &io->irr
						  : &io->irr_delivered;
}

static int ioapic_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			   void *buf, size_t size)
{
	struct ioapic *io = to_ioapic(dev);
	int want = attr_size(group, attr);

	if (want < 0)
		return -ENXIO;
	if (group == VIRQ_IOAPIC_GRP_SYNC)
		return -EPERM; /* write-only */
	if (size != (size_t)want)
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	if (want == 8)
		memcpy(buf, attr_u64(io, group, attr), 8);
	else
		memcpy(buf, attr_u32(io, group, attr), 4);
	pthread_mutex_unlock(&io->lock);
	return 0;
}

/*
 * After a restore: deliver what the restored state holds pending, as
 * KVM_SET_IRQCHIP does (it re-asserts every IRR bit), except that an edge
 * already delivered before the save (irr_delivered, which KVM does not
 * save) is not delivered twice.
 */
static void ioapic_sync(struct ioapic *io)
{
	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < PINS; pin++) {
		uint32_t bit = 1u << pin;

		if (!(io->irr & bit))
			continue;
		if (!(io->redir[pin] & RE_LEVEL) && (io->irr_delivered & bit))
			continue;
		ioapic_service(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
}

/*
 * Setting state stores it and delivers nothing; SYNC, written last by a
 * restore, delivers what is pending.
 */
static int ioapic_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			   const void *buf, size_t size)
{
	struct ioapic *io = to_ioapic(dev);
	int want = attr_size(group, attr), ret = 0;
	uint64_t v = 0;

	if (want < 0)
		return -ENXIO;
	if (size != (size_t)want)
		return -EINVAL;
	if (group == VIRQ_IOAPIC_GRP_SYNC) {
		ioapic_sync(io);
		return 0;
	}
	memcpy(&v, buf, size);
	if (group == VIRQ_IOAPIC_GRP_REG && attr == VIRQ_IOAPIC_REG_BASE) {
		ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 0, v);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&io->lock);
	if ((group == VIRQ_IOAPIC_GRP_REG && attr == VIRQ_IOAPIC_REG_ID && v > 0xf) ||
	    (group == VIRQ_IOAPIC_GRP_REG && attr == VIRQ_IOAPIC_REG_IOREGSEL &&
	     v > 0xff) ||
	    (group == VIRQ_IOAPIC_GRP_REG &&
	     (attr == VIRQ_IOAPIC_REG_IRR || attr == VIRQ_IOAPIC_REG_IRR_DELIVERED) &&
	     v >> PINS))
		ret = -EINVAL;
	else if (want == 8)
		*attr_u64(io, group, attr) = v;
	else
		*attr_u32(io, group, attr) = (uint32_t)v;
	pthread_mutex_unlock(&io->lock);
	if (!ret && group == VIRQ_IOAPIC_GRP_REDIR)
		ioapic_run_entry_hook(io, 1u << attr);
	return ret;
}

/* ---- lifetime ---- */

static void ioapic_reset(struct virq_device *dev)
{
	struct ioapic *io = to_ioapic(dev);

	pthread_mutex_lock(&io->lock);
	/* as KVM: entries masked, their other fields kept; lines kept */
	for (unsigned pin = 0; pin < PINS; pin++)
		io->redir[pin] |= RE_MASK;
	io->ioregsel = 0;
	io->irr = 0;
	io->irr_delivered = 0;
	io->id = 0;
	memset(io->eoi_count, 0, sizeof(io->eoi_count));
	io->deadline_ns = 0;
	pthread_mutex_unlock(&io->lock);
	ioapic_run_entry_hook(io, (1u << PINS) - 1);
}

static int ioapic_create(struct virq_device *dev, const void *args)
{
	const struct virq_ioapic_args *a = args;
	struct ioapic *io;
	int ret;

	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->dev = dev;
	io->chip = a && a->chip ? a->chip : VIRQ_X86_CHIP_IOAPIC;
	io->base = a && a->base ? a->base : VIRQ_IOAPIC_DEFAULT_BASE;
	io->version = a && a->version ? a->version : 0x11;
	io->storm_max = a && a->storm_max ? a->storm_max : DEFAULT_STORM_MAX;
	io->storm_delay_us =
		a && a->storm_delay_us ? a->storm_delay_us : DEFAULT_STORM_DELAY_US;
	if (io->version != 0x11 && io->version != 0x20) {
		free(io);
		return -EINVAL;
	}
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->cond, NULL);
	pthread_cond_init(&io->hooks_idle, NULL);
	for (unsigned pin = 0; pin < PINS; pin++)
		io->redir[pin] = RE_MASK;
	virq_device_set_priv(dev, io);
	ret = virq_device_add_chip(dev, io->chip, PINS);
	if (!ret)
		ret = virq_device_add_region(dev, VIRQ_SPACE_MMIO, io->base,
					     VIRQ_IOAPIC_SIZE, 0);
	if (ret) {
		pthread_cond_destroy(&io->cond);
		pthread_cond_destroy(&io->hooks_idle);
		pthread_mutex_destroy(&io->lock);
		free(io);
	}
	return ret;
}

static void ioapic_destroy(struct virq_device *dev)
{
	struct ioapic *io = to_ioapic(dev);

	pthread_mutex_lock(&io->lock);
	io->stop = true;
	pthread_cond_signal(&io->cond);
	pthread_mutex_unlock(&io->lock);
	if (io->thread_started)
		pthread_join(io->thread, NULL);
	pthread_cond_destroy(&io->cond);
	pthread_cond_destroy(&io->hooks_idle);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

static const struct virq_device_type ioapic_type = {
	.name = "ioapic",
	.ops = {
		.create = ioapic_create,
		.destroy = ioapic_destroy,
		.reset = ioapic_reset,
		.set_pin = ioapic_set_pin,
		.clear_source = ioapic_clear_source,
		.read = ioapic_read,
		.write = ioapic_write,
		.get_attr = ioapic_get_attr,
		.set_attr = ioapic_set_attr,
		.has_attr = ioapic_has_attr,
	},
};

int virq_ioapic_register(void)
{
	return virq_device_type_register(&ioapic_type);
}

int ioapic_set_entry_hook(struct virq_device *dev, ioapic_entry_hook_fn fn, void *opaque)
{
	struct ioapic *io;

	if (!dev || virq_device_get_type(dev) != &ioapic_type)
		return virq_fail(EINVAL, "ioapic entry hook: not an ioapic device");
	io = to_ioapic(dev);
	pthread_mutex_lock(&io->lock);
	io->entry_hook = fn;
	io->entry_hook_opaque = opaque;
	/* the old hook's owner may free its state once this returns: wait
	 * for calls that read the old hook before the change */
	while (io->hooks_running)
		pthread_cond_wait(&io->hooks_idle, &io->lock);
	pthread_mutex_unlock(&io->lock);
	return 0;
}
