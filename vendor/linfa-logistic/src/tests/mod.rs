//! The crate's tests through its public API, with 0.8.1's unfused objective functions
//! ([`reference`]) as the reference for the fused evaluation.

mod binary;
mod fit_report;
mod multinomial;
pub(crate) mod reference;

use crate::*;
use ndarray::{Dim, Ix};

#[test]
fn autotraits() {
    fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}
    has_autotraits::<LogisticRegressionParams<f64, Dim<[Ix; 0]>>>();
    has_autotraits::<LogisticRegressionValidParams<f64, Dim<[Ix; 0]>>>();
}
