// SPDX-License-Identifier: GPL-2.0

//! DMA pools: many small blocks of coherent memory of one type.
//!
//! A [`Pool<T>`] hands out [`PoolBlock<T>`]s, each `size_of::<T>()` bytes of coherent memory with
//! its DMA address: [`Pool::alloc`] as `dma_pool_alloc()` leaves it, [`Pool::alloc_zeroed`]
//! cleared. A block is freed when dropped.
//!
//! Every byte of a block is initialised, so any block holds a valid `T` (`T: FromBytes`). For a
//! device served by dma-direct or dma-iommu, the pool's pages come from `dma_alloc_coherent()`,
//! which zeroes them there, and after that only the pool, the CPU and the device write them: a
//! block from [`Pool::alloc`] may hold what an earlier block at its place held, or the pool's
//! own bookkeeping, as in C. A device with its own `dma_map_ops` may get memory that was never
//! written (some allocators of those do not zero), so its pool zeroes every block.
//!
//! The pool is set up with `dma_pool_create()` and borrows the bound device, so it cannot
//! outlive the driver's binding; `dma_pool_destroy()` runs when it is dropped. Each block
//! borrows the pool, so no block outlives it, and dropping a block only frees it
//! (`dma_pool_free()`), which is allowed in any context. Allocating with `GFP_ATOMIC` works in
//! atomic context, as `dma_pool_alloc()` does; dropping the pool may sleep.
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
//!     let mut desc = pool.alloc(GFP_KERNEL)?;
//!     desc.write([1, 2, 3, 4]);
//!     let _addr = desc.dma_handle(); // Give it to the device.
//!     assert_eq!(desc.read()[2], 3);
//!     Ok(())
//! }
//! ```
//!
//! A block does not outlive its pool:
//!
//! ```compile_fail,E0505
//! use kernel::device::{Bound, Device};
//! use kernel::dma::pool::Pool;
//! use kernel::prelude::*;
//!
//! fn dangling(dev: &Device<Bound>) -> Result<u64> {
//!     let pool = Pool::<u64>::new(dev, c"descriptors", 8, 0)?;
//!     let block = pool.alloc(GFP_KERNEL)?;
//!     drop(pool);
//!     Ok(block.read())
//! }
//! ```

use super::DmaAddress;
use crate::{
    alloc::{flags::__GFP_ZERO, Flags},
    bindings,
    device::{Bound, Device},
    prelude::*,
    transmute::{AsBytes, FromBytes},
};
use core::{marker::PhantomData, ptr::NonNull};

/// A pool of coherent DMA blocks of type `T` for a device bound for `'a`.
///
/// # Invariants
///
/// `pool` is a live pool of `dev`, destroyed only when `self` is dropped; `zero` is false only
/// if the coherent memory of `dev` comes zeroed.
pub struct Pool<'a, T: AsBytes + FromBytes> {
    pool: NonNull<bindings::dma_pool>,
    /// Whether every block must be zeroed: the device's coherent memory may not be.
    zero: bool,
    _dev: PhantomData<&'a Device<Bound>>,
    _type: PhantomData<T>,
}

// SAFETY: The dma_pool API locks internally; a pool may be used and destroyed from any thread.
unsafe impl<T: AsBytes + FromBytes + Send> Send for Pool<'_, T> {}
// SAFETY: `&Pool` only allocates, which `dma_pool_alloc()` allows concurrently; the blocks it
// hands to other threads hold `T`s, hence `T: Send`.
unsafe impl<T: AsBytes + FromBytes + Send> Sync for Pool<'_, T> {}

impl<'a, T: AsBytes + FromBytes> Pool<'a, T> {
    /// Creates a pool of blocks of `size_of::<T>()` bytes for `dev`.
    ///
    /// Blocks are aligned to `align` (at least `T`'s alignment; a power of two) and, if
    /// `boundary` is not zero, do not cross a multiple of `boundary` (a power of two, at least
    /// the block size). Returns `EINVAL` when these do not hold, as `dma_pool_create()` does.
    pub fn new(dev: &'a Device<Bound>, name: &CStr, align: usize, boundary: usize) -> Result<Self> {
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
        // INVARIANT: a pool just created, destroyed by `Drop` only; `zero` as the helper says.
        Ok(Self {
            pool: NonNull::new(pool).ok_or(EINVAL)?,
            // SAFETY: `dev` is a valid device.
            zero: !unsafe { bindings::dma_rs_coherent_zeroed(dev.as_raw()) },
            _dev: PhantomData,
            _type: PhantomData,
        })
    }

    /// Allocates a block (`dma_pool_alloc()`), which holds whatever the pool's memory held
    /// there: see the [module documentation](self).
    ///
    /// Returns `ENOMEM` when the pool cannot grow. With `GFP_ATOMIC` it does not sleep.
    #[inline]
    pub fn alloc(&self, flags: Flags) -> Result<PoolBlock<'_, T>> {
        let flags = if self.zero { flags | __GFP_ZERO } else { flags };
        let mut dma = 0;
        // SAFETY: By the type invariant `pool` is a live pool.
        let cpu = unsafe { bindings::dma_pool_alloc(self.pool.as_ptr(), flags.as_raw(), &mut dma) };
        let cpu = NonNull::new(cpu.cast::<T>()).ok_or(ENOMEM)?;
        // INVARIANT: the block came from `self.pool`, which the borrow keeps alive; it is
        // initialised: zeroed here, or carved from zeroed coherent memory.
        Ok(PoolBlock {
            pool: self.pool,
            cpu,
            dma,
            _pool: PhantomData,
        })
    }

    /// Allocates a zeroed block (`dma_pool_zalloc()`).
    ///
    /// Returns `ENOMEM` when the pool cannot grow. With `GFP_ATOMIC` it does not sleep.
    #[inline]
    pub fn alloc_zeroed(&self, flags: Flags) -> Result<PoolBlock<'_, T>> {
        self.alloc(flags | __GFP_ZERO)
    }
}

impl<T: AsBytes + FromBytes> Drop for Pool<'_, T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `pool` is live; every block borrows `self`, so none is
        // left.
        unsafe { bindings::dma_pool_destroy(self.pool.as_ptr()) };
    }
}

/// A block of a [`Pool<T>`], returned to the pool when dropped.
///
/// # Invariants
///
/// `cpu` is a block of `pool`, with DMA address `dma`, aligned for `T` and `size_of::<T>()`
/// bytes long, all of them initialised; `pool` lives as long as `'p`.
pub struct PoolBlock<'p, T: AsBytes + FromBytes> {
    pool: NonNull<bindings::dma_pool>,
    cpu: NonNull<T>,
    dma: DmaAddress,
    _pool: PhantomData<&'p Pool<'p, T>>,
}

// SAFETY: A block is plain memory of a pool that may be used from any thread; `T` is plain data.
unsafe impl<T: AsBytes + FromBytes + Send> Send for PoolBlock<'_, T> {}
// SAFETY: `&PoolBlock` only reads whole values with volatile accesses, handing out owned `T`s
// (hence `T: Send`); writing needs `&mut`.
unsafe impl<T: AsBytes + FromBytes + Send> Sync for PoolBlock<'_, T> {}

impl<T: AsBytes + FromBytes> PoolBlock<'_, T> {
    /// The block's DMA address.
    #[inline]
    pub fn dma_handle(&self) -> DmaAddress {
        self.dma
    }

    /// Reads the block. The device may have written it at any time before.
    #[inline]
    pub fn read(&self) -> T {
        // SAFETY: By the type invariant `cpu` is a valid, aligned, initialised block; any bytes
        // are a valid `T` (`FromBytes`). A volatile read tolerates the device writing
        // concurrently.
        unsafe { self.cpu.as_ptr().read_volatile() }
    }

    /// Writes the block.
    #[inline]
    pub fn write(&mut self, value: T) {
        // SAFETY: By the type invariant `cpu` is a valid, aligned block, and `&mut self` keeps
        // other CPUs out. A volatile write tolerates the device accessing it concurrently.
        unsafe { self.cpu.as_ptr().write_volatile(value) }
    }
}

impl<T: AsBytes + FromBytes> Drop for PoolBlock<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the block came from `self.pool`, which is still live.
        unsafe { bindings::dma_pool_free(self.pool.as_ptr(), self.cpu.as_ptr().cast(), self.dma) };
    }
}
