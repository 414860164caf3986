// SPDX-License-Identifier: MIT
/*
 * Test guest: debug registers are this VM's own. Two or more VMs run it on
 * one physical CPU, each with its own dr=N on the command line: each loads
 * DR0-DR3 with values only it uses (DR0 a data breakpoint on its own word
 * of watch[]) and, for secs= seconds, checks between time slices that
 * they still hold its values, that writing another VM's word raises no #DB
 * here, and that writing its own raises exactly one, with DR6.B0 set. It
 * reports progress every report= seconds (1). bp=0 leaves the breakpoint
 * disabled and checks the values only: QEMU 7.2's TCG dies (SIGSEGV) on a
 * data breakpoint in a nested SVM guest.
 */
#include "../lib/guest.h"

const char test_name[] = "debugregs";

#define LEAF_HV_TIMING 0x40000010 /* EAX: TSC kHz (Keel's CPUID leaf) */
#define DR6_INIT 0xffff0ff0ULL
#define DR6_B0 BIT(0)
/* DR7: L0, LE, and breakpoint 0 on 4-byte data writes (SDM 3B 18.2.4) */
#define DR7_FIXED BIT(10)
#define DR7_L0 BIT(0)
#define DR7_LE BIT(8)
#define DR7_RW0_WRITE (1ULL << 16)
#define DR7_LEN0_4 (3ULL << 18)
#define MAX_VMS 4

static volatile u32 watch[MAX_VMS] __attribute__((aligned(16)));
static volatile u64 db_count, db_dr6;

#define DR(n)                                                            \
	static u64 read_dr##n(void)                                      \
	{                                                                \
		u64 v;                                                   \
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));        \
		return v;                                                \
	}                                                                \
	static void write_dr##n(u64 v)                                   \
	{                                                                \
		__asm__ volatile("mov %0, %%db" #n ::"r"(v) : "memory"); \
	}
DR(0)
DR(1)
DR(2)
DR(3)
DR(6)
DR(7)

static void on_db(struct gframe *f)
{
	(void)f; /* a data breakpoint is a trap: RIP is past the write already */
	db_count++;
	db_dr6 = read_dr6();
	write_dr6(DR6_INIT);
}

/* Values no other VM uses: DR1-DR3 canonical addresses that name the VM. */
static void own_values(u64 k, u64 dr[4])
{
	dr[0] = (u64)&watch[k];
	for (u64 i = 1; i < 4; i++)
		dr[i] = 0x00007ead00000000ULL | (k << 16) | (i << 8);
}

static void check_regs(u64 k, const u64 dr[4], u64 dr7)
{
	u64 now[4] = { read_dr0(), read_dr1(), read_dr2(), read_dr3() };

	for (int i = 0; i < 4; i++)
		if (now[i] != dr[i])
			fail_at(__LINE__,
				"vm %llu: DR%d holds %llx, not its own %llx (another VM's?)",
				(unsigned long long)k, i, (unsigned long long)now[i],
				(unsigned long long)dr[i]);
	CHECK_EQ(read_dr7() & ~0xf000ULL, dr7);
	CHECK_EQ(read_dr6(), DR6_INIT);
}

/* One write to another VM's word, one to its own: only the own one may stop here. */
static void check_breakpoint(u64 k, u32 round)
{
	u64 before = db_count;

	for (u64 other = 1; other < MAX_VMS; other++) {
		if (other == k)
			continue;
		watch[other] = round;
		if (db_count != before)
			fail_at(__LINE__, "vm %llu: a write to vm %llu's word raised #DB here",
				(unsigned long long)k, (unsigned long long)other);
	}
	watch[k] = round;
	if (db_count != before + 1)
		fail_at(__LINE__, "vm %llu: its own breakpoint raised %llu #DB, not 1",
			(unsigned long long)k, (unsigned long long)(db_count - before));
	CHECK(db_dr6 & DR6_B0);
}

void test_main(void)
{
	u64 k = guest_arg("dr", 1), secs = guest_arg("secs", 1), bp = guest_arg("bp", 1), dr[4];
	u64 every = guest_arg("report", 1);
	u64 dr7 = DR7_FIXED | (bp ? DR7_L0 | DR7_LE | DR7_RW0_WRITE | DR7_LEN0_4 : 0);
	u32 a, b, c, d, round = 0, gaps = 0;
	u64 khz, start, last, next_report, longest = 0;

	CHECK(k >= 1 && k < MAX_VMS);
	cpuid(LEAF_HV_TIMING, 0, &a, &b, &c, &d);
	khz = a ? a : 1000000;
	trap_set(1, on_db);
	own_values(k, dr);
	write_dr7(DR7_FIXED);
	write_dr0(dr[0]);
	write_dr1(dr[1]);
	write_dr2(dr[2]);
	write_dr3(dr[3]);
	write_dr6(DR6_INIT);
	write_dr7(dr7);
	/* nothing interrupts this guest, but Bochs leaves a VT-x guest that never sets IF unpreempted */
	__asm__ volatile("sti");
	start = last = rdtsc();
	next_report = start + every * khz * 1000;
	while (last - start < secs * khz * 1000) {
		u64 now;

		check_regs(k, dr, dr7);
		if (bp)
			check_breakpoint(k, round);
		round++;
		now = rdtsc();
		if (now - last > khz) /* over 1 ms away: the CPU ran something else meanwhile */
			gaps++;
		longest = MAX(longest, now - last);
		last = now;
		if (now > next_report) {
			gprintf("debugregs vm %llu: %u checks, %u time slices away, DRs its own\n",
				(unsigned long long)k, round, gaps);
			next_report += every * khz * 1000;
		}
	}
	write_dr7(DR7_FIXED);
	gprintf("debugregs vm %llu: %u checks, %u time slices away (TSC %llx-%llx, longest %llu us)\n",
		(unsigned long long)k, round, gaps, (unsigned long long)start,
		(unsigned long long)last, (unsigned long long)(longest * 1000 / khz));
	CHECK(gaps >= 3); /* else no other VM ran between the checks: nothing was shown */
}
