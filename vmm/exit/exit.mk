# Exit handlers: the dispatch table and one file per kind of exit.
CORE_SRCS += vmm/exit/dispatch.c vmm/exit/cpuid.c vmm/exit/msr.c vmm/exit/mtrr.c vmm/exit/io.c \
	vmm/exit/npf.c vmm/exit/insn.c vmm/exit/xsetbv.c vmm/exit/fatal.c vmm/exit/spec.c
UNIT_TESTS += exit_msr
UNIT_SRCS_exit_msr := vmm/exit/msr.c vmm/exit/mtrr.c tests/unit/exit/fake_exit.c \
	tests/unit/fake_clock.c tests/unit/fake_log.c lib/format.c
# the CPUID table test runs the MSRs each offered feature implies through msr.c
UNIT_TESTS += exit_cpuid
UNIT_SRCS_exit_cpuid := vmm/exit/cpuid.c vmm/exit/msr.c vmm/exit/mtrr.c \
	tests/unit/exit/fake_exit.c tests/unit/fake_clock.c tests/unit/fake_log.c lib/format.c
UNIT_TESTS += xsetbv spec
UNIT_SRCS_xsetbv := vmm/exit/xsetbv.c
UNIT_SRCS_spec := vmm/exit/spec.c vmm/exit/cpuid.c vmm/exit/msr.c vmm/exit/mtrr.c \
	tests/unit/fake_log.c lib/format.c
UNIT_TESTS += exit_io
UNIT_SRCS_exit_io := vmm/exit/io.c vmm/control/dm_forward.c tests/unit/exit/fake_exit.c lib/format.c
