//! Which runs a sweep chart joins into one line: runs that differ only in the charted parameter
//! (and share a test set), with legends naming what differs between lines and a subtitle naming
//! what they share.
//!
//! May touch: `charts` (the palette), `config` (the parameter table), `stats` (grouping), `store`.

use plotters::style::RGBColor;

use crate::charts::PALETTE;
use crate::config::Param;
use crate::stats::group_in_order;
use crate::store::RunResult;

/// A parameter a sweep chart puts on its x axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Axis {
    MaxIter,
    C,
    TrainSize,
}

impl Axis {
    /// The parameters this axis varies (left out of a line's identity).
    pub(super) fn params(self) -> &'static [&'static str] {
        match self {
            Axis::MaxIter => &["max_iter"],
            Axis::C => &["C"],
            // test_size stays: a learning curve keeps its test images (the test set is part of
            // every line's identity anyway).
            Axis::TrainSize => &["train_size"],
        }
    }

    pub(super) fn value(self, r: &RunResult) -> f64 {
        match self {
            Axis::MaxIter => r.run.params.model.max_iter as f64,
            Axis::C => r.run.params.model.c,
            Axis::TrainSize => r.n_train as f64,
        }
    }

    /// The axis title; `optimiser` names what an iteration is (L-BFGS, or a solver's epochs).
    pub(super) fn label(self, optimiser: &str) -> String {
        match self {
            Axis::MaxIter => format!("max_iter ({optimiser} allowed)"),
            Axis::C => "C (inverse regularisation strength, log scale)".into(),
            Axis::TrainSize => "Training images".into(),
        }
    }
}

/// A run's parameters as (name, value) pairs, in table order, and its test set.
fn params(r: &RunResult) -> Vec<(&'static str, String)> {
    let mut key: Vec<(&'static str, String)> = r
        .run
        .params
        .values()
        .into_iter()
        .map(|(name, value)| (name, value.display()))
        .collect();
    key.push(("test_set", r.test_set.id.clone()));
    key
}

/// Runs that differ only in `axis`, with at least two distinct axis values.
pub(super) struct Line<'a> {
    pub(super) key: Vec<(&'static str, String)>,
    pub(super) runs: Vec<&'a RunResult>,
}

/// Runs whose axis value cannot be drawn (`C = inf`, no penalty, on a log axis) are left out.
pub(super) fn lines(results: &[RunResult], axis: Axis) -> Vec<Line<'_>> {
    let mut lines = groups(results, axis);
    for line in &mut lines {
        line.runs.retain(|r| axis.value(r).is_finite());
    }
    lines.retain(|l| {
        let mut xs: Vec<f64> = l.runs.iter().map(|r| axis.value(r)).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        xs.len() >= 2
    });
    lines
}

/// The finished runs grouped by every parameter but `axis`'s.
pub(super) fn groups(results: &[RunResult], axis: Axis) -> Vec<Line<'_>> {
    let key = |r: &&RunResult| -> Vec<(&'static str, String)> {
        params(r)
            .into_iter()
            .filter(|(name, _)| !axis.params().contains(name))
            .collect()
    };
    let with_metrics = results.iter().filter(|r| r.metrics.is_some());
    group_in_order(with_metrics, key)
        .into_iter()
        .map(|runs| Line {
            key: key(&runs[0]),
            runs,
        })
        .collect()
}

/// Legend labels (the parameters that differ between lines) and the subtitle (those shared).
pub(super) fn labels(lines: &[Line]) -> (Vec<String>, String) {
    let Some(first) = lines.first() else {
        return (Vec::new(), String::new());
    };
    let varying: Vec<&str> = first
        .key
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| {
            let value = |l: &Line| {
                l.key
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            lines.iter().any(|l| value(l) != value(first))
        })
        .collect();
    let legend = lines
        .iter()
        .map(|l| {
            l.key
                .iter()
                // A parameter this line's runs do not take (learning_rate for L-BFGS) is left out.
                .filter(|(n, v)| varying.contains(n) && v != "-")
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let fixed = first
        .key
        .iter()
        .filter(|(n, v)| {
            let shown = Param::named(n).is_none_or(|p| {
                first
                    .runs
                    .first()
                    .map_or(p.in_subtitle, |r| p.in_subtitle_at(p.get(&r.run.params)))
            });
            shown && !varying.contains(n) && v != "-"
        })
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    (legend, fixed)
}

/// The same colour for the same C in every chart of a sweep (fit paths included); lines along
/// the C axis (one per other setting) take colours of their own, far apart from each other; so
/// do lines where every run has the same C (they differ in another setting).
pub(super) fn colour(results: &[RunResult], line: &Line, axis: Axis, index: usize) -> RGBColor {
    let c = results.first().map(|r| r.run.params.model.c);
    let one_c = results.iter().all(|r| Some(r.run.params.model.c) == c);
    if axis == Axis::C {
        const OTHERS: [RGBColor; 3] = [
            RGBColor(20, 20, 20),
            RGBColor(204, 51, 17),
            RGBColor(0, 119, 187),
        ];
        return OTHERS[index % OTHERS.len()];
    }
    if one_c {
        return PALETTE[index % PALETTE.len()];
    }
    c_colour(results, line.runs[0].run.params.model.c)
}

/// The colour of a value of C among the sweep's values.
pub(super) fn c_colour(results: &[RunResult], c: f64) -> RGBColor {
    let mut cs: Vec<f64> = results.iter().map(|r| r.run.params.model.c).collect();
    cs.sort_by(f64::total_cmp);
    cs.dedup();
    let i = cs.iter().position(|&v| v == c).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_are_the_varying_parameters() {
        // Tested through the public report in tests/end_to_end.rs; here only the label logic.
        let lines: Vec<Line> = vec![
            Line {
                key: vec![("C", "1".into()), ("scaler", "none".into())],
                runs: vec![],
            },
            Line {
                key: vec![("C", "10".into()), ("scaler", "none".into())],
                runs: vec![],
            },
        ];
        let (legend, fixed) = labels(&lines);
        assert_eq!(legend, vec!["C=1", "C=10"]);
        assert_eq!(fixed, "scaler=none");
    }
}
