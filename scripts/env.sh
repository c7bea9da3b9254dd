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
export DMA_IMG_DIR=${DMA_IMG_DIR:-$BUILD/img}

# load_toolchain: export PATH and LIBCLANG_PATH as setup.sh resolved them.
# A LIBCLANG_PATH already in the environment is kept, so that it can be
# overridden by hand; scripts/build.sh checks it before it builds.
load_toolchain() {
	if [ ! -f "$TOOLCHAIN_ENV" ]; then
		echo "no toolchain environment ($TOOLCHAIN_ENV): run 'make setup' first" >&2
		return 1
	fi
	# shellcheck source=/dev/null
	. "$TOOLCHAIN_ENV"
}
