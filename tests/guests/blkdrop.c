// SPDX-License-Identifier: MIT
/*
 * Test guest: asks its virtio disk for two 4 MiB reads into its RAM and powers
 * itself off at once, while the reads may still be going on: the device model
 * must not write them into RAM that is no longer this VM's. With "loop" on its
 * command line it reads on and on instead, to be destroyed in the middle.
 */
#include "lib/vpci.h"

const char test_name[] = "blkdrop";

#define VIRTIO_ID_BLOCK 2 /* virtio 1.2 5 */
#define VIRTIO_BLK_T_IN 0 /* virtio 1.2 5.2.6: read */
#define READ_SIZE (4 * MiB)
#define BUF_BASE (8 * MiB)   /* in its RAM, clear of the image */
#define SLEEP_CTL_PORT 0x604 /* Keel's guest platform (vmm/guest/guest.c): FADT sleep control */
#define SLP_EN BIT(5)	     /* ACPI 6.5 4.8.3.7 */
#define COM1_LSR 0x3fd
#define LSR_DR BIT(0) /* 16550: a byte is waiting */

#define MB_INFO_CMDLINE BIT(2) /* multiboot 0.6.96 3.3 */

extern u32 mb_info;

struct blk_req {
	u32 type, reserved;
	u64 sector;
};

static struct vqueue q;
static struct blk_req hdr[2];
static u8 status[2];

static bool looping(void)
{
	const u32 *mbi = (const u32 *)(u64)mb_info;

	return mbi && (mbi[0] & MB_INFO_CMDLINE) && strstr((const char *)(u64)mbi[4], "loop");
}

/* Both reads, again each time the device has answered both: until the VM is destroyed. */
static void read_on(struct vpci *v)
{
	u16 used = 2;

	vpci_kick(v, &q, 0);
	vpci_kick(v, &q, 3);
	gprintf("blkdrop: reading on\n");
	for (;;) {
		if (!vpci_wait_used(&q, used))
			fail_at(__LINE__, "the disk stopped answering (used %u)", used);
		vpci_kick(v, &q, 0);
		vpci_kick(v, &q, 3);
		used += 2;
	}
}

void test_main(void)
{
	struct vpci v;

	vpci_open(&v, VIRTIO_ID_BLOCK, 0xc0000000ULL);
	vpci_queue(&v, &q, 0);
	vpci_driver_ok(&v);
	for (u16 r = 0; r < 2; r++) {
		u16 d = (u16)(r * 3);

		hdr[r] = (struct blk_req){ VIRTIO_BLK_T_IN, 0, (u64)r * (READ_SIZE / 512) };
		status[r] = 0xff;
		q.desc[d] =
			(struct vdesc){ (u64)&hdr[r], sizeof(hdr[r]), VIRTQ_DESC_F_NEXT, d + 1 };
		q.desc[d + 1] = (struct vdesc){ BUF_BASE + r * READ_SIZE, READ_SIZE,
						VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, d + 2 };
		q.desc[d + 2] = (struct vdesc){ (u64)&status[r], 1, VIRTQ_DESC_F_WRITE, 0 };
	}
	if (looping())
		read_on(&v);
	gprintf("blkdrop: ready; a key on the console asks and powers off\n");
	while (!(inb(COM1_LSR) & LSR_DR)) /* meanwhile the device model may be stopped */
		__asm__ volatile("pause");
	vpci_kick(&v, &q, 0);
	vpci_kick(&v, &q, 3);
	gprintf("blkdrop: two reads asked; powering off\n");
	outb(SLEEP_CTL_PORT, SLP_EN);
	for (;;)
		__asm__ volatile("cli; hlt");
}
