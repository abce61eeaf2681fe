//! MNIST digits as pictures: captioned grids, and digits next to their class-probability bars.
//!
//! May touch: `digits` (the image side), `error`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{canvas, chart_error, Title, BAD, FONT, GOOD, PALETTE};
use crate::error::Result;

/// Side of an MNIST image in pixels.
/// An MNIST image's side, in drawing coordinates.
const SIDE: i32 = crate::digits::SIDE as i32;

/// One captioned digit of a grid.
#[derive(Debug, Clone)]
pub struct Tile<'a> {
    /// 784 grey levels, row by row (0 = background).
    pub pixels: &'a [u8],
    pub caption: String,
    pub caption_color: RGBColor,
}

/// Draws a 28x28 image with its top-left corner at `at`, each pixel `scale` pixels wide, dark
/// ink on white.
fn draw_digit(
    area: &DrawingArea<BitMapBackend, Shift>,
    pixels: &[u8],
    at: (i32, i32),
    scale: i32,
) -> Result<(), String> {
    area.draw(&Rectangle::new(
        [
            (at.0 - 1, at.1 - 1),
            (at.0 + SIDE * scale, at.1 + SIDE * scale),
        ],
        RGBColor(200, 200, 200).stroke_width(1),
    ))
    .map_err(|e| e.to_string())?;
    for (i, &v) in pixels.iter().enumerate().filter(|(_, &v)| v > 0) {
        let (r, c) = (i as i32 / SIDE, i as i32 % SIDE);
        let ink = 255 - v;
        let (x, y) = (at.0 + c * scale, at.1 + r * scale);
        area.draw(&Rectangle::new(
            [(x, y), (x + scale, y + scale)],
            RGBColor(ink, ink, ink).filled(),
        ))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Draws `tiles` in a grid of `columns` columns, each digit upscaled 4x with its caption above.
pub fn digit_grid(path: &Path, title: &Title, tiles: &[Tile], columns: usize) -> Result<Vec<u8>> {
    let scale = 4;
    let (cell_w, cell_h) = (SIDE * scale + 150, SIDE * scale + 44);
    let rows = tiles.len().div_ceil(columns.max(1)) as i32;
    let width = (columns as i32 * cell_w + 40).max(900) as u32;
    let height = (rows * cell_h + 30) as u32 + title.height(width);
    canvas(path, (width, height), title, |area| {
        let left = (width as i32 - columns as i32 * cell_w) / 2;
        for (i, tile) in tiles.iter().enumerate() {
            let (r, c) = ((i / columns) as i32, (i % columns) as i32);
            let x = left + c * cell_w + 75;
            let y = r * cell_h + 10;
            area.draw(&Text::new(
                tile.caption.clone(),
                (x + SIDE * scale / 2, y),
                (FONT, 17)
                    .into_font()
                    .color(&tile.caption_color)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(|e| chart_error(path, e))?;
            draw_digit(area, tile.pixels, (x, y + 26), scale).map_err(|e| chart_error(path, e))?;
        }
        Ok(())
    })
}

/// One digit and the model's ten class probabilities for it.
#[derive(Debug, Clone)]
pub struct Panel<'a> {
    /// 784 grey levels, row by row (0 = background).
    pub pixels: &'a [u8],
    /// The true digit, when known.
    pub label: Option<u8>,
    /// Put before the caption (for example the image's file name).
    pub name: Option<String>,
    pub probabilities: Vec<f64>,
}

/// Draws each digit beside a bar chart of its ten class probabilities: the predicted class in
/// green when right and red when wrong (blue when the true digit is unknown), the true class
/// outlined in black. Two panels per row.
pub fn probability_panels(path: &Path, title: &Title, panels: &[Panel]) -> Result<Vec<u8>> {
    let rows = panels.len().div_ceil(2) as u32;
    let panel_h = 190;
    let height = rows * panel_h + 20 + title.height(1300);
    canvas(path, (1300, height), title, |area| {
        let cells = area.split_evenly((rows as usize, 2));
        let digits: Vec<String> = (0..10).map(|k| k.to_string()).collect();
        for (panel, cell) in panels.iter().zip(&cells) {
            let probabilities = &panel.probabilities;
            let predicted = probabilities
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(k, _)| k)
                .unwrap_or(0);
            let colour = match panel.label {
                Some(label) if label as usize == predicted => GOOD,
                Some(_) => BAD,
                None => PALETTE[0],
            };
            draw_digit(cell, panel.pixels, (20, 40), 4).map_err(|e| chart_error(path, e))?;
            let truth = panel
                .label
                .map(|label| format!("true {label}, "))
                .unwrap_or_default();
            let name = panel
                .name
                .as_ref()
                .map(|name| format!("{name}: "))
                .unwrap_or_default();
            cell.draw_text(
                &format!(
                    "{name}{truth}predicted {predicted} ({:.1} %)",
                    100.0 * probabilities[predicted]
                ),
                &(FONT, 17).into_font().color(&colour),
                (20, 8),
            )
            .map_err(|e| chart_error(path, e))?;
            let (_, bars_area) = cell.split_horizontally(150);
            let mut ctx = ChartBuilder::on(&bars_area)
                .margin_top(36)
                .margin_right(30)
                .margin_bottom(6)
                .x_label_area_size(28)
                .y_label_area_size(50)
                .build_cartesian_2d(-0.5..9.5, 0.0..1.0)
                .map_err(|e| chart_error(path, e))?;
            ctx.configure_mesh()
                .disable_x_mesh()
                .x_labels(10)
                .x_label_formatter(&|v| super::bars::category(&digits, *v))
                .y_labels(3)
                .y_label_formatter(&|v| format!("{v:.1}"))
                .label_style((FONT, 14))
                .light_line_style(RGBColor(240, 240, 240))
                .bold_line_style(RGBColor(225, 225, 225))
                .draw()
                .map_err(|e| chart_error(path, e))?;
            ctx.draw_series(probabilities.iter().enumerate().map(|(k, &p)| {
                let color = if k == predicted {
                    colour
                } else {
                    RGBColor(150, 150, 150)
                };
                Rectangle::new(
                    [(k as f64 - 0.35, 0.0), (k as f64 + 0.35, p.max(0.004))],
                    color.filled(),
                )
            }))
            .map_err(|e| chart_error(path, e))?;
            if let Some(label) = panel.label {
                let k = label as f64;
                ctx.draw_series(std::iter::once(Rectangle::new(
                    [(k - 0.42, 0.0), (k + 0.42, 1.0)],
                    BLACK.stroke_width(2),
                )))
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

    fn stroke() -> Vec<u8> {
        (0..784)
            .map(|i| if i % 28 == 14 { 255 } else { 0 })
            .collect()
    }

    #[test]
    fn digit_grid_and_probability_panels_render() {
        let dir = tempfile::tempdir().unwrap();
        let pixels = stroke();
        let tiles: Vec<Tile> = (0..7)
            .map(|i| Tile {
                pixels: &pixels,
                caption: format!("predicted {i}, true 1"),
                caption_color: BAD,
            })
            .collect();
        let path = dir.path().join("grid.png");
        std::fs::write(
            &path,
            digit_grid(
                &path,
                &Title {
                    title: "t",
                    lines: &[],
                },
                &tiles,
                4,
            )
            .unwrap(),
        )
        .unwrap();
        let (_, h, colours) = inspect(&path);
        assert_eq!(h, (2 * (28 * 4 + 44) + 30) as u32 + 64);
        assert!(colours > 5);

        let mut p = vec![0.01; 10];
        p[1] = 0.91;
        let panels: Vec<Panel> = [Some(1), Some(7), None]
            .into_iter()
            .map(|label| Panel {
                pixels: &pixels,
                label,
                name: label.is_none().then(|| "seven.png".to_string()),
                probabilities: p.clone(),
            })
            .collect();
        let path = dir.path().join("panels.png");
        std::fs::write(
            &path,
            probability_panels(
                &path,
                &Title {
                    title: "t",
                    lines: &[],
                },
                &panels,
            )
            .unwrap(),
        )
        .unwrap();
        let (w, _, colours) = inspect(&path);
        assert_eq!(w, 1300);
        assert!(colours > 5);
    }
}
