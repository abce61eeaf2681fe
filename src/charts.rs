//! PNG charts drawn with plotters and an embedded DejaVu font (no system fonts needed).

use std::path::Path;
use std::sync::Once;

use ndarray::Array2;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

/// The font family every chart uses; registered from embedded bytes on first use.
const FONT: &str = "sans-serif";

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| ())
            .expect("the embedded DejaVu Sans font is valid");
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| ())
            .expect("the embedded DejaVu Sans Bold font is valid");
    });
}

/// White to dark blue (ColorBrewer "Blues" end points) for a share in [0, 1].
fn blues(share: f64) -> RGBColor {
    let t = share.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

fn chart_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::output(path, format!("drawing the chart: {e}"))
}

/// Draws a confusion matrix (true classes in rows, predicted in columns) with the count in every
/// cell. Cell colour is the share of the true class's samples (the row), on a square-root scale
/// so that small confusions stay visible. `title` may hold two lines separated by `\n`.
pub fn confusion_heatmap(path: &Path, confusion: &Array2<u64>, title: &str) -> Result<()> {
    register_fonts();
    let k = confusion.nrows() as i32;
    let root = BitMapBackend::new(path, (900, 960)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| chart_error(path, e))?;
    let mut lines = title.lines();
    let (head, tail) = root.split_vertically(100);
    head.draw_text(
        lines.next().unwrap_or_default(),
        &(FONT, 26).into_font().style(FontStyle::Bold).color(&BLACK),
        (30, 18),
    )
    .map_err(|e| chart_error(path, e))?;
    for (i, line) in lines.enumerate() {
        head.draw_text(
            line,
            &(FONT, 19).into_font().color(&BLACK),
            (30, 54 + 24 * i as i32),
        )
        .map_err(|e| chart_error(path, e))?;
    }

    let mut chart = ChartBuilder::on(&tail)
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

    let mut cells = Vec::new();
    let mut labels = Vec::new();
    for r in 0..k {
        let row_total = confusion.row(r as usize).sum().max(1) as f64;
        for c in 0..k {
            let count = confusion[[r as usize, c as usize]];
            let share = (count as f64 / row_total).sqrt();
            let y = k - 1 - r;
            cells.push(Rectangle::new(
                [
                    (SegmentValue::Exact(c), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(c + 1), SegmentValue::Exact(y + 1)),
                ],
                blues(share).filled(),
            ));
            let ink = if share > 0.55 { WHITE } else { BLACK };
            labels.push(Text::new(
                count.to_string(),
                (SegmentValue::CenterOf(c), SegmentValue::CenterOf(y)),
                (FONT, 18)
                    .into_font()
                    .color(&ink)
                    .pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    )),
            ));
        }
    }
    chart.draw_series(cells).map_err(|e| chart_error(path, e))?;
    chart
        .draw_series(labels)
        .map_err(|e| chart_error(path, e))?;
    root.present().map_err(|e| chart_error(path, e))?;
    Ok(())
}
