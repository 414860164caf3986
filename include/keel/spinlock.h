/* SPDX-License-Identifier: MIT */
/* Ticket spinlocks; the _irqsave forms also keep interrupts off while held. */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <lib/types.h>

struct spinlock {
	u32 next;
	u32 owner;
};

#define SPINLOCK_INIT \
	{             \
		0, 0  \
	}

static inline void spin_lock(struct spinlock *l)
{
	u32 me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		__builtin_ia32_pause();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

static inline bool spin_trylock(struct spinlock *l)
{
	u32 owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	u32 expect = owner;

	return __atomic_compare_exchange_n(&l->next, &expect, owner + 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

#ifdef KEEL_HOST_TEST
/* Host unit tests run in user space, where CLI and STI are not allowed: nothing to mask there. */
#define irq_save_disable() 0ULL
#define irq_restore(flags) ((void)(flags))
#else
static inline u64 irq_save_disable(void)
{
	u64 flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	return flags;
}

static inline void irq_restore(u64 flags)
{
	if (flags & (1u << 9)) /* RFLAGS.IF */
		__asm__ volatile("sti" ::: "memory");
}
#endif

static inline u64 spin_lock_irqsave(struct spinlock *l)
{
	u64 flags = irq_save_disable();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, u64 flags)
{
	spin_unlock(l);
	irq_restore(flags);
}

#endif
