/* SPDX-License-Identifier: MIT */
/*
 * MSI-X guest accesses: the table and the PBA (checked, then performed
 * whole or dropped whole), entry writes, the VMM's entry calls and the
 * table/PBA placement in the VM's MMIO map.
 */
#include <errno.h>
#include <string.h>

#include "msix_priv.h"

/* ---- entry writes ---- */

/* The four dwords of @e, as the guest sees them. */
static void entry_dwords(const struct virq_msix_entry *e, uint32_t d[4])
{
	d[0] = e->address_lo;
	d[1] = e->address_hi;
	d[2] = e->data;
	d[3] = e->ctrl;
}

/* @e with dwords [first, first + n) replaced by @val. */
static struct virq_msix_entry entry_merge(const struct virq_msix_entry *e, unsigned first,
					  unsigned n, const uint32_t *val)
{
	uint32_t d[4];

	entry_dwords(e, d);
	memcpy(&d[first], val, n * sizeof(*val));
	return (struct virq_msix_entry){ d[0], d[1], d[2], d[3] & MASKED };
}

/* Store @ne, the merged write, into vector @v (its lock held). */
static void entry_apply(struct msix *m, uint32_t v, const struct virq_msix_entry *ne)
{
	struct msix_vec *x = &m->vec[v];
	bool was = vec_masked(__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE), x);

	/* a stale route must not carry a fire: latch until it is updated */
	if (!same_message(ne, &x->e))
		x->routed = false;
	x->e = *ne;
	vec_update(m, v);
	mask_note(m, v, was);
}

/*
 * A guest (or VMM) write of dwords [first, first + n) of entry @v.  When
 * the vector needs no route now (masked, or MSI-X disabled), or keeps the
 * one it has (a mask change), the write stays under the vector's lock;
 * only a vector that needs its route made or changed takes the config
 * lock.  < 0 with a reason if that route could not be made.
 */
int msix_entry_write(struct msix *m, uint32_t v, unsigned first, unsigned n,
		     const uint32_t *val)
{
	struct msix_vec *x = &m->vec[v];
	struct virq_msix_entry ne;
	bool enabled;
	int ret;

	pthread_mutex_lock(&x->lock);
	ne = entry_merge(&x->e, first, n, val);
	enabled = __atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) & VIRQ_MSIX_CTRL_ENABLE;
	/* enable stores ctrl before it plans: a vector planned already is
	 * seen enabled here, one not planned yet is planned with this write */
	if ((ne.ctrl & MASKED) || !enabled || (x->routed && same_message(&ne, &x->e))) {
		entry_apply(m, v, &ne);
		pthread_mutex_unlock(&x->lock);
		return 0;
	}
	pthread_mutex_unlock(&x->lock);

	config_lock(m->vm);
	pthread_mutex_lock(&x->lock);
	/* merged again: the entry may have changed while unlocked */
	ne = entry_merge(&x->e, first, n, val);
	entry_apply(m, v, &ne);
	pthread_mutex_unlock(&x->lock);
	ret = msix_reconcile(m, v, v + 1, false);
	config_unlock(m->vm);
	return ret;
}

int virq_msix_get_entry(struct virq_device *dev, uint32_t vector,
			struct virq_msix_entry *e, uint32_t *gsi)
{
	struct msix_vec *x;
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	if (ret)
		return ret;
	if (!e)
		return virq_fail(EINVAL, "msix_get_entry: NULL entry");
	x = &m->vec[vector];
	pthread_mutex_lock(&x->lock);
	*e = x->e;
	if (gsi)
		*gsi = x->gsi;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

int virq_msix_set_entry(struct virq_device *dev, uint32_t vector,
			const struct virq_msix_entry *e)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);
	uint32_t d[4];

	if (ret)
		return ret;
	if (!e)
		return virq_fail(EINVAL, "msix_set_entry: NULL entry");
	entry_dwords(e, d);
	return msix_entry_write(m, vector, 0, 4, d);
}

/* ---- guest accessors ---- */

static bool access_ok(uint64_t offset, unsigned size, uint64_t limit)
{
	return (size == 4 || size == 8) && !(offset & (size - 1)) && offset < limit &&
	       size <= limit - offset;
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void dropped(struct msix *m, const char *what, uint64_t offset, unsigned size)
{
	msix_count(&m->c.dropped);
	virq_guest_error(m->dev, "%s of %u bytes at offset 0x%llx dropped", what, size,
			 (unsigned long long)offset);
}

static int table_read(struct msix *m, uint64_t offset, unsigned size, uint64_t *val)
{
	struct msix_vec *x;
	uint32_t d[4];

	if (!access_ok(offset, size, (uint64_t)m->nr * VIRQ_MSIX_ENTRY_SIZE)) {
		dropped(m, "table read", offset, size);
		*val = all_ones(size);
		return 0;
	}
	x = &m->vec[offset / VIRQ_MSIX_ENTRY_SIZE];
	pthread_mutex_lock(&x->lock);
	entry_dwords(&x->e, d);
	pthread_mutex_unlock(&x->lock);
	offset = (offset % VIRQ_MSIX_ENTRY_SIZE) / 4;
	*val = d[offset];
	if (size == 8)
		*val |= (uint64_t)d[offset + 1] << 32;
	return 0;
}

static int table_write(struct msix *m, uint64_t offset, unsigned size, uint64_t val)
{
	uint32_t d[2] = { (uint32_t)val, (uint32_t)(val >> 32) };
	uint32_t v;

	if (!access_ok(offset, size, (uint64_t)m->nr * VIRQ_MSIX_ENTRY_SIZE)) {
		dropped(m, "table write", offset, size);
		return 0;
	}
	v = (uint32_t)(offset / VIRQ_MSIX_ENTRY_SIZE);
	/* performed; a route that could not be made is counted
	 * (route_failures), its vector latches and is retried */
	if (msix_entry_write(m, v, (unsigned)(offset % VIRQ_MSIX_ENTRY_SIZE) / 4,
			     size / 4, d) < 0)
		virq_guest_error(m->dev, "vector %u left unrouted: %s", v,
				 virq_last_error());
	return 0;
}

static int pba_read(struct msix *m, uint64_t offset, unsigned size, uint64_t *val)
{
	if (!access_ok(offset, size, (uint64_t)pba_words(m) * 8)) {
		dropped(m, "PBA read", offset, size);
		*val = all_ones(size);
		return 0;
	}
	direct_fold(m, (uint32_t)(offset / 8 * 64), (uint32_t)(offset / 8 * 64 + 64));
	*val = __atomic_load_n(&m->pba[offset / 8], __ATOMIC_RELAXED);
	if (size == 4)
		*val = (uint32_t)(*val >> (offset % 8 * 8));
	return 0;
}

int virq_msix_table_read(struct virq_device *dev, uint64_t offset, unsigned size,
			 uint64_t *val)
{
	struct msix *m = msix_of(dev);

	if (!m || !val)
		return virq_fail(EINVAL, "msix_table_read: not an MSI-X device, or NULL");
	return table_read(m, offset, size, val);
}

int virq_msix_table_write(struct virq_device *dev, uint64_t offset, unsigned size,
			  uint64_t val)
{
	struct msix *m = msix_of(dev);

	if (!m)
		return virq_fail(EINVAL, "msix_table_write: not an MSI-X device");
	return table_write(m, offset, size, val);
}

int virq_msix_pba_read(struct virq_device *dev, uint64_t offset, unsigned size,
		       uint64_t *val)
{
	struct msix *m = msix_of(dev);

	if (!m || !val)
		return virq_fail(EINVAL, "msix_pba_read: not an MSI-X device, or NULL");
	return pba_read(m, offset, size, val);
}

int virq_msix_pba_write(struct virq_device *dev, uint64_t offset, unsigned size,
			uint64_t val)
{
	struct msix *m = msix_of(dev);

	(void)val;
	if (!m)
		return virq_fail(EINVAL, "msix_pba_write: not an MSI-X device");
	dropped(m, "PBA write (read-only)", offset, size);
	return 0;
}

/* Device ops: regions 0 (table) and 1 (PBA) once virq_msix_map placed them. */
int msix_io_read(struct virq_device *dev, uint32_t vcpu, unsigned region, uint64_t offset,
		 unsigned size, uint64_t *val)
{
	(void)vcpu;
	return region ? pba_read(virq_device_priv(dev), offset, size, val)
		      : table_read(virq_device_priv(dev), offset, size, val);
}

int msix_io_write(struct virq_device *dev, uint32_t vcpu, unsigned region,
		  uint64_t offset, unsigned size, uint64_t val)
{
	(void)vcpu;
	if (region)
		return virq_msix_pba_write(dev, offset, size, val);
	return table_write(virq_device_priv(dev), offset, size, val);
}

/* ---- the MMIO map ---- */

static int move(struct virq_device *dev, unsigned region, uint64_t addr)
{
	return virq_device_move_region(dev, VIRQ_SPACE_MMIO, region, addr);
}

/* First placement (config lock): both regions or, on failure, neither. */
static int map_first(struct msix *m, uint64_t table_addr, uint64_t tsize,
		     uint64_t pba_addr, uint64_t psize)
{
	struct virq_device *dev = m->dev;
	int ret;

	/* check the PBA's place before the table is added: a region cannot
	 * be taken out again */
	if (addrmap_overlaps(m->vm, VIRQ_SPACE_MMIO, pba_addr, psize, dev, UINT32_MAX))
		return virq_fail(EEXIST, "%s: PBA at 0x%llx overlaps another region",
				 virq_device_name(dev), (unsigned long long)pba_addr);
	ret = virq_device_add_region(dev, VIRQ_SPACE_MMIO, table_addr, tsize, 0);
	if (ret)
		return ret;
	m->mapped = 1;
	m->table_addr = table_addr;
	ret = virq_device_add_region(dev, VIRQ_SPACE_MMIO, pba_addr, psize, 1);
	if (ret)
		return ret; /* not an overlap (out of memory): the next call adds it */
	m->mapped = 3;
	m->pba_addr = pba_addr;
	return 0;
}

int virq_msix_map(struct virq_device *dev, uint64_t table_addr, uint64_t pba_addr)
{
	struct msix *m = msix_of(dev);
	uint64_t tsize, psize, tmp;
	int ret;

	if (!m)
		return virq_fail(EINVAL, "msix_map: not an MSI-X device");
	tsize = (uint64_t)m->nr * VIRQ_MSIX_ENTRY_SIZE;
	psize = (uint64_t)pba_words(m) * 8;
	if (table_addr < pba_addr + psize && pba_addr < table_addr + tsize)
		return virq_fail(EINVAL, "%s: table and PBA overlap",
				 virq_device_name(dev));
	config_lock(m->vm);
	if (m->mapped == 0) {
		ret = map_first(m, table_addr, tsize, pba_addr, psize);
		goto out;
	}
	if (m->mapped == 1) {
		/* a first call that added the table only: finish it */
		ret = move(dev, 0, table_addr);
		if (!ret) {
			m->table_addr = table_addr;
			ret = virq_device_add_region(dev, VIRQ_SPACE_MMIO, pba_addr,
						     psize, 1);
		}
		if (!ret) {
			m->mapped = 3;
			m->pba_addr = pba_addr;
		}
		goto out;
	}
	/*
	 * Whichever order keeps them apart; if neither does (they trade
	 * places), the PBA waits beyond all four ranges.  Any failure puts
	 * back what moved: both stay where they were.
	 */
	ret = move(dev, 0, table_addr);
	if (!ret) {
		ret = move(dev, 1, pba_addr);
		if (ret)
			move(dev, 0, m->table_addr);
		goto moved;
	}
	ret = move(dev, 1, pba_addr);
	if (!ret) {
		ret = move(dev, 0, table_addr);
		if (ret)
			move(dev, 1, m->pba_addr);
		goto moved;
	}
	tmp = table_addr + tsize;
	tmp = tmp > pba_addr + psize ? tmp : pba_addr + psize;
	tmp = tmp > m->table_addr + tsize ? tmp : m->table_addr + tsize;
	tmp = tmp > m->pba_addr + psize ? tmp : m->pba_addr + psize;
	ret = move(dev, 1, (tmp + 7) & ~7ull);
	if (ret)
		goto moved;
	ret = move(dev, 0, table_addr);
	if (!ret) {
		ret = move(dev, 1, pba_addr);
		if (ret)
			move(dev, 0, m->table_addr);
	}
	if (ret)
		move(dev, 1, m->pba_addr);
moved:
	if (!ret) {
		m->table_addr = table_addr;
		m->pba_addr = pba_addr;
	}
out:
	config_unlock(m->vm);
	return ret;
}
