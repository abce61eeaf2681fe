//! The sparse products (`sparse.rs`) in explicit AVX2 and AVX-512 registers, for rows of 16
//! classes (a tile of 16: up to 16 classes, MNIST's ten among them).
//!
//! Both products walk a block's non-zeros feature by feature (CSC), so that the table each
//! non-zero reads from at random is the small one (the block's 64 rows, 8 KB in f64), in L1:
//!
//! - Gradient, *chains*: feature `j`'s gradient row is held in registers while its non-zeros
//!   add `value * residuals[row]`, rows ascending, one fused multiply-add per lane.
//! - Logits, *scatter*: feature `j`'s weight row is held in registers while each of its
//!   non-zeros adds `value * weights[j]` into its row's logits (in memory), so every row still
//!   sums its features in ascending order.
//!
//! The per-lane operations are the scalar kernels' (the same fused multiply-add in the same
//! order), so the bits are theirs (tested in `sparse.rs`). Measured on an AVX-512 Zen 4 core
//! (perf, f64, one thread): walking the logits row by row instead, with the weights (100 KB)
//! read at random from L2, or holding four chains in flight to hide the FMA's latency, was
//! slower; the scatter kernel is bound by its stores (two 512-bit stores per non-zero in f64).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The classes (lanes of output) a chain holds.
pub(crate) const TILE: usize = 16;

/// The chained products for one float type; without x86-64 they are never called.
pub trait SparseSimd: Copy {
    /// For each chain `c` (`bounds.len() - 1` of them): for `p` in `bounds[c] .. bounds[c + 1]`
    /// in order, `out[c] = fma(values[p], table[index[p]], out[c])`, where `out[c]` and
    /// `table[i]` are rows of [`TILE`] values of `acc` and `table`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; every index is a row of `table`; `acc` has a row per chain;
    /// the bounds are non-decreasing and within `index` and `values`.
    #[cfg(target_arch = "x86_64")]
    unsafe fn chains_avx512(
        bounds: &[u32],
        index: &[u8],
        values: &[Self],
        table: &[Self],
        acc: &mut [Self],
    );
    /// As [`SparseSimd::chains_avx512`], in 256-bit registers.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; otherwise as [`SparseSimd::chains_avx512`].
    #[cfg(target_arch = "x86_64")]
    unsafe fn chains_avx2(
        bounds: &[u32],
        index: &[u8],
        values: &[Self],
        table: &[Self],
        acc: &mut [Self],
    );
    /// For each column `j` (`bounds.len() - 1` of them) in order, for `q` in `bounds[j] ..
    /// bounds[j + 1]` in order: `acc[index[q]] = fma(values[q], weights[j], acc[index[q]])`,
    /// rows of [`TILE`] values: each row of `acc` sums its terms in column order.
    ///
    /// # Safety
    /// The CPU has AVX-512F; every index is a row of `acc`; `weights` has a row per column;
    /// the bounds are non-decreasing and within `index` and `values`.
    #[cfg(target_arch = "x86_64")]
    unsafe fn scatter_avx512(
        bounds: &[u32],
        index: &[u8],
        values: &[Self],
        weights: &[Self],
        acc: &mut [Self],
    );
    /// As [`SparseSimd::scatter_avx512`], in 256-bit registers.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; otherwise as [`SparseSimd::scatter_avx512`].
    #[cfg(target_arch = "x86_64")]
    unsafe fn scatter_avx2(
        bounds: &[u32],
        index: &[u8],
        values: &[Self],
        weights: &[Self],
        acc: &mut [Self],
    );
}

#[cfg(not(target_arch = "x86_64"))]
impl SparseSimd for f64 {}
#[cfg(not(target_arch = "x86_64"))]
impl SparseSimd for f32 {}

#[cfg(target_arch = "x86_64")]
macro_rules! chain_kernel {
    ($name:ident, $feature:literal, $t:ty, $v:ty, $lanes:expr,
     $set1:ident, $load:ident, $store:ident, $fma:ident) => {
        #[target_feature(enable = $feature)]
        unsafe fn $name(bounds: &[u32], index: &[u8], values: &[$t], table: &[$t], acc: &mut [$t]) {
            const VECS: usize = TILE / $lanes;
            let (ix, vs, tb, out) = (
                index.as_ptr(),
                values.as_ptr(),
                table.as_ptr(),
                acc.as_mut_ptr(),
            );
            for (c, span) in bounds.windows(2).enumerate() {
                let (p0, p1) = (span[0] as usize, span[1] as usize);
                if p0 == p1 {
                    continue;
                }
                let o = out.add(c * TILE);
                let mut regs: [$v; VECS] = [std::mem::zeroed(); VECS];
                for (v, r) in regs.iter_mut().enumerate() {
                    *r = $load(o.add(v * $lanes));
                }
                for p in p0..p1 {
                    let a = $set1(*vs.add(p));
                    let w = tb.add(usize::from(*ix.add(p)) * TILE);
                    for v in 0..VECS {
                        regs[v] = $fma(a, $load(w.add(v * $lanes)), regs[v]);
                    }
                }
                for (v, r) in regs.iter().enumerate() {
                    $store(o.add(v * $lanes), *r);
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
macro_rules! scatter_kernel {
    ($name:ident, $feature:literal, $t:ty, $v:ty, $lanes:expr,
     $set1:ident, $load:ident, $store:ident, $fma:ident) => {
        #[target_feature(enable = $feature)]
        unsafe fn $name(
            bounds: &[u32],
            index: &[u8],
            values: &[$t],
            weights: &[$t],
            acc: &mut [$t],
        ) {
            const VECS: usize = TILE / $lanes;
            let (ix, vs, wt, out) = (
                index.as_ptr(),
                values.as_ptr(),
                weights.as_ptr(),
                acc.as_mut_ptr(),
            );
            for (j, span) in bounds.windows(2).enumerate() {
                let (q0, q1) = (span[0] as usize, span[1] as usize);
                if q0 == q1 {
                    continue;
                }
                let mut w: [$v; VECS] = [std::mem::zeroed(); VECS];
                for (v, w) in w.iter_mut().enumerate() {
                    *w = $load(wt.add(j * TILE + v * $lanes));
                }
                for q in q0..q1 {
                    let a = $set1(*vs.add(q));
                    let row = out.add(usize::from(*ix.add(q)) * TILE);
                    for v in 0..VECS {
                        let o = row.add(v * $lanes);
                        $store(o, $fma(a, w[v], $load(o)));
                    }
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;

    chain_kernel!(
        f64_avx512,
        "avx512f",
        f64,
        __m512d,
        8,
        _mm512_set1_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_fmadd_pd
    );
    chain_kernel!(
        f32_avx512,
        "avx512f",
        f32,
        __m512,
        16,
        _mm512_set1_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_fmadd_ps
    );
    chain_kernel!(
        f64_avx2,
        "avx2,fma",
        f64,
        __m256d,
        4,
        _mm256_set1_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_fmadd_pd
    );
    chain_kernel!(
        f32_avx2,
        "avx2,fma",
        f32,
        __m256,
        8,
        _mm256_set1_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_fmadd_ps
    );

    scatter_kernel!(
        f64_scatter_avx512,
        "avx512f",
        f64,
        __m512d,
        8,
        _mm512_set1_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_fmadd_pd
    );
    scatter_kernel!(
        f32_scatter_avx512,
        "avx512f",
        f32,
        __m512,
        16,
        _mm512_set1_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_fmadd_ps
    );
    scatter_kernel!(
        f64_scatter_avx2,
        "avx2,fma",
        f64,
        __m256d,
        4,
        _mm256_set1_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_fmadd_pd
    );
    scatter_kernel!(
        f32_scatter_avx2,
        "avx2,fma",
        f32,
        __m256,
        8,
        _mm256_set1_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_fmadd_ps
    );

    // The four kernels share one signature: (bounds, index, values, table, acc).
    macro_rules! implement {
        ($t:ty, $($method:ident => $kernel:ident),*) => {
            impl SparseSimd for $t {
                $(
                    unsafe fn $method(
                        bounds: &[u32],
                        index: &[u8],
                        values: &[$t],
                        table: &[$t],
                        acc: &mut [$t],
                    ) {
                        $kernel(bounds, index, values, table, acc)
                    }
                )*
            }
        };
    }
    implement!(f64, chains_avx512 => f64_avx512, chains_avx2 => f64_avx2,
        scatter_avx512 => f64_scatter_avx512, scatter_avx2 => f64_scatter_avx2);
    implement!(f32, chains_avx512 => f32_avx512, chains_avx2 => f32_avx2,
        scatter_avx512 => f32_scatter_avx512, scatter_avx2 => f32_scatter_avx2);
}
