// SPDX-License-Identifier: MIT
/*
 * Host tests of CPUID exits: the leaves Keel answers itself, the ones it
 * filters and the ones it passes through, against this machine's own CPUID.
 */
#include <arch/x86/cpu.h>
#include <keel/vm.h>
#include "fake_clock.h"
#include "fake_exit.h"
#include "test.h"

/* CPUID.1 (SDM 2A tables 3-10, 3-11) and the bits Keel changes elsewhere */
#define C1_ECX_MONITOR BIT(3)
#define C1_ECX_SMX BIT(6)
#define C1_ECX_OSXSAVE BIT(27)
#define C1_EDX_APIC BIT(9)
#define C1_EDX_ACPI BIT(22)
#define C7_ECX_WAITPKG BIT(5)
#define CR4_OSXSAVE BIT(18)

static struct vm vm;
static struct vcpu vcpus[4];

static void setup(u32 nr)
{
	memset(&vm, 0, sizeof(vm));
	memset(vcpus, 0, sizeof(vcpus));
	vm.nr_vcpus = nr;
	for (u32 i = 0; i < nr; i++) {
		vcpus[i].vm = &vm;
		vcpus[i].id = i;
		vm.vcpus[i] = &vcpus[i];
	}
	fake_exit_reset();
	fake_tsc_hz = 2800000000ULL;
}

/* CPUID in the guest on vCPU id. */
static struct cpuid_regs guest(u32 id, u32 leaf, u32 sub)
{
	struct vcpu *v = &vcpus[id];
	struct vm_exit e = { .reason = EXIT_CPUID };
	u64 skipped = fake_skipped;

	v->gpr[RAX] = 0xffffffff00000000ULL | leaf; /* EAX and ECX only */
	v->gpr[RCX] = 0xffffffff00000000ULL | sub;
	v->gpr[RBX] = v->gpr[RDX] = ~0ULL;
	CHECK_EQ(exit_cpuid(v, &e), ACT_RESUME);
	CHECK_EQ(fake_insn_opcode[0], 0x0f);
	CHECK_EQ(fake_insn_opcode[1], 0xa2);
	CHECK_EQ(fake_skipped - skipped, 2);
	CHECK_EQ((v->gpr[RAX] | v->gpr[RBX] | v->gpr[RCX] | v->gpr[RDX]) >> 32, 0);
	return (struct cpuid_regs){ (u32)v->gpr[RAX], (u32)v->gpr[RBX], (u32)v->gpr[RCX],
				    (u32)v->gpr[RDX] };
}

static void check_regs(struct cpuid_regs got, struct cpuid_regs want, u32 leaf, u32 sub)
{
	if (got.eax != want.eax || got.ebx != want.ebx || got.ecx != want.ecx ||
	    got.edx != want.edx) {
		fprintf(stderr, "  leaf %#x.%u: %08x %08x %08x %08x, want %08x %08x %08x %08x\n",
			leaf, sub, got.eax, got.ebx, got.ecx, got.edx, want.eax, want.ebx, want.ecx,
			want.edx);
		test_failed_checks++;
	}
}

static const struct cpuid_regs zero = { 0, 0, 0, 0 };

/* --- Keel's own leaves --- */

TEST(hypervisor_leaves_name_keel_and_its_clocks)
{
	static const u32 empty[] = { 0x40000001, 0x4000000f, 0x40000011, 0x40000100, 0x4000ffff };
	struct cpuid_regs r;
	char sig[13] = { 0 };

	setup(1);
	r = guest(0, 0x40000000, 0);
	CHECK_EQ(r.eax, 0x40000010); /* the highest hypervisor leaf */
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	CHECK_STR(sig, "KeelKeelKeel");
	/* the timing leaf: TSC and APIC bus in kHz */
	check_regs(guest(0, 0x40000010, 0), (struct cpuid_regs){ 2800000, 1000000, 0, 0 },
		   0x40000010, 0);
	for (u32 i = 0; i < ARRAY_SIZE(empty); i++)
		check_regs(guest(0, empty[i], 0), zero, empty[i], 0);
	/* past Keel's range: the CPU's */
	check_regs(guest(0, 0x40010000, 0), cpuid_count(0x40010000, 0), 0x40010000, 0);
}

/* --- filtered leaves --- */

TEST(leaf_1_topology_and_features)
{
	struct cpuid_regs host = cpuid_count(1, 0), r;

	setup(3);
	r = guest(2, 1, 0);
	CHECK_EQ(r.eax, host.eax); /* family, model, stepping */
	/* SDM 2A table 3-8: EBX[31:24] APIC ID, [23:16] logical processors */
	CHECK_EQ(r.ebx, (host.ebx & 0xffff) | 3u << 16 | 2u << 24);
	/* no MONITOR, VMX or SMX; the vLAPIC's x2APIC and TSC deadline; a hypervisor */
	CHECK_EQ(r.ecx, (host.ecx &
			 ~(u32)(C1_ECX_MONITOR | CPUID_1_ECX_VMX | C1_ECX_SMX | C1_ECX_OSXSAVE)) |
				CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC |
				CPUID_1_ECX_TSC_DEADLINE);
	CHECK_EQ(r.edx, (host.edx | C1_EDX_APIC) & ~(u32)C1_EDX_ACPI);
	CHECK_EQ(guest(0, 1, 0).ebx >> 24, 0);
}

TEST(leaf_1_osxsave_mirrors_the_guest_cr4)
{
	setup(1);
	fake_regs[VCPU_CR4] = CR4_OSXSAVE;
	CHECK(guest(0, 1, 0).ecx & C1_ECX_OSXSAVE);
	fake_regs[VCPU_CR4] = 0;
	CHECK_EQ(guest(0, 1, 0).ecx & C1_ECX_OSXSAVE, 0);
}

TEST(monitor_and_power_leaves_are_empty)
{
	setup(1);
	check_regs(guest(0, 5, 0), zero, 5, 0);
	check_regs(guest(0, 6, 0), zero, 6, 0);
}

TEST(leaf_7_hides_waitpkg)
{
	struct cpuid_regs host = cpuid_count(7, 0), r;

	setup(1);
	r = guest(0, 7, 0);
	host.ecx &= ~(u32)C7_ECX_WAITPKG;
	check_regs(r, host, 7, 0);
	check_regs(guest(0, 7, 1), cpuid_count(7, 1), 7, 1); /* other subleaves as they are */
}

TEST(x2apic_topology_is_one_thread_per_core)
{
	/* SDM 2A leaf 0BH: ECX[15:8] level type (1 SMT, 2 core), EDX the x2APIC ID */
	static const u32 leaves[] = { 0xb, 0x1f };

	setup(3);
	for (u32 i = 0; i < ARRAY_SIZE(leaves); i++) {
		u32 leaf = leaves[i];

		check_regs(guest(2, leaf, 0), (struct cpuid_regs){ 0, 1, 0x100, 2 }, leaf, 0);
		check_regs(guest(2, leaf, 1), (struct cpuid_regs){ 2, 3, 0x201, 2 }, leaf, 1);
		check_regs(guest(1, leaf, 2), (struct cpuid_regs){ 0, 0, 2, 1 }, leaf, 2);
	}
	/* the shift is the fewest bits that number every x2APIC ID: QEMU's, and what Linux sizes by */
	setup(1);
	check_regs(guest(0, 0xb, 1), (struct cpuid_regs){ 0, 1, 0x201, 0 }, 0xb, 1);
	setup(2);
	CHECK_EQ(guest(1, 0xb, 1).eax, 1);
	setup(4);
	CHECK_EQ(guest(3, 0xb, 1).eax, 2);
}

/* Intel leaf 4 EAX[31:26]: core IDs in the package - 1, as many as the x2APIC shift allows. */
TEST(cache_leaf_counts_the_vms_cores)
{
	static const u32 cores[] = { 0, 1, 3, 3 }; /* for 1, 2, 3, 4 vCPUs */
	struct cpuid_regs host = cpuid_count(4, 0);

	if (!(host.eax & 0x1f))
		return; /* no leaf 4 on this CPU (AMD): passed through as zeroes */
	for (u32 n = 1; n <= 4; n++) {
		struct cpuid_regs got;

		setup(n);
		got = guest(0, 4, 0);
		CHECK_EQ(got.eax >> 26, cores[n - 1]);
		CHECK_EQ(got.eax & 0x03ffffff, host.eax & 0x03ffffff);
		CHECK_EQ(got.ebx, host.ebx);
	}
}

TEST(extended_leaves_hide_svm_and_count_cores)
{
	struct cpuid_regs host;

	setup(3);
	host = cpuid_count(0x80000001, 0);
	host.ecx &= ~(u32)CPUID_80000001_ECX_SVM;
	check_regs(guest(0, 0x80000001, 0), host, 0x80000001, 0);
	host = cpuid_count(0x80000008, 0); /* AMD: ECX[7:0] = cores - 1, ECX[15:12] their ID bits */
	host.ecx = (host.ecx & ~0xf0ffu) | 2 << 12 | 2;
	check_regs(guest(0, 0x80000008, 0), host, 0x80000008, 0);
	/* SVM features, AMD topology and memory encryption: none */
	check_regs(guest(0, 0x8000000a, 0), zero, 0x8000000a, 0);
	check_regs(guest(0, 0x8000001e, 0), zero, 0x8000001e, 0);
	check_regs(guest(0, 0x8000001f, 0), zero, 0x8000001f, 0);
}

/* --- the rest passes through --- */

TEST(other_leaves_are_the_cpus)
{
	static const struct {
		u32 leaf, sub;
	} same[] = { { 0, 0 },		{ 2, 0 },	   { 0xd, 0 },	      { 0xd, 1 },
		     { 0x80000000, 0 }, { 0x80000002, 0 }, { 0x80000003, 0 }, { 0x80000004, 0 },
		     { 0x80000006, 0 }, { 0x80000007, 0 } };

	setup(2);
	for (u32 i = 0; i < ARRAY_SIZE(same); i++)
		check_regs(guest(1, same[i].leaf, same[i].sub),
			   cpuid_count(same[i].leaf, same[i].sub), same[i].leaf, same[i].sub);
}

TEST(no_cpuid_at_rip_kills_the_vm)
{
	setup(1);
	fake_insn_len = 0;
	vcpus[0].gpr[RAX] = 0x40000000;
	vcpus[0].gpr[RBX] = 0x1234;
	CHECK_EQ(exit_cpuid(&vcpus[0], &(struct vm_exit){ .reason = EXIT_CPUID }), ACT_STOP);
	CHECK_EQ(fake_kills, 1);
	CHECK_EQ(fake_skipped, 0);
	CHECK_EQ(vcpus[0].gpr[RBX], 0x1234); /* registers untouched */
}
