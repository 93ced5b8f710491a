/* SPDX-License-Identifier: MIT */
/*
 * Interrupt traffic into a test kernel (docs/vm.md, "Interrupt traffic"
 * and "The demo").  Each stream is one eventfd bound as an irqfd and a
 * host thread that writes it, one round at a time: write, then wait until
 * the guest's handler has acknowledged the interrupt with an `out` to
 * TRAFFIC_PORT_ACK (and, for a resample irqfd, until the line was
 * resampled).  The vCPU thread that sees the `out` takes the time, so a
 * round trip is "eventfd write -> guest ack seen by the VMM".
 *
 *   --traffic PATH,COUNT  one stream, COUNT rounds, then exit status 0
 *     kirq-ioapic      KVM_IRQFD on IOAPIC GSI 10 (--kernel-irqchip)
 *     virq-ioapic      virq_irqfd_bind on GSI 10: virq's engine, IOAPIC,
 *                      KVM_SIGNAL_MSI
 *     virq-ioapic-kvm  virq_kvm_irqfd_bind on GSI 10 (stays in virq)
 *     virq-msi         virq_kvm_irqfd_bind on a virq MSI route (GSI 40):
 *                      KVM_IRQFD, KVM's fast path
 *     virq-msix        virq_msix_bind_irqfd on the PCI test device's
 *                      vector 0 (bench.elf unmasks it): in KVM while
 *                      unmasked
 *   --demo SEC            every path on every vCPU (demo.c), a live table
 *   --stats-json FILE     results, one JSON object per stream per line
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <virq/virq.h>

#include "pci.h"
#include "traffic.h"
#include "vm.h"

#define ROUND_WAIT_MS 2000
#define MAX_STREAMS 4u
#define DEMO_GAP_NS 250000 /* between a demo stream's rounds */

enum bind_kind {
	BIND_KVM,      /* KVM_IRQFD (KVM's irqchip) */
	BIND_VIRQ,     /* virq_irqfd_bind */
	BIND_VIRQ_KVM, /* virq_kvm_irqfd_bind */
	BIND_MSIX,     /* virq_msix_bind_irqfd, the PCI test device's vector 0 */
};

/* Where a host thread is, for the report of a stream that never finished
 * a round (stall_report). */
enum stream_phase {
	PH_START, /* not bound yet */
	PH_BIND_FAILED,
	PH_READY_WAIT,	   /* bound, waiting for the guest's ready */
	PH_WRITTEN,	   /* eventfd written, waiting for ack and resample */
	PH_ACKED,	   /* the guest acked, the resample has not come */
	PH_RESAMPLED,	   /* resampled, the guest's ack has not come */
	PH_WRITTEN_NO_ACK, /* PH_WRITTEN of a stream without a resamplefd */
};

static const char *const phase_names[] = {
	[PH_START] = "not bound yet",
	[PH_BIND_FAILED] = "bind failed",
	[PH_READY_WAIT] = "bound, waiting for the guest",
	[PH_WRITTEN] = "eventfd written, neither the guest's ack nor the resample came",
	[PH_ACKED] = "the guest acked, the resample never came",
	[PH_RESAMPLED] = "resampled, the guest's ack never came",
	[PH_WRITTEN_NO_ACK] = "eventfd written, the guest's ack never came",
};

struct stream {
	const char *name;
	enum bind_kind bind;
	uint32_t gsi;
	bool resample;
	int efd, rfd, ack_efd;
	pthread_t thread;
	bool started;
	uint64_t t_sent; /* atomic: ns of the last eventfd write */
	uint64_t rounds; /* atomic */
	uint64_t lost;	 /* atomic: rounds without an ack in time */
	int phase;	 /* atomic: enum stream_phase, for the stall report */
	double t0, t1;	 /* first write, end of the last round (ns) */
	pthread_mutex_t lock;
	struct table_row *rows; /* one per vCPU (lock) */
};

static struct {
	const char *path; /* --traffic */
	uint64_t count;
	double demo_secs; /* --demo */
	bool sim;	  /* --demo-sim */
	const char *json; /* --stats-json */
	bool kirq;
	unsigned nr_vcpus;
	int vm_fd;
	struct virq_vm *vm;
	struct virq_kvm *k;
	struct virq_device *msix; /* the demo's MSI-X function */
	struct stream s[MAX_STREAMS];
	unsigned nr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready, stop; /* lock (stop also atomic) */
	pthread_t display;
	bool display_started;
	/* atomic: host threads finished */
	unsigned done;
	/* the simulation's chip state, for stall_report */
	void (*dump)(uint32_t gsi, uint32_t vector);
	/* a stream finished no round (display thread, then read) */
	bool stalled;
} T = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		if (cpu < 0 || i == cpu % n)
			CPU_SET(i, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- options ---- */

static int bad(const char *msg, const char *arg)
{
	fprintf(stderr, "virq-vm: %s: %s\n", msg, arg ? arg : "(none)");
	return -1;
}

static const char *const paths[] = { "kirq-ioapic", "virq-ioapic", "virq-ioapic-kvm",
				     "virq-msi", "virq-msix" };

static int parse_traffic(char *v)
{
	char *comma = strchr(v, ','), *end;
	if (!comma)
		return bad("--traffic wants PATH,COUNT", v);
	*comma = '\0';
	for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (!strcmp(v, paths[i]))
			T.path = paths[i];
	errno = 0;
	T.count = strtoull(comma + 1, &end, 10);
	if (!T.path || errno || *end || comma[1] == '-' || T.count == 0) {
		*comma = ',';
		return bad("--traffic wants PATH,COUNT (PATH kirq-ioapic, virq-ioapic, "
			   "virq-ioapic-kvm, virq-msi or virq-msix)",
			   v);
	}
	return 0;
}

int traffic_option(const char *name, char *val)
{
	char *end;

	if (!strcmp(name, "traffic"))
		return parse_traffic(val);
	if (!strcmp(name, "stats-json")) {
		T.json = val;
	} else if (!strcmp(name, "demo")) {
		T.demo_secs = strtod(val, &end);
		if (end == val || *end || !(T.demo_secs > 0) || T.demo_secs > 1e5)
			return bad("--demo wants seconds > 0", val);
	} else if (!strcmp(name, "demo-sim")) {
		T.sim = true;
	}
	return 0;
}

bool traffic_active(void)
{
	return T.path || T.demo_secs > 0;
}

bool traffic_sim_wanted(void)
{
	if (T.sim)
		return true;
	if (T.demo_secs > 0 && !kvm_usable()) {
		printf("demo: /dev/kvm is not usable here: running the same traffic "
		       "through virq's LAPIC acceptance model instead\n");
		return true;
	}
	return false;
}

int traffic_run_sim(unsigned nr_vcpus)
{
	return demo_sim_run(nr_vcpus); /* traffic.c's display thread keeps the time */
}

int traffic_check(bool kernel_irqchip, unsigned nr_vcpus)
{
	if (T.path && T.demo_secs > 0)
		return bad("--traffic and --demo exclude each other", NULL);
	if (T.sim && !(T.demo_secs > 0))
		T.demo_secs = 10;
	if (T.path && kernel_irqchip != !strcmp(T.path, "kirq-ioapic"))
		return bad(kernel_irqchip ? "--traffic path needs the split irqchip"
					  : "--traffic path needs --kernel-irqchip",
			   T.path);
	T.kirq = kernel_irqchip;
	T.nr_vcpus = nr_vcpus;
	return 0;
}

void traffic_pin_main(int cpu)
{
	if (T.path) /* the bench: vCPU 0 on CPU 0, the host thread on CPU 1 */
		pin(cpu);
}

/* ---- the guest's port ---- */

void traffic_guest_ready(void)
{
	pthread_mutex_lock(&T.lock);
	T.ready = true;
	pthread_cond_broadcast(&T.cond);
	pthread_mutex_unlock(&T.lock);
}

void traffic_guest_ack(uint32_t val)
{
	double t = now_ns();
	unsigned sid = val & 0xff, cpu = (val >> 8) & 0xff;
	uint64_t one = 1;

	if (sid >= T.nr)
		return;
	struct stream *s = &T.s[sid];
	double lat = t - (double)__atomic_load_n(&s->t_sent, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&s->lock);
	struct table_row *r = &s->rows[cpu < T.nr_vcpus ? cpu : 0];
	r->count++;
	r->vcpu = cpu;
	r->vector = (val >> 16) & 0xff;
	hist_add(&r->h, lat);
	pthread_mutex_unlock(&s->lock);
	if (write(s->ack_efd, &one, sizeof(one)) < 0)
		return; /* the host thread times the round out */
}

static void ack_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	(void)opaque;
	(void)size;
	if (port == TRAFFIC_PORT_CTRL)
		traffic_guest_ready();
	else if (port == TRAFFIC_PORT_ACK)
		traffic_guest_ack(val);
}

static uint32_t ctrl_read(void *opaque, uint16_t port, unsigned size)
{
	(void)opaque;
	(void)size;
	return port == TRAFFIC_PORT_CTRL && !T.kirq ? TRAFFIC_CFG_SPLIT : 0;
}

/* ---- streams ---- */

static int add_stream(const char *name, enum bind_kind bind, uint32_t gsi, bool resample)
{
	struct stream *s = &T.s[T.nr];
	*s = (struct stream){
		.name = name, .bind = bind, .gsi = gsi, .resample = resample
	};
	s->efd = eventfd(0, EFD_CLOEXEC);
	s->rfd = resample ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
	s->ack_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->rows = calloc(T.nr_vcpus, sizeof(*s->rows));
	if (s->efd < 0 || s->ack_efd < 0 || (resample && s->rfd < 0) || !s->rows)
		return -1;
	for (unsigned c = 0; c < T.nr_vcpus; c++)
		s->rows[c] = (struct table_row){ .source = name, .gsi = gsi, .vcpu = c };
	pthread_mutex_init(&s->lock, NULL);
	T.nr++;
	return 0;
}

static int bind_stream(struct stream *s)
{
	uint32_t fl = s->resample ? VIRQ_IRQFD_RESAMPLE : 0;
	struct kvm_irqfd kf = { .fd = (uint32_t)s->efd, .gsi = s->gsi };

	switch (s->bind) {
	case BIND_KVM:
		if (s->resample) {
			kf.flags = KVM_IRQFD_FLAG_RESAMPLE;
			kf.resamplefd = (uint32_t)s->rfd;
		}
		return ioctl(T.vm_fd, KVM_IRQFD, &kf) < 0 ? -errno : 0;
	case BIND_VIRQ:
		return virq_irqfd_bind(T.vm, s->efd, s->gsi, fl, s->rfd);
	case BIND_VIRQ_KVM:
		return virq_kvm_irqfd_bind(T.k, s->efd, s->gsi, fl, s->rfd);
	case BIND_MSIX:
		return virq_msix_bind_irqfd(T.msix, 0, s->efd);
	}
	return -EINVAL;
}

static void unbind_stream(struct stream *s)
{
	struct kvm_irqfd kf = { .fd = (uint32_t)s->efd,
				.gsi = s->gsi,
				.flags = KVM_IRQFD_FLAG_DEASSIGN };
	switch (s->bind) {
	case BIND_KVM:
		(void)ioctl(T.vm_fd, KVM_IRQFD, &kf);
		break;
	case BIND_VIRQ:
		virq_irqfd_unbind(T.vm, s->efd, s->gsi);
		break;
	case BIND_VIRQ_KVM:
		virq_kvm_irqfd_unbind(T.k, s->efd, s->gsi);
		break;
	case BIND_MSIX:
		virq_msix_unbind_irqfd(T.msix, 0, s->efd);
		break;
	}
}

/* The MSI route of the virq-msi path: APIC 0, BENCH_VECTOR, fixed, edge. */
static int add_msi_route(void)
{
	struct virq_route_txn *txn;
	struct virq_route_entry e = { .gsi = BENCH_MSI_GSI, .kind = VIRQ_ROUTE_MSI };
	e.u.msi.address_lo = 0xfee00000u;
	e.u.msi.data = BENCH_VECTOR;
	int r = virq_route_begin(T.vm, &txn);
	if (r < 0)
		return r;
	r = virq_route_add(txn, &e);
	if (r < 0) {
		virq_route_abort(txn);
		return r;
	}
	return virq_route_commit(txn);
}

static int add_demo_streams(enum bind_kind chip, struct virq_device *msix)
{
	T.msix = msix; /* the row shows vector 0's GSI once virq gave one */
	if (add_stream("ioapic-edge", chip, DEMO_EDGE_GSI, false) ||
	    add_stream("ioapic-level", chip, DEMO_LEVEL_GSI, true) ||
	    add_stream("pic", chip, DEMO_PIC_GSI, false) ||
	    add_stream("msix", BIND_MSIX, 0, false))
		return -1;
	return 0;
}

int traffic_setup_sim(struct virq_vm *vm, struct virq_device *msix, unsigned nr_vcpus,
		      void (*dump)(uint32_t gsi, uint32_t vector))
{
	T.dump = dump;
	T.vm = vm;
	T.nr_vcpus = nr_vcpus;
	T.kirq = false;
	return add_demo_streams(BIND_VIRQ, msix);
}

bool traffic_wait_done(void)
{
	if (T.display_started) {
		pthread_join(T.display, NULL);
		T.display_started = false;
	}
	return !T.stalled;
}

int traffic_setup(struct kvm_vm *kvm, unsigned nr_vcpus, bool kernel_irqchip)
{
	enum bind_kind chip = kernel_irqchip ? BIND_KVM : BIND_VIRQ_KVM;
	int r = 0;

	if (!traffic_active())
		return 0;
	T.kirq = kernel_irqchip;
	T.nr_vcpus = nr_vcpus;
	T.vm_fd = kvm_vm_fd(kvm);
	T.vm = kvm_virq_vm(kvm);
	T.k = kvm_virq_kvm(kvm);
	if (pio_register(TRAFFIC_PORT_ACK, 8, ctrl_read, ack_write, NULL) < 0)
		return -1;
	if (T.demo_secs > 0)
		return add_demo_streams(chip, pcitest_msix());
	if (!strcmp(T.path, "kirq-ioapic"))
		r = add_stream(T.path, BIND_KVM, BENCH_GSI, false);
	else if (!strcmp(T.path, "virq-ioapic"))
		r = add_stream(T.path, BIND_VIRQ, BENCH_GSI, false);
	else if (!strcmp(T.path, "virq-ioapic-kvm"))
		r = add_stream(T.path, BIND_VIRQ_KVM, BENCH_GSI, false);
	else if (!strcmp(T.path, "virq-msix")) {
		T.msix = pcitest_msix(); /* vector 0, programmed by bench.elf */
		r = T.msix ? add_stream(T.path, BIND_MSIX, 0, false) : -ENODEV;
	} else if ((r = add_msi_route()) == 0)
		r = add_stream(T.path, BIND_VIRQ_KVM, BENCH_MSI_GSI, false);
	if (r < 0)
		fprintf(stderr, "virq-vm: traffic set-up: %s\n",
			r == -1 ? strerror(errno) : strerror(-r));
	return r < 0 ? -1 : 0;
}

/* Wait for the guest's ack and, with a resamplefd, the resample. */
static int wait_round(struct stream *s)
{
	bool acked = false, resampled = !s->resample;
	double dl = now_ns() + ROUND_WAIT_MS * 1e6;
	uint64_t v;

	while (!acked || !resampled) {
		struct pollfd p[2] = { { .fd = s->ack_efd, .events = POLLIN },
				       { .fd = s->rfd, .events = POLLIN } };
		double left = (dl - now_ns()) / 1e6;
		if (left <= 0 || __atomic_load_n(&T.stop, __ATOMIC_RELAXED))
			return -1;
		if (poll(p, s->resample ? 2 : 1, left > 100 ? 100 : (int)left + 1) < 0 &&
		    errno != EINTR)
			return -1;
		if (!acked && read(s->ack_efd, &v, sizeof(v)) == sizeof(v))
			acked = true;
		if (!resampled && read(s->rfd, &v, sizeof(v)) == sizeof(v))
			resampled = true;
		if (s->resample && acked != resampled)
			__atomic_store_n(&s->phase, acked ? PH_ACKED : PH_RESAMPLED,
					 __ATOMIC_RELAXED);
	}
	return 0;
}

static void *host_thread(void *arg)
{
	struct stream *s = arg;
	uint64_t one = 1;
	int r;

	if (T.path)
		pin(1); /* the virq irqfd worker, created at the bind, inherits it */
	r = bind_stream(s);
	if (r < 0) {
		fprintf(stderr, "virq-vm: traffic: binding %s (GSI %u): %s\n", s->name,
			s->gsi, strerror(-r));
		__atomic_store_n(&s->phase, PH_BIND_FAILED, __ATOMIC_RELAXED);
		vm_request_exit(VM_EXIT_GUEST);
		goto out;
	}
	__atomic_store_n(&s->phase, PH_READY_WAIT, __ATOMIC_RELAXED);
	pthread_mutex_lock(&T.lock);
	while (!T.ready && !T.stop)
		pthread_cond_wait(&T.cond, &T.lock);
	pthread_mutex_unlock(&T.lock);
	s->t0 = now_ns();
	for (uint64_t i = 0; !T.path || i < T.count; i++) {
		if (__atomic_load_n(&T.stop, __ATOMIC_RELAXED))
			break;
		__atomic_store_n(&s->t_sent, (uint64_t)now_ns(), __ATOMIC_RELEASE);
		__atomic_store_n(&s->phase, PH_WRITTEN, __ATOMIC_RELAXED);
		if (write(s->efd, &one, sizeof(one)) != sizeof(one)) {
			fprintf(stderr, "virq-vm: traffic: %s: eventfd write: %s\n",
				s->name, strerror(errno));
			break;
		}
		if (wait_round(s) < 0) {
			if (__atomic_load_n(&T.stop, __ATOMIC_RELAXED))
				break;
			__atomic_fetch_add(&s->lost, 1, __ATOMIC_RELAXED);
			fprintf(stderr, "virq-vm: traffic: %s: no ack within %d ms\n",
				s->name, ROUND_WAIT_MS);
			if (T.path) {
				vm_request_exit(VM_EXIT_GUEST);
				break;
			}
			continue;
		}
		__atomic_fetch_add(&s->rounds, 1, __ATOMIC_RELAXED);
		if (T.demo_secs > 0) { /* the demo: every stream its share */
			struct timespec gap = { 0, DEMO_GAP_NS };
			nanosleep(&gap, NULL);
		}
	}
	s->t1 = now_ns();
	if (T.path)
		vm_request_exit(0);
out:
	__atomic_fetch_add(&T.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- the demo's table ---- */

static uint32_t msix_gsi(void)
{
	struct virq_msix_entry e;
	uint32_t gsi = VIRQ_MSIX_NO_GSI;
	if (virq_msix_get_entry(T.msix, 0, &e, &gsi) < 0 || gsi == VIRQ_MSIX_NO_GSI)
		return 0;
	return gsi;
}

/* Rows with traffic, stream by stream, vCPU by vCPU (copies). */
static unsigned snapshot(struct table_row *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < T.nr; i++) {
		struct stream *s = &T.s[i];
		pthread_mutex_lock(&s->lock);
		for (unsigned c = 0; c < T.nr_vcpus; c++)
			if (s->rows[c].count)
				out[n++] = s->rows[c];
		pthread_mutex_unlock(&s->lock);
		if (s->bind == BIND_MSIX)
			for (unsigned k = n; k-- > 0 && out[k].source == s->name;)
				out[k].gsi = msix_gsi();
	}
	return n;
}

/* The eventfd's counter, from fdinfo (which prints it in hex): nonzero
 * means nobody read the write. */
static const char *efd_count(int fd, char *buf, size_t len)
{
	char path[64], line[64];
	unsigned long long v;
	FILE *f;

	snprintf(buf, len, "unknown");
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (!(f = fopen(path, "re")))
		return buf;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "eventfd-count: %llx", &v) == 1) {
			snprintf(buf, len, "%llu", v);
			break;
		}
	fclose(f);
	return buf;
}

/* A stream that never finished a round says where it stopped, and the
 * simulation adds the chips' state for its GSI: the demo's check fails on
 * it, and this is what is left to read. */
static void stall_report(void)
{
	char cnt[32];

	for (unsigned i = 0; i < T.nr; i++) {
		struct stream *s = &T.s[i];
		int ph = __atomic_load_n(&s->phase, __ATOMIC_RELAXED);

		if (__atomic_load_n(&s->rounds, __ATOMIC_RELAXED))
			continue;
		T.stalled = true;
		if (ph == PH_WRITTEN && !s->resample)
			ph = PH_WRITTEN_NO_ACK;
		fprintf(stderr,
			"virq-vm: demo: %s (GSI %u) finished no round: %s; eventfd "
			"counter %s\n",
			s->name, s->gsi, phase_names[ph],
			efd_count(s->efd, cnt, sizeof(cnt)));
		if (T.dump && s->bind != BIND_MSIX)
			T.dump(s->gsi, i == DEMO_EDGE	 ? DEMO_V_EDGE
				       : i == DEMO_LEVEL ? DEMO_V_LEVEL
							 : DEMO_V_PIC);
	}
}

static void *display_thread(void *arg)
{
	struct table_row *rows = calloc((size_t)T.nr * T.nr_vcpus, sizeof(*rows));
	bool tty = isatty(STDOUT_FILENO);
	double t0;
	(void)arg;

	if (!rows) {
		vm_request_exit(VM_EXIT_GUEST);
		return NULL;
	}
	pthread_mutex_lock(&T.lock);
	while (!T.ready && !T.stop)
		pthread_cond_wait(&T.cond, &T.lock);
	pthread_mutex_unlock(&T.lock);
	t0 = now_ns();
	for (;;) {
		struct timespec q = { 0, 250000000 };
		double el = (now_ns() - t0) / 1e9;
		if (__atomic_load_n(&T.stop, __ATOMIC_RELAXED))
			break;
		if (el >= T.demo_secs)
			break;
		table_print(stdout, rows, snapshot(rows), el, tty, false);
		nanosleep(&q, NULL);
	}
	__atomic_store_n(&T.stop, true, __ATOMIC_RELAXED);
	for (int i = 0; i < 300 && __atomic_load_n(&T.done, __ATOMIC_ACQUIRE) < T.nr;
	     i++) {
		struct timespec q = { 0, 10000000 };
		nanosleep(&q, NULL);
	}
	table_print(stdout, rows, snapshot(rows), (now_ns() - t0) / 1e9, tty, true);
	stall_report();
	free(rows);
	vm_request_exit(T.stalled ? VM_EXIT_GUEST : 0);
	return NULL;
}

int traffic_start(void)
{
	for (unsigned i = 0; i < T.nr; i++) {
		if (pthread_create(&T.s[i].thread, NULL, host_thread, &T.s[i]))
			return -1;
		T.s[i].started = true;
	}
	if (T.demo_secs > 0) {
		if (pthread_create(&T.display, NULL, display_thread, NULL))
			return -1;
		T.display_started = true;
	}
	return 0;
}

static void write_json(void)
{
	FILE *f = strcmp(T.json, "-") ? fopen(T.json, "w") : stdout;
	struct virq_kvm_stats ks = { 0 };

	if (!f) {
		fprintf(stderr, "virq-vm: cannot write %s: %s\n", T.json,
			strerror(errno));
		return;
	}
	if (T.k)
		virq_kvm_get_stats(T.k, &ks);
	for (unsigned i = 0; i < T.nr; i++) {
		struct stream *s = &T.s[i];
		struct lat_hist *h = calloc(1, sizeof(*h));
		if (!h)
			break;
		for (unsigned c = 0; c < T.nr_vcpus; c++)
			hist_merge(h, &s->rows[c].h);
		double secs = s->t1 > s->t0 ? (s->t1 - s->t0) / 1e9 : 0;
		uint64_t rounds = __atomic_load_n(&s->rounds, __ATOMIC_RELAXED);
		fprintf(f,
			"{\"path\":\"%s\",\"gsi\":%u,\"rounds\":%llu,\"acks\":%llu,"
			"\"lost\":%llu,\"seconds\":%.6f,\"rate_per_s\":%.1f,"
			"\"median_us\":%.3f,\"p99_us\":%.3f,\"mean_us\":%.3f,"
			"\"kvm_irqfds\":%llu,\"virq_irqfds\":%llu,\"msix_irqfds\":%llu}\n",
			s->name, s->bind == BIND_MSIX ? msix_gsi() : s->gsi,
			(unsigned long long)rounds, (unsigned long long)h->n,
			(unsigned long long)__atomic_load_n(&s->lost, __ATOMIC_RELAXED),
			secs, secs > 0 ? (double)rounds / secs : 0.0,
			hist_pct(h, 0.5) / 1e3, hist_pct(h, 0.99) / 1e3,
			h->n ? h->sum_ns / (double)h->n / 1e3 : 0.0,
			(unsigned long long)ks.kvm_irqfds,
			(unsigned long long)ks.virq_irqfds,
			(unsigned long long)ks.msix_irqfds);
		free(h);
	}
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

void traffic_stop(void)
{
	if (!traffic_active())
		return;
	pthread_mutex_lock(&T.lock);
	__atomic_store_n(&T.stop, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&T.cond);
	pthread_mutex_unlock(&T.lock);
	if (T.display_started)
		pthread_join(T.display, NULL);
	for (unsigned i = 0; i < T.nr; i++)
		if (T.s[i].started)
			pthread_join(T.s[i].thread, NULL);
	if (T.json)
		write_json(); /* before the unbind: the backend's irqfd counts */
	for (unsigned i = 0; i < T.nr; i++) {
		struct stream *s = &T.s[i];
		if (s->started)
			unbind_stream(s);
		close(s->efd);
		if (s->rfd >= 0)
			close(s->rfd);
		/* ack_efd stays: a vCPU may still write it */
	}
}
