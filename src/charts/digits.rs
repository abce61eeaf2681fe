//! MNIST digits as pictures: captioned grids, and digits next to their class-probability bars.
//!
//! May touch: `digits` (the image side), `error`.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{canvas, chart_error, render, Title, BAD, FONT, GOOD, PALETTE};
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

/// How a 28x28 digit is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ink {
    /// Dark ink on white, as on paper: grids of many digits read best so.
    OnPaper,
    /// Light ink on black: the pixel values as the model reads them (MNIST's own form).
    AsTheModelSees,
}

/// Draws a 28x28 image with its top-left corner at `at`, each pixel `scale` pixels wide.
fn draw_digit(
    area: &DrawingArea<BitMapBackend, Shift>,
    pixels: &[u8],
    at: (i32, i32),
    scale: i32,
    ink: Ink,
) -> Result<(), String> {
    let square = [
        (at.0 - 1, at.1 - 1),
        (at.0 + SIDE * scale, at.1 + SIDE * scale),
    ];
    if ink == Ink::AsTheModelSees {
        area.draw(&Rectangle::new(square, BLACK.filled()))
            .map_err(|e| e.to_string())?;
    }
    area.draw(&Rectangle::new(
        square,
        RGBColor(200, 200, 200).stroke_width(1),
    ))
    .map_err(|e| e.to_string())?;
    for (i, &v) in pixels.iter().enumerate().filter(|(_, &v)| v > 0) {
        let (r, c) = (i as i32 / SIDE, i as i32 % SIDE);
        let ink = match ink {
            Ink::OnPaper => 255 - v,
            Ink::AsTheModelSees => v,
        };
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
            draw_digit(area, tile.pixels, (x, y + 26), scale, Ink::OnPaper)
                .map_err(|e| chart_error(path, e))?;
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
    let height = rows * PANEL_HEIGHT + 20 + title.height(1300);
    canvas(path, (1300, height), title, |area| {
        let cells = area.split_evenly((rows as usize, 2));
        for (panel, cell) in panels.iter().zip(&cells) {
            draw_panel(path, cell, panel)?;
        }
        Ok(())
    })
}

/// A panel's height in [`probability_panels`] and in each frame of [`probability_animation`].
const PANEL_HEIGHT: u32 = 190;

/// The panels as an animated GIF, one per frame (`seconds` each, looping), each frame the
/// panel of [`probability_panels`] under `title` and a line "image i of n": what a browser and a
/// Markdown page show without a video player.
pub fn probability_animation(
    path: &Path,
    title: &Title,
    panels: &[Panel],
    seconds: f64,
) -> Result<Vec<u8>> {
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, RgbaImage};
    let width = 680;
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut bytes, 10);
        encoder
            .set_repeat(Repeat::Infinite)
            .map_err(|e| chart_error(path, e))?;
        let delay = Delay::from_saturating_duration(std::time::Duration::from_secs_f64(seconds));
        for (i, panel) in panels.iter().enumerate() {
            let mut lines = title.lines.to_vec();
            lines.push(format!("Image {} of {}", i + 1, panels.len()));
            let frame_title = Title {
                title: title.title,
                lines: &lines,
            };
            let height = PANEL_HEIGHT + 10 + frame_title.height(width);
            let (rgb, (w, h)) = render(path, (width, height), &frame_title, |area| {
                draw_panel(path, area, panel)
            })?;
            let rgba: Vec<u8> = rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            let image = RgbaImage::from_raw(w, h, rgba)
                .ok_or_else(|| chart_error(path, "a frame of the wrong size"))?;
            encoder
                .encode_frame(Frame::from_parts(image, 0, 0, delay))
                .map_err(|e| chart_error(path, e))?;
        }
    }
    Ok(bytes)
}

/// One digit beside its ten class probabilities (see [`probability_panels`]).
fn draw_panel(path: &Path, cell: &DrawingArea<BitMapBackend, Shift>, panel: &Panel) -> Result<()> {
    let digits: Vec<String> = (0..10).map(|k| k.to_string()).collect();
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
    draw_digit(cell, panel.pixels, (20, 40), 4, Ink::AsTheModelSees)
        .map_err(|e| chart_error(path, e))?;
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
    Ok(())
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

        // The same panels as an animation: one GIF frame each, a second apart, looping.
        let path = dir.path().join("panels.gif");
        let title = Title {
            title: "t",
            lines: &[],
        };
        let gif = probability_animation(&path, &title, &panels, 1.0).unwrap();
        use image::AnimationDecoder;
        let decoder = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&gif)).unwrap();
        let frames = decoder.into_frames().collect_frames().unwrap();
        assert_eq!(frames.len(), panels.len());
        for frame in &frames {
            assert_eq!(frame.delay().numer_denom_ms(), (1000, 1));
            assert_eq!(frame.buffer().width(), 680);
        }
        // Right (green title) and wrong (red) frames differ.
        assert_ne!(frames[0].buffer(), frames[1].buffer());
    }
}
