//! `results/README.md`: one index of every results folder the parity report covers, with what
//! each shows, its headline numbers against scikit-learn, and the reports across folders.
//!
//! May touch: `folder` (results files and inputs through one handle), `baselines`, `config`,
//! `manifest` (when the fits were made), `markdown`, `parity` (its rows), `report` (the reference
//! run a folder names), `stats`, `store` (each folder's handle).

use std::path::Path;

use super::ParityRow;
use crate::baselines::Baseline;
use crate::config::Config;
use crate::markdown::Table;
use crate::report::Reference;
use crate::stats::{holm, Finding};

/// The files at the results root that are not a config's folder, and what writes them.
const REPORTS: [(&str, &str); 5] = [
    (
        "parity.md",
        "every run against the published notebooks and scikit-learn's rerun, paired on the same test images (`cargo run --bin parity`)",
    ),
    (
        "path-parting.md",
        "where the harness's L-BFGS path and scikit-learn's part, iteration by iteration (`scripts/path_parting.py`)",
    ),
    (
        "bench.md",
        "speed and memory against scikit-learn and scikit-learn-intelex, measured in one invocation (`scripts/bench.sh`)",
    ),
    (
        "predict-examples.png",
        "`predict` on digits the project never saw (`examples/digits`, see the README)",
    ),
    (
        "predict-photos.png",
        "`predict` on photo-like pictures (`cargo run --example make_photos`, see the README)",
    ),
];

/// The index as Markdown; `out` is the results root (the charts each folder holds are listed).
pub fn markdown(configs: &[Config], rows: &[ParityRow], out: &Path) -> String {
    let mut s = String::from(
        "# Results\n\n\
         One folder per experiment config, written by `cargo run --bin sweep -- CONFIG`, with \
         scikit-learn's rerun of the same runs in its `sklearn/` folder \
         (`scripts/sklearn_reference.py`); `scripts/reproduce_notebooks.sh` regenerates them all \
         and this index (written by `cargo run --bin parity` with `parity.md`). Each folder's \
         README has the tables, intervals and charts; its `manifest.json` says when, where and \
         from which revision the fits ran.\n\n\
         The reference run is the one each README measures the others against: chosen by \
         cross-validation where the config has `[selection]`, else the base configuration \
         (`reference.json`, what `predict results/<name>` takes). Its fit seconds are the fit's \
         own, as recorded; the sweep's time is the wall time of the invocation that made the fits \
         (cross-validation included), from its `manifest.json`. The floors put each accuracy in \
         context: always answering the most frequent training digit, and the nearest class \
         centroid (Euclidean distance to each digit's mean training image, raw pixels), fitted \
         on the reference run's training images and scored on its test images, with Wilson \
         95 % intervals.\n\n",
    );
    // Holm's correction across every row, as in parity.md.
    let raw: Vec<f64> = rows.iter().filter_map(|r| r.mcnemar_p).collect();
    let mut corrected = holm(&raw).into_iter();
    let findings: Vec<Option<Finding>> = rows
        .iter()
        .map(|r| {
            let p = r
                .mcnemar_p
                .map(|_| corrected.next().expect("one per test"))?;
            Some(Finding::of(r.equivalent?, p))
        })
        .collect();
    let folders: Vec<FolderRow> = configs
        .iter()
        .map(|config| folder_row(config, rows, &findings, out))
        .collect();
    let table = Table::new()
        .column("results", |f: &FolderRow| {
            format!("[{name}]({name}/README.md)", name = f.config.name)
        })
        .column("config", |f| format!("`{}`", f.config.path.display()))
        .column("what it is", |f| summary(f.config))
        .column("runs", |f| f.config.runs.len().to_string())
        .column("reference run", |f| f.chosen.clone())
        .column("its test accuracy: harness, scikit-learn", |f| {
            f.accuracy.clone()
        })
        .column("floors on the same test images", |f| f.floors.clone())
        .column("converged, iterations, fit s (harness)", |f| f.fit.clone())
        .column("the sweep's time (fits and CV)", |f| f.sweep.clone())
        .column("all runs against scikit-learn on the same images", |f| {
            f.against.clone()
        })
        .column("charts", |f| f.charts.clone());
    s.push_str(&table.render(&folders));
    let overridden = override_folders(configs, out);
    if !overridden.is_empty() {
        s.push_str(
            "\nFolders of these configs run with `SECTION.KEY=VALUE` overrides (`sweep CONFIG \
             model.C=...`: each folder's name says what was overridden, its `manifest.json` the \
             whole command line; not compared with scikit-learn here):\n\n",
        );
        for line in overridden {
            s.push_str(&format!("- {line}\n"));
        }
    }
    s.push_str("\nAcross folders:\n\n");
    for (file, what) in REPORTS {
        if out.join(file).exists() {
            s.push_str(&format!("- [{file}]({file}): {what}.\n"));
        }
    }
    s
}

/// The folders under `out` that sweeps of `configs` with overrides wrote (`<name>+<overrides>+<digest>`,
/// real folders only, not links), each with its config and reference run.
fn override_folders(configs: &[Config], out: &Path) -> Vec<String> {
    crate::store::ResultsDir::new(out.to_path_buf())
        .list(out)
        .into_iter()
        .filter(|(_, kind)| *kind == crate::folder::Kind::Dir)
        .filter_map(|(name, _)| {
            let config = configs
                .iter()
                .find(|c| name.starts_with(&format!("{}+", c.name)))?;
            let reference = match Reference::read(&out.join(&name)) {
                Some(Ok(r)) => format!(
                    "; reference run `{}` ({}), test accuracy {:.2} %",
                    r.run_id,
                    r.why,
                    100.0 * r.test_accuracy
                ),
                _ => String::new(),
            };
            Some(format!(
                "[{name}]({name}/README.md): `{}` with overrides{reference}",
                config.path.display()
            ))
        })
        .collect()
}

/// One results folder's line of the index.
struct FolderRow<'a> {
    config: &'a Config,
    /// The reference run and why it is the reference.
    chosen: String,
    accuracy: String,
    fit: String,
    sweep: String,
    against: String,
    /// The baselines on the reference run's test images.
    floors: String,
    charts: String,
}

/// The index line of `config`'s folder under `out`, from its parity rows and their findings.
fn folder_row<'a>(
    config: &'a Config,
    rows: &[ParityRow],
    findings: &[Option<Finding>],
    out: &Path,
) -> FolderRow<'a> {
    let mine: Vec<(&ParityRow, &Option<Finding>)> = rows
        .iter()
        .zip(findings)
        .filter(|(r, _)| r.config == config.name)
        .collect();
    let folder = out.join(&config.name);
    let reference = Reference::read(&folder).and_then(|r| r.ok());
    let row = reference
        .as_ref()
        .and_then(|re| mine.iter().find(|(r, _)| r.run_id == re.run_id))
        .map(|(r, _)| *r);
    let (chosen, accuracy, fit) = match (&reference, row) {
        (Some(re), Some(r)) => (
            format!("`{}` ({})", re.run_id, re.why),
            format!(
                "{:.2} % [{:.2}, {:.2}], {:.2} % [{:.2}, {:.2}]",
                100.0 * r.harness_accuracy.unwrap_or(f64::NAN),
                100.0 * r.harness_low.unwrap_or(f64::NAN),
                100.0 * r.harness_high.unwrap_or(f64::NAN),
                100.0 * r.sklearn_accuracy,
                100.0 * r.sklearn_low.unwrap_or(f64::NAN),
                100.0 * r.sklearn_high.unwrap_or(f64::NAN)
            ),
            format!(
                "{}, {}, {:.1} s",
                if r.harness_converged { "yes" } else { "no" },
                r.harness_n_iter.map_or("-".into(), |n| n.to_string()),
                r.harness_seconds
            ),
        ),
        _ => ("-".into(), "-".into(), "-".into()),
    };
    let sweep = crate::manifest::last_fit(&folder).map_or("-".into(), |(seconds, at)| {
        format!("{seconds:.0} s, finished {at}")
    });
    let count = |f: Finding| mine.iter().filter(|(_, g)| **g == Some(f)).count();
    let margin = 100.0 * config.output.equivalence_margin;
    let mut against = format!(
        "{} of {} the same (±{margin:.2} pp), {} different, {} inconclusive",
        count(Finding::Equivalent),
        mine.len(),
        count(Finding::Different),
        count(Finding::Inconclusive)
    );
    // Runs that kept no predictions cannot be paired: say so, with how far their accuracies are.
    let unpaired: Vec<f64> = mine
        .iter()
        .filter(|(_, g)| g.is_none())
        .filter_map(|(r, _)| r.diff_pp.map(f64::abs))
        .collect();
    if !unpaired.is_empty() {
        against.push_str(&format!(
            "; {} kept no predictions, so not paired (accuracies {:.2} pp apart at most)",
            unpaired.len(),
            unpaired.iter().cloned().fold(0.0, f64::max)
        ));
    }
    let results = crate::store::ResultsDir::new(folder.clone());
    let charts = results
        .list(&folder)
        .into_iter()
        .filter(|(n, kind)| *kind == crate::folder::Kind::File && n.ends_with(".png"))
        .map(|(c, _)| format!("[{}]({}/{c})", c.trim_end_matches(".png"), config.name))
        .collect::<Vec<_>>()
        .join(", ");
    let floors = reference
        .as_ref()
        .filter(|r| !r.baselines.is_empty())
        .map_or("-".into(), |r| {
            r.baselines
                .iter()
                .map(Baseline::text)
                .collect::<Vec<_>>()
                .join("; ")
        });
    FolderRow {
        config,
        chosen,
        accuracy,
        fit,
        sweep,
        against,
        floors,
        charts,
    }
}

/// What a config is: the first sentence of its leading comment, else its name.
fn summary(config: &Config) -> String {
    let comment: Vec<&str> = config
        .source
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    let text = comment.join(" ");
    let first = match text.find(". ") {
        Some(i) => &text[..=i],
        None => text.as_str(),
    };
    if first.is_empty() {
        config.name.clone()
    } else {
        first.replace('|', "\\|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config named `exp` at `experiments/exp.toml`.
    fn exp_config() -> Config {
        Config::parse(
            Path::new("experiments/exp.toml"),
            "name = \"exp\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n",
        )
        .unwrap()
    }

    /// A config's override folders are listed (real folders named `<name>+...`), links and
    /// other configs' folders are not.
    #[test]
    fn override_folders_of_the_given_configs_are_listed() {
        let tmp = tempfile::tempdir().unwrap();
        let config = exp_config();
        for folder in ["exp", "exp+C_0.5+1a2b3c", "expert", "other+C_1+000000"] {
            std::fs::create_dir(tmp.path().join(folder)).unwrap();
        }
        std::os::unix::fs::symlink(tmp.path().join("exp"), tmp.path().join("exp+link+ffffff"))
            .unwrap();
        let lines = override_folders(std::slice::from_ref(&config), tmp.path());
        assert_eq!(
            lines,
            ["[exp+C_0.5+1a2b3c](exp+C_0.5+1a2b3c/README.md): `experiments/exp.toml` with overrides"]
        );
    }

    /// Runs that kept no predictions are counted apart, not as zero findings.
    #[test]
    fn runs_without_predictions_are_not_counted_as_findings() {
        let tmp = tempfile::tempdir().unwrap();
        let config = exp_config();
        let paired = ParityRow {
            config: "exp".into(),
            ..crate::parity::tests::row(false, false, 0.0, 100.0)
        };
        let unpaired = ParityRow {
            mcnemar_p: None,
            equivalent: None,
            agreement_pct: None,
            diff_pp: Some(-0.021),
            ..paired.clone()
        };
        let md = markdown(&[config], &[paired, unpaired.clone(), unpaired], tmp.path());
        assert!(
            md.contains("1 of 3 the same (±0.20 pp), 0 different, 0 inconclusive; 2 kept no predictions, so not paired (accuracies 0.02 pp apart at most)"),
            "{md}"
        );
    }
}
