//! The CSV files of a results folder, written by the sweep and read back by the parity report:
//! `metrics.csv` (one row per run: its parameters from the table in `config::params`, then its
//! scores and diagnostics), `per_class.csv` and `runs/<id>/predictions.csv`. Each column is named
//! once, here; the reader of a file is the struct next to its writer, so a missing column is an
//! error that names the file, never a NaN.
//!
//! May touch: `config` (the parameter table), `digits`, `error`, `files`, `metrics`, `model`
//! (fit status), `store` (run records).

use std::collections::HashMap;
use std::path::Path;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::config::ParamValue;
use crate::digits::N_CLASSES;
use crate::error::{Error, Result};
use crate::files::csv_bytes;
use crate::metrics::ClassScores;
use crate::model::FitStatus;
use crate::store::{ResultsDir, RunResult};

/// One CSV cell, written as serde writes its value (numbers as the shortest text that reads
/// back exactly, `None` as an empty field).
#[derive(Serialize)]
#[serde(untagged)]
enum Cell<'a> {
    Param(ParamValue),
    Text(&'a str),
    Number(Option<f64>),
    Count(Option<u64>),
    Flag(bool),
}

/// One row of `metrics.csv`: `run_id`, every run parameter in table order, then the results.
fn metrics_row(r: &RunResult) -> Vec<(&'static str, Cell<'_>)> {
    use Cell::{Count, Flag, Number, Text};
    let m = r.metrics.as_ref();
    let d = &r.diagnostics;
    let (status, failure) = match &d.status {
        FitStatus::Ok => ("ok", ""),
        FitStatus::Failed(reason) => ("failed", reason.as_str()),
    };
    let cv = r.cv.as_ref();
    let calibration = m.and_then(|m| m.calibration.as_ref());
    let mut row = vec![("run_id", Text(&r.run.id))];
    row.extend(
        r.run
            .params
            .values()
            .into_iter()
            .map(|(name, value)| (name, Cell::Param(value))),
    );
    row.extend([
        ("subsample", Count(r.subsample.map(|n| n as u64))),
        ("n_train", Count(Some(r.n_train as u64))),
        ("n_test", Count(Some(r.n_test as u64))),
        ("test_set", Text(&r.test_set.id)),
        ("accuracy", Number(m.map(|m| m.accuracy))),
        ("accuracy_low", Number(m.map(|m| m.accuracy_interval().low))),
        (
            "accuracy_high",
            Number(m.map(|m| m.accuracy_interval().high)),
        ),
        (
            "cv_scoring",
            Text(cv.map_or("", |cv| cv.selection.scoring.as_str())),
        ),
        ("cv_mean", Number(cv.map(|cv| cv.mean_sd().0))),
        ("cv_sd", Number(cv.map(|cv| cv.mean_sd().1))),
        ("train_accuracy", Number(m.map(|_| d.train_accuracy))),
        ("precision_macro", Number(m.map(|m| m.precision_macro))),
        ("recall_macro", Number(m.map(|m| m.recall_macro))),
        ("f1_macro", Number(m.map(|m| m.f1_macro))),
        ("f1_weighted", Number(m.map(|m| m.f1_weighted))),
        ("log_loss", Number(m.map(|m| m.log_loss))),
        ("ece", Number(calibration.map(|c| c.ece))),
        ("brier", Number(calibration.map(|c| c.brier))),
        ("objective", Number(Some(d.objective))),
        ("grad_norm", Number(Some(d.grad_norm))),
        ("zero_weights", Number(d.zero_weights)),
        ("converged", Flag(d.converged)),
        ("n_iter", Count(Some(d.n_iter))),
        ("termination", Text(&d.termination)),
        ("evaluations", Count(Some(d.evaluations))),
        ("status", Text(status)),
        ("failure", Text(failure)),
        ("fit_scale", Number(Some(d.fit_scale))),
        ("attempts", Count(Some(d.attempts as u64))),
        ("fit_seconds", Number(Some(d.fit_seconds))),
    ]);
    row
}

/// What the parity report reads of a `metrics.csv` row (the harness's or scikit-learn's).
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsRecord {
    pub run_id: String,
    pub accuracy: Option<f64>,
    pub cv_mean: Option<f64>,
    /// Population standard deviation of the fold scores (GridSearchCV's `std_test_score`).
    #[serde(default)]
    pub cv_sd: Option<f64>,
    pub converged: bool,
    pub objective: f64,
    pub grad_norm: f64,
    /// Iterations (one-vs-rest: the most any class took); absent from reference files written
    /// before scripts/sklearn_reference.py recorded scikit-learn's `n_iter_`.
    #[serde(default)]
    pub n_iter: Option<u64>,
    pub status: String,
    pub fit_seconds: f64,
    /// Test images (both sides' files have it).
    #[serde(default)]
    pub n_test: Option<u64>,
    /// scikit-learn's side, where the harness's model of the run existed when it ran: the two
    /// fits' weights (intercepts included) as ||W_h - W_s|| / ||W_s||, the largest difference of
    /// a test probability, and (objective_h - objective_s) / objective_s.
    #[serde(default)]
    pub weights_rel_distance: Option<f64>,
    #[serde(default)]
    pub max_probability_difference: Option<f64>,
    #[serde(default)]
    pub objective_rel_gap: Option<f64>,
    /// scikit-learn's side of a gradient descent run: the objective at the start and after every
    /// step, `;`-separated (one-vs-rest: summed over the classes); absent elsewhere.
    #[serde(default)]
    pub objective_path: Option<String>,
}

/// One row of `per_class.csv`: the run id and the run's [`ClassScores`] for one digit, flat (the
/// csv crate cannot flatten a nested struct; a test keeps the two field lists equal).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassRecord {
    pub run_id: String,
    pub class: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
    /// The one-vs-rest model's own accuracy on "this digit or not" (one-vs-rest runs only).
    pub binary_accuracy: Option<f64>,
}

impl ClassRecord {
    fn new(run_id: &str, c: &ClassScores) -> Self {
        ClassRecord {
            run_id: run_id.to_string(),
            class: c.class,
            precision: c.precision,
            recall: c.recall,
            f1: c.f1,
            support: c.support,
            binary_accuracy: c.binary_accuracy,
        }
    }
}

/// One row of `predictions.csv` as read back (the probability columns are not needed).
#[derive(Debug, Clone, Deserialize)]
pub struct PredictionRecord {
    /// Position of the image in the 70,000-image order.
    pub index: usize,
    pub label: u8,
    pub predicted: u8,
}

/// Writes `metrics.csv` and `per_class.csv` of `results` (in the order given).
pub fn write_tables(dir: &ResultsDir, results: &[RunResult]) -> Result<()> {
    let (metrics_csv, per_class_csv) = (&dir.metrics_csv(), &dir.per_class_csv());
    let rows: Vec<_> = results.iter().map(metrics_row).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::output(metrics_csv, e);
    if let Some(first) = rows.first() {
        w.write_record(first.iter().map(|(name, _)| *name))
            .map_err(fail)?;
    }
    for row in &rows {
        let cells: Vec<&Cell> = row.iter().map(|(_, cell)| cell).collect();
        w.serialize(cells).map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::output(metrics_csv, e.error()))?;
    dir.write(metrics_csv, &bytes)?;

    let rows = results.iter().flat_map(|r| {
        r.metrics.iter().flat_map(move |m| {
            m.per_class
                .iter()
                .map(move |c| ClassRecord::new(&r.run.id, c))
        })
    });
    dir.write(per_class_csv, &csv_bytes(per_class_csv, rows)?)
}

/// Writes `runs/<run_id>/predictions.csv`: index (position in the 70,000-image order),
/// label, predicted, p0 ... p9.
pub fn write_predictions(
    dir: &ResultsDir,
    path: &Path,
    test_index: &[usize],
    labels: &[u8],
    predicted: &[u8],
    probabilities: &Array2<f64>,
) -> Result<()> {
    let mut text = String::from("index,label,predicted");
    for k in 0..probabilities.ncols() {
        text.push_str(&format!(",p{k}"));
    }
    text.push('\n');
    for (i, row) in probabilities.rows().into_iter().enumerate() {
        text.push_str(&format!("{},{},{}", test_index[i], labels[i], predicted[i]));
        for p in row {
            text.push_str(&format!(",{p:.6e}"));
        }
        text.push('\n');
    }
    dir.write(path, text.as_bytes())
}

/// scikit-learn's results per run id, from the `sklearn/metrics.csv` that
/// `scripts/sklearn_reference.py` writes into a results folder; empty where there is none. Run
/// ids name the parameters and the data, so a row is the same experiment as the harness's run.
pub fn sklearn_results(dir: &ResultsDir) -> Result<HashMap<String, MetricsRecord>> {
    let path = dir.sklearn_metrics_csv();
    if dir.kind(&path).is_none() {
        return Ok(HashMap::new());
    }
    let hint = "rerun `.venv/bin/python scripts/sklearn_reference.py CONFIG`, or delete the sklearn folder";
    Ok(read::<MetricsRecord>(dir, &path, hint)?
        .into_iter()
        .map(|r| (r.run_id.clone(), r))
        .collect())
}

/// Reads every row of a CSV file written by [`write_tables`], [`write_predictions`] or
/// `scripts/sklearn_reference.py`; `hint` says how to produce a missing or damaged file.
/// It is read through the results folder's handle (`dir`, which holds `path`): a link in its
/// place is refused, never followed.
pub fn read<T: for<'de> Deserialize<'de>>(
    dir: &ResultsDir,
    path: &Path,
    hint: &str,
) -> Result<Vec<T>> {
    let err = |message: String| Error::Data {
        file: path.to_path_buf(),
        message,
    };
    let bytes = dir
        .read(path)
        .map_err(|e| err(format!("{e}: {hint}")))?
        .ok_or_else(|| err(format!("no such file: {hint}")))?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    reader
        .deserialize::<T>()
        .map(|row| row.map_err(|e| err(format!("{e}: {hint}"))))
        .collect()
}

/// The rows of a predictions.csv, in test order, with their digits checked.
pub fn read_predictions(
    dir: &ResultsDir,
    path: &Path,
    hint: &str,
) -> Result<Vec<PredictionRecord>> {
    let rows: Vec<PredictionRecord> = read(dir, path, hint)?;
    if let Some(row) = rows
        .iter()
        .find(|r| r.label as usize >= N_CLASSES || r.predicted as usize >= N_CLASSES)
    {
        return Err(Error::Data {
            file: path.to_path_buf(),
            message: format!(
                "image {} has digit {} / {}: {hint}",
                row.index, row.label, row.predicted
            ),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scikit_learn_accuracies_are_read_where_the_folder_has_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultsDir::new(tmp.path().to_path_buf());
        assert!(sklearn_results(&dir).unwrap().is_empty());
        std::fs::create_dir_all(tmp.path().join("sklearn")).unwrap();
        std::fs::write(
            dir.sklearn_metrics_csv(),
            "run_id,C,accuracy,cv_mean,converged,objective,grad_norm,status,fit_seconds\n\
             abc,1.0,0.9172,,false,0.23,0.17,ok,15.6\n\
             def,0.1,,,false,0.2,0.1,failed,1.0\n",
        )
        .unwrap();
        let sk = sklearn_results(&dir).unwrap();
        assert_eq!(sk.len(), 2);
        assert_eq!(sk["abc"].accuracy, Some(0.9172));
        assert_eq!(sk["def"].accuracy, None);
        // A file without a column the report needs is an error naming the file, not a NaN.
        std::fs::write(dir.sklearn_metrics_csv(), "run_id,accuracy\nabc,0.9\n").unwrap();
        let e = sklearn_results(&dir).unwrap_err().to_string();
        assert!(
            e.contains("sklearn/metrics.csv") && e.contains("converged"),
            "{e}"
        );
    }

    #[test]
    fn a_per_class_row_is_the_run_id_and_every_class_score() {
        let scores = ClassScores {
            class: 3,
            precision: 0.5,
            recall: 0.25,
            f1: 1.0 / 3.0,
            support: 7,
            binary_accuracy: Some(0.9),
        };
        let keys = |v: serde_json::Value| -> Vec<String> {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        let mut expected = keys(serde_json::to_value(&scores).unwrap());
        expected.push("run_id".into());
        expected.sort();
        let row = serde_json::to_value(ClassRecord::new("abc", &scores)).unwrap();
        assert_eq!(keys(row.clone()), expected);
        assert_eq!(row["support"], 7);
    }
}
