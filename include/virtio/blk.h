/* SPDX-License-Identifier: MIT */
/* virtio block device model over an embedder-supplied backend (virtio 1.2 5.2). */
#ifndef KEEL_VIRTIO_BLK_H
#define KEEL_VIRTIO_BLK_H

#include <virtio/virtio.h>

/* virtio 1.2 5.2.3: feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX BIT(1)
#define VIRTIO_BLK_F_SEG_MAX BIT(2)
#define VIRTIO_BLK_F_RO BIT(5)
#define VIRTIO_BLK_F_BLK_SIZE BIT(6)
#define VIRTIO_BLK_F_FLUSH BIT(9)
#define VIRTIO_BLK_F_TOPOLOGY BIT(10)
#define VIRTIO_BLK_F_MQ BIT(12)
#define VIRTIO_BLK_F_DISCARD BIT(13)
#define VIRTIO_BLK_F_WRITE_ZEROES BIT(14)

/* virtio 1.2 5.2.6: request types and status values. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_F_UNMAP BIT(0)

#define VIRTIO_BLK_SECTOR_SIZE 512 /* the protocol's unit, always */
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_MAX_QUEUES 16
#define VIRTIO_BLK_MAX_RANGES 32 /* discard / write-zeroes segments a request */

/* virtio 1.2 5.2.4: device configuration layout. */
struct virtio_blk_config {
	u64 capacity;			   /* 0x00: in 512-byte sectors */
	u32 size_max;			   /* 0x08 */
	u32 seg_max;			   /* 0x0c */
	u16 cylinders;			   /* 0x10 */
	u8 heads;			   /* 0x12 */
	u8 sectors;			   /* 0x13 */
	u32 blk_size;			   /* 0x14 */
	u8 physical_block_exp;		   /* 0x18 */
	u8 alignment_offset;		   /* 0x19 */
	u16 min_io_size;		   /* 0x1a */
	u32 opt_io_size;		   /* 0x1c */
	u8 writeback;			   /* 0x20 */
	u8 unused0;			   /* 0x21 */
	u16 num_queues;			   /* 0x22 */
	u32 max_discard_sectors;	   /* 0x24 */
	u32 max_discard_seg;		   /* 0x28 */
	u32 discard_sector_alignment;	   /* 0x2c */
	u32 max_write_zeroes_sectors;	   /* 0x30 */
	u32 max_write_zeroes_seg;	   /* 0x34 */
	u8 write_zeroes_may_unmap;	   /* 0x38 */
	u8 unused1[3];			   /* 0x39 */
	u32 max_secure_erase_sectors;	   /* 0x3c */
	u32 max_secure_erase_seg;	   /* 0x40 */
	u32 secure_erase_sector_alignment; /* 0x44 */
} __packed;
BUILD_ASSERT(offsetof(struct virtio_blk_config, blk_size) == 0x14, "virtio 1.2 5.2.4");
BUILD_ASSERT(offsetof(struct virtio_blk_config, opt_io_size) == 0x1c, "virtio 1.2 5.2.4");
BUILD_ASSERT(offsetof(struct virtio_blk_config, num_queues) == 0x22, "virtio 1.2 5.2.4");
BUILD_ASSERT(offsetof(struct virtio_blk_config, max_discard_sectors) == 0x24, "virtio 1.2 5.2.4");
BUILD_ASSERT(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 0x38,
	     "virtio 1.2 5.2.4");
BUILD_ASSERT(sizeof(struct virtio_blk_config) == 0x48, "virtio 1.2 5.2.4");

/* virtio 1.2 5.2.6: the device-readable request header. */
struct virtio_blk_req_hdr {
	u32 type;     /* 0x0 */
	u32 reserved; /* 0x4 */
	u64 sector;   /* 0x8 */
};
BUILD_ASSERT(sizeof(struct virtio_blk_req_hdr) == 16, "virtio 1.2 5.2.6");

/* virtio 1.2 5.2.6: one discard / write-zeroes range. */
struct virtio_blk_range {
	u64 sector;	 /* 0x0 */
	u32 num_sectors; /* 0x8 */
	u32 flags;	 /* 0xc: VIRTIO_BLK_WZ_F_UNMAP */
};
BUILD_ASSERT(sizeof(struct virtio_blk_range) == 16, "virtio 1.2 5.2.6");

/*
 * The embedder's disk. Offsets and lengths are bytes, already checked
 * against the capacity; return 0 or a negative errno (the request then
 * completes with VIRTIO_BLK_S_IOERR). A NULL flush, discard or
 * write_zeroes leaves that feature unoffered.
 */
struct virtio_blk_ops {
	int (*read)(void *ctx, u64 off, const struct virtio_iov *iov, u32 niov);
	int (*write)(void *ctx, u64 off, const struct virtio_iov *iov, u32 niov);
	int (*flush)(void *ctx);
	int (*discard)(void *ctx, u64 off, u64 len);
	int (*write_zeroes)(void *ctx, u64 off, u64 len, bool unmap);
};

struct virtio_blk_params {
	u64 capacity; /* bytes; rounded down to whole sectors */
	bool read_only;
	u16 num_queues; /* 0 or 1: one queue; more offers VIRTIO_BLK_F_MQ */
	u16 queue_size; /* 0: VIRTIO_QUEUE_SIZE_MAX */
	u32 size_max;	/* 0: no VIRTIO_BLK_F_SIZE_MAX */
	u32 blk_size;	/* 0: 512 */
	u8 physical_block_exp;
	u16 min_io_size; /* in blk_size blocks */
	u32 opt_io_size;
	const char *serial; /* VIRTIO_BLK_T_GET_ID, up to 20 bytes */
};

struct virtio_blk {
	struct virtio_dev dev;
	const struct virtio_blk_ops *ops;
	void *ctx;
	u64 sectors;
	bool read_only;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct vq_chain chain;
	struct virtio_iov data[VIRTIO_QUEUE_SIZE_MAX];
};

int virtio_blk_init(struct virtio_blk *blk, const struct virtio_blk_params *p,
		    const struct virtio_blk_ops *ops, void *ctx);
/* The backing file grew or shrank: new capacity, config change notification. */
void virtio_blk_set_capacity(struct virtio_blk *blk, u64 bytes);

#endif
