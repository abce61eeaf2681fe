//! The evaluation of the objective and its gradient: the storage a fit reads its rows from
//! (`records.rs`), the fused pass over them (`objective.rs`) and its kernels (`kernels.rs`,
//! portable and AVX2; `kernels_avx512.rs`), the non-zeros' index and products (`sparse.rs`,
//! `sparse_simd.rs`). The unsafe SIMD code is in the two kernel files and `sparse_simd.rs`.

pub(crate) mod isa;
pub(crate) mod kernels;
pub(crate) mod kernels_avx512;
pub(crate) mod objective;
pub(crate) mod records;
pub(crate) mod sparse;
pub(crate) mod sparse_simd;
