//! Charts of one run, in `runs/<run_id>/`: the row-normalised confusion matrix, per-class scores,
//! the most confident mistakes, sample predictions with their probabilities, each one-vs-rest
//! classifier's binary accuracy, sample training digits, and the fit's path (objective and largest
//! gradient component per iteration), and each digit's weights as an image (from `model.npz`).
//!
//! May touch: `charts`, `error`, `model`, `store`, `report::{Figure, figure}`.

use std::path::Path;

use ndarray::Array2;

use super::{figure, Figure};
use crate::charts::{
    coefficient_maps, compact, confusion_heatmap, digit_grid, grouped_bars, line_chart,
    probability_panels, BarChart, BarGroup, Cells, LineChart, Panel, Series, Style, Tile, Title,
    BAD, PALETTE,
};
use crate::error::{Error, Result};
use crate::model::MultiClass;
use crate::store::{ResultsDir, RunResult};

/// The chart files a run can have, relative to its folder.
const FILES: [&str; 8] = [
    "confusion_normalized.png",
    "class_scores.png",
    "mistakes.png",
    "sample_predictions.png",
    "binary_accuracy.png",
    "training_digits.png",
    "fit_path.png",
    "coefficients.png",
];

/// Removes a run's charts (when it is no longer selected for them).
pub fn remove(dir: &ResultsDir, run_id: &str) -> Result<()> {
    for file in FILES {
        dir.remove(&dir.run_dir(run_id).join(file))?;
    }
    Ok(())
}

/// The 784 pixels of image `index`, or an error naming the `record` that refers to an image the
/// data lacks.
fn pixels<'a>(images: &'a Array2<u8>, index: usize, record: &Path) -> Result<&'a [u8]> {
    if index >= images.nrows() {
        return Err(Error::Output {
            path: record.to_path_buf(),
            message: format!(
                "a run record refers to image {index}, but the data has {} images: rerun the sweep with --force",
                images.nrows()
            ),
        });
    }
    Ok(images
        .row(index)
        .to_slice()
        .expect("rows of a standard-layout matrix are contiguous"))
}

/// Draws a bar chart whose value axis starts above zero, and says so under the title.
fn zoomed_bars(
    path: &Path,
    heading: &str,
    context: &[String],
    what: &str,
    chart: &BarChart,
) -> Result<Vec<u8>> {
    let mut lines = context.to_vec();
    lines.push(format!(
        "The {what} axis starts at {} to show the differences",
        chart.y_range.0
    ));
    grouped_bars(
        path,
        &Title {
            title: heading,
            lines: &lines,
        },
        chart,
    )
}

/// Draws the charts of one successful run; returns them in README order.
/// `sklearn_stopped` is scikit-learn's iteration count and final objective for the same run, if
/// the folder has its results: the fit path marks it. `published_binary` is the notebook's own
/// per-digit binary accuracies (`[published] binary_accuracy`), drawn beside the run's.
pub fn draw(
    dir: &ResultsDir,
    r: &RunResult,
    images: &Array2<u8>,
    sklearn_stopped: Option<(u64, f64)>,
    published_binary: Option<&[f64]>,
) -> Result<Vec<Figure>> {
    let (Some(m), Some(examples)) = (&r.metrics, &r.examples) else {
        return Ok(Vec::new());
    };
    let id = &r.run.id;
    let record = dir.record_json(id);
    let file = |name: &str| format!("runs/{id}/{name}");
    let context = vec![r.run.params.describe(), super::split_text(r)];
    let mut figures = Vec::new();

    let heading = format!(
        "Confusion matrix, % of each true digit (accuracy {:.2} %)",
        100.0 * m.accuracy
    );
    figures.push(figure(dir, file(FILES[0]), heading.clone(), |tmp| {
        let mut lines = context.clone();
        lines.push("Each row sums to 100 %; colour: square root of the share".into());
        confusion_heatmap(
            tmp,
            &m.confusion,
            &Title {
                title: &heading,
                lines: &lines,
            },
            Cells::RowPercent,
        )
    })?);

    let heading = "Precision, recall and F1 per digit (test set)".to_string();
    figures.push(figure(dir, file(FILES[1]), heading.clone(), |tmp| {
        let lo = m
            .per_class
            .iter()
            .flat_map(|c| [c.precision, c.recall, c.f1])
            .fold(1.0, f64::min);
        let chart = BarChart {
            x_label: "Digit".into(),
            y_label: "Score".into(),
            categories: (0..m.per_class.len()).map(|k| k.to_string()).collect(),
            groups: [("precision", 0usize), ("recall", 1), ("F1", 2)]
                .iter()
                .map(|&(label, i)| BarGroup {
                    label: label.into(),
                    color: PALETTE[i],
                    values: m
                        .per_class
                        .iter()
                        .map(|c| [c.precision, c.recall, c.f1][i])
                        .collect(),
                })
                .collect(),
            y_range: (((lo - 0.05) * 20.0).floor() / 20.0, 1.0),
            value_decimals: Some(2),
        };
        zoomed_bars(tmp, &heading, &context, "score", &chart)
    })?);

    let heading = format!(
        "The {} most confident mistakes ({} of {} test images misclassified)",
        examples.mistakes.len(),
        m.confusion.sum() - m.confusion.diag().sum(),
        m.confusion.sum()
    );
    figures.push(figure(dir, file(FILES[2]), heading.clone(), |tmp| {
        let tiles = examples
            .mistakes
            .iter()
            .map(|p| {
                Ok(Tile {
                    pixels: pixels(images, p.index, &record)?,
                    caption: format!(
                        "Predicted: {} ({:.0} %), Actual: {}",
                        p.predicted,
                        100.0
                            * p.probabilities
                                .get(p.predicted as usize)
                                .copied()
                                .unwrap_or(f64::NAN),
                        p.label
                    ),
                    caption_color: BAD,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut lines = context.clone();
        lines.push(
            "Ordered by the probability the model gave its wrong answer (in brackets), highest first".into(),
        );
        digit_grid(
            tmp,
            &Title {
                title: &heading,
                lines: &lines,
            },
            &tiles,
            8,
        )
    })?);

    let heading = format!(
        "The first {} test images and their ten class probabilities",
        examples.test.len()
    );
    figures.push(figure(dir, file(FILES[3]), heading.clone(), |tmp| {
        let panels = examples
            .test
            .iter()
            .map(|p| {
                Ok(Panel {
                    pixels: pixels(images, p.index, &record)?,
                    label: Some(p.label),
                    name: None,
                    probabilities: p.probabilities.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut lines = context.clone();
        lines.push("Predicted digit in green (right) or red (wrong); true digit outlined".into());
        probability_panels(
            tmp,
            &Title {
                title: &heading,
                lines: &lines,
            },
            &panels,
        )
    })?);

    let binary: Option<Vec<f64>> = m.per_class.iter().map(|c| c.binary_accuracy).collect();
    if let Some(binary) = binary {
        let heading =
            "Each digit's one-vs-rest classifier: binary accuracy on the test set".to_string();
        figures.push(figure(dir, file(FILES[4]), heading.clone(), |tmp| {
            // A classifier that always answers "not this digit" is right on every other digit.
            let n = m.confusion.sum().max(1) as f64;
            let always_no: Vec<f64> = m
                .per_class
                .iter()
                .map(|c| 1.0 - c.support as f64 / n)
                .collect();
            let published: Option<Vec<f64>> = published_binary.map(|p| {
                (0..binary.len())
                    .map(|k| p.get(k).copied().unwrap_or(f64::NAN))
                    .collect()
            });
            let lo = binary
                .iter()
                .chain(&always_no)
                .chain(published.iter().flatten().filter(|v| v.is_finite()))
                .copied()
                .fold(1.0, f64::min);
            let mut groups = vec![BarGroup {
                label: "binary accuracy".into(),
                color: PALETTE[0],
                values: binary.clone(),
            }];
            if let Some(values) = published {
                groups.push(BarGroup {
                    label: "published (the notebook's own fit)".into(),
                    color: PALETTE[1],
                    values,
                });
            }
            groups.push(BarGroup {
                label: "always \"no\" (baseline)".into(),
                color: plotters::style::RGBColor(170, 170, 170),
                values: always_no,
            });
            let chart = BarChart {
                x_label: "Digit (its classifier answers \"this digit or not\")".into(),
                y_label: "Binary accuracy".into(),
                categories: (0..binary.len()).map(|k| k.to_string()).collect(),
                groups,
                y_range: (((lo - 0.01) * 100.0).floor() / 100.0, 1.0),
                value_decimals: Some(4),
            };
            zoomed_bars(tmp, &heading, &context, "accuracy", &chart)
        })?);
    } else {
        dir.remove(&dir.run_dir(id).join(FILES[4]))?;
    }

    let heading = format!(
        "The first {} training images and their labels",
        examples.train.len()
    );
    figures.push(figure(dir, file(FILES[5]), heading.clone(), |tmp| {
        let tiles = examples
            .train
            .iter()
            .map(|d| {
                Ok(Tile {
                    pixels: pixels(images, d.index, &record)?,
                    caption: format!("Label: {}", d.label),
                    caption_color: plotters::style::BLACK,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lines = vec![
            super::split_text(r),
            "Images as the model sees them before scaling".into(),
        ];
        digit_grid(
            tmp,
            &Title {
                title: &heading,
                lines: &lines,
            },
            &tiles,
            8,
        )
    })?);
    let d = &r.diagnostics;
    if d.trace.len() > 1 {
        let heading = format!(
            "Fit path: {} iterations, stopped: {}",
            d.n_iter, d.termination
        );
        figures.push(figure(dir, file(FILES[6]), heading.clone(), |tmp| {
            let mut lines = context.clone();
            lines.push(match r.run.params.model.multi_class {
                MultiClass::Multinomial => format!(
                    "Objective: scikit-learn's mean log-loss + ||W||^2 / (2 C n), final {:.6}; converged when the largest gradient component is <= tol",
                    d.objective
                ),
                MultiClass::Ovr => format!(
                    "Objective: the sum of the ten binary fits' objectives (each a mean log-loss + ||w||^2 / (2 C n)), final {:.6}; iteration k: each class after k iterations, or where it stopped if sooner; gradient: the largest over the classes",
                    d.objective
                ),
            });
            if let Some((n_iter, objective)) = sklearn_stopped {
                lines.push(format!(
                    "Cross: where scikit-learn's fit of the same run stopped (n_iter {n_iter}, objective {objective:.6}; scripts/sklearn_reference.py)"
                ));
            }
            let chart = fit_path_chart(&d.trace, r.run.params.model.tol, sklearn_stopped);
            line_chart(
                tmp,
                &Title {
                    title: &heading,
                    lines: &lines,
                },
                &chart,
            )
        })?);
    }
    if let Some(saved) = dir.read_model(id)? {
        let weights = saved.pixel_weights();
        let heading = if saved.multi_class == MultiClass::Ovr {
            "What each one-vs-rest classifier learned: its weight on every pixel".to_string()
        } else {
            "What the model learned: each digit's weight on every pixel".to_string()
        };
        figures.push(figure(dir, file(FILES[7]), heading.clone(), |tmp| {
            let mut lines = context.clone();
            lines.push(
                "Red pixels raise the digit's score, blue ones lower it (weight per raw pixel value 0-255; one scale, ending at the 99th percentile)"
                    .into(),
            );
            let maps: Vec<(String, Vec<f64>)> = weights
                .rows()
                .into_iter()
                .enumerate()
                .map(|(k, row)| (format!("digit {k}"), row.to_vec()))
                .collect();
            coefficient_maps(
                tmp,
                &Title {
                    title: &heading,
                    lines: &lines,
                },
                &maps,
                "weight",
                5,
            )
        })?);
    }
    Ok(figures)
}

/// The objective and the largest gradient component against the iteration, on a log axis (both
/// fall by orders of magnitude), with `tol`.
pub(crate) fn fit_path_chart(
    trace: &[crate::model::TracePoint],
    tol: f64,
    sklearn_stopped: Option<(u64, f64)>,
) -> LineChart {
    let points = |f: fn(&crate::model::TracePoint) -> f64| {
        trace
            .iter()
            .enumerate()
            .map(|(i, t)| (i as f64, f(t).max(1e-12)))
            .collect::<Vec<_>>()
    };
    LineChart {
        y_from_zero: false,
        ring_label: String::new(),
        x_marks: vec![],
        x_label: "L-BFGS iteration".into(),
        y_label: "Value (log scale)".into(),
        x_log: false,
        y_log: true,
        series: vec![
            Series {
                ringed: Vec::new(),
                errors: Vec::new(),
                style: Style::Solid,
                label: "objective".into(),
                color: PALETTE[0],
                points: points(|t| t.objective),
            },
            Series {
                ringed: Vec::new(),
                errors: Vec::new(),
                style: Style::Dashed,
                label: "largest gradient component".into(),
                color: PALETTE[1],
                points: points(|t| t.grad_max),
            },
        ]
        .into_iter()
        .chain(sklearn_stopped.map(|(n_iter, objective)| Series {
            ringed: Vec::new(),
            errors: Vec::new(),
            style: Style::Crosses,
            label: "scikit-learn stopped".into(),
            color: PALETTE[2],
            points: vec![(n_iter as f64, objective.max(1e-12))],
        }))
        .collect(),
        reference_lines: if tol > 0.0 {
            vec![(tol, format!("tol {}", compact(tol)))]
        } else {
            vec![]
        },
        y_format: compact,
    }
}
