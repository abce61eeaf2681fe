//! Milliseconds per evaluation (loss and gradient, one pass over the data) on an MNIST-sized
//! problem: 56,000 x 784, 10 classes, 30 L-BFGS iterations in f64 and f32, through the public
//! API (the fit report counts the evaluations). Threads follow `RAYON_NUM_THREADS`.
//!
//! ```bash
//! cargo run --release -p linfa-logistic --example evaluation_speed
//! ```

use std::time::Instant;

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};

fn main() {
    let (n, d) = (56_000, 784);
    let x = Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 17) % 256) as f64 / 255.0);
    let y = Array1::from_shape_fn(n, |i| (i * 7 + i / 13) % 10);
    let dataset = Dataset::new(x.clone(), y.clone());
    let start = Instant::now();
    let model = MultiLogisticRegression::default()
        .max_iterations(30)
        .fit(&dataset)
        .expect("a fit");
    report("f64", start, model.report().map(|r| r.evaluations));
    let dataset = Dataset::new(x.mapv(|v| v as f32), y);
    let start = Instant::now();
    let model = MultiLogisticRegression::<f32>::default()
        .max_iterations(30)
        .fit(&dataset)
        .expect("a fit");
    report("f32", start, model.report().map(|r| r.evaluations));
}

fn report(dtype: &str, start: Instant, evaluations: Option<u64>) {
    let seconds = start.elapsed().as_secs_f64();
    let evaluations = evaluations.unwrap_or(1).max(1);
    println!(
        "{dtype}: {evaluations} evaluations in {seconds:.2} s: {:.1} ms per evaluation",
        1000.0 * seconds / evaluations as f64
    );
}
