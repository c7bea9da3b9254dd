// SPDX-License-Identifier: GPL-2.0-only

//! Who holds the slots: the devices with bounce slots in use, and how many
//! each holds, for "swiotlb buffer is full" and `swiotlb/devices`.
//!
//! Pure logic (only `core`), host-tested in `tools/testing/dma`. A table
//! of [`ENTRIES`] entries, keyed by the device's address, updated with
//! atomics by every map and unmap without a lock. An entry, once a device
//! has claimed it, stays that device's (a device is rarely gone while it
//! holds slots, and an address reused by a new device shares the entry);
//! the slots of devices that find no entry count as others. The name is
//! copied when a device's count rises from 0, so that reading the table
//! never touches a device that may be gone.

use core::sync::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{
        AcqRel,
        Acquire,
        Relaxed, //
    },
};

/// Entries of the table.
pub(crate) const ENTRIES: usize = 64;
/// Bytes of a name kept, its NUL included.
pub(crate) const NAME_LEN: usize = 32;

/// A device and the slots it holds.
struct Holder {
    /// The device's address; 0 for an unused entry.
    key: AtomicUsize,
    slots: AtomicUsize,
    /// The device's name, NUL-padded, in words so that a reader racing
    /// with a writer reads torn text rather than racing.
    name: [AtomicU64; NAME_LEN / 8],
}

impl Holder {
    const fn new() -> Self {
        Holder {
            key: AtomicUsize::new(0),
            slots: AtomicUsize::new(0),
            name: [const { AtomicU64::new(0) }; NAME_LEN / 8],
        }
    }

    fn set_name(&self, name: &[u8]) {
        let mut bytes = [0u8; NAME_LEN];
        let n = name.len().min(NAME_LEN - 1);
        bytes[..n].copy_from_slice(&name[..n]);
        for (w, chunk) in self.name.iter().zip(bytes.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            w.store(u64::from_ne_bytes(word), Relaxed);
        }
    }

    fn name(&self) -> [u8; NAME_LEN] {
        let mut bytes = [0u8; NAME_LEN];
        for (w, chunk) in self.name.iter().zip(bytes.chunks_exact_mut(8)) {
            chunk.copy_from_slice(&w.load(Relaxed).to_ne_bytes());
        }
        bytes
    }
}

/// The table of holders.
pub(crate) struct Holders {
    entries: [Holder; ENTRIES],
    /// Slots of devices that found no entry.
    others: AtomicUsize,
}

/// One line of a report: a device's name (NUL-padded) and its slots.
pub(crate) type Line = ([u8; NAME_LEN], usize);

impl Holders {
    /// An empty table.
    pub(crate) const fn new() -> Self {
        Holders {
            entries: [const { Holder::new() }; ENTRIES],
            others: AtomicUsize::new(0),
        }
    }

    /// The entry of `key`, claiming a free one if `claim`.
    fn entry(&self, key: usize, claim: bool) -> Option<&Holder> {
        // Device structures are at least word aligned; mix the bits above.
        let start = (key >> 4).wrapping_mul(0x9e37_79b9) % ENTRIES;
        for k in 0..ENTRIES {
            let h = &self.entries[(start + k) % ENTRIES];
            match h.key.load(Acquire) {
                cur if cur == key => return Some(h),
                0 if claim => match h.key.compare_exchange(0, key, AcqRel, Acquire) {
                    Ok(_) => return Some(h),
                    Err(cur) if cur == key => return Some(h),
                    Err(_) => {}
                },
                // Entries are claimed in probe order and never given back:
                // past a free one, `key` has none.
                0 => return None,
                _ => {}
            }
        }
        None
    }

    /// Counts `n` slots taken by the device at `key`; `name` gives its name
    /// when its count rises from 0.
    pub(crate) fn take<'n>(&self, key: usize, n: usize, name: impl FnOnce() -> &'n [u8]) {
        match self.entry(key, true) {
            Some(h) => {
                if h.slots.fetch_add(n, Relaxed) == 0 {
                    h.set_name(name());
                }
            }
            None => {
                self.others.fetch_add(n, Relaxed);
            }
        }
    }

    /// Counts `n` slots given back by the device at `key`. Returns `false`
    /// when the device did not hold that many (an unmap through another
    /// device than the map's), and then counts nothing.
    pub(crate) fn give(&self, key: usize, n: usize) -> bool {
        let count = match self.entry(key, false) {
            Some(h) => &h.slots,
            None => &self.others,
        };
        count
            .fetch_update(Relaxed, Relaxed, |c| c.checked_sub(n))
            .is_ok()
    }

    /// Calls `f` for each device holding slots, then for the others (with
    /// the name "others") if any.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8], usize)) {
        for h in &self.entries {
            let slots = h.slots.load(Relaxed);
            if h.key.load(Acquire) != 0 && slots != 0 {
                let name = h.name();
                let len = name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
                f(&name[..len], slots);
            }
        }
        let others = self.others.load(Relaxed);
        if others != 0 {
            f(b"others", others);
        }
    }

    /// The `N` devices holding the most slots, most first; unused lines
    /// hold 0 slots.
    pub(crate) fn top<const N: usize>(&self) -> [Line; N] {
        let mut top = [([0u8; NAME_LEN], 0usize); N];
        self.for_each(|name, slots| {
            let Some(i) = top.iter().position(|&(_, s)| slots > s) else {
                return;
            };
            top[i..].rotate_right(1);
            let mut bytes = [0u8; NAME_LEN];
            bytes[..name.len()].copy_from_slice(name);
            top[i] = (bytes, slots);
        });
        top
    }
}

impl Default for Holders {
    fn default() -> Self {
        Self::new()
    }
}
