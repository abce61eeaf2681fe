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
//! evaluation walks): the block's non-zeros row by row (CSR: feature, byte) for the logits, and
//! feature by feature (CSC: row in the block, position in the CSR order) for the gradient. The
//! values are converted once per block and evaluation, in CSR order, by the same arithmetic as
//! the dense conversion. About 6 bytes per non-zero: 50 MB for MNIST's 56,000 training images.

use std::convert::TryInto;

use crate::evaluation::isa::{kernel_path, KernelPath};
use crate::evaluation::kernels::Tiled;
use crate::float::Float;

/// Rows per block; blocks start at multiples of it (as the evaluation's blocks do).
pub(crate) const BLOCK_ROWS: usize = 64;

/// Blocks with a larger share of non-zero values take the dense kernels (measured in
/// `examples/evaluation_speed.rs`: the sparse kernels do one indexed multiply-add per non-zero,
/// the dense ones stream every value; the two cross near this share).
pub(crate) const MAX_DENSITY: f64 = 0.5;

/// The non-zero structure of a byte matrix, block by block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SparseIndex {
    d: usize,
    n: usize,
    /// Per row: where its non-zeros start in `cols`/`bytes` (n + 1 entries).
    row_ptr: Vec<u32>,
    cols: Vec<u16>,
    bytes: Vec<u8>,
    /// Per block: per feature, where its non-zeros start in the block's CSC arrays (d + 1
    /// entries per block), relative to the block's first non-zero.
    col_ptr: Vec<u32>,
    /// Per non-zero in CSC order: its row in the block and its position in the block's CSR order.
    csc_rows: Vec<u8>,
    csc_src: Vec<u16>,
}

impl SparseIndex {
    /// The index of a row-major byte matrix of `d` columns; none with more than 65,535 columns.
    pub(crate) fn new(bytes: &[u8], d: usize) -> Option<SparseIndex> {
        if d == 0 || d > usize::from(u16::MAX) || BLOCK_ROWS * d > usize::from(u16::MAX) + 1 {
            return None;
        }
        let n = bytes.len() / d;
        let mut index = SparseIndex {
            d,
            n,
            row_ptr: Vec::with_capacity(n + 1),
            cols: Vec::new(),
            bytes: Vec::new(),
            col_ptr: Vec::with_capacity(n.div_ceil(BLOCK_ROWS) * (d + 1)),
            csc_rows: Vec::new(),
            csc_src: Vec::new(),
        };
        index.row_ptr.push(0);
        for row in bytes.chunks_exact(d) {
            for (j, &b) in row.iter().enumerate().filter(|(_, &b)| b != 0) {
                index.cols.push(j as u16);
                index.bytes.push(b);
            }
            index.row_ptr.push(index.cols.len() as u32);
        }
        index.csc_rows = vec![0; index.cols.len()];
        index.csc_src = vec![0; index.cols.len()];
        for start in (0..n).step_by(BLOCK_ROWS) {
            index.add_block_columns(start, (start + BLOCK_ROWS).min(n));
        }
        Some(index)
    }

    /// The CSC arrays of the block of rows `start..end`, by counting sort over the features.
    fn add_block_columns(&mut self, start: usize, end: usize) {
        let (first, last) = (self.row_ptr[start] as usize, self.row_ptr[end] as usize);
        let mut counts = vec![0u32; self.d + 1];
        for &j in &self.cols[first..last] {
            counts[usize::from(j) + 1] += 1;
        }
        for j in 0..self.d {
            counts[j + 1] += counts[j];
        }
        self.col_ptr.extend_from_slice(&counts);
        let mut next = counts;
        for (i, row) in (start..end).enumerate() {
            for p in self.row_ptr[row] as usize..self.row_ptr[row + 1] as usize {
                let j = usize::from(self.cols[p]);
                let q = first + next[j] as usize;
                next[j] += 1;
                self.csc_rows[q] = i as u8;
                self.csc_src[q] = (p - first) as u16;
            }
        }
    }

    /// The block starting at row `start` (a multiple of [`BLOCK_ROWS`]), if it is one and sparse
    /// enough to gain; its values are written into `values` by `convert(features, bytes,
    /// values)` (the block's non-zeros in CSR order).
    pub(crate) fn block<'a, F: Copy>(
        &'a self,
        start: usize,
        end: usize,
        values: &'a mut Vec<F>,
        convert: impl Fn(&[u16], &[u8], &mut Vec<F>),
    ) -> Option<SparseBlock<'a, F>> {
        let aligned = start % BLOCK_ROWS == 0 && end == (start + BLOCK_ROWS).min(self.n);
        if !aligned || start >= self.n {
            return None;
        }
        let (first, last) = (self.row_ptr[start] as usize, self.row_ptr[end] as usize);
        if (last - first) as f64 > MAX_DENSITY * ((end - start) * self.d) as f64 {
            return None;
        }
        values.clear();
        convert(&self.cols[first..last], &self.bytes[first..last], values);
        let block = start / BLOCK_ROWS;
        Some(SparseBlock {
            rows: end - start,
            first,
            row_ptr: &self.row_ptr[start..=end],
            cols: &self.cols[first..last],
            values,
            col_ptr: &self.col_ptr[block * (self.d + 1)..(block + 1) * (self.d + 1)],
            csc_rows: &self.csc_rows[first..last],
            csc_src: &self.csc_src[first..last],
        })
    }
}

/// One block's non-zeros with their values (the crate's own: public only because
/// [`crate::RowBlocks`] names it).
#[doc(hidden)]
pub struct SparseBlock<'a, F> {
    rows: usize,
    /// The block's first non-zero in the matrix's CSR order (`row_ptr` holds matrix offsets).
    first: usize,
    row_ptr: &'a [u32],
    cols: &'a [u16],
    values: &'a [F],
    col_ptr: &'a [u32],
    csc_rows: &'a [u8],
    csc_src: &'a [u16],
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

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn logits_avx512(&self, w: &Tiled<F>, out: &mut [F]) {
        self.logits_with::<true>(w, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn logits_avx2(&self, w: &Tiled<F>, out: &mut [F]) {
        self.logits_with::<true>(w, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn gradient_avx512(&self, r: &[F], g: &mut Tiled<F>) {
        self.gradient_with::<true>(r, g)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn gradient_avx2(&self, r: &[F], g: &mut Tiled<F>) {
        self.gradient_with::<true>(r, g)
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

    /// Each row's logits: its non-zeros in feature order, each times the feature's weight row.
    /// Two rows advance together (two independent chains, held in registers, hide part of the
    /// multiply-add's latency), each still in its own feature order.
    #[inline(always)]
    fn logits_tile<const FMA: bool, const T: usize>(&self, w: &Tiled<F>, out: &mut [F]) {
        let (classes, wd) = (w.cols(), w.data());
        let span = |i: usize| {
            (self.row_ptr[i] as usize - self.first)..(self.row_ptr[i + 1] as usize - self.first)
        };
        let add = |acc: &mut [F; T], p: usize| {
            let j = usize::from(self.cols[p]);
            let (v, wj) = (self.values[p], &wd[j * T..(j + 1) * T]);
            for (a, &wl) in acc.iter_mut().zip(wj) {
                *a = madd::<F, FMA>(v, wl, *a);
            }
        };
        let mut i = 0;
        while i + 1 < self.rows {
            let (s0, s1) = (span(i), span(i + 1));
            let (mut a0, mut a1) = ([F::zero(); T], [F::zero(); T]);
            let common = s0.len().min(s1.len());
            for t in 0..common {
                add(&mut a0, s0.start + t);
                add(&mut a1, s1.start + t);
            }
            for p in s0.start + common..s0.end {
                add(&mut a0, p);
            }
            for p in s1.start + common..s1.end {
                add(&mut a1, p);
            }
            out[i * classes..(i + 1) * classes].copy_from_slice(&a0[..classes]);
            out[(i + 1) * classes..(i + 2) * classes].copy_from_slice(&a1[..classes]);
            i += 2;
        }
        if i < self.rows {
            let mut a0 = [F::zero(); T];
            for p in span(i) {
                add(&mut a0, p);
            }
            out[i * classes..(i + 1) * classes].copy_from_slice(&a0[..classes]);
        }
    }

    /// Each feature's gradient row: its non-zeros in row order, each times the row's residuals.
    #[inline(always)]
    fn gradient_tile<const FMA: bool, const T: usize>(&self, r: &[F], g: &mut Tiled<F>) {
        let classes = g.cols();
        let mut padded = [[F::zero(); T]; BLOCK_ROWS];
        for (p, row) in padded
            .iter_mut()
            .zip(r.chunks_exact(classes))
            .take(self.rows)
        {
            p[..classes].copy_from_slice(row);
        }
        let gd = g.data_mut();
        for (j, gj) in gd.chunks_exact_mut(T).enumerate() {
            let (q0, q1) = (self.col_ptr[j] as usize, self.col_ptr[j + 1] as usize);
            if q0 == q1 {
                continue;
            }
            let mut acc: [F; T] = (&*gj).try_into().expect("a tile");
            for (&i, &src) in self.csc_rows[q0..q1].iter().zip(&self.csc_src[q0..q1]) {
                let v = self.values[usize::from(src)];
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
    /// zero-preserving scaling, over several chunks, on 1, 2 and 3 threads; a scaler with offsets
    /// is read densely.
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
        let offsets = ScaledBytes::new(bytes(n, d))
            .with_scaler(Array1::from_elem(d, 0.5), scales)
            .unwrap();
        assert!(!offsets.is_sparse());
    }
}
