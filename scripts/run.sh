#!/usr/bin/env bash
# `make run`, the main job: set up, build what is stale, and boot the kernel
# (CONFIG=rust by default, CONFIG=c for the baseline; ARCH=arm64 for arm64)
# in each QEMU setup of the architecture, running the DMA workload on the
# virtio-blk and nvme disks.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

# RUN_ARCH (`make run ARCH=arm64`) picks the architecture, x86_64 by default.
arch=${RUN_ARCH:-x86_64}
cfg=${CONFIG:-rust}
bash "$top/scripts/setup.sh" >/dev/null || exit 1
guest_arch "$arch" || exit
cfg=$ARCH_PREFIX$cfg
export DMA_ARCH=$arch
setups=${SETUPS:-$(python3 "$top/tools/testing/kunit/qemu_configs/dma_setups.py" "$arch")} || exit 1
load_toolchain || exit 1
bash "$top/scripts/overlay.sh" || exit 1
bash "$top/scripts/build.sh" "$cfg" || exit 1

# The user side of the rust_dma_mmap sample, static for the busybox guest.
mkdir -p "$BUILD/tools/$arch"
user=$BUILD/tools/$arch/dma-mmap-user
"$GUEST_CC" -static -O2 -Wall -o "$user" "$top/scripts/guest/dma-mmap-user.c" || exit 1

fail=0
results=()
for s in $setups; do
	echo "== $cfg kernel, $s setup"
	start=$(date +%s)
	python3 "$top/scripts/qemu_run.py" --setup "$s" --build-dir "$BUILD/$cfg" \
		--script "$top/scripts/guest/dma-workload.sh" --append "kunit.enable=0" \
		--file "$user" --busybox "$GUEST_BUSYBOX" \
		--timeout "${RUN_TIMEOUT:-600}" --log "$BUILD/logs/run-$cfg-$s.log"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		results+=("$s: ok ($(( $(date +%s) - start )) s)")
	else
		results+=("$s: FAILED (status $rc; console in build/logs/run-$cfg-$s.log)")
		fail=1
	fi
done
echo "== summary, $cfg kernel"
printf '  %s\n' "${results[@]}"
exit $fail
