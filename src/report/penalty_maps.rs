//! `coefficients.png` of a sweep over penalties: each l1_ratio's chosen model's weights.
//!
//! May touch: `charts`, `config`, `error`, `store`, `text`, `report::{comparison, Figure, figure}`.

use super::comparison::{selected_by_cv, split_groups};
use super::{figure, Figure};
use crate::charts::{coefficient_maps, Title};
use crate::config::SelectionRule;
use crate::error::{Error, Result};
use crate::store::{ResultsDir, RunResult};
use crate::text::display_number;

/// `coefficients.png` where runs differ in `l1_ratio`: for each l1_ratio on the split with the
/// most runs, the weights of the setting cross-validation chose among that l1_ratio's runs (by
/// the config's rule), ten digit maps per row on one colour scale. None (and the file removed)
/// without two penalties or without CV scores to choose by.
pub(super) fn draw(
    dir: &ResultsDir,
    results: &[RunResult],
    rule: SelectionRule,
) -> Result<Option<Figure>> {
    let file = "coefficients.png";
    let all: Vec<&RunResult> = results.iter().filter(|r| r.metrics.is_some()).collect();
    let split = split_groups(&all)
        .into_iter()
        .max_by_key(|g| g.len())
        .unwrap_or_default();
    let mut ratios: Vec<f64> = split.iter().map(|r| r.run.params.model.l1_ratio).collect();
    ratios.sort_by(f64::total_cmp);
    ratios.dedup();
    let chosen: Option<Vec<&RunResult>> = ratios
        .iter()
        .map(|&ratio| {
            let runs: Vec<&RunResult> = split
                .iter()
                .copied()
                .filter(|r| r.run.params.model.l1_ratio == ratio)
                .collect();
            selected_by_cv(&runs, rule)
        })
        .collect();
    let chosen = match chosen {
        Some(chosen) if ratios.len() >= 2 => chosen,
        _ => {
            dir.remove(&dir.root.join(file))?;
            return Ok(None);
        }
    };
    let mut maps = Vec::new();
    let mut units = Vec::new();
    for r in &chosen {
        let saved = dir.read_model(&r.run.id)?.ok_or_else(|| Error::Output {
            path: dir.model_npz(&r.run.id),
            message: "missing: rerun the sweep with --force to rewrite the model files".into(),
        })?;
        let m = &r.run.params.model;
        let (weights, unit) = saved.weights_to_draw();
        units.push(unit);
        for (k, row) in weights.rows().into_iter().enumerate() {
            // The row's setting on a line of its own above its ten digits.
            let label = if k == 0 {
                let d = &r.diagnostics;
                format!(
                    "l1_ratio {}, C {}: {}\ndigit 0",
                    display_number(m.l1_ratio),
                    display_number(m.c),
                    if d.converged {
                        format!("converged after {} {}s", d.n_iter, m.solver.step_label())
                    } else {
                        format!(
                            "NOT converged: stopped at max_iter = {} {}s (the weights are where {} stopped)",
                            m.max_iter,
                            m.solver.step_label(),
                            m.solver.label()
                        )
                    }
                )
            } else {
                format!("\ndigit {k}")
            };
            maps.push((label, row.to_vec()));
        }
    }
    let heading = "Coefficients by penalty: each digit's weight on every pixel";
    let lines = vec![
        format!(
            "One row per l1_ratio (0: l2, 1: l1, between: elastic net), each at the C that {}-fold cross-validation chose for it ({})",
            chosen[0].cv.as_ref().map_or(0, |cv| cv.selection.cv),
            match rule {
                SelectionRule::Best => "best mean score",
                SelectionRule::OneSe => "one-standard-error rule",
            }
        ),
        format!(
            "Weights exactly zero: {}",
            chosen
                .iter()
                .map(|r| format!(
                    "{:.1} % at l1_ratio {}",
                    100.0 * r.diagnostics.zero_weights.unwrap_or(f64::NAN),
                    display_number(r.run.params.model.l1_ratio)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "Red pixels raise the digit's score, blue ones lower it, white is exactly or nearly zero ({}; one scale for every row, ending at the 99th percentile)",
            units.first().copied().unwrap_or_default()
        ),
    ];
    let title = Title {
        title: heading,
        lines: &lines,
    };
    figure(dir, file.into(), heading.into(), |tmp| {
        coefficient_maps(tmp, &title, &maps, "weight", 10)
    })
    .map(Some)
}
