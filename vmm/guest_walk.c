// SPDX-License-Identifier: MIT
/*
 * Guest page walks in all four x86 paging modes (SDM 3A 4.3-4.5): none,
 * 32-bit (with 4 MiB pages), PAE and 4/5-level. Used to fetch instructions
 * and to find the operands of string instructions during MMIO emulation.
 */
#include <arch/x86/cpu.h>
#include <arch/x86/paging.h>
#include <keel/guest_walk.h>
#include <keel/vm.h>

#define CR4_PSE_BIT BIT(4)
#define CR4_PAE_BIT BIT(5)
#define CR4_LA57_BIT BIT(12)
#define EFER_LMA_BIT BIT(10)
#define PAE_PDPTE_ADDR GENMASK(51, 12)

static int read_entry(struct vm *vm, gpa_t gpa, u32 size, u64 *e)
{
	*e = 0;
	return vm_read(vm, gpa, e, size);
}

static int walk_32(struct vcpu *v, u64 lin, u64 cr3, u64 cr4, gpa_t *gpa)
{
	u64 pde, pte;

	if (read_entry(v->vm, (cr3 & 0xfffff000) + ((lin >> 22) & 0x3ff) * 4, 4, &pde) ||
	    !(pde & PTE_P))
		return -EFAULT;
	if ((pde & PTE_PS) && (cr4 & CR4_PSE_BIT)) {
		*gpa = (pde & 0xffc00000) | (lin & 0x3fffff);
		return 0;
	}
	if (read_entry(v->vm, (pde & 0xfffff000) + ((lin >> 12) & 0x3ff) * 4, 4, &pte) ||
	    !(pte & PTE_P))
		return -EFAULT;
	*gpa = (pte & 0xfffff000) | (lin & 0xfff);
	return 0;
}

/* levels: 5 or 4 (long mode) or 3 (PAE: the top level is the 4-entry PDPT). */
static int walk_long(struct vcpu *v, u64 lin, u64 table, int levels, gpa_t *gpa)
{
	for (int level = levels; level >= 1; level--) {
		u32 shift = 12 + 9 * (u32)(level - 1);
		bool pae_top = levels == 3 && level == 3; /* PDPTEs have no PS bit */
		u64 idx = (lin >> shift) & (pae_top ? 3 : 511);
		u64 e;

		if (read_entry(v->vm, table + idx * 8, 8, &e) || !(e & PTE_P))
			return -EFAULT;
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS) && !pae_top)) {
			u64 span = 1ULL << shift;

			*gpa = (e & PTE_ADDR_MASK & ~(span - 1)) | (lin & (span - 1));
			return 0;
		}
		table = e & PTE_ADDR_MASK;
	}
	return -EFAULT;
}

int guest_translate(struct vcpu *v, u64 lin, bool write, gpa_t *gpa)
{
	u64 cr0 = vcpu_ops->get_reg(v, VCPU_CR0), cr3, cr4, efer;

	(void)write;
	if (!(cr0 & CR0_PG)) {
		*gpa = lin & 0xffffffff;
		return 0;
	}
	cr3 = vcpu_ops->get_reg(v, VCPU_CR3);
	cr4 = vcpu_ops->get_reg(v, VCPU_CR4);
	efer = vcpu_ops->get_reg(v, VCPU_EFER);
	if (efer & EFER_LMA_BIT)
		return walk_long(v, lin, cr3 & PTE_ADDR_MASK, (cr4 & CR4_LA57_BIT) ? 5 : 4, gpa);
	if (cr4 & CR4_PAE_BIT)
		return walk_long(v, lin & 0xffffffff, cr3 & 0xffffffe0, 3, gpa);
	return walk_32(v, lin & 0xffffffff, cr3, cr4, gpa);
}

enum x86_mode guest_mode(struct vcpu *v)
{
	struct vcpu_segment cs;

	if (!(vcpu_ops->get_reg(v, VCPU_CR0) & CR0_PE))
		return X86_MODE_REAL;
	vcpu_ops->get_seg(v, SEG_CS, &cs);
	if ((vcpu_ops->get_reg(v, VCPU_EFER) & EFER_LMA_BIT) && (cs.attr & SEG_ATTR_L))
		return X86_MODE_LONG64;
	return (cs.attr & SEG_ATTR_DB) ? X86_MODE_PROT32 : X86_MODE_PROT16;
}

size_t guest_fetch(struct vcpu *v, u8 *buf, size_t len)
{
	struct vcpu_segment cs;
	u64 lin;
	size_t got = 0;

	vcpu_ops->get_seg(v, SEG_CS, &cs);
	lin = vcpu_ops->get_reg(v, VCPU_RIP);
	if (guest_mode(v) != X86_MODE_LONG64)
		lin = (lin + cs.base) & 0xffffffff;
	while (got < len) {
		size_t n = MIN(len - got, PAGE_SIZE - ((lin + got) & (PAGE_SIZE - 1)));
		gpa_t gpa;

		if (guest_translate(v, lin + got, false, &gpa) || vm_read(v->vm, gpa, buf + got, n))
			break;
		got += n;
	}
	return got;
}

static bool is_prefix(u8 b, bool long_mode)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3:
		return true;
	default:
		return long_mode && (b & 0xf0) == 0x40;
	}
}

u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen)
{
	u8 buf[X86_MAX_INSN_LEN];
	size_t n, i = 0;
	bool lm;

	if (e->insn_len)
		return e->insn_len;
	n = guest_fetch(v, buf, sizeof(buf));
	lm = guest_mode(v) == X86_MODE_LONG64;
	while (i < n && is_prefix(buf[i], lm))
		i++;
	if (i + oplen > n)
		return 0;
	for (u32 k = 0; k < oplen; k++)
		if (buf[i + k] != opcode[k])
			return 0;
	return (u32)(i + oplen);
}
