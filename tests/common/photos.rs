//! Photo-like pictures of MNIST digits, to measure how `predict`'s preparation
//! (`mnist_logreg::digit_image`) copes with what a camera or a scanner gives: sensor noise, uneven
//! light, ruled paper, a tilted page, a thin pen, light ink on a dark board. Each picture is the
//! digit enlarged 10 times, dark on a 400 x 320 page (as `mnist_logreg::digit_image::on_paper`), with
//! one of these six defects; deterministic for a given seed.
//!
//! Test and example code, not the library's: `tests/predict.rs` and `examples/make_photos.rs`
//! include this file.

use image::{GrayImage, Luma};

use mnist_logreg::digit_image::on_paper;

/// What is wrong with a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// Gaussian noise, standard deviation 12 grey levels.
    Noise,
    /// Light falling off across the page: the background from 255 down to about 120.
    Shading,
    /// Ruled paper: grey lines 2 pixels thick every 24 pixels, under the ink.
    Ruled,
    /// The page turned by 15 degrees (alternately either way).
    Tilted,
    /// A thin pen: only the core of each stroke (MNIST's darkest quarter of ink).
    ThinPen,
    /// Light chalk on a dark board, with some noise.
    LightOnDark,
}

impl Defect {
    pub const ALL: [Defect; 6] = [
        Defect::Noise,
        Defect::Shading,
        Defect::Ruled,
        Defect::Tilted,
        Defect::ThinPen,
        Defect::LightOnDark,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Defect::Noise => "noise",
            Defect::Shading => "shading",
            Defect::Ruled => "ruled paper",
            Defect::Tilted => "tilted",
            Defect::ThinPen => "thin pen",
            Defect::LightOnDark => "light on dark",
        }
    }
}

/// Page size and where the enlarged digit (280 x 280) goes on it.
const PAGE: (u32, u32) = (400, 320);
const AT: (u32, u32) = (60, 20);

/// `pixels` (an MNIST digit, 784 grey levels) as a photo-like picture with `defect`.
pub fn photo_like(pixels: &[u8], defect: Defect, seed: u64) -> GrayImage {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    match defect {
        Defect::Noise => {
            let mut page = on_paper(pixels, 10, PAGE, AT);
            add_noise(&mut page, 12.0, &mut rng);
            page
        }
        Defect::Shading => {
            let mut page = on_paper(pixels, 10, PAGE, AT);
            let (w, h) = page.dimensions();
            for (x, y, p) in page.enumerate_pixels_mut() {
                // Darker towards the bottom right corner.
                let fall = 0.53 * (x as f32 / w as f32 + y as f32 / h as f32) / 2.0;
                p.0[0] = (p.0[0] as f32 * (1.0 - fall)).round() as u8;
            }
            page
        }
        Defect::Ruled => {
            let mut page = on_paper(pixels, 10, PAGE, AT);
            for (_, y, p) in page.enumerate_pixels_mut() {
                if y % 24 < 2 {
                    p.0[0] = p.0[0].min(150);
                }
            }
            page
        }
        Defect::Tilted => {
            let page = on_paper(pixels, 10, PAGE, AT);
            let angle = if seed.is_multiple_of(2) {
                15f32
            } else {
                -15f32
            }
            .to_radians();
            rotate(&page, angle)
        }
        Defect::ThinPen => {
            let core: Vec<u8> = pixels
                .iter()
                .map(|&v| if v >= 192 { 255 } else { 0 })
                .collect();
            on_paper(&core, 10, PAGE, AT)
        }
        Defect::LightOnDark => {
            let mut page = on_paper(pixels, 10, PAGE, AT);
            for p in page.pixels_mut() {
                // White paper (255) to a board at 45, dark ink (0) to chalk at 225.
                p.0[0] = (225.0 - (p.0[0] as f32) * 180.0 / 255.0).round() as u8;
            }
            add_noise(&mut page, 6.0, &mut rng);
            page
        }
    }
}

/// The page turned by `angle` about its centre (nearest pixel), the corners filled with the
/// page's white.
fn rotate(page: &GrayImage, angle: f32) -> GrayImage {
    let (w, h) = page.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = angle.sin_cos();
    GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (c * dx + s * dy + cx, -s * dx + c * dy + cy);
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *page.get_pixel(sx as u32, sy as u32)
        } else {
            Luma([255])
        }
    })
}

fn add_noise(page: &mut GrayImage, sd: f32, rng: &mut Rng) {
    for p in page.pixels_mut() {
        p.0[0] = (p.0[0] as f32 + sd * rng.normal())
            .round()
            .clamp(0.0, 255.0) as u8;
    }
}

/// xorshift64* with Box-Muller normals: enough for test pictures, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        (v as f32 + 0.5) / (1u64 << 24) as f32
    }

    fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f32::consts::PI * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mnist_logreg::digits::SIDE;

    #[test]
    fn every_defect_makes_a_page_with_the_digit_on_it() {
        let mut digit = vec![0u8; SIDE * SIDE];
        for r in 6..22 {
            digit[r * SIDE + 13] = 255;
            digit[r * SIDE + 14] = 200;
        }
        for (i, defect) in Defect::ALL.into_iter().enumerate() {
            let page = photo_like(&digit, defect, i as u64);
            assert_eq!(page.dimensions(), PAGE, "{}", defect.name());
            let (lo, hi) = page
                .pixels()
                .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p.0[0]), hi.max(p.0[0])));
            assert!(hi - lo > 100, "{}: contrast {lo}..{hi}", defect.name());
            assert_eq!(page, photo_like(&digit, defect, i as u64), "deterministic");
        }
    }
}
