/* SPDX-License-Identifier: MIT */
/*
 * The split irqchip (virq-vm's default mode): the LAPICs stay in KVM,
 * virq's IOAPIC ("ioapic") and 8259A pair ("i8259") serve the guest
 * through virq's KVM backend (include/virq/kvm.h).
 *
 *   device line   -> virq_set_irq(gsi, level, the device's source id)
 *   IOAPIC output -> the msi sink -> virq_kvm_signal_msi (KVM_SIGNAL_MSI)
 *   guest EOI of a level vector -> KVM_EXIT_IOAPIC_EOI -> virq_kvm_ioapic_eoi
 *   PIC INT       -> cpu_line sink -> kick vCPU 0; before each of its
 *                    KVM_RUNs, virq_kvm_pre_run: INTA + KVM_INTERRUPT, or
 *                    an interrupt-window request
 *   guest PIO/MMIO -> virq_io_read/write first (-ENOENT: virq-vm's devices)
 *
 * Everything here is created before any vCPU exists (virq_kvm_attach
 * enables KVM_CAP_SPLIT_IRQCHIP, which KVM refuses afterwards).
 *
 * The deferred-EOI watchdog, a workaround for this host's KVM (docs/vm.md,
 * "The PVM backend"): KVM turns a guest's EOI of a level vector into a
 * request that only the vCPU's next pass through vcpu_enter_guest() turns
 * into KVM_EXIT_IOAPIC_EOI.  A vCPU that takes a level interrupt and halts
 * without another exit keeps that request, and the pin's remote IRR stays
 * set, until something wakes the vCPU.  So every level MSI marks the vCPUs
 * it went to; a thread waits until such a vCPU has had no level MSI for
 * eoi_after_ns, and if some IOAPIC pin still has remote IRR set then, asks
 * kvm.c to flush that vCPU (SPLIT_KICK_EOI); while that stays so, again
 * every eoi_after_ns a few times, then less and less often (eoi_retry_ns);
 * once no pin has remote IRR set the marks go.  No level MSI: the thread
 * sleeps and nothing is done.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virq/virq.h>

#include "vm.h"

#define SPLIT_MAX_HOOKS 8u
#define EOI_TRIES_FAST 4u	       /* flushes eoi_after_ns apart */
#define EOI_BACKOFF_MAX_NS 50000000ull /* then doubling, to 50 ms at most */
#define MSI_ADDR_DEST_LOGICAL (1u << 2)
#define MSI_DATA_LEVEL (1u << 15) /* trigger mode: what KVM's EOI exit needs */
#define REDIR_REMOTE_IRR (1u << 14)
#define REDIR_LEVEL (1u << 15)

struct split_hook {
	struct split *s;
	uint32_t source;
};

struct split {
	struct virq_vm *vm;
	struct virq_kvm *kvm;
	struct virq_device *ioapic, *pic;
	split_kick_fn kick;
	void *kick_opaque;
	struct split_hook hooks[SPLIT_MAX_HOOKS];
	unsigned nr_hooks;
	uint64_t set_irq_errors;

	/* the deferred-EOI watchdog (see the top of the file) */
	unsigned nr_vcpus;
	uint64_t eoi_after_ns; /* 0: no watchdog */
	pthread_t eoi_thread;
	bool eoi_thread_up;
	pthread_mutex_t eoi_lock;
	pthread_cond_t eoi_cond; /* waited on with CLOCK_MONOTONIC deadlines */
	/* under eoi_lock */
	bool eoi_stop;
	uint64_t eoi_watch;		  /* vCPUs that took a level MSI */
	uint64_t eoi_due[VM_MAX_VCPUS];	  /* when to look at vCPU n again */
	unsigned eoi_tries[VM_MAX_VCPUS]; /* its flushes since its last level MSI */
	uint64_t eoi_wake_at;		  /* the thread's wake-up; 0 busy */
	uint64_t eoi_flushes, eoi_checks; /* kicks sent, IOAPIC looks */
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The vCPUs a delivered MSI may have reached (APIC id n = vCPU n). */
static uint64_t msi_vcpus(const struct split *s, const struct virq_msi *msi)
{
	uint64_t all = s->nr_vcpus >= 64 ? UINT64_MAX : (1ull << s->nr_vcpus) - 1;
	uint32_t dest = (msi->address_lo >> 12) & 0xff;

	if (!(msi->address_lo & MSI_ADDR_DEST_LOGICAL) && dest < s->nr_vcpus)
		return 1ull << dest;
	return all; /* logical, broadcast, or an APIC id the guest changed */
}

/* A level MSI reached @vcpus: look at them after eoi_after_ns. */
static void eoi_watch_add(struct split *s, uint64_t vcpus)
{
	pthread_mutex_lock(&s->eoi_lock);
	uint64_t due = mono_ns() + s->eoi_after_ns;

	for (uint64_t m = vcpus; m; m &= m - 1) {
		unsigned n = (unsigned)__builtin_ctzll(m);

		s->eoi_due[n] = due;
		s->eoi_tries[n] = 0;
	}
	s->eoi_watch |= vcpus;
	if (due < s->eoi_wake_at) /* it sleeps past that (or without end) */
		pthread_cond_signal(&s->eoi_cond);
	pthread_mutex_unlock(&s->eoi_lock);
}

/*
 * The wait after a vCPU's @tries-th flush: eoi_after_ns for the first
 * EOI_TRIES_FAST (the vCPU may not have halted yet), then doubling up to
 * EOI_BACKOFF_MAX_NS (a pin no CPU will EOI soon: interrupts off, say).
 */
static uint64_t eoi_retry_ns(const struct split *s, unsigned tries)
{
	uint64_t ns = s->eoi_after_ns;

	for (unsigned i = EOI_TRIES_FAST; i < tries && ns < EOI_BACKOFF_MAX_NS; i++)
		ns *= 2;
	return ns < EOI_BACKOFF_MAX_NS ? ns : EOI_BACKOFF_MAX_NS;
}

/* Does some level pin wait for an EOI (remote IRR set)? */
static bool eoi_outstanding(struct split *s)
{
	for (uint64_t pin = 0; pin < VIRQ_X86_IOAPIC_PINS; pin++) {
		uint64_t e = 0;

		if (virq_device_get_attr(s->ioapic, VIRQ_IOAPIC_GRP_REDIR, pin, &e,
					 sizeof(e)) == 0 &&
		    (e & REDIR_LEVEL) && (e & REDIR_REMOTE_IRR))
			return true;
	}
	return false;
}

static void *eoi_watchdog(void *arg)
{
	struct split *s = arg;

	pthread_mutex_lock(&s->eoi_lock);
	while (!s->eoi_stop) {
		uint64_t now = mono_ns(), next = UINT64_MAX, due = 0, kick = 0;

		for (uint64_t m = s->eoi_watch; m; m &= m - 1) {
			unsigned n = (unsigned)__builtin_ctzll(m);

			if (s->eoi_due[n] <= now)
				due |= 1ull << n;
			else if (s->eoi_due[n] < next)
				next = s->eoi_due[n];
		}
		if (!due) {
			struct timespec ts = { (time_t)(next / 1000000000ull),
					       (long)(next % 1000000000ull) };

			s->eoi_wake_at = next;
			if (next == UINT64_MAX)
				pthread_cond_wait(&s->eoi_cond, &s->eoi_lock);
			else
				pthread_cond_clockwait(&s->eoi_cond, &s->eoi_lock,
						       CLOCK_MONOTONIC, &ts);
			continue;
		}
		s->eoi_wake_at = 0;
		s->eoi_checks++;
		/* the IOAPIC's lock is taken inside MSI delivery, before ours */
		pthread_mutex_unlock(&s->eoi_lock);
		bool outstanding = eoi_outstanding(s);
		pthread_mutex_lock(&s->eoi_lock);
		for (uint64_t m = due; m; m &= m - 1) {
			unsigned n = (unsigned)__builtin_ctzll(m);

			if (s->eoi_due[n] > now)
				continue; /* a new level MSI meanwhile */
			if (!outstanding) {
				/* everything it took before `now` is EOI'd */
				s->eoi_watch &= ~(1ull << n);
				continue;
			}
			kick |= 1ull << n;
			s->eoi_due[n] = now + eoi_retry_ns(s, ++s->eoi_tries[n]);
		}
		if (!kick)
			continue;
		s->eoi_flushes += (uint64_t)__builtin_popcountll(kick);
		pthread_mutex_unlock(&s->eoi_lock);
		for (uint64_t m = kick; m; m &= m - 1)
			s->kick(s->kick_opaque, (unsigned)__builtin_ctzll(m),
				SPLIT_KICK_EOI);
		pthread_mutex_lock(&s->eoi_lock);
	}
	pthread_mutex_unlock(&s->eoi_lock);
	return NULL;
}

void split_stop_watchdog(struct split *s)
{
	if (!s || !s->eoi_thread_up)
		return;
	pthread_mutex_lock(&s->eoi_lock);
	s->eoi_stop = true;
	pthread_cond_signal(&s->eoi_cond);
	pthread_mutex_unlock(&s->eoi_lock);
	pthread_join(s->eoi_thread, NULL);
	s->eoi_thread_up = false;
}

/* cpu_line sink: the PIC's INT (vCPU 0's INTR).  Called under the PIC's
 * lock: only kicks, never calls back into virq. */
static void split_cpu_line(void *opaque, uint32_t vcpu, enum virq_cpu_line line,
			   int level)
{
	struct split *s = opaque;

	if (line == VIRQ_CPU_IRQ && level && s->kick)
		s->kick(s->kick_opaque, vcpu, SPLIT_KICK_PIC);
}

/* msi sink: every MSI is bound for KVM's LAPICs.  A delivered level one
 * (the IOAPIC's) is watched until it is EOI'd. */
static int split_msi(void *opaque, const struct virq_msi *msi)
{
	struct split *s = opaque;
	int r = virq_kvm_signal_msi(s->kvm, msi);

	if (r > 0 && (msi->data & MSI_DATA_LEVEL) && s->eoi_after_ns)
		eoi_watch_add(s, msi_vcpus(s, msi));
	return r;
}

static int split_fail(struct split *s, const char *what)
{
	fprintf(stderr, "virq-vm: split irqchip: %s: %s\n", what, virq_last_error());
	split_destroy(s);
	return -1;
}

int split_create(int vm_fd, unsigned nr_vcpus, unsigned eoi_flush_us, split_kick_fn kick,
		 void *opaque, struct split **out)
{
	struct split *s = calloc(1, sizeof(*s));
	struct virq_vm_config cfg = {
		.nr_vcpus = nr_vcpus,
		.ops = { .cpu_line = split_cpu_line, .msi = split_msi },
		.opaque = s,
	};
	struct virq_kvm_config kc = { .vm_fd = vm_fd };

	if (!s) {
		fprintf(stderr, "virq-vm: split irqchip: out of memory\n");
		return -1;
	}
	s->kick = kick;
	s->kick_opaque = opaque;
	s->nr_vcpus = nr_vcpus;
	s->eoi_wake_at = UINT64_MAX;
	pthread_mutex_init(&s->eoi_lock, NULL);
	pthread_cond_init(&s->eoi_cond, NULL);
	if (virq_ioapic_register() || virq_pic_register())
		return split_fail(s, "registering the device types");
	if (virq_vm_create(&cfg, &s->vm))
		return split_fail(s, "virq_vm_create");
	if (virq_device_create(s->vm, "ioapic", NULL, &s->ioapic))
		return split_fail(s, "creating the IOAPIC");
	if (virq_device_create(s->vm, "i8259", NULL, &s->pic))
		return split_fail(s, "creating the PIC");
	if (virq_x86_default_routes(s->vm))
		return split_fail(s, "virq_x86_default_routes");
	kc.ioapic = s->ioapic;
	kc.pic = s->pic;
	if (virq_kvm_attach(s->vm, &kc, &s->kvm))
		return split_fail(s, "virq_kvm_attach");
	if (eoi_flush_us && kick) {
		/* read without the lock by split_msi on the vCPU threads,
		 * which start later */
		s->eoi_after_ns = (uint64_t)eoi_flush_us * 1000u;
		int r = pthread_create(&s->eoi_thread, NULL, eoi_watchdog, s);

		if (r) {
			fprintf(stderr, "virq-vm: split irqchip: EOI watchdog: %s\n",
				strerror(r));
			split_destroy(s);
			return -1;
		}
		s->eoi_thread_up = true;
	}
	*out = s;
	return 0;
}

void split_destroy(struct split *s)
{
	if (!s)
		return;
	split_stop_watchdog(s);
	virq_kvm_detach(s->kvm);
	virq_vm_destroy(s->vm);
	pthread_cond_destroy(&s->eoi_cond);
	pthread_mutex_destroy(&s->eoi_lock);
	free(s);
}

void split_set_running(struct split *s, bool running)
{
	virq_vm_set_running(s->vm, running);
}

/* The device IRQ hook: opaque is a split_hook (one virq source each). */
static void split_set_irq(void *opaque, uint32_t gsi, int level)
{
	struct split_hook *h = opaque;
	int r = virq_set_irq(h->s->vm, gsi, level, h->source);

	/* -1 (masked, coalesced...) is the guest's business; -EINVAL is ours */
	if (r < -1 && __atomic_fetch_add(&h->s->set_irq_errors, 1, __ATOMIC_RELAXED) < 8)
		fprintf(stderr, "virq-vm: virq_set_irq(%u, %d): %s\n", gsi, level,
			virq_last_error());
}

int split_irq_hook(struct split *s, struct vm_irq *out)
{
	struct split_hook *h;
	int id;

	if (s->nr_hooks == SPLIT_MAX_HOOKS)
		return -ENOSPC;
	id = virq_source_id_alloc(s->vm);
	if (id < 0)
		return id;
	h = &s->hooks[s->nr_hooks++];
	h->s = s;
	h->source = (uint32_t)id;
	out->set = split_set_irq;
	out->opaque = h;
	return 0;
}

int split_io(struct split *s, unsigned vcpu, bool mmio, uint64_t addr, unsigned size,
	     bool write, uint64_t *val)
{
	enum virq_space space = mmio ? VIRQ_SPACE_MMIO : VIRQ_SPACE_PIO;
	int r;

	if (write) {
		r = virq_io_write(s->vm, vcpu, space, addr, size, *val);
		/* a region refused the access: dropped */
		return r < 0 && r != -ENOENT ? 0 : r;
	}
	*val = 0;
	r = virq_io_read(s->vm, vcpu, space, addr, size, val);
	/* a region refused the access: reads as an open bus */
	if (r < 0 && r != -ENOENT) {
		*val = size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
		return 0;
	}
	return r;
}

int split_pre_run(struct split *s, int vcpu_fd, struct kvm_run *run)
{
	return virq_kvm_pre_run(s->kvm, vcpu_fd, run);
}

int split_ioapic_eoi(struct split *s, uint8_t vector)
{
	return virq_kvm_ioapic_eoi(s->kvm, vector);
}

struct virq_vm *split_virq_vm(struct split *s)
{
	return s->vm;
}

struct virq_kvm *split_virq_kvm(struct split *s)
{
	return s->kvm;
}

const char *split_last_error(void)
{
	return virq_last_error();
}

void split_print_stats(struct split *s, FILE *f)
{
	struct virq_kvm_stats st;

	virq_kvm_get_stats(s->kvm, &st);
	fprintf(f,
		"virq-vm: virq: KVM_SIGNAL_MSI %llu, IOAPIC EOI exits %llu, "
		"ExtINT injections %llu, route syncs %llu, guest errors %llu\n",
		(unsigned long long)st.msis, (unsigned long long)st.eoi_exits,
		(unsigned long long)st.extints, (unsigned long long)st.route_syncs,
		(unsigned long long)virq_vm_guest_errors(s->vm));
	pthread_mutex_lock(&s->eoi_lock);
	fprintf(f, "virq-vm: EOI watchdog: %s, IOAPIC checks %llu, flush kicks %llu\n",
		s->eoi_thread_up ? "on" : "off", (unsigned long long)s->eoi_checks,
		(unsigned long long)s->eoi_flushes);
	pthread_mutex_unlock(&s->eoi_lock);
}
