//! The two products of a multinomial evaluation, for a block of rows: logits `X_b·W` and the
//! gradient share `X_bᵀ·R_b`, where `W` and `R_b` have few columns (one per class).
//!
//! With so few columns, a general matrix product spends much of its time copying `X_b` into its
//! packed layout, once per product (measured with perf on MNIST, 56,000 x 784, 10 classes: 41 %
//! of a fit in matrixmultiply's packing, 39 % in its kernel). Here both products are sums of outer
//! products over the features, four rows at a time: for each feature `j`, the four rows' values
//! times the weights' row `j` (logits, accumulated in registers), or times the four residual rows
//! added into the gradient's row `j` (gradient, the residuals held in registers). The class
//! dimension is padded to a tile of 4, 12 or 16 so the compiler vectorises it; on x86-64 the loops
//! are compiled a second time for AVX2 with FMA and chosen at run time, and on CPUs with AVX-512F
//! the register-blocked kernels of `kernels_avx512.rs` take the blocks they can (the same bits). The order of every sum is
//! fixed, so results do not depend on the thread count (they may differ in the last bits between
//! machines with and without FMA). Blocks whose rows are not contiguous, or more than 16 classes,
//! go through ndarray's general matrix product.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};

use crate::evaluation::kernels_avx512 as avx512;
use crate::float::Float;
use std::convert::TryInto;

/// Rows handled together, sharing each load of the weights (logits) or of the gradient (update).
const ROWS: usize = 4;

/// A features x classes matrix (weights or gradient) with the class dimension padded to a tile
/// width, row-major; the padding stays zero.
pub(crate) struct Tiled<F> {
    data: Vec<F>,
    rows: usize,
    cols: usize,
    /// Padded width: 4, 12 or 16 for the kernels; `cols` for the general product.
    tile: usize,
}

impl<F: Float> Tiled<F> {
    pub(crate) fn zeros(rows: usize, cols: usize) -> Self {
        let tile = match cols {
            0..=4 => 4,
            5..=12 if !avx512::available() => 12,
            5..=16 => 16,
            _ => cols,
        };
        Tiled {
            data: vec![F::zero(); rows * tile],
            rows,
            cols,
            tile,
        }
    }

    pub(crate) fn from_array(a: ArrayView2<F>) -> Self {
        let mut t = Self::zeros(a.nrows(), a.ncols());
        for (dst, src) in t.data.chunks_exact_mut(t.tile).zip(a.rows()) {
            dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s);
        }
        t
    }

    /// The unpadded matrix.
    pub(crate) fn to_array(&self) -> Array2<F> {
        Array2::from_shape_fn((self.rows, self.cols), |(i, j)| {
            self.data[i * self.tile + j]
        })
    }

    pub(crate) fn tile(&self) -> usize {
        self.tile
    }

    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    pub(crate) fn data(&self) -> &[F] {
        &self.data
    }

    pub(crate) fn data_mut(&mut self) -> &mut [F] {
        &mut self.data
    }

    fn kernel(&self) -> bool {
        self.tile != self.cols || matches!(self.cols, 4 | 12 | 16)
    }

    /// The unpadded matrix, in place (for the general product).
    fn view(&self) -> ArrayView2<'_, F> {
        let shape = (self.rows, self.tile).strides((self.tile, 1));
        let full = ArrayView2::from_shape(shape, &self.data).expect("rows x tile elements");
        full.slice_move(ndarray::s![.., ..self.cols])
    }

    fn view_mut(&mut self) -> ArrayViewMut2<'_, F> {
        let shape = (self.rows, self.tile).strides((self.tile, 1));
        let full = ArrayViewMut2::from_shape(shape, &mut self.data).expect("rows x tile elements");
        full.slice_move(ndarray::s![.., ..self.cols])
    }
}

/// `out = xb · w`: `xb` is rows x d, `w` is d x classes, `out` is rows x classes.
pub(crate) fn logits<F: Float>(xb: ArrayView2<F>, w: &Tiled<F>, mut out: ArrayViewMut2<F>) {
    let d = xb.ncols();
    match (xb.as_slice(), out.as_slice_mut()) {
        (Some(x), Some(o)) if w.kernel() && d > 0 => {
            #[cfg(target_arch = "x86_64")]
            {
                let mut done = 0;
                if w.tile == 16 && avx512::available() {
                    // Safety: the CPU has AVX-512F; `w` holds d x 16 values and `o` a row of
                    // `w.cols` values per row of `x`.
                    done = unsafe { F::logits(x, d, &w.data, w.cols, o) };
                }
                let (x, o) = (&x[done * d..], &mut o[done * w.cols..]);
                if super::isa::fused() {
                    // Safety: the CPU has the features the function is compiled for.
                    unsafe { logits_avx2_fma(x, w, o) };
                    return;
                }
                logits_tiles::<F, false>(x, w, o)
            }
            #[cfg(not(target_arch = "x86_64"))]
            logits_tiles::<F, false>(x, w, o)
        }
        _ => general_mat_mul(F::one(), &xb, &w.view(), F::zero(), &mut out),
    }
}

/// The gradient `Xᵀ·R` summed over blocks of rows: features x classes with the classes padded
/// ([`Tiled`]), or classes x features for the AVX-512 kernel.
pub(crate) enum GradientSum<F> {
    Tiled(Tiled<F>),
    ClassMajor { data: Vec<F>, d: usize, k: usize },
}

impl<F: Float> GradientSum<F> {
    pub(crate) fn zeros(d: usize, k: usize) -> Self {
        if avx512::available() && d > 0 && (1..=avx512::MAX_GRADIENT_CLASSES).contains(&k) {
            GradientSum::ClassMajor {
                data: vec![F::zero(); d * k],
                d,
                k,
            }
        } else {
            GradientSum::Tiled(Tiled::zeros(d, k))
        }
    }

    /// Features x classes with the classes padded: the layout the sparse kernels add into.
    pub(crate) fn tiled(d: usize, k: usize) -> Self {
        GradientSum::Tiled(Tiled::zeros(d, k))
    }

    #[cfg(test)]
    fn from_array(a: ArrayView2<F>) -> Self {
        let mut g = Self::zeros(a.nrows(), a.ncols());
        match &mut g {
            GradientSum::Tiled(t) => *t = Tiled::from_array(a),
            GradientSum::ClassMajor { data, .. } => {
                data.iter_mut().zip(a.t().iter()).for_each(|(d, &v)| *d = v)
            }
        }
        g
    }

    /// Features x classes.
    pub(crate) fn to_array(&self) -> Array2<F> {
        match self {
            GradientSum::Tiled(t) => t.to_array(),
            GradientSum::ClassMajor { data, d, k } => {
                Array2::from_shape_fn((*d, *k), |(j, c)| data[c * d + j])
            }
        }
    }
}

/// `g += xbᵀ · r`: `r` is rows x classes (the residuals), `g` is d x classes.
pub(crate) fn accumulate_gradient<F: Float>(
    xb: ArrayView2<F>,
    r: ArrayView2<F>,
    g: &mut GradientSum<F>,
) {
    let d = xb.ncols();
    match g {
        GradientSum::ClassMajor { data, k, .. } => match (xb.as_slice(), r.as_slice()) {
            #[cfg(target_arch = "x86_64")]
            (Some(x), Some(r)) => {
                // Safety: `ClassMajor` exists only where the CPU has AVX-512F, with at most
                // `MAX_GRADIENT_CLASSES` classes; the slices are rows x d and rows x k.
                unsafe { F::gradient(x, d, r, *k, data) }
            }
            _ => {
                let share = xb.t().dot(&r);
                for (c, gc) in data.chunks_exact_mut(d).enumerate() {
                    gc.iter_mut()
                        .zip(share.column(c))
                        .for_each(|(g, &s)| *g += s);
                }
            }
        },
        GradientSum::Tiled(g) => match (xb.as_slice(), r.as_slice()) {
            (Some(x), Some(r)) if g.kernel() && d > 0 => {
                #[cfg(target_arch = "x86_64")]
                {
                    if super::isa::fused() {
                        // Safety: the CPU has the features the function is compiled for.
                        unsafe { gradient_avx2_fma(x, r, g) };
                        return;
                    }
                }
                gradient_tiles::<F, false>(x, r, g)
            }
            _ => general_mat_mul(F::one(), &xb.t(), &r, F::one(), &mut g.view_mut()),
        },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn logits_avx2_fma<F: Float>(x: &[F], w: &Tiled<F>, out: &mut [F]) {
    logits_tiles::<F, true>(x, w, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gradient_avx2_fma<F: Float>(x: &[F], r: &[F], g: &mut Tiled<F>) {
    gradient_tiles::<F, true>(x, r, g)
}

/// `a * b + c`, fused where the instruction exists (a fused multiply-add without it is a slow
/// library call).
#[inline(always)]
fn madd<F: Float, const FMA: bool>(a: F, b: F, c: F) -> F {
    if FMA {
        num_traits::Float::mul_add(a, b, c)
    } else {
        a * b + c
    }
}

/// `acc += a * w`, one tile.
#[inline(always)]
fn axpy<F: Float, const FMA: bool, const T: usize>(a: F, w: &[F; T], acc: &mut [F; T]) {
    for (acc, &w) in acc.iter_mut().zip(w) {
        *acc = madd::<F, FMA>(a, w, *acc);
    }
}

#[inline(always)]
pub(crate) fn logits_tiles<F: Float, const FMA: bool>(x: &[F], w: &Tiled<F>, out: &mut [F]) {
    match w.tile {
        4 => logits_tile::<F, FMA, 4>(x, &w.data, w.cols, out),
        12 => logits_tile::<F, FMA, 12>(x, &w.data, w.cols, out),
        _ => logits_tile::<F, FMA, 16>(x, &w.data, w.cols, out),
    }
}

#[inline(always)]
pub(crate) fn gradient_tiles<F: Float, const FMA: bool>(x: &[F], r: &[F], g: &mut Tiled<F>) {
    match g.tile {
        4 => gradient_tile::<F, FMA, 4>(x, r, g.cols, &mut g.data),
        12 => gradient_tile::<F, FMA, 12>(x, r, g.cols, &mut g.data),
        _ => gradient_tile::<F, FMA, 16>(x, r, g.cols, &mut g.data),
    }
}

/// Logits of four rows at a time: for each feature, the rows' values times the feature's padded
/// weight row, accumulated in `ROWS x T` registers.
#[inline(always)]
fn logits_tile<F: Float, const FMA: bool, const T: usize>(
    x: &[F],
    w: &[F],
    classes: usize,
    out: &mut [F],
) {
    let d = w.len() / T;
    let mut rows = x.chunks_exact(ROWS * d);
    let mut outs = out.chunks_exact_mut(ROWS * classes);
    for (xs, os) in (&mut rows).zip(&mut outs) {
        let (x0, rest) = xs.split_at(d);
        let (x1, rest) = rest.split_at(d);
        let (x2, x3) = rest.split_at(d);
        let (mut a0, mut a1) = ([F::zero(); T], [F::zero(); T]);
        let (mut a2, mut a3) = ([F::zero(); T], [F::zero(); T]);
        for ((((wj, &a), &b), &e), &f) in w.chunks_exact(T).zip(x0).zip(x1).zip(x2).zip(x3) {
            let wj: &[F; T] = wj.try_into().expect("a tile");
            axpy::<F, FMA, T>(a, wj, &mut a0);
            axpy::<F, FMA, T>(b, wj, &mut a1);
            axpy::<F, FMA, T>(e, wj, &mut a2);
            axpy::<F, FMA, T>(f, wj, &mut a3);
        }
        for (o, acc) in os.chunks_exact_mut(classes).zip([a0, a1, a2, a3]) {
            o.copy_from_slice(&acc[..classes]);
        }
    }
    // The last rows, one at a time.
    for (xr, o) in rows
        .remainder()
        .chunks_exact(d)
        .zip(outs.into_remainder().chunks_exact_mut(classes))
    {
        let mut acc = [F::zero(); T];
        for (wj, &a) in w.chunks_exact(T).zip(xr) {
            axpy::<F, FMA, T>(a, wj.try_into().expect("a tile"), &mut acc);
        }
        o.copy_from_slice(&acc[..classes]);
    }
}

/// Gradient share of four rows at a time: their padded residual rows held in registers, and for
/// each feature the rows' values times them added into the gradient's row.
#[inline(always)]
fn gradient_tile<F: Float, const FMA: bool, const T: usize>(
    x: &[F],
    r: &[F],
    classes: usize,
    g: &mut [F],
) {
    let d = g.len() / T;
    let pad = |row: &[F]| {
        let mut p = [F::zero(); T];
        p[..classes].copy_from_slice(row);
        p
    };
    let mut rows = x.chunks_exact(ROWS * d);
    let mut res = r.chunks_exact(ROWS * classes);
    for (xs, rs) in (&mut rows).zip(&mut res) {
        let (x0, rest) = xs.split_at(d);
        let (x1, rest) = rest.split_at(d);
        let (x2, x3) = rest.split_at(d);
        let r0 = pad(&rs[..classes]);
        let r1 = pad(&rs[classes..2 * classes]);
        let r2 = pad(&rs[2 * classes..3 * classes]);
        let r3 = pad(&rs[3 * classes..]);
        for ((((gj, &a), &b), &e), &f) in g.chunks_exact_mut(T).zip(x0).zip(x1).zip(x2).zip(x3) {
            for l in 0..T {
                let v = madd::<F, FMA>(a, r0[l], gj[l]);
                let v = madd::<F, FMA>(b, r1[l], v);
                let v = madd::<F, FMA>(e, r2[l], v);
                gj[l] = madd::<F, FMA>(f, r3[l], v);
            }
        }
    }
    for (xr, rr) in rows
        .remainder()
        .chunks_exact(d)
        .zip(res.remainder().chunks_exact(classes))
    {
        let r0 = pad(rr);
        for (gj, &a) in g.chunks_exact_mut(T).zip(xr) {
            for l in 0..T {
                gj[l] = madd::<F, FMA>(a, r0[l], gj[l]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::{Array2, ShapeBuilder, Zip};

    fn matrix(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 37 + j * 11 + seed * 5) % 17) as f64 / 17.0 - 0.5
        })
    }

    /// Shapes with remainders (rows not a multiple of 4), every tile width and the general
    /// product (20 classes), against ndarray's product, in f64 and f32, contiguous and not.
    #[test]
    fn kernels_equal_the_general_product() {
        for (rows, d, k) in [
            (1, 1, 1),
            (4, 8, 2),
            (7, 13, 3),
            (130, 784, 10),
            (5, 20, 1),
            (6, 9, 14),
            (3, 5, 20),
        ] {
            let x = matrix(rows, d, 1);
            let w = matrix(d, k, 2);
            let mut out = Array2::zeros((rows, k));
            logits(x.view(), &Tiled::from_array(w.view()), out.view_mut());
            assert_abs_diff_eq!(out, x.dot(&w), epsilon = 1e-10);

            let r = matrix(rows, k, 3);
            let g0 = matrix(d, k, 4);
            let mut g = GradientSum::from_array(g0.view());
            accumulate_gradient(x.view(), r.view(), &mut g);
            assert_abs_diff_eq!(g.to_array(), &g0 + &x.t().dot(&r), epsilon = 1e-10);

            let x32 = x.mapv(|v| v as f32);
            let w32 = w.mapv(|v| v as f32);
            let mut out32 = Array2::<f32>::zeros((rows, k));
            logits(x32.view(), &Tiled::from_array(w32.view()), out32.view_mut());
            // Within the summation-order bound d * eps * (|x| |w|) (the portable path does not
            // fuse, so its f32 sums of 784 terms may differ from ndarray's by more than 1e-4).
            let bound = x32.mapv(f32::abs).dot(&w32.mapv(f32::abs)) * (d as f32 * f32::EPSILON);
            let expected = x32.dot(&w32);
            assert!(
                Zip::from(&out32)
                    .and(&expected)
                    .and(&bound)
                    .all(|a, b, e| (a - b).abs() <= *e + 1e-6),
                "f32 logits outside the rounding bound for {} x {} x {}",
                rows,
                d,
                k
            );

            // Column-major input takes the general product.
            let mut xf = Array2::zeros((rows, d).f());
            xf.assign(&x);
            let mut out_f = Array2::zeros((rows, k));
            logits(xf.view(), &Tiled::from_array(w.view()), out_f.view_mut());
            assert_abs_diff_eq!(out_f, x.dot(&w), epsilon = 1e-10);
            let mut g = GradientSum::from_array(g0.view());
            accumulate_gradient(xf.view(), r.view(), &mut g);
            assert_abs_diff_eq!(g.to_array(), &g0 + &x.t().dot(&r), epsilon = 1e-10);
        }
    }

    /// The AVX-512 kernels give the AVX2 kernels' bits (the same chains of fused multiply-adds),
    /// for f64 and f32, every class count the gradient kernel takes, feature counts with and
    /// without a masked last chunk, and row counts with and without a remainder group.
    ///
    /// Where the CPU building the tests lacks AVX-512F the test is listed as ignored (`build.rs`);
    /// run anyway (`--include-ignored`), it checks that the dispatch does not pick the AVX-512
    /// kernels and that ten classes are padded to the AVX2 tile of 12.
    #[cfg(target_arch = "x86_64")]
    #[test]
    #[cfg_attr(
        not(cpu_has_avx512f),
        ignore = "this CPU lacks AVX-512F: the AVX-512 kernels cannot run here"
    )]
    fn avx512_kernels_give_the_avx2_kernels_bits() {
        if !avx512::available() {
            assert_eq!(Tiled::<f64>::zeros(784, 10).tile, 12);
            eprintln!("this CPU lacks AVX-512F: only the dispatch to the AVX2 kernels was checked");
            return;
        }
        assert_eq!(Tiled::<f64>::zeros(784, 10).tile, 16);
        assert!(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
        for (rows, d, k) in [
            (64, 784, 10),
            (37, 21, 12),
            (16, 16, 5),
            (9, 33, 1),
            (70, 40, 3),
        ] {
            let x = matrix(rows, d, 7);
            let w = matrix(d, k, 8);
            let r = matrix(rows, k, 9);
            let g0 = matrix(d, k, 10);
            let x32 = x.mapv(|v| v as f32);
            let w32 = w.mapv(|v| v as f32);
            let r32 = r.mapv(|v| v as f32);
            let g32 = g0.mapv(|v| v as f32);
            macro_rules! both {
                ($x:expr, $w:expr, $r:expr, $g:expr, $t:ty) => {{
                    let mut tiled = Tiled::<$t>::zeros(d, k);
                    tiled.tile = 16;
                    tiled.data = vec![0.0; d * 16];
                    for (dst, src) in tiled.data.chunks_exact_mut(16).zip($w.rows()) {
                        dst[..k].iter_mut().zip(src).for_each(|(d, &s)| *d = s);
                    }
                    let xs = $x.as_slice().unwrap();
                    let mut fast = vec![0.0 as $t; rows * k];
                    let done =
                        unsafe { <$t as avx512::Avx512>::logits(xs, d, &tiled.data, k, &mut fast) };
                    unsafe { logits_avx2_fma(&xs[done * d..], &tiled, &mut fast[done * k..]) };
                    let mut reference = vec![0.0 as $t; rows * k];
                    unsafe { logits_avx2_fma(xs, &tiled, &mut reference) };
                    assert!(fast
                        .iter()
                        .zip(&reference)
                        .all(|(a, b)| a.to_bits() == b.to_bits()));

                    let mut class_major: Vec<$t> = $g.t().iter().copied().collect();
                    unsafe {
                        <$t as avx512::Avx512>::gradient(
                            xs,
                            d,
                            $r.as_slice().unwrap(),
                            k,
                            &mut class_major,
                        )
                    };
                    let mut padded = Tiled::<$t>::from_array($g.view());
                    unsafe { gradient_avx2_fma(xs, $r.as_slice().unwrap(), &mut padded) };
                    let reference = padded.to_array();
                    for (c, gc) in class_major.chunks_exact(d).enumerate() {
                        for (j, v) in gc.iter().enumerate() {
                            assert_eq!(
                                v.to_bits(),
                                reference[[j, c]].to_bits(),
                                "({rows}, {d}, {k})"
                            );
                        }
                    }
                }};
            }
            both!(x, w, r, g0, f64);
            both!(x32, w32, r32, g32, f32);
        }
    }

    /// The portable and the FMA paths of the logits agree to rounding, and each equals the
    /// general product to rounding.
    #[test]
    fn portable_and_fused_paths_agree() {
        let (x, w) = (matrix(9, 19, 5), matrix(19, 10, 6));
        let expected = x.dot(&w);
        let w = Tiled::from_array(w.view());
        let mut plain = vec![0.0; 9 * 10];
        let mut fused = vec![0.0; 9 * 10];
        logits_tiles::<f64, false>(x.as_slice().unwrap(), &w, &mut plain);
        logits_tiles::<f64, true>(x.as_slice().unwrap(), &w, &mut fused);
        for ((a, b), e) in plain.iter().zip(&fused).zip(&expected) {
            assert!((a - b).abs() < 1e-12);
            assert!((a - e).abs() < 1e-12);
        }
    }

    /// The portable gradient path (the one a CPU without AVX2 and FMA takes), called directly on
    /// any machine: `g + X^T R` to rounding, for every tile width, with remainder rows, and to
    /// rounding of the FMA path.
    #[test]
    fn portable_gradient_equals_the_product_and_the_fused_path() {
        for (rows, d, k) in [(9, 19, 10), (6, 7, 3), (13, 5, 16)] {
            let (x, r, g0) = (matrix(rows, d, 1), matrix(rows, k, 2), matrix(d, k, 3));
            let expected = &g0 + &x.t().dot(&r);
            let mut plain = Tiled::from_array(g0.view());
            let mut fused = Tiled::from_array(g0.view());
            gradient_tiles::<f64, false>(x.as_slice().unwrap(), r.as_slice().unwrap(), &mut plain);
            gradient_tiles::<f64, true>(x.as_slice().unwrap(), r.as_slice().unwrap(), &mut fused);
            let (plain, fused) = (plain.to_array(), fused.to_array());
            for ((a, b), e) in plain.iter().zip(&fused).zip(&expected) {
                assert!((a - e).abs() < 1e-12, "({}, {}, {})", rows, d, k);
                assert!((a - b).abs() < 1e-12, "({}, {}, {})", rows, d, k);
            }
        }
    }
}
