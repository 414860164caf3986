// SPDX-License-Identifier: MIT
/*
 * Host tests of a guest's PCI bus as firmware sees it: the direct-kernel
 * bridge, the firmware flavor's Q35 bridge with PCIEXBAR, its ECAM over 256
 * buses, the ICH9 LPC bridge's IDs and registers, and 0xCF9 left alone.
 */
#include <keel/dm.h>
#include <keel/guest.h>
#include <keel/vpci_bus.h>
#include "fake_vm.h"
#include "test.h"

extern long fake_pages_live;

/* --- stand-ins: keel-dm serves no device here --- */
bool dm_owns_dev(const struct vm *vm, u32 dev)
{
	(void)vm, (void)dev;
	return false;
}

int dm_access(struct vcpu *v, u32 type, u64 addr, u8 size, bool write, u64 *val)
{
	(void)v, (void)type, (void)addr, (void)size, (void)write, (void)val;
	return -EFAULT;
}

static struct vcpu *cpu0 = &fake_vcpus[0];

/* A configuration read through 0xCF8/0xCFC, as PEI does it. */
static u32 conf1_read(u32 dev, u32 off, u8 size)
{
	fake_out(cpu0, 0xcf8, 4, 0x80000000u | dev << 11 | (off & 0xfc));
	return fake_in(cpu0, (u16)(0xcfc + (off & 3)), size);
}

static void conf1_write(u32 dev, u32 off, u8 size, u32 val)
{
	fake_out(cpu0, 0xcf8, 4, 0x80000000u | dev << 11 | (off & 0xfc));
	fake_out(cpu0, (u16)(0xcfc + (off & 3)), size, val);
}

static u64 ecam(u32 bus, u32 dev, u32 off)
{
	return GUEST_FW_ECAM_BASE + ((u64)bus << 20 | dev << 15 | off);
}

static void fw_bus(void)
{
	fake_vm_reset(1);
	CHECK_EQ(vpci_bus_create(&fake_vm, GUEST_FW_ECAM_BASE, GUEST_FW_ECAM_SIZE, true), 0);
	CHECK_EQ(vlpc_attach(&fake_vm), 0);
}

/* Direct-kernel guests keep Keel's own bridge, and no LPC. */
TEST(kernel_flavor_bridge_is_keels)
{
	fake_vm_reset(1);
	CHECK_EQ(vpci_bus_create(&fake_vm, GUEST_ECAM_BASE, VPCI_ECAM_BUS_SIZE, false), 0);
	CHECK_EQ(conf1_read(0, 0, 4), 0x48424b45);
	CHECK_EQ(conf1_read(31, 0, 4), 0xffffffff);
	conf1_write(0, 0x60, 4, 0xb0000001); /* no PCIEXBAR there */
	CHECK_EQ(conf1_read(0, 0x60, 4), 0);
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

/* OVMF takes the flavor from 0:0.0's device ID and programs PCIEXBAR, lower half last. */
TEST(q35_bridge_and_pciexbar)
{
	fw_bus();
	CHECK_EQ(conf1_read(0, 0x02, 2), 0x29c0);
	CHECK_EQ(conf1_read(0, 0x00, 2), 0x8086);
	CHECK_EQ(conf1_read(0, 0x08, 4) >> 8, 0x060000);
	conf1_write(0, 0x60, 4, 0);
	conf1_write(0, 0x64, 4, 0);
	conf1_write(0, 0x60, 4, 0xb0000001);
	CHECK_EQ(conf1_read(0, 0x60, 4), 0xb0000001);
	CHECK_EQ(conf1_read(0, 0x64, 4), 0);
	conf1_write(0, 0x61, 1, 0x12); /* a byte inside it */
	CHECK_EQ(conf1_read(0, 0x60, 4), 0xb0001201);
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

/* DXE reads through ECAM at 0xB0000000: bus 0 answers, buses 1-255 are empty. */
TEST(q35_ecam_covers_256_buses)
{
	fw_bus();
	CHECK_EQ(fake_mmio_read(cpu0, ecam(0, 0, 0), 4), 0x29c08086);
	CHECK_EQ(fake_mmio_read(cpu0, ecam(0, 31, 0), 4), 0x29188086);
	CHECK_EQ(fake_mmio_read(cpu0, ecam(1, 0, 0), 4), 0xffffffff);
	CHECK_EQ(fake_mmio_read(cpu0, ecam(255, 31, 0xffc), 4), 0xffffffff);
	CHECK_EQ(fake_mmio_read(cpu0, ecam(0, 31, 0x100), 4), 0); /* LPC: no extended space */
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

/* The ISA bridge class makes OVMF look for COM1 and the keyboard under it. */
TEST(lpc_ids_and_class)
{
	fw_bus();
	CHECK_EQ(conf1_read(31, 0x00, 4), 0x29188086);
	CHECK_EQ(conf1_read(31, 0x08, 4), 0x06010002);
	CHECK_EQ(conf1_read(31, 0x0a, 2), 0x0601);
	CHECK_EQ(conf1_read(31, 0x0e, 1), 0);
	conf1_write(31, 0x00, 4, 0x12345678); /* read-only */
	conf1_write(31, 0x08, 4, 0);
	CHECK_EQ(conf1_read(31, 0x00, 4), 0x29188086);
	CHECK_EQ(conf1_read(31, 0x08, 4), 0x06010002);
	CHECK_EQ(conf1_read(31, 0x2c, 4), 0); /* no subsystem IDs */
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

/* What PlatformPei writes: PMBASE (bit 0 reads 1), ACPI_CNTL, the command register, PIRQs, RCBA. */
TEST(lpc_registers_keep_what_is_written)
{
	fw_bus();
	CHECK_EQ(conf1_read(31, 0x40, 4), 1);
	conf1_write(31, 0x40, 4, 0x600);
	CHECK_EQ(conf1_read(31, 0x40, 4), 0x601);
	CHECK_EQ(conf1_read(31, 0x40, 4) & 0xff80, 0x600);
	conf1_write(31, 0x44, 1, 0x80);
	CHECK_EQ(conf1_read(31, 0x44, 1), 0x80);
	conf1_write(31, 0x04, 2, 0x0001);
	CHECK_EQ(conf1_read(31, 0x04, 2), 0x0001);
	conf1_write(31, 0x06, 2, 0xffff); /* status: not kept */
	CHECK_EQ(conf1_read(31, 0x06, 2), 0);
	conf1_write(31, 0x60, 4, 0x0b0b0a0a);
	CHECK_EQ(conf1_read(31, 0x60, 4), 0x0b0b0a0a);
	CHECK_EQ(conf1_read(31, 0x62, 1), 0x0b);
	conf1_write(31, 0xf0, 4, 0xfed1c001);
	CHECK_EQ(fake_mmio_read(cpu0, ecam(0, 31, 0xf0), 4), 0xfed1c001);
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

static u32 rst_written;

static int rst_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)v, (void)opaque, (void)port, (void)size;
	rst_written = val;
	return 0;
}

/* 0xCF8 takes only the address: 0xCF9 is the reset control register, not the bus's. */
TEST(conf1_address_is_one_port)
{
	struct io_handler rst = { 0xcf9, 1, NULL, rst_write, NULL, "reset control" };

	fw_bus();
	CHECK_EQ(vm_register_io(&fake_vm, &rst), 0); /* after the bus, as guest.c does */
	fake_out(cpu0, 0xcf8, 4, 0x8000f840);
	fake_out(cpu0, 0xcf9, 1, 0x06);
	CHECK_EQ(rst_written, 0x06);
	CHECK_EQ(fake_in(cpu0, 0xcf8, 4), 0x8000f840);
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}
