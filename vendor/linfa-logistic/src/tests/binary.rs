//! The binary (two-class) model: objective, fits, checks, f32.

use crate::error::Error;
use crate::*;
use approx::{assert_abs_diff_eq, AbsDiffEq};
use linfa::dataset::AsSingleTargets;
use linfa::prelude::*;
use ndarray::{array, Array2};

use super::reference::*;

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
