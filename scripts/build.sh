#!/usr/bin/env bash
# Configure and build one kernel configuration with kunit.py, in its own O=
# directory build/<config>: "c" (the baseline) or "rust", the test kernels;
# "mix-map" and "mix-debug-pool", test kernels that mix C and Rust
# components; or "c-bench" and "rust-bench", the first two without lock
# debugging, for `make bench`. Prefixed "arm64-" ("arm64-c", "arm64-rust"),
# the same configuration for arm64. A configuration is the file
# tools/testing/kunit/configs/dma_<config>.config (without arm64- and
# -bench), merged with dma_common.config, dma_test.config or
# dma_bench.config, dma_arch_<arch>.config, and with
# dma_<config>-test.config if a test kernel has one (options that exist only
# with that kernel's components).
# Incremental: kunit.py reconfigures only when the merged kunitconfig
# changed, and make rebuilds what is stale.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"
load_toolchain

cfg=${1:?usage: build.sh [arm64-]c|rust|mix-map|mix-debug-pool|c-bench|rust-bench}
kcfg=$KSRC/tools/testing/kunit/configs
arch=$(config_arch "$cfg")
base=${cfg#arm64-}
case "$base" in c|rust|mix-map|mix-debug-pool|c-bench|rust-bench) ;;
*) echo "build: unknown configuration '$cfg' ([arm64-]c, rust, mix-map, mix-debug-pool, c-bench or rust-bench)" >&2; exit 2 ;;
esac
role=test
[ "$base" = "${base%-bench}" ] || role=bench
base=${base%-bench}
export DMA_ARCH=$arch
kernel_toolchain "$cfg"
export LIBCLANG_PATH=$KLIBCLANG
own=()
if [ -f "$kcfg/dma_$base-$role.config" ]; then
	own=(--kunitconfig="$kcfg/dma_$base-$role.config")
fi
log=$BUILD/logs/build-$cfg.log
start=$(date +%s)
echo "build: $cfg kernel in build/$cfg (log: build/logs/build-$cfg.log)"
# A configuration built for the first time starts as a copy of a built
# sibling of the same architecture and role (the test kernels share their
# compiler and debug options, as do the bench kernels). kbuild then
# rebuilds only the objects that use an option that differs: c and rust
# differ in the six DMA_RUST/FAIL_DMA options, which three C files and the
# Rust crates read, where ccache would still preprocess all 2000 files.
# The .cmd files that name the sibling's directory (objtool's, the Rust
# bindings') are dropped, so that those targets are rebuilt here.
if [ ! -f "$BUILD/$cfg/.config" ]; then
	prefix=${cfg%"${cfg#arm64-}"}
	case "$role" in
	test) siblings="c rust mix-map mix-debug-pool" ;;
	bench) siblings="c-bench rust-bench" ;;
	esac
	for s in $siblings; do
		seed=$prefix$s
		[ "$seed" != "$cfg" ] && [ -f "$BUILD/$seed/vmlinux" ] || continue
		echo "build: $cfg starts from a copy of build/$seed"
		rm -rf "$BUILD/$cfg" "$BUILD/$cfg.seed"
		cp -a "$BUILD/$seed" "$BUILD/$cfg.seed"
		grep -rlF --include='*.cmd' "$BUILD/$seed/" "$BUILD/$cfg.seed" | xargs -r rm -f
		mv "$BUILD/$cfg.seed" "$BUILD/$cfg"
		break
	done
fi
mkdir -p "$BUILD/$cfg" "$BUILD/logs"
# Without a working Rust toolchain Kconfig drops CONFIG_RUST without a word,
# and kunit.py would only list the options it lost: ask the kernel first.
if ! out=$(make -s -C "$KSRC" O="$BUILD/$cfg" ARCH="$arch" "${KMAKE_OPTS[@]}" rustavailable 2>&1); then
	printf '%s\n' "$out" | grep -v '^make' >&2
	echo "build: Rust is not available for the $cfg kernel (rustc $(rustc --version 2>/dev/null | cut -d' ' -f2)," \
		"bindgen at $(command -v bindgen || echo '(none)'), LIBCLANG_PATH=${LIBCLANG_PATH:-(unset)});" \
		"see the reason above, or run 'make setup'" >&2
	exit 1
fi
if ! python3 "$KSRC/tools/testing/kunit/kunit.py" build \
	--build_dir="$BUILD/$cfg" \
	--kunitconfig="$kcfg/dma_common.config" \
	--kunitconfig="$kcfg/dma_$base.config" \
	--kunitconfig="$kcfg/dma_$role.config" \
	--kunitconfig="$kcfg/dma_arch_$arch.config" \
	"${own[@]}" \
	--qemu_config="$KSRC/tools/testing/kunit/qemu_configs/dma_setup.py" \
	${KMAKE_OPTS[@]:+--make_options "${KMAKE_OPTS[@]}"} \
	--jobs="$(nproc)" >"$log" 2>&1; then
	tail -40 "$log" >&2
	echo "build: $cfg kernel FAILED to build; see build/logs/build-$cfg.log" >&2
	exit 1
fi
if ! grep -qx 'CONFIG_RUST=y' "$BUILD/$cfg/.config"; then
	echo "build: the $cfg kernel was configured without CONFIG_RUST; see build/logs/build-$cfg.log" >&2
	exit 1
fi
echo "build: $cfg kernel ready in $(( $(date +%s) - start )) s"
