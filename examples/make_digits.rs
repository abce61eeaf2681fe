//! Writes the example images in `examples/digits/` that the README's "Try the model on your own
//! digit" section uses: `cargo run --example make_digits`.
//!
//! - `mnist-<d>.png`: the first test image of digit d in notebook A's split (the notebook model
//!   never trained on it), 28 x 28 as MNIST stores it (for `--raw`);
//! - `paper-<d>.png`: the same digit as it might come on paper: enlarged to 280 x 280, dark ink
//!   on white, off-centre on a 400 x 320 page;
//! - `font-<d>.png`: the digit typeset in DejaVu Sans, black on white, 240 x 240 (machine type,
//!   not handwriting: a harder test for a model trained on handwriting).

use std::collections::BTreeMap;
use std::path::Path;

use mnist_logreg::data;
use mnist_logreg::digit_image::on_paper;
use mnist_logreg::digits::N_PIXELS;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

/// The notebook A run whose test images the examples come from.
const PREDICTIONS: &str = "results/notebook-a/runs/3031fa70a26e/predictions.csv";
/// The digits written in MNIST form too.
const RAW_DIGITS: [u8; 3] = [2, 5, 7];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("examples/digits");
    std::fs::create_dir_all(&out)?;
    let mnist = data::load_repository_data()?;

    // The first test image of each digit, in the order predictions.csv lists the test set.
    let mut first: BTreeMap<u8, usize> = BTreeMap::new();
    let mut reader = csv::Reader::from_path(root.join(PREDICTIONS))?;
    for row in reader.records() {
        let row = row?;
        let (index, label): (usize, u8) = (row[0].parse()?, row[1].parse()?);
        first.entry(label).or_insert(index);
    }
    for (&digit, &index) in &first {
        let pixels = mnist.images.row(index).to_vec();
        assert_eq!(pixels.len(), N_PIXELS);
        assert_eq!(mnist.labels[index], digit);
        if RAW_DIGITS.contains(&digit) {
            image::GrayImage::from_raw(28, 28, pixels.clone())
                .expect("784 pixels")
                .save(out.join(format!("mnist-{digit}.png")))?;
        }
        // Off-centre: the digit's box starts 30 to 100 pixels from the left, varying by digit.
        let at = (30 + 8 * u32::from(digit), 10 + 3 * u32::from(digit));
        on_paper(&pixels, 10, (400, 320), at).save(out.join(format!("paper-{digit}.png")))?;
    }

    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the embedded font is invalid")?;
    for digit in 0..10 {
        let side = 240u32;
        let mut rgb = vec![0u8; (side * side * 3) as usize];
        {
            let area = BitMapBackend::with_buffer(&mut rgb, (side, side)).into_drawing_area();
            area.fill(&WHITE)?;
            area.draw(&Text::new(
                digit.to_string(),
                (side as i32 / 2, side as i32 / 2),
                ("sans-serif", 180)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
            area.present()?;
        }
        let grey: Vec<u8> = rgb.chunks(3).map(|p| p[0]).collect();
        image::GrayImage::from_raw(side, side, grey)
            .expect("side x side pixels")
            .save(out.join(format!("font-{digit}.png")))?;
    }
    println!("wrote {}", out.display());
    Ok(())
}
