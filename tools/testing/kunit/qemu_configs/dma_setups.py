# SPDX-License-Identifier: GPL-2.0
#
# The QEMU setups of the DMA-mapping tests, in one place, for each
# architecture the tests run on: a setup is an entry of ARCHS[arch]['setups'].
# The architecture is $DMA_ARCH (x86_64 when unset). kunit.py loads them
# through dma_setup.py (the setup named by $DMA_SETUP); the project's own
# runner (scripts/qemu_run.py) imports this file directly, so a test and a
# workload see the same machine. `make run` and `make check` run every
# setup of an architecture, in this order (`python3 dma_setups.py [ARCH]`
# prints the names).
#
# Disk images live in $DMA_IMG_DIR and are made here when missing.

import os
import sys
from typing import List

ARCHS = {
	'x86_64': {
		'qemu': 'qemu-system-x86_64',
		'kernel_path': 'arch/x86/boot/bzImage',
		'console': 'ttyS0',
		# The job's output of qemu_run.py: a second 8250 UART.
		'job_tty': 'ttyS1',
		'machine': ['-machine', 'q35', '-bios', 'qboot.rom'],
		'kconfig': '''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y''',
		'setups': {
			# dma-direct, no IOMMU. With 1 GiB, memory lies beyond
			# edu's 28 bits.
			'plain': {'args': [], 'cmdline': '', 'memory_mb': 1024},
			# Every streaming mapping bounces through swiotlb. With
			# 256 MiB the bounce pool lies within edu's 28 bits, so
			# edu's mappings succeed and only correct bounce copies
			# give the right bytes. (With 1 GiB the pool lies above
			# 256 MiB and such mappings are refused.)
			'swiotlb': {'args': [], 'cmdline': 'swiotlb=force', 'memory_mb': 256},
			# VT-d translates every device's DMA. intel-iommu comes
			# before the PCI devices, as QEMU wants.
			'iommu': {'args': ['-device', 'intel-iommu'], 'cmdline': 'intel_iommu=on',
				  'memory_mb': 1024},
		},
		'edu': 'edu',
	},
	'arm64': {
		'qemu': 'qemu-system-aarch64',
		'kernel_path': 'arch/arm64/boot/Image.gz',
		'console': 'ttyAMA0',
		# virt has one UART: the job's output goes to a virtio console.
		'job_tty': 'hvc0',
		# pauth-impdef: TCG's architected pointer authentication is
		# slow, and the tests do not need it.
		'machine': ['-machine', 'virt,gic-version=3', '-cpu', 'max,pauth-impdef=on'],
		'kconfig': '''
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y''',
		'setups': {
			# dma-direct, no IOMMU. virt's PCIe host is dma-coherent;
			# the platform devices of the tests are not.
			'plain': {'args': [], 'cmdline': '', 'memory_mb': 1024},
			# Every streaming mapping bounces through swiotlb. RAM
			# starts at 1 GiB on virt, above edu's default 28 bits,
			# so edu gets a 64-bit mask (below). arm64 sizes its
			# pool for kmalloc bouncing only (1 MiB per GiB) when all
			# RAM is below 4 GiB, unless swiotlb= gives a size other
			# than the default: ask for 32 MiB, or virtio's 256 KiB
			# requests find no room.
			'swiotlb': {'args': [], 'cmdline': 'swiotlb=16384,force', 'memory_mb': 1024},
			# SMMUv3 translates every PCI device's DMA.
			'smmu': {'machine': 'iommu=smmuv3', 'args': [], 'cmdline': '',
				 'memory_mb': 1024},
		},
		# virt's RAM starts at 1 GiB, beyond the 28 bits edu decodes by
		# default.
		'edu': 'edu,dma_mask=0xffffffffffffffff',
	},
}

ARCH = os.environ.get('DMA_ARCH', 'x86_64')
if ARCH not in ARCHS:
	raise ValueError('DMA_ARCH=%s: not an architecture of dma_setups.py (%s)' %
			 (ARCH, ', '.join(ARCHS)))
_A = ARCHS[ARCH]

SETUPS = _A['setups']
CPUS = 2
ACCELERATORS = ['tcg']  # KVM guests hang on the project's machines.
DISK_MB = 64
QEMU = _A['qemu']
KERNEL_PATH = _A['kernel_path']
KCONFIG = _A['kconfig']
JOB_TTY = _A['job_tty']


def img_dir() -> str:
	d = os.environ.get('DMA_IMG_DIR')
	if not d:
		raise RuntimeError('DMA_IMG_DIR is not set: the QEMU setups need '
				   'a directory for their scratch disk images')
	os.makedirs(d, exist_ok=True)
	return d


def _disk(name: str) -> str:
	path = os.path.join(img_dir(), '%s-%s.img' % (ARCH, name))
	if not os.path.exists(path) or os.path.getsize(path) != DISK_MB << 20:
		with open(path, 'wb') as f:
			f.truncate(DISK_MB << 20)
	return path


def machine_args(setup: str, cpus: int = CPUS) -> List[str]:
	"""QEMU arguments for a setup, without kernel, initrd and accelerator."""
	s = SETUPS[setup]
	machine = list(_A['machine'])
	if s.get('machine'):
		machine[1] += ',' + s['machine']
	# kunit.py passes its own -m first; the last -m wins.
	return machine + ['-smp', str(cpus), '-m', str(s['memory_mb'])] + s['args'] + [
		'-device', _A['edu'],
		'-device', 'pci-testdev',
		# No driver claims it; the rust_dma_mmap sample binds it.
		'-device', 'pvpanic-pci',
		'-netdev', 'user,id=net0,restrict=on',
		'-device', 'e1000e,netdev=net0',
		# virtio uses the DMA API only with VIRTIO_F_ACCESS_PLATFORM.
		'-drive', 'file=%s,if=none,id=vblk0,format=raw,cache=unsafe' % _disk('virtio-blk'),
		'-device', 'virtio-blk-pci,drive=vblk0,iommu_platform=on,disable-legacy=on',
		'-drive', 'file=%s,if=none,id=nvme0,format=raw,cache=unsafe' % _disk('nvme'),
		'-device', 'nvme,drive=nvme0,serial=dmarust0',
	]


def job_args(path: str) -> List[str]:
	"""QEMU arguments that send the guest's JOB_TTY to the file path."""
	if JOB_TTY == 'ttyS1':
		return ['-serial', 'file:' + path]
	return ['-device', 'virtio-serial-pci',
		'-chardev', 'file,id=dmajob,path=' + path,
		'-device', 'virtconsole,chardev=dmajob']


def cmdline(setup: str) -> str:
	return ' '.join(filter(None, ['console=' + _A['console'], SETUPS[setup]['cmdline']]))


if __name__ == '__main__':
	if len(sys.argv) > 1:
		print(' '.join(ARCHS[sys.argv[1]]['setups']))
	else:
		print(' '.join(SETUPS))
