// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part III: dma-debug's administrator interfaces (the
 * dma-api/ debugfs files and the dma_debug*= boot parameters), reports at
 * driver unbind, and concurrent use under lockdep.
 */

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dma_api_kunit.h"

static const char * const dma_api_files[] = {
	"all_errors", "disabled", "dump", "error_count", "min_free_entries",
	"num_errors", "num_free_entries", "nr_total_entries", "driver_filter",
};

static const char * const dma_api_knobs[] = { "all_errors", "num_errors",
					      "driver_filter" };

struct debugfs_ctx {
	struct edu edu;		/* first: test_edu() reads test->priv */
	char saved[ARRAY_SIZE(dma_api_knobs)][64];
	char prefix[96];	/* "DMA-API: <driver> <device>: " */
};

static int debugfs_init(struct kunit *test)
{
	struct debugfs_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	dma_kunit_edu_setup(test, &ctx->edu);
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(test_dev(test),
							DMA_BIT_MASK(64)), 0);
	for (i = 0; i < ARRAY_SIZE(dma_api_knobs); i++)
		if (dma_kunit_debugfs_read(dma_api_knobs[i], ctx->saved[i],
					   sizeof(ctx->saved[i])) < 0)
			kunit_skip(test, "no dma-api/ in debugfs (dma_debug=off?)");
	snprintf(ctx->prefix, sizeof(ctx->prefix), "DMA-API: %s %s: ",
		 dev_driver_string(test_dev(test)), dev_name(test_dev(test)));
	return 0;
}

static void debugfs_exit(struct kunit *test)
{
	struct debugfs_ctx *ctx = test->priv;
	int i;

	if (!ctx)
		return;
	for (i = 0; i < ARRAY_SIZE(dma_api_knobs); i++) {
		const char *v = strim(ctx->saved[i]);

		/* An empty filter is restored by writing a non-name. */
		dma_kunit_debugfs_write(dma_api_knobs[i], *v ? v : "\n");
	}
	dma_kunit_edu_exit(test);
}

/*
 * A misuse dma-debug always catches: unmapping with the wrong direction.
 * Returns whether its report reached the log.
 */
static bool provoke_error(struct kunit *test)
{
	struct debugfs_ctx *ctx = test->priv;
	struct device *dev = test_dev(test);
	u64 mark = dma_kunit_log_mark();
	dma_addr_t dma;
	void *buf;

	buf = kunit_kzalloc(test, 512, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	dma = dma_map_single(dev, buf, 512, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	dma_unmap_single(dev, dma, 512, DMA_FROM_DEVICE);
	return dma_kunit_log_has(mark, ctx->prefix, "different direction");
}

/* Every file of dma-api/ reads, and the counters are consistent. */
static void debugfs_every_file_readable(struct kunit *test)
{
	char *buf = kunit_kmalloc(test, 256, GFP_KERNEL);
	long total, free, min_free;
	int i, ret;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < ARRAY_SIZE(dma_api_files); i++) {
		ret = dma_kunit_debugfs_read(dma_api_files[i], buf, 256);
		KUNIT_EXPECT_GE_MSG(test, ret, 0, "dma-api/%s", dma_api_files[i]);
	}
	KUNIT_EXPECT_GE(test, dma_kunit_counter(test, "error_count"), 0);
	KUNIT_EXPECT_GE(test, dma_kunit_counter(test, "all_errors"), 0);
	KUNIT_EXPECT_GE(test, dma_kunit_counter(test, "num_errors"), 0);
	total = dma_kunit_counter(test, "nr_total_entries");
	free = dma_kunit_counter(test, "num_free_entries");
	min_free = dma_kunit_counter(test, "min_free_entries");
	KUNIT_EXPECT_GT(test, total, 0);
	KUNIT_EXPECT_LE(test, free, total);
	KUNIT_EXPECT_LE(test, min_free, free);
	KUNIT_EXPECT_GE(test, dma_kunit_debugfs_read("disabled", buf, 256), 1);
	KUNIT_EXPECT_TRUE_MSG(test, buf[0] == 'N' || buf[0] == '0',
			      "disabled reads \"%s\"", buf);
}

/* dma-api/dump lists a live mapping by its DMA address, and not after. */
static void debugfs_dump_lists_live_mapping(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t size = SZ_1M;
	char needle[40];
	dma_addr_t dma;
	char *dump;
	void *buf;
	int ret;

	dump = vmalloc(size);
	KUNIT_ASSERT_NOT_NULL(test, dump);
	buf = kunit_kzalloc(test, 777, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	dma = dma_map_single(dev, buf, 777, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	snprintf(needle, sizeof(needle), " D=%llx L=%x ", (u64)dma, 777);

	ret = dma_kunit_debugfs_read("dump", dump, size);
	KUNIT_EXPECT_GT(test, ret, 0);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(dump, needle), "no \"%s\"", needle);
	KUNIT_EXPECT_NOT_NULL(test, strstr(dump, dev_name(dev)));
	dma_unmap_single(dev, dma, 777, DMA_TO_DEVICE);
	ret = dma_kunit_debugfs_read("dump", dump, size);
	KUNIT_EXPECT_GE(test, ret, 0);
	KUNIT_EXPECT_NULL(test, strstr(dump, needle));
	vfree(dump);
}

/*
 * all_errors and num_errors: with all_errors 0, num_errors is how many
 * more errors get reported. Errors are counted either way.
 */
static void debugfs_num_errors_limits_reports(struct kunit *test)
{
	long errors;

	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("all_errors", "0"), 0);
	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("num_errors", "0"), 0);
	errors = dma_kunit_counter(test, "error_count");
	KUNIT_EXPECT_FALSE(test, provoke_error(test));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors + 1);

	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("num_errors", "1"), 0);
	KUNIT_EXPECT_TRUE(test, provoke_error(test));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "num_errors"), 0);
	KUNIT_EXPECT_FALSE(test, provoke_error(test));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors + 3);

	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("all_errors", "1"), 0);
	KUNIT_EXPECT_TRUE(test, provoke_error(test));
	KUNIT_EXPECT_TRUE(test, provoke_error(test));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors + 5);
}

/*
 * driver_filter: with a filter set, only that driver's errors are
 * reported (all are counted); an empty write switches the filter off.
 */
static void debugfs_driver_filter(struct kunit *test)
{
	char buf[64];
	long errors;

	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("all_errors", "1"), 0);
	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("driver_filter",
						      "kunit-nonesuch"), 0);
	KUNIT_EXPECT_GT(test, dma_kunit_debugfs_read("driver_filter", buf,
						     sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, strim(buf), "kunit-nonesuch");
	errors = dma_kunit_counter(test, "error_count");
	KUNIT_EXPECT_FALSE(test, provoke_error(test));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors + 1);

	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("driver_filter", "\n"), 0);
	KUNIT_EXPECT_GE(test, dma_kunit_debugfs_read("driver_filter", buf,
						     sizeof(buf)), 0);
	KUNIT_EXPECT_STREQ(test, strim(buf), "");
	KUNIT_EXPECT_TRUE(test, provoke_error(test));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors + 2);
}

/*
 * Hostile writes to dma-api/ (and swiotlb/ where it exists): each bad value
 * is refused with the errno debugfs gives for it, and the file keeps its
 * value. The driver filter takes the first word of what is written, at most
 * 63 bytes of it, and anything not starting with a letter or digit clears
 * it, as C's does.
 */
static void debugfs_hostile_writes(struct kunit *test)
{
	static const struct {
		const char *dir, *file, *text;
		int err;
	} bad[] = {
		{ "dma-api", "num_errors", "banana", -EINVAL },
		{ "dma-api", "num_errors", "-1", -EINVAL },
		{ "dma-api", "num_errors", "1x", -EINVAL },
		{ "dma-api", "num_errors", "99999999999999999999999", -ERANGE },
		{ "dma-api", "all_errors", "0x", -EINVAL },
		{ "dma-api", "all_errors", "\001\002", -EINVAL },
		{ "dma-api", "error_count", "0", -EACCES },
		{ "swiotlb", "io_tlb_used_hiwater", "banana", -EINVAL },
		{ "swiotlb", "io_tlb_used_hiwater", "-1", -EINVAL },
	};
	static const struct {
		const char *text, *reads;
	} filter[] = {
		{ "e1000e", "e1000e" },
		{ "nvme trailing words", "nvme" },
		{ "\001\002binary", "" },
		{ "abc\001def", "abc\001def" },
	};
	char *buf = kunit_kzalloc(test, 256, GFP_KERNEL);
	char before[32];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (dma_kunit_debugfs_read_in(bad[i].dir, bad[i].file, before,
					      sizeof(before)) < 0)
			continue;	/* no swiotlb/ in this setup */
		KUNIT_EXPECT_EQ_MSG(test, dma_kunit_debugfs_write_in(bad[i].dir, bad[i].file,
								     bad[i].text),
				    bad[i].err, "%s/%s < \"%s\"", bad[i].dir,
				    bad[i].file, bad[i].text);
		KUNIT_EXPECT_GE(test, dma_kunit_debugfs_read_in(bad[i].dir, bad[i].file,
								buf, 256), 0);
		KUNIT_EXPECT_STREQ_MSG(test, buf, before, "%s/%s changed",
				       bad[i].dir, bad[i].file);
	}
	/* dump is read-only, and still reads after a write. */
	KUNIT_EXPECT_LT(test, dma_kunit_debugfs_write("dump", "1"), 0);
	KUNIT_EXPECT_GE(test, dma_kunit_debugfs_read("dump", buf, 256), 0);

	for (i = 0; i < ARRAY_SIZE(filter); i++) {
		KUNIT_EXPECT_EQ(test, dma_kunit_debugfs_write("driver_filter",
							      filter[i].text), 0);
		KUNIT_EXPECT_GE(test, dma_kunit_debugfs_read("driver_filter", buf,
							     256), 0);
		KUNIT_EXPECT_STREQ_MSG(test, strim(buf), filter[i].reads,
				       "driver_filter < \"%s\"", filter[i].text);
	}
	memset(buf, 'a', 200);
	buf[200] = '\0';
	KUNIT_EXPECT_EQ(test, dma_kunit_debugfs_write("driver_filter", buf), 0);
	KUNIT_EXPECT_GE(test, dma_kunit_debugfs_read("driver_filter", buf, 256), 0);
	KUNIT_EXPECT_EQ(test, strlen(strim(buf)), 63);
	KUNIT_EXPECT_EQ(test, strspn(buf, "a"), 63);
}

/* A driver that binds to edu and leaves one mapping behind at unbind. */
static struct {
	void *buf;
	dma_addr_t dma;
	bool probed;
} leaky;

static int leaky_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	leaky.dma = dma_map_single(&pdev->dev, leaky.buf, 128, DMA_TO_DEVICE);
	if (dma_mapping_error(&pdev->dev, leaky.dma))
		return -ENOMEM;
	leaky.probed = true;
	return 0;
}

static void leaky_remove(struct pci_dev *pdev)
{
}

static const struct pci_device_id leaky_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{}
};

static struct pci_driver leaky_driver = {
	.name = "dma-kunit-leaky",
	.id_table = leaky_ids,
	.probe = leaky_probe,
	.remove = leaky_remove,
};

/*
 * Mappings still pending when a driver unbinds are reported. A driver that
 * already drives edu (the rust_dma_edu sample) steps aside for the test and
 * gets the device back after it.
 */
static void debugfs_pending_at_unbind(struct kunit *test)
{
	struct device *dev = test_dev(test);
	bool was_bound = dev->driver;
	char prefix[96];
	long errors;
	u64 mark;

	leaky.buf = kunit_kzalloc(test, 128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, leaky.buf);
	leaky.probed = false;
	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("all_errors", "1"), 0);
	if (was_bound)
		device_release_driver(dev);
	KUNIT_ASSERT_EQ(test, pci_register_driver(&leaky_driver), 0);
	KUNIT_EXPECT_TRUE(test, leaky.probed);
	errors = dma_kunit_counter(test, "error_count");
	mark = dma_kunit_log_mark();
	pci_unregister_driver(&leaky_driver);
	/* The report names the device as it is now, without a driver. */
	snprintf(prefix, sizeof(prefix), "DMA-API: %s %s: ",
		 dev_driver_string(dev), dev_name(dev));
	if (was_bound)
		KUNIT_EXPECT_EQ(test, device_attach(dev), 1);
	if (!leaky.probed)
		return;
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors + 1);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, prefix,
			  "has pending DMA allocations while released from device"));
	/* The leaked mapping is still a valid one: release it cleanly. */
	errors = dma_kunit_counter(test, "error_count");
	dma_unmap_single(dev, leaky.dma, 128, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors);
}

static struct kunit_case dma_api_debugfs_cases[] = {
	KUNIT_CASE(debugfs_every_file_readable),
	KUNIT_CASE(debugfs_dump_lists_live_mapping),
	KUNIT_CASE(debugfs_num_errors_limits_reports),
	KUNIT_CASE(debugfs_driver_filter),
	KUNIT_CASE(debugfs_hostile_writes),
	KUNIT_CASE(debugfs_pending_at_unbind),
	{}
};

static struct kunit_suite dma_api_debugfs_suite = {
	.name = "dma_api_debugfs",
	.init = debugfs_init,
	.exit = debugfs_exit,
	.test_cases = dma_api_debugfs_cases,
};

/*
 * The boot parameters. Each test applies when `make check` boots with its
 * parameter, and is skipped otherwise.
 */
static const char *boot_param(struct kunit *test, const char *name)
{
	const char *p = strstr(saved_command_line, name);

	if (!p)
		kunit_skip(test, "needs the boot parameter %s", name);
	if (strcmp(name, "dma_debug=hostile") &&
	    strstr(saved_command_line, "dma_debug=hostile"))
		kunit_skip(test, "a boot with hostile values");
	return p + strlen(name);
}

/*
 * dma_debug=off: dma-api/disabled reads Y, and misuse is neither counted
 * nor reported.
 */
static void boot_dma_debug_off(struct kunit *test)
{
	struct edu edu = {};
	char buf[32];
	dma_addr_t dma;
	long errors;
	void *kbuf;
	u64 mark;

	boot_param(test, "dma_debug=off");
	KUNIT_EXPECT_GT(test, dma_kunit_debugfs_read("disabled", buf,
						     sizeof(buf)), 0);
	KUNIT_EXPECT_EQ(test, buf[0], 'Y');
	errors = dma_kunit_counter(test, "error_count");
	dma_kunit_edu_setup(test, &edu);
	kbuf = kunit_kzalloc(test, 256, GFP_KERNEL | GFP_DMA);
	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	mark = dma_kunit_log_mark();
	dma = dma_map_single(test_dev(test), kbuf, 256, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_mapping_error(test_dev(test), dma));
	dma_unmap_single(test_dev(test), dma, 256, DMA_FROM_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_kunit_log_has(mark, "DMA-API: ", NULL));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors);
	dma_kunit_edu_exit(test);
	test->priv = NULL;
}

/* dma_debug_entries=N: the preallocated pool holds N entries (pages' worth). */
static void boot_dma_debug_entries(struct kunit *test)
{
	const char *p = boot_param(test, "dma_debug_entries=");
	unsigned long n;
	char num[24];
	long total;

	strscpy(num, p, sizeof(num));
	num[strcspn(num, " ")] = '\0';
	KUNIT_ASSERT_EQ(test, kstrtoul(num, 10, &n), 0);
	total = dma_kunit_counter(test, "nr_total_entries");
	KUNIT_EXPECT_GE(test, total, (long)n);
	KUNIT_EXPECT_LT(test, total, (long)n + 256);
}

/* dma_debug_driver=NAME: the driver filter starts as NAME. */
static void boot_dma_debug_driver(struct kunit *test)
{
	const char *p = boot_param(test, "dma_debug_driver=");
	char want[32], got[64];
	int ret;

	ret = sscanf(p, "%31s", want);
	KUNIT_ASSERT_EQ(test, ret, 1);
	KUNIT_EXPECT_GT(test, dma_kunit_debugfs_read("driver_filter", got,
						     sizeof(got)), 0);
	KUNIT_EXPECT_STREQ(test, strim(got), want);
}

/*
 * Hostile values of the boot parameters. make check boots the rust kernel
 * once with a list of them, starting with dma_debug=hostile, in which each
 * parameter's last value is a bad one; each value must have been refused
 * with a message that quotes it, and the defaults must hold. Only the Rust
 * dma-debug refuses with a message, so the case needs it.
 */
static bool hostile_quoted(const char *name, const char *value)
{
	char needle[320];

	snprintf(needle, sizeof(needle), "%s=%s: ", name, value);
	return dma_kunit_log_has(0, needle, NULL);
}

static void boot_hostile_values(struct kunit *test)
{
	static const char * const quoted[] = {
		"dma_debug", "dma_debug_entries", "dma_debug_driver",
	};
	const char *p = saved_command_line;
	char tok[320], buf[320];
	int i, n = 0;
	long total;

	boot_param(test, "dma_debug=hostile");
	if (!IS_ENABLED(CONFIG_DMA_RUST_DEBUG))
		kunit_skip(test, "C's dma-debug takes bad values silently");
	while (sscanf(p, "%319s", tok) == 1) {
		char *value = strchr(tok, '=');

		if (!tok[0])	/* only blanks were left */
			break;
		p = strstr(p, tok) + strlen(tok);
		if (!value)
			continue;
		*value++ = '\0';
		for (i = 0; i < ARRAY_SIZE(quoted); i++) {
			if (strcmp(tok, quoted[i]))
				continue;
			n++;
			KUNIT_EXPECT_TRUE_MSG(test, hostile_quoted(tok, value),
					      "no message quotes %s=%s", tok,
					      value);
		}
		if (!strcmp(tok, "swiotlb") && strcmp(value, "force")) {
			snprintf(buf, sizeof(buf), "ignoring \"%s\"", value);
			n++;
			KUNIT_EXPECT_TRUE_MSG(test,
					      dma_kunit_log_has(0, "swiotlb=: ", buf),
					      "no message quotes swiotlb=%s", value);
		}
	}
	KUNIT_EXPECT_GE(test, n, 8);
	/* The defaults: dma-debug on, its default records, no filter. */
	KUNIT_EXPECT_GT(test, dma_kunit_debugfs_read("disabled", buf,
						     sizeof(buf)), 0);
	KUNIT_EXPECT_EQ(test, buf[0], 'N');
	total = dma_kunit_counter(test, "nr_total_entries");
	KUNIT_EXPECT_GE(test, total, 65536L);
	KUNIT_EXPECT_LT(test, total, 65536L + 256);
	KUNIT_EXPECT_EQ(test, dma_kunit_debugfs_read("driver_filter", buf,
						     sizeof(buf)), 0);
	/* Bad fault-injection values leave the attribute off. */
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(0, "FAULT_INJECTION: failed to parse arguments",
						  NULL));
	if (IS_ENABLED(CONFIG_FAIL_DMA_MAPPING) &&
	    IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)) {
		static const char * const attrs[] = {
			"fail_dma_map", "fail_dma_alloc", "fail_dma_pool", "fail_dma_iova",
		};
		int i;

		for (i = 0; i < ARRAY_SIZE(attrs); i++) {
			KUNIT_EXPECT_GT_MSG(test,
					    dma_kunit_debugfs_read_in(attrs[i], "probability",
								      buf, sizeof(buf)), 0,
					    "%s/probability", attrs[i]);
			KUNIT_EXPECT_STREQ_MSG(test, strim(buf), "0", "%s", attrs[i]);
		}
	}
}

static struct kunit_case dma_api_debug_boot_cases[] = {
	KUNIT_CASE(boot_dma_debug_off),
	KUNIT_CASE(boot_dma_debug_entries),
	KUNIT_CASE(boot_dma_debug_driver),
	KUNIT_CASE(boot_hostile_values),
	{}
};

static struct kunit_suite dma_api_debug_boot_suite = {
	.name = "dma_api_debug_boot",
	.test_cases = dma_api_debug_boot_cases,
};

kunit_test_suites(&dma_api_debugfs_suite, &dma_api_debug_boot_suite);
