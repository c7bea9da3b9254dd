// SPDX-License-Identifier: GPL-2.0

//! Rust DMA sample: a coherent DMA buffer that user space maps through a misc device.
//!
//! The driver binds a PCI function that no other driver in the sample configurations claims
//! (QEMU's `pvpanic-pci`, 1b36:0011), allocates a coherent buffer for it and fills it with a
//! pattern. `/dev/rust-dma-mmap` maps the buffer into user space with `dma_mmap_coherent()`;
//! the `VERIFY` ioctl makes the driver check that the buffer holds the pattern user space wrote.
//! After the `PAGES` ioctl, a file maps instead a page allocation (`dma_alloc_pages()`), through
//! `dma_mmap_pages()`.
//!
//! Each user mapping keeps the buffer alive while the device is bound. The `RELEASE` ioctl drops
//! the driver's own reference: the buffer is then freed (`dma_free_coherent()`) only when the
//! last mapping of it goes, which `dma-api/dump` shows. When the device is unbound or removed,
//! the buffers are taken from user space (a mapping left faults with `SIGBUS`) and freed at
//! once, while the device is still there.
//!
//! This is the "mmap" chapter of Linux Device Drivers (chapter 15), done with the DMA API.

use kernel::{
    device::Core,
    dma::{
        mmap::{self, Shared},
        noncoherent::NonCoherent,
        Bidirectional, Coherent, CoherentBox,
    },
    fs::File,
    ioctl::_IO,
    miscdevice::{MiscDevice, MiscDeviceOptions, MiscDeviceRegistration},
    mm::virt::VmaNew,
    new_mutex, pci,
    prelude::*,
    sync::{Arc, Mutex, SetOnce},
};

/// The buffer's size: four pages.
const SIZE: usize = 4 * kernel::page::PAGE_SIZE;
/// `ioctl(fd, VERIFY, seed)`: check that the buffer holds `user_pattern(seed)`; returns the
/// number of bytes checked.
const VERIFY: u32 = _IO(b'D' as u32, 1);
/// `ioctl(fd, RELEASE)`: drop the driver's references to the buffers; later opens fail.
const RELEASE: u32 = _IO(b'D' as u32, 2);
/// `ioctl(fd, PAGES)`: this file's mappings map the page allocation.
const PAGES: u32 = _IO(b'D' as u32, 3);
/// pvpanic-pci, a PCI function without a driver in the sample configurations.
const PVPANIC_PCI: u32 = 0x0011;

/// What the driver writes at probe: `flip` is 0 for the coherent buffer, 0xff for the pages.
fn driver_pattern(i: usize, flip: u8) -> u8 {
    (i as u8) ^ 0x5a ^ ((i >> 12) as u8) ^ flip
}

/// What user space writes, for a seed (the same formula as the user program).
fn user_pattern(i: usize, seed: u8) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(seed) ^ ((i >> 8) as u8)
}

type Buffer = Coherent<[u8]>;
type Pages = NonCoherent<'static, Bidirectional>;

/// The buffers of the bound device.
#[derive(Clone)]
struct Buffers {
    coherent: Arc<Shared<Buffer>>,
    pages: Arc<Shared<Pages>>,
}

/// The buffers of the bound device, for the files; empty while no device is bound.
static CURRENT: SetOnce<Arc<Mutex<Option<Buffers>>>> = SetOnce::new();

fn current() -> Result<&'static Arc<Mutex<Option<Buffers>>>> {
    if CURRENT.as_ref().is_none() {
        // Losing a race with another probe is fine: the winner's slot serves both.
        CURRENT.populate(Arc::pin_init(new_mutex!(None), GFP_KERNEL)?);
    }
    CURRENT.as_ref().ok_or(ENOMEM)
}

/// An open file. It holds no reference to the buffers: each mapping holds its own, so that what
/// keeps a buffer alive once the driver lets go of it is its user mappings alone.
#[pin_data]
struct MmapFile {
    /// Whether mappings map the page allocation rather than the coherent buffer.
    #[pin]
    pages: Mutex<bool>,
}

impl MmapFile {
    /// The bound device's buffers.
    fn buffers() -> Result<Buffers> {
        current()?.lock().clone().ok_or(ENODEV)
    }
}

#[vtable]
impl MiscDevice for MmapFile {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Self::buffers()?;
        KBox::try_pin_init(
            try_pin_init!(MmapFile {
                pages <- new_mutex!(false),
            }),
            GFP_KERNEL,
        )
    }

    fn mmap(me: Pin<&MmapFile>, _file: &File, vma: &VmaNew) -> Result {
        let bufs = Self::buffers()?;
        if *me.pages.lock() {
            mmap::map_into_vma(&bufs.pages, vma)
        } else {
            mmap::map_into_vma(&bufs.coherent, vma)
        }
    }

    fn ioctl(me: Pin<&MmapFile>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            VERIFY => Self::buffers()?
                .coherent
                .with(|buf| Self::verify(buf, arg as u8))?,
            PAGES => {
                *me.pages.lock() = true;
                Ok(0)
            }
            RELEASE => {
                current()?.lock().take().ok_or(ENODEV)?;
                pr_info!("rust_dma_mmap: driver references dropped\n");
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}

impl MmapFile {
    /// Checks that the buffer holds what user space wrote with `seed`.
    fn verify(buf: &Buffer, seed: u8) -> Result<isize> {
        for i in 0..SIZE {
            let got = kernel::dma_read!(buf, [try: i]);
            if got != user_pattern(i, seed) {
                pr_err!(
                    "rust_dma_mmap: byte {i} is {got:#04x}, user space wrote {:#04x}\n",
                    user_pattern(i, seed)
                );
                return Err(EIO);
            }
        }
        pr_info!("rust_dma_mmap: verified {SIZE} bytes written through the user mapping\n");
        Ok(SIZE as isize)
    }
}

/// Takes the buffers out of [`CURRENT`] when the device goes; user mappings keep their own
/// references.
struct Published;

impl Drop for Published {
    fn drop(&mut self) {
        if let Some(slot) = CURRENT.as_ref() {
            if slot.lock().take().is_some() {
                pr_info!("rust_dma_mmap: unbound; the buffers leave user space and are freed\n");
            }
        }
    }
}

/// Dropped in field order: first no new `open` finds the buffer, then the device node goes.
#[pin_data]
struct MmapDriver {
    published: Published,
    #[pin]
    misc: MiscDeviceRegistration<MmapFile>,
}

kernel::pci_device_table!(
    PCI_TABLE,
    MODULE_PCI_TABLE,
    <MmapSample as pci::Driver>::IdInfo,
    [(pci::DeviceId::from_id(pci::Vendor::REDHAT, PVPANIC_PCI), ())]
);

struct MmapSample;

impl pci::Driver for MmapSample {
    type IdInfo = ();
    type Data<'bound> = MmapDriver;
    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: &'bound Self::IdInfo,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        pin_init::pin_init_scope(move || {
            let dev = pdev.as_ref();
            let mut buf = CoherentBox::<[u8]>::zeroed_slice(dev, SIZE, GFP_KERNEL)?;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = driver_pattern(i, 0);
            }
            let mut pages = NonCoherent::<Bidirectional>::alloc(dev, SIZE, GFP_KERNEL)?;
            for (i, b) in pages.iter_mut().enumerate() {
                *b = driver_pattern(i, 0xff);
            }
            // Shared with user space, the pages leave the ownership tracking.
            let bufs = Buffers {
                coherent: Shared::new(dev, Buffer::from(buf))?,
                pages: Shared::new(dev, pages.into_inner())?,
            };
            let slot = current()?;
            let mut cur = slot.lock();
            if cur.is_some() {
                return Err(EBUSY);
            }
            *cur = Some(bufs);
            drop(cur);
            dev_info!(
                pdev,
                "rust_dma_mmap: {SIZE} coherent bytes and {SIZE} bytes of pages at /dev/rust-dma-mmap\n"
            );
            Ok(try_pin_init!(MmapDriver {
                published: Published,
                misc <- MiscDeviceRegistration::register(MiscDeviceOptions {
                    name: c"rust-dma-mmap",
                }),
            }))
        })
    }
}

kernel::module_pci_driver! {
    type: MmapSample,
    name: "rust_dma_mmap",
    authors: ["DMA Rust dev"],
    description: "Rust DMA sample: mmap of a coherent buffer",
    license: "GPL v2",
}
