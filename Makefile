# The project's driver. Not copied into the kernel tree.
#
#   make run      set up, build and boot the rust kernel in every QEMU setup
#                 with the DMA workload (CONFIG=c for the C baseline,
#                 ARCH=arm64 for arm64)
#   make check    host tests and KUnit on the x86-64 kernels in all setups,
#                 and on the arm64 rust kernel
#   make check-all  the same with the arm64 C baseline
#   make check-arm64  the c and rust kernels of arm64 alone
#   make soak     the rust kernel on 4 vCPUs in every setup under load for
#                 SOAK_MINUTES (10), with verified I/O and fault injection
#   make fail-nth each real driver's DMA calls failed in turn, in every setup
#   make bench    C baseline against the Rust core, same run, under -icount
#                 (ARCH=arm64 for arm64)
#
# Both commands set up what is missing first (scripts/setup.sh).

CONFIG ?= rust

.PHONY: all setup overlay build build-c build-rust run soak fail-nth check check-arm64 check-all bench host-test clean distclean

all: run

setup:
	bash scripts/setup.sh

overlay: setup
	bash scripts/overlay.sh

build: overlay
	bash scripts/build.sh $(CONFIG)

build-c build-rust: overlay
	bash scripts/build.sh $(@:build-%=%)

# ARCH=arm64 runs the workload on arm64. Not passed down in MAKEFLAGS: the
# kernel's make gets the architecture of each build from scripts/build.sh.
run:
	MAKEFLAGS= CONFIG=$(CONFIG) RUN_ARCH=$(or $(ARCH),x86_64) bash scripts/run.sh

check:
	bash scripts/check.sh

# SOAK_MINUTES=<n> for a longer soak; ARCH and CONFIG as for run.
soak:
	MAKEFLAGS= CONFIG=$(CONFIG) SOAK_ARCH=$(or $(ARCH),x86_64) bash scripts/soak.sh

# Each real driver's DMA calls failed one by one; ARCH as for run.
fail-nth:
	MAKEFLAGS= CONFIG=$(CONFIG) SOAK_ARCH=$(or $(ARCH),x86_64) SOAK_JOB=fail-nth bash scripts/soak.sh

# Both arm64 kernels, the C baseline and Rust (make check runs only the
# rust one, after x86-64's).
ARM64_BOTH = arm64-c arm64-rust

# Both arm64 kernels in arm64's three setups.
check-arm64:
	ARCHS=arm64 ARM64_CONFIGS="$(ARM64_BOTH)" bash scripts/check.sh

# make check with the arm64 C baseline too: every test kernel.
check-all:
	ARM64_CONFIGS="$(ARM64_BOTH)" bash scripts/check.sh

# ARCH=arm64 benchmarks the arm64 kernels, as for run.
bench:
	MAKEFLAGS= BENCH_ARCH=$(or $(ARCH),x86_64) bash scripts/bench.sh

# SOAK=<seconds> runs each property test of the pure modules on fresh
# random seeds for that long after its fixed ones (make check gives each 5).
host-test:
	DMA_HOST_SOAK_SECS=$(or $(SOAK),0) cargo test --manifest-path tools/testing/dma/Cargo.toml

# Drop the build directories and logs; keep the kernel source and toolchain.
clean:
	rm -rf build/c build/rust build/mix-map build/mix-debug-pool build/c-bench build/rust-bench build/arm64-c build/arm64-rust build/arm64-c-bench build/arm64-rust-bench build/tools build/logs build/img build/overlay-stage

# Drop everything under build/, kernel source included.
distclean:
	rm -rf build tools/testing/dma/target
