/* SPDX-License-Identifier: MIT */
/* What an exit handler reaches around it, for host tests: registers, the instruction, its outcome. */
#ifndef KEEL_FAKE_EXIT_H
#define KEEL_FAKE_EXIT_H

#include <arch/x86/cpu.h>
#include <keel/vcpu_run.h>

extern u64 fake_regs[VCPU_REG_COUNT]; /* the backend's registers (vcpu_ops get_reg, set_reg) */
extern struct vcpu_segment fake_segs[SEG_IDTR + 1]; /* and its segments (get_seg) */
extern u32 fake_insn_len;      /* what guest_insn_len() finds at RIP (0: not the opcode) */
extern u8 fake_insn_opcode[2]; /* the opcode the handler looked for */
extern u32 fake_gps;	       /* #GP injected */
extern u32 fake_kills;	       /* vcpu_kill() */
extern u64 fake_skipped;       /* bytes vcpu_skip() moved RIP by */

/* The host CPU's CPUID as vmm/ sees it (host_cpuid); NULL: this machine's own. */
extern struct cpuid_regs (*fake_cpuid)(u32 leaf, u32 subleaf);

/* Clears the outcome; RIP's instruction is 2 bytes long; this machine's CPUID, every instruction. */
void fake_exit_reset(void);

#endif
