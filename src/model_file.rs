//! `runs/<run_id>/model.npz`: a finished run's fitted model, for use outside the harness.
//!
//! A NumPy `.npz` archive (uncompressed), loaded with `np.load(path)`. Arrays:
//!
//! | name | shape, type | content |
//! |---|---|---|
//! | `format_version` | (1,) int64 | [`FORMAT_VERSION`] |
//! | `coef` | (10, 784) float64 | weights per class, on the scaled features |
//! | `intercept` | (10,) float64 | one per class |
//! | `scaler_offset`, `scaler_scale` | (784,) float64 | the scaler: `(pixels - offset) * scale` |
//! | `classes` | (10,) int64 | the digit of each row of `coef` |
//! | `ovr` | (1,) int64 | 1 for one-vs-rest (probabilities: normalised sigmoids), 0 for softmax |
//! | `run_json` | (n,) uint8 | UTF-8 JSON: the run id, its parameters, the data checksum |
//!
//! Decision values for raw pixels `x` (n x 784, 0..255): `((x - scaler_offset) * scaler_scale) @
//! coef.T + intercept`; the predicted digit is `classes[argmax]`.

use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::NpzWriter;

use crate::config::Run;
use crate::error::{Error, Result};
use crate::model::{LinearModel, MultiClass, N_CLASSES};
use crate::store::write_atomic_with;

/// The version of the layout above; a reader refuses other versions.
pub const FORMAT_VERSION: i64 = 1;

/// Writes the model of `run` to `path` atomically.
pub fn write(
    path: &Path,
    run: &Run,
    data_checksum: &str,
    model: &LinearModel,
    scaler_offset: &Array1<f64>,
    scaler_scale: &Array1<f64>,
) -> Result<()> {
    let run_json = serde_json::to_vec(&serde_json::json!({
        "run_id": run.id,
        "params": run.params,
        "data_checksum": data_checksum,
    }))
    .map_err(|e| Error::output(path, e))?;
    let coef: Array2<f64> = model.weights.t().to_owned();
    let classes = Array1::from_iter(0..N_CLASSES as i64);
    let ovr = i64::from(model.multi_class == MultiClass::Ovr);
    write_atomic_with(path, |tmp| {
        let file = std::fs::File::create(tmp).map_err(|e| Error::output(tmp, e))?;
        let mut npz = NpzWriter::new(file);
        let fail = |e: ndarray_npy::WriteNpzError| Error::output(tmp, e);
        npz.add_array("format_version", &Array1::from_elem(1, FORMAT_VERSION))
            .map_err(fail)?;
        npz.add_array("coef", &coef).map_err(fail)?;
        npz.add_array("intercept", &model.intercept).map_err(fail)?;
        npz.add_array("scaler_offset", scaler_offset)
            .map_err(fail)?;
        npz.add_array("scaler_scale", scaler_scale).map_err(fail)?;
        npz.add_array("classes", &classes).map_err(fail)?;
        npz.add_array("ovr", &Array1::from_elem(1, ovr))
            .map_err(fail)?;
        npz.add_array("run_json", &Array1::from_vec(run_json.clone()))
            .map_err(fail)?;
        npz.finish().map_err(fail)?;
        Ok(())
    })
}

/// A saved model's weights per raw pixel (0..255 units: `coef * scaler_scale`), one row per
/// class, and whether it is one-vs-rest; for the coefficient images.
pub fn read_pixel_weights(path: &Path) -> Result<(Array2<f64>, bool)> {
    let fail = |what: String| Error::Output {
        path: path.to_path_buf(),
        message: format!("{what}: rerun the sweep with --force to rewrite the model files"),
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut npz = ndarray_npy::NpzReader::new(file).map_err(|e| fail(e.to_string()))?;
    let version: Array1<i64> = npz
        .by_name("format_version")
        .map_err(|e| fail(e.to_string()))?;
    if version.first() != Some(&FORMAT_VERSION) {
        return Err(fail(format!(
            "model format version {:?}, this harness reads {FORMAT_VERSION}",
            version.first()
        )));
    }
    let coef: Array2<f64> = npz.by_name("coef").map_err(|e| fail(e.to_string()))?;
    let scale: Array1<f64> = npz
        .by_name("scaler_scale")
        .map_err(|e| fail(e.to_string()))?;
    let ovr: Array1<i64> = npz.by_name("ovr").map_err(|e| fail(e.to_string()))?;
    if coef.ncols() != scale.len() {
        return Err(fail("coef and scaler_scale disagree in length".into()));
    }
    Ok((&coef * &scale, ovr.first() == Some(&1)))
}
