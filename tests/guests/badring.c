// SPDX-License-Identifier: MIT
/* Test guest: a hostile driver gives virtio-blk a looping descriptor chain, then resets it. */
#include "lib/vpci.h"

const char test_name[] = "badring";

#define VIRTIO_ID_BLOCK 2 /* virtio 1.2 5 */

static struct vqueue q;
static u8 buf[64] __attribute__((aligned(64)));

void test_main(void)
{
	struct vpci v;
	u64 t0;
	u8 s;

	vpci_open(&v, VIRTIO_ID_BLOCK, 0xc0000000ULL);
	vpci_queue(&v, &q, 0);
	vpci_driver_ok(&v);

	/* The attack: descriptor 0 -> 1 -> 0 -> ..., a chain that never ends (virtio 1.2 2.7.5.2). */
	q.desc[0] = (struct vdesc){ (u64)buf, 16, VIRTQ_DESC_F_NEXT, 1 };
	q.desc[1] = (struct vdesc){ (u64)buf + 16, 16, VIRTQ_DESC_F_NEXT, 0 };
	vpci_kick(&v, &q, 0);

	t0 = rdtsc();
	while (!((s = vpci_status(&v)) & ST_NEEDS_RESET) && rdtsc() - t0 < VPCI_TIMEOUT_TSC)
		;
	if (s & ST_NEEDS_RESET)
		gprintf("badring: device needs reset (status 0x%02x)\n", s);
	else
		gprintf("badring: used idx %u, status 0x%02x\n", *(volatile u16 *)&q.used.idx, s);

	s = vpci_reset(&v);
	if (s)
		fail_at(__LINE__, "reset after the attack: status 0x%02x", s);
	gprintf("badring: reset ok\n");
}
