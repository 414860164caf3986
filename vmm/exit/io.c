// SPDX-License-Identifier: MIT
/*
 * Port I/O exits: find the device that owns the port; nothing there reads
 * all-ones and drops writes, and is counted in the VM (keelctl info).
 * String I/O (INS, OUTS, with or without REP) moves each element between the
 * device and guest memory at ES:rDI or seg:rSI, translated through the
 * guest's own page tables as the CPU would (SDM 2A INS/OUTS), in chunks: a
 * long REP leaves RCX, RSI and RDI where it got to and runs again.
 */
#include <arch/x86/cpu.h>
#include <keel/dm.h>
#include <keel/guest_walk.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

/* Elements per exit: the vCPU can be preempted or take an interrupt between chunks. */
#define STRING_IO_CHUNK 512

static bool covers(const struct io_handler *h, u16 port)
{
	return port >= h->base && port - h->base < h->count;
}

static const struct io_handler *find(struct vm *vm, u16 port)
{
	u32 last = READ_ONCE(vm->io_last); /* vCPUs race on it: any index below nr_io will do */

	if (last < vm->nr_io && covers(&vm->io[last], port))
		return &vm->io[last];
	for (u32 i = 0; i < vm->nr_io; i++) {
		if (covers(&vm->io[i], port)) {
			WRITE_ONCE(vm->io_last, i);
			return &vm->io[i];
		}
	}
	return NULL;
}

static void set_acc(struct vcpu *v, u8 size, u32 val)
{
	if (size == 4)
		v->gpr[RAX] = val; /* a 32-bit write zero-extends in 64-bit mode */
	else if (size == 2)
		v->gpr[RAX] = (v->gpr[RAX] & ~0xffffULL) | (val & 0xffff);
	else
		v->gpr[RAX] = (v->gpr[RAX] & ~0xffULL) | (val & 0xff);
}

static u32 size_mask(u8 size)
{
	return size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;
}

/* One access to the port: 0, -EAGAIN (keel-dm answers first) or the device's error. */
static int port_access(struct vcpu *v, const struct io_handler *h, u16 port, u8 size, bool in,
		       u32 *val)
{
	if (in) {
		*val = 0xffffffff;
		return h && h->read ? h->read(v, h->opaque, port, size, val) : 0;
	}
	return h && h->write ? h->write(v, h->opaque, port, size, *val & size_mask(size)) : 0;
}

/* --- string I/O --- */

/* What the instruction is: from the exit, and from its bytes where the exit does not say. */
struct string_op {
	u16 port;
	u8 size;      /* element: 1, 2 or 4 bytes */
	u8 addr_size; /* of rSI, rDI and rCX: 2, 4 or 8 */
	u8 seg;	      /* enum vcpu_seg: ES for INS, DS or the override for OUTS */
	bool in, rep, long_mode;
	u32 len; /* of the instruction */
};

static u64 addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

/* A register written at the address size: 16 bits keep the rest, 32 zero-extend (SDM 1 3.4.1.1). */
static u64 reg_assign(u64 old, u64 val, u8 addr_size)
{
	if (addr_size == 2)
		return (old & ~0xffffULL) | (val & 0xffff);
	return val & addr_mask(addr_size);
}

/* Legacy prefixes 26 2E 36 3E 64 65 pick ES CS SS DS FS GS (SDM 2A 2.1.1). */
static int seg_prefix(u8 b)
{
	switch (b) {
	case 0x26:
		return SEG_ES;
	case 0x2e:
		return SEG_CS;
	case 0x36:
		return SEG_SS;
	case 0x3e:
		return SEG_DS;
	case 0x64:
		return SEG_FS;
	case 0x65:
		return SEG_GS;
	default:
		return -1;
	}
}

/*
 * The prefixes before 6C-6F decide the address size (67) and OUTS' segment;
 * what the exit said wins. 0: decoded; X86_FAULT: the bytes are gone from
 * under RIP (*f for the guest); -EINVAL: they are not this instruction.
 */
static int decode_prefixes(struct vcpu *v, struct string_op *op, struct x86_fault *f)
{
	u8 b[X86_MAX_INSN_LEN];
	struct x86_paging p;
	size_t n, i = 0;
	int seg = -1, fetch;
	bool a67 = false;

	guest_paging(v, &p);
	fetch = guest_fetch(v, &p, b, sizeof(b), &n, f);
	for (; i < n; i++) {
		if (b[i] == 0x67)
			a67 = true;
		else if (seg_prefix(b[i]) >= 0)
			seg = seg_prefix(b[i]);
		else if (b[i] != 0x66 && b[i] != 0xf2 && b[i] != 0xf3 && b[i] != 0xf0 &&
			 !(op->long_mode && (b[i] & 0xf0) == 0x40))
			break;
	}
	if (i >= n)
		return fetch == X86_FAULT ? X86_FAULT : -EINVAL;
	if ((b[i] & 0xfc) != 0x6c || !(b[i] & 2) != op->in || !(b[i] & 1) != (op->size == 1))
		return -EINVAL;
	if (a67)
		op->addr_size = op->long_mode ? 4 : op->addr_size == 4 ? 2 : 4;
	if (!op->in && seg >= 0)
		op->seg = (u8)seg;
	op->len = (u32)i + 1;
	return 0;
}

static int string_decode(struct vcpu *v, const struct vm_exit *e, struct string_op *op,
			 struct x86_fault *f)
{
	enum x86_mode mode = guest_mode(v);
	int ret = 0;

	*op = (struct string_op){
		.port = e->io.port,
		.size = e->io.size,
		.addr_size = mode == X86_MODE_LONG64 ? 8 :
			     mode == X86_MODE_PROT32 ? 4 :
						       2,
		.seg = e->io.in ? SEG_ES : SEG_DS,
		.in = e->io.in,
		.rep = e->io.rep,
		.long_mode = mode == X86_MODE_LONG64,
		.len = e->insn_len,
	};
	if (!e->io.addr_size || (!e->io.in && !e->io.seg_valid) || !e->insn_len)
		ret = decode_prefixes(v, op, f);
	if (e->io.addr_size)
		op->addr_size = e->io.addr_size;
	if (!e->io.in && e->io.seg_valid)
		op->seg = e->io.seg;
	if (e->insn_len)
		op->len = e->insn_len;
	return ret;
}

/*
 * Offset off..off+size-1 in segment s as the CPU checks it outside 64-bit
 * mode (SDM 3A 5.3, 5.5): usable, writable for INS, readable for OUTS, inside
 * the limit (above it for an expand-down segment). Real mode checks only the limit.
 */
static bool seg_allows(const struct vcpu_segment *s, u64 off, u8 size, bool write, bool prot)
{
	u32 type = s->attr & 0xf;
	bool code = (s->attr & SEG_ATTR_S) && (type & 8);
	u64 last = off + size - 1;

	if (prot && (!(s->attr & SEG_ATTR_P) || !(s->attr & SEG_ATTR_S)))
		return false;
	if (prot && (write ? code || !(type & 2) : code && !(type & 2)))
		return false;
	if (!code && (type & 4)) /* expand-down data */
		return off > s->limit && last <= ((s->attr & SEG_ATTR_DB) ? 0xffffffffULL : 0xffff);
	return last <= s->limit;
}

/* One element's guest-physical bytes: where its first byte and (if it crosses a page) its last are. */
struct element {
	gpa_t gpa[2];
	u32 first; /* bytes in the first page */
};

static int element_at(struct vcpu *v, const struct string_op *op, const struct x86_paging *p,
		      struct element *el, struct x86_fault *f)
{
	u64 off = v->gpr[op->in ? RDI : RSI] & addr_mask(op->addr_size);
	u32 access = op->in ? X86_ACC_WRITE : 0;
	struct vcpu_segment s;
	u64 lin;
	int ret;

	vcpu_ops->get_seg(v, op->seg, &s);
	if (op->long_mode) {
		lin = off + (op->seg == SEG_FS || op->seg == SEG_GS ? s.base : 0);
	} else if (!seg_allows(&s, off, op->size, op->in, p->cr0 & CR0_PE)) {
		*f = (struct x86_fault){ op->seg == SEG_SS ? X86_EXC_SS : X86_EXC_GP, 0, 0 };
		return X86_FAULT;
	} else {
		lin = (s.base + off) & 0xffffffff;
	}
	el->first = (u32)MIN((u64)op->size, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
	ret = guest_translate(v, p, lin, access, &el->gpa[0], f);
	if (!ret && el->first < op->size)
		ret = guest_translate(v, p, lin + el->first, access, &el->gpa[1], f);
	return ret;
}

static int mem_copy(struct vcpu *v, const struct string_op *op, const struct element *el, u32 *val)
{
	u8 *b = (u8 *)val;
	int ret;

	if (op->in) {
		ret = vm_write(v->vm, el->gpa[0], b, el->first);
		return ret ? ret : vm_write(v->vm, el->gpa[1], b + el->first, op->size - el->first);
	}
	ret = vm_read(v->vm, el->gpa[0], b, el->first);
	return ret ? ret : vm_read(v->vm, el->gpa[1], b + el->first, op->size - el->first);
}

/* One element: 0 done, X86_FAULT (*f), -EAGAIN (keel-dm answers first), else a failure. */
static int string_element(struct vcpu *v, const struct string_op *op, const struct io_handler *h,
			  const struct x86_paging *p, struct x86_fault *f)
{
	struct element el = { { 0, 0 }, 0 };
	u32 val = 0;
	int ret = element_at(v, op, p, &el, f);

	if (ret)
		return ret == -EAGAIN ? -ERANGE : ret; /* tables changing: ask again (below) */
	if (op->in) {
		ret = port_access(v, h, op->port, op->size, true, &val);
		return ret ? ret : mem_copy(v, op, &el, &val) ? -EFAULT : 0;
	}
	if (mem_copy(v, op, &el, &val))
		return -EFAULT;
	return port_access(v, h, op->port, op->size, false, &val);
}

/* The element is done: rSI or rDI moves by its size, down if EFLAGS.DF; rCX counts it. */
static void string_advance(struct vcpu *v, const struct string_op *op, bool df)
{
	u32 r = op->in ? RDI : RSI;

	v->gpr[r] =
		reg_assign(v->gpr[r], v->gpr[r] + (df ? -(u64)op->size : op->size), op->addr_size);
	if (op->rep)
		v->gpr[RCX] = reg_assign(v->gpr[RCX], v->gpr[RCX] - 1, op->addr_size);
}

static enum exit_action string_done(struct vcpu *v, const struct string_op *op, int ret,
				    const struct x86_fault *f)
{
	if (ret == X86_FAULT) {
		guest_raise(v, f); /* the registers say how far it got */
		return ACT_RESUME;
	}
	if (ret == -EAGAIN)
		return ACT_WAIT; /* keel-dm answers first; the instruction runs again */
	if (ret == -ERANGE)
		return ACT_RESUME; /* the guest's page tables kept changing: run it again */
	if (ret == -EFAULT)
		return vcpu_kill(v, "string I/O on port 0x%x with memory outside the guest's RAM",
				 op->port);
	if (ret)
		return vcpu_kill(v, "device at port 0x%x failed (%d)", op->port, ret);
	if (v->vm->state != VM_RUNNING)
		return ACT_STOP;
	if (!op->rep || !(v->gpr[RCX] & addr_mask(op->addr_size)))
		vcpu_skip(v, op->len);
	return ACT_RESUME; /* with rCX left, the instruction runs again for the next chunk */
}

static __cold enum exit_action exit_io_string(struct vcpu *v, struct vm_exit *e,
					      const struct io_handler *h)
{
	bool df = vcpu_ops->get_reg(v, VCPU_RFLAGS) & RFLAGS_DF;
	struct string_op op;
	struct x86_paging p;
	struct x86_fault f;
	u64 count;
	int ret = string_decode(v, e, &op, &f);

	if (ret == X86_FAULT)
		return string_done(v, &op, ret, &f);
	if (ret)
		return vcpu_kill(v, "string I/O exit on port 0x%x, but no INS/OUTS at RIP",
				 op.port);
	count = op.rep ? v->gpr[RCX] & addr_mask(op.addr_size) : 1;
	guest_paging(v, &p);
	for (u64 i = 0; !ret && i < MIN(count, STRING_IO_CHUNK); i++) {
		ret = string_element(v, &op, h, &p, &f);
		if (ret)
			break;
		string_advance(v, &op, df);
		dm_instruction_done(v); /* the next element asks keel-dm anew */
		if (v->vm->state != VM_RUNNING)
			break;
	}
	return string_done(v, &op, ret, &f);
}

enum exit_action exit_io(struct vcpu *v, struct vm_exit *e)
{
	const struct io_handler *h = find(v->vm, e->io.port);
	u8 size = e->io.size;
	u32 val = (u32)v->gpr[RAX];
	int ret;

	v->io_exits[h ? (u32)(h - v->vm->io) : VM_MAX_IO]++;
	if (!h) {
		__atomic_fetch_add(&v->vm->unknown.ports, 1, __ATOMIC_RELAXED);
		vm_note_first(v->vm->unknown.port_list, ARRAY_SIZE(v->vm->unknown.port_list),
			      e->io.port);
	}
	if (size != 1 && size != 2 && size != 4)
		return vcpu_kill(v, "port I/O of %u bytes", size);
	if (e->io.string)
		return exit_io_string(v, e, h);
	ret = port_access(v, h, e->io.port, size, e->io.in, &val);
	if (ret == -EAGAIN)
		return ACT_WAIT; /* keel-dm answers first; the instruction runs again */
	if (ret)
		return vcpu_kill(v, "device at port 0x%x failed (%d)", e->io.port, ret);
	if (e->io.in)
		set_acc(v, size, val);
	dm_instruction_done(v);
	if (v->vm->state != VM_RUNNING)
		return ACT_STOP; /* the device stopped the VM (e.g. power-off) */
	vcpu_skip(v, e->insn_len);
	return ACT_RESUME;
}
