#!/usr/bin/env bash
# `make soak` and `make fail-nth` (SOAK_JOB=fail-nth): boot the rust test
# kernel (CONFIG=c for the baseline; ARCH=arm64 for arm64) on 4 vCPUs in
# each QEMU setup of the architecture, with dma-debug, lockdep, KASAN and
# kmemleak, and run a job in each:
#
# soak (scripts/guest/dma-soak.sh): verified block I/O on virtio-blk and
#   nvme, the edu sample in a loop and the kernel's soak engine, with 1% of
#   the engine's maps and allocations failed on purpose where the kernel has
#   DMA fault injection. One more run, "tiny", is the swiotlb setup with a
#   pool of 1024 slots (2 MiB). SOAK_MINUTES (10 by default) bounds the
#   whole job: each run soaks for its share, less the time a boot and
#   kmemleak's scan at power-off take.
# fail-nth (scripts/guest/dma-fail-nth.sh): each real driver's workload with
#   its 1st, 2nd, ... DMA call failed in turn (debugfs fail_dma_nth), until a
#   run makes no more calls; FAIL_NTH_MAX (400) bounds a sweep.
#
# Exits non-zero if any run fails: a failed check in the guest, a kernel
# splat (BUG, WARNING, lockdep, KASAN), a hang, or a leak kmemleak found.
# Prints the job's SUMMARY lines of each run.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

arch=${SOAK_ARCH:-x86_64}
cfg=${CONFIG:-rust}
job_name=${SOAK_JOB:-soak}
minutes=${SOAK_MINUTES:-10}
# Seconds a run takes besides its soak: boot, set-up, kmemleak's scan.
overhead=${SOAK_OVERHEAD:-75}
case $job_name in
soak) extra_runs=tiny ;;
fail-nth) extra_runs= ;;
*) echo "soak: SOAK_JOB=$job_name: not soak or fail-nth" >&2; exit 1 ;;
esac
bash "$top/scripts/setup.sh" >/dev/null || exit 1
guest_arch "$arch" || exit
cfg=$ARCH_PREFIX$cfg
export DMA_ARCH=$arch
setups=${SETUPS:-$(python3 "$top/tools/testing/kunit/qemu_configs/dma_setups.py" "$arch") $extra_runs} || exit 1
load_toolchain || exit 1
bash "$top/scripts/overlay.sh" || exit 1
bash "$top/scripts/build.sh" "$cfg" || exit 1

runs=$(echo $setups | wc -w)
secs=$(( minutes * 60 / runs - overhead ))
[ "$secs" -ge 20 ] || secs=20
inject=0
grep -q '^CONFIG_FAIL_DMA_MAPPING=y' "$BUILD/$cfg/.config" && inject=1

fail=0
results=()
for run in $setups; do
	setup=$run append="kunit.enable=0"
	run_inject=$inject
	if [ "$run" = swiotlb ] && [ "$arch" = x86_64 ]; then
		# x86-64's swiotlb setup has 256 MiB (so that edu reaches the
		# pool), of which the kernel with KASAN and kmemleak and the
		# default 64 MiB pool leave about 50 MiB: too little for the
		# load (the OOM killer came). A 16 MiB pool leaves 48 more.
		append="$append swiotlb=8192,force"
	elif [ "$run" = tiny ]; then
		# The swiotlb setup with a 2 MiB pool: the failures are real.
		setup=swiotlb append="$append swiotlb=1024,force"
		run_inject=0
	fi
	log=$BUILD/logs/$job_name-$cfg-$run.log
	job=$log.sh
	mkdir -p "$BUILD/logs"
	if [ "$job_name" = soak ]; then
		echo "SOAK_SECS=$secs SOAK_INJECT=$run_inject" >"$job"
		echo "== soak: $cfg kernel, $run ($secs s, 4 vCPUs)"
		timeout=$(( secs + 600 ))
	else
		echo "FAIL_NTH_MAX=${FAIL_NTH_MAX:-400}" >"$job"
		echo "== fail-nth: $cfg kernel, $run (4 vCPUs)"
		timeout=${FAIL_NTH_TIMEOUT:-1800}
	fi
	cat "$top/scripts/guest/dma-$job_name.sh" >>"$job"
	start=$(date +%s)
	python3 "$top/scripts/qemu_run.py" --setup "$setup" --build-dir "$BUILD/$cfg" \
		--script "$job" --append "$append" --cpus 4 --busybox "$GUEST_BUSYBOX" \
		--timeout "$timeout" --log "$log" | tee "$log.out"
	rc=${PIPESTATUS[0]}
	# kmemleak scans at power-off (kernel/dma/kunit/kmemleak.c).
	leaks=$(sed -n 's/.*dma_kunit: kmemleak: scanned, \([0-9]*\) unreferenced.*/\1/p' "$log" | tail -n 1)
	if grep -q 'kmemleak: Kernel memory leak detector initialized' "$log" && [ -z "$leaks" ]; then
		echo "  FAILED: kmemleak did not scan at power-off"
		[ "$rc" = 0 ] && rc=1
	elif [ -n "$leaks" ] && [ "$leaks" != 0 ]; then
		echo "  FAILED: kmemleak found $leaks unreferenced objects:"
		grep 'dma_kunit: memory leak:' "$log" | head -n 20 | sed 's/^/    /'
		[ "$rc" = 0 ] && rc=1
	fi
	took=$(( $(date +%s) - start ))
	if [ "$rc" = 0 ]; then
		results+=("$run: ok in $took s, kmemleak: ${leaks:-n/a} leaks")
	else
		results+=("$run: FAILED (status $rc; console in ${log#$top/}), kmemleak: ${leaks:-n/a} leaks")
		fail=1
	fi
	while read -r line; do
		results+=("  $line")
	done < <(sed -n 's/^SUMMARY: //p' "$log.out")
done
echo "== $job_name summary, $cfg kernel"
printf '  %s\n' "${results[@]}"
exit $fail
