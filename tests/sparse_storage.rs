//! The sparse storage on real MNIST: the harness's prepared training pixels read through their
//! non-zeros give, fit for fit, the bits of the same pixels read densely, for every scaler that
//! keeps a zero pixel at zero; with the standard scaler (zero becomes -mean/sd) folded into the
//! weights, the same fit to rounding.

use linfa::prelude::*;
use linfa_logistic::{kernel_path, KernelPath, MultiLogisticRegression, ScaledBytes};
use mnist_logreg::config::DataConfig;
use mnist_logreg::data::{self, repository_data_dir};
use mnist_logreg::model::{Dtype, FitUnits, Float};
use mnist_logreg::preprocessing::{prepare, Scaler};
use mnist_logreg::split::SplitIndices;
use ndarray::Array1;

/// The weights and intercepts of a 15-iteration multinomial fit, as f64 bits.
fn fit_bits<F: Float>(x: &ScaledBytes<F>, y: &[u8]) -> Vec<u64> {
    let y: Array1<usize> = y.iter().map(|&c| usize::from(c)).collect();
    let model = MultiLogisticRegression::<F>::default()
        .alpha(F::cast(1.0))
        .max_iterations(15)
        .fit(&DatasetBase::new(x, y))
        .expect("a fit");
    model
        .params()
        .iter()
        .chain(model.intercept().iter())
        .map(|v| v.as_f64().to_bits())
        .collect()
}

#[test]
fn sparse_fits_give_the_dense_bits_on_mnist_for_every_zero_keeping_scaler() {
    let dir = repository_data_dir();
    let mnist = data::load(&DataConfig {
        cache_dir: dir.join("cache"),
        dir,
        subsample: Some(3000),
    })
    .unwrap();
    // 2,500 training images: two chunks of 1,024 and a partial block at the end.
    let split = SplitIndices {
        train: (0..2500).collect(),
        test: (2500..3000).collect(),
    };
    for scaler in [Scaler::None, Scaler::Unit, Scaler::MinMax, Scaler::MaxAbs] {
        let prepared = prepare::<f64>(
            mnist.images.view(),
            &mnist.labels,
            &split,
            scaler,
            Dtype::F64,
            FitUnits::Scaled,
        )
        .unwrap();
        let x = prepared.x_fit;
        assert!(x.is_sparse(), "{scaler}: f64 reads the non-zeros");
        let dense = x.clone().dense();
        assert_eq!(
            fit_bits(&x, &prepared.y_train),
            fit_bits(&dense, &prepared.y_train),
            "{scaler}"
        );
        // f32 reads densely on the AVX-512 path unless asked; asked, the bits are the dense ones.
        let prepared = prepare::<f32>(
            mnist.images.view(),
            &mnist.labels,
            &split,
            scaler,
            Dtype::F32,
            FitUnits::Scaled,
        )
        .unwrap();
        assert_eq!(
            prepared.x_fit.is_sparse(),
            kernel_path() != KernelPath::Avx512
        );
        let sparse = prepared.x_fit.clone().sparse();
        assert!(sparse.is_sparse());
        assert_eq!(
            fit_bits(&sparse, &prepared.y_train),
            fit_bits(&prepared.x_fit.clone().dense(), &prepared.y_train),
            "{scaler} f32"
        );
    }
    // The standard scaler (zero becomes -mean/sd) is folded into the weights: another rounding,
    // the same fit to far below anything a prediction sees.
    let standard = prepare::<f64>(
        mnist.images.view(),
        &mnist.labels,
        &split,
        Scaler::Standard,
        Dtype::F64,
        FitUnits::Scaled,
    )
    .unwrap();
    assert!(standard.x_fit.is_sparse(), "the standard scaler is folded");
    let folded = fit_bits(&standard.x_fit, &standard.y_train);
    let dense = fit_bits(&standard.x_fit.clone().dense(), &standard.y_train);
    let (folded, dense): (Vec<f64>, Vec<f64>) = (
        folded.into_iter().map(f64::from_bits).collect(),
        dense.into_iter().map(f64::from_bits).collect(),
    );
    let largest = dense.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = folded
        .iter()
        .zip(&dense)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst <= 1e-10 * largest,
        "folded against dense: {worst:e} of {largest:e}"
    );
}
