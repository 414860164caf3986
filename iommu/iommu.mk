# The IOMMUs: the ACPI tables that describe them, the generic domain interface, the VT-d driver.
CORE_SRCS += iommu/dmar.c iommu/ivrs.c iommu/iommu.c iommu/vtd/vtd.c iommu/vtd/vtd_pt.c \
	iommu/vtd/vtd_qi.c iommu/vtd/vtd_fault.c iommu/vtd/vtd_mmio.c iommu/vtd/vtd_ir.c
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
	lib/format.c lib/strlcpy.c
# The driver started on x2APIC CPUs with APIC ids past 255, with and without EIM (it starts once a binary)
UNIT_TESTS += vtd_x2apic vtd_no_eim
UNIT_SRCS_vtd_x2apic := $(UNIT_SRCS_vtd)
UNIT_SRCS_vtd_no_eim := $(UNIT_SRCS_vtd)
