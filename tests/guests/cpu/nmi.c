// SPDX-License-Identifier: MIT
/*
 * Test guest: NMIs as the CPU and local APIC deliver them (SDM 3A 6.7.1,
 * 11.5.1, 11.6.1). Two vCPUs: vCPU 1 runs a tiny 32-bit loop that sends
 * vCPU 0 NMIs on request. Parts, each reported by its line:
 *   icr:    a self-NMI through the ICR arrives, once;
 *   nested: the handler sends itself two more: none nests, exactly one
 *           comes, after its IRET (one is held, the other lost);
 *   irq:    an NMI sent from an interrupt handler comes inside it;
 *   lint1:  LINT1 in NMI mode raises an NMI, its vector field ignored;
 *   lint0:  LINT0 in NMI mode likewise, in fixed mode its vector (and
 *           both pins at once: the NMI first, then the interrupt);
 *   hlt:    an NMI from vCPU 1 wakes vCPU 0 out of HLT with IF clear.
 * The LINT pins need a button: Keel's test device (port 0xe8), which this
 * guest finds by Keel's CPUID signature and the device's scratch port; without one (bare QEMU) it asks for the
 * NMI button (QMP inject-nmi, which pulses LINT1) and skips LINT0.
 */
#include "../lib/guest.h"
#include <arch/x86/apic_regs.h>

const char test_name[] = "nmi";

#define APIC ((volatile u32 *)APIC_DEFAULT_BASE)
#define NMI_VEC 2
#define IRQ_VEC 0x51
#define LINT_BAD_VEC 0x77 /* in an NMI-mode entry: must not be delivered */
#define SPURIOUS_VEC 0xff
#define DM_NMI (APIC_DM_NMI << APIC_DM_SHIFT)
#define DM_INIT (APIC_DM_INIT << APIC_DM_SHIFT)
#define DM_STARTUP (APIC_DM_STARTUP << APIC_DM_SHIFT)
#define LINT_PORT 0xe8 /* Keel's test device: bit 0 pulses LINT0, bit 1 LINT1 */
#define PIC1_DATA 0x21 /* 8259 masks: only bare QEMU's firmware left a PIC running */
#define PIC2_DATA 0xa1
#define SPIN_SHORT 200000ULL /* pause loops: long enough for a pending NMI to show */
#define SPIN_LONG (1ULL << 31)

/* vCPU 1's code, copied to AP_BASE: real mode to flat 32-bit, then its loop (below). */
#define AP_BASE 0x6000
#define AP_SIPI_VECTOR (AP_BASE >> 12)
struct ap_mailbox {
	u32 alive; /* it runs */
	u32 req;   /* vCPU 0 asks for NMIs (1), or that it park in HLT (2) */
	u32 sent;  /* NMIs it sent */
	u32 delay; /* pause loops between them */
};
extern const char ap_tramp[], ap_mb[], ap_tramp_end[];

/*
 * While req is 1 it sends vCPU 0 (APIC ID 0) an NMI every `delay`
 * pauses, through the xAPIC ICR (the APIC page is flat-mapped: no paging);
 * at 2 it halts for good.
 */
__asm__(".pushsection .text\n"
	".code16\n"
	".globl ap_tramp\n"
	"ap_tramp:\n"
	"	cli\n"
	"	movw %cs, %ax\n"
	"	movw %ax, %ds\n"
	"	lgdtl ap_gdtr - ap_tramp\n"
	"	movl %cr0, %eax\n"
	"	orl $1, %eax\n"
	"	movl %eax, %cr0\n"
	"	ljmpl $0x08, $(0x6000 + ap32 - ap_tramp)\n"
	".code32\n"
	"ap32:\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movw %ax, %ss\n"
	"	lock incl 0x6000 + ap_mb - ap_tramp\n"
	"1:	pause\n"
	"	cmpl $2, 0x6000 + ap_mb + 4 - ap_tramp\n"
	"	je 3f\n"
	"	cmpl $0, 0x6000 + ap_mb + 4 - ap_tramp\n"
	"	je 1b\n"
	"	movl 0x6000 + ap_mb + 12 - ap_tramp, %ecx\n"
	"2:	pause\n"
	"	decl %ecx\n"
	"	jnz 2b\n"
	"	cmpl $1, 0x6000 + ap_mb + 4 - ap_tramp\n"
	"	jne 1b\n"
	"	movl $0, 0xfee00310\n"
	"	movl $0x4400, 0xfee00300\n" /* NMI, assert, no shorthand */
	"	lock incl 0x6000 + ap_mb + 8 - ap_tramp\n"
	"	jmp 1b\n"
	"3:	cli\n" /* parked */
	"	hlt\n"
	"	jmp 3b\n"
	"	.balign 8\n"
	"ap_gdt:\n"
	"	.quad 0\n"
	"	.quad 0x00cf9b000000ffff\n" /* 0x08: flat 32-bit code */
	"	.quad 0x00cf93000000ffff\n" /* 0x10: flat data */
	"ap_gdtr:\n"
	"	.word 23\n"
	"	.long 0x6000 + ap_gdt - ap_tramp\n"
	"	.balign 4\n"
	".globl ap_mb\n"
	"ap_mb:\n"
	"	.long 0, 0, 0, 0\n"
	".globl ap_tramp_end\n"
	"ap_tramp_end:\n"
	".code64\n"
	".popsection\n");

enum phase { P_ICR, P_NESTED, P_IRQ, P_LINT, P_BOTH, P_HLT };
static volatile enum phase phase;
static volatile u32 nmis, irqs, in_nmi, in_irq;
static volatile u64 first_frame, nested_frame, nmi_saw_irq, irq_at_nmi;
static volatile bool woke_from_hlt;
extern const char nmi_after_hlt[];

static void apic_write(u32 reg, u32 v)
{
	APIC[reg / 4] = v;
}

static u32 apic_read(u32 reg)
{
	return APIC[reg / 4];
}

static void send_ipi(u32 dest, u32 icr)
{
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, icr);
}

static void self_nmi(void)
{
	send_ipi(apic_read(APIC_ID) >> 24, DM_NMI | APIC_ICR_ASSERT);
}

/* Spins up to n pauses until *p reaches want; true if it did. */
static bool wait_for(volatile u32 *p, u32 want, u64 n)
{
	for (u64 i = 0; i < n && *p < want; i++)
		__asm__ volatile("pause");
	return *p >= want;
}

static void spin(u64 n)
{
	for (u64 i = 0; i < n; i++)
		__asm__ volatile("pause");
}

static void on_nmi(struct gframe *f)
{
	u32 n = nmis;

	if (in_nmi)
		fail_at(__LINE__, "an NMI nested in the NMI handler (phase %u, rip %llx)", phase,
			(unsigned long long)f->rip);
	in_nmi = 1;
	nmis = n + 1;
	if (phase == P_NESTED && n == 0) {
		first_frame = (u64)f;
		self_nmi(); /* held until the IRET */
		self_nmi(); /* lost: one is already held */
		spin(SPIN_SHORT);
		if (nmis != 1)
			fail_at(__LINE__, "%u NMIs while the first one's handler ran", nmis);
	} else if (phase == P_NESTED) {
		nested_frame = (u64)f;
	} else if (phase == P_IRQ || phase == P_BOTH) {
		nmi_saw_irq = in_irq;
		irq_at_nmi = irqs;
	} else if (phase == P_HLT && f->rip == (u64)nmi_after_hlt) {
		woke_from_hlt = true;
	}
	in_nmi = 0;
}

static void on_irq(struct gframe *f)
{
	(void)f;
	in_irq = 1;
	irqs++;
	if (phase == P_IRQ) {
		self_nmi(); /* an NMI is not held off by IF=0 */
		if (!wait_for(&nmis, 1, SPIN_SHORT))
			fail_at(__LINE__, "no NMI in the interrupt handler");
	}
	apic_write(APIC_EOI, 0);
	in_irq = 0;
}

static void on_bad_vector(struct gframe *f)
{
	fail_at(__LINE__, "vector %llx delivered from an NMI-mode LVT entry",
		(unsigned long long)f->vector);
}

static void start_phase(enum phase p)
{
	phase = p;
	nmis = irqs = 0;
	nmi_saw_irq = irq_at_nmi = 0;
}

static void icr(void)
{
	start_phase(P_ICR);
	self_nmi();
	if (!wait_for(&nmis, 1, SPIN_SHORT))
		fail_at(__LINE__, "no NMI after a self-NMI through the ICR");
	spin(SPIN_SHORT);
	CHECK_EQ(nmis, 1);
	gprintf("icr: a self-NMI through the ICR arrived, once\n");
}

static void nested(void)
{
	start_phase(P_NESTED);
	self_nmi();
	if (!wait_for(&nmis, 2, SPIN_SHORT))
		fail_at(__LINE__, "%u NMIs: the one sent from the handler never came", nmis);
	spin(4 * SPIN_SHORT);
	CHECK_EQ(nmis, 2);
	/* the second frame is not below the first: it came after the first handler's IRET */
	if (nested_frame < first_frame)
		fail_at(__LINE__, "the second NMI's frame %llx lies below the first's %llx",
			(unsigned long long)nested_frame, (unsigned long long)first_frame);
	gprintf("nested: of two NMIs sent in the handler one came, after its IRET, one was lost\n");
}

static void irq(void)
{
	start_phase(P_IRQ);
	__asm__ volatile("sti");
	send_ipi(apic_read(APIC_ID) >> 24, IRQ_VEC | APIC_ICR_ASSERT);
	wait_for(&irqs, 1, SPIN_SHORT);
	__asm__ volatile("cli");
	CHECK_EQ(irqs, 1);
	CHECK_EQ(nmis, 1);
	CHECK(nmi_saw_irq);
	gprintf("irq: an NMI sent in an interrupt handler came inside it; each once\n");
}

/* Keel (its CPUID signature; bare QEMU's pc-testdev has the scratch port too) with its test device. */
static bool keel_testdev(void)
{
	u32 a, b, c, d;

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (b != 0x6c65654b || c != 0x6c65654b || d != 0x6c65654b) /* "KeelKeelKeel" */
		return false;
	outl(TESTDEV_SCRATCH_PORT, 0x4e4d4921);
	return inl(TESTDEV_SCRATCH_PORT) == 0x4e4d4921;
}

static void lint1(bool button)
{
	start_phase(P_LINT);
	apic_write(APIC_LVT_LINT1, DM_NMI | LINT_BAD_VEC);
	if (button) {
		outb(LINT_PORT, 2);
	} else {
		gprintf("lint1: waiting for the NMI button\n");
		wait_for(&nmis, 1, SPIN_LONG);
	}
	if (!wait_for(&nmis, 1, SPIN_SHORT))
		fail_at(__LINE__, "no NMI from LINT1");
	spin(SPIN_SHORT);
	CHECK_EQ(nmis, 1);
	gprintf("lint1: an NMI-mode LINT1 raised one NMI, its vector ignored\n");
	if (!button)
		return;
	apic_write(APIC_LVT_LINT1, DM_NMI | APIC_LVT_MASKED);
	outb(LINT_PORT, 2);
	spin(SPIN_SHORT);
	CHECK_EQ(nmis, 1);
	gprintf("lint1: masked, it raised nothing\n");
}

/* Keel only: nothing else drives LINT0 (bare QEMU's is the 8259's INTR). */
static void lint0(void)
{
	start_phase(P_LINT);
	apic_write(APIC_LVT_LINT0, DM_NMI | LINT_BAD_VEC);
	outb(LINT_PORT, 1);
	if (!wait_for(&nmis, 1, SPIN_SHORT))
		fail_at(__LINE__, "no NMI from LINT0");
	apic_write(APIC_LVT_LINT0, IRQ_VEC);
	__asm__ volatile("sti");
	outb(LINT_PORT, 1);
	wait_for(&irqs, 1, SPIN_SHORT);
	__asm__ volatile("cli");
	CHECK_EQ(nmis, 1);
	CHECK_EQ(irqs, 1);
	gprintf("lint0: in NMI mode one NMI, in fixed mode one interrupt %#x\n", IRQ_VEC);
	/* both pins at one instant, IF set: the NMI goes first, the interrupt after it */
	start_phase(P_BOTH);
	apic_write(APIC_LVT_LINT1, DM_NMI);
	__asm__ volatile("sti");
	outb(LINT_PORT, 3);
	wait_for(&irqs, 1, SPIN_SHORT);
	__asm__ volatile("cli");
	spin(SPIN_SHORT);
	CHECK_EQ(nmis, 1);
	CHECK_EQ(irqs, 1);
	CHECK_EQ(irq_at_nmi, 0);
	gprintf("both: LINT1 (NMI) and LINT0 (interrupt) at once: each taken once, the NMI first\n");
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
}

static __attribute__((noinline)) void halt(void)
{
	__asm__ volatile("hlt\n"
			 ".globl nmi_after_hlt\n"
			 "nmi_after_hlt:" ::
				 : "memory");
}

static void start_ap(void)
{
	volatile struct ap_mailbox *mb = (void *)(u64)(AP_BASE + (u64)(ap_mb - ap_tramp));
	const char *src = ap_tramp;

	for (u64 i = 0; i < (u64)(ap_tramp_end - ap_tramp); i++)
		((volatile char *)AP_BASE)[i] = src[i];
	mb->delay = 20000;
	send_ipi(1, DM_INIT | APIC_ICR_ASSERT);
	spin(SPIN_SHORT);
	send_ipi(1, DM_STARTUP | AP_SIPI_VECTOR);
	spin(SPIN_SHORT / 10);
	if (!mb->alive)
		send_ipi(1, DM_STARTUP | AP_SIPI_VECTOR);
	if (!wait_for(&mb->alive, 1, SPIN_LONG))
		fail_at(__LINE__, "vCPU 1 did not start");
}

/* vCPU 1 sends NMIs until one finds vCPU 0 halted (IF clear: only an NMI wakes it). */
static void hlt(void)
{
	volatile struct ap_mailbox *mb = (void *)(u64)(AP_BASE + (u64)(ap_mb - ap_tramp));

	start_phase(P_HLT);
	woke_from_hlt = false;
	mb->req = 1;
	while (!woke_from_hlt)
		halt();
	mb->req = guest_arg("park", 1) ? 2 : 0;
	gprintf("hlt: an NMI from vCPU 1 woke vCPU 0 from HLT (%u NMIs, %u sent)\n", nmis,
		mb->sent);
}

void test_main(void)
{
	bool button = keel_testdev();

	trap_set(NMI_VEC, on_nmi);
	trap_set(IRQ_VEC, on_irq);
	trap_set(LINT_BAD_VEC, on_bad_vector);
	if (!button) {
		outb(PIC1_DATA, 0xff);
		outb(PIC2_DATA, 0xff);
	}
	apic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VEC);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	icr();
	nested();
	irq();
	lint1(button);
	if (button)
		lint0();
	start_ap();
	hlt();
}
