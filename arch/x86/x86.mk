# x86-64 CPU support and the two virtualization backends.
CORE_SRCS += arch/x86/fpu.c arch/x86/gdt.c arch/x86/isr.S arch/x86/exception.c arch/x86/paging.c \
	arch/x86/apic.c arch/x86/tsc.c arch/x86/smp.c arch/x86/trampoline.S arch/x86/pic.c \
	arch/x86/virt.c arch/x86/virt_detect.c arch/x86/host_cpu.c
include arch/x86/svm/svm.mk arch/x86/vmx/vmx.mk
