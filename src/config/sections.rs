//! The config's sections other than the run parameters: `[data]`, `[output]`, `[selection]`
//! and `[published]`, their validated types, and the rules for their values.
//!
//! May touch: `digits`, `named`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use toml::{Spanned, Value};

use crate::digits::{MNIST_LEN, N_CLASSES};
use crate::named::named_enum;

/// `[selection]`: among runs on the same split, choose by k-fold cross-validation inside the
/// training part, as scikit-learn's `GridSearchCV(cv=StratifiedKFold(cv, shuffle,
/// random_state), scoring)`; the chosen run, fitted on the whole training part, is scored once on
/// the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Number of folds.
    pub cv: usize,
    pub scoring: Scoring,
    /// `Some(seed)`: folds shuffled with `random_state = seed`; `None`: not shuffled
    /// (scikit-learn's default for `cv = K`).
    pub shuffle_seed: Option<u32>,
}

named_enum! {
    /// How `[selection]` picks among the settings it scored (`rule`).
    pub enum SelectionRule {
        /// The best mean score, as scikit-learn's `GridSearchCV` refits.
        Best = "best",
        /// The simplest setting (smallest C, then fewest iterations) whose mean score is within
        /// one standard error of the best one's: the one-standard-error rule of Breiman et al.
        /// (1984) and glmnet's `lambda.1se`, for grids whose folds cannot tell the top apart.
        OneSe = "one_se",
    }
}

named_enum! {
    /// What cross-validation scores a setting by, named as scikit-learn's `scoring`.
    pub enum Scoring {
        /// Share of validation images right (higher is better).
        Accuracy = "accuracy",
        /// Minus the mean log-loss on the validation images (higher is better).
        NegLogLoss = "neg_log_loss",
    }
}

/// Where the data lives and how much of it to use.
#[derive(Debug, Clone, PartialEq)]
pub struct DataConfig {
    /// Folder with the four gzipped MNIST IDX files.
    pub dir: PathBuf,
    /// Folder for the decompressed copies the `mnist` crate reads.
    pub cache_dir: PathBuf,
    /// Use only the first N of the 70,000 images.
    pub subsample: Option<usize>,
}

impl DataConfig {
    /// Number of images the runs see.
    pub fn n_samples(&self) -> usize {
        self.subsample.unwrap_or(MNIST_LEN)
    }
}

/// What to write besides metrics, per-class scores and confusion matrices.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputConfig {
    /// Write `runs/<run_id>/predictions.csv` with class probabilities.
    pub predictions: bool,
    /// Which runs get the per-run charts in `runs/<run_id>/`.
    pub run_charts: RunCharts,
    /// How close two accuracies on the same images must be shown to be (a proportion; the file
    /// gives percentage points) before a report calls them the same.
    pub equivalence_margin: f64,
    /// Draw `runs/<run_id>/examples.gif` (and its contact sheet `examples.png`) for each
    /// reference run: random test images one per frame beside their class probabilities.
    pub animation: bool,
}

/// The equivalence margin when a config does not set `[output] equivalence_margin_pp`: 0.2 pp.
pub const DEFAULT_EQUIVALENCE_MARGIN_PP: f64 = 0.2;

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            predictions: false,
            run_charts: RunCharts::default(),
            equivalence_margin: DEFAULT_EQUIVALENCE_MARGIN_PP / 100.0,
            animation: false,
        }
    }
}

/// `[output] equivalence_margin_pp`: a number of percentage points above 0 and below 100.
pub(super) fn parse_margin(value: &Value) -> std::result::Result<f64, String> {
    let pp = match value {
        Value::Float(v) => *v,
        Value::Integer(v) => *v as f64,
        other => {
            return Err(format!(
                "[output] equivalence_margin_pp = {other}: write a number of percentage points, such as 0.2"
            ))
        }
    };
    if pp.is_finite() && pp > 0.0 && pp < 100.0 {
        Ok(pp / 100.0)
    } else {
        Err(format!(
            "[output] equivalence_margin_pp = {pp}: the margin must be above 0 and below 100 percentage points, such as 0.2"
        ))
    }
}

/// Which runs get per-run charts (`[output] run_charts`).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum RunCharts {
    /// The reference run of each test set (the default): the one chosen by `[selection]`, else
    /// the base configuration, else the first run.
    #[default]
    Selected,
    /// Every run that finished.
    All,
    /// No run.
    None,
    /// The listed run ids.
    Ids(Vec<String>),
}

/// What a notebook printed, for the parity report (`[published]`): every number at the
/// precision it was printed with, and the assumptions the config makes that the notebook did
/// not print.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// Published test accuracy.
    pub accuracy: Option<f64>,
    /// Decimals the accuracy was printed with ("0.91": 2); absent when printed in full.
    pub accuracy_decimals: Option<u32>,
    /// The printed confusion matrix, true digits in rows.
    pub confusion: Option<Vec<Vec<u64>>>,
    /// The printed `classification_report`.
    pub report: Option<PublishedReport>,
    /// Each digit's one-vs-rest binary accuracy, from digit 0, as printed.
    pub binary_accuracy: Option<Vec<f64>>,
    /// The first misclassified test images, in test order, as printed: `[position in the test
    /// set, predicted, actual]` each.
    pub first_mistakes: Option<Vec<[u64; 3]>>,
    /// What the config assumes that the notebook did not print, and what cannot be compared.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Where it comes from and how it was obtained.
    #[serde(default)]
    pub source: String,
}

impl Published {
    /// The numbers must be able to be what a notebook printed: proportions in [0, 1], a 10 x 10
    /// confusion matrix, ten digits per list.
    pub fn check(&self) -> std::result::Result<(), String> {
        let proportion = |key: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "{key} = {v}: a proportion from 0 to 1 (0.9172, not 91.72)"
                ))
            }
        };
        if let Some(a) = self.accuracy {
            proportion("accuracy", a)?;
        }
        if let Some(rows) = &self.confusion {
            if rows.len() != N_CLASSES || rows.iter().any(|r| r.len() != N_CLASSES) {
                let widths: Vec<usize> = rows.iter().map(Vec::len).collect();
                return Err(format!(
                    "confusion has {} rows of {widths:?} cells: write the 10 x 10 matrix, true digits in rows",
                    rows.len()
                ));
            }
        }
        if let Some(b) = &self.binary_accuracy {
            if b.len() > N_CLASSES {
                return Err(format!(
                    "binary_accuracy has {} values: one per digit from 0, at most 10",
                    b.len()
                ));
            }
            for &v in b {
                proportion("binary_accuracy", v)?;
            }
        }
        if let Some(r) = &self.report {
            for (key, values) in [
                ("precision", &r.precision),
                ("recall", &r.recall),
                ("f1", &r.f1),
            ] {
                if values.len() != N_CLASSES {
                    return Err(format!(
                        "report.{key} has {} values: one per digit, 10",
                        values.len()
                    ));
                }
                for &v in values.iter() {
                    proportion(&format!("report.{key}"), v)?;
                }
            }
            if r.support.len() != N_CLASSES {
                return Err(format!(
                    "report.support has {} values: one per digit, 10",
                    r.support.len()
                ));
            }
        }
        if let Some(mistakes) = &self.first_mistakes {
            if let Some(m) = mistakes
                .iter()
                .find(|m| m[1] >= N_CLASSES as u64 || m[2] >= N_CLASSES as u64)
            {
                return Err(format!("first_mistakes holds {m:?}: [position, predicted digit, actual digit], digits 0-9"));
            }
        }
        Ok(())
    }
}

/// A printed `classification_report`: per digit from 0, at `decimals` decimals.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedReport {
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub f1: Vec<f64>,
    pub support: Vec<u64>,
    pub decimals: u32,
}

/// `[selection]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSelection {
    pub cv: Spanned<i64>,
    pub scoring: Option<Spanned<String>>,
    #[serde(default)]
    pub shuffle: bool,
    pub random_state: Option<Spanned<i64>>,
    pub rule: Option<Spanned<String>>,
}

/// Where a message about a value points: the line of a span in the config text.
pub(super) type LineOf<'a> = &'a dyn Fn(std::ops::Range<usize>) -> Option<usize>;

/// Reads `[selection]`; errors carry the line (from `at`) of the value at fault.
pub(super) fn parse_selection(
    raw: &RawSelection,
    at: LineOf,
) -> std::result::Result<(Selection, SelectionRule), (Option<usize>, String)> {
    let cv = *raw.cv.get_ref();
    if !(2..=100).contains(&cv) {
        return Err((
            at(raw.cv.span()),
            format!("[selection] cv = {cv}: k-fold cross-validation needs 2 to 100 folds; 5 is scikit-learn's default"),
        ));
    }
    let scoring = match &raw.scoring {
        None => Scoring::Accuracy,
        Some(name) => Scoring::parse(name.get_ref()).ok_or_else(|| {
            (
                at(name.span()),
                format!(
                    "[selection] scoring = {:?} is unknown: use {} (scikit-learn's names)",
                    name.get_ref(),
                    Scoring::NAMES.join(" or ")
                ),
            )
        })?,
    };
    let shuffle_seed = match (raw.shuffle, &raw.random_state) {
        (false, None) => None,
        (true, Some(seed)) => Some(u32::try_from(*seed.get_ref()).map_err(|_| {
            (
                at(seed.span()),
                format!(
                    "[selection] random_state = {}: use an integer from 0 to {}",
                    seed.get_ref(),
                    u32::MAX
                ),
            )
        })?),
        (true, None) => {
            return Err((
                None,
                "[selection] shuffle = true needs a random_state (any integer) for reproducible folds".into(),
            ))
        }
        (false, Some(seed)) => {
            return Err((
                at(seed.span()),
                "[selection] random_state only matters with shuffle = true: set shuffle = true or remove random_state (scikit-learn raises the same error)".into(),
            ))
        }
    };
    let rule = match &raw.rule {
        None => SelectionRule::Best,
        Some(name) => SelectionRule::parse(name.get_ref()).ok_or_else(|| {
            (
                at(name.span()),
                format!(
                    "[selection] rule = {:?} is unknown: use {}",
                    name.get_ref(),
                    SelectionRule::NAMES.join(" or ")
                ),
            )
        })?,
    };
    Ok((
        Selection {
            cv: cv as usize,
            scoring,
            shuffle_seed,
        },
        rule,
    ))
}

/// Reads `[output] run_charts`: "selected", "all", "none" or a list of run ids.
pub(super) fn parse_run_charts(value: &Value) -> std::result::Result<RunCharts, String> {
    const HINT: &str =
        "use \"selected\", \"all\", \"none\" or a list of run ids (see `sweep --dry-run`)";
    match value {
        Value::String(s) => match s.as_str() {
            "selected" => Ok(RunCharts::Selected),
            "best" => Err(
                "[output] run_charts = \"best\" would pick a run by its test score: use \"selected\" (the run [selection] chooses by cross-validation, or the base configuration), \"all\", \"none\" or a list of run ids".into(),
            ),
            "all" => Ok(RunCharts::All),
            "none" => Ok(RunCharts::None),
            other => Err(format!(
                "[output] run_charts = {other:?} is unknown: {HINT}"
            )),
        },
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(id) => Ok(id.clone()),
                other => Err(format!(
                    "[output] run_charts holds {other}, not a run id: {HINT}"
                )),
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(RunCharts::Ids),
        other => Err(format!(
            "[output] run_charts = {other} has the wrong type: {HINT}"
        )),
    }
}

/// The one rule for an experiment name, wherever it comes from (the `name` key or the config's
/// file name): it becomes a single folder under the results root, so it must not be empty, start
/// with a dot (`.`, `..`, hidden folders) or hold anything but letters, digits, '-', '_' and '.'.
pub(super) fn check_name(name: &str) -> std::result::Result<String, &'static str> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(name.to_string())
    } else {
        Err("use 1 to 100 letters, digits, '-', '_' or '.', not starting with '.' (it names the results folder)")
    }
}

/// `[data]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawData {
    dir: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    subsample: Option<Spanned<i64>>,
}

/// Reads `[data]`: the folder defaults to `data/mnist`, its cache to `<dir>/cache`, and a
/// subsample must be a count of MNIST's images.
pub(super) fn parse_data(
    raw: &RawData,
    at: LineOf,
) -> std::result::Result<DataConfig, (Option<usize>, String)> {
    let subsample = match &raw.subsample {
        None => None,
        Some(n) if (1..=MNIST_LEN as i64).contains(n.get_ref()) => Some(*n.get_ref() as usize),
        Some(n) => {
            return Err((
                at(n.span()),
                format!(
                    "subsample = {}: MNIST has {MNIST_LEN} images; use a number from 1 to {MNIST_LEN}, or remove the key to use them all",
                    n.get_ref()
                ),
            ))
        }
    };
    let dir = raw
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("data/mnist"));
    Ok(DataConfig {
        cache_dir: raw.cache_dir.clone().unwrap_or_else(|| dir.join("cache")),
        dir,
        subsample,
    })
}
