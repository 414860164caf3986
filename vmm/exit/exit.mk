# Exit handlers: the dispatch table and one file per kind of exit.
CORE_SRCS += vmm/exit/dispatch.c vmm/exit/cpuid.c vmm/exit/msr.c vmm/exit/io.c vmm/exit/npf.c \
	vmm/exit/insn.c vmm/exit/xsetbv.c vmm/exit/fatal.c
