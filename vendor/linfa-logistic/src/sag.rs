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

use crate::records::RowBlocks;

/// How a SAG or SAGA fit runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SagSettings {
    /// SAGA instead of SAG.
    pub saga: bool,
    /// The l2 penalty `alpha / 2 ||W||²` on the summed loss (scikit-learn's
    /// `(1 - l1_ratio) / C`).
    pub alpha: f64,
    /// The l1 penalty `beta ||W||_1` on the summed loss (scikit-learn's `l1_ratio / C`); SAGA
    /// only, by its proximal step (soft thresholding).
    pub beta: f64,
    /// Stop when the largest weight change of an epoch over the largest weight is at most this.
    pub tol: f64,
    /// Epochs at most.
    pub max_iter: u64,
    /// The sample generator's seed (not 0; 0 is taken as 1, as scikit-learn does).
    pub seed: u32,
    pub fit_intercept: bool,
}

/// A SAG or SAGA fit.
#[derive(Debug, Clone, PartialEq)]
pub struct SagFit {
    /// Features x classes.
    pub weights: Array2<f64>,
    pub intercept: Array1<f64>,
    /// Epochs run (scikit-learn's `n_iter_`).
    pub n_iter: u64,
    /// Whether the stopping rule was met before `max_iter`.
    pub converged: bool,
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
pub fn sag_multinomial<X: RowBlocks<f64>>(
    x: &X,
    y: &[usize],
    n_classes: usize,
    settings: &SagSettings,
) -> SagFit {
    let at = [settings.max_iter];
    let mut fits = sag_multinomial_at(x, y, n_classes, settings, &at, &mut |_| {});
    fits.pop().expect("one fit per epoch count asked")
}

/// As [`sag_multinomial`], returning the model as it stood after each epoch count in `at` (in
/// the order of `at`; counts above `settings.max_iter` or past convergence get the last model):
/// what a fit with `max_iter` equal to that count returns, since every epoch ends with all lazy
/// updates applied. `observer` is called after every epoch with the number done.
pub fn sag_multinomial_at<X: RowBlocks<f64>>(
    x: &X,
    y: &[usize],
    n_classes: usize,
    settings: &SagSettings,
    at: &[u64],
    observer: &mut dyn FnMut(u64),
) -> Vec<SagFit> {
    let (n, d, k) = (x.n_rows(), x.n_columns(), n_classes);
    let mut scratch = Vec::new();
    let max_squared = (0..n)
        .map(|i| {
            x.rows(i, i + 1, &mut scratch)
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let alpha = settings.alpha / n as f64;
    let beta = settings.beta / n as f64;
    let prox = settings.saga && beta > 0.0;
    let lipschitz = 0.25 * (max_squared + f64::from(u8::from(settings.fit_intercept))) + alpha;
    let step = if settings.saga {
        1.0 / (2.0 * lipschitz + (2.0 * n as f64 * alpha).min(lipschitz))
    } else {
        1.0 / lipschitz
    };
    let decay = 1.0 - step * alpha;

    // V (weights = scale * V), features x classes row-major, and the averages' memory.
    let mut v = vec![0.0f64; d * k];
    let mut previous = vec![0.0f64; d * k];
    let mut sum_gradient = vec![0.0f64; d * k];
    let mut memory = vec![0.0f64; n * k];
    let mut intercept = vec![0.0f64; k];
    let mut intercept_sum = vec![0.0f64; k];
    let mut seen = vec![false; n];
    let mut n_seen = 0usize;
    let mut scale = 1.0f64;
    // Running sums of step / (scale * seen) within an epoch; `last` is the position up to which
    // every weight has had them applied (0: none yet this epoch).
    let mut sums = vec![0.0f64; n];
    // The same for `step * beta / scale`, the l1 shrinkage (SAGA with an l1 part only).
    let mut prox_sums = vec![0.0f64; if prox { n } else { 0 }];
    let mut last = 0usize;
    let mut draws = Draws(settings.seed);
    let (mut prediction, mut gradient) = (vec![0.0; k], vec![0.0; k]);
    let mut nonzero: Vec<(usize, f64)> = Vec::with_capacity(d);
    let mut dots = vec![0.0f64; k];

    // Applies the pending average-gradient steps up to position `upto` (exclusive), each
    // followed by its l1 shrinkage when there is one (one position is pending at a time on dense
    // rows, so the step and the shrinkage are applied once each).
    let catch_up = |v: &mut [f64],
                    sums: &[f64],
                    prox_sums: &[f64],
                    sum_gradient: &[f64],
                    last: usize,
                    upto: usize| {
        let since = |s: &[f64]| {
            if last == 0 {
                s[upto - 1]
            } else {
                s[upto - 1] - s[last - 1]
            }
        };
        let pending = since(sums);
        if prox_sums.is_empty() {
            for (w, g) in v.iter_mut().zip(sum_gradient) {
                *w -= pending * g;
            }
        } else {
            let shrink = since(prox_sums);
            for (w, g) in v.iter_mut().zip(sum_gradient) {
                *w -= pending * g;
                *w = (*w - shrink).max(0.0) - (-*w - shrink).max(0.0);
            }
        }
    };

    let mut n_iter = 0;
    let mut converged = false;
    let mut snapshots: Vec<Option<SagFit>> = vec![None; at.len()];
    let snapshot = |v: &[f64], intercept: &[f64], n_iter: u64, converged: bool| SagFit {
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
                    .filter(|(_, &xj)| xj != 0.0)
                    .map(|(j, &xj)| (j, xj)),
            );
            dots.iter_mut().for_each(|d| *d = 0.0);
            for &(j, xj) in &nonzero {
                for (dot, w) in dots.iter_mut().zip(&v[j * k..(j + 1) * k]) {
                    *dot += w * xj;
                }
            }
            for (c, p) in prediction.iter_mut().enumerate() {
                *p = scale * dots[c] + intercept[c];
            }
            let max = prediction.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = prediction.iter().map(|p| (p - max).exp()).collect();
            let total: f64 = exps.iter().sum();
            for (c, g) in gradient.iter_mut().enumerate() {
                *g = exps[c] / total - f64::from(u8::from(y[i] == c));
            }
            scale *= decay;
            let memory_i = &mut memory[i * k..(i + 1) * k];
            for &(j, xj) in &nonzero {
                for c in 0..k {
                    let correction = xj * (gradient[c] - memory_i[c]);
                    if settings.saga {
                        v[j * k + c] -= correction * step * (1.0 - 1.0 / n_seen as f64) / scale;
                    }
                    sum_gradient[j * k + c] += correction;
                }
            }
            if settings.fit_intercept {
                for c in 0..k {
                    let correction = gradient[c] - memory_i[c];
                    intercept_sum[c] += correction;
                    let average = step * intercept_sum[c] / n_seen as f64;
                    intercept[c] -= if settings.saga {
                        average + correction * step * (1.0 - 1.0 / n_seen as f64)
                    } else {
                        average
                    };
                }
            }
            memory_i.copy_from_slice(&gradient);
            let increment = step / (scale * n_seen as f64);
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
            if scale < 1e-9 {
                catch_up(&mut v, &sums, &prox_sums, &sum_gradient, last, t + 1);
                v.iter_mut().for_each(|w| *w *= scale);
                scale = 1.0;
                sums[t] = 0.0;
                if prox {
                    prox_sums[t] = 0.0;
                }
                last = t + 1;
            }
        }
        // End of the epoch: every pending step, then the scale folded into the weights.
        catch_up(&mut v, &sums, &prox_sums, &sum_gradient, last, n);
        v.iter_mut().for_each(|w| *w *= scale);
        scale = 1.0;
        sums[n - 1] = 0.0;
        if prox {
            prox_sums[n - 1] = 0.0;
        }
        last = 0;
        n_iter += 1;
        let (mut max_weight, mut max_change) = (0.0f64, 0.0f64);
        for (w, p) in v.iter().zip(previous.iter_mut()) {
            max_weight = max_weight.max(w.abs());
            max_change = max_change.max((w - *p).abs());
            *p = *w;
        }
        converged = (max_weight != 0.0 && max_change / max_weight <= settings.tol)
            || (max_weight == 0.0 && max_change == 0.0);
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
        let x = Array2::from_shape_fn((30, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 10.0);
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
        let x = Array2::from_shape_fn((40, 2), |(i, j)| {
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
