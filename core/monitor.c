// SPDX-License-Identifier: MIT
/*
 * The hypervisor monitor. All serial input passes through here first: two
 * Ctrl-] in a row open the "keel>" prompt, anything else goes to the
 * console input sink (the service VM's UART). It runs on the boot CPU from
 * its main loop, which the timer tick wakes even when a VM spins or hangs.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <lib/format.h>
#include <keel/log.h>
#include <keel/monitor.h>
#include <lib/crc32.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>
#include <keel/platform.h>
#include <lib/string.h>
#include <keel/uart.h>

#define LINE_MAX 128
#define MAX_CMDS 32
#define PROMPT "keel> "

static struct {
	bool active;
	bool escape_seen;
	char line[LINE_MAX];
	u32 len;
	console_input_fn sink;
	const struct monitor_cmd *cmds[MAX_CMDS];
	u32 nr_cmds;
} mon;

void monitor_set_console_input(console_input_fn fn)
{
	mon.sink = fn;
}

void monitor_print(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = format_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_write(buf, MIN((size_t)n, sizeof(buf) - 1));
}

void monitor_register(const struct monitor_cmd *cmds, u32 n)
{
	for (u32 i = 0; i < n && mon.nr_cmds < MAX_CMDS; i++)
		mon.cmds[mon.nr_cmds++] = &cmds[i];
}

static void cmd_help(const char *args)
{
	(void)args;
	for (u32 i = 0; i < mon.nr_cmds; i++)
		monitor_print("  %-10s %s\n", mon.cmds[i]->name, mon.cmds[i]->help);
}

static void cmd_cpus(const char *args)
{
	(void)args;
	for (u32 i = 0; i < nr_cpus; i++)
		monitor_print("  cpu%u apic %u %s, %llu timer ticks, %llu NMIs\n", i,
			      cpus[i]->apic_id, cpus[i]->online ? "online" : "offline",
			      (unsigned long long)cpus[i]->ticks,
			      (unsigned long long)cpus[i]->nmis);
}

static void cmd_mem(const char *args)
{
	(void)args;
	extern const u8 _text[], _etext[]; /* linker.ld */

	monitor_print("  pool: %llu KiB free of %llu KiB\n",
		      (unsigned long long)(page_alloc_free_pages() * 4),
		      (unsigned long long)(page_alloc_total_pages() * 4));
	/* what nothing but Keel may change: a check that it did not */
	monitor_print("  keel text: %llx-%llx, crc32 %08x\n",
		      (unsigned long long)virt_to_phys(_text),
		      (unsigned long long)virt_to_phys(_etext),
		      crc32(0, _text, (size_t)(_etext - _text)));
}

static void __attribute__((noinline)) monitor_crash(void)
{
	/* Beyond the identity map: a page fault inside the hypervisor, on purpose. */
	volatile u64 *p = (volatile u64 *)0x7fff00000000ULL;

	monitor_print("  faulting on purpose to test the crash report\n");
	monitor_print("  read %llx\n", (unsigned long long)*p); /* never printed */
}

static void cmd_crash(const char *args)
{
	(void)args;
	monitor_crash();
}

static void cmd_reboot(const char *args)
{
	(void)args;
	monitor_print("  rebooting\n");
	platform_reset();
}

static void cmd_poweroff(const char *args)
{
	(void)args;
	monitor_print("  powering off\n");
	platform_poweroff();
}

static void cmd_exit(const char *args)
{
	(void)args;
	mon.active = false;
	monitor_print("  back to the service VM console\n");
}

static const struct monitor_cmd core_cmds[] = {
	{ "help", "list commands", cmd_help },
	{ "cpus", "physical CPUs and their state", cmd_cpus },
	{ "mem", "free and total memory in the pool", cmd_mem },
	{ "reboot", "reset the machine", cmd_reboot },
	{ "poweroff", "switch the machine off", cmd_poweroff },
	{ "crash", "fault inside the hypervisor (tests the crash report)", cmd_crash },
	{ "exit", "leave the monitor (also: resume)", cmd_exit },
	{ "resume", "leave the monitor, back to the service VM console", cmd_exit },
};

static void run_line(void)
{
	char *args;

	mon.line[mon.len] = 0;
	args = strchr(mon.line, ' ');
	if (args)
		*args++ = 0;
	if (mon.line[0]) {
		u32 i;

		for (i = 0; i < mon.nr_cmds; i++)
			if (!strcmp(mon.line, mon.cmds[i]->name))
				break;
		if (i < mon.nr_cmds)
			mon.cmds[i]->run(args ? args : "");
		else
			monitor_print("  unknown command '%s'; try help\n", mon.line);
	}
	mon.len = 0;
	if (mon.active)
		monitor_print(PROMPT);
}

static void monitor_key(u8 c)
{
	if (c == '\r' || c == '\n') {
		monitor_print("\n");
		run_line();
	} else if ((c == 0x7f || c == '\b') && mon.len) {
		mon.len--;
		monitor_print("\b \b");
	} else if (c >= 0x20 && c < 0x7f && mon.len + 1 < LINE_MAX) {
		mon.line[mon.len++] = (char)c;
		monitor_print("%c", c);
	}
}

void monitor_init(void)
{
	monitor_register(core_cmds, ARRAY_SIZE(core_cmds));
}

static void open_monitor(void)
{
	mon.active = true;
	mon.len = 0;
	monitor_print(
		"\nKeel monitor; 'help' lists commands, 'exit' returns to the console\n" PROMPT);
}

/* Passes a byte to the console; false if it has no room (the byte stays queued). */
static bool to_console(u8 c)
{
	if (!mon.sink)
		return true;   /* nobody listens: drop it */
	if (mon.escape_seen) { /* a single Ctrl-] belongs to the console */
		if (!mon.sink(MONITOR_ESCAPE))
			return false;
		mon.escape_seen = false;
	}
	return mon.sink(c);
}

void monitor_poll(void)
{
	int c;

	while ((c = uart_peekc()) >= 0) {
		if (mon.active) {
			monitor_key((u8)c);
		} else if (c == MONITOR_ESCAPE && mon.escape_seen) {
			mon.escape_seen = false;
			open_monitor();
		} else if (c == MONITOR_ESCAPE) {
			mon.escape_seen = true;
		} else if (!to_console((u8)c)) {
			return; /* the console is full: try again after the guest read some */
		}
		uart_getc();
	}
}
