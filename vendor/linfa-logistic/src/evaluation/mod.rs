//! The evaluation of the objective and its gradient: the storage a fit reads its rows from
//! (`records.rs`), the fused pass over them (`objective.rs`) and its kernels (`kernels.rs`,
//! portable and AVX2; `kernels_avx512.rs`). The unsafe SIMD code is in the two kernel files.

pub(crate) mod isa;
pub(crate) mod kernels;
pub(crate) mod kernels_avx512;
pub(crate) mod objective;
pub(crate) mod records;
pub(crate) mod sparse;
