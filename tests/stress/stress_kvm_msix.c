/* SPDX-License-Identifier: MIT */
/*
 * MSI-X eventfds under the KVM backend (virq_msix_bind_irqfd with the
 * split-irqchip backend attached), concurrently.  A KVM VM with one vCPU,
 * never run, whose in-kernel LAPIC is enabled: what KVM delivers shows in
 * its IRR.  An MSI-X function of NV vectors, vector v sending LAPIC
 * vector 0x40 + v or 0x48 + v to APIC 0, each with an eventfd.  For
 * VIRQ_STRESS_MS (default 1500) ms:
 *   - signallers write the eventfds at random;
 *   - a flipper masks and unmasks vectors (changing the message of some
 *     while masked), changes the message of unmasked vectors, and sets
 *     the function mask or disables MSI-X for a moment;
 *   - a reader reads the PBA (8- and 4-byte, the attribute, get_pending)
 *     and the stats;
 *   - a rebinder unbinds and rebinds eventfds, and checks that an
 *     eventfd bound to one vector cannot be bound to another.
 * Checked while it runs:
 *   - once a mask write returned, the vector's eventfd is out of KVM
 *     (msix_irqfds <= NV - 1; 0 under the function mask or disabled) and
 *     nothing of it reaches the LAPIC until the unmask write (the IRR bit
 *     cleared after the mask stays clear while the eventfd is written);
 *   - the msi sink (userspace delivery) is reached only by the threads
 *     that unmask, enable or unbind (pending messages), not by PBA reads,
 *     never from the signallers' eventfds (virq's irqfd engine: the
 *     eventfd is not in KVM); never while the vector is masked; always
 *     with the message the vector has; virq fired nothing itself
 *     (stats.sent 0);
 *   - no assign or deassign failed, at most NV eventfds bound.
 * Then the flipper stops with some vectors masked, the reader and the
 * rebinder stop, the signallers go on for 10 ms and stop; quiesced
 * (function masked, every vector unmasked, enabled):
 *   - exactly the vectors left masked hold signals in their counters; a
 *     PBA read shows exactly them and empties the counters; at the
 *     enable each of them is sent exactly once through the sink (its
 *     vector in the IRR), the others not at all; the PBA is empty and no
 *     counter holds a signal;
 *   - irqfds_direct = irqfds_assigned = KVM's msix_irqfds = NV, GSIs NV,
 *     direct_failures 0, latched = sent at unmask, every sink call
 *     counted by virq as a pending message sent;
 * and, vector by vector: a write to an unmasked vector's eventfd reaches
 * the IRR at the vector's current message without the sink; a masked
 * vector's write stays out of the IRR, waits in the counter (or the PBA
 * bit once the PBA is read) and is sent exactly once at the unmask; a
 * message change moves KVM's delivery to the new vector; the function
 * mask and a disable park every eventfd and send each vector once at the
 * end.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <virq/virq.h>

#include "kvm_vm.h"

#define NV 8u /* vectors; vector v sends 0x40 + v or 0x48 + v */
#define GSI_BASE 64u
#define GSI_COUNT 64u
#define SIGNALLERS 2u
#define ADDR 0xfee00000u /* APIC 0, physical */
#define LVEC_LO 0x40u
#define LVEC_HI 0x4fu

struct world {
	struct kx x; /* the KVM test VM (tests/common/kvm_vm.h) */
	struct virq_device *d;
	int efd[NV];
	/* the flipper's view (atomics) */
	uint32_t data[NV]; /* the vector's message data (a LAPIC vector) */
	int moving[NV];	   /* a data write in progress: either is right */
	int shadow[NV];	   /* from a mask write's return to the unmask write */
	int shadow_fn;	   /* function masked or MSI-X disabled, likewise */
	/* the sink's counts (atomics) */
	uint64_t sunk[NV];    /* messages through userspace, by vector */
	uint64_t early;	      /* while shadow-masked */
	uint64_t misrouted;   /* with a message the vector did not have */
	uint64_t stray;	      /* from a thread that may not send, or garbage */
	bool done;	      /* atomic */
	bool flips_done;      /* atomic: the flipper stops first */
	uint32_t left_masked; /* vectors the flipper left masked */
	/* the threads' counts */
	uint64_t writes[SIGNALLERS];
	uint64_t flips, masks, moves, fn_masks, disables, irr_checks;
	uint64_t rebinds, reads;
};

static struct world W;

/* Threads whose calls may send a pending message through the sink. */
static _Thread_local bool may_sink;

static void fail(int line, const char *what)
{
	fprintf(stderr, "stress_kvm_msix.c:%d: check failed: %s (%s)\n", line, what,
		virq_last_error());
	fflush(stderr);
	_exit(1);
}

static void check_eq(int line, const char *what, uint64_t a, uint64_t b)
{
	if (a == b)
		return;
	fprintf(stderr,
		"stress_kvm_msix.c:%d: check failed: %s: %llu (%lld) != %llu (%lld)\n",
		line, what, (unsigned long long)a, (long long)a, (unsigned long long)b,
		(long long)b);
	fflush(stderr);
	_exit(1);
}

#define CHECK(c) ((c) ? (void)0 : fail(__LINE__, #c))
#define CHECK_EQ(a, b) check_eq(__LINE__, #a " == " #b, (uint64_t)(a), (uint64_t)(b))

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* ---- the msi sink: userspace delivery ---- */

static int sink(void *opaque, const struct virq_msi *m)
{
	struct world *w = opaque;
	uint32_t v = (m->data - LVEC_LO) % NV;

	if (m->address_lo != ADDR || m->address_hi || m->data < LVEC_LO ||
	    m->data > LVEC_HI || !may_sink) {
		__atomic_fetch_add(&w->stray, 1, __ATOMIC_SEQ_CST);
		return virq_kvm_signal_msi(w->x.k, m);
	}
	if (!__atomic_load_n(&w->moving[v], __ATOMIC_SEQ_CST) &&
	    m->data != __atomic_load_n(&w->data[v], __ATOMIC_SEQ_CST))
		__atomic_fetch_add(&w->misrouted, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->shadow[v], __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&w->shadow_fn, __ATOMIC_SEQ_CST))
		__atomic_fetch_add(&w->early, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&w->sunk[v], 1, __ATOMIC_SEQ_CST);
	return virq_kvm_signal_msi(w->x.k, m);
}

static uint64_t sunk_total(void)
{
	uint64_t n = 0;

	for (uint32_t v = 0; v < NV; v++)
		n += ld(&W.sunk[v]);
	return n;
}

/* ---- the LAPIC's IRR ---- */

static bool irr_now(uint32_t lvec)
{
	int r = kx_irr(&W.x, (uint8_t)lvec);

	CHECK(r >= 0);
	return r;
}

static bool irr_wait(uint32_t lvec)
{
	return kx_irr_wait(&W.x, (uint8_t)lvec);
}

/* A delivery racing with the clear may be lost (KVM_SET_LAPIC), which is
 * fine for the vectors checked: nothing of theirs may arrive meanwhile. */
static void irr_clear(uint32_t lo, uint32_t hi)
{
	CHECK(kx_irr_clear(&W.x, (uint8_t)lo, (uint8_t)hi) == 0);
}

static void irr_clear_vector(uint32_t v)
{
	irr_clear(LVEC_LO + v, LVEC_LO + v);
	irr_clear(LVEC_LO + NV + v, LVEC_LO + NV + v);
}

/* Either of vector v's LAPIC vectors in the IRR. */
static bool irr_vector(uint32_t v)
{
	return irr_now(LVEC_LO + v) || irr_now(LVEC_LO + NV + v);
}

static bool irr_any(void)
{
	for (uint32_t l = LVEC_LO; l <= LVEC_HI; l++)
		if (irr_now(l))
			return true;
	return false;
}

/* ---- helpers ---- */

static struct virq_kvm_stats kstats(void)
{
	struct virq_kvm_stats st;

	virq_kvm_get_stats(W.x.k, &st);
	return st;
}

/* Note: folds parked counters into the PBA, as a PBA read does. */
static struct virq_msix_stats mstats(void)
{
	struct virq_msix_stats st;

	CHECK_EQ(virq_msix_get_stats(W.d, &st), 0);
	return st;
}

static uint64_t pba(void)
{
	uint64_t w;

	CHECK_EQ(virq_msix_pba_read(W.d, 0, 8, &w), 0);
	return w;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, 0);

	CHECK(n >= 0);
	return n > 0 && (p.revents & POLLIN);
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	CHECK(write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one));
}

static void ctrl(uint16_t val)
{
	CHECK_EQ(virq_msix_ctrl_write(W.d, val), 0);
}

/* Mask or unmask vector v with its Vector Control dword, read back. */
static void set_mask(uint32_t v, bool masked)
{
	uint64_t back;

	CHECK_EQ(virq_msix_table_write(W.d, v * VIRQ_MSIX_ENTRY_SIZE + 12, 4, masked), 0);
	CHECK_EQ(virq_msix_table_read(W.d, v * VIRQ_MSIX_ENTRY_SIZE + 12, 4, &back), 0);
	CHECK_EQ(back, masked);
}

/* The whole entry at once, unmasked, with the flipper's data. */
static void unmask_entry(uint32_t v)
{
	struct virq_msix_entry e = { ADDR, 0,
				     __atomic_load_n(&W.data[v], __ATOMIC_SEQ_CST), 0 };

	CHECK_EQ(virq_msix_set_entry(W.d, v, &e), 0);
}

/* Switch vector v between its two LAPIC vectors. */
static void move(uint32_t v)
{
	uint32_t nd = __atomic_load_n(&W.data[v], __ATOMIC_SEQ_CST) ^ NV;

	__atomic_store_n(&W.moving[v], 1, __ATOMIC_SEQ_CST);
	CHECK_EQ(virq_msix_table_write(W.d, v * VIRQ_MSIX_ENTRY_SIZE + 8, 4, nd), 0);
	__atomic_store_n(&W.data[v], nd, __ATOMIC_SEQ_CST);
	__atomic_store_n(&W.moving[v], 0, __ATOMIC_SEQ_CST);
	W.moves++;
}

static bool stopping(void)
{
	return __atomic_load_n(&W.done, __ATOMIC_SEQ_CST);
}

static bool flips_stopping(void)
{
	return __atomic_load_n(&W.flips_done, __ATOMIC_SEQ_CST);
}

/* ---- the threads ---- */

static void *signaller(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg, seed = 1234 + i;
	uint64_t n = 0;

	while (!stopping()) {
		signal_fd(W.efd[rand_r(&seed) % NV]);
		n++;
	}
	W.writes[i] = n;
	return NULL;
}

/* Function mask (@val ENABLE | MASKALL) or disable (@val 0) for a moment:
 * every eventfd out of KVM, nothing reaches the LAPIC. */
static void function_off(uint16_t val)
{
	ctrl(val);
	__atomic_store_n(&W.shadow_fn, 1, __ATOMIC_SEQ_CST);
	CHECK_EQ(kstats().msix_irqfds, 0);
	irr_clear(LVEC_LO, LVEC_HI);
	usleep(100);
	CHECK(!irr_any());
	W.irr_checks++;
	if (!val) {
		struct virq_msix_stats st = mstats();

		CHECK_EQ(st.gsis, 0);
		CHECK_EQ(st.irqfds_assigned, 0);
		W.disables++;
	} else {
		W.fn_masks++;
	}
	__atomic_store_n(&W.shadow_fn, 0, __ATOMIC_SEQ_CST);
	ctrl(VIRQ_MSIX_CTRL_ENABLE);
}

/* Mask v, (maybe) change its message while masked, unmask. */
static void mask_cycle(uint32_t v, uint32_t r)
{
	set_mask(v, true);
	__atomic_store_n(&W.shadow[v], 1, __ATOMIC_SEQ_CST);
	W.masks++;
	CHECK(kstats().msix_irqfds <= NV - 1);
	irr_clear_vector(v);
	if (r < 8)
		move(v); /* the route follows at the unmask */
	if (r & 1)
		usleep(100);
	else
		sched_yield();
	CHECK(!irr_vector(v));
	W.irr_checks++;
	__atomic_store_n(&W.shadow[v], 0, __ATOMIC_SEQ_CST);
	if (r & 2)
		unmask_entry(v);
	else
		set_mask(v, false);
}

static void *flipper(void *arg)
{
	unsigned seed = 99;

	(void)arg;
	may_sink = true;
	while (!flips_stopping()) {
		uint32_t v = rand_r(&seed) % NV, r = rand_r(&seed) % 16;

		W.flips++;
		if (r == 0)
			function_off(VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
		else if (r == 1)
			function_off(0);
		else if (r == 2)
			move(v); /* unmasked: deassign, route commit, assign */
		else
			mask_cycle(v, r);
	}
	/* the signallers go on a while: these vectors' counters fill */
	W.left_masked = (uint32_t)rand_r(&seed) % ((1u << NV) - 1) + 1;
	for (uint32_t v = 0; v < NV; v++) {
		if (!(W.left_masked >> v & 1))
			continue;
		set_mask(v, true);
		__atomic_store_n(&W.shadow[v], 1, __ATOMIC_SEQ_CST);
		if (v & 1)
			move(v); /* sent at the new message */
	}
	return NULL;
}

static void *reader(void *arg)
{
	unsigned seed = 4321;

	(void)arg;
	/* a PBA read only folds: it never sends */
	while (!flips_stopping()) {
		uint32_t v = rand_r(&seed) % NV;
		struct virq_msix_stats st;
		uint64_t w = 0;
		int p;

		CHECK_EQ(virq_msix_pba_read(W.d, 0, 8, &w), 0);
		CHECK_EQ(w >> NV, 0);
		CHECK_EQ(virq_msix_pba_read(W.d, 4, 4, &w), 0);
		CHECK_EQ(w, 0);
		CHECK_EQ(virq_msix_pba_read(W.d, 0, 4, &w), 0);
		CHECK_EQ(w >> NV, 0);
		CHECK_EQ(virq_device_get_attr(W.d, VIRQ_MSIX_GRP_PBA, 0, &w, sizeof(w)),
			 0);
		CHECK_EQ(w >> NV, 0);
		p = virq_msix_get_pending(W.d, v);
		CHECK(p == 0 || p == 1);
		st = mstats();
		CHECK_EQ(st.direct_failures, 0);
		CHECK_EQ(st.sent, 0); /* virq fired nothing: KVM or parked */
		CHECK(st.irqfds_direct <= NV);
		CHECK(st.irqfds_assigned <= st.irqfds_direct);
		CHECK_EQ(st.route_failures, 0);
		CHECK(kstats().msix_irqfds <= NV);
		W.reads++;
		usleep(20);
	}
	return NULL;
}

static void *rebinder(void *arg)
{
	unsigned seed = 555;

	(void)arg;
	may_sink = true; /* an unbind sends what it folded, if it may */
	while (!flips_stopping()) {
		uint32_t v = rand_r(&seed) % NV;

		CHECK_EQ(virq_msix_bind_irqfd(W.d, (v + 1) % NV, W.efd[v]), -EBUSY);
		CHECK_EQ(virq_msix_unbind_irqfd(W.d, v, W.efd[v]), 0);
		if (rand_r(&seed) & 1)
			usleep(50);
		/* signals written meanwhile wait in the counter */
		CHECK_EQ(virq_msix_bind_irqfd(W.d, v, W.efd[v]), 0);
		W.rebinds++;
		usleep(200);
	}
	return NULL;
}

/* ---- set-up ---- */

static void setup(void)
{
	const struct virq_vm_config cfg = { .ops = { .msi = sink }, .opaque = &W };
	struct virq_msix_config mc = {
		.nr_vectors = NV,
		.gsi_base = GSI_BASE,
		.gsi_count = GSI_COUNT,
	};

	CHECK(kx_open(&W.x, &cfg) == 0);
	CHECK_EQ(virq_msix_create(W.x.v, &mc, &W.d), 0);
	ctrl(VIRQ_MSIX_CTRL_ENABLE);
	for (uint32_t v = 0; v < NV; v++) {
		W.data[v] = LVEC_LO + v;
		unmask_entry(v);
		W.efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		CHECK(W.efd[v] >= 0);
		CHECK_EQ(virq_msix_bind_irqfd(W.d, v, W.efd[v]), 0);
	}
	CHECK_EQ(mstats().irqfds_direct, NV);
	CHECK_EQ(mstats().irqfds_assigned, NV);
	CHECK_EQ(kstats().msix_irqfds, NV);
}

static void teardown(void)
{
	for (uint32_t v = 0; v < NV; v++)
		CHECK_EQ(virq_msix_unbind_irqfd(W.d, v, W.efd[v]), 0);
	CHECK_EQ(kstats().msix_irqfds, 0);
	CHECK_EQ(mstats().irqfds_direct, 0);
	for (uint32_t v = 0; v < NV; v++)
		close(W.efd[v]);
	CHECK_EQ(virq_device_destroy(W.d), 0);
	kx_close(&W.x);
}

/* ---- after the storm ---- */

/* Every eventfd in KVM, its vector routed and sending. */
static void check_settled(void)
{
	struct virq_msix_stats st = mstats();

	CHECK_EQ(st.irqfds_direct, NV);
	CHECK_EQ(st.irqfds_assigned, NV);
	CHECK_EQ(kstats().msix_irqfds, NV);
	CHECK_EQ(st.gsis, NV);
	CHECK_EQ(st.unrouted, 0);
	CHECK_EQ(st.direct_failures, 0);
	CHECK_EQ(st.route_failures, 0);
	CHECK_EQ(st.sent, 0);
	CHECK_EQ(pba(), 0);
	CHECK_EQ(ld(&W.early), 0);
	CHECK_EQ(ld(&W.misrouted), 0);
	CHECK_EQ(ld(&W.stray), 0);
	/* every bit latched went out once; every sink call was one of them */
	CHECK_EQ(st.latched, st.pending_sent);
	CHECK_EQ(sunk_total(), st.pending_sent);
	for (uint32_t v = 0; v < NV; v++)
		CHECK(!readable(W.efd[v]));
}

/*
 * The threads stopped: set the function mask, unmask every vector, see
 * what waits (parked counters, PBA bits), enable: each pending vector is
 * sent exactly once, the others not at all.
 */
static void quiesce(void)
{
	uint64_t parked = 0, pending, before[NV];
	struct virq_msix_stats st;

	CHECK_EQ(kstats().msix_irqfds, NV - (uint64_t)__builtin_popcount(W.left_masked));
	ctrl(VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
	CHECK_EQ(kstats().msix_irqfds, 0);
	for (uint32_t v = 0; v < NV; v++) {
		__atomic_store_n(&W.shadow[v], 0, __ATOMIC_SEQ_CST);
		unmask_entry(v);
	}
	CHECK_EQ(kstats().msix_irqfds, 0);
	/* KVM's deassign empties an assigned counter (what it held was
	 * injected); what is left was signalled while parked */
	for (uint32_t v = 0; v < NV; v++)
		parked |= (uint64_t)readable(W.efd[v]) << v;
	pending = pba();
	fprintf(stderr,
		"quiesce: vectors 0x%02x left masked, 0x%02llx parked with signals, "
		"0x%02llx pending in the PBA\n",
		W.left_masked, (unsigned long long)parked, (unsigned long long)pending);
	/* exactly the vectors left masked hold signals, in their counters */
	CHECK_EQ(parked, W.left_masked);
	CHECK_EQ(pending, W.left_masked); /* the read folded the counters */
	for (uint32_t v = 0; v < NV; v++)
		CHECK(!readable(W.efd[v]));
	st = mstats();
	CHECK_EQ(st.latched, st.pending_sent + (uint64_t)__builtin_popcountll(pending));
	CHECK_EQ(st.irqfds_assigned, 0);
	for (uint32_t v = 0; v < NV; v++)
		before[v] = ld(&W.sunk[v]);
	irr_clear(LVEC_LO, LVEC_HI);
	ctrl(VIRQ_MSIX_CTRL_ENABLE);
	for (uint32_t v = 0; v < NV; v++) {
		uint32_t l = W.data[v];
		uint64_t want = pending >> v & 1;

		CHECK_EQ(ld(&W.sunk[v]) - before[v], want);
		CHECK_EQ(irr_now(l), want);
		CHECK(!irr_now(l ^ NV));
	}
	check_settled();
}

/* A write to an unmasked vector's eventfd: KVM delivers it, no sink. */
static void probe_direct(uint32_t v)
{
	uint64_t calls = sunk_total();
	uint32_t l = W.data[v];

	irr_clear(LVEC_LO, LVEC_HI);
	signal_fd(W.efd[v]);
	CHECK(irr_wait(l));
	CHECK(!irr_now(l ^ NV));
	CHECK_EQ(sunk_total(), calls);
	CHECK(!readable(W.efd[v])); /* KVM took the signal */
}

/* Masked: the write stays out of the LAPIC, waits, and is sent once at
 * the unmask (@read_pba: the PBA read before it shows it). */
static void probe_masked(uint32_t v, bool read_pba)
{
	uint32_t l = W.data[v];
	uint64_t before;

	set_mask(v, true);
	CHECK_EQ(kstats().msix_irqfds, NV - 1);
	irr_clear(LVEC_LO, LVEC_HI);
	signal_fd(W.efd[v]);
	signal_fd(W.efd[v]);
	usleep(20000);
	CHECK(!irr_vector(v));
	CHECK(readable(W.efd[v])); /* parked: the signals wait in the counter */
	if (read_pba) {
		CHECK_EQ(pba(), 1ull << v);
		CHECK_EQ(virq_msix_get_pending(W.d, v), 1);
		CHECK(!readable(W.efd[v])); /* folded into the bit */
		signal_fd(W.efd[v]);	    /* coalesces at the unmask */
		CHECK(!irr_vector(v));
	}
	before = ld(&W.sunk[v]);
	set_mask(v, false);
	CHECK_EQ(ld(&W.sunk[v]), before + 1);
	CHECK(irr_now(l));
	CHECK(!irr_now(l ^ NV));
	CHECK(!readable(W.efd[v]));
	CHECK_EQ(pba(), 0);
	CHECK_EQ(kstats().msix_irqfds, NV);
	probe_direct(v);
	CHECK_EQ(ld(&W.sunk[v]), before + 1);
}

/* An unmasked vector's message changes: KVM delivers to the new one. */
static void probe_move(uint32_t v)
{
	move(v);
	CHECK_EQ(kstats().msix_irqfds, NV);
	probe_direct(v);
}

/* Function mask (@val ENABLE | MASKALL) or disable (@val 0): every
 * eventfd parked, every vector's write sent once at the enable. */
static void probe_function(uint16_t val)
{
	uint64_t before[NV];

	ctrl(val);
	CHECK_EQ(kstats().msix_irqfds, 0);
	CHECK_EQ(mstats().irqfds_assigned, 0);
	if (!val)
		CHECK_EQ(mstats().gsis, 0);
	irr_clear(LVEC_LO, LVEC_HI);
	for (uint32_t v = 0; v < NV; v++) {
		signal_fd(W.efd[v]);
		before[v] = ld(&W.sunk[v]);
	}
	usleep(20000);
	CHECK(!irr_any());
	for (uint32_t v = 0; v < NV; v++)
		CHECK(readable(W.efd[v]));
	ctrl(VIRQ_MSIX_CTRL_ENABLE);
	for (uint32_t v = 0; v < NV; v++) {
		CHECK_EQ(ld(&W.sunk[v]), before[v] + 1);
		CHECK(irr_now(W.data[v]));
		CHECK(!readable(W.efd[v]));
	}
	CHECK_EQ(kstats().msix_irqfds, NV);
	for (uint32_t v = 0; v < NV; v++)
		probe_direct(v);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
	const char *ms_env = getenv("VIRQ_STRESS_MS");
	unsigned ms = ms_env ? (unsigned)atoi(ms_env) : 1500;
	pthread_t sig[SIGNALLERS], flip, rd, rb;
	struct virq_msix_stats st;
	uint64_t writes = 0;
	double t0 = now(), t1, t2;

	if (!kx_usable()) {
		fprintf(stderr, "KVM-SKIP: /dev/kvm unusable\n");
		return 77;
	}
	may_sink = true; /* the main thread unmasks and enables */
	setup();

	for (unsigned i = 0; i < SIGNALLERS; i++)
		CHECK_EQ(pthread_create(&sig[i], NULL, signaller, (void *)(uintptr_t)i),
			 0);
	CHECK_EQ(pthread_create(&flip, NULL, flipper, NULL), 0);
	CHECK_EQ(pthread_create(&rd, NULL, reader, NULL), 0);
	CHECK_EQ(pthread_create(&rb, NULL, rebinder, NULL), 0);
	usleep(ms * 1000u);
	/* the flipper, reader and rebinder stop first; the signallers go on
	 * writing, into KVM or the counters of the vectors left masked */
	__atomic_store_n(&W.flips_done, true, __ATOMIC_SEQ_CST);
	CHECK_EQ(pthread_join(flip, NULL), 0);
	CHECK_EQ(pthread_join(rd, NULL), 0);
	CHECK_EQ(pthread_join(rb, NULL), 0);
	usleep(10000);
	__atomic_store_n(&W.done, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < SIGNALLERS; i++)
		CHECK_EQ(pthread_join(sig[i], NULL), 0);
	for (uint32_t v = 0; v < NV; v++)
		if (W.left_masked >> v & 1)
			signal_fd(W.efd[v]); /* at least one each */
	t1 = now();

	quiesce(); /* first: a stats call folds the counters */
	st = mstats();
	for (unsigned i = 0; i < SIGNALLERS; i++)
		writes += W.writes[i];
	fprintf(stderr,
		"storm %.2fs: %llu eventfd writes, %llu folded from counters (%llu latched, "
		"%llu coalesced), %llu sent at unmask, %llu eventfd moves, %llu flips "
		"(%llu masks, %llu message changes, %llu function masks, %llu disables, "
		"%llu IRR checks), %llu rebinds, %llu PBA/stats reads\n",
		t1 - t0, (unsigned long long)writes, (unsigned long long)st.notifies,
		(unsigned long long)st.latched, (unsigned long long)st.coalesced,
		(unsigned long long)st.pending_sent, (unsigned long long)st.direct_moves,
		(unsigned long long)W.flips, (unsigned long long)W.masks,
		(unsigned long long)W.moves, (unsigned long long)W.fn_masks,
		(unsigned long long)W.disables, (unsigned long long)W.irr_checks,
		(unsigned long long)W.rebinds, (unsigned long long)W.reads);
	/* the storm did storm */
	CHECK(writes > 0 && W.masks > 0 && W.moves > 0 && W.rebinds > 0 && W.reads > 0);
	CHECK(W.fn_masks + W.disables > 0);
	CHECK(st.latched > 0 && st.direct_moves > 0);
	CHECK(st.notifies <= writes); /* a fold takes at least one signal */

	for (uint32_t v = 0; v < NV; v++)
		probe_direct(v);
	for (uint32_t v = 0; v < NV; v++)
		probe_masked(v, v & 1);
	for (uint32_t v = 0; v < NV; v++)
		probe_move(v);
	probe_function(VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
	probe_function(0);
	check_settled();
	teardown();
	t2 = now();
	fprintf(stderr, "ok: storm %.2fs, checks %.2fs\n", t1 - t0, t2 - t1);
	return 0;
}
