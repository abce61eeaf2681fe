//! Charts of one run, in `runs/<run_id>/`: the row-normalised confusion matrix, per-class scores,
//! the most confident mistakes, sample predictions with their probabilities, each one-vs-rest
//! classifier's binary accuracy, sample training digits, and the fit's path (objective and largest
//! gradient component per iteration), and each digit's weights as an image (from `model.npz`).
//!
//! May touch: `charts`, `error`, `metrics`, `model`, `store`, `report::{Figure, figure}`.

use std::path::Path;

use ndarray::Array2;

use super::{figure, Figure};
use crate::charts::{
    coefficient_maps, compact, confusion_heatmap, digit_grid, grouped_bars, line_chart,
    probability_panels, reliability_diagram, BarChart, BarGroup, Cells, LineChart, Panel,
    ReliabilityBin, Series, Style, Tile, Title, BAD, PALETTE,
};
use crate::error::{Error, Result};
use crate::metrics::{Examples, Metrics};
use crate::model::MultiClass;
use crate::store::{ResultsDir, RunResult};

const CONFUSION: &str = "confusion_normalized.png";
const CLASS_SCORES: &str = "class_scores.png";
const MISTAKES: &str = "mistakes.png";
const SAMPLE_PREDICTIONS: &str = "sample_predictions.png";
const BINARY_ACCURACY: &str = "binary_accuracy.png";
const TRAINING_DIGITS: &str = "training_digits.png";
const FIT_PATH: &str = "fit_path.png";
const COEFFICIENTS: &str = "coefficients.png";
const RELIABILITY: &str = "reliability.png";

/// The chart files a run can have, relative to its folder, in README order.
const FILES: [&str; 9] = [
    CONFUSION,
    CLASS_SCORES,
    RELIABILITY,
    MISTAKES,
    SAMPLE_PREDICTIONS,
    BINARY_ACCURACY,
    TRAINING_DIGITS,
    FIT_PATH,
    COEFFICIENTS,
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
pub(super) fn pixels<'a>(images: &'a Array2<u8>, index: usize, record: &Path) -> Result<&'a [u8]> {
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
fn zoomed_bars(path: &Path, title: &Title, what: &str, chart: &BarChart) -> Result<Vec<u8>> {
    let mut lines = title.lines.to_vec();
    lines.push(format!(
        "The {what} axis starts at {} to show the differences",
        chart.y_range.0
    ));
    grouped_bars(
        path,
        &Title {
            title: title.title,
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
    let charts = RunCharts {
        dir,
        r,
        m,
        examples,
        images,
        record: dir.record_json(&r.run.id),
        context: vec![r.run.params.describe(), super::split_text(r)],
    };
    let mut figures = vec![charts.confusion()?, charts.class_scores()?];
    figures.extend(charts.reliability()?);
    figures.extend([charts.mistakes()?, charts.sample_predictions()?]);
    figures.extend(charts.binary_accuracy(published_binary)?);
    figures.push(charts.training_digits()?);
    figures.extend(charts.fit_path(sklearn_stopped)?);
    figures.extend(charts.coefficients()?);
    Ok(figures)
}

/// What every chart of one run draws from.
struct RunCharts<'a> {
    dir: &'a ResultsDir,
    r: &'a RunResult,
    m: &'a Metrics,
    examples: &'a Examples,
    images: &'a Array2<u8>,
    /// The run's record, named when it refers to an image the data lacks.
    record: std::path::PathBuf,
    /// The run's setting and split, under every title.
    context: Vec<String>,
}

impl RunCharts<'_> {
    /// Writes chart `name` of the run, drawn by `draw` into its path under `heading` and the
    /// subtitle `lines`.
    fn figure(
        &self,
        name: &str,
        heading: String,
        lines: &[String],
        draw: impl FnOnce(&Path, &Title) -> Result<Vec<u8>>,
    ) -> Result<Figure> {
        let file = format!("runs/{}/{name}", self.r.run.id);
        let title = Title {
            title: &heading,
            lines,
        };
        figure(self.dir, file, heading.clone(), |path| draw(path, &title))
    }

    /// The context lines under a title, and one more.
    fn lines(&self, more: &str) -> Vec<String> {
        let mut lines = self.context.clone();
        lines.push(more.into());
        lines
    }

    fn pixels(&self, index: usize) -> Result<&[u8]> {
        pixels(self.images, index, &self.record)
    }

    fn confusion(&self) -> Result<Figure> {
        let heading = format!(
            "Confusion matrix, % of each true digit (accuracy {:.2} %)",
            100.0 * self.m.accuracy
        );
        let lines = self.lines("Each row sums to 100 %; colour: square root of the share");
        self.figure(CONFUSION, heading, &lines, |path, title| {
            confusion_heatmap(path, &self.m.confusion, title, Cells::RowPercent)
        })
    }

    fn class_scores(&self) -> Result<Figure> {
        let heading = "Precision, recall and F1 per digit (test set)".to_string();
        let per_class = &self.m.per_class;
        let lo = per_class
            .iter()
            .flat_map(|c| [c.precision, c.recall, c.f1])
            .fold(1.0, f64::min);
        let chart = BarChart {
            x_label: "Digit".into(),
            y_label: "Score".into(),
            categories: (0..per_class.len()).map(|k| k.to_string()).collect(),
            groups: [("precision", 0usize), ("recall", 1), ("F1", 2)]
                .iter()
                .map(|&(label, i)| BarGroup {
                    label: label.into(),
                    color: PALETTE[i],
                    values: per_class
                        .iter()
                        .map(|c| [c.precision, c.recall, c.f1][i])
                        .collect(),
                })
                .collect(),
            y_range: (((lo - 0.05) * 20.0).floor() / 20.0, 1.0),
            value_decimals: Some(2),
        };
        self.figure(CLASS_SCORES, heading, &self.context, |path, title| {
            zoomed_bars(path, title, "score", &chart)
        })
    }

    fn mistakes(&self) -> Result<Figure> {
        let (m, mistakes) = (self.m, &self.examples.mistakes);
        let heading = format!(
            "The {} most confident mistakes ({} of {} test images misclassified)",
            mistakes.len(),
            m.confusion.sum() - m.confusion.diag().sum(),
            m.confusion.sum()
        );
        let tiles = mistakes
            .iter()
            .map(|p| {
                let confidence = p
                    .probabilities
                    .get(p.predicted as usize)
                    .copied()
                    .unwrap_or(f64::NAN);
                Ok(Tile {
                    pixels: self.pixels(p.index)?,
                    caption: format!(
                        "Predicted: {} ({}), Actual: {}",
                        p.predicted,
                        confidence_text(confidence),
                        p.label
                    ),
                    caption_color: BAD,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lines = self.lines(
            "Ordered by the probability the model gave its wrong answer (in brackets), highest first",
        );
        self.figure(MISTAKES, heading, &lines, |path, title| {
            digit_grid(path, title, &tiles, 8)
        })
    }

    /// The reliability diagram of the run's test probabilities (none for a record without
    /// calibration: an older run that kept no predictions.csv).
    fn reliability(&self) -> Result<Option<Figure>> {
        let Some(cal) = &self.m.calibration else {
            let dir = self.dir;
            dir.remove(&dir.run_dir(&self.r.run.id).join(RELIABILITY))?;
            return Ok(None);
        };
        let heading = format!(
            "Calibration: ECE {:.4}, Brier {:.4} ({} test images)",
            cal.ece,
            cal.brier,
            self.m.confusion.sum()
        );
        let n_bins = cal.bins.len() as f64;
        let bins: Vec<ReliabilityBin> = cal
            .bins
            .iter()
            .enumerate()
            .map(|(k, b)| ReliabilityBin {
                low: k as f64 / n_bins,
                high: (k + 1) as f64 / n_bins,
                count: b.count,
                confidence: b.confidence.unwrap_or(f64::NAN),
                accuracy: b.accuracy.unwrap_or(f64::NAN),
            })
            .collect();
        let lines = self.lines(&format!(
            "{} equal-width bins of the largest probability (a bin of few images, counted below, says little); ECE: the gaps weighted by each bin's share of images; Brier: mean of sum_k (p_k - [k = label])^2",
            cal.bins.len()
        ));
        self.figure(RELIABILITY, heading, &lines, |path, title| {
            reliability_diagram(path, title, &bins)
        })
        .map(Some)
    }

    fn sample_predictions(&self) -> Result<Figure> {
        let test = &self.examples.test;
        let heading = format!(
            "The first {} test images and their ten class probabilities",
            test.len()
        );
        let panels = test
            .iter()
            .map(|p| {
                Ok(Panel {
                    pixels: self.pixels(p.index)?,
                    label: Some(p.label),
                    name: None,
                    probabilities: p.probabilities.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lines =
            self.lines("Predicted digit in green (right) or red (wrong); true digit outlined");
        self.figure(SAMPLE_PREDICTIONS, heading, &lines, |path, title| {
            probability_panels(path, title, &panels)
        })
    }

    /// Each one-vs-rest classifier's binary accuracy beside the notebook's and the "always no"
    /// baseline; a multinomial run has none (its old chart is removed).
    fn binary_accuracy(&self, published: Option<&[f64]>) -> Result<Option<Figure>> {
        let m = self.m;
        let binary: Option<Vec<f64>> = m.per_class.iter().map(|c| c.binary_accuracy).collect();
        let Some(binary) = binary else {
            let dir = self.dir;
            dir.remove(&dir.run_dir(&self.r.run.id).join(BINARY_ACCURACY))?;
            return Ok(None);
        };
        let heading =
            "Each digit's one-vs-rest classifier: binary accuracy on the test set".to_string();
        // A classifier that always answers "not this digit" is right on every other digit.
        let n = m.confusion.sum().max(1) as f64;
        let always_no: Vec<f64> = m
            .per_class
            .iter()
            .map(|c| 1.0 - c.support as f64 / n)
            .collect();
        let published: Option<Vec<f64>> = published.map(|p| {
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
        self.figure(BINARY_ACCURACY, heading, &self.context, |path, title| {
            zoomed_bars(path, title, "accuracy", &chart)
        })
        .map(Some)
    }

    fn training_digits(&self) -> Result<Figure> {
        let train = &self.examples.train;
        let heading = format!("The first {} training images and their labels", train.len());
        let tiles = train
            .iter()
            .map(|d| {
                Ok(Tile {
                    pixels: self.pixels(d.index)?,
                    caption: format!("Label: {}", d.label),
                    caption_color: plotters::style::BLACK,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lines = vec![
            super::split_text(self.r),
            "Images as the model sees them before scaling".into(),
        ];
        self.figure(TRAINING_DIGITS, heading, &lines, |path, title| {
            digit_grid(path, title, &tiles, 8)
        })
    }

    /// The objective and the largest gradient component per iteration, with where
    /// scikit-learn's fit stopped; none for a fit without a trace (sag, saga).
    fn fit_path(&self, sklearn_stopped: Option<(u64, f64)>) -> Result<Option<Figure>> {
        let (d, params) = (&self.r.diagnostics, &self.r.run.params);
        if d.trace.len() <= 1 {
            return Ok(None);
        }
        let heading = format!(
            "Fit path: {} iterations, stopped: {}",
            d.n_iter, d.termination
        );
        let lowest = lowest_objective(&d.trace, sklearn_stopped);
        let mut lines = self.lines(&match params.model.multi_class {
            MultiClass::Multinomial => format!(
                "Objective: scikit-learn's mean log-loss + ||W||^2 / (2 C n), final {:.6}, drawn as its distance to f* = {lowest:.6} (the lowest either side reached; the point that reached it drawn at a tenth of the smallest other distance); converged when the largest gradient component is <= tol",
                d.objective
            ),
            MultiClass::Ovr => format!(
                "Objective: the sum of the ten binary fits' objectives (each a mean log-loss + ||w||^2 / (2 C n)), final {:.6}, drawn as its distance to f* = {lowest:.6} (the lowest either side reached); iteration k: each class after k iterations, or where it stopped if sooner; gradient: the largest over the classes",
                d.objective
            ),
        });
        if let Some((n_iter, objective)) = sklearn_stopped {
            lines.push(format!(
                "Cross: where {}'s fit of the same run stopped (n_iter {n_iter}, objective {objective:.6}; scripts/sklearn_reference.py)",
                params.model.solver.reference_side()
            ));
        }
        let chart = fit_path_chart(
            &d.trace,
            params.model.tol,
            params.model.solver,
            sklearn_stopped,
        );
        self.figure(FIT_PATH, heading, &lines, |path, title| {
            line_chart(path, title, &chart)
        })
        .map(Some)
    }

    /// Each digit's weights as an image, from the run's saved model (none without one).
    fn coefficients(&self) -> Result<Option<Figure>> {
        let Some(saved) = self.dir.read_model(&self.r.run.id)? else {
            return Ok(None);
        };
        let (weights, unit) = saved.weights_to_draw();
        let heading = if saved.multi_class == MultiClass::Ovr {
            "What each one-vs-rest classifier learned: its weight on every pixel".to_string()
        } else {
            "What the model learned: each digit's weight on every pixel".to_string()
        };
        let lines = self.lines(&format!(
            "Red pixels raise the digit's score, blue ones lower it ({unit}; one scale, ending at the 99th percentile)"
        ));
        let maps: Vec<(String, Vec<f64>)> = weights
            .rows()
            .into_iter()
            .enumerate()
            .map(|(k, row)| (format!("digit {k}"), row.to_vec()))
            .collect();
        self.figure(COEFFICIENTS, heading, &lines, |path, title| {
            coefficient_maps(path, title, &maps, "weight", 5)
        })
        .map(Some)
    }
}

/// A probability as a mistake's caption gives it: two decimals of a percent, and no "100 %"
/// for a probability short of 1.
fn confidence_text(p: f64) -> String {
    if (0.9999..1.0).contains(&p) {
        "> 99.99 %".into()
    } else {
        format!("{:.2} %", 100.0 * p)
    }
}

/// The objective and the largest gradient component against the iteration, on a log axis (both
/// fall by orders of magnitude), with `tol`.
pub(crate) fn fit_path_chart(
    trace: &[crate::model::TracePoint],
    tol: f64,
    solver: crate::model::Solver,
    sklearn_stopped: Option<(u64, f64)>,
) -> LineChart {
    let step = solver.step_label();
    let lowest = lowest_objective(trace, sklearn_stopped);
    // The distance to the lowest objective either side reached, which keeps falling by orders
    // of magnitude where the objective itself looks flat; the lowest point sits on the floor.
    let gaps = objectives(trace, sklearn_stopped)
        .map(|o| o - lowest)
        .filter(|g| *g > 0.0);
    let floor = gaps.fold(f64::INFINITY, f64::min).min(1.0) * SUBOPTIMALITY_FLOOR;
    let floor = if floor.is_finite() { floor } else { 1e-12 };
    let above = |objective: f64| (objective - lowest).max(floor);
    LineChart {
        x_label: step,
        y_label: "Value (log scale)".into(),
        y_log: true,
        series: vec![
            Series {
                style: Style::Solid,
                label: "objective - f* (the lowest objective either side reached)".into(),
                color: PALETTE[0],
                points: trace
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (i as f64, above(t.objective)))
                    .collect(),
                ..Default::default()
            },
            // Solid too: a dash pattern breaks into fragments on a path this jagged.
            Series {
                style: Style::Solid,
                label: "largest gradient component".into(),
                color: PALETTE[1],
                points: trace
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (i as f64, t.grad_max.max(1e-12)))
                    .collect(),
                ..Default::default()
            },
        ]
        .into_iter()
        .chain(sklearn_stopped.map(|(n_iter, objective)| Series {
            style: Style::Crosses,
            label: format!("{} stopped (its objective - f*)", solver.reference_side()),
            color: PALETTE[2],
            points: vec![(n_iter as f64, above(objective))],
            ..Default::default()
        }))
        .collect(),
        reference_lines: if tol > 0.0 {
            vec![(tol, format!("tol {}", compact(tol)))]
        } else {
            vec![]
        },
        ..Default::default()
    }
}

/// The point that reached f* is drawn at this share of the smallest other distance to f* (a
/// log axis has no 0), so that it shows as lowest without stretching the axis.
const SUBOPTIMALITY_FLOOR: f64 = 0.1;

/// Every objective on the path, then the reference side's where it stopped.
fn objectives(
    trace: &[crate::model::TracePoint],
    sklearn_stopped: Option<(u64, f64)>,
) -> impl Iterator<Item = f64> + '_ {
    trace
        .iter()
        .map(|t| t.objective)
        .chain(sklearn_stopped.map(|(_, o)| o))
}

/// f*: the lowest objective on the path or where the reference side stopped.
fn lowest_objective(
    trace: &[crate::model::TracePoint],
    sklearn_stopped: Option<(u64, f64)>,
) -> f64 {
    objectives(trace, sklearn_stopped).fold(f64::INFINITY, f64::min)
}
