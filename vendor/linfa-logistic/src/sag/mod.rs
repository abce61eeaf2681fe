//! SAG and SAGA for the multinomial model, with linfa's parameter pattern: [`SagParams`] is set
//! with builder methods and checked ([`ParamGuard`]) into [`SagValidParams`], which fits
//! ([`Fit`]) a [`MultiFittedLogisticRegression`] with its [`FitReport`] and snapshots, as the
//! L-BFGS models do. The algorithm and scikit-learn's decisions it takes are in `solver.rs`.

mod solver;

use linfa::dataset::{AsSingleTargets, Records};
use linfa::prelude::DatasetBase;
use linfa::traits::Fit;
use linfa::ParamGuard;

use crate::error::{Error, Result};
use crate::evaluation::records::RowBlocks;
use crate::fitted::MultiFittedLogisticRegression;
use crate::float::Float;
use crate::labels::class_indices;
use crate::report::{FitReport, IterationRecord, Termination};
use solver::{sag_multinomial_at, SagFit, SagSettings};

/// A SAG or SAGA fit's parameters, unchecked. The objective is the summed log-loss plus
/// `alpha / 2 ||W||²` plus (SAGA only) `beta ||W||_1`: scikit-learn's `C`, `l1_ratio` give
/// `alpha = (1 - l1_ratio) / C`, `beta = l1_ratio / C`.
#[derive(Debug, Clone, PartialEq)]
pub struct SagParams<F: Float>(SagValidParams<F>);

/// Checked [`SagParams`], ready to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct SagValidParams<F: Float> {
    settings: SagSettings<F>,
    snapshot_epochs: Vec<u64>,
}

impl<F: Float> SagParams<F> {
    /// SAG (Schmidt, Le Roux and Bach 2017): `alpha` 1, `tol` 1e-4, 100 epochs, seed 1, with an
    /// intercept.
    pub fn sag() -> Self {
        SagParams(SagValidParams {
            settings: SagSettings {
                saga: false,
                alpha: F::one(),
                beta: F::zero(),
                tol: F::cast(1e-4),
                max_iter: 100,
                seed: 1,
                fit_intercept: true,
            },
            snapshot_epochs: Vec::new(),
        })
    }

    /// SAGA (Defazio, Bach and Lacoste-Julien 2014), with the same defaults as [`Self::sag`].
    pub fn saga() -> Self {
        let mut params = Self::sag();
        params.0.settings.saga = true;
        params
    }

    /// The l2 penalty `alpha / 2 ||W||²` on the summed loss.
    pub fn alpha(mut self, alpha: F) -> Self {
        self.0.settings.alpha = alpha;
        self
    }

    /// The l1 penalty `beta ||W||_1` on the summed loss (SAGA only, by soft thresholding).
    pub fn l1_penalty(mut self, beta: F) -> Self {
        self.0.settings.beta = beta;
        self
    }

    /// Stop after an epoch when the largest weight change over the largest weight is at most
    /// this (scikit-learn's `tol` for these solvers).
    pub fn tol(mut self, tol: F) -> Self {
        self.0.settings.tol = tol;
        self
    }

    /// Epochs at most (scikit-learn's `max_iter`).
    pub fn max_epochs(mut self, epochs: u64) -> Self {
        self.0.settings.max_iter = epochs;
        self
    }

    /// The sample generator's seed (0 is taken as 1, as scikit-learn does; scikit-learn derives
    /// it from `random_state`).
    pub fn seed(mut self, seed: u32) -> Self {
        self.0.settings.seed = seed;
        self
    }

    /// Whether an intercept is fitted (not penalised).
    pub fn with_intercept(mut self, fit_intercept: bool) -> Self {
        self.0.settings.fit_intercept = fit_intercept;
        self
    }

    /// Keep the model as it stood after each of these epoch counts, what a fit with that many
    /// epochs returns (read with `snapshots()`); counts past the stop give the final model.
    pub fn snapshot_epochs(mut self, epochs: Vec<u64>) -> Self {
        self.0.snapshot_epochs = epochs;
        self
    }
}

impl<F: Float> ParamGuard for SagParams<F> {
    type Checked = SagValidParams<F>;
    type Error = Error;

    fn check_ref(&self) -> Result<&Self::Checked> {
        let s = &self.0.settings;
        if !s.alpha.is_finite() || s.alpha < F::zero() {
            return Err(Error::InvalidAlpha);
        }
        if !s.beta.is_finite() || s.beta < F::zero() || (s.beta > F::zero() && !s.saga) {
            return Err(Error::InvalidL1Ratio);
        }
        if !s.tol.is_finite() || s.tol < F::zero() {
            return Err(Error::InvalidTolerance);
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<Self::Checked> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl<F: Float> SagValidParams<F> {
    /// Like [`Fit::fit`], calling `observer` after every epoch (the objective and gradient are
    /// not computed on the way: they are NaN in the records).
    pub fn fit_with_observer<
        C: Ord + Clone,
        R: RowBlocks<F> + Records,
        T: AsSingleTargets<Elem = C>,
    >(
        &self,
        dataset: &DatasetBase<R, T>,
        observer: &mut dyn FnMut(&IterationRecord<F>),
    ) -> Result<MultiFittedLogisticRegression<F, C>> {
        let x = dataset.records();
        let (classes, y) = class_indices(dataset.targets());
        if x.n_rows() != y.len() {
            return Err(Error::MismatchedShapes(x.n_rows(), y.len()));
        }
        if !x.all_finite() {
            return Err(Error::InvalidValues);
        }
        if classes.len() < 2 {
            return Err(Error::SagClasses(classes.len()));
        }
        let mut at = self.snapshot_epochs.clone();
        at.push(self.settings.max_iter);
        let mut fits =
            sag_multinomial_at(x, &y, classes.len(), &self.settings, &at, &mut |epoch| {
                observer(&IterationRecord {
                    iteration: epoch,
                    objective: F::nan(),
                    gradient_max: F::nan(),
                    evaluations: epoch,
                })
            });
        let model = |fit: SagFit<F>| {
            let mut model =
                MultiFittedLogisticRegression::new(fit.intercept, fit.weights, classes.clone());
            model.report = Some(report(fit.n_iter, fit.converged));
            model
        };
        let last = fits.pop().expect("the fit itself comes last");
        let mut fitted = model(last);
        fitted.snapshots = fits.into_iter().map(model).collect();
        Ok(fitted)
    }
}

/// The report of a SAG or SAGA fit: epochs, why it stopped, one pass over the data per epoch;
/// the objective and gradient were not computed (NaN), so the trace is empty.
fn report<F: Float>(epochs: u64, converged: bool) -> FitReport<F> {
    FitReport {
        iterations: epochs,
        termination: if converged {
            Termination::WeightChangeTolerance
        } else {
            Termination::MaxIterations
        },
        objective: F::nan(),
        gradient_norm: F::nan(),
        gradient_max: F::nan(),
        cost_calls: 0,
        gradient_calls: 0,
        evaluations: epochs,
        trace: Vec::new(),
    }
}

impl<C: Ord + Clone, F: Float, R: RowBlocks<F> + Records, T: AsSingleTargets<Elem = C>>
    Fit<R, T, Error> for SagValidParams<F>
{
    type Object = MultiFittedLogisticRegression<F, C>;

    /// Fits the multinomial model of the targets' classes (at least two) on the records.
    fn fit(&self, dataset: &DatasetBase<R, T>) -> Result<Self::Object> {
        self.fit_with_observer(dataset, &mut |_| {})
    }
}
