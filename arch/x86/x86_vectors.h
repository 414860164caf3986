/* SPDX-License-Identifier: MIT */
/* Exception vectors and the event types both virtualization extensions inject and report. */
#ifndef ARCH_X86_X86_VECTORS_H
#define ARCH_X86_X86_VECTORS_H

#include <lib/types.h>

/* SDM 3A table 6-1, APM2 8.2: the exceptions' vectors. */
#define X86_EXC_DE 0
#define X86_EXC_DB 1
#define X86_EXC_NMI 2
#define X86_EXC_BP 3
#define X86_EXC_OF 4
#define X86_EXC_BR 5
#define X86_EXC_UD 6
#define X86_EXC_NM 7
#define X86_EXC_DF 8
#define X86_EXC_TS 10
#define X86_EXC_NP 11
#define X86_EXC_SS 12
#define X86_EXC_GP 13
#define X86_EXC_PF 14
#define X86_EXC_MF 16
#define X86_EXC_AC 17
#define X86_EXC_MC 18
#define X86_EXC_XM 19
#define X86_EXC_VE 20
#define X86_EXC_CP 21
#define X86_NR_EXCEPTIONS 32 /* vectors 0-31 are the architecture's */
/* The ones that push an error code (SDM 3A table 6-1; SDM 3C 27.2.1.3 checks the same set). */
#define X86_EXC_ERROR_CODES                                                                        \
	(BIT(X86_EXC_DF) | BIT(X86_EXC_TS) | BIT(X86_EXC_NP) | BIT(X86_EXC_SS) | BIT(X86_EXC_GP) | \
	 BIT(X86_EXC_PF) | BIT(X86_EXC_AC) | BIT(X86_EXC_CP))

/*
 * An event's type, bits 10:8 of SVM's EVENTINJ and EXITINTINFO (APM2 15.20)
 * and of VMX's interruption information (SDM 3C 25.8.3, 28.2.2): the two
 * encode 0-4 alike; 5-7 are VMX's only.
 */
enum event_type {
	EVENT_EXTINT = 0,
	EVENT_NMI = 2,
	EVENT_EXCEPTION = 3, /* VMX: hardware exception */
	EVENT_SOFTINT = 4,
	EVENT_PRIV_SOFT_EXCEPTION = 5, /* INT1 */
	EVENT_SOFT_EXCEPTION = 6,      /* INT3, INTO */
	EVENT_OTHER = 7,
};

#endif
