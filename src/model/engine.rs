//! The linfa-logistic adapter: scikit-learn's hyperparameters set on linfa's builders (`alpha`
//! from `C`, the gradient tolerance from `tol`) or on the vendored SAG/SAGA (`alpha` and `beta`
//! from `C` and `l1_ratio`, the sample order's seed from `random_state`), one fit kept as it
//! stood after several iteration counts, one-vs-rest as ten parallel binary fits, and the
//! engine's fit report in this crate's terms.
//!
//! May touch: `digits`, `split` (sag's seed), `model::{params, linear}`.

use linfa::prelude::*;
use linfa_logistic::{
    identity, FitReport, Float, LogisticRegressionParams, LogisticRegressionValidParams,
    MultiFittedLogisticRegression, SagParams, ScaledBytes, Termination,
};
use ndarray::{Array1, Array2, ArrayView1, Dimension, Ix1, Ix2};
use rayon::prelude::*;

use super::linear::LinearModel;
use super::params::{linfa_alpha, linfa_max_gradient_tolerance, ModelParams, MultiClass, Solver};
use crate::digits::N_CLASSES;

/// linfa rejected a fit (its parameter check or the fit itself); the message is linfa's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EngineError(pub String);

impl From<linfa_logistic::error::Error> for EngineError {
    fn from(e: linfa_logistic::error::Error) -> Self {
        EngineError(e.to_string())
    }
}

/// The engine that fits runs with these parameters (a record of another engine is refitted):
/// the engine's own identity for the solver's family; `folded` when the scaler has offsets,
/// which the L-BFGS evaluation folds into the weights.
pub fn engine_for(params: &ModelParams, folded: bool) -> &'static str {
    match params.solver {
        Solver::Lbfgs if folded => identity::LBFGS_FOLDED,
        Solver::Lbfgs => identity::LBFGS,
        Solver::Sag | Solver::Saga => identity::SAG,
        Solver::Gd => identity::GD,
    }
}

/// What linfa-logistic's fit report says, in the fit's units (summed objective).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineReport {
    pub n_iter: u64,
    pub termination: String,
    pub converged: bool,
    pub evaluations: u64,
    /// The summed objective, the largest gradient component (in the fit's units) and the passes
    /// made, per iteration.
    pub trace: Vec<TracePoint>,
}

impl EngineReport {
    fn from_linfa<F: Float>(report: Option<&FitReport<F>>) -> Self {
        let Some(report) = report else {
            return EngineReport {
                n_iter: 0,
                termination: "no report".into(),
                converged: false,
                evaluations: 0,
                trace: Vec::new(),
            };
        };
        // scipy's words for L-BFGS-B's stops, shortened; sag's rule is its convergence; gd's
        // non-finite objective is "diverged".
        let termination = match report.termination {
            Termination::GradientTolerance | Termination::WeightChangeTolerance => "converged",
            Termination::RelativeReduction => "rel_reduction",
            Termination::MaxIterations => "max_iter",
            Termination::MaxEvaluations => "max_fun",
            Termination::LineSearchFailed => "abnormal_line_search",
            Termination::Diverged => "diverged",
        };
        EngineReport {
            n_iter: report.iterations,
            termination: termination.into(),
            converged: report.termination.converged(),
            evaluations: report.evaluations,
            trace: report
                .trace
                .iter()
                .map(|r| TracePoint {
                    objective: r.objective.as_f64(),
                    grad_max: r.gradient_max.as_f64(),
                    evaluations: Some(r.evaluations),
                })
                .collect(),
        }
    }

    /// One report for the ten one-vs-rest fits.
    fn combine(reports: Vec<EngineReport>) -> Self {
        let len = reports.iter().map(|r| r.trace.len()).max().unwrap_or(0);
        let trace = (0..len)
            .map(|i| {
                let start = TracePoint {
                    objective: 0.0,
                    grad_max: 0.0,
                    evaluations: Some(0),
                };
                reports.iter().fold(start, |sum, r| {
                    // A class that stopped earlier stays where it stopped.
                    let Some(p) = r.trace.get(i).or(r.trace.last()) else {
                        return sum;
                    };
                    TracePoint {
                        objective: sum.objective + p.objective,
                        grad_max: sum.grad_max.max(p.grad_max),
                        evaluations: sum.evaluations.zip(p.evaluations).map(|(a, b)| a + b),
                    }
                })
            })
            .collect();
        EngineReport {
            n_iter: reports.iter().map(|r| r.n_iter).max().unwrap_or(0),
            termination: reports
                .iter()
                .find(|r| !r.converged)
                .unwrap_or(&reports[0])
                .termination
                .clone(),
            converged: reports.iter().all(|r| r.converged),
            evaluations: reports.iter().map(|r| r.evaluations).sum(),
            trace,
        }
    }
}

/// One iteration of a fit: in the engine's report the summed objective and the gradient in the
/// fit's units, in [`super::Diagnostics`] scikit-learn's terms.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TracePoint {
    pub objective: f64,
    pub grad_max: f64,
    /// Passes over the training data made when the fit reached this point (the start's
    /// included; one-vs-rest: summed over the classes); absent in records written before the
    /// engine counted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<u64>,
}

/// Called after every iteration of a fit with the number of iterations done and the objective
/// (the fit's summed objective; [`crate::model::fit`] passes on scikit-learn's mean), from several threads at
/// once for one-vs-rest; for progress displays.
pub type Observer<'a> = &'a (dyn Fn(u64, f64) + Sync);

/// A fitted model in the fit's units: weights (features x classes, or one column), intercepts,
/// and the engine's report.
type Fitted<W, B> = (W, B, EngineReport);
/// The models a fit keeps, one per iteration count asked for.
type Snapshots<W, B> = Result<Vec<Fitted<W, B>>, EngineError>;

/// Sets scikit-learn's hyperparameters on a linfa-logistic builder (binary or multinomial),
/// L-BFGS-B or, for solver "gd", gradient descent, and checks them.
fn lbfgs<F: Float, D: Dimension>(
    alpha: f64,
    max_gradient_tolerance: f64,
    params: &ModelParams,
    at: &[u64],
) -> Result<LogisticRegressionValidParams<F, D>, EngineError> {
    let builder = LogisticRegressionParams::<F, D>::default()
        .alpha(F::cast(alpha))
        .max_gradient_tolerance(F::cast(max_gradient_tolerance))
        .max_iterations(params.max_iter)
        .with_intercept(params.fit_intercept)
        .snapshot_iterations(at.to_vec());
    let builder = match params.solver {
        Solver::Gd => builder.gradient_descent(F::cast(params.learning_rate)),
        _ => builder,
    };
    Ok(builder.check()?)
}

/// The snapshots of a multinomial model in f64, each with its report.
fn multinomial_snapshots<F: Float, C: PartialOrd + Clone>(
    fitted: &MultiFittedLogisticRegression<F, C>,
) -> Vec<Fitted<Array2<f64>, Array1<f64>>> {
    fitted
        .snapshots()
        .iter()
        .map(|m| {
            (
                m.params().mapv(F::as_f64),
                m.intercept().mapv(F::as_f64),
                EngineReport::from_linfa(m.report()),
            )
        })
        .collect()
}

/// Fits a softmax model with `params.max_iter` iterations and returns it as it stood after each
/// count in `at` (what a fit with that `max_iter` returns), in the order of `at`.
fn fit_multinomial<F: Float>(
    x: &ScaledBytes<F>,
    y: ArrayView1<usize>,
    alpha: f64,
    max_gradient_tolerance: f64,
    params: &ModelParams,
    at: &[u64],
    observer: Observer,
) -> Snapshots<Array2<f64>, Array1<f64>> {
    let fitted = lbfgs::<F, Ix2>(alpha, max_gradient_tolerance, params, at)?
        .fit_with_observer(&DatasetBase::new(x, y), &mut |r| {
            observer(r.iteration, r.objective.as_f64())
        })?;
    Ok(multinomial_snapshots(&fitted))
}

/// Fits a binary model of `y` (true = positive class), as `fit_multinomial`; the decision value
/// of each returned model is positive for `true`.
fn fit_binary<F: Float>(
    x: &ScaledBytes<F>,
    y: ArrayView1<bool>,
    alpha: f64,
    max_gradient_tolerance: f64,
    params: &ModelParams,
    at: &[u64],
    observer: Observer,
) -> Snapshots<Array1<f64>, f64> {
    let fitted = lbfgs::<F, Ix1>(alpha, max_gradient_tolerance, params, at)?
        .fit_with_observer(&DatasetBase::new(x, y), &mut |r| {
            observer(r.iteration, r.objective.as_f64())
        })?;
    // linfa's positive label is the more frequent class (linfa issue 393): for a one-vs-rest
    // problem that is usually "rest", so flip the sign when it is.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    Ok(fitted
        .snapshots()
        .iter()
        .map(|m| {
            (
                m.params().mapv(|v| sign * v.as_f64()),
                sign * m.intercept().as_f64(),
                EngineReport::from_linfa(m.report()),
            )
        })
        .collect())
}

/// One linfa fit on features divided by `x.divisor()`, returned in feature units with the
/// engine's report, as it stood after each iteration count in `at`.
pub(super) fn fit_once<F: Float>(
    x: &ScaledBytes<F>,
    y: &[u8],
    params: &ModelParams,
    at: &[u64],
    observer: Observer,
) -> Result<Vec<(LinearModel, EngineReport)>, EngineError> {
    let scale = x.divisor().as_f64();
    let alpha = linfa_alpha(params.c, scale);
    let tol = linfa_max_gradient_tolerance(params.tol, scale);
    let models = match (params.solver, params.multi_class) {
        (Solver::Sag | Solver::Saga, _) => fit_sag(x, y, scale, params, at, observer)?,
        (Solver::Lbfgs | Solver::Gd, MultiClass::Multinomial) => {
            let labels: Array1<usize> = y.iter().map(|&c| c as usize).collect();
            fit_multinomial(x, labels.view(), alpha, tol, params, at, observer)?
        }
        (Solver::Lbfgs | Solver::Gd, MultiClass::Ovr) => {
            let classes = fit_binary_parallel(x, y, alpha, tol, params, at, observer)
                .into_iter()
                .collect::<Result<Vec<_>, EngineError>>()?;
            // Per count: the ten classes' models side by side.
            (0..at.len())
                .map(|i| {
                    let mut weights = Array2::zeros((x.bytes().ncols(), N_CLASSES));
                    let mut intercept = Array1::zeros(N_CLASSES);
                    let mut reports = Vec::with_capacity(N_CLASSES);
                    for (class, snapshots) in classes.iter().enumerate() {
                        let (w, b, report) = &snapshots[i];
                        weights.column_mut(class).assign(w);
                        intercept[class] = *b;
                        reports.push(report.clone());
                    }
                    (weights, intercept, EngineReport::combine(reports))
                })
                .collect()
        }
    };
    Ok(models
        .into_iter()
        .map(|(weights, intercept, report)| {
            let model = LinearModel {
                multi_class: params.multi_class,
                weights: weights / scale,
                intercept,
            };
            (model, report)
        })
        .collect())
}

/// A sag or saga fit (multinomial; `ModelParams::check` refuses the rest) on features divided by
/// `scale`, as it stood after each epoch count in `at`. scikit-learn's penalty `(1 - l1_ratio) /
/// (2C) ||W||² + l1_ratio / C ||W||_1` in the fit's units: the l2 part as [`linfa_alpha`], the l1
/// part divided by `scale` once. The stopping rule is relative, so `tol` is unchanged.
fn fit_sag<F: Float>(
    x: &ScaledBytes<F>,
    y: &[u8],
    scale: f64,
    params: &ModelParams,
    at: &[u64],
    observer: Observer,
) -> Snapshots<Array2<f64>, Array1<f64>> {
    let solver = match params.solver {
        Solver::Saga => SagParams::<F>::saga(),
        _ => SagParams::<F>::sag(),
    };
    let fitted = solver
        // scikit-learn's products, (1 / C) (1 - l1_ratio) and (1 / C) l1_ratio, to the bit.
        .alpha(F::cast(
            linfa_alpha(params.c, scale) * (1.0 - params.l1_ratio),
        ))
        .l1_penalty(F::cast(1.0 / (params.c * scale) * params.l1_ratio))
        .tol(F::cast(params.tol))
        .max_epochs(params.max_iter)
        .seed(crate::split::sag_seed(params.random_state.unwrap_or(0)))
        .with_intercept(params.fit_intercept)
        .snapshot_epochs(at.to_vec())
        .check()?
        // sag computes no objective on the way: progress sees epochs only.
        .fit_with_observer(
            &DatasetBase::new(x, ndarray::ArrayView1::from(y)),
            &mut |r| observer(r.iteration, f64::NAN),
        )?;
    // No objective on the way: the trace is empty, an evaluation is an epoch's pass.
    Ok(multinomial_snapshots(&fitted))
}

/// Fits the ten one-vs-rest binary problems, on rayon's pool: each fit is parallel inside too
/// (blocks of rows), and every result is independent of the thread count.
fn fit_binary_parallel<F: Float>(
    x: &ScaledBytes<F>,
    y: &[u8],
    alpha: f64,
    tol: f64,
    params: &ModelParams,
    at: &[u64],
    observer: Observer,
) -> Vec<Snapshots<Array1<f64>, f64>> {
    (0..N_CLASSES)
        .into_par_iter()
        .map(|class| {
            let target: Array1<bool> = y.iter().map(|&c| c as usize == class).collect();
            fit_binary(x, target.view(), alpha, tol, params, at, observer)
        })
        .collect()
}
