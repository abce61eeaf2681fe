//! End-to-end: a real-data subsample through the whole pipeline and through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use mnist_logreg::config::Config;
use mnist_logreg::data::repository_data_dir;
use mnist_logreg::sweep::{self, SweepOptions};

mod common;

use common::{read_csv, sweep_in, sweep_library};

/// Writes `body` as `<dir>/e2e.toml` on the first 3,000 images.
/// The end-to-end tests' config: `body` on the first 3,000 images.
fn e2e_config(dir: &Path, body: &str) -> PathBuf {
    common::write_config(dir, "e2e.toml", body, 3000)
}

const SWEEP: &str = r#"
name = "e2e"
[split]
train_size = 0.8
random_state = 0
[preprocessing]
scaler = "unit"
[model]
max_iter = 30
[output]
predictions = true
[[grid]]
C = [0.1, 1.0]
[[grid]]
multi_class = "ovr"
max_iter = 10
"#;

#[test]
fn sweep_on_real_data_writes_complete_results() {
    let tmp = tempfile::tempdir().unwrap();
    let config = Config::load(&e2e_config(tmp.path(), SWEEP)).unwrap();
    assert_eq!(config.runs.len(), 3);
    let options = SweepOptions {
        out: tmp.path().join("results"),
        jobs: 2,
        progress: false,
        quiet: true,
        ..SweepOptions::default()
    };
    let outcome = sweep::run(&config, &options).unwrap();
    let dir = tmp.path().join("results/e2e");
    assert_eq!(outcome.results_dir, dir);

    let (header, rows) = read_csv(&dir.join("metrics.csv"));
    for column in [
        "run_id",
        "multi_class",
        "C",
        "max_iter",
        "tol",
        "scaler",
        "dtype",
        "train_size",
        "test_size",
        "random_state",
        "shuffle",
        "n_train",
        "n_test",
        "accuracy",
        "train_accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "f1_weighted",
        "log_loss",
        "ece",
        "brier",
        "objective",
        "grad_norm",
        "converged",
        "status",
        "fit_seconds",
    ] {
        assert!(
            header.iter().any(|h| h == column),
            "metrics.csv lacks {column}"
        );
    }
    assert_eq!(rows.len(), 3);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    // Rows in config order.
    let ids: Vec<&str> = rows.iter().map(|r| r[col("run_id")].as_str()).collect();
    let expected: Vec<&str> = config.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, expected);
    for row in &rows {
        assert_eq!(row[col("status")], "ok");
        let value = |name: &str| row[col(name)].parse::<f64>().unwrap();
        assert!(
            value("accuracy_low") < value("accuracy") && value("accuracy") < value("accuracy_high")
        );
        assert_eq!(row[col("test_set")], rows[0][col("test_set")]);
        assert_eq!(row[col("n_train")], "2400");
        assert_eq!(row[col("n_test")], "600");
        let accuracy: f64 = row[col("accuracy")].parse().unwrap();
        assert!(accuracy > 0.75 && accuracy <= 1.0, "accuracy {accuracy}");
        let objective: f64 = row[col("objective")].parse().unwrap();
        assert!(objective > 0.0 && objective < 10f64.ln() * 10.0);
        let grad: f64 = row[col("grad_norm")].parse().unwrap();
        let converged = &row[col("converged")];
        assert_eq!(
            converged == "true",
            grad <= 1e-4,
            "converged flag must follow grad_norm <= tol"
        );
    }

    let (class_header, class_rows) = read_csv(&dir.join("per_class.csv"));
    assert_eq!(
        class_header,
        [
            "run_id",
            "class",
            "precision",
            "recall",
            "f1",
            "support",
            "binary_accuracy"
        ]
    );
    // One-vs-rest runs report each digit's binary accuracy; multinomial runs leave it empty.
    assert!(class_rows[..10].iter().all(|r| r[6].is_empty()));
    assert!(class_rows[20..]
        .iter()
        .all(|r| r[6].parse::<f64>().unwrap() > 0.8));
    assert_eq!(class_rows.len(), 30);
    let support: u64 = class_rows[..10]
        .iter()
        .map(|r| r[5].parse::<u64>().unwrap())
        .sum();
    assert_eq!(support, 600);

    for id in &ids {
        let (_, matrix) = read_csv(&dir.join(format!("confusion/{id}.csv")));
        let total: u64 = matrix
            .iter()
            .flat_map(|r| r[1..].iter())
            .map(|v| v.parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, 600);
        let png = image::open(dir.join(format!("confusion/{id}.png"))).unwrap();
        assert_eq!((png.width(), png.height()), (1040, 972));
        // Not a blank canvas: the dark diagonal cells are there.
        let dark = png.to_rgb8().pixels().filter(|p| p.0[2] < 140).count();
        assert!(dark > 10_000, "only {dark} dark pixels");

        let (pred_header, preds) = read_csv(&dir.join(format!("runs/{id}/predictions.csv")));
        assert_eq!(pred_header[..4], ["index", "label", "predicted", "p0"]);
        assert_eq!(preds.len(), 600);
        let p_sum: f64 = preds[0][3..]
            .iter()
            .map(|v| v.parse::<f64>().unwrap())
            .sum();
        assert!((p_sum - 1.0).abs() < 1e-4);
    }
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("3 runs: 3 ok, 0 failed"), "{readme}");
    // The grid varies C only: that chart is drawn; the max_iter charts are not, and the README
    // says why.
    assert!(dir.join("accuracy_vs_C.png").is_file());
    assert!(!dir.join("accuracy_vs_max_iter.png").exists());
    assert!(
        readme.contains(
            "not drawn: no two finished runs scored on the same test images differ only in max_iter"
        ),
        "{readme}"
    );
    // No run is picked by its test score: the reference is the base configuration (C = 1,
    // multinomial), and the others are compared with it on the same 600 test images.
    let best = config
        .base_run
        .as_ref()
        .expect("the base values are single values");
    assert_eq!(best, &config.runs[1].id);
    assert!(
        readme.contains(&format!(
            "Reference: `{best}` (reference: the base configuration)"
        )),
        "{readme}"
    );
    assert!(
        readme.contains("## Runs scored on the same 600 test images"),
        "{readme}"
    );
    assert!(!readme.to_lowercase().contains("best"), "{readme}");
    for r in &outcome.results {
        let m = r.metrics.as_ref().unwrap();
        let row = format!(
            "{:.2} {}",
            100.0 * m.accuracy,
            m.accuracy_interval().percent()
        );
        assert!(readme.contains(&row), "README lacks {row}");
    }
    assert!(readme.contains("### Classification report"), "{readme}");
    // Floors on the same 600 test images (scikit-learn's DummyClassifier and NearestCentroid
    // give the same counts on notebook A's full split: 1,580 and 11,240 of 14,000).
    assert!(
        readme.contains("Floors on the same 600 test images, fitted on the same training images: majority class (always "),
        "{readme}"
    );
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let floors = reference["baselines"].as_array().unwrap();
    assert_eq!(floors.len(), 2);
    let centroid = floors[1]["correct"].as_u64().unwrap();
    assert!(
        (400..540).contains(&centroid),
        "nearest centroid {centroid} of 600"
    );
    assert!(readme.contains("### Most confused pairs"), "{readme}");
    // The charted run has its charts, each embedded in the README and a decodable, non-blank PNG.
    for chart in [
        "accuracy_vs_C.png".to_string(),
        format!("runs/{best}/confusion_normalized.png"),
        format!("runs/{best}/class_scores.png"),
        format!("runs/{best}/reliability.png"),
        format!("runs/{best}/mistakes.png"),
        format!("runs/{best}/sample_predictions.png"),
        format!("runs/{best}/training_digits.png"),
    ] {
        assert!(
            readme.contains(&format!("]({chart})")),
            "README lacks {chart}"
        );
        let png = image::open(dir.join(&chart)).unwrap().to_rgb8();
        let ink = png.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(ink > 5_000, "{chart}: only {ink} non-white pixels");
    }
    // Only the reference run has per-run charts (the default `run_charts = "selected"`).
    for id in ids.iter().filter(|id| **id != best.as_str()) {
        assert!(!dir.join(format!("runs/{id}/mistakes.png")).exists());
        assert!(dir.join(format!("runs/{id}/run.json")).is_file());
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["grid"].as_array().unwrap().len(), 3);
    assert!(manifest["config_text"]
        .as_str()
        .unwrap()
        .contains("name = \"e2e\""));
    assert_eq!(manifest["runs_finished"], 3);
    assert!(manifest["crate_versions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|kv| kv[0] == "linfa-logistic"));
    // No temporary files left behind.
    let leftovers = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".tmp")
        })
        .count();
    assert_eq!(leftovers, 0);

    // A record written before calibration was computed gets it from its predictions.csv, to
    // the precision of the file's seven significant digits.
    let ece = |rows: &[Vec<String>]| -> Vec<f64> {
        rows.iter()
            .map(|r| r[col("ece")].parse().unwrap())
            .collect()
    };
    let fresh = ece(&rows);
    assert!(fresh.iter().all(|e| (0.0..0.2).contains(e)), "{fresh:?}");
    for id in &ids {
        let path = dir.join(format!("runs/{id}/run.json"));
        let mut record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        record["metrics"]
            .as_object_mut()
            .unwrap()
            .remove("calibration")
            .expect("a fresh record has its calibration");
        std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
    }
    // Every record is reused (nothing refitted), the report rewritten from them.
    sweep::run(&config, &options).unwrap();
    let (_, again) = read_csv(&dir.join("metrics.csv"));
    for (a, b) in fresh.iter().zip(ece(&again)) {
        assert!(
            (a - b).abs() < 1e-6,
            "{a} from the fit, {b} from predictions.csv"
        );
    }
}

#[test]
fn the_notebook_split_of_real_data_matches_scikit_learn_labels() {
    // scikit-learn's y_test class counts for train_test_split(train_size=0.8, random_state=0).
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nb.toml");
    std::fs::write(
        &path,
        format!(
            "[split]\ntrain_size = 0.8\nrandom_state = 0\n{}",
            common::data_section(&repository_data_dir(), None, None)
        ),
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let mnist = mnist_logreg::data::load(&config.data).unwrap();
    let split =
        mnist_logreg::split::train_test_split(70_000, &config.runs[0].params.split).unwrap();
    let mut counts = [0usize; 10];
    for &i in &split.test {
        counts[mnist.labels[i] as usize] += 1;
    }
    assert_eq!(
        counts,
        [1387, 1580, 1443, 1435, 1350, 1231, 1387, 1458, 1368, 1361]
    );
}

#[test]
fn a_bad_config_gives_one_line_exit_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let path = e2e_config(tmp.path(), "name = \"bad\"\n[model]\nC = -1\n");
    let ran = sweep_in(tmp.path(), &[path.to_str().unwrap(), "--out", "res"]);
    let (code, _, stderr) = (ran.code, ran.stdout, ran.stderr);
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("line 3: C = -1: must be a positive"),
        "{stderr}"
    );
    assert!(!tmp.path().join("res").exists());

    let ran = sweep_in(tmp.path(), &["missing.toml"]);
    let (code, _, stderr) = (ran.code, ran.stdout, ran.stderr);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim(), "error: missing.toml: no such config file: check the path (the examples are in experiments/)");
}

#[test]
fn a_missing_data_folder_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.toml"), "[split]\nrandom_state = 0\n").unwrap();
    let ran = sweep_in(tmp.path(), &["c.toml", "--out", "res"]);
    let (code, _, stderr) = (ran.code, ran.stdout, ran.stderr);
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("data/mnist: the MNIST folder is missing"),
        "{stderr}"
    );
}

#[test]
fn dry_run_lists_the_grid_without_fitting() {
    let tmp = tempfile::tempdir().unwrap();
    let path = e2e_config(tmp.path(), SWEEP);
    let ran = sweep_in(
        tmp.path(),
        &[path.to_str().unwrap(), "--dry-run", "--out", "res"],
    );
    let (code, stdout, _) = (ran.code, ran.stdout, ran.stderr);
    assert_eq!(code, 0);
    assert!(stdout.contains("3 runs"), "{stdout}");
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    assert!(
        stdout.contains("0 finished, 3 to fit; no time estimate"),
        "{stdout}"
    );
    // Every parameter of the table is a column, then the run's status.
    let header: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
    let mut expected = vec!["run_id"];
    expected.extend(mnist_logreg::config::PARAMS.iter().map(|p| p.name));
    assert_eq!(header[..header.len() - 1], expected);
    assert_eq!(header.last(), Some(&"status"));
    assert!(!tmp.path().join("res").exists());

    // --plan: the same runs as JSON, every parameter by name, for the scikit-learn reference.
    let ran = sweep_in(tmp.path(), &[path.to_str().unwrap(), "--plan"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let plan: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let config = Config::load(&path).unwrap();
    let runs = plan["runs"].as_array().unwrap();
    assert_eq!(runs.len(), config.runs.len());
    for (planned, run) in runs.iter().zip(&config.runs) {
        assert_eq!(planned["run_id"], run.id.as_str());
        assert_eq!(planned["params"]["C"], run.params.model.c);
        assert_eq!(planned["params"]["test_size"], serde_json::Value::Null);
        assert_eq!(
            planned["params"].as_object().unwrap().len(),
            expected.len() - 1
        );
    }
    assert_eq!(plan["name"], "e2e");
    assert_eq!(plan["subsample"], 3000);
    assert!(!tmp.path().join("res").exists() && !tmp.path().join("results").exists());
}

/// Loads the first `n` real images, split 80/20 with random_state 0.
fn real_subsample(n: usize) -> (mnist_logreg::data::Mnist, mnist_logreg::split::SplitIndices) {
    let data = mnist_logreg::config::DataConfig {
        dir: repository_data_dir(),
        cache_dir: repository_data_dir().join("cache"),
        subsample: Some(n),
    };
    let mnist = mnist_logreg::data::load(&data).unwrap();
    let spec = mnist_logreg::split::SplitSpec {
        train_size: Some(mnist_logreg::split::Size::Fraction(0.8)),
        test_size: None,
        random_state: 0,
        shuffle: true,
    };
    let split = mnist_logreg::split::train_test_split(n, &spec).unwrap();
    (mnist, split)
}

/// linfa-logistic 0.8.1 returned an all-zero model on raw 0..255 pixels in f64 (its clamped,
/// global-max log-sum-exp); the patched engine fits them on the first attempt, in scikit-learn's
/// coordinates, and its report says how far it went.
#[test]
fn raw_pixels_fit_on_the_first_attempt_with_a_report() {
    use mnist_logreg::model::{fit, FitStatus, ModelParams};
    let (mnist, split) = real_subsample(20_000);
    let prepared = mnist_logreg::preprocessing::prepare::<f64>(
        mnist.images.view(),
        &mnist.labels,
        &split,
        mnist_logreg::preprocessing::Scaler::None,
        mnist_logreg::model::Dtype::F64,
        mnist_logreg::model::FitUnits::Scaled,
    )
    .unwrap();
    assert_eq!(
        prepared.fit_scale, 1.0,
        "f64 fits run on the features as given"
    );
    let params = ModelParams {
        max_iter: 20,
        ..Default::default()
    };
    let seen = std::sync::Mutex::new(Vec::new());
    let outcome = fit(
        &prepared.x_fit,
        &prepared.y_train,
        &params.check().unwrap(),
        &|iteration, objective| seen.lock().unwrap().push((iteration, objective)),
    )
    .unwrap();
    let d = &outcome.diagnostics;
    assert_eq!(d.attempts, 1);
    assert_eq!(d.status, FitStatus::Ok);
    assert!(
        d.train_accuracy > 0.85,
        "train accuracy {}",
        d.train_accuracy
    );
    assert_eq!(d.n_iter, 20);
    assert_eq!(d.termination, "max_iter");
    assert!(!d.converged);
    // The trace starts at ln(10) and ends at the recomputed objective; the observer saw it all.
    assert_eq!(d.trace.len(), 21);
    assert!((d.trace[0].objective - 10f64.ln()).abs() < 1e-9);
    assert!((d.trace[20].objective - d.objective).abs() < 1e-9);
    assert!((d.trace[20].grad_max - d.grad_norm).abs() < 1e-9 * d.grad_norm.max(1.0));
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 21);
    assert_eq!(seen.last().unwrap().0, 20);
    assert!(d.evaluations >= 20 && d.evaluations < 3 * 20);
}

#[test]
fn f32_fits_on_raw_and_unit_pixels_give_real_models() {
    use mnist_logreg::model::{fit, Dtype, FitStatus, FitUnits, ModelParams};
    use mnist_logreg::preprocessing::{prepare, Scaler};
    let (mnist, split) = real_subsample(5_000);
    for scaler in [Scaler::None, Scaler::Unit] {
        let prepared = prepare::<f32>(
            mnist.images.view(),
            &mnist.labels,
            &split,
            scaler,
            Dtype::F32,
            FitUnits::Scaled,
        )
        .unwrap();
        let params = ModelParams {
            max_iter: 30,
            dtype: Dtype::F32,
            ..Default::default()
        };
        let outcome = fit(
            &prepared.x_fit,
            &prepared.y_train,
            &params.check().unwrap(),
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(outcome.diagnostics.status, FitStatus::Ok, "{scaler:?}");
        assert!(!outcome.model.is_zero());
        let p = outcome
            .model
            .probabilities(&outcome.model.decision(&prepared.x_test, 1.0));
        let m = mnist_logreg::metrics::evaluate(&prepared.y_test, p.view(), None);
        assert!(m.accuracy > 0.85, "{scaler:?}: accuracy {}", m.accuracy);
    }
}

/// Runs that differ only in `max_iter` are served by one fit kept at each count; each run's
/// record is identical to a separate fit's (but for its timing), multinomial and one-vs-rest,
/// on raw pixels (f64) and on pixels/255 (f32, with a fit scale).
#[test]
fn one_fit_serves_a_max_iter_grid_with_records_identical_to_separate_fits() {
    use mnist_logreg::store::RunResult;
    let tmp = tempfile::tempdir().unwrap();
    let sweep_in = |name: &str, body: &str| -> Vec<RunResult> {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        sweep_library(&e2e_config(&dir, body), &dir.join("results"))
            .1
            .results
    };
    let base = "name = \"grid\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n";
    for (setting, model) in [
        (
            "raw multinomial f64",
            "[preprocessing]\nscaler = \"none\"\n[model]\n",
        ),
        (
            "unit ovr f32",
            "[preprocessing]\nscaler = \"unit\"\n[model]\nmulti_class = \"ovr\"\ndtype = \"f32\"\n",
        ),
        (
            "unit ovr gd",
            "[preprocessing]\nscaler = \"unit\"\n[model]\nmulti_class = \"ovr\"\nsolver = \"gd\"\nlearning_rate = 0.5\nC = inf\n",
        ),
        (
            "raw multinomial gd f32",
            "[preprocessing]\nscaler = \"none\"\n[model]\nsolver = \"gd\"\nlearning_rate = 1e-6\ndtype = \"f32\"\n",
        ),
    ] {
        let shared = sweep_in(
            &format!("{setting} shared"),
            &format!("{base}{model}max_iter = [3, 7, 15]\n"),
        );
        assert_eq!(shared.len(), 3);
        // `--separate-fits`: the same grid, every run fitted on its own, the same records.
        let dir = tmp.path().join(format!("{setting} separate-fits"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config::load(&e2e_config(
            &dir,
            &format!("{base}{model}max_iter = [3, 7, 15]\n"),
        ))
        .unwrap();
        let options = SweepOptions {
            out: dir.join("results"),
            progress: false,
            quiet: true,
            shared_fits: false,
            ..SweepOptions::default()
        };
        let alone = sweep::run(&config, &options).unwrap().results;
        for (mut alone, run) in alone.into_iter().zip(&shared) {
            alone.diagnostics.fit_seconds = run.diagnostics.fit_seconds;
            assert_eq!(&alone, run, "{setting}, --separate-fits");
        }
        for run in &shared {
            let k = run.run.params.model.max_iter;
            let separate = sweep_in(
                &format!("{setting} {k}"),
                &format!("{base}{model}max_iter = {k}\n"),
            );
            let mut separate = separate.into_iter().next().unwrap();
            assert_eq!(separate.run.id, run.run.id);
            assert_eq!(separate.diagnostics.n_iter, k, "{setting}");
            separate.diagnostics.fit_seconds = run.diagnostics.fit_seconds;
            assert_eq!(&separate, run, "{setting}, max_iter {k}");
        }
    }
}

/// Results and caches are created as any program's files, by the umask (0644 under umask 022),
/// not tempfile's private 0600: on a cluster the group can read them and reuse the cache.
#[cfg(unix)]
#[test]
fn output_and_cache_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("umask.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"umask\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 3\n{}",
            common::data_section(&repository_data_dir(), Some("cache"), Some(3000))
        ),
    )
    .unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022 && exec {} {} --out results --quiet",
            env!("CARGO_BIN_EXE_sweep"),
            config.display()
        ))
        .current_dir(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    let root = tmp.path().join("results/umask");
    let mut files = vec![root.join("metrics.csv"), root.join("README.md")];
    for entry in std::fs::read_dir(root.join("runs")).unwrap() {
        files.push(entry.unwrap().path().join("run.json"));
    }
    for entry in std::fs::read_dir(tmp.path().join("cache")).unwrap() {
        files.push(entry.unwrap().path());
    }
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{}", file.display());
    }
}

#[test]
fn selection_by_cross_validation_picks_the_best_mean_fold_score_and_never_the_test_score() {
    let tmp = tempfile::tempdir().unwrap();
    let body = r#"
name = "cv"
[split]
train_size = 0.8
test_size = 0.2
random_state = 0
[preprocessing]
scaler = "unit"
[model]
C = [0.001, 0.1, 10.0]
max_iter = 40
[selection]
cv = 3
shuffle = true
random_state = 1
[[grid]]
train_size = 0.8
[[grid]]
train_size = 0.4
"#;
    let config = Config::load(&e2e_config(tmp.path(), body)).unwrap();
    assert_eq!(config.runs.len(), 6);
    let options = SweepOptions {
        out: tmp.path().join("results"),
        progress: false,
        quiet: true,
        ..SweepOptions::default()
    };
    let outcome = sweep::run(&config, &options).unwrap();
    let results = &outcome.results;
    // Every run on a split with others has three fold scores, from folds of its own training part.
    for r in results {
        let cv = r.cv.as_ref().expect("cross-validated");
        assert_eq!(cv.scores.len(), 3);
        assert!(cv.scores.iter().all(|s| (0.5..=1.0).contains(s)), "{cv:?}");
        assert_eq!(cv.selection.shuffle_seed, Some(1));
    }
    // Both splits share the 600 test images; the selected run is the best mean CV score of the
    // larger split (2400 training images).
    let big: Vec<_> = results.iter().filter(|r| r.n_train == 2400).collect();
    let chosen = big
        .iter()
        .max_by(|a, b| {
            let mean = |r: &&&mnist_logreg::store::RunResult| r.cv.as_ref().unwrap().mean_sd().0;
            mean(a).total_cmp(&mean(b))
        })
        .unwrap();
    let readme = std::fs::read_to_string(tmp.path().join("results/cv/README.md")).unwrap();
    assert!(
        readme.contains(&format!(
            "Reference: `{}` (selected by 3-fold CV)",
            chosen.run.id
        )),
        "{readme}"
    );
    assert!(readme.contains("CV accuracy (mean ± sd)"), "{readme}");
    assert!(
        readme.contains("shuffled with random_state = 1"),
        "{readme}"
    );
    // Only the selected run gets per-run charts.
    for r in results {
        let charted = tmp
            .path()
            .join(format!("results/cv/runs/{}/mistakes.png", r.run.id))
            .exists();
        assert_eq!(charted, r.run.id == chosen.run.id, "{}", r.run.id);
    }
    // A record without the scores the config asks for is refitted, with the reason given.
    let other = SweepOptions {
        quiet: true,
        progress: false,
        ..options.clone()
    };
    let again = sweep::run(&config, &other).unwrap();
    assert_eq!(again.fitted, 0);
    let no_cv = body.replace("[selection]\ncv = 3", "[selection]\ncv = 2");
    let config2 = Config::load(&e2e_config(tmp.path(), &no_cv)).unwrap();
    let refit = sweep::run(&config2, &other).unwrap();
    assert_eq!(refit.fitted, 6, "2-fold scores replace the 3-fold ones");
    assert!(refit
        .results
        .iter()
        .all(|r| r.cv.as_ref().unwrap().scores.len() == 2));
}

#[test]
fn runs_that_differ_only_in_random_state_are_summarised_across_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"seeds\"\n[split]\ntrain_size = 0.8\nrandom_state = [0, 1, 2]\n[preprocessing]\nscaler = \"unit\"\n[model]\nmax_iter = 20\n";
    let (_, outcome) = sweep_library(&e2e_config(tmp.path(), body), &tmp.path().join("results"));
    let acc: Vec<f64> = outcome
        .results
        .iter()
        .map(|r| 100.0 * r.accuracy().unwrap())
        .collect();
    let (mean, sd) = mnist_logreg::stats::mean_sd(&acc);
    let readme = std::fs::read_to_string(tmp.path().join("results/seeds/README.md")).unwrap();
    assert!(readme.contains("## Across splits"), "{readme}");
    assert!(
        readme.contains(&format!("| 3 (0-2) | {mean:.2} ± {sd:.2} |")),
        "{readme}"
    );
    assert!(readme.contains("corrected resampled t"), "{readme}");
    // Three seeds, three test sets: three tables, none compared with another.
    assert_eq!(readme.matches("## Runs scored on the same").count(), 3);
}

/// sag and saga through the sweep: the records name their engine, runs that differ only in
/// max_iter share one fit and equal separate fits, an l1 part gives zero weights, the penalty
/// charts are drawn, and a second sweep refits nothing.
#[test]
fn saga_penalties_sweep_shares_fits_and_draws_sparsity() {
    let tmp = tempfile::tempdir().unwrap();
    let body = r#"
name = "pen"
[split]
train_size = 0.8
random_state = 0
[preprocessing]
scaler = "unit"
[model]
solver = "saga"
l1_ratio = [0.0, 1.0]
C = [0.1, 1.0]
max_iter = [3, 8]
[selection]
cv = 2
"#;
    let path = common::write_config(tmp.path(), "pen.toml", body, 1000);
    let out = tmp.path().join("results");
    let (config, outcome) = sweep_library(&path, &out);
    assert_eq!(config.runs.len(), 8);
    assert_eq!(outcome.fitted, 8);
    for r in &outcome.results {
        assert_eq!(r.engine, linfa_logistic::identity::SAG);
        assert_eq!(r.run.params.model.random_state, Some(0));
        assert!(r.diagnostics.n_iter <= r.run.params.model.max_iter);
    }
    let zeros = |l1: f64| {
        outcome
            .results
            .iter()
            .filter(|r| r.run.params.model.l1_ratio == l1)
            .map(|r| r.diagnostics.zero_weights.unwrap())
            .fold(f64::INFINITY, f64::min)
    };
    assert!(
        zeros(1.0) > zeros(0.0) + 0.2,
        "{} vs {}",
        zeros(1.0),
        zeros(0.0)
    );
    let dir = &outcome.results_dir;
    for chart in ["coefficients.png", "sparsity_vs_C.png", "accuracy_vs_C.png"] {
        assert!(dir.join(chart).is_file(), "{chart}");
    }
    let (header, _) = read_csv(&dir.join("metrics.csv"));
    for column in ["solver", "l1_ratio", "model.random_state", "zero_weights"] {
        assert!(header.iter().any(|h| h == column), "{column}");
    }

    // The max_iter = 3 run of the shared fit is what a fit with max_iter = 3 alone gives.
    let alone = common::write_config(
        tmp.path(),
        "alone.toml",
        &body
            .replace("max_iter = [3, 8]", "max_iter = 3")
            .replace("[selection]\ncv = 2\n", ""),
        1000,
    );
    let (_, single) = sweep_library(&alone, &tmp.path().join("alone"));
    for r in &single.results {
        let shared = outcome
            .results
            .iter()
            .find(|s| s.run.params.model == r.run.params.model)
            .unwrap();
        assert_eq!(shared.diagnostics.objective, r.diagnostics.objective);
        assert_eq!(
            shared.metrics.as_ref().unwrap().accuracy,
            r.metrics.as_ref().unwrap().accuracy
        );
    }

    let (_, again) = sweep_library(&path, &out);
    assert_eq!(again.fitted, 0);
}

/// `C = inf` (no penalty) fits, is recorded as "inf", and is left out of the log-scale C axis
/// (a chart of the finite values is still drawn; drawing it once never finished).
#[test]
fn no_penalty_runs_are_reported_and_left_off_the_c_axis() {
    let tmp = tempfile::tempdir().unwrap();
    let body = r#"
name = "free"
[split]
train_size = 0.8
random_state = 0
[preprocessing]
scaler = "unit"
[model]
C = [0.1, 1.0, inf]
max_iter = 5
"#;
    let path = common::write_config(tmp.path(), "free.toml", body, 1000);
    let (_, outcome) = sweep_library(&path, &tmp.path().join("results"));
    assert_eq!(outcome.results.len(), 3);
    let dir = &outcome.results_dir;
    assert!(dir.join("accuracy_vs_C.png").is_file());
    let (header, rows) = read_csv(&dir.join("metrics.csv"));
    let c = header.iter().position(|h| h == "C").unwrap();
    assert_eq!(rows[2][c], "inf");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("| inf |"), "{readme}");
}

/// A start that meets tol is scikit-learn's answer (the zero model, n_iter 0), converged; a stop
/// with the gradient above tol is not convergence.
#[test]
fn the_ending_is_named_as_the_optimiser_reported_it() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"ending\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = \"unit\"\n\
                [model]\nmax_iter = 300\n[output]\nrun_charts = \"none\"\n\
                [[grid]]\ntol = [1e308, 0.0]\n";
    let ran = common::sweep_config(tmp.path(), "t.toml", body, 300, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let metrics = tmp.path().join("results/ending/metrics.csv");
    let (status, converged, n_iter, termination) = (
        common::column(&metrics, "status"),
        common::column(&metrics, "converged"),
        common::column(&metrics, "n_iter"),
        common::column(&metrics, "termination"),
    );
    // tol = 1e308: converged at the start, the zero model, n_iter 0.
    assert_eq!(
        (&*status[0], &*converged[0], &*n_iter[0], &*termination[0]),
        ("ok", "true", "0", "converged")
    );
    // tol = 0: never met; the fit stops on the relative reduction (scipy's other convergence
    // test) or the iteration limit, and is not reported converged.
    assert_eq!(status[1], "ok");
    assert_eq!(converged[1], "false");
    assert!(
        termination[1] == "rel_reduction" || termination[1] == "max_iter",
        "{}",
        termination[1]
    );
}

/// Gradient descent reads f32 features in their own units while L-BFGS in the same config reads
/// them divided (two sets of matrices, each prepared once); the animation asked for in [output]
/// is drawn although the run gets no other chart.
#[test]
fn gd_reads_f32_features_unscaled_beside_lbfgs_and_animates_without_run_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"units\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = \"none\"\n\
                [model]\nmulti_class = \"ovr\"\ndtype = \"f32\"\nmax_iter = 3\n\
                [output]\npredictions = true\nanimation = true\nrun_charts = \"none\"\n\
                [[grid]]\nsolver = \"lbfgs\"\n[[grid]]\nsolver = \"gd\"\nC = inf\nlearning_rate = 1e-6\n";
    let ran = common::sweep_config(tmp.path(), "t.toml", body, 1000, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let dir = tmp.path().join("results/units");
    let metrics = dir.join("metrics.csv");
    let solvers = common::column(&metrics, "solver");
    let scales = common::column(&metrics, "fit_scale");
    let statuses = common::column(&metrics, "status");
    assert_eq!(statuses, ["ok", "ok"]);
    for (solver, scale) in solvers.iter().zip(&scales) {
        let expected = if solver == "gd" { 1.0 } else { 255.0 };
        assert_eq!(scale.parse::<f64>().unwrap(), expected, "{solver}");
    }
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
            .unwrap();
    let run = dir.join("runs").join(reference["run_id"].as_str().unwrap());
    assert!(run.join("examples.gif").is_file());
    assert!(run.join("examples.png").is_file());
    assert!(!run.join("confusion.png").exists(), "run_charts = \"none\"");
}
