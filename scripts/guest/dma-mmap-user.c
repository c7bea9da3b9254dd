// SPDX-License-Identifier: GPL-2.0
/*
 * The user side of the rust_dma_mmap sample, run in the guest by `make run`.
 *
 * Maps the driver's coherent buffer, checks the driver's pattern, writes its
 * own and has the driver verify it (ioctl VERIFY). A mapping larger than the
 * buffer must be refused. A second file maps the driver's page allocation
 * (ioctl PAGES) and checks its pattern. Then the driver drops its references
 * (ioctl RELEASE) and the files are closed: each mapping alone keeps its
 * buffer, which dma-api/dump must list until munmap() and not after.
 *
 * Then the device's binding ends under a live mapping, twice: a sysfs unbind
 * (then bind), and a removal of the PCI device (then a rescan). Each time the
 * buffer must be freed at once, while the device is still there (dma-api/dump
 * no longer lists it), the old mapping must fault with SIGBUS instead of
 * reaching freed memory, its munmap must be harmless, and the new binding's
 * buffers must map as before. A forked copy of a mapping, left after the
 * original is unmapped, must be zapped by an unbind too.
 * Exit status 0 when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE	(4 * 4096)
#define VERIFY	_IO('D', 1)
#define RELEASE	_IO('D', 2)
#define PAGES	_IO('D', 3)
#define DRIVER	"/sys/bus/pci/drivers/rust_dma_mmap"
#define DUMP	"/sys/kernel/debug/dma-api/dump"
#define PCI_DEVICES	"/sys/bus/pci/devices"

/* The driver's pattern: flip 0 in the coherent buffer, 0xff in the pages. */
static unsigned char driver_pattern(size_t i, unsigned char flip)
{
	return (unsigned char)i ^ 0x5a ^ (unsigned char)(i >> 12) ^ flip;
}

static unsigned char user_pattern(size_t i, unsigned char seed)
{
	return (unsigned char)(i * 7 + seed) ^ (unsigned char)(i >> 8);
}

static int fail(const char *what)
{
	printf("  mmap: FAILED: %s (errno: %s)\n", what, strerror(errno));
	return 1;
}

/* Checks the driver's pattern (seed -1: coherent, -2: pages) or user space's. */
static int check(const unsigned char *p, int seed, const char *what)
{
	for (size_t i = 0; i < SIZE; i++) {
		unsigned char want = seed == -1 ? driver_pattern(i, 0) :
				     seed == -2 ? driver_pattern(i, 0xff) :
				     user_pattern(i, seed);
		if (p[i] != want) {
			printf("  mmap: FAILED: %s: byte %zu is %#x, expected %#x\n",
			       what, i, p[i], want);
			return 1;
		}
	}
	return 0;
}

/* "<PCI name> " of the device the driver is bound to, as dma-api/dump shows it. */
static int device_name(char *name, size_t size)
{
	glob_t g;
	int ret = -1;

	if (!glob(DRIVER "/0000:*", 0, NULL, &g) && g.gl_pathc == 1) {
		snprintf(name, size, "%s ", strrchr(g.gl_pathv[0], '/') + 1);
		ret = 0;
	}
	globfree(&g);
	return ret;
}

/* How many DMA allocations and mappings dma-api/dump lists for @name. */
static int dump_entries(const char *name)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(DUMP, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, name) != NULL;
	fclose(f);
	return n;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* Whether reading @p faults with SIGBUS. */
static int faults(const volatile unsigned char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int faulted = 1;

	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(bus_jmp, 1)) {
		(void)p[0];
		faulted = 0;
	}
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return ret;
}

/* Maps the coherent buffer of the bound device and checks the driver's pattern. */
static unsigned char *map_fresh(void)
{
	unsigned char *p;
	int fd = open("/dev/rust-dma-mmap", O_RDWR);

	if (fd < 0)
		return NULL;
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED || check(p, -1, "driver's pattern, new binding"))
		return NULL;
	return p;
}

/*
 * Ends the binding of the device dma-api/dump calls @name by writing
 * @end_text into @end, under a live mapping; then binds it again by writing
 * @again_text into @again.
 */
static int revoke_under_mapping(const char *name, const char *end, const char *end_text,
				const char *again, const char *again_text)
{
	unsigned char *p = map_fresh();
	char check_name[64];

	if (!p)
		return fail("mapping the buffer of the new binding");
	if (dump_entries(name) != 2)
		return fail("dma-api/dump does not list the new binding's two buffers");
	if (write_file(end, end_text))
		return fail(end);
	if (dump_entries(name) != 0)
		return fail("a buffer outlived the binding of its device");
	if (!faults(p))
		return fail("the old mapping still reaches the freed buffer");
	if (write_file(again, again_text))
		return fail(again);
	if (device_name(check_name, sizeof(check_name)) || strcmp(check_name, name))
		return fail("the device did not come back to rust_dma_mmap");
	if (!faults(p))
		return fail("the old mapping came back with the new binding");
	if (munmap(p, SIZE))
		return fail("munmap of the revoked mapping");
	p = map_fresh();
	if (!p || dump_entries(name) != 2)
		return fail("the new binding's buffers");
	munmap(p, SIZE);
	return 0;
}

/*
 * A forked copy of a mapping outlives the original, and the unbind must still
 * find and zap it.
 */
static int forked_copy_is_zapped(const char *bdf)
{
	unsigned char *p = map_fresh();
	int fds[2], status;
	char c = 0;
	pid_t pid;

	if (!p || pipe(fds))
		return fail("mapping for the fork");
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (!pid) {
		if (read(fds[0], &c, 1) != 1)
			_exit(2);
		_exit(faults(p) ? 0 : 1);
	}
	munmap(p, SIZE);
	if (write_file(DRIVER "/unbind", bdf))
		return fail("unbind with a forked mapping");
	if (write(fds[1], &c, 1) != 1 || waitpid(pid, &status, 0) != pid)
		return fail("the child");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("a forked copy of the mapping survived the unbind");
	if (write_file(DRIVER "/bind", bdf))
		return fail("bind after the fork");
	return 0;
}

int main(void)
{
	unsigned char *p, *q;
	char name[64];
	void *big;
	long n;
	int fd, fd2;

	fd = open("/dev/rust-dma-mmap", O_RDWR);
	if (fd < 0)
		return fail("open /dev/rust-dma-mmap");
	big = mmap(NULL, 2 * SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (big != MAP_FAILED)
		return fail("a mapping twice the buffer's size was accepted");
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	if (check(p, -1, "driver's pattern"))
		return 1;
	for (size_t i = 0; i < SIZE; i++)
		p[i] = user_pattern(i, 7);
	n = ioctl(fd, VERIFY, 7);
	if (n != SIZE)
		return fail("the driver did not find the bytes written");
	if (ioctl(fd, VERIFY, 8) != -1 || errno != EIO)
		return fail("the driver accepted the wrong pattern");
	printf("  mmap: driver verified %ld bytes written through the mapping\n", n);

	/* The page allocation, through dma_mmap_pages(). */
	fd2 = open("/dev/rust-dma-mmap", O_RDWR);
	if (fd2 < 0 || ioctl(fd2, PAGES))
		return fail("open and PAGES");
	q = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	if (q == MAP_FAILED)
		return fail("mmap of the pages");
	if (check(q, -2, "driver's pattern in the pages"))
		return 1;
	printf("  mmap: read the driver's %d bytes of pages through a second mapping\n", SIZE);

	/* Each mapping alone keeps its buffer. */
	if (device_name(name, sizeof(name)))
		return fail("no device bound to rust_dma_mmap");
	if (dump_entries(name) != 2)
		return fail("dma-api/dump does not list the two buffers");
	if (ioctl(fd, RELEASE))
		return fail("RELEASE");
	close(fd);
	close(fd2);
	if (open("/dev/rust-dma-mmap", O_RDWR) >= 0 || errno != ENODEV)
		return fail("an open after RELEASE did not fail with ENODEV");
	if (dump_entries(name) != 2)
		return fail("a buffer went while still mapped");
	if (check(p, 7, "after RELEASE") || check(q, -2, "pages after RELEASE"))
		return 1;
	for (size_t i = 0; i < SIZE; i++)
		p[i] = user_pattern(i, 9);
	if (check(p, 9, "rewritten after RELEASE"))
		return 1;
	if (munmap(p, SIZE))
		return fail("munmap");
	if (dump_entries(name) != 1)
		return fail("the coherent buffer outlived its last mapping");
	if (munmap(q, SIZE))
		return fail("munmap of the pages");
	if (dump_entries(name) != 0)
		return fail("the pages outlived their last mapping");
	printf("  mmap: the mappings kept the buffers after RELEASE; munmap freed each\n");

	/* The binding ends under a live mapping: sysfs unbind, then removal. */
	{
		char bdf[64], path[128];

		snprintf(bdf, sizeof(bdf), "%.*s", (int)strlen(name) - 1, name);
		if (write_file(DRIVER "/unbind", bdf) || write_file(DRIVER "/bind", bdf))
			return fail("unbind and bind after RELEASE");
		if (revoke_under_mapping(name, DRIVER "/unbind", bdf,
					 DRIVER "/bind", bdf))
			return 1;
		printf("  mmap: unbind freed the buffer under a live mapping, which then got SIGBUS; rebind mapped anew\n");
		if (forked_copy_is_zapped(bdf))
			return 1;
		printf("  mmap: a forked copy of a mapping, left alone, got SIGBUS after unbind\n");
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/remove", bdf);
		if (revoke_under_mapping(name, path, "1",
					 "/sys/bus/pci/rescan", "1"))
			return 1;
		printf("  mmap: PCI removal freed the buffer under a live mapping, which then got SIGBUS; rescan mapped anew\n");
	}
	return 0;
}
