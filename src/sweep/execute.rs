//! Executing a plan: one group's matrices prepared once, its fits on `--jobs` threads, each run
//! evaluated, saved and handed on as soon as it finishes.
//!
//! May touch: `config`, `data`, `error`, `metrics`, `model`, `model_file`, `preprocessing`,
//! `split`, `store`, `tables` (the metrics rows), and `sweep::{plan, progress, cv, family}`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use super::cv::cross_validate;
use super::family::fit_family;
use super::plan::{families, Group};
use super::progress::Progress;
use crate::config::{Config, Run};
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::{self, FitStatus, Float, MultiClass};
use crate::preprocessing::{prepare, PreparedData};
use crate::split::SplitIndices;
use crate::store::{CvScores, ResultsDir, RunResult, TestSet};

/// Fits a family of runs on its group's matrices with one fit, then evaluates each run and writes
/// its own files; results in the family's order.
fn execute_family<F: Float>(
    family: &[&Run],
    data: &PreparedData<F>,
    context: &Context,
    observer: model::Observer,
) -> Vec<Result<RunResult>> {
    match fit_family(family, data, observer) {
        Ok(outcomes) => family
            .iter()
            .zip(outcomes)
            .map(|(run, outcome)| evaluate(run, outcome, data, context))
            .collect(),
        Err(e) => vec![Err(e)],
    }
}

/// What evaluating a group's runs needs besides the fit.
struct Context<'a> {
    indices: &'a SplitIndices,
    config: &'a Config,
    data_checksum: &'a str,
    dir: &'a ResultsDir,
    /// Cross-validation scores by run id (empty without `[selection]`).
    cv: &'a HashMap<String, CvScores>,
}

/// Evaluates one fitted run on its group's test matrix, and writes its own files and record.
fn evaluate<F: Float>(
    run: &Run,
    outcome: model::FitOutcome,
    data: &PreparedData<F>,
    context: &Context,
) -> Result<RunResult> {
    let Context {
        indices,
        config,
        data_checksum,
        dir,
        cv,
    } = *context;
    let (metrics, examples) = match outcome.diagnostics.status {
        FitStatus::Ok => {
            let decision = outcome.model.decision(&data.x_test, 1.0);
            let probabilities = outcome.model.probabilities(&decision);
            let ovr = run.params.model.multi_class == MultiClass::Ovr;
            let metrics = metrics::evaluate(
                &data.y_test,
                probabilities.view(),
                ovr.then(|| decision.view()),
            );
            let model_npz = dir.model_npz(&run.id);
            dir.write(
                &model_npz,
                &crate::model_file::to_bytes(
                    &model_npz,
                    run,
                    data_checksum,
                    &outcome.model,
                    &data.scaler_offset,
                    &data.scaler_scale,
                )?,
            )?;
            if config.output.predictions {
                crate::tables::write_predictions(
                    dir,
                    &dir.predictions_csv(&run.id),
                    &indices.test,
                    &data.y_test,
                    &metrics.predicted,
                    &probabilities,
                )?;
            }
            let examples = metrics::examples(
                &indices.train,
                &data.y_train,
                &indices.test,
                &data.y_test,
                &metrics.predicted,
                probabilities.view(),
            );
            (Some(metrics), Some(examples))
        }
        FitStatus::Failed(_) => (None, None),
    };
    let result = RunResult {
        run: run.clone(),
        engine: run.params.engine().to_string(),
        data_checksum: data_checksum.to_string(),
        subsample: config.data.subsample,
        n_train: indices.train.len(),
        n_test: indices.test.len(),
        test_set: TestSet::new(&indices.test, &data.y_test),
        cv: cv.get(&run.id).cloned(),
        diagnostics: outcome.diagnostics,
        metrics,
        examples,
        files: dir.run_files_digests(&run.id)?,
    };
    dir.save_record(&result)?;
    Ok(result)
}

/// Runs one group's fits on `jobs` threads; results arrive in `sink` as they finish.
pub(super) fn run_group<F: Float>(
    group: &Group,
    mnist: &Mnist,
    config: &Config,
    dir: &ResultsDir,
    jobs: usize,
    progress: &Progress,
    mut sink: impl FnMut(RunResult) -> Result<()>,
) -> Result<()> {
    // Cross-validation first, so that a fold's matrices and the group's are never held at once.
    let cv_runs: Vec<&Run> = group
        .runs
        .iter()
        .copied()
        .filter(|r| config.cross_validates(r).is_some())
        .collect();
    let cv = match cv_runs.first().and_then(|r| config.cross_validates(r)) {
        Some(selection) => cross_validate::<F>(&cv_runs, selection, group, mnist, dir, progress)?,
        None => HashMap::new(),
    };
    let data = prepare::<F>(
        mnist.images.view(),
        &mnist.labels,
        &group.indices,
        group.scaler,
        group.dtype,
        group.units,
    )
    .map_err(|e| Error::fit(&group.runs[0].id, e))?;
    let families = families(&group.runs, group.shared_fits);
    let next = AtomicUsize::new(0);
    // Set when the sweep is ending with an error: workers take no more families.
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<RunResult>>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, families.len()) {
            let tx = tx.clone();
            let (next, stop, data, families, cv) = (&next, &stop, &data, &families, &cv);
            scope.spawn(move || loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(family) = families.get(i) else { break };
                let longest = family.iter().max_by_key(|r| r.params.model.max_iter);
                let bar = longest.and_then(|run| progress.start(run, run.id.clone()));
                let observer = |iteration: u64, objective: f64| {
                    Progress::observe(bar.as_ref(), iteration, objective)
                };
                let context = Context {
                    indices: &group.indices,
                    config,
                    data_checksum: &mnist.checksum,
                    dir,
                    cv,
                };
                let results = execute_family(family, data, &context, &observer);
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
                for result in results {
                    let failed = result.is_err();
                    if tx.send(result).is_err() || failed {
                        // Stop taking work: the sweep is ending with an error.
                        stop.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            });
        }
        drop(tx);
        for result in rx {
            let result = result.and_then(&mut sink);
            if result.is_err() {
                stop.store(true, Ordering::SeqCst);
                return result;
            }
        }
        Ok(())
    })?;
    // Every run's record now holds its scores: the fold records have served their purpose.
    let ids: Vec<&str> = cv_runs.iter().map(|r| r.id.as_str()).collect();
    dir.remove_folds(&ids)
}
