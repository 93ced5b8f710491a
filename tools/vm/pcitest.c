/* SPDX-License-Identifier: MIT */
/*
 * The MSI-X test device: PCI 1b36:7671 at bus 0 device 1, one 64 KiB
 * 32-bit memory BAR (BAR0) holding a few registers, the MSI-X table and
 * the PBA.  The table, the PBA and Message Control are virq's MSI-X
 * (include/virq/msix.h); this file only places them and fires vectors.
 *
 * BAR0's registers are in guest_abi.h (PCITEST_*; docs/vm.md, "PCI and the
 * MSI-X test device").  Registers are 32-bit (other accesses read all
 * ones, writes dropped); the table and PBA take what virq's MSI-X takes
 * (aligned 4 and 8 bytes).
 *
 * The host thread writes an eventfd bound to the vector with
 * virq_msix_bind_irqfd() (bound at the first run of that vector), one
 * signal at a time: it waits until the previous one has left the
 * eventfd -- virq fired it (the device's notify count moved; reading the
 * stats folds a masked vector's waiting signal into its pending bit), or
 * KVM took it (under the split irqchip an unmasked vector's eventfd is
 * in KVM, which empties the counter as it delivers) -- and in paced mode
 * until the guest has acknowledged it, so that neither the eventfd
 * counter nor the LAPIC's IRR can merge two signals and the guest can
 * count them exactly.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <virq/virq.h>

#include "guest_abi.h"
#include "pci.h"
#include "vm.h"

#define MSIX_CAP 0x40u
#define MSIX_GSI_BASE 64u /* clear of the IOAPIC pins' GSIs */
#define HOST_WAIT_NS 5000000000ll

static uint32_t opt_vectors = 8;
static uint32_t opt_host_fire = 16;

struct pcitest {
	struct pci_dev pci;
	struct virq_vm *vm;
	struct virq_device *msix;
	int kvm_vm_fd; /* for the msi sink of our own virq VM, else -1 */
	uint32_t nr;
	uint32_t mapped_bar; /* where virq's map has the table (0: nowhere) */
	uint32_t fire_result;

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t host_vector, host_count, host_ctrl; /* lock */
	uint32_t host_done, host_acks;		     /* atomics */
	bool stop;				     /* atomic */
	bool thread_started;
	int *efd; /* per vector, -1: none */
};

static struct pcitest *test_dev;
static unsigned reports; /* messages a guest can provoke: the first 8 */

#define report(...)                                                        \
	do {                                                               \
		if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) < 8) \
			fprintf(stderr, __VA_ARGS__);                      \
	} while (0)

/* ---- options ---- */

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

int pcitest_option(const char *name, const char *val)
{
	if (!strcmp(name, "msix-vectors")) {
		if (!parse_u32(val, 1, VIRQ_MSIX_MAX_VECTORS, &opt_vectors)) {
			fprintf(stderr, "virq-vm: --msix-vectors wants 1..2048: %s\n",
				val);
			return -1;
		}
	} else if (!parse_u32(val, 0, 1000000, &opt_host_fire)) {
		fprintf(stderr,
			"virq-vm: --msix-host-fire wants a count 0..1000000: %s\n", val);
		return -1;
	}
	return 0;
}

/* ---- the host thread ---- */

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static void pause_us(long us)
{
	struct timespec t = { 0, us * 1000 };
	nanosleep(&t, NULL);
}

static uint64_t notifies(struct pcitest *t)
{
	struct virq_msix_stats st;
	if (virq_msix_get_stats(t->msix, &st) < 0)
		return 0;
	return st.notifies;
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

/* One run: @count signals on @vector.  Returns false if it gave up. */
static bool host_run(struct pcitest *t, uint32_t vector, uint32_t count, bool paced)
{
	if (vector >= t->nr)
		return false;
	if (t->efd[vector] < 0) {
		int fd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0)
			return false;
		int r = virq_msix_bind_irqfd(t->msix, vector, fd);
		if (r < 0) {
			report("virq-vm: pcitest: bind irqfd to vector %u: %s\n", vector,
			       strerror(-r));
			close(fd);
			return false;
		}
		t->efd[vector] = fd;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t n0 = notifies(t), one = 1;
		if (write(t->efd[vector], &one, sizeof(one)) != sizeof(one))
			return false;
		int64_t dl = now_ns() + HOST_WAIT_NS;
		while (notifies(t) == n0 && fd_readable(t->efd[vector])) {
			if (now_ns() > dl || __atomic_load_n(&t->stop, __ATOMIC_RELAXED))
				return false;
			pause_us(20);
		}
		__atomic_store_n(&t->host_done, i + 1, __ATOMIC_RELEASE);
		dl = now_ns() + HOST_WAIT_NS;
		while (paced &&
		       __atomic_load_n(&t->host_acks, __ATOMIC_ACQUIRE) < i + 1) {
			if (now_ns() > dl || __atomic_load_n(&t->stop, __ATOMIC_RELAXED))
				return false;
			pause_us(20);
		}
	}
	return true;
}

static void *host_thread(void *arg)
{
	struct pcitest *t = arg;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (!(t->host_ctrl & PCITEST_HOST_START) && !t->stop)
			pthread_cond_wait(&t->cond, &t->lock);
		if (t->stop)
			break;
		uint32_t vector = t->host_vector, count = t->host_count;
		bool paced = t->host_ctrl & PCITEST_HOST_PACED;
		pthread_mutex_unlock(&t->lock);
		bool ok = host_run(t, vector, count, paced);
		if (!ok && !__atomic_load_n(&t->stop, __ATOMIC_RELAXED))
			report("virq-vm: pcitest: host firing of vector %u gave up after %u of %u\n",
			       vector, __atomic_load_n(&t->host_done, __ATOMIC_RELAXED),
			       count);
		pthread_mutex_lock(&t->lock);
		t->host_ctrl = (t->host_ctrl & PCITEST_HOST_PACED) |
			       (ok ? 0 : PCITEST_HOST_FAILED);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* ---- BAR0 ---- */

static uint32_t reg_read(struct pcitest *t, uint64_t off)
{
	uint32_t v = 0;
	switch (off) {
	case PCITEST_REG_ID:
		return PCITEST_ID;
	case PCITEST_REG_VECTORS:
		return t->nr;
	case PCITEST_REG_FIRE:
		return __atomic_load_n(&t->fire_result, __ATOMIC_RELAXED);
	case PCITEST_REG_HOST_DONE:
		return __atomic_load_n(&t->host_done, __ATOMIC_ACQUIRE);
	case PCITEST_REG_HOST_ACK:
		return __atomic_load_n(&t->host_acks, __ATOMIC_ACQUIRE);
	case PCITEST_REG_HOST_VECTOR:
	case PCITEST_REG_HOST_COUNT:
	case PCITEST_REG_HOST_CTRL:
		pthread_mutex_lock(&t->lock);
		v = off == PCITEST_REG_HOST_VECTOR  ? t->host_vector
		    : off == PCITEST_REG_HOST_COUNT ? t->host_count
						    : t->host_ctrl;
		pthread_mutex_unlock(&t->lock);
		return v;
	default:
		return 0;
	}
}

static void reg_write(struct pcitest *t, uint64_t off, uint32_t val)
{
	switch (off) {
	case PCITEST_REG_FIRE: {
		int r = virq_msix_notify(t->msix, val);
		__atomic_store_n(&t->fire_result, r < 0 ? 0xffffffffu : (uint32_t)r,
				 __ATOMIC_RELAXED);
		break;
	}
	case PCITEST_REG_HOST_ACK:
		__atomic_fetch_add(&t->host_acks, 1, __ATOMIC_RELEASE);
		break;
	case PCITEST_REG_HOST_VECTOR:
	case PCITEST_REG_HOST_COUNT:
	case PCITEST_REG_HOST_CTRL:
		pthread_mutex_lock(&t->lock);
		if (t->host_ctrl & PCITEST_HOST_START) {
			/* busy: the run's parameters stay */
		} else if (off == PCITEST_REG_HOST_VECTOR) {
			t->host_vector = val;
		} else if (off == PCITEST_REG_HOST_COUNT) {
			t->host_count = val;
		} else if (val & PCITEST_HOST_START) {
			__atomic_store_n(&t->host_done, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&t->host_acks, 0, __ATOMIC_RELAXED);
			t->host_ctrl = PCITEST_HOST_START | (val & PCITEST_HOST_PACED);
			pthread_cond_signal(&t->cond);
		}
		pthread_mutex_unlock(&t->lock);
		break;
	default:
		break;
	}
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static uint64_t bar_read(struct pci_dev *d, unsigned bar, uint64_t off, unsigned size,
			 uint32_t vcpu)
{
	struct pcitest *t = d->opaque;
	uint64_t v = all_ones(size);
	(void)bar;
	(void)vcpu;
	if (off >= PCITEST_TABLE && off < PCITEST_TABLE + (uint64_t)t->nr * 16)
		virq_msix_table_read(t->msix, off - PCITEST_TABLE, size, &v);
	else if (off >= PCITEST_PBA && off < PCITEST_PBA + (t->nr + 63) / 64 * 8)
		virq_msix_pba_read(t->msix, off - PCITEST_PBA, size, &v);
	else if (off < PCITEST_TABLE && size == 4 && !(off & 3))
		v = reg_read(t, off);
	return v;
}

static void bar_write(struct pci_dev *d, unsigned bar, uint64_t off, unsigned size,
		      uint64_t val, uint32_t vcpu)
{
	struct pcitest *t = d->opaque;
	(void)bar;
	(void)vcpu;
	if (off >= PCITEST_TABLE && off < PCITEST_TABLE + (uint64_t)t->nr * 16)
		virq_msix_table_write(t->msix, off - PCITEST_TABLE, size, val);
	else if (off >= PCITEST_PBA && off < PCITEST_PBA + (t->nr + 63) / 64 * 8)
		virq_msix_pba_write(t->msix, off - PCITEST_PBA, size, val);
	else if (off < PCITEST_TABLE && size == 4 && !(off & 3))
		reg_write(t, off, (uint32_t)val);
}

/*
 * BAR0 decodes at @addr: keep virq's MMIO map (virq_io_read/write) in
 * step, for an exit path that asks virq first.  This file's own dispatch
 * uses the table/PBA accessors, so a refused map (the guest put the BAR
 * over another virq region) changes nothing the guest sees here.
 */
static void bar_map(struct pci_dev *d, unsigned bar, uint32_t addr, bool enabled)
{
	struct pcitest *t = d->opaque;
	(void)bar;
	if (!enabled || addr == t->mapped_bar)
		return;
	int r = virq_msix_map(t->msix, (uint64_t)addr + PCITEST_TABLE,
			      (uint64_t)addr + PCITEST_PBA);
	if (r < 0) {
		report("virq-vm: pcitest: virq_msix_map at 0x%x: %s\n", addr,
		       strerror(-r));
		return;
	}
	t->mapped_bar = addr;
}

/* ---- config space: the MSI-X capability at 0x40 ---- */

static uint32_t cap_dword(struct pcitest *t, unsigned dw)
{
	uint16_t ctrl = 0;
	switch (dw) {
	case MSIX_CAP:
		virq_msix_ctrl_read(t->msix, &ctrl);
		return 0x11u | (uint32_t)ctrl << 16; /* id MSI-X, next 0 */
	case MSIX_CAP + 4:
		return PCITEST_TABLE; /* BIR 0 */
	case MSIX_CAP + 8:
		return PCITEST_PBA; /* BIR 0 */
	default:
		return 0;
	}
}

static uint32_t cfg_read(struct pci_dev *d, unsigned off, unsigned size)
{
	uint32_t v = cap_dword(d->opaque, off & ~3u) >> ((off & 3) * 8);
	return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

/* Only Message Control (0x42-0x43) is writable; bytes merge into it. */
static void cfg_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t val)
{
	struct pcitest *t = d->opaque;
	unsigned shift = (off & 3) * 8;
	uint32_t mask = size == 4 ? 0xffffffffu : ((1u << (size * 8)) - 1) << shift;
	if ((off & ~3u) != MSIX_CAP || !(mask & 0xffff0000u))
		return;
	uint32_t cur = cap_dword(t, MSIX_CAP);
	uint32_t v = (cur & ~mask) | ((val << shift) & mask);
	virq_msix_ctrl_write(t->msix, (uint16_t)(v >> 16));
}

static const struct pci_dev_ops pcitest_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_map = bar_map,
	.mmio_read = bar_read,
	.mmio_write = bar_write,
};

/* ---- set-up ---- */

/* The msi sink of our own virq VM (in-kernel irqchip): KVM_SIGNAL_MSI. */
static int kvm_msi_sink(void *opaque, const struct virq_msi *msi)
{
	struct pcitest *t = opaque;
	struct kvm_msi m = {
		.address_lo = msi->address_lo,
		.address_hi = msi->address_hi,
		.data = msi->data,
	};
	int r = ioctl(t->kvm_vm_fd, KVM_SIGNAL_MSI, &m);
	return r < 0 ? -errno : r;
}

int pci_setup(struct virq_vm *vm, int kvm_vm_fd, unsigned nr_vcpus)
{
	struct pcitest *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	test_dev = t; /* on failure the process exits: nothing is freed */
	t->kvm_vm_fd = -1;
	if (!vm) {
		struct virq_vm_config vc = {
			.nr_vcpus = nr_vcpus,
			.ops = { .msi = kvm_msi_sink },
			.opaque = t,
		};
		t->kvm_vm_fd = kvm_vm_fd;
		r = virq_vm_create(&vc, &vm);
		if (r < 0)
			return r;
	}
	t->vm = vm;
	t->nr = opt_vectors;
	t->host_count = opt_host_fire;
	t->efd = malloc(t->nr * sizeof(*t->efd));
	if (!t->efd)
		return -ENOMEM;
	for (uint32_t v = 0; v < t->nr; v++)
		t->efd[v] = -1;
	struct virq_msix_config mc = {
		.nr_vectors = t->nr,
		.gsi_base = MSIX_GSI_BASE,
	};
	r = virq_msix_create(vm, &mc, &t->msix);
	if (r < 0)
		return r;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	r = pthread_create(&t->thread, NULL, host_thread, t);
	if (r)
		return -r;
	t->thread_started = true;

	t->pci = (struct pci_dev){
		.vendor = PCITEST_VENDOR,
		.device = PCITEST_DEVICE,
		.class_rev = 0xff000001u, /* unassigned class, revision 1 */
		.cap_ptr = MSIX_CAP,
		.bar_size = { PCITEST_BAR0_SIZE },
		.ops = &pcitest_ops,
		.opaque = t,
	};
	r = pci_init();
	return r < 0 ? r : pci_add_device(PCITEST_SLOT, &t->pci);
}

void pci_stop(void)
{
	struct pcitest *t = test_dev;
	if (!t || !t->thread_started)
		return;
	pthread_mutex_lock(&t->lock);
	__atomic_store_n(&t->stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->thread_started = false;
}

void pcitest_print_stats(FILE *f)
{
	struct virq_msix_stats st;
	if (!test_dev || virq_msix_get_stats(test_dev->msix, &st) < 0)
		return;
	fprintf(f,
		"virq-vm: msix: notifies %llu, sent %llu, latched %llu, coalesced %llu, "
		"pending sent %llu, dropped %llu, route commits %llu, GSIs %llu\n",
		(unsigned long long)st.notifies, (unsigned long long)st.sent,
		(unsigned long long)st.latched, (unsigned long long)st.coalesced,
		(unsigned long long)st.pending_sent, (unsigned long long)st.dropped,
		(unsigned long long)st.route_commits, (unsigned long long)st.gsis);
	fprintf(f,
		"virq-vm: msix: eventfds through KVM %llu (in KVM now %llu), "
		"moves in/out of KVM %llu, failed %llu\n",
		(unsigned long long)st.irqfds_direct,
		(unsigned long long)st.irqfds_assigned,
		(unsigned long long)st.direct_moves,
		(unsigned long long)st.direct_failures);
}

struct virq_device *pcitest_msix(void)
{
	return test_dev ? test_dev->msix : NULL;
}
