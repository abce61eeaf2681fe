//! AVX-512 versions of the two products of `kernels.rs`, register-blocked, chosen at run time on
//! CPUs with AVX-512F.
//!
//! - Logits `X_b·W`: 8 rows (f64) or 16 rows (f32) at a time, the weights' row `j` padded to 16
//!   classes (two or one 512-bit registers), each row's value at feature `j` broadcast and
//!   multiplied into its accumulators: 16 accumulators, loaded weights shared by all the rows.
//! - Gradient `Xᵀ·R`, kept class-major (classes x features): 16 features (f64) or 32 (f32) of up
//!   to 12 classes at a time, held in registers over every row of the block (each row's features
//!   loaded once, each residual broadcast), then stored; no padding of the classes, no load or
//!   store of the gradient per row.
//!
//! Each output element is the same chain of fused multiply-adds, in the same order, as in the
//! AVX2 kernels of `kernels.rs` (logits: over the features from zero; gradient: over the rows,
//! continuing from the running sum), so both paths give the same bits (tested).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Classes the gradient kernel keeps in registers (2 x 12 accumulators).
pub(crate) const MAX_GRADIENT_CLASSES: usize = 12;

/// True when the evaluation runs these kernels: the CPU has AVX-512F and no other path is forced
/// (`isa.rs`).
pub(crate) fn available() -> bool {
    super::isa::kernel_path() == super::isa::KernelPath::Avx512
}

/// The kernels for one float type (f32 and f64); without x86-64 they are never called.
pub trait Avx512: Copy {
    #[cfg(target_arch = "x86_64")]
    const LOGIT_ROWS: usize;
    /// `out = x · w` for `LOGIT_ROWS`-row groups of `x` (rows x d, row-major); `w` is d x 16;
    /// returns the number of rows done (the rest are left to the caller).
    ///
    /// # Safety
    /// The CPU has AVX-512F; `w.len() == d * 16`, `out.len() >= rows * classes`.
    #[cfg(target_arch = "x86_64")]
    unsafe fn logits(x: &[Self], d: usize, w: &[Self], classes: usize, out: &mut [Self]) -> usize;
    /// `g += x_bᵀ · r` with `g` classes x d (row-major), `x` rows x d, `r` rows x classes.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `classes <= MAX_GRADIENT_CLASSES`; the slices have those shapes.
    #[cfg(target_arch = "x86_64")]
    unsafe fn gradient(x: &[Self], d: usize, r: &[Self], classes: usize, g: &mut [Self]);
}

#[cfg(not(target_arch = "x86_64"))]
impl Avx512 for f64 {}
#[cfg(not(target_arch = "x86_64"))]
impl Avx512 for f32 {}

#[cfg(target_arch = "x86_64")]
macro_rules! avx512_kernels {
    ($t:ty, $lanes:expr, $v:ty, $set1:ident, $zero:ident, $load:ident, $fma:ident,
     $maskload:ident, $maskstore:ident, $store:ident, $mask:ty) => {
        impl Avx512 for $t {
            const LOGIT_ROWS: usize = 128 / $lanes;

            #[target_feature(enable = "avx512f")]
            unsafe fn logits(
                x: &[$t],
                d: usize,
                w: &[$t],
                classes: usize,
                out: &mut [$t],
            ) -> usize {
                const ROWS: usize = 128 / $lanes;
                const VECS: usize = 16 / $lanes;
                let groups = x.len() / d / ROWS;
                for g in 0..groups {
                    let xs = x.as_ptr().add(g * ROWS * d);
                    let mut acc = [[$zero(); VECS]; ROWS];
                    for j in 0..d {
                        let wj = w.as_ptr().add(j * 16);
                        let mut wv = [$zero(); VECS];
                        for (v, wv) in wv.iter_mut().enumerate() {
                            *wv = $load(wj.add(v * $lanes));
                        }
                        for (r, acc) in acc.iter_mut().enumerate() {
                            let a = $set1(*xs.add(r * d + j));
                            for v in 0..VECS {
                                acc[v] = $fma(a, wv[v], acc[v]);
                            }
                        }
                    }
                    for (r, acc) in acc.iter().enumerate() {
                        let mut row = [0 as $t; 16];
                        for v in 0..VECS {
                            $store(row.as_mut_ptr().add(v * $lanes), acc[v]);
                        }
                        let o = (g * ROWS + r) * classes;
                        out[o..o + classes].copy_from_slice(&row[..classes]);
                    }
                }
                groups * ROWS
            }

            #[target_feature(enable = "avx512f")]
            unsafe fn gradient(x: &[$t], d: usize, r: &[$t], classes: usize, g: &mut [$t]) {
                match classes {
                    1 => gradient_k::<1>(x, d, r, g),
                    2 => gradient_k::<2>(x, d, r, g),
                    3 => gradient_k::<3>(x, d, r, g),
                    4 => gradient_k::<4>(x, d, r, g),
                    5 => gradient_k::<5>(x, d, r, g),
                    6 => gradient_k::<6>(x, d, r, g),
                    7 => gradient_k::<7>(x, d, r, g),
                    8 => gradient_k::<8>(x, d, r, g),
                    9 => gradient_k::<9>(x, d, r, g),
                    10 => gradient_k::<10>(x, d, r, g),
                    11 => gradient_k::<11>(x, d, r, g),
                    12 => gradient_k::<12>(x, d, r, g),
                    _ => unreachable!("at most MAX_GRADIENT_CLASSES classes"),
                }

                /// Two vectors of features at a time (`2 * lanes`), the last chunk masked.
                #[inline(always)]
                unsafe fn gradient_k<const K: usize>(x: &[$t], d: usize, r: &[$t], g: &mut [$t]) {
                    let rows = r.len() / K;
                    let step = 2 * $lanes;
                    let mut j = 0;
                    while j < d {
                        let width = (d - j).min(step);
                        let m0: $mask = mask(width.min($lanes));
                        let m1: $mask = mask(width.saturating_sub($lanes));
                        let mut acc = [[$zero(); 2]; K];
                        for (c, acc) in acc.iter_mut().enumerate() {
                            let gc = g.as_ptr().add(c * d + j);
                            acc[0] = $maskload($zero(), m0, gc);
                            acc[1] = $maskload($zero(), m1, gc.wrapping_add($lanes));
                        }
                        for i in 0..rows {
                            let xr = x.as_ptr().add(i * d + j);
                            let x0 = $maskload($zero(), m0, xr);
                            let x1 = $maskload($zero(), m1, xr.wrapping_add($lanes));
                            let ri = r.as_ptr().add(i * K);
                            for (c, acc) in acc.iter_mut().enumerate() {
                                let b = $set1(*ri.add(c));
                                acc[0] = $fma(x0, b, acc[0]);
                                acc[1] = $fma(x1, b, acc[1]);
                            }
                        }
                        for (c, acc) in acc.iter().enumerate() {
                            let gc = g.as_mut_ptr().add(c * d + j);
                            $maskstore(gc, m0, acc[0]);
                            $maskstore(gc.wrapping_add($lanes), m1, acc[1]);
                        }
                        j += step;
                    }
                }

                /// The first `n` lanes.
                #[inline(always)]
                fn mask(n: usize) -> $mask {
                    if n >= $lanes {
                        <$mask>::MAX
                    } else {
                        ((1u32 << n) - 1) as $mask
                    }
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
avx512_kernels!(
    f64,
    8,
    __m512d,
    _mm512_set1_pd,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_fmadd_pd,
    _mm512_mask_loadu_pd,
    _mm512_mask_storeu_pd,
    _mm512_storeu_pd,
    u8
);
#[cfg(target_arch = "x86_64")]
avx512_kernels!(
    f32,
    16,
    __m512,
    _mm512_set1_ps,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_fmadd_ps,
    _mm512_mask_loadu_ps,
    _mm512_mask_storeu_ps,
    _mm512_storeu_ps,
    u16
);
