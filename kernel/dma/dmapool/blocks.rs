// SPDX-License-Identifier: GPL-2.0-only

//! The block allocator of `dma_pool`, with no kernel dependencies.
//!
//! A pool carves chunks of coherent memory ("pages", `allocation` bytes each)
//! into blocks of one size. [`Geometry`] decides the block size, the chunk size
//! and where blocks may start so that none crosses a boundary. [`FreeList`] is
//! the pool's list of free blocks: a LIFO stack threaded through the free blocks
//! themselves, each of which holds a [`FreeBlock`] header with the address of
//! the next free block and its own DMA address.
//!
//! This module uses only `core`, so that `tools/testing/dma` can test it on the
//! host.

use core::ops::Add;
use core::ptr;

/// A DMA address type: `dma_addr_t` in the kernel, anything numeric on the host.
pub(crate) trait DmaAddr: Copy + PartialEq + Add<Output = Self> + From<u32> {}

impl<T: Copy + PartialEq + Add<Output = T> + From<u32>> DmaAddr for T {}

/// Byte written over every free block in debug builds (`POOL_POISON_FREED`).
pub(crate) const POISON_FREED: u8 = 0xa7;

/// Byte written over a block handed out uninitialised in debug builds
/// (`POOL_POISON_ALLOCATED`).
pub(crate) const POISON_ALLOCATED: u8 = 0xa9;

/// Why [`Geometry::new`] refused a pool's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GeometryError {
    /// `align` is not zero and not a power of two.
    Align,
    /// `size` is zero or above `i32::MAX`.
    Size,
    /// `boundary` is smaller than the block or not a power of two.
    Boundary,
}

/// The layout of a pool's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// Block size: the requested size, at least one [`FreeBlock`] header,
    /// rounded up to the alignment.
    pub(crate) size: usize,
    /// Bytes per chunk of coherent memory: the block size, at least a page.
    pub(crate) allocation: usize,
    /// No block crosses a multiple of this (a power of two, at most
    /// `allocation`), counted from the chunk's start.
    pub(crate) boundary: usize,
}

impl Geometry {
    /// Computes the layout of a pool of `size`-byte blocks aligned to `align`
    /// (zero means 1) that never cross a multiple of `boundary` (zero means
    /// no constraint beyond the chunk), on a machine with `page_size` pages.
    ///
    /// The rules are those of the C allocator, so that a driver gets the same
    /// blocks from either.
    pub(crate) fn new<A>(
        size: usize,
        align: usize,
        boundary: usize,
        page_size: usize,
    ) -> Result<Self, GeometryError> {
        let align = match align {
            0 => 1,
            a if a.is_power_of_two() => a,
            _ => return Err(GeometryError::Align),
        };
        if size == 0 || size > i32::MAX as usize {
            return Err(GeometryError::Size);
        }
        let size = size
            .max(core::mem::size_of::<FreeBlock<A>>())
            .next_multiple_of(align);
        let allocation = size.max(page_size);
        let boundary = match boundary {
            0 => allocation,
            b if b < size || !b.is_power_of_two() => return Err(GeometryError::Boundary),
            b => b.min(allocation),
        };
        Ok(Self {
            size,
            allocation,
            boundary,
        })
    }

    /// The offsets of the blocks in a chunk, in increasing order.
    pub(crate) fn offsets(&self) -> Offsets {
        Offsets {
            geo: *self,
            offset: 0,
            next_boundary: self.boundary,
        }
    }
}

/// Iterator over the block offsets of a chunk; see [`Geometry::offsets`].
#[derive(Debug, Clone)]
pub(crate) struct Offsets {
    geo: Geometry,
    offset: usize,
    next_boundary: usize,
}

impl Iterator for Offsets {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        loop {
            let end = self.offset.checked_add(self.geo.size)?;
            if end > self.geo.allocation {
                return None;
            }
            if end > self.next_boundary {
                // The block would straddle a boundary: start at the boundary.
                self.offset = self.next_boundary;
                self.next_boundary += self.geo.boundary;
                continue;
            }
            let offset = self.offset;
            self.offset = end;
            return Some(offset);
        }
    }
}

/// The header a free block holds in its first bytes.
///
/// A pool with an alignment below the header's puts blocks at addresses the
/// header type does not allow, so such a header is read and written
/// unaligned ([`FreeBlock::read`], [`FreeBlock::write`]).
#[repr(C)]
pub(crate) struct FreeBlock<A> {
    next: *mut FreeBlock<A>,
    dma: A,
}

impl<A> FreeBlock<A> {
    /// Whether `block` is aligned for a header, where that saves work:
    /// arm64's Rust target forbids unaligned accesses, so an unaligned
    /// header is read byte by byte there, while x86-64 loads it whole
    /// either way. Every block is aligned when the pool's block size is a
    /// multiple of the header's alignment, as for nearly every pool, so the
    /// branch is predictable. The host tests take both paths.
    #[inline(always)]
    fn aligned(block: *const Self) -> bool {
        cfg!(any(target_arch = "aarch64", test))
            && (block as usize) % core::mem::align_of::<Self>() == 0
    }

    /// Reads the header at `block`: with whole-word loads when it is
    /// aligned. Unaligned, some targets (arm64's Rust target forbids
    /// unaligned accesses) read it byte by byte.
    ///
    /// # Safety
    ///
    /// `block` must be valid for reads of a header and hold one.
    #[inline(always)]
    unsafe fn read(block: *const Self) -> Self {
        if Self::aligned(block) {
            // SAFETY: Aligned, and valid by the caller's guarantee. Volatile
            // only so that LLVM keeps this load apart: it would otherwise
            // merge it with the other arm's into one with the weaker
            // alignment. Both arms read memory the list owns, under the
            // pool's lock, so the volatile read costs nothing else.
            unsafe { block.read_volatile() }
        } else {
            // SAFETY: Valid by the caller's guarantee.
            unsafe { block.read_unaligned() }
        }
    }

    /// Writes `header` at `block`, as [`FreeBlock::read`] reads it.
    ///
    /// # Safety
    ///
    /// `block` must be valid for writes of a header.
    #[inline(always)]
    unsafe fn write(block: *mut Self, header: Self) {
        if Self::aligned(block) {
            // SAFETY: Aligned, and valid by the caller's guarantee.
            unsafe { block.write(header) }
        } else {
            // SAFETY: Valid by the caller's guarantee.
            unsafe { block.write_unaligned(header) }
        }
    }
}

/// A LIFO list of free blocks, threaded through the blocks' own memory.
///
/// The list does not own the memory; the pool that holds it guarantees that
/// every block on it is valid, writable and at least [`Geometry::size`] bytes.
pub(crate) struct FreeList<A> {
    head: *mut FreeBlock<A>,
}

// SAFETY: The list is only a pointer into memory owned by the pool that holds
// it; the pool serialises every access with its lock, so it may move between
// threads.
unsafe impl<A: Send> Send for FreeList<A> {}

impl<A: DmaAddr> Default for FreeList<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: DmaAddr> FreeList<A> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            head: ptr::null_mut(),
        }
    }

    /// Takes the most recently freed block: its address and DMA address.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(*mut u8, A)> {
        let block = self.head;
        if block.is_null() {
            return None;
        }
        // SAFETY: By the type invariant, every block on the list is valid and
        // holds a header written by `push` or `push_chunk`.
        let header = unsafe { FreeBlock::read(block) };
        self.head = header.next;
        Some((block.cast(), header.dma))
    }

    /// Puts a block on the list.
    ///
    /// # Safety
    ///
    /// `block` must be valid for writes of a [`FreeBlock`], not on the list
    /// already, and stay valid until it is popped or the list is dropped.
    #[inline]
    pub(crate) unsafe fn push(&mut self, block: *mut u8, dma: A) {
        let block = block.cast::<FreeBlock<A>>();
        // SAFETY: The caller guarantees that `block` is valid for writes.
        unsafe {
            FreeBlock::write(
                block,
                FreeBlock {
                    next: self.head,
                    dma,
                },
            )
        };
        self.head = block;
    }

    /// Puts every block of a fresh chunk on the list, in address order, so
    /// that the next allocations come from its start. Returns how many.
    ///
    /// # Safety
    ///
    /// `chunk` must be valid for writes of `geo.allocation` bytes, hold no
    /// block that is on the list, and stay valid until its blocks are popped
    /// or the list is dropped.
    pub(crate) unsafe fn push_chunk(&mut self, chunk: *mut u8, dma: A, geo: &Geometry) -> usize {
        let mut count = 0;
        let mut first: *mut FreeBlock<A> = ptr::null_mut();
        let mut last: *mut FreeBlock<A> = ptr::null_mut();
        for offset in geo.offsets() {
            // The offsets lie within the chunk and below i32::MAX.
            // SAFETY: `offset + geo.size <= geo.allocation`, inside the chunk.
            let block = unsafe { chunk.add(offset) }.cast::<FreeBlock<A>>();
            let block_dma = dma + A::from(offset as u32);
            // SAFETY: `block` lies in the chunk, which the caller lets us write.
            unsafe {
                block.write_unaligned(FreeBlock {
                    next: ptr::null_mut(),
                    dma: block_dma,
                })
            };
            if last.is_null() {
                first = block;
            } else {
                // SAFETY: `last` was written just before, in this chunk.
                unsafe { ptr::addr_of_mut!((*last).next).write_unaligned(block) };
            }
            last = block;
            count += 1;
        }
        if !last.is_null() {
            // SAFETY: `last` is the last block written in the loop, in this
            // chunk.
            unsafe { ptr::addr_of_mut!((*last).next).write_unaligned(self.head) };
            self.head = first;
        }
        count
    }

    /// Whether `block` is on the list. Walks the whole list: for debug checks.
    pub(crate) fn contains(&self, block: *const u8) -> bool {
        let mut cur = self.head;
        while !cur.is_null() {
            if cur.cast_const().cast::<u8>() == block {
                return true;
            }
            // SAFETY: By the type invariant, every block on the list is valid.
            cur = unsafe { ptr::addr_of!((*cur).next).read_unaligned() };
        }
        false
    }
}

/// The offset of the first byte after the free-list header that is not
/// `POISON_FREED`, if any: a write to a free block.
pub(crate) fn poison_damage<A>(block: &[u8]) -> Option<usize> {
    let header = core::mem::size_of::<FreeBlock<A>>();
    block
        .iter()
        .skip(header)
        .position(|&b| b != POISON_FREED)
        .map(|i| i + header)
}
