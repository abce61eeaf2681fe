//! Every number a notebook printed, at its own precision, against the scikit-learn rerun and
//! the harness: the accuracy (rounded as printed), the confusion matrix cell by cell, the
//! classification report entry by entry, and per-digit binary accuracies; and between the two
//! reruns, McNemar's test on the same test images.
//!
//! May touch: `config` (the `[published]` section), `digits`, `markdown`, `metrics`, `stats`.

use std::collections::HashMap;

use ndarray::Array2;

use crate::config::{Published, PublishedReport};
use crate::digits::N_CLASSES;
use crate::markdown::Table;
use crate::metrics::class_scores;
use crate::stats::{p_text, signed_pp, wilson, McNemar};

/// One side's test predictions: index in the 70,000 -> (label, predicted).
pub type Predictions = HashMap<usize, (u8, u8)>;

/// The first `n` misclassified test images, in test order: `[position, predicted, actual]`.
/// `order` lists the test images' indices in test order.
fn first_mistakes(p: &Predictions, order: &[usize], n: usize) -> Vec<[u64; 3]> {
    order
        .iter()
        .enumerate()
        .filter_map(|(position, index)| {
            let &(label, predicted) = p.get(index)?;
            (label != predicted).then_some([position as u64, predicted as u64, label as u64])
        })
        .take(n)
        .collect()
}

fn mistakes_text(m: &[[u64; 3]]) -> String {
    m.iter()
        .map(|[i, p, a]| format!("{i}: {p} for {a}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts `confusion[[true, predicted]]` from predictions.
pub fn confusion(p: &Predictions) -> Array2<u64> {
    let mut c = Array2::zeros((N_CLASSES, N_CLASSES));
    for &(label, predicted) in p.values() {
        c[[label as usize, predicted as usize]] += 1;
    }
    c
}

/// A printed confusion matrix as a 10 x 10 array (missing cells 0, extra ones dropped).
fn printed_matrix(rows: &[Vec<u64>]) -> Array2<u64> {
    Array2::from_shape_fn((N_CLASSES, N_CLASSES), |(r, c)| {
        rows.get(r).and_then(|row| row.get(c)).copied().unwrap_or(0)
    })
}

fn trace(c: &Array2<u64>) -> u64 {
    c.diag().sum()
}

fn total(c: &Array2<u64>) -> u64 {
    c.sum()
}

/// McNemar's test of the harness against scikit-learn on the images both scored.
pub fn mcnemar(harness: &Predictions, sklearn: &Predictions) -> McNemar {
    let mut indices: Vec<&usize> = harness.keys().filter(|i| sklearn.contains_key(i)).collect();
    indices.sort();
    let right = |p: &Predictions| -> Vec<bool> {
        indices
            .iter()
            .map(|i| {
                let (label, predicted) = p[i];
                label == predicted
            })
            .collect()
    };
    McNemar::test(&right(harness), &right(sklearn))
}

/// An accuracy as a percentage with its Wilson 95 % interval: `91.61 [91.14, 92.06]`.
pub fn accuracy_text(correct: u64, n: u64) -> String {
    let i = wilson(correct, n);
    format!(
        "{:.2} {}",
        100.0 * correct as f64 / n.max(1) as f64,
        i.percent()
    )
}

/// The published accuracy against one side's: rounded as printed when printed short.
/// `ours` and `published` as printed with `decimals` decimals: equal texts agree at the printed
/// precision.
pub(super) fn at_printed_precision(ours: f64, published: f64, decimals: u32) -> (String, String) {
    let d = decimals as usize;
    (format!("{ours:.d$}"), format!("{published:.d$}"))
}

fn accuracy_verdict(published: f64, decimals: Option<u32>, correct: u64, n: u64) -> String {
    let ours = correct as f64 / n.max(1) as f64;
    match decimals {
        Some(d) => {
            let (a, b) = at_printed_precision(ours, published, d);
            if a == b {
                format!("{a}: agrees at the printed precision")
            } else {
                format!("{a}: differs at the printed precision ({b})")
            }
        }
        None => {
            let published_correct = (published * n as f64).round() as i64;
            let diff = correct as i64 - published_correct;
            if diff == 0 {
                format!("{ours:.6}: equal ({correct} of {n} images)")
            } else {
                format!(
                    "{ours:.6}: {diff:+} images against the published {published_correct} of {n}"
                )
            }
        }
    }
}

/// Cell-by-cell comparison of a printed confusion matrix with one side's.
fn confusion_verdict(published: &Array2<u64>, ours: &Array2<u64>) -> String {
    let cells = published.iter().zip(ours.iter());
    let equal = cells.clone().filter(|(a, b)| a == b).count();
    let moved: u64 = cells.clone().map(|(a, b)| a.abs_diff(*b)).sum::<u64>() / 2;
    let largest = cells.map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
    let diagonal = trace(ours) as i64 - trace(published) as i64;
    format!(
        "{equal} of {} cells equal; {moved} images in other cells; largest cell difference {largest}; diagonal {diagonal:+}",
        N_CLASSES * N_CLASSES
    )
}

/// How many of the printed report's 30 scores one side reproduces at the printed precision.
fn report_verdict(report: &PublishedReport, ours: &Array2<u64>) -> String {
    let scores: Vec<[f64; 3]> = class_scores(ours)
        .iter()
        .map(|c| [c.precision, c.recall, c.f1])
        .collect();
    let d = report.decimals as usize;
    let mut equal = 0;
    let mut differing = Vec::new();
    for k in 0..N_CLASSES.min(report.precision.len()) {
        for (name, printed, j) in [
            ("precision", &report.precision, 0),
            ("recall", &report.recall, 1),
            ("f1", &report.f1, 2),
        ] {
            let (a, b) = (
                format!("{:.d$}", scores[k][j]),
                format!("{:.d$}", printed[k]),
            );
            if a == b {
                equal += 1;
            } else {
                differing.push(format!("{name} {k}: {a} vs {b}"));
            }
        }
    }
    let supports: Vec<u64> = ours.rows().into_iter().map(|row| row.sum()).collect();
    let support_text = if supports == report.support {
        "supports equal".to_string()
    } else {
        "supports DIFFER".to_string()
    };
    format!(
        "{equal} of {} scores equal at {d} decimals{}; {support_text}",
        3 * N_CLASSES,
        if differing.is_empty() {
            String::new()
        } else {
            format!(" (differ: {})", differing.join(", "))
        }
    )
}

/// The Markdown section of one config's published numbers. `binary` holds per digit the
/// (scikit-learn, harness) binary accuracy, when the run is one-vs-rest; `margin` is the config's
/// equivalence margin (a proportion).
pub fn section(
    published: &Published,
    sklearn: &Predictions,
    harness: &Predictions,
    test_order: &[usize],
    binary: &[(f64, f64)],
    margin: f64,
) -> String {
    let (sc, hc) = (confusion(sklearn), confusion(harness));
    // (what, as printed, scikit-learn, harness), one row per published number.
    let mut rows: Vec<[String; 4]> = Vec::new();
    if let Some(acc) = published.accuracy {
        let side = |c: &Array2<u64>| {
            format!(
                "{} %; {}",
                accuracy_text(trace(c), total(c)),
                accuracy_verdict(acc, published.accuracy_decimals, trace(c), total(c))
            )
        };
        rows.push(["accuracy".into(), acc.to_string(), side(&sc), side(&hc)]);
    }
    if let Some(printed) = &published.confusion {
        let c = &printed_matrix(printed);
        let implied = trace(c) as f64 / total(c).max(1) as f64;
        let row_sums = |m: &Array2<u64>| m.sum_axis(ndarray::Axis(1));
        let (sums, ours) = (row_sums(c), row_sums(&hc));
        rows.push([
            "confusion matrix".into(),
            format!(
                "{} of {} on the diagonal ({implied:.6}); row sums {} this split's class counts",
                trace(c),
                total(c),
                if sums == ours { "equal" } else { "DIFFER from" },
            ),
            confusion_verdict(c, &sc),
            confusion_verdict(c, &hc),
        ]);
    }
    if let Some(r) = &published.report {
        rows.push([
            "classification report".into(),
            format!("{} digits at {} decimals", r.precision.len(), r.decimals),
            report_verdict(r, &sc),
            report_verdict(r, &hc),
        ]);
    }
    if let Some(b) = &published.binary_accuracy {
        for (k, printed) in b.iter().enumerate() {
            let (sk, h) = binary.get(k).copied().unwrap_or((f64::NAN, f64::NAN));
            rows.push([
                format!("digit {k}, binary accuracy"),
                format!("{printed:.4}"),
                format!("{sk:.4} ({:+.2} pp)", 100.0 * (sk - printed)),
                format!("{h:.4} ({:+.2} pp)", 100.0 * (h - printed)),
            ]);
        }
    }
    if let Some(printed) = &published.first_mistakes {
        let side = |p: &Predictions| {
            let ours = first_mistakes(p, test_order, printed.len());
            let same = ours == *printed;
            format!(
                "{}{}",
                mistakes_text(&ours),
                if same { " (the same)" } else { "" }
            )
        };
        rows.push([
            "first mistakes in test order (position: predicted for actual)".into(),
            mistakes_text(printed),
            side(sklearn),
            side(harness),
        ]);
    }
    let mut s = Table::positional(["published", "as printed", "scikit-learn rerun", "harness"])
        .render(&rows);
    let test = mcnemar(harness, sklearn);
    let i = test.difference_95();
    s.push_str(&format!(
        "\nHarness against scikit-learn on the same {} test images: {} right only for the harness, \
         {} only for scikit-learn; the difference {} pp [{}, {}] (95 %), McNemar's exact p = {} \
         (this run alone, uncorrected): {}.\n",
        total(&hc),
        test.only_first,
        test.only_second,
        signed_pp(test.difference()),
        signed_pp(i.low),
        signed_pp(i.high),
        p_text(test.p_value),
        test.finding(margin, test.p_value).text(margin)
    ));
    if !published.notes.is_empty() {
        s.push_str("\nAssumptions and limits:\n\n");
        for note in &published.notes {
            s.push_str(&format!("- {note}\n"));
        }
    }
    s
}

/// One seeded run of a stochastic solver: its `random_state` and both sides' predictions.
pub struct Seeded<'a> {
    pub seed: u32,
    pub sklearn: &'a Predictions,
    pub harness: &'a Predictions,
}

/// The published numbers of an unseeded stochastic fit against the same fit under several
/// seeds, on each side: the distinct results the seeds give (counts of images right, and how
/// many test images the seeds' predictions differ on), whether the published accuracy is one of
/// them at its printed precision, and how many cells of the published matrix each seed matches.
/// With a handful of seeds and results one image apart, a mean and sd would say little: the
/// section lists the outcomes instead.
pub fn seed_spread(published: &Published, setting: &str, solver: &str, runs: &[Seeded]) -> String {
    let seeds: Vec<String> = runs.iter().map(|r| r.seed.to_string()).collect();
    let sk: Vec<Array2<u64>> = runs.iter().map(|r| confusion(r.sklearn)).collect();
    let h: Vec<Array2<u64>> = runs.iter().map(|r| confusion(r.harness)).collect();
    let matrix = published.confusion.as_deref().map(printed_matrix);
    let implied = matrix.as_ref().map(|c| (trace(c), total(c)));
    let mut s = format!(
        "Setting: {setting}.\n\n\
         The notebook's {solver} fit is stochastic and unseeded, so its own run cannot be \
         repeated. Both sides fit it with random_state {} (each seed the same sample order on \
         both sides): how far these fits lie apart is how far the sample order alone moves the \
         result. A seed that matches the published numbers shows that some sample order \
         reproduces them, not which order the notebook drew.\n\n",
        seeds.join(", "),
    );
    let published_text = match (published.accuracy, implied) {
        (Some(a), Some((right, n))) => format!(
            "{a} as printed; {} % by its matrix ({right} of {n})",
            accuracy_text(right, n)
        ),
        (Some(a), None) => format!("{a} as printed"),
        (None, Some((right, n))) => format!("{} % by its matrix", accuracy_text(right, n)),
        (None, None) => "-".into(),
    };
    let mut rows: Vec<[String; 4]> = vec![
        [
            "results the seeds give".into(),
            published_text,
            outcomes(&sk, runs),
            outcomes(&h, runs),
        ],
        [
            "test images on which two seeds' predictions differ (most, over pairs)".into(),
            String::new(),
            most_disagreement(runs, |r| r.sklearn),
            most_disagreement(runs, |r| r.harness),
        ],
        [
            "the published accuracy against the seeds".into(),
            String::new(),
            against_seeds(published, implied, &sk, runs),
            against_seeds(published, implied, &h, runs),
        ],
    ];
    if let Some(c) = &matrix {
        rows.push([
            "matrix cells equal to the published, per seed (random_state)".into(),
            format!("diagonal {}", trace(c)),
            cells_equal(c, &sk, runs),
            cells_equal(c, &h, runs),
        ]);
    }
    let n = runs.len();
    let (sk_header, h_header) = (
        format!("scikit-learn, {n} seeds"),
        format!("harness, {n} seeds"),
    );
    s.push_str(&Table::positional(["", "published", &sk_header, &h_header]).render(&rows));
    s
}

/// The distinct results of the seeds' matrices: "9589 of 10500 (seeds 0, 2, 3, 4); 9588 of
/// 10500 (seed 1)".
fn outcomes(matrices: &[Array2<u64>], runs: &[Seeded]) -> String {
    let mut distinct: Vec<(u64, u64, Vec<u32>)> = Vec::new();
    for (m, r) in matrices.iter().zip(runs) {
        let (right, n) = (trace(m), total(m));
        match distinct.iter_mut().find(|(a, b, _)| (*a, *b) == (right, n)) {
            Some((_, _, seeds)) => seeds.push(r.seed),
            None => distinct.push((right, n, vec![r.seed])),
        }
    }
    distinct.sort_by_key(|d| std::cmp::Reverse(d.0));
    distinct
        .iter()
        .map(|(right, n, seeds)| {
            format!(
                "{right} of {n} ({} {})",
                if seeds.len() == 1 { "seed" } else { "seeds" },
                seeds
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The most test images on which two seeds' predicted digits differ.
fn most_disagreement<'a>(runs: &[Seeded<'a>], side: fn(&Seeded<'a>) -> &'a Predictions) -> String {
    let mut most = 0;
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            let (pa, pb) = (side(a), side(b));
            let differ = pa
                .iter()
                .filter(|(index, p)| pb.get(index).is_some_and(|q| q.1 != p.1))
                .count();
            most = most.max(differ);
        }
    }
    let n = runs.first().map_or(0, |r| side(r).len());
    format!("{most} of {n}")
}

/// Which seeds print the published accuracy at its precision, and which seeds' count of images
/// right equals the published matrix's.
fn against_seeds(
    published: &Published,
    implied: Option<(u64, u64)>,
    matrices: &[Array2<u64>],
    runs: &[Seeded],
) -> String {
    let mut parts = Vec::new();
    let accuracies = accuracies(matrices);
    if let (Some(p), Some(d)) = (published.accuracy, published.accuracy_decimals) {
        let printed = accuracies
            .iter()
            .filter(|&&v| {
                let (ours, printed) = at_printed_precision(v, p, d);
                ours == printed
            })
            .count();
        parts.push(format!(
            "{printed} of {} seeds print {p} at {d} decimals",
            accuracies.len()
        ));
    }
    if let Some((right, n)) = implied {
        let equal: Vec<String> = matrices
            .iter()
            .zip(runs)
            .filter(|(m, _)| (trace(m), total(m)) == (right, n))
            .map(|(_, r)| r.seed.to_string())
            .collect();
        parts.push(if equal.is_empty() {
            format!("no seed gets the matrix's {right} of {n} right")
        } else {
            format!(
                "the matrix's {right} of {n} is what seed(s) {} give",
                equal.join(", ")
            )
        });
    }
    parts.join("; ")
}

/// Each confusion matrix's accuracy.
fn accuracies(matrices: &[Array2<u64>]) -> Vec<f64> {
    matrices
        .iter()
        .map(|c| trace(c) as f64 / total(c).max(1) as f64)
        .collect()
}

fn cells_equal(c: &Array2<u64>, m: &[Array2<u64>], runs: &[Seeded]) -> String {
    m.iter()
        .zip(runs)
        .map(|(x, r)| {
            let same = x.iter().zip(c.iter()).filter(|(a, b)| a == b).count();
            format!("{} ({})", same, r.seed)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_precision_decides_agreement() {
        assert_eq!(
            accuracy_verdict(0.91, Some(2), 9588, 10500),
            "0.91: agrees at the printed precision"
        );
        assert_eq!(
            accuracy_verdict(0.92, Some(2), 9203, 10000),
            "0.92: agrees at the printed precision"
        );
        assert!(accuracy_verdict(0.92, Some(2), 9149, 10000).contains("differs"));
        assert_eq!(
            accuracy_verdict(0.9172142857142858, None, 12826, 14000),
            "0.916143: -15 images against the published 12841 of 14000"
        );
    }

    #[test]
    fn confusion_cells_and_report_scores_are_counted() {
        let a = Array2::from_shape_fn((10, 10), |(r, c)| if r == c { 10 } else { 0 });
        let mut b = a.clone();
        b[[3, 3]] = 9;
        b[[3, 5]] = 1;
        assert_eq!(
            confusion_verdict(&a, &b),
            "98 of 100 cells equal; 1 images in other cells; largest cell difference 1; diagonal -1"
        );
        let report = PublishedReport {
            precision: vec![1.0; 10],
            recall: vec![1.0; 10],
            f1: vec![1.0; 10],
            support: vec![10; 10],
            decimals: 2,
        };
        let v = report_verdict(&report, &b);
        assert!(v.starts_with("26 of 30 scores equal at 2 decimals"), "{v}");
        assert!(v.contains("recall 3: 0.90 vs 1.00"), "{v}");
        assert!(v.ends_with("supports equal"), "{v}");
    }

    /// Each seed's predictions, the same on both sides.
    fn same_on_both_sides(sides: &[Predictions]) -> Vec<Seeded<'_>> {
        sides
            .iter()
            .enumerate()
            .map(|(k, p)| Seeded {
                seed: k as u32,
                sklearn: p,
                harness: p,
            })
            .collect()
    }

    /// Three seeds of 100 images each (one class per ten images): 90, 92 and 94 right; the
    /// published matrix has 93 on its diagonal, inside the range; every cell but the ones the
    /// seeds never vary is checked.
    #[test]
    fn the_seed_spread_places_the_published_run() {
        let predictions = |right: usize| -> Predictions {
            (0..100)
                .map(|i| {
                    let label = (i / 10) as u8;
                    let predicted = if i < right { label } else { (label + 1) % 10 };
                    (i, (label, predicted))
                })
                .collect()
        };
        let sides: Vec<Predictions> = [90, 92, 94].map(predictions).to_vec();
        let seeded = same_on_both_sides(&sides);
        let printed = confusion(&predictions(93));
        let published = Published {
            accuracy: Some(0.93),
            accuracy_decimals: Some(2),
            confusion: Some(printed.rows().into_iter().map(|r| r.to_vec()).collect()),
            report: None,
            binary_accuracy: None,
            first_mistakes: None,
            notes: vec![],
            source: String::new(),
        };
        let s = seed_spread(&published, "C=1", "sag", &seeded);
        assert!(s.starts_with("Setting: C=1."), "{s}");
        assert!(
            s.contains("| 94 of 100 (seed 2); 92 of 100 (seed 1); 90 of 100 (seed 0) |"),
            "{s}"
        );
        // Seeds 0 and 2 differ on images 90 to 93.
        assert!(s.contains("| 4 of 100 | 4 of 100 |"), "{s}");
        assert!(s.contains("0 of 3 seeds print 0.93 at 2 decimals"), "{s}");
        assert!(
            s.contains("no seed gets the matrix's 93 of 100 right"),
            "{s}"
        );
        assert!(
            !s.contains(" sd "),
            "no spread statistics of three values: {s}"
        );
        // 90, 92 and 94 right differ from 93 in two cells each: digit 9 right, and 9 taken for 0.
        assert!(
            s.contains("| matrix cells equal to the published, per seed (random_state) | diagonal 93 | 98 (0), 98 (1), 98 (2) |"),
            "{s}"
        );
        // A seed with the published count is named.
        let with_93: Vec<Predictions> = [90, 93].map(predictions).to_vec();
        let seeded = same_on_both_sides(&with_93);
        let s = seed_spread(&published, "C=1", "sag", &seeded);
        assert!(
            s.contains("the matrix's 93 of 100 is what seed(s) 1 give"),
            "{s}"
        );
    }
}
