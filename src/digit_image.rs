//! From a picture of a digit to MNIST form: 28 x 28 grey levels, light ink on a black background,
//! the digit scaled into a 20 x 20 box and centred by its centre of mass, as LeCun, Cortes and
//! Burges describe MNIST's making.
//!
//! [`mnist_form`] and [`raw_form`] are I/O-free; [`load`] decodes a file with the `image` crate.
//!
//! May touch: `folder` (results files and inputs through one handle), `digits`, `error`.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};

use crate::digits::{N_PIXELS, SIDE};
use crate::error::{Error, Result};

/// Side of the box MNIST's digits were scaled to fit, aspect ratio kept.
pub const BOX: usize = 20;
/// The least difference between ink and background, in grey levels (0..255), that counts as a
/// digit; below it the image is called blank.
pub const MIN_CONTRAST: f32 = 32.0;
/// Where MNIST's digits have their centre of mass (row and column, from 0).
pub const CENTRE: usize = SIDE / 2;
/// Share of the ink's peak above which a pixel belongs to the digit's bounding box.
const BOX_THRESHOLD: f32 = 0.25;
/// Share of the ink's peak below which a pixel is background (noise, paper texture).
const NOISE_THRESHOLD: f32 = 0.1;

/// A grey image, row by row, 0 = black and 255 = white (as decoded, before any inversion).
#[derive(Debug, Clone, PartialEq)]
pub struct Grey {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f32>,
}

/// Why an image holds no digit the model can read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("empty image (0 pixels): give a picture of one digit")]
    Empty,
    #[error(
        "blank image: no ink (the ink stands out from the background by {contrast:.0} grey \
         levels, a digit needs {MIN_CONTRAST:.0}): give a picture of one digit, dark on light or \
         light on dark"
    )]
    Blank { contrast: f32 },
    #[error(
        "{width} x {height} pixels, and --raw takes MNIST-form images of 28 x 28: drop --raw to \
         scale and centre the digit"
    )]
    NotMnistSize { width: usize, height: usize },
}

/// The image in MNIST form, 784 grey levels row by row (0 = background, 255 = full ink); see
/// [`prepare`] for the steps.
pub fn mnist_form(image: &Grey) -> Result<Vec<u8>, Problem> {
    prepare(image).map(|p| p.pixels)
}

/// [`mnist_form`] with the centre of mass placed at (`centre`, `centre`) instead of MNIST's.
pub fn mnist_form_centred_at(image: &Grey, centre: f64) -> Result<Vec<u8>, Problem> {
    prepare_centred_at(image, centre).map(|p| p.pixels)
}

/// A picture in MNIST form, and what the preparation noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// 784 grey levels, row by row.
    pub pixels: Vec<u8>,
    /// Share of the picture the ink (the kept strokes) covers.
    pub ink_share: f64,
    /// A warning for the user, if the picture looks unlike one digit on a plain background.
    pub warning: Option<String>,
}

/// The longest side a picture is worked on at: larger ones are shrunk first (a digit needs 20
/// pixels; a 4000 x 3000 photo would only cost time).
pub const WORK_SIDE: usize = 800;
/// Pictures larger than this (both sides, in pixels) are photos or scans: their background is
/// estimated locally, noise is filtered and ruled lines are removed. Smaller ones (MNIST form and
/// the like) keep the flat background of their border.
const PHOTO_SIDE: usize = 2 * SIDE;
/// A border whose grey levels spread by more than this (standard deviation) is noisy: a 3 x 3
/// median filter runs before anything else.
const NOISY_BORDER_SD: f32 = 6.0;
/// Connected pieces of ink smaller than this share of the largest piece are specks, not strokes.
const SPECK_SHARE: f64 = 0.1;
/// A row of ink spanning at least this share of the picture's width is a ruled line.
const LINE_SHARE: f64 = 0.8;
/// Ink covering more than this share of the picture is unlike one digit: the user is warned.
pub const INK_WARNING_SHARE: f64 = 0.25;

/// A picture in MNIST form, with what was noticed:
/// 1. shrink a picture larger than [`WORK_SIDE`] pixels per side;
/// 2. invert when the background (the median of the border pixels) is light, so ink is bright;
/// 3. on a photo-sized picture, filter noise (3 x 3 median) when the border is noisy, and
///    subtract a background estimated locally (a smooth surface through a low percentile of each
///    cell of an 8 x 8 grid, see `local_background`), so that shading is not ink; on a small one,
///    subtract the border's median;
/// 4. separate ink from background by Otsu's threshold, remove ruled lines (rows of ink across
///    the picture, except where a stroke crosses them), keep the connected pieces of ink larger
///    than a tenth of the largest, and keep the grey levels of those pieces and of the pixels
///    next to them (their anti-aliased edges), stretched to the ink's peak, dropping what is
///    under 10 % of it;
/// 5. crop to the bounding box of the pixels over 25 % of the ink;
/// 6. scale the crop to fit 20 x 20, aspect ratio kept (a triangle filter, anti-aliased when
///    shrinking), and stretch it to 0..255 again;
/// 7. place it in 28 x 28 with its centre of mass at pixel (14, 14) (row and column from 0), to
///    the nearest pixel, moved as little as needed to keep the whole box inside the frame.
///
/// MNIST's own digits have their centre of mass there, not at the frame's middle (13.5): over
/// notebook A's first 2,000 training images it averages (14.00, 14.01). Centring them again at
/// 13.5 moves most by a pixel and costs the notebook model 3.7 points of accuracy on them; at 14,
/// 0.3 points (`tests/predict.rs` measures both).
pub fn prepare(image: &Grey) -> Result<Prepared, Problem> {
    prepare_centred_at(image, CENTRE as f64)
}

/// [`prepare`] with the centre of mass placed at (`centre`, `centre`).
pub fn prepare_centred_at(image: &Grey, centre: f64) -> Result<Prepared, Problem> {
    if image.pixels.is_empty() {
        return Err(Problem::Empty);
    }
    let image = shrunk(image);
    let (w, h) = (image.width, image.height);
    let border: Vec<f32> = (0..h)
        .flat_map(|r| (0..w).map(move |c| (r, c)))
        .filter(|&(r, c)| r == 0 || c == 0 || r + 1 == h || c + 1 == w)
        .map(|(r, c)| image.pixels[r * w + c])
        .collect();
    let invert = median(&border) > 127.5;
    let mut oriented: Vec<f32> = image
        .pixels
        .iter()
        .map(|&v| if invert { 255.0 - v } else { v })
        .collect();
    let photo = w.min(h) > PHOTO_SIDE;
    let border_sd = {
        let b: Vec<f32> = border
            .iter()
            .map(|&v| if invert { 255.0 - v } else { v })
            .collect();
        let mean = b.iter().sum::<f32>() / b.len() as f32;
        (b.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / b.len() as f32).sqrt()
    };
    if photo && border_sd > NOISY_BORDER_SD {
        oriented = median_3x3(&oriented, w, h);
    }
    let background: Vec<f32> = if photo {
        local_background(&oriented, w, h)
    } else {
        let flat: Vec<f32> = border
            .iter()
            .map(|&v| if invert { 255.0 - v } else { v })
            .collect();
        vec![median(&flat); w * h]
    };
    let ink: Vec<f32> = oriented
        .iter()
        .zip(&background)
        .map(|(v, b)| (v - b).max(0.0))
        .collect();
    let peak = ink.iter().copied().fold(0.0, f32::max);
    if peak < MIN_CONTRAST {
        // The measure the test used, so the message never contradicts it.
        return Err(Problem::Blank { contrast: peak });
    }

    // Ink against background, lines and specks removed, edges kept.
    let threshold = otsu(&ink, peak);
    let mut strokes: Vec<bool> = ink.iter().map(|&v| v > threshold).collect();
    if photo {
        remove_lines(&mut strokes, w, h);
    }
    let strokes = largest_pieces(&strokes, w, h);
    let ink_area = strokes.iter().filter(|&&s| s).count();
    let kept = grown(&strokes, w, h);
    let ink: Vec<f32> = ink
        .iter()
        .zip(&kept)
        .map(|(&v, &k)| {
            let v = if k { v / peak } else { 0.0 };
            if v < NOISE_THRESHOLD {
                0.0
            } else {
                v
            }
        })
        .collect();
    if !ink.iter().any(|&v| v > BOX_THRESHOLD) {
        return Err(Problem::Blank { contrast: peak });
    }
    let ink_share = ink_area as f64 / (w * h) as f64;
    let warning = (ink_share > INK_WARNING_SHARE).then(|| {
        format!(
            "the ink covers {:.0} % of the picture (one digit on plain paper covers less than {:.0} %): \
             crop to the digit, or photograph it on plain paper in even light",
            100.0 * ink_share,
            100.0 * INK_WARNING_SHARE
        )
    });

    // The bounding box; not empty, since the peak pixel is 1.0.
    let (mut top, mut bottom, mut left, mut right) = (h, 0, w, 0);
    for (i, _) in ink.iter().enumerate().filter(|(_, &v)| v > BOX_THRESHOLD) {
        let (r, c) = (i / w, i % w);
        top = top.min(r);
        bottom = bottom.max(r);
        left = left.min(c);
        right = right.max(c);
    }
    let (crop_w, crop_h) = (right - left + 1, bottom - top + 1);
    let crop = ImageBuffer::<Luma<f32>, Vec<f32>>::from_fn(crop_w as u32, crop_h as u32, |c, r| {
        Luma([ink[(top + r as usize) * w + left + c as usize]])
    });
    let fit = BOX as f64 / crop_w.max(crop_h) as f64;
    let new_w = ((crop_w as f64 * fit).round() as usize).clamp(1, BOX);
    let new_h = ((crop_h as f64 * fit).round() as usize).clamp(1, BOX);
    let scaled = imageops::resize(&crop, new_w as u32, new_h as u32, FilterType::Triangle);
    let scaled: Vec<f32> = scaled.into_raw().into_iter().map(|v| v.max(0.0)).collect();
    let top_value = scaled.iter().copied().fold(0.0, f32::max);
    let scaled: Vec<f32> = scaled.iter().map(|v| v / top_value).collect();

    // Centre of mass, in pixel-centre coordinates of the scaled box.
    let mass: f64 = scaled.iter().map(|&v| v as f64).sum();
    let (mut row_moment, mut col_moment) = (0.0, 0.0);
    for (i, &v) in scaled.iter().enumerate() {
        row_moment += (i / new_w) as f64 * v as f64;
        col_moment += (i % new_w) as f64 * v as f64;
    }
    let place = |moment: f64, size: usize| {
        ((centre - moment / mass).round() as i64).clamp(0, (SIDE - size) as i64) as usize
    };
    let (row0, col0) = (place(row_moment, new_h), place(col_moment, new_w));
    let mut out = vec![0u8; N_PIXELS];
    for (i, &v) in scaled.iter().enumerate() {
        let (r, c) = (row0 + i / new_w, col0 + i % new_w);
        out[r * SIDE + c] = (v * 255.0).round().clamp(0.0, 255.0) as u8;
    }
    Ok(Prepared {
        pixels: out,
        ink_share,
        warning,
    })
}

/// The picture shrunk to [`WORK_SIDE`] pixels on its longest side, if it is larger.
fn shrunk(image: &Grey) -> std::borrow::Cow<'_, Grey> {
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

fn median(values: &[f32]) -> f32 {
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// Each pixel replaced by the median of its 3 x 3 neighbourhood (the edges use what they have).
fn median_3x3(pixels: &[f32], w: usize, h: usize) -> Vec<f32> {
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
fn local_background(pixels: &[f32], w: usize, h: usize) -> Vec<f32> {
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
fn solve(mut a: [[f64; 7]; 6]) -> Option<[f64; 6]> {
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
fn otsu(values: &[f32], peak: f32) -> f32 {
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
fn remove_lines(strokes: &mut [bool], w: usize, h: usize) {
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
fn largest_pieces(strokes: &[bool], w: usize, h: usize) -> Vec<bool> {
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
fn grown(strokes: &[bool], w: usize, h: usize) -> Vec<bool> {
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

/// An image already in MNIST form (28 x 28, light ink on black), taken pixel for pixel.
pub fn raw_form(image: &Grey) -> Result<Vec<u8>, Problem> {
    if image.pixels.is_empty() {
        return Err(Problem::Empty);
    }
    if (image.width, image.height) != (SIDE, SIDE) {
        return Err(Problem::NotMnistSize {
            width: image.width,
            height: image.height,
        });
    }
    let (lo, hi) = image
        .pixels
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if hi - lo < MIN_CONTRAST {
        return Err(Problem::Blank { contrast: hi - lo });
    }
    Ok(image
        .pixels
        .iter()
        .map(|&v| v.round().clamp(0.0, 255.0) as u8)
        .collect())
}

/// A JPEG whose last scan (SOS marker, FF DA) is not followed by an end-of-image marker (FF D9):
/// cut off in transfer. JPEG's decoder in the `image` crate returns the rows it got without an
/// error. (Thumbnails embedded before the main scan carry their own markers and do not count.)
fn truncated_jpeg(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let last = |marker: u8| bytes.windows(2).rposition(|w| w == [0xFF, marker]);
    match (last(0xDA), last(0xD9)) {
        (Some(scan), Some(end)) => end < scan,
        (_, None) => true,
        (None, Some(_)) => false,
    }
}

/// The largest image `predict` decodes, in pixels per side: a photo of a digit needs far less,
/// and decoding is refused above it before any memory is taken (a 20,000 x 20,000 PNG would
/// take gigabytes).
pub const MAX_SIDE: u32 = 10_000;

/// The largest image file read (a 10,000-pixel-square PNG of a digit compresses far below it).
pub const MAX_IMAGE_BYTES: u64 = 64 << 20;

/// Decodes an image file (PNG, JPEG, GIF, BMP, TIFF, PNM, WebP) into grey levels; transparent
/// pixels count as white paper. Images wider or taller than [`MAX_SIDE`] are refused.
pub fn load(path: &Path) -> Result<Grey> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    let bytes = crate::folder::read_input(path, MAX_IMAGE_BYTES).map_err(|e| Error::Image {
        path: path.to_path_buf(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file: give the path of an image file".into(),
            _ => format!("{e}: give the path of a readable image file"),
        },
    })?;
    if truncated_jpeg(&bytes) {
        return Err(Error::Image {
            path: path.to_path_buf(),
            message: "a truncated JPEG (no end-of-image marker after its scan): the decoder would \
                      read a fragment; give the whole file"
                .into(),
        });
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes.as_slice()))
        .with_guessed_format()
        .map_err(|e| Error::Image {
            path: path.to_path_buf(),
            message: format!("{e}: give the path of a readable image file"),
        })?;
    reader.limits(limits.clone());
    let decoded = match last_frame(&bytes, reader.format(), limits) {
        Some(frame) => Ok(frame),
        None => reader.decode(),
    }
    .map_err(|e| Error::Image {
        path: path.to_path_buf(),
        message: match e {
            image::ImageError::Limits(_) => format!(
                "larger than {MAX_SIDE} x {MAX_SIDE} pixels: scale it down first (a digit \
                     needs a few hundred pixels per side)"
            ),
            e => format!(
                "not an image this tool reads ({e}): give a PNG, JPEG, GIF, BMP, TIFF, PNM \
                     or WebP file"
            ),
        },
    })?;
    let grey = decoded.to_luma_alpha32f();
    Ok(Grey {
        width: grey.width() as usize,
        height: grey.height() as usize,
        pixels: grey
            .pixels()
            .map(|p| {
                let [luma, alpha] = p.0;
                255.0 * (alpha * luma + (1.0 - alpha))
            })
            .collect(),
    })
}

/// The last frame of an animated GIF, PNG (APNG) or WebP, composited as a viewer shows it when
/// the animation ends (a drawing animation's first frame is often blank); `None` for a still
/// image or another format. Frames are decoded one at a time, only the last is kept.
fn last_frame(
    bytes: &[u8],
    format: Option<image::ImageFormat>,
    limits: image::Limits,
) -> Option<image::DynamicImage> {
    use image::AnimationDecoder;
    let cursor = std::io::Cursor::new(bytes);
    let frames = match format? {
        image::ImageFormat::Gif => {
            let mut decoder = image::codecs::gif::GifDecoder::new(cursor).ok()?;
            image::ImageDecoder::set_limits(&mut decoder, limits).ok()?;
            decoder.into_frames()
        }
        image::ImageFormat::Png => {
            let mut decoder = image::codecs::png::PngDecoder::new(cursor).ok()?;
            if !decoder.is_apng().ok()? {
                return None;
            }
            image::ImageDecoder::set_limits(&mut decoder, limits).ok()?;
            decoder.apng().ok()?.into_frames()
        }
        image::ImageFormat::WebP => {
            let decoder = image::codecs::webp::WebPDecoder::new(cursor).ok()?;
            if !decoder.has_animation() {
                return None;
            }
            decoder.into_frames()
        }
        _ => return None,
    };
    let last = frames.take(MAX_FRAMES).last()?.ok()?;
    Some(image::DynamicImage::ImageRgba8(last.into_buffer()))
}

/// The most frames of an animation read (the last of them is taken).
const MAX_FRAMES: usize = 10_000;

/// An MNIST digit (784 grey levels) as it might come on paper, for examples and tests: enlarged
/// `scale` times (bilinear), dark ink on white, on a `page` of width x height pixels with the
/// digit's top-left corner at `at`. Ink that would fall off the page is cut.
pub fn on_paper(pixels: &[u8], scale: u32, page: (u32, u32), at: (u32, u32)) -> image::GrayImage {
    let side = SIDE as u32;
    let digit = image::GrayImage::from_fn(side, side, |c, r| {
        image::Luma([255 - pixels[(r * side + c) as usize]])
    });
    let big = imageops::resize(&digit, side * scale, side * scale, FilterType::Triangle);
    let mut paper = image::GrayImage::from_pixel(page.0, page.1, image::Luma([255]));
    imageops::replace(&mut paper, &big, i64::from(at.0), i64::from(at.1));
    paper
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A w x h picture with a light background and a dark filled rectangle.
    fn picture(w: usize, h: usize, rect: (usize, usize, usize, usize)) -> Grey {
        let (r0, c0, r1, c1) = rect;
        Grey {
            width: w,
            height: h,
            pixels: (0..w * h)
                .map(|i| {
                    let (r, c) = (i / w, i % w);
                    if (r0..r1).contains(&r) && (c0..c1).contains(&c) {
                        20.0
                    } else {
                        240.0
                    }
                })
                .collect(),
        }
    }

    fn bounding_box(pixels: &[u8]) -> (usize, usize, usize, usize) {
        let ink: Vec<usize> = (0..N_PIXELS).filter(|&i| pixels[i] > 64).collect();
        let rows = ink.iter().map(|i| i / SIDE);
        let cols = ink.iter().map(|i| i % SIDE);
        (
            rows.clone().min().unwrap(),
            rows.max().unwrap(),
            cols.clone().min().unwrap(),
            cols.max().unwrap(),
        )
    }

    #[test]
    fn a_dark_bar_anywhere_becomes_a_light_centred_bar_twenty_pixels_tall() {
        // A 40 x 200 bar in the top-left corner of a 300 x 300 page.
        let out = mnist_form(&picture(300, 300, (10, 10, 210, 50))).unwrap();
        let (top, bottom, left, right) = bounding_box(&out);
        assert_eq!(bottom - top + 1, BOX, "the long side fills the box");
        assert_eq!(right - left + 1, 4, "aspect ratio kept: 40/200 of 20");
        // Centre of mass (9.5, 1.5) in the 20 x 4 box, at (14, 14) to the nearest pixel (a tie).
        assert!(
            [(4, 23), (5, 24)].contains(&(top, bottom)),
            "{top} {bottom}"
        );
        assert!(
            [(12, 15), (13, 16)].contains(&(left, right)),
            "{left} {right}"
        );
        assert_eq!(out[14 * SIDE + 14], 255, "ink is light, full strength");
        assert_eq!(out[0], 0, "background is black");
    }

    #[test]
    fn light_on_dark_is_not_inverted_and_gives_the_same_digit() {
        let dark_on_light = picture(100, 80, (20, 30, 70, 45));
        let light_on_dark = Grey {
            pixels: dark_on_light.pixels.iter().map(|v| 255.0 - v).collect(),
            ..dark_on_light.clone()
        };
        assert_eq!(
            mnist_form(&dark_on_light).unwrap(),
            mnist_form(&light_on_dark).unwrap()
        );
    }

    #[test]
    fn the_centre_of_mass_goes_to_the_centre() {
        // An L: the mass sits low and left of the box's centre, so the box moves up and right.
        let mut l = picture(200, 200, (0, 0, 0, 0));
        for r in 20..180 {
            for c in 20..180 {
                if c < 50 || r >= 150 {
                    l.pixels[r * 200 + c] = 0.0;
                }
            }
        }
        let out = mnist_form(&l).unwrap();
        let mass: f64 = out.iter().map(|&v| v as f64).sum();
        let row = (0..N_PIXELS)
            .map(|i| (i / SIDE) as f64 * out[i] as f64)
            .sum::<f64>()
            / mass;
        let col = (0..N_PIXELS)
            .map(|i| (i % SIDE) as f64 * out[i] as f64)
            .sum::<f64>()
            / mass;
        let centre = CENTRE as f64;
        assert!(
            (row - centre).abs() <= 0.5 && (col - centre).abs() <= 0.5,
            "{row} {col}"
        );
    }

    #[test]
    fn blank_and_empty_images_are_named() {
        let flat = Grey {
            width: 50,
            height: 50,
            pixels: (0..2500).map(|i| 200.0 + (i % 7) as f32).collect(),
        };
        // The strongest ink above the background (the median border pixel, 203): 3 levels.
        assert_eq!(mnist_form(&flat), Err(Problem::Blank { contrast: 3.0 }));
        let black = Grey {
            width: 28,
            height: 28,
            pixels: vec![0.0; 784],
        };
        assert_eq!(raw_form(&black), Err(Problem::Blank { contrast: 0.0 }));
        let empty = Grey {
            width: 0,
            height: 0,
            pixels: vec![],
        };
        assert_eq!(mnist_form(&empty), Err(Problem::Empty));
        assert_eq!(raw_form(&empty), Err(Problem::Empty));
    }

    #[test]
    fn raw_form_takes_mnist_images_pixel_for_pixel_and_only_those() {
        let pixels: Vec<f32> = (0..784).map(|i| (i % 256) as f32).collect();
        let image = Grey {
            width: 28,
            height: 28,
            pixels: pixels.clone(),
        };
        let out = raw_form(&image).unwrap();
        assert!(out.iter().zip(&pixels).all(|(&a, &b)| a as f32 == b));
        let wide = picture(56, 28, (5, 5, 20, 20));
        assert_eq!(
            raw_form(&wide),
            Err(Problem::NotMnistSize {
                width: 56,
                height: 28
            })
        );
    }
}
