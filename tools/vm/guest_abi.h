/* SPDX-License-Identifier: MIT */
/*
 * What virq-vm's own devices look like to a guest (docs/vm.md): the one
 * definition both sides use, included by virq-vm and by the freestanding
 * test kernels (tests/guest, built with -I tools/vm).  Plain constants
 * only: nothing here may need a host header.
 */
#ifndef VIRQ_VM_GUEST_ABI_H
#define VIRQ_VM_GUEST_ABI_H

/* ---- interrupt traffic (traffic.c; tests/guest/bench.c, demo.c) ---- */
/* outl: stream | APIC id << 8 | vector << 16 */
#define TRAFFIC_PORT_ACK 0x2400
/* outl: the guest is ready for traffic; inl: TRAFFIC_CFG_* flags */
#define TRAFFIC_PORT_CTRL 0x2404
#define TRAFFIC_CFG_SPLIT 1u /* virq's IOAPIC/PIC (else KVM's irqchip) */

/* The demo's streams: numbers, GSIs and vectors (demo.c, demo_sim.c). */
enum { DEMO_EDGE, DEMO_LEVEL, DEMO_PIC, DEMO_MSIX, DEMO_STREAMS };
#define DEMO_EDGE_GSI 10u
#define DEMO_LEVEL_GSI 11u
#define DEMO_PIC_GSI 3u
#define DEMO_V_EDGE 0x50
#define DEMO_V_LEVEL 0x51
#define DEMO_V_PIC 0x33 /* IRQ 3 with the master's base at 0x30 */
#define DEMO_V_MSIX 0x60
#define DEMO_ROTATE 32u /* interrupts of a stream before it moves CPU */

/* The bench paths (--traffic): IOAPIC pin, virq MSI route, vector. */
#define BENCH_GSI 10u
#define BENCH_MSI_GSI 40u
#define BENCH_VECTOR 0x50u

/* ---- the PCI MSI-X test device (pcitest.c; tests/guest/msix.c) ---- */
#define PCITEST_VENDOR 0x1b36 /* QEMU's (Red Hat) test-device vendor id */
#define PCITEST_DEVICE 0x7671 /* "vq": virq's MSI-X test function */
#define PCITEST_BAR0_SIZE 0x10000u
#define PCITEST_TABLE 0x1000u /* MSI-X table in BAR0 */
#define PCITEST_PBA 0x9000u   /* PBA in BAR0 */
/* BAR0 registers, 32-bit */
#define PCITEST_REG_ID 0x00	     /* r: PCITEST_ID */
#define PCITEST_REG_VECTORS 0x04     /* r: number of vectors */
#define PCITEST_REG_FIRE 0x08	     /* w: notify; r: 1 sent, 0 pending, ~0 refused */
#define PCITEST_REG_HOST_VECTOR 0x0c /* rw: the vector the host thread fires */
#define PCITEST_REG_HOST_COUNT 0x10  /* rw: signals per run */
#define PCITEST_REG_HOST_CTRL 0x14   /* PCITEST_HOST_* */
#define PCITEST_REG_HOST_DONE 0x18   /* r: signals of this run virq fired */
#define PCITEST_REG_HOST_ACK 0x1c    /* w: one interrupt taken; r: count */
#define PCITEST_ID 0x71726976u	     /* "virq" */
#define PCITEST_HOST_START 1u	     /* w: start a run; r: busy */
#define PCITEST_HOST_PACED 2u	     /* wait for HOST_ACK after each signal */
#define PCITEST_HOST_FAILED 4u	     /* r: the last run gave up */

#endif
