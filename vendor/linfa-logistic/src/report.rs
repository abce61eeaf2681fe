//! What a fit did: iterations, why it stopped, where it ended, what it cost, and its path.
//!
//! linfa-logistic 0.8.1 threw its optimiser's result away and kept only the best parameters. The fitted
//! models now carry a [`FitReport`], recorded by the fit as the optimiser (`optim/lbfgsb.rs`, or SAG's epochs) reports
//! each iterate.

#[cfg(feature = "serde")]
use serde_crate::{Deserialize, Serialize};

/// Why the optimiser stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub enum Termination {
    /// The gradient met the tolerance: `gradient_tolerance` on its L2 norm, or
    /// `max_gradient_tolerance` on its largest component.
    GradientTolerance,
    /// `max_iterations` were made.
    MaxIterations,
    /// The objective's relative reduction in the last iteration,
    /// `(f_old - f) / max(|f_old|, |f|, 1)`, was at most 64 machine epsilons: scipy's
    /// "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH", which scikit-learn does not warn about,
    /// although the gradient is above the tolerance.
    RelativeReduction,
    /// More than 15,000 evaluations were made (scipy's `maxfun`).
    MaxEvaluations,
    /// A line search found no acceptable step from steepest descent with an empty memory: scipy's
    /// "ABNORMAL_TERMINATION_IN_LNSRCH". The model is the last accepted iterate.
    LineSearchFailed,
    /// SAG or SAGA: the largest change of a weight over an epoch, divided by the largest weight,
    /// was at most `tol` (scikit-learn's rule for these solvers).
    WeightChangeTolerance,
    /// Gradient descent reached a point where the objective or its gradient is not finite: the
    /// learning rate is too large for the problem. The model is that point.
    Diverged,
}

impl Termination {
    /// True when the solver's own convergence rule was met.
    pub fn converged(&self) -> bool {
        matches!(
            self,
            Termination::GradientTolerance | Termination::WeightChangeTolerance
        )
    }
}

/// One entry of the per-iteration trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct IterationRecord<F> {
    /// Iterations completed (0: the starting point).
    pub iteration: u64,
    /// The objective (summed loss plus penalty) at the current parameters.
    pub objective: F,
    /// The largest absolute component of its gradient.
    pub gradient_max: F,
    /// Passes over the data made so far (the starting point's evaluation included; line-search
    /// trials count): what the fit has cost when it reached this iterate.
    pub evaluations: u64,
}

/// What a fit did. Objectives and gradients are those of the objective the crate minimises: the
/// summed log-loss plus `alpha/2 * ||W||²`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct FitReport<F> {
    /// Iterations (L-BFGS) or epochs (SAG, SAGA) completed.
    pub iterations: u64,
    pub termination: Termination,
    /// The objective at the returned parameters.
    pub objective: F,
    /// The L2 norm of the gradient at the returned parameters.
    pub gradient_norm: F,
    /// The largest absolute gradient component at the returned parameters.
    pub gradient_max: F,
    /// Cost requests made by the optimiser (line-search trials included).
    pub cost_calls: u64,
    /// Gradient requests made by the optimiser (each comes with a cost request).
    pub gradient_calls: u64,
    /// Passes over the data: one per point the optimiser evaluates.
    pub evaluations: u64,
    /// The objective and largest gradient component after each iteration, from the start.
    pub trace: Vec<IterationRecord<F>>,
}

impl<F> FitReport<F> {
    /// Whether the fit met the gradient tolerance.
    pub fn converged(&self) -> bool {
        self.termination.converged()
    }
}
