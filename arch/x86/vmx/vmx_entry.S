/* SPDX-License-Identifier: MIT */
/*
 * vmx_enter(gprs, launched): one VM entry and its exit (SDM 3C 27, 28).
 * The CPU switches RIP, RSP, RFLAGS, control registers, segments and the
 * MSRs the controls name; the other GPRs are Keel's job: gprs[] holds them
 * in encoding order (the rsp slot is unused here: RSP lives in the VMCS).
 * HOST_RSP is written on each entry, pointing at the saved gprs pointer;
 * HOST_RIP (written once, vmx_vmcs.c) is vmx_exit_entry. An exit arrives
 * with RFLAGS = 2: interrupts off, as the caller had them.
 * Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME (or the VMWRITE of
 * HOST_RSP) failed: then CF/ZF said so and the VM-instruction error field
 * tells why (SDM 3C 31.2, 31.4). After an exit the return stack buffer is
 * refilled (RSB_FILL) before the first RET.
 */
#include <arch/x86/rsb.h>
#include <arch/x86/vm_entry.h>
#include <arch/x86/vmx/vmcs.h>

	.text
	.globl vmx_enter
vmx_enter:
	HOST_REGS_SAVE
	push	%rdi			/* gprs: found again through HOST_RSP */
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	2f
	test	%esi, %esi		/* ZF: launch; the MOVs below keep the flags */
	mov	G(RAX)(%rdi), %rax
	GUEST_GPRS_LOAD %rdi
	mov	G(RSI)(%rdi), %rsi
	mov	G(RDI)(%rdi), %rdi
	jz	1f
	vmresume
	jmp	2f
1:	vmlaunch
2:	mov	$1, %eax		/* the entry failed: nothing of the guest ran */
	jmp	3f

	.globl vmx_exit_entry
vmx_exit_entry:
	push	%rdi			/* the guest's rdi */
	mov	8(%rsp), %rdi		/* gprs */
	mov	%rax, G(RAX)(%rdi)
	GUEST_GPRS_STORE %rdi
	mov	%rsi, G(RSI)(%rdi)
	pop	%rax
	mov	%rax, G(RDI)(%rdi)
	RSB_FILL
	xor	%eax, %eax
3:	pop	%rdi			/* the gprs pointer */
	HOST_REGS_RESTORE
	ret
	.section .note.GNU-stack,"",@progbits
