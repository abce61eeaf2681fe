//! Changing a grid between two sweeps, through the binaries: overrides and ranges (runs finished
//! next door copied, not refitted), `--dry-run` on a folder with finished runs, the closing
//! summary, `predict` on a results folder, and `--prune` of runs the grid no longer has.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{sweep_in, write_config};

const BASE: &str = r#"
name = "exp"
[split]
train_size = 0.8
random_state = 0
[preprocessing]
scaler = "unit"
[model]
C = 1.0
max_iter = 5
"#;

/// The experimenter's config: `body` on the first 600 images, as a command-line argument.
fn exp_config(dir: &Path, body: &str) -> String {
    write_config(dir, "exp.toml", body, 600)
        .display()
        .to_string()
}

/// The run lines of a `--dry-run` table: (C, max_iter, status).
fn dry_rows(stdout: &str) -> Vec<(String, String, String)> {
    let header: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c, it, status) = (col("C"), col("max_iter"), col("status"));
    stdout
        .lines()
        .skip(2)
        .filter(|l| l.len() > 12 && l.as_bytes()[12] == b' ')
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (
                cells[c].to_string(),
                cells[it].to_string(),
                cells[status..].join(" "),
            )
        })
        .collect()
}

#[test]
fn ranges_expand_and_overrides_go_to_their_own_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let ranged = BASE.replace("C = 1.0", "C = { logspace = [-2, 0], num = 3 }");
    let path = exp_config(tmp.path(), &ranged);
    let ran = sweep_in(tmp.path(), &[&path, "--dry-run", "--out", "res"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let cs: Vec<String> = dry_rows(&ran.stdout).into_iter().map(|r| r.0).collect();
    assert_eq!(cs, ["0.01", "0.1", "1"]);

    // Overrides: a list on the command line, a grid of 3 x 2, in exp+<digest>/.
    let ran = sweep_in(
        tmp.path(),
        &[&path, "model.max_iter=5,10", "--dry-run", "--out", "res"],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("6 runs -> res/exp+"), "{}", ran.stdout);
    let rows = dry_rows(&ran.stdout);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().any(|r| r.1 == "10"));

    // A bad value in an override is named with the override, on one line, exit 2.
    for (given, says) in [
        (
            "model.C=-1",
            "override \"model.C=-1\": C = -1: must be a positive",
        ),
        ("modle.C=1", "unknown section `modle`"),
        ("model.max_iters=5", "unknown key `max_iters` in [model]"),
        ("C=1", "write SECTION.KEY=VALUE"),
    ] {
        let ran = sweep_in(tmp.path(), &[&path, given, "--dry-run"]);
        assert_eq!(ran.code, 2, "{given}: {}", ran.stderr);
        assert_eq!(
            ran.stderr.trim().lines().count(),
            1,
            "{given}: {}",
            ran.stderr
        );
        assert!(ran.stderr.contains(says), "{given}: {}", ran.stderr);
    }
}

#[test]
fn dry_run_marks_finished_runs_and_the_sweep_names_its_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let two = format!("{BASE}\n[[grid]]\nC = [0.1, 1.0]\n");
    let path = exp_config(tmp.path(), &two);
    let ran = sweep_in(tmp.path(), &[&path, "--out", "res"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // The closing summary: the reference run, why, its test accuracy in percent, its model.
    let last = ran.stderr.trim().lines().last().unwrap();
    assert!(
        last.starts_with("reference run ")
            && last.contains("test accuracy ")
            && last.contains(" %"),
        "{last}"
    );
    assert!(
        last.contains("res/exp/runs/") && last.ends_with("model.npz"),
        "{last}"
    );
    assert!(ran.stderr.contains("test accuracy"), "{}", ran.stderr);

    // A third C: the two finished runs are marked, the third is estimated from them.
    let three = format!("{BASE}\n[[grid]]\nC = [0.1, 1.0, 10.0]\n");
    let path = exp_config(tmp.path(), &three);
    let ran = sweep_in(tmp.path(), &[&path, "--dry-run", "--out", "res"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let rows = dry_rows(&ran.stdout);
    let finished = rows
        .iter()
        .filter(|r| r.2.starts_with("finished: "))
        .count();
    assert_eq!(finished, 2, "{}", ran.stdout);
    assert!(
        rows.iter().any(|r| r.0 == "10" && r.2 == "to fit"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("2 finished, 1 to fit: about "),
        "{}",
        ran.stdout
    );

    // predict on the results folder takes the reference run and says which.
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/digits/font-3.png");
    let out = Command::new(env!("CARGO_BIN_EXE_predict"))
        .arg(tmp.path().join("res/exp"))
        .arg(&image)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("model: ") && stderr.contains("reference: the base configuration"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// Runs that left the grid are listed by --prune and deleted only with --yes.
#[test]
fn prune_lists_runs_outside_the_grid_and_deletes_them_with_yes() {
    let tmp = tempfile::tempdir().unwrap();
    let two = format!("{BASE}\n[[grid]]\nC = [0.1, 1.0]\n");
    let path = exp_config(tmp.path(), &two);
    assert_eq!(sweep_in(tmp.path(), &[&path, "--out", "res"]).code, 0);
    let one = format!("{BASE}\n[[grid]]\nC = [1.0]\n");
    let path = exp_config(tmp.path(), &one);
    let ran = sweep_in(tmp.path(), &[&path, "--out", "res", "--prune"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let listed: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(listed.len(), 1, "{}", ran.stdout);
    assert!(
        ran.stderr.contains("rerun with --prune --yes"),
        "{}",
        ran.stderr
    );
    assert!(Path::new(&tmp.path().join(listed[0])).is_dir());

    let ran = sweep_in(tmp.path(), &[&path, "--out", "res", "--prune", "--yes"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!tmp.path().join(listed[0]).exists());
    assert_eq!(
        std::fs::read_dir(tmp.path().join("res/exp/runs"))
            .unwrap()
            .count(),
        1
    );
    let ran = sweep_in(tmp.path(), &[&path, "--out", "res", "--prune"]);
    assert!(ran.stderr.contains("nothing to prune"), "{}", ran.stderr);
}

/// --prune --yes deletes a symbolic link found among the runs as a link: what it points to stays.
#[cfg(unix)]
#[test]
fn prune_never_follows_a_link_out_of_the_results_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let path = exp_config(tmp.path(), BASE);
    assert_eq!(sweep_in(tmp.path(), &[&path, "--out", "res"]).code, 0);
    let outside = tmp.path().join("precious");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("keep.txt"), b"mine").unwrap();
    std::os::unix::fs::symlink(&outside, tmp.path().join("res/exp/runs/0123456789ab")).unwrap();
    let ran = sweep_in(tmp.path(), &[&path, "--out", "res", "--prune", "--yes"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!tmp.path().join("res/exp/runs/0123456789ab").exists());
    assert_eq!(std::fs::read(outside.join("keep.txt")).unwrap(), b"mine");
}

/// An override that adds one setting fits only that setting: the runs with the same ids finished
/// in the config's own folder are copied into the override's folder, and `--dry-run` there says
/// so beforehand.
#[test]
fn an_override_adding_one_setting_fits_only_that_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let path = exp_config(tmp.path(), &BASE.replace("C = 1.0", "C = [0.5, 1.5]"));
    let out = tmp.path().join("results");
    let base = sweep_in(tmp.path(), &[&path, "--out", out.to_str().unwrap()]);
    assert_eq!(base.code, 0, "{}", base.stderr);
    let args = [
        path.as_str(),
        "--out",
        out.to_str().unwrap(),
        "model.C=0.5,1.5,4.5",
    ];
    let dry = sweep_in(tmp.path(), &[&args[..], &["--dry-run"]].concat());
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        dry.stdout.matches("copied, not refitted").count(),
        2,
        "{}",
        dry.stdout
    );
    let ran = sweep_in(tmp.path(), &args);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("2 finished run(s) taken from"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("3 of 3 runs finished (1 fitted now, 0 failed)"),
        "{}",
        ran.stderr
    );
}
