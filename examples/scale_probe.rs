use mnist_logreg::config::DataConfig;
use mnist_logreg::model::{fit, ModelParams};
use mnist_logreg::split::{train_test_split, Size, SplitSpec};
use std::path::PathBuf;
fn main() {
    let d = mnist_logreg::data::load(&DataConfig {
        dir: PathBuf::from("data/mnist"),
        cache_dir: PathBuf::from("data/cache"),
        subsample: None,
    })
    .unwrap();
    let split = train_test_split(
        70000,
        &SplitSpec {
            train_size: Some(Size::Fraction(0.8)),
            test_size: None,
            random_state: 0,
            shuffle: true,
        },
    )
    .unwrap();
    let scale: f64 = std::env::args().nth(1).unwrap().parse().unwrap();
    let unit: f64 = std::env::args().nth(2).unwrap().parse().unwrap();
    let x: ndarray::Array2<f32> =
        ndarray::Array2::from_shape_fn((split.train.len(), 784), |(i, j)| {
            (d.images[[split.train[i], j]] as f64 / unit / scale) as f32
        });
    let y: Vec<u8> = split.train.iter().map(|&i| d.labels[i]).collect();
    let t = std::time::Instant::now();
    let out = fit(
        x.view(),
        scale,
        &y,
        &ModelParams {
            dtype: mnist_logreg::model::Dtype::F32,
            ..ModelParams::default()
        },
    )
    .unwrap();
    println!(
        "scale {scale}: {:?} {:.1}s",
        out.diagnostics,
        t.elapsed().as_secs_f64()
    );
}
