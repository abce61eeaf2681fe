//! Grouped bar charts over categories (e.g. precision, recall and F1 for each digit).
//!
//! May touch: `error`.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{canvas, chart_error, Title, FONT};
use crate::error::Result;

/// One kind of bar, drawn once per category.
#[derive(Debug, Clone)]
pub struct BarGroup {
    pub label: String,
    pub color: RGBColor,
    /// One value per category.
    pub values: Vec<f64>,
}

/// A grouped bar chart.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub groups: Vec<BarGroup>,
    /// The y axis range; bars start at its bottom.
    pub y_range: (f64, f64),
    /// Write each bar's value above it, with this many decimals.
    pub value_decimals: Option<usize>,
}

/// The category whose bars are centred at `v`, if `v` is a category position.
pub(super) fn category(categories: &[String], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    categories.get(i as usize).cloned().unwrap_or_default()
}

/// The width, in pixels, a bar with a value label above it needs at the least.
const MIN_LABELLED_BAR: f64 = 44.0;

/// Draws `chart` to `path` (650 pixels high plus the title block; 1200 wide, or wider where
/// there are so many bars that their value labels would not fit at a legible size); the legend
/// is above the plot when there is more than one group.
pub fn grouped_bars(path: &Path, title: &Title, chart: &BarChart) -> Result<Vec<u8>> {
    let n = chart.categories.len() as f64;
    let (lo, hi) = chart.y_range;
    let bars = n * chart.groups.len().max(1) as f64;
    let width = if chart.value_decimals.is_some() {
        (200.0 + bars * MIN_LABELLED_BAR).max(1200.0) as u32
    } else {
        1200
    };
    let height = 650 + title.height(width);
    canvas(path, (width, height), title, |area| {
        let legend_height = if chart.groups.len() > 1 { 40 } else { 0 };
        let (legend, plot) = area.split_vertically(legend_height);
        let mut x = 100;
        for g in chart.groups.iter().filter(|_| legend_height > 0) {
            legend
                .draw(&Rectangle::new([(x, 10), (x + 24, 30)], g.color.filled()))
                .map_err(|e| chart_error(path, e))?;
            legend
                .draw_text(
                    &g.label,
                    &(FONT, 18).into_font().color(&BLACK),
                    (x + 32, 10),
                )
                .map_err(|e| chart_error(path, e))?;
            x += 60 + 11 * g.label.len() as i32;
        }
        let mut ctx = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5..n - 0.5, lo..hi)
            .map_err(|e| chart_error(path, e))?;
        ctx.configure_mesh()
            .disable_x_mesh()
            .x_labels(chart.categories.len())
            .x_label_formatter(&|v| category(&chart.categories, *v))
            .y_labels(8)
            .y_desc(chart.y_label.as_str())
            .x_desc(chart.x_label.as_str())
            .y_label_formatter(&|v| {
                let s = format!("{v:.3}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            })
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 20))
            .bold_line_style(RGBColor(215, 215, 215))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(|e| chart_error(path, e))?;
        let k = chart.groups.len().max(1) as f64;
        let width = 0.8 / k;
        for (gi, g) in chart.groups.iter().enumerate() {
            let left = |ci: usize| ci as f64 - 0.4 + gi as f64 * width;
            // A value that is not finite is no bar (a category the group has no number for).
            let values = || g.values.iter().enumerate().filter(|(_, v)| v.is_finite());
            ctx.draw_series(values().map(|(ci, &v)| {
                Rectangle::new(
                    [
                        (left(ci) + 0.01, lo),
                        (left(ci) + width - 0.01, v.clamp(lo, hi)),
                    ],
                    g.color.filled(),
                )
            }))
            .map_err(|e| chart_error(path, e))?;
            if let Some(decimals) = chart.value_decimals {
                let size = if k > 3.0 { 13 } else { 16 };
                ctx.draw_series(values().map(|(ci, &v)| {
                    Text::new(
                        format!("{v:.decimals$}"),
                        (left(ci) + width / 2.0, v.clamp(lo, hi)),
                        (FONT, size)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
                }))
                .map_err(|e| chart_error(path, e))?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::fixture::inspect;

    #[test]
    fn grouped_bars_render() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bars.png");
        let chart = BarChart {
            x_label: "Digit".into(),
            y_label: "Score".into(),
            categories: (0..10).map(|d| d.to_string()).collect(),
            groups: ["precision", "recall", "F1"]
                .iter()
                .enumerate()
                .map(|(i, l)| BarGroup {
                    label: l.to_string(),
                    color: crate::charts::PALETTE[i],
                    values: (0..10).map(|d| 0.85 + 0.01 * d as f64).collect(),
                })
                .collect(),
            y_range: (0.8, 1.0),
            value_decimals: Some(3),
        };
        std::fs::write(
            &path,
            grouped_bars(
                &path,
                &Title {
                    title: "t",
                    lines: &[],
                },
                &chart,
            )
            .unwrap(),
        )
        .unwrap();
        // 30 labelled bars: wider than 1,200 pixels, so that each label fits over its bar.
        let (w, _, colours) = inspect(&path);
        assert_eq!(w, 200 + 30 * 44);
        assert!(colours > 10);
    }
}
