// SPDX-License-Identifier: MIT
/* Finding the S5 (soft-off) sleep type in the DSDT's AML without an AML interpreter. */
#include <keel/acpi.h>
#include <keel/aml.h>
#include <lib/string.h>

int acpi_s5_slp_typ(const u8 *aml, u32 len, u8 *slp_typ)
{
	for (u32 i = 0; i + 8 < len; i++) {
		u32 p;

		if (memcmp(aml + i, "_S5_", 4) || aml[i + 4] != AML_PACKAGE_OP)
			continue;
		p = i + 5;
		p += 1 + (aml[p] >> AML_PKGLEN_EXTRA_SHIFT); /* PkgLength and its extra bytes */
		p += 1;					     /* NumElements */
		if (p >= len)
			return -ENOENT;
		if (aml[p] == AML_BYTE_PREFIX && p + 1 < len)
			*slp_typ = aml[p + 1];
		else if (aml[p] == AML_ZERO_OP || aml[p] == AML_ONE_OP)
			*slp_typ = aml[p];
		else
			return -ENOENT;
		return 0;
	}
	return -ENOENT;
}
