//! A small deterministic pseudo-random generator (SplitMix64) and sampling helpers.
//!
//! Not for anything secret: it only makes the synthetic population reproducible. Every item
//! (a person, a case) draws from its own stream derived from (seed, stream, index), so an item
//! can be regenerated alone (the benchmark re-derives search probes without reading the data).

#[derive(Debug, Clone)]
pub struct Rng(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The stream of item `index` in family `stream` under `seed`.
    pub fn for_item(seed: u64, stream: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(GOLDEN).rotate_left(17));
        let a = r.next_u64();
        let mut r = Rng(a ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `xs` (callers pass non-empty tables).
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// One of `xs` with probability proportional to its weight.
    pub fn weighted<'a, T>(&mut self, xs: &'a [(T, u32)]) -> &'a T {
        let total: u64 = xs.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (v, w) in xs {
            let w = u64::from(*w);
            if x < w {
                return v;
            }
            x -= w;
        }
        &xs[xs.len() - 1].0
    }

    /// Each entry independently with its probability (per mille).
    pub fn each<T: Copy>(&mut self, xs: &[(T, u32)]) -> Vec<T> {
        xs.iter()
            .filter(|(_, p)| self.below(1000) < u64::from(*p))
            .map(|(v, _)| *v)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|i| Rng::for_item(7, 1, i).next_u64()).collect();
        let b: Vec<u64> = (0..4).map(|i| Rng::for_item(7, 1, i).next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
        assert_ne!(
            Rng::for_item(7, 1, 0).next_u64(),
            Rng::for_item(7, 2, 0).next_u64()
        );
    }

    #[test]
    fn weighted_follows_weights() {
        let mut r = Rng::new(1);
        let xs = [("a", 70u32), ("b", 30)];
        let n = (0..10_000).filter(|_| *r.weighted(&xs) == "a").count();
        assert!((6_700..7_300).contains(&n), "{n}");
        assert!((0..1000).all(|_| r.below(3) < 3));
        assert_eq!(r.range(5, 5), 5);
    }
}
