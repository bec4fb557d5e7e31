//! A tiny seeded pseudo-random generator: enough for filler bytes and for
//! picking benchmark targets reproducibly, no dependency needed.

/// xorshift64.
pub struct XorShift(u64);

impl XorShift {
    /// A generator with this seed (zero, which xorshift cannot leave, is
    /// replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `bound` (which must not be zero); the slight modulo bias
    /// does not matter for picking targets.
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_bounded() {
        let (mut a, mut b) = (XorShift::new(7), XorShift::new(7));
        for _ in 0..100 {
            let n = a.below(10);
            assert_eq!(n, b.below(10));
            assert!(n < 10);
        }
        assert_ne!(XorShift::new(0).next_u64(), 0);
    }
}
