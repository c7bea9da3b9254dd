#!/usr/bin/env bash
# `make bench`: set up, build the benchmark kernels (c-bench, rust-bench),
# run scripts/bench.py, and compare with the previous run's figures.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

bash "$top/scripts/setup.sh" >/dev/null || exit 1
load_toolchain || exit 1
bash "$top/scripts/overlay.sh" || exit 1
for k in c-bench rust-bench; do
	bash "$top/scripts/build.sh" "$k" || exit 1
done
# dma_map_benchmark, upstream's user-space driver of kernel/dma/map_benchmark.c,
# static for the busybox initramfs.
tool=$BUILD/tools/dma_map_benchmark
mkdir -p "$BUILD/tools/include/linux"
cp "$KSRC/include/uapi/linux/map_benchmark.h" "$BUILD/tools/include/linux/"
if [ ! -x "$tool" ] || [ "$KSRC/tools/dma/dma_map_benchmark.c" -nt "$tool" ]; then
	gcc -O2 -static -D_GNU_SOURCE -I"$BUILD/tools/include" \
		-o "$tool" "$KSRC/tools/dma/dma_map_benchmark.c" || exit 1
fi

json=$BUILD/bench.json
prev=$BUILD/bench.prev.json
[ -f "$json" ] && cp "$json" "$prev"
python3 "$top/scripts/bench.py" --tool "$tool" "$@"
rc=$?
if [ "$rc" -eq 0 ] && [ -f "$prev" ]; then
	echo
	echo "== against the previous make bench (build/bench.prev.json);"
	echo "== with unchanged code every row should agree within 1%"
	python3 "$top/scripts/bench.py" --compare "$prev" "$json"
fi
exit $rc
