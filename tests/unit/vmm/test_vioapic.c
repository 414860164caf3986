// SPDX-License-Identifier: MIT
/* Host tests of the virtual I/O APIC: redirection table, edge and level pins, Remote IRR and EOI. */
#include <keel/vioapic.h>
#include <keel/vlapic.h>
#include "fake_vm.h"
#include "test.h"

/* 82093AA datasheet 3.1-3.2: the two direct registers and the indirect ones */
#define BASE 0xfec00000ULL
#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOEOI 0x40
#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARB 0x02
#define REDIR_LO(pin) (0x10 + 2 * (pin))
#define REDIR_HI(pin) (0x11 + 2 * (pin))
#define MASKED BIT(16)
#define LEVEL BIT(15)
#define REMOTE_IRR BIT(14)
#define ACTIVE_LOW BIT(13)
#define DELIVERY_STATUS BIT(12)
#define LOGICAL BIT(11)
#define DM_LOWEST (1u << 8)
#define DM_NMI (4u << 8)

extern long fake_pages_live;

/* --- the vLAPIC as the I/O APIC sees it: a log of what was delivered --- */
struct delivery {
	u32 cpu;
	u8 vector;
	bool level;
};
static struct delivery sent[32];
static u32 nr_sent;

void vlapic_set_irq_trig(struct vcpu *v, u8 vector, bool level)
{
	if (nr_sent < ARRAY_SIZE(sent))
		sent[nr_sent] = (struct delivery){ v->id, vector, level };
	nr_sent++;
}

/* --- a mirror onto a (pretend) physical I/O APIC --- */
static u32 mirror_rte_pin, mirror_eoi_pin, nr_mirror_rte, nr_mirror_eoi;
static u64 mirror_rte;

static void mirror_rte_changed(struct vioapic *io, u32 pin, u64 rte)
{
	(void)io;
	mirror_rte_pin = pin;
	mirror_rte = rte;
	nr_mirror_rte++;
}

static void mirror_eoi(struct vioapic *io, u32 pin)
{
	(void)io;
	mirror_eoi_pin = pin;
	nr_mirror_eoi++;
}

static const struct vioapic_mirror mirror = { mirror_rte_changed, mirror_eoi };

/* --- helpers --- */
static struct vioapic *io;

static void setup(u32 nr_vcpus)
{
	fake_vm_reset(nr_vcpus);
	io = vioapic_create(&fake_vm, BASE, 2, 0);
	CHECK(io != NULL);
	nr_sent = nr_mirror_rte = nr_mirror_eoi = 0;
}

static void teardown(void)
{
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

static u32 rd(u32 reg)
{
	fake_mmio_write(&fake_vcpus[0], BASE + IOREGSEL, 4, reg);
	return (u32)fake_mmio_read(&fake_vcpus[0], BASE + IOWIN, 4);
}

static void wr(u32 reg, u32 val)
{
	fake_mmio_write(&fake_vcpus[0], BASE + IOREGSEL, 4, reg);
	fake_mmio_write(&fake_vcpus[0], BASE + IOWIN, 4, val);
}

static void route(u32 pin, u32 lo, u8 dest)
{
	wr(REDIR_HI(pin), (u32)dest << 24);
	wr(REDIR_LO(pin), lo);
}

/* The guest's EOI reaches the I/O APIC (the LAPIC's broadcast). */
static void eoi(u8 vector)
{
	vioapic_eoi(io, vector);
}

/* --- registers --- */

TEST(create_registers_the_window_and_masks_every_pin)
{
	setup(1);
	CHECK(fake_vm.ioapic == io);
	CHECK_EQ(fake_vm.nr_mmio, 1);
	CHECK_EQ(fake_vm.mmio[0].base, BASE);
	CHECK_EQ(rd(REG_ID), 2u << 24);
	CHECK_EQ(rd(REG_ARB), 2u << 24);
	CHECK_EQ(rd(REG_VERSION), 0x170020); /* 24 entries (max 23), version 0x20 */
	for (u32 pin = 0; pin < VIOAPIC_PINS; pin++) {
		CHECK_EQ(rd(REDIR_LO(pin)), MASKED);
		CHECK_EQ(rd(REDIR_HI(pin)), 0);
	}
	CHECK_EQ(rd(0x40), 0); /* past the table */
	CHECK_EQ(vioapic_vm(io), &fake_vm);
	CHECK_EQ(vioapic_gsi_base(io), 0);
	teardown();
}

TEST(ioregsel_reads_back_and_id_is_writable)
{
	setup(1);
	fake_mmio_write(&fake_vcpus[0], BASE + IOREGSEL, 4, 0x1234);
	CHECK_EQ(fake_mmio_read(&fake_vcpus[0], BASE + IOREGSEL, 4), 0x34);
	wr(REG_ID, 5u << 24);
	CHECK_EQ(rd(REG_ID), 5u << 24);
	wr(REG_VERSION, 0);
	CHECK_EQ(rd(REG_VERSION), 0x170020); /* read-only */
	teardown();
}

TEST(redirection_entries_keep_only_their_writable_bits)
{
	setup(1);
	wr(REDIR_HI(7), 0xffffffff);
	CHECK_EQ(rd(REDIR_HI(7)), 0xff000000); /* destination; 55:32 reserved */
	wr(REDIR_LO(7), 0xffffffff);
	/* delivery status (12) and Remote IRR (14) are read-only; 31:17 reserved */
	CHECK_EQ(rd(REDIR_LO(7)), 0x1ffff & ~(DELIVERY_STATUS | REMOTE_IRR));
	wr(REDIR_LO(7), MASKED | 0x31);
	CHECK_EQ(rd(REDIR_LO(7)), MASKED | 0x31);
	CHECK_EQ(rd(REDIR_HI(7)), 0xff000000); /* one half leaves the other */
	CHECK_EQ(rd(REDIR_LO(6)), MASKED);     /* and its neighbours */
	teardown();
}

/* --- edge-triggered pins --- */

TEST(edge_pin_delivers_once_per_rising_edge)
{
	setup(2);
	route(4, 0x34, 1);
	vioapic_set_pin(io, 4, true);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].cpu, 1);
	CHECK_EQ(sent[0].vector, 0x34);
	CHECK(!sent[0].level);
	vioapic_set_pin(io, 4, true); /* still high: no edge */
	CHECK_EQ(nr_sent, 1);
	eoi(0x34); /* edge: nothing to redeliver */
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(rd(REDIR_LO(4)) & REMOTE_IRR, 0);
	vioapic_set_pin(io, 4, false);
	vioapic_set_pin(io, 4, true);
	CHECK_EQ(nr_sent, 2);
	teardown();
}

TEST(masked_edge_is_lost_not_held)
{
	setup(1);
	route(3, MASKED | 0x33, 0);
	vioapic_set_pin(io, 3, true);
	vioapic_set_pin(io, 3, false);
	CHECK_EQ(nr_sent, 0);
	wr(REDIR_LO(3), 0x33); /* 82093AA 3.2.4: masked edges are ignored */
	CHECK_EQ(nr_sent, 0);
	vioapic_set_pin(io, 3, true);
	CHECK_EQ(nr_sent, 1);
	teardown();
}

/* --- level-triggered pins --- */

TEST(level_pin_sets_remote_irr_until_the_eoi)
{
	setup(1);
	route(9, LEVEL | 0x39, 0);
	vioapic_set_pin(io, 9, true);
	CHECK_EQ(nr_sent, 1);
	CHECK(sent[0].level);
	CHECK(rd(REDIR_LO(9)) & REMOTE_IRR);
	vioapic_set_pin(io, 9, true); /* in service: no second message */
	CHECK_EQ(nr_sent, 1);
	eoi(0x38); /* another vector */
	CHECK(rd(REDIR_LO(9)) & REMOTE_IRR);
	CHECK_EQ(nr_sent, 1);
	vioapic_set_pin(io, 9, false);
	eoi(0x39);
	CHECK_EQ(rd(REDIR_LO(9)) & REMOTE_IRR, 0);
	CHECK_EQ(nr_sent, 1); /* deasserted before the EOI: done */
	teardown();
}

TEST(level_pin_still_high_at_the_eoi_is_delivered_again)
{
	setup(1);
	route(10, LEVEL | 0x3a, 0);
	vioapic_set_pin(io, 10, true);
	eoi(0x3a);
	CHECK_EQ(nr_sent, 2);
	CHECK(rd(REDIR_LO(10)) & REMOTE_IRR); /* set again by the new delivery */
	/* the EOI register (version 0x20) does the same as the LAPIC's broadcast */
	fake_mmio_write(&fake_vcpus[0], BASE + IOEOI, 4, 0x3a);
	CHECK_EQ(nr_sent, 3);
	vioapic_set_pin(io, 10, false);
	fake_mmio_write(&fake_vcpus[0], BASE + IOEOI, 4, 0x3a);
	CHECK_EQ(nr_sent, 3);
	CHECK_EQ(rd(REDIR_LO(10)) & REMOTE_IRR, 0);
	teardown();
}

TEST(unmasking_an_asserted_level_pin_delivers)
{
	setup(1);
	route(11, MASKED | LEVEL | 0x3b, 0);
	vioapic_set_pin(io, 11, true);
	CHECK_EQ(nr_sent, 0);
	CHECK_EQ(rd(REDIR_LO(11)) & REMOTE_IRR, 0);
	wr(REDIR_LO(11), LEVEL | 0x3b);
	CHECK_EQ(nr_sent, 1);
	CHECK(rd(REDIR_LO(11)) & REMOTE_IRR);
	wr(REDIR_LO(11), LEVEL | 0x3b); /* rewritten while in service: no repeat */
	CHECK_EQ(nr_sent, 1);
	teardown();
}

TEST(one_eoi_serves_every_pin_with_that_vector)
{
	setup(1);
	route(12, LEVEL | 0x3c, 0);
	route(13, LEVEL | 0x3c, 0);
	vioapic_set_pin(io, 12, true);
	vioapic_set_pin(io, 13, true);
	CHECK_EQ(nr_sent, 2);
	vioapic_set_pin(io, 12, false);
	eoi(0x3c);
	CHECK_EQ(rd(REDIR_LO(12)) & REMOTE_IRR, 0);
	CHECK(rd(REDIR_LO(13)) & REMOTE_IRR); /* redelivered: still high */
	CHECK_EQ(nr_sent, 3);
	teardown();
}

TEST(several_sources_on_one_pin_are_ored)
{
	setup(1);
	route(16, LEVEL | 0x40, 0);
	vioapic_set_pin_src(io, 16, 0, true);
	vioapic_set_pin_src(io, 16, 3, true);
	CHECK_EQ(nr_sent, 1);
	vioapic_set_pin_src(io, 16, 0, false); /* source 3 still drives it */
	eoi(0x40);
	CHECK_EQ(nr_sent, 2);
	vioapic_set_pin_src(io, 16, 3, false);
	eoi(0x40);
	CHECK_EQ(nr_sent, 2);
	/* edge: the pin rises once while any source holds it */
	route(17, 0x41, 0);
	vioapic_set_pin_src(io, 17, 1, true);
	vioapic_set_pin_src(io, 17, 2, true);
	vioapic_set_pin_src(io, 17, 1, false);
	CHECK_EQ(nr_sent, 3);
	vioapic_set_pin_src(io, 17, 2, false);
	vioapic_set_pin_src(io, 17, 1, true);
	CHECK_EQ(nr_sent, 4);
	/* out of range: ignored */
	vioapic_set_pin_src(io, 17, 8, true);
	vioapic_set_pin(io, VIOAPIC_PINS, true);
	CHECK_EQ(nr_sent, 4);
	teardown();
}

/* --- destinations and delivery modes --- */

TEST(physical_logical_and_broadcast_destinations)
{
	setup(4);
	route(1, 0x21, 2);
	vioapic_set_pin(io, 1, true);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].cpu, 2);
	route(2, 0x22, 0xff);
	vioapic_set_pin(io, 2, true);
	CHECK_EQ(nr_sent, 5); /* every vCPU */
	route(5, LOGICAL | 0x25, 0x05);
	vioapic_set_pin(io, 5, true);
	CHECK_EQ(nr_sent, 7);
	CHECK_EQ(sent[5].cpu, 0);
	CHECK_EQ(sent[6].cpu, 2);
	route(6, 0x26, 9); /* nobody */
	vioapic_set_pin(io, 6, true);
	CHECK_EQ(nr_sent, 7);
	teardown();
}

TEST(lowest_priority_goes_to_one_and_nmi_bypasses_the_lapic)
{
	setup(4);
	route(7, LOGICAL | DM_LOWEST | 0x27, 0x0e);
	vioapic_set_pin(io, 7, true);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].cpu, 1);
	route(8, DM_NMI, 3);
	vioapic_set_pin(io, 8, true);
	CHECK_EQ(nr_sent, 1);
	CHECK(fake_vcpus[3].nmi_pending);
	CHECK(!fake_vcpus[0].nmi_pending);
	CHECK_EQ(fake_kicks[3], 1);
	teardown();
}

/* --- pins mirrored onto the machine's I/O APIC (service VM INTx) --- */

TEST(unclaimed_pins_are_mirrored_claimed_ones_are_not)
{
	setup(1);
	vioapic_set_mirror(io, &mirror);
	vioapic_claim_pin(io, 4);
	vioapic_claim_pin(io, VIOAPIC_PINS); /* ignored */
	route(20, LEVEL | ACTIVE_LOW | 0x50, 0);
	CHECK_EQ(nr_mirror_rte, 2); /* one per half written */
	CHECK_EQ(mirror_rte_pin, 20);
	CHECK_EQ(mirror_rte, LEVEL | ACTIVE_LOW | 0x50);
	route(4, LEVEL | 0x51, 0);
	CHECK_EQ(nr_mirror_rte, 2);
	/* the device (not this model) decides whether a mirrored pin is still high */
	vioapic_set_pin(io, 20, true);
	CHECK_EQ(nr_sent, 1);
	eoi(0x50);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(nr_mirror_eoi, 1);
	CHECK_EQ(mirror_eoi_pin, 20);
	vioapic_set_pin(io, 4, true);
	eoi(0x51); /* claimed: redelivered here, never passed on */
	CHECK_EQ(nr_sent, 3);
	CHECK_EQ(nr_mirror_eoi, 1);
	teardown();
}
