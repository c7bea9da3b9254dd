#!/bin/sh
# The main DMA workload, run in the guest by `make run`: on each disk, write
# a random pattern with dd, drop the page cache, read it back through the
# device and compare checksums. Then report the dma-debug counters.
# Exit status: 0 when every check passed.
MB=${MB:-16}
fail=0
bytes=0

dd if=/dev/urandom of=/tmp/pattern bs=1M count="$MB" 2>/dev/null
want=$(sha256sum /tmp/pattern | cut -d' ' -f1)

for dev in /dev/vda /dev/nvme0n1; do
	name=${dev#/dev/}
	if [ ! -b "$dev" ]; then
		echo "  $name: MISSING (no such block device)"
		fail=1
		continue
	fi
	if ! dd if=/tmp/pattern of="$dev" bs=1M conv=fsync 2>/dev/null; then
		echo "  $name: write FAILED"
		fail=1
		continue
	fi
	sync
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dd if="$dev" bs=1M count="$MB" 2>/dev/null | sha256sum | cut -d' ' -f1)
	bytes=$((bytes + 2 * MB * 1048576))
	if [ "$got" = "$want" ]; then
		echo "  $name: wrote and read back $((MB * 1048576)) bytes, checksum match"
	else
		echo "  $name: checksum MISMATCH (wrote $want, read $got)"
		fail=1
	fi
done

# A NIC maps its rings and receive buffers when it goes up (IFF_UP, set
# through sysfs: the guest has no IP stack).
for nic in /sys/class/net/eth*; do
	[ -e "$nic" ] || continue
	drv=$(sed -n 's/^DRIVER=//p' "$nic/device/uevent")
	if echo $(( $(cat "$nic/flags") | 1 )) >"$nic/flags" && [ $(( $(cat "$nic/flags") & 1 )) = 1 ]; then
		echo "  ${nic##*/} ($drv): up, receive ring mapped"
	else
		echo "  ${nic##*/} ($drv): FAILED to go up"
		fail=1
	fi
done

# dma_pool users (nvme's PRP and SGL lists) and their pools, from the
# per-device sysfs file: name, blocks in use, blocks, block size, chunks.
for f in /sys/bus/pci/devices/*/pools; do
	[ -e "$f" ] || continue
	dev=${f%/pools}
	sed -n "2,\$s|^|  pools ${dev##*/}: |p" "$f"
done

# The samples of the safe Rust DMA API. rust_dma_edu ran its DMA checks
# at probe; with an IOMMU its IOVA mapping must be one IOVA range.
edu=$(dmesg | grep 'rust_dma_edu: passed')
if [ -n "$edu" ]; then
	echo "  edu sample: ${edu#*rust_dma_edu: }"
	if ls /sys/class/iommu/* >/dev/null 2>&1 && ! echo "$edu" | grep -q 'one IOVA range'; then
		echo "  edu sample: FAILED: an IOMMU is present but no IOVA range was used"
		fail=1
	fi
else
	echo "  edu sample: FAILED"
	dmesg | grep -i 'rust_dma_edu' | sed 's/^/    /'
	fail=1
fi
if [ -x /bin/dma-mmap-user ]; then
	/bin/dma-mmap-user || fail=1
else
	echo "  mmap sample: MISSING /bin/dma-mmap-user"
	fail=1
fi

echo "  bytes moved: $bytes"
d=/sys/kernel/debug/dma-api
if [ -d "$d" ]; then
	for c in error_count num_errors nr_total_entries min_free_entries; do
		echo "  dma-api/$c: $(cat "$d/$c")"
	done
	[ "$(cat "$d/error_count")" = 0 ] || { echo "  dma-debug reported errors"; fail=1; }
else
	echo "  dma-api/: MISSING (is CONFIG_DMA_API_DEBUG on?)"
	fail=1
fi
exit $fail
