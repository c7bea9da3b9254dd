#!/usr/bin/env bash
# Install the toolchain and fetch the pristine kernel source into build/.
# Idempotent: every step checks whether it is already done.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/env.sh"

say() { printf 'setup: %s\n' "$*"; }

# install_missing PKG...: installs the Debian packages not installed yet.
install_missing() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing Debian packages: ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# `setup.sh arm64-user`: what `make run ARCH=arm64` adds, the guest's user
# space: a static arm64 busybox (Debian's busybox-static for arm64,
# downloaded, never installed, into build/arm64-user/) and the cross
# compiler for the mmap sample's user program. `make check` needs neither.
if [ "${1:-}" = arm64-user ]; then
	install_missing gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	user=$BUILD/arm64-user
	if [ ! -x "$user/busybox" ]; then
		apt_dir=$BUILD/apt-arm64
		mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$user"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
			>"$apt_dir/sources.list"
		aptopts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
			 -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
			 -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=/dev/null
			 -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root)
		say "downloading busybox-static for arm64 (private apt configuration; nothing is installed)"
		apt-get -qq "${aptopts[@]}" update
		rm -rf "$user/dl" && mkdir -p "$user/dl"
		(cd "$user/dl" && apt-get -qq "${aptopts[@]}" download busybox-static:arm64)
		dpkg-deb -x "$user"/dl/busybox-static_*.deb "$user/dl/x"
		cp "$user/dl/x/bin/busybox" "$user/busybox.tmp" && mv "$user/busybox.tmp" "$user/busybox"
		rm -rf "$user/dl"
	fi
	exit 0
fi

# 1. Debian packages (bookworm).
# clang-19, lld-19, llvm-19 and libclang-19-dev build the test kernels (LLVM=-19,
# for KASAN with Rust); gcc the bench kernels. ccache lets the kernels share
# their C objects: most files preprocess the same in every configuration.
pkgs=(gcc libc6-dev flex bison bc libelf-dev libssl-dev cpio qemu-system-x86 qemu-system-arm busybox-static xz-utils patch rsync
      clang-19 lld-19 llvm-19 libclang-19-dev ccache)
install_missing "${pkgs[@]}"

# Where cargo installs bindgen-cli.
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
export PATH="$cargo_bin:$PATH"

# 2. rust-src for the machine's stable rustc.
if [ ! -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
	say "adding rust-src"
	rustup component add rust-src
fi

# 3. bindgen-cli 0.72.1.
if ! bindgen --version 2>/dev/null | grep -q '0\.72\.1'; then
	say "installing bindgen-cli 0.72.1"
	cargo install bindgen-cli --version 0.72.1 --locked -q
fi

# 4. libclang 18 from PyPI. Its path is found here, after the install, and
# never taken from the environment, which may predate it.
pip_libclang() {
	python3 -c 'import clang, os; print(os.path.join(os.path.dirname(clang.__file__), "native"))' 2>/dev/null
}
have=$(python3 -c 'import importlib.metadata as m; print(m.version("libclang"))' 2>/dev/null || true)
if [ "$have" != 18.1.1 ] || [ ! -d "$(pip_libclang)" ]; then
	say "installing libclang 18.1.1 from PyPI"
	python3 -m pip install -q libclang==18.1.1
fi
libclang=$(pip_libclang) && [ -d "$libclang" ] ||
	{ say "libclang 18.1.1 was installed but python3 cannot find its native library"; exit 1; }
llvm_libclang=$(llvm-config-19 --libdir 2>/dev/null || echo /usr/lib/llvm-19/lib)
ls "$llvm_libclang"/libclang*.so* >/dev/null 2>&1 ||
	{ say "libclang-19-dev was installed but no libclang is in $llvm_libclang"; exit 1; }

# 5. Debian's linux-source-7.2, download only, through a private apt configuration.
if [ ! -f "$PRISTINE/Makefile" ]; then
	apt_dir="$BUILD/apt"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$BUILD/dl"
	cat >"$apt_dir/sources.list" <<EOS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian forky main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
EOS
	aptopts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
		 -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
		 -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=/dev/null
		 -o APT::Sandbox::User=root)
	if ! ls "$BUILD"/dl/linux-source-7.2_*.deb >/dev/null 2>&1; then
		say "downloading linux-source-7.2 (private apt configuration; nothing is installed)"
		apt-get -qq "${aptopts[@]}" update
		(cd "$BUILD/dl" && apt-get -qq "${aptopts[@]}" download linux-source-7.2)
	fi
	deb=$(ls "$BUILD"/dl/linux-source-7.2_*.deb | sort -V | tail -1)
	say "extracting $(basename "$deb")"
	rm -rf "$BUILD/dl/x" "$PRISTINE.tmp"
	dpkg-deb -x "$deb" "$BUILD/dl/x"
	mkdir -p "$PRISTINE.tmp"
	tar -xf "$BUILD"/dl/x/usr/src/linux-source-7.2.tar.xz -C "$PRISTINE.tmp" --strip-components=1
	basename "$deb" >"$PRISTINE.tmp/.debian-package"
	rm -rf "$BUILD/dl/x"
	mv "$PRISTINE.tmp" "$PRISTINE"
fi

# 6. ccache in front of the C compilers, by name: a directory of links
# named like the compilers the kernel's make calls (clang-19 for the test
# kernels, gcc for the bench kernels), first in PATH. The make command lines
# stay the same, so build directories configured without ccache stay valid.
ccache_bin=$(command -v ccache) || { say "ccache was installed but is not in PATH"; exit 1; }
mkdir -p "$CCACHE_LINKS"
for c in clang-19 gcc; do
	ln -sfn "$ccache_bin" "$CCACHE_LINKS/$c"
done

# 7. What the other scripts read through load_toolchain (scripts/env.sh).
cat >"$TOOLCHAIN_ENV.tmp" <<EOS
# Written by scripts/setup.sh; read by load_toolchain in scripts/env.sh.
export PATH="$CCACHE_LINKS:$cargo_bin:\$PATH"
export CCACHE_DIR="$BUILD/ccache/cache"
export CCACHE_MAXSIZE=12G
# Object files do not depend on the build directory (no debug info).
export CCACHE_NOHASHDIR=1
DMA_LIBCLANG_GCC="$libclang"
DMA_LIBCLANG_LLVM="$llvm_libclang"
EOS
mv "$TOOLCHAIN_ENV.tmp" "$TOOLCHAIN_ENV"

say "kernel source: $(make -s -C "$PRISTINE" kernelversion) from $(cat "$PRISTINE/.debian-package")"
say "toolchain: $(rustc --version), $(bindgen --version 2>&1 | head -1), libclang at $libclang (gcc kernels) and $llvm_libclang (LLVM kernels), $(clang-19 --version | head -1)"
