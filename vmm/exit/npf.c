// SPDX-License-Identifier: MIT
/*
 * Nested page faults: an access to emulated MMIO is decoded and carried out
 * by the instruction emulator against the device that owns the address, each
 * of its accesses checked through the guest's page tables as the CPU checks
 * them (a violation becomes the guest's #PF). Anything else outside a
 * guest's RAM stops that guest; the service VM, which drives the machine's
 * platform and may probe what is not its own, finds nothing there instead:
 * reads give all ones, writes are dropped (as a bus master abort), with a log
 * line. So does firmware, where neither Keel nor keel-dm has a device: OVMF
 * probes for a TPM, an HPET and more that Keel's platform does not have.
 */
#include <keel/dm.h>
#include <keel/guest_walk.h>
#include <keel/log.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>
#include <keel/x86_emulate.h>

/* Does nothing there read as all ones (rather than stop the VM)? */
static bool absent_ok(struct vm *vm)
{
	return vm->absent_mmio || vm->firmware;
}

static const struct mmio_handler *find(struct vm *vm, gpa_t gpa)
{
	for (u32 i = 0; i < vm->nr_mmio; i++)
		if (gpa >= vm->mmio[i].base && gpa - vm->mmio[i].base < vm->mmio[i].size)
			return &vm->mmio[i];
	return NULL;
}

#define ABSENT_LOGGED 16

/* The service VM touched what is not its own: nothing answers there. */
static int absent(struct vcpu *v, gpa_t gpa, unsigned int size, bool write, u64 *val)
{
	static u32 logged;

	if (__atomic_fetch_add(&logged, 1, __ATOMIC_RELAXED) < ABSENT_LOGGED)
		pr_warn("vm %s: %u-byte %s at %llx, which is not its own: %s", v->vm->name, size,
			write ? "write" : "read", (unsigned long long)gpa,
			write ? "dropped" : "reads as all ones");
	if (!write)
		*val = ~0ULL;
	return 0;
}

/* The emulator's context: the vCPU and its paging state at the exit. */
struct emul_ctx {
	struct vcpu *v;
	struct x86_paging paging;
};

/*
 * No handler of Keel's: keel-dm's device, or nothing. The service VM never
 * asks keel-dm; firmware asks it first and reads all ones where it has
 * nothing either; other guests stop there (-EFAULT).
 */
static int not_keels(struct vcpu *v, gpa_t gpa, unsigned int size, bool write, u64 *val)
{
	struct vm *vm = v->vm;
	int ret;

	if (vm->absent_mmio || (vm->firmware && !dm_serves(vm)))
		return absent(v, gpa, size, write, val);
	ret = dm_mmio(v, gpa, (u8)size, write, val);
	return ret == -EFAULT && vm->firmware ? absent(v, gpa, size, write, val) : ret;
}

static int emul_mmio_read(void *ctx, gpa_t gpa, unsigned int size, u64 *val)
{
	struct vcpu *v = ((struct emul_ctx *)ctx)->v;
	const struct mmio_handler *h = find(v->vm, gpa);

	if (!h)
		return not_keels(v, gpa, size, false, val);
	if (gpa + size > h->base + h->size)
		return -EFAULT;
	*val = 0;
	return h->read ? h->read(v, h->opaque, gpa - h->base, (u8)size, val) : 0;
}

static int emul_mmio_write(void *ctx, gpa_t gpa, unsigned int size, u64 val)
{
	struct vcpu *v = ((struct emul_ctx *)ctx)->v;
	const struct mmio_handler *h = find(v->vm, gpa);

	if (!h)
		return not_keels(v, gpa, size, true, &val);
	if (gpa + size > h->base + h->size)
		return -EFAULT;
	return h->write ? h->write(v, h->opaque, gpa - h->base, (u8)size, val) : 0;
}

/* Page tables that keep changing under the walk: let the guest run the instruction again. */
static int emul_translate(void *ctx, u64 linear, u32 access, gpa_t *gpa, struct x86_fault *f)
{
	struct emul_ctx *c = ctx;
	int rc = guest_translate(c->v, &c->paging, linear, access, gpa, f);

	return rc == -EAGAIN ? X86_RETRY : rc;
}

static int emul_ram_read(void *ctx, gpa_t gpa, void *buf, unsigned int size)
{
	return vm_read(((struct emul_ctx *)ctx)->v->vm, gpa, buf, size);
}

static int emul_ram_write(void *ctx, gpa_t gpa, const void *buf, unsigned int size)
{
	return vm_write(((struct emul_ctx *)ctx)->v->vm, gpa, buf, size);
}

static const struct x86_emul_ops emul_ops = {
	.mmio_read = emul_mmio_read,
	.mmio_write = emul_mmio_write,
	.translate = emul_translate,
	.ram_read = emul_ram_read,
	.ram_write = emul_ram_write,
};

static void regs_load(struct vcpu *v, struct x86_regs *r)
{
	static const enum vcpu_seg segs[X86_SEG_COUNT] = { SEG_ES, SEG_CS, SEG_SS,
							   SEG_DS, SEG_FS, SEG_GS };

	for (int i = 0; i < X86_GPR_COUNT; i++)
		r->gpr[i] = v->gpr[i];
	r->rip = vcpu_ops->get_reg(v, VCPU_RIP);
	r->rflags = vcpu_ops->get_reg(v, VCPU_RFLAGS);
	for (int i = 0; i < X86_SEG_COUNT; i++) {
		struct vcpu_segment s;

		vcpu_ops->get_seg(v, segs[i], &s);
		r->seg_base[i] = s.base;
	}
}

static void regs_store(struct vcpu *v, const struct x86_regs *r)
{
	for (int i = 0; i < X86_GPR_COUNT; i++)
		v->gpr[i] = r->gpr[i];
	vcpu_ops->set_reg(v, VCPU_RIP, r->rip);
	vcpu_ops->set_reg(v, VCPU_RFLAGS, r->rflags);
}

static enum exit_action bad_insn(struct vcpu *v, gpa_t gpa, const u8 *b, size_t n, int err)
{
	char hex[3 * X86_MAX_INSN_LEN + 1];
	size_t k = 0;

	for (size_t i = 0; i < n && k + 4 < sizeof(hex); i++) {
		static const char digits[] = "0123456789abcdef";

		hex[k++] = digits[b[i] >> 4];
		hex[k++] = digits[b[i] & 15];
		hex[k++] = ' ';
	}
	hex[k ? k - 1 : 0] = 0;
	return vcpu_kill(
		v, "cannot emulate the MMIO access at %llx: instruction bytes [%s] (error %d)",
		(unsigned long long)gpa, hex, err);
}

static enum exit_action outside(struct vcpu *v, const struct vm_exit *e)
{
	return vcpu_kill(v, "%s guest-physical %llx, outside its RAM and devices (rip %llx)",
			 e->npf.fetch ? "executed at" :
			 e->npf.write ? "wrote to" :
					"read from",
			 (unsigned long long)e->npf.gpa,
			 (unsigned long long)vcpu_ops->get_reg(v, VCPU_RIP));
}

/* The instruction ends in a fault, or is to run again: nothing of it is kept. */
static enum exit_action not_done(struct vcpu *v, const struct x86_fault *f)
{
	if (f)
		guest_raise(v, f);
	dm_instruction_done(v);
	return ACT_RESUME;
}

enum exit_action exit_npf(struct vcpu *v, struct vm_exit *e)
{
	struct emul_ctx c = { .v = v };
	const struct mmio_handler *h;
	gpa_t gpa = e->npf.gpa;
	u8 bytes[X86_MAX_INSN_LEN];
	struct x86_fault fault;
	struct x86_insn insn;
	struct x86_regs regs;
	size_t n;
	int ret, fetch;

	if (vm_restore_page(v->vm, gpa))
		return ACT_RESUME; /* a withheld page (test device): back in, the access runs again */
	if (e->npf.vectoring)
		return vcpu_kill(v,
				 "delivering an event touched guest-physical %llx, not RAM "
				 "(IDT, GDT, TSS or stack outside its RAM)",
				 (unsigned long long)gpa);
	h = find(v->vm, gpa);
	v->mmio_exits[h ? (u32)(h - v->vm->mmio) : VM_MAX_MMIO]++;
	if (!h && ((!dm_serves(v->vm) && !absent_ok(v->vm)) || e->npf.fetch))
		return outside(v, e);
	guest_paging(v, &c.paging);
	fetch = guest_fetch(v, &c.paging, bytes, sizeof(bytes), &n, &fault);
	ret = x86_decode(bytes, n, guest_mode(v), &insn);
	if (ret == -EAGAIN && fetch == X86_FAULT)
		return not_done(v, &fault); /* the bytes it needs are no longer fetchable */
	if (ret == -EAGAIN && fetch == -EAGAIN)
		return not_done(v, NULL);
	if (ret)
		return bad_insn(v, gpa, bytes, n, ret);
	regs_load(v, &regs);
	ret = x86_emulate_mmio(&regs, &insn, gpa, &emul_ops, &c, &fault);
	if (ret == -EAGAIN)
		return ACT_WAIT; /* keel-dm answers first; the instruction runs again */
	if (ret == X86_FAULT || ret == X86_RETRY)
		return not_done(v, ret == X86_FAULT ? &fault : NULL);
	if (ret == -EFAULT && !find(v->vm, gpa))
		return outside(v, e); /* keel-dm has nothing there either */
	if (ret)
		return bad_insn(v, gpa, bytes, insn.len, ret);
	regs_store(v, &regs);
	dm_instruction_done(v);
	return v->vm->state == VM_RUNNING ? ACT_RESUME : ACT_STOP;
}
