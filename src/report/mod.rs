//! The report of a sweep, derived entirely from its run records: `metrics.csv`, `per_class.csv`,
//! confusion matrices (CSV and PNG), the sweep and per-run charts, and `README.md`. Every file
//! is written to a temporary file and renamed into place, so a reader never sees a half-written
//! file, and `sweep --report-only` can redraw everything without refitting.
//!
//! May touch: `charts`, `config`, `error`, `files`, `metrics`, `model`, `model_file`, `stats`, `store`, `tables` (it reads records and writes presentation; nothing imports it but `sweep`).

mod comparison;
mod readme;
mod run_charts;
mod sweep_charts;
mod sweep_lines;

use std::path::Path;

use ndarray::Array2;

use crate::charts::{self, Cells, Title};
use crate::config::{Config, RunCharts};
use crate::error::{Error, Result};
use crate::files::{write_atomic, write_atomic_with};
use crate::store::REFERENCE_JSON;
use crate::store::{ResultsDir, RunResult};

pub use readme::readme_markdown;

/// How a run's data was split, on one line, for titles and READMEs.
fn split_text(r: &RunResult) -> String {
    let s = &r.run.params.split;
    let order = if s.shuffle {
        format!("random_state={}", s.random_state)
    } else {
        "no shuffle".into()
    };
    format!("train {} / test {} images, {order}", r.n_train, r.n_test)
}

/// Writes `confusion/<run_id>.csv` and its heatmap.
fn write_confusion(dir: &ResultsDir, result: &RunResult) -> Result<()> {
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
    write_atomic(&dir.confusion_csv(id), text.as_bytes())?;
    let lines = [
        result.run.params.describe(),
        format!("{}; colour: share of the true digit", split_text(result)),
    ];
    let title = format!(
        "Confusion matrix, run {id}: accuracy {:.2} %",
        100.0 * m.accuracy
    );
    write_atomic_with(&dir.confusion_png(id), |tmp| {
        charts::confusion_heatmap(
            tmp,
            &m.confusion,
            &Title {
                title: &title,
                lines: &lines,
            },
            Cells::Counts,
        )
    })
}

/// The runs that get per-run charts under `[output] run_charts`.
fn chart_runs<'a>(config: &Config, results: &'a [RunResult]) -> Vec<&'a RunResult> {
    let ok = results
        .iter()
        .filter(|r| r.metrics.is_some() && r.examples.is_some());
    match &config.output.run_charts {
        RunCharts::None => Vec::new(),
        RunCharts::All => ok.collect(),
        RunCharts::Ids(ids) => ok.filter(|r| ids.contains(&r.run.id)).collect(),
        RunCharts::Selected => comparison::test_groups(config, results)
            .into_iter()
            .map(|g| g.reference)
            .filter(|r| r.examples.is_some())
            .collect(),
    }
}

/// A chart of the report: its file (relative to the results folder) and heading, or why it was
/// not drawn.
#[derive(Debug, Clone)]
pub struct Figure {
    pub file: String,
    pub heading: String,
    /// Why the chart was not drawn, if it was not.
    pub not_drawn: Option<String>,
}

/// Writes the whole report of `results` (config order): tables, confusion matrices, sweep
/// charts, per-run charts and `README.md`. `images` are the data set's pixels (for digit charts).
pub fn write_report(
    config: &Config,
    dir: &ResultsDir,
    results: &[RunResult],
    images: &Array2<u8>,
) -> Result<()> {
    crate::tables::write_tables(dir, results)?;
    for result in results {
        write_confusion(dir, result)?;
    }
    let sklearn = crate::tables::sklearn_results(dir)?;
    let accuracies = sklearn
        .iter()
        .filter_map(|(id, r)| Some((id.clone(), r.accuracy?)))
        .collect();
    let sweep_figures = sweep_charts::draw(dir, results, &accuracies, config.selection_rule)?;
    let selected = chart_runs(config, results);
    let mut run_figures = Vec::new();
    for result in results {
        if selected.iter().any(|r| r.run.id == result.run.id) {
            // Where scikit-learn's fit of the same run stopped, for its fit path.
            let stopped = sklearn
                .get(&result.run.id)
                .and_then(|s| Some((s.n_iter?, s.objective)));
            let published = config
                .published
                .as_ref()
                .and_then(|p| p.binary_accuracy.as_deref());
            run_figures.push((
                result,
                run_charts::draw(dir, result, images, stopped, published)?,
            ));
        } else {
            run_charts::remove(dir, &result.run.id)?;
        }
    }
    let text = readme_markdown(config, results, &sweep_figures, &run_figures);
    write_atomic(&dir.readme_md(), text.as_bytes())?;
    write_reference(config, dir, results)
}

/// The run `predict RESULTS_DIR` takes, as the README names it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    pub run_id: String,
    /// Why this run: "selected by 5-fold CV", "reference: the base configuration", ...
    pub why: String,
    /// Its model, relative to the results folder.
    pub model: String,
    pub test_accuracy: f64,
    /// The Wilson 95 % interval of the test accuracy.
    pub test_interval: [f64; 2],
    /// Its cross-validation score as the README writes it (`91.97 ± 0.23`), if it has one.
    #[serde(default)]
    pub cv: Option<String>,
}

impl Reference {
    /// The reference a results folder's `reference.json` names: none when the file is absent,
    /// the parse error when it is not the report's.
    pub fn read(results_dir: &Path) -> Option<std::result::Result<Reference, String>> {
        let text = std::fs::read_to_string(results_dir.join(REFERENCE_JSON)).ok()?;
        Some(serde_json::from_str(&text).map_err(|e| e.to_string()))
    }

    /// The closing line of a sweep: which run, why, its scores and its model.
    pub fn summary(&self, dir: &Path) -> String {
        format!(
            "reference run {} ({}): {}test accuracy {:.2} % [{:.2}, {:.2}]; model {}",
            self.run_id,
            self.why,
            self.cv
                .as_ref()
                .map(|cv| format!("CV {cv}, "))
                .unwrap_or_default(),
            100.0 * self.test_accuracy,
            100.0 * self.test_interval[0],
            100.0 * self.test_interval[1],
            dir.join(&self.model).display()
        )
    }
}

/// `reference.json`: the reference run of the first test set (chosen by cross-validation, else
/// the base configuration, else the first run; never by test score), or none.
fn write_reference(config: &Config, dir: &ResultsDir, results: &[RunResult]) -> Result<()> {
    let path = dir.reference_json();
    let Some(group) = comparison::test_groups(config, results).into_iter().next() else {
        return crate::files::remove_stale(&path);
    };
    let r = group.reference;
    let interval = r
        .metrics
        .as_ref()
        .map(|m| m.accuracy_interval())
        .map_or([f64::NAN; 2], |i| [i.low, i.high]);
    let reference = Reference {
        run_id: r.run.id.clone(),
        why: readme::role_text(config, group.reference_role),
        model: dir
            .model_npz(&r.run.id)
            .strip_prefix(&dir.root)
            .map_or_else(|_| r.run.id.clone(), |p| p.display().to_string()),
        test_accuracy: r.accuracy().unwrap_or(f64::NAN),
        test_interval: interval,
        cv: comparison::cv_text(r),
    };
    let text = serde_json::to_string_pretty(&reference).map_err(|e| Error::Output {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, text.as_bytes())
}

/// Draws one chart of the report to `file` (relative to the results folder).
fn figure(
    dir: &ResultsDir,
    file: String,
    heading: String,
    draw: impl FnOnce(&Path) -> Result<()>,
) -> Result<Figure> {
    write_atomic_with(&dir.root.join(&file), draw)?;
    Ok(Figure {
        file,
        heading,
        not_drawn: None,
    })
}
