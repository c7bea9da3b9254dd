// SPDX-License-Identifier: GPL-2.0

//! The records dma-debug keeps and the checks it makes on them.
//!
//! Pure logic that uses only `core`: it is built into the kernel and also
//! compiled and tested on the host (`tools/testing/dma`). A record describes
//! one mapping or allocation; a reference is the record a free, an unmap or
//! a sync describes. Matching finds the record a reference means, and the
//! verdict functions list what is wrong between the two.

/// Number of hash buckets; a bucket covers 8 KiB of DMA addresses.
pub(crate) const HASH_SIZE: usize = 16384;
/// DMA address bits below the bucket index.
pub(crate) const HASH_SHIFT: u32 = 13;

/// The directions of `enum dma_data_direction`.
pub(crate) const DMA_BIDIRECTIONAL: i32 = 0;
/// The device reads.
pub(crate) const DMA_TO_DEVICE: i32 = 1;
/// The device writes.
pub(crate) const DMA_FROM_DEVICE: i32 = 2;

/// Attributes that must be the same at map and unmap.
pub(crate) const ATTRS_UNMAP_VALID: u64 = (1 << 4) // DMA_ATTR_NO_KERNEL_MAPPING
    | (1 << 6) // DMA_ATTR_FORCE_CONTIGUOUS
    | (1 << 10) // DMA_ATTR_MMIO
    | (1 << 12) // DMA_ATTR_REQUIRE_COHERENT
    | (1 << 9) // DMA_ATTR_PRIVILEGED
    | (1 << 13); // DMA_ATTR_CC_SHARED

/// Attributes under which overlapping cachelines are the caller's choice.
pub(crate) const ATTRS_CACHE_CLEAN: u64 = (1 << 11) // DMA_ATTR_DEBUGGING_IGNORE_CACHELINES
    | (1 << 12); // DMA_ATTR_REQUIRE_COHERENT

/// How the memory was mapped or allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub(crate) enum Kind {
    /// `dma_map_single()` (only syncs use it).
    #[default]
    Single,
    /// A scatterlist entry.
    Sg,
    /// `dma_alloc_coherent()`.
    Coherent,
    /// `dma_alloc_pages()`.
    Noncoherent,
    /// `dma_map_phys()`, `dma_map_page()`, `dma_map_resource()`.
    Phy,
}

impl Kind {
    /// The name reports use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Single => "single",
            Kind::Sg => "scatter-gather",
            Kind::Coherent => "coherent",
            Kind::Noncoherent => "noncoherent",
            Kind::Phy => "phy",
        }
    }
}

/// The name of a DMA direction, as reports print it.
pub(crate) fn dir_name(dir: i32) -> &'static str {
    match dir {
        DMA_BIDIRECTIONAL => "DMA_BIDIRECTIONAL",
        DMA_TO_DEVICE => "DMA_TO_DEVICE",
        DMA_FROM_DEVICE => "DMA_FROM_DEVICE",
        3 => "DMA_NONE",
        _ => "DMA_INVALID",
    }
}

/// Whether the driver checked a mapping with `dma_mapping_error()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub(crate) enum MapErr {
    /// Not a mapping that can fail this way.
    #[default]
    NotApplicable,
    /// Not checked yet.
    NotChecked,
    /// Checked.
    Checked,
}

impl MapErr {
    /// The text `dump` prints.
    pub(crate) fn name(self) -> &'static str {
        match self {
            MapErr::NotApplicable => "dma map error check not applicable",
            MapErr::NotChecked => "dma map error not checked",
            MapErr::Checked => "dma map error checked",
        }
    }
}

/// A mapping or allocation, or a reference to one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Record {
    /// The device, by address.
    pub(crate) dev: usize,
    /// DMA address.
    pub(crate) dev_addr: u64,
    /// Length in bytes.
    pub(crate) size: u64,
    /// How it was made.
    pub(crate) kind: Kind,
    /// Its DMA direction.
    pub(crate) dir: i32,
    /// `nents` passed to `dma_map_sg()`.
    pub(crate) sg_call_ents: i32,
    /// What `dma_map_sg()` returned.
    pub(crate) sg_mapped_ents: i32,
    /// Physical address of the CPU's memory.
    pub(crate) paddr: u64,
    /// Whether `dma_mapping_error()` was called.
    pub(crate) map_err: MapErr,
    /// `DMA_ATTR_*` of the call.
    pub(crate) attrs: u64,
}

/// The hash bucket of a DMA address.
pub(crate) fn bucket_of(dev_addr: u64) -> usize {
    ((dev_addr >> HASH_SHIFT) as usize) & (HASH_SIZE - 1)
}

/// How many buckets a containing search looks in, from the reference's
/// own bucket downwards: a mapping that contains the address starts at or
/// below it.
pub(crate) fn contain_search_len(dev_addr: u64) -> usize {
    let below = (dev_addr >> HASH_SHIFT).saturating_add(1);
    if below < HASH_SIZE as u64 {
        below as usize
    } else {
        HASH_SIZE
    }
}

/// Whether record `e` is the mapping reference `r` names by address.
pub(crate) fn exact_match(r: &Record, e: &Record) -> bool {
    e.dev_addr == r.dev_addr && e.dev == r.dev
}

/// Whether record `e` contains the range of reference `r`.
pub(crate) fn containing_match(r: &Record, e: &Record) -> bool {
    e.dev == r.dev
        && e.dev_addr <= r.dev_addr
        && u128::from(e.dev_addr) + u128::from(e.size)
            >= u128::from(r.dev_addr) + u128::from(r.size)
}

/// The record among `candidates` that `r` means, by `matches`: the first
/// one that agrees in size, kind, direction and entry count, else the best
/// partial fit when it is the only match, else none (several equally
/// doubtful matches).
pub(crate) fn best_fit<'a, T: 'a>(
    r: &Record,
    candidates: impl Iterator<Item = (T, &'a Record)>,
    matches: impl Fn(&Record, &Record) -> bool,
) -> Option<T> {
    let mut found = None;
    let mut count = 0;
    let mut best = -1;
    for (handle, e) in candidates {
        if !matches(r, e) {
            continue;
        }
        count += 1;
        let level = i32::from(e.size == r.size)
            + i32::from(e.kind == r.kind)
            + i32::from(e.dir == r.dir)
            + i32::from(e.sg_call_ents == r.sg_call_ents);
        if level == 4 {
            return Some(handle);
        }
        if level > best {
            best = level;
            found = Some(handle);
        }
    }
    if count == 1 {
        found
    } else {
        None
    }
}

/// Something wrong with a free or unmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnmapFault {
    /// Freed with another size than mapped.
    Size,
    /// Freed with the function of another kind of mapping.
    Function,
    /// A coherent or page allocation freed by another CPU address.
    CpuAddress,
    /// An sg list unmapped with another entry count.
    SgCount,
    /// Unmapped with another direction.
    Direction,
    /// The mapping was never checked with `dma_mapping_error()`.
    NotChecked,
    /// Unmapped with other attributes.
    Attrs,
}

/// What is wrong with unmapping `r` when the mapping is `e`, in the order
/// dma-debug reports it. Returns the number of faults written to `out`.
pub(crate) fn unmap_faults(r: &Record, e: &Record, out: &mut [UnmapFault; 7]) -> usize {
    let mut n = 0;
    let mut push = |f| {
        out[n] = f;
        n += 1;
    };
    if r.size != e.size {
        push(UnmapFault::Size);
    }
    if r.kind != e.kind {
        push(UnmapFault::Function);
    } else if matches!(e.kind, Kind::Coherent | Kind::Noncoherent) && r.paddr != e.paddr {
        push(UnmapFault::CpuAddress);
    }
    if r.sg_call_ents != 0 && r.kind == Kind::Sg && r.sg_call_ents != e.sg_call_ents {
        push(UnmapFault::SgCount);
    }
    if r.dir != e.dir {
        push(UnmapFault::Direction);
    }
    if e.map_err == MapErr::NotChecked {
        push(UnmapFault::NotChecked);
    }
    if r.attrs & ATTRS_UNMAP_VALID != e.attrs & ATTRS_UNMAP_VALID {
        push(UnmapFault::Attrs);
    }
    n
}

/// Something wrong with a sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SyncFault {
    /// The sync reaches past the end of the mapping.
    OutOfRange,
    /// Synced with another direction than mapped.
    Direction,
    /// Memory the device only reads is synced for the CPU.
    ReadOnlyForCpu,
    /// Memory the device only writes is synced for the device.
    WriteOnlyForDevice,
    /// An sg list synced with another entry count.
    SgCount,
}

/// What is wrong with syncing `r` (`to_cpu` or for the device) when the
/// mapping is `e`, in the order dma-debug reports it.
pub(crate) fn sync_faults(r: &Record, e: &Record, to_cpu: bool, out: &mut [SyncFault; 5]) -> usize {
    let mut n = 0;
    let mut push = |f| {
        out[n] = f;
        n += 1;
    };
    if r.size > e.size {
        push(SyncFault::OutOfRange);
    }
    if e.dir == DMA_BIDIRECTIONAL {
        return n;
    }
    if r.dir != e.dir {
        push(SyncFault::Direction);
    }
    if to_cpu && e.dir != DMA_FROM_DEVICE && r.dir != DMA_TO_DEVICE {
        push(SyncFault::ReadOnlyForCpu);
    }
    if !to_cpu && e.dir != DMA_TO_DEVICE && r.dir != DMA_FROM_DEVICE {
        push(SyncFault::WriteOnlyForDevice);
    }
    if r.sg_call_ents != 0 && r.kind == Kind::Sg && r.sg_call_ents != e.sg_call_ents {
        push(SyncFault::SgCount);
    }
    n
}

/// The cacheline number of a physical address, counted in lines of
/// `1 << line_shift` bytes within pages of `1 << page_shift` bytes.
pub(crate) fn cacheline(paddr: u64, page_shift: u32, line_shift: u32) -> u64 {
    let per_page_shift = page_shift - line_shift;
    ((paddr >> page_shift) << per_page_shift) + ((paddr & ((1 << page_shift) - 1)) >> line_shift)
}

/// The most overlapping mappings of one cacheline dma-debug counts before
/// it warns that mappings may be leaking.
pub(crate) const MAX_OVERLAP: u32 = 7;

/// Whether a mapping in this direction takes part in cacheline tracking:
/// memory the device only reads cannot go stale for the CPU.
pub(crate) fn tracks_cacheline(dir: i32) -> bool {
    dir != DMA_TO_DEVICE
}

/// Whether a new mapping that overlaps `existing` others on a cacheline is
/// reported, given the new mapping's attributes, whether the first of the
/// others was mapped "cache clean", and whether the architecture's DMA
/// alignment makes overlaps unsafe at all.
pub(crate) fn overlap_reported(
    existing: u32,
    attrs: u64,
    existing_clean: bool,
    unsafe_overlaps: bool,
) -> bool {
    const SKIP_CPU_SYNC: u64 = 1 << 5;
    existing > 0
        && attrs & SKIP_CPU_SYNC == 0
        && !(attrs & ATTRS_CACHE_CLEAN != 0 && existing_clean)
        && unsafe_overlaps
}

/// Parses the `driver_filter` text: the first word, if it starts with a
/// letter or a digit; otherwise the filter is switched off (`None`). The
/// name is at most `out.len() - 1` bytes and NUL-terminated.
pub(crate) fn parse_filter(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let first = *input.first()?;
    if !first.is_ascii_alphanumeric() {
        return None;
    }
    let mut n = 0;
    while n + 1 < out.len() && n < input.len() {
        let c = input[n];
        if c == 0 || c.is_ascii_whitespace() {
            break;
        }
        out[n] = c;
        n += 1;
    }
    out[n] = 0;
    Some(n)
}
