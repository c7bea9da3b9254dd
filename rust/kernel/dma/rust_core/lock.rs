// SPDX-License-Identifier: GPL-2.0

//! A spinlock taken with interrupts off (`spin_lock_irqsave()`), for state
//! the DMA API reaches from hard interrupt context: dma-debug's records
//! and a `dma_pool`'s blocks.
//!
//! Unlike [`kernel::sync::SpinLock`](crate::sync::SpinLock), it is built by
//! a `const fn`, so that statics and arrays of statics can hold one, and
//! initialised later, once, by [`IrqSpinLock::init`].

use crate::bindings;
use crate::ffi::c_ulong;
use crate::prelude::*;
use crate::sync::LockClassKey;
use crate::types::Opaque;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{
    Deref,
    DerefMut, //
};

/// A spinlock taken with interrupts off, guarding a `T`.
///
/// It must be initialised by [`IrqSpinLock::init`] where it stays (a
/// static, or an allocation that is not moved while the lock is in use)
/// before it is taken. A lock taken before that is still memory-safe (a
/// zeroed spinlock is an unlocked one), but the kernel's spinlock and
/// lockdep checks report it.
///
/// The kernel's `spinlock_t` is the raw spinlock it starts with when
/// `PREEMPT_RT` is off, which the options of the Rust DMA core require.
pub struct IrqSpinLock<T> {
    lock: Opaque<bindings::spinlock_t>,
    data: UnsafeCell<T>,
}

// SAFETY: The lock serialises every access to the data, which may be handed
// to another CPU if it is `Send`.
unsafe impl<T: Send> Sync for IrqSpinLock<T> {}

// SAFETY: Moving the lock moves the data with it.
unsafe impl<T: Send> Send for IrqSpinLock<T> {}

impl<T> IrqSpinLock<T> {
    /// A lock around `data`, to be initialised by [`IrqSpinLock::init`].
    pub const fn new(data: T) -> Self {
        Self {
            lock: Opaque::zeroed(),
            data: UnsafeCell::new(data),
        }
    }

    /// Initialises the lock, with its lockdep name and class.
    ///
    /// # Safety
    ///
    /// Nobody else uses the lock until this returns: it is called once,
    /// before the lock is first taken, where the lock stays.
    pub unsafe fn init(&self, name: &'static CStr, key: Pin<&'static LockClassKey>) {
        // SAFETY: The lock is not in use, by the caller's contract; the name
        // and the class live for ever.
        unsafe { bindings::__spin_lock_init(self.lock.get(), name.as_char_ptr(), key.as_ptr()) };
    }

    /// Takes the lock with interrupts off, until the guard is dropped.
    #[inline(always)]
    pub fn lock(&self) -> IrqSpinGuard<'_, T> {
        // SAFETY: A spinlock, zeroed or initialised; see the type's
        // documentation for the raw lock.
        let flags = unsafe { bindings::_raw_spin_lock_irqsave(self.lock.get().cast()) };
        // INVARIANT: The lock is held, taken with `flags`.
        IrqSpinGuard {
            lock: self,
            flags,
            _not_send: PhantomData,
        }
    }
}

/// Holds an [`IrqSpinLock`]; releases it and restores interrupts when
/// dropped.
///
/// Each guard restores the interrupt state its `lock()` found, so guards
/// held at once must be dropped in the reverse order of taking (as scopes
/// do): dropping an outer guard first turns interrupts back on while the
/// inner lock is still held. The DMA core never holds two at once.
///
/// # Invariants
///
/// The guard holds `lock`, taken on this CPU with the interrupt state
/// `flags`.
#[must_use = "the lock is released at once if the guard is not kept"]
pub struct IrqSpinGuard<'a, T> {
    lock: &'a IrqSpinLock<T>,
    flags: c_ulong,
    /// Released on the CPU that took it, with interrupts as they were.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for IrqSpinGuard<'_, T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: The guard holds the lock, so nobody else reaches the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for IrqSpinGuard<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The guard holds the lock, so nobody else reaches the data.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for IrqSpinGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the guard holds the lock, taken with
        // `flags` on this CPU.
        unsafe { bindings::_raw_spin_unlock_irqrestore(self.lock.lock.get().cast(), self.flags) };
    }
}
