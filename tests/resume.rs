//! Never lose a result: kill -9 mid-sweep (or mid cross-validation) and resume, rerun
//! identically, rerun only what changed, records reused only when they and their files check
//! out, shard over processes and merge, redraw without refitting.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Six quick runs on 3,000 images.
const GRID: &str = r#"
name = "resume"
[split]
train_size = 0.8
random_state = 0
[preprocessing]
scaler = "unit"
[model]
max_iter = 40
[output]
predictions = true
run_charts = "all"
[[grid]]
C = [0.01, 0.1, 1.0, 10.0]
[[grid]]
multi_class = "ovr"
max_iter = [5, 10]
"#;

mod common;

use common::sweep_command as sweep;

/// Writes `body` as `<dir>/<name>` on the first 3,000 images.
fn write_config(dir: &Path, name: &str, body: &str) -> PathBuf {
    common::write_config(dir, name, body, 3000)
}

/// Writes `body` as `<dir>/<file>` and sweeps it once into `<dir>/out`; returns the arguments
/// that rerun it.
fn swept_into_out(dir: &Path, file: &str, body: &str) -> [String; 3] {
    let config = write_config(dir, file, body);
    let out = dir.join("out");
    let args = [
        config.to_string_lossy().into_owned(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
    ];
    run(&args.each_ref().map(String::as_str));
    args
}

/// Runs `sweep args`; returns stderr, panicking with it on failure.
fn run(args: &[&str]) -> String {
    let out = sweep(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "sweep {args:?} failed: {stderr}");
    stderr
}

/// metrics.csv without the timing column.
fn metrics_without_timing(dir: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(dir.join("metrics.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let timing = header.iter().position(|h| h == "fit_seconds").unwrap();
    let mut rows = vec![header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != timing)
        .map(|(_, v)| v.clone())
        .collect::<Vec<_>>()];
    for record in reader.records() {
        rows.push(
            record
                .unwrap()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != timing)
                .map(|(_, v)| v.to_string())
                .collect(),
        );
    }
    rows
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

fn records(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("runs"))
        .map(|entries| {
            entries
                .filter(|e| e.as_ref().unwrap().path().join("run.json").is_file())
                .count()
        })
        .unwrap_or(0)
}

/// Files the report derives from the records, which must match a single uninterrupted run.
fn assert_same_report(a: &Path, b: &Path, ids: &[String]) {
    assert_eq!(metrics_without_timing(a), metrics_without_timing(b));
    assert_eq!(read(a.join("per_class.csv")), read(b.join("per_class.csv")));
    for id in ids {
        let file = format!("confusion/{id}.csv");
        assert_eq!(read(a.join(&file)), read(b.join(&file)), "{file}");
        let file = format!("runs/{id}/predictions.csv");
        assert_eq!(read(a.join(&file)), read(b.join(&file)), "{file}");
    }
}

fn run_ids(config: &Path) -> Vec<String> {
    mnist_logreg::config::Config::load(config)
        .unwrap()
        .runs
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Writes the grid config and runs it once, uninterrupted, into `<tmp>/single`: returns the
/// config, its run ids and the reference results folder.
fn single_machine_sweep(tmp: &Path) -> (PathBuf, Vec<String>, PathBuf) {
    let config = write_config(tmp, "grid.toml", GRID);
    let ids = run_ids(&config);
    let single = tmp.join("single");
    run(&[
        config.to_str().unwrap(),
        "--out",
        single.to_str().unwrap(),
        "--quiet",
    ]);
    (config, ids, single.join("resume"))
}

#[test]
fn a_sweep_killed_at_any_point_resumes_to_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, ids, reference) = single_machine_sweep(tmp.path());
    let config_arg = config.to_str().unwrap();

    let out = tmp.path().join("killed");
    let killed = out.join("resume");
    // Kill -9 right after start, then after 1, 3 and 5 finished runs; resume after each.
    for after in [0, 1, 3, 5] {
        let mut child = sweep(&[config_arg, "--out", out.to_str().unwrap(), "--quiet"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while records(&killed) < after && start.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if after == 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever was written is complete: every row of metrics.csv parses, every record loads.
        if killed.join("metrics.csv").exists() {
            let rows = metrics_without_timing(&killed);
            assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
        }
    }
    let stderr = run(&[config_arg, "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("already finished"), "{stderr}");
    let rows = metrics_without_timing(&killed);
    assert_eq!(rows.len(), 1 + ids.len(), "every run exactly once");
    assert_same_report(&killed, &reference, &ids);
}

/// Writes the grid config and runs it into `<tmp>/out`: returns the config, the results root
/// and the experiment folder.
fn swept_once(tmp: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let config = write_config(tmp, "grid.toml", GRID);
    let out = tmp.join("out");
    run(&[config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let dir = out.join("resume");
    (config, out, dir)
}

#[test]
fn reruns_are_identical_and_only_new_runs_are_fitted() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, out, dir) = swept_once(tmp.path());
    let args = [config.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let first = metrics_without_timing(&dir);
    let first_timing = read(dir.join("metrics.csv"));

    // Nothing to do: every run is reused, byte for byte (timings included).
    let stderr = run(&args);
    assert!(stderr.contains("0 of 6 runs to fit"), "{stderr}");
    assert_eq!(read(dir.join("metrics.csv")), first_timing);

    // --force refits everything: same metrics, new timings.
    let stderr = run(&[args[0], args[1], args[2], "--force"]);
    assert!(stderr.contains("6 of 6 runs to fit"), "{stderr}");
    assert_eq!(metrics_without_timing(&dir), first);

    // One more C value in the same file: only that run is fitted.
    let changed = write_config(
        tmp.path(),
        "grid.toml",
        &GRID.replace(
            "C = [0.01, 0.1, 1.0, 10.0]",
            "C = [0.01, 0.1, 1.0, 10.0, 100.0]",
        ),
    );
    let stderr = run(&[changed.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("1 of 7 runs to fit"), "{stderr}");
    assert_eq!(metrics_without_timing(&dir).len(), 8);
    // Back to the six runs.
    write_config(tmp.path(), "grid.toml", GRID);

    // A record made on other data, or damaged, is not reused: that run is fitted again.
    let ids = run_ids(&config);
    let record = dir.join(format!("runs/{}/run.json", ids[0]));
    let text = read(&record);
    let checksum = text.split("\"data_checksum\": \"").nth(1).unwrap()[..64].to_string();
    std::fs::write(&record, text.replace(&checksum, &"0".repeat(64))).unwrap();
    std::fs::write(dir.join(format!("runs/{}/run.json", ids[1])), "{ torn").unwrap();
    let stderr = run(&args);
    assert!(
        stderr.contains("the record was made on other data"),
        "{stderr}"
    );
    assert!(stderr.contains("unreadable record"), "{stderr}");
    assert!(stderr.contains("2 of 6 runs to fit"), "{stderr}");
    assert_eq!(metrics_without_timing(&dir)[..7], first[..]);
}

/// Runs shard i of `outs.len()` into `outs[i]`, all at once, and waits for every one to succeed.
fn run_shards(config: &str, outs: &[PathBuf]) {
    let n = outs.len();
    let children: Vec<_> = outs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            let shard = format!("{i}/{n}");
            sweep(&[
                config,
                "--out",
                out.to_str().unwrap(),
                "--shard",
                &shard,
                "--quiet",
            ])
            .spawn()
            .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
}

#[test]
fn shards_merge_into_the_single_machine_result() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, ids, single) = single_machine_sweep(tmp.path());
    let config_arg = config.to_str().unwrap();

    // Three processes at once, one shard each, each in its own folder (as on three machines).
    let shard_outs: Vec<PathBuf> = (0..3)
        .map(|i| tmp.path().join(format!("shard{i}")))
        .collect();
    run_shards(config_arg, &shard_outs);
    for (i, out) in shard_outs.iter().enumerate() {
        assert_eq!(
            records(&out.join("resume")),
            2,
            "shard {i} fits runs {i} and {}",
            i + 3
        );
        let readme = read(out.join("resume/README.md"));
        assert!(
            readme.contains("**Incomplete:** 2 of 6 runs finished"),
            "{readme}"
        );
    }
    let merged = tmp.path().join("merged");
    let mut args = vec![config_arg, "--out", merged.to_str().unwrap(), "--merge"];
    let shard_dirs: Vec<String> = shard_outs
        .iter()
        .map(|o| o.join("resume").display().to_string())
        .collect();
    args.extend(shard_dirs.iter().map(String::as_str));
    run(&args);
    let merged = merged.join("resume");
    assert_same_report(&merged, &single, &ids);
    assert!(!read(merged.join("README.md")).contains("Incomplete"));

    // Shards sharing one folder finish it without a merge step.
    let shared = tmp.path().join("shared");
    run_shards(config_arg, &[shared.clone(), shared.clone()]);
    run(&[
        config_arg,
        "--out",
        shared.to_str().unwrap(),
        "--report-only",
    ]);
    assert_same_report(&shared.join("resume"), &single, &ids);
}

#[test]
fn report_only_redraws_every_chart_without_refitting() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, out, dir) = swept_once(tmp.path());
    let args = [config.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let pngs = |dir: &Path| -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "png") {
                    found.push(p);
                }
            }
        }
        found.sort();
        found
    };
    let before = pngs(&dir);
    // 5 sweep charts (fit paths included), 6 confusion heatmaps, 8 charts per multinomial run
    // and 9 per ovr run (fit path, reliability diagram and coefficients included). (No learning
    // curve: the split is fixed.)
    assert_eq!(before.len(), 5 + 6 + 4 * 8 + 2 * 9, "{before:#?}");
    let bytes: Vec<Vec<u8>> = before.iter().map(|p| std::fs::read(p).unwrap()).collect();
    for p in &before {
        std::fs::remove_file(p).unwrap();
    }
    std::fs::remove_file(dir.join("README.md")).unwrap();
    let stderr = run(&[args[0], args[1], args[2], "--report-only"]);
    assert!(stderr.contains("0 fitted now"), "{stderr}");
    assert_eq!(pngs(&dir), before);
    for (p, b) in before.iter().zip(&bytes) {
        assert_eq!(
            &std::fs::read(p).unwrap(),
            b,
            "{} is redrawn identically",
            p.display()
        );
        let image = image::open(p).unwrap();
        assert!(image.width() >= 900);
    }
    let readme = read(dir.join("README.md"));
    assert!(readme.contains("binary_accuracy.png"));
    assert!(readme.contains("## Run `"));
}

#[test]
fn the_slurm_scripts_shard_and_merge_like_an_array_job() {
    // Each array task as Slurm would start it (environment variables), then the merge job.
    let tmp = tempfile::tempdir().unwrap();
    let (config, ids, single) = single_machine_sweep(tmp.path());
    let config_arg = config.to_str().unwrap();

    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tmp.path().join("cluster");
    let script = |name: &str, args: &[&str], env: &[(&str, &str)]| {
        let status = Command::new("bash")
            .arg(repo.join("scripts/slurm").join(name))
            .args(args)
            .envs(env.iter().copied())
            .env("SWEEP_BIN", env!("CARGO_BIN_EXE_sweep"))
            .env("SLURM_SUBMIT_DIR", tmp.path())
            .env("SLURM_CPUS_PER_TASK", "1")
            .status()
            .unwrap();
        assert!(status.success(), "{name} {args:?}");
    };
    for task in ["0", "1", "2", "3"] {
        script(
            "sweep.sbatch",
            &[config_arg, out.to_str().unwrap()],
            &[
                ("SLURM_ARRAY_TASK_ID", task),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ],
        );
    }
    script(
        "merge.sbatch",
        &[config_arg, out.to_str().unwrap(), "4"],
        &[],
    );
    assert_same_report(&out.join("resume"), &single, &ids);
}

/// A record is reused only if it holds together and the files the config asks for exist: edited,
/// damaged or incomplete records are named and refitted, and the refitted results equal a clean
/// sweep's.
#[test]
fn damaged_records_and_missing_files_are_named_and_refitted() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"damage\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = \"unit\"\n[model]\nmax_iter = 5\nC = [0.1, 1.0, 10.0]\n[output]\npredictions = true\n";
    let args = swept_into_out(tmp.path(), "damage.toml", body);
    let args = args.each_ref().map(String::as_str);
    let dir = tmp.path().join("out/damage");
    let clean = metrics_without_timing(&dir);
    let ids: Vec<String> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    type Edit = fn(&mut serde_json::Value);
    let damages: [(&str, Edit); 6] = [
        ("accuracy", |r| r["metrics"]["accuracy"] = 0.99.into()),
        (
            "10x10",
            |r| {
                r["metrics"]["confusion"] =
                    serde_json::json!({"v": 1, "dim": [3, 3], "data": [1, 0, 0, 0, 1, 0, 0, 0, 1]})
            },
        ),
        ("per-class rows", |r| {
            r["metrics"]["per_class"]
                .as_array_mut()
                .unwrap()
                .truncate(4)
        }),
        ("digit", |r| {
            r["examples"]["mistakes"][0]["predicted"] = 42.into()
        }),
        ("do not go together", |r| {
            r["metrics"] = serde_json::Value::Null
        }),
        ("shows image", |r| {
            r["examples"]["train"][0]["index"] = 999_999.into()
        }),
    ];
    for (expected, edit) in damages {
        let record = dir.join("runs").join(&ids[0]).join("run.json");
        let mut value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
        edit(&mut value);
        std::fs::write(&record, serde_json::to_vec(&value).unwrap()).unwrap();
        let stderr = run(&args);
        assert!(
            stderr.contains(&ids[0])
                && stderr.contains(expected)
                && stderr.contains("1 fitted now"),
            "{expected}: {stderr}"
        );
        assert_eq!(metrics_without_timing(&dir), clean, "{expected}");
    }
    // A deleted predictions file is refitted, not ignored.
    std::fs::remove_file(dir.join("runs").join(&ids[1]).join("predictions.csv")).unwrap();
    let stderr = run(&args);
    assert!(
        stderr.contains("asks for predictions") && stderr.contains("1 fitted now"),
        "{stderr}"
    );
    assert!(dir
        .join("runs")
        .join(&ids[1])
        .join("predictions.csv")
        .is_file());
    assert_eq!(metrics_without_timing(&dir), clean);
    // So is a deleted model file.
    std::fs::remove_file(dir.join("runs").join(&ids[2]).join("model.npz")).unwrap();
    let stderr = run(&args);
    assert!(
        stderr.contains("model file is missing") && stderr.contains("1 fitted now"),
        "{stderr}"
    );
    assert!(dir.join("runs").join(&ids[2]).join("model.npz").is_file());
    assert_eq!(metrics_without_timing(&dir), clean);
}

/// Turning `predictions = true` on after the runs finished refits them so the files exist.
#[test]
fn asking_for_predictions_later_refits_the_runs_that_lack_them() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"later\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 3\nC = [0.1, 1.0]\n";
    let args = swept_into_out(tmp.path(), "later.toml", body);
    let args = args.each_ref().map(String::as_str);
    let out = tmp.path().join("out");
    write_config(
        tmp.path(),
        "later.toml",
        &format!("{body}[output]\npredictions = true\n"),
    );
    let stderr = run(&args);
    assert!(stderr.contains("2 fitted now"), "{stderr}");
    let count = std::fs::read_dir(out.join("later/runs"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("predictions.csv").is_file())
        .count();
    assert_eq!(count, 2);
}

/// Parameter values with 17 significant digits (np.logspace's, for one) read back bit for bit
/// from the record: a rerun reuses every run and the report lists them all.
#[test]
fn seventeen_digit_parameters_are_reused_not_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"digits17\"\n[split]\ntrain_size = 0.21544346900318823\nrandom_state = 0\n\
                [model]\nmax_iter = 3\nC = [0.9395020081555747, 0.0031622776601683794, 1e-4, 46.41588833612773]\n\
                tol = 0.00021544346900318823\n[output]\nrun_charts = \"none\"\n";
    let first = common::sweep_config(tmp.path(), "d.toml", body, 600, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let again = common::sweep_config(tmp.path(), "d.toml", body, 600, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("4 of 4 runs finished (0 fitted now, 0 failed)"),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("refitting"), "{}", again.stderr);
    let metrics = tmp.path().join("results/digits17/metrics.csv");
    assert_eq!(common::column(&metrics, "run_id").len(), 4);
    let report = common::sweep_config(tmp.path(), "d.toml", body, 600, &["--report-only"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert_eq!(common::column(&metrics, "run_id").len(), 4);
}

/// A run's files are checked against the checksums in its record before the run is reused: a
/// model file copied from another run, or a truncated predictions file, is named and refitted.
#[test]
fn files_that_do_not_match_their_record_are_refitted() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"files\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = [2, 4]\n\
                [output]\npredictions = true\nrun_charts = \"none\"\n";
    let ran = common::sweep_config(tmp.path(), "f.toml", body, 300, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let runs = tmp.path().join("results/files/runs");
    let ids = common::column(&tmp.path().join("results/files/metrics.csv"), "run_id");
    std::fs::copy(
        runs.join(&ids[0]).join("model.npz"),
        runs.join(&ids[1]).join("model.npz"),
    )
    .unwrap();
    let predictions = runs.join(&ids[0]).join("predictions.csv");
    let text = std::fs::read_to_string(&predictions).unwrap();
    std::fs::write(&predictions, &text[..text.len() / 2]).unwrap();
    let again = common::sweep_config(tmp.path(), "f.toml", body, 300, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("2 of 2 runs finished (2 fitted now, 0 failed)"),
        "{}",
        again.stderr
    );
    for id in &ids {
        assert!(again.stderr.contains(id.as_str()), "{}", again.stderr);
    }
    assert_eq!(
        again.stderr.matches("SHA-256 differs").count(),
        2,
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&predictions).unwrap(), text);
}

/// A rerun that fits nothing keeps the record of the fit: where it changed files (here a
/// deleted README drawn again) the manifest's history holds the invocation that fitted the
/// runs; where it changed nothing, the manifest is not rewritten at all.
#[test]
fn a_redraw_keeps_the_fit_in_the_manifest_history() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"history\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = [2, 3]\n[output]\nrun_charts = \"none\"\n";
    assert_eq!(
        common::sweep_config(tmp.path(), "h.toml", body, 200, &[]).code,
        0
    );
    let path = tmp.path().join("results/history/manifest.json");
    let fitted = std::fs::read(&path).unwrap();
    assert_eq!(
        common::sweep_config(tmp.path(), "h.toml", body, 200, &[]).code,
        0
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        fitted,
        "a rerun that changed nothing wrote"
    );
    std::fs::remove_file(tmp.path().join("results/history/README.md")).unwrap();
    assert_eq!(
        common::sweep_config(tmp.path(), "h.toml", body, 200, &[]).code,
        0
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tmp.path().join("results/history/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["runs_fitted"], 0);
    let history = manifest["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{manifest}");
    assert_eq!(history[0]["runs_fitted"], 2);
    assert!(history[0]["started_at"].is_string());
}

/// A sweep killed during cross-validation resumes at the first missing fold: the folds already
/// scored are read back, not refitted, and the scores are the same as an uninterrupted sweep's.
#[test]
fn cross_validation_resumes_after_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"exp\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = \"unit\"\n\
                [model]\nC = 1.0\nmax_iter = 100\n\n[[grid]]\nC = [0.1, 1.0]\n[selection]\ncv = 4\n";
    let path = common::write_config(tmp.path(), "exp.toml", body, 2000);
    let mut child = common::sweep_command(&[path.to_str().unwrap(), "--out", "res"])
        .current_dir(tmp.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = tmp.path().join("res/exp/cv");
    let start = std::time::Instant::now();
    let scored = |fold: usize| {
        std::fs::read_dir(&first).map_or(0, |runs| {
            runs.filter_map(|r| r.ok())
                .filter(|r| r.path().join(format!("fold-{fold}-of-4.json")).exists())
                .count()
        })
    };
    while scored(1) < 2 && start.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        scored(1),
        2,
        "fold 1 of both settings was written before the kill"
    );
    assert!(scored(4) < 2, "the sweep was killed before its last fold");

    let ran = common::sweep_in(tmp.path(), &[path.to_str().unwrap(), "--out", "res"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(
            "fold 1/4 scored (2 fit(s) reused from an interrupted sweep); mean so far C=0.1: "
        ),
        "{}",
        ran.stderr
    );
    // The records are gone once the runs hold the scores, and the scores match a fresh sweep's.
    assert!(!first.exists());
    let fresh = common::sweep_in(tmp.path(), &[path.to_str().unwrap(), "--out", "fresh"]);
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    let cv = |out: &str| {
        let (header, rows) = common::read_csv(&tmp.path().join(out).join("exp/metrics.csv"));
        let col = header.iter().position(|h| h == "cv_mean").unwrap();
        rows.iter().map(|r| r[col].clone()).collect::<Vec<_>>()
    };
    assert_eq!(cv("res"), cv("fresh"));
}
