// SPDX-License-Identifier: MIT
/* Test guest: CPUID answers are the host's, filtered, plus Keel's hypervisor leaf. */
#include "../lib/guest.h"
#include <lib/string.h>

const char test_name[] = "cpuid";

void test_main(void)
{
	u32 a, b, c, d;
	char sig[13] = { 0 };

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	CHECK(!memcmp(sig, "KeelKeelKeel", 12));
	CHECK(a >= 0x40000001);
	cpuid(1, 0, &a, &b, &c, &d);
	CHECK(c & (1u << 31));	 /* hypervisor present */
	CHECK(!(c & (1u << 5))); /* no VMX */
	CHECK(!(c & (1u << 3))); /* no MONITOR/MWAIT */
	CHECK(c & (1u << 21));	 /* x2APIC */
	CHECK(d & (1u << 9));	 /* APIC */
	CHECK_EQ(b >> 24, 0);	 /* APIC ID of vCPU 0 */
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	CHECK(!(c & (1u << 2))); /* no SVM */
	CHECK(d & (1u << 29));	 /* long mode, which we are in */
	cpuid(0x8000000a, 0, &a, &b, &c, &d);
	CHECK_EQ(a | b | c | d, 0);
	cpuid(0, 0, &a, &b, &c, &d);
	CHECK(a >= 1);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &d, 4);
	memcpy(sig + 8, &c, 4);
	gprintf("vendor %s, max leaf %u\n", sig, a);
}
