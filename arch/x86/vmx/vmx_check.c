// SPDX-License-Identifier: MIT
/*
 * Which VM-entry check a VMCS fails, to explain a failed entry: the
 * VM-instruction error names (SDM 3C 31.4, table 31-1), the checks on the
 * event to inject (27.2.1.3) and those on the guest-state area (27.3.1.1
 * control registers and MSRs, 27.3.1.2 segments, 27.3.1.3 GDTR/IDTR,
 * 27.3.1.4 RIP/RFLAGS, 27.3.1.5 non-register state, 27.3.1.6 PDPTEs).
 */
#include <arch/x86/cpu.h>
#include <arch/x86/vmx/vmcs.h>
#include <arch/x86/vmx/vmx_check.h>
#include <lib/format.h>

#define EFER_KNOWN (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define RFLAGS_RESERVED (GENMASK(63, 22) | BIT(15) | BIT(5) | BIT(3))
#define INTR_STATE_RESERVED GENMASK(31, 5)
#define PENDING_DBG_RESERVED (GENMASK(63, 17) | BIT(15) | GENMASK(11, 4)) /* 25.4.2 */
#define PDPTE_RESERVED_LOW (GENMASK(2, 1) | GENMASK(8, 5))

enum { ES, CS, SS, DS, FS, GS, LDTR, TR };
static const char *const seg_names[] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR" };

static const char *const insn_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_name(u64 err)
{
	if (err < ARRAY_SIZE(insn_errors) && insn_errors[err])
		return insn_errors[err];
	return "an error number the SDM does not list";
}

#define FAIL(...) (format_snprintf(buf, len, __VA_ARGS__), (const char *)buf)
#define CHECK(cond, ...)                          \
	do {                                      \
		if (cond)                         \
			return FAIL(__VA_ARGS__); \
	} while (0)

static bool canonical(u64 a)
{
	return (u64)((s64)(a << 16) >> 16) == a;
}

static bool ia32e(const struct vmx_guest_state *g)
{
	return g->entry_ctls & ENTRY_IA32E_GUEST;
}

static bool unrestricted(const struct vmx_guest_state *g)
{
	return g->proc2 & PROC2_UNRESTRICTED;
}

static u32 ar_type(u32 ar)
{
	return ar & AR_TYPE_MASK;
}

static u32 ar_dpl(u32 ar)
{
	return (ar >> AR_DPL_SHIFT) & 3;
}

/* 27.2.1.3: the VM-entry interruption-information field and what goes with it. */
const char *vmx_check_event(const struct vmx_guest_state *g, char *buf, size_t len)
{
	u32 info = g->entry_info, type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	u32 vec = info & INTR_INFO_VECTOR_MASK;
	bool need_error = (!unrestricted(g) || (g->cr0 & CR0_PE)) && type == EVENT_EXCEPTION &&
			  vec < X86_NR_EXCEPTIONS && (X86_EXC_ERROR_CODES & BIT(vec));

	if (!(info & INTR_INFO_VALID))
		return NULL;
	CHECK(info & INTR_INFO_RESERVED, "event %x: reserved bits 30:12 set", info);
	CHECK(type == 1, "event %x: interruption type 1 is reserved", info);
	CHECK(type == EVENT_NMI && vec != X86_EXC_NMI, "event %x: an NMI must use vector 2", info);
	CHECK(type == EVENT_EXCEPTION && vec >= X86_NR_EXCEPTIONS,
	      "event %x: a hardware exception with vector %u > 31", info, vec);
	CHECK(type == EVENT_OTHER && vec != 0, "event %x: type 7 needs vector 0", info);
	CHECK(!!(info & INTR_INFO_ERROR_VALID) != need_error,
	      "event %x: error code flag %u, but vector %u here has %s", info,
	      !!(info & INTR_INFO_ERROR_VALID), vec, need_error ? "one" : "none");
	CHECK((info & INTR_INFO_ERROR_VALID) && (g->entry_error & GENMASK(31, 16)),
	      "event error code %x: bits 31:16 must be 0", g->entry_error);
	CHECK((type == EVENT_SOFTINT || type == EVENT_PRIV_SOFT_EXCEPTION ||
	       type == EVENT_SOFT_EXCEPTION) &&
		      (g->entry_len == 0 || g->entry_len > 15),
	      "event instruction length %u: must be 1-15 for software events", g->entry_len);
	return NULL;
}

/* 27.3.1.1: CR0, CR3, CR4, DR7, SYSENTER, PAT, EFER. */
static const char *check_regs(const struct vmx_guest_state *g, char *buf, size_t len)
{
	u64 fixed0 = g->cr0_fixed0 & (unrestricted(g) ? ~(CR0_PE | CR0_PG) : ~0ULL);

	CHECK(~g->cr0 & fixed0,
	      "guest CR0 %llx lacks bits %llx that VMX requires (IA32_VMX_CR0_FIXED0)",
	      (unsigned long long)g->cr0, (unsigned long long)(~g->cr0 & fixed0));
	CHECK(g->cr0 & ~g->cr0_fixed1,
	      "guest CR0 %llx sets bits %llx that VMX forbids (IA32_VMX_CR0_FIXED1)",
	      (unsigned long long)g->cr0, (unsigned long long)(g->cr0 & ~g->cr0_fixed1));
	CHECK((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE), "guest CR0 %llx: PG set without PE",
	      (unsigned long long)g->cr0);
	CHECK(~g->cr4 & g->cr4_fixed0,
	      "guest CR4 %llx lacks bits %llx that VMX requires (IA32_VMX_CR4_FIXED0)",
	      (unsigned long long)g->cr4, (unsigned long long)(~g->cr4 & g->cr4_fixed0));
	CHECK(g->cr4 & ~g->cr4_fixed1,
	      "guest CR4 %llx sets bits %llx that VMX forbids (IA32_VMX_CR4_FIXED1)",
	      (unsigned long long)g->cr4, (unsigned long long)(g->cr4 & ~g->cr4_fixed1));
	CHECK((g->cr4 & CR4_CET) && !(g->cr0 & CR0_WP), "guest CR4.CET set while CR0.WP is clear");
	CHECK(ia32e(g) && (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE)),
	      "IA-32e mode guest without CR0.PG and CR4.PAE (CR0 %llx CR4 %llx)",
	      (unsigned long long)g->cr0, (unsigned long long)g->cr4);
	CHECK(!ia32e(g) && (g->cr4 & CR4_PCIDE), "guest CR4.PCIDE set outside IA-32e mode");
	CHECK(g->cr3 >> g->maxphyaddr,
	      "guest CR3 %llx sets bits beyond the %u-bit physical address width",
	      (unsigned long long)g->cr3, g->maxphyaddr);
	CHECK(g->dr7 >> 32, "guest DR7 %llx: bits 63:32 must be 0", (unsigned long long)g->dr7);
	CHECK(!canonical(g->sysenter_esp) || !canonical(g->sysenter_eip),
	      "guest IA32_SYSENTER_ESP/EIP not canonical");
	for (u32 i = 0; i < 8; i++) {
		u8 t = (u8)(g->pat >> (i * 8));

		CHECK(t == 2 || t == 3 || t > 7,
		      "guest IA32_PAT %llx: entry %u has the reserved type %u",
		      (unsigned long long)g->pat, i, t);
	}
	CHECK(g->efer & ~EFER_KNOWN, "guest IA32_EFER %llx sets reserved bits",
	      (unsigned long long)g->efer);
	CHECK(!!(g->efer & EFER_LMA) != ia32e(g),
	      "guest IA32_EFER.LMA is %u but the IA-32e mode guest entry control is %u",
	      !!(g->efer & EFER_LMA), ia32e(g));
	CHECK((g->cr0 & CR0_PG) && !!(g->efer & EFER_LMA) != !!(g->efer & EFER_LME),
	      "guest IA32_EFER %llx: LMA differs from LME while CR0.PG is set",
	      (unsigned long long)g->efer);
	return NULL;
}

/* The access-rights bits and limit/G agreement every usable segment needs. */
static const char *check_ar_common(u32 n, const struct vmx_seg_state *s, char *buf, size_t len)
{
	CHECK(!(s->ar & AR_P), "guest %s (AR %x) is not present", seg_names[n], s->ar);
	CHECK(s->ar & AR_RESERVED, "guest %s AR %x: reserved bits 11:8 or 31:17 set", seg_names[n],
	      s->ar);
	CHECK((s->limit & 0xfff) != 0xfff && (s->ar & AR_G),
	      "guest %s limit %x has a 0 in bits 11:0, so G must be 0 (AR %x)", seg_names[n],
	      s->limit, s->ar);
	CHECK((s->limit >> 20) && !(s->ar & AR_G),
	      "guest %s limit %x has a 1 in bits 31:20, so G must be 1 (AR %x)", seg_names[n],
	      s->limit, s->ar);
	return NULL;
}

static const char *check_cs_ss(const struct vmx_guest_state *g, char *buf, size_t len)
{
	const struct vmx_seg_state *cs = &g->seg[CS], *ss = &g->seg[SS];
	u32 t = ar_type(cs->ar);
	bool ss_usable = !(ss->ar & AR_UNUSABLE);

	CHECK(cs->ar & AR_UNUSABLE, "guest CS is marked unusable");
	CHECK(!(t == 9 || t == 11 || t == 13 || t == 15 || (t == 3 && unrestricted(g))),
	      "guest CS type %u is not an accessed code segment%s", t,
	      unrestricted(g) ? " (or type 3)" : "");
	CHECK(!(cs->ar & AR_S), "guest CS AR %x: S (code/data) is clear", cs->ar);
	CHECK(t == 3 && ar_dpl(cs->ar) != 0, "guest CS of type 3 with DPL %u: must be 0",
	      ar_dpl(cs->ar));
	CHECK((t == 9 || t == 11) && ar_dpl(cs->ar) != ar_dpl(ss->ar),
	      "guest CS DPL %u differs from SS DPL %u (non-conforming code)", ar_dpl(cs->ar),
	      ar_dpl(ss->ar));
	CHECK((t == 13 || t == 15) && ar_dpl(cs->ar) > ar_dpl(ss->ar),
	      "guest CS DPL %u above SS DPL %u (conforming code)", ar_dpl(cs->ar), ar_dpl(ss->ar));
	CHECK(ia32e(g) && (cs->ar & AR_L) && (cs->ar & AR_DB),
	      "guest CS has both L and D/B set in IA-32e mode");
	CHECK(!unrestricted(g) && (ss->sel & 3) != (cs->sel & 3),
	      "guest SS.RPL %u differs from CS.RPL %u", ss->sel & 3, cs->sel & 3);
	if (ss_usable) {
		CHECK(ar_type(ss->ar) != 3 && ar_type(ss->ar) != 7,
		      "guest SS type %u is not a read/write accessed data segment",
		      ar_type(ss->ar));
		CHECK(!(ss->ar & AR_S), "guest SS AR %x: S (code/data) is clear", ss->ar);
	}
	CHECK(!unrestricted(g) && ar_dpl(ss->ar) != (ss->sel & 3u),
	      "guest SS DPL %u differs from its RPL %u", ar_dpl(ss->ar), ss->sel & 3);
	CHECK((t == 3 || !(g->cr0 & CR0_PE)) && ar_dpl(ss->ar) != 0,
	      "guest SS DPL %u: must be 0 in real mode or with a type-3 CS", ar_dpl(ss->ar));
	return NULL;
}

static const char *check_data(const struct vmx_guest_state *g, u32 n, char *buf, size_t len)
{
	const struct vmx_seg_state *s = &g->seg[n];
	u32 t = ar_type(s->ar);

	CHECK(!(t & 1), "guest %s type %u is not accessed", seg_names[n], t);
	CHECK((t & 8) && !(t & 2), "guest %s is a code segment that is not readable", seg_names[n]);
	CHECK(!(s->ar & AR_S), "guest %s AR %x: S (code/data) is clear", seg_names[n], s->ar);
	CHECK(!unrestricted(g) && t <= 11 && ar_dpl(s->ar) < (s->sel & 3u),
	      "guest %s DPL %u below its RPL %u", seg_names[n], ar_dpl(s->ar), s->sel & 3);
	return NULL;
}

static const char *check_system(const struct vmx_guest_state *g, char *buf, size_t len)
{
	const struct vmx_seg_state *tr = &g->seg[TR], *ldtr = &g->seg[LDTR];

	CHECK(tr->sel & 4, "guest TR selector %x has TI set", tr->sel);
	CHECK(tr->ar & AR_UNUSABLE, "guest TR is marked unusable");
	CHECK(!(ar_type(tr->ar) == 11 || (ar_type(tr->ar) == 3 && !ia32e(g))),
	      "guest TR type %u is not a busy TSS%s", ar_type(tr->ar),
	      ia32e(g) ? " (64-bit: 11)" : "");
	CHECK(tr->ar & AR_S, "guest TR AR %x: S must be 0 (system segment)", tr->ar);
	CHECK(!canonical(tr->base), "guest TR base %llx not canonical",
	      (unsigned long long)tr->base);
	if (!(ldtr->ar & AR_UNUSABLE)) {
		CHECK(ldtr->sel & 4, "guest LDTR selector %x has TI set", ldtr->sel);
		CHECK(ar_type(ldtr->ar) != 2, "guest LDTR type %u is not an LDT (2)",
		      ar_type(ldtr->ar));
		CHECK(ldtr->ar & AR_S, "guest LDTR AR %x: S must be 0 (system segment)", ldtr->ar);
		CHECK(!canonical(ldtr->base), "guest LDTR base %llx not canonical",
		      (unsigned long long)ldtr->base);
	}
	CHECK(!canonical(g->gdtr_base) || !canonical(g->idtr_base),
	      "guest GDTR or IDTR base not canonical");
	CHECK((g->gdtr_limit | g->idtr_limit) >> 16,
	      "guest GDTR/IDTR limit %x/%x: bits 31:16 must be 0", g->gdtr_limit, g->idtr_limit);
	return NULL;
}

static const char *check_v86(const struct vmx_guest_state *g, char *buf, size_t len)
{
	for (u32 n = ES; n <= GS; n++) {
		const struct vmx_seg_state *s = &g->seg[n];

		CHECK(s->base != (u64)s->sel << 4 || s->limit != 0xffff || s->ar != 0xf3,
		      "virtual-8086 guest %s: base %llx limit %x AR %x (need selector*16, ffff, f3)",
		      seg_names[n], (unsigned long long)s->base, s->limit, s->ar);
	}
	return NULL;
}

/* 27.3.1.2 and 27.3.1.3. */
static const char *check_segments(const struct vmx_guest_state *g, char *buf, size_t len)
{
	const char *why;

	if (g->rflags & RFLAGS_VM)
		return check_v86(g, buf, len);
	for (u32 n = ES; n <= TR; n++) {
		const struct vmx_seg_state *s = &g->seg[n];
		bool usable = !(s->ar & AR_UNUSABLE);

		CHECK((n == FS || n == GS) && !canonical(s->base),
		      "guest %s base %llx not canonical", seg_names[n],
		      (unsigned long long)s->base);
		CHECK((n == CS || (usable && n != FS && n != GS && n < LDTR)) && (s->base >> 32),
		      "guest %s base %llx: bits 63:32 must be 0", seg_names[n],
		      (unsigned long long)s->base);
		if (!usable && n != TR)
			continue;
		why = check_ar_common(n, s, buf, len);
		if (!why && (n == ES || n == DS || n == FS || n == GS))
			why = check_data(g, n, buf, len);
		if (why)
			return why;
	}
	why = check_cs_ss(g, buf, len);
	return why ? why : check_system(g, buf, len);
}

/* 27.3.1.4. */
static const char *check_rip_rflags(const struct vmx_guest_state *g, char *buf, size_t len)
{
	bool long64 = ia32e(g) && (g->seg[CS].ar & AR_L);

	CHECK(!long64 && (g->rip >> 32), "guest RIP %llx: bits 63:32 must be 0 outside 64-bit mode",
	      (unsigned long long)g->rip);
	CHECK(long64 && !canonical(g->rip), "guest RIP %llx not canonical",
	      (unsigned long long)g->rip);
	CHECK((g->rflags & RFLAGS_RESERVED) || !(g->rflags & 2),
	      "guest RFLAGS %llx: reserved bits wrong (bit 1 must be 1; 3, 5, 15, 63:22 must be 0)",
	      (unsigned long long)g->rflags);
	CHECK((ia32e(g) || !(g->cr0 & CR0_PE)) && (g->rflags & RFLAGS_VM),
	      "guest RFLAGS.VM set in IA-32e mode or real mode");
	CHECK((g->entry_info & INTR_INFO_VALID) &&
		      ((g->entry_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) ==
			      EVENT_EXTINT &&
		      !(g->rflags & RFLAGS_IF),
	      "injecting an external interrupt while guest RFLAGS.IF is 0");
	return NULL;
}

/* 27.3.1.5 and 27.3.1.6. */
static const char *check_nonreg(const struct vmx_guest_state *g, char *buf, size_t len)
{
	u32 st = g->intr_state,
	    type = (g->entry_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	bool inject = g->entry_info & INTR_INFO_VALID;

	CHECK(g->activity > 3, "guest activity state %u is not defined", g->activity);
	CHECK(g->activity == 1 && ar_dpl(g->seg[SS].ar) != 0, "guest in HLT state with SS.DPL %u",
	      ar_dpl(g->seg[SS].ar));
	CHECK(st & INTR_STATE_RESERVED, "guest interruptibility state %x: reserved bits 31:5 set",
	      st);
	CHECK((st & INTR_STATE_STI) && (st & INTR_STATE_MOV_SS),
	      "guest interruptibility state %x: blocking by both STI and MOV SS", st);
	CHECK((st & INTR_STATE_STI) && !(g->rflags & RFLAGS_IF),
	      "guest interruptibility state %x: blocking by STI while RFLAGS.IF is 0", st);
	CHECK(inject && (type == EVENT_EXTINT || type == EVENT_NMI) &&
		      (st & (INTR_STATE_STI | INTR_STATE_MOV_SS)),
	      "injecting %s inside an STI/MOV SS shadow (interruptibility %x)",
	      type == EVENT_NMI ? "an NMI" : "an external interrupt", st);
	CHECK(g->pending_dbg & PENDING_DBG_RESERVED,
	      "guest pending debug exceptions %llx: reserved bits set",
	      (unsigned long long)g->pending_dbg);
	CHECK(g->link_pointer != ~0ULL, "VMCS link pointer %llx is not ffffffff_ffffffff",
	      (unsigned long long)g->link_pointer);
	if (!ia32e(g) && (g->cr0 & CR0_PG) && (g->cr4 & CR4_PAE))
		for (u32 i = 0; i < 4; i++)
			CHECK((g->pdpte[i] & 1) && ((g->pdpte[i] & PDPTE_RESERVED_LOW) ||
						    (g->pdpte[i] >> g->maxphyaddr)),
			      "guest PDPTE%u %llx sets reserved bits (PAE paging)", i,
			      (unsigned long long)g->pdpte[i]);
	return NULL;
}

const char *vmx_check_guest(const struct vmx_guest_state *g, char *buf, size_t len)
{
	const char *why = check_regs(g, buf, len);

	if (!why)
		why = check_segments(g, buf, len);
	if (!why)
		why = check_rip_rflags(g, buf, len);
	if (!why)
		why = check_nonreg(g, buf, len);
	return why;
}
