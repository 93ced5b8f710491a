/* SPDX-License-Identifier: MIT */
/*
 * Boot stub of the test kernels.  The loader enters _start in 32-bit
 * protected mode as Multiboot specifies (EAX magic, EBX information);
 * the stub loads its GDT, turns on PAE paging with static page tables
 * that identity-map the first 4 GiB in 2 MiB pages (APIC pages included),
 * enters long mode and calls boot_main(magic, info) on CPU 0's stack.
 * It also holds the 256 interrupt stubs, 16 bytes apart, and the APs'
 * 32- and 64-bit entry paths (the real-mode part is trampoline.S).
 */
#include "layout.h"

#define MB_MAGIC 0x1badb002
#ifdef MB_AOUT_KLUDGE
/* flat binary build: the header's address fields place the image */
#define MB_FLAGS 0x10003
#else
#define MB_FLAGS 0x3 /* page-aligned modules, memory information */
#endif

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
#ifdef MB_AOUT_KLUDGE
	/* header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr */
	.long mb_header, _load_start, _edata, _end, _start
#endif

/* 32-bit: load GDT, enable PAE + LME + paging, far jump to \target. */
.macro ENTER_LONG target
	lgdt gdt_ptr			/* DS is flat here (trampoline.S too) */
	mov $GDT_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx		/* EFER */
	rdmsr
	or $0x100, %eax			/* LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* PG | PE */
	mov %eax, %cr0
	ljmp $GDT_CODE64, $\target
.endm

.macro LOAD_DATA_SEGMENTS
	mov $GDT_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
.endm

	.section .text.boot, "ax"
	.code32
	.global _start
_start:
	cli
	mov %eax, %edi			/* magic */
	mov %ebx, %esi			/* information structure */
	ENTER_LONG bsp_long

	.global ap_entry32
ap_entry32:				/* from trampoline.S, flat segments */
	ENTER_LONG ap_long

	.code64
bsp_long:
	LOAD_DATA_SEGMENTS
	mov %edi, %edi			/* upper halves are undefined */
	mov %esi, %esi
	mov $(stacks + STACK_SIZE), %rsp
	call boot_main
1:	cli
	hlt
	jmp 1b

ap_long:
	LOAD_DATA_SEGMENTS
	mov $1, %eax
	lock xadd %eax, ap_next(%rip)	/* CPU index: 1, 2, ... */
	cmp $MAX_CPUS, %eax
	jae 1b
	mov %eax, %edi
	lea 1(%rax), %rax
	shl $STACK_SHIFT, %rax
	add $stacks, %rax
	mov %rax, %rsp
	call ap_boot_main
	jmp 1b

/* Interrupt stubs: vector n at isr_stubs + 16 n. */
	.align 16
	.global isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	push $0				/* no error code: a dummy one */
	.endif
	.if vec < 128
	.byte 0x6a, vec			/* push $vec (imm8) */
	.else
	.byte 0x68			/* push $vec (imm32) */
	.long vec
	.endif
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	mov %rsp, %rdi
	cld
	call isr_dispatch
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	add $16, %rsp			/* vector, error code */
	iretq

	.data
	.align 16
	.global gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
	.quad 0x00cf9a000000ffff	/* 0x18: flat 32-bit code */
gdt_end:
	.align 8
	.word 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.global ap_next
	.align 4
ap_next:
	.long 1

/* Identity map of 0-4 GiB: PML4 -> one PDPT -> four page directories. */
	.section .data.pagetables, "aw"
	.align 4096
	.global pml4
pml4:
	.quad pdpt + 0x3
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x3, pd + 0x1003, pd + 0x2003, pd + 0x3003
	.fill 508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.quad (i << 21) | 0x83		/* present, writable, 2 MiB */
	.set i, i + 1
	.endr

	.bss
	.align 4096
	.global stacks
stacks:
	.space STACK_SIZE * MAX_CPUS
