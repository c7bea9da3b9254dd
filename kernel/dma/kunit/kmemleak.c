// SPDX-License-Identifier: GPL-2.0-only
/*
 * A kmemleak scan when a KUnit boot ends, after the last suite has run.
 *
 * kunit.py ends each boot with kunit_shutdown=, whose restart, halt or
 * power-off calls the reboot notifiers. There, a kernel thread waits out
 * kmemleak's minimum object age (objects younger than 5 s are never
 * reported), asks for two scans through debugfs as an administrator
 * would, and prints every unreferenced object the scan found as
 * "dma_kunit: memory leak: unreferenced object ...", with its backtrace,
 * which fails the run (scripts/ktap_summary.py). Objects whose backtrace
 * names a known upstream false positive below are printed as such and do
 * not fail it. The last line is always "dma_kunit: kmemleak: scanned, ..."
 * or "dma_kunit: kmemleak: scan failed ...", so a boot with kmemleak that
 * never scanned is seen too.
 */

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/reboot.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dma_api_kunit.h"

/* kmemleak's MSECS_MIN_AGE, and a margin. */
#define KMEMLEAK_MIN_AGE_MS	5500
#define KMEMLEAK_REPORT_SIZE	(64 * 1024)

/*
 * Upstream objects kmemleak reports in these boots that are not leaks,
 * each named by a function of its allocation backtrace, with the reason.
 */
static const struct {
	const char *function, *reason;
} known_false_positives[] = {
	{ NULL, NULL },
};

static const char *known_reason(const char *report)
{
	int i;

	for (i = 0; known_false_positives[i].function; i++)
		if (strstr(report, known_false_positives[i].function))
			return known_false_positives[i].reason;
	return NULL;
}

/* Prints one object's report, line by line (it is modified). */
static void print_object(char *report, const char *reason)
{
	char *line;

	if (reason)
		pr_info("dma_kunit: kmemleak: known false positive (%s):\n",
			reason);
	while ((line = strsep(&report, "\n")))
		if (*line)
			pr_info("dma_kunit: %s%s\n", reason ? "  " : "memory leak: ",
				strim(line));
}

static int kmemleak_scan_thread(void *data)
{
	struct completion *done = data;
	char *text = kvzalloc(KMEMLEAK_REPORT_SIZE, GFP_KERNEL);
	int leaks = 0, known = 0, ret;
	char *next, *obj;

	if (!text) {
		ret = -ENOMEM;
		goto out;
	}
	msleep(KMEMLEAK_MIN_AGE_MS);
	/*
	 * A scan reports an unreferenced object only if its contents did not
	 * change since the scan before, so a leak shows on the second scan.
	 */
	ret = dma_kunit_debugfs_write_in(".", "kmemleak", "scan");
	if (!ret)
		ret = dma_kunit_debugfs_write_in(".", "kmemleak", "scan");
	if (ret)
		goto out;
	ret = dma_kunit_debugfs_read_in(".", "kmemleak", text,
					KMEMLEAK_REPORT_SIZE);
	if (ret < 0)
		goto out;
	/* One object per "unreferenced object" header. */
	next = strstr(text, "unreferenced object");
	while (next) {
		const char *reason;

		obj = next;
		next = strstr(obj + 1, "unreferenced object");
		if (next)
			next[-1] = '\0';
		reason = known_reason(obj);
		if (reason)
			known++;
		else
			leaks++;
		print_object(obj, reason);
	}
	ret = 0;
out:
	if (ret)
		pr_err("dma_kunit: kmemleak: scan failed (%d)\n", ret);
	else
		pr_info("dma_kunit: kmemleak: scanned, %d unreferenced objects, %d known false positives\n",
			leaks, known);
	kvfree(text);
	complete(done);
	return 0;
}

static int kmemleak_at_shutdown(struct notifier_block *nb, unsigned long action,
				void *data)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct task_struct *t;

	/* A kernel thread, which can take an mm for debugfs' user buffers. */
	t = kthread_run(kmemleak_scan_thread, &done, "dma_kunit_kmemleak");
	if (IS_ERR(t))
		pr_err("dma_kunit: kmemleak: scan failed (%ld)\n", PTR_ERR(t));
	else
		wait_for_completion(&done);
	return NOTIFY_DONE;
}

static struct notifier_block kmemleak_nb = {
	.notifier_call = kmemleak_at_shutdown,
};

static int __init dma_kunit_kmemleak_init(void)
{
	return register_reboot_notifier(&kmemleak_nb);
}
late_initcall(dma_kunit_kmemleak_init);
