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
//!
//! May touch: `folder` (results files and inputs through one handle), `config` (the run),
//! `digits`, `error`, `model`.

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView2};
use ndarray_npy::NpzWriter;

use crate::config::Run;
use crate::digits::{N_CLASSES, N_PIXELS};
use crate::error::{Error, Result};
use crate::model::{LinearModel, MultiClass};

/// The largest model file read (784 x 10 weights in f64 are 63 KB; with scalers and the
/// record, under 200 KB).
pub const MAX_MODEL_BYTES: u64 = 16 << 20;

/// The version of the layout above; a reader refuses other versions.
pub const FORMAT_VERSION: i64 = 1;

/// The model of `run` as the bytes of a model file (`path` is where they go, for messages).
pub fn to_bytes(
    path: &Path,
    run: &Run,
    data_checksum: &str,
    model: &LinearModel,
    scaler_offset: &Array1<f64>,
    scaler_scale: &Array1<f64>,
) -> Result<Vec<u8>> {
    let run_json = serde_json::to_vec(&serde_json::json!({
        "run_id": run.id,
        "params": run.params,
        "data_checksum": data_checksum,
    }))
    .map_err(|e| Error::output(path, e))?;
    let coef: Array2<f64> = model.weights.t().to_owned();
    let classes = Array1::from_iter(0..N_CLASSES as i64);
    let ovr = i64::from(model.multi_class == MultiClass::Ovr);
    let mut bytes = std::io::Cursor::new(Vec::new());
    {
        let mut npz = NpzWriter::new(&mut bytes);
        let fail = |e: ndarray_npy::WriteNpzError| Error::output(path, e);
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
    }
    Ok(bytes.into_inner())
}

/// The first value that is not finite, if any.
fn first_not_finite<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    values.into_iter().find(|v| !v.is_finite()).copied()
}

/// A model file read back: everything [`write()`] stored.
#[derive(Debug, Clone)]
pub struct SavedModel {
    /// Classes x features, on the scaled features.
    pub coef: Array2<f64>,
    pub intercept: Array1<f64>,
    pub scaler_offset: Array1<f64>,
    pub scaler_scale: Array1<f64>,
    /// The digit of each row of `coef`.
    pub classes: Vec<i64>,
    pub multi_class: MultiClass,
    /// The run's id, parameters and data checksum, as JSON.
    pub run: serde_json::Value,
}

impl SavedModel {
    /// Reads a model file, refusing other format versions and inconsistent shapes. Errors are
    /// [`Error::Model`]: `what_to_do` ends each message.
    pub fn read(path: &Path, what_to_do: &str) -> Result<Self> {
        let bytes = crate::folder::read_input(path, MAX_MODEL_BYTES).map_err(|e| Error::Model {
            path: path.to_path_buf(),
            message: format!("{e}: {what_to_do}"),
        })?;
        SavedModel::from_bytes(&bytes, path, what_to_do)
    }

    /// [`SavedModel::read`] on a model file's bytes, already read (`path` names it in messages).
    pub fn from_bytes(bytes: &[u8], path: &Path, what_to_do: &str) -> Result<Self> {
        let fail = |what: String| Error::Model {
            path: path.to_path_buf(),
            message: format!("{what}: {what_to_do}"),
        };
        let mut npz = ndarray_npy::NpzReader::new(std::io::Cursor::new(bytes))
            .map_err(|e| fail(format!("not a model file ({e})")))?;
        let version: Array1<i64> = npz
            .by_name("format_version")
            .map_err(|e| fail(format!("not a model file (format_version: {e})")))?;
        if version.first() != Some(&FORMAT_VERSION) {
            let found = version.first().map_or("none".to_string(), i64::to_string);
            return Err(fail(format!(
                "model format version {found}, this harness reads version {FORMAT_VERSION}"
            )));
        }
        let mut array = |name: &str| -> Result<ndarray::ArrayD<f64>> {
            npz.by_name(name)
                .map_err(|e| fail(format!("damaged model file ({name}: {e})")))
        };
        let coef = array("coef")?
            .into_dimensionality()
            .map_err(|e| fail(format!("damaged model file (coef: {e})")))?;
        let vector = |a: ndarray::ArrayD<f64>, name: &str| {
            a.into_dimensionality()
                .map_err(|e| fail(format!("damaged model file ({name}: {e})")))
        };
        let intercept = vector(array("intercept")?, "intercept")?;
        let scaler_offset = vector(array("scaler_offset")?, "scaler_offset")?;
        let scaler_scale = vector(array("scaler_scale")?, "scaler_scale")?;
        let mut ints = |name: &str| -> Result<Array1<i64>> {
            npz.by_name(name)
                .map_err(|e| fail(format!("damaged model file ({name}: {e})")))
        };
        let classes = ints("classes")?.to_vec();
        let ovr = ints("ovr")?;
        if ovr.len() != 1 || !(ovr[0] == 0 || ovr[0] == 1) {
            return Err(fail(format!(
                "damaged model file (ovr is {ovr}, expected [0] or [1])"
            )));
        }
        let run_json: Array1<u8> = npz
            .by_name("run_json")
            .map_err(|e| fail(format!("damaged model file (run_json: {e})")))?;
        let run = serde_json::from_slice(run_json.as_slice().unwrap_or_default())
            .map_err(|e| fail(format!("damaged model file (run_json: {e})")))?;
        let model = SavedModel {
            coef,
            intercept,
            scaler_offset,
            scaler_scale,
            classes,
            multi_class: if ovr.first() == Some(&1) {
                MultiClass::Ovr
            } else {
                MultiClass::Multinomial
            },
            run,
        };
        let (k, n) = model.coef.dim();
        if k != N_CLASSES
            || n != N_PIXELS
            || model.intercept.len() != k
            || model.classes.len() != k
            || model.scaler_offset.len() != n
            || model.scaler_scale.len() != n
        {
            return Err(fail(format!(
                "damaged model file (coef {k} x {n}, intercept {}, classes {}, scaler {} and {})",
                model.intercept.len(),
                model.classes.len(),
                model.scaler_offset.len(),
                model.scaler_scale.len()
            )));
        }
        let mut digits = model.classes.clone();
        digits.sort_unstable();
        if digits != (0..N_CLASSES as i64).collect::<Vec<_>>() {
            return Err(fail(format!(
                "damaged model file (classes {:?}, expected each digit 0-9 once)",
                model.classes
            )));
        }
        // Iterators work on any memory layout (the writer stores `coef` in Fortran order).
        let arrays = [
            ("coef", first_not_finite(&model.coef)),
            ("intercept", first_not_finite(&model.intercept)),
            ("scaler_offset", first_not_finite(&model.scaler_offset)),
            ("scaler_scale", first_not_finite(&model.scaler_scale)),
        ];
        for (name, bad) in arrays {
            if let Some(bad) = bad {
                return Err(fail(format!(
                    "damaged model file ({name} holds {bad}: every value must be finite)"
                )));
            }
        }
        Ok(model)
    }

    /// The number of features (pixels) the model takes.
    pub fn n_features(&self) -> usize {
        self.coef.ncols()
    }

    /// The weights per raw pixel (0..255 units: `coef * scaler_scale`), one row per class.
    pub fn pixel_weights(&self) -> Array2<f64> {
        &self.coef * &self.scaler_scale
    }

    /// Class probabilities for raw pixels (rows: images, values 0..255), as the sweep computes
    /// them for the test set.
    pub fn probabilities(&self, pixels: ArrayView2<f64>) -> Array2<f64> {
        let scaled = (&pixels - &self.scaler_offset) * &self.scaler_scale;
        let linear = LinearModel {
            multi_class: self.multi_class,
            weights: self.coef.t().to_owned(),
            intercept: self.intercept.clone(),
        };
        linear.probabilities(&linear.decision(&scaled, 1.0))
    }
}
