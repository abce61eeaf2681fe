//! One evaluation (loss and gradient) on MNIST's first 56,000 images as the harness stores them
//! (bytes read through `ScaledBytes`), the sparse storage (the non-zero pixels only) against the
//! dense one (every pixel), in the same run: milliseconds per evaluation (a 20-iteration fit
//! divided by its evaluation count), median, min and max of `--repeat` fits (default 5), for raw
//! pixels and pixels/255, f64 and f32, on 1 thread and on every thread (or `RAYON_NUM_THREADS`).
//! Prints the CPU, the kernel path (`LINFA_LOGISTIC_KERNELS=portable|avx2|avx512` forces one)
//! and the share of non-zero pixels. Both storages give the same bits (the engine's tests).
//!
//! ```bash
//! cargo run --release --example sparse_speed [-- --repeat 5] [--only f64|f32] [--sparse-only] [--describe]
//! LINFA_LOGISTIC_KERNELS=avx2 cargo run --release --example sparse_speed
//! ```

use std::time::Instant;

use linfa::prelude::*;
use linfa_logistic::{kernel_path, MultiLogisticRegression, ScaledBytes};
use mnist_logreg::data;
use ndarray::{s, Array1};

const N: usize = 56_000;
const ITERATIONS: u64 = 20;

fn main() {
    let repeat = std::env::args()
        .skip_while(|a| a != "--repeat")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize);
    // `--only f64` or `--only f32`: one float type (for profiling one path).
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    // `--sparse-only`: skip the dense fits (for profiling the sparse path).
    let sparse_only = std::env::args().any(|a| a == "--sparse-only");
    println!("CPU: {}", cpu_model());
    println!(
        "kernel path: {} (LINFA_LOGISTIC_KERNELS forces portable, avx2 or avx512)",
        kernel_path().name()
    );
    // `--describe`: the two lines above only (for scripts/bench.py's header).
    if std::env::args().any(|a| a == "--describe") {
        return;
    }
    let mnist = data::load_repository_data().expect("the vendored MNIST");
    let bytes = mnist.images.slice(s![..N, ..]).to_owned();
    let y: Array1<usize> = mnist.labels[..N].iter().map(|&l| usize::from(l)).collect();
    let nonzero = bytes.iter().filter(|&&b| b != 0).count() as f64 / bytes.len() as f64;
    let all = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!(
        "{N} x 784 pixels, {:.1} % non-zero, 10 classes; ms per evaluation over a {ITERATIONS}-iteration fit, median [min, max] of {repeat}",
        100.0 * nonzero
    );
    let mut threads = vec![1, all];
    threads.dedup();
    for t in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("a thread pool");
        println!("\n{t} thread(s)\ndtype  pixels  dense ms                 sparse ms                dense / sparse");
        pool.install(|| {
            for dtype in ["f64", "f32"] {
                if only.as_deref().is_some_and(|o| o != dtype) {
                    continue;
                }
                for divisor in [1.0, 255.0] {
                    let run = |dense: bool| {
                        let mut ms: Vec<f64> = (0..repeat)
                            .map(|_| evaluation_ms(dtype, &bytes, &y, divisor, dense))
                            .collect();
                        ms.sort_by(f64::total_cmp);
                        (ms[ms.len() / 2], ms[0], ms[ms.len() - 1])
                    };
                    let d = if sparse_only { (f64::NAN, f64::NAN, f64::NAN) } else { run(true) };
                    let s = run(false);
                    println!(
                        "{dtype}    {:<6}  {:>6.1} [{:>5.1}, {:>5.1}]  {:>6.1} [{:>5.1}, {:>5.1}]  {:>5.2}x",
                        if divisor == 1.0 { "raw" } else { "/255" },
                        d.0,
                        d.1,
                        d.2,
                        s.0,
                        s.1,
                        s.2,
                        d.0 / s.0
                    );
                }
            }
        });
    }
}

/// Milliseconds per evaluation of a fit on the bytes, read densely or sparsely.
fn evaluation_ms(
    dtype: &str,
    bytes: &ndarray::Array2<u8>,
    y: &Array1<usize>,
    divisor: f64,
    dense: bool,
) -> f64 {
    macro_rules! timed {
        ($float:ty) => {{
            let x = ScaledBytes::<$float>::new(bytes.clone())
                .divided_by(divisor as $float)
                .expect("a divisor");
            let x = if dense { x.dense() } else { x.sparse() };
            // The index is part of the data's preparation, not of an evaluation.
            assert_eq!(x.is_sparse(), !dense);
            let dataset = DatasetBase::new(x, y.clone());
            let start = Instant::now();
            let model = MultiLogisticRegression::<$float>::default()
                .max_iterations(ITERATIONS)
                .fit(&dataset)
                .expect("a fit");
            let evaluations = model.report().map_or(1, |r| r.evaluations.max(1));
            1000.0 * start.elapsed().as_secs_f64() / evaluations as f64
        }};
    }
    match dtype {
        "f64" => timed!(f64),
        _ => timed!(f32),
    }
}

/// The CPU's model name (Linux), or "unknown".
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
