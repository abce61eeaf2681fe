//! What a fit reports (iterations, stops, trace, snapshots), and the fit against 0.8.1's
//! argmin path.

use crate::labels::label_classes_multi;
use crate::*;
use approx::assert_abs_diff_eq;
use argmin::core::{CostFunction, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use linfa::prelude::*;
use ndarray::{s, Array1, Array2};

use super::reference::*;

/// A small, well-conditioned three-class problem.
fn three_classes() -> (Array2<f64>, Array1<usize>) {
    let n = 90;
    let x = Array2::from_shape_fn((n, 3), |(i, j)| {
        let class = i % 3;
        (if j == class { 1.0 } else { 0.0 }) + ((i * 7 + j * 13) % 11) as f64 / 11.0 - 0.5
    });
    let y = Array1::from_shape_fn(n, |i| i % 3);
    (x, y)
}

/// 0.8.1's problem: separate cost and gradient callbacks, each with its own pass, on the
/// parameters flattened (features and intercept x classes, row-major).
struct Published<'a> {
    x: &'a Array2<f64>,
    y: Array2<f64>,
    alpha: f64,
}
impl Published<'_> {
    fn matrix(&self, p: &Array1<f64>) -> Array2<f64> {
        p.clone()
            .into_shape_with_order((self.x.ncols() + 1, self.y.ncols()))
            .expect("features and intercept x classes")
    }
}
impl CostFunction for Published<'_> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        Ok(multi_logistic_loss(
            self.x,
            &self.y,
            self.alpha,
            &self.matrix(p),
        ))
    }
}
impl Gradient for Published<'_> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, p: &Self::Param) -> std::result::Result<Self::Param, argmin::core::Error> {
        let g = multi_logistic_grad(self.x, &self.y, self.alpha, &self.matrix(p));
        Ok(Array1::from_iter(g))
    }
}

/// The patched crate finds the weights 0.8.1's code path finds (its objective functions,
/// argmin's L-BFGS set up as 0.8.1 set it up) where that path does not stall: the two
/// optimisers stop at different points within the gradient tolerance 1e-8, 5e-7 apart.
#[test]
fn patched_fit_gives_the_published_weights() {
    let (x, y) = three_classes();
    let (_, onehot) = label_classes_multi::<f64, _, _>(&y).unwrap();
    let published = Executor::new(
        Published {
            x: &x,
            y: onehot,
            alpha: 0.1,
        },
        LBFGS::new(MoreThuenteLineSearch::new(), 10)
            .with_tolerance_grad(1e-8)
            .unwrap(),
    )
    .configure(|s| s.param(Array1::zeros(12)).max_iters(200))
    .run()
    .unwrap();
    let published = published
        .state
        .best_param
        .unwrap()
        .into_shape_with_order((4, 3))
        .unwrap();
    let patched = MultiLogisticRegression::default()
        .alpha(0.1)
        .gradient_tolerance(1e-8)
        .max_iterations(200)
        .fit(&Dataset::new(x, y))
        .unwrap();
    assert_abs_diff_eq!(
        patched.params(),
        &published.slice(s![..3, ..]).to_owned(),
        epsilon = 1e-6
    );
    assert_abs_diff_eq!(
        patched.intercept(),
        &published.row(3).to_owned(),
        epsilon = 1e-6
    );
}

#[test]
fn the_fit_report_says_what_the_fit_did() {
    let (x, y) = three_classes();
    let dataset = Dataset::new(x, y);
    let mut seen = Vec::new();
    let model = MultiLogisticRegression::default()
        .alpha(0.1)
        .max_iterations(5)
        .check()
        .unwrap()
        .fit_with_observer(&dataset, &mut |r: &IterationRecord<f64>| seen.push(*r))
        .unwrap();
    let report = model.report().unwrap();
    assert_eq!(report.iterations, 5);
    assert_eq!(report.termination, Termination::MaxIterations);
    assert!(!report.converged());
    // The start and every iteration, each seen by the observer, objective decreasing.
    assert_eq!(report.trace.len(), 6);
    assert_eq!(seen, report.trace);
    assert!(report
        .trace
        .windows(2)
        .all(|w| w[1].objective < w[0].objective));
    assert_abs_diff_eq!(report.trace[0].objective, 90.0 * 3f64.ln(), epsilon = 1e-9);
    // The final entry is the returned model's.
    assert_abs_diff_eq!(report.trace[5].objective, report.objective, epsilon = 1e-12);
    assert_abs_diff_eq!(
        report.trace[5].gradient_max,
        report.gradient_max,
        epsilon = 1e-12
    );
    assert!(report.gradient_max <= report.gradient_norm);
    // What each iterate cost: the start one pass, at least one more per iteration, the last
    // entry the fit's total.
    assert_eq!(report.trace[0].evaluations, 1);
    assert!(report
        .trace
        .windows(2)
        .all(|w| w[1].evaluations > w[0].evaluations));
    assert_eq!(report.trace[5].evaluations, report.evaluations);
    // Cost and gradient requests for the same point share one pass.
    assert!(report.evaluations >= report.cost_calls);
    assert!(
        report.evaluations < report.cost_calls + report.gradient_calls,
        "{:?}",
        report
    );
}

/// `max_gradient_tolerance` stops as scikit-learn does: on the largest component of the mean
/// objective's gradient.
#[test]
fn the_max_gradient_rule_stops_on_the_mean_gradient() {
    let (x, y) = three_classes();
    let dataset = Dataset::new(x, y);
    let fit = |tol: f64| {
        MultiLogisticRegression::default()
            .alpha(0.1)
            .max_iterations(500)
            .max_gradient_tolerance(tol)
            .fit(&dataset)
            .unwrap()
    };
    let model = fit(1e-3);
    let report = model.report().unwrap();
    assert_eq!(report.termination, Termination::GradientTolerance);
    assert!(report.converged());
    assert!(report.gradient_max / 90.0 <= 1e-3);
    // One iteration earlier, it had not met the rule.
    let before = &report.trace[report.trace.len() - 2];
    assert!(before.gradient_max / 90.0 > 1e-3);
    // A tighter tolerance goes further.
    assert!(fit(1e-6).report().unwrap().iterations > report.iterations);
    assert!(MultiLogisticRegression::<f64>::default()
        .max_gradient_tolerance(-1.0)
        .check()
        .is_err());
}

/// A snapshot is what a fit with that many iterations returns: weights and report.
#[test]
fn snapshots_equal_separate_fits() {
    let (x, y) = three_classes();
    let dataset = Dataset::new(x.clone(), y.clone());
    let params = MultiLogisticRegression::default().alpha(0.1);
    let long = params
        .clone()
        .max_iterations(12)
        .snapshot_iterations(vec![3, 7, 12, 40])
        .fit(&dataset)
        .unwrap();
    assert_eq!(long.snapshots().len(), 4);
    for (snapshot, k) in long.snapshots().iter().zip([3, 7, 12, 12]) {
        let separate = params.clone().max_iterations(k).fit(&dataset).unwrap();
        assert_eq!(snapshot.params(), separate.params(), "k = {k}");
        assert_eq!(snapshot.intercept(), separate.intercept(), "k = {k}");
        assert_eq!(snapshot.report(), separate.report(), "k = {k}");
    }
    // The binary model too.
    let yb = y.mapv(|c| c == 0);
    let dataset = Dataset::new(x, yb);
    let long = LogisticRegression::default()
        .max_iterations(9)
        .snapshot_iterations(vec![4])
        .fit(&dataset)
        .unwrap();
    let separate = LogisticRegression::default()
        .max_iterations(4)
        .fit(&dataset)
        .unwrap();
    assert_eq!(long.snapshots()[0].params(), separate.params());
    assert_eq!(long.snapshots()[0].report(), separate.report());
}

/// Gradient descent makes one pass over the data per iteration, and its trace says so.
#[test]
fn gradient_descent_costs_one_evaluation_per_iteration() {
    let (x, y) = three_classes();
    let model = MultiLogisticRegression::default()
        .alpha(0.1)
        .max_iterations(7)
        .gradient_descent(0.01)
        .check()
        .unwrap()
        .fit(&Dataset::new(x, y))
        .unwrap();
    let report = model.report().unwrap();
    assert_eq!(report.iterations, 7);
    assert_eq!(report.evaluations, 8);
    for (i, record) in report.trace.iter().enumerate() {
        assert_eq!(
            (record.iteration, record.evaluations),
            (i as u64, i as u64 + 1)
        );
    }
}
