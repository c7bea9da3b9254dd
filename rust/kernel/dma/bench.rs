// SPDX-License-Identifier: GPL-2.0

//! The safe API's operations for the batched-loop benchmark (`CONFIG_DMA_API_BENCH`).
//!
//! `kernel/dma/bench/dma_api_bench.c` times each of these next to the C call it wraps, on the
//! same device and in the same run, so that the table of `make bench` shows what the safe API
//! adds. The C side holds the device lock of a bound device while it calls them.

use super::{owner::DeviceOwned, pool::Pool, streaming::Mapping, Bidirectional, ToDevice};
use crate::{
    bindings,
    device::{Bound, Device},
    prelude::*,
};

/// What the operations keep between calls.
pub struct BenchState {
    dev: *mut bindings::device,
    buf: Option<KVec<u8>>,
    held: Option<DeviceOwned<Mapping<KVec<u8>, Bidirectional>>>,
    pool: Pool<[u8; 64]>,
}

impl BenchState {
    fn dev(&self) -> &Device<Bound> {
        // SAFETY: `rust_dma_bench_new`'s caller keeps the device bound, under its lock, for the
        // life of the state.
        unsafe { Device::<crate::device::Normal>::from_raw(self.dev).as_bound() }
    }
}

/// Creates the state for `dev`, with a 4 KiB buffer, a 4 KiB bidirectional mapping and a pool
/// of 64-byte blocks; NULL on failure.
///
/// # Safety
///
/// `dev` must be a device bound to a driver, and stay bound, with its lock held by the caller,
/// until [`rust_dma_bench_free`] has run.
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_new(dev: *mut bindings::device) -> *mut BenchState {
    // SAFETY: By the safety requirement `dev` is a bound device.
    let bound = unsafe { Device::<crate::device::Normal>::from_raw(dev).as_bound() };
    let make = || -> Result<KBox<BenchState>> {
        let held = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        let state = BenchState {
            dev,
            buf: Some(KVec::from_elem(0u8, 4096, GFP_KERNEL)?),
            held: Some(Mapping::new(bound, held)?),
            pool: Pool::new(bound, c"dma_api_bench_rust", 64, 0)?,
        };
        Ok(KBox::new(state, GFP_KERNEL)?)
    };
    make().map_or(core::ptr::null_mut(), KBox::into_raw)
}

/// Frees the state.
///
/// # Safety
///
/// `state` must come from [`rust_dma_bench_new`], and not be used again.
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_free(state: *mut BenchState) {
    // SAFETY: By the safety requirement `state` is a box from `rust_dma_bench_new`.
    drop(unsafe { KBox::from_raw(state) });
}

/// `Mapping::<KVec<u8>, ToDevice>::new()` and `unmap()` of a 4 KiB buffer: the wrapper of
/// `dma_map_single()` and `dma_unmap_single()`.
///
/// # Safety
///
/// `state` must come from [`rust_dma_bench_new`], with no other call running on it.
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_map(state: *mut BenchState) -> c_int {
    // SAFETY: By the safety requirement `state` is valid and not shared.
    let state = unsafe { &mut *state };
    let Some(buf) = state.buf.take() else {
        return EINVAL.to_errno();
    };
    match Mapping::<_, ToDevice>::new(state.dev(), buf) {
        Ok(m) => {
            state.buf = Some(m.unmap());
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `sync_for_cpu()` then `sync_for_device()` of the 4 KiB bidirectional mapping.
///
/// # Safety
///
/// As for [`rust_dma_bench_map`].
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_sync(state: *mut BenchState) -> c_int {
    // SAFETY: By the safety requirement `state` is valid and not shared.
    let state = unsafe { &mut *state };
    match state.held.take() {
        Some(m) => {
            state.held = Some(m.sync_for_cpu().sync_for_device());
            0
        }
        None => EINVAL.to_errno(),
    }
}

/// `Pool::alloc()` of a 64-byte block and its drop.
///
/// # Safety
///
/// As for [`rust_dma_bench_map`].
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_pool(state: *mut BenchState) -> c_int {
    // SAFETY: By the safety requirement `state` is valid.
    let state = unsafe { &*state };
    match state.pool.alloc(GFP_KERNEL) {
        Ok(block) => {
            drop(block);
            0
        }
        Err(e) => e.to_errno(),
    }
}
