/* SPDX-License-Identifier: MIT */
/* Core structures shared by the files of src/core; never installed. */
#ifndef VIRQ_CORE_INTERNAL_H
#define VIRQ_CORE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <virq/virq.h>

#include "rcu.h"

#define VIRQ_INTERNAL __attribute__((visibility("hidden")))
#define virq_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- errors (error.c) ---- */

/* Record a reason for this thread and return -@err. */
VIRQ_INTERNAL int virq_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
VIRQ_INTERNAL void virq_clear_error(void);

/* ---- router (router.c) ---- */

#define ROUTE_CHUNK_SHIFT 10u
#define ROUTE_CHUNK (1u << ROUTE_CHUNK_SHIFT)
/* A GSI has at most one entry per chip. */
#define ROUTE_SET_MAX VIRQ_MAX_CHIPS

/*
 * The entries of one GSI, immutable once published.  Replaced whole by a
 * commit; the old set is freed after a grace period.
 */
struct route_set {
	struct virq_rcu_head rcu;
	struct route_set *gc_next; /* garbage batch link (config lock) */
	uint32_t nr;
	struct virq_route_entry e[]; /* chip entries sorted by chip id */
};

struct route_chunk {
	struct route_set *slot[ROUTE_CHUNK]; /* RCU-published */
};

/* Reverse map cell for one (chip, pin): guarded by the config lock for
 * writes, read locklessly (gsi_plus1 only). */
struct rmap_cell {
	uint32_t gsi_plus1; /* lowest GSI routed here + 1, 0 = none */
	uint32_t count;	    /* entries routed here */
};
#define RMAP_TOP (VIRQ_MAX_CHIP_PINS / ROUTE_CHUNK)

struct route_observer {
	virq_route_observer_fn fn;
	void *opaque;
};
#define ROUTE_MAX_OBSERVERS 8

#define ROUTE_GC_BATCH 64
#define SLAB_MIN_CHUNKS 64u /* 64 Ki GSIs */

struct router {
	uint32_t limit;
	uint32_t nr_chunks;
	/* chunk pointers: published once, freed with the VM */
	struct route_chunk **chunks;
	/* big tables: every chunk's storage, one mapping (else calloc each) */
	struct route_chunk *slab;
	size_t slab_len;

	/* all below: config lock */
	uint64_t nr_entries;
	uint64_t nr_gsis;
	struct virq_route_stats stats;
	struct rmap_cell **rmap[VIRQ_MAX_CHIPS]; /* [chip][pin >> 10] */
	struct route_set *gc_head;		 /* not yet handed to RCU */
	unsigned gc_count;
	struct route_observer observers[ROUTE_MAX_OBSERVERS];
	unsigned nr_observers;
};

VIRQ_INTERNAL int router_init(struct router *r, uint32_t limit);
VIRQ_INTERNAL void router_fini(struct router *r);
/* Reverse map without an error reason (EOI path): true if found. */
VIRQ_INTERNAL bool router_gsi_of_pin(struct router *r, uint32_t chip, uint32_t pin,
				     uint32_t *gsi);

/* Caller holds the RCU read lock; NULL if the GSI has no entries. */
static inline struct route_set *router_lookup(struct router *r, uint32_t gsi)
{
	struct route_chunk *c;

	if (gsi >= r->limit)
		return NULL;
	c = virq_rcu_dereference(r->chunks[gsi >> ROUTE_CHUNK_SHIFT]);
	if (!c)
		return NULL;
	return virq_rcu_dereference(c->slot[gsi & (ROUTE_CHUNK - 1)]);
}

/* ---- devices (device.c) ---- */

struct chip_slot {
	struct virq_device *dev;
	uint32_t chip;
	uint32_t nr_pins;
	unsigned accepts; /* VIRQ_CHIP_PPI | VIRQ_CHIP_LPI; atomic */
};

static inline unsigned chip_accepts(const struct chip_slot *slot)
{
	return __atomic_load_n(&slot->accepts, __ATOMIC_ACQUIRE);
}

struct doorbell {
	uint64_t base, size;
	struct virq_device *dev;
};

struct doorbell_map {
	struct virq_rcu_head rcu;
	unsigned n;
	struct doorbell d[];
};

struct region {
	uint64_t base, size;
	struct virq_device *dev;
	unsigned index;
};

/* sorted by base, non-overlapping */
struct region_map {
	struct virq_rcu_head rcu;
	unsigned n;
	struct region r[];
};

#define DEVICE_MAX_DOORBELLS 8
#define DEVICE_MAX_REGIONS 16

struct device_region {
	enum virq_space space;
	uint64_t base, size;
	unsigned index;
};

struct virq_device {
	struct virq_vm *vm;
	const struct virq_device_type *type;
	void *priv;
	unsigned instance;
	char name[48];
	uint64_t guest_errors; /* atomic */

	/* config lock: what the device claimed; published while live */
	struct virq_device *next; /* vm->devices */
	bool live;		  /* create finished, claims published */
	struct chip_slot *chips[VIRQ_MAX_CHIPS];
	unsigned nr_chips;
	struct doorbell doorbells[DEVICE_MAX_DOORBELLS];
	unsigned nr_doorbells;
	struct device_region regions[DEVICE_MAX_REGIONS];
	unsigned nr_regions;
};

/* ---- the VM (vm.c) ---- */

struct virq_vm {
	struct virq_vm_config cfg;
	uint32_t nr_vcpus;

	/*
	 * Serialises configuration: commits, device create/destroy,
	 * attribute sets.  Recursive because a device's attribute or guest
	 * access may change routes.  Rule: nothing waits for an RCU grace
	 * period while holding it, so a reader may take it.
	 */
	pthread_mutex_t config_lock;

	struct router router;

	/* RCU-published; written under config_lock */
	struct chip_slot *chips[VIRQ_MAX_CHIPS];
	struct doorbell_map *doorbells;
	struct region_map *regions[VIRQ_SPACE_MAX];

	/* config_lock */
	struct virq_device *devices;
	uint64_t source_ids; /* allocated source id bitmap */

	bool running; /* atomic */

	/* ack notifiers, sorted by GSI: RCU-published, written under config_lock */
	struct ack_hooks *ack_hooks;
	/* irqfd engine, created at the first bind (config_lock) */
	struct irqfd_engine *irqfd;
	/* a backend that delivers MSI eventfds itself, or NULL (config_lock) */
	const struct irqfd_accel *irqfd_accel;

	/* guest-error rate limit */
	pthread_mutex_t log_lock;
	uint64_t log_tokens_ns; /* time credit, guarded by log_lock */
	uint64_t log_last_ns;
	uint64_t log_suppressed;
	uint64_t guest_errors; /* atomic */
};

/* How deep this thread is in config_lock (it is recursive). */
extern _Thread_local unsigned virq_config_depth;

static inline void config_lock(struct virq_vm *vm)
{
	pthread_mutex_lock(&vm->config_lock);
	virq_config_depth++;
}

static inline void config_unlock(struct virq_vm *vm)
{
	virq_config_depth--;
	pthread_mutex_unlock(&vm->config_lock);
}

/*
 * May this thread wait for a grace period?  Not inside a read section
 * (it would wait for itself) and not under the configuration lock (a
 * reader may be waiting for it).  Callbacks and device ops run in one or
 * the other.
 */
static inline bool may_synchronize(void)
{
	return !virq_config_depth && !virq_rcu_read_ongoing();
}

/* MSI to a doorbell owner or the VMM sink.  Caller holds RCU read. */
VIRQ_INTERNAL int msi_dispatch(struct virq_vm *vm, const struct virq_msi *msi);

VIRQ_INTERNAL void device_destroy_all(struct virq_vm *vm);

/* ---- acks and irqfds (ack.c, irqfd.c) ---- */

/* An ack notifier (fn) or a mask notifier (mask_fn): one of the two. */
struct ack_hook {
	uint32_t gsi;
	virq_ack_fn fn;
	void *opaque;
	virq_mask_fn mask_fn;
};

struct ack_hooks {
	struct virq_rcu_head rcu;
	unsigned n;
	struct ack_hook h[];
};

VIRQ_INTERNAL void ack_fini(struct virq_vm *vm);
VIRQ_INTERNAL void *ack_hook_opaque(const struct ack_hooks *a, uint32_t gsi,
				    virq_ack_fn fn);
/* Stop the workers, drop every irqfd (VM teardown). */
VIRQ_INTERNAL void irqfd_fini(struct virq_vm *vm);

/*
 * irqfds that call @hook(@opaque, @arg) instead of injecting a GSI (MSI-X
 * vectors: src/pci/msix.c).  The hook runs on a worker (or the dispatching
 * thread) inside an RCU read section.  Bind errors as virq_irqfd_bind's.
 * Unbind: the irqfd of @eventfd with this (@hook, @opaque, @arg), or with
 * @eventfd < 0 every irqfd of (@hook, @opaque); when it returns no hook of
 * theirs runs any more.  Never called with the config lock held.
 */
typedef void (*irqfd_hook_fn)(void *opaque, uint32_t arg);
/* @owned: @eventfd is the binder's to close; the binding outlives it
 * (no auto-unbind when that number closes) */
VIRQ_INTERNAL int irqfd_bind_hook(struct virq_vm *vm, int eventfd, irqfd_hook_fn hook,
				  void *opaque, uint32_t arg, bool owned);
VIRQ_INTERNAL int irqfd_unbind_hook(struct virq_vm *vm, int eventfd, irqfd_hook_fn hook,
				    void *opaque, uint32_t arg);

/*
 * For bindings kept outside the engine (src/pci/msix_direct.c): an
 * eventfd's identity (-EBADF not open, -EINVAL not an eventfd); whether
 * the engine holds an eventfd of that identity (config lock); and a read
 * of its counter that never blocks (false: it was zero).
 */
VIRQ_INTERNAL int irqfd_identity(int fd, uint64_t *id);
VIRQ_INTERNAL bool irqfd_engine_holds(struct virq_vm *vm, uint64_t id);
VIRQ_INTERNAL bool irqfd_counter_take(int fd, uint64_t *count);

/*
 * An irqfd accelerator: a backend that delivers an eventfd on an MSI GSI
 * without userspace (the KVM backend's KVM_IRQFD).  MSI-X devices hand it
 * their vectors' eventfds while the vector may send (msix_direct.c); the
 * backend keeps the route at @gsi in its table before an assign and after
 * a deassign.  assign/deassign run under MSI-X vector locks: they take
 * no virq lock.  A deassign returns once every signal the accelerator
 * took from the eventfd has been delivered.
 */
struct irqfd_accel {
	bool (*covers)(void *opaque, uint32_t gsi); /* may @gsi be assigned? */
	/* does the backend hold an eventfd of identity @id?  (config lock) */
	bool (*holds)(void *opaque, uint64_t id);
	int (*assign)(void *opaque, int fd, uint32_t gsi);
	int (*deassign)(void *opaque, int fd, uint32_t gsi);
	void *opaque;
};

/*
 * Install @accel (not NULL) or remove the installed one (NULL): on
 * removal, every eventfd an MSI-X device gave it moves to the engine,
 * its pending signals with it.  Not with the config lock held.
 */
VIRQ_INTERNAL void irqfd_accel_set(struct virq_vm *vm, const struct irqfd_accel *accel);
/* Does an MSI-X device hold an eventfd of identity @id that way?  (config lock) */
VIRQ_INTERNAL bool msix_direct_holds(struct virq_vm *vm, uint64_t id);

/* addrmap.c: rebuild the doorbell and region maps from the live devices
 * (config lock).  On -ENOMEM the old maps stay. */
VIRQ_INTERNAL int addrmap_rebuild(struct virq_vm *vm, const struct virq_device *skip);
VIRQ_INTERNAL void addrmap_fini(struct virq_vm *vm);
/* Would [base, base + size) of @space overlap a claim?  (config lock) */
VIRQ_INTERNAL bool addrmap_overlaps(struct virq_vm *vm, enum virq_space space,
				    uint64_t base, uint64_t size,
				    const struct virq_device *self, unsigned self_index);
VIRQ_INTERNAL bool doorbell_overlaps(struct virq_vm *vm, uint64_t base, uint64_t size);

#endif
