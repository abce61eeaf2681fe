//! The statistics that make a compared number meaningful: Wilson intervals for accuracies,
//! McNemar's exact test for two classifiers scored on the same test images, and mean and spread
//! across seeds. I/O-free.
//!
//! May touch: nothing else in the crate.

/// The normal quantile of a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

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
    if n == 0 {
        return Interval {
            low: 0.0,
            high: 1.0,
        };
    }
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Interval {
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    }
}

/// What a paired comparison of two classifiers on the same test images found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Images the first got right and the second wrong.
    pub only_first: u64,
    /// Images the second got right and the first wrong.
    pub only_second: u64,
    /// Two-sided exact p-value: the chance of a split of the discordant images at least this
    /// uneven if both classifiers were equally accurate.
    pub p_value: f64,
}

impl McNemar {
    /// Compares per-image correctness (`first[i]`, `second[i]`: image i right or wrong).
    pub fn test(first: &[bool], second: &[bool]) -> Self {
        assert_eq!(first.len(), second.len(), "paired on the same images");
        let only_first = first.iter().zip(second).filter(|(&a, &b)| a && !b).count() as u64;
        let only_second = first.iter().zip(second).filter(|(&a, &b)| !a && b).count() as u64;
        McNemar {
            only_first,
            only_second,
            p_value: mcnemar_exact(only_first, only_second),
        }
    }

    /// The words a report uses for the result at the 5 % level.
    pub fn verdict(&self) -> &'static str {
        if self.p_value < 0.05 {
            "a real difference"
        } else {
            "no evidence of a difference"
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_the_order_of_their_first_item() {
        let groups = group_in_order([3, 10, 5, 13, 4, 20], |v| v % 10);
        assert_eq!(groups, vec![vec![3, 13], vec![10, 20], vec![5], vec![4]]);
        assert!(group_in_order(Vec::<u8>::new(), |v| *v).is_empty());
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
