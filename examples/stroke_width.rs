//! Measures what bringing strokes toward MNIST's width does for `predict`: notebook A's first
//! test digits (never trained on) drawn on paper 10x enlarged (`digit_image::on_paper`) in three
//! pens, as MNIST drew them, a thin pen (only the core of each stroke: MNIST's darkest quarter
//! of ink) and a thick marker (each stroke grown by one MNIST pixel on every side), read by
//! notebook A's model with the strokes as drawn and brought toward MNIST's width. Also prints
//! the median relative stroke width of MNIST's own digits on paper (`MNIST_RELATIVE_WIDTH`).
//!
//! ```bash
//! cargo run --release --example stroke_width -- 1000
//! ```

use mnist_logreg::data;
use mnist_logreg::digit_image::{
    on_paper, prepare_with, relative_width, Grey, Strokes, CENTRE, MNIST_RELATIVE_WIDTH,
};
use mnist_logreg::digits::{argmax, SIDE};
use mnist_logreg::model_file::SavedModel;
use mnist_logreg::stats::McNemar;
use ndarray::Array2;

const RUN: &str = "results/notebook-a/runs/3031fa70a26e";

/// A pen: its name, and how it turns an MNIST digit into the 28 x 28 ink drawn on paper.
type Pen = (&'static str, fn(&[u8]) -> Vec<u8>);

/// The three pens.
fn pens() -> [Pen; 3] {
    [
        ("as MNIST", |p| p.to_vec()),
        ("thin pen", |p| {
            p.iter().map(|&v| if v >= 192 { 255 } else { 0 }).collect()
        }),
        ("thick marker", |p| {
            // A 3 x 3 maximum: every stroke one pixel wider on each side.
            (0..SIDE * SIDE)
                .map(|i| {
                    let (r, c) = ((i / SIDE) as i64, (i % SIDE) as i64);
                    let mut v = 0;
                    for dr in -1..=1 {
                        for dc in -1..=1 {
                            let (rr, cc) = (r + dr, c + dc);
                            if (0..SIDE as i64).contains(&rr) && (0..SIDE as i64).contains(&cc) {
                                v = v.max(p[(rr * SIDE as i64 + cc) as usize]);
                            }
                        }
                    }
                    v
                })
                .collect()
        }),
    ]
}

fn grey(page: &image::GrayImage) -> Grey {
    Grey {
        width: page.width() as usize,
        height: page.height() as usize,
        pixels: page.pixels().map(|p| f32::from(p.0[0])).collect(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args().nth(1).map_or(Ok(1000), |n| n.parse())?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mnist = data::load_repository_data()?;
    let model = SavedModel::read(
        &root.join(RUN).join("model.npz"),
        "rerun notebook A's sweep",
    )?;
    let mut reader = csv::Reader::from_path(root.join(RUN).join("predictions.csv"))?;
    let mut digits = Vec::new();
    for row in reader.records().take(count) {
        let row = row?;
        let index: usize = row[0].parse()?;
        digits.push((mnist.images.row(index).to_vec(), mnist.labels[index]));
    }
    println!(
        "{} of notebook A's test digits, on paper 10x enlarged, read by run 3031fa70a26e",
        digits.len()
    );
    for (pen, draw) in pens() {
        let mut widths = Vec::new();
        let mut right = [0usize; 2];
        // Both right, only as drawn, only brought toward MNIST, neither.
        let mut table = [0u64; 4];
        for (pixels, label) in &digits {
            let page = grey(&on_paper(&draw(pixels), 10, (400, 320), (60, 20)));
            let ink: Vec<f32> = page.pixels.iter().map(|v| (255.0 - v) / 255.0).collect();
            if let Some((w, _)) = relative_width(&ink, page.width, page.height) {
                widths.push(w);
            }
            let mut got = [false; 2];
            for (k, strokes) in [Strokes::AsDrawn, Strokes::ToMnist].into_iter().enumerate() {
                let prepared = prepare_with(&page, CENTRE as f64, strokes)?;
                let x =
                    Array2::from_shape_fn((1, SIDE * SIDE), |(_, j)| f64::from(prepared.pixels[j]));
                let predicted = argmax(model.probabilities(x.view()).row(0));
                got[k] = predicted == usize::from(*label);
                right[k] += usize::from(got[k]);
            }
            table[match got {
                [true, true] => 0,
                [true, false] => 1,
                [false, true] => 2,
                [false, false] => 3,
            }] += 1;
        }
        widths.sort_by(f64::total_cmp);
        let n = digits.len() as f64;
        // The change, as drawn -> brought toward MNIST: second minus first.
        let test = McNemar::from_table(table[0], table[1], table[2], table[3]);
        let change = test.difference_95();
        println!(
            "{pen}: median relative stroke width {:.3} (target {MNIST_RELATIVE_WIDTH}); right as drawn {:.1} %, brought toward MNIST's width {:.1} %: {:+.1} pp [{:+.1}, {:+.1}], McNemar p = {:.3} ({} better, {} worse)",
            widths[widths.len() / 2],
            100.0 * right[0] as f64 / n,
            100.0 * right[1] as f64 / n,
            100.0 * (right[1] as f64 - right[0] as f64) / n,
            -100.0 * change.high,
            -100.0 * change.low,
            test.p_value,
            table[2],
            table[1]
        );
    }
    Ok(())
}
