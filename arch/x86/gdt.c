// SPDX-License-Identifier: MIT
/* Per-CPU GDT and TSS with IST stacks, the shared IDT, and the GS base that finds struct percpu. */
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <arch/x86/x86_vectors.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <lib/string.h>

#define IDT_ENTRIES 256
#define ISR_STUB_SIZE 16
#define GATE_INTERRUPT 0x8e00 /* present, DPL 0, 64-bit interrupt gate (SDM 3A 6.14.1) */

/* SDM 3A 3.4.5: flat 64-bit code (L=1) and data descriptors. */
#define DESC_CODE64 0x00af9b000000ffffULL
#define DESC_DATA 0x00cf93000000ffffULL
#define TSS_TYPE_AVAILABLE 0x89ULL /* present, 64-bit TSS available */

struct idt_gate {
	u16 offset_lo, selector, flags, offset_mid;
	u32 offset_hi, reserved;
} __packed;

struct table_ptr {
	u16 limit;
	u64 base;
} __packed;

extern const char isr_stubs[];
static struct idt_gate idt[IDT_ENTRIES] __aligned(16);
struct percpu *cpus[MAX_CPUS];
u32 nr_cpus;

static void idt_init(void)
{
	for (int v = 0; v < IDT_ENTRIES; v++) {
		u64 a = (u64)(uintptr_t)(isr_stubs + v * ISR_STUB_SIZE);
		u16 ist = 0;

		if (v == X86_EXC_NMI)
			ist = IST_NMI;
		else if (v == X86_EXC_DF)
			ist = IST_DOUBLE_FAULT;
		else if (v == X86_EXC_MC)
			ist = IST_MACHINE_CHECK;
		idt[v] = (struct idt_gate){
			.offset_lo = (u16)a,
			.selector = SEL_CODE64,
			.flags = (u16)(GATE_INTERRUPT | ist),
			.offset_mid = (u16)(a >> 16),
			.offset_hi = (u32)(a >> 32),
		};
	}
}

static void gdt_fill(struct percpu *pc)
{
	u64 t = (u64)(uintptr_t)&pc->tss;
	u64 limit = sizeof(pc->tss) - 1;

	pc->gdt[0] = 0;
	pc->gdt[1] = DESC_CODE64;
	pc->gdt[2] = DESC_DATA;
	/* SDM 3A 8.2.3: the 16-byte TSS descriptor */
	pc->gdt[3] = (limit & 0xffff) | ((t & 0xffffff) << 16) | (TSS_TYPE_AVAILABLE << 40) |
		     ((t >> 24) & 0xff) << 56;
	pc->gdt[4] = t >> 32;
	pc->tss.iomap_base = sizeof(pc->tss); /* no I/O bitmap */
}

struct percpu *percpu_alloc(u32 cpu, u32 apic_id, u64 stack_base, u64 stack_size)
{
	u64 pages = (sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE;
	struct percpu *pc = page_alloc_zeroed(pages);

	if (!pc)
		return NULL;
	pc->self = pc;
	pc->cpu = cpu;
	pc->apic_id = apic_id;
	pc->stack_base = stack_base ? stack_base :
				      (u64)(uintptr_t)page_alloc_zeroed(CPU_STACK_SIZE / PAGE_SIZE);
	pc->stack_top = pc->stack_base + (stack_base ? stack_size : CPU_STACK_SIZE);
	for (int i = 0; i < 3; i++) {
		u64 ist = (u64)(uintptr_t)page_alloc_zeroed(IST_STACK_SIZE / PAGE_SIZE);

		if (!ist || !pc->stack_base)
			return NULL;
		pc->tss.ist[i] = ist + IST_STACK_SIZE;
	}
	gdt_fill(pc);
	cpus[cpu] = pc;
	return pc;
}

void cpu_load_tables(struct percpu *pc)
{
	struct table_ptr gdtr = { sizeof(pc->gdt) - 1, (u64)(uintptr_t)pc->gdt };
	struct table_ptr idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	if (pc->cpu == 0)
		idt_init();
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%eax\n\t"
			 "mov %%eax, %%ds\n\t"
			 "mov %%eax, %%es\n\t"
			 "mov %%eax, %%ss\n\t"
			 "xor %%eax, %%eax\n\t"
			 "mov %%eax, %%fs\n\t"
			 "mov %%eax, %%gs\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gdtr), "i"(SEL_CODE64), "i"(SEL_DATA), "r"(SEL_TSS), "m"(idtr)
			 : "rax", "memory");
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)pc);
}
