//! Coefficient images: each class's 784 weights as a 28x28 map on a diverging colour scale
//! centred on zero (blue negative, white zero, red positive), one scale for all maps ending at
//! the 99th percentile of the weights' magnitude, with a colour bar.
//!
//! May touch: `digits` (the image side), `error`.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{canvas, chart_error, lines::compact, Title, FONT};
use crate::error::Result;

use crate::digits::SIDE;
const CELL: i32 = 8;

/// Blue (-1) to white (0) to red (+1).
fn diverging(t: f64) -> RGBColor {
    let t = t.clamp(-1.0, 1.0);
    let (to, w) = if t < 0.0 {
        ((33.0, 102.0, 172.0), -t)
    } else {
        ((178.0, 24.0, 43.0), t)
    };
    let mix = |end: f64| (255.0 + (end - 255.0) * w).round() as u8;
    RGBColor(mix(to.0), mix(to.1), mix(to.2))
}

/// Draws `maps` (one 784-value map per label) in a grid of `columns` columns, with the value
/// range `±limit` named on the colour bar (`unit` says what the values are). A label's lines
/// (`\n`) are drawn one under the other; an empty first line leaves room for a neighbour's.
pub fn coefficient_maps(
    path: &Path,
    title: &Title,
    maps: &[(String, Vec<f64>)],
    unit: &str,
    columns: usize,
) -> Result<Vec<u8>> {
    let columns = columns.max(1);
    // The scale ends at the 99th percentile of |weight|: a few extreme pixels (rarely inked
    // corners) would otherwise wash every map out; larger weights take the end colour.
    let mut magnitudes: Vec<f64> = maps
        .iter()
        .flat_map(|(_, m)| m.iter().map(|v| v.abs()))
        .collect();
    magnitudes.sort_by(f64::total_cmp);
    let limit = magnitudes
        .get(magnitudes.len() * 99 / 100)
        .copied()
        .unwrap_or(0.0)
        .max(f64::MIN_POSITIVE);
    let rows = maps.len().div_ceil(columns);
    let tile = SIDE as i32 * CELL;
    // A label may take several lines ('\n'): a row's description above its digits' labels.
    let label_lines = maps
        .iter()
        .map(|(l, _)| l.lines().count().max(1))
        .max()
        .unwrap_or(1) as i32;
    let (pad, caption) = (30, 30 + 26 * (label_lines - 1));
    let width = (columns as i32 * (tile + pad) + pad + 140) as u32;
    let height = (rows as i32 * (tile + pad + caption) + pad) as u32 + title.height(width);
    canvas(path, (width, height), title, |area| {
        for (i, (label, map)) in maps.iter().enumerate() {
            let x0 = pad + (i % columns) as i32 * (tile + pad);
            let y0 = pad + (i / columns) as i32 * (tile + pad + caption);
            for (line, text) in label.split('\n').enumerate() {
                area.draw_text(
                    text,
                    &(FONT, 20).into_font().color(&BLACK),
                    (x0, y0 + 26 * line as i32),
                )
                .map_err(|e| chart_error(path, e))?;
            }
            for (p, &v) in map.iter().enumerate() {
                let (r, c) = ((p / SIDE) as i32, (p % SIDE) as i32);
                let top = (x0 + c * CELL, y0 + caption + r * CELL);
                area.draw(&Rectangle::new(
                    [top, (top.0 + CELL, top.1 + CELL)],
                    diverging(v / limit).filled(),
                ))
                .map_err(|e| chart_error(path, e))?;
            }
            area.draw(&Rectangle::new(
                [(x0, y0 + caption), (x0 + tile, y0 + caption + tile)],
                RGBColor(160, 160, 160).stroke_width(1),
            ))
            .map_err(|e| chart_error(path, e))?;
        }
        // Colour bar: +limit at the top, 0 in the middle, -limit at the bottom.
        let bar_x = pad + columns as i32 * (tile + pad) + 10;
        let (bar_top, bar_h) = (pad + caption, 2 * tile);
        for y in 0..bar_h {
            let t = 1.0 - 2.0 * y as f64 / (bar_h - 1) as f64;
            area.draw(&Rectangle::new(
                [(bar_x, bar_top + y), (bar_x + 24, bar_top + y + 1)],
                diverging(t).filled(),
            ))
            .map_err(|e| chart_error(path, e))?;
        }
        let style = (FONT, 16)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (t, text) in [
            (1.0, format!(">= +{}", compact(limit))),
            (0.0, "0".to_string()),
            (-1.0, format!("<= -{}", compact(limit))),
        ] {
            let y = bar_top + ((1.0 - t) / 2.0 * (bar_h - 1) as f64) as i32;
            area.draw_text(&text, &style, (bar_x + 30, y))
                .map_err(|e| chart_error(path, e))?;
        }
        area.draw_text(
            unit,
            &(FONT, 16).into_font().color(&BLACK),
            (bar_x - 4, bar_top + bar_h + 14),
        )
        .map_err(|e| chart_error(path, e))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_ten_maps_with_a_colour_bar() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coef.png");
        let maps: Vec<(String, Vec<f64>)> = (0..10)
            .map(|k| {
                let map = (0..784)
                    .map(|p| ((p + k * 37) % 97) as f64 / 48.0 - 1.0)
                    .collect();
                (format!("digit {k}"), map)
            })
            .collect();
        std::fs::write(
            &path,
            coefficient_maps(
                &path,
                &Title {
                    title: "coefficients",
                    lines: &[],
                },
                &maps,
                "weight per pixel",
                5,
            )
            .unwrap(),
        )
        .unwrap();
        let (w, h, _) = super::super::fixture::inspect(&path);
        assert!(w > 1000 && h > 500, "{w}x{h}");
        assert_eq!(diverging(0.0), RGBColor(255, 255, 255));
        assert_eq!(diverging(1.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(-1.0), RGBColor(33, 102, 172));
    }
}
