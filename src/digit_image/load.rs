//! Decoding an image file into grey levels, with the limits that keep a hostile file from
//! taking the machine's memory.
//!
//! May touch: `folder` (inputs read with a size cap), `error`.

use std::path::Path;

use super::Grey;
use crate::error::{Error, Result};

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
