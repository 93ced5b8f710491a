/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testchip.h"

struct msi_slot {
	uint64_t count; /* atomic; one cache line per slot */
	char pad[56];
};

struct testchip {
	struct testchip_args args;
	pthread_mutex_t lock;
	/* guarded by lock */
	uint64_t sources[TESTCHIP_MAX_PINS]; /* per-source levels */
	uint64_t rising[TESTCHIP_MAX_PINS];
	uint64_t calls[TESTCHIP_MAX_PINS];
	uint64_t asserts[TESTCHIP_MAX_PINS]; /* calls with level 1 */
	int result[TESTCHIP_MAX_PINS];
	uint32_t scratch;
	struct virq_msi last_msi;
	uint64_t ppis, lpis;
	uint64_t regs[2];
	uint32_t last_vcpu; /* of the last MMIO access */
	/* lock-free */
	struct msi_slot msi[TESTCHIP_MSI_SLOTS];
};

static struct testchip *tc(struct virq_device *dev)
{
	return virq_device_priv(dev);
}

static int tc_create(struct virq_device *dev, const void *args)
{
	const struct testchip_args *a = args;
	struct testchip *t;
	int ret;

	if (!a || !a->nr_pins || a->nr_pins > TESTCHIP_MAX_PINS)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->args = *a;
	pthread_mutex_init(&t->lock, NULL);
	for (uint32_t i = 0; i < a->nr_pins; i++)
		t->result[i] = 1;
	virq_device_set_priv(dev, t);
	ret = virq_device_add_chip(dev, a->chip, a->nr_pins);
	if (!ret && a->accepts)
		ret = virq_device_chip_accepts(dev, a->chip, a->accepts);
	if (!ret && a->doorbell_base)
		ret = virq_device_add_doorbell(dev, a->doorbell_base, a->doorbell_size);
	if (!ret && a->mmio_base)
		ret = virq_device_add_region(dev, VIRQ_SPACE_MMIO, a->mmio_base, 16, 0);
	if (ret) {
		pthread_mutex_destroy(&t->lock);
		free(t);
	}
	return ret;
}

static void tc_destroy(struct virq_device *dev)
{
	struct testchip *t = tc(dev);

	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void tc_reset(struct virq_device *dev)
{
	struct testchip *t = tc(dev);

	pthread_mutex_lock(&t->lock);
	memset(t->sources, 0, sizeof(t->sources));
	t->scratch = 0;
	pthread_mutex_unlock(&t->lock);
}

static int tc_set_pin(struct virq_device *dev, uint32_t chip, uint32_t pin, int level,
		      uint32_t source_id)
{
	struct testchip *t = tc(dev);
	int was, now, ret;

	(void)chip;
	pthread_mutex_lock(&t->lock);
	was = t->sources[pin] != 0;
	now = virq_line_level(&t->sources[pin], source_id, level);
	if (now && !was)
		t->rising[pin]++;
	t->calls[pin]++;
	if (level)
		t->asserts[pin]++;
	ret = t->result[pin];
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static int tc_set_ppi(struct virq_device *dev, uint32_t vcpu, uint32_t ppi, int level,
		      uint32_t source_id)
{
	struct testchip *t = tc(dev);

	(void)vcpu, (void)ppi, (void)source_id;
	pthread_mutex_lock(&t->lock);
	if (level)
		t->ppis++;
	pthread_mutex_unlock(&t->lock);
	return 1;
}

static int tc_set_lpi(struct virq_device *dev, uint32_t intid)
{
	struct testchip *t = tc(dev);

	(void)intid;
	pthread_mutex_lock(&t->lock);
	t->lpis++;
	pthread_mutex_unlock(&t->lock);
	return 1;
}

static int tc_msi(struct virq_device *dev, const struct virq_msi *msi)
{
	struct testchip *t = tc(dev);

	__atomic_fetch_add(&t->msi[msi->data % TESTCHIP_MSI_SLOTS].count, 1,
			   __ATOMIC_RELAXED);
	/* the benchmark's messages skip the lock: only the counter moves */
	if (!(msi->data & TESTCHIP_DATA_FAST)) {
		pthread_mutex_lock(&t->lock);
		t->last_msi = *msi;
		pthread_mutex_unlock(&t->lock);
	}
	return 1;
}

static void tc_clear_source(struct virq_device *dev, uint32_t source_id)
{
	struct testchip *t = tc(dev);

	pthread_mutex_lock(&t->lock);
	for (uint32_t i = 0; i < t->args.nr_pins; i++)
		virq_line_level(&t->sources[i], source_id, 0);
	pthread_mutex_unlock(&t->lock);
}

static int tc_read(struct virq_device *dev, uint32_t vcpu, unsigned region,
		   uint64_t offset, unsigned size, uint64_t *val)
{
	struct testchip *t = tc(dev);

	if (region != 0 || size != 8 || offset % 8)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->last_vcpu = vcpu;
	*val = t->regs[offset / 8];
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static int tc_write(struct virq_device *dev, uint32_t vcpu, unsigned region,
		    uint64_t offset, unsigned size, uint64_t val)
{
	struct testchip *t = tc(dev);

	if (region != 0 || size != 8 || offset % 8)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->last_vcpu = vcpu;
	t->regs[offset / 8] = val;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static int tc_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr)
{
	struct testchip *t = tc(dev);

	switch (group) {
	case TESTCHIP_GRP_LEVEL:
	case TESTCHIP_GRP_RISING:
	case TESTCHIP_GRP_RESULT:
		return attr < t->args.nr_pins ? 0 : -ENXIO;
	case TESTCHIP_GRP_CONFIG:
	case TESTCHIP_GRP_LOCKED:
	case TESTCHIP_GRP_LAST_VCPU:
		return attr == 0 ? 0 : -ENXIO;
	case TESTCHIP_GRP_MSI:
		return attr < TESTCHIP_MSI_SLOTS ? 0 : -ENXIO;
	default:
		return -ENXIO;
	}
}

static int tc_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr, void *buf,
		       size_t size)
{
	struct testchip *t = tc(dev);
	int ret = tc_has_attr(dev, group, attr);
	uint64_t v64;
	uint32_t v32;
	int32_t s32;

	if (ret)
		return ret;
	pthread_mutex_lock(&t->lock);
	switch (group) {
	case TESTCHIP_GRP_LEVEL:
		v32 = t->sources[attr] != 0;
		ret = size == 4 ? (memcpy(buf, &v32, 4), 0) : -EINVAL;
		break;
	case TESTCHIP_GRP_RISING:
		v64 = t->rising[attr];
		ret = size == 8 ? (memcpy(buf, &v64, 8), 0) : -EINVAL;
		break;
	case TESTCHIP_GRP_RESULT:
		s32 = t->result[attr];
		ret = size == 4 ? (memcpy(buf, &s32, 4), 0) : -EINVAL;
		break;
	case TESTCHIP_GRP_CONFIG:
		ret = size == 4 ? (memcpy(buf, &t->scratch, 4), 0) : -EINVAL;
		break;
	case TESTCHIP_GRP_LAST_VCPU:
		ret = size == 4 ? (memcpy(buf, &t->last_vcpu, 4), 0) : -EINVAL;
		break;
	case TESTCHIP_GRP_MSI:
		v64 = __atomic_load_n(&t->msi[attr].count, __ATOMIC_RELAXED);
		ret = size == 8 ? (memcpy(buf, &v64, 8), 0) : -EINVAL;
		break;
	default:
		ret = -EPERM;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static int tc_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
		       const void *buf, size_t size)
{
	struct testchip *t = tc(dev);
	int ret = tc_has_attr(dev, group, attr);

	if (ret)
		return ret;
	if (group == TESTCHIP_GRP_LOCKED)
		return -EPERM;
	if (group == TESTCHIP_GRP_CONFIG && virq_vm_running(virq_device_vm(dev)))
		return -EBUSY;
	if (group != TESTCHIP_GRP_CONFIG && group != TESTCHIP_GRP_RESULT)
		return -EPERM; /* read-only state */
	if (size != 4)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	if (group == TESTCHIP_GRP_CONFIG)
		memcpy(&t->scratch, buf, 4);
	else
		memcpy(&t->result[attr], buf, 4);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static const struct virq_device_type testchip_type = {
	.name = "testchip",
	.ops = {
		.create = tc_create,
		.destroy = tc_destroy,
		.reset = tc_reset,
		.set_pin = tc_set_pin,
		.set_ppi = tc_set_ppi,
		.set_lpi = tc_set_lpi,
		.msi = tc_msi,
		.clear_source = tc_clear_source,
		.read = tc_read,
		.write = tc_write,
		.get_attr = tc_get_attr,
		.set_attr = tc_set_attr,
		.has_attr = tc_has_attr,
	},
};

int testchip_register(void)
{
	return virq_device_type_register(&testchip_type);
}

uint64_t testchip_rising(struct virq_device *dev, uint32_t pin)
{
	uint64_t v;

	if (virq_device_get_attr(dev, TESTCHIP_GRP_RISING, pin, &v, sizeof(v)))
		return UINT64_MAX;
	return v;
}

uint64_t testchip_calls(struct virq_device *dev, uint32_t pin)
{
	struct testchip *t = tc(dev);
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	v = t->calls[pin];
	pthread_mutex_unlock(&t->lock);
	return v;
}

uint64_t testchip_asserts(struct virq_device *dev, uint32_t pin)
{
	struct testchip *t = tc(dev);
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	v = t->asserts[pin];
	pthread_mutex_unlock(&t->lock);
	return v;
}

int testchip_level(struct virq_device *dev, uint32_t pin)
{
	uint32_t v;

	if (virq_device_get_attr(dev, TESTCHIP_GRP_LEVEL, pin, &v, sizeof(v)))
		return -1;
	return (int)v;
}

uint64_t testchip_msis(struct virq_device *dev)
{
	struct testchip *t = tc(dev);
	uint64_t sum = 0;

	for (unsigned i = 0; i < TESTCHIP_MSI_SLOTS; i++)
		sum += __atomic_load_n(&t->msi[i].count, __ATOMIC_RELAXED);
	return sum;
}

uint64_t testchip_ppis(struct virq_device *dev)
{
	struct testchip *t = tc(dev);
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	v = t->ppis;
	pthread_mutex_unlock(&t->lock);
	return v;
}

uint64_t testchip_lpis(struct virq_device *dev)
{
	struct testchip *t = tc(dev);
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	v = t->lpis;
	pthread_mutex_unlock(&t->lock);
	return v;
}

struct virq_msi testchip_last_msi(struct virq_device *dev)
{
	struct testchip *t = tc(dev);
	struct virq_msi m;

	pthread_mutex_lock(&t->lock);
	m = t->last_msi;
	pthread_mutex_unlock(&t->lock);
	return m;
}

void testchip_set_result(struct virq_device *dev, uint32_t pin, int result)
{
	int32_t v = result;

	virq_device_set_attr(dev, TESTCHIP_GRP_RESULT, pin, &v, sizeof(v));
}
