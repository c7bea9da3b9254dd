# SPDX-License-Identifier: GPL-2.0
#
# The QEMU setups of the DMA-mapping tests, in one place: a setup is an
# entry of SETUPS. kunit.py loads them through dma_setup.py (the setup named
# by $DMA_SETUP); the project's own runner (scripts/qemu_run.py) imports
# this file directly, so a test and a workload see the same machine.
# `make run` and `make check` run every setup here, in this order
# (`python3 dma_setups.py` prints the names).
#
# Disk images live in $DMA_IMG_DIR and are made here when missing.

import os
from typing import List

SETUPS = {
	# dma-direct, no IOMMU. With 1 GiB, memory lies beyond edu's 28 bits.
	'plain': {'args': [], 'cmdline': '', 'memory_mb': 1024},
	# Every streaming mapping bounces through swiotlb. With 256 MiB the
	# bounce pool lies within edu's 28 bits, so edu's mappings succeed and
	# only correct bounce copies give the right bytes. (With 1 GiB the pool
	# lies above 256 MiB and such mappings are refused.)
	'swiotlb': {'args': [], 'cmdline': 'swiotlb=force', 'memory_mb': 256},
	# VT-d translates every device's DMA. intel-iommu comes before the
	# PCI devices, as QEMU wants.
	'iommu': {'args': ['-device', 'intel-iommu'], 'cmdline': 'intel_iommu=on',
		  'memory_mb': 1024},
}

CPUS = 2
ACCELERATORS = ['tcg']  # KVM guests hang on the project's machines.
DISK_MB = 64
KERNEL_PATH = 'arch/x86/boot/bzImage'
KCONFIG = '''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y'''


def img_dir() -> str:
	d = os.environ.get('DMA_IMG_DIR')
	if not d:
		raise RuntimeError('DMA_IMG_DIR is not set: the QEMU setups need '
				   'a directory for their scratch disk images')
	os.makedirs(d, exist_ok=True)
	return d


def _disk(name: str) -> str:
	path = os.path.join(img_dir(), name + '.img')
	if not os.path.exists(path) or os.path.getsize(path) != DISK_MB << 20:
		with open(path, 'wb') as f:
			f.truncate(DISK_MB << 20)
	return path


def machine_args(setup: str, cpus: int = CPUS) -> List[str]:
	"""QEMU arguments for a setup, without kernel, initrd and accelerator."""
	s = SETUPS[setup]
	# kunit.py passes its own -m first; the last -m wins.
	return ['-machine', 'q35', '-smp', str(cpus), '-m', str(s['memory_mb']),
		'-bios', 'qboot.rom'] + s['args'] + [
		'-device', 'edu',
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


def cmdline(setup: str) -> str:
	return ' '.join(filter(None, ['console=ttyS0', SETUPS[setup]['cmdline']]))


if __name__ == '__main__':
	print(' '.join(SETUPS))
