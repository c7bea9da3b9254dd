// SPDX-License-Identifier: GPL-2.0-only

//! Reports of misuse: the driver filter, the caller that made a mapping,
//! and the message itself.

use super::entry::Record;
use super::records::Origin;
use super::{
    ERROR_COUNT,
    NAME_LEN,
    SHOW_ALL_ERRORS,
    SHOW_NUM_ERRORS,
    STACK_DEPTH, //
};
use core::cell::UnsafeCell;
use core::fmt;
use core::ptr;
use core::sync::atomic::AtomicUsize;
use core::sync::atomic::Ordering::Relaxed;
use kernel::bindings::{
    self,
    device, //
};
use kernel::dma::rust_core::IrqSpinLock;
use kernel::ffi::{
    c_char,
    c_void, //
};
use kernel::prelude::*;

/// Serialises the writers of [`FILTER`]'s name against its readers.
pub(super) static DRIVER_LOCK: IrqSpinLock<()> = IrqSpinLock::new(());

pub(super) struct DriverFilter {
    pub(super) name: UnsafeCell<[u8; NAME_LEN]>,
    pub(super) current: AtomicUsize,
}

// SAFETY: The name is written under `DRIVER_LOCK`; its first byte is read
// without it, as a hint, like C does.
unsafe impl Sync for DriverFilter {}

pub(super) static FILTER: DriverFilter = DriverFilter {
    name: UnsafeCell::new([0; NAME_LEN]),
    current: AtomicUsize::new(0),
};

pub(super) fn filter_active() -> bool {
    // SAFETY: A racy read of one byte, only a hint.
    unsafe { ptr::read_volatile(FILTER.name.get().cast::<u8>()) != 0 }
}

/// The device a report concerns: that of the DMA API call being checked,
/// or that of a live record.
///
/// # Invariants
///
/// The pointer is NULL or a device that is live while the value is used.
/// The device of a call is live for the call; a record's device outlives
/// the record, as the DMA API requires drivers to remove their mappings
/// before their device goes (as C's dma-debug assumes too).
#[derive(Clone, Copy)]
pub(super) struct DevRef(*mut device);

impl DevRef {
    /// Wraps a device pointer.
    ///
    /// # Safety
    ///
    /// `dev` must meet the type invariant.
    pub(super) unsafe fn new(dev: *mut device) -> Self {
        // INVARIANT: The caller's guarantee.
        DevRef(dev)
    }

    /// The device of a live record.
    ///
    /// # Safety
    ///
    /// `rec` must be a record of the hash, or a copy of one taken under its
    /// bucket's lock, whose device has not gone since.
    pub(super) unsafe fn of_record(rec: &Record) -> Self {
        // INVARIANT: A record's device outlives it (the caller's guarantee).
        DevRef(rec.dev as *mut device)
    }

    /// The device's address, as records keep it.
    pub(super) fn addr(self) -> usize {
        self.0 as usize
    }

    /// The C pointer, for the C functions that take the device.
    pub(super) fn raw(self) -> *mut device {
        self.0
    }
}

/// Whether errors of `dev` are shown under the driver filter.
pub(super) fn driver_filter(dev: DevRef) -> bool {
    if !filter_active() {
        return true;
    }
    if dev.0.is_null() {
        return false;
    }
    // SAFETY: A live device (`DevRef`).
    let drv = unsafe { (*dev.0).driver };
    let current = FILTER.current.load(Relaxed);
    if current != 0 {
        return drv as usize == current;
    }
    if drv.is_null() {
        return false;
    }
    let _g = DRIVER_LOCK.lock();
    // SAFETY: A bound driver's name is a static string; the filter name is
    // NUL-terminated and stable under the lock.
    let matches = unsafe {
        let name = (*drv).name;
        !name.is_null() && CStr::from_char_ptr(name).to_bytes() == filter_name()
    };
    if matches {
        FILTER.current.store(drv as usize, Relaxed);
    }
    matches
}

/// The filter's name, without its NUL. Call under `DRIVER_LOCK`.
pub(super) fn filter_name() -> &'static [u8] {
    // SAFETY: The caller holds the lock, so nobody writes the name.
    let name = unsafe { &*FILTER.name.get() };
    let len = name.iter().position(|&c| c == 0).unwrap_or(NAME_LEN);
    &name[..len]
}

/// Prints the first frame of `origin` outside the DMA API itself.
pub(super) fn print_caller(dev: DevRef, origin: &Origin) {
    let mut buf = [0u8; 256];
    for &addr in &origin.stack[..(origin.len as usize).min(STACK_DEPTH)] {
        // SAFETY: `buf` holds any symbol name (KSYM_SYMBOL_LEN is smaller).
        unsafe { bindings::sprint_symbol_no_offset(buf.as_mut_ptr().cast(), addr) };
        let end = buf.iter().position(|&c| c == 0).unwrap_or(0);
        let sym = &buf[..end];
        // The C entry points, and the Rust core's own (mangled) functions.
        let internal = [&b"dma_"[..], b"__dma_", b"debug_dma_", b"iommu_dma_"]
            .iter()
            .any(|p| sym.starts_with(p))
            || [&b"dma_mapping"[..], b"dma_debug"]
                .iter()
                .any(|n| sym.windows(n.len()).any(|w| w == *n));
        if !internal {
            let (drv, name) = dev_names(dev);
            // SAFETY: Valid C strings and a code address for `%pS`.
            unsafe {
                bindings::_printk(
                    c"\x014DMA-API: %s %s: mapped at %pS\n".as_char_ptr(),
                    drv,
                    name,
                    addr as *const c_void,
                )
            };
            return;
        }
    }
}

/// The names of the device's driver and of the device, as C strings.
pub(super) fn dev_names(dev: DevRef) -> (*const c_char, *const c_char) {
    if dev.0.is_null() {
        return (c"NULL".as_char_ptr(), c"NULL".as_char_ptr());
    }
    // SAFETY: A live device (`DevRef`).
    unsafe {
        (
            bindings::dev_driver_string(dev.0),
            bindings::dev_name(dev.0),
        )
    }
}

/// Counts an error and, within the limits `all_errors` and `num_errors`
/// set and the driver filter, reports it with a warning, the stack of the
/// mapping it concerns and that mapping's caller.
pub(super) fn report(dev: DevRef, origin: Option<&Origin>, msg: fmt::Arguments<'_>) {
    ERROR_COUNT.fetch_add(1, Relaxed);
    let all = SHOW_ALL_ERRORS.load(Relaxed) != 0;
    let left = SHOW_NUM_ERRORS.load(Relaxed);
    if driver_filter(dev) && (all || left > 0) {
        let (drv, name) = dev_names(dev);
        // SAFETY: Valid C strings, and `%pA` takes `fmt::Arguments`.
        unsafe {
            bindings::__warn_printk(
                c"DMA-API: %s %s: %pA".as_char_ptr(),
                drv,
                name,
                ptr::from_ref(&msg).cast::<c_void>(),
            )
        };
        kernel::warn_on!(true);
        if let Some(o) = origin {
            if cfg!(CONFIG_STACKTRACE) {
                pr_warn!("Mapped at:\n");
                // SAFETY: `len` entries of the saved stack are valid.
                unsafe { bindings::stack_trace_print(o.stack.as_ptr(), o.len, 0) };
                print_caller(dev, o);
            }
        }
    }
    if !all && left > 0 {
        SHOW_NUM_ERRORS.store(left - 1, Relaxed);
    }
}
