#!/bin/sh
# The soak of `make soak`, run in the guest for SOAK_SECS seconds, all at
# once: two verified block I/O streams on each of virtio-blk and nvme (a
# random pattern written and read back with O_DIRECT, and its checksum
# compared), the rust_dma_edu sample unbound and bound again in a loop
# (each probe moves and checks bytes through the device), and the kernel's
# soak engine (dma_soak/ in debugfs: four map/sync/unmap workers and a
# dma_pool torture thread on pci-testdev, kernel/dma/kunit/soak.c).
# With SOAK_INJECT=1, the fault attributes fail 1% of the engine's maps
# and allocations. scripts/soak.sh sets the variables above this script.
#
# Fails on corrupt data, a dma-debug error, a streaming mapping or swiotlb
# slot still held at the end that was not at the start, a mapping of the
# engine's driver left after its unbind, or a missing part. The last line
# is "SUMMARY: name=value ...", the figures scripts/soak.sh reports.
SOAK_SECS=${SOAK_SECS:-60}
SOAK_INJECT=${SOAK_INJECT:-0}
# A failed read in a pipe is an I/O error, not a wrong checksum.
set -o pipefail
fail=0
d=/sys/kernel/debug/dma-api
t=/sys/kernel/debug/swiotlb
s=/sys/kernel/debug/dma_soak

bad() {
	echo "  FAILED: $*"
	fail=1
}

# Live streaming mappings (every kind but coherent) in dma-api/dump.
streaming() {
	grep -v ' coherent idx ' "$d/dump" | grep -c .
}

tlb_used() {
	if [ -r "$t/io_tlb_used" ]; then cat "$t/io_tlb_used"; else echo 0; fi
}

# The swiotlb pool's size and peak, which a growing pool changes.
tlb_state() {
	for f in io_tlb_nslabs io_tlb_used_hiwater io_tlb_transient_nslabs; do
		[ -r "$t/$f" ] && echo -n " $f $(cat "$t/$f")"
	done
}

for f in "$d/dump" "$s/run" /dev/vda /dev/nvme0n1 /sys/bus/pci/drivers/rust_dma_edu; do
	[ -e "$f" ] || { bad "missing $f"; exit 1; }
done

# The patterns, 4 MiB each, and their checksums.
for k in 0 1; do
	dd if=/dev/urandom of=/tmp/p$k bs=1M count=4 2>/dev/null
	sha256sum </tmp/p$k | cut -c1-64 >/tmp/p$k.sum
done

start_stream=$(streaming)
start_tlb=$(tlb_used)
start_tlb_state=$(tlb_state)
start_total=$(cat "$d/nr_total_entries")
start_free=$(cat "$d/num_free_entries")

if [ "$SOAK_INJECT" = 1 ]; then
	for a in fail_dma_map fail_dma_alloc fail_dma_pool; do
		f=/sys/kernel/debug/$a
		[ -d "$f" ] || { bad "SOAK_INJECT=1 but no $f"; continue; }
		echo dma_soak >"$f/driver"
		echo 1 >"$f/interval"
		echo 1 >"$f/probability"
		echo -1 >"$f/times"
		echo 0 >"$f/verbose"
	done
fi

end=$(( $(date +%s) + SOAK_SECS ))

# One verified stream on a disk: 4 MiB chunks at offsets first, first+4,
# ... (MiB), a pattern written with O_DIRECT, read back and compared.
disk_loop() {
	dev=$1 name=$2 first=$3
	n=0 ok=0 ioerr=0 corrupt=0
	while [ "$(date +%s)" -lt "$end" ]; do
		k=$((n % 2))
		off=$((first + (n % 4) * 8))
		if dd if=/tmp/p$k of="$dev" bs=1M seek=$off oflag=direct conv=notrunc 2>/dev/null &&
		   got=$(dd if="$dev" bs=1M skip=$off count=4 iflag=direct 2>/dev/null | sha256sum); then
			if [ "${got%% *}" = "$(cat /tmp/p$k.sum)" ]; then
				ok=$((ok + 1))
			else
				corrupt=$((corrupt + 1))
			fi
		else
			ioerr=$((ioerr + 1))
		fi
		n=$((n + 1))
	done
	echo "$ok $ioerr $corrupt" >/tmp/res-$name
}

# The edu sample, unbound and bound again: each probe checks its bytes
# and fails if they are wrong, which leaves the device unbound.
edu_loop() {
	drv=/sys/bus/pci/drivers/rust_dma_edu
	bdf=$(ls "$drv" | grep ':' | head -n 1)
	n=0 ok=0
	while [ -n "$bdf" ] && [ "$(date +%s)" -lt "$end" ]; do
		echo "$bdf" >"$drv/unbind"
		echo "$bdf" >"$drv/bind" 2>/dev/null
		[ -e "$drv/$bdf" ] && ok=$((ok + 1))
		n=$((n + 1))
	done
	echo "$n $ok" >/tmp/res-edu
}

# The engine's driver binds pci-testdev, which the rust_dma sample holds.
testdev=$(grep -l '^PCI_ID=1B36:0005' /sys/bus/pci/devices/*/uevent | head -n 1)
testdev=${testdev%/uevent}
owner=
if [ -e "$testdev/driver" ]; then
	owner=$(readlink -f "$testdev/driver")
	echo "${testdev##*/}" >"$owner/unbind"
fi
echo "$SOAK_SECS" >"$s/run" || bad "dma_soak/run refused to start"
for dev in vda nvme0n1; do
	disk_loop "/dev/$dev" "$dev-a" 0 &
	disk_loop "/dev/$dev" "$dev-b" 4 &
done
edu_loop &
wait
# Reading the result waits for the engine and unbinds its driver.
cat "$s/result" >/tmp/engine || bad "no result from dma_soak/result"
if [ -n "$owner" ]; then
	echo "${testdev##*/}" >"$owner/bind" || bad "pci-testdev did not bind to ${owner##*/} again"
fi

for a in fail_dma_map fail_dma_alloc fail_dma_pool; do
	[ "$SOAK_INJECT" = 1 ] && [ -d "/sys/kernel/debug/$a" ] && echo -n >"/sys/kernel/debug/$a/driver" && echo 0 >"/sys/kernel/debug/$a/probability"
done

get() {
	sed -n "s/^$1 //p" /tmp/engine
}

disk_ok=0 ioerr=0 corrupt=0
for r in vda-a vda-b nvme0n1-a nvme0n1-b; do
	set -- $(cat /tmp/res-$r 2>/dev/null)
	[ $# = 3 ] || { bad "no result from the $r stream"; continue; }
	echo "  $r: $1 chunks verified, $2 I/O errors, $3 corrupt"
	[ "$1" -gt 0 ] || bad "$r verified no chunk"
	disk_ok=$((disk_ok + $1)) ioerr=$((ioerr + $2)) corrupt=$((corrupt + $3))
done
set -- $(cat /tmp/res-edu 2>/dev/null)
edu_n=${1:-0} edu_ok=${2:-0}
echo "  edu sample: $edu_ok of $edu_n probes passed"
[ "$edu_n" -gt 0 ] && [ "$edu_ok" = "$edu_n" ] || bad "edu sample probes failed"

sed 's/^/  engine: /' /tmp/engine
[ "$(get status)" = 0 ] || bad "the engine did not run"
[ "$(get corrupt)" = 0 ] || bad "the engine saw corrupt data"
[ "${corrupt}" = 0 ] || bad "a disk read back corrupt data"
if [ "$SOAK_INJECT" = 1 ]; then
	[ "$(get map_failures)" -gt 0 ] && [ "$(get alloc_failures)" -gt 0 ] ||
		bad "fault injection was on, but the engine saw no failure"
fi

end_stream=$(streaming)
end_tlb=$(tlb_used)
errors=$(cat "$d/error_count")
soak_left=$(grep -c '^dma_soak ' "$d/dump")
echo "  dma-api: error_count $errors; streaming mappings $start_stream at the start, $end_stream at the end; entries $start_total (free $start_free) at the start, $(cat "$d/nr_total_entries") (free $(cat "$d/num_free_entries")) at the end"
echo "  swiotlb io_tlb_used: $start_tlb at the start, $end_tlb at the end"
[ -d "$t" ] && echo "  swiotlb:$start_tlb_state at the start;$(tlb_state) at the end"
[ "$errors" = 0 ] || bad "dma-debug reported errors"
[ "$end_stream" -le "$start_stream" ] || bad "streaming mappings left over"
[ "$end_tlb" -le "$start_tlb" ] || bad "swiotlb slots left over"
[ "$soak_left" = 0 ] || bad "dma-api/dump lists $soak_left mappings of dma_soak after its unbind"

failures=$(( $(get map_failures) + $(get alloc_failures) ))
echo "SUMMARY: ops=$(get ops) bytes=$(( $(get bytes_checked) + disk_ok * 8 * 1048576 )) engine_failures=$failures io_errors=$ioerr edu_probes=$edu_ok corrupt=$(( corrupt + $(get corrupt) )) dma_debug_errors=$errors"
exit $fail
