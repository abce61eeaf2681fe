//! The float types a fit runs in: `f32` and `f64`.

use ndarray::NdFloat;
use num_traits::FromPrimitive;

/// A float a model can be fitted in: `f32` or `f64`. Sealed (its kernel supertrait is the
/// crate's), so every fit path and kernel exists for both.
pub trait Float:
    NdFloat
    + Default
    + Clone
    + FromPrimitive
    + linfa::Float
    + crate::evaluation::kernels_avx512::Avx512
    + crate::evaluation::sparse_simd::SparseSimd
{
    /// The target value of a binary model's positive class.
    const POSITIVE_LABEL: Self;
    /// The target value of a binary model's negative class.
    const NEGATIVE_LABEL: Self;

    /// The value in f64 (exact for both types).
    fn as_f64(self) -> f64 {
        self.to_f64().unwrap_or(f64::NAN)
    }
}

impl Float for f32 {
    const POSITIVE_LABEL: Self = 1.0;
    const NEGATIVE_LABEL: Self = -1.0;
}

impl Float for f64 {
    const POSITIVE_LABEL: Self = 1.0;
    const NEGATIVE_LABEL: Self = -1.0;
}
