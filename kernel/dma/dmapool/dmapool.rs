// SPDX-License-Identifier: GPL-2.0-only

//! `dma_pool` in Rust: the C ABI of `<linux/dmapool.h>`, in place of
//! `mm/dmapool.c` (`CONFIG_DMA_RUST_POOL`).
//!
//! A pool hands out fixed-size blocks of coherent DMA memory. It takes chunks
//! of at least a page from `dma_alloc_coherent()` and carves them into blocks
//! as [`blocks::Geometry`] lays them out: each block aligned, none crossing the
//! pool's boundary. Free blocks form one LIFO list across all chunks
//! ([`blocks::FreeList`]), so the block freed last is the next one handed out.
//! One irq-safe spinlock per pool guards the list and the counters; chunks are
//! only given back when the pool is destroyed.
//!
//! Misuse is reported, never fatal:
//!
//! - a NULL pool, block or handle is reported and ignored (the C pool crashes);
//! - destroying a pool with blocks still allocated is reported and the chunks
//!   are leaked rather than freed under the device's feet;
//! - with `CONFIG_SLUB_DEBUG_ON`, as in C, free blocks are poisoned, `alloc`
//!   checks the poison (a write after free), and `free` checks that the block
//!   belongs to the pool and is not free already (a double free).
//!
//! The per-device `pools` sysfs attribute lists a device's pools as C does.

use core::alloc::Layout;
use core::ptr::{
    self,
    NonNull, //
};
use kernel::alloc::{
    allocator::Kmalloc,
    Allocator,
    Flags,
    NumaNode, //
};
use kernel::ffi::{
    c_char,
    c_int,
    c_uint,
    c_void, //
};
use kernel::{
    bindings,
    device::Device,
    prelude::*,
    static_lock_class,
    str::BStr,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Relaxed,
            Release, //
        },
        global_lock,
    },
    warn_on,
};

mod blocks;

use blocks::{
    FreeList,
    Geometry, //
};

const __LOG_PREFIX: &[u8] = b"dmapool\0";

/// The checks C makes under `DMAPOOL_DEBUG`: poisoning, double free, bad DMA.
const DEBUG: bool = cfg!(CONFIG_SLUB_DEBUG_ON);

/// Length of a pool's name, with its NUL, as in C.
const NAME_LEN: usize = 32;

use kernel::dma::rust_core::{
    Dma,
    IrqSpinLock, //
};

/// A chunk of coherent memory, carved into blocks. Its record is kmalloc'ed
/// apart from the chunk, which may be uncached.
///
/// # Invariants
///
/// `vaddr` and `dma` are a `dma_alloc_attrs()` allocation of `allocation`
/// bytes for the pool's device, which the pool owns and frees only when it
/// is destroyed.
struct Chunk {
    next: Option<KBox<Chunk>>,
    vaddr: NonNull<u8>,
    dma: Dma,
}

/// A block of a pool's memory, which its holder owns: taken from the free
/// list, or handed back by the driver.
///
/// # Invariants
///
/// `vaddr` is the first of `pool`'s block size bytes, in one of `pool`'s
/// chunks, that no one else uses.
struct Block<'p> {
    vaddr: NonNull<u8>,
    pool: &'p DmaPool,
}

impl Block<'_> {
    /// Fills the block with `byte`.
    fn fill(&mut self, byte: u8) {
        // SAFETY: The block's bytes, which are the holder's (type
        // invariant).
        unsafe { ptr::write_bytes(self.vaddr.as_ptr(), byte, self.pool.geo.size) };
    }

    /// The block's bytes.
    fn bytes(&self) -> &[u8] {
        // SAFETY: The block's bytes, which are the holder's (type
        // invariant).
        unsafe { core::slice::from_raw_parts(self.vaddr.as_ptr(), self.pool.geo.size) }
    }
}

/// What a pool's lock guards.
///
/// # Invariants
///
/// `chunks` lists the pool's chunks; `free` holds only blocks of those
/// chunks that no one uses; the counters count what the lists hold.
struct State {
    free: FreeList<Dma>,
    /// Singly linked list of the pool's chunks.
    chunks: Option<KBox<Chunk>>,
    nr_blocks: usize,
    nr_active: usize,
    nr_pages: usize,
}

// SAFETY: The chunk list and the free list point into memory the pool owns;
// they move with the pool, always under its lock.
unsafe impl Send for State {}

impl State {
    /// The chunk whose DMA range holds `dma`.
    fn find_chunk(&self, dma: Dma, allocation: usize) -> Option<&Chunk> {
        let mut cur = self.chunks.as_deref();
        while let Some(chunk) = cur {
            if dma >= chunk.dma && dma - chunk.dma < allocation as Dma {
                return Some(chunk);
            }
            cur = chunk.next.as_deref();
        }
        None
    }
}

/// A pool; C sees it as the opaque `struct dma_pool`.
///
/// Its lock is irq-safe: drivers allocate and free blocks from hard
/// interrupt context.
///
/// # Invariants
///
/// `dev` is the live device the pool was created for: the C API requires
/// the driver to destroy its pools before the device goes. The pool stays
/// in the allocation `dma_pool_create_node()` made until
/// `dma_pool_destroy()`.
struct DmaPool {
    state: IrqSpinLock<State>,
    dev: *mut bindings::device,
    geo: Geometry,
    node: c_int,
    name: [u8; NAME_LEN],
}

impl DmaPool {
    /// The pool behind a C handle.
    ///
    /// # Safety
    ///
    /// `pool` must be NULL or a pool made by `dma_pool_create_node` and not
    /// destroyed yet.
    unsafe fn from_c<'a>(pool: *mut bindings::dma_pool) -> Option<&'a Self> {
        // SAFETY: By the caller's guarantee the pointer is NULL or valid.
        unsafe { pool.cast::<Self>().as_ref() }
    }

    fn dev(&self) -> &Device {
        // SAFETY: A pool's device outlives it: drivers destroy their pools
        // before the device goes, which devres enforces for managed pools.
        unsafe { Device::from_raw(self.dev) }
    }

    fn name(&self) -> &BStr {
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        BStr::from_bytes(&self.name[..len])
    }

    /// Allocates a chunk and its record, without the lock. The record is
    /// allocated on the pool's node.
    fn new_chunk(&self, gfp: bindings::gfp_t) -> Option<KBox<Chunk>> {
        let node = NumaNode::new(self.node).unwrap_or(NumaNode::NO_NODE);
        let rec = Kmalloc::alloc(Layout::new::<Chunk>(), Flags::from_gfp(gfp), node)
            .ok()?
            .cast::<Chunk>();
        let mut dma: Dma = 0;
        // SAFETY: `self.dev` is valid (see `dev()`); `dma` is writable.
        let vaddr =
            unsafe { bindings::dma_alloc_attrs(self.dev, self.geo.allocation, &mut dma, gfp, 0) };
        let Some(vaddr) = NonNull::new(vaddr.cast::<u8>()) else {
            // SAFETY: `rec` came from `Kmalloc` above with this layout.
            unsafe { Kmalloc::free(rec.cast(), Layout::new::<Chunk>()) };
            return None;
        };
        if DEBUG {
            // SAFETY: The chunk is `allocation` bytes, ours alone.
            unsafe { ptr::write_bytes(vaddr.as_ptr(), blocks::POISON_FREED, self.geo.allocation) };
        }
        // INVARIANT: A fresh allocation of `allocation` bytes for the
        // pool's device, which the chunk owns.
        // SAFETY: `rec` is a fresh `Kmalloc` allocation with the layout of a
        // `Chunk`; once written, it is what `KBox::from_raw()` takes.
        unsafe {
            rec.write(Chunk {
                next: None,
                vaddr,
                dma,
            });
            Some(KBox::from_raw(rec.as_ptr()))
        }
    }

    /// Puts a fresh chunk's blocks on the free list.
    fn add_chunk(&self, state: &mut State, mut chunk: KBox<Chunk>) {
        // INVARIANT: The blocks of a chunk of the pool, which no one uses.
        // SAFETY: The chunk is `allocation` bytes that only this pool uses
        // (`Chunk`), none of it on the list yet; it stays until the pool is
        // destroyed.
        state.nr_blocks += unsafe {
            state
                .free
                .push_chunk(chunk.vaddr.as_ptr(), chunk.dma, &self.geo)
        };
        chunk.next = state.chunks.take();
        state.chunks = Some(chunk);
        state.nr_pages += 1;
    }

    /// Takes a free block and counts it in use.
    #[inline]
    fn take_block(&self, state: &mut State) -> Option<(Block<'_>, Dma)> {
        let (vaddr, dma) = state.free.pop()?;
        state.nr_active = state.nr_active.wrapping_add(1);
        // INVARIANT: A block of the pool off the free list: ours.
        let block = Block {
            // SAFETY: Blocks on the list lie in chunks, which are not NULL.
            vaddr: unsafe { NonNull::new_unchecked(vaddr) },
            pool: self,
        };
        Some((block, dma))
    }

    #[inline]
    fn alloc(&self, gfp: bindings::gfp_t) -> Option<(Block<'_>, Dma)> {
        let block = self.take_block(&mut self.state.lock());
        let (mut block, dma) = match block {
            Some(block) => block,
            None => self.alloc_from_new_chunk(gfp)?,
        };
        if DEBUG {
            self.check_poison(&mut block, gfp);
        }
        if want_init_on_alloc(gfp) {
            block.fill(0);
        }
        Some((block, dma))
    }

    /// The slow path of `alloc`: a new chunk, allocated without the lock
    /// because that may sleep.
    #[cold]
    #[inline(never)]
    fn alloc_from_new_chunk(&self, gfp: bindings::gfp_t) -> Option<(Block<'_>, Dma)> {
        if !MIGHT_ALLOC_ALWAYS {
            might_alloc(gfp);
        }
        let chunk = self.new_chunk(gfp & !bindings::__GFP_ZERO)?;
        let mut state = self.state.lock();
        self.add_chunk(&mut state, chunk);
        self.take_block(&mut state)
    }

    /// Debug builds: a free block must still hold its poison.
    fn check_poison(&self, block: &mut Block<'_>, gfp: bindings::gfp_t) {
        let vaddr = block.vaddr.as_ptr();
        if let Some(at) = blocks::poison_damage::<Dma>(block.bytes()) {
            dev_err!(
                self.dev(),
                "dma_pool_alloc {}, {:p} (corrupted: byte {} written after free)\n",
                self.name(),
                vaddr,
                at
            );
            // SAFETY: Valid strings and a buffer of `size` bytes.
            unsafe {
                bindings::print_hex_dump(
                    c"\x013".as_char_ptr(),
                    c"".as_char_ptr(),
                    bindings::DUMP_PREFIX_OFFSET as c_int,
                    16,
                    1,
                    vaddr.cast(),
                    self.geo.size,
                    true,
                )
            };
        }
        if !want_init_on_alloc(gfp) {
            block.fill(blocks::POISON_ALLOCATED);
        }
    }

    /// Takes back a block.
    ///
    /// # Safety
    ///
    /// `vaddr` and `dma` must be a block that this pool handed out and that
    /// its holder gives back, using it no more. (Debug builds check that
    /// `dma` lies in one of the pool's chunks and that `vaddr` is not free
    /// already.)
    #[inline]
    unsafe fn free(&self, vaddr: NonNull<u8>, dma: Dma) {
        // INVARIANT: The caller's guarantee.
        let mut block = Block { vaddr, pool: self };
        let vaddr = vaddr.as_ptr();
        let mut state = self.state.lock();
        if DEBUG {
            let err = if state.find_chunk(dma, self.geo.allocation).is_none() {
                Some("bad dma")
            } else if state.free.contains(vaddr) {
                Some("already free")
            } else {
                None
            };
            if let Some(err) = err {
                drop(state);
                dev_err!(
                    self.dev(),
                    "dma_pool_free {}, {:p}/{:#x} ({})\n",
                    self.name(),
                    vaddr,
                    dma,
                    err
                );
                return;
            }
            block.fill(blocks::POISON_FREED);
        } else if want_init_on_free() {
            block.fill(0);
        }
        // INVARIANT: A block of the pool that no one uses any more.
        // SAFETY: A block this pool gave out, handed back (the caller's
        // guarantee): valid for the header, and not on the list.
        unsafe { state.free.push(vaddr, dma) };
        // Wrapping, never a panic: after a double free that only debug builds
        // catch, the count is off and destroy reports the pool busy.
        state.nr_active = state.nr_active.wrapping_sub(1);
    }
}

/// `might_alloc()`: lockdep's reclaim annotation and the might-sleep check,
/// both of which apply only to allocations that may reclaim.
#[inline]
fn might_alloc(gfp: bindings::gfp_t) {
    if gfp & (1 << bindings::___GFP_DIRECT_RECLAIM_BIT) != 0 {
        // SAFETY: Only checks and annotations on the current task.
        unsafe { bindings::might_alloc(gfp) };
    }
}

/// Whether every `dma_pool_alloc()` is checked with `might_alloc()`, so that
/// a caller in atomic context with sleeping flags is caught even when the
/// pool has a free block. Without these debug options only the allocation of
/// a new chunk is (where `dma_alloc_coherent()` checks too), which keeps the
/// fast path free of the call.
const MIGHT_ALLOC_ALWAYS: bool = cfg!(CONFIG_LOCKDEP) || cfg!(CONFIG_DEBUG_ATOMIC_SLEEP);

/// Reports a misuse of the API that has no pool, and so no device, to name.
#[cold]
#[inline(never)]
fn report_no_pool(func: &str) {
    pr_err!("{func}: NULL pool\n");
}

/// Reports a misuse of the API on `pool`.
#[cold]
#[inline(never)]
fn report(pool: &DmaPool, func: &str, what: &str) {
    dev_err!(pool.dev(), "{func} {}: {what}\n", pool.name());
}

/// Whether the key of `DECLARE_STATIC_KEY_MAYBE($default_on, $key)` is on,
/// as C's `static_branch_maybe()` tells. With jump labels and the key off by
/// default, a patched branch, which costs a no-op while the key stays off;
/// otherwise a read of the key's count, as `static_key_enabled()` does.
macro_rules! static_branch_maybe {
    ($default_on:meta, $key:ident) => {{
        // `static_branch_unlikely!` wants a key inside a structure; this one
        // stands alone, at offset 0 of its `static_key_false`.
        #[cfg(all(CONFIG_JUMP_LABEL, not($default_on)))]
        // SAFETY: The kernel's key, a `static_key_false` in this
        // configuration.
        let on = unsafe {
            kernel::jump_label::arch_static_branch!(
                bindings::$key,
                bindings::static_key_false,
                key,
                false
            )
        };
        #[cfg(not(all(CONFIG_JUMP_LABEL, not($default_on))))]
        // SAFETY: The key's count is an atomic the kernel defines; a racy
        // read is what `static_key_enabled()` does too.
        let on = unsafe {
            ptr::read_volatile(&(*ptr::addr_of!(bindings::$key)).key.enabled.counter) > 0
        };
        on
    }};
}

/// Whether an allocation must come zeroed (`want_init_on_alloc()`).
#[inline]
fn want_init_on_alloc(gfp: bindings::gfp_t) -> bool {
    gfp & bindings::__GFP_ZERO != 0
        || static_branch_maybe!(CONFIG_INIT_ON_ALLOC_DEFAULT_ON, init_on_alloc)
}

/// Whether freed memory must be zeroed (`want_init_on_free()`).
#[inline]
fn want_init_on_free() -> bool {
    static_branch_maybe!(CONFIG_INIT_ON_FREE_DEFAULT_ON, init_on_free)
}

/// A pool in the registry of pools, for the `pools` sysfs attribute.
struct Registered {
    dev: *mut bindings::device,
    pool: *const DmaPool,
}

// SAFETY: Only addresses, used under `POOLS`.
unsafe impl Send for Registered {}

global_lock! {
    // SAFETY: `init_locks()` runs before any other use.
    unsafe(uninit) static POOLS: Mutex<KVec<Registered>> = KVec::new();
}

global_lock! {
    // SAFETY: `init_locks()` runs before any other use. Serialises the
    // creation and removal of the `pools` files against each other.
    unsafe(uninit) static POOLS_FILE: Mutex<()> = ();
}

/// Initialises the two global locks on first use (no pool exists before).
fn init_locks() {
    const UNINIT: i32 = 0;
    const BUSY: i32 = 1;
    const READY: i32 = 2;
    static STATE: Atomic<i32> = Atomic::new(UNINIT);

    if STATE.load(Acquire) == READY {
        return;
    }
    if STATE.cmpxchg(UNINIT, BUSY, Relaxed).is_ok() {
        // SAFETY: Only the winner of the exchange gets here, once.
        unsafe {
            POOLS.init();
            POOLS_FILE.init();
        }
        STATE.store(READY, Release);
    } else {
        while STATE.load(Acquire) != READY {
            core::hint::spin_loop();
        }
    }
}

/// The `pools` attribute's `show`: a line per pool of the device.
///
/// # Safety
///
/// sysfs calls it with a live device and a `PAGE_SIZE` buffer.
unsafe extern "C" fn pools_show(
    dev: *mut bindings::device,
    _attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    init_locks();
    // SAFETY: sysfs passes a PAGE_SIZE buffer and a format with no arguments.
    let mut len = unsafe { bindings::sysfs_emit(buf, c"poolinfo - 0.1\n".as_char_ptr()) };
    let pools = POOLS.lock();
    for entry in pools.iter().filter(|e| e.dev == dev) {
        // SAFETY: A registered pool is alive: destroy unregisters it first,
        // under `POOLS`, which we hold.
        let pool = unsafe { &*entry.pool };
        let (active, blocks, pages) = {
            let state = pool.state.lock();
            (state.nr_active, state.nr_blocks, state.nr_pages)
        };
        // SAFETY: `buf` as above; the name is NUL-terminated; the arguments
        // match the format.
        len += unsafe {
            bindings::sysfs_emit_at(
                buf,
                len,
                c"%-16s %4zu %4zu %4u %2zu\n".as_char_ptr(),
                pool.name.as_ptr(),
                active,
                blocks,
                pool.geo.size as c_uint,
                pages,
            )
        };
    }
    len as isize
}

/// The `pools` attribute: writable memory, as sysfs wants for its lock class.
struct PoolsAttr(core::cell::UnsafeCell<bindings::device_attribute>);

// SAFETY: sysfs only reads the attribute after registration.
unsafe impl Sync for PoolsAttr {}

static POOLS_ATTR: PoolsAttr = PoolsAttr(core::cell::UnsafeCell::new(bindings::device_attribute {
    attr: bindings::attribute {
        name: c"pools".to_bytes_with_nul().as_ptr(),
        mode: 0o444,
        // SAFETY: All-zero is valid for the rest: no lockdep key (sysfs then
        // uses the static one inside), no flags.
        ..unsafe { core::mem::zeroed() }
    },
    __bindgen_anon_1: bindings::device_attribute__bindgen_ty_1 {
        show: Some(pools_show),
    },
    // SAFETY: No `store`: all-zero is a NULL function pointer.
    __bindgen_anon_2: unsafe { core::mem::zeroed() },
}));

/// Adds `pool` to the registry; the first pool of a device adds its file.
fn register(pool: &DmaPool) -> Result {
    let _file = POOLS_FILE.lock();
    let first = {
        let mut pools = POOLS.lock();
        let first = !pools.iter().any(|e| e.dev == pool.dev);
        pools.push(
            Registered {
                dev: pool.dev,
                pool,
            },
            GFP_KERNEL,
        )?;
        first
    };
    if first {
        // SAFETY: A valid device and a static attribute.
        let err = unsafe { bindings::device_create_file(pool.dev, POOLS_ATTR.0.get()) };
        if err != 0 {
            POOLS.lock().retain(|e| !ptr::eq(e.pool, pool));
            return Err(Error::from_errno(err));
        }
    }
    Ok(())
}

/// Removes `pool` from the registry; the last pool of a device removes its file.
fn unregister(pool: &DmaPool) {
    let _file = POOLS_FILE.lock();
    let last = {
        let mut pools = POOLS.lock();
        pools.retain(|e| !ptr::eq(e.pool, pool));
        !pools.iter().any(|e| e.dev == pool.dev)
    };
    if last {
        // SAFETY: A valid device; removing a file that is there.
        unsafe { bindings::device_remove_file(pool.dev, POOLS_ATTR.0.get()) };
    }
}

/// `dma_pool_create_node()`: a pool of `size`-byte blocks aligned to `align`
/// that never cross a multiple of `boundary`, or NULL.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string; `dev` NULL or a device that
/// outlives the pool.
#[export]
pub unsafe extern "C" fn dma_pool_create_node(
    name: *const c_char,
    dev: *mut bindings::device,
    size: usize,
    align: usize,
    boundary: usize,
    node: c_int,
) -> *mut bindings::dma_pool {
    if dev.is_null() {
        return ptr::null_mut();
    }
    let Ok(geo) = Geometry::new::<Dma>(size, align, boundary, kernel::page::PAGE_SIZE) else {
        return ptr::null_mut();
    };
    let mut pool_name = [0u8; NAME_LEN];
    if !name.is_null() {
        // SAFETY: The caller passes a NUL-terminated string.
        let bytes = unsafe { CStr::from_char_ptr(name) }.to_bytes();
        let n = bytes.len().min(NAME_LEN - 1);
        pool_name[..n].copy_from_slice(&bytes[..n]);
    }
    init_locks();
    let Ok(pool) = KBox::new(
        DmaPool {
            state: IrqSpinLock::new(State {
                free: FreeList::new(),
                chunks: None,
                nr_blocks: 0,
                nr_active: 0,
                nr_pages: 0,
            }),
            dev,
            geo,
            node,
            name: pool_name,
        },
        GFP_KERNEL,
    ) else {
        return ptr::null_mut();
    };
    // SAFETY: The pool is new; nobody else has it yet. It stays in its
    // allocation until `dma_pool_destroy()`.
    unsafe { pool.state.init(c"dma_pool", static_lock_class!()) };
    if register(&pool).is_err() {
        return ptr::null_mut();
    }
    KBox::into_raw(pool).cast()
}

/// `dma_pool_destroy()`: frees the pool and its chunks; NULL is ignored.
///
/// # Safety
///
/// `pool` must be NULL or a live pool that nothing uses any more.
#[export]
pub unsafe extern "C" fn dma_pool_destroy(pool: *mut bindings::dma_pool) {
    // SAFETY: The caller passes NULL or a live pool.
    let Some(p) = (unsafe { DmaPool::from_c(pool) }) else {
        return;
    };
    unregister(p);
    let (busy, mut chunks) = {
        let mut state = p.state.lock();
        (state.nr_active != 0, state.chunks.take())
    };
    if busy {
        // The device may still use the blocks: leak the chunks.
        dev_err!(p.dev(), "dma_pool_destroy {} busy\n", p.name());
    }
    // One record at a time: a long list is not dropped recursively.
    while let Some(chunk) = chunks {
        let Chunk { next, vaddr, dma } = KBox::into_inner(chunk);
        if !busy {
            // SAFETY: The pool's own allocation of `allocation` bytes
            // (`Chunk`), which nothing uses: no block is allocated.
            unsafe {
                bindings::dma_free_attrs(p.dev, p.geo.allocation, vaddr.as_ptr().cast(), dma, 0)
            };
        }
        chunks = next;
    }
    // SAFETY: `pool` came from `KBox::into_raw` in `dma_pool_create_node`,
    // and the caller gives it up.
    drop(unsafe { KBox::from_raw(pool.cast::<DmaPool>()) });
}

/// `dma_pool_alloc()`: a block and its DMA address in `*handle`, or NULL.
///
/// # Safety
///
/// `pool` must be NULL or a live pool; `handle` NULL or writable.
#[export]
pub unsafe extern "C" fn dma_pool_alloc(
    pool: *mut bindings::dma_pool,
    mem_flags: bindings::gfp_t,
    handle: *mut Dma,
) -> *mut c_void {
    if MIGHT_ALLOC_ALWAYS {
        might_alloc(mem_flags);
    }
    // SAFETY: The caller passes NULL or a live pool.
    let Some(p) = (unsafe { DmaPool::from_c(pool) }) else {
        report_no_pool("dma_pool_alloc");
        return ptr::null_mut();
    };
    if handle.is_null() {
        report(p, "dma_pool_alloc", "NULL handle");
        return ptr::null_mut();
    }
    #[cfg(CONFIG_FAIL_DMA_MAPPING)]
    // SAFETY: The pool's device is live (`DmaPool::dev`); the check only
    // reads it.
    if unsafe { bindings::fail_dma_pool_should(p.dev, p.geo.size, mem_flags) } {
        return ptr::null_mut();
    }
    match p.alloc(mem_flags) {
        Some((block, dma)) => {
            // SAFETY: `handle` is writable, checked above.
            unsafe { handle.write(dma) };
            // The block is the caller's now.
            block.vaddr.as_ptr().cast()
        }
        None => ptr::null_mut(),
    }
}

/// `dma_pool_free()`: gives a block back to its pool.
///
/// # Safety
///
/// `pool` must be NULL or a live pool; `vaddr` and `dma` a block this pool
/// handed out and that neither the device nor the driver uses any more.
#[export]
pub unsafe extern "C" fn dma_pool_free(
    pool: *mut bindings::dma_pool,
    vaddr: *mut c_void,
    dma: Dma,
) {
    // SAFETY: The caller passes NULL or a live pool.
    let Some(p) = (unsafe { DmaPool::from_c(pool) }) else {
        report_no_pool("dma_pool_free");
        return;
    };
    let Some(vaddr) = NonNull::new(vaddr.cast::<u8>()) else {
        report(p, "dma_pool_free", "NULL block");
        return;
    };
    // SAFETY: By this function's contract, a block of the pool, given back.
    unsafe { p.free(vaddr, dma) };
}

/// devres release of a managed pool: destroys it.
///
/// # Safety
///
/// devres calls it with the resource `dmam_pool_create` added.
unsafe extern "C" fn dmam_pool_release(_dev: *mut bindings::device, res: *mut c_void) {
    // SAFETY: devres passes the resource `dmam_pool_create` filled in, which
    // holds the pool.
    unsafe { dma_pool_destroy(*res.cast::<*mut bindings::dma_pool>()) };
}

/// devres match of a managed pool: the resource holds `data`.
///
/// # Safety
///
/// devres calls it with a resource `dmam_pool_create` added.
unsafe extern "C" fn dmam_pool_match(
    _dev: *mut bindings::device,
    res: *mut c_void,
    data: *mut c_void,
) -> c_int {
    // SAFETY: As in `dmam_pool_release`.
    c_int::from(unsafe { *res.cast::<*mut c_void>() } == data)
}

/// `dmam_pool_create()`: a pool destroyed when the driver unbinds.
///
/// # Safety
///
/// As for `dma_pool_create_node`, and `dev` must be bound or binding.
#[export]
pub unsafe extern "C" fn dmam_pool_create(
    name: *const c_char,
    dev: *mut bindings::device,
    size: usize,
    align: usize,
    boundary: usize,
) -> *mut bindings::dma_pool {
    // SAFETY: A release function and the size of one pointer.
    let res = unsafe {
        bindings::__devres_alloc_node(
            Some(dmam_pool_release),
            core::mem::size_of::<*mut bindings::dma_pool>(),
            bindings::GFP_KERNEL,
            bindings::NUMA_NO_NODE,
            c"dmam_pool_release".as_char_ptr(),
        )
    };
    if res.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: The caller's guarantees are ours.
    let pool =
        unsafe { dma_pool_create_node(name, dev, size, align, boundary, bindings::NUMA_NO_NODE) };
    if pool.is_null() {
        // SAFETY: `res` was never added.
        unsafe { bindings::devres_free(res) };
    } else {
        // SAFETY: `res` is ours, large enough for the pointer, and goes to
        // the device, which is valid.
        unsafe {
            res.cast::<*mut bindings::dma_pool>().write(pool);
            bindings::devres_add(dev, res);
        }
    }
    pool
}

/// `dmam_pool_destroy()`: destroys a managed pool before unbind.
///
/// # Safety
///
/// `pool` must be a live pool made by `dmam_pool_create`.
#[export]
pub unsafe extern "C" fn dmam_pool_destroy(pool: *mut bindings::dma_pool) {
    // SAFETY: The caller passes a live pool.
    let Some(p) = (unsafe { DmaPool::from_c(pool) }) else {
        return;
    };
    // SAFETY: Valid device and functions; devres calls the release, which
    // destroys the pool, if it finds the pool among the device's resources.
    let ret = unsafe {
        bindings::devres_release(
            p.dev,
            Some(dmam_pool_release),
            Some(dmam_pool_match),
            pool.cast(),
        )
    };
    warn_on!(ret != 0);
}
