// SPDX-License-Identifier: MIT
/* randio: timed 4 KiB random reads or writes with O_DIRECT, one at a time; `make bench` runs it in guests. */
#define _GNU_SOURCE /* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define MiB (1ULL << 20)
#define MAX_COUNT 100000000UL	 /* a bound that keeps COUNT * BLOCK and the run time sane */
#define MAX_SPAN_MIB (1UL << 24) /* 16 TiB */

static const char usage[] =
	"usage: randio read|write DEVICE COUNT SPAN_MIB [SEED]\n"
	"  COUNT 4 KiB reads or writes, one at a time (queue depth 1), at pseudo-random\n"
	"  4 KiB-aligned offsets in the first SPAN_MIB MiB of DEVICE (a block device or a\n"
	"  file at least that large), opened with O_DIRECT; writes end with fdatasync.\n"
	"  SEED (default 1) fixes the offsets. Timed with CLOCK_MONOTONIC; prints\n"
	"  randio: write COUNT x 4 KiB in SECONDS s: N IOPS\n"
	"  Exit status: 0 done, 1 an I/O error, 2 bad arguments.\n";

struct randio_args {
	int write;
	const char *path;
	unsigned long count;
	unsigned long span_blocks;
	uint64_t seed;
};

static void fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("randio: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (status == 2)
		fputs(usage, stderr);
	exit(status);
}

/* A whole decimal number in [min, max], or a usage error naming what it is for. */
static unsigned long long number(const char *s, const char *what, unsigned long long min,
				 unsigned long long max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v < min || v > max)
		fail(2, "%s '%s' is not a whole number from %llu to %llu", what, s, min, max);
	return v;
}

static struct randio_args parse_args(int argc, char **argv)
{
	struct randio_args a = { .seed = 1 };

	if (argc < 5 || argc > 6)
		fail(2, "expected 4 or 5 arguments, got %d", argc - 1);
	if (strcmp(argv[1], "read") && strcmp(argv[1], "write"))
		fail(2, "'%s' is neither read nor write", argv[1]);
	a.write = !strcmp(argv[1], "write");
	a.path = argv[2];
	a.count = number(argv[3], "COUNT", 1, MAX_COUNT);
	a.span_blocks = number(argv[4], "SPAN_MIB", 1, MAX_SPAN_MIB) * (MiB / BLOCK);
	if (argc == 6)
		a.seed = number(argv[5], "SEED", 0, UINT64_MAX);
	return a;
}

/* SplitMix64 (Steele, Lea, Flood 2014): every seed, 0 too, gives a full-period sequence. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* DEVICE opened for O_DIRECT and checked to hold the whole span. */
static int open_device(const struct randio_args *a)
{
	unsigned long long span = (unsigned long long)a->span_blocks * BLOCK;
	int fd = open(a->path, (a->write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	off_t size;

	if (fd < 0 && errno == EINVAL)
		fail(1,
		     "%s: cannot be opened with O_DIRECT (its file system may not support it: "
		     "older kernels' tmpfs does not)",
		     a->path);
	if (fd < 0)
		fail(1, "%s: %s", a->path, strerror(errno));
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		fail(1, "%s: cannot find its size: %s", a->path, strerror(errno));
	if ((unsigned long long)size < span)
		fail(1, "%s: %lld bytes, smaller than the span of %llu MiB", a->path,
		     (long long)size, span / MiB);
	return fd;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The timed run: COUNT requests, then fdatasync after writes. */
static double run(const struct randio_args *a, int fd, unsigned char *buf)
{
	uint64_t state = a->seed;
	struct timespec t0;
	unsigned long i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < a->count; i++) {
		off_t off = (off_t)(next_random(&state) % a->span_blocks) * BLOCK;
		ssize_t n = a->write ? pwrite(fd, buf, BLOCK, off) : pread(fd, buf, BLOCK, off);

		if (n < 0)
			fail(1, "%s at offset %lld of %s: %s", a->write ? "write" : "read",
			     (long long)off, a->path, strerror(errno));
		if (n != BLOCK)
			fail(1, "%s at offset %lld of %s: %zd bytes of %d",
			     a->write ? "write" : "read", (long long)off, a->path, n, BLOCK);
	}
	if (a->write && fdatasync(fd))
		fail(1, "fdatasync of %s: %s", a->path, strerror(errno));
	return seconds_since(&t0);
}

int main(int argc, char **argv)
{
	struct randio_args a = parse_args(argc, argv);
	int fd = open_device(&a);
	unsigned char *buf = aligned_alloc(BLOCK, BLOCK); /* O_DIRECT wants aligned buffers */
	double s;

	if (!buf)
		fail(1, "out of memory");
	memset(buf, 0xa5, BLOCK);
	s = run(&a, fd, buf);
	close(fd);
	printf("randio: %s %lu x 4 KiB in %.3f s: %.0f IOPS\n", a.write ? "write" : "read", a.count,
	       s, s > 0 ? (double)a.count / s : 0.0);
	return 0;
}
