/* SPDX-License-Identifier: MIT */
/*
 * KVM_SET_GSI_ROUTING baseline for the route-update benchmark.
 * See kvm_routes.h.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "kvm_routes.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* KVM_MAX_IRQ_ROUTES of the kernel; used if KVM_CAP_IRQ_ROUTING says 0. */
#define KVM_ROUTES_DEFAULT_MAX 4096u
/* Number of IOAPIC pins reserved for a split irqchip (as QEMU does). */
#define KVM_ROUTES_SPLIT_PINS 24u

struct kvm_routes {
	int kvm_fd;
	int vm_fd;
	int split;
	unsigned max_routes;
	/* KVM_SET_GSI_ROUTING argument: header + room for cap entries. */
	struct kvm_irq_routing *buf;
	unsigned cap;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int create_vm(int kvm_fd)
{
	int fd;

	do {
		fd = ioctl(kvm_fd, KVM_CREATE_VM, 0UL);
	} while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/* A VM with routing usable: full irqchip, else split.  Returns fd or -errno. */
static int create_routing_vm(int kvm_fd, int *split)
{
	struct kvm_enable_cap cap;
	int vm;

	vm = create_vm(kvm_fd);
	if (vm < 0)
		return vm;
#if defined(__x86_64__) || defined(__i386__)
	if (xioctl(vm, KVM_CREATE_IRQCHIP, NULL) == 0) {
		*split = 0;
		return vm;
	}
	/* A failed KVM_CREATE_IRQCHIP may leave state behind: start over. */
	close(vm);
	vm = create_vm(kvm_fd);
	if (vm < 0)
		return vm;
	memset(&cap, 0, sizeof(cap));
	cap.cap = KVM_CAP_SPLIT_IRQCHIP;
	cap.args[0] = KVM_ROUTES_SPLIT_PINS;
	if (xioctl(vm, KVM_ENABLE_CAP, &cap) == 0) {
		*split = 1;
		return vm;
	}
#else
	(void)cap;
#endif
	close(vm);
	return -ENODEV;
}

int kvm_routes_open(struct kvm_routes **out)
{
	struct kvm_routes *k;
	int kvm_fd, vm_fd, r, split = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		return -ENODEV;
	if (xioctl(kvm_fd, KVM_GET_API_VERSION, NULL) != KVM_API_VERSION) {
		close(kvm_fd);
		return -ENODEV;
	}
	r = xioctl(kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_IRQ_ROUTING);
	if (r <= 0) {
		close(kvm_fd);
		return -ENODEV;
	}

	vm_fd = create_routing_vm(kvm_fd, &split);
	if (vm_fd < 0) {
		close(kvm_fd);
		return vm_fd == -ENOMEM ? -ENOMEM : -ENODEV;
	}

	k = calloc(1, sizeof(*k));
	if (!k) {
		close(vm_fd);
		close(kvm_fd);
		return -ENOMEM;
	}
	k->kvm_fd = kvm_fd;
	k->vm_fd = vm_fd;
	k->split = split;
	/* The VM's answer can differ from the system's; prefer it. */
	r = xioctl(vm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_IRQ_ROUTING);
	k->max_routes = r > 0 ? (unsigned)r : KVM_ROUTES_DEFAULT_MAX;
	*out = k;
	return 0;
}

int kvm_routes_is_split(const struct kvm_routes *k)
{
	return k ? k->split : 0;
}

unsigned kvm_routes_max(const struct kvm_routes *k)
{
	return k ? k->max_routes : 0;
}

static int reserve(struct kvm_routes *k, unsigned nr)
{
	struct kvm_irq_routing *b;
	size_t sz;

	if (k->buf && nr <= k->cap)
		return 0;
	sz = sizeof(*b) + (size_t)nr * sizeof(struct kvm_irq_routing_entry);
	b = realloc(k->buf, sz);
	if (!b)
		return -ENOMEM;
	k->buf = b;
	k->cap = nr;
	return 0;
}

static int set_buf(struct kvm_routes *k, unsigned nr)
{
	k->buf->nr = nr;
	k->buf->flags = 0;
	return xioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->buf);
}

int kvm_routes_set(struct kvm_routes *k, const struct kvm_irq_routing_entry *e,
		   unsigned nr)
{
	int r;

	if (!k || (nr && !e))
		return -EINVAL;
	/* What KVM answers for nr > KVM_MAX_IRQ_ROUTES, without the copy. */
	if (nr > k->max_routes)
		return -EINVAL;
	r = reserve(k, nr);
	if (r)
		return r;
	if (nr)
		memcpy(k->buf->entries, e, (size_t)nr * sizeof(*e));
	return set_buf(k, nr);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double ts_ns(const struct timespec *t)
{
	return (double)t->tv_sec * 1e9 + (double)t->tv_nsec;
}

int kvm_routes_bench_one_change(struct kvm_routes *k, unsigned nr_routes, unsigned iters,
				double *median_ns, double *p99_ns)
{
	struct kvm_irq_routing_entry *ent;
	struct timespec t0, t1;
	double *samples;
	unsigned i, rank;
	int r;

	if (!k || !median_ns || nr_routes == 0 || iters == 0 || nr_routes > k->max_routes)
		return -EINVAL;
	r = reserve(k, nr_routes);
	if (r)
		return r;
	samples = malloc((size_t)iters * sizeof(*samples));
	if (!samples)
		return -ENOMEM;

	ent = k->buf->entries;
	memset(ent, 0, (size_t)nr_routes * sizeof(*ent));
	for (i = 0; i < nr_routes; i++) {
		ent[i].gsi = i;
		ent[i].type = KVM_IRQ_ROUTING_MSI;
		ent[i].u.msi.address_lo = 0xfee00000u;
		ent[i].u.msi.address_hi = 0;
		ent[i].u.msi.data = i & 0xffu;
	}
	/* Install the starting table (not timed). */
	r = set_buf(k, nr_routes);
	if (r)
		goto out;

	for (i = 0; i < iters; i++) {
		struct kvm_irq_routing_entry *c = &ent[i % nr_routes];

		/* A different vector: exactly one entry changes. */
		c->u.msi.data = (c->u.msi.data + 1u) & 0xffu;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = set_buf(k, nr_routes);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (r)
			goto out;
		samples[i] = ts_ns(&t1) - ts_ns(&t0);
	}

	qsort(samples, iters, sizeof(*samples), cmp_double);
	if (iters & 1)
		*median_ns = samples[iters / 2];
	else
		*median_ns = (samples[iters / 2 - 1] + samples[iters / 2]) / 2;
	if (p99_ns) {
		/* Nearest rank: ceil(0.99 * n), 1-based. */
		rank = (unsigned)(((uint64_t)iters * 99 + 99) / 100);
		if (rank < 1)
			rank = 1;
		*p99_ns = samples[rank - 1];
	}
	r = 0;
out:
	free(samples);
	return r;
}

void kvm_routes_close(struct kvm_routes *k)
{
	if (!k)
		return;
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	free(k->buf);
	free(k);
}
