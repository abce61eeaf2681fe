//! L-BFGS-B on an unbounded problem, taking the decisions scipy's L-BFGS-B (version 3.0) takes,
//! so that a fit follows scikit-learn's `lbfgs` path iterate for iterate.
//!
//! The algorithm is Byrd, Lu, Nocedal and Zhu, "A limited memory algorithm for bound constrained
//! optimization" (SIAM J. Sci. Comput. 16(5), 1995), with Morales and Nocedal's remark (ACM TOMS
//! 38(1), 2011) and Moré and Thuente's line search ([`crate::optim::line_search`]). Without bounds the
//! generalised Cauchy point is `x - g / theta` and the subspace minimisation is the whole
//! quasi-Newton step `-H g`; here `H g` comes from the two-loop recursion (Nocedal, 1980) with
//! `H0 = I / theta`, the same matrix as L-BFGS-B's compact form. The decisions that shape the
//! path, each as L-BFGS-B takes it:
//!
//! - the first direction is `-g` and its first trial step `min(1 / ||g||, STEP_MAX)`; every later
//!   line search starts at step 1, including a steepest-descent restart;
//! - a trial point is the direction's end point `z` itself at step 1, else `x + stp * d`;
//! - the line search ([`crate::optim::line_search`]) with `ftol` 1e-3, `gtol` 0.9, `xtol` 0.1,
//!   `stpmin` 0 and `stpmax` [`STEP_MAX`], at most `max_ls` evaluations (scikit-learn passes 50);
//! - a failed line search (no descent, or `max_ls` trials) restores the last iterate and, if the
//!   memory holds pairs, empties it and tries steepest descent; with an empty memory the fit
//!   stops (scipy's "ABNORMAL_TERMINATION_IN_LNSRCH");
//! - after an accepted step, the stopping tests in scipy's order: the iteration limit, then the
//!   evaluation limit (both in scipy's Python driver), then the largest gradient component
//!   (`pgtol`, scikit-learn's `tol`), then the relative reduction
//!   `(f_old - f) / max(|f_old|, |f|, 1) <= factr * eps` (scikit-learn passes `ftol = 64 eps`,
//!   so `factr = 64`);
//! - the correction pair `s = stp d`, `y = g_new - g_old`, with `s'y` formed as
//!   `(g_new'd - g_old'd) stp` and skipped when `s'y <= eps * (-g_old'd) stp`;
//!   `theta = y'y / s'y` of the newest pair; at most `m` pairs (scikit-learn: 10);
//! - the fit returns the last iterate, not the lowest point seen; `n_iter` counts accepted steps.

use std::collections::VecDeque;

use crate::optim::line_search::{MoreThuente, Next};

/// The largest step a line search may take on an unbounded problem (L-BFGS-B's `stpmx`).
pub(crate) const STEP_MAX: f64 = 1e10;
/// Machine epsilon as L-BFGS-B uses it (double precision).
const EPS: f64 = f64::EPSILON;

/// The function to minimise: value and gradient at a point.
pub(crate) type Objective<'a> = dyn FnMut(&[f64]) -> (f64, Vec<f64>) + 'a;

/// When the gradient is small enough to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum GradientRule {
    /// The largest absolute component is at most this (L-BFGS-B's `pgtol`).
    MaxAbs(f64),
    /// The Euclidean norm is below this (linfa-logistic 0.8.1's rule, through argmin).
    L2(f64),
}

impl GradientRule {
    pub(crate) fn met(&self, g: &[f64]) -> bool {
        match *self {
            GradientRule::MaxAbs(tol) => max_abs(g) <= tol,
            GradientRule::L2(tol) => dot(g, g).sqrt() < tol,
        }
    }
}

/// What a minimisation may do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// Correction pairs kept (`maxcor`, scikit-learn: 10).
    pub(crate) memory: usize,
    /// Accepted steps allowed (`maxiter`).
    pub(crate) max_iter: u64,
    /// Evaluations after which the next accepted step ends the fit (`maxfun`, scipy: 15,000).
    pub(crate) max_fun: u64,
    /// Evaluations allowed in one line search (`maxls`, scikit-learn: 50).
    pub(crate) max_ls: u64,
    /// The relative-reduction test's factor of machine epsilon (`factr`, scikit-learn: 64).
    pub(crate) factr: f64,
    pub(crate) gradient: GradientRule,
}

impl Settings {
    /// scikit-learn's settings for `LogisticRegression(solver="lbfgs")`.
    pub(crate) fn scikit_learn(max_iter: u64, gradient: GradientRule) -> Self {
        Settings {
            memory: 10,
            max_iter,
            max_fun: 15_000,
            max_ls: 50,
            factr: 64.0,
            gradient,
        }
    }
}

/// Why a minimisation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The gradient rule was met (scipy: "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL").
    Gradient,
    /// The relative reduction of `f` was at most `factr * eps` (scipy: "CONVERGENCE:
    /// REL_REDUCTION_OF_F_<=_FACTR*EPSMCH").
    RelativeReduction,
    /// `max_iter` steps were taken.
    MaxIterations,
    /// More than `max_fun` evaluations were made.
    MaxEvaluations,
    /// A line search failed with an empty memory (scipy: "ABNORMAL_TERMINATION_IN_LNSRCH").
    LineSearch,
    /// The objective or its gradient stopped being finite (gradient descent, `gd.rs`: a
    /// learning rate too large).
    NotFinite,
}

/// An iterate as the minimisation reports it.
pub(crate) struct Iterate<'a> {
    /// Accepted steps so far (0: the starting point).
    pub(crate) iteration: u64,
    pub(crate) x: &'a [f64],
    pub(crate) f: f64,
    pub(crate) g: &'a [f64],
    /// Evaluations so far.
    pub(crate) evaluations: u64,
}

/// The end of a minimisation: the last iterate, with its value and gradient.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) x: Vec<f64>,
    pub(crate) f: f64,
    pub(crate) g: Vec<f64>,
    pub(crate) iterations: u64,
    pub(crate) evaluations: u64,
    pub(crate) stop: Stop,
}

/// One correction pair with its curvature `s'y` as L-BFGS-B forms it.
struct Pair {
    s: Vec<f64>,
    y: Vec<f64>,
    sy: f64,
}

/// The limited memory: the newest `m` pairs and `theta = y'y / s'y` of the newest update.
struct Memory {
    pairs: VecDeque<Pair>,
    capacity: usize,
    theta: f64,
}

impl Memory {
    fn new(capacity: usize) -> Self {
        Memory {
            pairs: VecDeque::with_capacity(capacity + 1),
            capacity,
            theta: 1.0,
        }
    }

    fn reset(&mut self) {
        self.pairs.clear();
        self.theta = 1.0;
    }

    fn push(&mut self, pair: Pair, yy: f64) {
        self.theta = yy / pair.sy;
        self.pairs.push_back(pair);
        if self.pairs.len() > self.capacity {
            self.pairs.pop_front();
        }
    }

    /// The quasi-Newton step `-H g` by the two-loop recursion, `H0 = I / theta`.
    fn step(&self, g: &[f64]) -> Vec<f64> {
        let mut q = g.to_vec();
        let mut alpha = vec![0.0; self.pairs.len()];
        for (i, pair) in self.pairs.iter().enumerate().rev() {
            alpha[i] = dot(&pair.s, &q) / pair.sy;
            axpy(-alpha[i], &pair.y, &mut q);
        }
        let mut r: Vec<f64> = q.iter().map(|v| v / self.theta).collect();
        for (i, pair) in self.pairs.iter().enumerate() {
            let beta = dot(&pair.y, &r) / pair.sy;
            axpy(alpha[i] - beta, &pair.s, &mut r);
        }
        r.iter_mut().for_each(|v| *v = -*v);
        r
    }
}

/// Minimises `objective` (value and gradient at a point) from `x0`. `observe` sees the starting
/// point and every accepted iterate, before the stopping tests of that iterate.
pub(crate) fn minimize(
    x0: Vec<f64>,
    objective: &mut Objective,
    settings: &Settings,
    observe: &mut dyn FnMut(&Iterate),
) -> Outcome {
    let mut x = x0;
    let (mut f, mut g) = objective(&x);
    let mut evaluations = 1;
    let mut iterations = 0;
    observe(&Iterate {
        iteration: 0,
        x: &x,
        f,
        g: &g,
        evaluations,
    });
    let outcome = |x, f, g, iterations, evaluations, stop| Outcome {
        x,
        f,
        g,
        iterations,
        evaluations,
        stop,
    };
    if settings.gradient.met(&g) {
        return outcome(x, f, g, iterations, evaluations, Stop::Gradient);
    }

    let mut memory = Memory::new(settings.memory);
    loop {
        // The direction's end point z and the direction d = z - x, formed as L-BFGS-B forms them.
        let z: Vec<f64> = if memory.pairs.is_empty() {
            // The Cauchy point of the model with B = I (theta is 1 with an empty memory).
            x.iter().zip(&g).map(|(&xi, &gi)| xi + -gi).collect()
        } else {
            let step = memory.step(&g);
            x.iter().zip(&step).map(|(&xi, &si)| xi + si).collect()
        };
        let d: Vec<f64> = z.iter().zip(&x).map(|(&zi, &xi)| zi - xi).collect();

        let first_step = if iterations == 0 {
            (1.0 / dot(&d, &d).sqrt()).min(STEP_MAX)
        } else {
            1.0
        };
        let searched = line_search(
            &x,
            f,
            &g,
            &z,
            &d,
            first_step,
            settings.max_ls,
            objective,
            &mut evaluations,
        );
        let Some(Accepted {
            x: x_new,
            f: f_new,
            g: g_new,
            stp,
            gd,
            gd_old,
        }) = searched
        else {
            // The last iterate stays; retry from steepest descent unless that was it already.
            if memory.pairs.is_empty() {
                return outcome(x, f, g, iterations, evaluations, Stop::LineSearch);
            }
            memory.reset();
            continue;
        };

        let (f_old, g_old) = (f, std::mem::replace(&mut g, g_new));
        x = x_new;
        f = f_new;
        iterations += 1;
        observe(&Iterate {
            iteration: iterations,
            x: &x,
            f,
            g: &g,
            evaluations,
        });
        if iterations >= settings.max_iter {
            return outcome(x, f, g, iterations, evaluations, Stop::MaxIterations);
        }
        if evaluations > settings.max_fun {
            return outcome(x, f, g, iterations, evaluations, Stop::MaxEvaluations);
        }
        if settings.gradient.met(&g) {
            return outcome(x, f, g, iterations, evaluations, Stop::Gradient);
        }
        if f_old - f <= settings.factr * EPS * f_old.abs().max(f.abs()).max(1.0) {
            return outcome(x, f, g, iterations, evaluations, Stop::RelativeReduction);
        }

        // The correction pair, skipped when its curvature is not clearly positive.
        let y: Vec<f64> = g.iter().zip(&g_old).map(|(a, b)| a - b).collect();
        let yy = dot(&y, &y);
        let (sy, scale, s) = if stp == 1.0 {
            (gd - gd_old, -gd_old, d)
        } else {
            let s = d.iter().map(|v| stp * v).collect();
            ((gd - gd_old) * stp, -gd_old * stp, s)
        };
        if sy > EPS * scale {
            memory.push(Pair { s, y, sy }, yy);
        }
    }
}

/// A step the line search accepted, with the slopes along `d` at its end and at its start.
struct Accepted {
    x: Vec<f64>,
    f: f64,
    g: Vec<f64>,
    stp: f64,
    gd: f64,
    gd_old: f64,
}

/// L-BFGS-B's line search along `d` from `x` (value `f`, gradient `g`); `None` when it fails
/// (not a descent direction, `max_ls` evaluations, or a value that is not finite).
#[allow(clippy::too_many_arguments)]
fn line_search(
    x: &[f64],
    f: f64,
    g: &[f64],
    z: &[f64],
    d: &[f64],
    first_step: f64,
    max_ls: u64,
    objective: &mut Objective,
    evaluations: &mut u64,
) -> Option<Accepted> {
    let gd_old = dot(g, d);
    let (mut search, mut stp) = MoreThuente::start(f, gd_old, first_step, 0.0, STEP_MAX).ok()?;
    let mut trials = 0;
    loop {
        if trials >= max_ls {
            return None;
        }
        trials += 1;
        let trial: Vec<f64> = if stp == 1.0 {
            z.to_vec()
        } else {
            d.iter().zip(x).map(|(&di, &xi)| stp * di + xi).collect()
        };
        let (f_trial, g_trial) = objective(&trial);
        *evaluations += 1;
        if !f_trial.is_finite() {
            return None;
        }
        let gd = dot(&g_trial, d);
        match search.step(stp, f_trial, gd) {
            Next::Evaluate(next) => stp = next,
            Next::Converged | Next::Warning(_) => {
                return Some(Accepted {
                    x: trial,
                    f: f_trial,
                    g: g_trial,
                    stp,
                    gd,
                    gd_old,
                })
            }
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

pub(crate) fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m: f64, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's function in `n` dimensions.
    fn rosenbrock(x: &[f64]) -> (f64, Vec<f64>) {
        let n = x.len();
        let mut f = 0.0;
        let mut g = vec![0.0; n];
        for i in 0..n - 1 {
            let a = x[i + 1] - x[i] * x[i];
            let b = 1.0 - x[i];
            f += 100.0 * a * a + b * b;
            g[i] += -400.0 * a * x[i] - 2.0 * b;
            g[i + 1] += 200.0 * a;
        }
        (f, g)
    }

    fn run(x0: Vec<f64>, f: &mut Objective, settings: Settings) -> (Outcome, Vec<(u64, f64)>) {
        let mut trace = Vec::new();
        let out = minimize(x0, f, &settings, &mut |it| trace.push((it.iteration, it.f)));
        (out, trace)
    }

    #[test]
    fn rosenbrock_converges_to_its_minimum() {
        let settings = Settings::scikit_learn(1000, GradientRule::MaxAbs(1e-8));
        let (out, trace) = run(vec![-1.2, 1.0, -1.2, 1.0], &mut rosenbrock, settings);
        assert_eq!(out.stop, Stop::Gradient);
        for v in &out.x {
            assert!((v - 1.0).abs() < 1e-6, "{:?}", out.x);
        }
        assert_eq!(trace.len() as u64, out.iterations + 1);
        // The objective never rises from one accepted iterate to the next.
        assert!(trace.windows(2).all(|w| w[1].1 <= w[0].1));
    }

    #[test]
    fn max_iter_wins_over_convergence_at_the_same_iterate() {
        // A quadratic solved exactly by the first step: the gradient test would pass at 1.
        let mut quad = |x: &[f64]| (0.5 * dot(x, x), x.to_vec());
        let (out, _) = run(
            vec![3.0, 4.0],
            &mut quad,
            Settings::scikit_learn(1, GradientRule::MaxAbs(1e-4)),
        );
        assert_eq!(out.stop, Stop::MaxIterations);
        assert_eq!(out.iterations, 1);
        let (out, _) = run(
            vec![3.0, 4.0],
            &mut quad,
            Settings::scikit_learn(10, GradientRule::MaxAbs(1e-4)),
        );
        assert_eq!(out.stop, Stop::Gradient);
    }

    #[test]
    fn a_start_that_meets_the_gradient_rule_takes_no_step() {
        let mut quad = |x: &[f64]| (0.5 * dot(x, x), x.to_vec());
        let (out, trace) = run(
            vec![0.0, 0.0],
            &mut quad,
            Settings::scikit_learn(100, GradientRule::MaxAbs(1e-4)),
        );
        assert_eq!(
            (out.stop, out.iterations, out.evaluations),
            (Stop::Gradient, 0, 1)
        );
        assert_eq!(trace.len(), 1);
    }

    #[test]
    fn a_failed_line_search_with_empty_memory_ends_at_the_last_iterate() {
        // The gradient points the wrong way: no step along -g decreases f.
        let mut wrong = |x: &[f64]| (x[0], vec![-1.0]);
        let (out, _) = run(
            vec![0.0],
            &mut wrong,
            Settings::scikit_learn(100, GradientRule::MaxAbs(1e-4)),
        );
        assert_eq!(out.stop, Stop::LineSearch);
        assert_eq!(out.x, vec![0.0]);
        assert_eq!(out.iterations, 0);
        // The search stopped after at most max_ls trials (plus the first evaluation).
        assert!(out.evaluations <= 51);
    }

    #[test]
    fn the_first_trial_step_is_one_over_the_gradient_norm() {
        let mut seen = Vec::new();
        let mut quad = |x: &[f64]| {
            seen.push(x.to_vec());
            (0.5 * dot(x, x), x.to_vec())
        };
        run(
            vec![3.0, 4.0],
            &mut quad,
            Settings::scikit_learn(1, GradientRule::MaxAbs(1e-4)),
        );
        // From (3, 4), ||g|| = 5: the first trial is x + d / 5 with d = -g.
        let stp = 1.0 / 5.0;
        assert_eq!(seen[1], vec![stp * -3.0 + 3.0, stp * -4.0 + 4.0]);
    }

    /// Every point scipy 1.17.1's L-BFGS-B evaluated on 2-D Rosenbrock from (-1.2, 1) with
    /// scikit-learn's options (`maxls` 50, `ftol` 64 eps, 10 pairs) and `gtol` 1e-8, recorded from
    /// `scipy.optimize.minimize` in the harness's venv: 38 iterations, 46 evaluations. The run
    /// takes each line search through bracketing, bisection and extrapolation, and two searches
    /// need several trials (points 2-6, 14-16).
    const SCIPY_ROSENBROCK: [[f64; 2]; 45] = [
        [-1.2, 1.0],
        [-0.2741523563048013, 1.3778969974266118],
        [-1.0174097957038217, 1.0745266139984402],
        [-1.0270197526043319, 1.068358702632824],
        [-1.0285358469293884, 1.065342136730525],
        [-1.0280683234018906, 1.0619380604952937],
        [-1.021385160033696, 1.0392943881350645],
        [-1.0020293558365005, 0.988607963382702],
        [-0.9493671678671748, 0.8669746872519423],
        [-0.8876359561098084, 0.7417730301128345],
        [-0.7872592106533349, 0.5671494560363003],
        [-0.6778321515223991, 0.42585440520596435],
        [-0.551217798090673, 0.2792307420033871],
        [-0.39264522484559483, 0.13118950933025503],
        [-0.23120997748893998, 0.09765818280990307],
        [1.7265398986431961, -1.068380974396733],
        [0.0835729899936101, -0.08982708820516863],
        [-0.06173837858533207, -0.003279389841837718],
        [0.23067785987488013, -0.13915375856498247],
        [-0.025726273394600686, -0.02001280411783011],
        [0.004331481894387635, -0.024177275448676608],
        [0.13541392707496985, -0.020171554893145156],
        [0.16407908235579782, 0.008476700590301398],
        [0.30807097892784263, 0.06746003323630957],
        [0.3701747138663574, 0.13229321286778628],
        [0.5764998598350717, 0.2695869296599682],
        [0.44778489560737256, 0.18393689528038182],
        [0.5463199193886665, 0.2735656630624159],
        [0.5892125771443781, 0.34257955771366716],
        [0.7072305781895355, 0.4796010373939992],
        [0.7049243291658049, 0.4928971660448682],
        [0.7776335281085364, 0.5995330118838444],
        [0.8741554204296812, 0.7482176103864471],
        [0.8269693827465084, 0.6755311254954514],
        [0.8842796773107436, 0.7763047512965146],
        [0.9129189449907903, 0.8340673868222895],
        [1.0021726601935914, 0.9917820431209683],
        [0.9481328057585408, 0.8962915971570207],
        [0.973714681181856, 0.9453160978971276],
        [0.9862578398355731, 0.9727574108421],
        [0.9982322657084394, 0.9961099551253846],
        [0.9994357901954414, 0.9988271084413349],
        [1.0000043179985754, 1.0000063750183694],
        [0.9999989453492749, 0.9999980209057201],
        [1.000000004003928, 1.0000000081090255],
    ];

    #[test]
    fn every_trial_point_is_scipys_on_rosenbrock() {
        let mut seen: Vec<Vec<f64>> = Vec::new();
        let mut f = |x: &[f64]| {
            seen.push(x.to_vec());
            rosenbrock(x)
        };
        let (out, _) = run(
            vec![-1.2, 1.0],
            &mut f,
            Settings::scikit_learn(1000, GradientRule::MaxAbs(1e-8)),
        );
        assert_eq!((out.iterations, out.evaluations), (38, 46));
        assert_eq!(out.stop, Stop::Gradient);
        for (i, (got, want)) in seen.iter().zip(SCIPY_ROSENBROCK).enumerate() {
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (g - w).abs() <= 1e-9 * w.abs().max(1e-3),
                    "evaluation {}: {:?}, scipy {:?}",
                    i,
                    got,
                    want
                );
            }
        }
    }
}
