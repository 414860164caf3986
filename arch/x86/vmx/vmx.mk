# The VT-x backend (included from arch/x86/x86.mk).
CORE_SRCS += arch/x86/vmx/vmx_cpu.c arch/x86/vmx/vmx.c arch/x86/vmx/vmx_state.c \
	arch/x86/vmx/vmx_vmcs.c arch/x86/vmx/vmx_run.c arch/x86/vmx/vmx_entry.S \
	arch/x86/vmx/vmx_check.c arch/x86/vmx/ept.c
UNIT_TESTS += vmx_check
UNIT_SRCS_vmx_check := arch/x86/vmx/vmx_check.c lib/format.c
UNIT_TESTS += ept
UNIT_SRCS_ept := arch/x86/vmx/ept.c core/pagetable.c tests/unit/fake_page_alloc.c \
	tests/unit/fake_log.c lib/format.c
