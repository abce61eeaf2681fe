//! # Logistic Regression
//!
//! ## The Big Picture
//!
//! `linfa-logistic` is a crate in the [`linfa`](https://crates.io/crates/linfa) ecosystem, an effort to create a toolkit for classical Machine Learning implemented in pure Rust, akin to Python's `scikit-learn`.
//!
//! ## Current state
//! `linfa-logistic` provides a pure Rust implementation of a [binomial logistic regression model](LogisticRegression) and a [multinomial logistic regression model](MultiLogisticRegression).
//!
//! ## Examples
//!
//! There is an usage example in the `examples/` directory. To run, use:
//!
//! ```bash
//! $ cargo run --example winequality
//! ```
//!

pub mod error;

use crate::error::{Error, Result};
use linfa::dataset::{AsSingleTargets, Records};
use linfa::prelude::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{
    Array, Array1, Array2, ArrayBase, ArrayView, Axis, CowArray, Data, DataMut, Dimension,
    IntoDimension, Ix1, Ix2, RemoveAxis, Slice, Zip,
};
use ndarray_stats::QuantileExt;
use std::default::Default;

#[cfg(feature = "serde")]
use serde_crate::de::DeserializeOwned;
#[cfg(feature = "serde")]
use serde_crate::{Deserialize, Serialize};

mod argmin_param;
mod float;
mod hyperparams;
mod kernels;
mod kernels_avx512;
mod lbfgsb;
mod line_search;
mod objective;
mod records;
mod report;
pub mod sag;

pub use records::{RowBlocks, ScaledBytes};
pub use report::{FitReport, IterationRecord, Termination};

#[cfg(test)]
use argmin_param::*;
use float::Float;
use hyperparams::{LogisticRegressionParams, LogisticRegressionValidParams};
use lbfgsb::{GradientRule, Settings, Stop};
#[cfg(test)]
use ndarray::s;
#[cfg(test)]
use objective::log_logistic;
use objective::logistic;

/// A two-class logistic regression model.
///
/// Logistic regression combines linear models with
/// the sigmoid function `sigm(x) = 1/(1+exp(-x))`
/// to learn a family of functions that map the feature space to `[0,1]`.
///
/// Logistic regression is used in binary classification
/// by interpreting the predicted value as the probability that the sample
/// has label `1`. A threshold can be set in the [fitted model](FittedLogisticRegression) to decide the minimum
/// probability needed to classify a sample as `1`, which defaults to `0.5`.
///
/// In this implementation any binary set of labels can be used, not necessarily `0` and `1`.
///
/// l2 regularization is used by this algorithm and is weighted by parameter `alpha`. Setting `alpha`
/// close to zero removes regularization and the problem solved minimizes only the
/// empirical risk. On the other hand, setting `alpha` to a high value increases
/// the weight of the l2 norm of the linear model coefficients in the cost function.
///
/// ## Examples
///
/// Here's an example on how to train a logistic regression model on the `winequality` dataset
/// ```rust
/// use linfa::traits::{Fit, Predict};
/// use linfa_logistic::LogisticRegression;
///
/// // Example on using binary labels different from 0 and 1
/// let dataset = linfa_datasets::winequality().map_targets(|x| if *x > 6 { "good" } else { "bad" });
/// let model = LogisticRegression::default().fit(&dataset).unwrap();
/// let prediction = model.predict(&dataset);
/// ```
pub type LogisticRegression<F> = LogisticRegressionParams<F, Ix1>;

/// Validated version of `LogisticRegression`
pub type ValidLogisticRegression<F> = LogisticRegressionValidParams<F, Ix1>;

/// A multinomial class logistic regression model.
///
/// The output labels can map to any discrete feature space, since the algorithm calculates the
/// likelihood of a feature vector corresponding to any given outcome using the softmax function
/// `softmax(x) = exp(x) / sum(exp(xi))`
///
/// l2 regularization is used by this algorithm and is weighted by parameter `alpha`. Setting `alpha`
/// close to zero removes regularization and the problem solved minimizes only the
/// empirical risk. On the other hand, setting `alpha` to a high value increases
/// the weight of the l2 norm of the linear model coefficients in the cost function.
pub type MultiLogisticRegression<F> = LogisticRegressionParams<F, Ix2>;

/// Validated version of `MultiLogisticRegression`
pub type ValidMultiLogisticRegression<F> = LogisticRegressionValidParams<F, Ix2>;

impl<F: Float, D: Dimension> Default for LogisticRegressionParams<F, D> {
    fn default() -> Self {
        LogisticRegressionParams::new()
    }
}

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
            Some(tol) => GradientRule::MaxAbs(to_f64(tol)),
            // 0.8.1's rule: the L2 norm of the summed gradient below `gradient_tolerance`.
            None => GradientRule::L2(to_f64(self.gradient_tolerance) / n_samples as f64),
        };
        Settings::scikit_learn(self.max_iterations, gradient)
    }

    /// Runs L-BFGS-B (`lbfgsb.rs`) on the mean objective, as scikit-learn scales it, until it
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
            (to_f64(f) / n, g.iter().map(|&v| to_f64(v) / n).collect())
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
        let x0 = init_params.iter().map(|&v| to_f64(v)).collect();
        let settings = self.settings(n_samples);
        let outcome = lbfgsb::minimize(x0, &mut objective, &settings, &mut |it| {
            let record = IterationRecord {
                iteration: it.iteration,
                objective: summed(it.f),
                gradient_max: summed(lbfgsb::max_abs(it.g)),
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
        });
        let termination = match outcome.stop {
            Stop::Gradient => Termination::GradientTolerance,
            Stop::RelativeReduction => Termination::RelativeReduction,
            Stop::MaxIterations => Termination::MaxIterations,
            Stop::MaxEvaluations => Termination::MaxEvaluations,
            Stop::LineSearch => Termination::LineSearchFailed,
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

fn to_f64<F: Float>(v: F) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
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
        self.validate_data(x, &target)?;
        let problem = self.setup_problem(x, target);
        let init_params = self.setup_init_params(x.n_columns());
        let (last, snapshots) = self.run_reporting(problem, init_params, observer)?;
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
        self.validate_data(x, &target)?;
        let problem = self.setup_problem(x, target);
        let init_params = self.setup_init_params((x.n_columns(), classes.len()));
        let (last, snapshots) = self.run_reporting(problem, init_params, observer)?;
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
/// It is an error to have more than two classes.
fn label_classes<F, T, C>(y: T) -> Result<(BinaryClassLabels<F, C>, Array1<F>)>
where
    F: Float,
    T: AsSingleTargets<Elem = C>,
    C: Ord + Clone,
{
    let y = y.as_single_targets();

    // counts the instances of two distinct class labels
    let mut binary_classes = [None, None];
    // find binary classes of our target dataset
    for class in y {
        binary_classes = match binary_classes {
            // count the first class label
            [None, None] => [Some((class, 1)), None],
            // if the class has already been counted, increment the count
            [Some((c, count)), c2] if c == class => [Some((class, count + 1)), c2],
            [c1, Some((c, count))] if c == class => [c1, Some((class, count + 1))],
            // count the second class label
            [Some(c1), None] => [Some(c1), Some((class, 1))],

            // should not be possible
            [None, Some(_)] => unreachable!("impossible binary class array"),
            // found 3rd distinct class
            [Some(_), Some(_)] => return Err(Error::TooManyClasses),
        };
    }

    let (pos_class, neg_class) = match binary_classes {
        [Some(a), Some(b)] => (a, b),
        _ => return Err(Error::TooFewClasses),
    };

    let mut target_array = y
        .into_iter()
        .map(|x| {
            if x == pos_class.0 {
                F::POSITIVE_LABEL
            } else {
                F::NEGATIVE_LABEL
            }
        })
        .collect::<Array1<_>>();

    let (pos_cl, neg_cl) = if pos_class.1 < neg_class.1 {
        // If we found the larger class first, flip the sign in the target
        // vector, so that -1.0 is always the label for the smaller class
        // and 1.0 the label for the larger class
        target_array *= -F::one();
        (neg_class.0.clone(), pos_class.0.clone())
    } else {
        (pos_class.0.clone(), neg_class.0.clone())
    };

    Ok((
        BinaryClassLabels {
            pos: ClassLabel {
                class: pos_cl,
                label: F::POSITIVE_LABEL,
            },
            neg: ClassLabel {
                class: neg_cl,
                label: F::NEGATIVE_LABEL,
            },
        },
        target_array,
    ))
}

/// Identify the distinct values of the classes in `y` and map each value to an integer. Smaller
/// classes (by `PartialOrd`) map to smaller integers. Returns the mapping along with a one-hot
/// encoding of the numerical labels corresponding to `y`.
fn label_classes_multi<F, T, C>(y: T) -> Result<(Vec<C>, Array2<F>)>
where
    F: Float,
    T: AsSingleTargets<Elem = C>,
    C: Ord + Clone,
{
    let y_single_target = y.as_single_targets();
    let mut classes = y_single_target.to_vec();
    // Dedup the list of classes
    classes.sort();
    classes.dedup();

    let mut onehot = Array2::zeros((y_single_target.len(), classes.len()));
    Zip::from(onehot.rows_mut())
        .and(&y_single_target)
        .for_each(|mut oh_row, cls| {
            let idx = classes.binary_search(cls).unwrap();
            oh_row[idx] = F::one();
        });
    Ok((classes, onehot))
}

/// Conditionally split the feature vector `w` into parameter vector and
/// intercept parameter.
/// Dimensions of `w` are either (f) or (f, n_classes)
fn convert_params<F: Float, D: Dimension + RemoveAxis>(
    n_features: usize,
    w: &Array<F, D>,
) -> (ArrayView<'_, F, D>, CowArray<'_, F, D::Smaller>) {
    let nrows = w.shape()[0];
    if n_features == nrows {
        (
            w.view(),
            Array::zeros(w.raw_dim().remove_axis(Axis(0))).into(),
        )
    } else if n_features + 1 == nrows {
        (
            w.slice_axis(Axis(0), Slice::from(..n_features)),
            w.index_axis(Axis(0), n_features).into(),
        )
    } else {
        panic!(
            "Unexpected length of parameter vector `w`, exected {} or {}, found {}",
            n_features,
            n_features + 1,
            nrows
        );
    }
}

#[cfg(test)] // the reference for objective.rs's fused pass
/// Finds the log of the sum of exponents across a specific axis in a numerically stable way. More
/// specifically, computes `ln(exp(x1) + exp(x2) + exp(e3) + ...)` across an axis.
///
/// Each lane is shifted by its own maximum, so every sum is at least 1 and no lane underflows,
/// however far its values lie from the other lanes' (a global maximum with a clamp made the loss
/// of such rows wrong, and cost and gradient disagree).
///
/// Based off this implementation: https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.logsumexp.html
fn log_sum_exp<F: linfa::Float, A: Data<Elem = F>>(
    m: &ArrayBase<A, Ix2>,
    axis: Axis,
) -> Array<F, Ix1> {
    m.map_axis(axis, |lane| {
        let max = lane.iter().copied().fold(F::neg_infinity(), F::max);
        if !max.is_finite() {
            // All -inf (an empty sum) or some +inf: the shift would give NaN.
            return max;
        }
        // Computes `max + ln(exp(x1-max) + exp(x2-max) + exp(x3-max) + ...)`, which is equal to
        // the log_sum_exp formula
        max + lane
            .fold(F::zero(), |acc, elem| acc + (*elem - max).exp())
            .ln()
    })
}

/// Computes `exp(n - max) / sum(exp(n- max))`, which is a numerically stable version of softmax
fn softmax_inplace<F: linfa::Float, A: DataMut<Elem = F>>(v: &mut ArrayBase<A, Ix1>) {
    let max = v.iter().copied().reduce(F::max).unwrap();
    v.mapv_inplace(|n| (n - max).exp());
    let sum = v.sum();
    v.mapv_inplace(|n| n / sum);
}

#[cfg(test)] // the reference for objective.rs's fused pass
/// Computes the logistic loss assuming the training labels $y \in {-1, 1}$
///
/// Because the logistic function fullfills $\sigma(-z) = 1 - \sigma(z)$
/// we can write $P(y=1|z) = \sigma(z) = \sigma(yz)$ and
/// $P(y=-1|z) = 1 - P(y=1|z) = 1 - \sigma(z) = \sigma(-z) = \sigma(yz)$, so
/// $P(y|z) = \sigma(yz)$ for both $y=1$ and $y=-1$.
///
/// Thus, the log loss can be written as
/// $$-\sum_{i=1}^{N} \log(\sigma(y_i z_i)) + \frac{\alpha}{2}\text{params}^T\text{params}$$
fn logistic_loss<F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    y: &Array1<F>,
    alpha: F,
    w: &Array1<F>,
) -> F {
    let n_features = x.shape()[1];
    let (params, intercept) = convert_params(n_features, w);
    let yz = x.dot(&params.into_shape_with_order((params.len(), 1)).unwrap()) + intercept;
    let len = yz.len();
    let mut yz = yz.into_shape_with_order(len).unwrap() * y;
    yz.mapv_inplace(log_logistic);
    -yz.sum() + F::cast(0.5) * alpha * params.dot(&params)
}

#[cfg(test)] // the reference for objective.rs's fused pass
/// Computes the gradient of the logistic loss function
fn logistic_grad<F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    y: &Array1<F>,
    alpha: F,
    w: &Array1<F>,
) -> Array1<F> {
    let n_features = x.shape()[1];
    let (params, intercept) = convert_params(n_features, w);
    let yz = x.dot(&params.into_shape_with_order((params.len(), 1)).unwrap()) + intercept;
    let len = yz.len();
    let mut yz = yz.into_shape_with_order(len).unwrap() * y;
    yz.mapv_inplace(logistic);
    yz -= F::one();
    yz *= y;
    if w.len() == n_features + 1 {
        let mut grad = Array::zeros(w.len());
        grad.slice_mut(s![..n_features])
            .assign(&(x.t().dot(&yz) + (&params * alpha)));
        grad[n_features] = yz.sum();
        grad
    } else {
        x.t().dot(&yz) + (&params * alpha)
    }
}

#[cfg(test)] // the reference for objective.rs's fused pass
/// Compute the log of probabilities, which is `log(softmax(H))`, where H is `X . W + b`. Also
/// returns `W` without the intercept.
/// `Y` is the output (n_samples * n_classes), `X` is the input (n_samples * n_features), `W` is the
/// params (n_features * n_classes), `b` is the intercept vector (n_classes).
fn multi_logistic_prob_params<'a, F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    w: &'a Array2<F>, // This parameter includes `W` and `b`
) -> (Array2<F>, ndarray::ArrayView2<'a, F>) {
    let n_features = x.shape()[1];
    let (params, intercept) = convert_params(n_features, w);
    // Compute H
    let h = x.dot(&params) + intercept;
    // This computes `H - log(sum(exp(H)))`, which is equal to
    // `log(softmax(H)) = log(exp(H) / sum(exp(H)))`
    let log_prob = &h
        - log_sum_exp(&h, Axis(1))
            .into_shape_with_order((h.nrows(), 1))
            .unwrap();
    (log_prob, params)
}

#[cfg(test)] // the reference for objective.rs's fused pass
/// Computes loss function of `-sum(Y * log(softmax(H))) + alpha/2 * norm(W)`
fn multi_logistic_loss<F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    y: &Array2<F>,
    alpha: F,
    w: &Array2<F>,
) -> F {
    let (log_prob, params) = multi_logistic_prob_params(x, w);
    // Calculate loss
    -elem_dot(&log_prob, y) + F::cast(0.5) * alpha * elem_dot(&params, &params)
}

#[cfg(test)] // the reference for objective.rs's fused pass
/// Computes multinomial gradients for `W` and `b` and combine them.
/// Gradient for `W` is `Xt . (softmax(H) - Y) + alpha * W`.
/// Gradient for `b` is `sum(softmax(H) - Y)`.
fn multi_logistic_grad<F: Float, A: Data<Elem = F>>(
    x: &ArrayBase<A, Ix2>,
    y: &Array2<F>,
    alpha: F,
    w: &Array2<F>,
) -> Array2<F> {
    let (log_prob, params) = multi_logistic_prob_params(x, w);
    let (n_features, n_classes) = params.dim();
    let intercept = w.nrows() > n_features;
    let mut grad = Array::zeros((n_features + intercept as usize, n_classes));

    // This value is `softmax(H)`
    let prob = log_prob.mapv_into(num_traits::Float::exp);
    let diff = prob - y;
    // Compute gradient for `W` and place it at start of the grad matrix
    let dw = x.t().dot(&diff) + (&params * alpha);
    grad.slice_mut(s![..n_features, ..]).assign(&dw);
    // Compute gradient for `b` and place it at end of grad matrix
    if intercept {
        grad.row_mut(n_features).assign(&diff.sum_axis(Axis(0)));
    }
    grad
}

/// A fitted logistic regression which can make predictions
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct FittedLogisticRegression<F: Float, C: PartialOrd + Clone> {
    threshold: F,
    intercept: F,
    params: Array1<F>,
    labels: BinaryClassLabels<F, C>,
    #[cfg_attr(feature = "serde", serde(default))]
    report: Option<FitReport<F>>,
    #[cfg_attr(feature = "serde", serde(default))]
    snapshots: Vec<FittedLogisticRegression<F, C>>,
}

impl<F: Float, C: PartialOrd + Clone> FittedLogisticRegression<F, C> {
    fn new(
        intercept: F,
        params: Array1<F>,
        labels: BinaryClassLabels<F, C>,
    ) -> FittedLogisticRegression<F, C> {
        FittedLogisticRegression {
            threshold: F::cast(0.5),
            intercept,
            params,
            labels,
            report: None,
            snapshots: Vec::new(),
        }
    }

    /// What the fit did (iterations, why it stopped, final objective and gradient, evaluation
    /// counts, per-iteration trace); `None` only for a model deserialised from an older version.
    pub fn report(&self) -> Option<&FitReport<F>> {
        self.report.as_ref()
    }

    /// The models kept at the parameters' `snapshot_iterations`, in the order asked.
    pub fn snapshots(&self) -> &[FittedLogisticRegression<F, C>] {
        &self.snapshots
    }

    /// Set the probability threshold for which the 'positive' class will be
    /// predicted. Defaults to 0.5.
    pub fn set_threshold(mut self, threshold: F) -> FittedLogisticRegression<F, C> {
        if threshold < F::zero() || threshold > F::one() {
            panic!("FittedLogisticRegression::set_threshold: threshold needs to be between 0.0 and 1.0");
        }
        self.threshold = threshold;
        self
    }

    pub fn intercept(&self) -> F {
        self.intercept
    }

    pub fn params(&self) -> &Array1<F> {
        &self.params
    }

    /// Get the model positive and negative classes mapped to their
    /// corresponding problem input labels.
    pub fn labels(&self) -> &BinaryClassLabels<F, C> {
        &self.labels
    }

    /// Given a feature matrix, predict the probabilities that a sample
    /// should be classified as the larger of the two classes learned when the
    /// model was fitted.
    pub fn predict_probabilities<A: Data<Elem = F>>(&self, x: &ArrayBase<A, Ix2>) -> Array1<F> {
        let mut probs = x.dot(&self.params) + self.intercept;
        probs.mapv_inplace(logistic);
        probs
    }
}

impl<C: PartialOrd + Clone + Default, F: Float, D: Data<Elem = F>>
    PredictInplace<ArrayBase<D, Ix2>, Array1<C>> for FittedLogisticRegression<F, C>
{
    /// Given a feature matrix, predict the classes learned when the model was
    /// fitted.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<C>) {
        assert_eq!(
            x.nrows(),
            y.len(),
            "The number of data points must match the number of output targets."
        );
        assert_eq!(
            x.ncols(),
            self.params.len(),
            "Number of data features must match the number of features the model was trained with."
        );

        let pos_class = &self.labels.pos.class;
        let neg_class = &self.labels.neg.class;
        Zip::from(&self.predict_probabilities(x))
            .and(y)
            .for_each(|prob, out| {
                *out = if *prob >= self.threshold {
                    pos_class.clone()
                } else {
                    neg_class.clone()
                }
            });
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<C> {
        Array1::default(x.nrows())
    }
}

/// A fitted multinomial logistic regression which can make predictions
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct MultiFittedLogisticRegression<F, C: PartialOrd + Clone> {
    intercept: Array1<F>,
    params: Array2<F>,
    classes: Vec<C>,
    #[cfg_attr(feature = "serde", serde(default))]
    report: Option<FitReport<F>>,
    #[cfg_attr(feature = "serde", serde(default))]
    snapshots: Vec<MultiFittedLogisticRegression<F, C>>,
}

impl<F: Float, C: PartialOrd + Clone> MultiFittedLogisticRegression<F, C> {
    fn new(intercept: Array1<F>, params: Array2<F>, classes: Vec<C>) -> Self {
        Self {
            intercept,
            params,
            classes,
            report: None,
            snapshots: Vec::new(),
        }
    }

    /// What the fit did (iterations, why it stopped, final objective and gradient, evaluation
    /// counts, per-iteration trace); `None` only for a model deserialised from an older version.
    pub fn report(&self) -> Option<&FitReport<F>> {
        self.report.as_ref()
    }

    /// The models kept at the parameters' `snapshot_iterations`, in the order asked.
    pub fn snapshots(&self) -> &[MultiFittedLogisticRegression<F, C>] {
        &self.snapshots
    }

    pub fn intercept(&self) -> &Array1<F> {
        &self.intercept
    }

    pub fn params(&self) -> &Array2<F> {
        &self.params
    }

    /// Return non-normalized probabilities (n_samples * n_classes)
    fn predict_nonorm_probabilities<A: Data<Elem = F>>(&self, x: &ArrayBase<A, Ix2>) -> Array2<F> {
        x.dot(&self.params) + &self.intercept
    }

    /// Return normalized probabilities for each output class. The output dimensions are (n_samples
    /// * n_classes).
    pub fn predict_probabilities<A: Data<Elem = F>>(&self, x: &ArrayBase<A, Ix2>) -> Array2<F> {
        let mut probs = self.predict_nonorm_probabilities(x);
        probs
            .rows_mut()
            .into_iter()
            .for_each(|mut row| softmax_inplace(&mut row));
        probs
    }

    /// Get the list of class labels, which maps the numerical class indices to the labels
    pub fn classes(&self) -> &[C] {
        &self.classes
    }
}

impl<C: PartialOrd + Clone + Default, F: Float, D: Data<Elem = F>>
    PredictInplace<ArrayBase<D, Ix2>, Array1<C>> for MultiFittedLogisticRegression<F, C>
{
    /// Given a feature matrix, predict the classes learned when the model was
    /// fitted.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<C>) {
        assert_eq!(
            x.nrows(),
            y.len(),
            "The number of data points must match the number of output targets."
        );
        assert_eq!(
            x.ncols(),
            self.params.nrows(),
            "Number of data features must match the number of features the model was trained with."
        );

        let probs = self.predict_nonorm_probabilities(x);
        Zip::from(probs.rows()).and(y).for_each(|prob_row, out| {
            let idx = prob_row.argmax().unwrap();
            *out = self.classes[idx].clone();
        });
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<C> {
        Array1::default(x.nrows())
    }
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct ClassLabel<F, C: PartialOrd> {
    pub class: C,
    pub label: F,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(crate = "serde_crate")
)]
pub struct BinaryClassLabels<F, C: PartialOrd> {
    pub pos: ClassLabel<F, C>,
    pub neg: ClassLabel<F, C>,
}

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

#[cfg(test)]
mod test {
    extern crate linfa;

    use super::Error;
    use super::*;
    use approx::{assert_abs_diff_eq, assert_relative_eq, AbsDiffEq};
    use argmin::core::{CostFunction, Executor, Gradient};
    use argmin::solver::linesearch::MoreThuenteLineSearch;
    use argmin::solver::quasinewton::LBFGS;
    use linfa::prelude::*;
    use ndarray::{array, Array2, Dim, Ix};

    #[test]
    fn autotraits() {
        fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}
        has_autotraits::<LogisticRegressionParams<f64, Dim<[Ix; 0]>>>();
        has_autotraits::<LogisticRegressionValidParams<f64, Dim<[Ix; 0]>>>();
        has_autotraits::<ArgminParam<f64, Dim<[Ix; 0]>>>();
    }

    /// Test that the logistic loss function works as expected.
    /// The expected values were obtained from running sklearn's
    /// _logistic_loss_and_grad function.
    #[test]
    fn test_logistic_loss() {
        let x = array![
            [0.0],
            [1.0],
            [2.0],
            [3.0],
            [4.0],
            [5.0],
            [6.0],
            [7.0],
            [8.0],
            [9.0]
        ];
        let y = array![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let ws = [
            array![0.0, 0.0],
            array![0.0, 1.0],
            array![1.0, 0.0],
            array![1.0, 1.0],
            array![0.0, -1.0],
            array![-1.0, 0.0],
            array![-1.0, -1.0],
        ];
        let alphas = &[0.0, 1.0, 10.0];
        let expecteds = vec![
            6.931471805599453,
            6.931471805599453,
            6.931471805599453,
            4.652158847349118,
            4.652158847349118,
            4.652158847349118,
            2.8012999588008323,
            3.3012999588008323,
            7.801299958800833,
            2.783195429782239,
            3.283195429782239,
            7.783195429782239,
            10.652158847349117,
            10.652158847349117,
            10.652158847349117,
            41.80129995880083,
            42.30129995880083,
            46.80129995880083,
            47.78319542978224,
            48.28319542978224,
            52.78319542978224,
        ];

        for ((w, alpha), exp) in ws
            .iter()
            .flat_map(|w| alphas.iter().map(move |&alpha| (w, alpha)))
            .zip(&expecteds)
        {
            assert_abs_diff_eq!(logistic_loss(&x, &y, alpha, w), *exp);
        }
    }

    /// Test that the logistic grad function works as expected.
    /// The expected values were obtained from running sklearn's
    /// _logistic_loss_and_grad function.
    #[test]
    fn test_logistic_grad() {
        let x = array![
            [0.0],
            [1.0],
            [2.0],
            [3.0],
            [4.0],
            [5.0],
            [6.0],
            [7.0],
            [8.0],
            [9.0]
        ];
        let y = array![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let ws = [
            array![0.0, 0.0],
            array![0.0, 1.0],
            array![1.0, 0.0],
            array![1.0, 1.0],
            array![0.0, -1.0],
            array![-1.0, 0.0],
            array![-1.0, -1.0],
        ];
        let alphas = &[0.0, 1.0, 10.0];
        let expecteds = vec![
            array![-19.5, -3.],
            array![-19.5, -3.],
            array![-19.5, -3.],
            array![-10.48871543, -1.61364853],
            array![-10.48871543, -1.61364853],
            array![-10.48871543, -1.61364853],
            array![-0.13041554, -0.02852148],
            array![0.86958446, -0.02852148],
            array![9.86958446, -0.02852148],
            array![-0.04834401, -0.01058067],
            array![0.95165599, -0.01058067],
            array![9.95165599, -0.01058067],
            array![-28.51128457, -4.38635147],
            array![-28.51128457, -4.38635147],
            array![-28.51128457, -4.38635147],
            array![-38.86958446, -5.97147852],
            array![-39.86958446, -5.97147852],
            array![-48.86958446, -5.97147852],
            array![-38.95165599, -5.98941933],
            array![-39.95165599, -5.98941933],
            array![-48.95165599, -5.98941933],
        ];

        for ((w, alpha), exp) in ws
            .iter()
            .flat_map(|w| alphas.iter().map(move |&alpha| (w, alpha)))
            .zip(&expecteds)
        {
            let actual = logistic_grad(&x, &y, alpha, w);
            assert!(actual.abs_diff_eq(exp, 1e-8));
        }
    }

    #[test]
    fn simple_example_1() {
        let log_reg = LogisticRegression::default();
        let x = array![[-1.0], [-0.01], [0.01], [1.0]];
        let y = array![0, 0, 1, 1];
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        assert_abs_diff_eq!(res.intercept(), 0.0);
        assert!(res.params().abs_diff_eq(&array![-0.681], 1e-3));
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );
    }

    #[test]
    fn simple_example_1_cats_dogs() {
        let log_reg = LogisticRegression::default();
        let x = array![[0.01], [1.0], [-1.0], [-0.01]];
        let y = array!["dog", "dog", "cat", "cat"];
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        assert_abs_diff_eq!(res.intercept(), 0.0);
        assert!(res.params().abs_diff_eq(&array![0.681], 1e-3));
        assert!(res
            .predict_probabilities(dataset.records())
            .abs_diff_eq(&array![0.501, 0.664, 0.335, 0.498], 1e-3));
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );
        assert_eq!(res.labels().pos.class, "dog");
        assert_eq!(res.labels().neg.class, "cat");
    }

    #[test]
    fn simple_example_2() {
        let log_reg = LogisticRegression::default().alpha(1.0);
        let x = array![
            [0.0],
            [1.0],
            [2.0],
            [3.0],
            [4.0],
            [5.0],
            [6.0],
            [7.0],
            [8.0],
            [9.0]
        ];
        let y = array![0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );
    }

    #[test]
    fn simple_example_3() {
        let x = array![[1.0], [0.0], [1.0], [0.0]];
        let y = array![1, 0, 1, 0];
        let dataset = DatasetBase::new(x, y);
        let model = LogisticRegression::default().fit(&dataset).unwrap();

        let pred = model.predict(&dataset.records);
        assert_eq!(dataset.targets(), pred);
    }

    #[test]
    fn rejects_mismatching_x_y() {
        let log_reg = LogisticRegression::default();
        let x = array![[-1.0], [-0.01], [0.01]];
        let y = array![0, 0, 1, 1];
        let res = log_reg.fit(&Dataset::new(x, y));
        assert!(matches!(res.unwrap_err(), Error::MismatchedShapes(3, 4)));
    }

    #[test]
    fn rejects_inf_values() {
        let infs = &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let inf_xs: Vec<_> = infs.iter().map(|&inf| array![[1.0], [inf]]).collect();
        let log_reg = LogisticRegression::default();
        let normal_x = array![[-1.0], [1.0]];
        let y = array![0, 1];
        for inf_x in &inf_xs {
            let res = log_reg.fit(&DatasetBase::new(inf_x.view(), &y));
            assert!(matches!(res.unwrap_err(), Error::InvalidValues));
        }
        for inf in infs {
            let log_reg = LogisticRegression::default().alpha(*inf);
            let res = log_reg.fit(&DatasetBase::new(normal_x.view(), &y));
            assert!(matches!(res.unwrap_err(), Error::InvalidAlpha));
        }
        let mut non_positives = infs.to_vec();
        non_positives.push(-1.0);
        non_positives.push(0.0);
        for inf in &non_positives {
            let log_reg = LogisticRegression::default().gradient_tolerance(*inf);
            let res = log_reg.fit(&Dataset::new(normal_x.to_owned(), y.to_owned()));
            assert!(matches!(res.unwrap_err(), Error::InvalidGradientTolerance));
        }
    }

    #[test]
    fn validates_initial_params() {
        let infs = &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let normal_x = array![[-1.0], [1.0]];
        let normal_y = array![0, 1];
        let dataset = Dataset::new(normal_x, normal_y);
        for inf in infs {
            let log_reg = LogisticRegression::default().initial_params(array![*inf, 0.0]);
            let res = log_reg.fit(&dataset);
            assert!(matches!(res.unwrap_err(), Error::InvalidInitialParameters));
        }
        {
            let log_reg = LogisticRegression::default().initial_params(array![0.0, 0.0, 0.0]);
            let res = log_reg.fit(&dataset);
            assert!(matches!(
                res.unwrap_err(),
                Error::InitialParameterFeaturesMismatch {
                    rows: 3,
                    n_features: 2
                }
            ));
        }
        {
            let log_reg = LogisticRegression::default()
                .with_intercept(false)
                .initial_params(array![0.0, 0.0]);
            let res = log_reg.fit(&dataset);
            assert!(matches!(
                res.unwrap_err(),
                Error::InitialParameterFeaturesMismatch {
                    rows: 2,
                    n_features: 1
                }
            ));
        }
    }

    #[test]
    fn uses_initial_params() {
        let params = array![1.2, -4.12];
        let log_reg = LogisticRegression::default()
            .initial_params(params)
            .max_iterations(5);
        let x = array![
            [0.0],
            [1.0],
            [2.0],
            [3.0],
            [4.0],
            [5.0],
            [6.0],
            [7.0],
            [8.0],
            [9.0]
        ];
        let y = array![0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        // 0.8.1's argmin path was at -4.124 after 5 iterations; L-BFGS-B (PATCHES.md 4) is
        // within 1e-4 of the optimum, -4.12618.
        assert!(res.intercept().abs_diff_eq(&-4.126, 1e-3));
        assert!(res.params().abs_diff_eq(&array![1.181], 1e-3));
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );

        // Test serialization
        #[cfg(feature = "serde")]
        {
            let ser = rmp_serde::to_vec(&res).unwrap();
            let unser: FittedLogisticRegression<f32, f32> = rmp_serde::from_slice(&ser).unwrap();

            let x = array![[1.0]];
            let y_hat = unser.predict(&x);

            assert!(y_hat[0] == 0.0);
        }
    }

    #[test]
    fn works_with_f32() {
        let log_reg = LogisticRegression::default();
        let x: Array2<f32> = array![[-1.0], [-0.01], [0.01], [1.0]];
        let y = array![0, 0, 1, 1];
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        assert_abs_diff_eq!(res.intercept(), 0.0_f32);
        assert!(res.params().abs_diff_eq(&array![-0.682_f32], 1e-3));
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );
    }

    #[test]
    fn test_log_sum_exp() {
        let data = array![[3.3, 0.4, -2.1], [0.4, 2.2, -0.1], [1., 0., -1.]];
        let out = log_sum_exp(&data, Axis(1));
        assert_abs_diff_eq!(out, array![3.35783, 2.43551, 1.40761], epsilon = 1e-5);
    }

    /// Rows far below the others keep their own value: the shift is per row.
    #[test]
    fn log_sum_exp_is_row_wise() {
        let ln2 = std::f64::consts::LN_2;
        let out = log_sum_exp(&array![[0., 0.], [-100., -100.]], Axis(1));
        assert_abs_diff_eq!(out, array![ln2, -100. + ln2], epsilon = 1e-12);
        let out = log_sum_exp(&array![[1000., 0.], [-1000., -1000.]], Axis(1));
        assert_abs_diff_eq!(out, array![1000., -1000. + ln2], epsilon = 1e-12);
        let out = log_sum_exp(&array![[f64::NEG_INFINITY, f64::NEG_INFINITY]], Axis(1));
        assert_eq!(out[0], f64::NEG_INFINITY);
    }

    /// With the global maximum and the clamp, the loss of a row 100 below the largest logit came
    /// out wrong; now it is exact.
    #[test]
    fn multinomial_loss_is_exact_for_rows_far_below_the_maximum() {
        // Two samples, one feature, no intercept; W puts sample 2's logits 200 below sample 1's.
        let x = array![[1.0], [-1.0]];
        let y = array![[1.0, 0.0], [1.0, 0.0]];
        let w = array![[100.0, 0.0]];
        // Sample 1: logits [100, 0]; sample 2: [-100, 0]: losses ln(1 + e^-100) and 100 + ln(1 + e^-100).
        let expected = 2.0 * (-100f64).exp().ln_1p() + 100.0;
        assert_abs_diff_eq!(
            multi_logistic_loss(&x, &y, 0.0, &w),
            expected,
            epsilon = 1e-9
        );
    }

    #[test]
    fn test_softmax() {
        let mut data = array![3.3, 5.5, 0.1, -4.4, 8.0];
        softmax_inplace(&mut data);
        assert_relative_eq!(
            data,
            array![0.0083324, 0.075200047, 0.000339647, 0.000003773, 0.91612413],
            epsilon = 1e-8
        );
        assert_abs_diff_eq!(data.sum(), 1.0);
    }

    #[test]
    fn test_multi_logistic_loss_grad() {
        let x = array![
            [0.0, 0.5],
            [1.0, -1.0],
            [2.0, -2.0],
            [3.0, -3.0],
            [4.0, -4.0],
            [5.0, -5.0],
            [6.0, -6.0],
            [7.0, -7.0],
        ];
        let y = array![
            [1.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
        ];
        let params1 = array![[4.4, -1.2, 3.3], [3.4, 0.1, 0.0]];
        let params2 = array![[0.001, -3.2, 2.9], [0.1, 4.5, 5.7], [4.5, 2.2, 1.7]];
        let alpha = 0.6;

        {
            let (log_prob, w) = multi_logistic_prob_params(&x, &params1);
            assert_abs_diff_eq!(
                log_prob,
                array![
                    [-3.18259845e-01, -1.96825985e+00, -2.01825985e+00],
                    [-2.40463987e+00, -4.70463987e+00, -1.04639868e-01],
                    [-4.61010168e+00, -9.21010168e+00, -1.01016809e-02],
                    [-6.90100829e+00, -1.38010083e+01, -1.00829256e-03],
                    [-9.20010104e+00, -1.84001010e+01, -1.01044506e-04],
                    [-1.15000101e+01, -2.30000101e+01, -1.01301449e-05],
                    [-1.38000010e+01, -2.76000010e+01, -1.01563199e-06],
                    [-1.61000001e+01, -3.22000001e+01, -1.01826043e-07],
                ],
                epsilon = 1e-6
            );
            assert_abs_diff_eq!(w, params1);
            let loss = multi_logistic_loss(&x, &y, alpha, &params1);
            assert_abs_diff_eq!(loss, 57.11212197835295, epsilon = 1e-6);
            let grad = multi_logistic_grad(&x, &y, alpha, &params1);
            assert_abs_diff_eq!(
                grad,
                array![
                    [1.7536815, -9.71074369, 11.85706219],
                    [2.79002537, 9.12059357, -9.81061893]
                ],
                epsilon = 1e-6
            );
        }

        {
            let (log_prob, w) = multi_logistic_prob_params(&x, &params2);
            assert_abs_diff_eq!(
                log_prob,
                array![
                    [-1.06637742e+00, -1.16637742e+00, -1.06637742e+00],
                    [-4.12429463e-03, -9.90512429e+00, -5.50512429e+00],
                    [-2.74092305e-04, -1.75022741e+01, -8.20227409e+00],
                    [-1.84027855e-05, -2.51030184e+01, -1.09030184e+01],
                    [-1.23554225e-06, -3.27040012e+01, -1.36040012e+01],
                    [-8.29523046e-08, -4.03050001e+01, -1.63050001e+01],
                    [-5.56928016e-09, -4.79060000e+01, -1.90060000e+01],
                    [-3.73912013e-10, -5.55070000e+01, -2.17070000e+01]
                ],
                epsilon = 1e-6
            );
            assert_abs_diff_eq!(w, params2.slice(s![..params2.nrows() - 1, ..]));
            let loss = multi_logistic_loss(&x, &y, alpha, &params2);
            assert_abs_diff_eq!(loss, 154.8177958366479, epsilon = 1e-6);
            let grad = multi_logistic_grad(&x, &y, alpha, &params2);
            assert_abs_diff_eq!(
                grad,
                array![
                    [26.99587549, -10.91995003, -16.25532546],
                    [-27.26314882, 11.85569669, 21.58745213],
                    [5.33984376, -2.68845675, -2.65138701]
                ],
                epsilon = 1e-6
            );
        }
    }

    #[test]
    fn simple_multi_example() {
        let x = array![[-1., 0.], [0., 1.], [1., 1.]];
        let y = array![2, 1, 0];
        let log_reg = MultiLogisticRegression::default()
            .alpha(0.1)
            .initial_params(Array::zeros((3, 3)));
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        assert_eq!(res.params().dim(), (2, 3));
        assert_eq!(res.intercept().dim(), 3);
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );
    }

    #[test]
    fn simple_multi_example_2() {
        let x = array![[1.0], [0.0], [1.0], [0.0]];
        let y = array![1, 0, 1, 0];
        let dataset = DatasetBase::new(x, y);
        let model = MultiLogisticRegression::default().fit(&dataset).unwrap();

        let pred = model.predict(&dataset.records);
        assert_eq!(dataset.targets(), pred);
    }

    #[test]
    fn simple_multi_example_text() {
        let log_reg = MultiLogisticRegression::default().alpha(0.1);
        let x = array![[0.1], [1.0], [-1.0], [-0.1]];
        let y = array!["dog", "ape", "rocket", "cat"];
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        assert_eq!(res.params().dim(), (1, 4));
        assert_eq!(res.intercept().dim(), 4);
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );
    }

    #[test]
    fn multi_on_binary_problem() {
        let log_reg = MultiLogisticRegression::default().alpha(1.0);
        let x = array![
            [0.0],
            [1.0],
            [2.0],
            [3.0],
            [4.0],
            [5.0],
            [6.0],
            [7.0],
            [8.0],
            [9.0]
        ];
        let y = array![0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let dataset = Dataset::new(x, y);
        let res = log_reg.fit(&dataset).unwrap();
        assert_eq!(res.params().dim(), (1, 2));
        assert_eq!(res.intercept().dim(), 2);
        assert_eq!(
            &res.predict(dataset.records()),
            dataset.targets().as_single_targets()
        );
    }

    #[test]
    fn reject_num_class_mismatch() {
        let n_samples = 4;
        let n_classes = 3;
        let n_features = 1;
        let x = Array2::<f64>::zeros((n_samples, n_features));
        let y = array![0, 1, 2, 0];
        let dataset = Dataset::new(x, y);

        let log_reg = MultiLogisticRegression::default()
            .with_intercept(false)
            .initial_params(Array::zeros((n_features, n_classes - 1)));
        assert!(matches!(
            log_reg.fit(&dataset).unwrap_err(),
            Error::InitialParameterClassesMismatch {
                cols: 2,
                n_classes: 3,
            }
        ));
    }

    /// A small, well-conditioned three-class problem.
    fn three_classes() -> (Array2<f64>, Array1<usize>) {
        let n = 90;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| {
            let class = i % 3;
            (if j == class { 1.0 } else { 0.0 }) + ((i * 7 + j * 13) % 11) as f64 / 11.0 - 0.5
        });
        let y = Array1::from_shape_fn(n, |i| i % 3);
        (x, y)
    }

    /// 0.8.1's problem: separate cost and gradient callbacks, each with its own pass.
    struct Published<'a> {
        x: &'a Array2<f64>,
        y: Array2<f64>,
        alpha: f64,
    }
    impl CostFunction for Published<'_> {
        type Param = ArgminParam<f64, Ix2>;
        type Output = f64;
        fn cost(&self, p: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
            Ok(multi_logistic_loss(
                self.x,
                &self.y,
                self.alpha,
                p.as_array(),
            ))
        }
    }
    impl Gradient for Published<'_> {
        type Param = ArgminParam<f64, Ix2>;
        type Gradient = ArgminParam<f64, Ix2>;
        fn gradient(
            &self,
            p: &Self::Param,
        ) -> std::result::Result<Self::Param, argmin::core::Error> {
            Ok(ArgminParam(multi_logistic_grad(
                self.x,
                &self.y,
                self.alpha,
                p.as_array(),
            )))
        }
    }

    /// The patched crate finds the weights 0.8.1's code path finds (its objective functions,
    /// argmin's L-BFGS set up as 0.8.1 set it up) where that path does not stall: the two
    /// optimisers stop at different points within the gradient tolerance 1e-8, 5e-7 apart.
    #[test]
    fn patched_fit_gives_the_published_weights() {
        let (x, y) = three_classes();
        let (_, onehot) = label_classes_multi::<f64, _, _>(&y).unwrap();
        let published = Executor::new(
            Published {
                x: &x,
                y: onehot,
                alpha: 0.1,
            },
            LBFGS::new(MoreThuenteLineSearch::new(), 10)
                .with_tolerance_grad(1e-8)
                .unwrap(),
        )
        .configure(|s| s.param(ArgminParam(Array2::zeros((4, 3)))).max_iters(200))
        .run()
        .unwrap();
        let published = published.state.best_param.unwrap().0;
        let patched = MultiLogisticRegression::default()
            .alpha(0.1)
            .gradient_tolerance(1e-8)
            .max_iterations(200)
            .fit(&Dataset::new(x, y))
            .unwrap();
        assert_abs_diff_eq!(
            patched.params(),
            &published.slice(s![..3, ..]).to_owned(),
            epsilon = 1e-6
        );
        assert_abs_diff_eq!(
            patched.intercept(),
            &published.row(3).to_owned(),
            epsilon = 1e-6
        );
    }

    #[test]
    fn the_fit_report_says_what_the_fit_did() {
        let (x, y) = three_classes();
        let dataset = Dataset::new(x, y);
        let mut seen = Vec::new();
        let model = MultiLogisticRegression::default()
            .alpha(0.1)
            .max_iterations(5)
            .check()
            .unwrap()
            .fit_with_observer(&dataset, &mut |r: &IterationRecord<f64>| seen.push(*r))
            .unwrap();
        let report = model.report().unwrap();
        assert_eq!(report.iterations, 5);
        assert_eq!(report.termination, Termination::MaxIterations);
        assert!(!report.converged());
        // The start and every iteration, each seen by the observer, objective decreasing.
        assert_eq!(report.trace.len(), 6);
        assert_eq!(seen, report.trace);
        assert!(report
            .trace
            .windows(2)
            .all(|w| w[1].objective < w[0].objective));
        assert_abs_diff_eq!(report.trace[0].objective, 90.0 * 3f64.ln(), epsilon = 1e-9);
        // The final entry is the returned model's.
        assert_abs_diff_eq!(report.trace[5].objective, report.objective, epsilon = 1e-12);
        assert_abs_diff_eq!(
            report.trace[5].gradient_max,
            report.gradient_max,
            epsilon = 1e-12
        );
        assert!(report.gradient_max <= report.gradient_norm);
        // Cost and gradient requests for the same point share one pass.
        assert!(report.evaluations >= report.cost_calls);
        assert!(
            report.evaluations < report.cost_calls + report.gradient_calls,
            "{:?}",
            report
        );
    }

    /// `max_gradient_tolerance` stops as scikit-learn does: on the largest component of the mean
    /// objective's gradient.
    #[test]
    fn the_max_gradient_rule_stops_on_the_mean_gradient() {
        let (x, y) = three_classes();
        let dataset = Dataset::new(x, y);
        let fit = |tol: f64| {
            MultiLogisticRegression::default()
                .alpha(0.1)
                .max_iterations(500)
                .max_gradient_tolerance(tol)
                .fit(&dataset)
                .unwrap()
        };
        let model = fit(1e-3);
        let report = model.report().unwrap();
        assert_eq!(report.termination, Termination::GradientTolerance);
        assert!(report.converged());
        assert!(report.gradient_max / 90.0 <= 1e-3);
        // One iteration earlier, it had not met the rule.
        let before = &report.trace[report.trace.len() - 2];
        assert!(before.gradient_max / 90.0 > 1e-3);
        // A tighter tolerance goes further.
        assert!(fit(1e-6).report().unwrap().iterations > report.iterations);
        assert!(MultiLogisticRegression::<f64>::default()
            .max_gradient_tolerance(-1.0)
            .check()
            .is_err());
    }

    /// A snapshot is what a fit with that many iterations returns: weights and report.
    #[test]
    fn snapshots_equal_separate_fits() {
        let (x, y) = three_classes();
        let dataset = Dataset::new(x.clone(), y.clone());
        let params = MultiLogisticRegression::default().alpha(0.1);
        let long = params
            .clone()
            .max_iterations(12)
            .snapshot_iterations(vec![3, 7, 12, 40])
            .fit(&dataset)
            .unwrap();
        assert_eq!(long.snapshots().len(), 4);
        for (snapshot, k) in long.snapshots().iter().zip([3, 7, 12, 12]) {
            let separate = params.clone().max_iterations(k).fit(&dataset).unwrap();
            assert_eq!(snapshot.params(), separate.params(), "k = {k}");
            assert_eq!(snapshot.intercept(), separate.intercept(), "k = {k}");
            assert_eq!(snapshot.report(), separate.report(), "k = {k}");
        }
        // The binary model too.
        let yb = y.mapv(|c| c == 0);
        let dataset = Dataset::new(x, yb);
        let long = LogisticRegression::default()
            .max_iterations(9)
            .snapshot_iterations(vec![4])
            .fit(&dataset)
            .unwrap();
        let separate = LogisticRegression::default()
            .max_iterations(4)
            .fit(&dataset)
            .unwrap();
        assert_eq!(long.snapshots()[0].params(), separate.params());
        assert_eq!(long.snapshots()[0].report(), separate.report());
    }
}
