/* SPDX-License-Identifier: MIT */
/* A guest VM's DMA domain (vmm/vm_gpa.c over iommu/iommu.c), checked against a unit's model: the checks test_vtd_guest.c and test_amd_guest.c share. */
#ifndef TESTS_UNIT_IOMMU_GUEST_DMA_H
#define TESTS_UNIT_IOMMU_GUEST_DMA_H

#include <keel/iommu.h>
#include <keel/vm.h>

/* A leaf of a domain's tables as the unit's own walk finds it. */
struct hw_leaf {
	u64 iova, pa, size;
	bool r, w;
};

/* --- from each vendor's test: its model --- */
/* Every leaf under a domain's root, in IOVA order; the count. */
u32 hw_walk(hpa_t root, struct hw_leaf *out, u32 max);
/* A position in what the model's unit did: the commands or descriptors so far. */
u32 hw_mark(void);
/* Since mark, the unit dropped everything cached under domain id did (or everything) and said so. */
bool hw_domain_invalidated(u32 mark, u16 did);
/* The unit stops completing invalidations (on), or goes on (off). */
void hw_stall(bool on);

/* --- tests/unit/iommu/guest_dma.c --- */
extern long pages_live; /* table pages and RAM chunks out of the fake pool */
/*
 * While set, every page that goes back to the pool checks that the unit
 * invalidated domain free_did since free_mark; frees_too_early counts those
 * that came first.
 */
extern bool free_watch;
extern u32 free_mark, frees_too_early;
extern u16 free_did;

/* A domain like the service VM's, made before any guest's: 2 MiB at 256 MiB, identity. */
struct iommu_domain *service_domain(void);
/* A guest of 6 MiB + 12 KiB below 4 GiB and 2 MiB above, as guest.c adds its RAM. */
void guest_add_ram(struct vm *vm, const char *name);
/* The service domain still maps its 2 MiB and nothing of the guest's. */
void check_service_domain_unchanged(struct iommu_domain *svc);
/* The unit's view of vm's domain maps exactly vm's RAM, each page at its NPT/EPT translation. */
void check_domain_is_the_ram(struct vm *vm);
/* The VM goes: nothing left mapped, the domain invalidated before any page went back to the pool. */
void check_teardown(struct vm *vm);
/* An invalidation that does not complete: the domain's tables and the RAM stay out of the pool. */
void check_failed_teardown(struct vm *vm);

#endif
