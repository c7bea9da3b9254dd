# Sourced by the project's scripts: paths and toolchain environment.
# shellcheck shell=bash
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
PRISTINE=$BUILD/linux-pristine
KSRC=$BUILD/linux
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${LIBCLANG_PATH:-}" ]; then
	LIBCLANG_PATH=$(python3 -c 'import clang, os; print(os.path.join(os.path.dirname(clang.__file__), "native"))' 2>/dev/null || echo /nonexistent)
fi
export LIBCLANG_PATH
export DMA_IMG_DIR=${DMA_IMG_DIR:-$BUILD/img}
