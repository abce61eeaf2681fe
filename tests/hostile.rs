//! What a hostile trial found (issue 20), through the binary: results never silently lost,
//! no panic from a config, a fit's ending named as the optimiser reported it, failed fits in the
//! exit code, nothing touched outside the results folder.

use std::path::Path;

mod common;

use common::{read_csv, sweep_in, write_config};

/// Sweeps `body` (on `subsample` images) into `<dir>/results` and returns the run.
fn sweep(dir: &Path, file: &str, body: &str, subsample: usize, extra: &[&str]) -> common::Ran {
    let path = write_config(dir, file, body, subsample);
    let out = dir.join("results");
    let mut args = vec![path.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    sweep_in(dir, &args)
}

/// The metrics.csv column `name` of every row.
fn column(path: &Path, name: &str) -> Vec<String> {
    let (header, rows) = read_csv(path);
    let i = header.iter().position(|h| h == name).unwrap();
    rows.into_iter().map(|r| r[i].clone()).collect()
}

/// Parameter values with 17 significant digits (np.logspace's, for one) read back bit for bit
/// from the record: a rerun reuses every run and the report lists them all.
#[test]
fn seventeen_digit_parameters_are_reused_not_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"digits17\"\n[split]\ntrain_size = 0.21544346900318823\nrandom_state = 0\n\
                [model]\nmax_iter = 3\nC = [0.9395020081555747, 0.0031622776601683794, 1e-4, 46.41588833612773]\n\
                tol = 0.00021544346900318823\n[output]\nrun_charts = \"none\"\n";
    let first = sweep(tmp.path(), "d.toml", body, 600, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let again = sweep(tmp.path(), "d.toml", body, 600, &[]);
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
    assert_eq!(column(&metrics, "run_id").len(), 4);
    let report = sweep(tmp.path(), "d.toml", body, 600, &["--report-only"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert_eq!(column(&metrics, "run_id").len(), 4);
}

/// Extreme C and tol in both dtypes: no panic, no lock left behind; each run is a result or a
/// failed fit named in the report, and a failed fit makes the exit code 1.
#[test]
fn extreme_values_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let body =
        "name = \"extreme\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 5\n\
                [output]\nrun_charts = \"none\"\n\
                [[grid]]\nC = [1e-307, 1e-300, 1e300]\n\
                [[grid]]\nC = [3e-39, 1e300]\ndtype = \"f32\"\n\
                [[grid]]\ntol = [1e308, 0.0, 1e-12]\n";
    let ran = sweep(tmp.path(), "e.toml", body, 400, &[]);
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
    assert!(
        ran.code == 0 || ran.code == 1,
        "exit {}: {}",
        ran.code,
        ran.stderr
    );
    let dir = tmp.path().join("results/extreme");
    // The folder is not left locked: a redraw runs.
    let again = sweep(tmp.path(), "e.toml", body, 400, &["--report-only"]);
    assert!(again.code == 0 || again.code == 1, "{}", again.stderr);
    let statuses = column(&dir.join("metrics.csv"), "status");
    assert_eq!(statuses.len(), 8, "every run is in the report");
    let failed = statuses.iter().filter(|s| *s != "ok").count();
    assert_eq!(ran.code, if failed > 0 { 1 } else { 0 }, "{}", ran.stderr);
}

/// A start that meets tol is scikit-learn's answer (the zero model, n_iter 0), converged; a stop
/// with the gradient above tol is not convergence.
#[test]
fn the_ending_is_named_as_the_optimiser_reported_it() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"ending\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = \"unit\"\n\
                [model]\nmax_iter = 300\n[output]\nrun_charts = \"none\"\n\
                [[grid]]\ntol = [1e308, 0.0]\n";
    let ran = sweep(tmp.path(), "t.toml", body, 300, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let metrics = tmp.path().join("results/ending/metrics.csv");
    let (status, converged, n_iter, termination) = (
        column(&metrics, "status"),
        column(&metrics, "converged"),
        column(&metrics, "n_iter"),
        column(&metrics, "termination"),
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

/// The lock holder's clean-up of `.tmp-*` files stays inside the results folder: a symbolic link
/// in it to a folder elsewhere is not followed.
#[cfg(unix)]
#[test]
fn clean_up_does_not_follow_links_out_of_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join(".tmp-precious"), b"keep me").unwrap();
    let dir = tmp.path().join("results/links");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("linked")).unwrap();
    std::fs::write(dir.join(".tmp-left-by-a-kill"), b"").unwrap();
    let body = "name = \"links\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 2\n[output]\nrun_charts = \"none\"\n";
    let ran = sweep(tmp.path(), "l.toml", body, 200, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!dir.join(".tmp-left-by-a-kill").exists());
    assert_eq!(
        std::fs::read(elsewhere.join(".tmp-precious")).unwrap(),
        b"keep me"
    );
}

/// A run's files are checked against the checksums in its record before the run is reused: a
/// model file copied from another run, or a truncated predictions file, is named and refitted.
#[test]
fn files_that_do_not_match_their_record_are_refitted() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"files\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = [2, 4]\n\
                [output]\npredictions = true\nrun_charts = \"none\"\n";
    let ran = sweep(tmp.path(), "f.toml", body, 300, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let runs = tmp.path().join("results/files/runs");
    let ids = column(&tmp.path().join("results/files/metrics.csv"), "run_id");
    std::fs::copy(
        runs.join(&ids[0]).join("model.npz"),
        runs.join(&ids[1]).join("model.npz"),
    )
    .unwrap();
    let predictions = runs.join(&ids[0]).join("predictions.csv");
    let text = std::fs::read_to_string(&predictions).unwrap();
    std::fs::write(&predictions, &text[..text.len() / 2]).unwrap();
    let again = sweep(tmp.path(), "f.toml", body, 300, &[]);
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

/// Config errors only the data reveals exit 2 before the results folder exists; a grid too large
/// to run is refused at once (even for --dry-run); -0.0 and 0.0 are one value.
#[test]
fn data_dependent_errors_and_huge_grids_are_config_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"folds\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nC = [1.0, 2.0]\nmax_iter = 2\n[selection]\ncv = 100\n";
    let ran = sweep(tmp.path(), "cv.toml", body, 100, &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("[selection] cv = 100"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stderr.trim_end().lines().count(), 1, "{}", ran.stderr);
    assert!(!tmp.path().join("results").exists());

    let list = |n: usize| {
        (1..=n)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let body = format!(
        "name = \"huge\"\n[split]\nrandom_state = 0\n[model]\nC = [{}]\nmax_iter = [{}]\ntol = [{}]\n",
        list(1000),
        list(1000),
        list(100)
    );
    let start = std::time::Instant::now();
    let ran = sweep(tmp.path(), "huge.toml", &body, 100, &["--dry-run"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("expands to 100000000 runs, more than the 10000"),
        "{}",
        ran.stderr
    );
    assert!(start.elapsed().as_secs() < 10);

    let body =
        "name = \"zeros\"\n[split]\nrandom_state = 0\n[model]\ntol = [0.0, -0.0]\nmax_iter = 2\n";
    let ran = sweep(tmp.path(), "z.toml", body, 100, &["--dry-run"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains(": 1 runs ->"), "{}", ran.stdout);
}

/// `--report-only` on a folder it cannot write exits 2 (input to fix), as a sweep does. (Skipped
/// where permissions do not bind, as for root.)
#[cfg(unix)]
#[test]
fn report_only_on_a_read_only_folder_is_input_to_fix() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"ro\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 2\n[output]\nrun_charts = \"none\"\n";
    assert_eq!(sweep(tmp.path(), "ro.toml", body, 200, &[]).code, 0);
    let dir = tmp.path().join("results/ro");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join("probe"), b"").is_ok() {
        eprintln!("skipped: permissions do not bind for this user");
        return;
    }
    let ran = sweep(tmp.path(), "ro.toml", body, 200, &["--report-only"]);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(ran.code, 2, "{}", ran.stderr);
}

/// A rerun that fits nothing keeps the record of the fit: where it changed files (here a
/// deleted README drawn again) the manifest's history holds the invocation that fitted the
/// runs; where it changed nothing, the manifest is not rewritten at all.
#[test]
fn a_redraw_keeps_the_fit_in_the_manifest_history() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"history\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = [2, 3]\n[output]\nrun_charts = \"none\"\n";
    assert_eq!(sweep(tmp.path(), "h.toml", body, 200, &[]).code, 0);
    let path = tmp.path().join("results/history/manifest.json");
    let fitted = std::fs::read(&path).unwrap();
    assert_eq!(sweep(tmp.path(), "h.toml", body, 200, &[]).code, 0);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        fitted,
        "a rerun that changed nothing wrote"
    );
    std::fs::remove_file(tmp.path().join("results/history/README.md")).unwrap();
    assert_eq!(sweep(tmp.path(), "h.toml", body, 200, &[]).code, 0);
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

/// `[selection]` with one run on its split chooses nothing, and the README says so instead of
/// describing a CV column that is not there.
#[test]
fn a_selection_with_nothing_to_choose_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"one\"\n[split]\nrandom_state = 0\n[model]\nmax_iter = 2\n[output]\nrun_charts = \"none\"\n[selection]\ncv = 3\n";
    assert_eq!(sweep(tmp.path(), "one.toml", body, 300, &[]).code, 0);
    let readme = std::fs::read_to_string(tmp.path().join("results/one/README.md")).unwrap();
    assert!(readme.contains("no split has more than one"), "{readme}");
    assert!(!readme.contains("In the CV column"), "{readme}");
}

/// A negative shard reaches the shard parser, whose message says what works (clap's own tip,
/// `-- -1`, did not).
#[test]
fn a_negative_shard_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"shard\"\n[split]\nrandom_state = 0\n[model]\nmax_iter = 2\n";
    let ran = sweep(tmp.path(), "s.toml", body, 100, &["--shard", "-1/2"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("expected I/N with 0 <= I < N") && !ran.stderr.contains("'-- -1'"),
        "{}",
        ran.stderr
    );
}
