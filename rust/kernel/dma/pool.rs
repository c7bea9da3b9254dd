// SPDX-License-Identifier: GPL-2.0

//! DMA pools: many small blocks of coherent memory of one type.
//!
//! A [`Pool<T>`] hands out [`PoolBlock<T>`]s, each `size_of::<T>()` bytes of coherent memory with
//! its DMA address. A block is freed when dropped. The pool is set up with `dma_pool_create()`
//! and belongs to the bound device through a [`Devres`]: once the device is unbound, the pool
//! allocates nothing more, and `dma_pool_destroy()` runs as soon as its last block is gone.
//!
//! The device may read and write a block at any time, so the CPU reads and writes it as a whole
//! value with volatile accesses, never through a reference.
//!
//! C header: [`include/linux/dmapool.h`](srctree/include/linux/dmapool.h)
//!
//! # Examples
//!
//! ```
//! use kernel::device::{Bound, Device};
//! use kernel::dma::pool::Pool;
//! use kernel::prelude::*;
//!
//! fn descriptors(dev: &Device<Bound>) -> Result {
//!     let pool = Pool::<[u32; 4]>::new(dev, c"descriptors", 16, 0)?;
//!     let desc = pool.alloc(GFP_KERNEL)?;
//!     desc.write([1, 2, 3, 4]);
//!     let _addr = desc.dma_handle(); // Give it to the device.
//!     assert_eq!(desc.read()[2], 3);
//!     Ok(())
//! }
//! ```

use super::DmaAddress;
use crate::{
    alloc::{flags::__GFP_ZERO, Flags},
    bindings,
    device::{Bound, Device},
    devres::Devres,
    prelude::*,
    sync::{aref::ARef, Arc},
    transmute::{AsBytes, FromBytes},
};
use core::{marker::PhantomData, ptr::NonNull};

/// A `struct dma_pool`, destroyed when the last reference goes.
///
/// # Invariants
///
/// `pool` is a live pool of `dev`, and every block allocated from it holds a reference to
/// `self`.
struct RawPool {
    pool: NonNull<bindings::dma_pool>,
    _dev: ARef<Device>,
}

// SAFETY: The dma_pool API locks internally; a pool may be used and destroyed from any thread.
unsafe impl Send for RawPool {}
// SAFETY: As above.
unsafe impl Sync for RawPool {}

impl Drop for RawPool {
    fn drop(&mut self) {
        // SAFETY: By the type invariant no block is left: each holds a reference.
        unsafe { bindings::dma_pool_destroy(self.pool.as_ptr()) };
    }
}

/// A pool of coherent DMA blocks of type `T`.
pub struct Pool<T: AsBytes + FromBytes> {
    raw: Devres<Arc<RawPool>>,
    _type: PhantomData<T>,
}

impl<T: AsBytes + FromBytes> Pool<T> {
    /// Creates a pool of blocks of `size_of::<T>()` bytes for `dev`.
    ///
    /// Blocks are aligned to `align` (at least `T`'s alignment; a power of two) and, if
    /// `boundary` is not zero, do not cross a multiple of `boundary` (a power of two, at least
    /// the block size). Returns `EINVAL` when these do not hold, as `dma_pool_create()` does.
    pub fn new(dev: &Device<Bound>, name: &CStr, align: usize, boundary: usize) -> Result<Self> {
        const { assert!(core::mem::size_of::<T>() > 0, "a pool of zero-sized blocks") };
        let align = align.max(core::mem::align_of::<T>());
        if !align.is_power_of_two() {
            return Err(EINVAL);
        }
        // SAFETY: `name` is a valid string, copied by the callee; `dev` is a bound device.
        let pool = unsafe {
            bindings::dma_pool_create(
                name.as_char_ptr(),
                dev.as_raw(),
                core::mem::size_of::<T>(),
                align,
                boundary,
            )
        };
        let raw = Arc::new(
            RawPool {
                pool: NonNull::new(pool).ok_or(EINVAL)?,
                _dev: dev.into(),
            },
            GFP_KERNEL,
        )?;
        Ok(Self {
            raw: Devres::new(dev, raw)?,
            _type: PhantomData,
        })
    }

    /// Allocates a zeroed block.
    ///
    /// Returns `ENXIO` once the device is unbound and `ENOMEM` when the pool cannot grow.
    pub fn alloc(&self, flags: Flags) -> Result<PoolBlock<T>> {
        // Take a reference out of the RCU section: allocating may sleep.
        let raw = self.raw.try_access_with(|raw| raw.clone()).ok_or(ENXIO)?;
        let mut dma = 0;
        // SAFETY: `raw.pool` is a live pool.
        let cpu = unsafe {
            bindings::dma_pool_alloc(raw.pool.as_ptr(), (flags | __GFP_ZERO).as_raw(), &mut dma)
        };
        let cpu = NonNull::new(cpu.cast::<T>()).ok_or(ENOMEM)?;
        // INVARIANT: the block came from `raw`, which it keeps.
        Ok(PoolBlock { raw, cpu, dma })
    }
}

/// A block of a [`Pool<T>`], returned to the pool when dropped.
///
/// # Invariants
///
/// `cpu` is a block of `raw`, with DMA address `dma`, aligned for `T` and `size_of::<T>()`
/// bytes long.
pub struct PoolBlock<T: AsBytes + FromBytes> {
    raw: Arc<RawPool>,
    cpu: NonNull<T>,
    dma: DmaAddress,
}

// SAFETY: A block is plain memory and a pool reference; `T` is plain data.
unsafe impl<T: AsBytes + FromBytes + Send> Send for PoolBlock<T> {}
// SAFETY: `&PoolBlock` only reads and writes whole values with volatile accesses.
unsafe impl<T: AsBytes + FromBytes + Sync> Sync for PoolBlock<T> {}

impl<T: AsBytes + FromBytes> PoolBlock<T> {
    /// The block's DMA address.
    pub fn dma_handle(&self) -> DmaAddress {
        self.dma
    }

    /// Reads the block. The device may have written it at any time before.
    pub fn read(&self) -> T {
        // SAFETY: By the type invariant `cpu` is a valid, aligned block; any bytes are a valid
        // `T` (`FromBytes`). A volatile read tolerates the device writing concurrently.
        unsafe { self.cpu.as_ptr().read_volatile() }
    }

    /// Writes the block.
    pub fn write(&self, value: T) {
        // SAFETY: By the type invariant `cpu` is a valid, aligned block. A volatile write
        // tolerates the device accessing it concurrently.
        unsafe { self.cpu.as_ptr().write_volatile(value) }
    }
}

impl<T: AsBytes + FromBytes> Drop for PoolBlock<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the block came from `self.raw`, which is still live.
        unsafe {
            bindings::dma_pool_free(self.raw.pool.as_ptr(), self.cpu.as_ptr().cast(), self.dma)
        };
    }
}
