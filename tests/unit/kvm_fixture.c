/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "kvm_fixture.h"

struct kx X;
unsigned kx_sink_calls;

static int msi_sink(void *opaque, const struct virq_msi *m)
{
	struct virq_kvm *k = __atomic_load_n(&((struct kx *)opaque)->k, __ATOMIC_RELAXED);

	__atomic_fetch_add(&kx_sink_calls, 1, __ATOMIC_RELAXED);
	return k ? virq_kvm_signal_msi(k, m) : 1;
}

int setup(void **state)
{
	const struct virq_vm_config cfg = { .ops = { .msi = msi_sink }, .opaque = &X };

	kx_sink_calls = 0;
	assert_int_equal(kx_open(&X, &cfg), 0);
	*state = &X;
	return 0;
}

int teardown(void **state)
{
	(void)state;
	kx_close(&X);
	return 0;
}

bool lapic_irr_now(uint8_t vector)
{
	int r = kx_irr(&X, vector);

	assert_true(r >= 0);
	return r;
}

bool lapic_irr(uint8_t vector)
{
	return kx_irr_wait(&X, vector);
}

void clear_irr(void)
{
	assert_int_equal(kx_irr_clear(&X, 0, 255), 0);
}

struct virq_kvm_stats stats(void)
{
	struct virq_kvm_stats st;

	virq_kvm_get_stats(X.k, &st);
	return st;
}

int kvm_skip(void)
{
	fprintf(stderr, "KVM-SKIP: /dev/kvm unusable\n");
	return 77;
}
