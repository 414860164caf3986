// SPDX-License-Identifier: MIT
/* Unit tests for boot/config.c: good files, defaults and every kind of bad input. */
#include "test.h"
#include <keel/config.h>

static struct keel_config cfg;
static char err[256];

static int parse(const char *text)
{
	err[0] = 0;
	return config_parse(text, strlen(text), &cfg, err, sizeof(err));
}

TEST(full_file)
{
	CHECK_EQ(parse("# Keel\n"
		       "serial = com2\n"
		       "serial.baud = 9600\n"
		       "log_level = debug\r\n"
		       "\n"
		       "   service.kernel =  boot/vmlinuz  \n"
		       "service.initrd=boot/initrd.img\n"
		       "service.cmdline = console=ttyS0 quiet rw\n"
		       "service.memory = 1536M\n"
		       "service.vcpus = 2\n"
		       "debug_exit_port = 0xf4"),
		 0);
	CHECK_EQ(cfg.serial_port, 0x2f8);
	CHECK_EQ(cfg.serial_baud, 9600);
	CHECK_EQ(cfg.log_level, LOG_DEBUG);
	CHECK_STR(cfg.service_kernel, "boot/vmlinuz");
	CHECK_STR(cfg.service_initrd, "boot/initrd.img");
	CHECK_STR(cfg.service_cmdline, "console=ttyS0 quiet rw");
	CHECK_EQ(cfg.service_memory, 1536ULL << 20);
	CHECK_EQ(cfg.service_vcpus, 2);
	CHECK_EQ(cfg.debug_exit_port, 0xf4);
}

TEST(defaults)
{
	CHECK_EQ(parse("service.kernel = k\n"), 0);
	CHECK_EQ(cfg.serial_port, 0x3f8);
	CHECK_EQ(cfg.serial_baud, 115200);
	CHECK_EQ(cfg.log_level, LOG_INFO);
	CHECK_EQ(cfg.service_vcpus, 1);
	CHECK_EQ(cfg.service_memory, 1ULL << 30);
	CHECK_STR(cfg.service_initrd, "");
	CHECK_EQ(cfg.debug_exit_port, 0);
}

TEST(serial_forms)
{
	CHECK_EQ(parse("serial = 0x3e8\nservice.kernel = k"), 0);
	CHECK_EQ(cfg.serial_port, 0x3e8);
	CHECK_EQ(parse("serial = none\nservice.kernel = k"), 0);
	CHECK_EQ(cfg.serial_port, 0);
	CHECK_EQ(parse("serial = com9\nservice.kernel = k"), -22);
	CHECK(strstr(err, "line 1") && strstr(err, "com9"));
}

TEST(sizes)
{
	u64 v;

	CHECK_EQ(config_parse_size("512M", &v), 0);
	CHECK_EQ(v, 512ULL << 20);
	CHECK_EQ(config_parse_size("2GiB", &v), 0);
	CHECK_EQ(v, 2ULL << 30);
	CHECK_EQ(config_parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(config_parse_size("0x1000K", &v), 0);
	CHECK_EQ(v, 0x1000ULL << 10);
	CHECK(config_parse_size("12X", &v) != 0);
	CHECK(config_parse_size("", &v) != 0);
	CHECK(config_parse_size("M", &v) != 0);
	CHECK(config_parse_size("-1G", &v) != 0);
	CHECK(config_parse_size("99999999999999999999", &v) != 0);
	CHECK(config_parse_size("17179869184G", &v) != 0);
}

TEST(errors_name_the_line)
{
	CHECK_EQ(parse("service.kernel = k\nfoo = bar\n"), -22);
	CHECK(strstr(err, "line 2") && strstr(err, "unknown key 'foo'"));
	CHECK_EQ(parse("service.kernel = k\nthis line has no equals\n"), -22);
	CHECK(strstr(err, "line 2") && strstr(err, "key = value"));
	CHECK_EQ(parse("service.kernel = k\nservice.kernel = j\n"), -22);
	CHECK(strstr(err, "set twice"));
	CHECK_EQ(parse("service.kernel = k\nservice.memory = lots\n"), -22);
	CHECK(strstr(err, "service.memory") && strstr(err, "lots"));
	CHECK_EQ(parse("service.kernel = k\nservice.memory = 1M\n"), -22);
	CHECK(strstr(err, "too small"));
	CHECK_EQ(parse("service.kernel = k\nservice.vcpus = 0\n"), -22);
	CHECK(strstr(err, "service.vcpus"));
	CHECK_EQ(parse("service.kernel = k\nservice.vcpus = 65\n"), -22);
	CHECK_EQ(parse("service.kernel = k\nlog_level = loud\n"), -22);
	CHECK_EQ(parse("service.kernel = k\nserial.baud = 7\n"), -22);
	CHECK_EQ(parse("service.kernel =\n"), -22);
	CHECK(strstr(err, "empty path"));
	CHECK_EQ(parse("debug_exit_port = 0x10000\nservice.kernel = k"), -22);
}

TEST(missing_kernel_and_binary_input)
{
	CHECK_EQ(parse(""), -22);
	CHECK(strstr(err, "service.kernel is not set"));
	CHECK_EQ(parse("# only a comment\n"), -22);
	CHECK_EQ(config_parse("a\0b", 3, &cfg, err, sizeof(err)), -22);
	CHECK(strstr(err, "NUL"));
}

TEST(long_lines_and_values)
{
	static char text[5000];

	memset(text, 'a', sizeof(text) - 1);
	CHECK_EQ(parse(text), -22);
	CHECK(strstr(err, "longer than"));
	strcpy(text, "service.kernel = ");
	memset(text + 17, 'p', 200);
	text[217] = 0;
	CHECK_EQ(parse(text), -22);
	CHECK(strstr(err, "path longer"));
}

TEST(error_buffer_is_bounded)
{
	char small[16];

	CHECK_EQ(config_parse("zzz = 1", 7, &cfg, small, sizeof(small)), -22);
	CHECK_EQ(strlen(small), 15);
}

TEST(boot_vms)
{
	CHECK_EQ(parse("vm.tg1.kernel = guests/cpuid.elf\n"
		       "vm.tg1.memory = 32M\n"
		       "vm.tg1.testdev = on\n"
		       "vm.tg-2.kernel = g2\n"
		       "vm.tg-2.vcpus = 2\n"
		       "vm.tg-2.cpu = 1\n"
		       "vm.tg-2.cmdline = hello world\n"),
		 0);
	CHECK_EQ(cfg.nr_vms, 2);
	CHECK_STR(cfg.vms[0].name, "tg1");
	CHECK_STR(cfg.vms[0].kernel, "guests/cpuid.elf");
	CHECK_EQ(cfg.vms[0].memory, 32 << 20);
	CHECK(cfg.vms[0].testdev);
	CHECK_EQ(cfg.vms[0].vcpus, 1);
	CHECK_STR(cfg.vms[1].name, "tg-2");
	CHECK_EQ(cfg.vms[1].vcpus, 2);
	CHECK_EQ(cfg.vms[1].first_cpu, 1);
	CHECK_STR(cfg.vms[1].cmdline, "hello world");
	CHECK(!cfg.vms[1].testdev);
	CHECK_STR(cfg.service_kernel, ""); /* no service VM: only boot VMs */
}

/* vm.<name>.initrd = FILE ARGS, as QEMU's -initrd: module 0 of a multiboot kernel (issue 18 item 1). */
TEST(boot_vm_initrd)
{
	CHECK_EQ(parse("vm.mb.kernel = guests/fwcfg.elf\n"
		       "vm.mb.initrd = guests/fwcfg.mod tag=42 x\n"
		       "vm.plain.kernel = k\n"
		       "vm.plain.initrd = m\n"),
		 0);
	CHECK_STR(cfg.vms[0].initrd, "guests/fwcfg.mod");
	CHECK_STR(cfg.vms[0].initrd_cmdline, "guests/fwcfg.mod tag=42 x");
	CHECK_STR(cfg.vms[1].initrd, "m");
	CHECK_STR(cfg.vms[1].initrd_cmdline, "m");
	CHECK_EQ(parse("vm.a.kernel = k\n"), 0);
	CHECK_STR(cfg.vms[0].initrd, ""); /* none unless named */
	CHECK_EQ(parse("vm.a.kernel = k\nvm.a.initrd =\n"), -22);
	CHECK(strstr(err, "line 2"));
}

TEST(boot_vm_firmware)
{
	CHECK_EQ(parse("vm.fw.firmware = OVMF_CODE_4M.fd\n"
		       "vm.fw.vars = OVMF_VARS_4M.fd\n"
		       "vm.fw.memory = 128M\n"),
		 0);
	CHECK_STR(cfg.vms[0].firmware, "OVMF_CODE_4M.fd");
	CHECK_STR(cfg.vms[0].vars, "OVMF_VARS_4M.fd");
	CHECK_STR(cfg.vms[0].kernel, "");
	CHECK_EQ(parse("vm.fw.firmware = f\nvm.fw.memory = 126M\n"), -22);
	CHECK(strstr(err, "vm.fw.memory: firmware needs at least 128 MiB"));
	CHECK_EQ(parse("vm.fw.firmware = f\nvm.fw.kernel = k\nvm.fw.memory = 128M\n"), -22);
	CHECK(strstr(err, "vm.fw: set kernel or firmware, not both"));
	CHECK_EQ(parse("vm.fw.firmware = f\nvm.fw.cmdline = x\nvm.fw.memory = 128M\n"), -22);
	CHECK(strstr(err, "initrd and cmdline are for a kernel"));
	CHECK_EQ(parse("vm.a.kernel = k\nvm.a.vars = v\n"), -22);
	CHECK(strstr(err, "vm.a.vars is for firmware"));
}

TEST(boot_vm_errors)
{
	CHECK_EQ(parse("vm.a.memory = 16M\n"), -22);
	CHECK(strstr(err, "vm.a.kernel is not set"));
	CHECK_EQ(parse("vm.Big.kernel = k\n"), -22);
	CHECK(strstr(err, "bad VM key"));
	CHECK_EQ(parse("vm.kernel = k\n"), -22);
	CHECK_EQ(parse("vm.a.kernel = k\nvm.a.colour = red\n"), -22);
	CHECK(strstr(err, "line 2") && strstr(err, "vm.a.colour"));
	CHECK_EQ(parse("vm.a.kernel = k\nvm.a.memory = 1M\n"), -22);
	CHECK_EQ(parse("vm.a.kernel = k\nvm.a.vcpus = 0\n"), -22);
	CHECK_EQ(parse("vm.a.kernel = k\nvm.a.testdev = yes\n"), -22);
	{
		static char many[CONFIG_MAX_VMS * 16 + 32];
		size_t n = 0;

		for (int i = 0; i <= CONFIG_MAX_VMS; i++)
			n += (size_t)sprintf(many + n, "vm.v%d.kernel=1\n", i);
		CHECK_EQ(parse(many), -22);
		CHECK(strstr(err, "more than") && strstr(err, "VMs"));
	}
}

TEST(pci_reserve)
{
	CHECK_EQ(parse("service.kernel = k\npci.reserve = 00:03.0, 1a:1f.7 02:00.1\n"), 0);
	CHECK_EQ(cfg.nr_pci_reserved, 3);
	CHECK_EQ(cfg.pci_reserved[0], 0x0018);
	CHECK_EQ(cfg.pci_reserved[1], 0x1aff);
	CHECK_EQ(cfg.pci_reserved[2], 0x0201);
	CHECK_EQ(parse("service.kernel = k\npci.reserve = 00:20.0\n"), -22);
	CHECK(strstr(err, "'00:20.0' is not a PCI function"));
	CHECK_EQ(parse("service.kernel = k\npci.reserve = 0:3\n"), -22);
	CHECK_EQ(parse("service.kernel = k\npci.reserve = 00:03.8\n"), -22);
	CHECK_EQ(parse("service.kernel = k\npci.reserve = xx:03.0\n"), -22);
}

TEST(iommu_required)
{
	CHECK_EQ(parse("service.kernel = k\n"), 0);
	CHECK(!cfg.iommu_required);
	CHECK_EQ(parse("service.kernel = k\niommu = required\n"), 0);
	CHECK(cfg.iommu_required);
	CHECK_EQ(parse("service.kernel = k\niommu = optional\n"), 0);
	CHECK(!cfg.iommu_required);
	CHECK_EQ(parse("service.kernel = k\niommu = yes\n"), -22);
	CHECK(strstr(err, "line 2") && strstr(err, "iommu: expected required or optional"));
}

TEST(vms_must_fit_in_usable_ram)
{
	CHECK_EQ(
		parse("service.kernel = k\nservice.memory = 4G\nvm.a.kernel = g\nvm.a.memory = 64M\n"),
		0);
	CHECK_EQ(config_check_memory(&cfg, 2 * GiB, err, sizeof(err)), -ENOMEM);
	CHECK_STR(
		err,
		"keel.cfg asks for 4160 MiB of RAM for its VMs (service.memory and vm.*.memory), but the machine has 2048 MiB usable and Keel keeps 64 MiB of it");
	CHECK_EQ(config_check_memory(&cfg, 4160 * MiB + 63 * MiB, err, sizeof(err)), -ENOMEM);
	CHECK_EQ(config_check_memory(&cfg, 4160 * MiB + 64 * MiB, err, sizeof(err)), 0);
	CHECK_EQ(parse("vm.a.kernel = g\nvm.a.memory = 64M\n"),
		 0); /* no service VM: its default is not counted */
	CHECK_EQ(config_check_memory(&cfg, 128 * MiB, err, sizeof(err)), 0);
}
