// SPDX-License-Identifier: GPL-2.0

//! A C scatterlist given to the DMA API, and a walk over its entries,
//! chained or not, as `for_each_sg()` does.
//!
//! [`List`] is made once, where a raw list comes in from C; from there on
//! the walk and the accessors of each [`Entry`] are safe.

use super::mem::page_to_phys;
use super::{
    Dma,
    Phys, //
};
use crate::bindings::{
    self,
    scatterlist, //
};
use crate::ffi::{
    c_int,
    c_uint,
    c_ulong, //
};
use crate::types::Opaque;
use core::marker::PhantomData;

const CHAIN: c_ulong = bindings::SG_CHAIN as c_ulong;
const END: c_ulong = bindings::SG_END as c_ulong;

/// One entry of a scatterlist.
///
/// The DMA API writes the DMA fields of the entries of a list it maps
/// while the caller keeps the list to itself, so an entry is reached
/// through a shared reference and written through its [`Opaque`] cell.
#[repr(transparent)]
pub struct Entry(Opaque<scatterlist>);

/// The first `nents` entries of a C scatterlist, for `'a`.
///
/// # Invariants
///
/// `sgl` is NULL or points to a valid scatterlist with at least `nents`
/// entries (or `nents` is at most 0) that stays valid for `'a`, and whose
/// entries no one but the holder of the `List` changes meanwhile.
#[derive(Clone, Copy)]
pub struct List<'a> {
    sgl: *mut scatterlist,
    nents: c_int,
    _list: PhantomData<&'a Entry>,
}

impl<'a> List<'a> {
    /// Wraps the first `nents` entries of `sgl`.
    ///
    /// # Safety
    ///
    /// `sgl` must be NULL or a valid scatterlist of at least `nents`
    /// entries (or `nents` at most 0), valid and changed by no one else for
    /// `'a`.
    #[inline(always)]
    pub unsafe fn new(sgl: *mut scatterlist, nents: c_int) -> Self {
        // INVARIANT: The caller's guarantee.
        List {
            sgl,
            nents,
            _list: PhantomData,
        }
    }

    /// The same list, `nents` entries long instead.
    ///
    /// # Safety
    ///
    /// The list must have at least `nents` entries.
    #[inline(always)]
    pub unsafe fn with_nents(self, nents: c_int) -> Self {
        // INVARIANT: The caller's guarantee; the rest is unchanged.
        List { nents, ..self }
    }

    /// The C pointer to the first entry.
    #[inline(always)]
    pub fn raw(self) -> *mut scatterlist {
        self.sgl
    }

    /// The number of entries the list was given as.
    #[inline(always)]
    pub fn nents(self) -> c_int {
        self.nents
    }

    /// The first entry, if any.
    #[inline(always)]
    pub fn first(self) -> Option<&'a Entry> {
        self.entries().next()
    }

    /// Walks the entries.
    #[inline(always)]
    pub fn entries(self) -> Entries<'a> {
        // INVARIANT: The list's invariant.
        Entries {
            next: self.sgl,
            left: self.nents,
            _list: PhantomData,
        }
    }
}

/// A walk over the entries of a [`List`].
///
/// # Invariants
///
/// While `left` is positive, `next` is NULL (for a NULL list) or a valid
/// entry of the list, valid for `'a`, followed by at least `left - 1`
/// more.
pub struct Entries<'a> {
    next: *mut scatterlist,
    left: c_int,
    _list: PhantomData<&'a Entry>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = &'a Entry;

    #[inline]
    fn next(&mut self) -> Option<&'a Entry> {
        // A NULL list is walked as an empty one: a misuse that C would
        // crash on.
        if self.left <= 0 || self.next.is_null() {
            return None;
        }
        let sg = self.next;
        self.left -= 1;
        if self.left > 0 {
            // INVARIANT: The entry after `sg`, which is not the last one
            // the walk takes, is the next one (`sg_next()`).
            // SAFETY: By the type invariant `sg` is followed by at least one
            // more entry: the one after it in its array, or, if that is a
            // chain entry, the first of the array it links to.
            unsafe {
                let n = sg.add(1);
                let nlink = (*n).page_link;
                self.next = if nlink & CHAIN != 0 {
                    chained(nlink)
                } else {
                    n
                };
            }
        }
        // SAFETY: By the type invariant `sg` is a valid entry for `'a`;
        // `Entry` is a transparent wrapper of its C struct.
        Some(unsafe { &*sg.cast::<Entry>() })
    }
}

/// The array a chain entry's link points to: out of line, so that the walk
/// of an unchained list stays a test and a branch per entry.
#[cold]
#[inline(never)]
fn chained(link: c_ulong) -> *mut scatterlist {
    (link & !(CHAIN | END)) as *mut scatterlist
}

impl Entry {
    /// The C entry, for reads and writes of its fields.
    #[inline(always)]
    fn get(&self) -> *mut scatterlist {
        self.0.get()
    }

    /// The physical address of the entry's data (`sg_phys()`).
    #[inline]
    pub fn phys(&self) -> Phys {
        // SAFETY: A valid entry (`&self`); its link holds its page.
        let (link, offset) = unsafe { ((*self.get()).page_link, (*self.get()).offset) };
        let page = (link & !(CHAIN | END)) as *mut bindings::page;
        page_to_phys(page).wrapping_add(Phys::from(offset))
    }

    /// The entry's page (`sg_page()`).
    #[inline(always)]
    pub fn page(&self) -> *mut bindings::page {
        // SAFETY: A valid entry.
        let link = unsafe { (*self.get()).page_link };
        (link & !(CHAIN | END)) as *mut bindings::page
    }

    /// The entry's length in bytes.
    #[inline(always)]
    pub fn length(&self) -> c_uint {
        // SAFETY: A valid entry.
        unsafe { (*self.get()).length }
    }

    /// The entry's DMA address (`sg_dma_address()`).
    #[inline(always)]
    pub fn dma_address(&self) -> Dma {
        // SAFETY: A valid entry.
        unsafe { (*self.get()).dma_address }
    }

    /// The length of the entry's DMA mapping (`sg_dma_len()`).
    #[inline(always)]
    pub fn dma_len(&self) -> c_uint {
        // SAFETY: A valid entry.
        #[cfg(CONFIG_NEED_SG_DMA_LENGTH)]
        let len = unsafe { (*self.get()).dma_length };
        #[cfg(not(CONFIG_NEED_SG_DMA_LENGTH))]
        let len = self.length();
        len
    }

    /// Records the entry's mapping: its DMA address and length.
    ///
    /// # Safety
    ///
    /// The caller must be mapping or unmapping the entry's list: what
    /// relies on the entry's DMA fields (a mapping of it) must not exist
    /// meanwhile, or must be the caller's own.
    #[inline(always)]
    pub unsafe fn set_dma(&self, dma: Dma, len: c_uint) {
        // SAFETY: A valid entry, which the list's holder alone changes (the
        // `List` invariant), through its cell.
        unsafe {
            (*self.get()).dma_address = dma;
            #[cfg(CONFIG_NEED_SG_DMA_LENGTH)]
            {
                (*self.get()).dma_length = len;
            }
            #[cfg(not(CONFIG_NEED_SG_DMA_LENGTH))]
            {
                (*self.get()).length = len;
            }
        }
    }

    /// Whether the entry holds a PCI bus address rather than a mapping
    /// (`sg_dma_is_bus_address()`).
    #[inline(always)]
    pub fn is_bus_address(&self) -> bool {
        // SAFETY: A valid entry.
        #[cfg(CONFIG_NEED_SG_DMA_FLAGS)]
        let bus = unsafe { (*self.get()).dma_flags } & bindings::SG_DMA_BUS_ADDRESS != 0;
        #[cfg(not(CONFIG_NEED_SG_DMA_FLAGS))]
        let bus = false;
        bus
    }

    /// Marks or unmarks the entry as holding a PCI bus address.
    ///
    /// # Safety
    ///
    /// As for [`Entry::set_dma`].
    #[inline(always)]
    pub unsafe fn set_bus_address(&self, bus: bool) {
        #[cfg(CONFIG_NEED_SG_DMA_FLAGS)]
        // SAFETY: A valid entry, changed by the list's holder alone.
        unsafe {
            if bus {
                (*self.get()).dma_flags |= bindings::SG_DMA_BUS_ADDRESS;
            } else {
                (*self.get()).dma_flags &= !bindings::SG_DMA_BUS_ADDRESS;
            }
        }
        #[cfg(not(CONFIG_NEED_SG_DMA_FLAGS))]
        let _ = bus;
    }
}
