//! The two products of a multinomial evaluation over the non-zero values only, for byte
//! matrices whose zero byte is the value zero (MNIST: 81 % of the pixels).
//!
//! Skipping a zero term leaves a chain of multiply-adds unchanged: `0 * w + acc` is `acc`
//! (the chains start at +0 and a sum of non-zero terms is never -0). So each output here is the
//! same chain as in the dense kernels (`kernels.rs`): logits over the row's features in
//! ascending order from zero, the gradient over the block's rows in ascending order from the
//! running sum, fused or not as the dense path of the same [`KernelPath`] is. The results are
//! the dense path's bits (tested on MNIST blocks), for a fraction of the work.
//!
//! The index is built once per matrix, per block of [`BLOCK_ROWS`] rows (the blocks the
//! evaluation walks): the block's non-zeros feature by feature (CSC: row in the block, byte),
//! rows ascending within a feature. Both products walk the features in order, so every logit
//! still sums its features in order and every gradient element its rows. The values are
//! converted once per block and evaluation by the same arithmetic as the dense conversion. Two
//! bytes per non-zero and a column pointer per block and feature: 20 MB for MNIST's 56,000
//! training images (its 784 x 56,000 bytes are 44 MB).

use std::convert::TryInto;

use crate::evaluation::isa::{kernel_path, KernelPath};
use crate::evaluation::kernels::Tiled;
#[cfg(target_arch = "x86_64")]
use crate::evaluation::sparse_simd::TILE;
use crate::float::Float;

/// Rows per block; blocks start at multiples of it (as the evaluation's blocks do).
pub(crate) const BLOCK_ROWS: usize = 64;

/// Blocks with a larger share of non-zero values take the dense kernels (measured in
/// `examples/evaluation_speed.rs`: the sparse kernels do one indexed multiply-add per non-zero,
/// the dense ones stream every value; the two cross near this share).
pub(crate) const MAX_DENSITY: f64 = 0.5;

/// The non-zero structure of a byte matrix, block by block: each block's non-zeros column by
/// column (CSC), rows ascending within a column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SparseIndex {
    d: usize,
    n: usize,
    /// Per block: where its non-zeros start in `rows`/`bytes` (blocks + 1 entries).
    block_ptr: Vec<u32>,
    /// Per block: per feature, where its non-zeros start, relative to the block's first
    /// (d + 1 entries per block).
    col_ptr: Vec<u32>,
    /// Per non-zero: its row in the block.
    rows: Vec<u8>,
    bytes: Vec<u8>,
}

impl SparseIndex {
    /// The index of a row-major byte matrix of `d` columns; none with more than 65,535 columns.
    pub(crate) fn new(bytes: &[u8], d: usize) -> Option<SparseIndex> {
        if d == 0 || d > usize::from(u16::MAX) || BLOCK_ROWS * d > usize::from(u16::MAX) + 1 {
            return None;
        }
        let n = bytes.len() / d;
        let nonzero = bytes.iter().filter(|&&b| b != 0).count();
        let blocks = n.div_ceil(BLOCK_ROWS);
        let mut index = SparseIndex {
            d,
            n,
            block_ptr: Vec::with_capacity(blocks + 1),
            col_ptr: Vec::with_capacity(blocks * (d + 1)),
            rows: Vec::with_capacity(nonzero),
            bytes: Vec::with_capacity(nonzero),
        };
        index.block_ptr.push(0);
        for block in bytes.chunks(BLOCK_ROWS * d) {
            index.add_block(block);
        }
        Some(index)
    }

    /// One block's CSC arrays, by counting sort over the features.
    fn add_block(&mut self, block: &[u8]) {
        let d = self.d;
        let mut counts = vec![0u32; d + 1];
        for row in block.chunks_exact(d) {
            for (j, _) in row.iter().enumerate().filter(|(_, &b)| b != 0) {
                counts[j + 1] += 1;
            }
        }
        for j in 0..d {
            counts[j + 1] += counts[j];
        }
        let first = self.rows.len();
        let nonzero = counts[d] as usize;
        self.rows.resize(first + nonzero, 0);
        self.bytes.resize(first + nonzero, 0);
        self.col_ptr.extend_from_slice(&counts);
        let mut next = counts;
        for (i, row) in block.chunks_exact(d).enumerate() {
            for (j, &b) in row.iter().enumerate().filter(|(_, &b)| b != 0) {
                let q = first + next[j] as usize;
                next[j] += 1;
                self.rows[q] = i as u8;
                self.bytes[q] = b;
            }
        }
        self.block_ptr.push(self.rows.len() as u32);
    }

    /// The block starting at row `start` (a multiple of [`BLOCK_ROWS`]), if it is one and sparse
    /// enough to gain; its values are written into `values` by `convert(col_ptr, bytes,
    /// values)` (the block's non-zero bytes column by column, `col_ptr` giving each feature's
    /// range).
    pub(crate) fn block<'a, F: Copy>(
        &'a self,
        start: usize,
        end: usize,
        values: &'a mut Vec<F>,
        convert: impl Fn(&[u32], &[u8], &mut Vec<F>),
    ) -> Option<SparseBlock<'a, F>> {
        let aligned = start % BLOCK_ROWS == 0 && end == (start + BLOCK_ROWS).min(self.n);
        if !aligned || start >= self.n {
            return None;
        }
        let block = start / BLOCK_ROWS;
        let (first, last) = (
            self.block_ptr[block] as usize,
            self.block_ptr[block + 1] as usize,
        );
        if (last - first) as f64 > MAX_DENSITY * ((end - start) * self.d) as f64 {
            return None;
        }
        let col_ptr = &self.col_ptr[block * (self.d + 1)..(block + 1) * (self.d + 1)];
        values.clear();
        convert(col_ptr, &self.bytes[first..last], values);
        Some(SparseBlock {
            rows: end - start,
            col_ptr,
            csc_rows: &self.rows[first..last],
            values,
        })
    }
}

/// One block's non-zeros with their values, column by column (the crate's own: public only
/// because [`crate::RowBlocks`] names it).
#[doc(hidden)]
pub struct SparseBlock<'a, F> {
    rows: usize,
    /// Per feature, where its non-zeros start in `csc_rows`/`values` (d + 1 entries).
    col_ptr: &'a [u32],
    /// Per non-zero: its row in the block.
    csc_rows: &'a [u8],
    values: &'a [F],
}

impl<F: Float> SparseBlock<'_, F> {
    /// `out = x_b · w` (rows x classes, row-major), on the path evaluations run.
    pub(crate) fn logits(&self, w: &Tiled<F>, out: &mut [F]) {
        match kernel_path() {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => unsafe { self.logits_avx512(w, out) },
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => unsafe { self.logits_avx2(w, out) },
            _ => self.logits_with::<false>(w, out),
        }
    }

    /// `g += x_bᵀ · r` (`r` rows x classes, row-major), on the path evaluations run.
    pub(crate) fn gradient(&self, r: &[F], g: &mut Tiled<F>) {
        match kernel_path() {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => unsafe { self.gradient_avx512(r, g) },
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => unsafe { self.gradient_avx2(r, g) },
            _ => self.gradient_with::<false>(r, g),
        }
    }

    /// Tiles of 16 in explicit registers (`sparse_simd.rs`), others as the compiler vectorises.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn logits_avx512(&self, w: &Tiled<F>, out: &mut [F]) {
        if w.tile() != TILE {
            return self.logits_with::<true>(w, out);
        }
        let mut acc = [F::zero(); BLOCK_ROWS * TILE];
        F::scatter_avx512(self.col_ptr, self.csc_rows, self.values, w.data(), &mut acc);
        self.copy_logits(&acc, w.cols(), out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn logits_avx2(&self, w: &Tiled<F>, out: &mut [F]) {
        if w.tile() != TILE {
            return self.logits_with::<true>(w, out);
        }
        let mut acc = [F::zero(); BLOCK_ROWS * TILE];
        F::scatter_avx2(self.col_ptr, self.csc_rows, self.values, w.data(), &mut acc);
        self.copy_logits(&acc, w.cols(), out);
    }

    /// The first `classes` of each row's [`TILE`] logits.
    fn copy_logits(&self, acc: &[F], classes: usize, out: &mut [F]) {
        for (o, a) in out
            .chunks_exact_mut(classes)
            .zip(acc.chunks_exact(TILE))
            .take(self.rows)
        {
            o.copy_from_slice(&a[..classes]);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn gradient_avx512(&self, r: &[F], g: &mut Tiled<F>) {
        if g.tile() != TILE {
            return self.gradient_with::<true>(r, g);
        }
        let padded = self.padded_residuals::<TILE>(r, g.cols());
        let table = padded.as_flattened();
        F::chains_avx512(
            self.col_ptr,
            self.csc_rows,
            self.values,
            table,
            g.data_mut(),
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn gradient_avx2(&self, r: &[F], g: &mut Tiled<F>) {
        if g.tile() != TILE {
            return self.gradient_with::<true>(r, g);
        }
        let padded = self.padded_residuals::<TILE>(r, g.cols());
        let table = padded.as_flattened();
        F::chains_avx2(
            self.col_ptr,
            self.csc_rows,
            self.values,
            table,
            g.data_mut(),
        );
    }

    /// The block's residuals (rows x `classes`, row-major) in rows of `T`, zero-padded.
    #[inline(always)]
    fn padded_residuals<const T: usize>(&self, r: &[F], classes: usize) -> [[F; T]; BLOCK_ROWS] {
        let mut padded = [[F::zero(); T]; BLOCK_ROWS];
        for (p, row) in padded
            .iter_mut()
            .zip(r.chunks_exact(classes))
            .take(self.rows)
        {
            p[..classes].copy_from_slice(row);
        }
        padded
    }

    #[inline(always)]
    pub(crate) fn logits_with<const FMA: bool>(&self, w: &Tiled<F>, out: &mut [F]) {
        match w.tile() {
            4 => self.logits_tile::<FMA, 4>(w, out),
            12 => self.logits_tile::<FMA, 12>(w, out),
            _ => self.logits_tile::<FMA, 16>(w, out),
        }
    }

    #[inline(always)]
    pub(crate) fn gradient_with<const FMA: bool>(&self, r: &[F], g: &mut Tiled<F>) {
        match g.tile() {
            4 => self.gradient_tile::<FMA, 4>(r, g),
            12 => self.gradient_tile::<FMA, 12>(r, g),
            _ => self.gradient_tile::<FMA, 16>(r, g),
        }
    }

    /// Each row's logits: the features in order, each column's non-zeros adding the feature's
    /// weight row into their rows' sums (so each row still sums its features in order).
    #[inline(always)]
    fn logits_tile<const FMA: bool, const T: usize>(&self, w: &Tiled<F>, out: &mut [F]) {
        let (classes, wd) = (w.cols(), w.data());
        let mut acc = [[F::zero(); T]; BLOCK_ROWS];
        for (j, wj) in wd.chunks_exact(T).enumerate() {
            let (q0, q1) = (self.col_ptr[j] as usize, self.col_ptr[j + 1] as usize);
            for (&i, &v) in self.csc_rows[q0..q1].iter().zip(&self.values[q0..q1]) {
                for (a, &wl) in acc[usize::from(i)].iter_mut().zip(wj) {
                    *a = madd::<F, FMA>(v, wl, *a);
                }
            }
        }
        for (o, a) in out.chunks_exact_mut(classes).zip(&acc).take(self.rows) {
            o.copy_from_slice(&a[..classes]);
        }
    }

    /// Each feature's gradient row: its non-zeros in row order, each times the row's residuals.
    #[inline(always)]
    fn gradient_tile<const FMA: bool, const T: usize>(&self, r: &[F], g: &mut Tiled<F>) {
        let padded = self.padded_residuals::<T>(r, g.cols());
        let gd = g.data_mut();
        for (j, gj) in gd.chunks_exact_mut(T).enumerate() {
            let (q0, q1) = (self.col_ptr[j] as usize, self.col_ptr[j + 1] as usize);
            if q0 == q1 {
                continue;
            }
            let mut acc: [F; T] = (&*gj).try_into().expect("a tile");
            for (&i, &v) in self.csc_rows[q0..q1].iter().zip(&self.values[q0..q1]) {
                for (a, &rl) in acc.iter_mut().zip(&padded[usize::from(i)]) {
                    *a = madd::<F, FMA>(v, rl, *a);
                }
            }
            gj.copy_from_slice(&acc);
        }
    }
}

/// `a * b + c`, fused or not (as `kernels.rs`'s).
#[inline(always)]
fn madd<F: Float, const FMA: bool>(a: F, b: F, c: F) -> F {
    if FMA {
        num_traits::Float::mul_add(a, b, c)
    } else {
        a * b + c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::kernels::{gradient_tiles, logits_tiles};
    use crate::evaluation::objective::multi_loss_grad;
    use crate::evaluation::records::{RowBlocks, ScaledBytes};
    use ndarray::{Array1, Array2};

    /// The same bits (f32 widens exactly).
    fn same<F: Float>(a: F, b: F) -> bool {
        a.as_f64().to_bits() == b.as_f64().to_bits()
    }

    /// Bytes that are zero four times in five (as MNIST's pixels), with a dense first block.
    fn bytes(n: usize, d: usize) -> Array2<u8> {
        Array2::from_shape_fn((n, d), |(i, j)| {
            let h = (i * 7919 + j * 104_729 + i * j) % 1000;
            if i < BLOCK_ROWS || h < 200 {
                (1 + h % 255) as u8
            } else {
                0
            }
        })
    }

    fn values(n: usize, k: usize, seed: usize) -> Vec<f64> {
        (0..n * k)
            .map(|i| (((i * 37 + seed * 101) % 97) as f64 - 48.0) / 53.0)
            .collect()
    }

    /// The sparse products equal the dense ones to the bit, fused and not, for every tile width
    /// and a partial last block, in f64 and f32.
    #[test]
    fn sparse_kernels_give_the_dense_kernels_bits() {
        fn check<F: Float>(to: impl Fn(f64) -> F) {
            let (n, d) = (BLOCK_ROWS * 2 + 13, 37);
            let raw = bytes(n, d);
            let index = SparseIndex::new(raw.as_slice().unwrap(), d).unwrap();
            for k in [3, 10, 16] {
                let w = Array2::from_shape_vec((d, k), values(d, k, 1))
                    .unwrap()
                    .mapv(&to);
                let tiled = Tiled::from_array(w.view());
                for start in (BLOCK_ROWS..n).step_by(BLOCK_ROWS) {
                    let end = (start + BLOCK_ROWS).min(n);
                    let mut vals = Vec::new();
                    let block = index
                        .block(start, end, &mut vals, |_, bytes, out| {
                            out.extend(bytes.iter().map(|&b| F::cast(b) / F::cast(255.0)))
                        })
                        .expect("a sparse block");
                    let dense: Vec<F> = raw
                        .slice(ndarray::s![start..end, ..])
                        .iter()
                        .map(|&b| F::cast(b) / F::cast(255.0))
                        .collect();
                    let r: Vec<F> = values(end - start, k, 2).into_iter().map(&to).collect();
                    let g0 = Array2::from_shape_vec((d, k), values(d, k, 3))
                        .unwrap()
                        .mapv(&to);
                    macro_rules! compare {
                        ($fma:expr) => {{
                            let (mut a, mut b) = (
                                vec![F::zero(); (end - start) * k],
                                vec![F::zero(); (end - start) * k],
                            );
                            block.logits_with::<$fma>(&tiled, &mut a);
                            logits_tiles::<F, $fma>(&dense, &tiled, &mut b);
                            assert!(
                                a.iter().zip(&b).all(|(x, y)| same(*x, *y)),
                                "logits k {}",
                                k
                            );
                            let (mut ga, mut gb) =
                                (Tiled::from_array(g0.view()), Tiled::from_array(g0.view()));
                            block.gradient_with::<$fma>(&r, &mut ga);
                            gradient_tiles::<F, $fma>(&dense, &r, &mut gb);
                            let (ga, gb) = (ga.to_array(), gb.to_array());
                            assert!(
                                ga.iter().zip(&gb).all(|(x, y)| same(*x, *y)),
                                "gradient k {}",
                                k
                            );
                        }};
                    }
                    compare!(false);
                    compare!(true);
                }
            }
        }
        check::<f64>(|v| v);
        check::<f32>(|v| v as f32);
    }

    /// A whole evaluation on the sparse storage equals the dense storage's to the bit, with every
    /// zero-preserving scaling, over several chunks, on 1, 2 and 3 threads.
    #[test]
    fn sparse_evaluations_give_the_dense_bits() {
        fn check<F: Float>(to: impl Fn(f64) -> F + Sync, x: ScaledBytes<F>) {
            let (n, d, k) = (x.n_rows(), x.n_columns(), 10);
            assert!(x.is_sparse());
            let dense = x.clone().dense();
            assert!(!dense.is_sparse());
            let mut y = Array2::<F>::zeros((n, k));
            for i in 0..n {
                y[[i, (i * 7) % k]] = F::one();
            }
            let w = Array2::from_shape_vec((d + 1, k), values(d + 1, k, 4))
                .unwrap()
                .mapv(&to);
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let alpha = to(0.3);
                let ((ls, gs), (ld, gd)) = pool.install(|| {
                    (
                        multi_loss_grad(&x, y.view(), alpha, &w),
                        multi_loss_grad(&dense, y.view(), alpha, &w),
                    )
                });
                assert!(same(ls, ld), "{} threads", threads);
                assert!(gs.iter().zip(&gd).all(|(a, b)| same(*a, *b)));
            }
        }
        let (n, d) = (2 * 1024 + 3 * BLOCK_ROWS + 5, 29);
        check::<f64>(|v| v, ScaledBytes::new(bytes(n, d)));
        check::<f64>(
            |v| v,
            ScaledBytes::new(bytes(n, d)).divided_by(255.0).unwrap(),
        );
        let scales = Array1::from_shape_fn(d, |j| 1.0 / (200.0 + j as f64));
        check::<f64>(
            |v| v,
            ScaledBytes::new(bytes(n, d))
                .with_scaler(Array1::zeros(d), scales.clone())
                .unwrap()
                .divided_by(3.0)
                .unwrap(),
        );
        // f32 reads densely by default on the AVX-512 path (measured slower sparse there);
        // forced, it gives the same bits.
        assert_eq!(
            ScaledBytes::<f32>::new(bytes(n, d)).is_sparse(),
            kernel_path() != KernelPath::Avx512
        );
        check::<f32>(
            |v| v as f32,
            ScaledBytes::new(bytes(n, d))
                .divided_by(255.0)
                .unwrap()
                .sparse(),
        );
    }

    /// A scaler with offsets (a standard scaler) folded into the weights: the evaluation on the
    /// non-zero bytes equals the dense one to rounding, on any thread count, with and without an
    /// intercept, in f64 and f32 (where a dense block among sparse ones takes the stored bytes too).
    #[test]
    fn folded_scaler_gives_the_dense_evaluation() {
        fn check<F: Float>(to: impl Fn(f64) -> F + Sync, tolerance: f64) {
            let (n, d, k) = (2 * 1024 + 3 * BLOCK_ROWS + 5, 29, 10);
            let offsets = Array1::from_shape_fn(d, |j| to(20.0 + 3.5 * j as f64));
            let scales = Array1::from_shape_fn(d, |j| to(1.0 / (40.0 + j as f64)));
            let x = ScaledBytes::new(bytes(n, d))
                .with_scaler(offsets, scales)
                .unwrap()
                .divided_by(to(3.0))
                .unwrap()
                .sparse();
            assert!(x.is_sparse() && x.fold().is_some());
            let dense = x.clone().dense();
            assert!(dense.fold().is_none());
            let mut y = Array2::<F>::zeros((n, k));
            for i in 0..n {
                y[[i, (i * 7) % k]] = F::one();
            }
            for rows in [d, d + 1] {
                let w = Array2::from_shape_vec((rows, k), values(rows, k, 4))
                    .unwrap()
                    .mapv(&to);
                let alpha = to(0.3);
                let (ld, gd) = multi_loss_grad(&dense, y.view(), alpha, &w);
                let mut first = None;
                for threads in [1, 2, 3] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let (ls, gs) = pool.install(|| multi_loss_grad(&x, y.view(), alpha, &w));
                    let close =
                        |a: F, b: F| (a - b).as_f64().abs() <= tolerance * (1.0 + b.as_f64().abs());
                    assert!(close(ls, ld), "loss {} {}", ls.as_f64(), ld.as_f64());
                    let scale = gd.iter().fold(0.0f64, |m, g| m.max(g.as_f64().abs()));
                    assert!(gs
                        .iter()
                        .zip(&gd)
                        .all(|(a, b)| (*a - *b).as_f64().abs() <= tolerance * scale));
                    // The same bits on any thread count.
                    let first = first.get_or_insert_with(|| (ls, gs.clone()));
                    assert!(same(first.0, ls) && first.1 == gs);
                }
            }
        }
        check::<f64>(|v| v, 1e-12);
        check::<f32>(|v| v as f32, 1e-4);
    }
}
