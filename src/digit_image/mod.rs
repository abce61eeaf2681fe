//! From a picture of a digit to MNIST form: 28 x 28 grey levels, light ink on a black background,
//! the digit scaled into a 20 x 20 box and centred by its centre of mass, as LeCun, Cortes and
//! Burges describe MNIST's making.
//!
//! [`mnist_form`] and [`raw_form`] are I/O-free; [`load`] decodes a file with the `image` crate.
//!
//! May touch: `folder` (results files and inputs through one handle), `digits`, `error`.

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma};

use crate::digits::{N_PIXELS, SIDE};

mod cleanup;
mod load;
mod stroke;

use cleanup::{
    grown, largest_pieces, local_background, median, median_3x3, otsu, remove_lines, shrunk,
};
pub use load::{load, MAX_IMAGE_BYTES, MAX_SIDE};
pub use stroke::{relative_width, MNIST_RELATIVE_WIDTH};

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
///    under 10 % of it; then bring the strokes' width toward MNIST's, relative to the digit's
///    size: a thin pen's line is thickened and a thick marker's thinned (`stroke.rs`);
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
    prepare_with(image, centre, Strokes::ToMnist)
}

/// Whether [`prepare`] brings the strokes' width toward MNIST's (end of step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strokes {
    /// As drawn (for measuring what the step does).
    AsDrawn,
    /// Thickened or thinned toward MNIST's relative width.
    ToMnist,
}

/// [`prepare`] with the centre of mass at (`centre`, `centre`) and the strokes as `strokes` says.
pub fn prepare_with(image: &Grey, centre: f64, strokes: Strokes) -> Result<Prepared, Problem> {
    if image.pixels.is_empty() {
        return Err(Problem::Empty);
    }
    let image = shrunk(image);
    let (w, h) = (image.width, image.height);
    let photo = w.min(h) > PHOTO_SIDE;
    let ink = ink_above_background(&image, photo);
    let peak = ink.iter().copied().fold(0.0, f32::max);
    if peak < MIN_CONTRAST {
        // The measure the test used, so the message never contradicts it.
        return Err(Problem::Blank { contrast: peak });
    }
    let (ink, ink_area) = kept_ink(&ink, peak, w, h, photo);
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
    let ink = match strokes {
        Strokes::AsDrawn => ink,
        Strokes::ToMnist => stroke::normalised(&ink, w, h),
    };
    let (scaled, new_w, new_h) = scaled_box(&ink, w, h);
    Ok(Prepared {
        pixels: placed(&scaled, new_w, new_h, centre),
        ink_share,
        warning,
    })
}

/// Steps 2 and 3: ink bright on a dark background, the background (the border's median, or on a
/// photo a local estimate after a median filter where the border is noisy) subtracted.
fn ink_above_background(image: &Grey, photo: bool) -> Vec<f32> {
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
    let border: Vec<f32> = border
        .iter()
        .map(|&v| if invert { 255.0 - v } else { v })
        .collect();
    let border_sd = {
        let mean = border.iter().sum::<f32>() / border.len() as f32;
        (border.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / border.len() as f32).sqrt()
    };
    if photo && border_sd > NOISY_BORDER_SD {
        oriented = median_3x3(&oriented, w, h);
    }
    let background: Vec<f32> = if photo {
        local_background(&oriented, w, h)
    } else {
        vec![median(&border); w * h]
    };
    oriented
        .iter()
        .zip(&background)
        .map(|(v, b)| (v - b).max(0.0))
        .collect()
}

/// Step 4: ink against background by Otsu's threshold, lines (on a photo) and specks removed,
/// edges kept, stretched to the peak, faint pixels dropped; and the ink's area in pixels.
fn kept_ink(ink: &[f32], peak: f32, w: usize, h: usize, photo: bool) -> (Vec<f32>, usize) {
    let threshold = otsu(ink, peak);
    let mut strokes: Vec<bool> = ink.iter().map(|&v| v > threshold).collect();
    if photo {
        remove_lines(&mut strokes, w, h);
    }
    let strokes = largest_pieces(&strokes, w, h);
    let ink_area = strokes.iter().filter(|&&s| s).count();
    let kept = grown(&strokes, w, h);
    let ink = ink
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
    (ink, ink_area)
}

/// Steps 5 and 6: the crop to the bounding box of the pixels over [`BOX_THRESHOLD`] (not empty:
/// the peak pixel is 1.0), scaled to fit [`BOX`] x [`BOX`] and stretched to 0..1; with its width
/// and height.
fn scaled_box(ink: &[f32], w: usize, h: usize) -> (Vec<f32>, usize, usize) {
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
    (scaled.iter().map(|v| v / top_value).collect(), new_w, new_h)
}

/// Step 7: the scaled box in 28 x 28 bytes, its centre of mass at (`centre`, `centre`) to the
/// nearest pixel, moved as little as needed to stay inside the frame.
fn placed(scaled: &[f32], new_w: usize, new_h: usize, centre: f64) -> Vec<u8> {
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
