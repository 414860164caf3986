// SPDX-License-Identifier: MIT
/*
 * physmem: one read or write of physical memory through /dev/mem, of 1, 2, 4
 * or 8 bytes, in the memory type the kernel already has for that page (no
 * O_SYNC: busybox devmem's uncached mapping is refused where ACPI mapped a
 * page write-back, such as the HPET's). For probing what the service VM reaches.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void access_once(volatile void *p, int width, int write, uint64_t *val)
{
	switch (width) {
	case 1:
		if (write)
			*(volatile uint8_t *)p = (uint8_t)*val;
		else
			*val = *(volatile uint8_t *)p;
		break;
	case 2:
		if (write)
			*(volatile uint16_t *)p = (uint16_t)*val;
		else
			*val = *(volatile uint16_t *)p;
		break;
	case 4:
		if (write)
			*(volatile uint32_t *)p = (uint32_t)*val;
		else
			*val = *(volatile uint32_t *)p;
		break;
	default:
		if (write)
			*(volatile uint64_t *)p = *val;
		else
			*val = *(volatile uint64_t *)p;
	}
}

int main(int argc, char **argv)
{
	uint64_t addr, val = 0, page;
	int width, fd;
	void *map;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: physmem ADDRESS WIDTH(1|2|4|8) [VALUE]\n");
		return 2;
	}
	addr = strtoull(argv[1], NULL, 0);
	width = atoi(argv[2]);
	if ((width != 1 && width != 2 && width != 4 && width != 8) || addr % width) {
		fprintf(stderr, "physmem: width 1, 2, 4 or 8, and the address aligned to it\n");
		return 2;
	}
	if (argc == 4)
		val = strtoull(argv[3], NULL, 0);
	page = addr & ~(uint64_t)4095;
	fd = open("/dev/mem", argc == 4 ? O_RDWR : O_RDONLY);
	map = fd < 0 ? MAP_FAILED :
		       mmap(NULL, 4096, argc == 4 ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
			    fd, (off_t)page);
	if (map == MAP_FAILED) {
		fprintf(stderr, "physmem: %#" PRIx64 ": %s\n", addr, strerror(errno));
		return 1;
	}
	access_once((volatile uint8_t *)map + (addr - page), width, argc == 4, &val);
	if (argc == 3)
		printf("0x%0*" PRIx64 "\n", width * 2, val);
	return 0;
}
