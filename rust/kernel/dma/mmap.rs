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
    mm::{virt::VmaNew, Mm},
    new_mutex,
    page::PAGE_SHIFT,
    prelude::*,
    ptr::KnownSize,
    sync::{aref::ARef, Arc, Mutex},
    transmute::{AsBytes, FromBytes},
};
use core::{marker::PhantomData, mem::ManuallyDrop, ptr::NonNull};

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
        }
    };
}

borrowing_mmap!(NonCoherent);
borrowing_mmap!(NonContiguous);

/// A range of a file through which a process maps a shared buffer.
///
/// # Invariants
///
/// `mapping` is the address space of an inode on which the record holds a reference.
struct User {
    mapping: NonNull<bindings::address_space>,
    mm: ARef<Mm>,
    /// The file offsets mapped, in bytes.
    start: i64,
    end: i64,
}

// SAFETY: The record holds references to an inode and an mm, which may be dropped from any
// thread.
unsafe impl Send for User {}

impl User {
    /// Records the file range that `vma` maps.
    ///
    /// # Safety
    ///
    /// `vma` must be a VMA of a file, being set up.
    unsafe fn new(vma: &VmaNew) -> Self {
        let raw = vma.as_ptr();
        // SAFETY: `vma` maps a file, which holds a reference to its inode; the record takes its
        // own.
        let mapping = unsafe {
            let mapping = (*(*raw).vm_file).f_mapping;
            bindings::ihold((*mapping).host);
            NonNull::new_unchecked(mapping)
        };
        // SAFETY: `raw` is a valid VMA.
        let start = (unsafe { (*raw).vm_pgoff } as i64) << PAGE_SHIFT;
        // INVARIANT: the record holds a reference to the inode of `mapping`.
        Self {
            mapping,
            mm: ARef::from(&**vma.mm()),
            start,
            end: start + (vma.end() - vma.start()) as i64,
        }
    }

    /// Zaps every user mapping of the range, in all processes.
    fn zap(&self) {
        // SAFETY: By the type invariant `mapping` is alive.
        unsafe {
            bindings::unmap_mapping_range(
                self.mapping.as_ptr(),
                self.start,
                self.end - self.start,
                1,
            )
        };
    }
}

impl Drop for User {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the record holds a reference to the inode.
        unsafe { bindings::iput((*self.mapping.as_ptr()).host) };
    }
}

/// What a [`Shared`] buffer's handles, its VMAs and its device's unbind share.
struct State<M> {
    /// The buffer; `None` once freed.
    buf: Option<M>,
    /// The file ranges through which it was mapped, merged per file and process.
    users: KVec<User>,
    /// The VMAs that map it.
    vmas: usize,
    /// Whether the driver has dropped its [`Shared`].
    released: bool,
}

// Nothing pins the buffer in place: the mutex hands out `&mut State` whatever `M` is.
impl<M> Unpin for State<M> {}

type StateCell<M> = Mutex<State<M>>;

/// Takes the buffer from user space and frees it when the device's binding ends.
struct Revoker<M: Mmap>(Arc<StateCell<M>>);

impl<M: Mmap> Drop for Revoker<M> {
    fn drop(&mut self) {
        let (buf, users) = {
            let mut state = self.0.lock();
            (state.buf.take(), core::mem::take(&mut state.users))
        };
        // From here on, no mmap finds the buffer. One that found it before may still be linking
        // its VMA into the file, under the write lock of its process's mm: wait for it, so that
        // the zap sees the VMA.
        for user in &users {
            let mm = user.mm.as_raw();
            // SAFETY: The record holds a reference to `mm`.
            unsafe {
                bindings::mmap_read_lock(mm);
                bindings::mmap_read_unlock(mm);
            }
        }
        for user in &users {
            user.zap();
        }
        // Freed after the zap, while the device is bound.
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
    pub fn new<B: Mmap<Shared = M>>(dev: &Device<Bound>, buf: B) -> Result<Arc<Self>> {
        // SAFETY: The buffer is kept in `State`, whose `Revoker` drops it when the binding of
        // `dev`, the buffer's device, ends, at the latest.
        let buf = unsafe { buf.into_shared() };
        let state = Arc::pin_init(
            new_mutex!(State {
                buf: Some(buf),
                users: KVec::new(),
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
    /// `f` runs under a mutex that the buffer's mmaps take too.
    pub fn with<R>(&self, f: impl FnOnce(&M) -> R) -> Result<R> {
        self.state.lock().buf.as_ref().map(f).ok_or(ENXIO)
    }
}

impl<M: Mmap> Drop for Shared<M> {
    fn drop(&mut self) {
        let mut state = self.state.lock();
        state.released = true;
        let buf = if state.vmas == 0 {
            state.buf.take()
        } else {
            None
        };
        drop(state);
        drop(buf);
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
        state.lock().vmas += 1;
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
        guard.vmas -= 1;
        let buf = if guard.vmas == 0 && guard.released {
            guard.buf.take()
        } else {
            None
        };
        drop(guard);
        drop(buf);
    }
}

/// Maps `buf` into `vma`, from its start, and ties the buffer's life to the VMA while the
/// device is bound.
///
/// Call it last in the mmap handler: if the handler fails after it, the buffer stays until the
/// device's binding ends. Returns `ENXIO` once the binding has ended, and the error of the C
/// API otherwise, for example `ENXIO` when the VMA is larger than the buffer.
pub fn map_into_vma<M: Mmap>(buf: &Arc<Shared<M>>, vma: &VmaNew) -> Result {
    // The mapping must never grow past the buffer.
    vma.set_dontexpand();
    let raw = vma.as_ptr();
    // SAFETY: `raw` is a valid VMA.
    if unsafe { (*raw).vm_file }.is_null() {
        return Err(EINVAL);
    }
    let mut guard = buf.state.lock();
    let state = &mut *guard;
    let Some(b) = state.buf.as_ref() else {
        return Err(ENXIO);
    };
    state.users.reserve(1, GFP_KERNEL)?;
    // SAFETY: `raw` is the VMA the caller's mmap handler is setting up.
    to_result(unsafe { b.mmap_raw(raw) })?;
    // SAFETY: `raw` maps a file and is being set up.
    let user = unsafe { User::new(vma) };
    let same = |u: &&mut User| u.mapping == user.mapping && u.mm.as_raw() == user.mm.as_raw();
    match state.users.iter_mut().find(same) {
        Some(u) => {
            u.start = u.start.min(user.start);
            u.end = u.end.max(user.end);
        }
        // The reservation above leaves room.
        None => state.users.push(user, GFP_NOWAIT)?,
    }
    state.vmas += 1;
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
