//! `runs/<run_id>/model.npz`: a finished run's fitted model, for use outside the harness.
//!
//! A NumPy `.npz` archive (uncompressed), loaded with `np.load(path)`. Arrays:
//!
//! | name | shape, type | content |
//! |---|---|---|
//! | `format_version` | () int64 | [`FORMAT_VERSION`]: `int(m["format_version"])` |
//! | `coef` | (10, 784) float64 | weights per class, on the scaled features |
//! | `intercept` | (10,) float64 | one per class |
//! | `scaler_offset`, `scaler_scale` | (784,) float64 | the scaler: `(pixels - offset) * scale` |
//! | `classes` | (10,) int64 | the digit of each row of `coef` |
//! | `ovr` | () int64 | 1 for one-vs-rest (probabilities: normalised sigmoids), 0 for softmax |
//! | `run_json` | () unicode | JSON: the run id, its parameters, the data checksum: `json.loads(str(m["run_json"]))` |
//!
//! Decision values for raw pixels `x` (n x 784, 0..255): `((x - scaler_offset) * scaler_scale) @
//! coef.T + intercept`; the predicted digit is `classes[argmax]`.
//!
//! Version 1 (still read) stored `format_version` and `ovr` as 1-element arrays, which numpy 2
//! will not turn into a Python int, and `run_json` as (n,) uint8 UTF-8 bytes.
//!
//! May touch: `folder` (results files and inputs through one handle), `config` (the run),
//! `digits`, `error`, `model`.

use std::path::Path;

use std::io::{Read, Write};

use ndarray::{Array1, Array2, ArrayView2};

use crate::config::Run;
use crate::digits::{N_CLASSES, N_PIXELS};
use crate::error::{Error, Result};
use crate::model::{LinearModel, MultiClass};

/// The largest model file read (784 x 10 weights in f64 are 63 KB; with scalers and the
/// record, under 200 KB).
pub const MAX_MODEL_BYTES: u64 = 16 << 20;

/// The version of the layout above; a reader takes it and version 1, and refuses others.
pub const FORMAT_VERSION: i64 = 2;

/// The versions a reader takes.
const READABLE_VERSIONS: [i64; 2] = [1, FORMAT_VERSION];

/// The model of `run` as the bytes of a model file (`path` is where they go, for messages).
pub fn to_bytes(
    path: &Path,
    run: &Run,
    data_checksum: &str,
    model: &LinearModel,
    scaler_offset: &Array1<f64>,
    scaler_scale: &Array1<f64>,
) -> Result<Vec<u8>> {
    let run_json = serde_json::to_string(&serde_json::json!({
        "run_id": run.id,
        "params": run.params,
        "data_checksum": data_checksum,
    }))
    .map_err(|e| Error::output(path, e))?;
    let coef: Array2<f64> = model.weights.t().to_owned();
    let classes = Array1::from_iter(0..N_CLASSES as i64);
    let ovr = i64::from(model.multi_class == MultiClass::Ovr);
    let fail = |e: String| Error::output(path, e);
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut add = |name: &str, npy: Vec<u8>| -> Result<()> {
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        archive
            .start_file(format!("{name}.npy"), stored)
            .map_err(|e| fail(e.to_string()))?;
        archive.write_all(&npy).map_err(|e| fail(e.to_string()))
    };
    add(
        "format_version",
        npy(&ndarray::arr0(FORMAT_VERSION)).map_err(fail)?,
    )?;
    add("coef", npy(&coef).map_err(fail)?)?;
    add("intercept", npy(&model.intercept).map_err(fail)?)?;
    add("scaler_offset", npy(scaler_offset).map_err(fail)?)?;
    add("scaler_scale", npy(scaler_scale).map_err(fail)?)?;
    add("classes", npy(&classes).map_err(fail)?)?;
    add("ovr", npy(&ndarray::arr0(ovr)).map_err(fail)?)?;
    add("run_json", npy_text(&run_json))?;
    let bytes = archive.finish().map_err(|e| fail(e.to_string()))?;
    Ok(bytes.into_inner())
}

/// An array as the bytes of a `.npy` file.
fn npy<A, S, D>(array: &ndarray::ArrayBase<S, D>) -> std::result::Result<Vec<u8>, String>
where
    A: ndarray_npy::WritableElement,
    S: ndarray::Data<Elem = A>,
    D: ndarray::Dimension,
{
    use ndarray_npy::WriteNpyExt;
    let mut bytes = Vec::new();
    array.write_npy(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The `.npy` magic string and format version 1.0.
const NPY_MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

/// `text` as a `.npy` file holding one numpy string (a 0-d array of dtype `<U{chars}`: UTF-32,
/// little-endian), what `np.array(text)` saves.
fn npy_text(text: &str) -> Vec<u8> {
    let chars: Vec<char> = text.chars().collect();
    let mut header = format!(
        "{{'descr': '<U{}', 'fortran_order': False, 'shape': (), }}",
        chars.len().max(1)
    );
    // The header is padded with spaces and ends in a newline so that the data starts at a
    // multiple of 64 bytes (magic 8, length 2).
    while (NPY_MAGIC.len() + 2 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = NPY_MAGIC.to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    for c in &chars {
        bytes.extend((*c as u32).to_le_bytes());
    }
    if chars.is_empty() {
        bytes.extend(0u32.to_le_bytes());
    }
    bytes
}

/// The string of a `.npy` file written by [`npy_text`] (or by numpy: a 0-d `<U` array).
fn read_npy_text(bytes: &[u8]) -> std::result::Result<String, String> {
    let rest = bytes
        .strip_prefix(NPY_MAGIC)
        .ok_or("not a version 1.0 .npy array")?;
    let (len, rest) = rest.split_at_checked(2).ok_or("a cut .npy header")?;
    let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
    let (header, data) = rest.split_at_checked(len).ok_or("a cut .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "a .npy header that is not text")?;
    let descr = header
        .split("'descr': '")
        .nth(1)
        .and_then(|d| d.split('\'').next())
        .ok_or("a .npy header without a dtype")?;
    if !descr.starts_with("<U") || !header.contains("'shape': ()") {
        return Err(format!("a {descr} array where one string was expected"));
    }
    let mut text = String::new();
    for unit in data.chunks_exact(4) {
        let code = u32::from_le_bytes([unit[0], unit[1], unit[2], unit[3]]);
        if code == 0 {
            break;
        }
        text.push(char::from_u32(code).ok_or("a string that is not Unicode")?);
    }
    Ok(text)
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

/// The string stored as `<name>.npy` in the archive `bytes`.
fn text_entry(bytes: &[u8], name: &str) -> std::result::Result<String, String> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut entry = archive
        .by_name(&format!("{name}.npy"))
        .map_err(|e| e.to_string())?;
    let mut npy = Vec::new();
    entry
        .by_ref()
        .take(MAX_MODEL_BYTES)
        .read_to_end(&mut npy)
        .map_err(|e| e.to_string())?;
    read_npy_text(&npy)
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
        let version: ndarray::ArrayD<i64> = npz
            .by_name("format_version")
            .map_err(|e| fail(format!("not a model file (format_version: {e})")))?;
        let version = (version.len() == 1)
            .then(|| version.iter().copied().next())
            .flatten();
        if !version.is_some_and(|v| READABLE_VERSIONS.contains(&v)) {
            let found = version.map_or("none".to_string(), |v| v.to_string());
            return Err(fail(format!(
                "model format version {found}, this harness reads versions 1 and {FORMAT_VERSION}"
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
        let ovr: ndarray::ArrayD<i64> = npz
            .by_name("ovr")
            .map_err(|e| fail(format!("damaged model file (ovr: {e})")))?;
        if ovr.len() != 1 || !ovr.iter().all(|&v| v == 0 || v == 1) {
            return Err(fail(format!(
                "damaged model file (ovr is {ovr}, expected 0 or 1)"
            )));
        }
        let ovr = ovr.iter().copied().next() == Some(1);
        let run_json = match version {
            Some(1) => {
                let bytes: Array1<u8> = npz
                    .by_name("run_json")
                    .map_err(|e| fail(format!("damaged model file (run_json: {e})")))?;
                String::from_utf8(bytes.to_vec())
                    .map_err(|e| fail(format!("damaged model file (run_json: {e})")))?
            }
            _ => text_entry(bytes, "run_json")
                .map_err(|e| fail(format!("damaged model file (run_json: {e})")))?,
        };
        let run = serde_json::from_str(&run_json)
            .map_err(|e| fail(format!("damaged model file (run_json: {e})")))?;
        let model = SavedModel {
            coef,
            intercept,
            scaler_offset,
            scaler_scale,
            classes,
            multi_class: if ovr {
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

    /// The weights a chart draws, with their unit in words: per raw pixel value (0-255) where the
    /// scaler scales every pixel alike (none, unit), else per scaled pixel, the units the model
    /// was fitted in (per raw value, a standard scaler's rarely inked border pixels, divided by a
    /// tiny deviation, would drown every other weight).
    pub fn weights_to_draw(&self) -> (Array2<f64>, &'static str) {
        let first = self.scaler_scale.first().copied().unwrap_or(1.0);
        if self.scaler_scale.iter().all(|&s| s == first) {
            (self.pixel_weights(), "weight per raw pixel value 0-255")
        } else {
            (
                self.coef.clone(),
                "weight per scaled pixel, (pixel - offset) x scale, the units the model was fitted in",
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A string array is numpy's: the data starts at a multiple of 64 bytes, one UTF-32 unit
    /// per character, and it reads back, any character included.
    #[test]
    fn strings_are_stored_as_numpy_unicode_and_read_back() {
        for text in ["{\"run_id\": \"3031fa70a26e\"}", "ünïcödé ✓ 𝟙", ""] {
            let npy = npy_text(text);
            let header_len = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
            assert_eq!((10 + header_len) % 64, 0);
            let header = std::str::from_utf8(&npy[10..10 + header_len]).unwrap();
            let chars = text.chars().count();
            assert!(
                header.starts_with(&format!(
                    "{{'descr': '<U{}', 'fortran_order': False, 'shape': (), }}",
                    chars.max(1)
                )),
                "{header}"
            );
            assert!(header.ends_with('\n'));
            assert_eq!(npy.len(), 10 + header_len + 4 * chars.max(1));
            assert_eq!(read_npy_text(&npy).unwrap(), text);
        }
        let numbers = npy(&ndarray::arr1(&[1i64, 2])).unwrap();
        assert!(read_npy_text(&numbers)
            .unwrap_err()
            .contains("where one string was expected"));
    }

    /// Pixels scaled alike are drawn per raw value; pixels scaled each their own way (standard,
    /// min_max, max_abs) in the fit's units.
    #[test]
    fn weights_are_drawn_per_raw_pixel_only_where_every_pixel_is_scaled_alike() {
        let model = |scale: Array1<f64>| SavedModel {
            coef: Array2::from_elem((N_CLASSES, 2), 2.0),
            intercept: Array1::zeros(N_CLASSES),
            scaler_offset: Array1::zeros(2),
            scaler_scale: scale,
            classes: (0..N_CLASSES as i64).collect(),
            multi_class: MultiClass::Multinomial,
            run: serde_json::Value::Null,
        };
        let (unit, words) = model(Array1::from_elem(2, 0.5)).weights_to_draw();
        assert_eq!(unit[[0, 1]], 1.0);
        assert!(words.contains("raw pixel"));
        let (standard, words) = model(ndarray::arr1(&[0.5, 100.0])).weights_to_draw();
        assert_eq!(standard[[0, 1]], 2.0);
        assert!(words.contains("scaled pixel"));
    }
}
