//! `fit_paths.png`: every fit's path in a sweep overlaid, the objective per iteration; where the
//! sweep compares solvers, per pass over the data (what each point cost), so that they are
//! compared at equal work.
//!
//! May touch: `charts`, `digits`, `error`, `model`, `stats`, `store`,
//! `report::{Figure, figure, sweep_lines}`.

use super::sweep_lines::{c_colour, groups, labels, Axis};
use super::{figure, Figure};
use crate::charts::{line_chart, LineChart, Series, Style, Title, PALETTE};
use crate::error::Result;
use crate::stats;
use crate::store::{ResultsDir, RunResult};

const FILE: &str = "fit_paths.png";

/// Draws the fit paths, or removes the chart where no run has a path (sag and saga).
pub(super) fn draw(dir: &ResultsDir, results: &[RunResult]) -> Result<Option<Figure>> {
    let per_pass = passes(results);
    let (paths, fixed, left_out) = fit_paths(results, per_pass);
    let heading = match per_pass {
        Some(_) => "Fit paths: scikit-learn's objective per pass over the training data".into(),
        None => format!("Fit paths: scikit-learn's objective per {}", paths.x_label),
    };
    if paths.series.is_empty() {
        dir.remove(&dir.root.join(FILE))?;
        return Ok(None);
    }
    {
        let mut lines = vec![
            if fixed.is_empty() {
                "One line per setting".to_string()
            } else {
                format!("Fixed: {fixed}")
            },
            "Runs that differ only in max_iter share one path (one fit serves them): the longest is drawn".into(),
        ];
        if per_pass.is_some() {
            lines.push(
                "A point per iteration, placed at the passes it cost: an L-BFGS iteration takes one or more (line-search trials), a gradient descent iteration one".into(),
            );
        }
        if let Some(gap) = overlapping(&paths) {
            lines.push(format!(
                "The {} paths lie within {} of each other at every iteration they share: they are drawn on top of one another (the setting barely moves the objective here; the README's table has each run's final objective)",
                paths.series.len(),
                if gap < 1e-4 { "0.01 %".to_string() } else { format!("{:.2} %", 100.0 * gap) }
            ));
        }
        if left_out > 0 {
            lines.push(format!(
                "Only runs on the most common training-set size: objectives on other training images are not comparable ({left_out} other run(s) not drawn)"
            ));
        }
        let title = Title {
            title: &heading,
            lines: &lines,
        };
        figure(dir, FILE.into(), heading.clone(), |tmp| {
            line_chart(tmp, &title, &paths)
        })
        .map(Some)
    }
}

/// Every fit's path overlaid: the objective per iteration, one line per group of runs that differ
/// only in max_iter (their paths coincide; the longest is drawn). Objectives are only comparable
/// on the same training images, so only runs with the most common training-set size are drawn
/// (the third value says how many other runs were left out). Where each line has its own C, the
/// line takes that C's colour in the sweep's other charts.
fn fit_paths(results: &[RunResult], per_pass: Option<&str>) -> (LineChart, String, usize) {
    let mut sizes: Vec<usize> = results.iter().map(|r| r.n_train).collect();
    sizes.sort_unstable();
    let size = stats::group_in_order(sizes, |&n| n)
        .into_iter()
        .max_by_key(|g| (g.len(), g[0]))
        .map_or(0, |g| g[0]);
    let same_size: Vec<RunResult> = results
        .iter()
        .filter(|r| r.n_train == size)
        .cloned()
        .collect();
    let left_out = results.len() - same_size.len();
    let results = &same_size[..];
    let families = groups(results, Axis::MaxIter);
    let (legend, fixed) = labels(&families);
    let mut cs: Vec<f64> = families
        .iter()
        .map(|f| f.runs[0].run.params.model.c)
        .collect();
    cs.sort_by(f64::total_cmp);
    cs.dedup();
    let by_c = cs.len() == families.len();
    let series = families
        .iter()
        .zip(legend)
        .enumerate()
        .filter_map(|(i, (family, label))| {
            let longest = family
                .runs
                .iter()
                .max_by_key(|r| r.diagnostics.trace.len())?;
            (longest.diagnostics.trace.len() > 1).then(|| Series {
                style: if i >= PALETTE.len() {
                    Style::Dashed
                } else {
                    Style::Solid
                },
                label: if label.is_empty() {
                    "objective".into()
                } else {
                    label
                },
                color: if by_c {
                    c_colour(results, longest.run.params.model.c)
                } else {
                    PALETTE[i % PALETTE.len()]
                },
                points: longest
                    .diagnostics
                    .trace
                    .iter()
                    .enumerate()
                    .map(|(it, t)| {
                        let x = match (per_pass, t.evaluations) {
                            (Some(_), Some(e)) => e as f64 / problems(longest) as f64,
                            _ => it as f64,
                        };
                        (x, t.objective.max(1e-12))
                    })
                    .collect(),
                ..Default::default()
            })
        })
        .collect();
    let mut steps: Vec<String> = results
        .iter()
        .filter(|r| !r.diagnostics.trace.is_empty())
        .map(|r| r.run.params.model.solver.step_label())
        .collect();
    steps.sort();
    steps.dedup();
    let chart = LineChart {
        x_label: match per_pass {
            Some(label) => label.into(),
            None => steps.join(" / "),
        },
        y_label: match results.iter().filter(|r| problems(r) > 1).count() {
            0 => "Objective (log scale)".into(),
            k if k == results.len() => {
                "Objective: the ten binary objectives summed (log scale)".into()
            }
            _ => "Objective (log scale; one-vs-rest: the ten binary objectives summed)".into(),
        },
        y_log: true,
        series,
        y_format: crate::charts::compact,
        ..Default::default()
    };
    (chart, fixed, left_out)
}

/// Where the drawn fits come from more than one solver and every path says what each point cost:
/// the x axis's label for passes over the data.
fn passes(results: &[RunResult]) -> Option<&'static str> {
    let traced: Vec<&RunResult> = results
        .iter()
        .filter(|r| r.diagnostics.trace.len() > 1)
        .collect();
    let first = traced.first()?.run.params.model.solver;
    let mixed = traced.iter().any(|r| r.run.params.model.solver != first);
    let counted = traced
        .iter()
        .all(|r| r.diagnostics.trace.iter().all(|t| t.evaluations.is_some()));
    let ovr = traced.iter().any(|r| problems(r) > 1);
    (mixed && counted).then_some(if ovr {
        "Passes over the training data (loss and gradient evaluations; one-vs-rest: per class)"
    } else {
        "Passes over the training data (loss and gradient evaluations)"
    })
}

/// The largest relative gap between any two paths at a shared x, where several paths never part
/// by more than 1 % (drawn on top of one another, they need saying so); none otherwise.
fn overlapping(chart: &LineChart) -> Option<f64> {
    if chart.series.len() < 2 {
        return None;
    }
    let mut gap = 0f64;
    for (i, a) in chart.series.iter().enumerate() {
        for b in &chart.series[i + 1..] {
            for (x, ya) in &a.points {
                if let Some((_, yb)) = b.points.iter().find(|(xb, _)| xb == x) {
                    gap = gap.max((ya - yb).abs() / ya.abs().max(yb.abs()));
                }
            }
        }
    }
    (gap < 0.01).then_some(gap)
}

/// The binary problems a run's fit solves: one per class for one-vs-rest, else one.
fn problems(r: &RunResult) -> usize {
    match r.run.params.model.multi_class {
        crate::model::MultiClass::Ovr => crate::digits::N_CLASSES,
        crate::model::MultiClass::Multinomial => 1,
    }
}
