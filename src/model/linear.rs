//! The fitted model: weights and intercepts in the units of the (preprocessed) features, its
//! decision values and class probabilities.
//!
//! May touch: `model::params`.

use linfa_logistic::RowBlocks;
use ndarray::{s, Array1, Array2, NdFloat};

/// Rows converted and multiplied at once by [`LinearModel::decision`] (about 6 MB of f64 pixels).
pub(super) const BLOCK_ROWS: usize = 1024;

use super::params::MultiClass;

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
    /// features divided by `scale`: a float matrix, or bytes read through a scaler. Computed a
    /// block of rows at a time.
    pub fn decision<F: NdFloat, X: RowBlocks<F> + ?Sized>(&self, x: &X, scale: f64) -> Array2<f64> {
        let w = self
            .weights
            .mapv(|v| F::from(v * scale).expect("finite weight"));
        let mut z = Array2::zeros((x.n_rows(), self.weights.ncols()));
        let mut scratch = Vec::new();
        for start in (0..x.n_rows()).step_by(BLOCK_ROWS) {
            let end = (start + BLOCK_ROWS).min(x.n_rows());
            let zb = x.rows(start, end, &mut scratch).dot(&w);
            z.slice_mut(s![start..end, ..])
                .zip_mut_with(&zb, |z, v| *z = v.to_f64().expect("finite decision"));
        }
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

    /// The share of weights that are exactly zero: the sparsity an l1 penalty buys (with l2 only,
    /// the pixels no training image inks keep their zero weight too).
    pub fn zero_weights(&self) -> f64 {
        zero_share(self.weights.iter())
    }

    /// True when every weight and intercept is exactly zero (linfa's silent failure).
    pub fn is_zero(&self) -> bool {
        self.weights
            .iter()
            .chain(self.intercept.iter())
            .all(|&v| v == 0.0)
    }
}

pub(super) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `ln(1 + exp(z))` without overflow.
pub(super) fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}
/// The share of exactly-zero values among `weights` (NaN for none).
pub fn zero_share<'a>(weights: impl Iterator<Item = &'a f64>) -> f64 {
    let (zeros, total) = weights.fold((0usize, 0usize), |(z, t), &w| {
        (z + usize::from(w == 0.0), t + 1)
    });
    zeros as f64 / total as f64
}
