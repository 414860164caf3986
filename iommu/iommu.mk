# The IOMMUs: the ACPI tables that describe them, the generic domain interface, the VT-d and AMD-Vi drivers.
CORE_SRCS += iommu/dmar.c iommu/ivrs.c iommu/iommu.c iommu/vtd/vtd.c iommu/vtd/vtd_pt.c \
	iommu/vtd/vtd_qi.c iommu/vtd/vtd_fault.c iommu/vtd/vtd_mmio.c iommu/vtd/vtd_ir.c iommu/amd/amd.c \
	iommu/amd/amd_pt.c iommu/amd/amd_cmd.c iommu/amd/amd_event.c iommu/amd/amd_mmio.c iommu/amd/amd_ir.c
# Each driver's unit test links the other driver whole (iommu.c names both), with its real
# register access, which its tests never reach: no IVRS in the VT-d test, no DMAR in AMD-Vi's.
IOMMU_AMD_SRCS := iommu/ivrs.c iommu/amd/amd.c iommu/amd/amd_pt.c iommu/amd/amd_cmd.c \
	iommu/amd/amd_event.c iommu/amd/amd_mmio.c iommu/amd/amd_ir.c
IOMMU_VTD_SRCS := iommu/dmar.c iommu/vtd/vtd.c iommu/vtd/vtd_pt.c iommu/vtd/vtd_qi.c \
	iommu/vtd/vtd_fault.c iommu/vtd/vtd_mmio.c iommu/vtd/vtd_ir.c
UNIT_TESTS += iommu_acpi
UNIT_SRCS_iommu_acpi := iommu/dmar.c iommu/ivrs.c
FUZZ_TARGETS += iommu_acpi
FUZZ_SRCS_iommu_acpi := iommu/dmar.c iommu/ivrs.c
# VT-d's page tables with a fake of the cache flush that plays memory a walker sees without snooping
UNIT_TESTS += vtd_pt
UNIT_SRCS_vtd_pt := iommu/vtd/vtd_pt.c core/pagetable.c tests/unit/fake_page_alloc.c \
	tests/unit/fake_log.c lib/format.c
# The VT-d driver and the generic layer over a model of a unit's registers
UNIT_TESTS += vtd
UNIT_SRCS_vtd := tests/unit/iommu/vtd_model.c iommu/iommu.c iommu/dmar.c iommu/vtd/vtd.c iommu/vtd/vtd_pt.c iommu/vtd/vtd_qi.c \
	iommu/vtd/vtd_fault.c iommu/vtd/vtd_ir.c core/pagetable.c tests/unit/fake_page_alloc.c tests/unit/fake_log.c \
	lib/format.c lib/strlcpy.c $(IOMMU_AMD_SRCS)
# The driver started on x2APIC CPUs with APIC ids past 255, with and without EIM (it starts once a binary)
UNIT_TESTS += vtd_x2apic vtd_no_eim
UNIT_SRCS_vtd_x2apic := $(UNIT_SRCS_vtd)
UNIT_SRCS_vtd_no_eim := $(UNIT_SRCS_vtd)
# Two units on two PCI segments: an interrupt remapping table each
UNIT_TESTS += vtd_segments
UNIT_SRCS_vtd_segments := $(UNIT_SRCS_vtd)
# AMD-Vi's I/O page tables and device table entries, checked by a model of the IOMMU's own walk
UNIT_TESTS += amd_pt
UNIT_SRCS_amd_pt := iommu/amd/amd_pt.c core/pagetable.c tests/unit/fake_page_alloc.c \
	tests/unit/fake_log.c lib/format.c
# The AMD-Vi driver and the generic layer over a model of a unit's registers
UNIT_TESTS += amd
UNIT_SRCS_amd := tests/unit/iommu/amd_model.c iommu/iommu.c iommu/ivrs.c iommu/amd/amd.c \
	iommu/amd/amd_pt.c iommu/amd/amd_cmd.c iommu/amd/amd_event.c iommu/amd/amd_ir.c \
	core/pagetable.c tests/unit/fake_page_alloc.c tests/unit/fake_log.c lib/format.c \
	lib/strlcpy.c $(IOMMU_VTD_SRCS)
# The driver started on x2APIC CPUs with APIC ids past 255, with and without XTSup (it starts once a binary)
UNIT_TESTS += amd_xt amd_no_xt
UNIT_SRCS_amd_xt := $(UNIT_SRCS_amd)
UNIT_SRCS_amd_no_xt := $(UNIT_SRCS_amd)
# A guest VM's DMA domain (vm_gpa.c's RAM in it, its teardown) against each driver's unit model
IOMMU_GUEST_SRCS := vmm/vm_gpa.c tests/unit/iommu/guest_dma.c iommu/iommu.c core/pagetable.c \
	arch/x86/svm/npt.c tests/unit/fake_log.c lib/format.c lib/strlcpy.c lib/string.c
UNIT_TESTS += vtd_guest
UNIT_SRCS_vtd_guest := tests/unit/iommu/vtd_model.c $(IOMMU_GUEST_SRCS) \
	$(filter-out iommu/vtd/vtd_mmio.c,$(IOMMU_VTD_SRCS)) $(IOMMU_AMD_SRCS)
UNIT_TESTS += amd_guest
UNIT_SRCS_amd_guest := tests/unit/iommu/amd_model.c $(IOMMU_GUEST_SRCS) $(filter-out iommu/amd/amd_mmio.c,$(IOMMU_AMD_SRCS)) \
	$(IOMMU_VTD_SRCS)
