//! The crate's tests through its public API, with 0.8.1's unfused objective functions
//! ([`reference`]) as the reference for the fused evaluation.

pub(crate) mod reference;

use crate::error::Error;
use crate::fitted::softmax_inplace;
use crate::labels::label_classes_multi;
use crate::*;
use approx::{assert_abs_diff_eq, assert_relative_eq, AbsDiffEq};
use argmin::core::{CostFunction, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use linfa::dataset::AsSingleTargets;
use linfa::prelude::*;
use ndarray::{array, s, Array, Array1, Array2, Axis, Dim, Ix};
use reference::*;

#[test]
fn autotraits() {
    fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}
    has_autotraits::<LogisticRegressionParams<f64, Dim<[Ix; 0]>>>();
    has_autotraits::<LogisticRegressionValidParams<f64, Dim<[Ix; 0]>>>();
}

/// Test that the logistic loss function works as expected.
/// The expected values were obtained from running sklearn's
/// _logistic_loss_and_grad function.
#[test]
fn test_logistic_loss() {
    let x = array![
        [0.0],
        [1.0],
        [2.0],
        [3.0],
        [4.0],
        [5.0],
        [6.0],
        [7.0],
        [8.0],
        [9.0]
    ];
    let y = array![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let ws = [
        array![0.0, 0.0],
        array![0.0, 1.0],
        array![1.0, 0.0],
        array![1.0, 1.0],
        array![0.0, -1.0],
        array![-1.0, 0.0],
        array![-1.0, -1.0],
    ];
    let alphas = &[0.0, 1.0, 10.0];
    let expecteds = vec![
        6.931471805599453,
        6.931471805599453,
        6.931471805599453,
        4.652158847349118,
        4.652158847349118,
        4.652158847349118,
        2.8012999588008323,
        3.3012999588008323,
        7.801299958800833,
        2.783195429782239,
        3.283195429782239,
        7.783195429782239,
        10.652158847349117,
        10.652158847349117,
        10.652158847349117,
        41.80129995880083,
        42.30129995880083,
        46.80129995880083,
        47.78319542978224,
        48.28319542978224,
        52.78319542978224,
    ];

    for ((w, alpha), exp) in ws
        .iter()
        .flat_map(|w| alphas.iter().map(move |&alpha| (w, alpha)))
        .zip(&expecteds)
    {
        assert_abs_diff_eq!(logistic_loss(&x, &y, alpha, w), *exp);
    }
}

/// Test that the logistic grad function works as expected.
/// The expected values were obtained from running sklearn's
/// _logistic_loss_and_grad function.
#[test]
fn test_logistic_grad() {
    let x = array![
        [0.0],
        [1.0],
        [2.0],
        [3.0],
        [4.0],
        [5.0],
        [6.0],
        [7.0],
        [8.0],
        [9.0]
    ];
    let y = array![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let ws = [
        array![0.0, 0.0],
        array![0.0, 1.0],
        array![1.0, 0.0],
        array![1.0, 1.0],
        array![0.0, -1.0],
        array![-1.0, 0.0],
        array![-1.0, -1.0],
    ];
    let alphas = &[0.0, 1.0, 10.0];
    let expecteds = vec![
        array![-19.5, -3.],
        array![-19.5, -3.],
        array![-19.5, -3.],
        array![-10.48871543, -1.61364853],
        array![-10.48871543, -1.61364853],
        array![-10.48871543, -1.61364853],
        array![-0.13041554, -0.02852148],
        array![0.86958446, -0.02852148],
        array![9.86958446, -0.02852148],
        array![-0.04834401, -0.01058067],
        array![0.95165599, -0.01058067],
        array![9.95165599, -0.01058067],
        array![-28.51128457, -4.38635147],
        array![-28.51128457, -4.38635147],
        array![-28.51128457, -4.38635147],
        array![-38.86958446, -5.97147852],
        array![-39.86958446, -5.97147852],
        array![-48.86958446, -5.97147852],
        array![-38.95165599, -5.98941933],
        array![-39.95165599, -5.98941933],
        array![-48.95165599, -5.98941933],
    ];

    for ((w, alpha), exp) in ws
        .iter()
        .flat_map(|w| alphas.iter().map(move |&alpha| (w, alpha)))
        .zip(&expecteds)
    {
        let actual = logistic_grad(&x, &y, alpha, w);
        assert!(actual.abs_diff_eq(exp, 1e-8));
    }
}

#[test]
fn simple_example_1() {
    let log_reg = LogisticRegression::default();
    let x = array![[-1.0], [-0.01], [0.01], [1.0]];
    let y = array![0, 0, 1, 1];
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    assert_abs_diff_eq!(res.intercept(), 0.0);
    assert!(res.params().abs_diff_eq(&array![-0.681], 1e-3));
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );
}

#[test]
fn simple_example_1_cats_dogs() {
    let log_reg = LogisticRegression::default();
    let x = array![[0.01], [1.0], [-1.0], [-0.01]];
    let y = array!["dog", "dog", "cat", "cat"];
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    assert_abs_diff_eq!(res.intercept(), 0.0);
    assert!(res.params().abs_diff_eq(&array![0.681], 1e-3));
    assert!(res
        .predict_probabilities(dataset.records())
        .abs_diff_eq(&array![0.501, 0.664, 0.335, 0.498], 1e-3));
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );
    assert_eq!(res.labels().pos.class, "dog");
    assert_eq!(res.labels().neg.class, "cat");
}

#[test]
fn simple_example_2() {
    let log_reg = LogisticRegression::default().alpha(1.0);
    let x = array![
        [0.0],
        [1.0],
        [2.0],
        [3.0],
        [4.0],
        [5.0],
        [6.0],
        [7.0],
        [8.0],
        [9.0]
    ];
    let y = array![0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );
}

#[test]
fn simple_example_3() {
    let x = array![[1.0], [0.0], [1.0], [0.0]];
    let y = array![1, 0, 1, 0];
    let dataset = DatasetBase::new(x, y);
    let model = LogisticRegression::default().fit(&dataset).unwrap();

    let pred = model.predict(&dataset.records);
    assert_eq!(dataset.targets(), pred);
}

#[test]
fn rejects_mismatching_x_y() {
    let log_reg = LogisticRegression::default();
    let x = array![[-1.0], [-0.01], [0.01]];
    let y = array![0, 0, 1, 1];
    let res = log_reg.fit(&Dataset::new(x, y));
    assert!(matches!(res.unwrap_err(), Error::MismatchedShapes(3, 4)));
}

#[test]
fn rejects_inf_values() {
    let infs = &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let inf_xs: Vec<_> = infs.iter().map(|&inf| array![[1.0], [inf]]).collect();
    let log_reg = LogisticRegression::default();
    let normal_x = array![[-1.0], [1.0]];
    let y = array![0, 1];
    for inf_x in &inf_xs {
        let res = log_reg.fit(&DatasetBase::new(inf_x.view(), &y));
        assert!(matches!(res.unwrap_err(), Error::InvalidValues));
    }
    for inf in infs {
        let log_reg = LogisticRegression::default().alpha(*inf);
        let res = log_reg.fit(&DatasetBase::new(normal_x.view(), &y));
        assert!(matches!(res.unwrap_err(), Error::InvalidAlpha));
    }
    let mut non_positives = infs.to_vec();
    non_positives.push(-1.0);
    non_positives.push(0.0);
    for inf in &non_positives {
        let log_reg = LogisticRegression::default().gradient_tolerance(*inf);
        let res = log_reg.fit(&Dataset::new(normal_x.to_owned(), y.to_owned()));
        assert!(matches!(res.unwrap_err(), Error::InvalidGradientTolerance));
    }
}

#[test]
fn validates_initial_params() {
    let infs = &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let normal_x = array![[-1.0], [1.0]];
    let normal_y = array![0, 1];
    let dataset = Dataset::new(normal_x, normal_y);
    for inf in infs {
        let log_reg = LogisticRegression::default().initial_params(array![*inf, 0.0]);
        let res = log_reg.fit(&dataset);
        assert!(matches!(res.unwrap_err(), Error::InvalidInitialParameters));
    }
    {
        let log_reg = LogisticRegression::default().initial_params(array![0.0, 0.0, 0.0]);
        let res = log_reg.fit(&dataset);
        assert!(matches!(
            res.unwrap_err(),
            Error::InitialParameterFeaturesMismatch {
                rows: 3,
                n_features: 2
            }
        ));
    }
    {
        let log_reg = LogisticRegression::default()
            .with_intercept(false)
            .initial_params(array![0.0, 0.0]);
        let res = log_reg.fit(&dataset);
        assert!(matches!(
            res.unwrap_err(),
            Error::InitialParameterFeaturesMismatch {
                rows: 2,
                n_features: 1
            }
        ));
    }
}

#[test]
fn uses_initial_params() {
    let params = array![1.2, -4.12];
    let log_reg = LogisticRegression::default()
        .initial_params(params)
        .max_iterations(5);
    let x = array![
        [0.0],
        [1.0],
        [2.0],
        [3.0],
        [4.0],
        [5.0],
        [6.0],
        [7.0],
        [8.0],
        [9.0]
    ];
    let y = array![0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    // 0.8.1's argmin path was at -4.124 after 5 iterations; L-BFGS-B (PATCHES.md 4) is
    // within 1e-4 of the optimum, -4.12618.
    assert!(res.intercept().abs_diff_eq(&-4.126, 1e-3));
    assert!(res.params().abs_diff_eq(&array![1.181], 1e-3));
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );

    // Test serialization
    #[cfg(feature = "serde")]
    {
        let ser = rmp_serde::to_vec(&res).unwrap();
        let unser: FittedLogisticRegression<f32, f32> = rmp_serde::from_slice(&ser).unwrap();

        let x = array![[1.0]];
        let y_hat = unser.predict(&x);

        assert!(y_hat[0] == 0.0);
    }
}

#[test]
fn works_with_f32() {
    let log_reg = LogisticRegression::default();
    let x: Array2<f32> = array![[-1.0], [-0.01], [0.01], [1.0]];
    let y = array![0, 0, 1, 1];
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    assert_abs_diff_eq!(res.intercept(), 0.0_f32);
    assert!(res.params().abs_diff_eq(&array![-0.682_f32], 1e-3));
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );
}

#[test]
fn test_log_sum_exp() {
    let data = array![[3.3, 0.4, -2.1], [0.4, 2.2, -0.1], [1., 0., -1.]];
    let out = log_sum_exp(&data, Axis(1));
    assert_abs_diff_eq!(out, array![3.35783, 2.43551, 1.40761], epsilon = 1e-5);
}

/// Rows far below the others keep their own value: the shift is per row.
#[test]
fn log_sum_exp_is_row_wise() {
    let ln2 = std::f64::consts::LN_2;
    let out = log_sum_exp(&array![[0., 0.], [-100., -100.]], Axis(1));
    assert_abs_diff_eq!(out, array![ln2, -100. + ln2], epsilon = 1e-12);
    let out = log_sum_exp(&array![[1000., 0.], [-1000., -1000.]], Axis(1));
    assert_abs_diff_eq!(out, array![1000., -1000. + ln2], epsilon = 1e-12);
    let out = log_sum_exp(&array![[f64::NEG_INFINITY, f64::NEG_INFINITY]], Axis(1));
    assert_eq!(out[0], f64::NEG_INFINITY);
}

/// With the global maximum and the clamp, the loss of a row 100 below the largest logit came
/// out wrong; now it is exact.
#[test]
fn multinomial_loss_is_exact_for_rows_far_below_the_maximum() {
    // Two samples, one feature, no intercept; W puts sample 2's logits 200 below sample 1's.
    let x = array![[1.0], [-1.0]];
    let y = array![[1.0, 0.0], [1.0, 0.0]];
    let w = array![[100.0, 0.0]];
    // Sample 1: logits [100, 0]; sample 2: [-100, 0]: losses ln(1 + e^-100) and 100 + ln(1 + e^-100).
    let expected = 2.0 * (-100f64).exp().ln_1p() + 100.0;
    assert_abs_diff_eq!(
        multi_logistic_loss(&x, &y, 0.0, &w),
        expected,
        epsilon = 1e-9
    );
}

#[test]
fn test_softmax() {
    let mut data = array![3.3, 5.5, 0.1, -4.4, 8.0];
    softmax_inplace(&mut data);
    assert_relative_eq!(
        data,
        array![0.0083324, 0.075200047, 0.000339647, 0.000003773, 0.91612413],
        epsilon = 1e-8
    );
    assert_abs_diff_eq!(data.sum(), 1.0);
}

#[test]
fn test_multi_logistic_loss_grad() {
    let x = array![
        [0.0, 0.5],
        [1.0, -1.0],
        [2.0, -2.0],
        [3.0, -3.0],
        [4.0, -4.0],
        [5.0, -5.0],
        [6.0, -6.0],
        [7.0, -7.0],
    ];
    let y = array![
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0],
    ];
    let params1 = array![[4.4, -1.2, 3.3], [3.4, 0.1, 0.0]];
    let params2 = array![[0.001, -3.2, 2.9], [0.1, 4.5, 5.7], [4.5, 2.2, 1.7]];
    let alpha = 0.6;

    {
        let (log_prob, w) = multi_logistic_prob_params(&x, &params1);
        assert_abs_diff_eq!(
            log_prob,
            array![
                [-3.18259845e-01, -1.96825985e+00, -2.01825985e+00],
                [-2.40463987e+00, -4.70463987e+00, -1.04639868e-01],
                [-4.61010168e+00, -9.21010168e+00, -1.01016809e-02],
                [-6.90100829e+00, -1.38010083e+01, -1.00829256e-03],
                [-9.20010104e+00, -1.84001010e+01, -1.01044506e-04],
                [-1.15000101e+01, -2.30000101e+01, -1.01301449e-05],
                [-1.38000010e+01, -2.76000010e+01, -1.01563199e-06],
                [-1.61000001e+01, -3.22000001e+01, -1.01826043e-07],
            ],
            epsilon = 1e-6
        );
        assert_abs_diff_eq!(w, params1);
        let loss = multi_logistic_loss(&x, &y, alpha, &params1);
        assert_abs_diff_eq!(loss, 57.11212197835295, epsilon = 1e-6);
        let grad = multi_logistic_grad(&x, &y, alpha, &params1);
        assert_abs_diff_eq!(
            grad,
            array![
                [1.7536815, -9.71074369, 11.85706219],
                [2.79002537, 9.12059357, -9.81061893]
            ],
            epsilon = 1e-6
        );
    }

    {
        let (log_prob, w) = multi_logistic_prob_params(&x, &params2);
        assert_abs_diff_eq!(
            log_prob,
            array![
                [-1.06637742e+00, -1.16637742e+00, -1.06637742e+00],
                [-4.12429463e-03, -9.90512429e+00, -5.50512429e+00],
                [-2.74092305e-04, -1.75022741e+01, -8.20227409e+00],
                [-1.84027855e-05, -2.51030184e+01, -1.09030184e+01],
                [-1.23554225e-06, -3.27040012e+01, -1.36040012e+01],
                [-8.29523046e-08, -4.03050001e+01, -1.63050001e+01],
                [-5.56928016e-09, -4.79060000e+01, -1.90060000e+01],
                [-3.73912013e-10, -5.55070000e+01, -2.17070000e+01]
            ],
            epsilon = 1e-6
        );
        assert_abs_diff_eq!(w, params2.slice(s![..params2.nrows() - 1, ..]));
        let loss = multi_logistic_loss(&x, &y, alpha, &params2);
        assert_abs_diff_eq!(loss, 154.8177958366479, epsilon = 1e-6);
        let grad = multi_logistic_grad(&x, &y, alpha, &params2);
        assert_abs_diff_eq!(
            grad,
            array![
                [26.99587549, -10.91995003, -16.25532546],
                [-27.26314882, 11.85569669, 21.58745213],
                [5.33984376, -2.68845675, -2.65138701]
            ],
            epsilon = 1e-6
        );
    }
}

#[test]
fn simple_multi_example() {
    let x = array![[-1., 0.], [0., 1.], [1., 1.]];
    let y = array![2, 1, 0];
    let log_reg = MultiLogisticRegression::default()
        .alpha(0.1)
        .initial_params(Array::zeros((3, 3)));
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    assert_eq!(res.params().dim(), (2, 3));
    assert_eq!(res.intercept().dim(), 3);
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );
}

#[test]
fn simple_multi_example_2() {
    let x = array![[1.0], [0.0], [1.0], [0.0]];
    let y = array![1, 0, 1, 0];
    let dataset = DatasetBase::new(x, y);
    let model = MultiLogisticRegression::default().fit(&dataset).unwrap();

    let pred = model.predict(&dataset.records);
    assert_eq!(dataset.targets(), pred);
}

#[test]
fn simple_multi_example_text() {
    let log_reg = MultiLogisticRegression::default().alpha(0.1);
    let x = array![[0.1], [1.0], [-1.0], [-0.1]];
    let y = array!["dog", "ape", "rocket", "cat"];
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    assert_eq!(res.params().dim(), (1, 4));
    assert_eq!(res.intercept().dim(), 4);
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );
}

#[test]
fn multi_on_binary_problem() {
    let log_reg = MultiLogisticRegression::default().alpha(1.0);
    let x = array![
        [0.0],
        [1.0],
        [2.0],
        [3.0],
        [4.0],
        [5.0],
        [6.0],
        [7.0],
        [8.0],
        [9.0]
    ];
    let y = array![0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    let dataset = Dataset::new(x, y);
    let res = log_reg.fit(&dataset).unwrap();
    assert_eq!(res.params().dim(), (1, 2));
    assert_eq!(res.intercept().dim(), 2);
    assert_eq!(
        &res.predict(dataset.records()),
        dataset.targets().as_single_targets()
    );
}

#[test]
fn reject_num_class_mismatch() {
    let n_samples = 4;
    let n_classes = 3;
    let n_features = 1;
    let x = Array2::<f64>::zeros((n_samples, n_features));
    let y = array![0, 1, 2, 0];
    let dataset = Dataset::new(x, y);

    let log_reg = MultiLogisticRegression::default()
        .with_intercept(false)
        .initial_params(Array::zeros((n_features, n_classes - 1)));
    assert!(matches!(
        log_reg.fit(&dataset).unwrap_err(),
        Error::InitialParameterClassesMismatch {
            cols: 2,
            n_classes: 3,
        }
    ));
}

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
