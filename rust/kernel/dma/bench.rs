// SPDX-License-Identifier: GPL-2.0

//! The safe API's operations for the batched-loop benchmark (`CONFIG_DMA_API_BENCH`).
//!
//! `kernel/dma/bench/dma_api_bench.c` times each of these next to the C call it wraps, on the
//! same device and in the same run, so that the table of `make bench` shows what the safe API
//! adds. The C side holds the device lock of a bound device while it calls them.

use super::{
    owner::DeviceOwned, pool::Pool, streaming::Mapping, Bidirectional, FromDevice, ToDevice,
};
use crate::{
    bindings,
    device::{Bound, Device},
    prelude::*,
};

/// What the operations keep between calls.
///
/// The device is borrowed as `'static`, which is true for the life of the state: the C caller
/// keeps the device bound until [`rust_dma_bench_free`] drops the state, mappings and pool
/// first.
pub struct BenchState {
    held: Option<DeviceOwned<Mapping<'static, KVec<u8>, Bidirectional>>>,
    kept: DeviceOwned<Mapping<'static, KVec<u8>, Bidirectional>>,
    ring: KVec<DeviceOwned<Mapping<'static, Slot, FromDevice>>>,
    slots: KVec<Slot>,
    pool: Pool<'static, [u8; 64]>,
    buf: Option<KVec<u8>>,
    dev: &'static Device<Bound>,
}

/// Slots of the receive ring, as in `ring_256` of the C benchmark.
const RING: usize = 256;
/// One slot's buffer.
type Slot = KBox<[u8; 2048]>;

/// Creates the state for `dev`, with a 4 KiB buffer, two 4 KiB bidirectional mappings (one kept
/// in place, one moved in and out of an `Option`) and a pool of 64-byte blocks; NULL on failure.
///
/// # Safety
///
/// `dev` must be a device bound to a driver, and stay bound, with its lock held by the caller,
/// until [`rust_dma_bench_free`] has run.
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_new(dev: *mut bindings::device) -> *mut BenchState {
    // SAFETY: By the safety requirement `dev` is a bound device, and stays bound until the
    // state, which holds every borrow of it, is dropped.
    let bound: &'static Device<Bound> =
        unsafe { Device::<crate::device::Normal>::from_raw(dev).as_bound() };
    let make = || -> Result<KBox<BenchState>> {
        let held = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        let kept = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        let mut slots = KVec::with_capacity(RING, GFP_KERNEL)?;
        for _ in 0..RING {
            slots.push(KBox::new([0u8; 2048], GFP_KERNEL)?, GFP_KERNEL)?;
        }
        let state = BenchState {
            held: Some(Mapping::new(bound, held)?),
            kept: Mapping::new(bound, kept)?,
            ring: KVec::with_capacity(RING, GFP_KERNEL)?,
            slots,
            pool: Pool::new(bound, c"dma_api_bench_rust", 64, 0)?,
            buf: Some(KVec::from_elem(0u8, 4096, GFP_KERNEL)?),
            dev: bound,
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
    match Mapping::<_, ToDevice>::new(state.dev, buf) {
        Ok(m) => {
            state.buf = Some(m.unmap());
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `with_cpu()` on the 4 KiB bidirectional mapping: `sync_for_cpu()` then `sync_for_device()`,
/// in place, as a driver recycles a buffer it keeps mapped.
///
/// # Safety
///
/// As for [`rust_dma_bench_map`].
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_sync(state: *mut BenchState) -> c_int {
    // SAFETY: By the safety requirement `state` is valid and not shared.
    let state = unsafe { &mut *state };
    state.kept.with_cpu(|_| ());
    0
}

/// The same hand-overs by value: `sync_for_cpu()` and `sync_for_device()` each move the
/// mapping.
///
/// # Safety
///
/// As for [`rust_dma_bench_map`].
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_sync_moved(state: *mut BenchState) -> c_int {
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

/// `Pool::alloc()` (`zeroed` false) or `Pool::alloc_zeroed()` of a 64-byte block, and its drop.
///
/// # Safety
///
/// As for [`rust_dma_bench_map`].
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_pool(state: *mut BenchState, zeroed: bool) -> c_int {
    // SAFETY: By the safety requirement `state` is valid.
    let state = unsafe { &*state };
    let block = if zeroed {
        state.pool.alloc_zeroed(GFP_KERNEL)
    } else {
        state.pool.alloc(GFP_KERNEL)
    };
    match block {
        Ok(block) => {
            drop(block);
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// The receive ring: maps every slot for the device, then syncs each for the CPU and unmaps it.
/// The C caller holds a spinlock: nothing here sleeps, and the vectors have room for every slot,
/// so pushing allocates nothing.
///
/// # Safety
///
/// As for [`rust_dma_bench_map`].
#[no_mangle]
pub unsafe extern "C" fn rust_dma_bench_ring(state: *mut BenchState) -> c_int {
    // SAFETY: By the safety requirement `state` is valid and not shared.
    let state = unsafe { &mut *state };
    let mut ring = || -> Result {
        while let Some(slot) = state.slots.pop() {
            state
                .ring
                .push(Mapping::new(state.dev, slot)?, GFP_ATOMIC)?;
        }
        while let Some(mapped) = state.ring.pop() {
            state
                .slots
                .push(mapped.sync_for_cpu().unmap(), GFP_ATOMIC)?;
        }
        Ok(())
    };
    ring().map_or_else(|e| e.to_errno(), |()| 0)
}
