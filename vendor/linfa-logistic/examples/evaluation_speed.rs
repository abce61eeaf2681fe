//! One evaluation (loss and gradient, one pass over the data) on an MNIST-sized problem: 56,000 x
//! 784 pixels, 10 classes, against this machine's measured peak of fused multiply-adds.
//!
//! For f64 and f32, with the pixels stored as floats and as bytes ([`ScaledBytes`], converted as
//! it reads them), raw 0..255 as in the scikit-learn notebooks, at 1 thread and at every thread of the machine (or `RAYON_NUM_THREADS`):
//! milliseconds per evaluation (a 30-iteration fit divided by the report's evaluation count, best
//! of `--repeat` fits, default 3), GFLOP/s (4 n d k flops: two products of 2 n d k each), and the
//! share of the FMA peak, measured first by a loop of independent fused multiply-adds on every
//! thread (256-bit, and 512-bit where the CPU has AVX-512). Everything is measured in this one
//! run, so the ratios hold on a noisy machine even when the absolute times do not.
//!
//! ```bash
//! cargo run --release -p linfa-logistic --example evaluation_speed [-- --repeat 5]
//! ```

use std::time::Instant;

use linfa::prelude::*;
use linfa_logistic::{MultiLogisticRegression, ScaledBytes};
use ndarray::{Array1, Array2};

const N: usize = 56_000;
const D: usize = 784;
const K: usize = 10;
const ITERATIONS: u64 = 30;

fn main() {
    let repeat = std::env::args()
        .skip_while(|a| a != "--repeat")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(3usize);
    let all = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bytes = Array2::from_shape_fn((N, D), |(i, j)| ((i * 31 + j * 17 + i / 7) % 256) as u8);
    let y = Array1::from_shape_fn(N, |i| (i * 7 + i / 13) % K);
    let flops = 4.0 * (N * D * K) as f64;

    println!(
        "one evaluation: {N} x {D}, {K} classes, {:.2} GFLOP",
        flops / 1e9
    );
    for threads in dedup([1, all]) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        pool.install(|| {
            let (peak64, peak32) = (peak::<f64>(threads), peak::<f32>(threads));
            println!(
                "\n{threads} thread(s): measured FMA peak {peak64:.1} GFLOP/s f64, {peak32:.1} f32"
            );
            println!("dtype  storage  ms/evaluation  GFLOP/s  of peak");
            for (dtype, peak) in [("f64", peak64), ("f32", peak32)] {
                for storage in ["floats", "bytes"] {
                    let ms = (0..repeat)
                        .map(|_| evaluation_ms(dtype, storage, &bytes, &y))
                        .fold(f64::INFINITY, f64::min);
                    let gflops = flops / (ms * 1e6);
                    println!(
                        "{dtype}    {storage:<7}  {ms:>13.1}  {gflops:>7.1}  {:>6.0} %",
                        100.0 * gflops / peak
                    );
                }
            }
        });
    }
}

fn dedup(threads: [usize; 2]) -> Vec<usize> {
    let mut v = threads.to_vec();
    v.dedup();
    v
}

/// Milliseconds per evaluation of a 30-iteration fit (the data prepared before the clock starts).
fn evaluation_ms(dtype: &str, storage: &str, bytes: &Array2<u8>, y: &Array1<usize>) -> f64 {
    macro_rules! timed {
        ($float:ty, $records:expr) => {{
            let dataset = DatasetBase::new($records, y.clone());
            let start = Instant::now();
            let model = MultiLogisticRegression::<$float>::default()
                .max_iterations(ITERATIONS)
                .fit(&dataset)
                .expect("a fit");
            ms_per(start, model.report().map_or(1, |r| r.evaluations.max(1)))
        }};
    }
    match (dtype, storage) {
        ("f64", "floats") => timed!(f64, bytes.mapv(|v| f64::from(v) / 255.0)),
        ("f32", "floats") => timed!(f32, bytes.mapv(|v| f32::from(v) / 255.0)),
        ("f64", _) => timed!(
            f64,
            ScaledBytes::new(bytes.clone()).divided_by(255.0).unwrap()
        ),
        _ => timed!(
            f32,
            ScaledBytes::new(bytes.clone()).divided_by(255.0).unwrap()
        ),
    }
}

fn ms_per(start: Instant, evaluations: u64) -> f64 {
    1000.0 * start.elapsed().as_secs_f64() / evaluations as f64
}

/// GFLOP/s of independent fused multiply-adds on `threads` threads at once (the widest vectors
/// the CPU has), the best of three 0.2-second runs.
fn peak<F: Lanes>(threads: usize) -> f64 {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            let flops: f64 = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads).map(|_| s.spawn(F::fma_loop)).collect();
                handles.into_iter().map(|h| h.join().expect("a loop")).sum()
            });
            flops / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// A loop of fused multiply-adds, returning the flops it did.
trait Lanes {
    fn fma_loop() -> f64;
}

const ROUNDS: usize = 20_000_000;
/// Independent accumulators: enough to cover the FMA latency on two pipes.
const CHAINS: usize = 12;

macro_rules! fma_loops {
    ($t:ty, $m256:ident, $set256:ident, $fma256:ident, $m512:ident, $set512:ident, $fma512:ident, $lanes256:expr) => {
        impl Lanes for $t {
            fn fma_loop() -> f64 {
                #[cfg(target_arch = "x86_64")]
                {
                    use std::arch::x86_64::*;
                    #[target_feature(enable = "avx512f")]
                    unsafe fn wide(rounds: usize) -> $t {
                        let (a, b) = ($set512(0.999_999 as $t), $set512(1e-7 as $t));
                        let mut acc = [$set512(1.0 as $t); CHAINS];
                        for _ in 0..rounds {
                            for v in acc.iter_mut() {
                                *v = $fma512(*v, a, b);
                            }
                        }
                        let lanes: [[$t; 2 * $lanes256]; CHAINS] = std::mem::transmute(acc);
                        lanes.iter().flatten().sum()
                    }
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn narrow(rounds: usize) -> $t {
                        let (a, b) = ($set256(0.999_999 as $t), $set256(1e-7 as $t));
                        let mut acc = [$set256(1.0 as $t); CHAINS];
                        for _ in 0..rounds {
                            for v in acc.iter_mut() {
                                *v = $fma256(*v, a, b);
                            }
                        }
                        let lanes: [[$t; $lanes256]; CHAINS] = std::mem::transmute(acc);
                        lanes.iter().flatten().sum()
                    }
                    let rounds = ROUNDS / $lanes256;
                    let per_round = (2 * CHAINS) as f64;
                    if std::is_x86_feature_detected!("avx512f") {
                        // Safety: the CPU has the feature.
                        std::hint::black_box(unsafe { wide(rounds) });
                        return per_round * (2 * $lanes256 * rounds) as f64;
                    }
                    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
                    {
                        // Safety: the CPU has the features.
                        std::hint::black_box(unsafe { narrow(rounds) });
                        return per_round * ($lanes256 * rounds) as f64;
                    }
                }
                // Portable: scalar fused multiply-adds, as the compiler emits them.
                let mut acc = [1.0 as $t; CHAINS];
                let rounds = ROUNDS / 8;
                for _ in 0..rounds {
                    for v in acc.iter_mut() {
                        *v = std::hint::black_box(*v).mul_add(0.999_999, 1e-7);
                    }
                }
                std::hint::black_box(acc);
                (2 * CHAINS * rounds) as f64
            }
        }
    };
}

fma_loops!(
    f64,
    __m256d,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    __m512d,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    4
);
fma_loops!(
    f32,
    __m256,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    __m512,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    8
);
