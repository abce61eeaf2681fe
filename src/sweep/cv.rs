//! Cross-validation for `[selection]`: every run of a group scored on the folds of its training
//! part, as scikit-learn's `GridSearchCV` scores a `Pipeline`.
//!
//! Each fold's score is written as a record (`cv/<run_id>/fold-K-of-N.json`) as soon as the fold
//! is fitted, so an interrupted sweep resumes its cross-validation at the first missing fold.
//!
//! May touch: `config`, `data`, `error`, `metrics`, `model`, `preprocessing`, `split`, `store`,
//! and `sweep::{plan, progress, family}`.

use std::collections::HashMap;

use super::family::fit_family;
use super::plan::{families, Group};
use super::progress::{cv_score, family_work, Progress};
use crate::config::{setting_label, varying_params, Run, Scoring, Selection};
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::{FitStatus, Float};
use crate::preprocessing::{prepare, PreparedData};
use crate::split::{stratified_k_fold, SplitIndices};
use crate::store::{CvScores, FoldKey, FoldRecord, ResultsDir};

/// Scores every run of `runs` (one data group) by k-fold cross-validation inside the group's
/// training part: folds as scikit-learn's `StratifiedKFold`, the scaler refitted on each fold's
/// training rows (a scikit-learn `Pipeline`), runs that differ only in max_iter sharing one fit
/// per fold.
pub(super) fn cross_validate<F: Float>(
    runs: &[&Run],
    selection: &Selection,
    group: &Group,
    mnist: &Mnist,
    dir: &ResultsDir,
    progress: &Progress,
) -> Result<HashMap<String, CvScores>> {
    let fail = |e: &dyn std::fmt::Display| Error::fit(&runs[0].id, e);
    let train_labels: Vec<u8> = group
        .indices
        .train
        .iter()
        .map(|&i| mnist.labels[i])
        .collect();
    let folds = stratified_k_fold(&train_labels, selection.cv, selection.shuffle_seed)
        .map_err(|e| fail(&e))?;
    let families = families(runs, group.shared_fits);
    let key = fold_key(runs, selection, mnist);
    let mut scores: HashMap<String, CvScores> = runs
        .iter()
        .map(|r| {
            let empty = CvScores {
                selection: selection.clone(),
                scores: Vec::new(),
                converged: Vec::new(),
            };
            (r.id.clone(), empty)
        })
        .collect();
    for fold in 0..selection.cv {
        // Families whose every run has this fold's record from an earlier, interrupted sweep.
        let recorded: Vec<Option<Vec<FoldRecord>>> = families
            .iter()
            .map(|family| {
                family
                    .iter()
                    .map(|run| dir.fold_record(&run.id, fold, &key))
                    .collect()
            })
            .collect();
        let to_fit = recorded.iter().filter(|r| r.is_none()).count();
        let data = if to_fit > 0 {
            Some(fold_data::<F>(group, mnist, &folds, fold).map_err(|e| fail(&e))?)
        } else {
            None
        };
        // Each fold fit on (k - 1)/k of the training images, counted as soon as it is done.
        let n_fold = group.indices.train.len() * (selection.cv - 1) / selection.cv;
        for (family, recorded) in families.iter().zip(recorded) {
            let records = match (recorded, &data) {
                (Some(records), _) => records,
                (None, Some(data)) => fit_fold(family, data, selection, &key, dir, fold, progress)?,
                (None, None) => unreachable!("fold data are prepared when a family needs a fit"),
            };
            progress.advance(family_work(family, n_fold));
            for (run, record) in family.iter().zip(records) {
                let entry = scores.get_mut(&run.id).expect("every run has an entry");
                entry.scores.push(record.score);
                entry.converged.push(record.converged);
            }
        }
        let reused = families.len() - to_fit;
        report_fold(progress, runs, &scores, selection, fold, reused);
    }
    Ok(scores)
}

/// What a fold record was computed with: a record of another selection, engine or data set is
/// refitted.
fn fold_key(runs: &[&Run], selection: &Selection, mnist: &Mnist) -> FoldKey {
    // The engines of the group's runs (one, unless solvers are mixed).
    let mut engines: Vec<&str> = runs.iter().map(|r| r.params.engine()).collect();
    engines.dedup();
    FoldKey {
        selection: selection.clone(),
        engine: engines.join(" + "),
        data_checksum: mnist.checksum.clone(),
    }
}

/// Fold `fold`'s matrices: the group's other training folds to fit, this fold to score, the
/// scaler fitted on the former.
fn fold_data<F: Float>(
    group: &Group,
    mnist: &Mnist,
    folds: &[usize],
    fold: usize,
) -> std::result::Result<PreparedData<F>, impl std::fmt::Display> {
    let part = |keep: bool| -> Vec<usize> {
        group
            .indices
            .train
            .iter()
            .zip(folds)
            .filter(|(_, &f)| (f == fold) == keep)
            .map(|(&i, _)| i)
            .collect()
    };
    let split = SplitIndices {
        train: part(false),
        test: part(true),
    };
    prepare::<F>(
        mnist.images.view(),
        &mnist.labels,
        &split,
        group.scaler,
        group.dtype,
        group.units,
    )
}

/// Fits one family on a fold and scores each of its runs; each score is saved as the run's fold
/// record at once. The fit is followed on a bar led by the fold ("fold 2/5").
fn fit_fold<F: Float>(
    family: &[&Run],
    data: &PreparedData<F>,
    selection: &Selection,
    key: &FoldKey,
    dir: &ResultsDir,
    fold: usize,
    progress: &Progress,
) -> Result<Vec<FoldRecord>> {
    let longest = family.iter().max_by_key(|r| r.params.model.max_iter);
    let bar = longest.and_then(|run| {
        progress.start(
            run,
            format!("fold {}/{} {}", fold + 1, selection.cv, run.id),
        )
    });
    let observer =
        |iteration: u64, objective: f64| Progress::observe(bar.as_ref(), iteration, objective);
    let outcomes = fit_family(family, data, &observer);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outcomes = outcomes?;
    let mut records = Vec::new();
    for (run, outcome) in family.iter().zip(outcomes) {
        let score = match outcome.diagnostics.status {
            FitStatus::Ok => {
                let decision = outcome.model.decision(&data.x_test, 1.0);
                let p = outcome.model.probabilities(&decision);
                let m = metrics::evaluate(&data.y_test, p.view(), None);
                match selection.scoring {
                    Scoring::Accuracy => m.accuracy,
                    Scoring::NegLogLoss => -m.log_loss,
                }
            }
            FitStatus::Failed(_) => f64::NAN,
        };
        let record = FoldRecord {
            key: key.clone(),
            score,
            converged: outcome.diagnostics.converged,
        };
        dir.save_fold(&run.id, fold, &record)?;
        records.push(record);
    }
    Ok(records)
}

/// The progress line of a scored fold: each setting's mean CV score so far (by what tells the
/// settings apart, "C=0.1: 91.02 %").
fn report_fold(
    progress: &Progress,
    runs: &[&Run],
    scores: &HashMap<String, CvScores>,
    selection: &Selection,
    fold: usize,
    reused: usize,
) {
    let varying = varying_params(runs.iter().map(|r| &r.params));
    let means: Vec<String> = runs
        .iter()
        .map(|run| {
            let label = match setting_label(&run.params, &varying) {
                label if label.is_empty() => run.id.clone(),
                label => label,
            };
            let (mean, _) = scores[&run.id].mean_sd();
            format!("{label}: {}", cv_score(selection.scoring, mean, None))
        })
        .collect();
    progress.cv_line(format!(
        "cross-validation: fold {}/{} scored{}; mean so far {}",
        fold + 1,
        selection.cv,
        if reused > 0 {
            format!(" ({reused} fit(s) reused from an interrupted sweep)")
        } else {
            String::new()
        },
        means.join(", ")
    ));
}
