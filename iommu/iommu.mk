# The IOMMUs: the ACPI tables that describe them, the generic domain interface, the VT-d driver.
CORE_SRCS += iommu/dmar.c iommu/ivrs.c
UNIT_TESTS += iommu_acpi
UNIT_SRCS_iommu_acpi := iommu/dmar.c iommu/ivrs.c
FUZZ_TARGETS += iommu_acpi
FUZZ_SRCS_iommu_acpi := iommu/dmar.c iommu/ivrs.c
