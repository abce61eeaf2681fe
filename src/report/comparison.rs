//! Which runs may be compared, and with what: runs are compared only when scored on the same
//! test images (McNemar's exact test on them, Wilson intervals around each accuracy); within a
//! split, one run is the reference the others are measured against: the one chosen by
//! cross-validation (`[selection]`), else the config's base run, else the first. No run is ever
//! chosen by its test score.
//!
//! May touch: `config`, `stats`, `store`.

use crate::config::{Config, Scoring, SelectionRule};
use crate::stats::{
    choose, first_max, group_in_order, standard_error, within_one_se, McNemar, Scored,
};
use crate::store::RunResult;

/// Finished runs scored on the same test images, in config order.
pub struct TestGroup<'a> {
    /// The test set's id ([`crate::store::TestSet::id`]).
    pub id: &'a str,
    pub n_test: usize,
    pub runs: Vec<&'a RunResult>,
    /// The run the others are compared with.
    pub reference: &'a RunResult,
    /// Why the reference is the reference.
    pub reference_role: Role,
}

/// How a run came to be a group's reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Highest mean cross-validation score among the runs on its split.
    SelectedByCv,
    /// The configuration the config's base sections describe.
    Base,
    /// The first run of the group, in config order.
    First,
}

/// The runs with metrics, grouped by test set, groups in config order of their first run.
pub fn test_groups<'a>(config: &Config, results: &'a [RunResult]) -> Vec<TestGroup<'a>> {
    let with_metrics = results.iter().filter(|r| r.metrics.is_some());
    group_in_order(with_metrics, |r| r.test_set.id.clone())
        .into_iter()
        .map(|runs| {
            let (reference, reference_role) = reference(config, &runs);
            TestGroup {
                id: &runs[0].test_set.id,
                n_test: runs[0].n_test,
                runs,
                reference,
                reference_role,
            }
        })
        .collect()
}

/// The reference among runs sharing a test set: the CV-selected run of the split with the most
/// runs that has one, else the base run, else the first.
fn reference<'a>(config: &Config, runs: &[&'a RunResult]) -> (&'a RunResult, Role) {
    let mut selected: Vec<(usize, &RunResult)> = Vec::new();
    for split in split_groups(runs) {
        if let Some(chosen) = selected_by_cv(&split, config.selection_rule) {
            selected.push((split.len(), chosen));
        }
    }
    // The split with the most runs; ties: the first in config order.
    if let Some(chosen) = first_max(selected.iter().map(|&(n, r)| (r, n as f64))) {
        return (chosen, Role::SelectedByCv);
    }
    if let Some(base) = config
        .base_run
        .as_ref()
        .and_then(|id| runs.iter().find(|r| &r.run.id == id))
    {
        return (base, Role::Base);
    }
    (runs[0], Role::First)
}

/// Runs grouped by split (same training and test images), in order.
pub fn split_groups<'a>(runs: &[&'a RunResult]) -> Vec<Vec<&'a RunResult>> {
    let mut groups: Vec<Vec<&RunResult>> = Vec::new();
    for &r in runs {
        match groups
            .iter_mut()
            .find(|g| g[0].run.params.split == r.run.params.split)
        {
            Some(group) => group.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

/// The run `[selection]` chose among runs on one split, if at least two have scores (see
/// [`crate::stats::choose`]); a failed fold (NaN) rules a setting out.
pub fn selected_by_cv<'a>(split: &[&'a RunResult], rule: SelectionRule) -> Option<&'a RunResult> {
    choose(&scored(split), rule == SelectionRule::OneSe)
}

/// The runs on one split whose CV mean is within one standard error of the best.
pub fn within_one_se_of_best<'a>(split: &[&'a RunResult]) -> Vec<&'a RunResult> {
    within_one_se(&scored(split))
}

/// The runs of a split with finite CV scores, as [`crate::stats::choose`] takes them.
fn scored<'a>(split: &[&'a RunResult]) -> Vec<Scored<&'a RunResult>> {
    split
        .iter()
        .filter_map(|r| {
            let cv = r.cv.as_ref()?;
            let (mean, sd) = cv.mean_sd();
            let model = &r.run.params.model;
            mean.is_finite().then(|| Scored {
                item: *r,
                mean,
                standard_error: standard_error(sd, cv.scores.len()),
                simplicity: (model.c, model.max_iter),
            })
        })
        .collect()
}

/// Whether `r` is the one cross-validation chose among the runs on its split.
pub fn is_selected(r: &RunResult, runs: &[&RunResult], rule: SelectionRule) -> bool {
    split_groups(runs)
        .iter()
        .filter_map(|split| selected_by_cv(split, rule))
        .any(|chosen| chosen.run.id == r.run.id)
}

/// McNemar's test of `a` against `b`, if both were scored on the same test images.
pub fn paired(a: &RunResult, b: &RunResult) -> Option<McNemar> {
    let (ma, mb) = (a.metrics.as_ref()?, b.metrics.as_ref()?);
    if a.test_set.id != b.test_set.id || a.test_set.id.is_empty() {
        return None;
    }
    let labels = &a.test_set.labels;
    Some(McNemar::test(&ma.right(labels), &mb.right(labels)))
}

/// How a scoring's CV mean and spread are written: accuracy in percent, log-loss as is.
pub fn cv_text(r: &RunResult) -> Option<String> {
    let cv = r.cv.as_ref()?;
    let (mean, sd) = cv.mean_sd();
    let failed = cv.scores.iter().filter(|s| s.is_nan()).count();
    Some(if failed > 0 {
        format!(
            "not scored: {failed} of {} fold fits failed",
            cv.scores.len()
        )
    } else {
        match cv.selection.scoring {
            Scoring::Accuracy => format!("{:.2} ± {:.2}", 100.0 * mean, 100.0 * sd),
            // As scikit-learn's neg_log_loss, which the column names: minus the log-loss.
            Scoring::NegLogLoss => format!("{mean:.4} ± {sd:.4}"),
        }
    })
}
/// How a test group's reference run was chosen, in words.
pub(super) fn role_text(config: &Config, role: Role) -> String {
    match (role, &config.selection) {
        (Role::SelectedByCv, Some(sel)) => format!("selected by {}-fold CV", sel.cv),
        (Role::SelectedByCv, None) => "selected by CV".into(),
        (Role::Base, _) => "reference: the base configuration".into(),
        (Role::First, _) => "reference: the first run".into(),
    }
}
