//! From a picture of a digit to MNIST form: 28 x 28 grey levels, light ink on a black background,
//! the digit scaled into a 20 x 20 box and centred by its centre of mass, as LeCun, Cortes and
//! Burges describe MNIST's making.
//!
//! [`mnist_form`] and [`raw_form`] are I/O-free; [`load`] decodes a file with the `image` crate.
//!
//! May touch: `digits`, `error`.

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

/// The image in MNIST form, 784 grey levels row by row (0 = background, 255 = full ink):
/// 1. invert when the background (the median of the border pixels) is light;
/// 2. subtract the background, stretch the ink to 0..255, and drop what is under 10 % of it;
/// 3. crop to the bounding box of the pixels over 25 % of the ink;
/// 4. scale the crop to fit 20 x 20, aspect ratio kept (a triangle filter, anti-aliased when
///    shrinking), and stretch it to 0..255 again;
/// 5. place it in 28 x 28 with its centre of mass at pixel (14, 14) (row and column from 0), to
///    the nearest pixel, moved as little as needed to keep the whole box inside the frame.
///
/// MNIST's own digits have their centre of mass there, not at the frame's middle (13.5): over
/// notebook A's first 2,000 training images it averages (14.00, 14.01). Centring them again at
/// 13.5 moves most by a pixel and costs the notebook model 3.7 points of accuracy on them; at 14,
/// 0.3 points (`tests/predict.rs` measures both).
pub fn mnist_form(image: &Grey) -> Result<Vec<u8>, Problem> {
    mnist_form_centred_at(image, CENTRE as f64)
}

/// [`mnist_form`] with the centre of mass placed at (`centre`, `centre`) instead of MNIST's.
pub fn mnist_form_centred_at(image: &Grey, centre: f64) -> Result<Vec<u8>, Problem> {
    if image.pixels.is_empty() {
        return Err(Problem::Empty);
    }
    let (w, h) = (image.width, image.height);
    let mut border: Vec<f32> = (0..h)
        .flat_map(|r| (0..w).map(move |c| (r, c)))
        .filter(|&(r, c)| r == 0 || c == 0 || r + 1 == h || c + 1 == w)
        .map(|(r, c)| image.pixels[r * w + c])
        .collect();
    border.sort_by(f32::total_cmp);
    let background = border[border.len() / 2];
    let invert = background > 127.5;
    let ink: Vec<f32> = image
        .pixels
        .iter()
        .map(|&v| {
            let (v, bg) = if invert {
                (255.0 - v, 255.0 - background)
            } else {
                (v, background)
            };
            (v - bg).max(0.0)
        })
        .collect();
    let peak = ink.iter().copied().fold(0.0, f32::max);
    if peak < MIN_CONTRAST {
        // The measure the test used, so the message never contradicts it.
        return Err(Problem::Blank { contrast: peak });
    }
    let ink: Vec<f32> = ink
        .iter()
        .map(|&v| {
            let v = v / peak;
            if v < NOISE_THRESHOLD {
                0.0
            } else {
                v
            }
        })
        .collect();

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
    Ok(out)
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

/// Decodes an image file (PNG, JPEG, GIF, BMP, TIFF, PNM, WebP) into grey levels; transparent
/// pixels count as white paper. Images wider or taller than [`MAX_SIDE`] are refused.
pub fn load(path: &Path) -> Result<Grey> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    let bytes = std::fs::read(path).map_err(|e| Error::Image {
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
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::Image {
            path: path.to_path_buf(),
            message: format!("{e}: give the path of a readable image file"),
        })?;
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| Error::Image {
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
