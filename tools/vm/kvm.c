/* SPDX-License-Identifier: MIT */
/*
 * KVM: the VM, its memory slot, the vCPUs and their run loops.
 *
 * Two interrupt controller set-ups:
 *  - --kernel-irqchip: KVM_CREATE_IRQCHIP, LAPICs, IOAPIC and PIC in KVM;
 *    devices raise lines with KVM_IRQ_LINE.
 *  - default, split irqchip (split.c): LAPICs in KVM, IOAPIC and PIC in
 *    virq.  PIO and MMIO exits go to virq first; KVM_EXIT_IOAPIC_EOI
 *    goes to virq's IOAPIC; vCPU 0 runs virq_kvm_pre_run before every
 *    KVM_RUN (ExtINT through KVM_INTERRUPT) and leaves KVM_RUN on
 *    KVM_EXIT_IRQ_WINDOW_OPEN or when kicked.
 * Either way the LAPICs are KVM's, so KVM handles HLT, INIT and SIPI: the
 * APs sit in KVM_MP_STATE_UNINITIALIZED inside KVM_RUN until the guest
 * starts them, and the VMM just runs one thread per vCPU.
 *
 * Kicking a vCPU (the PIC's INT rose, or the VM stops): set the vCPU's
 * kvm_run.immediate_exit, then send its thread SIG_KICK, whose handler
 * does nothing.  Either KVM_RUN has not started yet and returns EINTR at
 * once because of immediate_exit, or it is running and the signal makes
 * it return EINTR.  The thread clears immediate_exit right after KVM_RUN
 * returns and only then looks at what to do (pre_run, stop), so no kick
 * is lost.  A kick from the vCPU's own thread (a device it drove raised
 * the PIC's INT) needs no signal: pre_run runs before its next KVM_RUN.
 *
 * The EOI flush (split irqchip; docs/vm.md, "The PVM backend"): this
 * host's KVM makes a level EOI into KVM_EXIT_IOAPIC_EOI only when the
 * vCPU next passes through vcpu_enter_guest(), which a halted vCPU does
 * not do until it is woken; a kick alone only makes KVM_RUN return EINTR
 * from the halt.  So when split.c's watchdog asks (SPLIT_KICK_EOI), the
 * vCPU's own thread, if KVM reports it halted, makes it runnable and runs
 * KVM_RUN once with SIG_KICK pending: KVM then handles its requests (the
 * EOI exit, if one waits) and returns before running any guest code.
 * Then it is put back to HLT, unless KVM changed the state itself or
 * took an interrupt from the LAPIC meanwhile (one that had just arrived:
 * RIP moved, or KVM_GET_VCPU_EVENTS shows it injected and waiting for
 * the next entry; left halted, the vCPU would never take it): then it
 * leaves HLT, as it would have for that interrupt anyway.  (With an EOI
 * exit KVM returns before it looks at interrupts at all.)  The SIG_KICK
 * it sends itself is blocked outside KVM_RUN
 * during the flush (KVM_SET_SIGNAL_MASK lets it through inside) and taken
 * back with sigtimedwait(); a kick that comes meanwhile keeps its
 * immediate_exit, so it is not lost either.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pci.h"
#include "vm.h"

#define SIG_KICK SIGUSR1
/* KVM's paravirtual CPUID leaf and its PV unhalt bit (asm/kvm_para.h) */
#define CPUID_KVM_FEATURES 0x40000001u
#define KVM_FEATURE_PV_UNHALT_BIT 7
#define PIC_VCPU 0u /* the vCPU whose INTR the PIC drives (virq's default) */

struct kvm_vcpu {
	struct kvm_vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;	/* thread exists (atomic) */
	bool done;	/* thread has returned (atomic) */
	bool eoi_flush; /* split.c's watchdog asks for an EOI flush (atomic) */
};

struct kvm_vm {
	int kvm_fd, vm_fd;
	unsigned nr_vcpus;
	bool kernel_irqchip;
	bool eoi_flush; /* split.c's deferred-EOI watchdog runs */
	bool stop;	/* atomic: every vCPU thread returns */
	size_t run_size;
	struct split *split; /* the split irqchip, or NULL */
	struct kvm_vcpu vcpus[VM_MAX_VCPUS];
	/* statistics, updated with relaxed atomics */
	uint64_t exits_io, exits_mmio, exits_window, exits_eoi, exits_intr, exits_other;
	/* EOI flushes of a halted vCPU: all, with an EOI exit, left awake */
	uint64_t flush_halted, flush_eois, flush_woke;
};

static _Thread_local struct kvm_vcpu *self;

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(fd);
		errno = ENOTSUP;
		return -1;
	}
	return fd;
}

bool kvm_usable(void)
{
	int fd = open_kvm(), vm;
	if (fd < 0)
		return false;
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return false;
	close(vm);
	return true;
}

unsigned kvm_max_vcpus(void)
{
	int fd = open_kvm(), n;
	if (fd < 0)
		return 0;
	n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	close(fd);
	if (n <= 0)
		n = 4; /* KVM's documented minimum when neither cap answers */
	return (unsigned)n < VM_MAX_VCPUS ? (unsigned)n : VM_MAX_VCPUS;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

/*
 * The guest sees KVM's supported CPUID with its own APIC id filled in.
 * With the EOI flush, without PV unhalt (KVM_HC_KICK_CPU): the flush sets
 * the vCPU's state to runnable and back, which drops a PV unhalt that
 * lands in between, so a guest must not rely on one.
 */
static int set_cpuid(struct kvm_vcpu *v, const struct kvm_cpuid2 *tmpl)
{
	size_t sz = sizeof(*tmpl) + tmpl->nent * sizeof(tmpl->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int r;
	if (!c)
		return -1;
	memcpy(c, tmpl, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (v->id << 24);
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->id;
		if (e->function == CPUID_KVM_FEATURES && v->vm->eoi_flush)
			e->eax &= ~(1u << KVM_FEATURE_PV_UNHALT_BIT);
	}
	r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return r;
}

static void kick(struct kvm_vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->started, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&v->done, __ATOMIC_ACQUIRE))
		pthread_kill(v->thread, SIG_KICK);
}

/*
 * split.c's kick: the PIC's INT rose (virq's cpu_line sink, under the
 * PIC's lock), or its watchdog wants an EOI flush (its own thread).
 */
static void kick_from_virq(void *opaque, unsigned vcpu, enum split_kick why)
{
	struct kvm_vm *vm = opaque;
	struct kvm_vcpu *v;

	if (vcpu >= vm->nr_vcpus)
		return;
	v = &vm->vcpus[vcpu];
	if (why == SPLIT_KICK_EOI)
		__atomic_store_n(&v->eoi_flush, true, __ATOMIC_SEQ_CST);
	else if (v == self)
		return; /* its own thread runs pre_run before re-entering */
	kick(v);
}

int kvm_vm_create(const struct kvm_opts *opts, struct vm_mem *mem, struct kvm_vm **out)
{
	struct kvm_vm *vm = calloc(1, sizeof(*vm));
	struct kvm_cpuid2 *cpuid = NULL;
	if (!vm)
		return -1;
	vm->nr_vcpus = opts->nr_vcpus;
	vm->kernel_irqchip = opts->kernel_irqchip;
	vm->eoi_flush = !opts->kernel_irqchip && opts->eoi_flush_us;
	vm->kvm_fd = open_kvm();
	if (vm->kvm_fd < 0) {
		fprintf(stderr, "virq-vm: /dev/kvm not usable: %s (KVM-SKIP)\n",
			strerror(errno));
		free(vm);
		return -2;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		fprintf(stderr, "virq-vm: KVM_CREATE_VM: %s (KVM-SKIP)\n",
			strerror(errno));
		close(vm->kvm_fd);
		free(vm);
		return -2;
	}
	/* VMX wants a TSS area below 4 GiB; other backends may refuse it. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0)
		(void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	if (opts->kernel_irqchip && ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		fprintf(stderr, "virq-vm: KVM_CREATE_IRQCHIP: %s\n", strerror(errno));
		goto fail;
	}
	/* the split irqchip must exist before the first vCPU */
	if (!opts->kernel_irqchip &&
	    split_create(vm->vm_fd, vm->nr_vcpus, opts->eoi_flush_us, kick_from_virq, vm,
			 &vm->split) < 0)
		goto fail;
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem->size,
		.userspace_addr = (uintptr_t)mem->host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		fprintf(stderr, "virq-vm: KVM_SET_USER_MEMORY_REGION: %s\n",
			strerror(errno));
		goto fail;
	}
	int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	cpuid = supported_cpuid(vm->kvm_fd);
	if (run_size <= 0 || !cpuid) {
		fprintf(stderr, "virq-vm: KVM_GET_VCPU_MMAP_SIZE/SUPPORTED_CPUID: %s\n",
			strerror(errno));
		goto fail;
	}
	vm->run_size = (size_t)run_size;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0) {
			fprintf(stderr, "virq-vm: KVM_CREATE_VCPU %u: %s\n", i,
				strerror(errno));
			goto fail;
		}
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      v->fd, 0);
		if (v->run == MAP_FAILED) {
			fprintf(stderr, "virq-vm: mmap vCPU %u: %s\n", i,
				strerror(errno));
			goto fail;
		}
		if (set_cpuid(v, cpuid) < 0) {
			fprintf(stderr, "virq-vm: KVM_SET_CPUID2 %u: %s\n", i,
				strerror(errno));
			goto fail;
		}
	}
	free(cpuid);
	*out = vm;
	return 0;
fail:
	free(cpuid);
	return -1; /* the process exits; the fds (and the split irqchip) go with it */
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffffu,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
}

/*
 * The Multiboot machine state: 32-bit protected mode, paging off, CS a
 * flat execute/read segment, DS/ES/FS/GS/SS flat read/write segments,
 * A20 on (no A20 gate here), EFLAGS.IF and VM clear, EAX the magic, EBX
 * the information structure.  GDTR and IDTR are left as reset leaves
 * them: the kernel must load its own (the specification says so).
 */
int kvm_set_boot_state(struct kvm_vm *vm, uint32_t entry, uint32_t info)
{
	struct kvm_vcpu *v = &vm->vcpus[0];
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	flat_segment(&sregs.cs, 0x10, 0xb); /* execute/read, accessed */
	flat_segment(&sregs.ds, 0x18, 0x3); /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = (sregs.cr0 | 0x1) & ~0x80000000ull; /* PE on, PG off */
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rax = 0x2badb002;
	regs.rbx = info;
	regs.rflags = 0x2;
	return ioctl(v->fd, KVM_SET_REGS, &regs);
}

static void kvm_irq_line(void *opaque, uint32_t gsi, int level)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		fprintf(stderr, "virq-vm: KVM_IRQ_LINE %u: %s\n", gsi, strerror(errno));
}

/* For pci_setup() (pcitest.c): the VM fd, the split irqchip's virq VM. */
int kvm_vm_fd(struct kvm_vm *vm)
{
	return vm->vm_fd;
}

struct virq_vm *kvm_virq_vm(struct kvm_vm *vm)
{
	return vm->split ? split_virq_vm(vm->split) : NULL;
}

struct virq_kvm *kvm_virq_kvm(struct kvm_vm *vm)
{
	return vm->split ? split_virq_kvm(vm->split) : NULL;
}

int kvm_irq_hook(struct kvm_vm *vm, struct vm_irq *out)
{
	if (vm->split)
		return split_irq_hook(vm->split, out);
	out->set = kvm_irq_line;
	out->opaque = vm;
	return 0;
}

/* Port I/O: virq's PIC/ELCR ports first (split), then virq-vm's devices. */
static void handle_io(struct kvm_vcpu *v, struct kvm_run *run)
{
	struct split *split = v->vm->split;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t val = 0;

		if (out)
			memcpy(&val, data, size);
		if (split &&
		    split_io(split, v->id, false, run->io.port, size, out, &val) == 0) {
			if (!out)
				memcpy(data, &val, size);
			continue;
		}
		if (out) {
			pio_write(run->io.port, size, (uint32_t)val);
		} else {
			uint32_t v32 = pio_read(run->io.port, size);
			memcpy(data, &v32, size);
		}
	}
}

/* MMIO outside RAM and KVM's LAPIC: virq's IOAPIC (split), else nothing. */
static void handle_mmio(struct kvm_vcpu *v, struct kvm_run *run)
{
	static unsigned reported;
	struct split *split = v->vm->split;
	unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;
	uint64_t val = 0;

	if (split) {
		if (run->mmio.is_write)
			memcpy(&val, run->mmio.data, len);
		if (split_io(split, v->id, true, run->mmio.phys_addr, len,
			     run->mmio.is_write, &val) == 0) {
			if (!run->mmio.is_write)
				memcpy(run->mmio.data, &val, len);
			return;
		}
	}
	if (pci_mmio(run->mmio.phys_addr, len, run->mmio.is_write, run->mmio.data, v->id))
		return; /* a PCI BAR (pci.c) */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	if (__atomic_fetch_add(&reported, 1, __ATOMIC_RELAXED) < 8)
		fprintf(stderr,
			"virq-vm: vCPU %u: unclaimed MMIO %s at 0x%llx (%u bytes)\n",
			v->id, run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
}

static void guest_died(struct kvm_vcpu *v, const char *what)
{
	struct kvm_regs regs;
	unsigned long long rip = 0;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
		rip = regs.rip;
	fprintf(stderr, "virq-vm: vCPU %u: %s (rip 0x%llx)\n", v->id, what, rip);
	vm_request_exit(VM_EXIT_GUEST);
}

static bool stopping(const struct kvm_vm *vm)
{
	return __atomic_load_n(&vm->stop, __ATOMIC_SEQ_CST);
}

/* One exit KVM_RUN returned: 0 to go on, -1 when the vCPU is done. */
static int handle_exit(struct kvm_vcpu *v)
{
	struct kvm_vm *vm = v->vm;
	struct kvm_run *run = v->run;
	char msg[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		__atomic_fetch_add(&vm->exits_io, 1, __ATOMIC_RELAXED);
		handle_io(v, run);
		return 0;
	case KVM_EXIT_MMIO:
		__atomic_fetch_add(&vm->exits_mmio, 1, __ATOMIC_RELAXED);
		handle_mmio(v, run);
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		/* vCPU 0 can take the PIC's ExtINT: pre_run injects it */
		__atomic_fetch_add(&vm->exits_window, 1, __ATOMIC_RELAXED);
		return 0;
	case KVM_EXIT_IOAPIC_EOI:
		__atomic_fetch_add(&vm->exits_eoi, 1, __ATOMIC_RELAXED);
		if (vm->split && split_ioapic_eoi(vm->split, run->eoi.vector) < 0) {
			snprintf(msg, sizeof(msg), "IOAPIC EOI 0x%x: %s", run->eoi.vector,
				 split_last_error());
			guest_died(v, msg);
			return -1;
		}
		return 0;
	case KVM_EXIT_INTR:
		__atomic_fetch_add(&vm->exits_intr, 1, __ATOMIC_RELAXED);
		return 0;
	case KVM_EXIT_SHUTDOWN:
		guest_died(v, "guest shutdown (triple fault)");
		return -1;
	case KVM_EXIT_HLT:
		guest_died(v, "HLT without an in-kernel LAPIC");
		return -1;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(msg, sizeof(msg), "KVM internal error, suberror %u",
			 run->internal.suberror);
		guest_died(v, msg);
		return -1;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(msg, sizeof(msg), "VM entry failed, reason 0x%llx",
			 (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
		guest_died(v, msg);
		return -1;
	case KVM_EXIT_SYSTEM_EVENT:
		snprintf(msg, sizeof(msg), "guest system event %u",
			 run->system_event.type);
		guest_died(v, msg);
		return -1;
	default:
		__atomic_fetch_add(&vm->exits_other, 1, __ATOMIC_RELAXED);
		snprintf(msg, sizeof(msg), "unhandled exit reason %u", run->exit_reason);
		guest_died(v, msg);
		return -1;
	}
}

/*
 * KVM_RUN's signal mask (KVM_SET_SIGNAL_MASK): the thread's own, so that
 * SIG_KICK interrupts KVM_RUN even while the thread blocks it (the EOI
 * flush).  The kernel's sigset is the first 8 bytes of glibc's.
 */
static int set_run_sigmask(struct kvm_vcpu *v)
{
	uint64_t buf[2];
	struct kvm_signal_mask *m = (struct kvm_signal_mask *)buf;
	sigset_t cur;

	if (pthread_sigmask(SIG_SETMASK, NULL, &cur))
		return -1;
	m->len = 8;
	memcpy(m->sigset, &cur, 8);
	return ioctl(v->fd, KVM_SET_SIGNAL_MASK, m);
}

/*
 * The EOI flush (see the top of the file), on the vCPU's own thread.
 * Returns handle_exit()'s answer for an exit KVM made, else 0.
 */
static int eoi_flush(struct kvm_vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_mp_state mp;
	struct kvm_regs before, after;
	struct kvm_vcpu_events events;
	struct timespec zero = { 0, 0 };
	sigset_t kick_set;
	char msg[128];
	int r, err;
	bool ok;

	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST)) {
		/* a kick came: the next KVM_RUN returns at once; flush after it */
		__atomic_store_n(&v->eoi_flush, true, __ATOMIC_SEQ_CST);
		return 0;
	}
	/* a vCPU that runs reaches KVM's request check by itself */
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    mp.mp_state != KVM_MP_STATE_HALTED || ioctl(v->fd, KVM_GET_REGS, &before) < 0)
		return 0;
	__atomic_fetch_add(&v->vm->flush_halted, 1, __ATOMIC_RELAXED);
	sigemptyset(&kick_set);
	sigaddset(&kick_set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &kick_set, NULL);
	pthread_kill(pthread_self(), SIG_KICK); /* pending: KVM_RUN returns at once */
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	r = ioctl(v->fd, KVM_SET_MP_STATE, &mp);
	ok = r == 0;
	if (ok)
		r = ioctl(v->fd, KVM_RUN, 0);
	err = errno;
	while (sigtimedwait(&kick_set, NULL, &zero) == SIG_KICK)
		;
	pthread_sigmask(SIG_UNBLOCK, &kick_set, NULL);
	if (!ok) {
		snprintf(msg, sizeof(msg), "EOI flush: KVM_SET_MP_STATE: %s",
			 strerror(err));
		guest_died(v, msg);
		return -1;
	}
	/* back to HLT, unless KVM took it out: a state change (INIT...), or
	 * an event it injected (RIP moved) or took from the LAPIC and holds
	 * for the next entry (the PVM backend's injection can do either) */
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0 &&
	    mp.mp_state == KVM_MP_STATE_RUNNABLE &&
	    ioctl(v->fd, KVM_GET_REGS, &after) == 0 && after.rip == before.rip &&
	    ioctl(v->fd, KVM_GET_VCPU_EVENTS, &events) == 0 &&
	    !events.interrupt.injected && !events.exception.injected &&
	    !events.exception.pending && !events.nmi.injected && !events.nmi.pending) {
		mp.mp_state = KVM_MP_STATE_HALTED;
		if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) {
			snprintf(msg, sizeof(msg), "EOI flush: KVM_SET_MP_STATE: %s",
				 strerror(errno));
			guest_died(v, msg);
			return -1;
		}
	} else {
		__atomic_fetch_add(&v->vm->flush_woke, 1, __ATOMIC_RELAXED);
	}
	if (r == 0) {
		if (run->exit_reason == KVM_EXIT_IOAPIC_EOI)
			__atomic_fetch_add(&v->vm->flush_eois, 1, __ATOMIC_RELAXED);
		return handle_exit(v);
	}
	if (err == EINTR || err == EAGAIN)
		return 0;
	snprintf(msg, sizeof(msg), "EOI flush: %s", strerror(err));
	guest_died(v, msg);
	return -1;
}

static void *vcpu_run_loop(struct kvm_vcpu *v)
{
	struct kvm_vm *vm = v->vm;
	struct kvm_run *run = v->run;
	struct split *split = v->id == PIC_VCPU ? vm->split : NULL;
	char msg[128];
	int r;

	if (vm->eoi_flush && set_run_sigmask(v) < 0) {
		snprintf(msg, sizeof(msg), "KVM_SET_SIGNAL_MASK: %s", strerror(errno));
		guest_died(v, msg);
		return NULL;
	}
	for (;;) {
		if (stopping(vm))
			return NULL;
		/* a plain load first: no locked instruction when nothing asks */
		if (__atomic_load_n(&v->eoi_flush, __ATOMIC_RELAXED) &&
		    __atomic_exchange_n(&v->eoi_flush, false, __ATOMIC_SEQ_CST) &&
		    eoi_flush(v) < 0)
			return NULL;
		if (split && (r = split_pre_run(split, v->fd, run)) < 0) {
			snprintf(msg, sizeof(msg), "ExtINT injection: %s",
				 split_last_error());
			guest_died(v, msg);
			return NULL;
		}
		r = ioctl(v->fd, KVM_RUN, 0);
		/* a kick asked for this exit or came after it: either way the
		 * loop's top sees what the kicker changed */
		__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_fetch_add(&vm->exits_intr, 1, __ATOMIC_RELAXED);
				continue;
			}
			snprintf(msg, sizeof(msg), "KVM_RUN: %s", strerror(errno));
			guest_died(v, msg);
			return NULL;
		}
		if (handle_exit(v) < 0)
			return NULL;
	}
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *v = arg;

	self = v;
	vcpu_run_loop(v);
	__atomic_store_n(&v->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void on_kick(int sig)
{
	(void)sig; /* only makes KVM_RUN return EINTR */
}

int kvm_vm_start(struct kvm_vm *vm)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick; /* no SA_RESTART: KVM_RUN must return */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0) {
		fprintf(stderr, "virq-vm: sigaction: %s\n", strerror(errno));
		return -1;
	}
	if (vm->split)
		split_set_running(vm->split, true);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = &vm->vcpus[i];
		int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (r) {
			fprintf(stderr, "virq-vm: vCPU thread %u: %s\n", i, strerror(r));
			return -1;
		}
		__atomic_store_n(&v->started, true, __ATOMIC_RELEASE);
	}
	return 0;
}

int kvm_vm_stop(struct kvm_vm *vm)
{
	struct timespec dl;

	__atomic_store_n(&vm->stop, true, __ATOMIC_SEQ_CST);
	split_stop_watchdog(vm->split); /* it kicks vCPU threads */
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = &vm->vcpus[i];

		if (!__atomic_load_n(&v->started, __ATOMIC_ACQUIRE))
			continue;
		/* kick until it has gone: the first kick is never lost
		 * (immediate_exit); a thread busy in the VMM sees vm->stop */
		for (;;) {
			struct timespec now, nap = { 0, 1000000 };

			kick(v);
			if (pthread_tryjoin_np(v->thread, NULL) == 0)
				break;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > dl.tv_sec ||
			    (now.tv_sec == dl.tv_sec && now.tv_nsec > dl.tv_nsec))
				return -1;
			nanosleep(&nap, NULL);
		}
		__atomic_store_n(&v->started, false, __ATOMIC_RELEASE);
	}
	if (vm->split) {
		split_set_running(vm->split, false);
		split_destroy(vm->split);
		vm->split = NULL;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		munmap(vm->vcpus[i].run, vm->run_size);
		close(vm->vcpus[i].fd);
	}
	close(vm->vm_fd);
	close(vm->kvm_fd);
	free(vm);
	return 0;
}

void kvm_print_stats(struct kvm_vm *vm, FILE *f)
{
	fprintf(f,
		"virq-vm: exits: io %llu, mmio %llu, irq window %llu, ioapic eoi %llu, "
		"intr %llu, other %llu\n",
		(unsigned long long)__atomic_load_n(&vm->exits_io, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&vm->exits_mmio, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&vm->exits_window, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&vm->exits_eoi, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&vm->exits_intr, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&vm->exits_other, __ATOMIC_RELAXED));
	if (vm->split) {
		fprintf(f,
			"virq-vm: EOI flushes: %llu of a halted vCPU, %llu gave an EOI exit, "
			"%llu left it awake\n",
			(unsigned long long)__atomic_load_n(&vm->flush_halted,
							    __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&vm->flush_eois,
							    __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&vm->flush_woke,
							    __ATOMIC_RELAXED));
		split_print_stats(vm->split, f);
	}
}
