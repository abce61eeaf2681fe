//! Full-batch gradient descent with a fixed learning rate: `x <- x - lr * g(x)`, one evaluation of
//! the objective and its gradient per iteration, from the starting point.
//!
//! On the logistic objectives as the fit scales them (the mean log-loss plus
//! `||W||² / (2 C n)`), this is the textbook update of a notebook that trains one-vs-rest
//! classifiers "from scratch": `W <- W - lr (Xᵀ(P - Y) / n + W / (C n))`,
//! `b <- b - lr mean(P - Y)`. It stops when the gradient rule is met at an iterate (the start
//! included), after `max_iter` steps, or when the objective stops being finite (a learning rate
//! too large for the problem); it returns the last iterate.

use crate::optim::lbfgsb::{GradientRule, Iterate, Objective, Outcome, Stop};

/// What a gradient descent may do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    /// The step: `x <- x - learning_rate * g`.
    pub(crate) learning_rate: f64,
    /// Steps allowed.
    pub(crate) max_iter: u64,
    pub(crate) gradient: GradientRule,
}

/// Minimises `objective` from `x0`, reporting every iterate (the start as iteration 0) to
/// `observe`.
pub(crate) fn minimize(
    x0: Vec<f64>,
    objective: &mut Objective,
    settings: &Settings,
    observe: &mut dyn FnMut(&Iterate),
) -> Outcome {
    let mut x = x0;
    let (mut f, mut g) = objective(&x);
    let mut iterations = 0;
    loop {
        let evaluations = iterations + 1;
        observe(&Iterate {
            iteration: iterations,
            x: &x,
            f,
            g: &g,
            evaluations,
        });
        let stop = if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
            Some(Stop::NotFinite)
        } else if settings.gradient.met(&g) {
            Some(Stop::Gradient)
        } else if iterations >= settings.max_iter {
            Some(Stop::MaxIterations)
        } else {
            None
        };
        if let Some(stop) = stop {
            return Outcome {
                x,
                f,
                g,
                iterations,
                evaluations,
                stop,
            };
        }
        for (xi, gi) in x.iter_mut().zip(&g) {
            *xi -= settings.learning_rate * gi;
        }
        (f, g) = objective(&x);
        iterations += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `f(x) = sum(a_i x_i² / 2)`: gradient `a_i x_i`, each step multiplies `x_i` by
    /// `1 - lr a_i`.
    fn quadratic(a: &'static [f64]) -> impl FnMut(&[f64]) -> (f64, Vec<f64>) {
        move |x: &[f64]| {
            let f = x.iter().zip(a).map(|(x, a)| a * x * x / 2.0).sum();
            (f, x.iter().zip(a).map(|(x, a)| a * x).collect())
        }
    }

    #[test]
    fn each_step_is_the_learning_rate_times_the_gradient() {
        let mut objective = quadratic(&[1.0, 4.0]);
        let settings = Settings {
            learning_rate: 0.1,
            max_iter: 3,
            gradient: GradientRule::MaxAbs(0.0),
        };
        let mut seen = Vec::new();
        let out = minimize(vec![1.0, 1.0], &mut objective, &settings, &mut |it| {
            seen.push((it.iteration, it.x.to_vec(), it.evaluations))
        });
        assert_eq!(out.stop, Stop::MaxIterations);
        assert_eq!((out.iterations, out.evaluations), (3, 4));
        for (x, want) in out.x.iter().zip([0.9f64.powi(3), 0.6f64.powi(3)]) {
            assert!((x - want).abs() < 1e-15, "{} {}", x, want);
        }
        assert_eq!(seen.len(), 4);
        assert_eq!((seen[1].0, seen[1].2), (1, 2));
        assert_eq!(seen[1].1, vec![1.0 - 0.1, 1.0 - 0.1 * 4.0]);
    }

    #[test]
    fn stops_at_the_gradient_rule_or_a_non_finite_objective() {
        let settings = |lr, tol| Settings {
            learning_rate: lr,
            max_iter: 10_000,
            gradient: GradientRule::MaxAbs(tol),
        };
        // Already met at the start: no step.
        let out = minimize(
            vec![1e-3],
            &mut quadratic(&[1.0]),
            &settings(0.5, 1e-2),
            &mut |_| {},
        );
        assert_eq!((out.stop, out.iterations), (Stop::Gradient, 0));
        // Met after k steps: 0.5^k <= 1e-3 first at k = 10.
        let out = minimize(
            vec![1.0],
            &mut quadratic(&[1.0]),
            &settings(0.5, 1e-3),
            &mut |_| {},
        );
        assert_eq!((out.stop, out.iterations), (Stop::Gradient, 10));
        // lr a = 3: |x| triples each step until it overflows.
        let out = minimize(
            vec![1.0],
            &mut quadratic(&[1.0]),
            &settings(4.0, 0.0),
            &mut |_| {},
        );
        assert_eq!(out.stop, Stop::NotFinite);
        assert!(out.iterations < 10_000);
    }
}
