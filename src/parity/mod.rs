//! The parity report: for every run of the given configs, the published number, the
//! scikit-learn rerun (`scripts/sklearn_reference.py`, in `<out>/<name>/sklearn/`) and this
//! harness (`<out>/<name>/`), side by side, with prediction agreement and test-index identity.
//! Writes `<out>/parity.md`, `<out>/parity.csv` and the index of every results folder,
//! `<out>/README.md`.
//!
//! May touch: `folder` (results files and inputs through one handle), `baselines` (the floors
//! the index lists), `config`, `digits`,
//! `error`, `files`, `manifest` (when the fits were made), `markdown`, `metrics`, `report` (the
//! reference run a folder names), `stats`, `store` (each results folder's handle: it reads the
//! folders and writes only the root's parity.md, parity.csv and README.md), `tables`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{Config, Published, Run};
use crate::digits::N_CLASSES;
use crate::error::{Error, Result};
use crate::files::csv_bytes;
use crate::stats::wilson;
use crate::store::{Prior, ResultsDir};
use crate::tables::{self, ClassRecord, MetricsRecord};

mod index;
mod markdown;
mod published;

pub use markdown::markdown;

use published::Predictions;

/// Accuracy gap (percentage points) allowed between two converged fits.
pub const CONVERGED_GAP_PP: f64 = 0.1;
/// Prediction agreement (%) required between two converged fits.
pub const CONVERGED_AGREEMENT_PCT: f64 = 99.0;
/// Gap (percentage points) allowed between the harness and a published number.
pub const PUBLISHED_GAP_PP: f64 = 1.0;
/// Same path as scikit-learn (the lbfgs target): identical test predictions (%) at least ...
pub const PATH_AGREEMENT_PCT: f64 = 99.95;
/// ... and the final objectives within this relative difference, with the same `n_iter`.
pub const PATH_OBJECTIVE_REL: f64 = 1e-8;
/// Gradient descent against the reference script's numpy descent: the objective after every
/// iteration within this relative difference.
pub const TRACE_OBJECTIVE_REL: f64 = 1e-9;

/// `index -> (label, predicted)` from a predictions.csv.
fn read_predictions(dir: &ResultsDir, path: &Path, hint: &str) -> Result<Predictions> {
    Ok(tables::read_predictions(dir, path, hint)?
        .into_iter()
        .map(|row| (row.index, (row.label, row.predicted)))
        .collect())
}

/// The test images' indices in test order.
fn read_test_order(dir: &ResultsDir, path: &Path, hint: &str) -> Result<Vec<usize>> {
    Ok(tables::read_predictions(dir, path, hint)?
        .into_iter()
        .map(|row| row.index)
        .collect())
}

/// One compared run.
#[derive(Debug, Clone, Serialize)]
pub struct ParityRow {
    pub config: String,
    pub run_id: String,
    pub published: Option<f64>,
    /// Decimals the published accuracy was printed with (none: printed in full).
    pub published_decimals: Option<u32>,
    pub sklearn_accuracy: f64,
    pub harness_accuracy: Option<f64>,
    /// Harness minus scikit-learn, in percentage points.
    pub diff_pp: Option<f64>,
    /// Percentage of test images with the same predicted label on both sides.
    pub agreement_pct: Option<f64>,
    /// Wilson 95 % intervals of the two accuracies.
    pub sklearn_low: Option<f64>,
    pub sklearn_high: Option<f64>,
    pub harness_low: Option<f64>,
    pub harness_high: Option<f64>,
    /// McNemar's exact test of harness against scikit-learn on the same test images.
    pub mcnemar_p: Option<f64>,
    /// The paired difference harness - scikit-learn with its 95 % interval (Newcombe), in pp.
    pub diff_low_pp: Option<f64>,
    pub diff_high_pp: Option<f64>,
    /// The config's equivalence margin, in pp, and whether two one-sided tests at 5 % put the
    /// difference inside it.
    pub margin_pp: f64,
    pub equivalent: Option<bool>,
    /// Whether the difference is inside the converged-run target (`CONVERGED_GAP_PP`) by the
    /// same two one-sided tests.
    pub within_converged_gap: Option<bool>,
    /// Mean cross-validation scores (`[selection]`), as GridSearchCV's `mean_test_score`.
    pub sklearn_cv_mean: Option<f64>,
    pub harness_cv_mean: Option<f64>,
    /// Their fold scores' population standard deviations.
    pub sklearn_cv_sd: Option<f64>,
    pub harness_cv_sd: Option<f64>,
    pub same_test_indices: Option<bool>,
    pub sklearn_converged: bool,
    pub harness_converged: bool,
    /// scikit-learn's objective (mean log-loss + penalty) at each side's returned weights.
    pub sklearn_objective: f64,
    pub harness_objective: f64,
    /// Largest gradient component at each side's returned weights (converged when <= tol).
    pub sklearn_grad_norm: f64,
    pub harness_grad_norm: f64,
    /// Iterations on each side (scikit-learn's `n_iter_`; one-vs-rest: the most any class took).
    pub sklearn_n_iter: Option<u64>,
    pub harness_n_iter: Option<u64>,
    /// Gradient descent runs: the two objective paths compared iteration by iteration (one CSV
    /// column: "harness points/scikit-learn points largest-relative-difference").
    #[serde(
        rename = "objective_path",
        serialize_with = "TraceComparison::serialize_cell"
    )]
    pub trace: Option<TraceComparison>,
    /// The two fits side by side where scikit-learn's script had the harness's model (see
    /// [`tables::MetricsRecord::weights_rel_distance`]).
    pub weights_rel_distance: Option<f64>,
    pub max_probability_difference: Option<f64>,
    pub objective_rel_gap: Option<f64>,
    pub harness_status: String,
    pub sklearn_seconds: f64,
    pub harness_seconds: f64,
    /// What was checked and whether it held.
    pub verdict: String,
    #[serde(skip)]
    pub binary: Vec<(f64, f64)>,
    /// The published numbers against both sides (Markdown), when the config has any.
    #[serde(skip)]
    pub published_section: Option<String>,
    /// The published numbers against the spread of this run and the runs that differ from it
    /// only in the solver's seed (on the first of them).
    #[serde(skip)]
    pub seed_spread: Option<String>,
}

/// Two objective paths, the start and every iteration, compared point by point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceComparison {
    /// Points on each side (scikit-learn's, the harness's).
    pub sklearn_points: usize,
    pub harness_points: usize,
    /// The largest |harness - scikit-learn| / |scikit-learn| over the points both have.
    pub largest_rel: f64,
}

impl TraceComparison {
    /// Compares the paths `sklearn` and `harness` (objectives at the start and after every
    /// iteration).
    pub fn new(sklearn: &[f64], harness: &[f64]) -> Self {
        let largest_rel = sklearn
            .iter()
            .zip(harness)
            .map(|(s, h)| (h - s).abs() / s.abs())
            .fold(0.0, f64::max);
        TraceComparison {
            sklearn_points: sklearn.len(),
            harness_points: harness.len(),
            largest_rel,
        }
    }

    /// One CSV cell, empty when there is no comparison: "41/41 3.1e-15".
    fn serialize_cell<S: serde::Serializer>(
        t: &Option<Self>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let cell = t.map(|t| {
            format!(
                "{}/{} {:.1e}",
                t.harness_points, t.sklearn_points, t.largest_rel
            )
        });
        s.serialize_str(cell.as_deref().unwrap_or(""))
    }

    /// The same number of points, each within [`TRACE_OBJECTIVE_REL`].
    pub fn holds(&self) -> bool {
        self.sklearn_points == self.harness_points && self.largest_rel <= TRACE_OBJECTIVE_REL
    }
}

fn verdict(row: &ParityRow) -> String {
    let Some(acc) = row.harness_accuracy else {
        return format!("missed: the harness fit {}", row.harness_status);
    };
    let mut parts = Vec::new();
    if row.same_test_indices == Some(false) {
        parts.push("missed: test indices differ".to_string());
    }
    match (
        row.sklearn_converged && row.harness_converged,
        row.diff_pp,
        row.agreement_pct,
    ) {
        (true, Some(diff), Some(agree)) => {
            // Judged on the interval: two one-sided tests must put the gap inside the target.
            let within = row.within_converged_gap == Some(true);
            let ok = within && agree >= CONVERGED_AGREEMENT_PCT;
            let interval = match (row.diff_low_pp, row.diff_high_pp) {
                (Some(l), Some(h)) => format!(" [{l:+.2}, {h:+.2}]"),
                _ => String::new(),
            };
            parts.push(format!(
                "{}: both converged, gap {diff:+.2} pp{interval} ({} within ±{CONVERGED_GAP_PP} pp by two one-sided tests), agreement {agree:.2} % (target {CONVERGED_AGREEMENT_PCT})",
                if ok { "met" } else { "missed" },
                if within { "shown" } else { "not shown" }
            ));
        }
        (true, _, _) => parts.push("both converged; no predictions to compare".into()),
        (false, _, _) => {
            let why = match (row.sklearn_converged, row.harness_converged) {
                (false, false) => "neither side converged",
                (false, true) => "scikit-learn did not converge",
                _ => "the harness did not converge",
            };
            parts.push(format!(
                "not a convergence comparison: {why} (different stopping points)"
            ));
        }
    }
    if let (Some(agree), Some(sk), Some(h)) =
        (row.agreement_pct, row.sklearn_n_iter, row.harness_n_iter)
    {
        let rel = objective_rel_diff(row);
        let ok = sk == h && agree >= PATH_AGREEMENT_PCT && rel <= PATH_OBJECTIVE_REL;
        parts.push(format!(
            "{}: same path, n_iter {h} against {sk}, identical predictions {agree:.2} % (target {PATH_AGREEMENT_PCT}), objective {rel:.1e} relative (target {PATH_OBJECTIVE_REL:.0e})",
            if ok { "met" } else { "missed" }
        ));
    }
    if let Some(t) = row.trace {
        parts.push(format!(
            "{}: objective after each iteration, {} points against {}, within {:.1e} relative (target {TRACE_OBJECTIVE_REL:.0e})",
            if t.holds() { "met" } else { "missed" },
            t.harness_points,
            t.sklearn_points,
            t.largest_rel
        ));
    }
    if let (Some(published), Some(decimals)) = (row.published, row.published_decimals) {
        // A rounded number is compared at its own precision: a gap in pp would be false
        // precision.
        let (ours, printed) = published::at_printed_precision(acc, published, decimals);
        parts.push(if ours == printed {
            format!("met: {ours} agrees with the published {printed} at its printed precision")
        } else {
            format!("missed: {ours} differs from the published {printed} at its printed precision")
        });
    } else if let Some(published) = row.published {
        let gap = (acc - published) * 100.0;
        parts.push(format!(
            "{}: {gap:+.2} pp from the published {published} (target {PUBLISHED_GAP_PP} pp)",
            if gap.abs() <= PUBLISHED_GAP_PP {
                "met"
            } else {
                "missed"
            }
        ));
    }
    parts.join("; ")
}

/// |harness - sklearn| / |sklearn| of the final objectives.
pub fn objective_rel_diff(row: &ParityRow) -> f64 {
    (row.harness_objective - row.sklearn_objective).abs() / row.sklearn_objective.abs()
}

/// Compares every run of every config; `out` is the results root.
pub fn compare(configs: &[Config], out: &Path) -> Result<Vec<ParityRow>> {
    let mut rows = Vec::new();
    for config in configs {
        let folder = Folder::read(config, out)?;
        // Both sides' predictions of each run that has them.
        let mut predictions = Vec::new();
        for run in &config.runs {
            let (row, both) = folder.compare(run)?;
            if let Some((sp, hp)) = both {
                predictions.push((run, sp, hp));
            }
            rows.push(row);
        }
        if let Some(published) = &config.published {
            add_seed_spreads(published, &predictions, &mut rows);
        }
    }
    Ok(rows)
}

/// One config's results folder as parity reads it: both sides' tables, read through its handle.
struct Folder<'a> {
    config: &'a Config,
    dir: PathBuf,
    results: ResultsDir,
    sweep_hint: String,
    sk_hint: String,
    harness: HashMap<String, MetricsRecord>,
    sklearn: HashMap<String, MetricsRecord>,
    /// Per (run, digit): the one-vs-rest binary accuracy.
    harness_binary: HashMap<(String, usize), f64>,
    sklearn_binary: HashMap<(String, usize), f64>,
}

impl<'a> Folder<'a> {
    fn read(config: &'a Config, out: &Path) -> Result<Self> {
        let dir = out.join(&config.name);
        let results = ResultsDir::new(dir.clone());
        let sweep_hint = format!(
            "run `cargo run --bin sweep -- {}` first",
            config.path.display()
        );
        let sk_hint = format!(
            "run `.venv/bin/python scripts/sklearn_reference.py {}` first",
            config.path.display()
        );
        let classes = |path: PathBuf, hint: &str| -> Result<HashMap<(String, usize), f64>> {
            Ok(tables::read::<ClassRecord>(&results, &path, hint)?
                .into_iter()
                .filter_map(|r| Some(((r.run_id, r.class), r.binary_accuracy?)))
                .collect())
        };
        Ok(Folder {
            config,
            harness: by_run_id(&results, dir.join("metrics.csv"), &sweep_hint)?,
            sklearn: by_run_id(&results, dir.join("sklearn/metrics.csv"), &sk_hint)?,
            harness_binary: classes(dir.join("per_class.csv"), &sweep_hint)?,
            sklearn_binary: classes(dir.join("sklearn/per_class.csv"), &sk_hint)?,
            dir,
            results,
            sweep_hint,
            sk_hint,
        })
    }

    /// A run's predictions on one side (`base`: the folder, or its `sklearn/`), if it has them.
    fn predictions(&self, base: &Path, run: &Run, hint: &str) -> Result<Option<Predictions>> {
        let path = base.join("runs").join(&run.id).join("predictions.csv");
        if self.results.kind(&path).is_some() {
            read_predictions(&self.results, &path, hint).map(Some)
        } else {
            Ok(None)
        }
    }

    /// scikit-learn's objective path (`;`-separated) against the harness's trace in the run's
    /// record.
    fn trace(&self, run: &Run, sklearn: &str) -> Result<TraceComparison> {
        let path = self.dir.join("sklearn/metrics.csv");
        let sk: Vec<f64> = sklearn
            .split(';')
            .map(|v| v.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Data {
                file: path.clone(),
                message: format!("run {}: objective_path holds {e}: {}", run.id, self.sk_hint),
            })?;
        let record = match self.results.prior_on(run, self.config, None) {
            Prior::Finished(record) => record,
            Prior::Missing => {
                return Err(Error::Data {
                    file: self.results.record_json(&run.id),
                    message: format!("run {} has no record: {}", run.id, self.sweep_hint),
                })
            }
            Prior::Stale(why) => {
                return Err(Error::Data {
                    file: self.results.record_json(&run.id),
                    message: format!("{why}: {}", self.sweep_hint),
                })
            }
        };
        let harness: Vec<f64> = record
            .diagnostics
            .trace
            .iter()
            .map(|t| t.objective)
            .collect();
        Ok(TraceComparison::new(&sk, &harness))
    }

    /// A run's parity row, and both sides' predictions (scikit-learn's, the harness's) where it
    /// has them.
    #[allow(clippy::type_complexity)]
    fn compare(&self, run: &Run) -> Result<(ParityRow, Option<(Predictions, Predictions)>)> {
        let missing = |side: &str, hint: &str| Error::Data {
            file: self.dir.clone(),
            message: format!("run {} has no {side} result: {hint}", run.id),
        };
        let h = self
            .harness
            .get(&run.id)
            .ok_or_else(|| missing("harness", &self.sweep_hint))?;
        let s = self
            .sklearn
            .get(&run.id)
            .ok_or_else(|| missing("scikit-learn", &self.sk_hint))?;
        let hp = self.predictions(&self.dir, run, &self.sweep_hint)?;
        let sp = self.predictions(&self.dir.join("sklearn"), run, &self.sk_hint)?;
        let binary = (0..N_CLASSES)
            .filter_map(|k| {
                let key = (run.id.clone(), k);
                Some((
                    *self.sklearn_binary.get(&key)?,
                    *self.harness_binary.get(&key)?,
                ))
            })
            .collect();
        let mut row = parity_row(self.config, run, s, h, &hp, &sp, binary);
        if let Some(path) = &s.objective_path {
            row.trace = Some(self.trace(run, path)?);
        }
        row.verdict = verdict(&row);
        if let (Some(p), Some(hp), Some(sp)) = (&self.config.published, &hp, &sp) {
            let order = read_test_order(
                &self.results,
                &self.dir.join("runs").join(&run.id).join("predictions.csv"),
                &self.sweep_hint,
            )?;
            row.published_section = Some(published::section(
                p,
                sp,
                hp,
                &order,
                &row.binary,
                self.config.output.equivalence_margin,
            ));
        }
        Ok((row, sp.zip(hp)))
    }
}

/// A metrics table by run id; a score that no fit can have is a damaged table, never a number
/// to compare.
fn by_run_id(
    results: &ResultsDir,
    path: PathBuf,
    hint: &str,
) -> Result<HashMap<String, MetricsRecord>> {
    let rows = tables::read::<MetricsRecord>(results, &path, hint)?;
    let impossible = |v: Option<f64>| v.is_some_and(|v| !(0.0..=1.0).contains(&v));
    if let Some(r) = rows
        .iter()
        .find(|r| impossible(r.accuracy) || r.cv_mean.is_some_and(f64::is_infinite))
    {
        return Err(Error::Data {
            file: path.clone(),
            message: format!(
                "run {}: accuracy {:?} / CV mean {:?} is not a possible score: {hint}",
                r.run_id, r.accuracy, r.cv_mean
            ),
        });
    }
    Ok(rows.into_iter().map(|r| (r.run_id.clone(), r)).collect())
}

/// One run's comparison: both sides' records (`s`, `h`) and predictions (`sp`, `hp`, where the
/// run has them), and the per-digit binary accuracies (scikit-learn, harness).
fn parity_row(
    config: &Config,
    run: &Run,
    s: &MetricsRecord,
    h: &MetricsRecord,
    hp: &Option<Predictions>,
    sp: &Option<Predictions>,
    binary: Vec<(f64, f64)>,
) -> ParityRow {
    let (harness_accuracy, sklearn_accuracy) = (h.accuracy, s.accuracy.unwrap_or(f64::NAN));
    let (agreement_pct, same_test_indices) = match (hp, sp) {
        (Some(hp), Some(sp)) => {
            let same = hp.keys().collect::<BTreeSet<_>>() == sp.keys().collect::<BTreeSet<_>>();
            let agree = hp
                .iter()
                .filter(|(i, p)| sp.get(i).map(|q| q.1) == Some(p.1))
                .count();
            (
                Some(100.0 * agree as f64 / sp.len().max(1) as f64),
                Some(same),
            )
        }
        _ => (None, None),
    };
    // From the predictions where the run kept them, else from the accuracy and the count.
    let interval = |p: &Option<Predictions>, m: &MetricsRecord| match p {
        Some(p) => {
            let right = p.values().filter(|(l, q)| l == q).count();
            Some(wilson(right as u64, p.len() as u64))
        }
        None => {
            let (accuracy, n) = (m.accuracy?, m.n_test?);
            Some(wilson((accuracy * n as f64).round() as u64, n))
        }
    };
    let (si, hi) = (interval(sp, s), interval(hp, h));
    let paired = match (hp, sp) {
        (Some(hp), Some(sp)) if same_test_indices == Some(true) => Some(published::mcnemar(hp, sp)),
        _ => None,
    };
    let margin = config.output.equivalence_margin;
    let difference = paired.map(|t| t.difference_95());
    ParityRow {
        config: config.name.clone(),
        run_id: run.id.clone(),
        published: config.published.as_ref().and_then(|p| p.accuracy),
        published_decimals: config.published.as_ref().and_then(|p| p.accuracy_decimals),
        sklearn_accuracy,
        harness_accuracy,
        diff_pp: harness_accuracy.map(|a| (a - sklearn_accuracy) * 100.0),
        agreement_pct,
        sklearn_low: si.map(|i| i.low),
        sklearn_high: si.map(|i| i.high),
        harness_low: hi.map(|i| i.low),
        harness_high: hi.map(|i| i.high),
        mcnemar_p: paired.map(|t| t.p_value),
        diff_low_pp: difference.map(|i| 100.0 * i.low),
        diff_high_pp: difference.map(|i| 100.0 * i.high),
        margin_pp: 100.0 * margin,
        equivalent: paired.map(|t| t.equivalent(margin)),
        within_converged_gap: paired.map(|t| t.equivalent(CONVERGED_GAP_PP / 100.0)),
        sklearn_cv_mean: s.cv_mean,
        harness_cv_mean: h.cv_mean,
        sklearn_cv_sd: s.cv_sd,
        harness_cv_sd: h.cv_sd,
        same_test_indices,
        sklearn_converged: s.converged,
        harness_converged: h.converged,
        sklearn_objective: s.objective,
        harness_objective: h.objective,
        sklearn_grad_norm: s.grad_norm,
        harness_grad_norm: h.grad_norm,
        sklearn_n_iter: s.n_iter,
        harness_n_iter: h.n_iter,
        trace: None,
        weights_rel_distance: s.weights_rel_distance,
        max_probability_difference: s.max_probability_difference,
        objective_rel_gap: s.objective_rel_gap,
        harness_status: h.status.clone(),
        sklearn_seconds: s.fit_seconds,
        harness_seconds: h.fit_seconds,
        verdict: String::new(),
        binary,
        published_section: None,
        seed_spread: None,
    }
}

/// For each set of runs of a stochastic solver that differ only in its seed, the published
/// numbers against their spread, on the set's first row.
fn add_seed_spreads(
    published: &Published,
    predictions: &[(&Run, Predictions, Predictions)],
    rows: &mut [ParityRow],
) {
    let unseeded = |run: &Run| {
        let mut params = run.params.clone();
        params.model.random_state = None;
        params
    };
    let stochastic: Vec<&(&Run, Predictions, Predictions)> = predictions
        .iter()
        .filter(|(run, _, _)| run.params.model.solver.is_stochastic())
        .collect();
    for set in crate::stats::group_in_order(&stochastic, |(run, _, _)| unseeded(run)) {
        if set.len() < 2 {
            continue;
        }
        let seeded: Vec<published::Seeded> = set
            .iter()
            .map(|(run, sp, hp)| published::Seeded {
                seed: run.params.model.random_state.unwrap_or(0),
                sklearn: sp,
                harness: hp,
            })
            .collect();
        let first = &set[0].0.id;
        let solver = set[0].0.params.model.solver.as_str();
        let setting = unseeded(set[0].0).describe();
        if let Some(row) = rows.iter_mut().rev().find(|r| &r.run_id == first) {
            row.seed_spread = Some(published::seed_spread(published, &setting, solver, &seeded));
        }
    }
}

/// Compares and writes `<out>/parity.md` and `<out>/parity.csv`.
pub fn run(configs: &[Config], out: &Path) -> Result<Vec<ParityRow>> {
    let rows = compare(configs, out)?;
    // The results root is a results folder too: written through its handle.
    let root = crate::store::ResultsDir::new(out.to_path_buf());
    let csv_path = out.join("parity.csv");
    root.write(&csv_path, &csv_bytes(&csv_path, &rows)?)?;
    root.write(&out.join("parity.md"), markdown(configs, &rows).as_bytes())?;
    let index = index::markdown(configs, &rows, out);
    root.write(&out.join("README.md"), index.as_bytes())?;
    Ok(rows)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A row on 14,000 test images where the harness gets `140 diff` more images right (`diff`
    /// pp), with 20 images going the other way.
    pub(crate) fn row(sk_conv: bool, h_conv: bool, diff: f64, agree: f64) -> ParityRow {
        let extra = (140.0 * diff).round() as u64;
        let test = crate::stats::McNemar::from_table(12_800, 20 + extra, 20, 1_160 - extra);
        let interval = test.difference_95();
        ParityRow {
            config: "c".into(),
            run_id: "r".into(),
            published: Some(0.9172),
            published_decimals: None,
            sklearn_accuracy: 0.9172,
            harness_accuracy: Some(0.9172 + diff / 100.0),
            diff_pp: Some(diff),
            agreement_pct: Some(agree),
            same_test_indices: Some(true),
            sklearn_converged: sk_conv,
            harness_converged: h_conv,
            sklearn_objective: 0.3,
            harness_objective: 0.3,
            sklearn_grad_norm: 1e-3,
            harness_grad_norm: 1e-3,
            sklearn_n_iter: None,
            harness_n_iter: None,
            trace: None,
            weights_rel_distance: None,
            max_probability_difference: None,
            objective_rel_gap: None,
            harness_status: "ok".into(),
            sklearn_seconds: 1.0,
            harness_seconds: 1.0,
            verdict: String::new(),
            binary: vec![],
            sklearn_low: None,
            sklearn_high: None,
            harness_low: None,
            harness_high: None,
            mcnemar_p: Some(test.p_value),
            diff_low_pp: Some(100.0 * interval.low),
            diff_high_pp: Some(100.0 * interval.high),
            margin_pp: 0.2,
            equivalent: Some(test.equivalent(0.002)),
            within_converged_gap: Some(test.equivalent(CONVERGED_GAP_PP / 100.0)),
            sklearn_cv_mean: None,
            harness_cv_mean: None,
            sklearn_cv_sd: None,
            harness_cv_sd: None,
            published_section: None,
            seed_spread: None,
        }
    }

    #[test]
    fn converged_runs_are_held_to_the_tight_targets() {
        assert!(verdict(&row(true, true, 0.0, 99.5)).starts_with("met: both converged"));
        assert!(verdict(&row(true, true, 0.2, 99.5)).starts_with("missed: both converged"));
        assert!(verdict(&row(true, true, 0.0, 98.0)).starts_with("missed: both converged"));
        // A gap inside the target whose interval is not: judged on the interval, missed.
        let close = row(true, true, 0.08, 99.5);
        assert!(close.diff_high_pp.unwrap() > CONVERGED_GAP_PP);
        assert!(
            verdict(&close).starts_with("missed: both converged"),
            "{}",
            verdict(&close)
        );
    }

    /// Gradient descent paths are held to 1e-9 relative at every point, and to the same length.
    #[test]
    fn objective_paths_are_compared_point_by_point() {
        let sk = [2.3, 1.0, 0.5];
        let same = TraceComparison::new(&sk, &[2.3, 1.0 + 1e-12, 0.5]);
        assert!(same.holds());
        assert!((same.largest_rel - 1e-12).abs() < 1e-15);
        let apart = TraceComparison::new(&sk, &[2.3, 1.0, 0.5 + 1e-6]);
        assert!(!apart.holds());
        assert!((apart.largest_rel - 2e-6).abs() < 1e-12);
        let shorter = TraceComparison::new(&sk, &[2.3, 1.0]);
        assert!(
            !shorter.holds(),
            "a path that stops early is not the same path"
        );
        let mut r = row(false, false, 0.0, 100.0);
        r.trace = Some(same);
        assert!(
            verdict(&r).contains("met: objective after each iteration, 3 points against 3"),
            "{}",
            verdict(&r)
        );
        r.trace = Some(shorter);
        assert!(verdict(&r).contains("missed: objective after each iteration, 2 points against 3"));
    }

    /// A published number printed to 2 decimals is compared at 2 decimals, not as a gap in pp.
    #[test]
    fn rounded_published_numbers_are_compared_at_their_precision() {
        let mut r = row(false, false, 0.0, 100.0);
        r.published = Some(0.92);
        r.published_decimals = Some(2);
        r.harness_accuracy = Some(0.9211);
        assert!(
            verdict(&r)
                .contains("met: 0.92 agrees with the published 0.92 at its printed precision"),
            "{}",
            verdict(&r)
        );
        r.harness_accuracy = Some(0.9149);
        assert!(verdict(&r).contains("missed: 0.91 differs from the published 0.92"));
        assert!(!verdict(&r).contains(" pp from the published"));
    }

    #[test]
    fn unconverged_runs_are_not_passed_off_as_convergence_comparisons() {
        let v = verdict(&row(false, true, 0.0, 100.0));
        assert!(
            v.starts_with("not a convergence comparison: scikit-learn did not converge"),
            "{v}"
        );
        assert!(v.contains("met: +0.00 pp from the published 0.9172"), "{v}");
        let v = verdict(&row(false, false, 1.5, 90.0));
        assert!(
            v.contains("neither side converged") && v.contains("missed: +1.50 pp"),
            "{v}"
        );
    }

    #[test]
    fn failed_fits_and_differing_indices_are_misses() {
        let mut r = row(true, true, 0.0, 100.0);
        r.same_test_indices = Some(false);
        assert!(verdict(&r).starts_with("missed: test indices differ"));
        let mut r = row(true, true, 0.0, 100.0);
        r.harness_accuracy = None;
        r.harness_status = "failed".into();
        assert_eq!(verdict(&r), "missed: the harness fit failed");
    }
}
