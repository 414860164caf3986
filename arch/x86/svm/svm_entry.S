/* SPDX-License-Identifier: MIT */
/*
 * svm_vmrun(vmcb_pa, gprs, host_vmcb_pa): one world switch (APM2 15.5).
 * VMRUN itself switches RAX, RSP, RIP, RFLAGS, CRs and segments; VMLOAD and
 * VMSAVE move FS/GS/TR/LDTR bases and the syscall MSRs, so the guest's are
 * loaded before VMRUN and the host's (GS base = struct percpu, TR = its
 * TSS) restored after. The other GPRs are Keel's job: gprs[] holds them in
 * encoding order (rax and rsp slots unused here: they live in the VMCB).
 * Called with GIF = 0. After the exit the return stack buffer is refilled
 * (RSB_FILL) before the first RET.
 */
#include <arch/x86/rsb.h>
#include <arch/x86/vm_entry.h>

	.text
	.globl svm_vmrun
svm_vmrun:
	HOST_REGS_SAVE
	push	%rdx			/* host VMCB */
	push	%rsi			/* gprs */
	mov	%rdi, %rax
	GUEST_GPRS_LOAD %rsi
	mov	G(RDI)(%rsi), %rdi
	mov	G(RSI)(%rsi), %rsi
	vmload	%rax
	vmrun	%rax
	vmsave	%rax
	push	%rsi			/* the guest's rsi */
	mov	8(%rsp), %rsi		/* gprs */
	GUEST_GPRS_STORE %rsi
	mov	%rdi, G(RDI)(%rsi)
	pop	%rax
	mov	%rax, G(RSI)(%rsi)
	pop	%rsi
	RSB_FILL
	pop	%rax			/* host VMCB */
	vmload	%rax
	HOST_REGS_RESTORE
	ret
	.section .note.GNU-stack,"",@progbits
