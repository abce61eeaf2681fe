//! The tables of a results folder's README: one per test set (each run against the reference,
//! with intervals and paired tests), the spread across seeds, and each reported run's
//! classification report and most confused pairs.
//!
//! May touch: `config`, `markdown`, `metrics`, `stats`, `store`, `report::comparison`.

use super::comparison::{
    cv_text, is_selected, paired, role_text, split_groups, within_one_se_of_best, TestGroup,
};
use crate::config::{summary_params, Config, Param};
use crate::markdown::Table;
use crate::stats::{group_in_order, holm, p_text, signed_pp as pp, AcrossSplits, McNemar};
use crate::store::RunResult;

/// One test set's runs, in config order, against its reference.
pub(super) fn group_table(s: &mut String, config: &Config, group: &TestGroup) {
    let reference = group.reference;
    s.push_str(&format!(
        "## Runs scored on the same {} test images (test set `{}`)\n\n\
         Reference: `{}` ({}).\n\n",
        group.n_test,
        group.id,
        reference.run.id,
        role_text(config, group.reference_role)
    ));
    let has_cv = group.runs.iter().any(|r| r.cv.is_some());
    // The parameters a run's one-line description shows, then the results.
    let columns: Vec<&Param> = summary_params(group.runs.iter().map(|r| &r.run.params));
    // The sparsity an l1 part buys, where a run has one.
    let sparse = group.runs.iter().any(|r| r.run.params.model.l1_ratio > 0.0);
    let rows = group_rows(config, group, has_cv);
    let mut table = Table::new().column("run", |g: &GroupRow| {
        if g.r.run.id == group.reference.run.id {
            format!("**`{}`**", g.r.run.id)
        } else {
            format!("`{}`", g.r.run.id)
        }
    });
    for p in columns {
        table = table.column(p.name, move |g: &GroupRow| {
            p.get(&g.r.run.params).display().to_string()
        });
    }
    let scoring = config.selection.as_ref().map(|sel| sel.scoring.as_str());
    let table = table
        .column("train / test", |g: &GroupRow| {
            format!("{} / {}", g.r.n_train, g.r.n_test)
        })
        .column_if(
            has_cv && scoring.is_some(),
            format!("CV {} (mean ± sd)", scoring.unwrap_or_default()),
            |g: &GroupRow| g.cv.clone(),
        )
        .column("test accuracy [95 % CI]", |g: &GroupRow| {
            let m = g.metrics();
            format!(
                "{:.2} {}",
                100.0 * m.accuracy,
                m.accuracy_interval().percent()
            )
        })
        .column("Δ pp [95 % CI]", |g: &GroupRow| g.comparison[0].clone())
        .column("p", |g: &GroupRow| g.comparison[1].clone())
        .column("Holm p", |g: &GroupRow| g.comparison[2].clone())
        .column("finding", |g: &GroupRow| g.comparison[3].clone())
        .column("train accuracy", |g: &GroupRow| {
            format!("{:.2}", 100.0 * g.r.diagnostics.train_accuracy)
        })
        .column("F1 macro", |g: &GroupRow| {
            format!("{:.2}", 100.0 * g.metrics().f1_macro)
        })
        .column("log-loss", |g: &GroupRow| {
            format!("{:.4}", g.metrics().log_loss)
        })
        .column("ECE", |g: &GroupRow| {
            g.metrics()
                .calibration
                .as_ref()
                .map_or("-".into(), |c| format!("{:.4}", c.ece))
        })
        .column("Brier", |g: &GroupRow| {
            g.metrics()
                .calibration
                .as_ref()
                .map_or("-".into(), |c| format!("{:.4}", c.brier))
        })
        .column_if(sparse, "zero weights", |g: &GroupRow| {
            match g.r.diagnostics.zero_weights {
                Some(z) => format!("{:.1} %", 100.0 * z),
                None => "-".into(),
            }
        })
        .column("converged", |g: &GroupRow| {
            if g.r.diagnostics.converged {
                "yes"
            } else {
                "**no**"
            }
            .to_string()
        })
        .column("iterations", |g: &GroupRow| {
            g.r.diagnostics.n_iter.to_string()
        })
        .column("fit s", |g: &GroupRow| {
            format!("{:.1}", g.r.diagnostics.fit_seconds)
        })
        .column("ms / evaluation", |g: &GroupRow| {
            let d = &g.r.diagnostics;
            format!(
                "{:.1}",
                1000.0 * d.fit_seconds / d.evaluations.max(1) as f64
            )
        })
        .column("confusion", |g: &GroupRow| {
            format!("[png](confusion/{}.png)", g.r.run.id)
        });
    s.push_str(&table.render(&rows));
    s.push('\n');
}

/// A run of a test group's table with what it is compared by.
struct GroupRow<'a> {
    r: &'a RunResult,
    /// Δ pp, p, Holm p and the finding against the reference ("reference" for itself).
    comparison: [String; 4],
    /// The cross-validation score, marked when selected or within one standard error.
    cv: String,
}

impl GroupRow<'_> {
    fn metrics(&self) -> &crate::metrics::Metrics {
        self.r.metrics.as_ref().expect("grouped runs have metrics")
    }
}

/// The rows of a test group's table: each run against the reference, with Holm's correction
/// across the table's comparisons.
fn group_rows<'a>(config: &Config, group: &TestGroup<'a>, has_cv: bool) -> Vec<GroupRow<'a>> {
    let reference = group.reference;
    let tests: Vec<Option<McNemar>> = group
        .runs
        .iter()
        .map(|r| {
            (r.run.id != reference.run.id)
                .then(|| paired(r, reference))
                .flatten()
        })
        .collect();
    let raw: Vec<f64> = tests.iter().flatten().map(|t| t.p_value).collect();
    let mut corrected = holm(&raw).into_iter();
    let margin = config.output.equivalence_margin;
    // Settings the folds cannot tell apart from the best one, split by split.
    let near_best: Vec<&RunResult> = split_groups(&group.runs)
        .iter()
        .flat_map(|split| within_one_se_of_best(split))
        .collect();
    group
        .runs
        .iter()
        .zip(&tests)
        .map(|(r, test)| {
            let comparison = match test {
                _ if r.run.id == reference.run.id => [
                    "reference".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                ],
                Some(test) => {
                    let holm_p = corrected.next().expect("one corrected p per test");
                    let i = test.difference_95();
                    [
                        format!("{} [{}, {}]", pp(test.difference()), pp(i.low), pp(i.high)),
                        p_text(test.p_value),
                        p_text(holm_p),
                        test.finding(margin, holm_p).text(margin),
                    ]
                }
                None => Default::default(),
            };
            let cv = if has_cv {
                let text = cv_text(r).unwrap_or_else(|| "-".into());
                let tied = near_best.iter().any(|t| t.run.id == r.run.id);
                match (is_selected(r, &group.runs, config.selection_rule), tied) {
                    (true, _) => format!("**{text}** (selected)"),
                    (false, true) => format!("{text} (within 1 SE)"),
                    (false, false) => text,
                }
            } else {
                String::new()
            };
            GroupRow { r, comparison, cv }
        })
        .collect()
}

/// Settings fitted on several splits (`[split] repeats`, or a list of `random_state` values):
/// test accuracy per setting across splits (mean, sd, the corrected resampled t interval of the
/// mean, range), and each setting against the reference setting split by split (the same test
/// images within a split), with the interval of the mean paired difference.
pub(super) fn seeds_table(s: &mut String, config: &Config, ok: &[&RunResult]) {
    let mut groups = group_in_order(ok.iter().copied(), |r| r.run.params.setting_across_splits());
    groups.retain(|g| g.len() >= 2);
    if groups.is_empty() {
        return;
    }
    s.push_str(
        "## Across splits\n\nSettings fitted on several splits (`random_state` values; each draws \
         its own training and test images): test accuracy in percent across splits. The interval \
         of a mean is Nadeau and Bengio's corrected resampled t (95 %): the splits share images, \
         so the variance of the mean is sd² (1/J + n_test/n_train) for J splits, not sd²/J.\n\n",
    );
    let ratio = |r: &RunResult| r.n_test as f64 / r.n_train.max(1) as f64;
    let accuracies = |g: &[&RunResult]| -> Vec<f64> {
        g.iter()
            .map(|r| 100.0 * r.accuracy().unwrap_or(f64::NAN))
            .collect()
    };
    let seeds = |g: &[&RunResult]| -> String {
        let mut seeds: Vec<u32> = g.iter().map(|r| r.run.params.split.random_state).collect();
        seeds.sort_unstable();
        let consecutive = seeds.windows(2).all(|w| w[1] == w[0] + 1);
        match (consecutive && seeds.len() > 2, seeds.first(), seeds.last()) {
            (true, Some(a), Some(b)) => format!("{} ({a}-{b})", seeds.len()),
            _ => format!(
                "{} ({})",
                seeds.len(),
                seeds
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };
    type Row<'r> = (&'r RunResult, String, AcrossSplits, f64, f64);
    let rows: Vec<Row> = groups
        .iter()
        .map(|g| {
            let acc = accuracies(g);
            let min = acc.iter().copied().fold(f64::INFINITY, f64::min);
            let max = acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (
                g[0],
                seeds(g),
                AcrossSplits::of(&acc, ratio(g[0])),
                min,
                max,
            )
        })
        .collect();
    let table = Table::new()
        .column("setting", |r: &Row| r.0.run.params.describe())
        .column("train / test", |r| {
            format!("{} / {}", r.0.n_train, r.0.n_test)
        })
        .column("splits (seeds)", |r| r.1.clone())
        .column("mean ± sd", |r| format!("{:.2} ± {:.2}", r.2.mean, r.2.sd))
        .column("95 % CI of the mean", |r| {
            format!("[{:.2}, {:.2}]", r.2.interval.low, r.2.interval.high)
        })
        .column("min", |r| format!("{:.2}", r.3))
        .column("max", |r| format!("{:.2}", r.4));
    s.push_str(&table.render(&rows));
    s.push('\n');

    // Each setting against the reference setting, on the splits both were fitted on.
    let reference = groups
        .iter()
        .position(|g| {
            g.iter()
                .any(|r| Some(&r.run.id) == config.base_run.as_ref())
        })
        .unwrap_or(0);
    let on_seed = |g: &[&RunResult], seed: u32| {
        g.iter()
            .find(|r| r.run.params.split.random_state == seed)
            .and_then(|r| r.accuracy())
    };
    type Paired<'r> = (&'r RunResult, Vec<f64>, AcrossSplits);
    let paired: Vec<Paired> = groups
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != reference)
        .filter_map(|(_, g)| {
            let differences: Vec<f64> = g
                .iter()
                .filter_map(|r| {
                    let seed = r.run.params.split.random_state;
                    Some(r.accuracy()? - on_seed(&groups[reference], seed)?)
                })
                .collect();
            (differences.len() >= 2).then(|| {
                let across = AcrossSplits::of(&differences, ratio(g[0]));
                (g[0], differences, across)
            })
        })
        .collect();
    if paired.is_empty() {
        return;
    }
    s.push_str(&format!(
        "Each setting minus the reference setting ({}), split by split (both scored on the same \
         test images within a split), in percentage points:\n\n",
        groups[reference][0].run.params.describe()
    ));
    let table = Table::new()
        .column("setting", |p: &Paired| p.0.run.params.describe())
        .column("splits", |p| p.1.len().to_string())
        .column("Δ pp mean ± sd", |p| {
            format!("{} ± {:.2}", pp(p.2.mean), 100.0 * p.2.sd)
        })
        .column("95 % CI of the mean Δ", |p| {
            format!("[{}, {}]", pp(p.2.interval.low), pp(p.2.interval.high))
        })
        .column("higher on", |p| {
            let higher = p.1.iter().filter(|d| **d > 0.0).count();
            let lower = p.1.iter().filter(|d| **d < 0.0).count();
            format!("{higher} of {} splits ({lower} lower)", p.1.len())
        })
        .column("finding", |p| {
            if p.2.interval.low > 0.0 || p.2.interval.high < 0.0 {
                "**different**".to_string()
            } else {
                "no difference shown".to_string()
            }
        });
    s.push_str(&table.render(&paired));
    s.push('\n');
}

/// scikit-learn's `classification_report` for one run, as a table (percent).
pub(super) fn class_report(s: &mut String, r: &RunResult) {
    let m = r.metrics.as_ref().expect("reported runs have metrics");
    s.push_str(
        "### Classification report (scikit-learn's `classification_report`, in percent)\n\n",
    );
    let support: u64 = m.per_class.iter().map(|c| c.support).sum();
    let weighted = |f: fn(&crate::metrics::ClassScores) -> f64| {
        m.per_class
            .iter()
            .map(|c| f(c) * c.support as f64)
            .sum::<f64>()
            / support.max(1) as f64
    };
    let percent = |v: f64| format!("{:.2}", 100.0 * v);
    // (label, precision, recall, F1, support): the digits, then scikit-learn's summary rows.
    let mut rows: Vec<[String; 5]> = m
        .per_class
        .iter()
        .map(|c| {
            [
                c.class.to_string(),
                percent(c.precision),
                percent(c.recall),
                percent(c.f1),
                c.support.to_string(),
            ]
        })
        .collect();
    let all = support.to_string();
    rows.push([
        "accuracy".into(),
        String::new(),
        String::new(),
        percent(m.accuracy),
        all.clone(),
    ]);
    rows.push([
        "macro avg".into(),
        percent(m.precision_macro),
        percent(m.recall_macro),
        percent(m.f1_macro),
        all.clone(),
    ]);
    rows.push([
        "weighted avg".into(),
        percent(weighted(|c| c.precision)),
        percent(weighted(|c| c.recall)),
        percent(m.f1_weighted),
        all,
    ]);
    s.push_str(&Table::positional(["digit", "precision", "recall", "F1", "support"]).render(&rows));
    s.push('\n');
    confused_pairs(s, m);
}

/// The most frequent confusions (true digit read as another), from the confusion matrix.
fn confused_pairs(s: &mut String, m: &crate::metrics::Metrics) {
    let mut pairs: Vec<(usize, usize, u64)> = Vec::new();
    for t in 0..m.confusion.nrows() {
        for p in 0..m.confusion.ncols() {
            if t != p && m.confusion[[t, p]] > 0 {
                pairs.push((t, p, m.confusion[[t, p]]));
            }
        }
    }
    pairs.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    if pairs.is_empty() {
        return;
    }
    s.push_str("### Most confused pairs\n\n");
    let table = Table::new()
        .column("true digit", |(t, _, _): &(usize, usize, u64)| {
            t.to_string()
        })
        .column("read as", |(_, p, _)| p.to_string())
        .column("images", |(_, _, n)| n.to_string())
        .column("% of that digit's test images", |(t, _, n)| {
            let support = m.per_class[*t].support.max(1);
            format!("{:.2}", 100.0 * *n as f64 / support as f64)
        });
    s.push_str(&table.render(pairs.iter().take(8)));
    s.push('\n');
}
