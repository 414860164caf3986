// SPDX-License-Identifier: MIT
/*
 * keel.cfg parser. The format is one "key = value" per line; blank lines and
 * lines starting with '#' are ignored; keys are case-sensitive; the value is
 * the rest of the line with surrounding blanks removed. Unknown keys, repeated
 * keys and bad values are errors, so that a typo never goes unnoticed.
 */
#include <arch/x86/pc_regs.h>
#include <keel/config.h>
#include <lib/format.h>
#include <lib/string.h>

#define LINE_MAX 2048

struct parser {
	struct keel_config *cfg;
	char *err;
	size_t err_size;
	int line;
	u32 seen; /* bit per key in keys[] */
};

typedef int (*setter_fn)(struct parser *p, const char *v);

static int fail(struct parser *p, const char *fmt, ...) __printf(2, 3);
static int fail(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	format_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line)
		format_snprintf(p->err, p->err_size, "keel.cfg line %d: %s", p->line, msg);
	else
		format_snprintf(p->err, p->err_size, "keel.cfg: %s", msg);
	return -EINVAL;
}

static int parse_u64(const char *s, u64 *out, const char **end)
{
	u64 v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (v > (~0ULL - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	*end = s;
	return 0;
}

static int parse_number(const char *s, u64 *out)
{
	const char *end;

	if (parse_u64(s, out, &end) || *end)
		return -EINVAL;
	return 0;
}

int config_parse_size(const char *s, u64 *out)
{
	static const struct {
		const char *suffix;
		u64 mult;
	} units[] = {
		{ "", 1 },	{ "K", KiB },	     { "KiB", KiB },
		{ "M", MiB },	{ "MiB", MiB },	     { "G", GiB },
		{ "GiB", GiB }, { "T", 1024 * GiB }, { "TiB", 1024 * GiB },
	};
	const char *end;
	u64 v;

	if (s[0] < '0' || s[0] > '9' || parse_u64(s, &v, &end))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > ~0ULL / units[i].mult)
			return -ERANGE;
		*out = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

static int set_serial(struct parser *p, const char *v)
{
	static const struct {
		const char *name;
		u16 port;
	} names[] = { { "none", 0 },
		      { "com1", COM1_PORT },
		      { "com2", COM2_PORT },
		      { "com3", COM3_PORT },
		      { "com4", COM4_PORT } };
	u64 port;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(v, names[i].name)) {
			p->cfg->serial_port = names[i].port;
			return 0;
		}
	}
	if (parse_number(v, &port) || port == 0 || port > 0xfff8)
		return fail(
			p,
			"serial: expected none, com1..com4 or an I/O port such as 0x3f8, got '%s'",
			v);
	p->cfg->serial_port = (u16)port;
	return 0;
}

static int set_baud(struct parser *p, const char *v)
{
	u64 baud;

	if (parse_number(v, &baud) || baud == 0 || 115200 % baud)
		return fail(
			p,
			"serial.baud: expected a divisor of 115200 such as 115200 or 9600, got '%s'",
			v);
	p->cfg->serial_baud = (u32)baud;
	return 0;
}

static int set_log_level(struct parser *p, const char *v)
{
	static const char *const names[] = {
		[LOG_ERROR] = "error", [LOG_WARN] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(v, names[i])) {
			p->cfg->log_level = (u32)i;
			return 0;
		}
	}
	return fail(p, "log_level: expected error, warn, info or debug, got '%s'", v);
}

static int set_debug_exit(struct parser *p, const char *v)
{
	u64 port;

	if (parse_number(v, &port) || port == 0 || port > 0xffff)
		return fail(p, "debug_exit_port: expected an I/O port such as 0xf4, got '%s'", v);
	p->cfg->debug_exit_port = (u16)port;
	return 0;
}

static int set_iommu(struct parser *p, const char *v)
{
	if (strcmp(v, "required") && strcmp(v, "optional"))
		return fail(p, "iommu: expected required or optional, got '%s'", v);
	p->cfg->iommu_required = !strcmp(v, "required");
	return 0;
}

static int set_path(struct parser *p, char *dst, const char *key, const char *v)
{
	if (!*v)
		return fail(p, "%s: empty path", key);
	if (strlen(v) >= CONFIG_PATH_MAX)
		return fail(p, "%s: path longer than %d characters", key, CONFIG_PATH_MAX - 1);
	strlcpy(dst, v, CONFIG_PATH_MAX);
	return 0;
}

static int set_kernel(struct parser *p, const char *v)
{
	return set_path(p, p->cfg->service_kernel, "service.kernel", v);
}

static int set_initrd(struct parser *p, const char *v)
{
	return set_path(p, p->cfg->service_initrd, "service.initrd", v);
}

static int set_cmdline(struct parser *p, const char *v)
{
	if (strlen(v) >= CONFIG_CMDLINE_MAX)
		return fail(p, "service.cmdline: longer than %d characters",
			    CONFIG_CMDLINE_MAX - 1);
	strlcpy(p->cfg->service_cmdline, v, CONFIG_CMDLINE_MAX);
	return 0;
}

static int hex_field(const char **s, char stop, u32 max, u32 *out)
{
	u32 v = 0, n = 0;

	for (; **s && **s != stop && n < 3; (*s)++, n++) {
		char c = **s;
		u32 d = c >= '0' && c <= '9' ? (u32)(c - '0') :
			c >= 'a' && c <= 'f' ? (u32)(c - 'a' + 10) :
			c >= 'A' && c <= 'F' ? (u32)(c - 'A' + 10) :
					       99;

		if (d > 15)
			return -EINVAL;
		v = v * 16 + d;
	}
	if (!n || v > max || (stop && **s != stop))
		return -EINVAL;
	if (stop)
		(*s)++;
	*out = v;
	return 0;
}

/* "BB:DD.F" (hex), the way lspci prints a function on segment 0. */
static int parse_bdf(const char *s, u16 *bdf)
{
	u32 bus, dev, fn;

	if (hex_field(&s, ':', 0xff, &bus) || hex_field(&s, '.', 0x1f, &dev) ||
	    hex_field(&s, 0, 7, &fn) || *s)
		return -EINVAL;
	*bdf = (u16)(bus << 8 | dev << 3 | fn);
	return 0;
}

static int set_pci_reserve(struct parser *p, const char *v)
{
	char item[16];

	while (*v) {
		size_t n = 0;

		while (*v == ' ' || *v == ',')
			v++;
		while (v[n] && v[n] != ' ' && v[n] != ',')
			n++;
		if (!n)
			break;
		if (n >= sizeof(item))
			return fail(p, "pci.reserve: '%.20s' is not a PCI function like 00:03.0",
				    v);
		memcpy(item, v, n);
		item[n] = 0;
		if (p->cfg->nr_pci_reserved >= CONFIG_MAX_RESERVED_PCI)
			return fail(p, "pci.reserve: more than %d functions",
				    CONFIG_MAX_RESERVED_PCI);
		if (parse_bdf(item, &p->cfg->pci_reserved[p->cfg->nr_pci_reserved]))
			return fail(p, "pci.reserve: '%s' is not a PCI function like 00:03.0",
				    item);
		p->cfg->nr_pci_reserved++;
		v += n;
	}
	return 0;
}

static int set_memory(struct parser *p, const char *v)
{
	u64 size;

	if (config_parse_size(v, &size))
		return fail(p, "service.memory: expected a size such as 512M or 2G, got '%s'", v);
	if (size < CONFIG_MIN_SERVICE_MEMORY)
		return fail(p, "service.memory: %s is too small; the service VM needs at least 64M",
			    v);
	p->cfg->service_memory = size;
	return 0;
}

static int set_window(struct parser *p, const char *v)
{
	u64 size;

	if (config_parse_size(v, &size) || size < GiB || size > 64 * GiB || (size & (size - 1)))
		return fail(p, "control.window: expected a power of two from 1G to 64G, got '%s'",
			    v);
	p->cfg->control_window = size;
	return 0;
}

static int set_vcpus(struct parser *p, const char *v)
{
	u64 n;

	if (parse_number(v, &n) || n < 1 || n > CONFIG_MAX_CPUS)
		return fail(p, "service.vcpus: expected a number from 1 to %d, got '%s'",
			    CONFIG_MAX_CPUS, v);
	p->cfg->service_vcpus = (u32)n;
	return 0;
}

static int vm_set(struct parser *p, const char *key, const char *v);

static const struct {
	const char *key;
	setter_fn set;
} keys[] = {
	{ "serial", set_serial },	    { "serial.baud", set_baud },
	{ "log_level", set_log_level },	    { "debug_exit_port", set_debug_exit },
	{ "service.kernel", set_kernel },   { "service.initrd", set_initrd },
	{ "service.cmdline", set_cmdline }, { "service.memory", set_memory },
	{ "service.vcpus", set_vcpus },	    { "pci.reserve", set_pci_reserve },
	{ "control.window", set_window },   { "iommu", set_iommu },
};
BUILD_ASSERT(ARRAY_SIZE(keys) <= 32, "seen is a u32 bitmask");

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char *trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		*--end = 0;
	return s;
}

static int parse_line(struct parser *p, char *line)
{
	char *eq, *key, *val;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return fail(p, "expected 'key = value', got '%.60s'", line);
	*eq = 0;
	key = trim(line);
	val = trim(eq + 1);
	if (!strncmp(key, "vm.", 3))
		return vm_set(p, key + 3, val);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(key, keys[i].key))
			continue;
		if (p->seen & BIT(i))
			return fail(p, "%s is set twice", key);
		p->seen |= (u32)BIT(i);
		return keys[i].set(p, val);
	}
	return fail(p, "unknown key '%.60s'", key);
}

static bool valid_name(const char *s, size_t n)
{
	if (!n || n >= CONFIG_VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* The VM called name, created on first mention. */
static struct config_vm *vm_get(struct parser *p, const char *name, size_t n)
{
	struct keel_config *cfg = p->cfg;
	struct config_vm *vm;

	for (u32 i = 0; i < cfg->nr_vms; i++)
		if (strlen(cfg->vms[i].name) == n && !strncmp(cfg->vms[i].name, name, n))
			return &cfg->vms[i];
	if (cfg->nr_vms >= CONFIG_MAX_VMS)
		return NULL;
	vm = &cfg->vms[cfg->nr_vms++];
	memcpy(vm->name, name, n);
	vm->name[n] = 0;
	vm->memory = 16 * MiB;
	vm->vcpus = 1;
	return vm;
}

/* QEMU's -initrd "FILE ARGS": the file is the first word, the module's command line all of it. */
static int vm_set_initrd(struct parser *p, struct config_vm *vm, const char *v)
{
	char file[CONFIG_PATH_MAX];
	size_t n = 0;

	while (v[n] && v[n] != ' ' && v[n] != '\t')
		n++;
	if (strlen(v) >= CONFIG_PATH_MAX)
		return fail(p, "vm.%s.initrd: longer than %d characters", vm->name,
			    CONFIG_PATH_MAX - 1);
	memcpy(file, v, n);
	file[n] = 0;
	strlcpy(vm->initrd_cmdline, v, CONFIG_PATH_MAX);
	return set_path(p, vm->initrd, "vm initrd", file);
}

static int vm_set_value(struct parser *p, struct config_vm *vm, const char *field, const char *v)
{
	u64 n;

	if (!strcmp(field, "kernel"))
		return set_path(p, vm->kernel, "vm kernel", v);
	if (!strcmp(field, "initrd"))
		return vm_set_initrd(p, vm, v);
	if (!strcmp(field, "firmware"))
		return set_path(p, vm->firmware, "vm firmware", v);
	if (!strcmp(field, "vars"))
		return set_path(p, vm->vars, "vm vars", v);
	if (!strcmp(field, "cmdline")) {
		if (strlen(v) >= CONFIG_PATH_MAX)
			return fail(p, "vm.%s.cmdline: longer than %d characters", vm->name,
				    CONFIG_PATH_MAX - 1);
		strlcpy(vm->cmdline, v, CONFIG_PATH_MAX);
		return 0;
	}
	if (!strcmp(field, "memory")) {
		if (config_parse_size(v, &vm->memory) || vm->memory < CONFIG_MIN_VM_MEMORY)
			return fail(
				p,
				"vm.%s.memory: expected a size of at least 2M such as 64M, got '%s'",
				vm->name, v);
		return 0;
	}
	if (!strcmp(field, "vcpus")) {
		if (parse_number(v, &n) || n < 1 || n > CONFIG_MAX_CPUS)
			return fail(p, "vm.%s.vcpus: expected a number from 1 to %d, got '%s'",
				    vm->name, CONFIG_MAX_CPUS, v);
		vm->vcpus = (u32)n;
		return 0;
	}
	if (!strcmp(field, "cpu")) {
		if (parse_number(v, &n) || n >= CONFIG_MAX_CPUS)
			return fail(p, "vm.%s.cpu: expected a CPU number from 0 to %d, got '%s'",
				    vm->name, CONFIG_MAX_CPUS - 1, v);
		vm->first_cpu = (u32)n;
		return 0;
	}
	if (!strcmp(field, "testdev")) {
		if (strcmp(v, "on") && strcmp(v, "off"))
			return fail(p, "vm.%s.testdev: expected on or off, got '%s'", vm->name, v);
		vm->testdev = !strcmp(v, "on");
		return 0;
	}
	return fail(
		p,
		"unknown key 'vm.%s.%.30s' (VM keys: kernel, initrd, cmdline, firmware, vars, memory, vcpus, cpu, testdev)",
		vm->name, field);
}

static int vm_set(struct parser *p, const char *key, const char *v)
{
	const char *dot = strchr(key, '.');
	struct config_vm *vm;

	if (!dot || !valid_name(key, (size_t)(dot - key)))
		return fail(
			p,
			"bad VM key 'vm.%.40s': expected vm.<name>.<key> with a name of up to 15 of a-z 0-9 - _",
			key);
	vm = vm_get(p, key, (size_t)(dot - key));
	if (!vm)
		return fail(p, "more than %d VMs", CONFIG_MAX_VMS);
	return vm_set_value(p, vm, dot + 1, v);
}

static void set_defaults(struct keel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->serial_port = COM1_PORT;
	cfg->serial_baud = 115200;
	cfg->log_level = LOG_INFO;
	cfg->service_memory = 1 * GiB;
	cfg->service_vcpus = 1;
	cfg->control_window = 16 * GiB;
	strlcpy(cfg->service_cmdline, "console=ttyS0", CONFIG_CMDLINE_MAX);
}

int config_parse(const char *text, size_t len, struct keel_config *cfg, char *err, size_t err_size)
{
	struct parser p = { .cfg = cfg, .err = err, .err_size = err_size };
	char line[LINE_MAX];
	size_t pos = 0;
	int ret;

	set_defaults(cfg);
	while (pos < len) {
		size_t n = 0;

		p.line++;
		while (pos < len && text[pos] != '\n') {
			if (!text[pos])
				return fail(&p, "contains a NUL byte; is this a text file?");
			if (n + 1 >= sizeof(line))
				return fail(&p, "line longer than %d characters", LINE_MAX - 1);
			line[n++] = text[pos++];
		}
		line[n] = 0;
		pos++;
		ret = parse_line(&p, line);
		if (ret)
			return ret;
	}
	p.line = 0;
	for (u32 i = 0; i < cfg->nr_vms; i++) {
		const struct config_vm *vm = &cfg->vms[i];

		if (vm->kernel[0] && vm->firmware[0])
			return fail(&p, "vm.%s: set kernel or firmware, not both", vm->name);
		if (!vm->kernel[0] && !vm->firmware[0])
			return fail(&p, "vm.%s.kernel is not set (or vm.%s.firmware)", vm->name,
				    vm->name);
		if (vm->firmware[0] && (vm->initrd[0] || vm->cmdline[0]))
			return fail(&p, "vm.%s: initrd and cmdline are for a kernel, not firmware",
				    vm->name);
		if (vm->vars[0] && !vm->firmware[0])
			return fail(&p, "vm.%s.vars is for firmware: set vm.%s.firmware", vm->name,
				    vm->name);
		if (vm->firmware[0] && vm->memory < CONFIG_MIN_FW_MEMORY)
			return fail(&p, "vm.%s.memory: firmware needs at least %llu MiB", vm->name,
				    (unsigned long long)(CONFIG_MIN_FW_MEMORY / MiB));
	}
	if (!cfg->service_kernel[0] && !cfg->nr_vms)
		return fail(
			&p,
			"service.kernel is not set; name the service VM's kernel, e.g. 'service.kernel = vmlinuz'");
	return 0;
}

int config_check_memory(const struct keel_config *cfg, u64 usable, char *err, size_t err_size)
{
	u64 want = cfg->service_kernel[0] ? cfg->service_memory : 0;

	for (u32 i = 0; i < cfg->nr_vms; i++)
		want += cfg->vms[i].memory;
	if (want <= usable && usable - want >= KEEL_POOL_RESERVE)
		return 0;
	format_snprintf(
		err, err_size,
		"keel.cfg asks for %llu MiB of RAM for its VMs (service.memory and vm.*.memory), but the machine has %llu MiB usable and Keel keeps %llu MiB of it",
		(unsigned long long)(want / MiB), (unsigned long long)(usable / MiB),
		(unsigned long long)(KEEL_POOL_RESERVE / MiB));
	return -ENOMEM;
}
