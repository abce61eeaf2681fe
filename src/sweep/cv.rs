//! Cross-validation for `[selection]`: every run of a group scored on the folds of its training
//! part, as scikit-learn's `GridSearchCV` scores a `Pipeline`.
//!
//! May touch: `config`, `data`, `error`, `metrics`, `model`, `preprocessing`, `split`, `store`,
//! and `sweep::{plan, progress, execute}`.

use std::collections::HashMap;

use super::execute::fit_family;
use super::plan::{families, Group};
use super::progress::Progress;
use crate::config::{Run, Scoring, Selection};
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::{FitFloat, FitStatus};
use crate::preprocessing::prepare;
use crate::split::{stratified_k_fold, SplitIndices};
use crate::store::CvScores;

/// Scores every run of `runs` (one data group) by k-fold cross-validation inside the group's
/// training part: folds as scikit-learn's `StratifiedKFold`, the scaler refitted on each fold's
/// training rows (a scikit-learn `Pipeline`), runs that differ only in max_iter sharing one fit
/// per fold.
pub(super) fn cross_validate<F: FitFloat>(
    runs: &[&Run],
    selection: &Selection,
    group: &Group,
    mnist: &Mnist,
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
    let families = families(runs);
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
        let part = |keep: bool| -> Vec<usize> {
            group
                .indices
                .train
                .iter()
                .zip(&folds)
                .filter(|(_, &f)| (f == fold) == keep)
                .map(|(&i, _)| i)
                .collect()
        };
        let split = SplitIndices {
            train: part(false),
            test: part(true),
        };
        let data = prepare::<F>(
            mnist.images.view(),
            &mnist.labels,
            &split,
            group.scaler,
            group.dtype,
        )
        .map_err(|e| fail(&e))?;
        for family in &families {
            let outcomes = fit_family(family, &data, &|_, _| {})?;
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
                let entry = scores.get_mut(&run.id).expect("every run has an entry");
                entry.scores.push(score);
                entry.converged.push(outcome.diagnostics.converged);
            }
        }
        progress.line(format!(
            "cross-validation: fold {}/{} fitted for {} setting(s) ({} training, {} validation images)",
            fold + 1,
            selection.cv,
            runs.len(),
            split.train.len(),
            split.test.len()
        ));
    }
    Ok(scores)
}
