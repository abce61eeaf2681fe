//! Writing results: `metrics.csv`, `per_class.csv`, per-run confusion matrices (CSV and PNG),
//! optional predictions, and `summary.md`. Every file is written to a temporary file in the same
//! folder and renamed into place, so a reader never sees a half-written file.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::charts;
use crate::config::Run;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::model::{Diagnostics, FitStatus};

/// Everything a finished run reports.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub run: Run,
    pub subsample: Option<usize>,
    pub n_train: usize,
    pub n_test: usize,
    pub diagnostics: Diagnostics,
    /// Test metrics; `None` for a failed fit, whose numbers are not results.
    pub metrics: Option<Metrics>,
}

impl RunResult {
    /// The run's parameters on one line, for titles and logs.
    pub fn describe(&self) -> String {
        let p = &self.run.params;
        format!(
            "{}, C={}, max_iter={}, scaler={}, {}",
            p.model.multi_class.as_str(),
            p.model.c,
            p.model.max_iter,
            p.scaler.as_str(),
            p.model.dtype.as_str()
        )
    }

    /// How the data was split, on one line.
    pub fn describe_split(&self) -> String {
        let s = &self.run.params.split;
        let order = if s.shuffle {
            format!("random_state={}", s.random_state)
        } else {
            "no shuffle".into()
        };
        format!(
            "train {} / test {} images, {order}",
            self.n_train, self.n_test
        )
    }
}

/// One row of `metrics.csv`.
#[derive(Serialize)]
struct MetricsRow<'a> {
    run_id: &'a str,
    multi_class: &'a str,
    #[serde(rename = "C")]
    c: f64,
    max_iter: u64,
    tol: f64,
    fit_intercept: bool,
    scaler: &'a str,
    dtype: &'a str,
    train_size: String,
    test_size: String,
    random_state: u32,
    shuffle: bool,
    subsample: Option<usize>,
    n_train: usize,
    n_test: usize,
    accuracy: Option<f64>,
    train_accuracy: Option<f64>,
    precision_macro: Option<f64>,
    recall_macro: Option<f64>,
    f1_macro: Option<f64>,
    f1_weighted: Option<f64>,
    log_loss: Option<f64>,
    objective: f64,
    grad_norm: f64,
    converged: bool,
    status: &'a str,
    failure: &'a str,
    fit_scale: f64,
    attempts: usize,
    fit_seconds: f64,
}

/// One row of `per_class.csv`.
#[derive(Serialize)]
struct ClassRow<'a> {
    run_id: &'a str,
    class: usize,
    precision: f64,
    recall: f64,
    f1: f64,
    support: u64,
    binary_accuracy: Option<f64>,
}

fn metrics_row(r: &RunResult) -> MetricsRow<'_> {
    let p = &r.run.params;
    let m = r.metrics.as_ref();
    let d = &r.diagnostics;
    let (status, failure) = match &d.status {
        FitStatus::Ok => ("ok", ""),
        FitStatus::Failed(reason) => ("failed", reason.as_str()),
    };
    let size = |s: Option<crate::split::Size>| s.map(|s| s.to_string()).unwrap_or_default();
    MetricsRow {
        run_id: &r.run.id,
        multi_class: p.model.multi_class.as_str(),
        c: p.model.c,
        max_iter: p.model.max_iter,
        tol: p.model.tol,
        fit_intercept: p.model.fit_intercept,
        scaler: p.scaler.as_str(),
        dtype: p.model.dtype.as_str(),
        train_size: size(p.split.train_size),
        test_size: size(p.split.test_size),
        random_state: p.split.random_state,
        shuffle: p.split.shuffle,
        subsample: r.subsample,
        n_train: r.n_train,
        n_test: r.n_test,
        accuracy: m.map(|m| m.accuracy),
        train_accuracy: m.map(|_| d.train_accuracy),
        precision_macro: m.map(|m| m.precision_macro),
        recall_macro: m.map(|m| m.recall_macro),
        f1_macro: m.map(|m| m.f1_macro),
        f1_weighted: m.map(|m| m.f1_weighted),
        log_loss: m.map(|m| m.log_loss),
        objective: d.objective,
        grad_norm: d.grad_norm,
        converged: d.converged,
        status,
        failure,
        fit_scale: d.fit_scale,
        attempts: d.attempts,
        fit_seconds: d.fit_seconds,
    }
}

/// Writes `path` through a temporary file in the same folder: `write` gets the temporary path.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(&suffix)
        .tempfile_in(dir)
        .map_err(|e| Error::output(dir, e))?;
    write(tmp.path())?;
    tmp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    Ok(())
}

/// Writes bytes to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|e| Error::output(tmp, e))
    })
}

pub(crate) fn csv_bytes<T: Serialize>(
    path: &Path,
    rows: impl IntoIterator<Item = T>,
) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(|e| Error::output(path, e))?;
    }
    w.into_inner().map_err(|e| Error::output(path, e.error()))
}

/// The results folder of one experiment and the files in it.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    pub root: PathBuf,
}

impl ResultsDir {
    pub fn new(root: PathBuf) -> Self {
        ResultsDir { root }
    }

    pub fn metrics_csv(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }
    pub fn per_class_csv(&self) -> PathBuf {
        self.root.join("per_class.csv")
    }
    pub fn summary_md(&self) -> PathBuf {
        self.root.join("summary.md")
    }
    pub fn confusion_csv(&self, run_id: &str) -> PathBuf {
        self.root.join("confusion").join(format!("{run_id}.csv"))
    }
    pub fn confusion_png(&self, run_id: &str) -> PathBuf {
        self.root.join("confusion").join(format!("{run_id}.png"))
    }
    pub fn predictions_csv(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(run_id).join("predictions.csv")
    }

    /// Creates the folder, or says why it cannot be written to (before any work is done).
    pub fn check_writable(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::output(&self.root, e))?;
        tempfile::tempfile_in(&self.root).map_err(|e| Error::output(&self.root, e))?;
        Ok(())
    }

    /// Writes one run's own files: confusion matrix CSV and heatmap.
    pub fn write_run(&self, result: &RunResult) -> Result<()> {
        let Some(m) = &result.metrics else {
            return Ok(());
        };
        let id = &result.run.id;
        let mut text = String::from("true\\predicted");
        for k in 0..m.confusion.ncols() {
            text.push_str(&format!(",{k}"));
        }
        text.push('\n');
        for (t, row) in m.confusion.rows().into_iter().enumerate() {
            text.push_str(&t.to_string());
            for v in row {
                text.push_str(&format!(",{v}"));
            }
            text.push('\n');
        }
        write_atomic(&self.confusion_csv(id), text.as_bytes())?;
        let title = format!(
            "Confusion matrix, run {id}: accuracy {:.4}\n{}\n{}; colour: share of the true digit",
            m.accuracy,
            result.describe(),
            result.describe_split()
        );
        write_atomic_with(&self.confusion_png(id), |tmp| {
            charts::confusion_heatmap(tmp, &m.confusion, &title)
        })
    }

    /// Writes `runs/<run_id>/predictions.csv`: index (position in the 70,000-image order),
    /// label, predicted, p0 ... p9.
    pub fn write_predictions(
        &self,
        run_id: &str,
        test_index: &[usize],
        labels: &[u8],
        predicted: &[u8],
        probabilities: &ndarray::Array2<f64>,
    ) -> Result<()> {
        let path = self.predictions_csv(run_id);
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
        write_atomic(&path, text.as_bytes())
    }

    /// Rewrites `metrics.csv`, `per_class.csv` and `summary.md` from all results so far.
    pub fn write_tables(&self, name: &str, results: &[RunResult], planned: usize) -> Result<()> {
        let path = self.metrics_csv();
        write_atomic(&path, &csv_bytes(&path, results.iter().map(metrics_row))?)?;
        let path = self.per_class_csv();
        let rows = results.iter().flat_map(|r| {
            r.metrics.iter().flat_map(move |m| {
                m.per_class.iter().map(move |c| ClassRow {
                    run_id: &r.run.id,
                    class: c.class,
                    precision: c.precision,
                    recall: c.recall,
                    f1: c.f1,
                    support: c.support,
                    binary_accuracy: c.binary_accuracy,
                })
            })
        });
        write_atomic(&path, &csv_bytes(&path, rows)?)?;
        write_atomic(
            &self.summary_md(),
            summary_markdown(name, results, planned).as_bytes(),
        )
    }
}

/// The `summary.md` text: successful runs best first, then failures with their reasons.
pub fn summary_markdown(name: &str, results: &[RunResult], planned: usize) -> String {
    let mut ok: Vec<&RunResult> = results.iter().filter(|r| r.metrics.is_some()).collect();
    ok.sort_by(|a, b| {
        let acc = |r: &RunResult| r.metrics.as_ref().map(|m| m.accuracy).unwrap_or(0.0);
        acc(b)
            .total_cmp(&acc(a))
            .then_with(|| a.run.id.cmp(&b.run.id))
    });
    let failed: Vec<&RunResult> = results.iter().filter(|r| r.metrics.is_none()).collect();
    let mut s = format!("# {name}\n\n");
    if results.len() < planned {
        s.push_str(&format!(
            "**In progress or interrupted:** {} of {planned} runs finished.\n\n",
            results.len()
        ));
    }
    s.push_str(&format!(
        "{} runs: {} ok, {} failed, {} not converged (scikit-learn would warn: max_iter reached before tol).\n\n",
        results.len(),
        ok.len(),
        failed.len(),
        ok.iter().filter(|r| !r.diagnostics.converged).count()
    ));
    s.push_str("| # | run | multi_class | C | max_iter | scaler | dtype | train / test | accuracy | train acc. | F1 macro | log-loss | converged | grad norm | fit s | confusion |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (i, r) in ok.iter().enumerate() {
        let m = r.metrics.as_ref().expect("filtered");
        let p = &r.run.params;
        s.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} / {} | {:.4} | {:.4} | {:.4} | {:.4} | {} | {:.2e} | {:.1} | [png](confusion/{}.png) |\n",
            i + 1,
            r.run.id,
            p.model.multi_class.as_str(),
            p.model.c,
            p.model.max_iter,
            p.scaler.as_str(),
            p.model.dtype.as_str(),
            r.n_train,
            r.n_test,
            m.accuracy,
            r.diagnostics.train_accuracy,
            m.f1_macro,
            m.log_loss,
            if r.diagnostics.converged { "yes" } else { "no" },
            r.diagnostics.grad_norm,
            r.diagnostics.fit_seconds,
            r.run.id,
        ));
    }
    if failed.is_empty() {
        s.push_str("\nNo run failed.\n");
    } else {
        s.push_str("\n## Failed runs (kept out of the table and the charts)\n\n");
        for r in failed {
            let reason = match &r.diagnostics.status {
                FitStatus::Failed(reason) => reason.as_str(),
                FitStatus::Ok => "",
            };
            s.push_str(&format!(
                "- `{}` ({}; {}): {} after {} attempt(s), last fit scale {}\n",
                r.run.id,
                r.describe(),
                r.describe_split(),
                reason,
                r.diagnostics.attempts,
                r.diagnostics.fit_scale
            ));
        }
    }
    s
}
