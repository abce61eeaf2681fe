//! The plan of a sweep: runs grouped by the matrices they share, and within a group by the fit
//! they share (runs that differ only in `max_iter`); the grid as a table (`--dry-run`) and as
//! JSON (`--plan`, what `scripts/sklearn_reference.py` runs).
//!
//! May touch: `config`, `digits`, `error`, `manifest` (the last sweep's time, for estimates),
//! `model`, `preprocessing`, `split`, `stats` (grouping), `store` (records of finished runs, for
//! --dry-run), `text`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{Config, Run, PARAMS};
use crate::digits::N_CLASSES;
use crate::error::{Error, Result};

use crate::model::{Dtype, FitUnits, ModelParams};
use crate::preprocessing::Scaler;
use crate::split::{stratified_k_fold, train_test_split, SplitIndices, SplitSpec};
use crate::stats::group_in_order;
use crate::store::{Prior, ResultsDir, RunResult};

/// Runs sharing one split, scaler, dtype and fit units, and so one set of matrices.
pub(super) struct Group<'a> {
    pub split: SplitSpec,
    pub scaler: Scaler,
    pub dtype: Dtype,
    pub units: FitUnits,
    pub indices: SplitIndices,
    pub runs: Vec<&'a Run>,
    /// Runs that differ only in max_iter share one fit ([`families`]); false with
    /// `--separate-fits`.
    pub shared_fits: bool,
}

/// Groups runs by the data they need, in config order, and checks every split's training set
/// holds all ten digits and can be cut into the `[selection]` folds, before anything is fitted.
pub(super) fn plan<'a>(
    config: &Config,
    runs: &[&'a Run],
    labels: &[u8],
    shared_fits: bool,
) -> Result<Vec<Group<'a>>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for &run in runs {
        let p = &run.params;
        let units = p.model.solver.fit_units();
        if let Some(g) = groups.iter_mut().find(|g| {
            g.split == p.split
                && g.scaler == p.scaler
                && g.dtype == p.model.dtype
                && g.units == units
        }) {
            g.runs.push(run);
            continue;
        }
        let indices = train_test_split(labels.len(), &p.split).map_err(|m| Error::Config {
            file: config.path.clone(),
            line: None,
            message: m.to_string(),
        })?;
        let mut seen = [false; N_CLASSES];
        for &i in &indices.train {
            seen[labels[i] as usize] = true;
        }
        let missing: Vec<String> = (0..N_CLASSES)
            .filter(|&k| !seen[k])
            .map(|k| k.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::Config {
                file: config.path.clone(),
                line: None,
                message: format!(
                    "the training set of run {} has no image of digit {}: raise [data] subsample or train_size",
                    run.id,
                    missing.join(", ")
                ),
            });
        }
        groups.push(Group {
            split: p.split,
            scaler: p.scaler,
            dtype: p.model.dtype,
            units,
            indices,
            runs: vec![run],
            shared_fits,
        });
    }
    // The folds of every cross-validated group can be made on its training labels.
    for group in &groups {
        let Some(selection) = group.runs.iter().find_map(|r| config.cross_validates(r)) else {
            continue;
        };
        let train_labels: Vec<u8> = group.indices.train.iter().map(|&i| labels[i]).collect();
        stratified_k_fold(&train_labels, selection.cv, selection.shuffle_seed).map_err(|e| {
            Error::Config {
                file: config.path.clone(),
                line: None,
                message: format!("[selection] {e}"),
            }
        })?;
    }
    Ok(groups)
}

/// Runs of one data group that differ only in `max_iter`: one fit serves them all (see
/// [`model::fit_max_iters`]). In config order of their first run. Without `shared`, every run
/// is a family of its own (fitted alone, as scikit-learn fits each setting).
pub(super) fn families<'a>(runs: &[&'a Run], shared: bool) -> Vec<Vec<&'a Run>> {
    if !shared {
        return runs.iter().map(|&run| vec![run]).collect();
    }
    group_in_order(runs.iter().copied(), |run| ModelParams {
        max_iter: 0,
        ..run.params.model
    })
}

/// The expanded grid as a table, for `--dry-run`; `out` is the results root (`--out`).
pub fn describe_grid(config: &Config, out: &Path) -> String {
    let dir = ResultsDir::new(out.join(&config.name));
    let mut s = format!(
        "{}: {} runs -> {}/ (data: first {} images)\n",
        config.path.display(),
        config.runs.len(),
        dir.root.display(),
        config.data.n_samples()
    );
    if let Err(e) = crate::manifest::check_owner(config, &dir, false) {
        s.push_str(&format!(
            "a sweep would stop here: {} (its records are not this config's)\n",
            e.one_line()
        ));
    }
    let (priors, copied) = priors(config, &dir);
    let finished: Vec<Option<RunResult>> = priors
        .iter()
        .map(|prior| match prior {
            Prior::Finished(result) => Some((**result).clone()),
            _ => None,
        })
        .collect();
    let mut stale = Vec::new();
    let mut rows: Vec<Vec<String>> = vec![std::iter::once("run_id".to_string())
        .chain(PARAMS.iter().map(|p| p.name.to_string()))
        .chain(std::iter::once("status".to_string()))
        .collect()];
    for ((run, prior), from) in config.runs.iter().zip(&priors).zip(&copied) {
        let status = match prior {
            Prior::Stale(why) => {
                stale.push(format!("{}: {}", run.id, crate::text::escaped(why)));
                "to refit (its record fails its checks, below)".into()
            }
            prior => status(prior, from.as_deref()),
        };
        rows.push(
            std::iter::once(run.id.clone())
                .chain(run.params.values().into_iter().map(|(_, v)| v.display()))
                .chain(std::iter::once(status))
                .collect(),
        );
    }
    s.push_str(&aligned(rows));
    for why in stale {
        s.push_str(&format!("refit {why}\n"));
    }
    s.push_str(&estimate(config, &finished));
    s
}

/// What the sweep would find for each run: here, or (missing here) finished beside this folder,
/// where the sweep copies it instead of refitting; the second list names that folder.
fn priors(config: &Config, dir: &ResultsDir) -> (Vec<Prior>, Vec<Option<PathBuf>>) {
    let siblings = dir.siblings();
    let elsewhere = |run: &Run| {
        siblings
            .iter()
            .find_map(|other| match other.prior_on(run, config, None) {
                Prior::Finished(result) => Some((other.root.clone(), result)),
                _ => None,
            })
    };
    config
        .runs
        .iter()
        .map(|run| match dir.prior_on(run, config, None) {
            Prior::Missing => match elsewhere(run) {
                Some((folder, result)) => (Prior::Finished(result), Some(folder)),
                None => (Prior::Missing, None),
            },
            prior => (prior, None),
        })
        .unzip()
}

/// A run's state for `--dry-run` (a stale record aside): finished with its accuracy and time,
/// and where it is copied from, or to fit.
fn status(prior: &Prior, from: Option<&Path>) -> String {
    match prior {
        Prior::Finished(r) => {
            let state = match r.accuracy() {
                Some(accuracy) => format!(
                    "finished: {:.2} %, {:.1} s",
                    100.0 * accuracy,
                    r.diagnostics.fit_seconds
                ),
                None => "finished: the fit failed".into(),
            };
            match from {
                Some(folder) => {
                    format!("{state} (in {}/: copied, not refitted)", folder.display())
                }
                None => state,
            }
        }
        _ => "to fit".into(),
    }
}

/// Rows as text columns, each as wide as its widest cell, two spaces apart.
fn aligned(rows: Vec<Vec<String>>) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
    }
    s
}

/// What is left to fit and how long it should take: each finished run's seconds per iteration
/// and training image, applied to the others' max_iter and training size (k-fold CV adds about
/// k fits of (k - 1)/k of the images per setting).
fn estimate(config: &Config, finished: &[Option<RunResult>]) -> String {
    let done = finished.iter().flatten().count();
    let left: Vec<&Run> = config
        .runs
        .iter()
        .zip(finished)
        .filter(|(_, f)| f.is_none())
        .map(|(r, _)| r)
        .collect();
    if left.is_empty() {
        return format!("all {done} runs finished: a sweep would only redraw the report\n");
    }
    // Each cross-validated run is also fitted once per fold.
    let fold_fits: usize = left
        .iter()
        .filter_map(|run| config.cross_validates(run))
        .map(|sel| sel.cv)
        .sum();
    let to_fit = match fold_fits {
        0 => format!("{} to fit", left.len()),
        k => format!(
            "{} to fit, and {k} cross-validation fold fit(s)",
            left.len()
        ),
    };
    // Seconds per iteration and training image, by engine: an lbfgs iteration and a sag epoch
    // cost different amounts.
    let engine = |run: &Run| run.params.engine();
    let rates = |of: &str| -> Vec<f64> {
        finished
            .iter()
            .flatten()
            .filter(|r| engine(&r.run) == of && r.diagnostics.n_iter > 0 && r.n_train > 0)
            .map(|r| r.diagnostics.fit_seconds / (r.diagnostics.n_iter as f64 * r.n_train as f64))
            .collect()
    };
    let n = config.data.n_samples();
    let mut seconds = 0.0;
    for run in &left {
        let rates = rates(engine(run));
        if rates.is_empty() {
            return format!(
                "{done} finished, {to_fit}; no time estimate: no finished {} run to measure from\n",
                run.params.model.solver
            );
        }
        let rate = rates.iter().sum::<f64>() / rates.len() as f64;
        let split = &run.params.split;
        let n_train = crate::split::resolve_sizes(n, split.train_size, split.test_size)
            .map_or(n, |(train, _)| train) as f64;
        let fit = rate * run.params.model.max_iter as f64 * n_train;
        let cv = config
            .cross_validates(run)
            .map_or(0.0, |sel| fit * (sel.cv - 1) as f64);
        seconds += fit + cv;
    }
    format!(
        "{done} finished, {to_fit}: about {} at most (every fit to its max_iter, at the time per iteration and training image that finished runs of the same engine took; a fold fit on (k - 1)/k of the images; runs that share a fit take less)\n",
        humantime::format_duration(std::time::Duration::from_secs(seconds.ceil() as u64)),
    )
}

/// One run as `--plan` lists it.
#[derive(Serialize)]
struct PlannedRun<'a> {
    run_id: &'a str,
    /// Every parameter by its name, in table order.
    params: serde_json::Map<String, serde_json::Value>,
}

/// The expanded grid as JSON, for `sweep --plan` (the scikit-learn reference runs exactly these
/// runs): the experiment's name, the data folder and subsample, whether predictions are written,
/// the selection, the parameter names in table
/// order, and every run with its id and parameters.
pub fn plan_json(config: &Config) -> String {
    let runs: Vec<PlannedRun> = config
        .runs
        .iter()
        .map(|run| PlannedRun {
            run_id: &run.id,
            params: run
                .params
                .values()
                .into_iter()
                .map(|(name, value)| {
                    let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
                    (name.to_string(), value)
                })
                .collect(),
        })
        .collect();
    let plan = serde_json::json!({
        "name": config.name,
        "data_dir": config.data.dir,
        "subsample": config.data.subsample,
        "predictions": config.output.predictions,
        "selection": config.selection,
        "params": PARAMS.iter().map(|p| p.name).collect::<Vec<_>>(),
        "runs": runs,
    });
    serde_json::to_string_pretty(&plan).unwrap_or_default()
}
