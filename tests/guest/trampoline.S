/* SPDX-License-Identifier: MIT */
/*
 * AP start-up code, copied to TRAMPOLINE_ADDR by start_aps().  A SIPI
 * starts the AP here in real mode at CS = TRAMPOLINE_ADDR >> 4, IP = 0;
 * it loads the kernel's GDT, sets CR0.PE and jumps to ap_entry32
 * (boot.S), which continues into long mode like the boot CPU.
 */
#include "layout.h"

	.section .rodata, "a"
	.code16
	.global tramp_start, tramp_size
tramp_start:
	cli
	mov %cs, %ax
	mov %ax, %ds
	lgdtl (tramp_gdtr - tramp_start)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	mov $GDT_DATA, %ax		/* flat data before the 32-bit code */
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	ljmpl $GDT_CODE32, $ap_entry32
	.align 4
tramp_gdtr:
	.word 31
	.long gdt
tramp_end:

	.align 4
tramp_size:
	.long tramp_end - tramp_start
