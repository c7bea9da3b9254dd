// SPDX-License-Identifier: GPL-2.0

//! Mapping DMA buffers into user space.
//!
//! A buffer that user space maps is a [`Shared`]: a [`Coherent`] buffer (mapped through
//! `dma_mmap_attrs()`), a [`NonCoherent`] allocation (`dma_mmap_pages()`) or a
//! [`NonContiguous`] one (`dma_mmap_noncontiguous()`), tied to the binding of its device.
//! [`map_into_vma`] maps it into a VMA being set up, typically from a
//! [`MiscDevice::mmap`](crate::miscdevice::MiscDevice::mmap) handler.
//!
//! - While the device is bound, each VMA keeps the buffer: it is freed when the driver has
//!   dropped its [`Shared`] and the last mapping is gone, whichever comes last.
//! - When the binding ends (unbind or removal of the device), the buffer is taken from user
//!   space first: every mapping of it is zapped, so that a later access gets `SIGBUS`. It is
//!   then freed, while the device is still bound, through the backend that allocated it. New
//!   mappings and [`Shared::with`] get `ENXIO`.
//!
//! The zap covers the file range of each mapping ([`unmap_mapping_range()`]), so a file that
//! maps several buffers should map each at its own offset. An mmap handler must not wait for
//! the device's unbind (for example by taking the device lock): the unbind waits for mmaps in
//! flight.
//!
//! [`unmap_mapping_range()`]: srctree/mm/memory.c
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! # Examples
//!
//! ```
//! use kernel::device::{Bound, Device};
//! use kernel::dma::{mmap, mmap::Shared, Coherent};
//! use kernel::mm::virt::VmaNew;
//! use kernel::prelude::*;
//! use kernel::sync::Arc;
//!
//! fn share(dev: &Device<Bound>) -> Result<Arc<Shared<Coherent<[u8]>>>> {
//!     let buf = Coherent::<u8>::zeroed_slice(dev, 4096, GFP_KERNEL)?;
//!     Shared::new(dev, buf)
//! }
//!
//! fn mmap_handler(buf: &Arc<Shared<Coherent<[u8]>>>, vma: &VmaNew) -> Result {
//!     mmap::map_into_vma(buf, vma)
//! }
//! ```

use super::{
    noncoherent::{NonCoherent, NonContiguous},
    owner::Direction,
    Coherent,
};
use crate::{
    bindings,
    device::{Bound, Device},
    devres,
    error::to_result,
    fs::File,
    mm::{virt::VmaNew, Mm},
    new_mutex,
    page::PAGE_SHIFT,
    prelude::*,
    ptr::KnownSize,
    sync::{aref::ARef, Arc, Mutex},
    transmute::{AsBytes, FromBytes},
};
use core::{marker::PhantomData, mem::ManuallyDrop};

mod private {
    pub trait Sealed {}
}

/// DMA buffers that can be mapped into user space, through a [`Shared`].
pub trait Mmap: private::Sealed + Send + Sync {
    /// The buffer as a [`Shared`] keeps it: the same type, its borrow of the bound device (if it
    /// has one) extended to `'static`, which is sound because [`Shared`] frees it before the
    /// binding ends.
    #[doc(hidden)]
    type Shared: Mmap + 'static;

    /// Extends the buffer's borrow of its device.
    ///
    /// # Safety
    ///
    /// The result must be dropped before the binding of the buffer's device ends.
    #[doc(hidden)]
    unsafe fn into_shared(self) -> Self::Shared;

    /// Maps the buffer into `vma`, returning a negative errno on failure.
    ///
    /// # Safety
    ///
    /// `vma` must be a VMA being set up by an mmap handler.
    #[doc(hidden)]
    unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int;

    /// The device the buffer was allocated for.
    #[doc(hidden)]
    fn device(&self) -> *mut bindings::device;
}

impl<T: KnownSize + AsBytes + FromBytes + Send + Sync + ?Sized + 'static> private::Sealed
    for Coherent<T>
{
}

impl<T: KnownSize + AsBytes + FromBytes + Send + Sync + ?Sized + 'static> Mmap for Coherent<T> {
    // A `Coherent` holds a reference to its device, not a borrow.
    type Shared = Self;

    unsafe fn into_shared(self) -> Self {
        self
    }

    fn device(&self) -> *mut bindings::device {
        self.dev.as_raw()
    }

    unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int {
        // SAFETY: By the type invariant of `Coherent` these are the values of a live
        // allocation of `dev`; `vma` is a VMA being set up, as the caller guarantees.
        unsafe {
            bindings::dma_mmap_attrs(
                self.dev.as_raw(),
                vma,
                self.cpu_addr.as_ptr().cast(),
                self.dma_handle,
                self.size(),
                self.dma_attrs.as_raw(),
            )
        }
    }
}

/// Implements [`Mmap`] for an allocation type `$ty<'a, D>` that borrows its bound device.
macro_rules! borrowing_mmap {
    ($ty:ident) => {
        impl<D: Direction> private::Sealed for $ty<'_, D> {}

        impl<D: Direction> Mmap for $ty<'_, D> {
            type Shared = $ty<'static, D>;

            unsafe fn into_shared(self) -> $ty<'static, D> {
                let this = ManuallyDrop::new(self);
                // SAFETY: The two types differ only in the lifetime of the device borrow, which
                // the caller keeps valid for as long as the result lives; `this` is not dropped,
                // so the allocation has one owner.
                unsafe { core::ptr::from_ref(&*this).cast::<$ty<'static, D>>().read() }
            }

            unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int {
                // SAFETY: Same requirement.
                unsafe { $ty::mmap_raw(self, vma) }
            }

            fn device(&self) -> *mut bindings::device {
                $ty::device(self)
            }
        }
    };
}

borrowing_mmap!(NonCoherent);
borrowing_mmap!(NonContiguous);

/// A file through which user space maps a shared buffer, and the range of it mapped.
///
/// # Invariants
///
/// `vmas` counts the live VMAs of the buffer that map `file`'s address space.
struct Mapped {
    /// Pins the address space (and its inode, superblock and mount) until the zap.
    file: ARef<File>,
    /// The file offsets mapped, in bytes.
    start: i64,
    end: i64,
    vmas: usize,
}

impl Mapped {
    /// The address space the file maps.
    fn mapping(&self) -> *mut bindings::address_space {
        // SAFETY: `file` is a live file.
        unsafe { (*self.file.as_ptr()).f_mapping }
    }

    /// Zaps every user mapping of the range, in all processes.
    fn zap(&self) {
        // SAFETY: The file pins its address space.
        unsafe {
            bindings::unmap_mapping_range(self.mapping(), self.start, self.end - self.start, 1)
        };
    }
}

/// A process that mapped a shared buffer with [`map_into_vma`], whose mmap may still be in
/// flight when the binding ends.
///
/// # Invariants
///
/// `vmas` counts the live VMAs of the buffer in `mm`.
struct Mapper {
    mm: ARef<Mm>,
    vmas: usize,
}

/// What a [`Shared`] buffer's handles, its VMAs and its device's unbind share.
struct State<M> {
    /// The buffer; `None` once freed.
    buf: Option<M>,
    /// The files through which it is mapped, one record per address space.
    mapped: KVec<Mapped>,
    /// The processes that mapped it, one record per mm.
    mappers: KVec<Mapper>,
    /// The VMAs that map it.
    vmas: usize,
    /// Whether the driver has dropped its [`Shared`].
    released: bool,
}

impl<M> State<M> {
    /// Counts a new or copied VMA. A copy maps the same file as its original, so only a VMA that
    /// [`map_into_vma`] set up adds records, with the room reserved beforehand.
    fn add_vma(&mut self, vma: &bindings::vm_area_struct, new: Option<(ARef<File>, ARef<Mm>)>) {
        self.vmas += 1;
        // SAFETY: A VMA of the buffer maps a file.
        let mapping = unsafe { (*vma.vm_file).f_mapping };
        // SAFETY: A live VMA's addresses are in this member of the union.
        let span = unsafe { vma.__bindgen_anon_1.__bindgen_anon_1 };
        let start = (vma.vm_pgoff as i64) << PAGE_SHIFT;
        let end = start + (span.vm_end - span.vm_start) as i64;
        match self.mapped.iter_mut().find(|m| m.mapping() == mapping) {
            Some(m) => {
                m.start = m.start.min(start);
                m.end = m.end.max(end);
                m.vmas += 1;
            }
            None => {
                if let Some((file, _)) = &new {
                    let rec = Mapped {
                        file: file.clone(),
                        start,
                        end,
                        vmas: 1,
                    };
                    // The caller reserved the room.
                    let _ = self.mapped.push(rec, GFP_NOWAIT);
                }
            }
        }
        match self.mappers.iter_mut().find(|m| m.mm.as_raw() == vma.vm_mm) {
            Some(m) => m.vmas += 1,
            None => {
                if let Some((_, mm)) = new {
                    // The caller reserved the room.
                    let _ = self.mappers.push(Mapper { mm, vmas: 1 }, GFP_NOWAIT);
                }
            }
        }
    }

    /// Uncounts a VMA that is gone, dropping the records it was the last VMA of.
    fn remove_vma(&mut self, vma: &bindings::vm_area_struct) {
        self.vmas -= 1;
        // SAFETY: A VMA of the buffer maps a file.
        let mapping = unsafe { (*vma.vm_file).f_mapping };
        if let Some(i) = self.mapped.iter().position(|m| m.mapping() == mapping) {
            self.mapped[i].vmas -= 1;
            if self.mapped[i].vmas == 0 {
                drop(self.mapped.remove(i));
            }
        }
        if let Some(i) = self.mappers.iter().position(|m| m.mm.as_raw() == vma.vm_mm) {
            self.mappers[i].vmas -= 1;
            if self.mappers[i].vmas == 0 {
                drop(self.mappers.remove(i));
            }
        }
    }
}

// Nothing pins the buffer in place: the mutex hands out `&mut State` whatever `M` is.
impl<M> Unpin for State<M> {}

type StateCell<M> = Mutex<State<M>>;

/// Takes the buffer from user space and frees it when the device's binding ends.
struct Revoker<M: Mmap>(Arc<StateCell<M>>);

impl<M: Mmap> Drop for Revoker<M> {
    fn drop(&mut self) {
        let (buf, mapped, mappers) = {
            let mut state = self.0.lock();
            (
                state.buf.take(),
                core::mem::take(&mut state.mapped),
                core::mem::take(&mut state.mappers),
            )
        };
        // From here on, no mmap finds the buffer. One that found it before may still be linking
        // its VMA into the file, under the write lock of its process's mm: wait for it, so that
        // the zap sees the VMA. (Copies made by fork or a split are linked before they exist for
        // user space.)
        for mapper in &mappers {
            let mm = mapper.mm.as_raw();
            // SAFETY: The record holds a reference to `mm`.
            unsafe {
                bindings::mmap_read_lock(mm);
                bindings::mmap_read_unlock(mm);
            }
        }
        for m in &mapped {
            m.zap();
        }
        // Freed after the zap, during the unbind.
        drop(buf);
    }
}

/// A DMA buffer that user space maps, for as long as its device is bound.
///
/// See the [module documentation](self) for when the buffer is freed.
pub struct Shared<M: Mmap> {
    state: Arc<StateCell<M>>,
}

impl<M: Mmap + 'static> Shared<M> {
    /// Shares `buf`, an allocation of `dev`, until `dev`'s binding ends.
    ///
    /// Returns `EINVAL` if `buf` was allocated for another device.
    pub fn new<B: Mmap<Shared = M>>(dev: &Device<Bound>, buf: B) -> Result<Arc<Self>> {
        if buf.device() != dev.as_raw() {
            return Err(EINVAL);
        }
        // SAFETY: The buffer is kept in `State`, whose `Revoker` drops it when the binding of
        // `dev`, the buffer's device, ends, at the latest.
        let buf = unsafe { buf.into_shared() };
        let state = Arc::pin_init(
            new_mutex!(State {
                buf: Some(buf),
                mapped: KVec::new(),
                mappers: KVec::new(),
                vmas: 0,
                released: false,
            }),
            GFP_KERNEL,
        )?;
        devres::register(dev, Revoker(state.clone()), GFP_KERNEL)?;
        Ok(Arc::new(Self { state }, GFP_KERNEL)?)
    }

    /// Calls `f` with the buffer; `ENXIO` once the device's binding has ended.
    ///
    /// `f` runs under the mutex that the buffer's mmaps take with their process's mmap lock
    /// held: it must not touch user memory (`copy_to_user()` and the like), which may need that
    /// lock, or it can deadlock with an mmap.
    pub fn with<R>(&self, f: impl FnOnce(&M) -> R) -> Result<R> {
        self.state.lock().buf.as_ref().map(f).ok_or(ENXIO)
    }
}

impl<M: Mmap> Drop for Shared<M> {
    fn drop(&mut self) {
        let mut state = self.state.lock();
        state.released = true;
        if state.vmas == 0 {
            // Freed under the mutex: an unbind waits for it in its `Revoker`, so the device is
            // still bound.
            drop(state.buf.take());
        }
    }
}

/// The VMA operations that count the VMAs of a shared buffer.
struct VmOps<M>(PhantomData<M>);

impl<M: Mmap> VmOps<M> {
    const OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        open: Some(Self::open),
        close: Some(Self::close),
        ..pin_init::zeroed()
    };

    /// Borrows the state a VMA holds a reference to.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA set up by [`map_into_vma`] for an `M`, or copied from one.
    unsafe fn state(vma: *mut bindings::vm_area_struct) -> ManuallyDrop<Arc<StateCell<M>>> {
        // SAFETY: `vm_private_data` holds a reference from `Arc::into_raw`, owned by the VMA.
        ManuallyDrop::new(unsafe {
            Arc::<StateCell<M>>::from_raw((*vma).vm_private_data.cast::<StateCell<M>>())
        })
    }

    /// A VMA was copied (fork) or split: the copy takes its own reference.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA set up by [`map_into_vma`] for an `M`, or copied from one.
    unsafe extern "C" fn open(vma: *mut bindings::vm_area_struct) {
        // SAFETY: Guaranteed by the caller.
        let state = unsafe { Self::state(vma) };
        // SAFETY: `vma` is valid.
        state.lock().add_vma(unsafe { &*vma }, None);
        core::mem::forget(Arc::clone(&state));
    }

    /// A VMA is gone: drop its reference, and the buffer if it was the last user.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA set up by [`map_into_vma`] for an `M`, or copied from one.
    unsafe extern "C" fn close(vma: *mut bindings::vm_area_struct) {
        // SAFETY: Guaranteed by the caller; this takes back the VMA's own reference.
        let state = ManuallyDrop::into_inner(unsafe { Self::state(vma) });
        let mut guard = state.lock();
        // SAFETY: `vma` is valid.
        guard.remove_vma(unsafe { &*vma });
        if guard.vmas == 0 && guard.released {
            // Freed under the mutex, as in `Shared::drop`.
            drop(guard.buf.take());
        }
    }
}

/// Maps `buf` into `vma`, from its start, and ties the buffer's life to the VMA while the
/// device is bound.
///
/// Call it last in the mmap handler: if the handler fails after it, the buffer stays until the
/// device's binding ends. Returns `EBUSY` for a VMA that something already mapped, `ENXIO` once
/// the binding has ended, and the error of the C API otherwise, for example `ENXIO` when the
/// VMA is larger than the buffer.
pub fn map_into_vma<M: Mmap>(buf: &Arc<Shared<M>>, vma: &VmaNew) -> Result {
    let raw = vma.as_ptr();
    // SAFETY: `raw` is a valid VMA.
    let (file, private) = unsafe { ((*raw).vm_file, (*raw).vm_private_data) };
    if file.is_null() {
        return Err(EINVAL);
    }
    // A VMA maps one buffer: a second one would mix the kinds of mapping (remap_pfn_range()
    // and vm_insert_page() refuse each other's VMAs) and lose the first one's reference.
    if !private.is_null() || vma.flags() & (bindings::VM_PFNMAP | bindings::VM_MIXEDMAP) != 0 {
        return Err(EBUSY);
    }
    // The mapping must never grow past the buffer.
    vma.set_dontexpand();
    // SAFETY: `file` is the live file of the VMA being set up.
    let file = ARef::from(unsafe { File::from_raw_file(file) });
    let mm = ARef::from(&**vma.mm());
    let mut guard = buf.state.lock();
    let state = &mut *guard;
    let Some(b) = state.buf.as_ref() else {
        return Err(ENXIO);
    };
    state.mapped.reserve(1, GFP_KERNEL)?;
    state.mappers.reserve(1, GFP_KERNEL)?;
    // SAFETY: `raw` is the VMA the caller's mmap handler is setting up.
    to_result(unsafe { b.mmap_raw(raw) })?;
    // SAFETY: `raw` is valid.
    state.add_vma(unsafe { &*raw }, Some((file, mm)));
    drop(guard);
    let data = Arc::into_raw(buf.state.clone());
    // SAFETY: `raw` is the VMA being set up, which the caller's mmap handler owns; nothing else
    // uses its `vm_ops` and `vm_private_data`.
    unsafe {
        (*raw).vm_private_data = data.cast_mut().cast();
        (*raw).vm_ops = &VmOps::<M>::OPS;
    }
    Ok(())
}
