//! From pixels to model-ready matrices: gather the split's rows, scale them with a scaler fitted
//! on the training rows only (linfa-preprocessing), and divide the training matrix by the fit
//! scale the model stage needs.
//!
//! The matrices are built once per (split, scaler, dtype, fit units) and shared by every run that uses them.
//! They stay bytes: the engine applies the fitted offsets and scales (and the fit scale) as it
//! reads each block of rows, computing what linfa's `transform` would store, value for value.
//!
//! May touch: `model` (the `Dtype` and `FitUnits` types only), `named`, `split` (index types).

use linfa::prelude::*;
use linfa_logistic::ScaledBytes;
use linfa_preprocessing::linear_scaling::LinearScaler;
use ndarray::{s, Array1, Array2, ArrayView2};

use crate::model::{Dtype, FitUnits, Float};
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

impl Scaler {
    /// True when the scaler moves a zero pixel away from zero (the standard scaler's means;
    /// min-max's minimum and max-abs leave MNIST's zero pixels at zero): the engine then folds it
    /// into the weights to skip the zero pixels, which rounds otherwise than reading every value.
    pub fn has_offsets(self) -> bool {
        self == Scaler::Standard
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
/// convergence); a solver that reads the features in their own units (gradient descent) gets 1.
/// Only the training matrix is divided: the model stage returns weights in the units of the test
/// matrix (see [`crate::model`]).
pub fn initial_fit_scale(dtype: Dtype, units: FitUnits, max_abs_feature: f64) -> f64 {
    match (dtype, units) {
        (Dtype::F64, _) | (_, FitUnits::Features) => 1.0,
        (Dtype::F32, FitUnits::Scaled) if max_abs_feature > 0.0 => max_abs_feature,
        (Dtype::F32, FitUnits::Scaled) => 1.0,
    }
}

/// The matrices of one (split, scaler, dtype) group, as the split's pixels (bytes) read through
/// the fitted scaler: 44 MB for MNIST's 56,000 training images where floats would take 351 MB
/// (f64). The engine converts a block of rows at a time (`ScaledBytes`).
#[derive(Debug, Clone)]
pub struct PreparedData<F> {
    /// Training pixels read as scaled features divided by `fit_scale`.
    pub x_fit: ScaledBytes<F>,
    /// The divisor applied to `x_fit` (see [`crate::model`]).
    pub fit_scale: f64,
    pub y_train: Vec<u8>,
    /// Test pixels read as scaled features, not divided by `fit_scale`.
    pub x_test: ScaledBytes<F>,
    pub y_test: Vec<u8>,
    /// The fitted scaler as `(x - offset) * scale` per feature (0 and 1 for none), in f64: what a
    /// saved model applies to new images.
    pub scaler_offset: Array1<f64>,
    pub scaler_scale: Array1<f64>,
}

/// Copies the given rows of the image matrix (row-major).
fn gather(images: ArrayView2<u8>, rows: &[usize]) -> Array2<u8> {
    let mut out = Array2::zeros((rows.len(), images.ncols()));
    for (mut dst, &r) in out.rows_mut().into_iter().zip(rows) {
        dst.assign(&images.row(r));
    }
    out
}

/// A fitted scaler as `(offsets, scales)`: features map to `(x - offset) * scale`.
type Affine<F> = (Array1<F>, Array1<F>);

/// Columns converted to floats at once while a scaler is fitted: the whole training matrix as
/// floats (351 MB for MNIST in f64) never exists, only 128 of its columns (57 MB).
const SCALER_COLUMNS: usize = 128;

/// `(offsets, scales)` of the scaler fitted on `x_train`; features map to `(x - offset) * scale`.
///
/// linfa's scalers are per feature (each column's mean and deviation, extremes, or largest
/// magnitude, computed down that column alone), so the scaler is fitted on blocks of columns and
/// the blocks' offsets and scales are joined: the same numbers as a fit on the whole matrix
/// (checked bit for bit in the tests). No block has a single column unless the matrix has.
fn fit_scaler<F: linfa::Float>(
    scaler: Scaler,
    x_train: ArrayView2<u8>,
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
    let (mut offsets, mut scales) = (Vec::with_capacity(d), Vec::with_capacity(d));
    let mut start = 0;
    while start < d {
        let mut end = (start + SCALER_COLUMNS).min(d);
        if d - end == 1 {
            end = d;
        }
        let block = x_train.slice(s![.., start..end]).mapv(|v| F::cast(v));
        let fitted = params
            .fit(&DatasetBase::new(block, targets.view()))
            .map_err(|e| ScalerError {
                scaler,
                message: e.to_string(),
            })?;
        offsets.extend(fitted.offsets().iter().copied());
        scales.extend(fitted.scales().iter().copied());
        start = end;
    }
    Ok(Some((Array1::from(offsets), Array1::from(scales))))
}

/// Builds the matrices of one group from the full image matrix and labels.
pub fn prepare<F: Float>(
    images: ArrayView2<u8>,
    labels: &[u8],
    split: &SplitIndices,
    scaler: Scaler,
    dtype: Dtype,
    units: FitUnits,
) -> Result<PreparedData<F>, ScalerError> {
    let y_train: Vec<u8> = split.train.iter().map(|&i| labels[i]).collect();
    let y_test: Vec<u8> = split.test.iter().map(|&i| labels[i]).collect();
    let train = gather(images, &split.train);
    let test = gather(images, &split.test);
    let d = images.ncols();
    let fitted = fit_scaler::<F>(scaler, train.view(), &y_train)?;
    // The largest magnitude of a scaled feature: at a byte value of 0 or 255 for each column.
    let max_abs = match &fitted {
        None => f64::from(train.iter().copied().max().unwrap_or(0)),
        Some((offsets, scales)) => {
            let (lo, hi) = column_extremes(train.view());
            let value = |b: u8, o: F, s: F| ((F::cast(b) - o) * s).abs().to_f64().unwrap_or(0.0);
            (0..d).fold(0.0f64, |m, j| {
                m.max(value(lo[j], offsets[j], scales[j]))
                    .max(value(hi[j], offsets[j], scales[j]))
            })
        }
    };
    let fit_scale = initial_fit_scale(dtype, units, max_abs);
    let scaled = |bytes: Array2<u8>| {
        let x = ScaledBytes::new(bytes);
        match &fitted {
            Some((offsets, scales)) => x.with_scaler(offsets.clone(), scales.clone()),
            None => Ok(x),
        }
    };
    let invalid = |e: linfa_logistic::error::Error| ScalerError {
        scaler,
        message: e.to_string(),
    };
    let x_fit = scaled(train)
        .and_then(|x| x.divided_by(F::cast(fit_scale)))
        .map_err(invalid)?;
    let x_test = scaled(test).map_err(invalid)?;
    let (scaler_offset, scaler_scale) = match fitted {
        Some((offsets, scales)) => (
            offsets.mapv(|v| v.to_f64().unwrap_or(f64::NAN)),
            scales.mapv(|v| v.to_f64().unwrap_or(f64::NAN)),
        ),
        None => (Array1::zeros(d), Array1::ones(d)),
    };
    Ok(PreparedData {
        x_fit,
        fit_scale,
        y_train,
        x_test,
        y_test,
        scaler_offset,
        scaler_scale,
    })
}

/// Each column's smallest and largest byte.
fn column_extremes(x: ArrayView2<u8>) -> (Vec<u8>, Vec<u8>) {
    let d = x.ncols();
    let (mut lo, mut hi) = (vec![u8::MAX; d], vec![0u8; d]);
    for row in x.rows() {
        for (j, &v) in row.iter().enumerate() {
            lo[j] = lo[j].min(v);
            hi[j] = hi[j].max(v);
        }
    }
    (lo, hi)
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

    /// Scalers fitted on blocks of columns give linfa's offsets and scales for the whole matrix,
    /// and the bytes read through them give linfa's `transform`, bit for bit (300 columns: three
    /// blocks; 129: one block, the last column joined to it).
    #[test]
    fn column_blocks_and_byte_reads_equal_linfas_fit_and_transform() {
        for d in [300, 129, 3] {
            let bytes = Array2::from_shape_fn((57, d), |(i, j)| {
                ((i * 37 + j * 11 + (i * j) % 13) % 256) as u8
            });
            let labels: Vec<u8> = (0..57).map(|i| (i % 10) as u8).collect();
            let x = bytes.mapv(f64::from);
            for (scaler, params) in [
                (Scaler::Standard, LinearScaler::standard()),
                (Scaler::MinMax, LinearScaler::min_max()),
                (Scaler::MaxAbs, LinearScaler::max_abs()),
            ] {
                let params: LinearScalerParams<f64> = params;
                let targets: Array1<u8> = labels.iter().copied().collect();
                let fitted = params.fit(&DatasetBase::new(x.view(), targets)).unwrap();
                let (o, s) = fit_scaler::<f64>(scaler, bytes.view(), &labels)
                    .unwrap()
                    .unwrap();
                assert_eq!(&o, fitted.offsets(), "{scaler:?}, {d} columns");
                assert_eq!(&s, fitted.scales(), "{scaler:?}, {d} columns");
                let expected = fitted.transform(x.clone());
                let read = ScaledBytes::new(bytes.clone())
                    .with_scaler(o, s)
                    .unwrap()
                    .to_floats();
                assert!(
                    read.iter()
                        .zip(&expected)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{scaler:?}, {d} columns"
                );
            }
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
            FitUnits::Scaled,
        )
        .unwrap();
        // Column 0 spans 0..5 in training; the test value 200 maps to 40, outside [0, 1].
        assert_eq!(data.x_test.to_floats()[[0, 0]], 40.0);
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
            FitUnits::Scaled,
        )
        .unwrap();
        assert!(data.x_fit.bytes().is_standard_layout());
        assert!(data.x_test.bytes().is_standard_layout());
        assert_eq!(
            data.x_fit.to_floats()[[1, 0]],
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
        let raw = prepare::<f64>(
            images().view(),
            &labels,
            &split,
            Scaler::None,
            Dtype::F64,
            FitUnits::Scaled,
        )
        .unwrap();
        assert_eq!(raw.fit_scale, 1.0);
        assert_eq!(raw.x_fit.to_floats()[[0, 2]], 255.0);
        assert_eq!(raw.x_test.to_floats()[[0, 0]], 7.0);
        let raw32 = prepare::<f32>(
            images().view(),
            &labels,
            &split,
            Scaler::None,
            Dtype::F32,
            FitUnits::Scaled,
        )
        .unwrap();
        assert_eq!(raw32.fit_scale, 255.0);
        assert_eq!(raw32.x_fit.to_floats()[[0, 2]], 1.0);
        let unit = prepare::<f32>(
            images().view(),
            &labels,
            &split,
            Scaler::Unit,
            Dtype::F32,
            FitUnits::Scaled,
        )
        .unwrap();
        assert_eq!(unit.fit_scale, 1.0);
        assert!((unit.x_fit.to_floats()[[0, 2]] - 1.0).abs() < 1e-7);
        // Gradient descent reads the features in their own units in f32 too.
        let gd32 = prepare::<f32>(
            images().view(),
            &labels,
            &split,
            Scaler::None,
            Dtype::F32,
            FitUnits::Features,
        )
        .unwrap();
        assert_eq!(gd32.fit_scale, 1.0);
        assert_eq!(gd32.x_fit.to_floats()[[0, 2]], 255.0);
    }
}
