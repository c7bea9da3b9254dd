// SPDX-License-Identifier: GPL-2.0

//! Rust DMA sample: a driver for QEMU's `edu` device that moves bytes with its DMA engine.
//!
//! edu copies up to 4 KiB between RAM and a buffer of its own, and sees only 28 bits of
//! address (32 on arm64, see [`EDU_DMA_BITS`]). At probe the driver moves patterns through coherent memory, streaming mappings, a
//! DMA pool and an IOVA mapping, in both directions, and checks every byte that comes back.
//! Depending on the machine, the DMA API bounces the data through swiotlb or remaps it through
//! the IOMMU; the bytes must be the same.

use kernel::{
    device::{Bound, Core},
    dma::{
        iova::IovaMapping,
        limits,
        pool::Pool,
        streaming::{DmaRange, Mapping},
        Coherent, CoherentBox, Device as _, DmaAddress, DmaMask, FromDevice, ToDevice,
    },
    io::Io,
    pci,
    prelude::*,
    time::{delay::fsleep, Delta},
};

const EDU_VENDOR: u16 = 0x1234;
const EDU_DEVICE: u16 = 0x11e8;
/// edu's class: "unclassified device" 0x00ff. The vendor (QEMU's 0x1234) has no name in
/// `pci::Vendor`, so the table matches the class and `probe` the IDs.
const EDU_CLASS: u32 = 0x00ff00;
const REG_ID: usize = 0x00;
const REG_DMA_SRC: usize = 0x80;
const REG_DMA_DST: usize = 0x88;
const REG_DMA_COUNT: usize = 0x90;
const REG_DMA_CMD: usize = 0x98;
const REG_END: usize = 0xa0;
const CMD_RUN: u64 = 1 << 0;
const CMD_TO_RAM: u64 = 1 << 1;
/// edu's buffer in its own address space.
const EDU_BUF: u64 = 0x40000;
/// A transfer that ends at the end of edu's 4 KiB buffer stops the whole VM; stay below.
const XFER: usize = 4000;

type Bar0<'bound> = pci::Bar<'bound, REG_END>;

struct Edu<'a> {
    pdev: &'a pci::Device<Bound>,
    bar: &'a Bar0<'a>,
}

impl Edu<'_> {
    /// Copies `len` bytes between DMA address `addr` and offset `off` of edu's buffer.
    fn transfer(&self, addr: DmaAddress, off: usize, len: usize, to_ram: bool) -> Result {
        if off + len > XFER {
            return Err(EINVAL);
        }
        let buf = EDU_BUF + off as u64;
        let (src, dst) = if to_ram { (buf, addr) } else { (addr, buf) };
        self.bar.write64(src, REG_DMA_SRC);
        self.bar.write64(dst, REG_DMA_DST);
        self.bar.write64(len as u64, REG_DMA_COUNT);
        self.bar
            .write64(CMD_RUN | if to_ram { CMD_TO_RAM } else { 0 }, REG_DMA_CMD);
        // A transfer takes about 100 ms of guest time.
        for _ in 0..250 {
            if self.bar.read64(REG_DMA_CMD) & CMD_RUN == 0 {
                return Ok(());
            }
            fsleep(Delta::from_millis(20));
        }
        dev_err!(self.pdev, "DMA transfer timed out\n");
        Err(ETIMEDOUT)
    }

    /// Turns the error of a transfer into the caller's error, leaking `busy` if the transfer
    /// timed out: edu may still be copying into or out of it, and freeing or unmapping it would
    /// let the device reach memory that is no longer the buffer's. The API cannot know when the
    /// device is done; the driver does.
    fn abandon<T>(&self, e: Error, busy: T) -> Error {
        if e == ETIMEDOUT {
            dev_err!(
                self.pdev,
                "leaving the timed-out transfer's buffers mapped, for ever\n"
            );
            core::mem::forget(busy);
        }
        e
    }

    /// Copies the logical bytes `0..len` of a mapping made of `ranges` to or from edu.
    fn transfer_ranges(&self, ranges: &[DmaRange], len: usize, to_ram: bool) -> Result {
        let mut off = 0;
        for r in ranges {
            let n = r.len.min(len - off);
            self.transfer(r.addr, off, n, to_ram)?;
            off += n;
            if off == len {
                return Ok(());
            }
        }
        Err(EINVAL)
    }

    /// Checks `got` against the pattern with `seed`; reports the first difference.
    fn check(&self, what: &str, got: impl Iterator<Item = u8>, seed: u8) -> Result {
        let mut n = 0;
        for (i, b) in got.enumerate() {
            if b != pattern(i, seed) {
                dev_err!(
                    self.pdev,
                    "{what}: byte {i} is {b:#04x}, expected {:#04x}\n",
                    pattern(i, seed)
                );
                return Err(EIO);
            }
            n += 1;
        }
        dev_info!(self.pdev, "{what}: {n} bytes checked\n");
        Ok(())
    }

    /// Coherent memory: CPU pattern to edu and back into a second buffer.
    fn coherent(&self) -> Result {
        let dev = self.pdev.as_ref();
        let mut src = CoherentBox::<[u8]>::zeroed_slice(dev, XFER, GFP_KERNEL)?;
        for (i, b) in src.iter_mut().enumerate() {
            *b = pattern(i, 1);
        }
        let src: Coherent<[u8]> = src.into();
        let dst = Coherent::<u8>::zeroed_slice(dev, XFER, GFP_KERNEL)?;
        if let Err(e) = self
            .transfer(src.dma_handle(), 0, XFER, false)
            .and_then(|()| self.transfer(dst.dma_handle(), 0, XFER, true))
        {
            return Err(self.abandon(e, (src, dst)));
        }
        let mut got = KVec::with_capacity(XFER, GFP_KERNEL)?;
        for i in 0..XFER {
            got.push(kernel::dma_read!(dst, [try: i]), GFP_KERNEL)?;
        }
        self.check("coherent", got.into_iter(), 1)
    }

    /// Streaming mappings: a `KVec` to the device, then a `KBox` from it, synced for the CPU.
    fn streaming(&self) -> Result {
        let dev = self.pdev.as_ref();
        let mut out = KVec::with_capacity(XFER, GFP_KERNEL | GFP_DMA)?;
        for i in 0..XFER {
            out.push(pattern(i, 2), GFP_KERNEL)?;
        }
        let out = Mapping::<_, ToDevice>::new(dev, out)?;
        if let Err(e) = self.transfer(out.dma_handle(), 0, XFER, false) {
            return Err(self.abandon(e, out));
        }
        drop(out.unmap());

        let back = KBox::new([0u8; XFER], GFP_KERNEL | GFP_DMA)?;
        let back = Mapping::<_, FromDevice>::new(dev, back)?;
        if let Err(e) = self.transfer(back.dma_handle(), 0, XFER, true) {
            return Err(self.abandon(e, back));
        }
        let back = back.sync_for_cpu();
        self.check("streaming", back.iter().copied(), 2)
    }

    /// A DMA pool: one block to edu, edu into another block.
    fn pool(&self) -> Result {
        let pool = Pool::<[u8; 256]>::new(self.pdev.as_ref(), c"rust_dma_edu", 64, 0)?;
        let (mut a, b) = (pool.alloc(GFP_KERNEL)?, pool.alloc(GFP_KERNEL)?);
        let mut block = [0u8; 256];
        for (i, x) in block.iter_mut().enumerate() {
            *x = pattern(i, 3);
        }
        a.write(block);
        if let Err(e) = self
            .transfer(a.dma_handle(), 0x800, 256, false)
            .and_then(|()| self.transfer(b.dma_handle(), 0x800, 256, true))
        {
            let e = self.abandon(e, (a, b));
            if e == ETIMEDOUT {
                // The blocks are leaked; so must be the pages they are carved from.
                core::mem::forget(pool);
            }
            return Err(e);
        }
        self.check("pool", b.read().into_iter(), 3)
    }

    /// An IOVA mapping each way; `true` if the IOMMU gave one IOVA range.
    fn iova(&self) -> Result<bool> {
        let dev = self.pdev.as_ref();
        let mut out = KVec::with_capacity(XFER, GFP_KERNEL | GFP_DMA)?;
        for i in 0..XFER {
            out.push(pattern(i, 4), GFP_KERNEL)?;
        }
        let out = IovaMapping::<_, ToDevice>::new(dev, out)?;
        if let Err(e) = self.transfer_ranges(out.ranges(), XFER, false) {
            return Err(self.abandon(e, out));
        }
        let iova = out.uses_iova();
        drop(out.unmap());

        let back = KVec::from_elem(0u8, XFER, GFP_KERNEL | GFP_DMA)?;
        let back = IovaMapping::<_, FromDevice>::new(dev, back)?;
        if let Err(e) = self.transfer_ranges(back.ranges(), XFER, true) {
            return Err(self.abandon(e, back));
        }
        let back = back.unmap();
        self.check("iova", back.into_iter(), 4)?;
        Ok(iova)
    }
}

/// A recognisable pattern for byte `i`.
fn pattern(i: usize, seed: u8) -> u8 {
    (i as u8).wrapping_mul(29).wrapping_add(seed) ^ ((i >> 8) as u8)
}

struct EduDriver<'bound> {
    _bar: Bar0<'bound>,
}

kernel::pci_device_table!(
    PCI_TABLE,
    MODULE_PCI_TABLE,
    <EduSample as pci::Driver>::IdInfo,
    [(pci::DeviceId::from_class(EDU_CLASS, 0xffff00), ())]
);

struct EduSample;

impl pci::Driver for EduSample {
    type IdInfo = ();
    type Data<'bound> = EduDriver<'bound>;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: &'bound Self::IdInfo,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        if pdev.vendor_id().as_raw() != EDU_VENDOR || pdev.device_id() != EDU_DEVICE {
            return Err(ENODEV);
        }
        pdev.enable_device_mem()?;
        pdev.set_master();
        let bar = pdev.iomap_region_sized::<REG_END>(0, c"rust_dma_edu")?;
        if bar.read32(REG_ID) >> 16 != 0x0100 {
            return Err(ENODEV);
        }
        // SAFETY: Probe has made no DMA allocation or mapping for the device yet, and nothing
        // else can: the driver has handed the device to no other thread.
        unsafe { pdev.dma_set_mask_and_coherent(DmaMask::new::<EDU_DMA_BITS>())? };

        let edu = Edu { pdev, bar: &bar };
        edu.coherent()?;
        edu.streaming()?;
        edu.pool()?;
        let mode = if edu.iova()? {
            "one IOVA range"
        } else {
            "streaming fallback"
        };
        dev_info!(
            pdev,
            "rust_dma_edu: passed: coherent, streaming, pool and iova ({mode}); addressing limited: {}\n",
            limits::addressing_limited(pdev.as_ref())
        );
        Ok(EduDriver { _bar: bar })
    }
}

/// The address bits edu decodes: 28 by default. arm64's `virt` machine has no RAM below
/// 1 GiB, so its QEMU setups raise edu's mask (`-device edu,dma_mask=...`) and the driver
/// claims 32 bits there.
const EDU_DMA_BITS: u32 = if cfg!(CONFIG_ARM64) { 32 } else { 28 };

kernel::module_pci_driver! {
    type: EduSample,
    name: "rust_dma_edu",
    authors: ["DMA Rust dev"],
    description: "Rust DMA sample for QEMU's edu device",
    license: "GPL v2",
}
