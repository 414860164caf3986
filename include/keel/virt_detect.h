/* SPDX-License-Identifier: MIT */
/* Which hardware virtualization this CPU offers, readable before and after ExitBootServices. */
#ifndef KEEL_VIRT_DETECT_H
#define KEEL_VIRT_DETECT_H

#include <lib/types.h>

enum virt_kind { VIRT_NONE = 0, VIRT_SVM, VIRT_VMX };

struct virt_support {
	enum virt_kind kind;
	char vendor[13];
	const char *problem; /* why it cannot be used, or NULL */
};

void virt_detect(struct virt_support *vs);

#endif
