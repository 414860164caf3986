/* SPDX-License-Identifier: MIT */
/* Device side of split and packed virtqueues: ring layouts, chain walking, used entries. */
#ifndef KEEL_VIRTIO_QUEUE_H
#define KEEL_VIRTIO_QUEUE_H

#include <lib/types.h>
#include <virtio/guest_mem.h>

struct virtio_dev;

/* Largest queue any Keel device offers; also bounds every descriptor chain. */
#define VIRTIO_QUEUE_SIZE_MAX 256

/* Descriptor flags, shared by both layouts (virtio 1.2 2.7.5, 2.8.3, 2.8.6, 2.8.7). */
#define VIRTQ_DESC_F_NEXT BIT(0)
#define VIRTQ_DESC_F_WRITE BIT(1)
#define VIRTQ_DESC_F_INDIRECT BIT(2)
/* Packed ring only (virtio 1.2 2.8.1). */
#define VIRTQ_DESC_F_AVAIL BIT(7)
#define VIRTQ_DESC_F_USED BIT(15)

/* virtio 1.2 2.7.7 and 2.7.10: split-ring notification suppression flags. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT BIT(0)
#define VIRTQ_USED_F_NO_NOTIFY BIT(0)

/* virtio 1.2 2.8.10: packed-ring event suppression flags. */
#define RING_EVENT_FLAGS_ENABLE 0x0
#define RING_EVENT_FLAGS_DISABLE 0x1
#define RING_EVENT_FLAGS_DESC 0x2
#define RING_EVENT_FLAGS_MASK 0x3
#define RING_EVENT_WRAP_SHIFT 15

/* virtio 1.2 2.7.5: split descriptor; also the indirect-table entry. */
struct virtq_desc {
	u64 addr;  /* 0x0 */
	u32 len;   /* 0x8 */
	u16 flags; /* 0xc */
	u16 next;  /* 0xe */
};
BUILD_ASSERT(offsetof(struct virtq_desc, len) == 0x8, "virtio 1.2 2.7.5");
BUILD_ASSERT(offsetof(struct virtq_desc, flags) == 0xc, "virtio 1.2 2.7.5");
BUILD_ASSERT(offsetof(struct virtq_desc, next) == 0xe, "virtio 1.2 2.7.5");
BUILD_ASSERT(sizeof(struct virtq_desc) == 16, "virtio 1.2 2.7.5");

/* virtio 1.2 2.7.6: avail ring header; le16 ring[size] and used_event follow. */
struct virtq_avail {
	u16 flags;  /* 0x0 */
	u16 idx;    /* 0x2 */
	u16 ring[]; /* 0x4 */
};
BUILD_ASSERT(offsetof(struct virtq_avail, ring) == 0x4, "virtio 1.2 2.7.6");

/* virtio 1.2 2.7.8: one used-ring element. */
struct virtq_used_elem {
	u32 id;	 /* 0x0 */
	u32 len; /* 0x4 */
};
BUILD_ASSERT(sizeof(struct virtq_used_elem) == 8, "virtio 1.2 2.7.8");

/* virtio 1.2 2.7.8: used ring header; ring[size] and avail_event follow. */
struct virtq_used {
	u16 flags;		       /* 0x0 */
	u16 idx;		       /* 0x2 */
	struct virtq_used_elem ring[]; /* 0x4 */
};
BUILD_ASSERT(offsetof(struct virtq_used, ring) == 0x4, "virtio 1.2 2.7.8");

/* virtio 1.2 2.8.13: packed descriptor. */
struct pvirtq_desc {
	u64 addr;  /* 0x0 */
	u32 len;   /* 0x8 */
	u16 id;	   /* 0xc */
	u16 flags; /* 0xe */
};
BUILD_ASSERT(offsetof(struct pvirtq_desc, id) == 0xc, "virtio 1.2 2.8.13");
BUILD_ASSERT(offsetof(struct pvirtq_desc, flags) == 0xe, "virtio 1.2 2.8.13");
BUILD_ASSERT(sizeof(struct pvirtq_desc) == 16, "virtio 1.2 2.8.13");

/* virtio 1.2 2.8.14: event suppression (driver area and device area). */
struct pvirtq_event_suppress {
	u16 desc;  /* 0x0: off[14:0], wrap[15] */
	u16 flags; /* 0x2: RING_EVENT_FLAGS_* */
};
BUILD_ASSERT(sizeof(struct pvirtq_event_suppress) == 4, "virtio 1.2 2.8.14");

/* A host view of one guest buffer segment (zero copy). */
struct virtio_iov {
	void *base;
	u32 len;
};

/*
 * One buffer taken from the available side: device-readable segments
 * iov[0, nout) followed by device-writable ones iov[nout, nout + nin).
 */
struct vq_chain {
	u16 id;	   /* split: head index; packed: buffer id */
	u16 ndesc; /* packed: ring slots the buffer occupied */
	u16 nout, nin;
	u32 out_len, in_len; /* byte totals, overflow-checked */
	struct virtio_iov iov[VIRTIO_QUEUE_SIZE_MAX];
};

/* A used element waiting for vq_flush(). */
struct vq_pending {
	u16 id;
	u16 ndesc;
	u32 len;
};

/*
 * A queue's used-side position, kept in memory the embedder supplies and
 * that outlives its process (keel-dm: a file mapped shared). A position
 * is the free-running used idx (split) or slot | wrap << 15 (packed, the
 * off_wrap form of virtio 1.2 2.8.10). Each publish of used buffers first
 * records the batch and where it ends, then publishes, then moves used
 * up; vq_journal.c says why a restarted device continues exactly.
 */
struct vq_journal {
	u16 used;     /* 0x0: used buffers are published up to here */
	u16 to;	      /* 0x2: != used: batch[0, count) is being published up to here */
	u16 count;    /* 0x4 */
	u16 reserved; /* 0x6 */
	struct vq_pending batch[VIRTIO_QUEUE_SIZE_MAX]; /* 0x8 */
};
BUILD_ASSERT(offsetof(struct vq_journal, batch) == 0x8, "a file layout");
BUILD_ASSERT(sizeof(struct vq_pending) == 8, "a file layout");

/* Position on the available side, to give back buffers that were taken. */
struct vq_cursor {
	u16 idx;
	bool wrap;
};

/*
 * The transport-neutral state of one queue. size, enabled and the three
 * addresses are what the driver programmed; the rest is valid while
 * started (between vq_start and vq_reset).
 */
struct virtqueue {
	struct virtio_dev *dev;
	u16 index;
	u16 size_max;

	u16 size;
	bool enabled;
	gpa_t desc_gpa, driver_gpa, device_gpa;

	bool started;
	bool packed, event_idx, indirect;
	void *desc;   /* descriptor table or ring */
	void *driver; /* avail ring or driver event suppression */
	void *device; /* used ring or device event suppression */

	u16 last_avail; /* split: free-running index; packed: slot */
	bool avail_wrap;
	u16 used_idx; /* split: free-running index; packed: slot */
	bool used_wrap;
	u16 signalled;	  /* used position at the last notify decision */
	u32 since_signal; /* used slots written since then */

	u16 npending;
	struct vq_pending pending[VIRTIO_QUEUE_SIZE_MAX];
	struct vq_journal *journal; /* NULL: the position is kept nowhere else */
};

void vq_init(struct virtqueue *vq, struct virtio_dev *dev, u16 index, u16 size_max);
void vq_reset(struct virtqueue *vq);
/* Map and check the rings the driver programmed; fails the device if bad. */
int vq_start(struct virtqueue *vq, bool packed, bool event_idx, bool indirect);

/* 1: c holds a buffer; 0: none available; <0: the device failed. */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);
/*
 * A buffer the device fills unasked (receive, events): as vq_pop, but
 * when none is there it asks for a kick and looks once more, and a chain
 * with device-readable descriptors fails the queue ("<what> has ...").
 */
int vq_pop_for_device(struct virtqueue *vq, struct vq_chain *c, const char *what);
struct vq_cursor vq_cursor(const struct virtqueue *vq);
void vq_rewind(struct virtqueue *vq, struct vq_cursor pos);

/* Queue a used element (len bytes written); vq_flush publishes the batch. */
int vq_fill(struct virtqueue *vq, const struct vq_chain *c, u32 len);
void vq_flush(struct virtqueue *vq);
void vq_fill_abort(struct virtqueue *vq);
int vq_push(struct virtqueue *vq, const struct vq_chain *c, u32 len);

/* Used buffer notification decision since the last call (virtio 1.2 2.7.7, 2.8.10). */
bool vq_should_notify(struct virtqueue *vq);
/* Available buffer notification suppression; enable answers "more work?". */
void vq_disable_notify(struct virtqueue *vq);
bool vq_enable_notify(struct virtqueue *vq);

/*
 * Keep vq's used position in j from now on (NULL: no longer); j takes the
 * current one. Restarting from a journal assumes what Keel's models do:
 * buffers are completed in the order they were taken.
 */
void vq_journal_attach(struct virtqueue *vq, struct vq_journal *j);
/* NULL if j can carry on a started queue of this size and layout; else why not. */
const char *vq_journal_check(const struct vq_journal *j, u16 size, bool packed);
/* Right after vq_start: continue where j says, finishing a publish that was cut short. */
void vq_journal_resume(struct virtqueue *vq, const struct vq_journal *j);

/* The driver broke the rules on this queue: NEEDS_RESET with a reason. -EIO. */
int vq_fail(struct virtqueue *vq, const char *fmt, ...) __printf(2, 3);

/* Copy between a chain's readable/writable bytes and device memory. */
u32 vq_chain_read(const struct vq_chain *c, u32 off, void *dst, u32 len);
u32 vq_chain_write(const struct vq_chain *c, u32 off, const void *src, u32 len);
/* Describe bytes [off, off + len) of one side as iovecs; returns the count. */
u32 vq_chain_slice(const struct vq_chain *c, bool writable, u32 off, u32 len,
		   struct virtio_iov *out, u32 max);

#endif
