# SPDX-License-Identifier: GPL-2.0
# kunit.py --qemu_config for the DMA-mapping tests: the setup named by the
# environment variable DMA_SETUP ("plain" when unset), one of those that
# dma_setups.py defines for the architecture $DMA_ARCH (x86_64 when unset).
import importlib.util
import os

from ..qemu_config import QemuArchParams

_spec = importlib.util.spec_from_file_location(
	'dma_setups', os.path.join(os.path.dirname(__file__), 'dma_setups.py'))
_setups = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_setups)

_setup = os.environ.get('DMA_SETUP', 'plain')
if _setup not in _setups.SETUPS:
	raise ValueError('DMA_SETUP=%s: not a setup of dma_setups.py (%s)' %
			 (_setup, ', '.join(_setups.SETUPS)))

QEMU_ARCH = QemuArchParams(linux_arch=_setups.ARCH,
			   kconfig=_setups.KCONFIG,
			   qemu_arch=_setups.QEMU[len('qemu-system-'):],
			   kernel_path=_setups.KERNEL_PATH,
			   kernel_command_line=_setups.cmdline(_setup),
			   extra_qemu_params=_setups.machine_args(_setup),
			   accelerators=_setups.ACCELERATORS)
