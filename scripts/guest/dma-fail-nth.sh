#!/bin/sh
# The fail-nth sweep of `make fail-nth`, run in the guest: for each real
# driver and its workload, fail its 1st DMA call, then its 2nd, and so on
# (debugfs fail_dma_nth, counted within the fault attributes' driver
# filter, in any context), until a run of the workload ends before the
# armed call: then every call it makes has been failed once. After each
# run the device must hold as many streaming mappings as before it
# (dma-api/dump), the workload must have succeeded or failed cleanly (an
# error, never corrupt data), and the kernel must not have reported a bug
# (the runner fails the boot on any WARNING, BUG or KASAN report). At the
# end of a driver's sweep its device is unbound, and dma-api/dump must
# list nothing of it, coherent memory included. One line per driver
# starts with "SUMMARY: ".
#
# FAIL_NTH_MAX (scripts/soak.sh sets it above this script) bounds a sweep.
FAIL_NTH_MAX=${FAIL_NTH_MAX:-400}
set -o pipefail
fail=0
nth=/sys/kernel/debug/fail_dma_nth
d=/sys/kernel/debug/dma-api

bad() {
	echo "  FAILED: $*"
	fail=1
}

for f in "$nth" "$d/dump" /sys/kernel/debug/fail_dma_map; do
	[ -e "$f" ] || { bad "missing $f (a kernel with FAIL_DMA_MAPPING?)"; exit 1; }
done

# The PCI device of a vendor:device ID.
pci_dev() {
	f=$(grep -l "^PCI_ID=$1" /sys/bus/pci/devices/*/uevent | head -n 1)
	f=${f%/uevent}
	echo "${f##*/}"
}

# The live DMA mappings and allocations of a device, by dma-api/dump.
entries() {
	awk -v dev="$1" '$2 == dev' "$d/dump" | wc -l
}

# Its streaming mappings alone: coherent memory may stay allocated after a
# run (a dma_pool keeps its pages, and a failure may send a driver to
# another pool); the unbind at the end accounts for it.
streaming() {
	awk -v dev="$1" '$2 == dev && $3 != "coherent"' "$d/dump" | wc -l
}

# Every fault attribute (fail_dma_map, _alloc, _pool, _iova) counts only
# this driver's calls.
set_driver() {
	for a in /sys/kernel/debug/fail_dma_*/; do
		echo "$1" >"$a/driver"
	done
}

bind() {
	echo "$2" >/sys/bus/pci/drivers/$1/bind 2>/dev/null
	[ -e /sys/bus/pci/drivers/$1/$2 ]
}

unbind() {
	[ -e /sys/bus/pci/drivers/$1/$2 ] && echo "$2" >/sys/bus/pci/drivers/$1/unbind
}

# Waits up to 5 s for a file to appear.
appears() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$1" ]
}

dd if=/dev/urandom of=/tmp/pattern bs=64k count=1 2>/dev/null
want=$(sha256sum </tmp/pattern | cut -c1-64)

# The workloads. Each prints ok, error or corrupt; undo_* puts the device
# back as it was before the workload.

# 64 KiB written and read back with O_DIRECT, through the block layer
# (virtio maps each page of a request on its own: some 40 calls).
op_disk() {
	dd if=/tmp/pattern of="$disk" bs=64k oflag=direct conv=notrunc 2>/dev/null || { echo error; return; }
	got=$(dd if="$disk" bs=64k count=1 iflag=direct 2>/dev/null | sha256sum) || { echo error; return; }
	[ "${got%% *}" = "$want" ] && echo ok || echo corrupt
}
undo_disk() { :; }

# The NIC brought up (its rings and receive buffers mapped), through sysfs.
nic_flags() {
	echo "/sys/bus/pci/devices/$bdf/net/$(ls "/sys/bus/pci/devices/$bdf/net" 2>/dev/null | head -n 1)/flags"
}
op_nic() {
	f=$(nic_flags)
	[ -e "$f" ] || { echo error; return; }
	echo $(( $(cat "$f") | 1 )) >"$f" 2>/dev/null && [ $(( $(cat "$f") & 1 )) = 1 ] && echo ok || echo error
}
undo_nic() {
	f=$(nic_flags)
	[ -e "$f" ] && echo $(( $(cat "$f") & ~1 )) >"$f"
}

# The driver's probe: bind it to the device (which starts unbound).
op_probe() {
	if bind "$drv" "$bdf" && { [ -z "$node" ] || appears "$node"; }; then
		echo ok
	else
		echo error
	fi
}
undo_probe() { unbind "$drv" "$bdf"; }

# sweep NAME DRIVER BDF KIND: fails each DMA call of DRIVER's workload
# KIND (disk, nic or probe) in turn.
sweep() {
	name=$1 drv=$2 bdf=$3 kind=$4
	if [ -z "$bdf" ] || [ ! -e "/sys/bus/pci/devices/$bdf" ]; then
		bad "$name: no device"
		return
	fi
	[ "$kind" = probe ] && unbind "$drv" "$bdf"
	set_driver "$drv"
	dmesg -c >/dev/null
	# Once with nothing failed, so that what a first run keeps for good
	# (a dma_pool's first page) is in the count to come back to.
	res=$(op_$kind)
	undo_$kind
	[ "$res" = ok ] || bad "$name: the workload failed with no call failed ($res)"
	base=$(streaming "$bdf")
	k=1 points=0 ok=0 errors=0 corrupt=0 leaks=0 last=
	while [ $k -le "$FAIL_NTH_MAX" ]; do
		echo $k >"$nth"
		res=$(op_$kind)
		left=$(cat "$nth")
		echo 0 >"$nth"
		undo_$kind
		if [ "$left" != 0 ]; then
			last=$res
			break
		fi
		points=$k
		case $res in
		ok) ok=$((ok + 1)) ;;
		error) errors=$((errors + 1)) ;;
		*) corrupt=$((corrupt + 1)); bad "$name: call $k failed: the workload read back corrupt data" ;;
		esac
		now=$(streaming "$bdf")
		if [ "$now" != "$base" ]; then
			leaks=$((leaks + 1))
			bad "$name: call $k failed: $bdf holds $now streaming mappings, $base before"
		fi
		k=$((k + 1))
	done
	set_driver ""
	[ -n "$last" ] || bad "$name: still failing calls after $FAIL_NTH_MAX runs"
	[ -z "$last" ] || [ "$last" = ok ] || bad "$name: the workload failed with no call failed ($last)"
	kinds=$(dmesg | sed -n 's/.*fail_dma: failing call [0-9]*: \(.*\) of .*/\1/p' | sort | uniq -c |
		awk '{ n = $1; $1 = ""; printf "%s%d%s", sep, n, $0; sep = ", " }')
	# Unbound, the device must hold nothing; then it is bound again.
	unbind "$drv" "$bdf"
	after=$(entries "$bdf")
	[ "$after" = 0 ] || bad "$name: dma-api/dump lists $after mappings of $bdf after unbind"
	if [ "$kind" != probe ]; then
		bind "$drv" "$bdf" || bad "$name: $bdf did not bind to $drv again"
		[ -z "$node" ] || appears "$node" || bad "$name: $node did not come back"
	fi
	echo "SUMMARY: $name ($drv $bdf): $points injection points ($kinds): $ok succeeded, $errors failed with an error, $corrupt corrupt, $leaks leaked; $after mappings after unbind"
}

virtio=$(pci_dev 1AF4:1042)
nvme=$(pci_dev 1B36:0010)
e1000e=$(pci_dev 8086:10D3)
edu=$(pci_dev 1234:11E8)
mmap=$(pci_dev 1B36:0011)

disk=/dev/vda node=/dev/vda
sweep virtio-blk-io virtio-pci "$virtio" disk
sweep virtio-blk-probe virtio-pci "$virtio" probe
bind virtio-pci "$virtio"
disk=/dev/nvme0n1 node=/dev/nvme0n1
sweep nvme-io nvme "$nvme" disk
node=
sweep e1000e-up e1000e "$e1000e" nic
sweep rust_dma_edu-probe rust_dma_edu "$edu" probe
sweep rust_dma_mmap-probe rust_dma_mmap "$mmap" probe
bind rust_dma_edu "$edu" || bad "rust_dma_edu did not bind again"
bind rust_dma_mmap "$mmap" || bad "rust_dma_mmap did not bind again"

errors=$(cat "$d/error_count")
echo "  dma-api/error_count: $errors"
[ "$errors" = 0 ] || bad "dma-debug reported errors"
exit $fail
