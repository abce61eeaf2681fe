//! The multinomial model: log-sum-exp, softmax, objective and fits.

use crate::error::Error;
use crate::fitted::softmax_inplace;
use crate::*;
use approx::{assert_abs_diff_eq, assert_relative_eq};
use linfa::dataset::AsSingleTargets;
use linfa::prelude::*;
use ndarray::{array, s, Array, Array2, Axis};

use super::reference::*;

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
