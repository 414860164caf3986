/* SPDX-License-Identifier: MIT */
/* The hypervisor monitor on the physical serial port, opened by pressing Ctrl-] twice. */
#ifndef KEEL_MONITOR_H
#define KEEL_MONITOR_H

#include <lib/types.h>

#define MONITOR_ESCAPE 0x1d /* Ctrl-] */

/*
 * Bytes typed on the serial port that are not for the monitor go here (the
 * service VM console). false: no room now; the byte waits in the UART ring.
 */
typedef bool (*console_input_fn)(u8 byte);

void monitor_init(void);
void monitor_set_console_input(console_input_fn fn);
/* Drains the UART; runs monitor commands. Call from the boot CPU's loop, not from an IRQ. */
void monitor_poll(void);

/* A monitor command: name, one-line help, and its handler taking the rest of the line. */
struct monitor_cmd {
	const char *name;
	const char *help;
	void (*run)(const char *args);
};

/* Adds commands from other parts of the hypervisor (VM listing, ...). */
void monitor_register(const struct monitor_cmd *cmds, u32 n);
void monitor_print(const char *fmt, ...) __printf(1, 2);

#endif
