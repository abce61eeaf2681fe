//! The statistics that make a compared number meaningful: Wilson intervals for accuracies; for
//! two classifiers scored on the same test images, the paired difference of their accuracies
//! with Newcombe's interval, McNemar's exact test, an equivalence test against a margin (two
//! one-sided tests) and Holm's correction across a table of comparisons; mean and spread across
//! seeds, with the corrected resampled t interval across overlapping splits. I/O-free.
//!
//! May touch: nothing else in the crate.

/// The normal quantile of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;
/// The normal quantile of a two-sided 90 % interval: its bounds are the two one-sided 5 % tests
/// of an equivalence claim.
pub const Z90: f64 = 1.644_853_626_951_472_2;
/// The level below which a (corrected) p-value calls a difference real.
pub const ALPHA: f64 = 0.05;

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// `[91.13, 92.05]`: the bounds in percent, two decimals.
    pub fn percent(&self) -> String {
        format!("[{:.2}, {:.2}]", 100.0 * self.low, 100.0 * self.high)
    }
}

/// The Wilson score interval (95 %) for a proportion of `successes` out of `n`: unlike the
/// normal approximation it stays inside [0, 1] and is honest near 0 and 1.
pub fn wilson(successes: u64, n: u64) -> Interval {
    wilson_at(successes, n, Z95)
}

/// The Wilson score interval at the two-sided level of the normal quantile `z`.
pub fn wilson_at(successes: u64, n: u64, z: f64) -> Interval {
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// What a paired comparison of two classifiers on the same test images found: the 2 x 2 table
/// of right and wrong, and what follows from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Images both got right.
    pub both: u64,
    /// Images the first got right and the second wrong.
    pub only_first: u64,
    /// Images the second got right and the first wrong.
    pub only_second: u64,
    /// Images both got wrong.
    pub neither: u64,
    /// Two-sided exact p-value: the chance of a split of the discordant images at least this
    /// uneven if both classifiers were equally accurate.
    pub p_value: f64,
}

/// What a comparison supports, at the 5 % level: equivalence within the margin (two one-sided
/// tests), a real difference (the p-value after the table's correction), or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    Equivalent,
    Different,
    Inconclusive,
}

impl McNemar {
    /// Compares per-image correctness (`first[i]`, `second[i]`: image i right or wrong).
    pub fn test(first: &[bool], second: &[bool]) -> Self {
        assert_eq!(first.len(), second.len(), "paired on the same images");
        let count = |a: bool, b: bool| {
            first
                .iter()
                .zip(second)
                .filter(|&(&x, &y)| x == a && y == b)
                .count() as u64
        };
        Self::from_table(
            count(true, true),
            count(true, false),
            count(false, true),
            count(false, false),
        )
    }

    /// From the 2 x 2 table: both right, only the first, only the second, neither.
    pub fn from_table(both: u64, only_first: u64, only_second: u64, neither: u64) -> Self {
        McNemar {
            both,
            only_first,
            only_second,
            neither,
            p_value: mcnemar_exact(only_first, only_second),
        }
    }

    fn n(&self) -> u64 {
        self.both + self.only_first + self.only_second + self.neither
    }

    /// First accuracy minus the second's (a proportion).
    pub fn difference(&self) -> f64 {
        (self.only_first as f64 - self.only_second as f64) / self.n().max(1) as f64
    }

    /// Newcombe's square-and-add interval for the paired difference (his method 10, 1998: the
    /// two accuracies' Wilson intervals combined with the correlation of the pairs), at the
    /// two-sided level of the normal quantile `z`.
    pub fn difference_interval(&self, z: f64) -> Interval {
        let n = self.n();
        let first = self.both + self.only_first;
        let second = self.both + self.only_second;
        let nf = n.max(1) as f64;
        let (p1, p2) = (first as f64 / nf, second as f64 / nf);
        let (w1, w2) = (wilson_at(first, n, z), wilson_at(second, n, z));
        // The correlation of the pairs' outcomes, with Newcombe's correction toward zero.
        let a = first as f64 * (n - first) as f64 * second as f64 * (n - second) as f64;
        let b = self.both as f64 * self.neither as f64
            - self.only_first as f64 * self.only_second as f64;
        let c = if b > nf / 2.0 {
            b - nf / 2.0
        } else if b < 0.0 {
            b
        } else {
            0.0
        };
        let phi = if a > 0.0 { c / a.sqrt() } else { 0.0 };
        let d = p1 - p2;
        let spread = |down: f64, up: f64| {
            (down * down - 2.0 * phi * down * up + up * up)
                .max(0.0)
                .sqrt()
        };
        Interval {
            low: d - spread(p1 - w1.low, w2.high - p2),
            high: d + spread(w1.high - p1, p2 - w2.low),
        }
    }

    /// The 95 % interval of the difference.
    pub fn difference_95(&self) -> Interval {
        self.difference_interval(Z95)
    }

    /// Tango's score interval for the paired difference (1998), at the two-sided level of the
    /// normal quantile `z`: the differences d0 whose score statistic
    /// (b - c - n d0) / sqrt(n (2 q + d0 (1 - d0))), with q the restricted maximum-likelihood
    /// share of images only the second got right, stays within ±z. Unlike Newcombe's interval it
    /// holds with no discordant image: 0 of n gives ±z²/(n + z²) (0.27 % at 90 % for 1,000
    /// images), never a point.
    pub fn score_interval(&self, z: f64) -> Interval {
        let n = self.n().max(1) as f64;
        let (b, c) = (self.only_first as f64, self.only_second as f64);
        let score = |d0: f64| {
            let a2 = 2.0 * n;
            let b2 = -b - c + (2.0 * n - b + c) * d0;
            let c2 = -c * d0 * (1.0 - d0);
            let q = ((b2 * b2 - 4.0 * a2 * c2).max(0.0).sqrt() - b2) / (2.0 * a2);
            let variance = n * (2.0 * q + d0 * (1.0 - d0));
            let num = b - c - n * d0;
            if variance > 0.0 {
                num / variance.sqrt()
            } else if num == 0.0 {
                0.0
            } else {
                num.signum() * f64::INFINITY
            }
        };
        // The score falls as d0 rises: bisect for score = z below the estimate, -z above it.
        let solve = |mut lo: f64, mut hi: f64, target: f64| {
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if score(mid) > target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        let d = self.difference();
        Interval {
            low: solve(-1.0, d, z),
            high: solve(d, 1.0, -z),
        }
    }

    /// Two one-sided tests at 5 %: the difference is within `margin` (a proportion) of zero when
    /// Tango's 90 % score interval lies inside (-margin, margin). (Newcombe's interval, which the
    /// tables show, collapses toward a point when no image is discordant and would call 0 of
    /// 1,000 "the same" at a 0.2 pp margin; the score interval says the data cannot exclude
    /// 0.27 %.)
    pub fn equivalent(&self, margin: f64) -> bool {
        let i = self.score_interval(Z90);
        i.low > -margin && i.high < margin
    }

    /// What this comparison supports, given its p-value after the table's correction.
    pub fn finding(&self, margin: f64, corrected_p: f64) -> Finding {
        Finding::of(self.equivalent(margin), corrected_p)
    }
}

impl Finding {
    /// Equivalence (shown by two one-sided tests) first, then a difference by the corrected p.
    pub fn of(equivalent: bool, corrected_p: f64) -> Self {
        if equivalent {
            Finding::Equivalent
        } else if corrected_p < ALPHA {
            Finding::Different
        } else {
            Finding::Inconclusive
        }
    }

    /// A table cell: `same (±0.20 pp)`, `**different**`, `inconclusive`.
    pub fn text(&self, margin: f64) -> String {
        match self {
            Finding::Equivalent => format!("same (±{:.2} pp)", 100.0 * margin),
            Finding::Different => "**different**".into(),
            Finding::Inconclusive => "inconclusive".into(),
        }
    }
}

/// Holm's step-down adjustment of `p` (in any order; returned in the same order): the k-th
/// smallest times the number not yet rejected, made monotone, capped at 1. Controls the chance
/// of calling any true equality a difference at the level, across all the comparisons.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// McNemar's exact test: `2 * P(X <= min(b, c))` for `X ~ Binomial(b + c, 1/2)`, capped at 1.
/// Summed in log space, so thousands of discordant images do not underflow.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    let ln_half_n = n as f64 * std::f64::consts::LN_2;
    // ln C(n, i), built up term by term.
    let mut ln_choose = 0.0;
    let mut terms = Vec::with_capacity(k as usize + 1);
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        terms.push(ln_choose - ln_half_n);
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tail = max.exp() * terms.iter().map(|t| (t - max).exp()).sum::<f64>();
    (2.0 * tail).min(1.0)
}

/// A difference of proportions in percentage points, signed, two decimals: `+0.12`, `-0.15`;
/// one that rounds to zero is `0.00` (not `-0.00`).
pub fn signed_pp(difference: f64) -> String {
    let v = 100.0 * difference;
    if v.abs() < 0.005 {
        "0.00".into()
    } else {
        format!("{v:+.2}")
    }
}

/// A p-value, short: `0.017`, `<0.001`.
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// `items` grouped by `key`: groups in the order of their first item, items in their own order
/// (how runs are grouped everywhere: by split, test set, fit family, seed or chart line).
pub fn group_in_order<T, K: PartialEq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<Vec<T>> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for item in items {
        let k = key(&item);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, group)) => group.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// The item with the largest score, ties going to the first (the order a config lists runs in).
pub fn first_max<T>(items: impl IntoIterator<Item = (T, f64)>) -> Option<T> {
    items
        .into_iter()
        .fold(None, |best: Option<(T, f64)>, (item, score)| match best {
            Some((_, b)) if b >= score => best,
            _ => Some((item, score)),
        })
        .map(|(item, _)| item)
}

/// One setting's cross-validation result, for [`choose`].
#[derive(Debug, Clone, Copy)]
pub struct Scored<T> {
    pub item: T,
    /// Mean score across folds (higher is better).
    pub mean: f64,
    /// Standard error of that mean.
    pub standard_error: f64,
    /// Order of simplicity, smallest first (the strongest penalty, then the fewest iterations).
    pub simplicity: (f64, u64),
}

/// The standard error of a mean of `folds` scores from their population standard deviation
/// (scikit-learn's `std_test_score`): the sample deviation over the square root of `folds`.
pub fn standard_error(population_sd: f64, folds: usize) -> f64 {
    if folds < 2 {
        return 0.0;
    }
    population_sd / ((folds - 1) as f64).sqrt()
}

/// The settings whose mean is within one standard error of the best mean (the best included),
/// in order: those the folds cannot tell apart from it.
pub fn within_one_se<T: Copy>(scored: &[Scored<T>]) -> Vec<T> {
    near_best(scored).map(|s| s.item).collect()
}

/// The scored settings within one standard error of the best (ties for best: the first).
fn near_best<T>(scored: &[Scored<T>]) -> impl Iterator<Item = &Scored<T>> {
    let floor = first_max(scored.iter().map(|s| (s, s.mean)))
        .map_or(f64::INFINITY, |best| best.mean - best.standard_error);
    scored.iter().filter(move |s| s.mean >= floor)
}

/// The chosen setting: the best mean (ties: the first), or with `one_se` the simplest setting
/// within one standard error of it (ties: the first). None for fewer than two settings.
pub fn choose<T: Copy>(scored: &[Scored<T>], one_se: bool) -> Option<T> {
    if scored.len() < 2 {
        return None;
    }
    if !one_se {
        return first_max(scored.iter().map(|s| (s.item, s.mean)));
    }
    // The smallest simplicity; `min_by` keeps the first of equals.
    near_best(scored)
        .min_by(|a, b| {
            a.simplicity
                .0
                .total_cmp(&b.simplicity.0)
                .then(a.simplicity.1.cmp(&b.simplicity.1))
        })
        .map(|s| s.item)
}

/// Mean and sample standard deviation (n - 1); the deviation is 0 for fewer than two values.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    mean_and_deviation(values, 1)
}

/// Mean and population standard deviation (n), as scikit-learn's `std_test_score`.
pub fn mean_population_sd(values: &[f64]) -> (f64, f64) {
    mean_and_deviation(values, 0)
}

/// Mean and standard deviation with `ddof` degrees of freedom taken off (numpy's name).
fn mean_and_deviation(values: &[f64], ddof: usize) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    if values.len() <= ddof {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - ddof as f64);
    (mean, var.sqrt())
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom: tabulated to 30,
/// then the Cornish-Fisher expansion around the normal quantile (within 1e-4 of the exact value).
pub fn t95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            let (z, n) = (Z95, df as f64);
            z + (z.powi(3) + z) / (4.0 * n)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
        }
    }
}

/// A quantity measured on several random train/test splits of one data set: its mean, sample
/// standard deviation and the 95 % interval of the mean by Nadeau and Bengio's corrected
/// resampled t (2003). The splits share images, so their results are not independent: the
/// variance of the mean is sd^2 (1/J + n_test/n_train), not sd^2 / J, for J splits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcrossSplits {
    pub splits: usize,
    pub mean: f64,
    pub sd: f64,
    pub interval: Interval,
}

impl AcrossSplits {
    /// `values`, one per split, of splits with `test_over_train` = n_test / n_train.
    pub fn of(values: &[f64], test_over_train: f64) -> Self {
        let (mean, sd) = mean_sd(values);
        let j = values.len();
        let half = match j {
            0 | 1 => f64::INFINITY,
            _ => t95(j - 1) * sd * (1.0 / j as f64 + test_over_train).sqrt(),
        };
        AcrossSplits {
            splits: j,
            mean,
            sd,
            interval: Interval {
                low: mean - half,
                high: mean + half,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_interval_holds_at_zero_discordant_images() {
        // No discordant image of 1,000: ±z²/(n + z²), 0.27 % at 90 %: not within 0.2 pp.
        let none = McNemar::from_table(917, 0, 0, 83);
        let i = none.score_interval(Z90);
        let bound = Z90 * Z90 / (1000.0 + Z90 * Z90);
        assert!(
            (i.high - bound).abs() < 1e-9 && (i.low + bound).abs() < 1e-9,
            "{i:?}"
        );
        assert!(!none.equivalent(0.002));
        // Whatever the accuracy: the same at 61.7 % (the penalties run the review named).
        assert!(!McNemar::from_table(617, 0, 0, 383).equivalent(0.002));
        // 14,000 images with none discordant: ±0.019 %, well within 0.2 pp.
        assert!(McNemar::from_table(12_840, 0, 0, 1_160).equivalent(0.002));
        // Many discordant images: close to the Wald interval d ± z sqrt((b + c)/n² - d²/n).
        let t = McNemar::from_table(800, 60, 40, 100);
        let i = t.score_interval(Z95);
        let d = 0.02;
        let half = Z95 * (100.0 / 1e6 - d * d / 1000.0f64).sqrt();
        assert!(
            (i.low - (d - half)).abs() < 1e-3 && (i.high - (d + half)).abs() < 1e-3,
            "{i:?}"
        );
        assert!(i.low < d && d < i.high);
        // 21 each way of 14,000 (99.7 % agreement, no difference): the same within 0.2 pp.
        assert!(McNemar::from_table(12_800, 21, 21, 1_158).equivalent(0.002));
    }

    #[test]
    fn resampled_t_widens_the_interval_for_overlapping_splits() {
        assert_eq!(t95(9), 2.262);
        assert!((t95(31) - 2.0395).abs() < 1e-3, "{}", t95(31));
        assert!((t95(120) - 1.9799).abs() < 1e-3, "{}", t95(120));
        assert!((t95(100_000) - Z95).abs() < 1e-4);
        // Ten splits, sd 1: half-width t95(9) * sqrt(1/10 + 0.25) against the naive sqrt(1/10).
        let values = [1.0, 3.0, 2.0, 2.0, 1.0, 3.0, 2.0, 2.0, 1.0, 3.0];
        let a = AcrossSplits::of(&values, 0.25);
        let (mean, sd) = mean_sd(&values);
        assert_eq!((a.splits, a.mean, a.sd), (10, mean, sd));
        let half = a.interval.high - a.mean;
        assert!((half - 2.262 * sd * 0.35f64.sqrt()).abs() < 1e-12);
        assert!((a.mean - a.interval.low - half).abs() < 1e-12);
        assert!(AcrossSplits::of(&[2.0], 0.25).interval.high.is_infinite());
    }

    #[test]
    fn groups_keep_the_order_of_their_first_item() {
        let groups = group_in_order([3, 10, 5, 13, 4, 20], |v| v % 10);
        assert_eq!(groups, vec![vec![3, 13], vec![10, 20], vec![5], vec![4]]);
        assert!(group_in_order(Vec::<u8>::new(), |v| *v).is_empty());
    }

    /// The paired table of Cavo et al. (2012) as Fagerland, Lydersen and Laake's R package
    /// `contingencytables` (the reference implementation of their book's chapter 8) reports it
    /// in its tests: Newcombe's square-and-add interval -0.0621 (-0.1186 to -0.0046), McNemar's
    /// exact conditional p 0.052479.
    #[test]
    fn paired_difference_matches_the_reference_implementation() {
        let t = McNemar::from_table(59, 6, 16, 80);
        assert!(
            (t.difference() - -0.0621).abs() < 5e-5,
            "{}",
            t.difference()
        );
        let i = t.difference_95();
        assert!((i.low - -0.1186).abs() < 5e-5, "{i:?}");
        assert!((i.high - -0.0046).abs() < 5e-5, "{i:?}");
        assert!((t.p_value - 0.052479).abs() < 5e-7, "{}", t.p_value);
        // Swapping the two classifiers mirrors the interval.
        let s = McNemar::from_table(59, 16, 6, 80).difference_95();
        assert!((s.low + i.high).abs() < 1e-12 && (s.high + i.low).abs() < 1e-12);
    }

    /// The 90 % interval is inside the 95 % one; equivalence needs it inside the margin.
    #[test]
    fn equivalence_is_two_one_sided_tests_on_the_90_percent_interval() {
        // 14,000 images, 20 discordant each way: the difference is 0 within about 0.06 pp.
        let same = McNemar::from_table(12_800, 20, 20, 1_160);
        let i90 = same.difference_interval(Z90);
        let i95 = same.difference_95();
        assert!(i95.low < i90.low && i90.high < i95.high);
        assert!(same.equivalent(0.002), "{i90:?}");
        assert!(!same.equivalent(0.0002), "{i90:?}");
        assert_eq!(same.finding(0.002, 1.0), Finding::Equivalent);
        // 100 discordant one way, 40 the other: a real difference, not equivalence at 0.2 pp.
        let apart = McNemar::from_table(12_700, 100, 40, 1_160);
        assert!(apart.p_value < 1e-4);
        assert!(!apart.equivalent(0.002));
        assert_eq!(apart.finding(0.002, apart.p_value), Finding::Different);
        // Few images: neither claim holds.
        let small = McNemar::from_table(80, 3, 2, 15);
        assert_eq!(small.finding(0.002, small.p_value), Finding::Inconclusive);
    }

    #[test]
    fn one_se_takes_the_simplest_setting_within_one_standard_error() {
        let s = |item: usize, mean: f64, c: f64, it: u64| Scored {
            item,
            mean,
            standard_error: 0.1,
            simplicity: (c, it),
        };
        // Best is 2 (mean 0.92); 0 and 3 are within 0.1 of it; 0 has the smallest C.
        let scored = [
            s(0, 0.85, 0.01, 100),
            s(1, 0.70, 0.001, 100),
            s(2, 0.92, 1.0, 100),
            s(3, 0.83, 0.1, 50),
        ];
        assert_eq!(choose(&scored, false), Some(2));
        assert_eq!(choose(&scored, true), Some(0));
        assert_eq!(within_one_se(&scored), vec![0, 2, 3]);
        // Same C: fewer iterations wins.
        let scored = [s(0, 0.9, 1.0, 100), s(1, 0.88, 1.0, 50)];
        assert_eq!(choose(&scored, true), Some(1));
        assert_eq!(choose(&scored[..1], true), None);
        // 5 folds with population sd 0.2: sample sd 0.2 * sqrt(5/4), over sqrt(5).
        assert!((standard_error(0.2, 5) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn holm_adjusts_step_down_and_keeps_order() {
        // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> monotone.
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.6, 0.9]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn wilson_matches_scipy() {
        // scipy.stats.binomtest(12824, 14000).proportion_ci(method="wilson")
        let i = wilson(12824, 14000);
        assert!((i.low - 0.911_290_2).abs() < 1e-6, "{i:?}");
        assert!((i.high - 0.920_481_5).abs() < 1e-6, "{i:?}");
        // Edges stay inside [0, 1].
        let all = wilson(10, 10);
        assert!(all.high > 1.0 - 1e-12 && all.high <= 1.0, "{all:?}");
        assert!((all.low - 0.722_467_2).abs() < 1e-6, "{all:?}");
        assert_eq!(
            wilson(0, 0),
            Interval {
                low: 0.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn mcnemar_matches_scipy_binomtest() {
        // scipy.stats.binomtest(k, n, 0.5).pvalue
        assert!((mcnemar_exact(3, 12) - 0.035_156_25).abs() < 1e-12);
        assert!((mcnemar_exact(12, 3) - 0.035_156_25).abs() < 1e-12);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // Large counts: no underflow.
        let p = mcnemar_exact(1000, 1200);
        assert!((p - 2.181_702_6e-5).abs() / 2.181_702_6e-5 < 1e-6, "{p}");
        let paired = McNemar::test(&[true, true, false, true], &[true, false, false, false]);
        assert_eq!((paired.only_first, paired.only_second), (2, 0));
        assert!((paired.p_value - 0.5).abs() < 1e-12);
    }

    #[test]
    fn mean_and_sample_sd() {
        assert_eq!(mean_sd(&[1.0, 2.0, 3.0]), (2.0, 1.0));
        assert_eq!(mean_sd(&[4.0]), (4.0, 0.0));
        assert_eq!(mean_population_sd(&[1.0, 3.0]), (2.0, 1.0));
        assert_eq!(first_max([("a", 1.0), ("b", 2.0), ("c", 2.0)]), Some("b"));
        assert_eq!(first_max(Vec::<(u8, f64)>::new()), None);
    }
}
