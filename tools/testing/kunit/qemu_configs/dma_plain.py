# SPDX-License-Identifier: GPL-2.0
# kunit.py --qemu_config for the "plain" setup of the DMA-mapping tests.
import importlib.util
import os

from ..qemu_config import QemuArchParams

_spec = importlib.util.spec_from_file_location(
	'dma_setups', os.path.join(os.path.dirname(__file__), 'dma_setups.py'))
_setups = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_setups)

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig=_setups.KCONFIG,
			   qemu_arch='x86_64',
			   kernel_path=_setups.KERNEL_PATH,
			   kernel_command_line=_setups.cmdline('plain'),
			   extra_qemu_params=_setups.machine_args('plain'),
			   accelerators=_setups.ACCELERATORS)
