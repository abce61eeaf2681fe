//! PNG charts drawn with plotters and an embedded DejaVu font (no system fonts needed). Each
//! chart kind takes plain data, so that it can be drawn from a run's record or a small fixture.
//!
//! May touch: `digits` (the image side), `error`: charts know nothing of runs, configs or
//! records.

mod bars;
mod coefficients;
mod confusion;
mod digits;
mod lines;
mod reliability;

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

pub use bars::{grouped_bars, BarChart, BarGroup};
pub use coefficients::coefficient_maps;
pub use confusion::{confusion_heatmap, Cells};
pub use digits::{digit_grid, probability_animation, probability_panels, Panel, Tile};
pub use lines::{compact, line_chart, LineChart, Series, Style};
pub use reliability::{reliability_diagram, ReliabilityBin};

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

/// Ten colours that stay distinguishable on white (Tableau 10, with the light ones darkened).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(90, 90, 90),
    RGBColor(160, 160, 20),
    RGBColor(23, 170, 190),
];

/// Colour for correct predictions.
pub const GOOD: RGBColor = RGBColor(44, 160, 44);
/// Colour for wrong predictions.
pub const BAD: RGBColor = RGBColor(214, 39, 40);

/// White to dark blue (ColorBrewer "Blues" end points) for a share in [0, 1].
fn blues(share: f64) -> RGBColor {
    let t = share.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
    RGBColor(mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

fn chart_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::output(path, format!("drawing the chart: {e}"))
}

/// A chart's title block: a bold first line and smaller lines below it.
pub struct Title<'a> {
    pub title: &'a str,
    pub lines: &'a [String],
}

/// `text` broken at spaces into lines that `fits` accepts (a single word too long stays on its
/// own line); lines after the first start with `indent`.
fn wrap_words(text: &str, indent: &str, fits: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if fits(&format!("{line} {word}")) => {
                line.push(' ');
                line.push_str(word);
            }
            Some(_) => lines.push(format!("{indent}{word}")),
            None => lines.push(word.to_string()),
        }
    }
    lines
}

/// The most smaller lines a title block draws.
const MAX_TITLE_LINES: usize = 8;

/// The largest canvas a chart is drawn on, in pixels each way: a chart whose content would need
/// more is drawn on this much and says so in its title (it never allocates without bound).
pub const MAX_CANVAS: (u32, u32) = (4000, 6000);

/// The smaller lines' font size.
const TITLE_LINE_FONT: u32 = 18;

impl Title<'_> {
    /// The smaller lines as drawn on a canvas `width` pixels wide: each wrapped at spaces to fit.
    /// At most [`MAX_TITLE_LINES`] lines, whatever the text: a longer text ends in a line
    /// saying how many were left off.
    fn wrapped(&self, width: u32) -> Vec<String> {
        let font = (FONT, TITLE_LINE_FONT).into_font();
        let room = width.saturating_sub(60);
        let fits = |s: &str| font.box_size(s).map_or(true, |(w, _)| w <= room);
        let mut lines: Vec<String> = self
            .lines
            .iter()
            .flat_map(|line| wrap_words(line, "  ", fits))
            .collect();
        if lines.len() > MAX_TITLE_LINES {
            let left_off = lines.len() - (MAX_TITLE_LINES - 1);
            lines.truncate(MAX_TITLE_LINES - 1);
            lines.push(format!(
                "(and {left_off} more lines: see the README's tables)"
            ));
        }
        lines
    }

    /// The title block's height on a canvas `width` pixels wide.
    fn height(&self, width: u32) -> u32 {
        30 + 34 + 24 * self.wrapped(width).len() as u32
    }
}

/// Draws on a white canvas of `size` pixels (at most [`MAX_CANVAS`]): the title block, then
/// `draw` on the area below it. Returns the PNG's bytes; `path` is where they will be written
/// (for messages).
fn canvas(
    path: &Path,
    size: (u32, u32),
    title: &Title,
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    let (pixels, size) = render(path, size, title, draw)?;
    png_bytes(path, &pixels, size)
}

/// What [`canvas`] draws, as RGB pixels and their size (for frames of an animation).
fn render(
    path: &Path,
    size: (u32, u32),
    title: &Title,
    draw: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<(Vec<u8>, (u32, u32))> {
    register_fonts();
    let size = (size.0.clamp(1, MAX_CANVAS.0), size.1.clamp(1, MAX_CANVAS.1));
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(path, e))?;
        let (head, body) = root.split_vertically(title.height(size.0).min(size.1));
        head.draw_text(
            title.title,
            &(FONT, 26).into_font().style(FontStyle::Bold).color(&BLACK),
            (30, 20),
        )
        .map_err(|e| chart_error(path, e))?;
        for (i, line) in title.wrapped(size.0).iter().enumerate() {
            head.draw_text(
                line,
                &(FONT, TITLE_LINE_FONT)
                    .into_font()
                    .color(&RGBColor(60, 60, 60)),
                (30, 58 + 24 * i as i32),
            )
            .map_err(|e| chart_error(path, e))?;
        }
        draw(&body)?;
        root.present().map_err(|e| chart_error(path, e))?;
    }
    Ok((pixels, size))
}

/// RGB pixels encoded as PNG.
fn png_bytes(path: &Path, pixels: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(pixels, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| chart_error(path, e))?;
    Ok(bytes)
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Decoding helpers for chart tests.

    /// Decodes a PNG and returns (width, height, number of distinct colours).
    pub fn inspect(path: &std::path::Path) -> (u32, u32, usize) {
        let image = image::open(path).expect("a decodable PNG").to_rgb8();
        let mut colours: Vec<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        colours.sort_unstable();
        colours.dedup();
        (image.width(), image.height(), colours.len())
    }
}
