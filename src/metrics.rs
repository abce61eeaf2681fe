//! Test-set metrics with scikit-learn's definitions: accuracy, per-class precision / recall / F1
//! (`classification_report`), macro and weighted averages, log-loss and the confusion matrix with
//! true classes in rows and predicted classes in columns; calibration (top-label expected
//! calibration error over 15 equal-width bins, the multiclass Brier score, the reliability bins).
//!
//! May touch: `digits`, `stats` (I/O-free).

use ndarray::{Array2, ArrayView2};

use crate::digits::{argmax, N_CLASSES};
use crate::stats::{wilson, Interval};

/// A stored record whose numbers do not hold together (edited by hand or damaged): the message
/// says what disagrees.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Inconsistent(pub String);

/// Scores of one class.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassScores {
    pub class: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of test samples of this class.
    pub support: u64,
    /// One-vs-rest only: accuracy of this class's own binary classifier on the whole test set.
    pub binary_accuracy: Option<f64>,
}

/// All test metrics of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    pub accuracy: f64,
    pub precision_macro: f64,
    pub recall_macro: f64,
    pub f1_macro: f64,
    pub f1_weighted: f64,
    pub log_loss: f64,
    pub per_class: Vec<ClassScores>,
    /// `confusion[[true, predicted]]` counts.
    pub confusion: Array2<u64>,
    /// Predicted class per test image, in test-set order; in the record as one string of digits
    /// (14,000 characters for the notebook split), so that runs scored on the same test images
    /// can be compared image by image (McNemar's test).
    #[serde(with = "digit_string", default)]
    pub predicted: Vec<u8>,
    /// How far the largest probability can be taken at its word; absent from records written
    /// before it was computed (filled from their predictions.csv where there is one).
    #[serde(default)]
    pub calibration: Option<Calibration>,
}

/// Equal-width bins of the largest probability for the expected calibration error.
pub const CALIBRATION_BINS: usize = 15;

/// One bin of the largest probability, `((k - 1) / 15, k / 15]` (the first closed at 0).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibrationBin {
    /// Test images whose largest probability falls in the bin.
    pub count: u64,
    /// Their mean largest probability (none when the bin is empty).
    pub confidence: Option<f64>,
    /// The share of them predicted right (none when the bin is empty).
    pub accuracy: Option<f64>,
}

/// Calibration of a run's test probabilities.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calibration {
    /// Top-label expected calibration error: the sum over bins of |mean confidence - accuracy|
    /// weighted by the bin's share of images.
    pub ece: f64,
    /// Multiclass Brier score: the mean over images of sum_k (p_k - 1[k = label])^2 (0 best, 2
    /// worst).
    pub brier: f64,
    /// [`CALIBRATION_BINS`] bins, lowest confidence first.
    pub bins: Vec<CalibrationBin>,
}

/// The bin of a largest probability `p`: `((k - 1) / 15, k / 15]` holds bin k - 1; 0 falls in
/// the first.
fn calibration_bin(p: f64) -> usize {
    let k = (p * CALIBRATION_BINS as f64).ceil() as usize;
    k.clamp(1, CALIBRATION_BINS) - 1
}

/// Calibration of class probabilities (rows: images, columns: digits) against the true labels.
/// The predicted class is the first largest probability, as the accuracy's.
pub fn calibration<'a>(
    y_true: &[u8],
    rows: impl IntoIterator<Item = ndarray::ArrayView1<'a, f64>>,
) -> Calibration {
    let mut count = [0u64; CALIBRATION_BINS];
    let mut confidence = [0f64; CALIBRATION_BINS];
    let mut right = [0u64; CALIBRATION_BINS];
    let mut brier = 0.0;
    let mut n = 0usize;
    for (row, &label) in rows.into_iter().zip(y_true) {
        let top = argmax(row);
        let p = row[top];
        let b = calibration_bin(p);
        count[b] += 1;
        confidence[b] += p;
        right[b] += u64::from(top == label as usize);
        brier += row
            .iter()
            .enumerate()
            .map(|(k, &pk)| {
                let target = f64::from(u8::from(k == label as usize));
                (pk - target) * (pk - target)
            })
            .sum::<f64>();
        n += 1;
    }
    let n_f = n.max(1) as f64;
    let bins: Vec<CalibrationBin> = (0..CALIBRATION_BINS)
        .map(|b| {
            let filled = count[b] > 0;
            CalibrationBin {
                count: count[b],
                confidence: filled.then(|| confidence[b] / count[b] as f64),
                accuracy: filled.then(|| right[b] as f64 / count[b] as f64),
            }
        })
        .collect();
    let ece = bins
        .iter()
        .filter_map(|b| Some(b.count as f64 / n_f * (b.confidence? - b.accuracy?).abs()))
        .sum();
    Calibration {
        ece,
        brier: brier / n_f,
        bins,
    }
}

/// A list of digits (0..9) stored as a string of digits: `[7, 2, 1]` <-> `"721"`.
pub mod digit_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(digits: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let text: String = digits
            .iter()
            .map(|&d| char::from(b'0' + d.min(9)))
            .collect();
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        text.bytes()
            .map(|b| match b {
                b'0'..=b'9' => Ok(b - b'0'),
                _ => Err(serde::de::Error::custom(format!(
                    "{:?} is not a digit",
                    char::from(b)
                ))),
            })
            .collect()
    }
}

/// scikit-learn's `zero_division=0`: an empty denominator scores 0.
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Everything that follows from a confusion matrix: the one place these formulas live.
struct Scores {
    accuracy: f64,
    precision_macro: f64,
    recall_macro: f64,
    f1_macro: f64,
    f1_weighted: f64,
    per_class: Vec<ClassScores>,
}

impl Scores {
    fn from_confusion(confusion: &Array2<u64>, binary: Option<&[f64]>) -> Self {
        let n = confusion.sum();
        let correct: u64 = confusion.diag().sum();
        let per_class: Vec<ClassScores> = (0..confusion.nrows())
            .map(|k| {
                let tp = confusion[[k, k]];
                let support = confusion.row(k).sum();
                let precision = ratio(tp, confusion.column(k).sum());
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScores {
                    class: k,
                    precision,
                    recall,
                    f1,
                    support,
                    binary_accuracy: binary.map(|b| b[k]),
                }
            })
            .collect();
        // scikit-learn's macro average runs over the labels present in y_true or y_pred
        // (`unique_labels`), not over all ten digits: a class absent from both is left out.
        let present: Vec<&ClassScores> = per_class
            .iter()
            .filter(|c| c.support > 0 || confusion.column(c.class).sum() > 0)
            .collect();
        let mean = |f: fn(&ClassScores) -> f64| {
            present.iter().map(|c| f(c)).sum::<f64>() / present.len().max(1) as f64
        };
        let f1_weighted = per_class
            .iter()
            .map(|c| c.f1 * c.support as f64)
            .sum::<f64>()
            / n.max(1) as f64;
        Scores {
            accuracy: ratio(correct, n),
            precision_macro: mean(|c| c.precision),
            recall_macro: mean(|c| c.recall),
            f1_macro: mean(|c| c.f1),
            f1_weighted,
            per_class,
        }
    }
}

/// Per-class precision, recall, F1 and support of a confusion matrix (true classes in rows), with
/// scikit-learn's definitions.
pub fn class_scores(confusion: &Array2<u64>) -> Vec<ClassScores> {
    Scores::from_confusion(confusion, None).per_class
}

impl Metrics {
    /// Test images classified correctly.
    pub fn correct(&self) -> u64 {
        self.confusion.diag().sum()
    }

    /// The Wilson 95 % interval of the accuracy.
    pub fn accuracy_interval(&self) -> Interval {
        wilson(self.correct(), self.confusion.sum())
    }

    /// Per test image: right or wrong, given the test labels (same order as `predicted`).
    pub fn right(&self, labels: &[u8]) -> Vec<bool> {
        self.predicted
            .iter()
            .zip(labels)
            .map(|(p, l)| p == l)
            .collect()
    }

    /// Checks a stored record's metrics against its own confusion matrix (a record edited by
    /// hand or damaged says so): the shape, the count of test images, the predictions against
    /// the test labels, and every score.
    pub fn check(&self, labels: &[u8]) -> Result<(), Inconsistent> {
        let n_test = labels.len();
        let c = &self.confusion;
        if c.dim() != (N_CLASSES, N_CLASSES) {
            return Err(Inconsistent(format!(
                "its confusion matrix is {}x{}, not 10x10",
                c.nrows(),
                c.ncols()
            )));
        }
        if c.sum() != n_test as u64 {
            return Err(Inconsistent(format!(
                "its confusion matrix counts {} test images, not {n_test}",
                c.sum()
            )));
        }
        if self.predicted.len() != n_test {
            return Err(Inconsistent(format!(
                "it has {} test predictions, not {n_test}",
                self.predicted.len()
            )));
        }
        let mut recount = Array2::<u64>::zeros((N_CLASSES, N_CLASSES));
        for (&l, &p) in labels.iter().zip(&self.predicted) {
            if l as usize >= N_CLASSES || p as usize >= N_CLASSES {
                return Err(Inconsistent(format!("it holds digit {l} / {p}")));
            }
            recount[[l as usize, p as usize]] += 1;
        }
        if recount != *c {
            return Err(Inconsistent(
                "its test predictions contradict its confusion matrix".into(),
            ));
        }
        if self.per_class.len() != N_CLASSES {
            return Err(Inconsistent(format!(
                "it has {} per-class rows, not 10",
                self.per_class.len()
            )));
        }
        let binary: Option<Vec<f64>> = self.per_class.iter().map(|k| k.binary_accuracy).collect();
        let expected = Scores::from_confusion(c, binary.as_deref());
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9;
        let pairs = [
            ("accuracy", self.accuracy, expected.accuracy),
            (
                "precision_macro",
                self.precision_macro,
                expected.precision_macro,
            ),
            ("recall_macro", self.recall_macro, expected.recall_macro),
            ("f1_macro", self.f1_macro, expected.f1_macro),
            ("f1_weighted", self.f1_weighted, expected.f1_weighted),
        ];
        for (name, stored, computed) in pairs {
            if !close(stored, computed) {
                return Err(Inconsistent(format!(
                    "its {name} {stored} contradicts its confusion matrix ({computed})"
                )));
            }
        }
        for (stored, computed) in self.per_class.iter().zip(&expected.per_class) {
            let same = stored.class == computed.class
                && stored.support == computed.support
                && close(stored.precision, computed.precision)
                && close(stored.recall, computed.recall)
                && close(stored.f1, computed.f1);
            if !same {
                return Err(Inconsistent(format!(
                    "its scores for digit {} contradict its confusion matrix",
                    computed.class
                )));
            }
        }
        if let Some(cal) = &self.calibration {
            let binned: u64 = cal.bins.iter().map(|b| b.count).sum();
            if cal.bins.len() != CALIBRATION_BINS || binned != n_test as u64 {
                return Err(Inconsistent(format!(
                    "its calibration bins ({} bins, {binned} images) are not {CALIBRATION_BINS} bins of {n_test} images",
                    cal.bins.len()
                )));
            }
        }
        if !(self.log_loss.is_finite() && self.log_loss >= 0.0) {
            return Err(Inconsistent(format!(
                "its log_loss {} is not a loss",
                self.log_loss
            )));
        }
        Ok(())
    }
}

/// Evaluates class probabilities (rows: samples) against the true labels. For a one-vs-rest
/// model, `ovr_decision` holds its decision values, and each class's binary accuracy is reported.
pub fn evaluate(
    y_true: &[u8],
    probabilities: ArrayView2<f64>,
    ovr_decision: Option<ArrayView2<f64>>,
) -> Metrics {
    assert_eq!(
        y_true.len(),
        probabilities.nrows(),
        "one probability row per label"
    );
    let mut confusion = Array2::<u64>::zeros((N_CLASSES, N_CLASSES));
    let mut predicted = Vec::with_capacity(y_true.len());
    let mut log_loss = 0.0;
    for (row, &t) in probabilities.rows().into_iter().zip(y_true) {
        let p = argmax(row);
        predicted.push(p as u8);
        confusion[[t as usize, p]] += 1;
        // scikit-learn clips to [eps, 1 - eps] with eps the float64 machine epsilon.
        let p_true = row[t as usize].clamp(f64::EPSILON, 1.0 - f64::EPSILON);
        log_loss -= p_true.ln();
    }
    let binary = ovr_decision.map(|z| binary_accuracies(y_true, z));
    let calibration = calibration(y_true, probabilities.rows());
    let scores = Scores::from_confusion(&confusion, binary.as_deref());
    Metrics {
        accuracy: scores.accuracy,
        precision_macro: scores.precision_macro,
        recall_macro: scores.recall_macro,
        f1_macro: scores.f1_macro,
        f1_weighted: scores.f1_weighted,
        per_class: scores.per_class,
        log_loss: log_loss / (y_true.len().max(1)) as f64,
        confusion,
        predicted,
        calibration: Some(calibration),
    }
}

/// Accuracy of each one-vs-rest binary classifier: decision > 0 means "is this class".
fn binary_accuracies(y_true: &[u8], decision: ArrayView2<f64>) -> Vec<f64> {
    (0..decision.ncols())
        .map(|k| {
            let correct = decision
                .column(k)
                .iter()
                .zip(y_true)
                .filter(|(&z, &y)| (z > 0.0) == (y as usize == k))
                .count();
            ratio(correct as u64, y_true.len() as u64)
        })
        .collect()
}

/// Number of training digits, test predictions and mistakes kept per run for the charts.
pub const N_TRAIN_EXAMPLES: usize = 40;
pub const N_TEST_EXAMPLES: usize = 8;
pub const N_MISTAKES: usize = 40;

/// One image of the data set and its label.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Digit {
    /// Position in the 70,000-image order (training file first).
    pub index: usize,
    pub label: u8,
}

/// One test image with the model's class probabilities.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prediction {
    pub index: usize,
    pub label: u8,
    pub predicted: u8,
    pub probabilities: Vec<f64>,
}

/// The few images a run's charts show, kept in its record so that charts can be redrawn without
/// refitting: the first training digits, the first test predictions, and the most confident
/// mistakes.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Examples {
    pub train: Vec<Digit>,
    pub test: Vec<Prediction>,
    /// Misclassified test images, most confident first (ties: test order).
    pub mistakes: Vec<Prediction>,
}

/// Picks a run's examples. `test_index` / `train_index` map rows to positions in the data set.
pub fn examples(
    train_index: &[usize],
    train_labels: &[u8],
    test_index: &[usize],
    y_test: &[u8],
    predicted: &[u8],
    probabilities: ArrayView2<f64>,
) -> Examples {
    let prediction = |row: usize| Prediction {
        index: test_index[row],
        label: y_test[row],
        predicted: predicted[row],
        probabilities: probabilities.row(row).to_vec(),
    };
    let mut wrong: Vec<usize> = (0..y_test.len())
        .filter(|&i| predicted[i] != y_test[i])
        .collect();
    let confidence = |i: usize| probabilities[[i, predicted[i] as usize]];
    wrong.sort_by(|&a, &b| confidence(b).total_cmp(&confidence(a)).then(a.cmp(&b)));
    Examples {
        train: train_index
            .iter()
            .zip(train_labels)
            .take(N_TRAIN_EXAMPLES)
            .map(|(&index, &label)| Digit { index, label })
            .collect(),
        test: (0..y_test.len().min(N_TEST_EXAMPLES))
            .map(prediction)
            .collect(),
        mistakes: wrong.into_iter().take(N_MISTAKES).map(prediction).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(classes: &[usize]) -> Array2<f64> {
        let mut p = Array2::from_elem((classes.len(), N_CLASSES), 0.01);
        for (i, &c) in classes.iter().enumerate() {
            p[[i, c]] = 0.91;
        }
        p
    }

    #[test]
    fn matches_scikit_learn_on_a_small_case() {
        // y_true = [0, 0, 1, 1, 2], y_pred = [0, 1, 1, 1, 0]. scikit-learn:
        // precision [0.5, 0.667, 0, 0...], recall [0.5, 1, 0, ...], accuracy 0.6.
        let y = [0u8, 0, 1, 1, 2];
        let m = evaluate(&y, one_hot(&[0, 1, 1, 1, 0]).view(), None);
        assert_eq!(m.accuracy, 0.6);
        assert_eq!(m.confusion[[0, 0]], 1);
        assert_eq!(m.confusion[[0, 1]], 1);
        assert_eq!(m.confusion[[2, 0]], 1);
        assert_eq!(m.per_class[0].precision, 0.5);
        assert!((m.per_class[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.per_class[1].recall, 1.0);
        assert_eq!(m.per_class[2].f1, 0.0);
        assert_eq!(m.per_class[3].support, 0);
        // f1: class 0 = 0.5, class 1 = 0.8, class 2 = 0; macro over the labels present in y_true
        // or y_pred (0, 1, 2), as scikit-learn's `f1_score(average="macro")`: 0.4333.
        assert!((m.f1_macro - 1.3 / 3.0).abs() < 1e-12);
        assert!((m.precision_macro - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((m.recall_macro - 1.5 / 3.0).abs() < 1e-12);
        assert!((m.f1_weighted - (0.5 * 2.0 + 0.8 * 2.0) / 5.0).abs() < 1e-12);
        assert!((m.log_loss - (-(0.6 * 0.91f64.ln() + 0.4 * 0.01f64.ln()))).abs() < 1e-12);
        assert_eq!(m.predicted, vec![0, 1, 1, 1, 0]);
    }

    #[test]
    fn calibration_bins_the_largest_probability_and_scores_brier() {
        // Every largest probability 0.91 (bin 14 of 15: (13/15, 14/15]), three of five right.
        let y = [0u8, 0, 1, 1, 2];
        let m = evaluate(&y, one_hot(&[0, 1, 1, 1, 0]).view(), None);
        let c = m.calibration.expect("computed");
        assert_eq!(c.bins.len(), CALIBRATION_BINS);
        assert_eq!(c.bins[13].count, 5);
        assert!((c.bins[13].confidence.unwrap() - 0.91).abs() < 1e-12);
        assert!((c.bins[13].accuracy.unwrap() - 0.6).abs() < 1e-12);
        assert!(c.bins[0].confidence.is_none() && c.bins[0].count == 0);
        assert!((c.ece - 0.31).abs() < 1e-12);
        // Right: 0.09^2 + 9 x 0.01^2 = 0.009; wrong: 0.91^2 + 0.99^2 + 8 x 0.01^2 = 1.809.
        assert!((c.brier - (3.0 * 0.009 + 2.0 * 1.809) / 5.0).abs() < 1e-12);
        // Edges: a bin's upper edge belongs to it.
        assert_eq!(calibration_bin(1.0 / 15.0), 0);
        assert_eq!(calibration_bin(0.5), 7);
        assert_eq!(calibration_bin(1.0), 14);
        assert_eq!(calibration_bin(0.0), 0);
        // Perfect, certain predictions: no error at all; the record keeps empty bins as null.
        let sure = Array2::from_shape_fn((2, N_CLASSES), |(i, k)| f64::from(u8::from(k == i)));
        let c = calibration(&[0, 1], sure.rows());
        assert_eq!((c.ece, c.brier), (0.0, 0.0));
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"confidence\":null"), "{json}");
        let back: Calibration = serde_json::from_str(&json).unwrap();
        assert_eq!(back.bins[14].count, 2);
        assert!(back.bins[0].accuracy.is_none());
        assert_eq!(back, c, "a record's calibration reads back equal");
    }

    #[test]
    fn examples_keep_the_most_confident_mistakes_first() {
        let y = [0u8, 1, 2, 3];
        let mut p = one_hot(&[0, 2, 1, 3]);
        p[[1, 2]] = 0.6; // wrong, less confident
        p[[2, 1]] = 0.95; // wrong, more confident
        let predicted = [0u8, 2, 1, 3];
        let e = examples(
            &[7, 8, 9],
            &[4, 5, 6],
            &[10, 11, 12, 13],
            &y,
            &predicted,
            p.view(),
        );
        assert_eq!(e.train.len(), 3);
        assert_eq!(e.train[1], Digit { index: 8, label: 5 });
        assert_eq!(e.test.len(), 4);
        let order: Vec<usize> = e.mistakes.iter().map(|m| m.index).collect();
        assert_eq!(order, vec![12, 11]);
        assert_eq!(e.mistakes[0].predicted, 1);
        assert_eq!(e.mistakes[0].label, 2);
    }

    #[test]
    fn binary_accuracy_counts_both_kinds_of_error() {
        // Class 0's classifier says yes for samples 0 and 2; only sample 0 is a 0; sample 1 (a 1)
        // is correctly rejected: 2 of 3 right.
        let mut z = Array2::from_elem((3, N_CLASSES), -1.0);
        z[[0, 0]] = 2.0;
        z[[2, 0]] = 0.5;
        let acc = binary_accuracies(&[0, 1, 1], z.view());
        assert!((acc[0] - 2.0 / 3.0).abs() < 1e-12);
        // Class 1's classifier never says yes: samples 1 and 2 are missed.
        assert!((acc[1] - 1.0 / 3.0).abs() < 1e-12);
        // evaluate reports them per class only when given one-vs-rest decision values.
        let p = z.mapv(|v| 1.0 / (1.0 + (-v).exp()));
        let m = evaluate(&[0, 1, 1], p.view(), Some(z.view()));
        assert_eq!(m.per_class[0].binary_accuracy, Some(acc[0]));
        assert_eq!(
            evaluate(&[0, 1, 1], p.view(), None).per_class[0].binary_accuracy,
            None
        );
    }
}
