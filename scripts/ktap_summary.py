#!/usr/bin/env python3
"""Summarise the KUnit runs of `make check` and give one verdict.

Each run is a raw console log of `kunit.py exec --raw_output=all`. The logs
are judged with kunit.py's own parser (tools/testing/kunit/kunit_parser.py of
the working tree), so a crash or a truncated run counts as kunit.py counts
it. On top of that, a run fails when an expected suite did not run, when it
printed no KTAP at all, or when the kernel reported a BUG, an oops or a
lockdep splat.

The last line is "N passed, N failed"; the exit status is 1 on any failure.
"""

import argparse
import os
import re
import sys

SKIP_RE = re.compile(r'^\s*(?:\[[^\]]*\]\s*)?(?:ok|not ok) \d+ (\S+) # SKIP ?(.*)$')
# dma-debug's own reports are WARNINGs that misuse tests provoke on purpose;
# these are the reports that always mean a broken kernel.
BAD_RE = re.compile(r'(\bBUG:|\bOops\b|Kernel panic|general protection fault|'
		    r'WARNING: (?:possible|inconsistent lock state|suspicious RCU)|'
		    r'INFO: possible|INFO: task .* blocked|'
		    r'dma_kunit: memory leak:|dma_kunit: kmemleak: scan failed|'
		    r'kmemleak: Kernel memory leak detector disabled)')
# A kernel with kmemleak announces it at boot, and then must end with the
# scan of kernel/dma/kunit/kmemleak.c.
KMEMLEAK_ON = 'kmemleak: Kernel memory leak detector initialized'
KMEMLEAK_SCANNED = 'dma_kunit: kmemleak: scanned,'


def leaves(test, prefix=''):
	"""Yield (name, test) for every test case (parameters count one each)."""
	for sub in test.subtests:
		name = prefix + sub.name
		if sub.subtests:
			yield from leaves(sub, name + '.')
		else:
			yield name, sub


REPLAY = '** replaying previous printk message **'


def drop_replayed(lines):
	"""Drop each console line that printk cut short and printed again.

	When a console's output is taken over mid-line (a warning from another
	context on an nbcon console, as arm64's pl011 is), the cut line stays in
	the log, followed by REPLAY and the whole line; the KTAP parser would
	read the cut one as a result of its own ("ok 2 debug_free_wrong_si").
	"""
	out = []
	for i, line in enumerate(lines):
		if line.strip() == REPLAY:
			again = lines[i + 1] if i + 1 < len(lines) else ''
			if out and again.startswith(out[-1].rstrip('\n')):
				out.pop()
			continue
		out.append(line)
	return out


def judge(kp, printer, label, path, expected):
	"""Return (passed, failed, skips, problems) for one raw log."""
	problems = []
	if not os.path.exists(path):
		return 0, 1, [], ['%s: no log at %s: the run did not happen' % (label, path)]
	with open(path, errors='replace') as f:
		lines = drop_replayed(f.readlines())
	test = kp.parse_run_tests(lines, printer)
	c = test.counts
	passed = c.passed
	failed = c.failed + c.crashed + c.errors
	if test.status == kp.TestStatus.NO_TESTS or not test.subtests:
		problems.append('%s: no KTAP output: the kernel did not boot or ran no test' % label)
		failed += 1
	elif test.status == kp.TestStatus.TEST_CRASHED:
		problems.append('%s: the kernel crashed or stopped mid-run' % label)
	if test.status not in (kp.TestStatus.SUCCESS, kp.TestStatus.SKIPPED) and not failed:
		problems.append('%s: kunit verdict %s' % (label, test.status.name))
		failed = 1
	ran = {s.name for s in test.subtests}
	for suite in expected:
		if suite not in ran:
			problems.append('%s: expected suite %s did not run' % (label, suite))
			failed += 1
	for name, t in leaves(test):
		if t.status not in (kp.TestStatus.SUCCESS, kp.TestStatus.SKIPPED):
			problems.append('%s: %s: %s' % (label, name, t.status.name))
	reasons = {}
	for line in lines:
		m = SKIP_RE.match(line)
		if m:
			reasons[m.group(1)] = m.group(2).strip()
	skips = ['%s: %s: %s' % (label, n, reasons.get(n.rsplit('.', 1)[-1], ''))
		 for n, t in leaves(test) if t.status == kp.TestStatus.SKIPPED]
	bad = [l.strip() for l in lines if BAD_RE.search(l)]
	if bad:
		problems.append('%s: the kernel reported %d problem(s), first: %s'
				% (label, len(bad), bad[0]))
		failed += 1
	if any(KMEMLEAK_ON in l for l in lines) and not any(KMEMLEAK_SCANNED in l for l in lines):
		problems.append('%s: kmemleak is on but the boot ended without its scan' % label)
		failed += 1
	return passed, failed, skips, problems


def main():
	ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	ap.add_argument('--kunit-dir', required=True, help='tools/testing/kunit of the tree')
	ap.add_argument('--expected', required=True, help='file with one expected suite a line')
	ap.add_argument('--extra', action='append', default=[],
			help='LABEL:PASSED:FAILED from another runner (host tests, builds)')
	ap.add_argument('--run', nargs=3, action='append', default=[],
			metavar=('LABEL', 'RAW_LOG', 'SUITES'),
			help='a KUnit run; SUITES is a comma-separated list of the '
			     'suites it must run, or - for those of --expected')
	args = ap.parse_args()

	sys.path.insert(0, args.kunit_dir)
	import kunit_parser as kp
	import kunit_printer

	with open(args.expected) as f:
		expected = [l.split('#')[0].strip() for l in f]
	expected = [e for e in expected if e]

	total_p = total_f = 0
	per_arch = {}
	all_skips, all_problems = [], []
	print('Test summary')
	for extra in args.extra:
		label, p, f = extra.rsplit(':', 2)
		total_p += int(p)
		total_f += int(f)
		print('  %-36s %d passed, %d failed' % (label, int(p), int(f)))
	for label, path, suites in args.run:
		want = expected if suites == '-' else suites.split(',')
		p, f, skips, problems = judge(kp, kunit_printer.null_printer, label, path, want)
		total_p += p
		total_f += f
		arch = 'arm64' if label.startswith('arm64-') else 'x86_64'
		ap, af = per_arch.get(arch, (0, 0))
		per_arch[arch] = (ap + p, af + f)
		all_skips += skips
		all_problems += problems
		print('  %-36s %d passed, %d failed, %d skipped' % (label, p, f, len(skips)))
	if all_skips:
		print('Skipped:')
		for s in all_skips:
			print('  ' + s)
	if all_problems:
		print('Failures:')
		for s in all_problems:
			print('  ' + s)
	if per_arch:
		print('Per architecture (KUnit):')
		for arch, (p, f) in per_arch.items():
			print('  %-36s %d passed, %d failed' % (arch, p, f))
	print('%d passed, %d failed' % (total_p, total_f))
	return 1 if total_f else 0


if __name__ == '__main__':
	sys.exit(main())
