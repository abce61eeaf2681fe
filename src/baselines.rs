//! Floors for a logistic regression's accuracy, fitted on the same training images and scored on
//! the same test images: always answering the most frequent training digit, and the nearest
//! class centroid (the mean training image of each digit, Euclidean distance on the raw pixels,
//! as scikit-learn's `NearestCentroid()`; the same on pixels scaled by one factor, as /255).
//! I/O-free.
//!
//! May touch: `digits`, `stats`.

use ndarray::ArrayView2;

use crate::digits::N_CLASSES;
use crate::stats::{wilson, Interval};

/// One baseline's score on a test set.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    /// What it is, for tables: "majority class (digit 1)", "nearest centroid".
    pub name: String,
    /// Test images it got right.
    pub correct: u64,
    /// Test images.
    pub n: u64,
}

impl Baseline {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.n.max(1) as f64
    }

    /// The Wilson 95 % interval of its accuracy.
    pub fn interval(&self) -> Interval {
        wilson(self.correct, self.n)
    }

    /// As tables write it: `nearest centroid 80.29 % [79.62, 80.94]`.
    pub fn text(&self) -> String {
        format!(
            "{} {:.2} % {}",
            self.name,
            100.0 * self.accuracy(),
            self.interval().percent()
        )
    }
}

/// Both baselines of one split: `images` (rows: images, 784 pixels), `labels` per image, and the
/// split's training and test rows.
pub fn baselines(
    images: ArrayView2<u8>,
    labels: &[u8],
    train: &[usize],
    test: &[usize],
) -> [Baseline; 2] {
    [
        majority(labels, train, test),
        nearest_centroid(images, labels, train, test),
    ]
}

/// Always the most frequent training digit (ties: the smaller digit, as scikit-learn's
/// `DummyClassifier(strategy="most_frequent")`).
fn majority(labels: &[u8], train: &[usize], test: &[usize]) -> Baseline {
    let mut counts = [0usize; N_CLASSES];
    for &i in train {
        counts[labels[i] as usize] += 1;
    }
    let most = (0..N_CLASSES)
        .max_by_key(|&k| (counts[k], std::cmp::Reverse(k)))
        .unwrap_or(0);
    Baseline {
        name: format!("majority class (always {most})"),
        correct: test.iter().filter(|&&i| labels[i] as usize == most).count() as u64,
        n: test.len() as u64,
    }
}

/// The digit whose mean training image is nearest (Euclidean; ties: the smaller digit).
fn nearest_centroid(
    images: ArrayView2<u8>,
    labels: &[u8],
    train: &[usize],
    test: &[usize],
) -> Baseline {
    let width = images.ncols();
    let mut sums = vec![0f64; N_CLASSES * width];
    let mut counts = [0usize; N_CLASSES];
    for &i in train {
        let k = labels[i] as usize;
        counts[k] += 1;
        for (s, &p) in sums[k * width..(k + 1) * width]
            .iter_mut()
            .zip(images.row(i))
        {
            *s += f64::from(p);
        }
    }
    for k in 0..N_CLASSES {
        let n = counts[k].max(1) as f64;
        sums[k * width..(k + 1) * width]
            .iter_mut()
            .for_each(|s| *s /= n);
    }
    let present: Vec<usize> = (0..N_CLASSES).filter(|&k| counts[k] > 0).collect();
    let correct = test
        .iter()
        .filter(|&&i| {
            let row = images.row(i);
            let distance = |k: usize| -> f64 {
                sums[k * width..(k + 1) * width]
                    .iter()
                    .zip(row)
                    .map(|(c, &p)| (f64::from(p) - c).powi(2))
                    .sum()
            };
            let nearest = present
                .iter()
                .map(|&k| (k, distance(k)))
                .fold(None, |best: Option<(usize, f64)>, (k, d)| match best {
                    Some((_, bd)) if bd <= d => best,
                    _ => Some((k, d)),
                })
                .map(|(k, _)| k);
            nearest == Some(labels[i] as usize)
        })
        .count();
    Baseline {
        name: "nearest centroid".into(),
        correct: correct as u64,
        n: test.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn majority_answers_the_most_frequent_training_digit() {
        let labels = [3u8, 3, 1, 1, 3, 1, 3, 7];
        let b = majority(&labels, &[0, 1, 2, 3, 4], &[5, 6, 7]);
        assert_eq!(b.name, "majority class (always 3)");
        assert_eq!((b.correct, b.n), (1, 3));
        // A tie goes to the smaller digit.
        let b = majority(&labels, &[0, 2], &[5, 6, 7]);
        assert_eq!(b.name, "majority class (always 1)");
        assert_eq!(b.correct, 1);
    }

    #[test]
    fn nearest_centroid_picks_the_closest_mean_image() {
        // Two pixels: digit 0 around (0, 0), digit 1 around (200, 200), digit 2 around (0, 250).
        let images = Array2::from_shape_vec(
            (9, 2),
            vec![
                0, 10, 10, 0, 200, 190, 190, 200, 0, 250, 5, 5, 195, 200, 10, 240, 120, 120,
            ],
        )
        .unwrap();
        let labels = [0u8, 0, 1, 1, 2, 0, 1, 2, 0];
        let b = nearest_centroid(images.view(), &labels, &[0, 1, 2, 3, 4], &[5, 6, 7, 8]);
        // (120, 120) is nearer digit 1's mean (195, 195) than digit 0's (5, 5): wrong.
        assert_eq!((b.correct, b.n), (3, 4));
        let [m, c] = baselines(images.view(), &labels, &[0, 1, 2, 3, 4], &[5, 6, 7, 8]);
        assert_eq!(c, b);
        assert!(m.interval().low < m.accuracy() && m.accuracy() < m.interval().high);
    }
}
