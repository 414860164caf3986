/* SPDX-License-Identifier: MIT */
/* RSB_FILL, for the VM-exit paths in assembler: the return stack buffer holds no guest entries. */
#ifndef ARCH_X86_RSB_H
#define ARCH_X86_RSB_H

#ifdef __ASSEMBLER__
/*
 * A guest can leave return predictions in the return stack buffer (RSB)
 * that a RET in Keel would speculatively follow into code the guest chose
 * (and an empty RSB falls back to the branch target buffer on some CPUs).
 * After each VM exit, before Keel's first RET, 32 CALLs (the deepest RSB
 * there is) push return addresses that all lead to a speculation trap
 * (INT3); the stack pointer is put back once, after the last. Unrolled: 34
 * instructions on every exit where a loop of pairs took 82, and no
 * mispredictable loop branch to fence. See Intel's "Retpoline: A Branch
 * Target Injection Mitigation" (RSB stuffing) and AMD's "Software
 * Techniques for Managing Speculation on AMD Processors".
 */
/* an assembler macro, not C: kept as written */
/* clang-format off */
.macro RSB_FILL
	.rept	32
	call	1f
	int3
1:
	.endr
	add	$(32 * 8), %rsp
	lfence
.endm
/* clang-format on */
#endif

#endif
