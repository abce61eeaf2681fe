//! Where an evaluation reads its rows from: a float matrix as given, or a matrix of bytes with a
//! per-feature affine map applied as each block of rows is read ([`ScaledBytes`]).
//!
//! Images are bytes: MNIST's 56,000 x 784 training pixels are 44 MB as `u8` and 351 MB as `f64`.
//! An evaluation reads the training rows once from memory (see `objective.rs`), so on a machine
//! that streams about 10 GB/s the `f64` matrix alone costs 35 ms per evaluation. [`ScaledBytes`]
//! keeps the bytes and converts one block of rows at a time (64 rows, 400 KiB in `f64`, held in
//! the core's cache while both products of the evaluation read it). The conversion applies the
//! scaler's `(x - offset) * scale`, as linfa-preprocessing's `LinearScaler::transform` computes
//! it, then an optional division by a constant, element by element in `F`: the values are the
//! bits a float matrix prepared the same way would hold, so a fit on [`ScaledBytes`] gives the
//! same bits as a fit on that matrix.

use std::sync::OnceLock;

use linfa::dataset::Records;
use ndarray::{s, Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};

use crate::error::{Error, Result};
use crate::evaluation::isa::{kernel_path, KernelPath};
use crate::evaluation::sparse::{SparseBlock, SparseIndex};
use linfa::Float;

/// The environment variable that chooses the storage an evaluation reads byte matrices through:
/// `dense` (every value), `sparse` (the non-zero bytes only, where a block is sparse enough: the
/// dense path's bits where the zero byte is the value zero, else the scaler folded into the
/// weights), or unset: sparse, but for f32 on the AVX-512 path, dense. Measured on MNIST's 56,000 training images (19 % non-zero; the harness's
/// `examples/sparse_speed.rs`, 2-core AMD EPYC, ms per evaluation, dense / sparse): AVX-512 f64
/// 1.8x (1 thread) and 1.5-2.0x (2), f32 0.94-0.97x (the dense AVX-512 kernels take 16 rows per
/// instruction); AVX2 f64 2.5-3.8x, f32 1.8-2.5x.
pub const STORAGE_ENV: &str = "LINFA_LOGISTIC_STORAGE";

/// Rows an evaluation can read a block at a time. Implemented for every float matrix (any
/// storage) and for [`ScaledBytes`].
pub trait RowBlocks<F>: Sync {
    fn n_rows(&self) -> usize;
    fn n_columns(&self) -> usize;
    /// True when every value the rows can yield is finite.
    fn all_finite(&self) -> bool;
    /// Rows `start..end` as floats: a view of the matrix where it stores floats, else converted
    /// into `scratch` (resized as needed) and viewed there; row-major in the second case.
    fn rows<'s>(&'s self, start: usize, end: usize, scratch: &'s mut Vec<F>) -> ArrayView2<'s, F>;
    /// True when [`RowBlocks::sparse_rows`] can give blocks (the evaluation then keeps its
    /// gradient in the layout the sparse kernels use).
    #[doc(hidden)]
    fn sparse_capable(&self) -> bool {
        false
    }
    /// With `Some((offsets, factors))`, the rows are `(x - offsets) * factors` per feature of
    /// stored values `x`, and [`RowBlocks::sparse_rows`] and [`RowBlocks::stored_rows`] give `x`:
    /// the evaluation folds the map into the weights (`objective.rs`), so that a map that sends
    /// zero elsewhere (a standard scaler) still leaves the zeros out of the products.
    #[doc(hidden)]
    fn fold(&self) -> Option<(&[F], Vec<F>)> {
        None
    }
    /// Rows `start..end` as stored (see [`RowBlocks::fold`]); the rows themselves without a fold.
    #[doc(hidden)]
    fn stored_rows<'s>(
        &'s self,
        start: usize,
        end: usize,
        scratch: &'s mut Vec<F>,
    ) -> ArrayView2<'s, F> {
        self.rows(start, end, scratch)
    }
    /// Rows `start..end` as their non-zero values, where the storage keeps an index of them and
    /// the block is sparse enough; the values are written into `values`.
    #[doc(hidden)]
    fn sparse_rows<'s>(
        &'s self,
        _start: usize,
        _end: usize,
        _values: &'s mut Vec<F>,
    ) -> Option<SparseBlock<'s, F>> {
        None
    }
}

impl<F: Float, S: Data<Elem = F>> RowBlocks<F> for ArrayBase<S, Ix2>
where
    ArrayBase<S, Ix2>: Sync,
{
    fn n_rows(&self) -> usize {
        self.nrows()
    }
    fn n_columns(&self) -> usize {
        self.ncols()
    }
    fn all_finite(&self) -> bool {
        self.iter().all(|v| v.is_finite())
    }
    fn rows<'s>(&'s self, start: usize, end: usize, _: &'s mut Vec<F>) -> ArrayView2<'s, F> {
        self.slice(s![start..end, ..])
    }
}

impl<F, T: RowBlocks<F> + ?Sized> RowBlocks<F> for &T {
    fn n_rows(&self) -> usize {
        (**self).n_rows()
    }
    fn n_columns(&self) -> usize {
        (**self).n_columns()
    }
    fn all_finite(&self) -> bool {
        (**self).all_finite()
    }
    fn rows<'s>(&'s self, start: usize, end: usize, scratch: &'s mut Vec<F>) -> ArrayView2<'s, F> {
        (**self).rows(start, end, scratch)
    }
    fn sparse_capable(&self) -> bool {
        (**self).sparse_capable()
    }
    fn fold(&self) -> Option<(&[F], Vec<F>)> {
        (**self).fold()
    }
    fn stored_rows<'s>(
        &'s self,
        start: usize,
        end: usize,
        scratch: &'s mut Vec<F>,
    ) -> ArrayView2<'s, F> {
        (**self).stored_rows(start, end, scratch)
    }
    fn sparse_rows<'s>(
        &'s self,
        start: usize,
        end: usize,
        values: &'s mut Vec<F>,
    ) -> Option<SparseBlock<'s, F>> {
        (**self).sparse_rows(start, end, values)
    }
}

/// A matrix of bytes (samples x features, such as pixels) read as the floats
/// `((x - offset) * scale) / divisor`, per feature, computed in `F` in that order when a block
/// of rows is read. Without a scaler the offset and scale steps are skipped; a divisor of 1 is
/// skipped too (both are exact: they leave every value unchanged).
#[derive(Debug, Clone)]
pub struct ScaledBytes<F> {
    bytes: Array2<u8>,
    scaler: Option<(Array1<F>, Array1<F>)>,
    divisor: F,
    /// The non-zeros' index (`sparse.rs`), built at the first evaluation that can use it.
    sparse: OnceLock<Option<SparseIndex>>,
    /// Read every value, never the index ([`ScaledBytes::dense`]).
    dense: bool,
    /// Read the index in f32 too ([`ScaledBytes::sparse`]).
    force_sparse: bool,
}

impl<F: PartialEq> PartialEq for ScaledBytes<F> {
    /// The same values: bytes, scaler and divisor (the index follows from them).
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.scaler == other.scaler && self.divisor == other.divisor
    }
}

impl<F: Float> ScaledBytes<F> {
    /// The bytes as floats, unscaled. Stored row-major (a copy is made if they are not).
    pub fn new(bytes: Array2<u8>) -> Self {
        let bytes = if bytes.is_standard_layout() {
            bytes
        } else {
            bytes.as_standard_layout().into_owned()
        };
        ScaledBytes {
            bytes,
            scaler: None,
            divisor: F::one(),
            sparse: OnceLock::new(),
            dense: false,
            force_sparse: false,
        }
    }

    /// Applies `(x - offset) * scale` per feature, as linfa-preprocessing's fitted
    /// `LinearScaler` (`offsets()`, `scales()`) does. Fails on a length that is not the number of
    /// features or a value that is not finite.
    pub fn with_scaler(mut self, offsets: Array1<F>, scales: Array1<F>) -> Result<Self> {
        let d = self.bytes.ncols();
        if offsets.len() != d || scales.len() != d {
            return Err(Error::MismatchedShapes(d, offsets.len().max(scales.len())));
        }
        if offsets.iter().chain(scales.iter()).any(|v| !v.is_finite()) {
            return Err(Error::InvalidValues);
        }
        self.scaler = Some((offsets, scales));
        self.sparse = OnceLock::new();
        Ok(self)
    }

    /// Divides every value by `divisor` after the scaler (a finite, non-zero number).
    pub fn divided_by(mut self, divisor: F) -> Result<Self> {
        if !divisor.is_finite() || divisor == F::zero() {
            return Err(Error::InvalidValues);
        }
        self.divisor = divisor;
        self.sparse = OnceLock::new();
        Ok(self)
    }

    /// Evaluations read every value, as floats, never the non-zeros' index (the same bits, or
    /// without the fold of a standard scaler, more work; for comparisons and measurements).
    pub fn dense(mut self) -> Self {
        self.dense = true;
        self.force_sparse = false;
        self.sparse = OnceLock::new();
        self
    }

    /// Evaluations read the non-zero bytes only, whatever the float type ([`STORAGE_ENV`] aside;
    /// for comparisons and measurements).
    pub fn sparse(mut self) -> Self {
        self.force_sparse = true;
        self.sparse = OnceLock::new();
        self
    }

    /// True when evaluations read the non-zero bytes only: [`Self::dense`] was not asked for
    /// and [`STORAGE_ENV`] chooses it (by default but for f32 on the AVX-512 path). With a
    /// scaler that sends the zero byte elsewhere (offsets), the evaluation folds it into the
    /// weights ([`RowBlocks::fold`]).
    pub fn is_sparse(&self) -> bool {
        self.sparse_index().is_some()
    }

    pub fn bytes(&self) -> &Array2<u8> {
        &self.bytes
    }

    /// The scaler's offsets and scales, if one was set.
    pub fn scaler(&self) -> Option<(&Array1<F>, &Array1<F>)> {
        self.scaler.as_ref().map(|(o, s)| (o, s))
    }

    pub fn divisor(&self) -> F {
        self.divisor
    }

    /// The values of a block's non-zero `bytes`, feature by feature (`col_ptr` gives each
    /// feature's range), by the arithmetic of
    /// [`Self::convert_rows`] (each byte's float from a table of the 256, which holds the same
    /// bits as converting it again).
    fn sparse_values(&self, col_ptr: &[u32], bytes: &[u8], out: &mut Vec<F>) {
        let divisor = self.divisor;
        let unit = divisor == F::one();
        let mut table = [F::zero(); 256];
        for (b, t) in table.iter_mut().enumerate() {
            *t = F::cast(b);
        }
        out.clear();
        out.resize(bytes.len(), F::zero());
        if self.folds() {
            // The stored bytes; the evaluation folds the scaler and divisor into the weights.
            for (o, &b) in out.iter_mut().zip(bytes) {
                *o = table[usize::from(b)];
            }
            return;
        }
        match &self.scaler {
            None => {
                if !unit {
                    table.iter_mut().for_each(|t| *t = *t / divisor);
                }
                for (o, &b) in out.iter_mut().zip(bytes) {
                    *o = table[usize::from(b)];
                }
            }
            Some((offsets, scales)) => {
                let (o, s) = (offsets.as_slice(), scales.as_slice());
                let (o, s) = (o.expect("owned, contiguous"), s.expect("owned, contiguous"));
                for (j, span) in col_ptr.windows(2).enumerate() {
                    let range = span[0] as usize..span[1] as usize;
                    for (v, &b) in out[range.clone()].iter_mut().zip(&bytes[range]) {
                        *v = (table[usize::from(b)] - o[j]) * s[j];
                    }
                }
                if !unit {
                    out.iter_mut().for_each(|v| *v = *v / divisor);
                }
            }
        }
    }

    /// True when the scaler sends the zero byte elsewhere in some feature (a standard scaler's
    /// offsets): evaluations then read the stored bytes and fold the scaler into the weights
    /// ([`RowBlocks::fold`]) when they read the index.
    fn offsets_nonzero(&self) -> bool {
        self.scaler
            .as_ref()
            .is_some_and(|(offsets, _)| offsets.iter().any(|&o| o != F::zero()))
    }

    /// True when evaluations read the index and fold the scaler.
    fn folds(&self) -> bool {
        self.offsets_nonzero() && self.sparse_index().is_some()
    }

    /// True when the sparse kernels may read this matrix ([`STORAGE_ENV`]): they pay, and the
    /// zero byte is the value zero in every feature (no scaler, or a scaler without offsets:
    /// pixels/255, min-max and max-abs scaling of images whose darkest pixel is 0; the same
    /// bits as the dense path) or the scaler is folded into the weights (other rounding).
    fn reads_sparse(&self) -> bool {
        let wanted = match std::env::var(STORAGE_ENV).as_deref() {
            Ok("dense") => false,
            Ok("sparse") => true,
            _ => {
                self.force_sparse
                    || std::mem::size_of::<F>() >= 8
                    || kernel_path() != KernelPath::Avx512
            }
        };
        !self.dense && wanted
    }

    fn sparse_index(&self) -> Option<&SparseIndex> {
        self.sparse
            .get_or_init(|| {
                let bytes = self.bytes.as_slice().expect("row-major bytes");
                self.reads_sparse()
                    .then(|| SparseIndex::new(bytes, self.bytes.ncols()))
                    .flatten()
            })
            .as_ref()
    }

    /// The floats of the whole matrix (for tests and small matrices: it is the copy this type
    /// exists to avoid).
    pub fn to_floats(&self) -> Array2<F> {
        let mut scratch = Vec::new();
        self.rows(0, self.bytes.nrows(), &mut scratch).to_owned()
    }

    /// Converts rows of bytes into floats, with the widest vectors the CPU has (the loops are
    /// compiled again for AVX-512 and AVX2 and chosen at run time: the baseline x86-64 target
    /// converts bytes two at a time, which cost as much as the evaluation's arithmetic).
    fn convert(&self, src: &[u8], dst: &mut [F]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                // Safety: the CPU has the feature the function is compiled for.
                return unsafe { self.convert_avx512(src, dst) };
            }
            if std::is_x86_feature_detected!("avx2") {
                // Safety: as above.
                return unsafe { self.convert_avx2(src, dst) };
            }
        }
        self.convert_rows(src, dst)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn convert_avx512(&self, src: &[u8], dst: &mut [F]) {
        self.convert_rows(src, dst)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn convert_avx2(&self, src: &[u8], dst: &mut [F]) {
        self.convert_rows(src, dst)
    }

    /// Each case is its own loop, so that the compiler vectorises it.
    #[inline(always)]
    fn convert_rows(&self, src: &[u8], dst: &mut [F]) {
        let divisor = self.divisor;
        match (&self.scaler, self.divisor == F::one()) {
            (None, true) => {
                for (d, &b) in dst.iter_mut().zip(src) {
                    *d = F::cast(b);
                }
            }
            (None, false) => {
                for (d, &b) in dst.iter_mut().zip(src) {
                    *d = F::cast(b) / divisor;
                }
            }
            (Some((offsets, scales)), unit_divisor) => {
                let (o, s) = (offsets.as_slice(), scales.as_slice());
                let (o, s) = (o.expect("owned, contiguous"), s.expect("owned, contiguous"));
                let d = o.len();
                for (dst, src) in dst.chunks_exact_mut(d).zip(src.chunks_exact(d)) {
                    for (((d, &b), &o), &s) in dst.iter_mut().zip(src).zip(o).zip(s) {
                        *d = (F::cast(b) - o) * s;
                    }
                }
                if !unit_divisor {
                    dst.iter_mut().for_each(|d| *d /= divisor);
                }
            }
        }
    }
}

impl<F: Float> RowBlocks<F> for ScaledBytes<F> {
    fn n_rows(&self) -> usize {
        self.bytes.nrows()
    }
    fn n_columns(&self) -> usize {
        self.bytes.ncols()
    }
    fn all_finite(&self) -> bool {
        // Checked when the scaler and divisor were set; bytes are always finite.
        true
    }
    fn rows<'s>(&'s self, start: usize, end: usize, scratch: &'s mut Vec<F>) -> ArrayView2<'s, F> {
        let d = self.bytes.ncols();
        scratch.resize((end - start) * d, F::zero());
        if d > 0 {
            let src = self.bytes.slice(s![start..end, ..]);
            self.convert(src.as_slice().expect("row-major bytes"), scratch);
        }
        ArrayView2::from_shape((end - start, d), &scratch[..]).expect("rows x features values")
    }
    fn sparse_capable(&self) -> bool {
        self.sparse_index().is_some()
    }
    fn fold(&self) -> Option<(&[F], Vec<F>)> {
        if !self.folds() {
            return None;
        }
        let (offsets, scales) = self.scaler.as_ref()?;
        let factors = scales.iter().map(|&s| s / self.divisor).collect();
        Some((offsets.as_slice().expect("owned, contiguous"), factors))
    }
    fn stored_rows<'s>(
        &'s self,
        start: usize,
        end: usize,
        scratch: &'s mut Vec<F>,
    ) -> ArrayView2<'s, F> {
        if !self.folds() {
            return self.rows(start, end, scratch);
        }
        let d = self.bytes.ncols();
        scratch.clear();
        scratch.extend(
            self.bytes
                .slice(s![start..end, ..])
                .iter()
                .map(|&b| F::cast(b)),
        );
        ArrayView2::from_shape((end - start, d), &scratch[..]).expect("rows x features values")
    }
    fn sparse_rows<'s>(
        &'s self,
        start: usize,
        end: usize,
        values: &'s mut Vec<F>,
    ) -> Option<SparseBlock<'s, F>> {
        self.sparse_index()?
            .block(start, end, values, |col_ptr, bytes, out| {
                self.sparse_values(col_ptr, bytes, out)
            })
    }
}

impl<F: Float> Records for ScaledBytes<F> {
    type Elem = F;
    fn nsamples(&self) -> usize {
        self.bytes.nrows()
    }
    fn nfeatures(&self) -> usize {
        self.bytes.ncols()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn bytes() -> Array2<u8> {
        array![[0, 10, 255], [5, 10, 0], [200, 10, 100]]
    }

    /// The floats are those of the float matrix prepared element by element in the same order,
    /// to the bit, in f64 and f32.
    #[test]
    fn blocks_hold_the_bits_of_the_prepared_float_matrix() {
        let offsets = array![1.5, 10.0, 0.25];
        let scales = array![1.0 / 3.0, 0.0, 1.0 / 255.0];
        let x = ScaledBytes::new(bytes())
            .with_scaler(offsets.clone(), scales.clone())
            .unwrap()
            .divided_by(7.0)
            .unwrap();
        let mut expected = bytes().mapv(f64::from);
        for mut row in expected.rows_mut() {
            for j in 0..3 {
                row[j] = ((row[j] - offsets[j]) * scales[j]) / 7.0;
            }
        }
        let got = x.to_floats();
        for (a, b) in got.iter().zip(&expected) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        let mut scratch = Vec::new();
        assert_eq!(x.rows(1, 3, &mut scratch), expected.slice(s![1..3, ..]));

        let plain = ScaledBytes::<f32>::new(bytes()).divided_by(255.0).unwrap();
        let expected = bytes().mapv(|v| f32::from(v) / 255.0);
        assert_eq!(plain.to_floats(), expected);
        assert_eq!(
            ScaledBytes::<f32>::new(bytes()).to_floats(),
            bytes().mapv(f32::from)
        );
    }

    /// Fits on bytes read densely give the bits of fits on the same values stored as floats
    /// (more rows than one chunk of the evaluation, a scaler and a divisor; multinomial and
    /// binary); read sparsely, the scaler's offsets folded into the weights, the same fit to
    /// rounding.
    #[test]
    fn a_fit_on_bytes_equals_the_fit_on_their_floats() {
        use crate::{LogisticRegression, MultiLogisticRegression};
        use linfa::prelude::*;
        let n = 1100;
        let raw = Array2::from_shape_fn((n, 12), |(i, j)| ((i * 37 + j * 11 + i / 7) % 256) as u8);
        let offsets = Array1::from_shape_fn(12, |j| j as f64 * 3.5);
        let scales = Array1::from_shape_fn(12, |j| 1.0 / (40.0 + j as f64));
        let x = ScaledBytes::new(raw)
            .with_scaler(offsets, scales)
            .unwrap()
            .divided_by(3.0)
            .unwrap();
        let y = Array1::from_shape_fn(n, |i| (i * 7 + i / 5) % 3);
        let multi = MultiLogisticRegression::default().max_iterations(15);
        let a = multi
            .fit(&DatasetBase::new(x.clone().dense(), y.clone()))
            .unwrap();
        let b = multi
            .fit(&DatasetBase::new(x.to_floats(), y.clone()))
            .unwrap();
        assert_eq!(a.params(), b.params());
        assert_eq!(a.intercept(), b.intercept());
        assert_eq!(a.report().unwrap().iterations, 15);
        let folded = x.clone().sparse();
        assert!(folded.fold().is_some());
        let c = multi.fit(&DatasetBase::new(folded, y.clone())).unwrap();
        approx::assert_abs_diff_eq!(c.params(), b.params(), epsilon = 1e-8);
        approx::assert_abs_diff_eq!(c.intercept(), b.intercept(), epsilon = 1e-8);

        let yb = y.mapv(|c| c == 1);
        let binary = LogisticRegression::default().max_iterations(15);
        let a = binary
            .fit(&DatasetBase::new(x.clone(), yb.clone()))
            .unwrap();
        let b = binary.fit(&DatasetBase::new(x.to_floats(), yb)).unwrap();
        assert_eq!(a.params(), b.params());
        assert_eq!(a.intercept().to_bits(), b.intercept().to_bits());
    }

    #[test]
    fn column_major_bytes_are_stored_row_major() {
        let t = bytes().reversed_axes();
        let x = ScaledBytes::<f64>::new(t.clone());
        assert!(x.bytes().is_standard_layout());
        assert_eq!(x.to_floats(), t.mapv(f64::from));
    }

    #[test]
    fn bad_scalers_and_divisors_are_refused() {
        let x = || ScaledBytes::<f64>::new(bytes());
        assert!(x()
            .with_scaler(array![0.0, 0.0], array![1.0, 1.0, 1.0])
            .is_err());
        assert!(x()
            .with_scaler(array![0.0, f64::NAN, 0.0], array![1.0, 1.0, 1.0])
            .is_err());
        assert!(x().divided_by(0.0).is_err());
        assert!(x().divided_by(f64::INFINITY).is_err());
    }
}
