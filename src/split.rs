//! Train/test split, index for index identical to scikit-learn's `train_test_split`.
//!
//! scikit-learn draws `np.random.RandomState(random_state).permutation(n)` (MT19937 seeded with
//! `init_genrand`, then a Fisher-Yates shuffle from the end with masked rejection sampling) and
//! takes the test indices first: `test = perm[..n_test]`, `train = perm[n_test..n_test + n_train]`.
//! Sizes follow `_validate_shuffle_split`: a float test size rounds up, a float train size down.
//!
//! May touch: nothing else in the crate (an I/O-free algorithm).

use rand_mt::Mt;

/// Sizes or fold counts the data cannot satisfy; the message names the value and says what to use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SplitError(pub String);

/// A `train_size` or `test_size` as scikit-learn takes it: a float fraction or an integer count.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// A fraction of the samples, strictly between 0 and 1.
    Fraction(f64),
    /// An absolute number of samples.
    Count(usize),
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // `{:?}` keeps a trailing `.0`, so a fraction never reads like a count.
            Size::Fraction(v) => write!(f, "{v:?}"),
            Size::Count(v) => write!(f, "{v}"),
        }
    }
}

/// The split parameters of one run, with scikit-learn's names and meanings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitSpec {
    pub train_size: Option<Size>,
    pub test_size: Option<Size>,
    pub random_state: u32,
    pub shuffle: bool,
}

/// The row indices of one split, in the order scikit-learn returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// scikit-learn's default test fraction when neither size is given.
const DEFAULT_TEST_SIZE: f64 = 0.25;

/// Resolves `(n_train, n_test)` for `n` samples exactly as scikit-learn's `_validate_shuffle_split`,
/// or says which value is out of range and how to fix it.
pub fn resolve_sizes(
    n: usize,
    train_size: Option<Size>,
    test_size: Option<Size>,
) -> Result<(usize, usize), SplitError> {
    let test_size = match (train_size, test_size) {
        (None, None) => Some(Size::Fraction(DEFAULT_TEST_SIZE)),
        _ => test_size,
    };
    for (key, size) in [("test_size", test_size), ("train_size", train_size)] {
        match size {
            Some(Size::Fraction(f)) if !(f > 0.0 && f < 1.0) => {
                return Err(SplitError(format!(
                    "{key} = {f:?} is a fraction outside (0, 1): use a float strictly between 0 and 1, or an integer count"
                )))
            }
            Some(Size::Count(c)) if c == 0 || c >= n => {
                return Err(SplitError(format!(
                    "{key} = {c} must be a count between 1 and {} (the data has {n} samples), or a float fraction",
                    n.saturating_sub(1)
                )))
            }
            _ => {}
        }
    }
    if let (Some(Size::Fraction(a)), Some(Size::Fraction(b))) = (train_size, test_size) {
        if a + b > 1.0 {
            return Err(SplitError(format!(
                "train_size + test_size = {:?} is more than 1: reduce test_size and/or train_size",
                a + b
            )));
        }
    }
    let count = |size: Size, round_up: bool| match size {
        Size::Fraction(f) if round_up => (f * n as f64).ceil() as usize,
        Size::Fraction(f) => (f * n as f64).floor() as usize,
        Size::Count(c) => c,
    };
    let n_test = test_size.map(|s| count(s, true));
    let n_train = train_size.map(|s| count(s, false));
    let (n_train, n_test) = match (n_train, n_test) {
        (Some(tr), Some(te)) => (tr, te),
        (None, Some(te)) => (n - te, te),
        (Some(tr), None) => (tr, n - tr),
        (None, None) => unreachable!("test_size defaults above"),
    };
    if n_train + n_test > n {
        return Err(SplitError(format!(
            "train_size and test_size select {} samples but the data has {n}: reduce test_size and/or train_size",
            n_train + n_test
        )));
    }
    if n_train == 0 {
        return Err(SplitError(format!(
            "with {n} samples these sizes leave the training set empty: raise train_size or lower test_size"
        )));
    }
    Ok((n_train, n_test))
}

/// `np.random.RandomState(seed).permutation(n)`, bit for bit.
pub fn permutation(n: usize, seed: u32) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    shuffle(&mut Mt::new(seed), &mut perm);
    perm
}

/// numpy's legacy `RandomState.shuffle` of a 1-d array: Fisher-Yates from the end.
fn shuffle<T>(rng: &mut Mt, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = bounded(rng, i as u32) as usize;
        items.swap(i, j);
    }
}

/// The fold (0..n_splits) of each sample, as scikit-learn's `StratifiedKFold(n_splits,
/// shuffle=seed.is_some(), random_state=seed)` assigns them (`_make_test_folds`), index for
/// index: classes in order of first appearance; each class's samples dealt to the folds in
/// blocks sized by a round robin over the sorted labels; with a seed, each class's block
/// sequence shuffled by one shared `RandomState(seed)`. Fold `i`'s validation samples are those
/// with fold `i`, its training samples the rest.
pub fn stratified_k_fold(
    labels: &[u8],
    n_splits: usize,
    seed: Option<u32>,
) -> Result<Vec<usize>, SplitError> {
    if n_splits < 2 {
        return Err(SplitError(format!(
            "cv = {n_splits}: k-fold cross-validation needs at least 2 folds"
        )));
    }
    // Classes by first appearance, and each sample's class in that order.
    let mut code = [usize::MAX; 256];
    let mut counts: Vec<usize> = Vec::new();
    let encoded: Vec<usize> = labels
        .iter()
        .map(|&label| {
            let slot = &mut code[label as usize];
            if *slot == usize::MAX {
                *slot = counts.len();
                counts.push(0);
            }
            counts[*slot] += 1;
            *slot
        })
        .collect();
    if counts.iter().all(|&c| c < n_splits) {
        return Err(SplitError(format!(
            "cv = {n_splits} is more than the number of samples of every class (the largest has \
             {}): use fewer folds or more data",
            counts.iter().max().copied().unwrap_or(0)
        )));
    }
    // allocation[k][i]: samples of class k in fold i. Class k occupies positions
    // start..start + count of the sorted labels, and fold i takes positions i, i + n, ...
    let mut start = 0;
    let mut allocation = vec![vec![0usize; n_splits]; counts.len()];
    for (per_fold, &count) in allocation.iter_mut().zip(&counts) {
        for p in start..start + count {
            per_fold[p % n_splits] += 1;
        }
        start += count;
    }
    let mut rng = seed.map(Mt::new);
    let mut folds = vec![0usize; labels.len()];
    for (k, per_fold) in allocation.iter().enumerate() {
        let mut blocks: Vec<usize> = per_fold
            .iter()
            .enumerate()
            .flat_map(|(i, &n)| std::iter::repeat_n(i, n))
            .collect();
        if let Some(rng) = rng.as_mut() {
            shuffle(rng, &mut blocks);
        }
        let mut next = blocks.into_iter();
        for (fold, _) in folds.iter_mut().zip(&encoded).filter(|(_, &c)| c == k) {
            *fold = next
                .next()
                .expect("one block entry per sample of the class");
        }
    }
    Ok(folds)
}

/// The seed scikit-learn's `sag` and `saga` draw their samples from, for a `random_state`:
/// `RandomState(random_state).randint(1, 2**31 - 1)` (numpy's legacy masked sampling on MT19937).
pub fn sag_seed(random_state: u32) -> u32 {
    let mut rng = Mt::new(random_state);
    1 + bounded(&mut rng, (i32::MAX - 2) as u32)
}

/// numpy's legacy `random_interval(max)`: masked rejection sampling on 32-bit outputs.
fn bounded(rng: &mut Mt, max: u32) -> u32 {
    if max == 0 {
        return 0;
    }
    let mask = u32::MAX >> max.leading_zeros();
    loop {
        let value = rng.next_u32() & mask;
        if value <= max {
            return value;
        }
    }
}

/// The train and test indices `train_test_split` would return for `n` samples.
pub fn train_test_split(n: usize, spec: &SplitSpec) -> Result<SplitIndices, SplitError> {
    let (n_train, n_test) = resolve_sizes(n, spec.train_size, spec.test_size)?;
    if !spec.shuffle {
        return Ok(SplitIndices {
            train: (0..n_train).collect(),
            test: (n_train..n_train + n_test).collect(),
        });
    }
    let perm = permutation(n, spec.random_state);
    Ok(SplitIndices {
        test: perm[..n_test].to_vec(),
        train: perm[n_test..n_test + n_train].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// `np.random.RandomState(rs).randint(1, np.iinfo(np.int32).max)` in the venv's numpy 2.4.
    #[test]
    fn sag_seeds_match_numpy() {
        assert_eq!(sag_seed(0), 209_652_397);
        assert_eq!(sag_seed(1), 1_791_095_846);
        assert_eq!(sag_seed(42), 1_608_637_543);
    }

    #[test]
    fn permutation_of_ten_matches_numpy() {
        assert_eq!(permutation(10, 0), vec![2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    }

    #[test]
    fn permutation_of_mnist_matches_numpy_golden_values() {
        let perm = permutation(70_000, 0);
        assert_eq!(
            perm[..10],
            [10840, 56267, 14849, 62726, 47180, 61640, 52730, 21847, 20394, 45806]
        );
        assert_eq!(
            perm[70_000 - 10..],
            [52620, 39512, 48600, 55026, 41993, 21243, 45891, 42613, 43567, 68268]
        );
        let mut hasher = Sha256::new();
        for &i in &perm {
            hasher.update((i as u32).to_le_bytes());
        }
        let digest: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            digest,
            "722cfc7f08aa3725f0ac401a73fe6d9dbaab8cfe6d197fec5d022e8bcba01fac"
        );
    }

    fn sha256_of_u32s(values: impl Iterator<Item = usize>) -> String {
        let mut hasher = Sha256::new();
        for v in values {
            hasher.update((v as u32).to_le_bytes());
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn stratified_k_fold_matches_scikit_learn_on_a_small_case() {
        // StratifiedKFold(3, ...).split(X, y): the fold each sample is validated in.
        let y = [3, 1, 1, 3, 2, 3, 1, 2, 2, 3, 3, 1, 2];
        assert_eq!(
            stratified_k_fold(&y, 3, None).unwrap(),
            [0, 0, 1, 0, 0, 1, 2, 0, 1, 1, 2, 2, 2]
        );
        assert_eq!(
            stratified_k_fold(&y, 3, Some(0)).unwrap(),
            [1, 0, 2, 0, 2, 0, 1, 0, 1, 1, 2, 2, 0]
        );
        assert!(stratified_k_fold(&y, 1, None)
            .unwrap_err()
            .0
            .contains("at least 2"));
        assert!(stratified_k_fold(&y, 6, None)
            .unwrap_err()
            .0
            .contains("more than the number of samples of every class"));
    }

    /// Golden values from scikit-learn 1.9.1: the training labels of the notebook split
    /// (`train_test_split(..., train_size=0.8, random_state=0)`) through `StratifiedKFold`.
    #[test]
    fn stratified_k_fold_matches_scikit_learn_on_the_notebook_training_part() {
        let labels = crate::data::load(&crate::config::DataConfig {
            dir: crate::data::repository_data_dir(),
            cache_dir: crate::data::repository_data_dir().join("cache"),
            subsample: None,
        })
        .unwrap()
        .labels;
        let spec = SplitSpec {
            train_size: Some(Size::Fraction(0.8)),
            test_size: None,
            random_state: 0,
            shuffle: true,
        };
        let train: Vec<u8> = train_test_split(70_000, &spec)
            .unwrap()
            .train
            .iter()
            .map(|&i| labels[i])
            .collect();
        for (k, seed, first, digest) in [
            (
                5,
                Some(0),
                [1, 3, 2, 1, 1, 3, 0, 1, 4, 1, 3, 0],
                "11a1e904ff926bccd65f5b905a234084b077b03904204a7e4823e93caedf5798",
            ),
            (
                3,
                None,
                [0; 12],
                "ec8e50524a5afb705e16563635aa5df4547c5def849e0a1be25455d910cc0664",
            ),
            (
                10,
                Some(42),
                [9, 3, 8, 9, 4, 9, 9, 5, 9, 0, 4, 1],
                "df74fd714d197de68dbda597011808b66dc32ef83d8ec1ef4deb470d45c4b4b6",
            ),
            (
                2,
                Some(7),
                [0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
                "a2a9b748308d27c62e9c8bac800052d4a0feb881efbb0f792a40469d9846dae0",
            ),
        ] {
            let folds = stratified_k_fold(&train, k, seed).unwrap();
            assert_eq!(folds[..12], first, "cv = {k}, seed {seed:?}");
            assert_eq!(
                sha256_of_u32s(folds.into_iter()),
                digest,
                "cv = {k}, seed {seed:?}"
            );
        }
    }

    #[test]
    fn notebook_split_matches_scikit_learn() {
        let spec = SplitSpec {
            train_size: Some(Size::Fraction(0.8)),
            test_size: None,
            random_state: 0,
            shuffle: true,
        };
        let split = train_test_split(70_000, &spec).unwrap();
        assert_eq!(split.train.len(), 56_000);
        assert_eq!(split.test.len(), 14_000);
        assert_eq!(
            split.train[..10],
            [43395, 34399, 24774, 52089, 15390, 5073, 4425, 55904, 3140, 18917]
        );
        assert_eq!(split.test[..3], [10840, 56267, 14849]);
    }

    #[test]
    fn sizes_round_like_scikit_learn() {
        assert_eq!(
            resolve_sizes(70_000, None, Some(Size::Fraction(0.15))),
            Ok((59_500, 10_500))
        );
        assert_eq!(resolve_sizes(70_000, None, None), Ok((52_500, 17_500)));
        assert_eq!(
            resolve_sizes(10, Some(Size::Fraction(0.33)), None),
            Ok((3, 7))
        );
        assert_eq!(
            resolve_sizes(10, None, Some(Size::Fraction(0.33))),
            Ok((6, 4))
        );
        assert_eq!(
            resolve_sizes(70_000, Some(Size::Count(60_000)), None),
            Ok((60_000, 10_000))
        );
        assert_eq!(
            resolve_sizes(100, Some(Size::Count(50)), Some(Size::Fraction(0.1))),
            Ok((50, 10))
        );
    }

    #[test]
    fn invalid_sizes_are_rejected_with_the_key() {
        let err = |tr, te| resolve_sizes(100, tr, te).unwrap_err().0;
        assert!(err(Some(Size::Fraction(1.0)), None).starts_with("train_size = 1.0"));
        assert!(err(None, Some(Size::Fraction(0.0))).starts_with("test_size = 0.0"));
        assert!(err(None, Some(Size::Count(100))).starts_with("test_size = 100"));
        assert!(err(Some(Size::Fraction(0.7)), Some(Size::Fraction(0.4))).contains("more than 1"));
        assert!(err(Some(Size::Count(60)), Some(Size::Count(50))).contains("110 samples"));
    }

    #[test]
    fn unshuffled_split_keeps_the_standard_mnist_order() {
        let spec = SplitSpec {
            train_size: Some(Size::Count(60_000)),
            test_size: None,
            random_state: 0,
            shuffle: false,
        };
        let split = train_test_split(70_000, &spec).unwrap();
        assert_eq!(split.train, (0..60_000).collect::<Vec<_>>());
        assert_eq!(split.test, (60_000..70_000).collect::<Vec<_>>());
    }
}
