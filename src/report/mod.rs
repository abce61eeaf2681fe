//! The report of a sweep, derived entirely from its run records: `metrics.csv`, `per_class.csv`,
//! confusion matrices (CSV and PNG), the sweep and per-run charts, and `README.md`. Every file
//! is written to a temporary file and renamed into place, so a reader never sees a half-written
//! file, and `sweep --report-only` can redraw everything without refitting.
//!
//! May touch: `folder` (results files and inputs through one handle), `baselines`, `charts`,
//! `config`, `data` (the images and labels the baselines are fitted on), `digits`, `error`, `markdown`, `metrics`, `model`, `split` (the animation's seeded draw), `stats`,
//! `store`, `tables`, `text` (it reads records and writes presentation).

mod animation;
mod comparison;
mod fit_paths;
mod penalty_maps;
mod readme;
mod readme_tables;
mod run_charts;
mod sweep_charts;
mod sweep_lines;

use std::collections::BTreeMap;
use std::path::Path;

use crate::baselines::{baselines, Baseline};
use crate::data::Mnist;

use crate::charts::{self, Cells, Title};
use crate::config::{Config, RunCharts};
use crate::error::{Error, Result};
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
    dir.write(&dir.confusion_csv(id), text.as_bytes())?;
    let lines = [
        result.run.params.describe(),
        format!("{}; colour: share of the true digit", split_text(result)),
    ];
    let title = format!(
        "Confusion matrix, run {id}: accuracy {:.2} %",
        100.0 * m.accuracy
    );
    let png = dir.confusion_png(id);
    dir.write(
        &png,
        &charts::confusion_heatmap(
            &png,
            &m.confusion,
            &Title {
                title: &title,
                lines: &lines,
            },
            Cells::Counts,
        )?,
    )
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
/// Removes a report whose runs are all gone (after `--prune`): the tables, charts, confusion
/// matrices, README and reference, so that nothing describes runs that no longer exist.
pub fn remove_report(dir: &ResultsDir) -> Result<()> {
    for (name, kind) in dir.list(&dir.root) {
        let derived = name.ends_with(".png")
            || [
                "metrics.csv",
                "per_class.csv",
                "README.md",
                crate::store::REFERENCE_JSON,
            ]
            .contains(&name.as_str())
            || (name == "confusion" && kind == crate::folder::Kind::Dir);
        if derived {
            dir.remove(&dir.root.join(&name))?;
        }
    }
    Ok(())
}

/// Removes confusion matrices (`confusion/<run_id>.csv|png`) whose run has no folder any more
/// (deleted by hand, or by an older harness's prune): files that describe no run. Files not
/// named after a run id are a user's and stay.
fn remove_orphan_confusions(dir: &ResultsDir) -> Result<()> {
    let folder = dir.root.join("confusion");
    for (name, kind) in dir.list(&folder) {
        let stem = name
            .strip_suffix(".csv")
            .or_else(|| name.strip_suffix(".png"));
        let orphan = stem
            .is_some_and(|id| crate::config::is_run_id(id) && dir.kind(&dir.run_dir(id)).is_none());
        if orphan && kind == crate::folder::Kind::File {
            dir.remove(&folder.join(&name))?;
        }
    }
    Ok(())
}

/// The baselines of each test group, by test set id: fitted on the training part of the
/// group's reference run's split, scored on its test images (checked to be the same images).
fn group_baselines(
    config: &Config,
    results: &[RunResult],
    mnist: &Mnist,
) -> BTreeMap<String, [Baseline; 2]> {
    comparison::test_groups(config, results)
        .into_iter()
        .filter_map(|g| {
            let split = &g.reference.run.params.split;
            let indices = crate::split::train_test_split(mnist.labels.len(), split).ok()?;
            let test_labels: Vec<u8> = indices.test.iter().map(|&i| mnist.labels[i]).collect();
            let same = crate::store::TestSet::new(&indices.test, &test_labels).id == g.id;
            same.then(|| {
                let b = baselines(
                    mnist.images.view(),
                    &mnist.labels,
                    &indices.train,
                    &indices.test,
                );
                (g.id.to_string(), b)
            })
        })
        .collect()
}

pub fn write_report(
    config: &Config,
    dir: &ResultsDir,
    results: &[RunResult],
    mnist: &Mnist,
) -> Result<()> {
    let images = &mnist.images;
    let floors = group_baselines(config, results, mnist);
    crate::tables::write_tables(dir, results)?;
    for result in results {
        write_confusion(dir, result)?;
    }
    remove_orphan_confusions(dir)?;
    let sklearn = crate::tables::sklearn_results(dir)?;
    let accuracies = sklearn
        .iter()
        .filter_map(|(id, r)| Some((id.clone(), r.accuracy?)))
        .collect();
    let sweep_figures = sweep_charts::draw(dir, results, &accuracies, config.selection_rule)?;
    let selected = chart_runs(config, results);
    // The reference runs, which get the animation where the config asks for it.
    let animated: Vec<String> = match config.output.animation {
        true => comparison::test_groups(config, results)
            .into_iter()
            .filter(|g| g.reference.metrics.is_some())
            .map(|g| g.reference.run.id.clone())
            .collect(),
        false => Vec::new(),
    };
    let mut run_figures = Vec::new();
    for result in results {
        let animate = animated.contains(&result.run.id);
        if !animate {
            animation::remove(dir, &result.run.id)?;
        }
        let mut figures = Vec::new();
        if selected.iter().any(|r| r.run.id == result.run.id) {
            // Where scikit-learn's fit of the same run stopped, for its fit path.
            let stopped = sklearn
                .get(&result.run.id)
                .and_then(|s| Some((s.n_iter?, s.objective)));
            let published = config
                .published
                .as_ref()
                .and_then(|p| p.binary_accuracy.as_deref());
            figures = run_charts::draw(dir, result, images, stopped, published)?;
        } else {
            run_charts::remove(dir, &result.run.id)?;
            if !animate {
                continue;
            }
        }
        // Asked for in [output] on its own: drawn whether or not the run gets its charts.
        if animate {
            figures.extend(animation::draw(dir, result, images)?);
        }
        run_figures.push((result, figures));
    }
    let text = readme_markdown(config, results, &sweep_figures, &run_figures, &floors);
    dir.write(&dir.readme_md(), text.as_bytes())?;
    write_reference(config, dir, results, &floors)
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
    /// What sets the run apart from the config's other runs: "C=0.1" (empty for a single run;
    /// absent from files written before it was recorded).
    #[serde(default)]
    pub setting: String,
    /// The floors on the same test images (majority class, nearest centroid; absent from files
    /// written before they were computed).
    #[serde(default)]
    pub baselines: Vec<Baseline>,
}

impl Reference {
    /// The reference a results folder's `reference.json` names: none when the file is absent,
    /// the parse error when it is not the report's.
    /// It is read through the folder's handle (a link in its place is refused), and checked: its
    /// model is the named run's `runs/<id>/model.npz` and its scores are possible ones.
    pub fn read(results_dir: &Path) -> Option<std::result::Result<Reference, String>> {
        let dir = ResultsDir::new(results_dir.to_path_buf());
        let bytes = match dir.read(&dir.reference_json()) {
            Ok(bytes) => bytes?,
            Err(e) => return Some(Err(e.to_string())),
        };
        let reference: Reference = match serde_json::from_slice(&bytes) {
            Ok(reference) => reference,
            Err(e) => return Some(Err(e.to_string())),
        };
        let expected = Path::new("runs")
            .join(&reference.run_id)
            .join(crate::store::MODEL_NPZ);
        Some(if !crate::config::is_run_id(&reference.run_id) {
            Err(format!("run_id {:?} is not a run id", reference.run_id))
        } else if Path::new(&reference.model) != expected {
            Err(format!(
                "model {:?} is not its run's model file ({})",
                reference.model,
                expected.display()
            ))
        } else if !(0.0..=1.0).contains(&reference.test_accuracy) {
            Err(format!(
                "test_accuracy {} is not an accuracy",
                reference.test_accuracy
            ))
        } else {
            Ok(reference)
        })
    }

    /// The closing line of a sweep: which run, why, its scores and its model.
    pub fn summary(&self, dir: &Path) -> String {
        format!(
            "reference run {} ({}{}): {}test accuracy {:.2} % [{:.2}, {:.2}]; model {}",
            self.run_id,
            if self.setting.is_empty() {
                String::new()
            } else {
                format!("{}; ", self.setting)
            },
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
fn write_reference(
    config: &Config,
    dir: &ResultsDir,
    results: &[RunResult],
    floors: &BTreeMap<String, [Baseline; 2]>,
) -> Result<()> {
    let path = dir.reference_json();
    let Some(group) = comparison::test_groups(config, results).into_iter().next() else {
        return dir.remove(&path);
    };
    let r = group.reference;
    let interval = r
        .metrics
        .as_ref()
        .map(|m| m.accuracy_interval())
        .map_or([f64::NAN; 2], |i| [i.low, i.high]);
    let reference = Reference {
        run_id: r.run.id.clone(),
        why: comparison::role_text(config, group.reference_role),
        model: dir
            .model_npz(&r.run.id)
            .strip_prefix(&dir.root)
            .map_or_else(|_| r.run.id.clone(), |p| p.display().to_string()),
        test_accuracy: r.accuracy().unwrap_or(f64::NAN),
        test_interval: interval,
        cv: comparison::cv_text(r),
        setting: crate::config::setting_label(
            &r.run.params,
            &crate::config::varying_params(config.runs.iter().map(|run| &run.params)),
        ),
        baselines: floors.get(group.id).map_or_else(Vec::new, |b| b.to_vec()),
    };
    let text = serde_json::to_string_pretty(&reference).map_err(|e| Error::Output {
        path: path.clone(),
        message: e.to_string(),
    })?;
    dir.write(&path, text.as_bytes())
}

/// Draws one chart of the report to `file` (relative to the results folder).
fn figure(
    dir: &ResultsDir,
    file: String,
    heading: String,
    draw: impl FnOnce(&Path) -> Result<Vec<u8>>,
) -> Result<Figure> {
    let path = dir.root.join(&file);
    dir.write(&path, &draw(&path)?)?;
    Ok(Figure {
        file,
        heading,
        not_drawn: None,
    })
}
