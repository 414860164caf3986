// SPDX-License-Identifier: MIT
/*
 * Test guest: every speculation control CPUID offers works (SDM 2A table
 * 3-8, APM3 appendix E): IA32_SPEC_CTRL takes the bits offered, PRED_CMD
 * and FLUSH_CMD their commands, ARCH_CAPABILITIES reads. Where SPEC_CTRL is
 * offered, the VM writes spec=N into it and, for secs= seconds, reads it
 * back between time slices: a second VM on the same CPU writes another
 * value, and neither may see the other's.
 */
#include "../lib/guest.h"

const char test_name[] = "specctrl";

#define LEAF_HV_TIMING 0x40000010
#define MSR_SPEC_CTRL 0x48
#define MSR_PRED_CMD 0x49
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_FLUSH_CMD 0x10b
#define MSR_INSN_LEN 2 /* RDMSR 0f 32, WRMSR 0f 30 */

static volatile u64 gp_count;

static void on_gp(struct gframe *f)
{
	gp_count++;
	f->rip += MSR_INSN_LEN;
}

/* 0 if the access went through, 1 if it raised #GP */
static int try_wrmsr(u32 msr, u64 val)
{
	u64 gp = gp_count;

	wrmsr(msr, val);
	return gp_count != gp;
}

static int try_rdmsr(u32 msr, u64 *val)
{
	u64 gp = gp_count;

	*val = rdmsr(msr);
	return gp_count != gp;
}

struct control {
	const char *name;
	u32 leaf, sub, reg, bit; /* reg: 0 EAX .. 3 EDX */
	u32 msr;
	u64 val; /* written; 0: read */
};

static const struct control controls[] = {
	{ "IBRS", 7, 0, 3, 26, MSR_SPEC_CTRL, BIT(0) },
	{ "IBPB", 7, 0, 3, 26, MSR_PRED_CMD, BIT(0) },
	{ "STIBP", 7, 0, 3, 27, MSR_SPEC_CTRL, BIT(1) },
	{ "L1D_FLUSH", 7, 0, 3, 28, MSR_FLUSH_CMD, BIT(0) },
	{ "ARCH_CAPABILITIES", 7, 0, 3, 29, MSR_ARCH_CAPABILITIES, 0 },
	{ "CORE_CAPABILITIES", 7, 0, 3, 30, 0xcf, 0 },
	{ "SSBD", 7, 0, 3, 31, MSR_SPEC_CTRL, BIT(2) },
	{ "PSFD", 7, 2, 3, 0, MSR_SPEC_CTRL, BIT(7) },
	{ "IPRED_CTRL", 7, 2, 3, 1, MSR_SPEC_CTRL, BIT(3) },
	{ "RRSBA_CTRL", 7, 2, 3, 2, MSR_SPEC_CTRL, BIT(5) },
	{ "DDPD_U", 7, 2, 3, 3, MSR_SPEC_CTRL, BIT(8) },
	{ "BHI_CTRL", 7, 2, 3, 4, MSR_SPEC_CTRL, BIT(10) },
	{ "IBPB", 0x80000008, 0, 1, 12, MSR_PRED_CMD, BIT(0) },
	{ "IBRS", 0x80000008, 0, 1, 14, MSR_SPEC_CTRL, BIT(0) },
	{ "STIBP", 0x80000008, 0, 1, 15, MSR_SPEC_CTRL, BIT(1) },
	{ "SSBD", 0x80000008, 0, 1, 24, MSR_SPEC_CTRL, BIT(2) },
	{ "PSFD", 0x80000008, 0, 1, 28, MSR_SPEC_CTRL, BIT(7) },
	{ "SBPB", 0x80000021, 0, 0, 27, MSR_PRED_CMD, BIT(7) },
};

static bool offered(const struct control *c)
{
	u32 r[4], max;

	cpuid(c->leaf & 0x80000000, 0, &max, &r[1], &r[2], &r[3]);
	if (max < c->leaf)
		return false;
	if (c->leaf == 7 && c->sub) {
		cpuid(7, 0, &max, &r[1], &r[2], &r[3]);
		if (max < c->sub)
			return false;
	}
	cpuid(c->leaf, c->sub, &r[0], &r[1], &r[2], &r[3]);
	return r[c->reg] & BIT(c->bit);
}

/* Each control offered: its MSR does what the bit says. Returns the SPEC_CTRL bits offered. */
static u64 check_offered(void)
{
	u64 spec_bits = 0, val = 0;

	for (u32 i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		const struct control *c = &controls[i];

		if (!offered(c))
			continue;
		gprintf("specctrl: %s offered\n", c->name);
		if (c->val ? try_wrmsr(c->msr, c->val) : try_rdmsr(c->msr, &val))
			fail_at(__LINE__, "%s is offered, but %s of MSR %#x raises #GP", c->name,
				c->val ? "WRMSR" : "RDMSR", c->msr);
		if (c->msr == MSR_SPEC_CTRL)
			spec_bits |= c->val;
		if (c->msr == MSR_ARCH_CAPABILITIES)
			gprintf("specctrl: ARCH_CAPABILITIES %#llx\n", (unsigned long long)val);
	}
	if (!spec_bits && !try_rdmsr(MSR_SPEC_CTRL, &val))
		fail_at(__LINE__, "no SPEC_CTRL bit offered, yet the MSR reads %#llx",
			(unsigned long long)val);
	return spec_bits;
}

void test_main(void)
{
	u64 want = guest_arg("spec", 0), secs = guest_arg("secs", 1), bits, got;
	u64 khz, start, last, gaps = 0, reads = 0, longest = 0;
	u32 a, b, c, d;

	trap_set(13, on_gp);
	bits = check_offered();
	if (!bits) {
		gprintf("specctrl: SPEC_CTRL is not offered here\n");
		return;
	}
	want &= bits;
	CHECK(!try_wrmsr(MSR_SPEC_CTRL, want));
	cpuid(LEAF_HV_TIMING, 0, &a, &b, &c, &d);
	khz = a ? a : 1000000;
	/* nothing interrupts this guest, but Bochs leaves a VT-x guest that never sets IF unpreempted */
	__asm__ volatile("sti");
	start = last = rdtsc();
	while (last - start < secs * khz * 1000) {
		u64 now;

		CHECK(!try_rdmsr(MSR_SPEC_CTRL, &got));
		if (got != want)
			fail_at(__LINE__, "SPEC_CTRL reads %#llx, not this VM's %#llx",
				(unsigned long long)got, (unsigned long long)want);
		reads++;
		now = rdtsc();
		gaps += now - last > khz; /* over 1 ms away: another vCPU ran */
		longest = MAX(longest, now - last);
		last = now;
	}
	gprintf("specctrl: SPEC_CTRL %#llx read back %llu times, %llu time slices away "
		"(TSC %llx-%llx, longest %llu us)\n",
		(unsigned long long)want, (unsigned long long)reads, (unsigned long long)gaps,
		(unsigned long long)start, (unsigned long long)last,
		(unsigned long long)(longest * 1000 / khz));
	CHECK(gaps >= 3);
	CHECK(!try_wrmsr(MSR_SPEC_CTRL, 0));
}
