// SPDX-License-Identifier: GPL-2.0-only

//! What user space sees: the `dma-api/` debugfs files, the dumps, the
//! report of pending mappings at unbind, and the boot parameters and
//! initialisation that the C glue calls.

use super::entry::{
    Record,
    HASH_SIZE, //
};
use super::hash::lock_bucket;
use super::records::{
    add_page,
    new_page,
    NODES_PER_PAGE, //
};
use super::report::{
    dev_names,
    filter_name,
    report,
    DevRef,
    DRIVER_LOCK,
    FILTER, //
};
use super::{
    cacheline,
    checks,
    disabled,
    entry,
    hash,
    param,
    records,
    DEFAULT_ENTRIES,
    DISABLED,
    ERROR_COUNT,
    MIN_FREE_ENTRIES,
    NAME_LEN,
    NR_PREALLOC_ENTRIES,
    NR_TOTAL_ENTRIES,
    NUM_FREE_ENTRIES,
    PAGE_SHIFT,
    PAGE_SIZE,
    READY,
    SHOW_ALL_ERRORS,
    SHOW_NUM_ERRORS, //
};
use core::fmt;
use core::ptr;
use core::sync::atomic::Ordering::Relaxed;
use kernel::bindings::{
    self,
    device, //
};
use kernel::ffi::{
    c_char,
    c_int,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;
use kernel::static_lock_class;
use kernel::str::BStr;

/// Calls `f` on every live record, bucket by bucket, with the bucket's
/// index and the record's device, under each bucket's lock in turn.
pub(super) fn for_each_record(mut f: impl FnMut(usize, &Record, DevRef)) {
    for idx in 0..HASH_SIZE {
        let bucket = lock_bucket(idx);
        for body in bucket.iter() {
            // SAFETY: A live record, read under its bucket's lock: its
            // device outlives it.
            let dev = unsafe { DevRef::of_record(&body.rec) };
            f(idx, &body.rec, dev);
        }
    }
}

/// `debug_dma_dump_mappings()`: logs the live mappings of `dev` (of all
/// devices if NULL).
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn debug_dma_dump_mappings(dev: *mut device) {
    for_each_record(|idx, e, edev| {
        if dev.is_null() || dev as usize == e.dev {
            dump_line(idx, e, edev, |drv, name, line| {
                // SAFETY: Valid C strings; `%pA` takes `fmt::Arguments`.
                unsafe { bindings::_printk(c"\x016%s %s: %pA".as_char_ptr(), drv, name, line) };
            });
        }
    });
}

/// Describes a live record as `dump` and `debug_dma_dump_mappings()` show
/// it: hands `emit` the device's driver and name, and the rest of the line
/// as a `fmt::Arguments` for `%pA`.
pub(super) fn dump_line(
    idx: usize,
    e: &Record,
    dev: DevRef,
    emit: impl FnOnce(*const c_char, *const c_char, *const c_void),
) {
    let (drv, name) = dev_names(dev);
    let cln = entry::cacheline(e.paddr, PAGE_SHIFT, bindings::L1_CACHE_SHIFT);
    let line = format_args!(
        "{} idx {} P=0x{:016x} D={:x} L={:x} cln=0x{:016x} {} {} attrs=0x{:x}\n",
        e.kind.name(),
        idx,
        e.paddr,
        e.dev_addr,
        e.size,
        cln,
        entry::dir_name(e.dir),
        e.map_err.name(),
        e.attrs
    );
    emit(drv, name, ptr::from_ref(&line).cast());
}

/// The `dump` debugfs file: one line per live mapping.
///
/// # Safety
///
/// `seq` must be the seq_file being shown.
#[export]
pub unsafe extern "C" fn dma_debug_rs_dump_show(
    seq: *mut bindings::seq_file,
    _v: *mut c_void,
) -> c_int {
    for_each_record(|idx, e, dev| {
        dump_line(idx, e, dev, |drv, name, line| {
            // SAFETY: Valid C strings; `%pA` takes `fmt::Arguments`.
            unsafe { bindings::seq_printf(seq, c"%s %s %pA".as_char_ptr(), drv, name, line) };
        });
    });
    0
}

/// Bus notifier: reports a driver that unbinds with mappings pending.
///
/// # Safety
///
/// Called by the bus with a live device as `data`.
unsafe extern "C" fn device_change(
    _nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    if disabled() || action != bindings::bus_notifier_event_BUS_NOTIFY_UNBOUND_DRIVER as c_ulong {
        return 0;
    }
    let dev = data.cast::<device>();
    let mut count = 0;
    let mut last = Record::default();
    for_each_record(|_, e, _| {
        if e.dev == dev as usize {
            count += 1;
            last = *e;
        }
    });
    if count > 0 {
        // SAFETY: The bus passes a live device.
        report(unsafe { DevRef::new(dev) }, None, format_args!(
            "device driver has pending DMA allocations while released from device [count={}]\nOne of leaked entries details: [device address=0x{:016x}] [size={} bytes] [mapped with {}] [mapped as {}]\n",
            count, last.dev_addr, last.size, entry::dir_name(last.dir), last.kind.name()));
    }
    0
}

/// `dma_debug_add_bus()`: watches a bus for drivers unbinding with mappings
/// pending.
///
/// # Safety
///
/// `bus` must be a registered bus type.
#[export]
pub unsafe extern "C" fn dma_debug_add_bus(bus: *const bindings::bus_type) {
    if disabled() {
        return;
    }
    // SAFETY: An all-zero `notifier_block` is an empty one.
    let empty = unsafe { core::mem::zeroed::<bindings::notifier_block>() };
    let Ok(mut nb) = KBox::new(empty, GFP_KERNEL) else {
        pr_err!("dma_debug_add_bus: out of memory\n");
        return;
    };
    nb.notifier_call = Some(device_change);
    // SAFETY: The caller passes a registered bus, which keeps the block for
    // ever: it is leaked to it.
    unsafe { bindings::bus_register_notifier(bus, KBox::leak(nb)) };
}

/// Sets up the hash and preallocates the records (`core_initcall`).
#[export]
pub extern "C" fn dma_debug_rs_init() -> c_int {
    // The locks are initialised even when dma-debug is off: the debugfs
    // files and the dump still take them.
    // SAFETY: The core initcall runs before any DMA API call, once: nobody
    // uses the locks yet.
    unsafe {
        hash::init_locks();
        records::init_lock();
        cacheline::init_lock();
        DRIVER_LOCK.init(c"dma_debug_driver", static_lock_class!());
    }
    if DISABLED.load(Relaxed) {
        return 0;
    }

    let asked = NR_PREALLOC_ENTRIES.load(Relaxed);
    // SAFETY: Reads a counter of the page allocator.
    let ram = unsafe { bindings::dma_rs_totalram_pages() } as u64 * PAGE_SIZE as u64;
    let want = param::prealloc_cap(asked, DEFAULT_ENTRIES, PAGE_SIZE / NODES_PER_PAGE, ram);
    if want < asked {
        pr_warn!(
            "dma_debug_entries={}: more than a sixteenth of memory; preallocating {}\n",
            asked,
            want
        );
    }
    let pages = (want as usize).div_ceil(NODES_PER_PAGE);
    for _ in 0..pages {
        // Allocated without the lock: a sleeping allocation may reclaim.
        let Some(page) = new_page(bindings::GFP_KERNEL) else {
            break;
        };
        add_page(page);
    }
    let total = NR_TOTAL_ENTRIES.load(Relaxed);
    if total >= want {
        pr_info!("preallocated {} debug entries\n", total);
    } else if total > 0 {
        pr_warn!(
            "{} debug entries requested but only {} allocated\n",
            want,
            total
        );
    } else {
        pr_err!("debugging out of memory error - disabled\n");
        DISABLED.store(true, Relaxed);
        return 0;
    }
    MIN_FREE_ENTRIES.store(NUM_FREE_ENTRIES.load(Relaxed), Relaxed);
    checks::init_illegal_areas();
    READY.store(true, Relaxed);
    pr_info!("debugging enabled by kernel config\n");
    0
}

/// The value of a boot parameter, `None` for NULL.
///
/// # Safety
///
/// `s` must be NULL or a NUL-terminated string that lives for `'a`.
unsafe fn param_value<'a>(s: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: Not NULL, so NUL-terminated and alive (the caller's
    // guarantee).
    (!s.is_null()).then(|| unsafe { CStr::from_char_ptr(s) }.to_bytes())
}

/// Says why a boot parameter's value is refused, and what holds instead.
fn refuse(name: &str, value: &[u8], bad: param::Bad, instead: fmt::Arguments<'_>) {
    pr_warn!(
        "{}={}: {}; {}\n",
        name,
        BStr::from_bytes(value),
        bad.reason(),
        instead
    );
}

/// `dma_debug=off`.
///
/// # Safety
///
/// `s` must be NULL or a NUL-terminated string.
#[export]
pub unsafe extern "C" fn dma_debug_rs_param_debug(s: *const c_char) {
    // SAFETY: The caller's guarantee.
    let Some(v) = (unsafe { param_value(s) }) else {
        return;
    };
    match param::parse_switch(v) {
        Ok(()) => {
            pr_info!("debugging disabled on kernel command line\n");
            DISABLED.store(true, Relaxed);
        }
        Err(bad) => refuse("dma_debug", v, bad, format_args!("ignored")),
    }
}

/// `dma_debug_entries=N`; a value that is not a positive count gives the
/// default.
///
/// # Safety
///
/// `s` must be NULL or a NUL-terminated string.
#[export]
pub unsafe extern "C" fn dma_debug_rs_param_entries(s: *const c_char) {
    // SAFETY: The caller's guarantee.
    let Some(v) = (unsafe { param_value(s) }) else {
        return;
    };
    let n = param::parse_entries(v).unwrap_or_else(|bad| {
        let instead = format_args!("preallocating the default, {}", DEFAULT_ENTRIES);
        refuse("dma_debug_entries", v, bad, instead);
        DEFAULT_ENTRIES
    });
    NR_PREALLOC_ENTRIES.store(n, Relaxed);
}

/// `dma_debug_driver=NAME`; an empty or refused name gives no filter.
///
/// # Safety
///
/// `s` must be NULL or a NUL-terminated string.
#[export]
pub unsafe extern "C" fn dma_debug_rs_param_driver(s: *const c_char) {
    // SAFETY: The caller's guarantee.
    let Some(v) = (unsafe { param_value(s) }) else {
        return;
    };
    let len = param::parse_driver(v, NAME_LEN - 1).unwrap_or_else(|bad| {
        refuse("dma_debug_driver", v, bad, format_args!("no driver filter"));
        0
    });
    // SAFETY: At boot nobody else reads or writes the filter's name.
    let buf = unsafe { &mut *FILTER.name.get() };
    buf[..len].copy_from_slice(&v[..len]);
    buf[len] = 0;
    if len > 0 {
        pr_info!(
            "enable driver filter for driver [{}]\n",
            BStr::from_bytes(&buf[..len])
        );
    }
}

/// Reads `driver_filter`: the name and a newline, or nothing.
///
/// # Safety
///
/// The arguments are those of a debugfs read.
#[export]
pub unsafe extern "C" fn dma_debug_rs_filter_read(
    _file: *mut bindings::file,
    user_buf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    let mut buf = [0u8; NAME_LEN + 1];
    let len = {
        let _g = DRIVER_LOCK.lock();
        let name = filter_name();
        if name.is_empty() {
            return 0;
        }
        buf[..name.len()].copy_from_slice(name);
        buf[name.len()] = b'\n';
        name.len() + 1
    };
    // SAFETY: The caller's user buffer and position; `buf` holds `len` bytes.
    unsafe {
        bindings::simple_read_from_buffer(user_buf.cast(), count, ppos, buf.as_ptr().cast(), len)
    }
}

/// Writes `driver_filter`: the first word names the driver whose errors
/// alone are shown; anything not starting with a letter or digit switches
/// the filter off.
///
/// # Safety
///
/// The arguments are those of a debugfs write.
#[export]
pub unsafe extern "C" fn dma_debug_rs_filter_write(
    _file: *mut bindings::file,
    user_buf: *const c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    let mut input = [0u8; NAME_LEN];
    let len = count.min(NAME_LEN - 1);
    // SAFETY: `input` has room for `len` bytes.
    if unsafe {
        bindings::copy_from_user(input.as_mut_ptr().cast(), user_buf.cast(), len as c_ulong)
    } != 0
    {
        return -(bindings::EFAULT as isize);
    }
    let _g = DRIVER_LOCK.lock();
    // SAFETY: Under the lock, the only writer.
    let name = unsafe { &mut *FILTER.name.get() };
    match entry::parse_filter(&input[..len], name) {
        None => {
            if name[0] != 0 {
                pr_info!("switching off dma-debug driver filter\n");
            }
            name[0] = 0;
        }
        Some(n) => pr_info!(
            "enable driver filter for driver [{}]\n",
            BStr::from_bytes(&name[..n])
        ),
    }
    FILTER.current.store(0, Relaxed);
    count as isize
}

/// Creates `dma-api/` in debugfs (`core_initcall_sync`).
#[export]
pub extern "C" fn dma_debug_rs_fs_init() -> c_int {
    // SAFETY: debugfs copes with any parent, including an error pointer;
    // the counters and fops are statics that live for ever.
    unsafe {
        let dir = bindings::debugfs_create_dir(c"dma-api".as_char_ptr(), ptr::null_mut());
        bindings::debugfs_create_bool(c"disabled".as_char_ptr(), 0o444, dir, DISABLED.as_ptr());
        for (name, mode, v) in [
            (c"error_count", 0o444, &ERROR_COUNT),
            (c"all_errors", 0o644, &SHOW_ALL_ERRORS),
            (c"num_errors", 0o644, &SHOW_NUM_ERRORS),
            (c"num_free_entries", 0o444, &NUM_FREE_ENTRIES),
            (c"min_free_entries", 0o444, &MIN_FREE_ENTRIES),
            (c"nr_total_entries", 0o444, &NR_TOTAL_ENTRIES),
        ] {
            bindings::debugfs_create_u32(name.as_char_ptr(), mode, dir, v.as_ptr());
        }
        bindings::debugfs_create_file_full(
            c"driver_filter".as_char_ptr(),
            0o644,
            dir,
            ptr::null_mut(),
            ptr::null(),
            &raw const bindings::dma_debug_rs_filter_fops,
        );
        bindings::debugfs_create_file_full(
            c"dump".as_char_ptr(),
            0o444,
            dir,
            ptr::null_mut(),
            ptr::null(),
            &raw const bindings::dma_debug_rs_dump_fops,
        );
    }
    0
}
