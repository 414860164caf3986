// SPDX-License-Identifier: MIT
/* Host tests of the virtual local APIC: timer modes, IPIs, IRR/ISR/EOI priority, MMIO and MSRs. */
#include <keel/vcpu_run.h>
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include "fake_clock.h"
#include "fake_vm.h"
#include "test.h"

/* xAPIC register offsets and bits (SDM 3A table 11-1, figures 11-8 to 11-12) */
#define ID 0x20
#define VERSION 0x30
#define TPR 0x80
#define PPR 0xa0
#define EOI 0xb0
#define LDR 0xd0
#define DFR 0xe0
#define SVR 0xf0
#define ISR 0x100
#define TMR 0x180
#define IRR 0x200
#define ESR 0x280
#define ICR_LO 0x300
#define ICR_HI 0x310
#define LVT_TIMER 0x320
#define LVT_THERMAL 0x330
#define LVT_PERF 0x340
#define LVT_LINT0 0x350
#define LVT_LINT1 0x360
#define LVT_ERROR 0x370
#define TIMER_ICR 0x380
#define TIMER_CCR 0x390
#define TIMER_DCR 0x3e0
#define SELF_IPI 0x3f0
#define SVR_ON 0x1ff
#define MASKED BIT(16)
#define ONESHOT (0u << 17)
#define PERIODIC (1u << 17)
#define DEADLINE (2u << 17)
#define DM_FIXED (0u << 8)
#define DM_LOWEST (1u << 8)
#define DM_NMI (4u << 8)
#define DM_INIT (5u << 8)
#define DM_SIPI (6u << 8)
#define DEST_LOGICAL BIT(11)
#define LEVEL_ASSERT BIT(14)
#define SH_SELF (1u << 18)
#define SH_ALL (2u << 18)
#define SH_OTHERS (3u << 18)
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_X2(off) (0x800 + (off) / 16)
#define BASE_BSP BIT(8)
#define BASE_EXTD BIT(10)
#define BASE_EN BIT(11)
#define APIC_PAGE 0xfee00000ULL /* SDM 3A 11.4.1: the default base */

extern long fake_pages_live;

/* --- what the vLAPIC reaches outside itself --- */
static struct vcpu *started;
static u8 started_vector;
static u8 ioapic_eois[8];
static u32 nr_ioapic_eois;

void vcpu_start_ap(struct vcpu *v, u8 vector)
{
	started = v;
	started_vector = vector;
}

void vioapic_eoi(struct vioapic *io, u8 vector)
{
	CHECK(io == fake_vm.ioapic);
	if (nr_ioapic_eois < ARRAY_SIZE(ioapic_eois))
		ioapic_eois[nr_ioapic_eois] = vector;
	nr_ioapic_eois++;
}

/* --- helpers --- */
#define T0 1000000ULL /* the fake TSC when a test starts */

static struct vcpu *vc(u32 i)
{
	return &fake_vcpus[i];
}

static u32 rd(u32 cpu, u32 off)
{
	return (u32)fake_mmio_read(vc(cpu), APIC_PAGE + off, 4);
}

static void wr(u32 cpu, u32 off, u32 val)
{
	fake_mmio_write(vc(cpu), APIC_PAGE + off, 4, val);
}

static bool bit_in(u32 cpu, u32 base, u8 vec)
{
	return rd(cpu, base + (vec / 32u) * 0x10) & (1u << (vec % 32));
}

static u64 msr_rd(u32 cpu, u32 msr)
{
	u64 val = 0xdead;

	CHECK_EQ(vlapic_msr_read(vc(cpu), msr, &val), 0);
	return val;
}

static void msr_wr(u32 cpu, u32 msr, u64 val)
{
	CHECK_EQ(vlapic_msr_write(vc(cpu), msr, val), 0);
}

/* nr vCPUs with their LAPICs at reset, software-enabled unless told otherwise. */
static void setup_sw(u32 nr, bool enable)
{
	fake_vm_reset(nr);
	for (u32 i = 0; i < nr; i++) {
		vc(i)->lapic = vlapic_create(vc(i));
		CHECK(vc(i)->lapic != NULL);
	}
	CHECK_EQ(vlapic_register_mmio(&fake_vm), 0);
	for (u32 i = 0; enable && i < nr; i++)
		wr(i, SVR, SVR_ON);
	fake_tsc = T0;
	fake_tsc_hz = 2000000000ULL; /* 2 TSC ticks per 1 GHz bus tick */
	started = NULL;
	nr_ioapic_eois = 0;
	memset(fake_kicks, 0, sizeof(fake_kicks));
}

static void setup(u32 nr)
{
	setup_sw(nr, true);
}

static void teardown(void)
{
	for (u32 i = 0; i < fake_vm.nr_vcpus; i++)
		vlapic_destroy(vc(i)->lapic);
	CHECK_EQ(fake_pages_live, 0);
}

static void x2apic_on(u32 cpu)
{
	msr_wr(cpu, MSR_APIC_BASE, APIC_PAGE | BASE_EN | BASE_EXTD);
}

/* Fires the timer if due; returns whether its vector became pending. */
static bool tick(u32 cpu, u64 tsc, u8 vec)
{
	bool before = bit_in(cpu, IRR, vec);

	fake_tsc = tsc;
	vlapic_timer_check(vc(cpu)->lapic);
	return !before && bit_in(cpu, IRR, vec);
}

/* Takes the highest pending vector as the run loop injects it. */
static int take(u32 cpu)
{
	int vec = vlapic_pending_vector(vc(cpu)->lapic);

	if (vec >= 0)
		vlapic_accept(vc(cpu)->lapic, vec);
	return vec;
}

/* --- reset state --- */

TEST(reset_state_follows_the_sdm)
{
	setup_sw(2, false);
	CHECK_EQ(rd(1, ID), 1u << 24);
	CHECK_EQ(rd(0, VERSION) & 0xff, 0x14);
	CHECK_EQ((rd(0, VERSION) >> 16) & 0xff, 5); /* max LVT entry: 6 entries */
	CHECK_EQ(rd(0, SVR), 0xff);		    /* software-disabled, spurious 0xff */
	CHECK_EQ(rd(0, DFR), 0xffffffff);
	for (u32 off = LVT_TIMER; off <= LVT_ERROR; off += 0x10)
		CHECK_EQ(rd(0, off), MASKED);
	CHECK_EQ(rd(0, TPR), 0);
	CHECK_EQ(msr_rd(0, MSR_APIC_BASE), APIC_PAGE | BASE_EN | BASE_BSP);
	CHECK_EQ(msr_rd(1, MSR_APIC_BASE), APIC_PAGE | BASE_EN); /* an AP */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	teardown();
}

/* A platform reset (a firmware VM's 0xCF9) leaves the state above, whatever the guest did. */
TEST(vlapic_reset_returns_to_the_power_on_state)
{
	setup(2);
	wr(0, TPR, 0x20);
	wr(0, LVT_TIMER, PERIODIC | 0x30);
	wr(0, TIMER_DCR, 0xb);
	wr(0, TIMER_ICR, 1000);
	wr(0, LDR, 0x01000000);
	vlapic_set_irq(vc(0), 0x40);
	CHECK(take(0) == 0x40);
	vlapic_set_irq(vc(0), 0x50);
	msr_wr(0, MSR_APIC_BASE, APIC_PAGE | BASE_EN | BASE_BSP | BASE_EXTD);
	CHECK(vlapic_timer_deadline(vc(0)->lapic) != 0);
	vlapic_reset(vc(0)->lapic);
	CHECK_EQ(msr_rd(0, MSR_APIC_BASE), APIC_PAGE | BASE_EN | BASE_BSP); /* xAPIC again */
	CHECK_EQ(rd(0, ID), 0);
	CHECK_EQ(rd(0, SVR), 0xff);
	CHECK_EQ(rd(0, DFR), 0xffffffff);
	CHECK_EQ(rd(0, TPR) | rd(0, LDR) | rd(0, TIMER_ICR) | rd(0, TIMER_DCR), 0);
	for (u32 off = LVT_TIMER; off <= LVT_ERROR; off += 0x10)
		CHECK_EQ(rd(0, off), MASKED);
	CHECK(!bit_in(0, ISR, 0x40) && !bit_in(0, IRR, 0x50));
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	CHECK_EQ(rd(1, ID), 1u << 24); /* the other vCPU's is its own */
	CHECK_EQ(rd(1, SVR), SVR_ON);
	teardown();
}

/* --- timer (SDM 3A 11.5.4) --- */

TEST(oneshot_fires_once_after_count_times_divisor)
{
	setup(1);
	wr(0, TIMER_DCR, 0x0); /* divide by 2 */
	wr(0, LVT_TIMER, ONESHOT | 0x40);
	wr(0, TIMER_ICR, 1000); /* 1000 * 2 bus ns = 4000 TSC ticks */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 4000);
	CHECK_EQ(rd(0, TIMER_CCR), 1000);
	fake_tsc = T0 + 2000;
	CHECK_EQ(rd(0, TIMER_CCR), 500);
	fake_tsc = T0 + 3996;
	CHECK_EQ(rd(0, TIMER_CCR), 1);
	CHECK(!tick(0, T0 + 3999, 0x40));
	CHECK(tick(0, T0 + 4000, 0x40));
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), 0x40);
	CHECK_EQ(rd(0, TIMER_CCR), 0);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0); /* disarmed */
	CHECK_EQ(take(0), 0x40);
	wr(0, EOI, 0);
	CHECK(!tick(0, T0 + 100000, 0x40)); /* once */
	CHECK_EQ(rd(0, TIMER_ICR), 1000);
	teardown();
}

TEST(current_count_of_a_long_count_on_a_fast_tsc)
{
	/* the largest count divided by 128 is 2^39 bus ticks: over 2^64 when multiplied again */
	setup(1);
	fake_tsc_hz = 3000000000ULL;
	wr(0, TIMER_DCR, 0xb); /* divide by 1 */
	wr(0, LVT_TIMER, ONESHOT | 0x40);
	wr(0, TIMER_ICR, 0xffffffff);
	CHECK_EQ(rd(0, TIMER_CCR), 0xffffffff);
	fake_tsc = T0 + 3ULL * 0x80000000ULL; /* 2^31 bus ticks later */
	CHECK_EQ(rd(0, TIMER_CCR), 0x7fffffff);
	fake_tsc = T0;
	wr(0, TIMER_DCR, 0xa); /* divide by 128 */
	wr(0, TIMER_ICR, 0xffffffff);
	fake_tsc = T0 + 3ULL * 128 * 0xf0000000ULL;
	CHECK_EQ(rd(0, TIMER_CCR), 0x0fffffff);
	teardown();
}

TEST(timer_divide_configuration)
{
	/* SDM 3A figure 11-10: bits 3, 1:0; 111b divides by 1 */
	static const struct {
		u32 dcr, div;
	} cases[] = { { 0x0, 2 },  { 0x1, 4 },	{ 0x2, 8 },   { 0x3, 16 },
		      { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 } };

	setup(1);
	wr(0, LVT_TIMER, ONESHOT | 0x40);
	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		wr(0, TIMER_DCR, cases[i].dcr | 0x4); /* bit 2 is reserved */
		CHECK_EQ(rd(0, TIMER_DCR), cases[i].dcr);
		wr(0, TIMER_ICR, 100);
		CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic) - T0, 100ULL * cases[i].div * 2);
	}
	teardown();
}

TEST(writing_the_initial_count_restarts_and_zero_stops)
{
	setup(1);
	wr(0, TIMER_DCR, 0xb); /* divide by 1: 2 TSC ticks per count */
	wr(0, LVT_TIMER, ONESHOT | 0x41);
	wr(0, TIMER_ICR, 500);
	fake_tsc = T0 + 600;
	wr(0, TIMER_ICR, 500); /* counting restarts from the new count */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 1600);
	CHECK(!tick(0, T0 + 1000, 0x41));
	CHECK(tick(0, T0 + 1600, 0x41));
	wr(0, TIMER_ICR, 500);
	wr(0, TIMER_ICR, 0); /* a write of 0 stops the timer */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	CHECK_EQ(rd(0, TIMER_CCR), 0);
	take(0);
	wr(0, EOI, 0);
	CHECK(!tick(0, T0 + 1000000, 0x41));
	teardown();
}

TEST(periodic_rearms_and_skips_missed_periods)
{
	setup(1);
	wr(0, TIMER_DCR, 0xb);
	wr(0, LVT_TIMER, PERIODIC | 0x42);
	wr(0, TIMER_ICR, 1000); /* period: 2000 TSC ticks */
	CHECK(!tick(0, T0 + 1999, 0x42));
	CHECK(tick(0, T0 + 2000, 0x42));
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 4000);
	fake_tsc = T0 + 3000;
	CHECK_EQ(rd(0, TIMER_CCR), 500); /* counting again from the initial count */
	CHECK_EQ(take(0), 0x42);
	wr(0, EOI, 0);
	CHECK(tick(0, T0 + 4100, 0x42));
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 6000);
	CHECK_EQ(take(0), 0x42);
	wr(0, EOI, 0);
	/* five periods late: one interrupt, the next deadline keeps the phase */
	CHECK(tick(0, T0 + 16500, 0x42));
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 18000);
	teardown();
}

TEST(masked_timer_counts_without_interrupting)
{
	setup(1);
	wr(0, TIMER_DCR, 0xb);
	wr(0, LVT_TIMER, MASKED | PERIODIC | 0x43);
	wr(0, TIMER_ICR, 1000);
	CHECK(!tick(0, T0 + 2000, 0x43));
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 4000); /* still counting */
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1);
	wr(0, LVT_TIMER, PERIODIC | 0x43); /* unmasked, same mode: the count goes on */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 4000);
	CHECK(tick(0, T0 + 4000, 0x43));
	teardown();
}

/* The deadline is in the guest's TSC, which runs tsc_offset ahead of the host's (IA32_TSC_ADJUST). */
TEST(tsc_deadline_follows_the_guests_tsc_offset)
{
	setup(1);
	vc(0)->tsc_offset = 1000000;
	wr(0, LVT_TIMER, DEADLINE | 0x44);
	msr_wr(0, MSR_TSC_DEADLINE, T0 + 1000000 + 500);
	CHECK_EQ(msr_rd(0, MSR_TSC_DEADLINE), T0 + 1000500); /* as the guest wrote it */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 500);
	CHECK(!tick(0, T0 + 499, 0x44));
	CHECK(tick(0, T0 + 500, 0x44));
	CHECK_EQ(take(0), 0x44);
	wr(0, EOI, 0);
	msr_wr(0, MSR_TSC_DEADLINE, 999999); /* before the host's TSC began: due at once */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 1);
	vc(0)->tsc_offset = (u64)-1000; /* a TSC set back */
	msr_wr(0, MSR_TSC_DEADLINE, T0);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 1000);
	teardown();
}

TEST(tsc_deadline_fires_at_the_deadline_and_clears_it)
{
	setup(1);
	wr(0, LVT_TIMER, DEADLINE | 0x44);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0); /* armed only by the MSR */
	msr_wr(0, MSR_TSC_DEADLINE, T0 + 12345);
	CHECK_EQ(msr_rd(0, MSR_TSC_DEADLINE), T0 + 12345);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 12345);
	CHECK_EQ(rd(0, TIMER_CCR), 0); /* SDM 3A 11.5.4.1: always reads 0 */
	CHECK(!tick(0, T0 + 12344, 0x44));
	CHECK(tick(0, T0 + 12345, 0x44));
	CHECK_EQ(msr_rd(0, MSR_TSC_DEADLINE), 0); /* disarmed and cleared */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	CHECK_EQ(take(0), 0x44);
	wr(0, EOI, 0);
	CHECK(!tick(0, T0 + 99999, 0x44));
	/* rearmed, then disarmed by writing 0 */
	msr_wr(0, MSR_TSC_DEADLINE, T0 + 200000);
	msr_wr(0, MSR_TSC_DEADLINE, 0);
	CHECK(!tick(0, T0 + 300000, 0x44));
	/* a deadline already past fires at the next check */
	msr_wr(0, MSR_TSC_DEADLINE, 5);
	CHECK(tick(0, T0 + 300001, 0x44));
	teardown();
}

TEST(tsc_deadline_mode_ignores_the_count_and_other_modes_the_msr)
{
	/* SDM 3A 11.5.4.1: in TSC-deadline mode writes to the initial count are ignored; in
	 * the other modes IA32_TSC_DEADLINE reads 0 and writes to it are ignored */
	setup(1);
	wr(0, LVT_TIMER, ONESHOT | 0x44);
	msr_wr(0, MSR_TSC_DEADLINE, T0 + 500);
	CHECK_EQ(msr_rd(0, MSR_TSC_DEADLINE), 0);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	wr(0, TIMER_ICR, 100);
	wr(0, LVT_TIMER, DEADLINE | 0x44);
	CHECK(!tick(0, T0 + 1000, 0x44));
	wr(0, TIMER_ICR, 1234);
	CHECK_EQ(rd(0, TIMER_ICR), 100);
	CHECK_EQ(rd(0, TIMER_CCR), 0);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	CHECK(!tick(0, T0 + 100000, 0x44));
	teardown();
}

TEST(changing_the_timer_mode_disarms_it)
{
	/* SDM 3A 11.5.4.1: a write to the LVT timer that changes the mode disarms the timer */
	setup(1);
	wr(0, LVT_TIMER, ONESHOT | 0x45);
	wr(0, TIMER_ICR, 1000);
	wr(0, LVT_TIMER, DEADLINE | 0x45);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	CHECK(!tick(0, T0 + 100000, 0x45));
	msr_wr(0, MSR_TSC_DEADLINE, T0 + 200000);
	wr(0, LVT_TIMER, ONESHOT | 0x45);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	CHECK(!tick(0, T0 + 300000, 0x45));
	wr(0, LVT_TIMER, PERIODIC | 0x45);
	wr(0, TIMER_ICR, 1000);
	wr(0, LVT_TIMER, ONESHOT | 0x45);
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), 0);
	teardown();
}

TEST(lvt_timer_keeps_its_mask_while_software_disabled)
{
	setup_sw(1, false);
	wr(0, LVT_TIMER, ONESHOT | 0x46); /* SDM 3A 11.4.7.2: the mask cannot be cleared */
	CHECK_EQ(rd(0, LVT_TIMER), MASKED | 0x46);
	wr(0, SVR, SVR_ON);
	wr(0, LVT_TIMER, ONESHOT | 0x46);
	CHECK_EQ(rd(0, LVT_TIMER), 0x46);
	wr(0, LVT_TIMER, 0xffffffff); /* reserved bits and delivery status read 0 */
	CHECK_EQ(rd(0, LVT_TIMER), 0x700ff);
	teardown();
}

TEST(software_disable_masks_every_lvt_entry)
{
	/* SDM 3A 11.4.7.2: the mask bits of all LVT entries are set and cannot be cleared */
	setup(1);
	wr(0, TIMER_DCR, 0xb);
	wr(0, LVT_TIMER, PERIODIC | 0x47);
	wr(0, LVT_LINT0, 0x700); /* ExtINT, unmasked */
	wr(0, LVT_ERROR, 0xfe);
	wr(0, TIMER_ICR, 1000);
	wr(0, SVR, 0xff);
	for (u32 off = LVT_TIMER; off <= LVT_ERROR; off += 0x10)
		CHECK(rd(0, off) & MASKED);
	CHECK_EQ(rd(0, LVT_TIMER), MASKED | PERIODIC | 0x47);
	CHECK_EQ(rd(0, LVT_LINT0), MASKED | 0x700);
	wr(0, LVT_LINT1, 0x400); /* NMI, unmasked: refused */
	CHECK(rd(0, LVT_LINT1) & MASKED);
	CHECK(!tick(0, T0 + 2000, 0x47)); /* the timer counts, masked */
	CHECK_EQ(vlapic_timer_deadline(vc(0)->lapic), T0 + 4000);
	wr(0, SVR, SVR_ON); /* enabling again leaves them masked */
	CHECK(rd(0, LVT_TIMER) & MASKED);
	wr(0, LVT_TIMER, PERIODIC | 0x47);
	CHECK(tick(0, T0 + 4000, 0x47));
	teardown();
}

/* --- IRR, ISR, TPR, PPR and EOI (SDM 3A 11.8) --- */

TEST(highest_irr_first_and_isr_blocks_its_class)
{
	setup(1);
	vlapic_set_irq(vc(0), 0x31);
	vlapic_set_irq(vc(0), 0x52);
	vlapic_set_irq(vc(0), 0x45);
	CHECK_EQ(fake_kicks[0], 3);
	CHECK(bit_in(0, IRR, 0x31) && bit_in(0, IRR, 0x52) && bit_in(0, IRR, 0x45));
	CHECK_EQ(take(0), 0x52);
	CHECK(bit_in(0, ISR, 0x52));
	CHECK(!bit_in(0, IRR, 0x52));
	CHECK_EQ(rd(0, PPR), 0x50);
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1); /* 0x45 < class 5 in service */
	vlapic_set_irq(vc(0), 0x5f);
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1); /* same class: does not nest */
	wr(0, EOI, 0);
	CHECK(!bit_in(0, ISR, 0x52));
	CHECK_EQ(take(0), 0x5f);
	wr(0, EOI, 0);
	CHECK_EQ(take(0), 0x45);
	wr(0, EOI, 0);
	CHECK_EQ(take(0), 0x31);
	wr(0, EOI, 0);
	CHECK_EQ(take(0), -1);
	CHECK_EQ(rd(0, PPR), 0);
	teardown();
}

TEST(a_higher_class_nests_and_eoi_clears_the_highest_in_service)
{
	setup(1);
	vlapic_set_irq(vc(0), 0x45);
	CHECK_EQ(take(0), 0x45);
	vlapic_set_irq(vc(0), 0x61);
	CHECK_EQ(take(0), 0x61); /* class 6 > class 4: nests */
	CHECK(bit_in(0, ISR, 0x45) && bit_in(0, ISR, 0x61));
	CHECK_EQ(rd(0, PPR), 0x60);
	wr(0, EOI, 0);
	CHECK(!bit_in(0, ISR, 0x61));
	CHECK(bit_in(0, ISR, 0x45));
	CHECK_EQ(rd(0, PPR), 0x40);
	wr(0, EOI, 0);
	CHECK(!bit_in(0, ISR, 0x45));
	wr(0, EOI, 0); /* nothing in service: no effect */
	CHECK_EQ(nr_ioapic_eois, 0);
	teardown();
}

TEST(tpr_masks_classes_and_ppr_follows_it)
{
	setup(1);
	wr(0, TPR, 0x1f5); /* 8 bits */
	CHECK_EQ(rd(0, TPR), 0xf5);
	wr(0, TPR, 0x55);
	CHECK_EQ(rd(0, PPR), 0x55);
	vlapic_set_irq(vc(0), 0x5e);
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1); /* class 5 not above TPR's */
	vlapic_set_irq(vc(0), 0x60);
	CHECK_EQ(take(0), 0x60);
	CHECK_EQ(rd(0, PPR), 0x60); /* in service class above TPR: PPR = ISRV & 0xf0 */
	wr(0, TPR, 0x7a);
	CHECK_EQ(rd(0, PPR), 0x7a); /* TPR class at least ISRV's: PPR = TPR */
	wr(0, EOI, 0);
	wr(0, TPR, 0x40);
	CHECK_EQ(take(0), 0x5e); /* lowering TPR releases it */
	teardown();
}

TEST(illegal_vectors_and_a_disabled_apic_deliver_nothing)
{
	setup_sw(1, false);
	for (u32 vec = 0; vec < 16; vec++)
		vlapic_set_irq(vc(0), (u8)vec); /* SDM 3A 11.5.3: vectors 0-15 are illegal */
	CHECK_EQ(rd(0, IRR), 0);
	vlapic_set_irq(vc(0), 0x80);
	CHECK(bit_in(0, IRR, 0x80));
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1); /* software-disabled: held */
	wr(0, SVR, SVR_ON);
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), 0x80);
	msr_wr(0, MSR_APIC_BASE, APIC_PAGE); /* globally disabled */
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1);
	teardown();
}

TEST(eoi_of_a_level_vector_reaches_the_ioapic)
{
	static int dummy;

	setup(1);
	fake_vm.ioapic = (struct vioapic *)&dummy;
	vlapic_set_irq_trig(vc(0), 0x33, true);
	CHECK(bit_in(0, TMR, 0x33));
	vlapic_set_irq_trig(vc(0), 0x34, false);
	CHECK(!bit_in(0, TMR, 0x34));
	CHECK_EQ(take(0), 0x34);
	wr(0, EOI, 0); /* edge: the EOI stays in the LAPIC */
	CHECK_EQ(nr_ioapic_eois, 0);
	CHECK_EQ(take(0), 0x33);
	wr(0, EOI, 0); /* SDM 3A 11.8.5: level, broadcast to the I/O APIC */
	CHECK_EQ(nr_ioapic_eois, 1);
	CHECK_EQ(ioapic_eois[0], 0x33);
	vlapic_set_irq_trig(vc(0), 0x33, false); /* the same vector as edge clears TMR */
	CHECK(!bit_in(0, TMR, 0x33));
	teardown();
}

TEST(irr_isr_tmr_show_at_their_offsets)
{
	setup(1);
	vlapic_set_irq(vc(0), 0xe1); /* word 7, bit 1 */
	CHECK_EQ(rd(0, IRR + 0x70), 2);
	CHECK_EQ(take(0), 0xe1);
	CHECK_EQ(rd(0, IRR + 0x70), 0);
	CHECK_EQ(rd(0, ISR + 0x70), 2);
	vlapic_set_irq_trig(vc(0), 0x21, true); /* word 1, bit 1 */
	CHECK_EQ(rd(0, TMR + 0x10), 2);
	teardown();
}

/* --- inter-processor interrupts (SDM 3A 11.6) --- */

TEST(fixed_ipi_to_one_physical_destination)
{
	setup(4);
	wr(0, ICR_HI, 2u << 24);
	wr(0, ICR_LO, DM_FIXED | LEVEL_ASSERT | 0x50);
	CHECK(bit_in(2, IRR, 0x50));
	CHECK(!bit_in(0, IRR, 0x50) && !bit_in(1, IRR, 0x50) && !bit_in(3, IRR, 0x50));
	CHECK_EQ(fake_kicks[2], 1);
	CHECK_EQ(rd(0, ICR_LO), LEVEL_ASSERT | 0x50); /* delivery status: idle */
	CHECK_EQ(rd(0, ICR_HI), 2u << 24);
	wr(0, ICR_HI, 7u << 24); /* no such APIC */
	wr(0, ICR_LO, 0x51);
	for (u32 i = 0; i < 4; i++)
		CHECK(!bit_in(i, IRR, 0x51));
	teardown();
}

TEST(physical_broadcast_reaches_everyone)
{
	setup(3);
	wr(1, ICR_HI, 0xffu << 24);
	wr(1, ICR_LO, 0x52);
	for (u32 i = 0; i < 3; i++)
		CHECK(bit_in(i, IRR, 0x52));
	teardown();
}

TEST(shorthands_ignore_the_destination)
{
	setup(3);
	wr(1, ICR_HI, 0u << 24); /* would name vCPU 0 */
	wr(1, ICR_LO, SH_SELF | 0x53);
	CHECK(bit_in(1, IRR, 0x53));
	CHECK(!bit_in(0, IRR, 0x53) && !bit_in(2, IRR, 0x53));
	wr(1, ICR_LO, SH_ALL | 0x54);
	CHECK(bit_in(0, IRR, 0x54) && bit_in(1, IRR, 0x54) && bit_in(2, IRR, 0x54));
	wr(1, ICR_LO, SH_OTHERS | 0x55);
	CHECK(bit_in(0, IRR, 0x55) && bit_in(2, IRR, 0x55));
	CHECK(!bit_in(1, IRR, 0x55));
	teardown();
}

TEST(logical_flat_and_cluster_destinations)
{
	setup(4);
	for (u32 i = 0; i < 4; i++)
		wr(i, LDR, (1u << i) << 24); /* flat: a bit per vCPU */
	CHECK_EQ(rd(2, LDR), 4u << 24);
	wr(3, ICR_HI, 0x05u << 24);
	wr(3, ICR_LO, DEST_LOGICAL | 0x56);
	CHECK(bit_in(0, IRR, 0x56) && bit_in(2, IRR, 0x56));
	CHECK(!bit_in(1, IRR, 0x56) && !bit_in(3, IRR, 0x56));
	/* cluster model: cluster in 31:28, a bit in 27:24 */
	for (u32 i = 0; i < 4; i++) {
		wr(i, DFR, 0x0fffffff);
		wr(i, LDR, ((i / 2) << 28) | ((1u << (i % 2)) << 24));
	}
	CHECK_EQ(rd(0, DFR), 0x0fffffff);
	wr(0, ICR_HI, 0x13u << 24); /* cluster 1, both members */
	wr(0, ICR_LO, DEST_LOGICAL | 0x57);
	CHECK(bit_in(2, IRR, 0x57) && bit_in(3, IRR, 0x57));
	CHECK(!bit_in(0, IRR, 0x57) && !bit_in(1, IRR, 0x57));
	CHECK_EQ(vlapic_find_dest(&fake_vm, 0x12, true), vc(3));
	CHECK_EQ(vlapic_find_dest(&fake_vm, 2, false), vc(2));
	CHECK(vlapic_find_dest(&fake_vm, 9, false) == NULL);
	teardown();
}

TEST(lowest_priority_ipi_reaches_one_destination)
{
	u32 got = 0;

	/* SDM 3A 11.6.2.4: one processor of the destination set takes it */
	setup(4);
	for (u32 i = 0; i < 4; i++)
		wr(i, LDR, (1u << i) << 24);
	wr(0, ICR_HI, 0x0eu << 24);
	wr(0, ICR_LO, DEST_LOGICAL | DM_LOWEST | 0x58);
	for (u32 i = 0; i < 4; i++)
		got += bit_in(i, IRR, 0x58);
	CHECK_EQ(got, 1);
	CHECK(!bit_in(0, IRR, 0x58));
	teardown();
}

TEST(nmi_ipi_sets_the_nmi_pending)
{
	setup(2);
	wr(0, ICR_HI, 1u << 24);
	wr(0, ICR_LO, DM_NMI);
	CHECK(vc(1)->nmi_pending);
	CHECK(!vc(0)->nmi_pending);
	CHECK_EQ(fake_kicks[1], 1);
	CHECK_EQ(rd(1, IRR), 0); /* not through the IRR */
	teardown();
}

/* --- LINT0 and LINT1 (SDM 3A 11.5.1) --- */

TEST(lint1_in_nmi_mode_raises_an_nmi_and_ignores_the_vector)
{
	setup(2);
	wr(0, LVT_LINT1, DM_NMI | 0x77);
	vlapic_lint(vc(0), 1);
	CHECK(vc(0)->nmi_pending);
	CHECK_EQ(fake_kicks[0], 1);
	CHECK(!bit_in(0, IRR, 0x77));
	CHECK(!vc(1)->nmi_pending); /* the pin is this vCPU's own */
	vlapic_lint(vc(1), 1);	    /* vCPU 1's LINT1 is still masked from reset */
	CHECK(!vc(1)->nmi_pending);
	CHECK_EQ(fake_kicks[1], 0);
	teardown();
}

TEST(lint0_follows_its_own_entry_fixed_or_nmi)
{
	setup(1);
	wr(0, LVT_LINT0, DM_FIXED | 0x51);
	wr(0, LVT_LINT1, DM_NMI);
	vlapic_lint(vc(0), 0);
	CHECK(bit_in(0, IRR, 0x51));
	CHECK(!vc(0)->nmi_pending);
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), 0x51);
	wr(0, LVT_LINT0, DM_NMI | 0x52);
	vlapic_lint(vc(0), 0);
	CHECK(vc(0)->nmi_pending);
	CHECK(!bit_in(0, IRR, 0x52));
	teardown();
}

TEST(masked_extint_smi_and_init_lint_entries_do_nothing)
{
	static const u32 lvts[] = { MASKED | DM_NMI, MASKED | DM_FIXED | 0x60, 7u << 8 | 0x61,
				    2u << 8 | 0x62, DM_INIT | 0x63 };

	setup(1);
	for (u32 i = 0; i < ARRAY_SIZE(lvts); i++) {
		wr(0, LVT_LINT0, lvts[i]);
		wr(0, LVT_LINT1, lvts[i]);
		vlapic_lint(vc(0), 0);
		vlapic_lint(vc(0), 1);
	}
	CHECK(!vc(0)->nmi_pending);
	CHECK_EQ(vlapic_pending_vector(vc(0)->lapic), -1);
	CHECK_EQ(rd(0, IRR + 0x60 / 32 * 0x10), 0);
	CHECK_EQ(vc(0)->state, VCPU_RUNNABLE);
	teardown();
}

TEST(software_disabled_apic_masks_lint_but_a_disabled_one_passes_nmi_on_lint1)
{
	setup(1);
	wr(0, LVT_LINT1, DM_NMI);
	wr(0, SVR, 0xff); /* software-disabled: every LVT entry masked */
	vlapic_lint(vc(0), 1);
	CHECK(!vc(0)->nmi_pending);
	/* SDM 3A 11.4.3: with IA32_APIC_BASE.EN clear, LINT1 is the NMI pin, LINT0 INTR (no 8259) */
	msr_wr(0, MSR_APIC_BASE, APIC_PAGE | BASE_BSP);
	vlapic_lint(vc(0), 0);
	CHECK(!vc(0)->nmi_pending);
	CHECK_EQ(fake_kicks[0], 0);
	vlapic_lint(vc(0), 1);
	CHECK(vc(0)->nmi_pending);
	CHECK_EQ(fake_kicks[0], 1);
	teardown();
}

TEST(init_then_sipi_starts_an_ap)
{
	setup(3);
	vc(1)->state = VCPU_RUNNABLE;
	wr(0, ICR_HI, 1u << 24);
	wr(0, ICR_LO, DM_SIPI | 0x9a); /* not waiting for one: ignored */
	CHECK(started == NULL);
	wr(0, ICR_LO, DM_INIT | LEVEL_ASSERT);
	CHECK_EQ(vc(1)->state, VCPU_WAIT_SIPI);
	CHECK_EQ(vc(2)->state, VCPU_RUNNABLE);
	wr(0, ICR_LO, DM_SIPI | 0x9a);
	CHECK(started == vc(1));
	CHECK_EQ(started_vector, 0x9a);
	CHECK_EQ(fake_kicks[1], 1);
	/* INIT to the BSP is not modelled (no reset of vCPU 0) */
	wr(1, ICR_HI, 0);
	wr(1, ICR_LO, DM_INIT | LEVEL_ASSERT);
	CHECK_EQ(vc(0)->state, VCPU_RUNNABLE);
	teardown();
}

/* --- xAPIC MMIO and x2APIC MSR access (SDM 3A 11.4.1, 11.12) --- */

TEST(xapic_mmio_takes_only_aligned_dwords)
{
	setup(1);
	wr(0, TPR, 0x20);
	CHECK_EQ(fake_mmio_read(vc(0), APIC_PAGE + TPR, 1), 0);
	CHECK_EQ(fake_mmio_read(vc(0), APIC_PAGE + TPR, 8), 0);
	CHECK_EQ(fake_mmio_read(vc(0), APIC_PAGE + TPR + 2, 4), 0);
	fake_mmio_write(vc(0), APIC_PAGE + TPR, 2, 0x30);
	fake_mmio_write(vc(0), APIC_PAGE + TPR + 4, 4, 0x30);
	CHECK_EQ(rd(0, TPR), 0x20);
	CHECK_EQ(rd(0, 0x400), 0); /* past the registers */
	wr(0, SELF_IPI, 0x60);	   /* x2APIC only */
	CHECK(!bit_in(0, IRR, 0x60));
	wr(0, ESR, 0x12345); /* a write clears it */
	CHECK_EQ(rd(0, ESR), 0);
	wr(0, LVT_LINT0, 0xffffffff);
	CHECK_EQ(rd(0, LVT_LINT0), 0x117ff);
	wr(0, SVR, 0xffffffff);
	CHECK_EQ(rd(0, SVR), 0x13ff);
	teardown();
}

TEST(xapic_mode_refuses_x2apic_msrs)
{
	u64 val;

	setup(1);
	CHECK_EQ(vlapic_msr_read(vc(0), MSR_X2(TPR), &val), -EPERM);
	CHECK_EQ(vlapic_msr_write(vc(0), MSR_X2(TPR), 0x20), -EPERM);
	CHECK_EQ(rd(0, TPR), 0);
	CHECK(vlapic_owns_msr(MSR_APIC_BASE) && vlapic_owns_msr(MSR_TSC_DEADLINE));
	CHECK(vlapic_owns_msr(0x800) && vlapic_owns_msr(0x8ff));
	CHECK(!vlapic_owns_msr(0x7ff) && !vlapic_owns_msr(0x900) && !vlapic_owns_msr(0x1c));
	teardown();
}

TEST(apic_base_msr_keeps_its_address_and_bsp_bit)
{
	u64 val;

	setup(2);
	CHECK_EQ(vlapic_msr_write(vc(0), MSR_APIC_BASE, 0xfec00000 | BASE_EN), -EPERM);
	msr_wr(1, MSR_APIC_BASE, APIC_PAGE | BASE_EN | BASE_BSP); /* BSP is read-only */
	CHECK_EQ(msr_rd(1, MSR_APIC_BASE), APIC_PAGE | BASE_EN);
	x2apic_on(0);
	CHECK_EQ(msr_rd(0, MSR_APIC_BASE), APIC_PAGE | BASE_EN | BASE_EXTD | BASE_BSP);
	CHECK_EQ(vlapic_msr_read(vc(0), MSR_X2(TPR), &val), 0);
	teardown();
}

TEST(apic_base_refuses_invalid_mode_transitions)
{
	/* SDM 3A 11.12.5: x2APIC needs the global enable; leaving it goes through disabled */
	setup(1);
	CHECK_EQ(vlapic_msr_write(vc(0), MSR_APIC_BASE, APIC_PAGE | BASE_EXTD), -EPERM);
	x2apic_on(0);
	CHECK_EQ(vlapic_msr_write(vc(0), MSR_APIC_BASE, APIC_PAGE | BASE_EN), -EPERM);
	CHECK_EQ(msr_rd(0, MSR_APIC_BASE), APIC_PAGE | BASE_EN | BASE_EXTD | BASE_BSP);
	msr_wr(0, MSR_APIC_BASE, APIC_PAGE); /* disabled */
	msr_wr(0, MSR_APIC_BASE, APIC_PAGE | BASE_EN);
	CHECK_EQ(msr_rd(0, MSR_APIC_BASE), APIC_PAGE | BASE_EN | BASE_BSP);
	teardown();
}

TEST(x2apic_mode_moves_registers_to_msrs)
{
	setup(2);
	wr(0, TPR, 0x30);
	x2apic_on(0);
	CHECK_EQ(rd(0, TPR), 0); /* the MMIO page no longer answers */
	wr(0, TPR, 0x70);
	CHECK_EQ(msr_rd(0, MSR_X2(TPR)), 0x30);
	msr_wr(0, MSR_X2(TPR), 0x40);
	CHECK_EQ(msr_rd(0, MSR_X2(TPR)), 0x40);
	CHECK_EQ(msr_rd(0, MSR_X2(ID)), 0); /* the full 32-bit x2APIC ID */
	x2apic_on(1);
	CHECK_EQ(msr_rd(1, MSR_X2(ID)), 1);
	/* SDM 3A 11.12.10.2: logical ID = cluster (ID >> 4) in 31:16, bit ID & 0xf */
	CHECK_EQ(msr_rd(1, MSR_X2(LDR)), 2);
	CHECK_EQ(msr_rd(0, MSR_X2(VERSION)), 0x50014);
	msr_wr(0, MSR_X2(SVR), 0x1ff);
	CHECK_EQ(msr_rd(0, MSR_X2(SVR)), 0x1ff);
	teardown();
}

TEST(x2apic_refuses_write_only_and_missing_registers)
{
	u64 val;

	setup(1);
	x2apic_on(0);
	/* SDM 3A table 11-6: EOI and SELF IPI are write-only; DFR and ICR high do not exist */
	CHECK_EQ(vlapic_msr_read(vc(0), MSR_X2(EOI), &val), -EPERM);
	CHECK_EQ(vlapic_msr_read(vc(0), MSR_X2(SELF_IPI), &val), -EPERM);
	CHECK_EQ(vlapic_msr_read(vc(0), MSR_X2(DFR), &val), -EPERM);
	CHECK_EQ(vlapic_msr_write(vc(0), MSR_X2(DFR), 0), -EPERM);
	CHECK_EQ(vlapic_msr_write(vc(0), MSR_X2(ICR_HI), 0), -EPERM);
	CHECK_EQ(vlapic_msr_write(vc(0), MSR_X2(LDR), 0), -EPERM); /* read-only in x2APIC */
	teardown();
}

TEST(x2apic_refuses_read_only_and_reserved_registers)
{
	/* SDM 3A 11.12.1.2 and table 11-6: WRMSR to a read-only register, or any access to
	 * a reserved one, is a #GP */
	static const u32 read_only[] = { ID,	     VERSION, PPR,	  LDR,	    ISR,
					 ISR + 0x70, TMR,     IRR + 0x70, TIMER_CCR };
	static const u32 reserved[] = { 0x801, 0x804, 0x809, 0x80c, 0x80e, 0x829,
					0x82f, 0x831, 0x83a, 0x83d, 0x840, 0x8ff };
	static const u32 read_write[] = { TPR,	       SVR,	  ESR,	     LVT_TIMER,
					  LVT_THERMAL, LVT_PERF,  LVT_LINT0, LVT_LINT1,
					  LVT_ERROR,   TIMER_ICR, TIMER_DCR };
	u64 val;

	setup(1);
	x2apic_on(0);
	vlapic_set_irq(vc(0), 0xf0);
	for (u32 i = 0; i < ARRAY_SIZE(read_only); i++) {
		CHECK_EQ(vlapic_msr_read(vc(0), MSR_X2(read_only[i]), &val), 0);
		CHECK_EQ(vlapic_msr_write(vc(0), MSR_X2(read_only[i]), 0), -EPERM);
	}
	CHECK_EQ(msr_rd(0, MSR_X2(IRR + 0x70)), 1u << 16); /* the IRR was not cleared */
	for (u32 i = 0; i < ARRAY_SIZE(reserved); i++) {
		CHECK_EQ(vlapic_msr_read(vc(0), reserved[i], &val), -EPERM);
		CHECK_EQ(vlapic_msr_write(vc(0), reserved[i], 0), -EPERM);
	}
	for (u32 i = 0; i < ARRAY_SIZE(read_write); i++) {
		CHECK_EQ(vlapic_msr_read(vc(0), MSR_X2(read_write[i]), &val), 0);
		CHECK_EQ(vlapic_msr_write(vc(0), MSR_X2(read_write[i]), val), 0);
	}
	teardown();
}

TEST(x2apic_icr_is_one_64_bit_msr)
{
	setup(3);
	for (u32 i = 0; i < 3; i++)
		x2apic_on(i);
	msr_wr(0, MSR_X2(ICR_LO), (2ULL << 32) | DM_FIXED | 0x61);
	CHECK(vlapic_pending_vector(vc(2)->lapic) == 0x61);
	CHECK_EQ(vlapic_pending_vector(vc(1)->lapic), -1);
	CHECK_EQ(msr_rd(0, MSR_X2(ICR_LO)), (2ULL << 32) | 0x61);
	msr_wr(0, MSR_X2(ICR_LO), (0xffffffffULL << 32) | 0x62); /* x2APIC broadcast */
	for (u32 i = 0; i < 3; i++)
		CHECK(msr_rd(i, MSR_X2(IRR) + 3) & (1u << 2)); /* 0x62: word 3, bit 2 */
	teardown();
}

TEST(x2apic_logical_destination_uses_the_derived_ldr)
{
	/* SDM 3A 11.12.10.2: cluster ID >> 4 in 31:16, bit 1 << (ID & 0xf) in 15:0 */
	setup(3);
	wr(2, LDR, 0xffu << 24); /* set in xAPIC mode: no longer counts */
	for (u32 i = 0; i < 3; i++)
		x2apic_on(i);
	msr_wr(0, MSR_X2(ICR_LO), (0x6ULL << 32) | DEST_LOGICAL | 0x63);
	CHECK(msr_rd(1, MSR_X2(IRR) + 3) & (1u << 3)); /* 0x63: word 3, bit 3 */
	CHECK(msr_rd(2, MSR_X2(IRR) + 3) & (1u << 3));
	CHECK_EQ(msr_rd(0, MSR_X2(IRR) + 3), 0);
	msr_wr(0, MSR_X2(ICR_LO), (0x10001ULL << 32) | DEST_LOGICAL | 0x64); /* cluster 1 */
	for (u32 i = 0; i < 3; i++)
		CHECK_EQ(msr_rd(i, MSR_X2(IRR) + 3) & (1u << 4), 0);
	CHECK_EQ(vlapic_find_dest(&fake_vm, 0x4, true), vc(2)); /* an MSI in logical mode */
	teardown();
}

TEST(x2apic_self_ipi_and_eoi)
{
	setup(1);
	x2apic_on(0);
	msr_wr(0, MSR_X2(SELF_IPI), 0x64);
	CHECK_EQ(take(0), 0x64);
	CHECK(msr_rd(0, MSR_X2(ISR) + 3) & (1u << 4));
	msr_wr(0, MSR_X2(EOI), 0);
	CHECK_EQ(msr_rd(0, MSR_X2(ISR) + 3), 0);
	teardown();
}
