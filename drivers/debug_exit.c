// SPDX-License-Identifier: MIT
/* The debug-exit port named by keel.cfg's debug_exit_port; only test rigs set it. */
#include <arch/x86/cpu.h>
#include <keel/debug_exit.h>

static u16 exit_port;

void debug_exit_init(u16 port)
{
	exit_port = port;
}

void debug_exit(u8 status)
{
	if (exit_port)
		outb(exit_port, status);
}
