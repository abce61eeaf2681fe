//! What a fit reached, recomputed in scikit-learn's terms after every fit: objective, largest
//! gradient component, training accuracy, and whether the model is usable at all.
//!
//! May touch: `digits`, `model::{params, linear, engine}`.

use linfa_logistic::RowBlocks;
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, Axis, NdFloat};

use super::engine::{EngineReport, TracePoint};
use super::linear::{sigmoid, softplus, LinearModel, BLOCK_ROWS};
use super::params::{ModelParams, MultiClass};
use crate::digits::{argmax, N_CLASSES};

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
    /// The share of weights that are exactly zero (absent from records written before it was
    /// recorded: the store fills it from the run's `model.npz`).
    #[serde(default)]
    pub zero_weights: Option<f64>,
    /// scikit-learn's objective and largest gradient component at the start and after every
    /// iteration (one-vs-rest: objectives summed, gradients maxed over the classes). With a fit
    /// scale above 1 (f32), the gradient is an upper bound.
    pub trace: Vec<TracePoint>,
}

/// Recomputes objective, gradient and training accuracy in scikit-learn's terms, and decides the
/// status. `x` holds the training features divided by `scale`.
pub(super) fn diagnose<F: NdFloat, X: RowBlocks<F> + ?Sized>(
    model: LinearModel,
    report: &EngineReport,
    x: &X,
    scale: f64,
    y: &[u8],
    params: &ModelParams,
) -> FitOutcome {
    let n = y.len() as f64;
    let z = model.decision(x, scale);
    let (loss, residual, correct) = loss_and_residual(&model, z, y);
    // scikit-learn's penalty: (1 - l1_ratio) / (2 C n) ||W||² + l1_ratio / (C n) ||W||_1.
    let (l2, l1) = (
        (1.0 - params.l1_ratio) / (params.c * n),
        params.l1_ratio / (params.c * n),
    );
    let penalty = if l1 > 0.0 {
        let squares = model.weights.iter().map(|w| w * w).sum::<f64>();
        let absolutes = model.weights.iter().map(|w| w.abs()).sum::<f64>();
        l2 / 2.0 * squares + l1 * absolutes
    } else {
        // Written as before the l1 part existed, so that every l2 objective keeps its bits.
        model.weights.iter().map(|w| w * w).sum::<f64>() / (2.0 * params.c * n)
    };
    let objective = loss / n + penalty;
    let grad_norm = gradient_max(x, &residual, &model, params, scale, (l2, l1));
    let status = status(&model, report, objective);
    let zero_weights = model.zero_weights();
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
                .map(|p| TracePoint {
                    objective: p.objective / n,
                    grad_max: p.grad_max * scale / n,
                    evaluations: p.evaluations,
                })
                .collect(),
            zero_weights: Some(zero_weights),
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

/// The summed log-loss of the decision values `z` for labels `y`, the residuals (probability
/// minus target, per image and class; written over `z`, which is not needed after) and the
/// number of images predicted right.
fn loss_and_residual(
    model: &LinearModel,
    mut z: Array2<f64>,
    y: &[u8],
) -> (f64, Array2<f64>, usize) {
    let mut loss = 0.0;
    let mut correct = 0usize;
    for (mut zi, &yi) in z.rows_mut().into_iter().zip(y) {
        let yi = yi as usize;
        let predicted = argmax(zi.view());
        correct += (predicted == yi) as usize;
        match model.multi_class {
            MultiClass::Multinomial => {
                let max = zi.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                let lse = max + zi.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
                loss += lse - zi[yi];
                for (k, v) in zi.iter_mut().enumerate() {
                    *v = (*v - lse).exp() - (k == yi) as u8 as f64;
                }
            }
            MultiClass::Ovr => {
                for (k, v) in zi.iter_mut().enumerate() {
                    let positive = k == yi;
                    loss += softplus(if positive { -*v } else { *v });
                    *v = sigmoid(*v) - positive as u8 as f64;
                }
            }
        }
    }
    (loss, z, correct)
}

/// The largest component of the mean objective's gradient (with an l1 part: of its smallest
/// subgradient), intercepts included; `x` holds the features divided by `scale`, `(l2, l1)` are
/// the penalty's weights on the mean loss.
fn gradient_max<F: NdFloat, X: RowBlocks<F> + ?Sized>(
    x: &X,
    residual: &Array2<f64>,
    model: &LinearModel,
    params: &ModelParams,
    scale: f64,
    (l2, l1): (f64, f64),
) -> f64 {
    let n = residual.nrows() as f64;
    // d/dW = X^T R / n + W / (C n); X = s * x.
    let mut xtr = Array2::<F>::zeros((x.n_columns(), residual.ncols()));
    let mut scratch = Vec::new();
    for start in (0..x.n_rows()).step_by(BLOCK_ROWS) {
        let end = (start + BLOCK_ROWS).min(x.n_rows());
        let xb = x.rows(start, end, &mut scratch);
        let rb = residual
            .slice(s![start..end, ..])
            .mapv(|v| F::from(v).expect("finite residual"));
        general_mat_mul(F::one(), &xb.t(), &rb, F::one(), &mut xtr);
    }
    let xtr = xtr.mapv(|v| v.to_f64().expect("finite gradient"));
    let mut grad_norm = if l1 > 0.0 {
        // The smallest subgradient of the l1 part: the largest component of the distance from 0
        // to the subdifferential (0 at an optimum, as the gradient is without l1).
        let smooth = xtr * (scale / n) + &model.weights * l2;
        smooth
            .iter()
            .zip(&model.weights)
            .map(|(&g, &w)| match w {
                0.0 => (g.abs() - l1).max(0.0),
                w => (g + l1 * w.signum()).abs(),
            })
            .fold(0.0f64, f64::max)
    } else {
        let grad_w = xtr * (scale / n) + &model.weights / (params.c * n);
        grad_w.iter().fold(0.0f64, |m, g| m.max(g.abs()))
    };
    if params.fit_intercept {
        let grad_b = residual.sum_axis(Axis(0)) / n;
        grad_norm = grad_b.iter().fold(grad_norm, |m, g| m.max(g.abs()));
    }
    grad_norm
}

/// Whether the fit is a result: a finite objective, and the gradient rule met or the objective
/// below its value at the all-zero start.
fn status(model: &LinearModel, report: &EngineReport, objective: f64) -> FitStatus {
    // At W = 0, b = 0 every class has the same score.
    let start_objective = match model.multi_class {
        MultiClass::Multinomial => (N_CLASSES as f64).ln(),
        MultiClass::Ovr => N_CLASSES as f64 * 2f64.ln(),
    };
    // A fit that met the gradient rule is a result, even at the starting point: scikit-learn
    // then returns the zero model with n_iter_ 0 (for instance with a very large tol or C tiny).
    if !objective.is_finite() {
        FitStatus::Failed(format!(
            "the objective is {objective} at the returned weights"
        ))
    } else if report.converged {
        FitStatus::Ok
    } else if model.is_zero() {
        FitStatus::Failed(format!(
            "the optimiser stopped at the all-zero starting point ({})",
            report.termination
        ))
    } else if objective >= start_objective {
        FitStatus::Failed(format!(
            "the objective {objective:.6} is not below its starting value {start_objective:.6}"
        ))
    } else {
        FitStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    /// `diagnose` of the all-zero multinomial model on a tiny problem, with the engine's word.
    fn zero_model(termination: &str, converged: bool) -> FitOutcome {
        let model = LinearModel {
            multi_class: MultiClass::Multinomial,
            weights: Array2::zeros((3, N_CLASSES)),
            intercept: Array1::zeros(N_CLASSES),
        };
        let x = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let report = EngineReport {
            n_iter: 0,
            termination: termination.into(),
            converged,
            evaluations: 1,
            trace: vec![],
        };
        diagnose(model, &report, &x, 1.0, &[0, 1], &ModelParams::default())
    }

    #[test]
    fn an_all_zero_model_is_failed_not_a_result() {
        let out = zero_model("max_iter", false);
        assert!(
            matches!(out.diagnostics.status, FitStatus::Failed(ref r) if r.contains("all-zero"))
        );
        assert!(!out.diagnostics.converged);
        assert!((out.diagnostics.objective - 10f64.ln()).abs() < 1e-12);
    }

    /// scikit-learn's answer when the start already meets tol: the zero model, n_iter 0.
    #[test]
    fn a_zero_model_that_met_the_gradient_rule_is_a_converged_result() {
        let out = zero_model("converged", true);
        assert_eq!(out.diagnostics.status, FitStatus::Ok);
        assert!(out.diagnostics.converged);
        assert_eq!(out.diagnostics.n_iter, 0);
    }
}
