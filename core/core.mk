# Generic hypervisor core: boot sequence, memory, log, and the one page-table walker.
CORE_SRCS += core/main.c core/log.c core/panic.c core/memory.c core/page_alloc.c core/symbols.c \
	core/monitor.c core/wallclock.c core/pagetable.c
UNIT_TESTS += pagetable
UNIT_SRCS_pagetable := core/pagetable.c arch/x86/svm/npt.c tests/unit/fake_page_alloc.c \
	tests/unit/fake_log.c lib/format.c
