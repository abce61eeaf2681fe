//! Loss and gradient of the logistic objectives, computed together in one pass over the data.
//!
//! linfa-logistic 0.8.1 recomputed `X·W` for the cost and for the gradient, and twice for the
//! multinomial gradient: about five passes over `X` per L-BFGS iteration. Here one evaluation
//! computes both.
//!
//! An evaluation walks the rows in chunks of [`CHUNK_ROWS`], in parallel on rayon's thread pool
//! (`RAYON_NUM_THREADS` or a pool the caller installs). Inside a chunk, blocks of 64 rows are
//! handled while they are in cache: their logits, the softmax (or sigmoid) residuals,
//! and their share of `Xᵀ·R`. So `X` is read about once per evaluation. The chunks' partial sums
//! are added in chunk order, so the result does not depend on the number of threads, and the
//! same fit gives the same bits on any machine with the same instruction set.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rayon::prelude::*;

use crate::evaluation::kernels::{self, GradientSum, Tiled};
use crate::evaluation::records::RowBlocks;
use crate::float::Float;

/// Rows per parallel task. Fixed (not derived from the thread count) so that the summation order,
/// and so every bit of the result, is the same on 1 or 64 threads.
pub(crate) const CHUNK_ROWS: usize = 1024;

/// Rows handled at once inside a chunk: a block of `X` (400 KiB in f64 for 784 features) stays
/// in a core's L2 cache between its logits and its share of the gradient. Measured on an
/// MNIST-sized problem on 2 cores (PATCHES.md): 16 to 128 rows within noise of each other, 256
/// slower in both f64 and f32.
const BLOCK_ROWS: usize = 64;

/// Splits `n` rows into the fixed chunks, runs `chunk` on each in parallel and returns the results
/// in row order.
fn map_chunks<T: Send>(n: usize, chunk: impl Fn(usize, usize) -> T + Sync + Send) -> Vec<T> {
    let starts: Vec<usize> = (0..n).step_by(CHUNK_ROWS).collect();
    starts
        .into_par_iter()
        .map(|start| chunk(start, (start + CHUNK_ROWS).min(n)))
        .collect()
}

/// Loss and gradient of the multinomial objective
/// `-sum(Y * log(softmax(X·W + b))) + alpha/2 * ||W||²` (the intercept row of `w`, if any, is
/// not penalised). `y` is one-hot (samples x classes); `w` is features (+ 1 with an intercept) x
/// classes.
pub(crate) fn multi_loss_grad<F: Float, X: RowBlocks<F> + ?Sized>(
    x: &X,
    y: ArrayView2<F>,
    alpha: F,
    w: &Array2<F>,
) -> (F, Array2<F>) {
    let (n, d) = (x.n_rows(), x.n_columns());
    let k = w.ncols();
    let params = w.slice(s![..d, ..]);
    let intercept = (w.nrows() > d).then(|| w.row(d));
    // A folded map (rows (x - o) * f of stored x, `RowBlocks::fold`): the products run on x with
    // the weights f W, the logits shifted by -o · (f W), and the gradient is
    // f (xᵀ R - o ΣR) (ΣR: the residuals' column sums, the intercept's gradient).
    let fold = x.fold();
    let folded = fold.as_ref().map(|(offsets, factors)| {
        let fw = &params * &ArrayView1::from(&factors[..]).insert_axis(Axis(1));
        let shift = ArrayView1::from(*offsets).dot(&fw);
        (fw, shift)
    });
    let tiled = Tiled::from_array(folded.as_ref().map_or(params, |(fw, _)| fw.view()));

    let sparse_capable = x.sparse_capable();
    let partials = map_chunks(n, |start, end| {
        let mut loss = F::zero();
        let mut grad_w = if sparse_capable {
            GradientSum::tiled(d, k)
        } else {
            GradientSum::zeros(d, k)
        };
        let mut grad_b = Array1::<F>::zeros(k);
        let mut logits = Array2::<F>::zeros((BLOCK_ROWS, k));
        let (mut scratch, mut values) = (Vec::new(), Vec::new());
        for b0 in (start..end).step_by(BLOCK_ROWS) {
            let b1 = (b0 + BLOCK_ROWS).min(end);
            let mut h = logits.slice_mut(s![..b1 - b0, ..]);
            // The non-zeros only where the storage keeps them (sparse.rs: the same bits).
            let sparse = x.sparse_rows(b0, b1, &mut values);
            let xb = match &sparse {
                Some(block) => {
                    block.logits(&tiled, h.as_slice_mut().expect("row-major logits"));
                    None
                }
                None => {
                    let xb = x.stored_rows(b0, b1, &mut scratch);
                    kernels::logits(xb.view(), &tiled, h.view_mut());
                    Some(xb)
                }
            };
            Zip::from(h.rows_mut())
                .and(y.slice(s![b0..b1, ..]).rows())
                .for_each(|mut row, target| {
                    if let Some((_, shift)) = &folded {
                        row -= shift;
                    }
                    if let Some(b) = intercept {
                        row += &b;
                    }
                    // Row-wise log-sum-exp: the row's own maximum keeps the sum >= 1.
                    let max = row.iter().copied().fold(F::neg_infinity(), F::max);
                    let lse = max + row.iter().map(|&v| (v - max).exp()).sum::<F>().ln();
                    Zip::from(&mut row).and(&target).for_each(|h, &t| {
                        let log_prob = *h - lse;
                        loss -= t * log_prob;
                        // Residual softmax(h) - y, the gradient of the loss with respect to h.
                        *h = log_prob.exp() - t;
                    });
                });
            match (&sparse, xb, &mut grad_w) {
                (Some(block), _, GradientSum::Tiled(g)) => {
                    block.gradient(h.as_slice().expect("row-major residuals"), g)
                }
                (_, Some(xb), grad_w) => kernels::accumulate_gradient(xb, h.view(), grad_w),
                _ => unreachable!("a sparse block adds into the tiled gradient"),
            }
            grad_b += &h.sum_axis(Axis(0));
        }
        (loss, grad_w.to_array(), grad_b)
    });

    let mut loss = F::zero();
    let mut grad = Array2::<F>::zeros(w.raw_dim());
    let mut residual_sums = Array1::<F>::zeros(k);
    for (chunk_loss, grad_w, grad_b) in partials {
        loss += chunk_loss;
        let mut gw = grad.slice_mut(s![..d, ..]);
        gw += &grad_w;
        residual_sums += &grad_b;
    }
    if intercept.is_some() {
        grad.row_mut(d).assign(&residual_sums);
    }
    let mut gw = grad.slice_mut(s![..d, ..]);
    if let Some((offsets, factors)) = &fold {
        Zip::from(gw.rows_mut())
            .and(*offsets)
            .and(factors)
            .for_each(|mut g, &o, &f| {
                Zip::from(&mut g)
                    .and(&residual_sums)
                    .for_each(|g, &r| *g = (*g - o * r) * f);
            });
    }
    gw.scaled_add(alpha, &params);
    let penalty = F::cast(0.5) * alpha * params.iter().map(|&p| p * p).sum::<F>();
    (loss + penalty, grad)
}

/// Loss and gradient of the binary objective `-sum(log(sigmoid(y · (X·w + b)))) + alpha/2 ||w||²`
/// with labels `y` in {-1, 1}; `w` holds the weights and, last, the intercept if there is one.
pub(crate) fn binary_loss_grad<F: Float, X: RowBlocks<F> + ?Sized>(
    x: &X,
    y: ArrayView1<F>,
    alpha: F,
    w: &Array1<F>,
) -> (F, Array1<F>) {
    let (n, d) = (x.n_rows(), x.n_columns());
    let params = w.slice(s![..d]);
    let intercept = if w.len() > d { w[d] } else { F::zero() };

    let partials = map_chunks(n, |start, end| {
        let mut loss = F::zero();
        let mut grad_w = Array1::<F>::zeros(d);
        let mut grad_b = F::zero();
        let mut scratch = Vec::new();
        for b0 in (start..end).step_by(BLOCK_ROWS) {
            let b1 = (b0 + BLOCK_ROWS).min(end);
            let xb = x.rows(b0, b1, &mut scratch);
            // One row at a time: its decision value, then its share of Xᵀ·r while in cache.
            for (row, &yi) in xb.rows().into_iter().zip(y.slice(s![b0..b1])) {
                let yz = yi * (row.dot(&params) + intercept);
                loss -= log_logistic(yz);
                // d/dz of -log(sigmoid(y z)) is (sigmoid(y z) - 1) y.
                let r = (logistic(yz) - F::one()) * yi;
                grad_w.scaled_add(r, &row);
                grad_b += r;
            }
        }
        (loss, grad_w, grad_b)
    });

    let mut loss = F::zero();
    let mut grad = Array1::<F>::zeros(w.len());
    for (chunk_loss, grad_w, grad_b) in partials {
        loss += chunk_loss;
        let mut gw = grad.slice_mut(s![..d]);
        gw += &grad_w;
        if w.len() > d {
            grad[d] += grad_b;
        }
    }
    let mut gw = grad.slice_mut(s![..d]);
    gw.scaled_add(alpha, &params);
    let penalty = F::cast(0.5) * alpha * params.dot(&params);
    (loss + penalty, grad)
}

/// The logistic function
pub(crate) fn logistic<F: linfa::Float>(x: F) -> F {
    F::one() / (F::one() + (-x).exp())
}

/// A numerically stable version of the log of the logistic function.
///
/// Taken from scikit-learn
/// https://github.com/scikit-learn/scikit-learn/blob/0.23.1/sklearn/utils/_logistic_sigmoid.pyx
pub(crate) fn log_logistic<F: linfa::Float>(x: F) -> F {
    if x > F::zero() {
        -(F::one() + (-x).exp()).ln()
    } else {
        x - (F::one() + x.exp()).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array, Array2, Dimension};

    /// A deterministic, non-trivial problem: `n` samples, `d` features, `k` classes.
    fn problem(n: usize, d: usize, k: usize) -> (Array2<f64>, Array2<f64>, Array1<f64>) {
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            (((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.4) * (1.0 + j as f64 * 0.1)
        });
        let mut y = Array2::zeros((n, k));
        let mut yb = Array1::zeros(n);
        for i in 0..n {
            y[[i, (i * 7 + i / 3) % k]] = 1.0;
            yb[i] = if (i * 5 + i / 2) % 3 == 0 { 1.0 } else { -1.0 };
        }
        (x, y, yb)
    }

    fn weights(rows: usize, k: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, k), |(i, j)| {
            ((i * 3 + j * 5) % 7) as f64 / 7.0 - 0.45
        })
    }

    /// Central finite differences of `f` at `w`, component by component.
    fn finite_differences<D: Dimension>(
        w: &Array<f64, D>,
        f: impl Fn(&Array<f64, D>) -> f64,
    ) -> Array<f64, D> {
        let h = 1e-6;
        let mut grad = w.clone();
        for i in 0..w.len() {
            let (mut plus, mut minus) = (w.clone(), w.clone());
            plus.as_slice_mut().unwrap()[i] += h;
            minus.as_slice_mut().unwrap()[i] -= h;
            grad.as_slice_mut().unwrap()[i] = (f(&plus) - f(&minus)) / (2.0 * h);
        }
        grad
    }

    #[test]
    fn multinomial_gradient_matches_finite_differences() {
        // More rows than one chunk, so the chunked sum is exercised.
        let (x, y, _) = problem(CHUNK_ROWS + 300, 6, 4);
        for rows in [6, 7] {
            let w = weights(rows, 4);
            let (_, grad) = multi_loss_grad(&x, y.view(), 0.3, &w);
            let fd = finite_differences(&w, |w| multi_loss_grad(&x, y.view(), 0.3, w).0);
            assert_abs_diff_eq!(grad, fd, epsilon = 1e-4);
        }
    }

    #[test]
    fn binary_gradient_matches_finite_differences() {
        let (x, _, y) = problem(CHUNK_ROWS + 300, 6, 2);
        for len in [6, 7] {
            let w = Array1::from_shape_fn(len, |i| (i as f64 * 0.37).sin());
            let (_, grad) = binary_loss_grad(&x, y.view(), 0.3, &w);
            let fd = finite_differences(&w, |w| binary_loss_grad(&x, y.view(), 0.3, w).0);
            assert_abs_diff_eq!(grad, fd, epsilon = 1e-4);
        }
    }

    /// The fused pass gives what the separate reference functions of linfa-logistic 0.8.1 give.
    #[test]
    fn fused_pass_equals_the_reference_cost_and_gradient() {
        let (x, y, yb) = problem(2 * CHUNK_ROWS + 17, 5, 3);
        let w = weights(6, 3);
        let (cost, grad) = multi_loss_grad(&x, y.view(), 0.7, &w);
        assert_abs_diff_eq!(
            cost,
            crate::tests::reference::multi_logistic_loss(&x, &y, 0.7, &w),
            epsilon = 1e-9
        );
        assert_abs_diff_eq!(
            grad,
            crate::tests::reference::multi_logistic_grad(&x, &y, 0.7, &w),
            epsilon = 1e-9
        );
        let wb = w.column(0).to_owned();
        let (cost, grad) = binary_loss_grad(&x, yb.view(), 0.7, &wb);
        assert_abs_diff_eq!(
            cost,
            crate::tests::reference::logistic_loss(&x, &yb, 0.7, &wb),
            epsilon = 1e-9
        );
        assert_abs_diff_eq!(
            grad,
            crate::tests::reference::logistic_grad(&x, &yb, 0.7, &wb),
            epsilon = 1e-9
        );
    }

    /// The result is the same, bit for bit, on any number of threads.
    #[test]
    fn evaluation_does_not_depend_on_the_thread_count() {
        let (x, y, _) = problem(5 * CHUNK_ROWS + 3, 9, 5);
        let w = weights(10, 5);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| multi_loss_grad(&x, y.view(), 0.1, &w))
        };
        let one = on(1);
        for threads in [2, 3, 8] {
            let other = on(threads);
            assert_eq!(one.0.to_bits(), other.0.to_bits());
            assert_eq!(one.1, other.1);
        }
    }

    /// Logits far apart across rows: each row's loss stays exact (no global shift).
    #[test]
    fn rows_far_below_the_maximum_keep_an_exact_loss() {
        let x = array![[1.0], [-1.0]];
        let y = array![[1.0, 0.0], [1.0, 0.0]];
        let w = array![[100.0, 0.0]];
        let (cost, _) = multi_loss_grad(&x, y.view(), 0.0, &w);
        assert_abs_diff_eq!(cost, 100.0 + 2.0 * (-100f64).exp().ln_1p(), epsilon = 1e-9);
    }
}
