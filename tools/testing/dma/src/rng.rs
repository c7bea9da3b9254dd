// SPDX-License-Identifier: GPL-2.0

//! A small deterministic generator for the property tests: a failure
//! reproduces from its seed, with no crate to fetch.

/// xorshift64*.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The seeds of a property test: `fixed` first, the same in every run, then,
/// when the environment sets `DMA_HOST_SOAK_SECS`, fresh seeds drawn from
/// the clock until that many seconds have passed since the first one (a
/// soak: `make host-test SOAK=<seconds>`; `make check` gives each test a
/// few). Each seed is handed out with a guard that names it if its case
/// panics, so that a soak failure reproduces with `Rng::new(seed)`.
pub fn seeds(fixed: impl IntoIterator<Item = u64>) -> impl Iterator<Item = (u64, SeedGuard)> {
    let secs = std::env::var("DMA_HOST_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let start = std::time::Instant::now();
    let limit = std::time::Duration::from_secs(secs);
    let mut clock = Rng::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    );
    fixed
        .into_iter()
        .chain(std::iter::from_fn(move || {
            (start.elapsed() < limit).then(|| clock.next())
        }))
        .map(|seed| (seed, SeedGuard(seed)))
}

/// Prints its seed when dropped during a panic (see [`seeds`]).
pub struct SeedGuard(u64);

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("property test failed with seed {:#x}", self.0);
        }
    }
}
