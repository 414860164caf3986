# The AMD-V backend (included from arch/x86/x86.mk).
CORE_SRCS += arch/x86/svm/svm_cpu.c arch/x86/svm/npt.c arch/x86/svm/svm.c arch/x86/svm/svm_run.c arch/x86/svm/svm_event.c arch/x86/svm/quirks.c \
	arch/x86/svm/svm_nmi.c arch/x86/svm/svm_entry.S arch/x86/svm/svm_check.c
UNIT_TESTS += svm_check
UNIT_SRCS_svm_check := arch/x86/svm/svm_check.c
UNIT_TESTS += svm_event
UNIT_SRCS_svm_event := arch/x86/svm/svm_event.c
UNIT_TESTS += svm_nmi
UNIT_SRCS_svm_nmi := arch/x86/svm/svm_nmi.c
