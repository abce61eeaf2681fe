//! Fitting with L-BFGS-B or gradient descent: the data checked, the problem set up (the fused
//! evaluation of `evaluation/`), the optimiser (`optim/lbfgsb.rs` or `optim/gd.rs`) run on the
//! mean objective as scikit-learn scales it, and the fitted model built with its [`FitReport`]
//! and snapshots.

use linfa::dataset::{AsSingleTargets, Records};
use linfa::prelude::DatasetBase;
use linfa::traits::Fit;
use ndarray::{Array, Array1, Array2, ArrayBase, Data, Dimension, IntoDimension, Ix1, Ix2};

use crate::error::{Error, Result};
use crate::evaluation::objective;
use crate::evaluation::records::RowBlocks;
use crate::fitted::{FittedLogisticRegression, MultiFittedLogisticRegression};
use crate::float::Float;
use crate::hyperparams::LogisticRegressionValidParams;
use crate::labels::{convert_params, label_classes, label_classes_multi};
use crate::optim::gd;
use crate::optim::lbfgsb::{self, GradientRule, Settings, Stop};
use crate::report::{FitReport, IterationRecord, Termination};
use crate::{ValidLogisticRegression, ValidMultiLogisticRegression};

impl<F: Float, D: Dimension> LogisticRegressionValidParams<F, D> {
    /// Create the initial parameters, either from a user supplied array
    /// or an array of 0s
    fn setup_init_params(&self, dims: D::Pattern) -> Array<F, D> {
        if let Some(params) = self.initial_params.as_ref() {
            params.clone()
        } else {
            let mut dims = dims.into_dimension();
            dims.as_array_view_mut()[0] += self.fit_intercept as usize;
            Array::zeros(dims)
        }
    }

    /// Ensure that `x` and `y` have the right shape and that all data and
    /// configuration parameters are finite.
    fn validate_data<B: Data<Elem = F>>(
        &self,
        x: &dyn RowBlocks<F>,
        y: &ArrayBase<B, D>,
    ) -> Result<()> {
        if x.n_rows() != y.shape()[0] {
            return Err(Error::MismatchedShapes(x.n_rows(), y.shape()[0]));
        }
        if !x.all_finite() || y.iter().any(|y| !y.is_finite()) {
            return Err(Error::InvalidValues);
        }
        self.validate_init_dims(x.n_columns(), y.shape().get(1).copied())?;
        Ok(())
    }

    fn validate_init_dims(&self, mut n_features: usize, n_classes: Option<usize>) -> Result<()> {
        if let Some(params) = self.initial_params.as_ref() {
            let shape = params.shape();
            n_features += self.fit_intercept as usize;
            if n_features != shape[0] {
                return Err(Error::InitialParameterFeaturesMismatch {
                    n_features,
                    rows: shape[0],
                });
            }
            if let Some(n_classes) = n_classes {
                if n_classes != shape[1] {
                    return Err(Error::InitialParameterClassesMismatch {
                        n_classes,
                        cols: shape[1],
                    });
                }
            }
        }
        Ok(())
    }

    /// Create a `LogisticRegressionProblem`.
    fn setup_problem<'a>(
        &self,
        x: &'a dyn RowBlocks<F>,
        target: Array<F, D>,
    ) -> LogisticRegressionProblem<'a, F, D> {
        LogisticRegressionProblem {
            x,
            target,
            alpha: self.alpha,
        }
    }

    /// scikit-learn's L-BFGS-B settings with this model's iteration limit and gradient rule, for
    /// the mean objective (the summed one divided by `n_samples`).
    fn settings(&self, n_samples: usize) -> Settings {
        let gradient = match self.max_gradient_tolerance {
            Some(tol) => GradientRule::MaxAbs(tol.as_f64()),
            // 0.8.1's rule: the L2 norm of the summed gradient below `gradient_tolerance`.
            None => GradientRule::L2(self.gradient_tolerance.as_f64() / n_samples as f64),
        };
        Settings::scikit_learn(self.max_iterations, gradient)
    }

    /// Checks the data, sets the problem up and runs it: the part both model shapes share.
    #[allow(clippy::type_complexity)]
    fn fit_parts<'a>(
        &self,
        x: &'a dyn RowBlocks<F>,
        target: Array<F, D>,
        dims: D::Pattern,
        observer: &mut dyn FnMut(&IterationRecord<F>),
    ) -> Result<(Fitted<F, D>, Vec<Fitted<F, D>>)>
    where
        LogisticRegressionProblem<'a, F, D>: Evaluate<F, D>,
    {
        self.validate_data(x, &target)?;
        let problem = self.setup_problem(x, target);
        let init_params = self.setup_init_params(dims);
        self.run_reporting(problem, init_params, observer)
    }

    /// Runs L-BFGS-B (`optim/lbfgsb.rs`) on the mean objective, as scikit-learn scales it, until it
    /// stops, and reports: the last iterate with its [`FitReport`], and the snapshots asked for,
    /// each with its own. The optimiser works in f64 whatever `F` is; each evaluation rounds the
    /// parameters to `F`.
    #[allow(clippy::type_complexity)]
    fn run_reporting<P: Evaluate<F, D>>(
        &self,
        problem: P,
        init_params: Array<F, D>,
        observer: &mut dyn FnMut(&IterationRecord<F>),
    ) -> Result<(Fitted<F, D>, Vec<Fitted<F, D>>)> {
        let n_samples = problem.n_samples();
        let n = n_samples as f64;
        let dim = init_params.raw_dim();
        let to_params = |x: &[f64]| {
            Array::from_shape_vec(dim.clone(), x.iter().map(|&v| F::cast(v)).collect())
                .expect("one value per parameter")
        };
        let mut objective = |x: &[f64]| {
            let (f, g) = problem.evaluate(&to_params(x));
            (f.as_f64() / n, g.iter().map(|&v| v.as_f64() / n).collect())
        };
        // Reports are in the summed objective's units.
        let summed = |v: f64| F::cast(v * n);
        let fitted = |x: &[f64], f: f64, g: &[f64], termination, iterations, evaluations, trace| {
            let gradient: Vec<f64> = g.iter().map(|v| v * n).collect();
            let report = FitReport {
                iterations,
                termination,
                objective: summed(f),
                gradient_norm: F::cast(gradient.iter().map(|v| v * v).sum::<f64>().sqrt()),
                gradient_max: F::cast(lbfgsb::max_abs(&gradient)),
                cost_calls: evaluations,
                gradient_calls: evaluations,
                evaluations,
                trace,
            };
            (to_params(x), report)
        };

        let mut trace: Vec<IterationRecord<F>> = Vec::new();
        let mut snapshots = Vec::new();
        let x0 = init_params.iter().map(|&v| v.as_f64()).collect();
        let settings = self.settings(n_samples);
        let mut observe = |it: &lbfgsb::Iterate| {
            let record = IterationRecord {
                iteration: it.iteration,
                objective: summed(it.f),
                gradient_max: summed(lbfgsb::max_abs(it.g)),
                evaluations: it.evaluations,
            };
            trace.push(record);
            observer(&record);
            // What a fit with `max_iterations = it.iteration` returns: this iterate.
            if it.iteration > 0 && self.snapshot_iterations.contains(&it.iteration) {
                let snapshot = fitted(
                    it.x,
                    it.f,
                    it.g,
                    Termination::MaxIterations,
                    it.iteration,
                    it.evaluations,
                    trace.clone(),
                );
                snapshots.push((it.iteration, snapshot));
            }
        };
        let outcome = match self.learning_rate {
            Some(rate) => {
                let settings = gd::Settings {
                    learning_rate: rate.as_f64(),
                    max_iter: settings.max_iter,
                    gradient: settings.gradient,
                };
                gd::minimize(x0, &mut objective, &settings, &mut observe)
            }
            None => lbfgsb::minimize(x0, &mut objective, &settings, &mut observe),
        };
        let termination = match outcome.stop {
            Stop::Gradient => Termination::GradientTolerance,
            Stop::RelativeReduction => Termination::RelativeReduction,
            Stop::MaxIterations => Termination::MaxIterations,
            Stop::MaxEvaluations => Termination::MaxEvaluations,
            Stop::LineSearch => Termination::LineSearchFailed,
            Stop::NotFinite => Termination::Diverged,
        };
        let last = fitted(
            &outcome.x,
            outcome.f,
            &outcome.g,
            termination,
            outcome.iterations,
            outcome.evaluations,
            trace,
        );
        // Requested counts never reached (the fit stopped first) get the final model, as a fit
        // with that many iterations allowed would.
        let snapshots = self
            .snapshot_iterations
            .iter()
            .map(|&k| {
                snapshots
                    .iter()
                    .find(|(iteration, _)| *iteration == k)
                    .map(|(_, snapshot)| snapshot.clone())
                    .unwrap_or_else(|| last.clone())
            })
            .collect();
        Ok((last, snapshots))
    }
}

/// Parameters (with the intercept row, if any) and the report of a fit or snapshot.
type Fitted<F, D> = (Array<F, D>, FitReport<F>);

impl<F: Float> ValidLogisticRegression<F> {
    /// Like [`Fit::fit`], calling `observer` with the objective and the largest gradient component
    /// after every iteration (and once at the start), for progress displays.
    ///
    /// The records are any float matrix, or bytes read through a per-feature affine map
    /// ([`ScaledBytes`]).
    pub fn fit_with_observer<
        C: Ord + Clone,
        R: RowBlocks<F> + Records,
        T: AsSingleTargets<Elem = C>,
    >(
        &self,
        dataset: &DatasetBase<R, T>,
        observer: &mut dyn FnMut(&IterationRecord<F>),
    ) -> Result<FittedLogisticRegression<F, C>> {
        let (x, y) = (dataset.records(), dataset.targets());
        let (labels, target) = label_classes(y)?;
        let (last, snapshots) = self.fit_parts(x, target, x.n_columns(), observer)?;
        let model = |(params, report): Fitted<F, Ix1>| {
            let (w, intercept) = convert_params(x.n_columns(), &params);
            let mut model = FittedLogisticRegression::new(
                *intercept.view().into_scalar(),
                w.to_owned(),
                labels.clone(),
            );
            model.report = Some(report);
            model
        };
        let mut fitted = model(last);
        fitted.snapshots = snapshots.into_iter().map(model).collect();
        Ok(fitted)
    }
}

impl<C: Ord + Clone, F: Float, R: RowBlocks<F> + Records, T: AsSingleTargets<Elem = C>>
    Fit<R, T, Error> for ValidLogisticRegression<F>
{
    type Object = FittedLogisticRegression<F, C>;

    /// Given a 2-dimensional feature matrix array `x` with shape
    /// (n_samples, n_features) and an array of target classes to predict,
    /// create a `FittedLinearRegression` object which allows making
    /// predictions.
    ///
    /// The array of target classes `y` must have exactly two discrete values, (e.g. 0 and 1, "cat"
    /// and "dog", ...), which represent the two different classes the model is supposed to
    /// predict.
    ///
    /// The array `y` must also have exactly `n_samples` items, i.e.
    /// exactly as many items as there are rows in the feature matrix `x`.
    ///
    /// This method returns an error if any of the preconditions are violated,
    /// i.e. any values are `Inf` or `NaN`, `y` doesn't have as many items as
    /// `x` has rows, or if other parameters (gradient_tolerance, alpha) have
    /// been set to inalid values.
    fn fit(&self, dataset: &DatasetBase<R, T>) -> Result<Self::Object> {
        self.fit_with_observer(dataset, &mut |_| {})
    }
}

impl<F: Float> ValidMultiLogisticRegression<F> {
    /// Like [`Fit::fit`], calling `observer` with the objective and the largest gradient component
    /// after every iteration (and once at the start), for progress displays.
    ///
    /// The records are any float matrix, or bytes read through a per-feature affine map
    /// ([`ScaledBytes`]).
    pub fn fit_with_observer<
        C: Ord + Clone,
        R: RowBlocks<F> + Records,
        T: AsSingleTargets<Elem = C>,
    >(
        &self,
        dataset: &DatasetBase<R, T>,
        observer: &mut dyn FnMut(&IterationRecord<F>),
    ) -> Result<MultiFittedLogisticRegression<F, C>> {
        let (x, y) = (dataset.records(), dataset.targets());
        let (classes, target) = label_classes_multi(y)?;
        let dims = (x.n_columns(), classes.len());
        let (last, snapshots) = self.fit_parts(x, target, dims, observer)?;
        let model = |(params, report): Fitted<F, Ix2>| {
            let (w, intercept) = convert_params(x.n_columns(), &params);
            let mut model = MultiFittedLogisticRegression::new(
                intercept.to_owned(),
                w.to_owned(),
                classes.clone(),
            );
            model.report = Some(report);
            model
        };
        let mut fitted = model(last);
        fitted.snapshots = snapshots.into_iter().map(model).collect();
        Ok(fitted)
    }
}

impl<C: Ord + Clone, F: Float, R: RowBlocks<F> + Records, T: AsSingleTargets<Elem = C>>
    Fit<R, T, Error> for ValidMultiLogisticRegression<F>
{
    type Object = MultiFittedLogisticRegression<F, C>;

    /// Given a 2-dimensional feature matrix array `x` with shape
    /// (n_samples, n_features) and an array of target classes to predict,
    /// create a `MultiFittedLogisticRegression` object which allows making
    /// predictions. The target classes can have any number of discrete values.
    ///
    /// This method returns an error if any of the preconditions are violated,
    /// i.e. any values are `Inf` or `NaN`, `y` doesn't have as many items as
    /// `x` has rows, or if other parameters (gradient_tolerance, alpha) have
    /// been set to inalid values. The input features are also strongly recommended to be
    /// normalized to ensure numerical stability.
    fn fit(&self, dataset: &DatasetBase<R, T>) -> Result<Self::Object> {
        self.fit_with_observer(dataset, &mut |_| {})
    }
}

/// Identify the distinct values of the classes `y` and associate
/// the target labels `-1.0` and `1.0` to it. -1.0 always labels the
/// smaller class (by PartialOrd) and 1.0 always labels the larger
/// class.
///

/// Internal representation of a logistic regression problem, handed to the optimiser
/// (`lbfgsb.rs`). Cost and gradient come from one fused pass over `x` (see `objective.rs`).
struct LogisticRegressionProblem<'a, F: Float, D: Dimension> {
    x: &'a dyn RowBlocks<F>,
    target: Array<F, D>,
    alpha: F,
}

type LogisticRegressionProblem1<'a, F> = LogisticRegressionProblem<'a, F, Ix1>;
type LogisticRegressionProblem2<'a, F> = LogisticRegressionProblem<'a, F, Ix2>;

/// What the optimiser needs of a problem: the summed objective and its gradient at a point.
trait Evaluate<F: Float, D: Dimension> {
    fn evaluate(&self, w: &Array<F, D>) -> (F, Array<F, D>);
    fn n_samples(&self) -> usize;
}

impl<F: Float> Evaluate<F, Ix1> for LogisticRegressionProblem1<'_, F> {
    fn evaluate(&self, w: &Array1<F>) -> (F, Array1<F>) {
        objective::binary_loss_grad(self.x, self.target.view(), self.alpha, w)
    }
    fn n_samples(&self) -> usize {
        self.x.n_rows()
    }
}

impl<F: Float> Evaluate<F, Ix2> for LogisticRegressionProblem2<'_, F> {
    fn evaluate(&self, w: &Array2<F>) -> (F, Array2<F>) {
        objective::multi_loss_grad(self.x, self.target.view(), self.alpha, w)
    }
    fn n_samples(&self) -> usize {
        self.x.n_rows()
    }
}
