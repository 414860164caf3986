// SPDX-License-Identifier: MIT
/*
 * Host stand-in for the interrupt flag: spin_lock_irqsave() runs CLI and its
 * unlock STI, which fault in user mode. A SIGSEGV handler steps over exactly
 * those two one-byte instructions, so the real locking code runs; any other
 * fault goes back to the handler that was there before (the sanitizer's).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#define OP_CLI 0xfa
#define OP_STI 0xfb

static struct sigaction previous;

static void step_over_cli_sti(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];

	(void)sig, (void)si;
	if (*ip == OP_CLI || *ip == OP_STI) {
		uc->uc_mcontext.gregs[REG_RIP]++;
		return;
	}
	sigaction(SIGSEGV, &previous, NULL); /* the instruction faults again, there */
}

__attribute__((constructor)) static void fake_irq_flags_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = step_over_cli_sti;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &previous);
}
