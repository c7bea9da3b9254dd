#!/usr/bin/env bash
# `make check`: host tests, then KUnit through kunit.py on both kernels ("c",
# the baseline, and "rust") in all three QEMU setups, and on the two mixed
# kernels in one setup each, then one summary.
# Last line: "N passed, N failed". Exit status non-zero on any failure, crash,
# hang, or expected suite that did not run.
#
# ARCHS picks the architectures (x86_64 and arm64 by default): on x86-64
# the four kernels above; on arm64 the rust kernel (arm64-rust) in arm64's
# three setups. The arm64 C baseline (arm64-c) runs with
# ARM64_CONFIGS="arm64-c arm64-rust", which `make check-arm64` and
# `make check-all` set: it checks upstream's C, not this project's code,
# and it cost about 7 minutes of a clean run, its three boots (6.2 min) and
# the copy build of arm64-rust that follows it (63 s; see README). CONFIGS
# and SETUPS narrow the run further, e.g. CONFIGS=rust SETUPS=plain, or
# CONFIGS=arm64-rust.
# KUNIT_FILTER runs matching suites only (kunit.py's filter_glob), e.g.
# KUNIT_FILTER='dma_api_coherent.*'; the expected-suite check is then off.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

archs=${ARCHS:-x86_64 arm64}
if [ -z "${CONFIGS:-}" ]; then
	CONFIGS=
	for a in $archs; do
		case "$a" in
		x86_64) CONFIGS+=" c rust mix-map mix-debug-pool" ;;
		arm64) CONFIGS+=" ${ARM64_CONFIGS:-arm64-rust}" ;;
		*) echo "check: unknown architecture '$a' in ARCHS (x86_64, arm64)" >&2; exit 2 ;;
		esac
	done
fi
configs=$CONFIGS
# A hung KUnit boot is cut at 7 minutes (the slowest boots, arm64's, took
# 120-185 s), so that it cannot push make check past CI's 90 minutes; the
# test kernels' hung-task and soft-lockup detectors name the culprit by
# then. KUNIT_TIMEOUT overrides.
timeout=${KUNIT_TIMEOUT:-420}
logs=$BUILD/logs
extra=()
runs=()

bash "$top/scripts/setup.sh" || exit 1
load_toolchain || exit 1
bash "$top/scripts/overlay.sh" || exit 1
mkdir -p "$logs"

# Host tests of the pure Rust modules; each property test also runs fresh
# random seeds for HOST_SOAK_SECS (5) seconds after its fixed ones.
echo "check: host tests (cargo test in tools/testing/dma)"
DMA_HOST_SOAK_SECS=${HOST_SOAK_SECS:-5} cargo test --manifest-path "$top/tools/testing/dma/Cargo.toml" \
	>"$logs/host-tests.log" 2>&1
host_rc=$?
read -r hp hf < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' \
	"$logs/host-tests.log" | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
if [ "$host_rc" -ne 0 ] && [ "$hf" -eq 0 ]; then
	echo "check: cargo test failed to run; see build/logs/host-tests.log"
	hf=1
fi
extra+=("--extra" "host-tests:$hp:$hf")

expected=$KSRC/tools/testing/kunit/configs/dma_suites.txt
filter=()
if [ -n "${KUNIT_FILTER:-}" ]; then
	filter=("$KUNIT_FILTER")
	expected=/dev/null
fi

# kunit_exec CONFIG SETUP LOGNAME KERNEL_ARGS [FILTER]: one boot of kunit.py.
kunit_exec() {
	local log=$logs/kunit-$3.log args=()
	[ -n "$4" ] && args+=("--kernel_args=$4")
	[ -n "${5:-}" ] && args+=("$5")
	echo "check: KUnit on the $1 kernel, $2 setup${4:+, $4} (log: build/logs/kunit-$3.log)"
	rm -f "$log"
	(cd "$KSRC" && DMA_ARCH=$(config_arch "$1") DMA_SETUP=$2 python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$BUILD/$1" \
		--qemu_config="$KSRC/tools/testing/kunit/qemu_configs/dma_setup.py" \
		--timeout="$timeout" --raw_output=all "${args[@]}") >"$log" 2>&1
}

# The dma-debug boot parameters, each in a boot of its own (plain setup, c
# and rust kernels).
boot_args=("dma_debug=off" "dma_debug_entries=1024" "dma_debug_driver=kunit-nonesuch")

# Hostile values of the boot parameters, in one boot of the rust kernel
# (swiotlb setup): every value is refused with a message quoting it, and
# each parameter's last value is a bad one, so the defaults must hold
# (dma_api_debug_boot.boot_hostile_values). dma_debug=hostile comes first.
long_name=$(printf 'x%.0s' $(seq 200))
long_number=$(printf '9%.0s' $(seq 200))
hostile_args="dma_debug=hostile dma_debug=on dma_debug=OFF"
hostile_args+=" dma_debug_entries=banana dma_debug_entries=-5 dma_debug_entries=0"
hostile_args+=" dma_debug_entries=12abc dma_debug_entries=0x dma_debug_entries=08"
hostile_args+=" dma_debug_entries=4294967296 dma_debug_entries=$long_number"
hostile_args+=" dma_debug_driver=$(printf 'd%.0s' $(seq 64)) dma_debug_driver=$long_name"
hostile_args+=" swiotlb=banana swiotlb=0 swiotlb=$long_number"
hostile_args+=" fail_dma_map=garbage fail_dma_alloc=1,2 fail_dma_pool=,,, fail_dma_iova=1,x,0,1"

# kernel_setups CONFIG: the QEMU setups CONFIG runs in. The mixed kernels
# run in the setups that send most of their calls across the C/Rust
# boundary: bounce buffers of the C swiotlb under the Rust core and C
# dma-debug; the C IOMMU path under the Rust dma-debug, and the Rust
# swiotlb under the C core.
kernel_setups() {
	if [ -n "${SETUPS:-}" ]; then
		echo "$SETUPS"
		return
	fi
	case "$1" in
	mix-map) echo swiotlb ;;
	mix-debug-pool) echo iommu swiotlb ;;
	*) python3 "$top/tools/testing/kunit/qemu_configs/dma_setups.py" "$(config_arch "$1")" ;;
	esac
}

for cfg in $configs; do
	if ! bash "$top/scripts/build.sh" "$cfg"; then
		extra+=("--extra" "build-$cfg:0:1")
		continue
	fi
	# The doc examples of rust/kernel/dma/, once: the compile_fail ones
	# must fail with their error code (the kernel never checks those).
	if [ -z "${doc_done:-}" ] && [ -z "${KUNIT_FILTER:-}" ]; then
		doc_done=1
		echo "check: doc examples of rust/kernel/dma (log: build/logs/doc-examples.log)"
		python3 "$top/scripts/doc_examples.py" --build-dir "$BUILD/$cfg" >"$logs/doc-examples.log" 2>&1
		read -r dp df < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$logs/doc-examples.log")
		extra+=("--extra" "doc-examples:${dp:-0}:${df:-1}")
		# `make rustdoc` must build, without warnings about the DMA API.
		echo "check: make rustdoc (log: build/logs/rustdoc.log)"
		kernel_toolchain "$cfg"
		if LIBCLANG_PATH=$KLIBCLANG make -C "$KSRC" O="$BUILD/$cfg" ARCH="$(config_arch "$cfg")" "${KMAKE_OPTS[@]}" \
			-j"$(nproc)" rustdoc \
			>"$logs/rustdoc.log" 2>&1 && ! grep -q -- '--> .*rust/kernel/dma/' "$logs/rustdoc.log"; then
			extra+=("--extra" "rustdoc:1:0")
		else
			extra+=("--extra" "rustdoc:0:1")
		fi
	fi
	# Suites only one kernel has (dma_suites_<config>.txt) are expected too.
	# So are those of the architecture (dma_suites_<arch>.txt).
	want=-
	only=()
	for f in "dma_suites_${cfg#arm64-}.txt" "dma_suites_$(config_arch "$cfg").txt"; do
		[ -f "$KSRC/tools/testing/kunit/configs/$f" ] && only+=("$KSRC/tools/testing/kunit/configs/$f")
	done
	if [ -z "${KUNIT_FILTER:-}" ] && [ ${#only[@]} -gt 0 ]; then
		want=$(cat "$expected" "${only[@]}" | sed 's/#.*//' | awk 'NF' | paste -sd, -)
	fi
	for s in $(kernel_setups "$cfg"); do
		kunit_exec "$cfg" "$s" "$cfg-$s" "" "${filter[@]}"
		runs+=(--run "$cfg/$s" "$logs/kunit-$cfg-$s.log" "$want")
	done
	[ -n "${KUNIT_FILTER:-}" ] && continue
	# The boot parameters run on x86-64 only: they test the DMA core's
	# parsing, the same on every architecture.
	case "$cfg" in c|rust) ;; *) continue ;; esac
	for a in "${boot_args[@]}"; do
		kunit_exec "$cfg" plain "$cfg-plain-${a%%=*}" "$a" dma_api_debug_boot
		runs+=(--run "$cfg/plain $a" "$logs/kunit-$cfg-plain-${a%%=*}.log" dma_api_debug_boot)
	done
	if [ "$cfg" = rust ]; then
		kunit_exec "$cfg" swiotlb "$cfg-swiotlb-hostile" "$hostile_args" dma_api_debug_boot
		runs+=(--run "$cfg/swiotlb hostile boot parameters" "$logs/kunit-$cfg-swiotlb-hostile.log" dma_api_debug_boot)
	fi
	# swiotlb= with a size, areas and force: the swiotlb suite on a small pool.
	a="swiotlb=2048,4,force"
	kunit_exec "$cfg" swiotlb "$cfg-swiotlb-param" "$a" dma_swiotlb
	runs+=(--run "$cfg/swiotlb $a" "$logs/kunit-$cfg-swiotlb-param.log" dma_swiotlb)
done

python3 "$top/scripts/ktap_summary.py" --kunit-dir "$KSRC/tools/testing/kunit" \
	--expected "$expected" "${extra[@]}" "${runs[@]}"
