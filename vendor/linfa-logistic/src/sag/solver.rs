//! Stochastic average gradient (SAG, Schmidt, Le Roux and Bach 2017) and SAGA (Defazio, Bach and
//! Lacoste-Julien 2014) for the multinomial model with l2, l1 (SAGA) or elastic-net (SAGA)
//! penalties, on dense rows, taking the
//! decisions scikit-learn's `sag` and `saga` solvers take (read in `sklearn/linear_model/_sag.py`
//! and `_sag_fast.pyx.tp`, scikit-learn 1.9):
//!
//! - the step size `1 / L` with `L = (max ||x_i||² + fit_intercept) / 4 + alpha / n` (SAGA:
//!   `1 / (2 L + min(2 alpha, L))`), the penalty `alpha / 2 ||W||²` divided by `n` as in SGD;
//! - samples drawn with replacement, `n` per epoch, by a 32-bit xorshift (shifts 13, 17, 5,
//!   modulo 2^31, then modulo `n`) from a given seed (scikit-learn derives it from
//!   `random_state`; the caller does);
//! - the weights kept as `scale * V`, the l2 decay applied to `scale`, and the average-gradient
//!   steps applied lazily through running sums of `step / (scale * seen)`, reset at the end of
//!   every epoch (and whenever `scale` falls below 1e-9): the same sums, so the same rounding;
//! - the intercept updated with the average of its gradients, not decayed;
//! - with SAGA and an l1 part, each lazy step followed by soft thresholding by the running sum of
//!   `step * beta / scale` over the same positions;
//! - stop after an epoch when the largest change of a weight over the largest weight is at most
//!   `tol`; the epoch count is `n_iter`.

use ndarray::{Array1, Array2};

use crate::evaluation::records::RowBlocks;
use crate::float::Float;

/// How a SAG or SAGA fit runs (checked by [`super::SagParams`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SagSettings<F> {
    /// SAGA instead of SAG.
    pub(crate) saga: bool,
    /// The l2 penalty `alpha / 2 ||W||²` on the summed loss (scikit-learn's
    /// `(1 - l1_ratio) / C`).
    pub(crate) alpha: F,
    /// The l1 penalty `beta ||W||_1` on the summed loss (scikit-learn's `l1_ratio / C`); SAGA
    /// only, by its proximal step (soft thresholding).
    pub(crate) beta: F,
    /// Stop when the largest weight change of an epoch over the largest weight is at most this.
    pub(crate) tol: F,
    /// Epochs at most.
    pub(crate) max_iter: u64,
    /// The sample generator's seed (not 0; 0 is taken as 1, as scikit-learn does).
    pub(crate) seed: u32,
    pub(crate) fit_intercept: bool,
}

/// A SAG or SAGA fit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SagFit<F> {
    /// Features x classes.
    pub(crate) weights: Array2<F>,
    pub(crate) intercept: Array1<F>,
    /// Epochs run (scikit-learn's `n_iter_`).
    pub(crate) n_iter: u64,
    /// Whether the stopping rule was met before `max_iter`.
    pub(crate) converged: bool,
}

/// The sample generator: 32-bit xorshift, values below 2^31.
struct Draws(u32);

impl Draws {
    fn next_below(&mut self, n: usize) -> usize {
        if self.0 == 0 {
            self.0 = 1;
        }
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        ((self.0 % (1u32 << 31)) as usize) % n
    }
}

/// Fits the multinomial model of `y` (class indices below `n_classes`) on the rows of `x`.
#[cfg(test)]
pub(crate) fn sag_multinomial<F: Float, X: RowBlocks<F>>(
    x: &X,
    y: &[usize],
    n_classes: usize,
    settings: &SagSettings<F>,
) -> SagFit<F> {
    let at = [settings.max_iter];
    let mut fits = sag_multinomial_at(x, y, n_classes, settings, &at, &mut |_| {});
    fits.pop().expect("one fit per epoch count asked")
}

/// As [`sag_multinomial`], returning the model as it stood after each epoch count in `at` (in
/// the order of `at`; counts above `settings.max_iter` or past convergence get the last model):
/// what a fit with `max_iter` equal to that count returns, since every epoch ends with all lazy
/// updates applied. `observer` is called after every epoch with the number done.
///
/// One function, as the published algorithm reads: its state (the weights' scale, the running
/// sums, the memory) is shared by every step, and splitting it would hide the order of the updates
/// the bit-exact agreement with scikit-learn depends on.
pub(crate) fn sag_multinomial_at<F: Float, X: RowBlocks<F> + ?Sized>(
    x: &X,
    y: &[usize],
    n_classes: usize,
    settings: &SagSettings<F>,
    at: &[u64],
    observer: &mut dyn FnMut(u64),
) -> Vec<SagFit<F>> {
    let (n, d, k) = (x.n_rows(), x.n_columns(), n_classes);
    let mut scratch = Vec::new();
    let max_squared = (0..n)
        .map(|i| {
            x.rows(i, i + 1, &mut scratch)
                .iter()
                .map(|&v| v * v)
                .sum::<F>()
        })
        .fold(F::zero(), F::max);
    let (zero, one, two) = (F::zero(), F::one(), F::cast(2.0));
    let n_float = F::cast(n);
    let alpha = settings.alpha / n_float;
    let beta = settings.beta / n_float;
    let prox = settings.saga && beta > zero;
    let intercept_term = if settings.fit_intercept { one } else { zero };
    let lipschitz = F::cast(0.25) * (max_squared + intercept_term) + alpha;
    let step = if settings.saga {
        one / (two * lipschitz + (two * n_float * alpha).min(lipschitz))
    } else {
        one / lipschitz
    };
    let decay = one - step * alpha;

    // V (weights = scale * V), features x classes row-major, and the averages' memory.
    let mut v = vec![zero; d * k];
    let mut previous = vec![zero; d * k];
    let mut sum_gradient = vec![zero; d * k];
    let mut memory = vec![zero; n * k];
    let mut intercept = vec![zero; k];
    let mut intercept_sum = vec![zero; k];
    let mut seen = vec![false; n];
    let mut n_seen = 0usize;
    let mut scale = one;
    // Running sums of step / (scale * seen) within an epoch; `last` is the position up to which
    // every weight has had them applied (0: none yet this epoch).
    let mut sums = vec![zero; n];
    // The same for `step * beta / scale`, the l1 shrinkage (SAGA with an l1 part only).
    let mut prox_sums = vec![zero; if prox { n } else { 0 }];
    let mut last = 0usize;
    let mut draws = Draws(settings.seed);
    let (mut prediction, mut gradient) = (vec![zero; k], vec![zero; k]);
    let mut nonzero: Vec<(usize, F)> = Vec::with_capacity(d);
    let mut dots = vec![zero; k];

    // Applies the pending average-gradient steps up to position `upto` (exclusive), each
    // followed by its l1 shrinkage when there is one (one position is pending at a time on dense
    // rows, so the step and the shrinkage are applied once each).
    let catch_up =
        |v: &mut [F], sums: &[F], prox_sums: &[F], sum_gradient: &[F], last: usize, upto: usize| {
            let since = |s: &[F]| {
                if last == 0 {
                    s[upto - 1]
                } else {
                    s[upto - 1] - s[last - 1]
                }
            };
            let pending = since(sums);
            if prox_sums.is_empty() {
                for (w, g) in v.iter_mut().zip(sum_gradient) {
                    *w -= pending * *g;
                }
            } else {
                let shrink = since(prox_sums);
                for (w, g) in v.iter_mut().zip(sum_gradient) {
                    *w -= pending * *g;
                    *w = (*w - shrink).max(zero) - (-*w - shrink).max(zero);
                }
            }
        };

    let mut n_iter = 0;
    let mut converged = false;
    let mut snapshots: Vec<Option<SagFit<F>>> = vec![None; at.len()];
    let snapshot = |v: &[F], intercept: &[F], n_iter: u64, converged: bool| SagFit {
        weights: Array2::from_shape_vec((d, k), v.to_vec()).expect("features x classes"),
        intercept: Array1::from(intercept.to_vec()),
        n_iter,
        converged,
    };
    while n_iter < settings.max_iter {
        for t in 0..n {
            let i = draws.next_below(n);
            if !seen[i] {
                seen[i] = true;
                n_seen += 1;
            }
            if t > 0 {
                catch_up(&mut v, &sums, &prox_sums, &sum_gradient, last, t);
                last = t;
            }
            let row = x.rows(i, i + 1, &mut scratch);
            let row = row.as_slice().expect("one contiguous row");
            // A zero feature adds nothing to a sum or a gradient: only the others are visited
            // (each class's sum still runs over the features in order).
            nonzero.clear();
            nonzero.extend(
                row.iter()
                    .enumerate()
                    .filter(|(_, &xj)| xj != zero)
                    .map(|(j, &xj)| (j, xj)),
            );
            dots.iter_mut().for_each(|d| *d = zero);
            for &(j, xj) in &nonzero {
                for (dot, w) in dots.iter_mut().zip(&v[j * k..(j + 1) * k]) {
                    *dot += *w * xj;
                }
            }
            for (c, p) in prediction.iter_mut().enumerate() {
                *p = scale * dots[c] + intercept[c];
            }
            let max = prediction.iter().copied().fold(F::neg_infinity(), F::max);
            let exps: Vec<F> = prediction.iter().map(|&p| (p - max).exp()).collect();
            let total: F = exps.iter().copied().sum();
            for (c, g) in gradient.iter_mut().enumerate() {
                *g = exps[c] / total - if y[i] == c { one } else { zero };
            }
            scale *= decay;
            let memory_i = &mut memory[i * k..(i + 1) * k];
            for &(j, xj) in &nonzero {
                for c in 0..k {
                    let correction = xj * (gradient[c] - memory_i[c]);
                    if settings.saga {
                        v[j * k + c] -= correction * step * (one - one / F::cast(n_seen)) / scale;
                    }
                    sum_gradient[j * k + c] += correction;
                }
            }
            if settings.fit_intercept {
                for c in 0..k {
                    let correction = gradient[c] - memory_i[c];
                    intercept_sum[c] += correction;
                    let average = step * intercept_sum[c] / F::cast(n_seen);
                    intercept[c] -= if settings.saga {
                        average + correction * step * (one - one / F::cast(n_seen))
                    } else {
                        average
                    };
                }
            }
            memory_i.copy_from_slice(&gradient);
            let increment = step / (scale * F::cast(n_seen));
            sums[t] = if t == 0 {
                increment
            } else {
                sums[t - 1] + increment
            };
            if prox {
                let shrink = step * beta / scale;
                prox_sums[t] = if t == 0 {
                    shrink
                } else {
                    prox_sums[t - 1] + shrink
                };
            }
            if scale < F::cast(1e-9) {
                catch_up(&mut v, &sums, &prox_sums, &sum_gradient, last, t + 1);
                v.iter_mut().for_each(|w| *w *= scale);
                scale = one;
                sums[t] = zero;
                if prox {
                    prox_sums[t] = zero;
                }
                last = t + 1;
            }
        }
        // End of the epoch: every pending step, then the scale folded into the weights.
        catch_up(&mut v, &sums, &prox_sums, &sum_gradient, last, n);
        v.iter_mut().for_each(|w| *w *= scale);
        scale = one;
        sums[n - 1] = zero;
        if prox {
            prox_sums[n - 1] = zero;
        }
        last = 0;
        n_iter += 1;
        let (mut max_weight, mut max_change) = (zero, zero);
        for (w, p) in v.iter().zip(previous.iter_mut()) {
            max_weight = max_weight.max(w.abs());
            max_change = max_change.max((*w - *p).abs());
            *p = *w;
        }
        converged = (max_weight != zero && max_change / max_weight <= settings.tol)
            || (max_weight == zero && max_change == zero);
        observer(n_iter);
        for (slot, _) in snapshots
            .iter_mut()
            .zip(at)
            .filter(|(_, &count)| count == n_iter)
        {
            *slot = Some(snapshot(&v, &intercept, n_iter, converged));
        }
        if converged {
            break;
        }
    }
    snapshots
        .into_iter()
        .map(|s| s.unwrap_or_else(|| snapshot(&v, &intercept, n_iter, converged)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generator's first values from seed 1, worked by hand: 1 -> 270369 -> 67634689 ...
    #[test]
    fn draws_follow_the_xorshift() {
        let mut d = Draws(1);
        let mut state = 1u32;
        for _ in 0..5 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            assert_eq!(
                d.next_below(1 << 30),
                ((state % (1 << 31)) % (1 << 30)) as usize
            );
        }
        let mut d = Draws(1);
        assert_eq!(d.next_below(usize::MAX), 270_369);
        assert_eq!(Draws(0).next_below(usize::MAX), 270_369);
    }

    /// The model kept after `t` epochs of a longer fit is, to the bit, what a fit with
    /// `max_iter = t` returns; counts past convergence get the converged model.
    #[test]
    fn snapshots_equal_separate_fits() {
        let x =
            ndarray::Array2::from_shape_fn((30, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 10.0);
        let y: Vec<usize> = (0..30).map(|i| i % 3).collect();
        for saga in [false, true] {
            let settings = |max_iter| SagSettings {
                saga,
                alpha: 0.1,
                beta: if saga { 0.05 } else { 0.0 },
                tol: 1e-12,
                max_iter,
                seed: 11,
                fit_intercept: true,
            };
            let mut epochs = Vec::new();
            let at = [7, 2, 20];
            let kept = sag_multinomial_at(&x, &y, 3, &settings(20), &at, &mut |e| epochs.push(e));
            assert_eq!(epochs, (1..=20).collect::<Vec<u64>>());
            for (fit, &count) in kept.iter().zip(&at) {
                assert_eq!(
                    *fit,
                    sag_multinomial(&x, &y, 3, &settings(count)),
                    "{count}"
                );
            }
            let converged = sag_multinomial(
                &x,
                &y,
                3,
                &SagSettings {
                    tol: 0.5,
                    ..settings(50)
                },
            );
            assert!(converged.converged && converged.n_iter < 40);
            let past = sag_multinomial_at(
                &x,
                &y,
                3,
                &SagSettings {
                    tol: 0.5,
                    ..settings(50)
                },
                &[40],
                &mut |_| {},
            );
            assert_eq!(past[0], converged);
        }
    }

    /// Two separable classes: the fit converges and classifies every point.
    #[test]
    fn sag_and_saga_converge_on_a_separable_problem() {
        let x = ndarray::Array2::from_shape_fn((40, 2), |(i, j)| {
            let side = if i % 2 == 0 { 1.0 } else { -1.0 };
            side * (1.0 + (i as f64 * 0.1 + j as f64).sin().abs())
        });
        let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
        for saga in [false, true] {
            let fit = sag_multinomial(
                &x,
                &y,
                2,
                &SagSettings {
                    saga,
                    alpha: 1.0,
                    beta: 0.0,
                    tol: 1e-4,
                    max_iter: 1000,
                    seed: 7,
                    fit_intercept: true,
                },
            );
            assert!(fit.converged, "saga {saga}: {} epochs", fit.n_iter);
            for (row, &label) in x.rows().into_iter().zip(&y) {
                let z: Vec<f64> = (0..2)
                    .map(|c| row.dot(&fit.weights.column(c)) + fit.intercept[c])
                    .collect();
                assert_eq!(usize::from(z[1] > z[0]), label);
            }
        }
    }
}
