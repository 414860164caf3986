/* SPDX-License-Identifier: MIT */
/* Test rigs: report a final status through an I/O port (QEMU isa-debug-exit exits with 2*v+1). */
#ifndef KEEL_DEBUG_EXIT_H
#define KEEL_DEBUG_EXIT_H

#include <lib/types.h>

#define KEEL_EXIT_SUCCESS 0x10 /* QEMU exit status 33 */
#define KEEL_EXIT_FAILURE 0x11 /* 35 */
#define KEEL_EXIT_PANIC 0x12   /* 37 */

void debug_exit_init(u16 port);
/* Writes status to the port if one is configured; returns if nothing stopped the machine. */
void debug_exit(u8 status);

#endif
