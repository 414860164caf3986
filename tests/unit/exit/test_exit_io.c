// SPDX-License-Identifier: MIT
/* Host tests of port I/O exits: INS/OUTS through fake guest page tables, REP chunks, faults, keel-dm. */
#include <keel/dm.h>
#include <keel/guest_walk.h>
#include <keel/irq_route.h>
#include <keel/sched.h>
#include <keel/vlapic.h>
#include <keel/vm.h>
#include <keel/vpci_bus.h>
#include "fake_exit.h"
#include "test.h"

/* --- the guest: 64 KiB of RAM, a few linear pages mapped onto it, the instruction at RIP --- */
#define RAM_SIZE 0x10000
static u8 ram[RAM_SIZE];

struct fake_page {
	u64 lin, gpa;
	bool writable;
};
static struct fake_page pages[8];
static u32 nr_pages, translations;
static enum x86_mode mode;
static u8 insn[X86_MAX_INSN_LEN];
static size_t insn_n;
static struct x86_fault raised_fault;
static u32 faults_raised;

static void map(u64 lin, u64 gpa, bool writable)
{
	pages[nr_pages++] = (struct fake_page){ lin, gpa, writable };
}

void guest_paging(struct vcpu *v, struct x86_paging *p)
{
	(void)v;
	memset(p, 0, sizeof(*p));
	p->cr0 = fake_regs[VCPU_CR0];
}

int guest_translate(struct vcpu *v, const struct x86_paging *p, u64 linear, u32 access, gpa_t *gpa,
		    struct x86_fault *f)
{
	bool write = access & X86_ACC_WRITE;

	(void)v, (void)p;
	translations++;
	for (u32 i = 0; i < nr_pages; i++) {
		if (pages[i].lin != (linear & ~0xfffULL))
			continue;
		if (write && !pages[i].writable)
			break;
		*gpa = pages[i].gpa + (linear & 0xfff);
		return 0;
	}
	*f = (struct x86_fault){ X86_EXC_PF, (write ? X86_PF_W : 0) | 0, linear };
	for (u32 i = 0; i < nr_pages; i++)
		if (pages[i].lin == (linear & ~0xfffULL))
			f->error |= X86_PF_P; /* present, not writable */
	return X86_FAULT;
}

void guest_raise(struct vcpu *v, const struct x86_fault *f)
{
	(void)v;
	raised_fault = *f;
	faults_raised++;
}

enum x86_mode guest_mode(struct vcpu *v)
{
	(void)v;
	return mode;
}

int guest_fetch(struct vcpu *v, const struct x86_paging *p, u8 *buf, size_t len, size_t *got,
		struct x86_fault *f)
{
	(void)v, (void)p, (void)f;
	*got = MIN(len, insn_n);
	memcpy(buf, insn, *got);
	return 0;
}

int vm_read(struct vm *vm, gpa_t gpa, void *buf, size_t len)
{
	(void)vm;
	if (gpa + len > RAM_SIZE)
		return -EFAULT;
	memcpy(buf, ram + gpa, len);
	return 0;
}

int vm_write(struct vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	(void)vm;
	if (gpa + len > RAM_SIZE)
		return -EFAULT;
	memcpy(ram + gpa, buf, len);
	return 0;
}

/* --- keel-dm's control device, scheduler and vLAPIC, for vmm/control/dm_forward.c --- */
static struct kctl_ioreq slots[KCTL_MAX_VMS][KCTL_IOREQ_VCPUS];
static struct kctl_doorbells bells[KCTL_MAX_VMS];

struct kctl_ioreq *control_ioreq(u32 vm_id, u32 vcpu)
{
	return &slots[vm_id][vcpu];
}

struct kctl_doorbells *control_doorbells(u32 vm_id)
{
	return &bells[vm_id];
}

void control_raise(u32 irq)
{
	(void)irq;
}

void sched_kick(struct vcpu *v)
{
	(void)v;
}

struct vm *vm_get(u32 id)
{
	(void)id;
	return NULL;
}

void vm_put(struct vm *vm)
{
	(void)vm;
}

void vlapic_set_irq(struct vcpu *v, u8 vector)
{
	(void)v, (void)vector;
}

bool irq_route_from_msi(struct irq_route *r, struct vm *vm, u64 addr, u32 data)
{
	(void)r, (void)vm, (void)addr, (void)data;
	return false;
}

bool vpci_bus_used(struct vm *vm, u32 dev)
{
	(void)vm, (void)dev;
	return false;
}

/* --- devices: a port that records what it got and counts reads, and one keel-dm answers --- */
static u32 written[4096], nr_written, next_read, stop_after;
static u8 sizes_seen;

static int rec_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	(void)v, (void)opaque, (void)port;
	sizes_seen |= size;
	*val = 0x11223344 + next_read++;
	return 0;
}

static int rec_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	(void)opaque, (void)port;
	sizes_seen |= size;
	written[nr_written++ % 4096] = val;
	if (stop_after && nr_written == stop_after)
		v->vm->state = VM_STOPPED; /* as the test device's exit port does */
	return 0;
}

/* Like vpci_bus.c's configuration data port for a function keel-dm serves. */
static int dm_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	u64 x = 0;
	int ret = dm_access(v, KCTL_IOREQ_CFG, 0x2000 + (port & 3), size, false, &x);

	(void)opaque;
	*val = (u32)x;
	return ret;
}

static int dm_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	u64 x = val;

	(void)opaque;
	return dm_access(v, KCTL_IOREQ_CFG, 0x2000 + (port & 3), size, true, &x);
}

static struct vm vm;
static struct vcpu vcpu;

#define REC_PORT 0xe0
#define DM_PORT 0xcfc

static void setup(enum x86_mode m)
{
	static const struct io_handler rec = { REC_PORT, 4, rec_read, rec_write, NULL, "recorder" };
	static const struct io_handler dm = { DM_PORT, 4, dm_read, dm_write, NULL, "keel-dm" };

	fake_exit_reset();
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(ram, 0, sizeof(ram));
	memset(slots, 0, sizeof(slots));
	nr_pages = translations = faults_raised = 0;
	nr_written = next_read = stop_after = 0;
	sizes_seen = 0;
	vm.id = 1;
	vm.state = VM_RUNNING;
	vm.nr_vcpus = 1;
	vm.vcpus[0] = &vcpu;
	vm.io[0] = rec;
	vm.io[1] = dm;
	vm.nr_io = 2;
	vcpu.vm = &vm;
	mode = m;
	fake_regs[VCPU_CR0] = m == X86_MODE_REAL ? 0 : CR0_PE | CR0_PG;
	fake_regs[VCPU_RIP] = 0x4000;
	for (int s = SEG_ES; s <= SEG_GS; s++)
		fake_segs[s] = (struct vcpu_segment){ 0x10, 0x93 | SEG_ATTR_DB, 0xffffffff, 0 };
	insn_n = 0;
}

static struct vm_exit io_exit(u16 port, u8 size, bool in, bool rep, u8 addr_size, u32 len)
{
	struct vm_exit e = { .reason = EXIT_IO, .insn_len = len };

	e.io.port = port;
	e.io.size = size;
	e.io.in = in;
	e.io.string = true;
	e.io.rep = rep;
	e.io.addr_size = addr_size;
	e.io.seg_valid = addr_size != 0;
	e.io.seg = SEG_DS;
	return e;
}

TEST(rep_outsb_crosses_a_page_onto_another_guest_physical_page)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	map(0x8000, 0x9000, true); /* the next linear page is elsewhere in RAM */
	for (u32 i = 0; i < 16; i++)
		ram[(i < 8 ? 0x3ff8 : 0x9000 - 8) + i] = (u8)(0xa0 + i);
	vcpu.gpr[RSI] = 0x7ff8;
	vcpu.gpr[RCX] = 16;
	e = io_exit(REC_PORT, 1, false, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(nr_written, 16);
	for (u32 i = 0; i < 16; i++)
		CHECK_EQ(written[i], 0xa0 + i);
	CHECK_EQ(vcpu.gpr[RSI], 0x8008);
	CHECK_EQ(vcpu.gpr[RCX], 0);
	CHECK_EQ(fake_skipped, 2);
	CHECK_EQ(faults_raised, 0);
}

TEST(rep_insw_with_df_walks_down)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	fake_regs[VCPU_RFLAGS] = RFLAGS_DF;
	vcpu.gpr[RDI] = 0x7006;
	vcpu.gpr[RCX] = 3;
	e = io_exit(REC_PORT, 2, true, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(ram[0x3006] | ram[0x3007] << 8, 0x3344); /* the first read at the top */
	CHECK_EQ(ram[0x3004] | ram[0x3005] << 8, 0x3345);
	CHECK_EQ(ram[0x3002] | ram[0x3003] << 8, 0x3346);
	CHECK_EQ(ram[0x3008], 0);
	CHECK_EQ(ram[0x3001], 0);
	CHECK_EQ(vcpu.gpr[RDI], 0x7000);
	CHECK_EQ(sizes_seen, 2);
	CHECK_EQ(fake_skipped, 2);
}

TEST(an_insd_element_split_over_two_pages_lands_in_both)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	map(0x8000, 0x9000, true);
	vcpu.gpr[RDI] = 0x7ffe;
	e = io_exit(REC_PORT, 4, true, false, 8, 1); /* insd, no REP */
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(ram[0x3ffe], 0x44);
	CHECK_EQ(ram[0x3fff], 0x33);
	CHECK_EQ(ram[0x9000], 0x22);
	CHECK_EQ(ram[0x9001], 0x11);
	CHECK_EQ(vcpu.gpr[RDI], 0x8002);
	CHECK_EQ(fake_skipped, 1);
}

TEST(a_long_rep_runs_in_chunks_with_rip_kept_until_done)
{
	struct vm_exit e;
	u32 exits = 0;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	vcpu.gpr[RSI] = 0x7000;
	vcpu.gpr[RCX] = 1300;
	fake_regs[VCPU_RIP] = 0x4000;
	do {
		e = io_exit(REC_PORT, 1, false, true, 8, 2);
		CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
		exits++;
		if (exits == 1) {
			CHECK_EQ(vcpu.gpr[RCX], 1300 - 512);
			CHECK_EQ(vcpu.gpr[RSI], 0x7000 + 512);
			CHECK_EQ(fake_regs[VCPU_RIP], 0x4000); /* runs again for the rest */
		}
		vcpu.gpr[RSI] &= 0x7fff; /* stay in the mapped page */
	} while (fake_regs[VCPU_RIP] == 0x4000 && exits < 10);
	CHECK_EQ(exits, 3);
	CHECK_EQ(nr_written, 1300);
	CHECK_EQ(vcpu.gpr[RCX], 0);
	CHECK_EQ(fake_regs[VCPU_RIP], 0x4002);
}

TEST(a_not_present_page_stops_at_the_boundary_with_the_guests_pf)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true); /* 0x8000 is not mapped */
	vcpu.gpr[RDI] = 0x7ff8;
	vcpu.gpr[RCX] = 4;
	e = io_exit(REC_PORT, 4, true, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(next_read, 2); /* the third element's page faulted before its port read */
	CHECK_EQ(vcpu.gpr[RCX], 2);
	CHECK_EQ(vcpu.gpr[RDI], 0x8000);
	CHECK_EQ(faults_raised, 1);
	CHECK_EQ(raised_fault.vector, X86_EXC_PF);
	CHECK_EQ(raised_fault.address, 0x8000);
	CHECK_EQ(raised_fault.error, X86_PF_W);
	CHECK_EQ(fake_skipped, 0); /* RIP stays on the instruction */
}

TEST(outs_from_a_read_only_page_works_ins_into_it_faults)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, false);
	vcpu.gpr[RSI] = vcpu.gpr[RDI] = 0x7100;
	e = io_exit(REC_PORT, 2, false, false, 8, 1);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(nr_written, 1);
	e = io_exit(REC_PORT, 2, true, false, 8, 1);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(faults_raised, 1);
	CHECK_EQ(raised_fault.error, X86_PF_P | X86_PF_W);
	CHECK_EQ(next_read, 0);
	CHECK_EQ(vcpu.gpr[RDI], 0x7100);
}

TEST(address_size_prefix_uses_esi_and_ecx_and_zero_extends_them)
{
	static const u8 bytes[] = { 0x67, 0xf3, 0x6e }; /* addr32 rep outsb */
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	memcpy(insn, bytes, sizeof(bytes));
	insn_n = sizeof(bytes);
	vcpu.gpr[RSI] = 0xdead000000007000ULL;
	vcpu.gpr[RCX] = 0x100000003ULL;
	e = io_exit(REC_PORT, 1, false, true, 0, 3); /* QEMU's SVM: no address size given */
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(nr_written, 3);
	CHECK_EQ(vcpu.gpr[RSI], 0x7003);
	CHECK_EQ(vcpu.gpr[RCX], 0);
	CHECK_EQ(fake_skipped, 3);
}

TEST(fs_override_in_64_bit_mode_adds_fs_base)
{
	static const u8 bytes[] = { 0x64, 0xf3, 0x6f }; /* rep outsl %fs:(%rsi) */
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	fake_segs[SEG_FS].base = 0x7000;
	fake_segs[SEG_DS].base = 0x5000; /* ignored in 64-bit mode */
	memcpy(insn, bytes, sizeof(bytes));
	insn_n = sizeof(bytes);
	ram[0x3010] = 0x5a;
	vcpu.gpr[RSI] = 0x10;
	vcpu.gpr[RCX] = 1;
	e = io_exit(REC_PORT, 4, false, true, 0, 3);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(written[0], 0x5a);
	CHECK_EQ(faults_raised, 0);
	/* VT-x says the segment itself: the bytes are not read */
	insn_n = 0;
	vcpu.gpr[RSI] = 0x10;
	vcpu.gpr[RCX] = 1;
	e = io_exit(REC_PORT, 4, false, true, 8, 3);
	e.io.seg = SEG_FS;
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(nr_written, 2);
	CHECK_EQ(written[1], 0x5a);
}

TEST(real_mode_wraps_si_at_16_bits_and_checks_the_limit)
{
	struct vm_exit e;

	setup(X86_MODE_REAL);
	map(0x10000, 0x5000, true); /* DS:FFFF */
	map(0x1000, 0x1000, true);  /* DS:0000 after the wrap */
	fake_segs[SEG_DS] = (struct vcpu_segment){ 0x100, 0x93, 0xffff, 0x1000 };
	vcpu.gpr[RSI] = 0xabcd0000ULL | 0xffff;
	vcpu.gpr[RCX] = 0xffff0002ULL;
	e = io_exit(REC_PORT, 1, false, true, 2, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(nr_written, 2);
	CHECK_EQ(vcpu.gpr[RSI], 0xabcd0001ULL); /* SI wrapped, the rest kept */
	CHECK_EQ(vcpu.gpr[RCX], 0xffff0000ULL);
	/* a word at offset 0xffff runs past the 64 KiB limit: #GP(0) */
	vcpu.gpr[RSI] = 0xffff;
	e = io_exit(REC_PORT, 2, false, false, 2, 1);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(faults_raised, 1);
	CHECK_EQ(raised_fault.vector, X86_EXC_GP);
}

TEST(protected_mode_refuses_a_read_only_segment_for_ins)
{
	struct vm_exit e;

	setup(X86_MODE_PROT32);
	map(0x7000, 0x3000, true);
	fake_segs[SEG_ES].attr = 0x91 | SEG_ATTR_DB; /* read-only data */
	vcpu.gpr[RDI] = 0x7000;
	e = io_exit(REC_PORT, 1, true, false, 4, 1);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(faults_raised, 1);
	CHECK_EQ(raised_fault.vector, X86_EXC_GP);
	CHECK_EQ(next_read, 0);
}

TEST(rep_with_rcx_zero_does_nothing_but_skip)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	vcpu.gpr[RCX] = 0;
	e = io_exit(REC_PORT, 1, true, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(next_read, 0);
	CHECK_EQ(translations, 0);
	CHECK_EQ(fake_skipped, 2);
}

TEST(bytes_that_are_not_ins_or_outs_stop_the_vm)
{
	static const u8 bytes[] = { 0xf3, 0x6c }; /* insb, where the exit said outsb */
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	memcpy(insn, bytes, sizeof(bytes));
	insn_n = sizeof(bytes);
	vcpu.gpr[RCX] = 1;
	e = io_exit(REC_PORT, 1, false, true, 0, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_STOP);
	CHECK_EQ(fake_kills, 1);
	CHECK_EQ(nr_written, 0);
}

TEST(memory_outside_ram_stops_the_vm)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0xfed40000, true); /* device memory, not RAM */
	vcpu.gpr[RSI] = 0x7000;
	e = io_exit(REC_PORT, 1, false, false, 8, 1);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_STOP);
	CHECK_EQ(fake_kills, 1);
}

TEST(a_device_that_stops_the_vm_ends_the_rep)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	stop_after = 3;
	vcpu.gpr[RSI] = 0x7000;
	vcpu.gpr[RCX] = 10;
	e = io_exit(REC_PORT, 1, false, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_STOP);
	CHECK_EQ(nr_written, 3);
	CHECK_EQ(vcpu.gpr[RCX], 7);
}

/* keel-dm's side: the slot holds a request; answer it as keel-dm would. */
static void dm_answer(u32 data)
{
	struct kctl_ioreq *q = &slots[1][0];

	CHECK_EQ(q->state, KCTL_IOREQ_PENDING);
	q->data = data;
	q->result = 0;
	q->state = KCTL_IOREQ_DONE;
	dm_update_state(&vcpu);
}

TEST(rep_insd_from_a_keel_dm_port_waits_for_each_answer)
{
	struct vm_exit e;
	u32 got;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	vcpu.gpr[RDI] = 0x7000;
	vcpu.gpr[RCX] = 3;
	for (u32 i = 0; i < 3; i++) {
		e = io_exit(DM_PORT, 4, true, true, 8, 2);
		CHECK_EQ(exit_io(&vcpu, &e), ACT_WAIT);
		CHECK_EQ(vcpu.state, VCPU_WAIT_IO);
		CHECK_EQ(vcpu.gpr[RCX], 3 - i); /* the elements before it are done */
		CHECK_EQ(slots[1][0].addr, 0x2000);
		CHECK_EQ(slots[1][0].write, 0);
		dm_answer(0xc0de0000 + i);
		CHECK_EQ(vcpu.state, VCPU_RUNNABLE);
	}
	e = io_exit(DM_PORT, 4, true, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME); /* the last answer completes it */
	CHECK_EQ(vcpu.gpr[RCX], 0);
	CHECK_EQ(vcpu.gpr[RDI], 0x700c);
	CHECK_EQ(fake_skipped, 2);
	for (u32 i = 0; i < 3; i++) {
		memcpy(&got, ram + 0x3000 + 4 * i, 4);
		CHECK_EQ(got, 0xc0de0000 + i); /* each its own answer, none replayed */
	}
}

TEST(outsw_to_a_keel_dm_port_sends_each_element_once)
{
	struct vm_exit e;

	setup(X86_MODE_LONG64);
	map(0x7000, 0x3000, true);
	for (u32 i = 0; i < 4; i++)
		ram[0x3000 + i] = (u8)(0x10 + i);
	vcpu.gpr[RSI] = 0x7000;
	vcpu.gpr[RCX] = 2;
	e = io_exit(DM_PORT, 2, false, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_WAIT);
	CHECK_EQ(slots[1][0].data, 0x1110);
	CHECK_EQ(slots[1][0].write, 1);
	dm_answer(0);
	e = io_exit(DM_PORT, 2, false, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_WAIT);
	CHECK_EQ(slots[1][0].data, 0x1312);
	CHECK_EQ(vcpu.gpr[RCX], 1);
	dm_answer(0);
	e = io_exit(DM_PORT, 2, false, true, 8, 2);
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(slots[1][0].state, KCTL_IOREQ_IDLE);
	CHECK_EQ(vcpu.gpr[RCX], 0);
	CHECK_EQ(vcpu.gpr[RSI], 0x7004);
}

TEST(plain_in_and_out_still_use_the_accumulator)
{
	struct vm_exit e = { .reason = EXIT_IO, .insn_len = 1 };

	setup(X86_MODE_LONG64);
	e.io.port = REC_PORT;
	e.io.size = 2;
	e.io.in = true;
	vcpu.gpr[RAX] = 0xffffffffffff0000ULL;
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(vcpu.gpr[RAX], 0xffffffffffff3344ULL);
	e.io.in = false;
	e.io.size = 1;
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(written[0], 0x44);
	e.io.port = 0x80; /* nobody there: counted */
	CHECK_EQ(exit_io(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(vm.unknown.ports, 1);
}
