// SPDX-License-Identifier: MIT
/*
 * Port I/O exits: find the device that owns the port; nothing there reads
 * all-ones and drops writes, and is counted in the VM (keelctl info).
 */
#include <keel/dm.h>
#include <keel/log.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>

static const struct io_handler *find(struct vm *vm, u16 port)
{
	for (u32 i = 0; i < vm->nr_io; i++)
		if (port >= vm->io[i].base && port - vm->io[i].base < vm->io[i].count)
			return &vm->io[i];
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

enum exit_action exit_io(struct vcpu *v, struct vm_exit *e)
{
	const struct io_handler *h = find(v->vm, e->io.port);
	u8 size = e->io.size;
	u32 val = 0xffffffff;
	int ret = 0;

	if (!h) {
		__atomic_fetch_add(&v->vm->unknown.ports, 1, __ATOMIC_RELAXED);
		vm_note_first(v->vm->unknown.port_list, ARRAY_SIZE(v->vm->unknown.port_list),
			      e->io.port);
	}
	if (e->io.string)
		return vcpu_kill(v, "string port I/O (INS/OUTS) on port 0x%x is not supported",
				 e->io.port);
	if (size != 1 && size != 2 && size != 4)
		return vcpu_kill(v, "port I/O of %u bytes", size);
	if (e->io.in) {
		if (h && h->read)
			ret = h->read(v, h->opaque, e->io.port, size, &val);
		set_acc(v, size, val);
	} else if (h && h->write) {
		u32 mask = size == 4 ? 0xffffffff : (1u << (size * 8)) - 1;

		ret = h->write(v, h->opaque, e->io.port, size, (u32)v->gpr[RAX] & mask);
	}
	if (ret == -EAGAIN)
		return ACT_WAIT; /* keel-dm answers first; the instruction runs again */
	if (ret)
		return vcpu_kill(v, "device at port 0x%x failed (%d)", e->io.port, ret);
	dm_instruction_done(v);
	if (v->vm->state != VM_RUNNING)
		return ACT_STOP; /* the device stopped the VM (e.g. power-off) */
	vcpu_skip(v, e->insn_len);
	return ACT_RESUME;
}
