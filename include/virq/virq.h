/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_VIRQ_H
#define VIRQ_VIRQ_H

/* Umbrella header: the whole public API of libvirq. */
#include <virq/cpu.h>
#include <virq/device.h>
#include <virq/error.h>
#include <virq/inject.h>
#include <virq/irqfd.h>
#include <virq/kvm.h>
#include <virq/msix.h>
#include <virq/router.h>
#include <virq/vm.h>
#include <virq/x86.h>

#define VIRQ_VERSION_MAJOR 0
#define VIRQ_VERSION_MINOR 1
#define VIRQ_VERSION_PATCH 0

#endif
