//! From pixels to model-ready matrices: gather the split's rows, scale them with a scaler fitted
//! on the training rows only (linfa-preprocessing), and divide the training matrix by the fit
//! scale the model stage needs.
//!
//! The matrices are built once per (split, scaler, dtype) and shared by every run that uses them.
//! Scaling is applied in place with the fitted offsets and scales (linfa's `transform` would copy
//! the 56,000 x 784 matrix).
//!
//! May touch: `model` (the `Dtype` type only), `named`, `split` (index types).

use linfa::prelude::*;
use linfa_preprocessing::linear_scaling::LinearScaler;
use ndarray::{Array1, Array2, ArrayView2, Zip};

use crate::model::Dtype;
use crate::named::named_enum;
use crate::split::SplitIndices;

named_enum! {
    /// How pixels are scaled before the fit.
    pub enum Scaler {
        /// Raw pixels 0..255, as the scikit-learn notebooks.
        None = "none",
        /// Pixels divided by 255, into [0, 1].
        Unit = "unit",
        /// Zero mean, unit variance per pixel (linfa's `LinearScaler::standard`).
        Standard = "standard",
        /// Each pixel mapped to [0, 1] by its training min and max.
        MinMax = "min_max",
        /// Each pixel divided by its largest training magnitude.
        MaxAbs = "max_abs",
    }
}

/// linfa-preprocessing could not fit a scaler on the training rows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("fitting the {scaler} scaler: {message}")]
pub struct ScalerError {
    pub scaler: Scaler,
    pub message: String,
}

/// The divisor of the training matrix a dtype's fit starts from, given the largest absolute
/// feature value: f64 fits run in the original units (no rescaling needed since the engine's
/// log-sum-exp is row-wise); f32 fits bring the features to [-1, 1] (measured: raw pixels in f32
/// end far from the optimum otherwise, and the [-1/16, 1/16] that linfa 0.8.1 needed now slows
/// convergence). Only the training matrix is divided: the model stage returns weights in the
/// units of the test matrix (see [`crate::model`]).
pub fn initial_fit_scale(dtype: Dtype, max_abs_feature: f64) -> f64 {
    match dtype {
        Dtype::F64 => 1.0,
        Dtype::F32 if max_abs_feature > 0.0 => max_abs_feature,
        Dtype::F32 => 1.0,
    }
}

/// The matrices of one (split, scaler, dtype) group.
#[derive(Debug, Clone)]
pub struct PreparedData<F> {
    /// Training features divided by `fit_scale`.
    pub x_fit: Array2<F>,
    /// The divisor applied to `x_fit` (see [`crate::model`]).
    pub fit_scale: f64,
    pub y_train: Vec<u8>,
    /// Test features, scaled, not divided by `fit_scale`.
    pub x_test: Array2<F>,
    pub y_test: Vec<u8>,
    /// The fitted scaler as `(x - offset) * scale` per feature (0 and 1 for none), in f64: what a
    /// saved model applies to new images.
    pub scaler_offset: Array1<f64>,
    pub scaler_scale: Array1<f64>,
}

/// Copies the given rows of the u8 image matrix into a row-major float matrix.
fn gather<F: linfa::Float>(images: ArrayView2<u8>, rows: &[usize]) -> Array2<F> {
    let mut out = Array2::zeros((rows.len(), images.ncols()));
    for (mut dst, &r) in out.rows_mut().into_iter().zip(rows) {
        dst.zip_mut_with(&images.row(r), |d, &s| *d = F::cast(s));
    }
    out
}

/// A fitted scaler as `(offsets, scales)`: features map to `(x - offset) * scale`.
type Affine<F> = (Array1<F>, Array1<F>);

/// `(offsets, scales)` of the scaler fitted on `x_train`; features map to `(x - offset) * scale`.
fn fit_scaler<F: linfa::Float>(
    scaler: Scaler,
    x_train: &Array2<F>,
    y_train: &[u8],
) -> Result<Option<Affine<F>>, ScalerError> {
    let d = x_train.ncols();
    let params = match scaler {
        Scaler::None => return Ok(None),
        Scaler::Unit => {
            return Ok(Some((
                Array1::zeros(d),
                Array1::from_elem(d, F::cast(1.0 / 255.0)),
            )))
        }
        Scaler::Standard => LinearScaler::standard(),
        Scaler::MinMax => LinearScaler::min_max(),
        Scaler::MaxAbs => LinearScaler::max_abs(),
    };
    let targets: Array1<u8> = y_train.iter().copied().collect();
    let fitted = params
        .fit(&DatasetBase::new(x_train.view(), targets))
        .map_err(|e| ScalerError {
            scaler,
            message: e.to_string(),
        })?;
    Ok(Some((fitted.offsets().clone(), fitted.scales().clone())))
}

/// Applies `(x - offset) * scale` column by column, in place (what linfa's `transform` computes
/// for these scalers, without the copy).
fn apply_scaler<F: linfa::Float>(x: &mut Array2<F>, offsets: &Array1<F>, scales: &Array1<F>) {
    for mut row in x.rows_mut() {
        Zip::from(&mut row)
            .and(offsets)
            .and(scales)
            .for_each(|v, &o, &s| *v = (*v - o) * s);
    }
}

/// Builds the matrices of one group from the full image matrix and labels.
pub fn prepare<F: linfa::Float>(
    images: ArrayView2<u8>,
    labels: &[u8],
    split: &SplitIndices,
    scaler: Scaler,
    dtype: Dtype,
) -> Result<PreparedData<F>, ScalerError> {
    let y_train: Vec<u8> = split.train.iter().map(|&i| labels[i]).collect();
    let y_test: Vec<u8> = split.test.iter().map(|&i| labels[i]).collect();
    // Both matrices are row-major: the patched linfa-logistic reads the training matrix in blocks
    // of rows (see vendor/linfa-logistic/src/objective.rs).
    let mut x_train = gather::<F>(images, &split.train);
    let mut x_test = gather::<F>(images, &split.test);
    let d = images.ncols();
    let (mut scaler_offset, mut scaler_scale) = (Array1::zeros(d), Array1::ones(d));
    if let Some((offsets, scales)) = fit_scaler(scaler, &x_train, &y_train)? {
        apply_scaler(&mut x_train, &offsets, &scales);
        apply_scaler(&mut x_test, &offsets, &scales);
        scaler_offset = offsets.mapv(|v| v.to_f64().unwrap_or(f64::NAN));
        scaler_scale = scales.mapv(|v| v.to_f64().unwrap_or(f64::NAN));
    }
    let max_abs = x_train
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs().to_f64().unwrap_or(0.0)));
    let fit_scale = initial_fit_scale(dtype, max_abs);
    let divisor = F::cast(fit_scale);
    x_train.mapv_inplace(|v| v / divisor);
    Ok(PreparedData {
        x_fit: x_train,
        fit_scale,
        y_train,
        x_test,
        y_test,
        scaler_offset,
        scaler_scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa_preprocessing::linear_scaling::LinearScalerParams;
    use ndarray::array;

    fn images() -> Array2<u8> {
        array![
            [0, 10, 255],
            [5, 10, 0],
            [200, 10, 100],
            [7, 10, 50],
            [90, 10, 3]
        ]
    }

    #[test]
    fn in_place_scaling_equals_linfas_transform() {
        let x = images().mapv(f64::from);
        for (scaler, params) in [
            (Scaler::Standard, LinearScaler::standard()),
            (Scaler::MinMax, LinearScaler::min_max()),
            (Scaler::MaxAbs, LinearScaler::max_abs()),
        ] {
            let params: LinearScalerParams<f64> = params;
            let expected = params
                .fit(&DatasetBase::new(x.view(), array![0u8, 1, 2, 3, 4]))
                .unwrap()
                .transform(x.clone());
            let (o, s) = fit_scaler(scaler, &x, &[0, 1, 2, 3, 4]).unwrap().unwrap();
            let mut got = x.clone();
            apply_scaler(&mut got, &o, &s);
            let diff = (&got - &expected)
                .iter()
                .fold(0.0f64, |m, d| m.max(d.abs()));
            assert!(diff < 1e-12, "{scaler:?}: {diff}");
        }
    }

    #[test]
    fn scaler_is_fitted_on_training_rows_only() {
        let split = SplitIndices {
            train: vec![0, 1],
            test: vec![2],
        };
        let data = prepare::<f64>(
            images().view(),
            &[0, 1, 2, 3, 4],
            &split,
            Scaler::MinMax,
            Dtype::F64,
        )
        .unwrap();
        // Column 0 spans 0..5 in training; the test value 200 maps to 40, outside [0, 1].
        assert_eq!(data.x_test[[0, 0]], 40.0);
        assert_eq!(data.y_train, vec![0, 1]);
        assert_eq!(data.y_test, vec![2]);
    }

    #[test]
    fn training_and_test_matrices_are_row_major() {
        let split = SplitIndices {
            train: vec![0, 2],
            test: vec![1],
        };
        let data = prepare::<f64>(
            images().view(),
            &[0, 1, 2, 3, 4],
            &split,
            Scaler::None,
            Dtype::F64,
        )
        .unwrap();
        assert!(data.x_fit.is_standard_layout());
        assert!(data.x_test.is_standard_layout());
        assert_eq!(
            data.x_fit[[1, 0]],
            200.0,
            "f64 fits run on the features as given"
        );
    }

    #[test]
    fn fit_scale_is_one_in_f64_and_brings_f32_features_to_unit_range() {
        let split = SplitIndices {
            train: vec![0, 1, 2],
            test: vec![3, 4],
        };
        let labels = [0, 1, 2, 3, 4];
        let raw =
            prepare::<f64>(images().view(), &labels, &split, Scaler::None, Dtype::F64).unwrap();
        assert_eq!(raw.fit_scale, 1.0);
        assert_eq!(raw.x_fit[[0, 2]], 255.0);
        assert_eq!(raw.x_test[[0, 0]], 7.0);
        let raw32 =
            prepare::<f32>(images().view(), &labels, &split, Scaler::None, Dtype::F32).unwrap();
        assert_eq!(raw32.fit_scale, 255.0);
        assert_eq!(raw32.x_fit[[0, 2]], 1.0);
        let unit =
            prepare::<f32>(images().view(), &labels, &split, Scaler::Unit, Dtype::F32).unwrap();
        assert_eq!(unit.fit_scale, 1.0);
        assert!((unit.x_fit[[0, 2]] - 1.0).abs() < 1e-7);
    }
}
