//! Differentially private counts: exact discrete Laplace noise drawn from a
//! keyed, deterministic bit stream.
//!
//! # What is guaranteed
//!
//! Let `f` be a count whose value changes by at most `Δ` (the sensitivity)
//! when one candidate's data is added or removed. [`noisy_count`] releases
//! `max(0, f(D) + X)` where `X` follows the discrete Laplace distribution
//! `P(X = x) ∝ exp(-|x|·ε/Δ)` on the integers. That release is ε-differentially
//! private (pure DP, no δ): for neighbouring data `D`, `D'` and every output
//! `v`, `P(out = v | D) ≤ e^ε · P(out = v | D')`. Clamping at zero is
//! post-processing and keeps the guarantee.
//!
//! The noise is sampled exactly (Canonne, Kamath and Steinke, "The Discrete
//! Gaussian for Differential Privacy", 2020: Bernoulli(exp(-γ)) by the
//! series method, a geometric built from it, and a sign with `-0` rejected),
//! with integer arithmetic only, from uniform bits. The bits come from
//! HMAC-SHA256 under a secret key in counter mode ([`NoiseStream`]), so the
//! guarantee is the one above for an adversary who does not know the secret
//! and cannot tell HMAC-SHA256 from a random function.
//!
//! # What the caller must ensure
//!
//! - **Contribution bound.** Each candidate adds at most `Δ` to a cell. If
//!   a candidate can have several applications, cap what one candidate
//!   contributes (or count distinct candidates) before calling this module;
//!   the guarantee protects candidates, not applications.
//! - **Composition across cells.** When the cells of a table are disjoint
//!   in candidates (each candidate contributes to one cell only), releasing
//!   every cell at ε costs ε for the whole table (parallel composition).
//!   When one candidate can reach several cells, the costs add up over the
//!   cells they reach; equivalently, use as `Δ` the most one candidate can
//!   add to the whole table (its L1 contribution), which makes the whole
//!   table ε-DP.
//! - **One release per cell.** The stream of a cell is fixed by the secret
//!   and the cell label, so asking again for the same count returns the
//!   same value and cannot be averaged away. But if the true count of a cell
//!   changes and the cell is released again under the same label, the two
//!   answers carry the *same* noise and their difference is the exact change
//!   of the true count: release a cell only once its count is final (for
//!   example a month that has closed). A deliberate new release needs a new
//!   label (for example with a release number) and spends budget again
//!   (sequential composition); a new secret has the same effect.
//! - **Labels name the quantity too.** Two different counts released under
//!   the same label share their noise, and their difference is exact: put
//!   the table or metric in the label (`applications|2026-01|linkedin|FR`).
//! - **The secret** is 32 uniformly random bytes, used for this purpose
//!   only and never disclosed: whoever knows it can recompute the noise and
//!   subtract it.
//! - **Timing.** The sampler's running time depends on the noise drawn.
//!   Compute releases in a batch whose timing partners cannot observe.
//!
//! # Why no floating point
//!
//! The textbook Laplace mechanism samples a real number, which in practice
//! is a floating-point value built from a logarithm of a uniform double.
//! The set of doubles reachable by `f(D) + noise` depends on `f(D)`: some
//! outputs are possible for one true value and impossible for its neighbour,
//! which breaks the guarantee outright (Mironov, "On Significance of the
//! Least Significant Bits for Differential Privacy", 2012). Counts are
//! integers, so integer noise suffices, and sampling it with exact rational
//! arithmetic makes the distribution the mathematical one, with no rounding
//! at all. Only [`error_bound_95`], which describes the noise and samples
//! nothing, uses `f64`.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Uniform bits for one cell: the blocks HMAC-SHA256(secret, cell ‖ i) for
/// i = 0, 1, 2, … (i as 8 bytes big-endian), read most significant bit of
/// the first byte first.
///
/// The counter has a fixed width and comes last, so distinct (cell, i)
/// pairs are distinct messages. The same secret and cell always give the
/// same stream; streams of distinct cells are independent as far as anyone
/// without the secret can tell. Changing this layout changes every
/// released value, which is a new release of every cell.
///
/// Deliberately not `Clone`: two users of one stream would share noise.
pub struct NoiseStream {
    /// Keyed with the secret, with the cell label already absorbed.
    prefix: Hmac<Sha256>,
    counter: u64,
    block: [u8; 32],
    /// Bits of `block` already used; 256 when it is spent.
    used: usize,
}

impl fmt::Debug for NoiseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoiseStream")
            .field("blocks", &self.counter)
            .finish_non_exhaustive()
    }
}

const BLOCK_BITS: usize = 256;

impl NoiseStream {
    pub fn new(secret: &[u8; 32], cell: &str) -> Self {
        let mut prefix =
            Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        prefix.update(cell.as_bytes());
        Self {
            prefix,
            counter: 0,
            block: [0; 32],
            used: BLOCK_BITS,
        }
    }

    fn refill(&mut self) {
        let mut mac = self.prefix.clone();
        mac.update(&self.counter.to_be_bytes());
        self.block = mac.finalize().into_bytes().into();
        self.counter = self
            .counter
            .checked_add(1)
            .expect("2^64 blocks of one stream are never drawn");
        self.used = 0;
    }

    /// The next `k` bits (k ≤ 128) as an integer, the first bit most
    /// significant.
    fn bits(&mut self, mut k: u32) -> u128 {
        debug_assert!(k <= 128);
        let mut out: u128 = 0;
        while k > 0 {
            if self.used == BLOCK_BITS {
                self.refill();
            }
            let byte = self.block[self.used / 8];
            let offset = (self.used % 8) as u32;
            // Take as many bits as this byte still has, at most k.
            let take = (8 - offset).min(k);
            let chunk = (byte >> (8 - offset - take)) & ((1u16 << take) - 1) as u8;
            out = (out << take) | u128::from(chunk);
            self.used += take as usize;
            k -= take;
        }
        out
    }

    /// Uniform on {0, …, n − 1}: draws as many bits as n − 1 has and starts
    /// again when the draw is n or more (no modulo bias; fewer than two
    /// draws on average).
    fn below(&mut self, n: u128) -> u128 {
        assert!(n > 0, "uniform_below(0) has no value to give");
        let width = 128 - (n - 1).leading_zeros();
        loop {
            let draw = self.bits(width);
            if draw < n {
                return draw;
            }
        }
    }

    /// Uniform on {0, …, n − 1}, exactly.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn uniform_below(&mut self, n: u64) -> u64 {
        self.below(u128::from(n)) as u64
    }

    /// True with probability exactly num/den.
    ///
    /// # Panics
    /// If `den` is 0 or `num > den`.
    pub fn bernoulli(&mut self, num: u64, den: u64) -> bool {
        self.bernoulli_wide(u128::from(num), u128::from(den))
    }

    fn bernoulli_wide(&mut self, num: u128, den: u128) -> bool {
        assert!(den > 0 && num <= den, "not a probability: {num}/{den}");
        self.below(den) < num
    }

    /// True with probability exactly exp(−num/den).
    ///
    /// For γ = num/den ≤ 1, the series method: draw A₁ ~ Bernoulli(γ/1),
    /// A₂ ~ Bernoulli(γ/2), … until the first failure, at index K; then
    /// P(K is odd) = Σ (−γ)^k / k! = exp(−γ). For γ > 1, exp(−γ) =
    /// exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)), each factor an independent draw,
    /// stopping at the first failure (so the expected work stays bounded
    /// however large γ is).
    ///
    /// # Panics
    /// If `den` is 0.
    pub fn bernoulli_exp(&mut self, num: u64, den: u64) -> bool {
        assert!(den > 0, "exp(-{num}/0) is not a probability");
        for _ in 0..num / den {
            if !self.bernoulli_exp_at_most_one(1, 1) {
                return false;
            }
        }
        self.bernoulli_exp_at_most_one(num % den, den)
    }

    /// Bernoulli(exp(−num/den)) for num ≤ den.
    fn bernoulli_exp_at_most_one(&mut self, num: u64, den: u64) -> bool {
        debug_assert!(num <= den && den > 0);
        let (num, den) = (u128::from(num), u128::from(den));
        // den · k stays far below 2^128: k passes j with probability 1/j!.
        let mut k: u128 = 1;
        while self.bernoulli_wide(num, den * k) {
            k += 1;
        }
        k % 2 == 1
    }

    /// An exact draw of the discrete Laplace distribution
    /// P(X = x) ∝ exp(−|x|·num/den) on the integers (scale den/num).
    ///
    /// Canonne, Kamath and Steinke (2020), Algorithm 2, with t = den and
    /// s = num: U uniform on {0, …, den − 1}, kept with probability
    /// exp(−U/den); V geometric, P(V = v) = (1 − e⁻¹)·e^−v, counted with
    /// Bernoulli(exp(−1)) draws; then U + den·V is geometric with ratio
    /// exp(−1/den), and Y = ⌊(U + den·V)/num⌋ is geometric with ratio
    /// exp(−num/den). A fair sign makes it two-sided, redrawing everything
    /// when it would give −0 (which would double the mass of zero).
    ///
    /// Every quantity fits a u128 (U + den·V < 2⁶⁴ + (2⁶⁴ − 1)²); the only
    /// departure from the exact law is saturation at |x| = i128::MAX, which
    /// needs V ≥ 2⁶³, an event of probability below exp(−2⁶³).
    ///
    /// # Panics
    /// If `num` or `den` is 0.
    pub fn discrete_laplace(&mut self, num: u64, den: u64) -> i128 {
        assert!(num > 0 && den > 0, "discrete Laplace needs num, den > 0");
        let divisor = gcd(num, den);
        let (num, den) = (num / divisor, den / divisor);
        loop {
            let u = self.uniform_below(den);
            if !self.bernoulli_exp(u, den) {
                continue;
            }
            let mut v: u64 = 0;
            while self.bernoulli_exp_at_most_one(1, 1) {
                v = v.saturating_add(1);
            }
            let x = u128::from(u) + u128::from(den) * u128::from(v);
            let y = x / u128::from(num);
            let negative = self.bernoulli(1, 2);
            if negative && y == 0 {
                continue;
            }
            let magnitude = i128::try_from(y).unwrap_or(i128::MAX);
            return if negative { -magnitude } else { magnitude };
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The privacy parameter ε as an exact positive rational num/den, kept in
/// lowest terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Epsilon {
    num: u32,
    den: u32,
}

/// Most decimals [`Epsilon::parse`] takes.
pub const EPSILON_MAX_DECIMALS: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpsilonError {
    /// Not digits with an optional decimal point and decimals.
    Malformed,
    /// Zero or negative.
    NotPositive,
    /// More than [`EPSILON_MAX_DECIMALS`] decimals.
    TooPrecise,
    /// The numerator in lowest terms does not fit 32 bits.
    TooLarge,
}

impl fmt::Display for EpsilonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "epsilon must be a decimal number such as 1 or 0.5",
            Self::NotPositive => "epsilon must be greater than 0",
            Self::TooPrecise => "epsilon takes at most 6 decimals",
            Self::TooLarge => "epsilon is too large",
        })
    }
}

impl std::error::Error for EpsilonError {}

impl Epsilon {
    /// num/den in lowest terms; `None` when either is 0.
    pub fn new(num: u32, den: u32) -> Option<Self> {
        if num == 0 || den == 0 {
            return None;
        }
        let divisor = gcd(u64::from(num), u64::from(den)) as u32;
        Some(Self {
            num: num / divisor,
            den: den / divisor,
        })
    }

    /// An exact decimal: digits, optionally a point and 1 to 6 decimals
    /// ("1", "0.5", "0.125", "2.25"). No sign, exponent or spaces.
    pub fn parse(text: &str) -> Result<Self, EpsilonError> {
        // "-0.5" is refused as not positive, "--1" as malformed.
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, decimals) = match text.split_once('.') {
            Some((whole, decimals)) => (whole, decimals),
            None => (text, ""),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(decimals)) {
            return Err(EpsilonError::Malformed);
        }
        if decimals.len() > EPSILON_MAX_DECIMALS {
            return Err(EpsilonError::TooPrecise);
        }
        // Leading zeros aside, a whole part of more than ten digits cannot
        // fit 32 bits.
        let whole = whole.trim_start_matches('0');
        if whole.len() > 10 {
            return Err(EpsilonError::TooLarge);
        }
        let scale = 10u64.pow(decimals.len() as u32);
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| EpsilonError::Malformed)?
        };
        let fraction: u64 = if decimals.is_empty() {
            0
        } else {
            decimals.parse().map_err(|_| EpsilonError::Malformed)?
        };
        let num = whole * scale + fraction;
        if negative || num == 0 {
            return Err(EpsilonError::NotPositive);
        }
        let divisor = gcd(num, scale);
        let num = u32::try_from(num / divisor).map_err(|_| EpsilonError::TooLarge)?;
        let den = (scale / divisor) as u32;
        Ok(Self { num, den })
    }

    pub fn num(self) -> u32 {
        self.num
    }

    pub fn den(self) -> u32 {
        self.den
    }

    /// For display and reports only; never for sampling.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }
}

impl std::str::FromStr for Epsilon {
    type Err = EpsilonError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// As a decimal when the denominator divides a power of ten ("0.125"),
/// otherwise as "num/den".
impl fmt::Display for Epsilon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let den = u64::from(self.den);
        let num = u64::from(self.num);
        match (0..=9u32).find(|&d| 10u64.pow(d) % den == 0) {
            Some(0) => write!(f, "{num}"),
            Some(d) => {
                let scaled = num * (10u64.pow(d) / den);
                let unit = 10u64.pow(d);
                let width = d as usize;
                write!(f, "{}.{:0width$}", scaled / unit, scaled % unit)
            }
            None => write!(f, "{num}/{den}"),
        }
    }
}

/// The noise of [`noisy_count`] as num/den in P(X = x) ∝ exp(−|x|·num/den):
/// ε/Δ, with the scale Δ/ε = Δ·ε.den/ε.num.
fn noise_rate(epsilon: Epsilon, sensitivity: u32) -> (u64, u64) {
    assert!(sensitivity > 0, "a count's sensitivity is at least 1");
    (
        u64::from(epsilon.num),
        u64::from(sensitivity) * u64::from(epsilon.den),
    )
}

/// `max(0, true_count + X)` with X discrete Laplace of scale Δ/ε, drawn
/// from `stream` (see the module documentation for what makes this ε-DP).
///
/// # Panics
/// If `sensitivity` is 0: a count that no candidate can change needs no
/// noise, and a 0 here is far more likely a mistake that would release
/// exact counts.
pub fn noisy_count(
    true_count: u64,
    epsilon: Epsilon,
    sensitivity: u32,
    stream: &mut NoiseStream,
) -> u64 {
    let (num, den) = noise_rate(epsilon, sensitivity);
    let noise = stream.discrete_laplace(num, den);
    let noisy = i128::from(true_count).saturating_add(noise);
    noisy.clamp(0, i128::from(u64::MAX)) as u64
}

/// The smallest b with P(|X| > b) ≤ 0.05 for the noise of [`noisy_count`]
/// (before clamping; clamping at 0 only moves an answer closer to the true
/// count, so the bound holds for released values too).
///
/// With t = Δ/ε and p = exp(−1/t), P(|X| > b) = 2·p^(b+1)/(1 + p), so the
/// bound is ⌈t·(ln 40 − ln(1 + p))⌉ − 1. This describes the noise and
/// draws nothing, so it uses f64; the result is then nudged by comparing
/// the tail at b and b − 1, which can only be wrong when the tail lies
/// within rounding error (about 1e-15 relative) of 0.05. Scales beyond
/// about 6·10¹⁸ saturate at u64::MAX.
///
/// # Panics
/// If `sensitivity` is 0.
pub fn error_bound_95(epsilon: Epsilon, sensitivity: u32) -> u64 {
    let (num, den) = noise_rate(epsilon, sensitivity);
    let t = den as f64 / num as f64;
    let p = (-1.0 / t).exp();
    let tail = |b: u64| 2.0 * (-(b as f64 + 1.0) / t).exp() / (1.0 + p);
    let estimate = (t * (40f64.ln() - p.ln_1p())).ceil() - 1.0;
    // `as` saturates: negative → 0, too large → u64::MAX.
    let mut b = estimate as u64;
    for _ in 0..4 {
        if b > 0 && tail(b - 1) <= 0.05 {
            b -= 1;
        } else if tail(b) > 0.05 && b < u64::MAX {
            b += 1;
        } else {
            break;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [7; 32];

    /// Every tolerance below is 5 standard errors unless said otherwise.
    /// One such check on an exact sampler fails with probability about
    /// 6·10⁻⁷; the tests make a few dozen, so a correct sampler fails on a
    /// random seed with probability below 10⁻⁴, while a sampler off by a
    /// few percent in any checked probability fails them for sure. The seed
    /// (secret and cell labels) is fixed, so the outcome is reproducible.
    const Z: f64 = 5.0;

    fn within(observed: f64, expected: f64, standard_error: f64, what: &str) {
        assert!(
            (observed - expected).abs() <= Z * standard_error,
            "{what}: observed {observed}, expected {expected} ± {Z}·{standard_error}"
        );
    }

    /// The exact pmf of P(X = k) ∝ exp(−|k|/t).
    fn laplace_pmf(t: f64, k: i64) -> f64 {
        let p = (-1.0 / t).exp();
        (1.0 - p) / (1.0 + p) * p.powi(k.unsigned_abs() as i32)
    }

    #[test]
    fn the_stream_is_hmac_sha256_of_cell_and_counter() {
        // Computed independently (Python's hmac module):
        // HMAC-SHA256([7; 32], "2026-01|linkedin|FR" ‖ be64(i)) for i = 0, 1.
        let expected = [
            "f10a8f26bb00b412af9deef70b8bd54ff5a8871e9d516779508ad69babcc6b32",
            "6599033774af6d4ba02fa856c0b44743e0431f9ed339c3e197a2b6b41e337775",
        ];
        let mut stream = NoiseStream::new(&SECRET, "2026-01|linkedin|FR");
        for block in expected {
            let mut drawn = String::new();
            // Uneven widths exercise reads across byte and word boundaries.
            let mut remaining = 256;
            for width in [3u32, 61, 128, 1, 63].into_iter().cycle() {
                if remaining == 0 {
                    break;
                }
                let width = width.min(remaining);
                drawn.push_str(&format!("{:0w$b}", stream.bits(width), w = width as usize));
                remaining -= width;
            }
            let hex: String = drawn
                .as_bytes()
                .chunks(8)
                .map(|byte| {
                    let byte = std::str::from_utf8(byte).unwrap();
                    format!("{:02x}", u8::from_str_radix(byte, 2).unwrap())
                })
                .collect();
            assert_eq!(hex, block);
        }
    }

    #[test]
    fn the_same_secret_and_cell_give_the_same_values() {
        let epsilon = Epsilon::new(1, 1).unwrap();
        for i in 0..100 {
            let cell = format!("2026-{:02}|source-{i}|FR", i % 12 + 1);
            let once = noisy_count(1000, epsilon, 1, &mut NoiseStream::new(&SECRET, &cell));
            let again = noisy_count(1000, epsilon, 1, &mut NoiseStream::new(&SECRET, &cell));
            assert_eq!(once, again, "{cell}");
        }
    }

    #[test]
    fn another_cell_or_secret_gives_other_values() {
        let other_secret = [8u8; 32];
        let first_word = |secret: &[u8; 32], cell: &str| NoiseStream::new(secret, cell).bits(64);
        let cells: Vec<String> = (0..100).map(|i| format!("2026-01|source-{i}|FR")).collect();
        let mut words = std::collections::HashSet::new();
        for cell in &cells {
            // A collision of 64 uniform bits has probability 2^-64.
            assert!(words.insert(first_word(&SECRET, cell)), "{cell}");
            assert!(words.insert(first_word(&other_secret, cell)), "{cell}");
        }
        // Noisy values of the same count: at ε = 1, Δ = 1 two independent
        // draws agree with probability Σ P(X = k)² ≈ 0.28, so about 72 of
        // 100 comparisons differ (standard deviation 4.5); 49 is 5 deviations
        // below.
        let epsilon = Epsilon::new(1, 1).unwrap();
        let release = |secret: &[u8; 32], cell: &str| {
            noisy_count(1000, epsilon, 1, &mut NoiseStream::new(secret, cell))
        };
        let differ_by_cell = cells
            .windows(2)
            .filter(|pair| release(&SECRET, &pair[0]) != release(&SECRET, &pair[1]))
            .count();
        let differ_by_secret = cells
            .iter()
            .filter(|cell| release(&SECRET, cell) != release(&other_secret, cell))
            .count();
        assert!(differ_by_cell >= 49, "{differ_by_cell}");
        assert!(differ_by_secret >= 49, "{differ_by_secret}");
    }

    #[test]
    fn uniform_below_and_bernoulli_are_exact_on_small_cases() {
        let mut stream = NoiseStream::new(&SECRET, "uniform");
        assert_eq!(stream.uniform_below(1), 0);
        assert!(!stream.bernoulli(0, 5));
        assert!(stream.bernoulli(5, 5));
        assert!(stream.bernoulli_exp(0, 1));
        // 6 is not a power of two: a modulo of 3 bits would favour 0 and 1
        // (probability 2/8 instead of 1/6), far outside the tolerance.
        let draws = 60_000;
        let mut counts = [0u32; 6];
        for _ in 0..draws {
            counts[stream.uniform_below(6) as usize] += 1;
        }
        let p = 1.0 / 6.0;
        let se = (p * (1.0 - p) / draws as f64).sqrt();
        for (value, &count) in counts.iter().enumerate() {
            within(
                count as f64 / draws as f64,
                p,
                se,
                &format!("P(U = {value})"),
            );
        }
        let hits = (0..draws).filter(|_| stream.bernoulli(3, 7)).count();
        let p = 3.0 / 7.0;
        let se = (p * (1.0 - p) / draws as f64).sqrt();
        within(hits as f64 / draws as f64, p, se, "Bernoulli(3/7)");
        // The widest range takes all 64 bits and still answers below it.
        assert!(stream.uniform_below(u64::MAX) < u64::MAX);
    }

    #[test]
    fn bernoulli_exp_has_probability_exp_minus_gamma() {
        let draws = 200_000;
        for (num, den) in [(1, 4), (1, 1), (5, 2)] {
            let mut stream = NoiseStream::new(&SECRET, &format!("bernoulli-exp {num}/{den}"));
            let hits = (0..draws)
                .filter(|_| stream.bernoulli_exp(num, den))
                .count();
            let p = (-(num as f64) / den as f64).exp();
            let se = (p * (1.0 - p) / draws as f64).sqrt();
            within(
                hits as f64 / draws as f64,
                p,
                se,
                &format!("Bernoulli(exp(-{num}/{den}))"),
            );
        }
    }

    /// Upper quantile of the chi-square distribution with `df` degrees of
    /// freedom at z standard deviations (Wilson–Hilferty approximation,
    /// accurate to a percent or so at these degrees of freedom).
    fn chi_square_quantile(df: f64, z: f64) -> f64 {
        let a = 2.0 / (9.0 * df);
        df * (1.0 - a + z * a.sqrt()).powi(3)
    }

    #[test]
    fn discrete_laplace_follows_its_distribution() {
        let draws = 200_000usize;
        for t in [1u64, 2, 10] {
            let mut stream = NoiseStream::new(&SECRET, &format!("laplace t={t}"));
            let samples: Vec<i64> = (0..draws)
                .map(|_| stream.discrete_laplace(1, t) as i64)
                .collect();
            let n = draws as f64;
            let tf = t as f64;
            let p = (-1.0 / tf).exp();

            // Mean 0, variance 2p/(1 − p)².
            let mean = samples.iter().sum::<i64>() as f64 / n;
            let variance = 2.0 * p / (1.0 - p).powi(2);
            within(mean, 0.0, (variance / n).sqrt(), &format!("t={t} mean"));

            // Point probabilities.
            for k in -3..=3 {
                let observed = samples.iter().filter(|&&x| x == k).count() as f64 / n;
                let expected = laplace_pmf(tf, k);
                let se = (expected * (1.0 - expected) / n).sqrt();
                within(observed, expected, se, &format!("t={t} P(X={k})"));
            }

            // Chi-square over −K..=K plus the two tails, with K the last
            // value whose expected count is at least 5, so that each bin's
            // expected count is at least 5 (the tails hold more than one
            // value's worth). Threshold: the chi-square quantile at z = 5
            // (upper tail about 3·10⁻⁷).
            let big_k = (0..)
                .take_while(|&k| n * laplace_pmf(tf, k) >= 5.0)
                .last()
                .unwrap();
            let tail = p.powi(big_k as i32 + 1) / (1.0 + p);
            let mut observed = vec![0f64; 2 * big_k as usize + 3];
            for &x in &samples {
                let bin = (x.clamp(-big_k - 1, big_k + 1) + big_k + 1) as usize;
                observed[bin] += 1.0;
            }
            let statistic: f64 = observed
                .iter()
                .enumerate()
                .map(|(bin, &count)| {
                    let k = bin as i64 - big_k - 1;
                    let expected = n * if k.abs() > big_k {
                        tail
                    } else {
                        laplace_pmf(tf, k)
                    };
                    (count - expected).powi(2) / expected
                })
                .sum();
            let df = observed.len() as f64 - 1.0;
            let threshold = chi_square_quantile(df, Z);
            assert!(
                statistic <= threshold,
                "t={t}: chi-square {statistic} over {df} degrees of freedom exceeds {threshold}"
            );
        }
    }

    /// Releases `count` once per cell over `cells` cells (labels prefixed by
    /// `label`) and tallies the outputs.
    fn release_histogram(
        count: u64,
        epsilon: Epsilon,
        label: &str,
        cells: usize,
    ) -> std::collections::HashMap<u64, u32> {
        let mut histogram = std::collections::HashMap::new();
        for i in 0..cells {
            let mut stream = NoiseStream::new(&SECRET, &format!("{label}|{i}"));
            *histogram
                .entry(noisy_count(count, epsilon, 1, &mut stream))
                .or_insert(0) += 1;
        }
        histogram
    }

    /// The largest amount by which |ln(P(v | n) / P(v | n + 1))| exceeds
    /// `epsilon` + 5 standard errors, over outputs v seen at least 500 times
    /// under both; negative when every ratio is within its bound.
    ///
    /// With c₁ and c₂ counts out of the same number of cells, the standard
    /// error of ln(c₁/c₂) is about √(1/c₁ + 1/c₂) (delta method, Poisson
    /// counts); 500 keeps it at most 0.064 and the approximation sound.
    fn worst_ratio_excess(
        first: &std::collections::HashMap<u64, u32>,
        second: &std::collections::HashMap<u64, u32>,
        epsilon: f64,
    ) -> (f64, usize) {
        let mut worst = f64::NEG_INFINITY;
        let mut checked = 0;
        for (value, &c1) in first {
            let Some(&c2) = second.get(value) else {
                continue;
            };
            if c1 < 500 || c2 < 500 {
                continue;
            }
            checked += 1;
            let (c1, c2) = (f64::from(c1), f64::from(c2));
            let slack = Z * (1.0 / c1 + 1.0 / c2).sqrt();
            worst = worst.max((c1 / c2).ln().abs() - epsilon - slack);
        }
        (worst, checked)
    }

    #[test]
    fn neighbouring_counts_are_within_e_to_the_epsilon() {
        // Neighbours n = 50 and n + 1 at ε = 1, Δ = 1, one release per cell
        // over distinct cells. Clamping at 0 needs noise below −50, of
        // probability about e⁻⁵⁰: negligible.
        let cells = 50_000;
        let epsilon = Epsilon::new(1, 1).unwrap();
        let at_n = release_histogram(50, epsilon, "n", cells);
        let at_n1 = release_histogram(51, epsilon, "n+1", cells);
        let (excess, checked) = worst_ratio_excess(&at_n, &at_n1, 1.0);
        // The exact ratio is e^±1 at every v, so the bound is tight; outputs
        // 47..=54 have enough mass.
        assert!(checked >= 6, "{checked} outputs checked");
        assert!(
            excess <= 0.0,
            "a ratio exceeds e^ε by {excess} beyond its slack"
        );

        // The check has power: releases at ε = 2 (ratio e^±2) fail it.
        let strong = Epsilon::new(2, 1).unwrap();
        let cells = 10_000;
        let at_n = release_histogram(50, strong, "n strong", cells);
        let at_n1 = release_histogram(51, strong, "n+1 strong", cells);
        let (excess, checked) = worst_ratio_excess(&at_n, &at_n1, 1.0);
        assert!(checked >= 2 && excess > 0.0, "{excess} over {checked}");
    }

    #[test]
    fn a_count_never_goes_below_zero() {
        let epsilon = Epsilon::new(1, 2).unwrap();
        let released: Vec<u64> = (0..2_000)
            .map(|i| {
                noisy_count(
                    0,
                    epsilon,
                    1,
                    &mut NoiseStream::new(&SECRET, &format!("zero|{i}")),
                )
            })
            .collect();
        // Half the noise is negative, so about half the answers are 0.
        let zeros = released.iter().filter(|&&v| v == 0).count();
        assert!((800..=1400).contains(&zeros), "{zeros}");
        assert!(released.iter().any(|&v| v > 0));
        // No overflow at the top either.
        let top = noisy_count(u64::MAX, epsilon, 1, &mut NoiseStream::new(&SECRET, "top"));
        assert!(top > u64::MAX - 1_000);
    }

    #[test]
    fn epsilon_parses_exact_decimals_and_refuses_the_rest() {
        for (text, num, den) in [
            ("1", 1, 1),
            ("0.5", 1, 2),
            ("0.125", 1, 8),
            ("2.25", 9, 4),
            ("0.000001", 1, 1_000_000),
            ("3.10", 31, 10),
            ("010", 10, 1),
        ] {
            let epsilon = Epsilon::parse(text).unwrap();
            assert_eq!((epsilon.num(), epsilon.den()), (num, den), "{text}");
        }
        for (text, error) in [
            ("0", EpsilonError::NotPositive),
            ("0.000", EpsilonError::NotPositive),
            ("-1", EpsilonError::NotPositive),
            ("-0.5", EpsilonError::NotPositive),
            ("-0", EpsilonError::NotPositive),
            ("--1", EpsilonError::Malformed),
            ("-abc", EpsilonError::Malformed),
            ("abc", EpsilonError::Malformed),
            ("1e3", EpsilonError::Malformed),
            ("", EpsilonError::Malformed),
            (".5", EpsilonError::Malformed),
            ("1.", EpsilonError::Malformed),
            ("+1", EpsilonError::Malformed),
            (" 1", EpsilonError::Malformed),
            ("1.5.0", EpsilonError::Malformed),
            ("0.1234567", EpsilonError::TooPrecise),
            ("4294967296", EpsilonError::TooLarge),
            ("99999999999", EpsilonError::TooLarge),
        ] {
            assert_eq!(Epsilon::parse(text), Err(error), "{text:?}");
        }
        assert_eq!(Epsilon::new(2, 4), Epsilon::new(1, 2));
        assert_eq!(Epsilon::new(0, 4), None);
        for text in ["1", "0.5", "0.125", "2.25", "0.000001"] {
            assert_eq!(Epsilon::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Epsilon::new(1, 3).unwrap().to_string(), "1/3");
    }

    #[test]
    fn error_bound_95_matches_the_empirical_percentile() {
        // By hand: t = 1 gives P(|X| > 2) = 0.073, P(|X| > 3) = 0.027;
        // t = 10 gives P(|X| > 29) = 0.0523, P(|X| > 30) = 0.0473.
        let one = Epsilon::new(1, 1).unwrap();
        let tenth = Epsilon::new(1, 10).unwrap();
        assert_eq!(error_bound_95(one, 1), 3);
        assert_eq!(error_bound_95(tenth, 1), 30);
        assert_eq!(error_bound_95(Epsilon::new(1, 2).unwrap(), 5), 30);
        assert_eq!(error_bound_95(Epsilon::new(1000, 1).unwrap(), 1), 0);

        // The empirical bound: the smallest b with at most 5% of |X| above
        // it. Its tails sit 0.023 and 0.0027 away from 0.05, versus a
        // standard error of 0.0005 at 200 000 draws, so it should match
        // exactly; the requirement is ±1.
        let draws = 200_000;
        for (epsilon, t) in [(one, 1u64), (tenth, 10)] {
            let mut stream = NoiseStream::new(&SECRET, &format!("bound t={t}"));
            let mut magnitudes: Vec<u128> = (0..draws)
                .map(|_| stream.discrete_laplace(1, t).unsigned_abs())
                .collect();
            magnitudes.sort_unstable();
            // At most 5% strictly above b: b is the value at rank ⌈0.95·n⌉.
            let empirical = magnitudes[draws * 95 / 100 - 1] as u64;
            let bound = error_bound_95(epsilon, 1);
            assert!(
                empirical.abs_diff(bound) <= 1,
                "t={t}: bound {bound}, empirical {empirical}"
            );
        }
    }
}
