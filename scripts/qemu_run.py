#!/usr/bin/env python3
"""Boot a kernel under QEMU (TCG) in one of the DMA setups and run a job.

The guest boots into a busybox initramfs whose /init runs the job script
and powers off. The job's output goes to a port of its own (ttyS1 on
x86-64, a virtio console on arm64), apart from the kernel console, and ends
with a line DMA-JOB-EXIT=<status>. The runner's exit status is the job's; a guest that
crashes or hangs fails the run, and a hard timeout kills a hung guest.

The machine of each setup comes from
tools/testing/kunit/qemu_configs/dma_setups.py, which kunit.py uses too.
"""

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXIT_RE = re.compile(r'^DMA-JOB-EXIT=(\d+)\s*$')
# Kernel reports that mean the guest is not healthy, whatever the job says.
SPLAT_RE = re.compile(r'(\bBUG:|\bOops\b|Kernel panic|WARNING:|'
		      r'INFO: possible|INFO: task .* blocked|general protection fault)')


def load_setups():
	path = os.path.join(TOP, 'tools/testing/kunit/qemu_configs/dma_setups.py')
	spec = importlib.util.spec_from_file_location('dma_setups', path)
	mod = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(mod)
	return mod


def make_initramfs(build_dir, script, extra_files, out, busybox, job_tty):
	"""Write a cpio archive with busybox, /init and the job, with
	gen_init_cpio from the kernel build (no root or mknod needed)."""
	gen = os.path.join(build_dir, 'usr', 'gen_init_cpio')
	if not os.access(gen, os.X_OK):
		sys.exit('qemu-run: %s is missing; build the kernel first' % gen)
	spec = ['dir /dev 0755 0 0', 'nod /dev/console 0600 0 0 c 5 1']
	for d in ('bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'proc', 'sys',
		  'tmp', 'root', 'etc', 'mnt'):
		spec.append('dir /%s 0755 0 0' % d)
	spec.append('file /bin/busybox %s 0755 0 0' % busybox)
	spec.append('file /init %s 0755 0 0' % os.path.join(TOP, 'scripts/guest/init'))
	spec.append('file /job.sh %s 0755 0 0' % os.path.abspath(script))
	with tempfile.NamedTemporaryFile('w', suffix='.tty', delete=False) as t:
		t.write(job_tty + '\n')
	extra_spec = ['file /etc/job-tty %s 0644 0 0' % t.name]
	spec += extra_spec
	for f in extra_files:
		spec.append('file /bin/%s %s 0755 0 0' % (os.path.basename(f), os.path.abspath(f)))
	with tempfile.NamedTemporaryFile('w', suffix='.spec', delete=False) as s:
		s.write('\n'.join(spec) + '\n')
	try:
		with open(out, 'wb') as o:
			subprocess.run([gen, s.name], stdout=o, check=True)
	finally:
		os.unlink(s.name)
		os.unlink(t.name)


def main():
	ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	ap.add_argument('--setup', required=True,
			help='a setup of dma_setups.py for the architecture $DMA_ARCH')
	ap.add_argument('--busybox', default=shutil.which('busybox') or '/bin/busybox',
			help='static busybox of the guest architecture')
	ap.add_argument('--build-dir', required=True, help='kernel O= directory')
	ap.add_argument('--script', required=True, help='job script run by /init')
	ap.add_argument('--file', action='append', default=[],
			help='extra program for /bin in the guest')
	ap.add_argument('--append', default='', help='extra kernel arguments')
	ap.add_argument('--timeout', type=int, default=600, help='seconds')
	ap.add_argument('--icount', action='store_true',
			help='deterministic timing: -icount shift=0,sleep=off')
	ap.add_argument('--cpus', type=int, help='vCPUs instead of the setup\'s')
	ap.add_argument('--log', required=True, help='console log file')
	ap.add_argument('--allow-splats', action='store_true',
			help='do not fail on kernel WARNING/BUG reports')
	args = ap.parse_args()

	setups = load_setups()
	if args.setup not in setups.SETUPS:
		sys.exit('qemu-run: no setup %s on %s (%s)' % (args.setup, setups.ARCH,
							  ', '.join(setups.SETUPS)))
	os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
	job_out = args.log + '.job'
	initrd = args.log + '.cpio'
	make_initramfs(args.build_dir, args.script, args.file, initrd, args.busybox, setups.JOB_TTY)
	if os.path.exists(job_out):
		os.unlink(job_out)

	cmdline = ' '.join(filter(None, [setups.cmdline(args.setup), args.append,
					 'panic=-1', 'oops=panic']))
	cmd = [setups.QEMU, '-nodefaults', '-nographic', '-no-reboot']
	for accel in setups.ACCELERATORS:
		cmd += ['-accel', accel]
	if args.icount:
		cmd += ['-icount', 'shift=0,sleep=off']
	cmd += ['-kernel', os.path.join(args.build_dir, setups.KERNEL_PATH),
		'-initrd', initrd, '-append', cmdline,
		'-serial', 'file:' + args.log] + setups.job_args(job_out)
	cmd += setups.machine_args(args.setup, args.cpus or setups.CPUS)

	timed_out = False
	with open(args.log + '.qemu', 'w') as qlog:
		qlog.write(' '.join(cmd) + '\n')
		qlog.flush()
		try:
			proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=qlog,
					      stderr=subprocess.STDOUT, timeout=args.timeout)
			qemu_rc = proc.returncode
		except subprocess.TimeoutExpired:
			timed_out = True
			qemu_rc = None

	job_lines = []
	if os.path.exists(job_out):
		with open(job_out, errors='replace') as f:
			job_lines = [l.rstrip('\r\n') for l in f]
	status = None
	for line in job_lines:
		m = EXIT_RE.match(line)
		if m:
			status = int(m.group(1))
		else:
			print(line)
	with open(args.log, errors='replace') as f:
		splats = [l.rstrip() for l in f if SPLAT_RE.search(l)]

	if timed_out:
		print('qemu-run: %s: guest killed after %d s: it hung (console: %s)'
		      % (args.setup, args.timeout, args.log))
		return 124
	if status is None:
		print('qemu-run: %s: the guest stopped before the job finished '
		      '(QEMU exit %s): crash or panic; console: %s'
		      % (args.setup, qemu_rc, args.log))
		for s in splats[:10]:
			print('  ' + s)
		return 1
	if splats and not args.allow_splats:
		print('qemu-run: %s: the kernel reported %d problem(s); console: %s'
		      % (args.setup, len(splats), args.log))
		for s in splats[:10]:
			print('  ' + s)
		return status or 1
	return status


if __name__ == '__main__':
	sys.exit(main())
