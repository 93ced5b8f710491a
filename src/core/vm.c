/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

_Thread_local unsigned virq_config_depth;

int virq_vm_create(const struct virq_vm_config *cfg, struct virq_vm **out)
{
	struct virq_vm *vm;
	pthread_mutexattr_t attr;
	uint32_t limit;
	int ret;

	if (!cfg || !out)
		return virq_fail(EINVAL, "vm_create: NULL argument");
	if (cfg->irqfd_workers > VIRQ_IRQFD_MAX_WORKERS &&
	    cfg->irqfd_workers != VIRQ_IRQFD_POLL)
		return virq_fail(EINVAL, "vm_create: %u irqfd workers (max %u)",
				 cfg->irqfd_workers, VIRQ_IRQFD_MAX_WORKERS);
	if (!cfg->nr_vcpus || cfg->nr_vcpus > VIRQ_MAX_VCPUS)
		return virq_fail(EINVAL, "vm_create: %u vCPUs (1..%u)", cfg->nr_vcpus,
				 VIRQ_MAX_VCPUS);
	limit = cfg->max_routes ? cfg->max_routes : VIRQ_DEFAULT_MAX_ROUTES;
	if (limit > VIRQ_MAX_ROUTES_LIMIT)
		return virq_fail(EINVAL, "vm_create: route limit %u above %u", limit,
				 VIRQ_MAX_ROUTES_LIMIT);

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return virq_fail(ENOMEM, "vm_create: out of memory");
	vm->cfg = *cfg;
	vm->nr_vcpus = cfg->nr_vcpus;
	if (!vm->cfg.guest_error_rate)
		vm->cfg.guest_error_rate = 10;
	vm->source_ids = (1ull << VIRQ_SOURCE_USER) | (1ull << VIRQ_SOURCE_RESAMPLE);

	ret = router_init(&vm->router, limit);
	if (ret) {
		free(vm);
		return ret;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vm->config_lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&vm->log_lock, NULL);
	*out = vm;
	return 0;
}

void virq_vm_destroy(struct virq_vm *vm)
{
	if (!vm)
		return;
	irqfd_fini(vm); /* workers inject into devices: stop them first */
	device_destroy_all(vm);
	router_fini(&vm->router); /* waits for every RCU callback, maps' included */
	addrmap_fini(vm);
	ack_fini(vm);
	pthread_mutex_destroy(&vm->config_lock);
	pthread_mutex_destroy(&vm->log_lock);
	free(vm);
}

uint32_t virq_vm_nr_vcpus(const struct virq_vm *vm)
{
	return vm->nr_vcpus;
}

void virq_vm_set_running(struct virq_vm *vm, bool running)
{
	__atomic_store_n(&vm->running, running, __ATOMIC_RELEASE);
}

bool virq_vm_running(const struct virq_vm *vm)
{
	return __atomic_load_n(&vm->running, __ATOMIC_ACQUIRE);
}

uint64_t virq_vm_guest_errors(const struct virq_vm *vm)
{
	return __atomic_load_n(&vm->guest_errors, __ATOMIC_RELAXED);
}

/* ---- source ids ---- */

int virq_source_id_alloc(struct virq_vm *vm)
{
	int ret;

	config_lock(vm);
	if (vm->source_ids == UINT64_MAX) {
		ret = virq_fail(ENOSPC, "source ids: all %u in use", VIRQ_MAX_SOURCES);
	} else {
		ret = __builtin_ctzll(~vm->source_ids);
		vm->source_ids |= 1ull << ret;
	}
	config_unlock(vm);
	return ret;
}

int virq_source_id_free(struct virq_vm *vm, uint32_t source_id)
{
	int ret = 0;

	config_lock(vm);
	if (source_id <= VIRQ_SOURCE_RESAMPLE || source_id >= VIRQ_MAX_SOURCES ||
	    !(vm->source_ids & (1ull << source_id))) {
		ret = virq_fail(EINVAL, "source id %u is not allocated", source_id);
		goto out;
	}
	vm->source_ids &= ~(1ull << source_id);
	/* the freed source must not hold any line up */
	for (struct virq_device *d = vm->devices; d; d = d->next)
		if (d->type->ops.clear_source)
			d->type->ops.clear_source(d, source_id);
out:
	config_unlock(vm);
	return ret;
}

/* ---- guest errors: counted always, logged under a token bucket ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void virq_guest_error(struct virq_device *dev, const char *fmt, ...)
{
	struct virq_vm *vm = dev->vm;
	uint64_t period = 1000000000ull / vm->cfg.guest_error_rate;
	uint64_t burst = 2ull * vm->cfg.guest_error_rate * period; /* 2 s of credit */
	uint64_t now = now_ns(), suppressed = 0;
	char msg[256];
	bool log = false;
	va_list ap;
	int n;

	__atomic_fetch_add(&dev->guest_errors, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vm->guest_errors, 1, __ATOMIC_RELAXED);

	pthread_mutex_lock(&vm->log_lock);
	vm->log_tokens_ns =
		vm->log_last_ns ? vm->log_tokens_ns + (now - vm->log_last_ns) : burst;
	if (vm->log_tokens_ns > burst)
		vm->log_tokens_ns = burst;
	vm->log_last_ns = now;
	if (vm->log_tokens_ns >= period) {
		vm->log_tokens_ns -= period;
		suppressed = vm->log_suppressed;
		vm->log_suppressed = 0;
		log = true;
	} else {
		vm->log_suppressed++;
	}
	pthread_mutex_unlock(&vm->log_lock);
	if (!log)
		return;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, " (%llu earlier suppressed)",
			 (unsigned long long)suppressed);
	if (vm->cfg.ops.guest_error)
		vm->cfg.ops.guest_error(vm->cfg.opaque, dev->name, msg);
	else
		fprintf(stderr, "virq: guest error: %s: %s\n", dev->name, msg);
}
