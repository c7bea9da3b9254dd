# Sourced by the project's scripts: the paths of the build, and
# load_toolchain, which reads the toolchain environment that
# scripts/setup.sh resolved.
#
# Nothing here looks for a tool: a value that depends on what setup installs
# is found by setup.sh, after it installed it, and written to
# build/toolchain.env. A script that runs setup.sh calls load_toolchain
# afterwards; one that does not (build.sh, called after setup) calls it too.
# shellcheck shell=bash
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
PRISTINE=$BUILD/linux-pristine
KSRC=$BUILD/linux
TOOLCHAIN_ENV=$BUILD/toolchain.env
CCACHE_LINKS=$BUILD/ccache/bin
export DMA_IMG_DIR=${DMA_IMG_DIR:-$BUILD/img}

# load_toolchain: read what setup.sh resolved: PATH for bindgen, and the two
# libclang directories, DMA_LIBCLANG_GCC (PyPI's libclang 18, for the kernels
# built with gcc) and DMA_LIBCLANG_LLVM (Debian's libclang-19, matching the
# clang-19 of the kernels built with LLVM).
load_toolchain() {
	if [ ! -f "$TOOLCHAIN_ENV" ]; then
		echo "no toolchain environment ($TOOLCHAIN_ENV): run 'make setup' first" >&2
		return 1
	fi
	# shellcheck source=/dev/null
	. "$TOOLCHAIN_ENV"
}

# kernel_toolchain CFG: sets KMAKE_OPTS, the make options of configuration CFG,
# and KLIBCLANG, the libclang its bindgen uses. The test kernels ("c", "rust")
# are built with LLVM, because Rust with KASAN needs clang as the C compiler;
# the bench kernels with gcc, as x86 distributions build theirs. arm64
# kernels are all built with LLVM (Rust with gcc is experimental there). No script
# exports LIBCLANG_PATH: one found in the environment was set by hand, and
# wins (scripts/build.sh checks it before it builds).
kernel_toolchain() {
	case "$1" in
	arm64-*) KMAKE_OPTS=(LLVM=-19); KLIBCLANG=${LIBCLANG_PATH:-$DMA_LIBCLANG_LLVM} ;;
	*-bench) KMAKE_OPTS=(); KLIBCLANG=${LIBCLANG_PATH:-$DMA_LIBCLANG_GCC} ;;
	*) KMAKE_OPTS=(LLVM=-19); KLIBCLANG=${LIBCLANG_PATH:-$DMA_LIBCLANG_LLVM} ;;
	esac
}

# config_arch CFG: the architecture of configuration CFG: arm64 for the
# configurations named arm64-*, x86_64 for the others.
config_arch() {
	case "$1" in
	arm64-*) echo arm64 ;;
	*) echo x86_64 ;;
	esac
}

# guest_arch ARCH: what a script that boots the guests of architecture ARCH
# needs: ARCH_PREFIX, the prefix of its kernel configurations ("" or
# "arm64-"); GUEST_CC, the compiler of static user programs for it; and
# GUEST_BUSYBOX, its static busybox. For arm64 it first runs
# `setup.sh arm64-user`, which installs those. Fails on another ARCH.
guest_arch() {
	case "$1" in
	x86_64)
		ARCH_PREFIX=; GUEST_CC=gcc; GUEST_BUSYBOX=$(command -v busybox)
		;;
	arm64)
		ARCH_PREFIX=arm64-; GUEST_CC=aarch64-linux-gnu-gcc
		GUEST_BUSYBOX=$BUILD/arm64-user/busybox
		bash "$TOP/scripts/setup.sh" arm64-user || return 1
		;;
	*) echo "unknown architecture '$1' (x86_64, arm64)" >&2; return 2 ;;
	esac
}
