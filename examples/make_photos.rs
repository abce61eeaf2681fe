//! Writes photo-like pictures of notebook A's first test digits (`tests/common/photos.rs`: noise,
//! shading, ruled paper, a tilted page, a thin pen, light on dark, in turn) into a folder, with
//! `labels.csv` (file, true digit, defect), to try `predict` on:
//!
//! ```bash
//! cargo run --release --example make_photos -- /tmp/photos 60
//! cargo run --release --bin predict -- results/notebook-a /tmp/photos/*.png
//! ```

use std::path::PathBuf;

use mnist_logreg::data;
#[path = "../tests/common/photos.rs"]
mod photos;

use photos::{photo_like, Defect};

/// The notebook A run whose test images the pictures come from (never trained on).
const PREDICTIONS: &str = "results/notebook-a/runs/3031fa70a26e/predictions.csv";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: make_photos DIR [COUNT]")?);
    let count: usize = args.next().map_or(Ok(60), |n| n.parse())?;
    std::fs::create_dir_all(&out)?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mnist = data::load_repository_data()?;
    let mut labels = String::from("file,digit,defect\n");
    let mut reader = csv::Reader::from_path(root.join(PREDICTIONS))?;
    for (i, row) in reader.records().take(count).enumerate() {
        let row = row?;
        let index: usize = row[0].parse()?;
        let defect = Defect::ALL[i % Defect::ALL.len()];
        // The digit last, so that `predict --truth-from-names` can colour right and wrong.
        let file = format!(
            "{i:03}-{}-{}.png",
            defect.name().replace(' ', "-"),
            mnist.labels[index]
        );
        let pixels = mnist.images.row(index).to_vec();
        photo_like(&pixels, defect, i as u64).save(out.join(&file))?;
        labels.push_str(&format!(
            "{file},{},{}\n",
            mnist.labels[index],
            defect.name()
        ));
    }
    std::fs::write(out.join("labels.csv"), labels)?;
    println!("{count} pictures and labels.csv in {}", out.display());
    Ok(())
}
