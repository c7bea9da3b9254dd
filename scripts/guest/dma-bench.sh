#!/bin/sh
# The benchmark job of `make bench`, run in the guest under -icount: the
# batched-loop benchmark in debugfs, then mm/dmapool_test's boot-time lines.
# Every line is prefixed so the host can tell the sources apart.
r=/sys/kernel/debug/dma_api_bench/results
if [ ! -r "$r" ]; then
	echo "bench: $r is missing (CONFIG_DMA_API_BENCH)"
	exit 1
fi
out=$(cat "$r") || exit 1
echo "$out" | sed 's/^/bench: /'
dmesg | grep 'dmapool test:' | sed 's/^\[[^]]*\] //; s/^/dmapool: /'

# Upstream's dma_map_benchmark on the same pci-testdev, rebound to the
# dma_map_benchmark driver, when the host put it in /bin: one guest second
# of 4 KiB single mappings. Its figures come in 100 ns steps.
if [ -x /bin/dma_map_benchmark ]; then
	dev=
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1b36:0x0005" ] && dev=$d
	done
	name=${dev##*/}
	[ -e "$dev/driver" ] && echo "$name" >"$dev/driver/unbind"
	echo dma_map_benchmark >"$dev/driver_override"
	echo "$name" >/sys/bus/pci/drivers_probe
	dma_map_benchmark -t 1 -s 1 -b 64 -d 1 -m 0 -g 1 | sed 's/^/mapbench single_4k: /'
fi
case "$out" in
*"failed=0"*) exit 0 ;;
*) exit 1 ;;
esac
