/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_DEVICE_H
#define VIRQ_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;
struct virq_device;
struct virq_msi;

/*
 * Device control: every interrupt controller is a device of a registered
 * type.  A device owns zero or more chips (pin inputs addressed by routes
 * as chip id + pin), may take MSIs through a doorbell window, exposes
 * guest accessors (MMIO, PIO or hypercall regions), drives vCPU lines or
 * emits MSIs, and makes all of its state reachable as attributes
 * (group, attr) -- the ONE_REG idea applied to devices.
 */

#define VIRQ_MAX_CHIPS 64u
#define VIRQ_MAX_CHIP_PINS (1u << 24)

/* Address spaces of guest accessor regions. */
enum virq_space {
	VIRQ_SPACE_MMIO = 0,
	VIRQ_SPACE_PIO = 1,
	VIRQ_SPACE_HCALL = 2, /* hypercall / RTAS token numbers */
	VIRQ_SPACE_MAX = 3,
};

/*
 * Operations of a device type.  Every member but create may be NULL.
 * The input ops (set_pin, set_ppi, set_lpi, msi) and the accessors run
 * concurrently from any thread: the device serialises its own state.
 * They return KVM's injection codes: < 0 ignored/masked, 0 coalesced,
 * > 0 delivered.
 */
struct virq_device_ops {
	/* Set up the device: allocate state, add chips/regions/doorbells. */
	int (*create)(struct virq_device *dev, const void *args);
	/* Free everything create allocated.  No input runs any more. */
	void (*destroy)(struct virq_device *dev);
	/* Back to power-on state. */
	void (*reset)(struct virq_device *dev);

	/*
	 * @level is @source_id's level alone; a chip combines sources with
	 * virq_line_level() under its lock (KVM's irq_states).
	 */
	int (*set_pin)(struct virq_device *dev, uint32_t chip, uint32_t pin, int level,
		       uint32_t source_id);
	int (*set_ppi)(struct virq_device *dev, uint32_t vcpu, uint32_t ppi, int level,
		       uint32_t source_id);
	int (*set_lpi)(struct virq_device *dev, uint32_t intid);
	int (*msi)(struct virq_device *dev, const struct virq_msi *msi);
	/* Forget every line level held by @source_id (source id freed). */
	void (*clear_source)(struct virq_device *dev, uint32_t source_id);

	/*
	 * Guest accessors: @vcpu made the access (VIRQ_VCPU_NONE: the VMM
	 * itself), @region is the index given to virq_device_add_region,
	 * @offset relative to the region's base.  Return 0 if handled
	 * (reads fill *val), < 0 to refuse.
	 */
	int (*read)(struct virq_device *dev, uint32_t vcpu, unsigned region,
		    uint64_t offset, unsigned size, uint64_t *val);
	int (*write)(struct virq_device *dev, uint32_t vcpu, unsigned region,
		     uint64_t offset, unsigned size, uint64_t val);

	/*
	 * Attributes.  get/set: 0, or -ENXIO (no such attribute), -EPERM
	 * (not accessible now), -EBUSY (not while running), -EINVAL (bad
	 * size or value).  has: 0 if it exists, else -ENXIO.
	 */
	int (*get_attr)(struct virq_device *dev, uint32_t group, uint64_t attr, void *buf,
			size_t size);
	int (*set_attr)(struct virq_device *dev, uint32_t group, uint64_t attr,
			const void *buf, size_t size);
	int (*has_attr)(struct virq_device *dev, uint32_t group, uint64_t attr);
};

struct virq_device_type {
	const char *name; /* unique, e.g. "ioapic" */
	struct virq_device_ops ops;
};

/*
 * Register a type (process-wide).  -EEXIST if the name is taken by
 * another type; registering the same type twice is a no-op.  The type
 * must outlive every device of it.
 */
int virq_device_type_register(const struct virq_device_type *type);
const struct virq_device_type *virq_device_type_find(const char *name);

/*
 * Create a device of the type registered as @type_name.  @args is
 * passed to the type's create op.  Serialised with other configuration.
 */
int virq_device_create(struct virq_vm *vm, const char *type_name, const void *args,
		       struct virq_device **out);

/*
 * Destroy a device: its chips, doorbells and regions disappear at once
 * (routes to its chips then drive nothing and give -1), and its state is
 * freed once no injection or access can still see it.
 */
int virq_device_destroy(struct virq_device *dev);

int virq_device_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			 void *buf, size_t size);
int virq_device_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			 const void *buf, size_t size);
int virq_device_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr);
int virq_device_reset(struct virq_device *dev);

const char *virq_device_name(const struct virq_device *dev);
const struct virq_device_type *virq_device_get_type(const struct virq_device *dev);
struct virq_vm *virq_device_vm(const struct virq_device *dev);
unsigned virq_device_instance(const struct virq_device *dev);

/* An access not made by a vCPU (the VMM, a debugger). */
#define VIRQ_VCPU_NONE UINT32_MAX

/*
 * Guest access through the VM's address map: the device region holding
 * [@addr, @addr + @size) handles it.  -ENOENT if no region does (the VMM
 * then handles the access itself).  @size is 1, 2, 4 or 8; @vcpu is the
 * accessing vCPU (per-CPU register banks depend on it) or VIRQ_VCPU_NONE.
 */
int virq_io_read(struct virq_vm *vm, uint32_t vcpu, enum virq_space space, uint64_t addr,
		 unsigned size, uint64_t *val);
int virq_io_write(struct virq_vm *vm, uint32_t vcpu, enum virq_space space, uint64_t addr,
		  unsigned size, uint64_t val);

/* ---- for device types (called from their ops, mostly create) ---- */

void virq_device_set_priv(struct virq_device *dev, void *priv);
void *virq_device_priv(const struct virq_device *dev);

/*
 * Claim chip id @chip (< VIRQ_MAX_CHIPS) with @nr_pins pins: routes with
 * kind IRQCHIP and this chip reach set_pin.  -EEXIST if taken.
 */
int virq_device_add_chip(struct virq_device *dev, uint32_t chip, uint32_t nr_pins);
/* Routes of kind PPI / LPI may name chip @chip (already claimed). */
#define VIRQ_CHIP_PPI (1u << 0)
#define VIRQ_CHIP_LPI (1u << 1)
int virq_device_chip_accepts(struct virq_device *dev, uint32_t chip, unsigned kinds);

/*
 * Take MSIs whose 64-bit address lies in [@base, @base + @size): they
 * reach the msi op instead of the VMM's sink.  -EEXIST on overlap.
 */
int virq_device_add_doorbell(struct virq_device *dev, uint64_t base, uint64_t size);

/*
 * Expose [@base, @base + @size) of @space; accesses reach read/write
 * with @region.  -EEXIST on overlap with another region.
 */
int virq_device_add_region(struct virq_device *dev, enum virq_space space, uint64_t base,
			   uint64_t size, unsigned region);
/* Move a region (a relocatable BAR or a guest-programmed base). */
int virq_device_move_region(struct virq_device *dev, enum virq_space space,
			    unsigned region, uint64_t new_base);

/*
 * Level of a line driven by several sources: update bit @source_id of
 * *@state and return the OR (0 or 1).  Call it under the chip's lock.
 */
static inline int virq_line_level(uint64_t *state, uint32_t source_id, int level)
{
	if (level)
		*state |= 1ull << (source_id & 63);
	else
		*state &= ~(1ull << (source_id & 63));
	return *state != 0;
}

/* Emit an MSI from a chip (IOAPIC output, ITS...), like virq_signal_msi. */
int virq_device_emit_msi(struct virq_device *dev, const struct virq_msi *msi);

/*
 * Report a guest mistake: counted, and logged through the VM's
 * guest_error hook under a per-VM rate limit.  Never fails.
 */
void virq_guest_error(struct virq_device *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
