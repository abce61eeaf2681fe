//! What every stage knows about MNIST: how many images, how big, how many classes, and how a
//! row of class scores becomes a digit.
//!
//! May touch: nothing else in the crate (every stage may use it).

use ndarray::ArrayView1;

/// Number of images in the full MNIST set (60,000 training then 10,000 test images).
pub const MNIST_LEN: usize = 70_000;

/// Width and height of an MNIST image, in pixels.
pub const SIDE: usize = 28;

/// Pixels per image (28 x 28).
pub const N_PIXELS: usize = SIDE * SIDE;

/// Number of classes: the digits 0 to 9.
pub const N_CLASSES: usize = 10;

/// Index of the largest value (the first one on ties, as numpy's `argmax`).
pub fn argmax(row: ArrayView1<f64>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn argmax_takes_the_first_of_equal_maxima() {
        assert_eq!(argmax(array![0.1, 0.7, 0.7, 0.2].view()), 1);
        assert_eq!(argmax(array![3.0].view()), 0);
    }
}
