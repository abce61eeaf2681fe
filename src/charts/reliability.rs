//! A reliability diagram: per bin of the largest probability, the share predicted right against
//! the bin's mean probability, beside the diagonal a calibrated model would follow, over a
//! histogram of how many images each bin holds.
//!
//! May touch: `error`.

use std::path::Path;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{canvas, chart_error, Title, BAD, FONT, PALETTE};
use crate::error::Result;

/// One bin of a [`reliability_diagram`]: `(low, high]` of the largest probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    pub low: f64,
    pub high: f64,
    /// Images in the bin.
    pub count: u64,
    /// Their mean largest probability.
    pub confidence: f64,
    /// The share of them predicted right.
    pub accuracy: f64,
}

/// Draws the diagram of `bins` (empty bins are left blank).
pub fn reliability_diagram(path: &Path, title: &Title, bins: &[ReliabilityBin]) -> Result<Vec<u8>> {
    let width = 1100;
    let height = 980 + title.height(width);
    canvas(path, (width, height), title, |area| {
        let (top, bottom) = area.split_vertically(640);
        let err = |e| chart_error(path, e);
        let mut ctx = ChartBuilder::on(&top)
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(err)?;
        mesh(
            &mut ctx.configure_mesh(),
            "Largest probability (the model's confidence in its answer)",
            "Share predicted right",
            11,
            &|v| format!("{v:.1}"),
        )
        .map_err(err)?;
        let filled: Vec<&ReliabilityBin> = bins.iter().filter(|b| b.count > 0).collect();
        // The share right as a bar over the bin's width, the gap to its mean confidence in red.
        ctx.draw_series(filled.iter().map(|b| {
            Rectangle::new(
                [(b.low, 0.0), (b.high, b.accuracy)],
                PALETTE[0].mix(0.55).filled(),
            )
        }))
        .map_err(err)?
        .label("share predicted right (bar: the bin's width)")
        .legend(|(x, y)| {
            Rectangle::new([(x, y - 6), (x + 18, y + 6)], PALETTE[0].mix(0.55).filled())
        });
        ctx.draw_series(filled.iter().map(|b| {
            let (lo, hi) = (b.accuracy.min(b.confidence), b.accuracy.max(b.confidence));
            Rectangle::new(
                [
                    (b.low + 0.25 * (b.high - b.low), lo),
                    (b.high - 0.25 * (b.high - b.low), hi),
                ],
                BAD.mix(0.45).filled(),
            )
        }))
        .map_err(err)?
        .label("gap to the mean confidence (weighted by the bin's share: ECE)")
        .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAD.mix(0.45).filled()));
        ctx.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            8,
            6,
            BLACK.stroke_width(2),
        ))
        .map_err(err)?
        .label("calibrated: right as often as confident")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(2)));
        ctx.draw_series(
            filled
                .iter()
                .map(|b| Circle::new((b.confidence, b.accuracy), 5, BLACK.filled())),
        )
        .map_err(err)?
        .label("(mean confidence, share right) of a bin")
        .legend(|(x, y)| Circle::new((x + 9, y), 5, BLACK.filled()));
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, 17))
            .draw()
            .map_err(err)?;

        // How many images each bin holds, on a log axis (most sit in the last bin).
        let most = filled.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64;
        let mut counts = ChartBuilder::on(&bottom)
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..1f64, (0.8f64..most * 4.0).log_scale())
            .map_err(err)?;
        mesh(
            &mut counts.configure_mesh(),
            "Largest probability",
            "Images (log)",
            5,
            &|v| format!("{v:.0}"),
        )
        .map_err(err)?;
        counts
            .draw_series(filled.iter().map(|b| {
                Rectangle::new(
                    [(b.low, 0.8), (b.high, b.count as f64)],
                    RGBColor(150, 150, 150).filled(),
                )
            }))
            .map_err(err)?;
        counts
            .draw_series(filled.iter().map(|b| {
                Text::new(
                    b.count.to_string(),
                    ((b.low + b.high) / 2.0, b.count as f64 * 1.25),
                    TextStyle::from((FONT, 15).into_font())
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// Both panels' grid and axes: probabilities 0 to 1 in tenths across, `y_labels` ticks up.
fn mesh<'a, 'b, 'c, Y>(
    mesh: &mut MeshStyle<'a, 'b, RangedCoordf64, Y, BitMapBackend<'c>>,
    x_desc: &str,
    y_desc: &str,
    y_labels: usize,
    y_format: &'b dyn Fn(&f64) -> String,
) -> std::result::Result<(), DrawingAreaErrorKind<<BitMapBackend<'c> as DrawingBackend>::ErrorType>>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(11)
        .y_labels(y_labels)
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(y_format)
        .label_style((FONT, 18))
        .axis_desc_style((FONT, 20))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_diagram_with_empty_bins_left_blank() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reliability.png");
        let bins: Vec<ReliabilityBin> = (0..15)
            .map(|k| ReliabilityBin {
                low: k as f64 / 15.0,
                high: (k + 1) as f64 / 15.0,
                count: if k < 3 { 0 } else { 10u64.pow((k as u32) / 3) },
                confidence: (k as f64 + 0.5) / 15.0,
                accuracy: ((k as f64 + 0.2) / 15.0).min(1.0),
            })
            .collect();
        let lines = ["ECE 0.0200".to_string()];
        let title = Title {
            title: "Reliability",
            lines: &lines,
        };
        let bytes = reliability_diagram(&path, &title, &bins).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let (w, h, colours) = super::super::fixture::inspect(&path);
        assert_eq!(w, 1100);
        assert!(h > 980);
        assert!(colours > 10, "a drawn chart, not a blank canvas");
    }
}
