//! `predict`: a saved model on new images. Each image is decoded, brought to MNIST form
//! ([`crate::digit_image`]), scaled by the run's scaler and scored by the run's weights, exactly
//! as the sweep scored its test images.
//!
//! May touch: `folder` (results files and inputs through one handle), `charts`, `digit_image`,
//! `digits`, `error`, `files`, `model_file`, `report` (the reference run a results folder names),
//! `store` (its file names), `text`.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::charts::{probability_animation, probability_panels, Panel, Title};
use crate::digit_image::{self, Grey};
use crate::digits::N_PIXELS;
use crate::error::{Error, Result};
use crate::model_file::SavedModel;
use crate::report::Reference;
use crate::store::{MODEL_NPZ, REFERENCE_JSON};

/// Whether two paths name the same existing file (after links).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The most images one `--chart` draws.
pub const MAX_CHART_IMAGES: usize = 40;
/// How many of the most probable digits each line prints.
pub const TOP: usize = 3;

/// What to say when no usable model is found.
const FIND_A_MODEL: &str = "pass a results folder (results/<name>/), a run folder \
                            (results/<name>/runs/<run_id>/) or its model.npz; the sweep writes \
                            one for every finished run";

/// The model file a path names: the file itself, `model.npz` in a run folder, or in a sweep's
/// results folder the reference run's (the one chosen by cross-validation, else the base
/// configuration, else the first run), with the reason it was taken.
pub fn locate_model(path: &Path) -> Result<(PathBuf, Option<String>)> {
    let fail = |message: String| Error::Model {
        path: path.to_path_buf(),
        message,
    };
    if path.is_file() {
        return Ok((path.to_path_buf(), None));
    }
    if !path.is_dir() {
        return Err(fail(format!("no such file or folder: {FIND_A_MODEL}")));
    }
    let model = path.join(MODEL_NPZ);
    if model.is_file() {
        return Ok((model, None));
    }
    let runs = path.join("runs");
    if let Some(reference) = Reference::read(path) {
        let reference = reference.map_err(|e| {
            fail(format!(
                "{REFERENCE_JSON} is not the report's ({e}): redraw it with `sweep CONFIG --report-only`"
            ))
        })?;
        let model = path.join(&reference.model);
        if !model.is_file() {
            return Err(fail(format!(
                "its reference run {} has no {MODEL_NPZ}: rerun the sweep, or pass another run's folder",
                reference.run_id
            )));
        }
        let why = format!(
            "run {}, {} (test accuracy {:.2} %)",
            reference.run_id,
            reference.why,
            100.0 * reference.test_accuracy
        );
        return Ok((model, Some(why)));
    }
    if runs.is_dir() {
        let folder = crate::store::ResultsDir::new(path.to_path_buf());
        let ids: Vec<String> = folder
            .list(&runs)
            .into_iter()
            .filter(|(id, _)| folder.is_file(&runs.join(id).join(MODEL_NPZ)))
            .map(|(id, _)| id)
            .collect();
        if let Some(id) = ids.first() {
            return Err(fail(format!(
                "a sweep's results folder ({} run{} with a model): pass one run's folder, for \
                 example {}",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                runs.join(id).display()
            )));
        }
    }
    Err(fail(format!("no model.npz in this folder: {FIND_A_MODEL}")))
}

/// A model file beside a run's record (`runs/<id>/run.json`) must be the file the record
/// describes: its SHA-256 is checked, as the sweep checks it before reusing a run.
fn check_against_record(file: &Path, bytes: &[u8]) -> Result<()> {
    let Some(record) = file.parent().map(|dir| dir.join("run.json")) else {
        return Ok(());
    };
    let Ok(text) = crate::folder::read_input(&record, crate::folder::READ_CAP) else {
        return Ok(());
    };
    let expected = serde_json::from_slice::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("files")?.get(MODEL_NPZ)?.as_str().map(String::from));
    match expected {
        Some(expected) if expected != crate::files::sha256_hex(bytes) => Err(Error::Model {
            path: file.to_path_buf(),
            message: format!(
                "not the model its run's record ({}) describes (SHA-256 differs): rerun the \
                 sweep, which refits the run, or pass another run's folder",
                record.display()
            ),
        }),
        _ => Ok(()),
    }
}

/// Reads the model a path names (see [`locate_model`]), with the reason a run was taken.
pub fn load_model(path: &Path) -> Result<(PathBuf, SavedModel, Option<String>)> {
    let (file, why) = locate_model(path)?;
    let what_to_do = "rerun the sweep that wrote it with --force to rewrite it with this harness";
    let bytes =
        crate::folder::read_input(&file, crate::model_file::MAX_MODEL_BYTES).map_err(|e| {
            Error::Model {
                path: file.clone(),
                message: format!("{e}: {FIND_A_MODEL}"),
            }
        })?;
    check_against_record(&file, &bytes)?;
    let model = SavedModel::from_bytes(&bytes, &file, what_to_do)?;
    if model.n_features() != N_PIXELS {
        return Err(Error::Model {
            path: file,
            message: format!(
                "a model of {} features, and images have {N_PIXELS} pixels: {FIND_A_MODEL}",
                model.n_features()
            ),
        });
    }
    Ok((file, model, why))
}

/// One image's prediction.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub image: PathBuf,
    /// The image in MNIST form, as the model saw it (784 grey levels).
    pub pixels: Vec<u8>,
    /// One per class, in the model's class order.
    pub probabilities: Vec<f64>,
    /// The model's classes (digits), in the same order.
    pub classes: Vec<i64>,
}

impl Prediction {
    /// `(digit, probability)` pairs, most probable first.
    pub fn ranked(&self) -> Vec<(i64, f64)> {
        let mut ranked: Vec<(i64, f64)> = self
            .classes
            .iter()
            .copied()
            .zip(self.probabilities.iter().copied())
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// The predicted digit.
    pub fn digit(&self) -> i64 {
        self.ranked()[0].0
    }

    /// The line `predict` prints: `IMAGE: DIGIT (d1 p1 %, d2 p2 %, d3 p3 %)`.
    pub fn line(&self) -> String {
        let top: Vec<String> = self
            .ranked()
            .iter()
            .take(TOP)
            .map(|(digit, p)| format!("{digit} {:.1} %", 100.0 * p))
            .collect();
        format!(
            "{}: {} ({})",
            crate::text::escaped(&self.image.display().to_string()),
            self.digit(),
            top.join(", ")
        )
    }
}

/// `--save-prepared DIR`: each image as the model sees it (28 x 28 grey levels, light ink on
/// black, as MNIST's own), written as `DIR/<n>-<name>.png` (n counts from 1 in the order given,
/// so two images of the same name do not collide). The folder is created if needed and written
/// through its handle; a file there is never an input image. Returns the paths written.
pub fn save_prepared(dir: &Path, predictions: &[Prediction]) -> Result<Vec<PathBuf>> {
    let folder = crate::folder::Folder::create(dir)?;
    let mut written = Vec::new();
    for (i, p) in predictions.iter().enumerate() {
        let stem = p
            .image
            .file_stem()
            .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
        let name = PathBuf::from(format!("{}-{stem}.png", i + 1));
        let path = dir.join(&name);
        if let Some(input) = predictions.iter().find(|q| same_file(&q.image, &path)) {
            return Err(Error::Image {
                path: path.clone(),
                message: format!(
                    "--save-prepared would overwrite the input image {}: give another folder",
                    input.image.display()
                ),
            });
        }
        let side = crate::digits::SIDE as u32;
        let image = image::GrayImage::from_raw(side, side, p.pixels.clone())
            .expect("784 grey levels are a 28 x 28 image");
        let mut png = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| Error::output(&path, e))?;
        let png = png.into_inner();
        folder.write(&name, &png)?;
        written.push(path);
    }
    Ok(written)
}

impl Prediction {
    /// `--json`: the prediction as one JSON object on one line: the image, where its prepared
    /// form was saved (if it was), the digit, every digit's probability and the warnings.
    pub fn json(&self, prepared: Option<&Path>, warnings: &[String]) -> String {
        let probabilities: serde_json::Map<String, serde_json::Value> = self
            .classes
            .iter()
            .zip(&self.probabilities)
            .map(|(digit, p)| (digit.to_string(), serde_json::json!(p)))
            .collect();
        serde_json::json!({
            "image": self.image.display().to_string(),
            "prepared": prepared.map(|p| p.display().to_string()),
            "digit": self.digit(),
            "probabilities": probabilities,
            "warnings": warnings,
        })
        .to_string()
    }
}

/// Brings one image file to MNIST form: centred like MNIST, or taken as is with `raw`; with a
/// warning when the picture looks unlike one digit on plain paper.
pub fn prepare(image: &Path, raw: bool) -> Result<(Vec<u8>, Option<String>)> {
    let grey: Grey = digit_image::load(image)?;
    let form = if raw {
        digit_image::raw_form(&grey).map(|pixels| (pixels, None))
    } else {
        digit_image::prepare(&grey).map(|p| (p.pixels, p.warning))
    };
    form.map_err(|problem| Error::Image {
        path: image.to_path_buf(),
        message: problem.to_string(),
    })
}

/// Scores images already in MNIST form.
/// A model whose weights give an image non-finite probabilities (hand-edited or damaged, with
/// weights far beyond any fit's) is refused, never printed as `NaN %`.
pub fn score(
    model_path: &Path,
    model: &SavedModel,
    images: Vec<(PathBuf, Vec<u8>)>,
) -> Result<Vec<Prediction>> {
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let mut x = Array2::<f64>::zeros((images.len(), N_PIXELS));
    for (mut row, (_, pixels)) in x.rows_mut().into_iter().zip(&images) {
        row.iter_mut()
            .zip(pixels)
            .for_each(|(d, &v)| *d = f64::from(v));
    }
    let probabilities = model.probabilities(x.view());
    if let Some((row, _)) = probabilities
        .rows()
        .into_iter()
        .enumerate()
        .find(|(_, p)| p.iter().any(|v| !v.is_finite()))
    {
        return Err(Error::Model {
            path: model_path.to_path_buf(),
            message: format!(
                "its weights give {} scores beyond floating point (no fit makes such weights: a \
                 damaged or hand-edited model): rerun the sweep with --force to rewrite it",
                crate::text::escaped(&images[row].0.display().to_string())
            ),
        });
    }
    Ok(images
        .into_iter()
        .zip(probabilities.rows())
        .map(|((image, pixels), p)| Prediction {
            image,
            pixels,
            probabilities: p.to_vec(),
            classes: model.classes.clone(),
        })
        .collect())
}

/// A one-line description of the run a model came from, from its stored parameters.
pub fn describe(model: &SavedModel) -> String {
    let run = &model.run;
    let params = &run["params"];
    let m = &params["model"];
    format!(
        "run {}: {}, C = {}, max_iter {}, scaler {}, {}",
        run["run_id"].as_str().unwrap_or("?"),
        m["multi_class"].as_str().unwrap_or("?"),
        m["C"],
        m["max_iter"],
        params["scaler"].as_str().unwrap_or("?"),
        m["dtype"].as_str().unwrap_or("?"),
    )
}

/// The true digit a file's name gives (`--truth-from-names`): the last character of its stem,
/// `paper-7.png` -> 7; an error naming the file where it is not a digit.
pub fn truth_from_name(image: &Path) -> Result<u8> {
    let stem = image
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.chars().last().and_then(|c| c.to_digit(10)) {
        Some(d) => Ok(d as u8),
        None => Err(Error::Image {
            path: image.to_path_buf(),
            message: "--truth-from-names reads the true digit from the last character of the file's name (paper-7.png), and this one ends in no digit: rename it or drop --truth-from-names".into(),
        }),
    }
}

/// Draws each image as the model saw it beside its ten probabilities (a PNG, or with `animated`
/// a GIF of one image per second; written atomically); `truth` holds each image's true digit
/// where known (the prediction is then coloured right or wrong).
pub fn chart(
    path: &Path,
    model_path: &Path,
    model: &SavedModel,
    predictions: &[Prediction],
    truth: Option<&[u8]>,
    raw: bool,
    animated: bool,
) -> Result<()> {
    let flag = if animated { "--animation" } else { "--chart" };
    let panels: Vec<Panel> = predictions
        .iter()
        .enumerate()
        .map(|(i, p)| Panel {
            pixels: &p.pixels,
            label: truth.and_then(|t| t.get(i).copied()),
            name: p
                .image
                .file_name()
                .map(|name| name.to_string_lossy().into_owned()),
            probabilities: p.probabilities.clone(),
        })
        .collect();
    let lines = vec![
        format!("Model: {} ({})", model_path.display(), describe(model)),
        if raw {
            "Images taken as given (--raw): 28 x 28, light ink on black".to_string()
        } else {
            "Each image as the model reads it, in MNIST form (light ink on black): inverted if the ink is dark, background and specks removed, cropped to the ink, scaled into 20 x 20, centred by mass in 28 x 28".to_string()
        },
    ];
    if let Some(input) = predictions.iter().find(|p| same_file(&p.image, path)) {
        return Err(Error::Image {
            path: path.to_path_buf(),
            message: format!(
                "{flag} would overwrite the input image {}: give {flag} another path",
                input.image.display()
            ),
        });
    }
    let title = Title {
        title: "What the model sees, and the probability it gives each digit",
        lines: &lines,
    };
    let png = match animated {
        true => probability_animation(path, &title, &panels, 1.0)?,
        false => probability_panels(path, &title, &panels)?,
    };
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(Path::new)
        .ok_or_else(|| Error::Image {
            path: path.to_path_buf(),
            message: format!("{flag} needs a file name"),
        })?;
    crate::folder::Folder::open(parent)
        .and_then(|folder| folder.write(name, &png).map(|_| ()))
        // predict has no --out: the way out is another chart path.
        .map_err(|e| match e {
            Error::Output { path, message } => Error::Output {
                path,
                message: message.replace(
                    "or pass --out DIR",
                    &format!("or give {flag} a path in a writable folder"),
                ),
            },
            other => other,
        })
}
