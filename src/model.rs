//! Fitting linfa-logistic with scikit-learn's semantics, and checking every fit.
//!
//! scikit-learn minimises `mean(log_loss) + ||W||^2 / (2 C n)`; linfa-logistic minimises
//! `sum(log_loss) + alpha/2 ||W||^2`, which is `n` times the same objective when `alpha = 1/C`.
//! The patched linfa-logistic (`vendor/linfa-logistic`) stops on scikit-learn's rule (the largest
//! component of the mean objective's gradient at most `tol`) and reports iterations, the reason
//! it stopped, evaluation counts and a per-iteration trace.
//!
//! f64 fits run on the features as given, in scikit-learn's own coordinates. f32 fits run on
//! `x / s` with `alpha / s^2` (`s` brings the features to [-1, 1]): an objective-equivalent
//! problem whose optimum is `s` times the original weights; on raw pixels in f32 without it the
//! fit ends far from the optimum (measured: objective 1.97 against 0.229 after 100 iterations).
//! Weights are always reported in the original units. After every fit the objective, the largest
//! gradient component and the training accuracy are recomputed in scikit-learn's terms. A fit
//! that made no progress is retried at a 16x larger `s`, and if it still fails it is reported as
//! failed, never as a result.

use std::time::Instant;

use linfa::prelude::*;
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, NdFloat};
use rayon::prelude::*;

/// Number of MNIST classes.
pub const N_CLASSES: usize = 10;

/// How a fit that made no progress is retried: the fit scale grows by this factor.
const RETRY_SCALE_FACTOR: f64 = 16.0;
/// How many fits a run may take before it is reported as failed.
const MAX_ATTEMPTS: usize = 3;

/// How ten classes are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiClass {
    /// One softmax model over all classes (`MultiLogisticRegression`).
    Multinomial,
    /// One binary model per class, predicted by the largest decision value.
    Ovr,
}

/// The floating-point type the fit runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    F64,
    F32,
}

impl MultiClass {
    pub const NAMES: &'static [&'static str] = &["multinomial", "ovr"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "multinomial" => Some(Self::Multinomial),
            "ovr" => Some(Self::Ovr),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Multinomial => "multinomial",
            Self::Ovr => "ovr",
        }
    }
}

impl Dtype {
    pub const NAMES: &'static [&'static str] = &["f64", "f32"];
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "f64" => Some(Self::F64),
            "f32" => Some(Self::F32),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F64 => "f64",
            Self::F32 => "f32",
        }
    }
}

/// Model hyperparameters, with scikit-learn's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelParams {
    pub multi_class: MultiClass,
    /// Inverse regularisation strength.
    #[serde(rename = "C")]
    pub c: f64,
    pub max_iter: u64,
    /// Stop when the largest gradient component of the mean objective is at most this.
    pub tol: f64,
    pub fit_intercept: bool,
    pub dtype: Dtype,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            multi_class: MultiClass::Multinomial,
            c: 1.0,
            max_iter: 100,
            tol: 1e-4,
            fit_intercept: true,
            dtype: Dtype::F64,
        }
    }
}

/// A number as people write it: plain where that is short (`0.01`, `100`), in exponent form
/// where it is not (`1e-40`, `1e300`), never 300 digits.
pub fn display_number(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `v` rounded up to one significant digit, for a bound in a message (2.94e-39 -> "3e-39").
fn round_up_one_digit(v: f64) -> String {
    let exponent = v.log10().floor();
    let mantissa = (v / 10f64.powf(exponent)).ceil();
    format!("{mantissa}e{exponent}")
}

impl ModelParams {
    /// Checks what the fit derives from the parameters, so a run cannot fail halfway through a
    /// sweep: linfa's `alpha = 1/C` and the tolerance must be representable in the fit's dtype.
    pub fn check(&self) -> Result<(), String> {
        let max = match self.dtype {
            Dtype::F64 => f64::MAX,
            Dtype::F32 => f32::MAX as f64,
        };
        // The largest alpha the fit uses is at fit scale 1.
        let alpha = linfa_alpha(self.c, 1.0);
        if !alpha.is_finite() || alpha > max {
            return Err(format!(
                "C = {} with dtype = \"{}\": the fit's alpha = 1/C overflows {}: use C >= {}{}",
                display_number(self.c),
                self.dtype.as_str(),
                self.dtype.as_str(),
                round_up_one_digit(1.0 / max),
                if self.dtype == Dtype::F32 {
                    " or dtype = \"f64\""
                } else {
                    ""
                }
            ));
        }
        if self.tol > max {
            return Err(format!(
                "tol = {} with dtype = \"{}\": overflows {}: use a tol below {}",
                display_number(self.tol),
                self.dtype.as_str(),
                self.dtype.as_str(),
                display_number(max)
            ));
        }
        Ok(())
    }
}

/// linfa's `alpha` for scikit-learn's `C` when the features are divided by `fit_scale`.
pub fn linfa_alpha(c: f64, fit_scale: f64) -> f64 {
    1.0 / (c * fit_scale * fit_scale)
}

/// The patched linfa's `max_gradient_tolerance` for scikit-learn's `tol`. Dividing the features
/// by `fit_scale` divides the weights' gradient by `fit_scale` (the intercept's is unchanged), so
/// `tol / fit_scale` guarantees scikit-learn's rule in the original units; at `fit_scale = 1` (every
/// f64 fit) it is exactly scikit-learn's rule.
pub fn linfa_max_gradient_tolerance(tol: f64, fit_scale: f64) -> f64 {
    tol / fit_scale
}

/// Which engine fitted a record: records of another engine are refitted, not reused.
/// Change it whenever a change to the engine can change a fit.
pub const ENGINE: &str =
    "linfa-logistic 0.8.1 with vendor/linfa-logistic/PATCHES.md 1-3, kernels of patch 2";

/// A fitted linear model in the units of the (preprocessed) features.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    pub multi_class: MultiClass,
    /// Features x classes.
    pub weights: Array2<f64>,
    /// One intercept per class.
    pub intercept: Array1<f64>,
}

impl LinearModel {
    /// Decision values `x W / scale + b` (rows: samples, columns: classes), where `x` holds the
    /// features divided by `scale`.
    pub fn decision<F: NdFloat>(&self, x: ArrayView2<F>, scale: f64) -> Array2<f64> {
        let w = self
            .weights
            .mapv(|v| F::from(v * scale).expect("finite weight"));
        let mut z = x.dot(&w).mapv(|v| v.to_f64().expect("finite decision"));
        z += &self.intercept;
        z
    }

    /// Class probabilities: softmax for multinomial, normalised sigmoids for one-vs-rest (as
    /// scikit-learn's `OneVsRestClassifier.predict_proba`).
    pub fn probabilities(&self, decision: &Array2<f64>) -> Array2<f64> {
        let mut p = decision.clone();
        for mut row in p.rows_mut() {
            match self.multi_class {
                MultiClass::Multinomial => {
                    let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                    row.mapv_inplace(|v| (v - max).exp());
                }
                MultiClass::Ovr => row.mapv_inplace(sigmoid),
            }
            let sum = row.sum();
            row /= sum;
        }
        p
    }

    /// True when every weight and intercept is exactly zero (linfa's silent failure).
    pub fn is_zero(&self) -> bool {
        self.weights
            .iter()
            .chain(self.intercept.iter())
            .all(|&v| v == 0.0)
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `ln(1 + exp(z))` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// Whether a run produced a usable model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitStatus {
    Ok,
    /// The fit made no progress; the reason says what was seen.
    Failed(String),
}

/// The fitted model and its diagnostics.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    pub model: LinearModel,
    pub diagnostics: Diagnostics,
}

/// What a fit reached, in scikit-learn's terms.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostics {
    /// scikit-learn's objective at the returned weights: mean log-loss + ||W||^2 / (2 C n).
    pub objective: f64,
    /// Largest absolute component of the objective's gradient (scipy L-BFGS's `pgtol` measure).
    pub grad_norm: f64,
    /// `grad_norm <= tol`: false is scikit-learn's ConvergenceWarning.
    pub converged: bool,
    pub status: FitStatus,
    /// The divisor `s` of the features in the fit that was kept.
    pub fit_scale: f64,
    /// Number of linfa fits made (more than 1 when a fit was retried at a larger scale).
    pub attempts: usize,
    /// Training accuracy of the returned model.
    pub train_accuracy: f64,
    pub fit_seconds: f64,
    /// L-BFGS iterations (one-vs-rest: the most any class took), scikit-learn's `n_iter_`.
    pub n_iter: u64,
    /// Why the optimiser stopped (one-vs-rest: the first class's reason that is not convergence).
    pub termination: String,
    /// Passes over the training data (one-vs-rest: summed over the classes).
    pub evaluations: u64,
    /// scikit-learn's objective and largest gradient component at the start and after every
    /// iteration (one-vs-rest: objectives summed, gradients maxed over the classes). With a fit
    /// scale above 1 (f32), the gradient is an upper bound.
    pub trace: Vec<TracePoint>,
}

/// One iteration of a fit, in scikit-learn's terms.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TracePoint {
    pub objective: f64,
    pub grad_max: f64,
}

/// What linfa-logistic's fit report says, in the fit's units (summed objective).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineReport {
    pub n_iter: u64,
    pub termination: String,
    pub converged: bool,
    pub evaluations: u64,
    /// (summed objective, largest gradient component) per iteration.
    pub trace: Vec<(f64, f64)>,
}

impl EngineReport {
    fn from_linfa<F: linfa::Float>(report: Option<&linfa_logistic::FitReport<F>>) -> Self {
        let Some(report) = report else {
            return EngineReport {
                n_iter: 0,
                termination: "no report".into(),
                converged: false,
                evaluations: 0,
                trace: Vec::new(),
            };
        };
        use linfa_logistic::Termination as T;
        let termination = match &report.termination {
            T::GradientTolerance => "converged".to_string(),
            T::NoProgress => "no_progress".to_string(),
            T::MaxIterations => "max_iter".to_string(),
            T::SolverExit(text) => format!("solver_exit: {text}"),
            T::Other(text) => format!("other: {text}"),
        };
        EngineReport {
            n_iter: report.iterations,
            termination,
            converged: report.termination.converged(),
            evaluations: report.evaluations,
            trace: report
                .trace
                .iter()
                .map(|r| {
                    (
                        r.objective.to_f64().unwrap_or(f64::NAN),
                        r.gradient_max.to_f64().unwrap_or(f64::NAN),
                    )
                })
                .collect(),
        }
    }

    /// One report for the ten one-vs-rest fits.
    fn combine(reports: Vec<EngineReport>) -> Self {
        let len = reports.iter().map(|r| r.trace.len()).max().unwrap_or(0);
        let trace = (0..len)
            .map(|i| {
                reports.iter().fold((0.0, 0.0f64), |(obj, grad), r| {
                    // A class that stopped earlier stays where it stopped.
                    let (o, g) = r
                        .trace
                        .get(i)
                        .or(r.trace.last())
                        .copied()
                        .unwrap_or_default();
                    (obj + o, grad.max(g))
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

/// Called after every iteration of a fit with the number of iterations done and the objective
/// (the fit's summed objective; [`fit`] passes on scikit-learn's mean), from several threads at
/// once for one-vs-rest; for progress displays.
pub type Observer<'a> = &'a (dyn Fn(u64, f64) + Sync);

/// A fitted model in the fit's units: weights (features x classes, or one column), intercepts,
/// and the engine's report.
type Fitted<W, B> = (W, B, EngineReport);
/// The models a fit keeps, one per iteration count asked for.
type Snapshots<W, B> = Result<Vec<Fitted<W, B>>, String>;

/// Floating-point types linfa-logistic can fit (its own `Float` trait is private).
pub trait FitFloat: NdFloat + linfa::Float {
    /// Fits a softmax model with `params.max_iter` iterations and returns it as it stood after
    /// each count in `at` (what a fit with that `max_iter` returns), in the order of `at`.
    fn fit_multinomial(
        x: ArrayView2<Self>,
        y: ArrayView1<usize>,
        alpha: f64,
        max_gradient_tolerance: f64,
        params: &ModelParams,
        at: &[u64],
        observer: Observer,
    ) -> Snapshots<Array2<f64>, Array1<f64>>;

    /// Fits a binary model of `y` (true = positive class), as `fit_multinomial`; the decision
    /// value of each returned model is positive for `true`.
    fn fit_binary(
        x: ArrayView2<Self>,
        y: ArrayView1<bool>,
        alpha: f64,
        max_gradient_tolerance: f64,
        params: &ModelParams,
        at: &[u64],
        observer: Observer,
    ) -> Snapshots<Array1<f64>, f64>;
}

/// Sets scikit-learn's hyperparameters on a linfa-logistic builder (binary or multinomial; the
/// generic builder type itself is private to linfa-logistic, hence a macro) and validates them.
macro_rules! configured {
    ($builder:expr, $float:ty, $alpha:expr, $tol:expr, $params:expr, $at:expr) => {
        $builder
            .alpha($alpha as $float)
            .max_gradient_tolerance($tol as $float)
            .max_iterations($params.max_iter)
            .with_intercept($params.fit_intercept)
            .snapshot_iterations($at.to_vec())
            .check()
            .map_err(|e| e.to_string())?
    };
}

macro_rules! impl_fit_float {
    ($float:ty) => {
        impl FitFloat for $float {
            fn fit_multinomial(
                x: ArrayView2<Self>,
                y: ArrayView1<usize>,
                alpha: f64,
                max_gradient_tolerance: f64,
                params: &ModelParams,
                at: &[u64],
                observer: Observer,
            ) -> Snapshots<Array2<f64>, Array1<f64>> {
                let dataset = DatasetBase::new(x, y);
                let fitted = configured!(
                    MultiLogisticRegression::<$float>::default(),
                    $float,
                    alpha,
                    max_gradient_tolerance,
                    params,
                    at
                )
                .fit_with_observer(&dataset, &mut |r| {
                    observer(r.iteration, f64::from(r.objective))
                })
                .map_err(|e| e.to_string())?;
                Ok(fitted
                    .snapshots()
                    .iter()
                    .map(|m| {
                        (
                            m.params().mapv(f64::from),
                            m.intercept().mapv(f64::from),
                            EngineReport::from_linfa(m.report()),
                        )
                    })
                    .collect())
            }

            fn fit_binary(
                x: ArrayView2<Self>,
                y: ArrayView1<bool>,
                alpha: f64,
                max_gradient_tolerance: f64,
                params: &ModelParams,
                at: &[u64],
                observer: Observer,
            ) -> Snapshots<Array1<f64>, f64> {
                let dataset = DatasetBase::new(x, y);
                let fitted = configured!(
                    LogisticRegression::<$float>::default(),
                    $float,
                    alpha,
                    max_gradient_tolerance,
                    params,
                    at
                )
                .fit_with_observer(&dataset, &mut |r| {
                    observer(r.iteration, f64::from(r.objective))
                })
                .map_err(|e| e.to_string())?;
                // linfa's positive label is the more frequent class (linfa issue 393): for a
                // one-vs-rest problem that is usually "rest", so flip the sign when it is.
                let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
                Ok(fitted
                    .snapshots()
                    .iter()
                    .map(|m| {
                        (
                            m.params().mapv(|v| sign * f64::from(v)),
                            sign * f64::from(m.intercept()),
                            EngineReport::from_linfa(m.report()),
                        )
                    })
                    .collect())
            }
        }
    };
}
impl_fit_float!(f64);
impl_fit_float!(f32);

/// The fit-scale a dtype starts from, given the largest absolute feature value: f64 fits run in
/// the original units (no rescaling needed since the engine's log-sum-exp is row-wise); f32 fits
/// bring the features to [-1, 1] (measured: raw pixels in f32 end far from the optimum otherwise,
/// and the [-1/16, 1/16] that linfa 0.8.1 needed now slows convergence).
pub fn initial_fit_scale(dtype: Dtype, max_abs_feature: f64) -> f64 {
    match dtype {
        Dtype::F64 => 1.0,
        Dtype::F32 if max_abs_feature > 0.0 => max_abs_feature,
        Dtype::F32 => 1.0,
    }
}

/// Fits one run on `x_fit` (the training features divided by `fit_scale`) and checks the result;
/// `observer` sees every iteration.
pub fn fit<F: FitFloat>(
    x_fit: ArrayView2<F>,
    fit_scale: f64,
    y: &[u8],
    params: &ModelParams,
    observer: Observer,
) -> Result<FitOutcome, String> {
    let start = Instant::now();
    let n = y.len() as f64;
    let observer = &|iteration, objective| observer(iteration, objective / n);
    let mut rescaled: Option<Array2<F>> = None;
    let mut scale = fit_scale;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let x = match &rescaled {
            Some(a) => a.view(),
            None => x_fit.view(),
        };
        let (model, report) = fit_once(x.view(), scale, y, params, &[params.max_iter], observer)?
            .pop()
            .expect("one model per count asked");
        let mut outcome = diagnose(model, &report, x.view(), scale, y, params);
        let d = &mut outcome.diagnostics;
        d.attempts = attempts;
        if d.status == FitStatus::Ok || attempts == MAX_ATTEMPTS {
            d.fit_seconds = start.elapsed().as_secs_f64();
            return Ok(outcome);
        }
        let factor = F::from(RETRY_SCALE_FACTOR).expect("small constant");
        let next = x.mapv(|v| v / factor);
        rescaled = Some(next);
        scale *= RETRY_SCALE_FACTOR;
    }
}

/// Fits the runs `params` with each `max_iter` in `max_iters` from one fit of the largest: the
/// engine keeps the model as it stood after each count, which is what a separate fit with that
/// `max_iter` returns (same weights, same report). A run whose model fails the checks is refitted
/// on its own, with the retries of [`fit`], as a separate fit would be. Each run's `fit_seconds`
/// is the time the shared fit took to reach its iteration count, plus its own check.
pub fn fit_max_iters<F: FitFloat>(
    x_fit: ArrayView2<F>,
    fit_scale: f64,
    y: &[u8],
    params: &ModelParams,
    max_iters: &[u64],
    observer: Observer,
) -> Result<Vec<FitOutcome>, String> {
    let start = Instant::now();
    let n = y.len() as f64;
    let longest = ModelParams {
        max_iter: max_iters.iter().copied().max().unwrap_or(params.max_iter),
        ..*params
    };
    // When the shared fit first reached each iteration count (the last class, for one-vs-rest).
    let reached = std::sync::Mutex::new(std::collections::HashMap::<u64, f64>::new());
    let timed = |iteration: u64, objective: f64| {
        let mut reached = reached.lock().unwrap_or_else(|e| e.into_inner());
        reached.insert(iteration, start.elapsed().as_secs_f64());
        drop(reached);
        observer(iteration, objective / n);
    };
    let fits = fit_once(x_fit, fit_scale, y, &longest, max_iters, &timed)?;
    let end = start.elapsed().as_secs_f64();
    let reached = reached.into_inner().unwrap_or_else(|e| e.into_inner());
    fits.into_iter()
        .zip(max_iters)
        .map(|((model, report), &max_iter)| {
            let params = ModelParams {
                max_iter,
                ..*params
            };
            let check_start = Instant::now();
            let mut outcome = diagnose(model, &report, x_fit, fit_scale, y, &params);
            if outcome.diagnostics.status != FitStatus::Ok {
                return fit(x_fit, fit_scale, y, &params, observer);
            }
            let fitted_at = reached.get(&report.n_iter).copied().unwrap_or(end);
            outcome.diagnostics.fit_seconds = fitted_at + check_start.elapsed().as_secs_f64();
            Ok(outcome)
        })
        .collect()
}

/// One linfa fit at a given scale, returned in feature units with the engine's report, as it stood
/// after each iteration count in `at`.
fn fit_once<F: FitFloat>(
    x: ArrayView2<F>,
    scale: f64,
    y: &[u8],
    params: &ModelParams,
    at: &[u64],
    observer: Observer,
) -> Result<Vec<(LinearModel, EngineReport)>, String> {
    let alpha = linfa_alpha(params.c, scale);
    let tol = linfa_max_gradient_tolerance(params.tol, scale);
    let models = match params.multi_class {
        MultiClass::Multinomial => {
            let labels: Array1<usize> = y.iter().map(|&c| c as usize).collect();
            F::fit_multinomial(x, labels.view(), alpha, tol, params, at, observer)?
        }
        MultiClass::Ovr => {
            let classes = fit_binary_parallel(x, y, alpha, tol, params, at, observer)
                .into_iter()
                .collect::<Result<Vec<_>, String>>()?;
            // Per count: the ten classes' models side by side.
            (0..at.len())
                .map(|i| {
                    let mut weights = Array2::zeros((x.ncols(), N_CLASSES));
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

/// Fits the ten one-vs-rest binary problems, on rayon's pool: each fit is parallel inside too
/// (blocks of rows), and every result is independent of the thread count.
fn fit_binary_parallel<F: FitFloat>(
    x: ArrayView2<F>,
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
            F::fit_binary(x, target.view(), alpha, tol, params, at, observer)
        })
        .collect()
}

/// Recomputes objective, gradient and training accuracy in scikit-learn's terms, and decides the
/// status. `x` holds the training features divided by `scale`.
fn diagnose<F: NdFloat>(
    model: LinearModel,
    report: &EngineReport,
    x: ArrayView2<F>,
    scale: f64,
    y: &[u8],
    params: &ModelParams,
) -> FitOutcome {
    let n = y.len() as f64;
    let z = model.decision(x, scale);
    let mut residual = Array2::<f64>::zeros(z.raw_dim());
    let mut loss = 0.0;
    let mut correct = 0usize;
    for ((zi, mut ri), &yi) in z.rows().into_iter().zip(residual.rows_mut()).zip(y) {
        let yi = yi as usize;
        let predicted = argmax(zi);
        correct += (predicted == yi) as usize;
        match model.multi_class {
            MultiClass::Multinomial => {
                let max = zi.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                let lse = max + zi.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
                loss += lse - zi[yi];
                for (k, (r, &v)) in ri.iter_mut().zip(zi).enumerate() {
                    *r = (v - lse).exp() - (k == yi) as u8 as f64;
                }
            }
            MultiClass::Ovr => {
                for (k, (r, &v)) in ri.iter_mut().zip(zi).enumerate() {
                    let positive = k == yi;
                    loss += softplus(if positive { -v } else { v });
                    *r = sigmoid(v) - positive as u8 as f64;
                }
            }
        }
    }
    let penalty = model.weights.iter().map(|w| w * w).sum::<f64>() / (2.0 * params.c * n);
    let objective = loss / n + penalty;

    // d/dW = X^T R / n + W / (C n); X = s * x.
    let residual_f = residual.mapv(|v| F::from(v).expect("finite residual"));
    let xtr = x
        .t()
        .dot(&residual_f)
        .mapv(|v| v.to_f64().expect("finite gradient"));
    let grad_w = xtr * (scale / n) + &model.weights / (params.c * n);
    let mut grad_norm = grad_w.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    if params.fit_intercept {
        let grad_b = residual.sum_axis(Axis(0)) / n;
        grad_norm = grad_b.iter().fold(grad_norm, |m, g| m.max(g.abs()));
    }

    // At W = 0, b = 0 every class has the same score.
    let start_objective = match model.multi_class {
        MultiClass::Multinomial => (N_CLASSES as f64).ln(),
        MultiClass::Ovr => N_CLASSES as f64 * 2f64.ln(),
    };
    let status = if model.is_zero() {
        FitStatus::Failed(
            "linfa returned the initial all-zero model (its line search failed and it still reported Ok)".into(),
        )
    } else if !objective.is_finite() || objective >= start_objective {
        FitStatus::Failed(format!(
            "the objective {objective:.6} is not below its starting value {start_objective:.6}"
        ))
    } else {
        FitStatus::Ok
    };

    FitOutcome {
        model,
        diagnostics: Diagnostics {
            converged: status == FitStatus::Ok && report.converged,
            n_iter: report.n_iter,
            termination: report.termination.clone(),
            evaluations: report.evaluations,
            // The summed objective is invariant under the fit scale; the weights' gradient is
            // divided by it.
            trace: report
                .trace
                .iter()
                .map(|&(objective, grad_max)| TracePoint {
                    objective: objective / n,
                    grad_max: grad_max * scale / n,
                })
                .collect(),
            objective,
            grad_norm,
            status,
            fit_scale: scale,
            attempts: 1,
            train_accuracy: correct as f64 / n,
            fit_seconds: 0.0,
        },
    }
}

/// Index of the largest value (the first one on ties, as numpy's `argmax`).
pub fn argmax(row: ArrayView1<f64>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn derived_values_are_checked_and_numbers_print_short() {
        let p = |c: f64, tol: f64, dtype: Dtype| ModelParams {
            c,
            tol,
            dtype,
            ..Default::default()
        };
        assert!(p(1.0, 1e-4, Dtype::F32).check().is_ok());
        assert!(p(1e-30, 1e-4, Dtype::F32).check().is_ok());
        let e = p(1e-40, 1e-4, Dtype::F32).check().unwrap_err();
        assert!(
            e.contains("C = 1e-40") && e.contains("dtype = \"f64\""),
            "{e}"
        );
        assert!(p(1e-40, 1e-4, Dtype::F64).check().is_ok());
        assert!(p(1e-320, 1e-4, Dtype::F64).check().is_err());
        assert!(p(1.0, 1e39, Dtype::F32).check().is_err());
        assert_eq!(display_number(1e300), "1e300");
        assert_eq!(display_number(0.01), "0.01");
        assert_eq!(display_number(100.0), "100");
        assert_eq!(display_number(1e-40), "1e-40");
    }

    #[test]
    fn c_maps_to_alpha_and_scale_squares() {
        assert_eq!(linfa_alpha(1.0, 1.0), 1.0);
        assert_eq!(linfa_alpha(0.01, 1.0), 100.0);
        assert_eq!(linfa_alpha(1.0, 255.0), 1.0 / 65025.0);
    }

    #[test]
    fn tol_is_scikit_learns_at_fit_scale_one_and_stricter_above() {
        assert_eq!(linfa_max_gradient_tolerance(1e-4, 1.0), 1e-4);
        assert_eq!(linfa_max_gradient_tolerance(1e-4, 255.0), 1e-4 / 255.0);
    }

    /// A small, well-separated problem: every class has its own hot feature.
    fn toy(n_per_class: usize, hot: f64) -> (Array2<f64>, Vec<u8>) {
        let n = n_per_class * N_CLASSES;
        let mut x = Array2::zeros((n, N_CLASSES + 2));
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let class = i % N_CLASSES;
            x[[i, class]] = hot * (1.0 + (i / N_CLASSES) as f64 * 0.01);
            x[[i, N_CLASSES]] = hot * ((i * 7) % 5) as f64 / 5.0;
            y.push(class as u8);
        }
        (x, y)
    }

    #[test]
    fn multinomial_fit_is_checked_and_converges_on_easy_data() {
        let (x, y) = toy(20, 1.0);
        let params = ModelParams {
            max_iter: 500,
            ..Default::default()
        };
        let out = fit(x.view(), 1.0, &y, &params, &|_, _| {}).unwrap();
        assert_eq!(out.diagnostics.status, FitStatus::Ok);
        assert_eq!(out.diagnostics.train_accuracy, 1.0);
        assert!(
            out.diagnostics.converged,
            "grad_norm {}",
            out.diagnostics.grad_norm
        );
        assert!(out.diagnostics.grad_norm <= 1e-4);
        assert!(out.diagnostics.objective < (10f64).ln());
    }

    #[test]
    fn rescaled_fit_reaches_the_same_optimum_in_raw_units() {
        let (x, y) = toy(20, 255.0);
        // C = 1/255^2 on raw pixels is C = 1 on pixels/255: a well-conditioned problem.
        let c_raw = 1.0 / (255.0 * 255.0);
        let params = ModelParams {
            max_iter: 1000,
            tol: 1e-9,
            c: c_raw,
            ..Default::default()
        };
        let direct = fit(
            (&x / 255.0).view(),
            1.0,
            &y,
            &ModelParams { c: 1.0, ..params },
            &|_, _| {},
        )
        .unwrap();
        let scaled = fit((&x / 255.0).view(), 255.0, &y, &params, &|_, _| {}).unwrap();
        // Same decision values on raw pixels: w_raw = w_unit / 255 with C_unit = 255^2 C_raw.
        let z_direct = direct.model.decision((&x / 255.0).view(), 1.0);
        let z_scaled = scaled.model.decision(x.view(), 1.0);
        let diff = (&z_direct - &z_scaled)
            .iter()
            .fold(0.0f64, |m, d| m.max(d.abs()));
        assert!(diff < 1e-5, "max decision difference {diff}");
        assert!((direct.diagnostics.objective - scaled.diagnostics.objective).abs() < 1e-6);
    }

    #[test]
    fn ovr_decision_is_positive_for_the_class_despite_linfas_label_order() {
        let (x, y) = toy(20, 1.0);
        let params = ModelParams {
            multi_class: MultiClass::Ovr,
            max_iter: 300,
            ..Default::default()
        };
        let out = fit(x.view(), 1.0, &y, &params, &|_, _| {}).unwrap();
        assert_eq!(out.diagnostics.status, FitStatus::Ok);
        assert_eq!(out.diagnostics.train_accuracy, 1.0);
        let p = out.model.probabilities(&out.model.decision(x.view(), 1.0));
        assert!((p.row(3).sum() - 1.0).abs() < 1e-12);
        assert_eq!(argmax(p.row(3)), 3);
    }

    #[test]
    fn f32_fits_give_a_real_model() {
        let (x, y) = toy(20, 1.0);
        let x32 = x.mapv(|v| v as f32);
        let params = ModelParams {
            dtype: Dtype::F32,
            ..Default::default()
        };
        let out = fit(x32.view(), 1.0, &y, &params, &|_, _| {}).unwrap();
        assert_eq!(out.diagnostics.status, FitStatus::Ok);
        assert!(!out.model.is_zero());
    }

    #[test]
    fn an_all_zero_model_is_failed_not_a_result() {
        let model = LinearModel {
            multi_class: MultiClass::Multinomial,
            weights: Array2::zeros((3, N_CLASSES)),
            intercept: Array1::zeros(N_CLASSES),
        };
        let x = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let report = EngineReport {
            n_iter: 0,
            termination: "max_iter".into(),
            converged: false,
            evaluations: 1,
            trace: vec![],
        };
        let out = diagnose(
            model,
            &report,
            x.view(),
            1.0,
            &[0, 1],
            &ModelParams::default(),
        );
        assert!(
            matches!(out.diagnostics.status, FitStatus::Failed(ref r) if r.contains("all-zero"))
        );
        assert!(!out.diagnostics.converged);
        assert!((out.diagnostics.objective - 10f64.ln()).abs() < 1e-12);
    }
}
