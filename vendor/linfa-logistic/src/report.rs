//! What a fit did: iterations, why it stopped, where it ended, what it cost, and its path.
//!
//! linfa-logistic 0.8.1 threw argmin's result away and kept only the best parameters. The fitted
//! models now carry a [`FitReport`], and [`Reporting`] wraps the L-BFGS solver to record the
//! per-iteration trace, call an observer after each iteration (for progress displays), take
//! parameter snapshots at requested iterations, and apply an optional stopping rule on the
//! largest gradient component (scikit-learn's rule for `lbfgs`).

use argmin::core::{
    ArgminFloat, IterState, Problem, Solver, State, TerminationReason, TerminationStatus, KV,
};
use ndarray::{Array, Dimension};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    /// The objective stopped changing (by less than machine epsilon between iterations).
    NoProgress,
    /// `max_iterations` were made.
    MaxIterations,
    /// The solver gave up, for instance because a line search found no acceptable step; the text
    /// is argmin's.
    SolverExit(String),
    /// Anything else argmin reports (interrupted, timed out, ...), as argmin words it.
    Other(String),
}

impl Termination {
    /// True when a tolerance was met.
    pub fn converged(&self) -> bool {
        *self == Termination::GradientTolerance
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
    /// L-BFGS iterations completed.
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
    /// Gradient requests made by the optimiser.
    pub gradient_calls: u64,
    /// Passes over the data: cost and gradient requests for the same point share one.
    pub evaluations: u64,
    /// The objective and largest gradient component after each iteration, from the start.
    pub trace: Vec<IterationRecord<F>>,
}

impl<F: ArgminFloat> FitReport<F> {
    /// Whether the fit met a tolerance (scikit-learn would not warn).
    pub fn converged(&self) -> bool {
        self.termination.converged()
    }
}

pub(crate) fn max_abs<'a, F: ArgminFloat + 'a>(values: impl IntoIterator<Item = &'a F>) -> F {
    values
        .into_iter()
        .fold(F::zero(), |m, &v| if v.abs() > m { v.abs() } else { m })
}

pub(crate) fn l2_norm<'a, F: ArgminFloat + 'a>(values: impl IntoIterator<Item = &'a F>) -> F {
    values.into_iter().fold(F::zero(), |s, &v| s + v * v).sqrt()
}

/// Parameters and progress as they stood after a requested number of iterations.
pub(crate) struct Snapshot<F, D: Dimension> {
    pub(crate) iteration: u64,
    pub(crate) params: Array<F, D>,
    pub(crate) termination: Termination,
    pub(crate) cost_calls: u64,
    pub(crate) gradient_calls: u64,
    pub(crate) evaluations: u64,
    pub(crate) trace: Vec<IterationRecord<F>>,
}

/// Access to the array inside argmin's parameter type.
pub(crate) trait AsArray<F, D: Dimension> {
    fn array(&self) -> &Array<F, D>;
}

type StateOf<P, F> = IterState<P, P, (), (), (), F>;

fn count<P: Clone, F: ArgminFloat>(state: &StateOf<P, F>, key: &str) -> u64 {
    state.get_func_counts().get(key).copied().unwrap_or(0)
}

/// The L-BFGS solver, wrapped to report on every iteration.
pub(crate) struct Reporting<'o, S, F, D: Dimension> {
    pub(crate) inner: S,
    /// Stop when the largest gradient component is at most this.
    pub(crate) max_gradient: Option<F>,
    /// The L2 tolerance the inner solver applies (to tell its two stopping rules apart).
    pub(crate) l2_tolerance: F,
    /// Iterations at which to keep a snapshot.
    pub(crate) snapshot_at: Vec<u64>,
    pub(crate) snapshots: Vec<Snapshot<F, D>>,
    pub(crate) trace: Vec<IterationRecord<F>>,
    /// Why the solver stopped, as seen by [`Solver::terminate`] (None: it did not stop there).
    pub(crate) stopped: Option<Termination>,
    /// Passes over the data so far (shared with the problem's cache).
    pub(crate) evaluations: Arc<AtomicU64>,
    pub(crate) observer: &'o mut dyn FnMut(&IterationRecord<F>),
}

impl<O, S, P, F, D> Solver<O, StateOf<P, F>> for Reporting<'_, S, F, D>
where
    S: Solver<O, StateOf<P, F>>,
    P: AsArray<F, D> + Clone,
    F: ArgminFloat,
    D: Dimension,
{
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: StateOf<P, F>,
    ) -> Result<(StateOf<P, F>, Option<KV>), argmin::core::Error> {
        self.inner.init(problem, state)
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: StateOf<P, F>,
    ) -> Result<(StateOf<P, F>, Option<KV>), argmin::core::Error> {
        self.inner.next_iter(problem, state)
    }

    /// Called by argmin before every iteration with the state after the last one (its iteration
    /// count, best parameters and gradient up to date): the place to record, observe and snapshot.
    fn terminate(&mut self, state: &StateOf<P, F>) -> TerminationStatus {
        let iteration = state.get_iter();
        let gradient = state.get_gradient().map(|g| g.array());
        let record = IterationRecord {
            iteration,
            objective: state.get_cost(),
            gradient_max: gradient.map(max_abs).unwrap_or_else(F::nan),
        };
        if self.trace.last().map(|r| r.iteration) != Some(iteration) {
            self.trace.push(record);
            (self.observer)(&record);
        }

        let status = match self.max_gradient {
            Some(tol) if gradient.is_some() && record.gradient_max <= tol => {
                TerminationStatus::Terminated(TerminationReason::SolverConverged)
            }
            _ => self.inner.terminate(state),
        };
        self.stopped = match &status {
            TerminationStatus::Terminated(reason) => Some(classify(
                reason,
                gradient.map(l2_norm),
                self.l2_tolerance,
                record.gradient_max,
                self.max_gradient,
            )),
            TerminationStatus::NotTerminated if iteration >= state.get_max_iters() => {
                Some(Termination::MaxIterations)
            }
            TerminationStatus::NotTerminated => None,
        };
        // What a fit with `max_iterations = iteration` would return: the best parameters so far.
        if self.snapshot_at.contains(&iteration) {
            if let Some(best) = state.get_best_param() {
                self.snapshots.push(Snapshot {
                    iteration,
                    params: best.array().clone(),
                    termination: self.stopped.clone().unwrap_or(Termination::MaxIterations),
                    cost_calls: count(state, "cost_count"),
                    gradient_calls: count(state, "gradient_count"),
                    evaluations: self.evaluations.load(Ordering::Relaxed),
                    trace: self.trace.clone(),
                });
            }
        }
        status
    }
}

/// Turns argmin's reason into a [`Termination`]; argmin says "converged" for both of L-BFGS's
/// rules, so the gradient tells them apart.
pub(crate) fn classify<F: ArgminFloat>(
    reason: &TerminationReason,
    gradient_l2: Option<F>,
    l2_tolerance: F,
    gradient_max: F,
    max_gradient: Option<F>,
) -> Termination {
    match reason {
        TerminationReason::SolverConverged => {
            let by_max = max_gradient.is_some_and(|tol| gradient_max <= tol);
            let by_l2 = gradient_l2.is_some_and(|g| g < l2_tolerance);
            if by_max || by_l2 {
                Termination::GradientTolerance
            } else {
                Termination::NoProgress
            }
        }
        TerminationReason::MaxItersReached => Termination::MaxIterations,
        TerminationReason::SolverExit(text) => Termination::SolverExit(text.clone()),
        other => Termination::Other(other.text().to_string()),
    }
}

impl<F: ArgminFloat, D: Dimension> Snapshot<F, D> {
    /// The report of the fit as it stood, given the loss and gradient at its parameters.
    pub(crate) fn report(&self, objective: F, gradient: &Array<F, D>) -> FitReport<F> {
        FitReport {
            iterations: self.iteration,
            termination: self.termination.clone(),
            objective,
            gradient_norm: l2_norm(gradient),
            gradient_max: max_abs(gradient),
            cost_calls: self.cost_calls,
            gradient_calls: self.gradient_calls,
            evaluations: self.evaluations,
            trace: self.trace.clone(),
        }
    }
}
