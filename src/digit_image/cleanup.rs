//! The image processing `prepare` is made of: shrinking, median filters, a local background,
//! Otsu's threshold, ruled lines, connected pieces of ink and their edges. I/O-free.
//!
//! May touch: nothing else in the crate.

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};

use super::{Grey, LINE_SHARE, SPECK_SHARE, WORK_SIDE};

/// The picture shrunk to [`WORK_SIDE`] pixels on its longest side, if it is larger.
pub(super) fn shrunk(image: &Grey) -> std::borrow::Cow<'_, Grey> {
    let long = image.width.max(image.height);
    if long <= WORK_SIDE {
        return std::borrow::Cow::Borrowed(image);
    }
    let scale = WORK_SIDE as f64 / long as f64;
    let (w, h) = (
        ((image.width as f64 * scale).round() as u32).max(1),
        ((image.height as f64 * scale).round() as u32).max(1),
    );
    let buffer = ImageBuffer::<Luma<f32>, Vec<f32>>::from_raw(
        image.width as u32,
        image.height as u32,
        image.pixels.clone(),
    )
    .expect("width x height pixels");
    let small = imageops::resize(&buffer, w, h, FilterType::Triangle);
    std::borrow::Cow::Owned(Grey {
        width: w as usize,
        height: h as usize,
        pixels: small.into_raw(),
    })
}

pub(super) fn median(values: &[f32]) -> f32 {
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// Each pixel replaced by the median of its 3 x 3 neighbourhood (the edges use what they have).
pub(super) fn median_3x3(pixels: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0.0; w * h];
    let mut window = Vec::with_capacity(9);
    for r in 0..h {
        for c in 0..w {
            window.clear();
            for rr in r.saturating_sub(1)..(r + 2).min(h) {
                for cc in c.saturating_sub(1)..(c + 2).min(w) {
                    window.push(pixels[rr * w + cc]);
                }
            }
            window.sort_by(f32::total_cmp);
            out[r * w + c] = window[window.len() / 2];
        }
    }
    out
}

/// The background under bright ink, estimated locally: the 20th percentile of each cell of an
/// 8 x 8 grid (most of a cell is paper where strokes are thin), and through those values a smooth
/// surface (a quadratic in x and y, fitted by least squares), refitted without the cells far above
/// it: cells that a thick stroke fills are ink, not light, and are left out. Uneven light is
/// smooth over the page, which is what the surface follows.
pub(super) fn local_background(pixels: &[f32], w: usize, h: usize) -> Vec<f32> {
    const CELLS: usize = 8;
    let (cw, ch) = (w.div_ceil(CELLS), h.div_ceil(CELLS));
    let (nx, ny) = (w.div_ceil(cw), h.div_ceil(ch));
    let mut cells: Vec<(f64, f64, f64)> = Vec::with_capacity(nx * ny);
    for gy in 0..ny {
        for gx in 0..nx {
            let mut cell: Vec<f32> = (gy * ch..((gy + 1) * ch).min(h))
                .flat_map(|r| (gx * cw..((gx + 1) * cw).min(w)).map(move |c| r * w + c))
                .map(|i| pixels[i])
                .collect();
            cell.sort_by(f32::total_cmp);
            // Cell centres in 0..1 across the picture.
            let x = ((gx * cw) as f64 + cw as f64 / 2.0) / w as f64;
            let y = ((gy * ch) as f64 + ch as f64 / 2.0) / h as f64;
            cells.push((x, y, f64::from(cell[cell.len() / 5])));
        }
    }
    let terms = |x: f64, y: f64| [1.0, x, y, x * x, x * y, y * y];
    let mut kept: Vec<bool> = vec![true; cells.len()];
    let mut surface = [
        median(&cells.iter().map(|c| c.2 as f32).collect::<Vec<_>>()) as f64,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ];
    for _ in 0..4 {
        let used: Vec<&(f64, f64, f64)> = cells
            .iter()
            .zip(&kept)
            .filter(|(_, &k)| k)
            .map(|(c, _)| c)
            .collect();
        if used.len() < 12 {
            break;
        }
        // Normal equations of the least-squares fit, solved by Gaussian elimination.
        let mut a = [[0.0f64; 7]; 6];
        for &&(x, y, v) in &used {
            let t = terms(x, y);
            for i in 0..6 {
                for j in 0..6 {
                    a[i][j] += t[i] * t[j];
                }
                a[i][6] += t[i] * v;
            }
        }
        let Some(solution) = solve(a) else { break };
        surface = solution;
        let at = |x: f64, y: f64| {
            terms(x, y)
                .iter()
                .zip(&surface)
                .map(|(t, s)| t * s)
                .sum::<f64>()
        };
        let residuals: Vec<f32> = cells
            .iter()
            .map(|&(x, y, v)| (v - at(x, y)) as f32)
            .collect();
        let spread = median(&residuals.iter().map(|r| r.abs()).collect::<Vec<_>>()).max(4.0);
        kept = residuals.iter().map(|&r| r <= 2.5 * spread).collect();
    }
    (0..h)
        .flat_map(|r| (0..w).map(move |c| (r, c)))
        .map(|(r, c)| {
            let (x, y) = ((c as f64 + 0.5) / w as f64, (r as f64 + 0.5) / h as f64);
            terms(x, y)
                .iter()
                .zip(&surface)
                .map(|(t, s)| t * s)
                .sum::<f64>() as f32
        })
        .collect()
}

/// Solves the 6 x 6 system in `a` (augmented with its right-hand side) by Gaussian elimination
/// with partial pivoting; none if it is singular.
pub(super) fn solve(mut a: [[f64; 7]; 6]) -> Option<[f64; 6]> {
    for col in 0..6 {
        let pivot = (col..6).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, values) in a.iter_mut().enumerate() {
            if row != col {
                let f = values[col] / pivot_row[col];
                for (v, p) in values.iter_mut().zip(&pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut x = [0.0; 6];
    for i in 0..6 {
        x[i] = a[i][6] / a[i][i];
    }
    Some(x)
}

/// Otsu's threshold on `values` in 0..=`peak` (256 bins): the level that best separates two
/// classes (largest between-class variance).
pub(super) fn otsu(values: &[f32], peak: f32) -> f32 {
    let mut histogram = [0u64; 256];
    for &v in values {
        histogram[((v / peak) * 255.0).round().clamp(0.0, 255.0) as usize] += 1;
    }
    let total = values.len() as f64;
    let sum_all: f64 = histogram
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    let (mut below, mut sum_below) = (0.0f64, 0.0f64);
    let (mut best, mut best_level) = (-1.0f64, 0usize);
    for (level, &n) in histogram.iter().enumerate() {
        below += n as f64;
        sum_below += level as f64 * n as f64;
        let above = total - below;
        if below == 0.0 || above == 0.0 {
            continue;
        }
        let (m0, m1) = (sum_below / below, (sum_all - sum_below) / above);
        let between = below * above * (m0 - m1).powi(2);
        if between > best {
            best = between;
            best_level = level;
        }
    }
    (best_level as f32 + 0.5) / 255.0 * peak
}

/// Clears rows of ink that span most of the picture (ruled lines), except where a stroke goes on
/// above and below the line.
pub(super) fn remove_lines(strokes: &mut [bool], w: usize, h: usize) {
    let lines: Vec<usize> = (0..h)
        .filter(|&r| {
            let ink = strokes[r * w..(r + 1) * w].iter().filter(|&&s| s).count();
            ink as f64 >= LINE_SHARE * w as f64
        })
        .collect();
    // Lines are a few pixels thick: look past the whole band of line rows.
    let in_band = |r: usize| lines.binary_search(&r).is_ok();
    let reach = |r: usize, up: bool| {
        let mut k = r;
        loop {
            if !in_band(k) {
                return Some(k);
            }
            if up {
                k = k.checked_sub(1)?;
            } else {
                k += 1;
                if k >= h {
                    return None;
                }
            }
        }
    };
    let original = strokes.to_vec();
    for &r in &lines {
        let (above, below) = (reach(r, true), reach(r, false));
        for c in 0..w {
            let crossed = match (above, below) {
                (Some(a), Some(b)) => original[a * w + c] && original[b * w + c],
                _ => false,
            };
            if !crossed {
                strokes[r * w + c] = false;
            }
        }
    }
}

/// The 8-connected pieces of `strokes` at least [`SPECK_SHARE`] of the largest piece's area.
pub(super) fn largest_pieces(strokes: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut label = vec![0u32; w * h];
    let mut areas = vec![0usize]; // label 0: background
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !strokes[start] || label[start] != 0 {
            continue;
        }
        let id = areas.len() as u32;
        let mut area = 0;
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            area += 1;
            let (r, c) = (i / w, i % w);
            for rr in r.saturating_sub(1)..(r + 2).min(h) {
                for cc in c.saturating_sub(1)..(c + 2).min(w) {
                    let j = rr * w + cc;
                    if strokes[j] && label[j] == 0 {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        areas.push(area);
    }
    let largest = areas.iter().copied().max().unwrap_or(0);
    let keep: Vec<bool> = areas
        .iter()
        .enumerate()
        .map(|(id, &a)| id > 0 && a as f64 >= SPECK_SHARE * largest as f64)
        .collect();
    label.iter().map(|&l| keep[l as usize]).collect()
}

/// `strokes` grown by one pixel in every direction (their anti-aliased edges).
pub(super) fn grown(strokes: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut out = strokes.to_vec();
    for r in 0..h {
        for c in 0..w {
            if strokes[r * w + c] {
                for rr in r.saturating_sub(1)..(r + 2).min(h) {
                    for cc in c.saturating_sub(1)..(c + 2).min(w) {
                        out[rr * w + cc] = true;
                    }
                }
            }
        }
    }
    out
}
