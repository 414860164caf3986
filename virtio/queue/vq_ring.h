/* SPDX-License-Identifier: MIT */
/* Private to virtio/: single-fetch ring accessors and the split/packed ring backends. */
#ifndef KEEL_VIRTIO_VQ_RING_H
#define KEEL_VIRTIO_VQ_RING_H

#include <virtio/queue.h>

/* The rings are little-endian (virtio 1.2 1.4); Keel's hosts are x86. */
BUILD_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.2 1.4");

/*
 * Guest RAM changes under our feet while vCPUs run. Every ring field is
 * loaded exactly once into a local (relaxed atomics: no tearing, no
 * compiler re-load) and only the local is checked and used. Ring fields
 * are naturally aligned because vq_start checks the area alignment.
 */
static inline u16 vq_ring_load16(const void *p)
{
	return __atomic_load_n((const u16 *)p, __ATOMIC_RELAXED);
}

static inline void vq_ring_store16(void *p, u16 v)
{
	__atomic_store_n((u16 *)p, v, __ATOMIC_RELAXED);
}

static inline void vq_ring_store32(void *p, u32 v)
{
	__atomic_store_n((u32 *)p, v, __ATOMIC_RELAXED);
}

/* Barriers between ring index/flag accesses and the data they guard. */
static inline void vq_ring_rmb(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void vq_ring_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void vq_ring_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * The 16 bytes of a descriptor, read once. The words at 0xc and 0xe are
 * flags/next (split) or id/flags (packed). Indirect tables carry no
 * alignment promise, so those fall back to a volatile byte copy.
 */
struct vq_raw_desc {
	u64 addr;
	u32 len;
	u16 w12, w14;
};

static inline void vq_ring_read_desc(const void *p, struct vq_raw_desc *d)
{
	const volatile u8 *b = p;
	u8 tmp[16];

	if (!((uintptr_t)p & 7)) {
		d->addr = __atomic_load_n((const u64 *)p, __ATOMIC_RELAXED);
		d->len = __atomic_load_n((const u32 *)((const u8 *)p + 8), __ATOMIC_RELAXED);
		d->w12 = vq_ring_load16((const u8 *)p + 12);
		d->w14 = vq_ring_load16((const u8 *)p + 14);
		return;
	}
	for (int i = 0; i < 16; i++)
		tmp[i] = b[i];
	d->addr = (u64)tmp[0] | (u64)tmp[1] << 8 | (u64)tmp[2] << 16 | (u64)tmp[3] << 24 |
		  (u64)tmp[4] << 32 | (u64)tmp[5] << 40 | (u64)tmp[6] << 48 | (u64)tmp[7] << 56;
	d->len = (u32)tmp[8] | (u32)tmp[9] << 8 | (u32)tmp[10] << 16 | (u32)tmp[11] << 24;
	d->w12 = (u16)(tmp[12] | tmp[13] << 8);
	d->w14 = (u16)(tmp[14] | tmp[15] << 8);
}

/* virtqueue.c: shared by both layouts. */
void *vq_map_area(struct virtqueue *vq, const char *what, gpa_t gpa, u64 len, u64 align);
void vq_chain_init(struct vq_chain *c);
int vq_chain_add(struct virtqueue *vq, struct vq_chain *c, u64 addr, u32 len, bool writable);
int vq_chain_indirect(struct virtqueue *vq, u64 addr, u32 len, const u8 **table, u32 *count);

/* vq_journal.c: around every publish of used buffers, and at (re)start. */
void vq_journal_mark(struct virtqueue *vq);
void vq_journal_begin(struct virtqueue *vq, u16 to);
void vq_journal_commit(struct virtqueue *vq);
u16 vq_journal_packed_pos(u16 slot, bool wrap);

/* vq_split.c */
int vq_split_start(struct virtqueue *vq);
int vq_split_pop(struct virtqueue *vq, struct vq_chain *c);
void vq_split_flush(struct virtqueue *vq);
bool vq_split_should_notify(struct virtqueue *vq);
void vq_split_set_notify(struct virtqueue *vq, bool enable);
bool vq_split_has_avail(struct virtqueue *vq);

/* vq_packed.c */
int vq_packed_start(struct virtqueue *vq);
int vq_packed_pop(struct virtqueue *vq, struct vq_chain *c);
void vq_packed_flush(struct virtqueue *vq);
bool vq_packed_should_notify(struct virtqueue *vq);
void vq_packed_set_notify(struct virtqueue *vq, bool enable);
bool vq_packed_has_avail(struct virtqueue *vq);
bool vq_packed_avail_at(struct virtqueue *vq, u16 slot, bool wrap);
u32 vq_packed_linear(const struct virtqueue *vq, u16 slot, bool wrap);

#endif
