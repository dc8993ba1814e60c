//! Determinism without a dependency: the same request bytes and seed give
//! the same answer on every platform and Rust version (std's hasher makes no
//! such promise).

/// FNV-1a over `bytes`, mixed with `seed`.
pub fn fingerprint(bytes: &[u8], seed: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A splitmix64 stream: tiny, fast, and fully specified.
#[derive(Debug, Clone)]
pub struct Rng(u64);

const WORDS: &[&str] = &[
    "llama", "maverick", "river", "signal", "amber", "harbor", "quiet", "orbit", "meadow", "copper", "lantern",
    "summit", "velvet", "pine", "canyon", "ember", "delta", "willow", "granite", "echo", "saffron", "tide", "falcon",
    "cedar",
];

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// A word from a fixed vocabulary.
    pub fn word(&mut self) -> &'static str {
        let i = usize::try_from(self.below(WORDS.len() as u64)).unwrap_or(0);
        WORDS.get(i).copied().unwrap_or("the")
    }

    /// Lower-case hex of the next value, for ids.
    pub fn hex(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }
}
