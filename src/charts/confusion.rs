//! Confusion-matrix heatmaps.
//!
//! May touch: `error`.

use std::path::Path;

use ndarray::Array2;
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{blues, canvas, chart_error, Title, FONT};
use crate::error::Result;

/// What a confusion heatmap writes in its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cells {
    /// The number of test images.
    Counts,
    /// The percentage of the true digit's test images (rows sum to 100).
    RowPercent,
}

/// Canvas width, and the part of it on the right that holds the colour bar.
const WIDTH: u32 = 1040;
const BAR_AREA: u32 = 140;

/// The colour scale: a vertical bar from 0 (bottom) to 100 % of the true digit (top), on the
/// square-root scale the cells use, with ticks at 0, 1, 5, 25 and 100 %.
fn colour_bar(area: &DrawingArea<BitMapBackend, Shift>) -> Result<(), String> {
    let (x, top, h) = (20, 60, 600);
    let style = (FONT, 16).into_font().color(&BLACK);
    area.draw_text("share of the", &style, (x - 10, top - 48))
        .map_err(|e| e.to_string())?;
    area.draw_text("true digit", &style, (x - 10, top - 28))
        .map_err(|e| e.to_string())?;
    for y in 0..h {
        let t = 1.0 - y as f64 / (h - 1) as f64;
        area.draw(&Rectangle::new(
            [(x, top + y), (x + 24, top + y + 1)],
            blues(t).filled(),
        ))
        .map_err(|e| e.to_string())?;
    }
    for (fraction, text) in [
        (1.0, "100 %"),
        (0.25, "25 %"),
        (0.05, "5 %"),
        (0.01, "1 %"),
        (0.0, "0"),
    ] {
        let t: f64 = f64::sqrt(fraction);
        let y = top + ((1.0 - t) * (h - 1) as f64) as i32;
        area.draw(&PathElement::new(vec![(x + 24, y), (x + 30, y)], BLACK))
            .map_err(|e| e.to_string())?;
        area.draw_text(text, &style, (x + 34, y - 8))
            .map_err(|e| e.to_string())?;
    }
    area.draw_text("(square-root", &style, (x - 10, top + h + 14))
        .map_err(|e| e.to_string())?;
    area.draw_text("scale)", &style, (x - 10, top + h + 34))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Draws a confusion matrix (true classes in rows, predicted in columns). Cell colour is the
/// share of the true class's samples (the row), on a square-root scale so that small confusions
/// stay visible; the cells hold counts or row percentages.
pub fn confusion_heatmap(
    path: &Path,
    confusion: &Array2<u64>,
    title: &Title,
    cells: Cells,
) -> Result<Vec<u8>> {
    let k = confusion.nrows() as i32;
    let height = 860 + title.height(WIDTH);
    canvas(path, (WIDTH, height), title, |area| {
        let (area, bar) = area.split_horizontally(WIDTH - BAR_AREA);
        colour_bar(&bar).map_err(|e| chart_error(path, e))?;
        let mut chart = ChartBuilder::on(&area)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(70)
            .build_cartesian_2d((0..k - 1).into_segmented(), (0..k - 1).into_segmented())
            .map_err(|e| chart_error(path, e))?;
        // Row r of the matrix is drawn at y = k - 1 - r so that class 0 is at the top.
        let center = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => Some(*i),
            _ => None,
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("Predicted digit")
            .y_desc("True digit")
            .x_labels(k as usize)
            .y_labels(k as usize)
            .x_label_formatter(&|v| center(v).map(|i| i.to_string()).unwrap_or_default())
            .y_label_formatter(&|v| {
                center(v)
                    .map(|i| (k - 1 - i).to_string())
                    .unwrap_or_default()
            })
            .label_style((FONT, 20))
            .axis_desc_style((FONT, 22))
            .draw()
            .map_err(|e| chart_error(path, e))?;

        let mut rects = Vec::new();
        let mut labels = Vec::new();
        for r in 0..k {
            let row_total = confusion.row(r as usize).sum().max(1) as f64;
            for c in 0..k {
                let count = confusion[[r as usize, c as usize]];
                let fraction = count as f64 / row_total;
                let share = fraction.sqrt();
                let y = k - 1 - r;
                rects.push(Rectangle::new(
                    [
                        (SegmentValue::Exact(c), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(c + 1), SegmentValue::Exact(y + 1)),
                    ],
                    blues(share).filled(),
                ));
                let ink = if share > 0.55 { WHITE } else { BLACK };
                let text = match cells {
                    Cells::Counts => count.to_string(),
                    Cells::RowPercent if count == 0 => "0".into(),
                    Cells::RowPercent if fraction < 0.001 => "<0.1".into(),
                    Cells::RowPercent => format!("{:.1}", 100.0 * fraction),
                };
                labels.push(Text::new(
                    text,
                    (SegmentValue::CenterOf(c), SegmentValue::CenterOf(y)),
                    (FONT, 17)
                        .into_font()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ));
            }
        }
        chart.draw_series(rects).map_err(|e| chart_error(path, e))?;
        chart
            .draw_series(labels)
            .map_err(|e| chart_error(path, e))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::fixture::inspect;

    #[test]
    fn both_variants_render_a_decodable_png() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Array2::<u64>::zeros((10, 10));
        for k in 0..10 {
            m[[k, k]] = 900 + k as u64;
            m[[k, (k + 3) % 10]] = 12;
        }
        for cells in [Cells::Counts, Cells::RowPercent] {
            let path = dir.path().join(format!("{cells:?}.png"));
            let lines = ["subtitle".to_string()];
            std::fs::write(
                &path,
                confusion_heatmap(
                    &path,
                    &m,
                    &Title {
                        title: "Confusion",
                        lines: &lines,
                    },
                    cells,
                )
                .unwrap(),
            )
            .unwrap();
            let (w, h, colours) = inspect(&path);
            assert_eq!((w, h), (WIDTH, 860 + 30 + 34 + 24));
            assert!(colours > 20, "cells, text and axes: {colours} colours");
        }
    }
}
