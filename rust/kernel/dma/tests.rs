// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of the safe DMA API, one suite per module.
//!
//! They run on a faux device, which is never behind an IOMMU: its DMA goes through dma-direct,
//! and through swiotlb bounce buffers under `swiotlb=force`. The tests play the device: they
//! read and write memory at the DMA addresses they are given, which is physical memory there.
//! What they check is what the DMA API did: the bytes the "device" sees and the CPU gets back
//! (so a missing bounce copy fails), the mappings `dma-api/dump` lists for the device, and
//! error returns.

use super::DmaMask;
use crate::{
    bindings,
    device::{Bound, Device},
    error::to_result,
    faux,
    prelude::*,
};

/// The QEMU setup, as the conformance suite's helper reports it.
#[derive(PartialEq, Eq, Debug)]
enum Setup {
    Plain,
    Swiotlb,
    Iommu,
}

extern "C" {
    fn dma_kunit_debugfs_read(name: *const c_char, buf: *mut c_char, size: usize) -> c_int;
    fn dma_kunit_setup(dev: *mut c_void) -> c_uint;
}

// The arch hook recorder of `kernel/dma/kunit/noncoherent_arch.c`.
#[cfg(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)]
extern "C" {
    fn dma_kunit_rec_begin() -> c_int;
    fn dma_kunit_rec_end() -> c_uint;
    fn dma_kunit_rec_bytes(
        dev: *mut c_void,
        hook: c_int,
        dma: crate::dma::DmaAddress,
        len: usize,
        dir: c_int,
    ) -> usize;
    fn dma_kunit_dev_coherent(dev: *mut c_void) -> bool;
}

/// A bound device with a DMA mask, unregistered when dropped.
///
/// Each test names its device, so that `dma-api/dump` tells its mappings from those of other
/// tests (a failed assertion ends a test without running destructors).
struct TestDevice(faux::Registration);

impl TestDevice {
    fn new(name: &'static CStr, mask_bits: u32) -> Result<Self> {
        let reg = faux::Registration::new(name, None)?;
        let dev = reg.as_ref().as_raw();
        // SAFETY: `dev` is a registered device. A faux device has no streaming mask of its own;
        // like `dma_coerce_mask_and_coherent()`, use the coherent one, which lives as long as
        // the device.
        unsafe { (*dev).dma_mask = &raw mut (*dev).coherent_dma_mask };
        let mask = DmaMask::try_new(mask_bits)?;
        // SAFETY: `dev` is valid, and nothing maps for it yet.
        to_result(unsafe { bindings::dma_set_mask_and_coherent(dev, mask.value()) })?;
        Ok(Self(reg))
    }

    /// A device with a 24-bit mask, or `None` where the DMA core refuses that mask with
    /// `EIO` because no RAM lies below it (arm64's `virt`, whose RAM starts at 1 GiB).
    fn below_ram(name: &'static CStr) -> Result<Option<Self>> {
        match Self::new(name, 24) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e == EIO => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn dev(&self) -> &Device<Bound> {
        // SAFETY: A faux device is bound to the faux driver from its creation until its
        // registration is dropped (the driver has no unbind attribute).
        unsafe { self.0.as_ref().as_bound() }
    }

    fn setup(&self) -> Setup {
        // SAFETY: The device is valid.
        match unsafe { dma_kunit_setup(self.dev().as_raw().cast()) } {
            0 => Setup::Plain,
            1 => Setup::Swiotlb,
            _ => Setup::Iommu,
        }
    }
}

/// How many mappings and allocations `dma-api/dump` lists for the device called `name`.
fn live_entries(name: &CStr) -> Result<usize> {
    let mut buf = VVec::<u8>::from_elem(0, 1 << 20, GFP_KERNEL)?;
    // SAFETY: `buf` has room for `len()` bytes; the helper NUL-terminates what it reads.
    let n = unsafe {
        dma_kunit_debugfs_read(c"dump".as_char_ptr(), buf.as_mut_ptr().cast(), buf.len())
    };
    let n = usize::try_from(n).map_err(|_| EIO)?;
    let text = buf.get(..n).ok_or(EIO)?;
    Ok(text
        .split(|&b| b == b'\n')
        .filter(|line| contains(line, name.to_bytes()))
        .count())
}

/// Whether `line` names the device `name`: the name followed by a space.
fn contains(line: &[u8], name: &[u8]) -> bool {
    line.windows(name.len() + 1)
        .any(|w| w.starts_with(name) && w[name.len()] == b' ')
}

/// The device's side: `len` bytes at DMA address `addr`, which is a physical address for the
/// faux device (no IOMMU, no memory encryption in these setups).
fn device_view(addr: super::DmaAddress, len: usize) -> &'static mut [u8] {
    let page = addr >> crate::page::PAGE_SHIFT;
    let offset = (addr as usize) & (crate::page::PAGE_SIZE - 1);
    // SAFETY: `addr` is a live DMA address of the faux device, which is direct-mapped lowmem
    // (kmalloc, vmalloc pages, bounce slots or coherent pages); the test keeps the mapping
    // alive while it uses the slice.
    unsafe {
        let base = bindings::page_address(bindings::pfn_to_page(page as c_ulong)).cast::<u8>();
        core::slice::from_raw_parts_mut(base.add(offset), len)
    }
}

/// A recognisable pattern for byte `i`.
fn pattern(i: usize, seed: u8) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8)
}

/// Writes the pattern of `seed` into `bytes`, which start at byte `start` of a buffer.
fn fill_pattern(bytes: &mut [u8], start: usize, seed: u8) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = pattern(start + i, seed);
    }
}

/// Whether `bytes`, which start at byte `start` of a buffer, hold the pattern of `seed`.
fn has_pattern(bytes: &[u8], start: usize, seed: u8) -> bool {
    bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(start + i, seed))
}

#[kunit_tests(rust_dma_streaming)]
mod streaming {
    use super::*;
    use crate::dma::{
        attrs,
        streaming::{MapSource, Mapping},
        Bidirectional, FromDevice, ToDevice,
    };
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// The device reads what the CPU wrote, before and after a round trip through the CPU.
    #[test]
    fn to_device_sees_cpu_bytes() -> Result {
        const NAME: &CStr = c"rdt-to-device-sees-cpu-bytes";
        let t = TestDevice::new(NAME, 64)?;
        let mut data = KVec::from_elem(0u8, 3000, GFP_KERNEL)?;
        fill_pattern(&mut data, 0, 1);
        // SAFETY: `data` is a live kmalloc buffer.
        let phys = unsafe { bindings::virt_to_phys(data.as_ptr().cast_mut().cast()) };
        let m = Mapping::<_, ToDevice>::new(t.dev(), data)?;
        let addr = m.dma_handle();
        assert!(has_pattern(device_view(addr, 3000), 0, 1));
        match t.setup() {
            Setup::Swiotlb => assert_ne!(addr, phys),
            _ => assert_eq!(addr, phys),
        }
        let mut cpu = m.sync_for_cpu();
        fill_pattern(&mut cpu, 0, 2);
        let m = cpu.sync_for_device();
        assert!(has_pattern(device_view(addr, 3000), 0, 2));
        let data = m.unmap();
        assert_eq!(data.len(), 3000);
        Ok(())
    }

    /// What the device writes reaches the CPU at `sync_for_cpu`, bounced or not.
    #[test]
    fn from_device_reaches_cpu() -> Result {
        const NAME: &CStr = c"rdt-from-device-reaches-cpu";
        let t = TestDevice::new(NAME, 64)?;
        let m = Mapping::<_, FromDevice>::new(t.dev(), KVec::from_elem(0u8, 5000, GFP_KERNEL)?)?;
        fill_pattern(device_view(m.dma_handle(), 5000), 0, 3);
        let cpu = m.sync_for_cpu();
        assert!(has_pattern(&cpu, 0, 3));
        Ok(())
    }

    /// What the CPU writes while it owns a bidirectional mapping survives the unmap: the
    /// CPU-owned unmap skips the CPU sync, so under swiotlb the bounce slot, which still holds
    /// what the device wrote, is not copied back over it.
    #[test]
    fn cpu_writes_survive_unmap() -> Result {
        const NAME: &CStr = c"rdt-cpu-writes-survive-unmap";
        let t = TestDevice::new(NAME, 64)?;
        let m = Mapping::<_, Bidirectional>::new(t.dev(), KVec::from_elem(0u8, 2000, GFP_KERNEL)?)?;
        fill_pattern(device_view(m.dma_handle(), 2000), 0, 4);
        let mut cpu = m.sync_for_cpu();
        assert!(has_pattern(&cpu, 0, 4));
        fill_pattern(&mut cpu, 0, 5);
        let data = cpu.unmap();
        assert!(has_pattern(&data, 0, 5));
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// `with_cpu` hands a mapping to the CPU and back in place, as often as the device fills
    /// it: each time the CPU sees the device's latest bytes.
    #[test]
    fn with_cpu_recycles_in_place() -> Result {
        const NAME: &CStr = c"rdt-with-cpu-recycles-in-place";
        let t = TestDevice::new(NAME, 64)?;
        let mut m =
            Mapping::<_, FromDevice>::new(t.dev(), KVec::from_elem(0u8, 3000, GFP_KERNEL)?)?;
        for seed in [6, 7] {
            fill_pattern(device_view(m.dma_handle(), 3000), 0, seed);
            assert!(m.with_cpu(|cpu| has_pattern(cpu, 0, seed)));
        }
        assert_eq!(live_entries(NAME)?, 1);
        drop(m);
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// A partial sync hands over just its bytes, across the chunks of a vmalloc'ed vector too,
    /// and shows the CPU only them. A part outside the buffer is refused.
    #[test]
    fn partial_sync_hands_over_the_part() -> Result {
        const NAME: &CStr = c"rdt-partial-sync-hands-over-the-part";
        let t = TestDevice::new(NAME, 64)?;
        let page = crate::page::PAGE_SIZE;
        let size = 3 * page;
        let mut m =
            Mapping::<_, FromDevice>::new(t.dev(), VVec::from_elem(0u8, size, GFP_KERNEL)?)?;
        let ranges = m.region().ranges();
        let mut start = 0;
        for r in ranges {
            fill_pattern(device_view(r.addr, r.len), start, 8);
            start += r.len;
        }
        let (offset, len) = (page - 50, 100);
        let seen = m.read_part(offset, len, |part| {
            (part.len(), has_pattern(part, offset, 8))
        })?;
        assert_eq!(seen, (len, true));
        assert_eq!(m.read_part(size - 10, 11, |_| ()).err(), Some(EINVAL));
        assert_eq!(m.read_part(usize::MAX, 2, |_| ()).err(), Some(EINVAL));
        Ok(())
    }

    /// A buffer mapped CPU-owned (`DMA_ATTR_SKIP_CPU_SYNC`) reaches the device at
    /// `sync_for_device`, with what the CPU wrote after mapping it. Hints are accepted as
    /// attributes, anything else is refused.
    #[test]
    fn cpu_owned_mapping_and_attrs() -> Result {
        const NAME: &CStr = c"rdt-cpu-owned-mapping-and-attrs";
        let t = TestDevice::new(NAME, 64)?;
        let mut cpu = Mapping::<_, ToDevice>::new_cpu_owned(
            t.dev(),
            KVec::from_elem(0u8, 1500, GFP_KERNEL)?,
        )?;
        fill_pattern(&mut cpu, 0, 10);
        let m = cpu.sync_for_device();
        assert!(has_pattern(device_view(m.dma_handle(), 1500), 0, 10));
        drop(m.unmap());
        let hint = attrs::DMA_ATTR_WEAK_ORDERING | attrs::DMA_ATTR_NO_WARN;
        let m = Mapping::<_, ToDevice>::new_with_attrs(
            t.dev(),
            KVec::from_elem(1u8, 64, GFP_KERNEL)?,
            hint,
        )?;
        drop(m);
        for bad in [
            attrs::DMA_ATTR_MMIO,
            attrs::DMA_ATTR_SKIP_CPU_SYNC,
            attrs::DMA_ATTR_PRIVILEGED,
        ] {
            let buf = KVec::from_elem(1u8, 64, GFP_KERNEL)?;
            assert_eq!(
                Mapping::<_, ToDevice>::new_with_attrs(t.dev(), buf, bad).err(),
                Some(EINVAL)
            );
        }
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// A vmalloc'ed vector maps as one range per physically contiguous run of pages, each
    /// listed by dma-debug while mapped, and none after.
    #[test]
    fn vvec_maps_each_chunk() -> Result {
        const NAME: &CStr = c"rdt-vvec-maps-each-chunk";
        let t = TestDevice::new(NAME, 64)?;
        let size = 5 * crate::page::PAGE_SIZE + 100;
        let before = live_entries(NAME)?;
        let m = Mapping::<_, Bidirectional>::new(t.dev(), VVec::from_elem(7u8, size, GFP_KERNEL)?)?;
        let ranges = m.region().ranges();
        let (n, total) = (ranges.len(), ranges.iter().map(|r| r.len).sum::<usize>());
        assert!(n >= 1);
        assert_eq!(total, size);
        assert_eq!(live_entries(NAME)?, before + n);
        for r in ranges {
            assert!(device_view(r.addr, r.len).iter().all(|&b| b == 7));
        }
        drop(m);
        assert_eq!(live_entries(NAME)?, before);
        Ok(())
    }

    /// How many bytes of the pattern a [`Watched`] buffer held when it was dropped.
    static SEEN_AT_DROP: AtomicUsize = AtomicUsize::new(usize::MAX);

    /// A buffer that records, when it is dropped, how much of the device's pattern reached it.
    struct Watched(KBox<[u8; 512]>);

    impl Drop for Watched {
        fn drop(&mut self) {
            let seen = (0..512).filter(|&i| self.0[i] == pattern(i, 9)).count();
            SEEN_AT_DROP.store(seen, Ordering::Relaxed);
        }
    }

    // SAFETY: The box's memory is reported as one chunk, exactly its bytes; it does not move
    // while the `Watched` is not moved out of.
    unsafe impl MapSource for Watched {
        type Target = [u8; 512];

        fn target(&self) -> &[u8; 512] {
            &self.0
        }

        fn target_mut(&mut self) -> &mut [u8; 512] {
            &mut self.0
        }

        fn size(&self) -> usize {
            512
        }

        fn chunks(&self, mut f: impl FnMut(bindings::phys_addr_t, usize) -> Result) -> Result {
            // SAFETY: A `KBox` is kmalloc memory, in the linear map.
            f(
                unsafe { bindings::virt_to_phys(self.0.as_ptr().cast_mut().cast()) },
                512,
            )
        }
    }

    /// Dropping a mapping the device wrote unmaps it before the buffer goes: under swiotlb the
    /// bounce slot is copied back while the buffer still exists (the other order wrote into
    /// freed memory), and the buffer sees all the device wrote.
    #[test]
    fn drop_unmaps_before_freeing() -> Result {
        const NAME: &CStr = c"rdt-drop-unmaps-before-freeing";
        let t = TestDevice::new(NAME, 64)?;
        let m = Mapping::<_, FromDevice>::new(t.dev(), Watched(KBox::new([0; 512], GFP_KERNEL)?))?;
        fill_pattern(device_view(m.dma_handle(), 512), 0, 9);
        SEEN_AT_DROP.store(usize::MAX, Ordering::Relaxed);
        drop(m);
        assert_eq!(SEEN_AT_DROP.load(Ordering::Relaxed), 512);
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// Mapping allocates nothing that sleeps: a vmalloc'ed vector of several chunks maps and
    /// unmaps under a spinlock (with `CONFIG_DEBUG_ATOMIC_SLEEP`, a sleeping allocation there
    /// is a BUG report, which fails the run).
    #[test]
    fn maps_in_atomic_context() -> Result {
        const NAME: &CStr = c"rdt-maps-in-atomic-context";
        let t = TestDevice::new(NAME, 64)?;
        let size = 6 * crate::page::PAGE_SIZE;
        let mut bufs = KVec::with_capacity(2, GFP_KERNEL)?;
        bufs.push(VVec::from_elem(5u8, size, GFP_KERNEL)?, GFP_KERNEL)?;
        bufs.push(VVec::from_elem(6u8, size, GFP_KERNEL)?, GFP_KERNEL)?;
        let lock = KBox::pin_init(crate::new_spinlock!(bufs), GFP_KERNEL)?;
        let mut guard = lock.lock();
        let buf = guard.pop().ok_or(EINVAL)?;
        let m = Mapping::<_, ToDevice>::new(t.dev(), buf)?;
        let n = m.region().ranges().len();
        let total: usize = m.region().ranges().iter().map(|r| r.len).sum();
        let buf = m.unmap();
        guard.push(buf, GFP_ATOMIC)?;
        drop(guard);
        assert!(n >= 1);
        assert_eq!(total, size);
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// An empty buffer is refused, and a 24-bit device gets an address below 16 MiB or an
    /// error, never an address it cannot reach.
    #[test]
    fn map_errors() -> Result {
        const NAME: &CStr = c"rdt-map-errors";
        let t = TestDevice::new(NAME, 64)?;
        assert_eq!(
            Mapping::<_, ToDevice>::new(t.dev(), KVec::<u8>::new()).err(),
            Some(EINVAL)
        );
        drop(t);
        let Some(t) = TestDevice::below_ram(NAME)? else {
            return Ok(());
        };
        match Mapping::<_, ToDevice>::new(t.dev(), KVec::from_elem(1u8, 64, GFP_KERNEL)?) {
            Ok(m) => {
                assert!(m.dma_handle() + 64 <= 1 << 24);
                assert_eq!(live_entries(NAME)?, 1);
            }
            Err(e) => {
                assert_eq!(e, ENOMEM);
                assert_eq!(live_entries(NAME)?, 0);
            }
        }
        Ok(())
    }
}

#[kunit_tests(rust_dma_iova)]
mod iova {
    use super::*;
    use crate::dma::{iova::IovaMapping, FromDevice};

    /// Without an IOMMU the mapping falls back to streaming mappings, which work the same.
    #[test]
    fn falls_back_without_iommu() -> Result {
        const NAME: &CStr = c"rdt-falls-back-without-iommu";
        let t = TestDevice::new(NAME, 64)?;
        let size = 3 * crate::page::PAGE_SIZE;
        let m =
            IovaMapping::<_, FromDevice>::new(t.dev(), VVec::from_elem(0u8, size, GFP_KERNEL)?)?;
        assert!(!m.uses_iova());
        let mut off = 0;
        for r in m.ranges() {
            fill_pattern(device_view(r.addr, r.len), off, 4);
            off += r.len;
        }
        assert_eq!(off, size);
        assert!(live_entries(NAME)? >= 1);
        let buf = m.unmap();
        assert_eq!(live_entries(NAME)?, 0);
        assert!(has_pattern(&buf, 0, 4));
        Ok(())
    }
}

#[kunit_tests(rust_dma_noncoherent)]
mod noncoherent {
    use super::*;
    #[cfg(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)]
    use crate::dma::{owner::Direction, FromDevice, ToDevice};
    use crate::{
        alloc::flags::{__GFP_HIGHMEM, GFP_DMA},
        dma::{
            noncoherent::{NonCoherent, NonContiguous},
            Bidirectional,
        },
    };

    /// Bytes go both ways through pages from `dma_alloc_pages()`.
    #[test]
    fn pages_round_trip() -> Result {
        const NAME: &CStr = c"rdt-pages-round-trip";
        let t = TestDevice::new(NAME, 64)?;
        let mut cpu = NonCoherent::<Bidirectional>::alloc(t.dev(), 8192, GFP_KERNEL)?;
        fill_pattern(&mut cpu, 0, 5);
        let dev = cpu.sync_for_device();
        let view = device_view(dev.dma_handle(), 8192);
        assert!(has_pattern(view, 0, 5));
        view.fill(0x3c);
        let cpu = dev.sync_for_cpu();
        assert!(cpu.iter().all(|&b| b == 0x3c));
        assert_eq!(live_entries(NAME)?, 1);
        drop(cpu);
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// The same through `dma_alloc_noncontiguous()`, whose segments the device sees.
    #[test]
    fn noncontiguous_round_trip() -> Result {
        const NAME: &CStr = c"rdt-noncontiguous-round-trip";
        let t = TestDevice::new(NAME, 64)?;
        let size = 4 * crate::page::PAGE_SIZE;
        let mut cpu = NonContiguous::<Bidirectional>::alloc(t.dev(), size, GFP_KERNEL)?;
        fill_pattern(&mut cpu, 0, 6);
        let dev = cpu.sync_for_device();
        let mut off = 0;
        for sg in dev.region().sg_table().iter() {
            let len = sg.dma_len() as usize;
            let view = device_view(sg.dma_address(), len);
            assert!(has_pattern(view, off, 6));
            view.fill(0x5a);
            off += len;
        }
        assert_eq!(off, size);
        let cpu = dev.sync_for_cpu();
        assert!(cpu.iter().all(|&b| b == 0x5a));
        Ok(())
    }

    /// A zero size is refused, and so are zone flags, which the C API would meet with a
    /// warning (a `WARNING` fails the run); nothing is left allocated.
    #[test]
    fn bad_requests_are_einval() -> Result {
        const NAME: &CStr = c"rdt-bad-requests-are-einval";
        let t = TestDevice::new(NAME, 64)?;
        assert_eq!(
            NonCoherent::<Bidirectional>::alloc(t.dev(), 0, GFP_KERNEL).err(),
            Some(EINVAL)
        );
        assert_eq!(
            NonContiguous::<Bidirectional>::alloc(t.dev(), 0, GFP_KERNEL).err(),
            Some(EINVAL)
        );
        for flags in [GFP_DMA, __GFP_HIGHMEM] {
            assert_eq!(
                NonCoherent::<Bidirectional>::alloc(t.dev(), 4096, GFP_KERNEL | flags).err(),
                Some(EINVAL)
            );
            assert_eq!(
                NonContiguous::<Bidirectional>::alloc(t.dev(), 4096, GFP_KERNEL | flags).err(),
                Some(EINVAL)
            );
        }
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// Runs `f` with the arch hook recorder armed; returns what `f` returned and the number of
    /// `arch_sync_dma_for_{device,cpu}()` calls the test's task made meanwhile.
    #[cfg(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)]
    fn recorded<R>(f: impl FnOnce() -> R) -> Result<(R, c_uint)> {
        // SAFETY: No precondition; it fails where kprobes are missing.
        to_result(unsafe { dma_kunit_rec_begin() })?;
        let r = f();
        // SAFETY: Recording was begun above.
        let n = unsafe { dma_kunit_rec_end() };
        Ok((r, n))
    }

    /// The bytes of `len` at `dma` that the last recording's calls of `hook` (0: for the
    /// device, 1: for the CPU) in direction `D` covered.
    #[cfg(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)]
    fn maintained<D: Direction>(
        dev: &Device<Bound>,
        hook: c_int,
        dma: crate::dma::DmaAddress,
        len: usize,
    ) -> usize {
        let dir = bindings::dma_data_direction::from(D::DIRECTION) as c_int;
        // SAFETY: `dev` is a live device; the recording has ended.
        unsafe { dma_kunit_rec_bytes(dev.as_raw().cast(), hook, dma, len, dir) }
    }

    /// Every hand-over of a `NonCoherent<D>` maintains the whole buffer in direction `D`, once:
    /// for the device when the device gets it, for the CPU when the CPU gets it back, both in
    /// `with_cpu`; allocation and free maintain nothing.
    #[cfg(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)]
    fn pages_hand_overs<D: Direction>(t: &TestDevice) -> Result {
        const FOR_DEVICE: c_int = 0;
        const FOR_CPU: c_int = 1;
        let size = 2 * crate::page::PAGE_SIZE;
        let (cpu, n) = recorded(|| NonCoherent::<D>::alloc(t.dev(), size, GFP_KERNEL))?;
        let cpu = cpu?;
        let dma = cpu.dma_handle();
        assert_eq!(n, 0);
        let (mut dev, n) = recorded(|| cpu.sync_for_device())?;
        assert_eq!(n, 1);
        assert_eq!(maintained::<D>(t.dev(), FOR_DEVICE, dma, size), size);
        let ((), n) = recorded(|| dev.with_cpu(|_| ()))?;
        assert_eq!(n, 2);
        assert_eq!(maintained::<D>(t.dev(), FOR_CPU, dma, size), size);
        assert_eq!(maintained::<D>(t.dev(), FOR_DEVICE, dma, size), size);
        let (cpu, n) = recorded(|| dev.sync_for_cpu())?;
        assert_eq!(n, 1);
        assert_eq!(maintained::<D>(t.dev(), FOR_CPU, dma, size), size);
        let ((), n) = recorded(|| drop(cpu))?;
        assert_eq!(n, 0);
        Ok(())
    }

    /// On arm64 the faux device, which no firmware describes, is not DMA-coherent: the
    /// hand-overs of `NonCoherent` and `NonContiguous` reach the architecture's cache
    /// maintenance, watched by kprobes (TCG models no caches, so the bytes alone would not show
    /// a missing flush).
    #[cfg(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)]
    #[test]
    fn hand_overs_maintain_caches() -> Result {
        const NAME: &CStr = c"rdt-hand-overs-maintain-caches";
        const FOR_DEVICE: c_int = 0;
        const FOR_CPU: c_int = 1;
        let t = TestDevice::new(NAME, 64)?;
        // SAFETY: The device is live.
        assert!(!unsafe { dma_kunit_dev_coherent(t.dev().as_raw().cast()) });
        pages_hand_overs::<Bidirectional>(&t)?;
        pages_hand_overs::<FromDevice>(&t)?;
        pages_hand_overs::<ToDevice>(&t)?;

        let size = 3 * crate::page::PAGE_SIZE;
        let (cpu, n) =
            recorded(|| NonContiguous::<Bidirectional>::alloc(t.dev(), size, GFP_KERNEL))?;
        let cpu = cpu?;
        assert_eq!(n, 0);
        let segments = cpu.region().sg_table().iter().count() as c_uint;
        // What the last recording's calls of `hook` covered of the table's segments.
        let covered = |table: &crate::scatterlist::SGTable, hook| -> usize {
            table
                .iter()
                .map(|sg| {
                    maintained::<Bidirectional>(
                        t.dev(),
                        hook,
                        sg.dma_address(),
                        sg.dma_len() as usize,
                    )
                })
                .sum()
        };
        let (dev, n) = recorded(|| cpu.sync_for_device())?;
        assert_eq!(n, segments);
        assert_eq!(covered(dev.region().sg_table(), FOR_DEVICE), size);
        let (cpu, n) = recorded(|| dev.sync_for_cpu())?;
        assert_eq!(n, segments);
        assert_eq!(covered(cpu.region().sg_table(), FOR_CPU), size);
        let ((), n) = recorded(|| drop(cpu))?;
        assert_eq!(n, 0);
        Ok(())
    }

    /// Both allocations start zeroed, whatever the backend handed out.
    #[test]
    fn allocations_start_zeroed() -> Result {
        const NAME: &CStr = c"rdt-allocations-start-zeroed";
        let t = TestDevice::new(NAME, 64)?;
        let size = 3 * crate::page::PAGE_SIZE;
        let pages = NonCoherent::<Bidirectional>::alloc(t.dev(), size, GFP_KERNEL)?;
        assert!(pages.iter().all(|&b| b == 0));
        let chunks = NonContiguous::<Bidirectional>::alloc(t.dev(), size, GFP_KERNEL)?;
        assert!(chunks.iter().all(|&b| b == 0));
        Ok(())
    }
}

#[kunit_tests(rust_dma_pool)]
mod pool {
    use super::*;
    use crate::dma::pool::Pool;

    /// Blocks are aligned, distinct, zeroed, and the device sees what the CPU writes.
    #[test]
    fn blocks_are_device_memory() -> Result {
        const NAME: &CStr = c"rdt-blocks-are-device-memory";
        let t = TestDevice::new(NAME, 64)?;
        let pool = Pool::<[u8; 96]>::new(t.dev(), c"rust-dma-test", 128, 0)?;
        let mut blocks = KVec::new();
        for n in 0..40u8 {
            let mut b = pool.alloc_zeroed(GFP_KERNEL)?;
            assert_eq!(b.dma_handle() % 128, 0);
            assert!(b.read().iter().all(|&x| x == 0));
            b.write([n; 96]);
            blocks.push(b, GFP_KERNEL)?;
        }
        for (n, b) in blocks.iter().enumerate() {
            assert!(device_view(b.dma_handle(), 96)
                .iter()
                .all(|&x| x == n as u8));
            assert!(
                blocks
                    .iter()
                    .filter(|o| o.dma_handle() == b.dma_handle())
                    .count()
                    == 1
            );
        }
        device_view(blocks[3].dma_handle(), 96).fill(0xee);
        assert_eq!(blocks[3].read(), [0xee; 96]);
        assert!(live_entries(NAME)? >= 1);
        drop(blocks);
        drop(pool);
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }

    /// Bad parameters are `EINVAL`.
    #[test]
    fn errors() -> Result {
        const NAME: &CStr = c"rdt-pool-errors";
        let t = TestDevice::new(NAME, 64)?;
        assert_eq!(Pool::<u64>::new(t.dev(), c"bad", 24, 0).err(), Some(EINVAL));
        assert_eq!(
            Pool::<[u8; 64]>::new(t.dev(), c"bad", 8, 32).err(),
            Some(EINVAL)
        );
        Ok(())
    }

    /// `alloc_zeroed` clears a block that an earlier block left written; the pool hands the
    /// last freed block out first.
    #[test]
    fn alloc_zeroed_clears_reused_block() -> Result {
        const NAME: &CStr = c"rdt-pool-zeroed-reuse";
        let t = TestDevice::new(NAME, 64)?;
        let pool = Pool::<[u8; 64]>::new(t.dev(), c"rust-dma-test", 64, 0)?;
        let _keep = pool.alloc(GFP_KERNEL)?;
        let mut b = pool.alloc(GFP_KERNEL)?;
        b.write([0xee; 64]);
        let addr = b.dma_handle();
        drop(b);
        let b = pool.alloc_zeroed(GFP_KERNEL)?;
        assert_eq!(b.dma_handle(), addr);
        assert_eq!(b.read(), [0; 64]);
        Ok(())
    }

    /// Blocks come and go under a spinlock with `GFP_ATOMIC`, and the last one's drop only
    /// frees it: the pool is destroyed when the pool itself is dropped, outside the lock.
    #[test]
    fn atomic_alloc_and_free() -> Result {
        const NAME: &CStr = c"rdt-pool-atomic";
        let t = TestDevice::new(NAME, 64)?;
        let pool = Pool::<u64>::new(t.dev(), c"rust-dma-test", 8, 0)?;
        let lock = KBox::pin_init(crate::new_spinlock!(0u64), GFP_KERNEL)?;
        let guard = lock.lock();
        let mut block = pool.alloc(GFP_ATOMIC)?;
        block.write(0x1122_3344_5566_7788);
        assert!(*device_view(block.dma_handle(), 8) == 0x1122_3344_5566_7788u64.to_ne_bytes());
        drop(block);
        drop(guard);
        assert!(live_entries(NAME)? >= 1);
        drop(pool);
        assert_eq!(live_entries(NAME)?, 0);
        Ok(())
    }
}

#[kunit_tests(rust_dma_limits)]
mod limits {
    use super::*;
    use crate::dma::limits;

    /// A 64-bit device reaches all memory; a 24-bit one does not.
    #[test]
    fn addressing() -> Result {
        const NAME: &CStr = c"rdt-addressing";
        let t = TestDevice::new(NAME, 64)?;
        assert!(!limits::addressing_limited(t.dev()));
        let required = limits::required_mask(t.dev());
        assert!(required != 0 && (required & required.wrapping_add(1)) == 0);
        drop(t);
        if let Some(t) = TestDevice::below_ram(NAME)? {
            assert!(limits::addressing_limited(t.dev()));
        }
        Ok(())
    }

    /// Mapping sizes are unlimited without bounce buffers, and a bounce slot run with them.
    #[test]
    fn mapping_sizes() -> Result {
        const NAME: &CStr = c"rdt-mapping-sizes";
        let t = TestDevice::new(NAME, 64)?;
        let max = limits::max_mapping_size(t.dev());
        match t.setup() {
            Setup::Swiotlb => assert!((64 * 1024..usize::MAX).contains(&max)),
            _ => assert_eq!(max, usize::MAX),
        }
        assert!(limits::opt_mapping_size(t.dev()) <= max);
        Ok(())
    }
}

#[kunit_tests(rust_dma_sg)]
mod sg {
    use super::*;
    use crate::{devres::Devres, dma::DataDirection, scatterlist::SGTable};

    /// What the device writes into a mapped table reaches the pages, which `with_pages` lends
    /// to the CPU between the syncs; only the device the table is mapped for may sync it.
    #[test]
    fn sgtable_sync_for_cpu() -> Result {
        const NAME: &CStr = c"rdt-sgtable-sync-for-cpu";
        let t = TestDevice::new(NAME, 64)?;
        let size = 3 * crate::page::PAGE_SIZE;
        let pages = VVec::<u8>::from_elem(0, size, GFP_KERNEL)?;
        let mut sgt = KBox::pin_init(
            SGTable::new(t.dev(), pages, DataDirection::FromDevice, GFP_KERNEL),
            GFP_KERNEL,
        )?;
        let mut off = 0;
        for sg in sgt.iter() {
            let len = sg.dma_len() as usize;
            fill_pattern(device_view(sg.dma_address(), len), off, 8);
            off += len;
        }
        assert!(off >= size);
        sgt.sync_for_cpu(t.dev())?;
        sgt.sync_for_device(t.dev())?;
        let seen = sgt.as_mut().with_pages(t.dev(), |p| has_pattern(p, 0, 8))?;
        assert!(seen);

        let other = TestDevice::new(c"rdt-sgtable-other-device", 64)?;
        assert_eq!(sgt.sync_for_cpu(other.dev()).err(), Some(EINVAL));
        let ran = sgt.as_mut().with_pages(other.dev(), |_| ());
        assert_eq!(ran.err(), Some(EINVAL));
        Ok(())
    }

    /// What a binding set up with the device (a mapped table, a `Devres`) is revoked when the
    /// binding ends, and stays revoked when the same device is bound again: the bound device
    /// of the new binding does not unlock it. (`device_release_driver()` and `device_attach()`
    /// are what the sysfs `unbind` and `bind` files call.)
    #[test]
    fn rebind_does_not_revive() -> Result {
        const NAME: &CStr = c"rdt-rebind-does-not-revive";
        let t = TestDevice::new(NAME, 64)?;
        let pages = VVec::<u8>::from_elem(0, 2 * crate::page::PAGE_SIZE, GFP_KERNEL)?;
        let mut sgt = KBox::pin_init(
            SGTable::new(t.dev(), pages, DataDirection::FromDevice, GFP_KERNEL),
            GFP_KERNEL,
        )?;
        let data = Devres::new(t.dev(), 42u32)?;
        assert_eq!(data.access(t.dev()).copied(), Ok(42));
        assert!(live_entries(NAME)? >= 1);
        let raw = t.dev().as_raw();
        // SAFETY: `raw` is a registered device. Nothing uses `t.dev()` as bound until it is bound
        // again below.
        unsafe { bindings::device_release_driver(raw) };
        assert!(data.try_access().is_none());
        assert_eq!(live_entries(NAME)?, 0);
        // SAFETY: As above; the faux driver matches every faux device.
        assert_eq!(unsafe { bindings::device_attach(raw) }, 1);
        assert_eq!(data.access(t.dev()).err(), Some(ENXIO));
        assert_eq!(sgt.sync_for_cpu(t.dev()).err(), Some(ENXIO));
        let ran = sgt.as_mut().with_pages(t.dev(), |_| ());
        assert_eq!(ran.err(), Some(ENXIO));
        Ok(())
    }
}
