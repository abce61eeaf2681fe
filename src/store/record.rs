//! A run's record, `runs/<run_id>/run.json`: everything a finished run reports (parameters,
//! data checksum, test set, diagnostics, metrics, chart examples), and the check that it holds
//! together before it is reused.
//!
//! May touch: `config`, `digits`, `metrics`, `model` (diagnostics), `named`, `stats` (intervals).

use serde::{Deserialize, Serialize};

use crate::config::{Run, Scoring, Selection};
use crate::digits::N_CLASSES;
use crate::metrics::{Examples, Inconsistent, Metrics};
use crate::model::Diagnostics;

/// Everything a finished run reports; persisted as its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub run: Run,
    /// The fitting engine ([`crate::config::RunParams::engine`]); a record of another
    /// engine is refitted.
    pub engine: String,
    /// Identifies the data the run saw (see [`crate::data::Mnist::checksum`]).
    pub data_checksum: String,
    pub subsample: Option<usize>,
    pub n_train: usize,
    pub n_test: usize,
    /// The test images the run was scored on: runs with the same test set can be compared.
    #[serde(default)]
    pub test_set: TestSet,
    /// Cross-validation scores inside the training part, when the config selects
    /// (`[selection]`) between this run and others on its split.
    #[serde(default)]
    pub cv: Option<CvScores>,
    pub diagnostics: Diagnostics,
    /// Test metrics; `None` for a failed fit, whose numbers are not results.
    pub metrics: Option<Metrics>,
    /// The images the run's charts show; `None` for a failed fit.
    pub examples: Option<Examples>,
    /// SHA-256 of each file the run wrote beside its record (`model.npz`, `predictions.csv`),
    /// by file name: a file that does not match is not the run's, and the run is refitted.
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
}

/// One setting's k-fold cross-validation scores (fitted on k-1 folds of the training part,
/// scored on the remaining one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvScores {
    /// The folds and the scoring the scores come from.
    pub selection: Selection,
    /// Per fold, in `selection.scoring` units (higher is better); NaN (null) where the fit
    /// failed.
    #[serde(with = "nan_vec_as_null")]
    pub scores: Vec<f64>,
    /// Per fold: whether the fit met `tol`.
    pub converged: Vec<bool>,
}

impl CvScores {
    /// Mean and standard deviation across folds (NaN if any fold failed). The deviation is
    /// the population one (n, not n - 1), as GridSearchCV's `std_test_score`.
    pub fn mean_sd(&self) -> (f64, f64) {
        crate::stats::mean_population_sd(&self.scores)
    }

    /// Checks the scores as strictly as fresh ones: one per fold, each in its scoring's range
    /// or NaN (a failed fit).
    pub fn check(&self) -> std::result::Result<(), Inconsistent> {
        if self.scores.len() != self.selection.cv || self.converged.len() != self.selection.cv {
            return Err(Inconsistent(format!(
                "{} CV scores and {} convergence flags for {} folds",
                self.scores.len(),
                self.converged.len(),
                self.selection.cv
            )));
        }
        for &score in &self.scores {
            check_score(self.selection.scoring, score)?;
        }
        Ok(())
    }
}

/// A fold's score is NaN (a failed fit) or in its scoring's range: accuracy in [0, 1], minus a
/// log-loss in (-inf, 0].
fn check_score(scoring: Scoring, score: f64) -> std::result::Result<(), Inconsistent> {
    let ok = score.is_nan()
        || match scoring {
            Scoring::Accuracy => (0.0..=1.0).contains(&score),
            Scoring::NegLogLoss => score <= 0.0 && score.is_finite(),
        };
    if ok {
        Ok(())
    } else {
        Err(Inconsistent(format!(
            "a CV score of {score} is not a possible {}",
            crate::named::Named::as_str(scoring)
        )))
    }
}

/// What a cross-validation fold's score depends on besides the run's parameters (its id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldKey {
    pub selection: Selection,
    pub engine: String,
    pub data_checksum: String,
}

/// One run's score on one fold (`cv/<run_id>/fold-K-of-N.json`): written as each fold finishes,
/// read back when an interrupted sweep resumes its cross-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldRecord {
    #[serde(flatten)]
    pub key: FoldKey,
    /// In the selection's scoring units; NaN (null) where the fit failed.
    #[serde(with = "nan_as_null")]
    pub score: f64,
    pub converged: bool,
}

impl FoldRecord {
    /// Checks the score (see [`CvScores::check`]).
    pub fn check(&self) -> std::result::Result<(), Inconsistent> {
        check_score(self.key.selection.scoring, self.score)
    }
}

/// Floats that may be NaN, as a JSON list (null for NaN).
pub(crate) mod nan_vec_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| (!x.is_nan()).then_some(*x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|x| x.unwrap_or(f64::NAN))
            .collect())
    }
}

/// A float that may be NaN, as JSON (null for NaN).
pub(crate) mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_f64(*v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Which test images a run was scored on, and their labels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TestSet {
    /// The first 12 hex digits of the SHA-256 of the test images' indices (in the 70,000-image
    /// order, as little-endian u32, in test-set order): equal digests, identical test images.
    pub id: String,
    /// The label of each test image, in test-set order, as a string of digits.
    #[serde(with = "crate::metrics::digit_string")]
    pub labels: Vec<u8>,
}

impl TestSet {
    pub fn new(indices: &[usize], labels: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for &i in indices {
            hasher.update((i as u32).to_le_bytes());
        }
        let id = hasher.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        TestSet {
            id,
            labels: labels.to_vec(),
        }
    }
}

impl RunResult {
    /// Checks that the record holds together, for a data set of `n_images` images (where
    /// known: `--dry-run` does not load the data): a finished fit has metrics and examples, a
    /// failed one has neither, its metrics agree with its confusion matrix, its CV scores are
    /// possible ones, and its example images exist and carry digits.
    pub fn check(&self, n_images: Option<usize>) -> std::result::Result<(), Inconsistent> {
        let n_images = n_images.unwrap_or(usize::MAX);
        let ok = self.diagnostics.status == crate::model::FitStatus::Ok;
        match (&self.metrics, &self.examples) {
            (Some(_), Some(_)) if ok => {}
            (None, None) if !ok => {}
            _ => {
                return Err(Inconsistent(
                    "its status, metrics and examples do not go together".into(),
                ))
            }
        }
        if self.n_train + self.n_test > n_images {
            return Err(Inconsistent(format!(
                "it counts {} + {} images, the data has {n_images}",
                self.n_train, self.n_test
            )));
        }
        if self.test_set.id.is_empty() {
            return Err(Inconsistent(
                "it predates per-image test predictions (an older harness wrote it)".into(),
            ));
        }
        if self.test_set.labels.len() != self.n_test || self.test_set.id.len() != 12 {
            return Err(Inconsistent(format!(
                "its test set ({:?}, {} labels) is not {} images",
                self.test_set.id,
                self.test_set.labels.len(),
                self.n_test
            )));
        }
        if let Some(m) = &self.metrics {
            m.check(&self.test_set.labels)?;
        }
        if let Some(cv) = &self.cv {
            cv.check()?;
        }
        if let Some(e) = &self.examples {
            let digits = e.train.iter().map(|d| (d.index, d.label, d.label));
            let predictions = e
                .test
                .iter()
                .chain(&e.mistakes)
                .map(|p| (p.index, p.label, p.predicted));
            for (index, label, predicted) in digits.chain(predictions) {
                if index >= n_images {
                    return Err(Inconsistent(format!(
                        "it shows image {index}, the data has {n_images}"
                    )));
                }
                if label as usize >= N_CLASSES || predicted as usize >= N_CLASSES {
                    return Err(Inconsistent(format!(
                        "it shows image {index} as digit {label} / {predicted}"
                    )));
                }
            }
            if e.test.iter().chain(&e.mistakes).any(|p| {
                p.probabilities.len() != N_CLASSES || p.probabilities.iter().any(|v| !v.is_finite())
            }) {
                return Err(Inconsistent(
                    "an example's probabilities are not ten numbers".into(),
                ));
            }
        }
        Ok(())
    }

    /// Test accuracy, or `None` for a failed fit.
    pub fn accuracy(&self) -> Option<f64> {
        self.metrics.as_ref().map(|m| m.accuracy)
    }
}
