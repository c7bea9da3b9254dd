#!/usr/bin/env bash
# `make bench`: set up, build the benchmark kernels (c-bench, rust-bench),
# run scripts/bench.py, and compare with the previous run's figures.
# BENCH_ARCH=arm64 (`make bench ARCH=arm64`) benchmarks the arm64 kernels
# (arm64-c-bench, arm64-rust-bench), with figures in build/arm64-bench.json.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

arch=${BENCH_ARCH:-x86_64}
bash "$top/scripts/setup.sh" >/dev/null || exit 1
guest_arch "$arch" || exit
load_toolchain || exit 1
bash "$top/scripts/overlay.sh" || exit 1
for k in c-bench rust-bench; do
	bash "$top/scripts/build.sh" "$ARCH_PREFIX$k" || exit 1
done
# dma_map_benchmark, upstream's user-space driver of kernel/dma/map_benchmark.c,
# static for the busybox initramfs.
tool=$BUILD/tools/$arch/dma_map_benchmark
mkdir -p "$BUILD/tools/$arch"
mkdir -p "$BUILD/tools/include/linux"
cp "$KSRC/include/uapi/linux/map_benchmark.h" "$BUILD/tools/include/linux/"
if [ ! -x "$tool" ] || [ "$KSRC/tools/dma/dma_map_benchmark.c" -nt "$tool" ]; then
	"$GUEST_CC" -O2 -static -D_GNU_SOURCE -I"$BUILD/tools/include" \
		-o "$tool" "$KSRC/tools/dma/dma_map_benchmark.c" || exit 1
fi

json=$BUILD/${ARCH_PREFIX}bench.json
prev=$BUILD/${ARCH_PREFIX}bench.prev.json
[ -f "$json" ] && cp "$json" "$prev"
python3 "$top/scripts/bench.py" --arch "$arch" --tool "$tool" --busybox "$GUEST_BUSYBOX" "$@"
rc=$?
if [ "$rc" -eq 0 ] && [ -f "$prev" ]; then
	echo
	echo "== against the previous make bench (build/${ARCH_PREFIX}bench.prev.json);"
	echo "== with unchanged code every row should agree within 1%"
	python3 "$top/scripts/bench.py" --compare "$prev" "$json"
fi
exit $rc
