//! The plan of a sweep: runs grouped by the matrices they share, and within a group by the fit
//! they share (runs that differ only in `max_iter`); the grid as a table (`--dry-run`) and as
//! JSON (`--plan`, what `scripts/sklearn_reference.py` runs).
//!
//! May touch: `config`, `digits`, `error`, `model`, `preprocessing`, `split`, `stats` (grouping).

use std::path::Path;

use serde::Serialize;

use crate::config::{Config, Run, PARAMS};
use crate::digits::N_CLASSES;
use crate::error::{Error, Result};
use crate::model::{Dtype, ModelParams};
use crate::preprocessing::Scaler;
use crate::split::{stratified_k_fold, train_test_split, SplitIndices, SplitSpec};
use crate::stats::group_in_order;

/// Runs sharing one split, scaler and dtype, and so one set of matrices.
pub(super) struct Group<'a> {
    pub split: SplitSpec,
    pub scaler: Scaler,
    pub dtype: Dtype,
    pub indices: SplitIndices,
    pub runs: Vec<&'a Run>,
}

/// Groups runs by the data they need, in config order, and checks every split's training set
/// holds all ten digits and can be cut into the `[selection]` folds, before anything is fitted.
pub(super) fn plan<'a>(config: &Config, runs: &[&'a Run], labels: &[u8]) -> Result<Vec<Group<'a>>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for &run in runs {
        let p = &run.params;
        if let Some(g) = groups
            .iter_mut()
            .find(|g| g.split == p.split && g.scaler == p.scaler && g.dtype == p.model.dtype)
        {
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
            indices,
            runs: vec![run],
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
/// [`model::fit_max_iters`]). In config order of their first run.
pub(super) fn families<'a>(runs: &[&'a Run]) -> Vec<Vec<&'a Run>> {
    group_in_order(runs.iter().copied(), |run| ModelParams {
        max_iter: 0,
        ..run.params.model
    })
}

/// The expanded grid as a table, for `--dry-run`; `out` is the results root (`--out`).
pub fn describe_grid(config: &Config, out: &Path) -> String {
    let mut s = format!(
        "{}: {} runs -> {}/ (data: first {} images)\n",
        config.path.display(),
        config.runs.len(),
        out.join(&config.name).display(),
        config.data.n_samples()
    );
    let mut rows: Vec<Vec<String>> = vec![std::iter::once("run_id".to_string())
        .chain(PARAMS.iter().map(|p| p.name.to_string()))
        .collect()];
    for run in &config.runs {
        rows.push(
            std::iter::once(run.id.clone())
                .chain(run.params.values().into_iter().map(|(_, v)| v.display()))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
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
