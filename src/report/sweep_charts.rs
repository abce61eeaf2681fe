//! Charts over a whole sweep: how accuracy, fit time and convergence move with max_iter, C and
//! the training-set size. Runs that differ only in the charted parameter form one line; a line
//! needs two or more points, and a chart with no line is not drawn (the README says why).
//!
//! May touch: `charts`, `config`, `error`, `model` (the solver), `stats`, `store`,
//! `report::{Figure, figure, sweep_lines}`.

use std::collections::HashMap;

use plotters::style::RGBColor;

use super::comparison::is_selected;
use super::sweep_lines::{colour, labels, lines, Axis, Line};
use super::{figure, Figure};
use crate::charts::{line_chart, LineChart, Series, Style, Title};
use crate::config::{Scoring, SelectionRule};
use crate::error::Result;
use crate::stats::group_in_order;
use crate::store::{ResultsDir, RunResult};

/// What a chart plots for each run.
#[derive(Clone, Copy)]
enum Measure {
    /// Test accuracy (solid) and training accuracy (dashed), in percent.
    Accuracy,
    FitSeconds,
    GradNorm,
    /// The share of weights exactly zero, in percent.
    ZeroWeights,
}

/// What the charted runs' iterations are: "L-BFGS iterations", "sag epochs", or several;
/// `short` for "where ... stopped".
fn optimiser(results: &[RunResult], short: bool) -> String {
    let mut names: Vec<String> = Vec::new();
    for r in results {
        let solver = r.run.params.model.solver;
        let name = match short {
            true => solver.label().to_string(),
            false => format!("{}s", solver.step_label()),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        names.push(if short { "L-BFGS" } else { "L-BFGS iterations" }.into());
    }
    names.join(" / ")
}

/// The first seed and the number of splits where the runs' settings were each fitted on three
/// or more splits (`[split] repeats`, or a list of `random_state` values); none otherwise.
fn repeated_splits(results: &[RunResult]) -> Option<(u32, usize)> {
    let groups = group_in_order(results.iter(), setting_without_split);
    let counts: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let n = counts.iter().copied().max()?;
    let first = results.first()?.run.params.split.random_state;
    (n >= 3).then_some((first, n))
}

/// A run's setting across splits.
fn setting_without_split(r: &&RunResult) -> crate::config::RunParams {
    r.run.params.setting_across_splits()
}

const ACROSS_SPLITS: &str = "across_splits.png";

/// Test accuracy against the split's seed, one line per setting: how much moves with the split
/// and how much with the setting (a sweep over three or more splits only).
fn across_splits(dir: &ResultsDir, results: &[RunResult]) -> Result<Option<Figure>> {
    let path = dir.root.join(ACROSS_SPLITS);
    if repeated_splits(results).is_none() {
        dir.remove(&path)?;
        return Ok(None);
    }
    let groups: Vec<Vec<&RunResult>> = group_in_order(results.iter(), setting_without_split)
        .into_iter()
        .filter(|g| g.len() >= 2)
        .collect();
    let varying = crate::config::varying_params(groups.iter().map(|g| &g[0].run.params))
        .into_iter()
        .filter(|p| p.name != "random_state")
        .collect::<Vec<_>>();
    let series: Vec<Series> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let acc: Vec<f64> = g
                .iter()
                .filter_map(|r| r.accuracy())
                .map(|a| 100.0 * a)
                .collect();
            let (mean, sd) = crate::stats::mean_sd(&acc);
            let setting = crate::config::setting_label(&g[0].run.params, &varying);
            Series {
                label: format!("{setting}: mean {mean:.2} %, sd {sd:.2} pp"),
                color: crate::charts::PALETTE[i % crate::charts::PALETTE.len()],
                style: Style::Solid,
                points: g
                    .iter()
                    .filter_map(|r| {
                        Some((
                            f64::from(r.run.params.split.random_state),
                            100.0 * r.accuracy()?,
                        ))
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let r0 = &groups[0][0];
    let heading = format!("Test accuracy on each of {} splits", groups[0].len());
    let lines = vec![
        format!(
            "Each split (random_state) draws its own {} training and {} test images; lines: settings",
            r0.n_train, r0.n_test
        ),
        "Lines that move together: the split matters more than the setting; the README's \"Across splits\" pairs them split by split".to_string(),
    ];
    let chart = LineChart {
        x_label: "Split (train_test_split random_state)".into(),
        y_label: "Test accuracy (%)".into(),
        series,
        ..Default::default()
    };
    let title = Title {
        title: &heading,
        lines: &lines,
    };
    figure(dir, ACROSS_SPLITS.into(), heading.clone(), |tmp| {
        line_chart(tmp, &title, &chart)
    })
    .map(Some)
}

/// scikit-learn's test accuracy per run id (`sklearn/metrics.csv`), where the folder has one.
type Sklearn = HashMap<String, f64>;

fn chart(
    results: &[RunResult],
    axis: Axis,
    measure: Measure,
    sklearn: &Sklearn,
) -> (LineChart, String) {
    let lines = lines(results, axis);
    let (legend, fixed) = labels(&lines);
    let mut series = Vec::new();
    for (i, (line, label)) in lines.iter().zip(&legend).enumerate() {
        let color = colour(results, line, axis, i);
        let x = |r: &RunResult| axis.value(r);
        let named = |what: &str| {
            if label.is_empty() {
                what.to_string()
            } else {
                format!("{label}: {what}")
            }
        };
        match measure {
            Measure::Accuracy => series.extend(accuracy_series(line, axis, color, &named, sklearn)),
            Measure::FitSeconds => series.push(Series {
                label: named("fit time"),
                color,
                points: line
                    .runs
                    .iter()
                    .map(|r| (x(r), r.diagnostics.fit_seconds))
                    .collect(),
                ..Default::default()
            }),
            Measure::ZeroWeights => series.push(Series {
                ringed: line.runs.iter().map(|r| !r.diagnostics.converged).collect(),
                label: named("zero weights"),
                color,
                points: line
                    .runs
                    .iter()
                    .map(|r| (x(r), 100.0 * r.diagnostics.zero_weights.unwrap_or(f64::NAN)))
                    .collect(),
                ..Default::default()
            }),
            Measure::GradNorm => series.push(Series {
                label: named("largest gradient component"),
                color,
                points: line
                    .runs
                    .iter()
                    .map(|r| (x(r), r.diagnostics.grad_norm.max(1e-12)))
                    .collect(),
                ..Default::default()
            }),
        }
    }
    let reference_lines = match measure {
        Measure::GradNorm => tol_lines(&lines),
        _ => Vec::new(),
    };
    let y_label = match measure {
        Measure::Accuracy => "Accuracy (%)",
        Measure::FitSeconds => "Fit time (seconds)",
        Measure::GradNorm => "Largest gradient component (log scale)",
        Measure::ZeroWeights => "Weights exactly zero (%)",
    };
    let y_floor = match measure {
        Measure::Accuracy => accuracy_floor(&series),
        _ => None,
    };
    let chart = LineChart {
        y_from_zero: matches!(measure, Measure::FitSeconds | Measure::ZeroWeights),
        ring_label: "did not converge (max_iter reached)".into(),
        x_label: axis.label(&optimiser(results, false)),
        y_label: y_label.into(),
        x_log: axis == Axis::C,
        y_log: matches!(measure, Measure::GradNorm),
        series,
        reference_lines,
        y_format: crate::charts::compact,
        y_floor,
        ..Default::default()
    };
    (chart, fixed)
}

/// How far below the best test accuracy an accuracy chart's axis reaches: points further down
/// (l1 at C = 0.01, 62 %) are drawn on the floor with their value, so that the region where the
/// settings compete (86-92 %) is not squashed into a few pixels.
const ACCURACY_SPAN_PP: f64 = 12.0;

/// The floor of an accuracy chart, where some point lies more than [`ACCURACY_SPAN_PP`] below
/// the best test accuracy; none otherwise.
fn accuracy_floor(series: &[Series]) -> Option<f64> {
    let best = series
        .iter()
        .filter(|s| s.style == Style::Solid)
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(f64::NEG_INFINITY, f64::max);
    let floor = (best - ACCURACY_SPAN_PP).floor();
    let lowest = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(f64::INFINITY, f64::min);
    (best.is_finite() && lowest < floor).then_some(floor)
}

/// One line's accuracy series: test (with Wilson intervals, unconverged runs ringed), the CV
/// scores where every run has them, scikit-learn's test accuracy where the folder has it, and
/// training accuracy.
fn accuracy_series(
    line: &Line,
    axis: Axis,
    color: RGBColor,
    named: &dyn Fn(&str) -> String,
    sklearn: &Sklearn,
) -> Vec<Series> {
    let x = |r: &RunResult| axis.value(r);
    let acc = |r: &&RunResult| 100.0 * r.accuracy().unwrap_or(f64::NAN);
    let interval = |r: &&RunResult| {
        let i = r
            .metrics
            .as_ref()
            .expect("charted runs have metrics")
            .accuracy_interval();
        (100.0 * i.low, 100.0 * i.high)
    };
    let mut series = vec![Series {
        ringed: line.runs.iter().map(|r| !r.diagnostics.converged).collect(),
        errors: line.runs.iter().map(interval).collect(),
        label: named("test"),
        color,
        points: line.runs.iter().map(|r| (x(r), acc(r))).collect(),
        ..Default::default()
    }];
    let cv: Vec<(&RunResult, f64, f64)> = line
        .runs
        .iter()
        .filter_map(|r| {
            let cv = r.cv.as_ref()?;
            let (mean, sd) = cv.mean_sd();
            (cv.selection.scoring == Scoring::Accuracy && mean.is_finite()).then_some((
                *r,
                100.0 * mean,
                100.0 * sd,
            ))
        })
        .collect();
    if cv.len() == line.runs.len() {
        let k = line.runs[0].cv.as_ref().map_or(0, |cv| cv.selection.cv);
        series.push(Series {
            errors: cv.iter().map(|(_, m, sd)| (m - sd, m + sd)).collect(),
            style: Style::Dotted,
            label: named(&format!("{k}-fold CV (mean ± sd)")),
            color,
            points: cv.iter().map(|(r, m, _)| (x(r), *m)).collect(),
            ..Default::default()
        });
    }
    let reference: Option<Vec<(f64, f64)>> = line
        .runs
        .iter()
        .map(|r| Some((x(r), 100.0 * sklearn.get(&r.run.id)?)))
        .collect();
    if let Some(points) = reference {
        series.push(Series {
            style: Style::Crosses,
            label: named(&format!(
                "{} test",
                line.runs[0].run.params.model.solver.reference_side()
            )),
            color,
            points,
            ..Default::default()
        });
    }
    series.push(Series {
        style: Style::Dashed,
        label: named("train"),
        color,
        points: line
            .runs
            .iter()
            .map(|r| (x(r), 100.0 * r.diagnostics.train_accuracy))
            .collect(),
        ..Default::default()
    });
    series
}

/// The tolerances of the charted runs, as reference lines: converged below.
fn tol_lines(lines: &[Line]) -> Vec<(f64, String)> {
    let mut tols: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.runs.iter().map(|r| r.run.params.model.tol))
        .filter(|&t| t > 0.0)
        .collect();
    tols.sort_by(f64::total_cmp);
    tols.dedup();
    tols.into_iter()
        .map(|t| (t, format!("tol {t:e}: converged below")))
        .collect()
}

/// A vertical mark at each charted run that `[selection]` chose on its split.
fn chosen_marks(results: &[RunResult], axis: Axis, rule: SelectionRule) -> Vec<(f64, String)> {
    let lines = lines(results, axis);
    let (legend, _) = labels(&lines);
    let all: Vec<&RunResult> = results.iter().collect();
    lines
        .iter()
        .zip(&legend)
        .flat_map(|(line, label)| line.runs.iter().map(move |r| (r, label)))
        .filter(|(r, _)| is_selected(r, &all, rule))
        .map(|(r, label)| {
            let k = r.cv.as_ref().map_or(0, |cv| cv.selection.cv);
            let which = if label.is_empty() {
                String::new()
            } else {
                format!(" ({label})")
            };
            (
                axis.value(r),
                format!(
                    "chosen by {k}-fold CV: {} = {}{which}",
                    axis.params()[0],
                    crate::charts::compact(axis.value(r))
                ),
            )
        })
        .collect()
}

/// A title line naming test-accuracy lines drawn exactly on top of each other (the last drawn
/// hides the others), if any: by group, a few groups and a few names each, the rest by count,
/// so that the line stays short whatever the grid.
fn coinciding(chart: &LineChart) -> Option<String> {
    const NAMED_GROUPS: usize = 3;
    const NAMED_PER_GROUP: usize = 3;
    let mut groups: Vec<(&Vec<(f64, f64)>, Vec<&Series>)> = Vec::new();
    for series in chart.series.iter().filter(|s| s.style == Style::Solid) {
        match groups
            .iter_mut()
            .find(|(points, _)| **points == series.points)
        {
            Some((_, members)) => members.push(series),
            None => groups.push((&series.points, vec![series])),
        }
    }
    groups.retain(|(_, members)| members.len() > 1);
    if groups.is_empty() {
        return None;
    }
    let name = |s: &Series| s.label.trim_end_matches(": test").to_string();
    let mut named: Vec<String> = groups
        .iter()
        .take(NAMED_GROUPS)
        .map(|(_, members)| {
            let mut names: Vec<String> = members
                .iter()
                .take(NAMED_PER_GROUP)
                .map(|s| name(s))
                .collect();
            if members.len() > NAMED_PER_GROUP {
                names.push(format!("{} more", members.len() - NAMED_PER_GROUP));
            }
            names.join(" = ")
        })
        .collect();
    if groups.len() > NAMED_GROUPS {
        named.push(format!("and {} more groups", groups.len() - NAMED_GROUPS));
    }
    Some(format!(
        "Drawn on top of each other (the same test accuracy at every point), {} group{}: {}",
        groups.len(),
        if groups.len() == 1 { "" } else { "s" },
        named.join("; ")
    ))
}

/// The lines under a sweep chart's title: what the lines share, and what the reader must know
/// to read the measure (unconverged runs, coinciding lines, intervals, crosses).
fn subtitle(
    results: &[RunResult],
    axis: Axis,
    measure: Measure,
    chart: &LineChart,
    fixed: &str,
) -> Vec<String> {
    let mut lines = if fixed.is_empty() {
        vec![]
    } else {
        vec![format!("Fixed: {fixed}")]
    };
    match measure {
        Measure::ZeroWeights => lines.push(
            "An l1 part sets weights to exactly zero (saga's soft thresholding); with l2 alone only the pixels no training image inks keep a zero weight. Ringed: did not converge"
                .into(),
        ),
        Measure::FitSeconds => lines.push(
            "Runs that differ only in max_iter share one fit: each point is the time that fit took to reach the run's max_iter (cumulative), plus the run's own checks"
                .into(),
        ),
        Measure::GradNorm => {}
        Measure::Accuracy => {
            let charted: Vec<&RunResult> = self::lines(results, axis)
                .into_iter()
                .flat_map(|l| l.runs)
                .collect();
            let unconverged = charted.iter().filter(|r| !r.diagnostics.converged).count();
            if unconverged > 0 {
                lines.push(format!(
                    "{unconverged} of {} charted runs did not converge (max_iter reached; ringed in magenta): their accuracy is where {} stopped, not the model the objective defines",
                    charted.len(),
                    optimiser(results, true)
                ));
            }
            lines.extend(coinciding(chart));
            if let Some(floor) = chart.y_floor {
                lines.push(format!(
                    "The axis starts at {floor} % ({ACCURACY_SPAN_PP} pp below the best test accuracy): points below it sit on it, marked ▼ with their value"
                ));
            }
            let has_cv = chart.series.iter().any(|s| s.style == Style::Dotted);
            lines.push(format!(
                "Each line: runs scored on the same test images; bars: Wilson 95 % intervals of the test accuracy{}",
                if has_cv {
                    ", and ± one standard deviation across folds for CV (dotted)"
                } else {
                    ""
                }
            ));
            if chart.series.iter().any(|s| s.style == Style::Crosses) {
                let gd = charted
                    .iter()
                    .any(|r| r.run.params.model.solver == crate::model::Solver::Gd);
                lines.push(format!(
                    "Crosses: scikit-learn's test accuracy for the same runs ({}scripts/sklearn_reference.py; results/parity.md compares the two)",
                    if gd { "numpy's gradient descent for gd runs; " } else { "" }
                ));
            }
        }
    }
    lines
}

/// Draws every sweep chart that has data; the others come back with the reason.
pub fn draw(
    dir: &ResultsDir,
    results: &[RunResult],
    sklearn: &Sklearn,
    rule: SelectionRule,
) -> Result<Vec<Figure>> {
    let specs: [(&str, &str, Axis, Measure); 6] = [
        (
            "accuracy_vs_max_iter",
            "Accuracy vs max_iter",
            Axis::MaxIter,
            Measure::Accuracy,
        ),
        ("accuracy_vs_C", "Accuracy vs C", Axis::C, Measure::Accuracy),
        (
            "learning_curve",
            "Learning curve: accuracy vs training-set size",
            Axis::TrainSize,
            Measure::Accuracy,
        ),
        (
            "fit_time_vs_max_iter",
            "Fit time vs max_iter",
            Axis::MaxIter,
            Measure::FitSeconds,
        ),
        (
            "convergence_vs_max_iter",
            "Convergence: largest gradient component vs max_iter",
            Axis::MaxIter,
            Measure::GradNorm,
        ),
        (
            "sparsity_vs_C",
            "Sparsity: share of weights exactly zero vs C",
            Axis::C,
            Measure::ZeroWeights,
        ),
    ];
    // A sweep over several splits (`[split] repeats`): the charts over a parameter draw the
    // first split only (one line per test set would bury them), across_splits.png all of them.
    let all = results;
    let first_split: Vec<RunResult>;
    let (results, split_note) = match repeated_splits(all) {
        Some((seed, n)) => {
            first_split = all
                .iter()
                .filter(|r| r.run.params.split.random_state == seed)
                .cloned()
                .collect();
            let note = format!(
                "The first of {n} splits (random_state={seed}) only: across_splits.png and the README's \"Across splits\" show every split"
            );
            (first_split.as_slice(), Some(note))
        }
        None => (all, None),
    };
    // Sparsity is what an l1 part buys: charted where a run has one.
    let any_l1 = results.iter().any(|r| r.run.params.model.l1_ratio > 0.0);
    let mut figures: Vec<Figure> = super::fit_paths::draw(dir, results)?.into_iter().collect();
    figures.extend(across_splits(dir, all)?);
    for (name, heading, axis, measure) in specs {
        let file = format!("{name}.png");
        if matches!(measure, Measure::ZeroWeights) && !any_l1 {
            dir.remove(&dir.root.join(&file))?;
            continue;
        }
        let (mut chart, fixed) = chart(results, axis, measure, sklearn);
        if let Measure::Accuracy = measure {
            chart.x_marks = chosen_marks(results, axis, rule);
        }
        if chart.series.is_empty() {
            dir.remove(&dir.root.join(&file))?;
            figures.push(Figure {
                file,
                heading: heading.into(),
                not_drawn: Some(format!(
                    "not drawn: no two finished runs scored on the same test images differ only in {}",
                    axis.params().join(" / ")
                )),
            });
            continue;
        }
        let mut lines = subtitle(results, axis, measure, &chart, &fixed);
        lines.extend(split_note.clone());
        // An accuracy chart of runs none of which converged shows where L-BFGS stopped, not
        // what the parameter does to the model: the title says so.
        let heading = match measure {
            Measure::Accuracy if chart.series.iter().all(|s| s.ringed.iter().all(|&r| r)) => {
                format!(
                    "{heading}, where {} stopped (no run converged)",
                    optimiser(results, true)
                )
            }
            _ => heading.to_string(),
        };
        let title = Title {
            title: &heading,
            lines: &lines,
        };
        figures.push(figure(dir, file, heading.clone(), |tmp| {
            line_chart(tmp, &title, &chart)
        })?);
    }
    figures.extend(super::penalty_maps::draw(dir, results, rule)?);
    Ok(figures)
}
