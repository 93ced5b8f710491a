/* SPDX-License-Identifier: MIT */
/* Constants shared by the test kernels' assembly and C. */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define MAX_CPUS 64
#define STACK_SHIFT 13
#define STACK_SIZE (1 << STACK_SHIFT)
#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_CODE32 0x18
#define TRAMPOLINE_ADDR 0x8000 /* SIPI vector 0x08 */

#endif
