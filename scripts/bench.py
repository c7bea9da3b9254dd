#!/usr/bin/env python3
"""`make bench`: the C baseline against the Rust core, in the same run.

Each benchmark run boots the c-bench and the rust-bench kernel side by side,
on the same QEMU command line with -icount shift=0,sleep=off, where a guest
nanosecond is one instruction. The guest job (scripts/guest/dma-bench.sh)
reads the batched-loop benchmark from debugfs and mm/dmapool_test's boot
lines. --arch arm64 runs the arm64 kernels (arm64-c-bench, arm64-rust-bench)
in arm64's setups, where the IOMMU run is the smmu setup and the nc_* rows
time a device that is not DMA-coherent. This script prints one row per operation (C, Rust, Rust/C), and
writes build/bench.json and build/bench.svg. With --compare it compares two
JSON files row by row instead (the repeatability check).
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(TOP, 'build')
KERNELS = ('c', 'rust')

# The setup of dma_setups.py where an IOMMU translates, per architecture.
IOMMU_SETUP = {'x86_64': 'iommu', 'arm64': 'smmu'}


def runs(arch):
	"""(run name, QEMU setup, extra kernel arguments) of one architecture.

	The figures of the mapping core are taken with dma-debug off;
	"plain+debug" gives its cost. A run is named after its setup.
	"""
	return (('plain', 'plain', 'dma_debug=off'),
		('plain+debug', 'plain', ''),
		('swiotlb', 'swiotlb', 'dma_debug=off'),
		(IOMMU_SETUP[arch], IOMMU_SETUP[arch], 'dma_debug=off'))


# The nc_* rows exist where the architecture maintains caches (arm64).
STREAMING = ('map_single_4k', 'map_single_64k', 'map_sg_1', 'map_sg_16',
	     'map_sg_128', 'sync_4k', 'coherent_4k', 'coherent_64k',
	     'nc_map_single_4k', 'nc_sync_4k', 'nc_map_sg_16', 'nc_coherent_4k')
POOL = ('pool_16', 'pool_64', 'pool_256', 'pool_1024', 'pool_4096')
# The safe Rust API next to the C calls it wraps, same kernel, same run.
# Rows are (label, C op, Rust op); sync_4k is measured in place (with_cpu)
# and by value (two moves of the mapping).
SAFE_API = (('map_single_4k', 'map_single_4k', 'rustapi_map_single_4k'),
	    ('sync_4k', 'sync_4k', 'rustapi_sync_4k'),
	    ('sync_4k_by_value', 'sync_4k', 'rustapi_sync_moved_4k'),
	    ('pool_64', 'pool_64', 'rustapi_pool_64'),
	    ('pool_zalloc_64', 'pool_zalloc_64', 'rustapi_pool_zalloc_64'),
	    ('ring_256', 'ring_256', 'rustapi_ring_256'))
BOUNCE = 'bounce_64k'
FRAG = 'swiotlb_frag_4k'
BOUNCE_BYTES = 65536
# dma_map_benchmark runs for a guest second, minutes under -icount: only in
# the IOMMU run, where its 100 ns steps resolve the figures best.
DMAPOOL_TEST_LOOPS = 100  # NR_TESTS in mm/dmapool_test.c

BENCH_RE = re.compile(r'^bench: (\w+) ops=(\d+) ns_per_op=([\d.]+)$')
BENCH_ERR_RE = re.compile(r'^bench: (\w+) error=(-?\d+)$')
MAPBENCH_RE = re.compile(r'^mapbench (\w+): average (?:map|unmap) latency\(us\):([\d.]+)')
POOLTEST_RE = re.compile(r'^dmapool: dmapool test: size:(\d+)\s+align:(\d+)\s+'
			 r'blocks:(\d+)\s+time:(\d+)$')


def arch_prefix(arch):
	"""The prefix of the arch's build directories and files: '' or 'arm64-'."""
	return '' if arch == 'x86_64' else arch + '-'


def run_guest(arch, kernel, run, setup, append, args):
	"""Boot one kernel in one setup; return ({op: ns}, [problems])."""
	name = arch_prefix(arch) + kernel
	log = os.path.join(BUILD, 'logs', 'bench-%s-%s.log' % (name, run))
	cmd = [sys.executable, os.path.join(TOP, 'scripts/qemu_run.py'),
	       '--setup', setup, '--build-dir', os.path.join(BUILD, name + '-bench'),
	       '--script', os.path.join(TOP, 'scripts/guest/dma-bench.sh'),
	       '--append', ' '.join(filter(None, ['kunit.enable=0', append])),
	       '--icount', '--cpus', '1', '--timeout', str(args.timeout), '--log', log]
	if args.busybox:
		cmd += ['--busybox', args.busybox]
	if args.tool and run == IOMMU_SETUP[arch]:
		cmd += ['--file', args.tool]
	# Each kernel its own scratch disks: QEMU locks an image for one guest.
	env = dict(os.environ, DMA_ARCH=arch,
		   DMA_IMG_DIR=os.path.join(BUILD, 'img', name + '-bench'))
	proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
			      text=True, env=env)
	figures, problems = {}, []
	for line in proc.stdout.splitlines():
		m = BENCH_RE.match(line)
		if m:
			figures[m.group(1)] = float(m.group(3))
			continue
		m = BENCH_ERR_RE.match(line)
		if m:
			problems.append('%s failed with %s' % (m.group(1), m.group(2)))
			continue
		m = MAPBENCH_RE.match(line)
		if m:
			# map plus unmap, from microseconds with one decimal
			name = 'map_benchmark_' + m.group(1)
			figures[name] = figures.get(name, 0.0) + float(m.group(2)) * 1000
			continue
		m = POOLTEST_RE.match(line)
		if m:
			size, blocks, us = int(m.group(1)), int(m.group(3)), int(m.group(4))
			name = 'dmapool_test_%d_align%s' % (size, m.group(2))
			figures[name] = us * 1000.0 / (blocks * DMAPOOL_TEST_LOOPS)
			continue
		if line.startswith('qemu-run:') or line.startswith('bench: ') and 'failed=' not in line:
			problems.append(line)
	if proc.returncode:
		problems.append('guest job exited with %d (console: %s)'
				% (proc.returncode, os.path.relpath(log, TOP)))
	return figures, problems


def make_rows(res, arch):
	"""The table: (group, operation, unit, C, Rust) per row."""
	iommu = IOMMU_SETUP[arch]
	rows = []

	def add(group, op, unit, c, r, coarse=False, scale=None):
		if c is not None and r is not None:
			row = {'group': group, 'op': op, 'unit': unit, 'c': c,
			       'rust': r, 'ratio': r / c if c else None,
			       'coarse': coarse}
			if scale:
				row['scale'] = scale
			rows.append(row)

	def get(kernel, run, op):
		return res.get(kernel, {}).get(run, {}).get(op)

	for run in ('plain', 'swiotlb', iommu):
		for op in STREAMING:
			add(run, op, 'ns/op', get('c', run, op), get('rust', run, op))
	for op in POOL:
		add('plain', op, 'ns/op', get('c', 'plain', op), get('rust', 'plain', op))
	for op in sorted(k for k in res.get('c', {}).get('plain', {})
			 if k.startswith('dmapool_test_')):
		add('plain', op, 'ns/pair', get('c', 'plain', op), get('rust', 'plain', op))
	# The same operations with dma-debug on, and what it adds; dma_pool
	# calls no dma-debug hook of its own. An added figure is a difference of
	# two measurements, so it is judged against the larger one.
	for op in STREAMING:
		add('plain+dbg', op, 'ns/op', get('c', 'plain+debug', op),
		    get('rust', 'plain+debug', op))
	for op in STREAMING:
		on_c, off_c = get('c', 'plain+debug', op), get('c', 'plain', op)
		on_r, off_r = get('rust', 'plain+debug', op), get('rust', 'plain', op)
		if None not in (on_c, off_c, on_r, off_r):
			add('dma-debug', op, 'ns/op added', on_c - off_c, on_r - off_r,
			    scale={'c': on_c, 'rust': on_r})
	add(iommu, 'map_benchmark_single_4k', 'ns/op, 100ns',
	    get('c', iommu, 'map_benchmark_single_4k'),
	    get('rust', iommu, 'map_benchmark_single_4k'), coarse=True)
	# Group "safe API <core>": here the C column is a C driver's call and
	# the Rust column the safe wrapper of kernel::dma, on the same kernel.
	for kernel in KERNELS:
		for label, op, wrapped in SAFE_API:
			add('safe API, %s core' % kernel, label, 'ns/op', get(kernel, 'plain', op),
			    get(kernel, 'plain', wrapped))
	# A 4 KiB map+unmap that must search a pool 90% full of single free slots.
	add('swiotlb', FRAG, 'ns/op', get('c', 'swiotlb', FRAG), get('rust', 'swiotlb', FRAG))
	c, r = get('c', 'swiotlb', BOUNCE), get('rust', 'swiotlb', BOUNCE)
	if c and r:
		add('swiotlb', 'bounce 64 KiB', 'bytes/ns', BOUNCE_BYTES / c,
		    BOUNCE_BYTES / r)
	return rows


def print_table(rows, out=sys.stdout):
	out.write('%-10s %-26s %-12s %12s %12s %8s\n'
		  % ('setup', 'operation', 'unit', 'C', 'Rust', 'Rust/C'))
	for row in rows:
		ratio = '%8.3f' % row['ratio'] if row['ratio'] is not None else '%8s' % '-'
		out.write('%-10s %-26s %-12s %12.3f %12.3f %s\n'
			  % (row['group'], row['op'], row['unit'], row['c'],
			     row['rust'], ratio))


def write_svg(rows, path):
	"""One bar pair per row, each pair scaled to its larger figure."""
	bar, gap, left, width = 9, 8, 330, 420
	height = 40 + len(rows) * (2 * bar + gap)
	svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
	       'font-family="sans-serif" font-size="11">' % (left + width + 170, height),
	       '<text x="10" y="20" font-size="13">DMA API cost per operation, '
	       'C (grey) and Rust (orange), each pair scaled to its larger '
	       'figure; QEMU -icount: 1 ns = 1 instruction</text>']
	y = 36
	for row in rows:
		top = max(row['c'], row['rust']) or 1.0
		label = '%s %s (%s)' % (row['group'], row['op'], row['unit'])
		svg.append('<text x="10" y="%d">%s</text>' % (y + bar + 3, label))
		for i, (val, color) in enumerate(((row['c'], '#888888'),
						  (row['rust'], '#e07020'))):
			w = max(1, int(width * val / top))
			svg.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>'
				   % (left, y + i * bar, w, bar - 1, color))
			svg.append('<text x="%d" y="%d">%.3f</text>'
				   % (left + w + 4, y + i * bar + bar - 1, val))
		if row['ratio'] is not None:
			svg.append('<text x="%d" y="%d">Rust/C %.3f</text>'
				   % (left + width + 90, y + bar + 3, row['ratio']))
		y += 2 * bar + gap
	svg.append('</svg>')
	with open(path, 'w') as f:
		f.write('\n'.join(svg) + '\n')


def compare(a_path, b_path, limit):
	"""Row by row relative difference of two bench.json files."""
	with open(a_path) as f:
		a = {(r['group'], r['op']): r for r in json.load(f)['rows']}
	with open(b_path) as f:
		b = {(r['group'], r['op']): r for r in json.load(f)['rows']}
	worst, bad, judged = 0.0, 0, 0
	print('%-10s %-26s %10s %10s' % ('setup', 'operation', 'C diff', 'Rust diff'))
	for key in a:
		if key not in b:
			print('%-10s %-26s missing from %s' % (key[0], key[1], b_path))
			bad += 1
			continue
		diffs = []
		for k in ('c', 'rust'):
			x, y = a[key][k], b[key][k]
			# A derived row is judged against the figure it came from.
			base = a[key].get('scale', {}).get(k) or max(abs(x), abs(y))
			diffs.append(abs(x - y) / base if base else 0.0)
		if a[key].get('coarse'):
			print('%-10s %-26s %9.3f%% %9.3f%%  (100 ns steps: not judged)'
			      % (key[0], key[1], diffs[0] * 100, diffs[1] * 100))
			continue
		judged += 1
		worst = max(worst, *diffs)
		mark = '' if max(diffs) <= limit else '  > %.1f%%' % (limit * 100)
		bad += bool(mark)
		print('%-10s %-26s %9.3f%% %9.3f%%%s' % (key[0], key[1], diffs[0] * 100,
						      diffs[1] * 100, mark))
	print('largest difference: %.3f%% over %d judged rows; %d above %.1f%%'
	      % (worst * 100, judged, bad, limit * 100))
	return 1 if bad else 0


def main():
	ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	ap.add_argument('--compare', nargs=2, metavar=('OLD', 'NEW'),
			help='compare two bench.json files instead of running')
	ap.add_argument('--limit', type=float, default=1.0,
			help='repeatability limit in percent for --compare')
	ap.add_argument('--arch', default='x86_64', choices=tuple(IOMMU_SETUP),
			help='architecture of the kernels and setups')
	ap.add_argument('--tool', help='static dma_map_benchmark for the guest')
	ap.add_argument('--busybox', help='static busybox of the guest architecture')
	ap.add_argument('--timeout', type=int, default=900, help='seconds per boot')
	ap.add_argument('--json', help='default: build/[arm64-]bench.json')
	ap.add_argument('--svg', help='default: build/[arm64-]bench.svg')
	args = ap.parse_args()
	if args.compare:
		return compare(args.compare[0], args.compare[1], args.limit / 100)
	prefix = arch_prefix(args.arch)
	args.json = args.json or os.path.join(BUILD, prefix + 'bench.json')
	args.svg = args.svg or os.path.join(BUILD, prefix + 'bench.svg')

	start = time.time()
	res, problems = {}, []
	# C and Rust of one run boot side by side, on the same command line:
	# under -icount the figures do not depend on the host's load.
	with concurrent.futures.ThreadPoolExecutor(len(KERNELS)) as pool:
		for run, setup, append in runs(args.arch):
			t = time.time()
			jobs = {k: pool.submit(run_guest, args.arch, k, run, setup, append,
					       args) for k in KERNELS}
			for kernel in KERNELS:
				figures, probs = jobs[kernel].result()
				res.setdefault(kernel, {})[run] = figures
				problems += ['%s/%s: %s' % (kernel, run, p) for p in probs]
				print('bench: %-4s %-11s %2d figures, %3.0f s'
				      % (kernel, run, len(figures), time.time() - t), flush=True)
	rows = make_rows(res, args.arch)
	print()
	print_table(rows)
	with open(args.json, 'w') as f:
		json.dump({'method': 'QEMU TCG -icount shift=0,sleep=off; ns = instructions; '
			   'fastest of 12 batches of 256 operations',
			   'arch': args.arch,
			   'runs': {name: {'setup': s, 'append': a}
				    for name, s, a in runs(args.arch)},
			   'raw': res, 'rows': rows}, f, indent=1)
	write_svg(rows, args.svg)
	print('\nbench: %d rows in %s and %s; %.0f s'
	      % (len(rows), os.path.relpath(args.json, TOP),
		 os.path.relpath(args.svg, TOP), time.time() - start))
	for p in problems:
		print('bench: PROBLEM: ' + p)
	return 1 if problems or not rows else 0


if __name__ == '__main__':
	sys.exit(main())
