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
//! ## This copy
//!
//! linfa-logistic 0.8.1 with the patches listed in `PATCHES.md`: a fused, blocked evaluation of
//! the objective and its gradient on float matrices or bytes read through a per-feature affine
//! map ([`ScaledBytes`]), scikit-learn's L-BFGS-B (`optim/`), a fit report with snapshots along
//! the iterations, and SAG/SAGA ([`SagParams`]).
//!
//! ## Layout
//!
//! - `hyperparams.rs`: the L-BFGS models' parameters ([`LogisticRegressionParams`]); `sag/`: SAG
//!   and SAGA's parameters and fit, and the algorithm (`sag/solver.rs`).
//! - `fit.rs`: the L-BFGS fit; `labels.rs`: classes to targets; `fitted.rs`: fitted models.
//! - `optim/`: L-BFGS-B and Moré-Thuente's line search, each scipy decision a named constant.
//! - `evaluation/`: the storage ([`RowBlocks`], [`ScaledBytes`]), the fused objective and its
//!   kernels (portable, AVX2 and AVX-512; dense, and sparse over the non-zero bytes), the choice
//!   of kernels ([`kernel_path`]).
//! - `report.rs`: what a fit did ([`FitReport`]).
//! - `tests/`: the crate's tests and 0.8.1's objective functions they compare against.

pub mod error;
mod evaluation;
mod fit;
mod fitted;
mod float;
mod hyperparams;
mod labels;
mod optim;
mod report;
mod sag;
#[cfg(test)]
mod tests;

pub use evaluation::isa::{kernel_path, KernelPath, KERNELS_ENV};
pub use evaluation::records::{RowBlocks, ScaledBytes, STORAGE_ENV};
pub use fitted::{
    BinaryClassLabels, ClassLabel, FittedLogisticRegression, MultiFittedLogisticRegression,
};
pub use float::Float;
pub use hyperparams::{LogisticRegressionParams, LogisticRegressionValidParams};
pub use report::{FitReport, IterationRecord, Termination};
pub use sag::{SagParams, SagValidParams};

use ndarray::{Ix1, Ix2};

/// What fitted a model, for records that must be refitted when it changes: one string per
/// solver family, changed whenever a change here can change a fit of that family (a record names
/// the engine that wrote it). The patch numbers are `PATCHES.md`'s.
pub mod identity {
    /// The L-BFGS models ([`crate::LogisticRegression`], [`crate::MultiLogisticRegression`]).
    pub const LBFGS: &str =
        "linfa-logistic 0.8.1 with vendor/linfa-logistic/PATCHES.md 1-4: L-BFGS-B, kernels of patch 2";
    /// The L-BFGS models on bytes through a scaler with offsets (a standard scaler), which
    /// the evaluation folds into the weights to skip the zero bytes (PATCHES.md 9).
    pub const LBFGS_FOLDED: &str =
        "linfa-logistic 0.8.1 with vendor/linfa-logistic/PATCHES.md 1-4, 9: L-BFGS-B, a standard scaler folded into the weights";
    /// Gradient descent with a fixed step (`gradient_descent` on the L-BFGS models' builders).
    pub const GD: &str =
        "linfa-logistic 0.8.1 with vendor/linfa-logistic/PATCHES.md 1-3, 10: full-batch gradient descent";
    /// SAG and SAGA ([`crate::SagParams`]).
    pub const SAG: &str =
        "linfa-logistic 0.8.1 with vendor/linfa-logistic/PATCHES.md 6: SAG and SAGA";
}

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
