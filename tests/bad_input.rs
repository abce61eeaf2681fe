//! Every bad input a user can give, through the `sweep` binary: one line on stderr naming the file,
//! key or value and what to do, a non-zero exit, no panic, and nothing half-written.

use std::io::Write;
use std::path::{Path, PathBuf};

use mnist_logreg::data::repository_data_dir;

mod common;

/// The `[data]` section of a scratch folder's config: its own copy of the data, relative paths.
fn scratch_data() -> String {
    common::data_section(Path::new("data"), Some("cache"), Some(2000))
}

const FILES: [&str; 4] = [
    "train-images.idx3-ubyte",
    "train-labels.idx1-ubyte",
    "t10k-images.idx3-ubyte",
    "t10k-labels.idx1-ubyte",
];

/// A scratch folder with a copy of the vendored data and a config pointing at it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        for f in FILES {
            std::fs::copy(
                repository_data_dir().join(format!("{f}.gz")),
                dir.path().join(format!("data/{f}.gz")),
            )
            .unwrap();
        }
        Scratch { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `name` with `body` and a [data] section for the scratch data (unless the body has
    /// its own).
    fn config(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path(name);
        let data = if body.contains("[data]") {
            String::new()
        } else {
            scratch_data()
        };
        std::fs::write(&path, format!("{body}{data}")).unwrap();
        path
    }

    /// Replaces the decompressed content of `data/<file>.gz`.
    fn damage(&self, file: &str, edit: impl FnOnce(&mut Vec<u8>)) {
        let gz = self.path(&format!("data/{file}.gz"));
        let mut bytes = Vec::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        edit(&mut bytes);
        std::fs::write(&gz, gzip(&bytes)).unwrap();
    }

    /// Runs `sweep` in the scratch folder; returns (exit code, stderr).
    fn sweep(&self, args: &[&str]) -> (i32, String) {
        let ran = common::sweep_in(self.dir.path(), args);
        (ran.code, ran.stderr)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

const GOOD: &str =
    "name = \"bad\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 5\n";

/// Asserts the contract and that `expected` (all of its parts) is in the message.
fn check(s: &Scratch, args: &[&str], expected: &[&str]) {
    let (code, stderr) = s.sweep(args);
    assert_eq!(code, 2, "{args:?}: bad input exits with 2: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: one line, got {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{args:?}: {stderr:?} lacks {part:?}");
    }
    // Nothing half-written: no metrics, no records, no temporary files.
    let results = s.path("results/bad");
    assert!(
        !results.join("metrics.csv").exists(),
        "{args:?} wrote metrics.csv"
    );
    assert!(!results.join("runs").exists(), "{args:?} wrote run records");
}

#[test]
fn bad_data_files() {
    type Damage = fn(&Scratch);
    let cases: Vec<(&str, Damage, Vec<&str>)> = vec![
        (
            "missing data folder",
            |s| std::fs::remove_dir_all(s.path("data")).unwrap(),
            vec!["data: the MNIST folder is missing", "[data] dir"],
        ),
        (
            "missing file",
            |s| std::fs::remove_file(s.path("data/t10k-labels.idx1-ubyte.gz")).unwrap(),
            vec!["t10k-labels.idx1-ubyte.gz: missing"],
        ),
        (
            "truncated IDX",
            |s| s.damage("t10k-labels.idx1-ubyte", |b| b.truncate(5000)),
            vec![
                "t10k-labels.idx1-ubyte.gz",
                "expected 10008 bytes, found 5000",
            ],
        ),
        (
            "wrong magic number",
            |s| s.damage("train-labels.idx1-ubyte", |b| b[3] = 3),
            vec!["train-labels.idx1-ubyte.gz", "wrong magic number 2051"],
        ),
        (
            "wrong item count",
            |s| s.damage("t10k-labels.idx1-ubyte", |b| b[7] = 0),
            vec!["t10k-labels.idx1-ubyte.gz", "header says"],
        ),
        (
            "checksum mismatch",
            |s| s.damage("t10k-labels.idx1-ubyte", |b| b[100] = (b[100] + 1) % 10),
            vec!["t10k-labels.idx1-ubyte.gz", "SHA-256 is", "corrupt"],
        ),
        (
            "raw IDX where gzip is expected",
            |s| {
                let gz = s.path("data/t10k-labels.idx1-ubyte.gz");
                let raw = {
                    use std::io::Read;
                    let mut v = Vec::new();
                    flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
                        .read_to_end(&mut v)
                        .unwrap();
                    v
                };
                std::fs::write(&gz, raw).unwrap();
            },
            vec![
                "is not gzip-compressed",
                "it is an uncompressed IDX file",
                "gzip -9 -n",
            ],
        ),
        (
            "gzip where the raw IDX is expected (compressed twice)",
            |s| {
                let gz = s.path("data/t10k-labels.idx1-ubyte.gz");
                let twice = gzip(&std::fs::read(&gz).unwrap());
                std::fs::write(&gz, twice).unwrap();
            },
            vec!["is gzip-compressed but an uncompressed IDX file was expected"],
        ),
        (
            "truncated gzip",
            |s| {
                let gz = s.path("data/t10k-labels.idx1-ubyte.gz");
                let bytes = std::fs::read(&gz).unwrap();
                std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
            },
            vec!["corrupt or truncated gzip data"],
        ),
    ];
    for (what, damage, expected) in cases {
        let s = Scratch::new();
        let config = s.config("c.toml", GOOD);
        damage(&s);
        let (code, _) = s.sweep(&[config.to_str().unwrap(), "--quiet"]);
        assert_eq!(code, 2, "{what}: data errors exit with 2");
        check(&s, &[config.to_str().unwrap()], &expected);
    }
}

#[test]
fn bad_configs() {
    let s = Scratch::new();
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "syntax error",
            "name = \"bad\"\n[split\n".into(),
            vec!["line 2"],
        ),
        (
            "unknown key",
            GOOD.replace("max_iter = 5", "max_iter = 5\nmax_iters = 5"),
            vec!["line 7", "max_iters"],
        ),
        (
            "key in the wrong section",
            GOOD.replace("max_iter = 5", "max_iter = 5\nscaler = \"unit\""),
            vec!["line 7", "[preprocessing]"],
        ),
        (
            "model key in [data]",
            format!("{GOOD}[data]\ndir = \"data\"\ncache_dir = \"cache\"\nC = 1.0\n"),
            vec!["line 10", "`C` belongs in [model]"],
        ),
        (
            "wrong type",
            GOOD.replace("max_iter = 5", "max_iter = \"five\""),
            vec!["line 6", "max_iter"],
        ),
        ("C = 0", format!("{GOOD}C = 0\n"), vec!["C", "line 7"]),
        ("C < 0", format!("{GOOD}C = -1.0\n"), vec!["C", "line 7"]),
        (
            "C minus infinity",
            format!("{GOOD}C = -inf\n"),
            vec!["C", "line 7"],
        ),
        (
            "l1_ratio out of range",
            format!("{GOOD}l1_ratio = 2\n"),
            vec!["l1_ratio = 2", "line 7", "from 0 (l2) to 1 (l1)"],
        ),
        (
            "an l1 part without saga",
            format!("{GOOD}l1_ratio = 0.5\n"),
            vec!["l1_ratio = 0.5 with solver = \"lbfgs\"", "saga"],
        ),
        (
            "an l1 part without a penalty",
            format!("{GOOD}solver = \"saga\"\nl1_ratio = 1\nC = inf\n"),
            vec!["with C = inf", "no penalty to split"],
        ),
        (
            "sag for one-vs-rest",
            format!("{GOOD}solver = \"sag\"\nmulti_class = \"ovr\"\n"),
            vec!["solver = \"sag\" with multi_class = \"ovr\""],
        ),
        (
            "saga in f32",
            format!("{GOOD}solver = \"saga\"\ndtype = \"f32\"\n"),
            vec!["solver = \"saga\" with dtype = \"f32\"", "f64"],
        ),
        (
            "unknown solver",
            format!("{GOOD}solver = \"liblinear\"\n"),
            vec!["line 7", "\"lbfgs\", \"sag\", \"saga\""],
        ),
        (
            "dotted model key in a grid",
            format!("{GOOD}solver = \"sag\"\n[[grid]]\nmodel.random_state = [1, 2]\n"),
            vec!["model = { random_state = [1, 2] }"],
        ),
        (
            "C not a number",
            format!("{GOOD}C = nan\n"),
            vec!["C", "line 7"],
        ),
        (
            "max_iter 0",
            GOOD.replace("max_iter = 5", "max_iter = 0"),
            vec!["max_iter", "line 6"],
        ),
        (
            "tol < 0",
            format!("{GOOD}tol = -1e-4\n"),
            vec!["tol", "line 7"],
        ),
        (
            "train_size > 1",
            GOOD.replace("train_size = 0.8", "train_size = 1.5"),
            vec!["train_size", "line 3"],
        ),
        (
            "test_size 0",
            GOOD.replace("train_size = 0.8", "test_size = 0.0"),
            vec!["test_size"],
        ),
        (
            "sizes summing past the data",
            GOOD.replace("train_size = 0.8", "train_size = 0.8\ntest_size = 0.3"),
            vec!["train_size", "test_size"],
        ),
        (
            "count larger than the data",
            GOOD.replace("train_size = 0.8", "train_size = 5000"),
            vec!["train_size", "2000 images"],
        ),
        (
            "subsample larger than the data",
            format!(
                "{GOOD}{}",
                common::data_section(Path::new("data"), Some("cache"), Some(80000))
            ),
            vec!["subsample", "70000"],
        ),
        (
            "empty list",
            format!("{GOOD}[[grid]]\nC = []\n"),
            vec!["C", "empty"],
        ),
        (
            "empty grid table",
            format!("{GOOD}[[grid]]\n"),
            vec!["[[grid]]"],
        ),
        (
            "unknown scaler",
            format!("{GOOD}[preprocessing]\nscaler = \"zscore\"\n"),
            vec!["zscore", "standard"],
        ),
        (
            "unknown multi_class",
            format!("{GOOD}multi_class = \"auto\"\n"),
            vec!["auto", "multinomial", "ovr"],
        ),
        (
            "unknown dtype",
            format!("{GOOD}dtype = \"f16\"\n"),
            vec!["f16", "f32"],
        ),
        (
            "shuffle without random_state",
            GOOD.replace("random_state = 0\n", ""),
            vec!["random_state"],
        ),
        (
            "bad name",
            format!("name = \"../x\"\n{}", &GOOD[13..]),
            vec!["name"],
        ),
        (
            "C whose alpha overflows f32",
            format!("{GOOD}C = [1.0, 1e-40]\ndtype = \"f32\"\n"),
            vec!["C = 1e-40", "f32", "dtype = \"f64\""],
        ),
        (
            "an extreme C is printed short",
            format!("{GOOD}C = -1e300\n"),
            vec!["C = -1e300:", "positive"],
        ),
        (
            "run_charts unknown",
            format!("{GOOD}[output]\nrun_charts = \"some\"\n"),
            vec!["run_charts", "selected", "all"],
        ),
        (
            "run_charts best would select on the test set",
            format!("{GOOD}[output]\nrun_charts = \"best\"\n"),
            vec!["run_charts = \"best\"", "test score", "\"selected\""],
        ),
        (
            "one fold",
            format!("{GOOD}[selection]\ncv = 1\n"),
            vec!["line", "[selection] cv = 1", "2 to 100 folds"],
        ),
        (
            "unknown scoring",
            format!("{GOOD}[selection]\ncv = 5\nscoring = \"f1\"\n"),
            vec!["scoring = \"f1\"", "accuracy or neg_log_loss"],
        ),
        (
            "shuffled folds without a seed",
            format!("{GOOD}[selection]\ncv = 5\nshuffle = true\n"),
            vec!["shuffle = true needs a random_state"],
        ),
        (
            "a seed for unshuffled folds",
            format!("{GOOD}[selection]\ncv = 5\nrandom_state = 3\n"),
            vec!["random_state only matters with shuffle = true"],
        ),
        (
            "unknown key in [selection]",
            format!("{GOOD}[selection]\ncv = 5\nfolds = 3\n"),
            vec!["unknown field `folds`", "cv"],
        ),
        (
            "run_charts names no run",
            format!("{GOOD}[output]\nrun_charts = [\"0123456789ab\"]\n"),
            vec!["run_charts", "0123456789ab", "--dry-run"],
        ),
    ];
    for (what, body, expected) in cases {
        let config = s.config("c.toml", &body);
        let (code, stderr) = s.sweep(&[config.to_str().unwrap()]);
        assert_eq!(code, 2, "{what}: config errors exit with 2: {stderr}");
        let mut expected = expected;
        expected.push("c.toml");
        check(&s, &[config.to_str().unwrap()], &expected);
    }
}

#[test]
fn bad_command_lines_and_output_folders() {
    let s = Scratch::new();
    let config = s.config("c.toml", GOOD);
    let c = config.to_str().unwrap();
    check(
        &s,
        &["missing.toml"],
        &["missing.toml: no such config file", "experiments/"],
    );
    // The results root is a file, not a folder.
    std::fs::write(s.path("taken"), "").unwrap();
    check(&s, &[c, "--out", "taken"], &["taken", "--out DIR"]);
    check(
        &s,
        &[c, "--report-only"],
        &["no finished run", "run `sweep"],
    );
    check(
        &s,
        &[c, "--merge", "nowhere"],
        &["nowhere", "no such results folder"],
    );
    // One good shard and one missing: nothing is copied or written before the error.
    let (code, stderr) = s.sweep(&[c, "--out", "shard0", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    check(
        &s,
        &[c, "--merge", "shard0", "nowhere"],
        &["nowhere", "no such results folder"],
    );
    assert!(!s.path("results").exists(), "a failed merge wrote results");
}

#[test]
fn a_bad_shard_is_refused_before_any_work() {
    let s = Scratch::new();
    let config = s.config("c.toml", GOOD);
    for bad in ["3/2", "1/0", "a/b", "2"] {
        let (code, stderr) = s.sweep(&[config.to_str().unwrap(), "--shard", bad]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("expected I/N with 0 <= I < N"), "{stderr}");
        assert!(!s.path("results").exists());
    }
}

/// A config without `name` is named after its file; that name passes the same check as the key,
/// so `...toml` (name `..`), `.toml`, `..toml` or a name with a space cannot put results outside
/// the results root, in it, or in a hidden folder.
#[test]
fn a_file_name_that_cannot_name_a_folder_is_refused() {
    let s = Scratch::new();
    let body = &GOOD[13..]; // GOOD without its `name` line
    for file in ["...toml", "..toml", ".toml", "a b.toml", "x\ny.toml"] {
        let config = s.config(file, body);
        let (code, stderr) = s.sweep(&[config.to_str().unwrap()]);
        assert_eq!(code, 2, "{file:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{file:?}: {stderr}");
        assert!(stderr.contains("set name = "), "{file:?}: {stderr}");
        // Nothing written anywhere: not in the scratch root, not under results/.
        assert!(!s.path("README.md").exists(), "{file:?} wrote a README");
        assert!(!s.path("metrics.csv").exists(), "{file:?} wrote metrics");
        assert!(!s.path("results").exists(), "{file:?} wrote results");
        std::fs::remove_file(&config).unwrap();
    }
}

/// clap's own errors come on one line with exit 2, like every other error; `--dry-run` names the
/// folder `--out` points to; a data error leaves no empty results folder behind.
#[test]
fn command_line_errors_are_one_line_and_nothing_is_left_behind() {
    let s = Scratch::new();
    let config = s.config("c.toml", GOOD);
    let c = config.to_str().unwrap();
    check(&s, &[], &["<CONFIG>", "sweep --help"]);
    check(&s, &[c, "--bogus"], &["--bogus", "sweep --help"]);
    check(&s, &[c, "--jobs", "many"], &["many", "--jobs"]);

    let stdout = common::sweep_in(s.dir.path(), &[c, "--dry-run", "--out", "elsewhere"]).stdout;
    assert!(stdout.contains("-> elsewhere/bad/"), "{stdout}");

    std::fs::remove_file(s.path("data/t10k-labels.idx1-ubyte.gz")).unwrap();
    check(&s, &[c], &["t10k-labels", "missing"]);
    assert!(
        !s.path("results").exists(),
        "a data error left a results folder"
    );
}

/// A second sweep on a folder another sweep is writing is refused with the holder named; a sweep
/// that gets the folder removes the temporary files a killed process left.
#[test]
fn a_folder_being_written_is_refused_and_stale_temporaries_are_removed() {
    let s = Scratch::new();
    let config = s.config("c.toml", GOOD);
    let c = config.to_str().unwrap();
    std::fs::create_dir_all(s.path("results/bad")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(s.path("results/bad/.lock"))
        .unwrap();
    lock.lock().unwrap();
    // The holder named in the file runs (this test's process).
    let me = format!("process {}", std::process::id());
    std::fs::write(s.path("results/bad/.lock"), format!("{me} since then")).unwrap();
    check(
        &s,
        &[c],
        &["another sweep is writing this folder", &me, "--out DIR"],
    );
    // A text left by a sweep that has ended does not name the holder (shards write none).
    std::fs::write(s.path("results/bad/.lock"), "process 4000000000 since then").unwrap();
    check(
        &s,
        &[c],
        &["another sweep is writing this folder (shards of a sweep)"],
    );
    drop(lock);
    std::fs::create_dir_all(s.path("results/bad/runs/x")).unwrap();
    std::fs::write(s.path("results/bad/runs/x/.tmp-abc.json"), "torn").unwrap();
    let (code, stderr) = s.sweep(&[c, "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!s.path("results/bad/runs/x/.tmp-abc.json").exists());
}

/// Two config files with the same name in different folders default to the same results folder:
/// the second is refused, naming the first, instead of overwriting its report.
#[test]
fn a_results_folder_is_not_taken_over_by_another_config_of_the_same_name() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path("a")).unwrap();
    std::fs::create_dir_all(s.path("b")).unwrap();
    let body = &GOOD[13..]; // no `name`: both are named "c" after their file
    let data = scratch_data();
    std::fs::write(s.path("a/c.toml"), format!("{body}{data}")).unwrap();
    std::fs::write(s.path("b/c.toml"), format!("{body}C = 0.5\n{data}")).unwrap();
    let (code, stderr) = s.sweep(&["a/c.toml", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let before = std::fs::read(s.path("results/c/metrics.csv")).unwrap();
    let (code, stderr) = s.sweep(&["b/c.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("another config")
            && stderr.contains("a/c.toml")
            && stderr.contains("--out DIR"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(s.path("results/c/metrics.csv")).unwrap(),
        before
    );
    // The owner itself may rerun.
    let (code, stderr) = s.sweep(&["a/c.toml", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    // A config that takes the owner's name on purpose (a copied example, say) is refused too.
    std::fs::write(
        s.path("b/copy.toml"),
        format!("name = \"c\"\n{body}C = 0.25\n{data}"),
    )
    .unwrap();
    let (code, stderr) = s.sweep(&["b/copy.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("another config") && stderr.contains("--adopt"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(s.path("results/c/metrics.csv")).unwrap(),
        before
    );
    // --adopt takes the folder over on purpose; then it is the new config's.
    let (code, stderr) = s.sweep(&["b/copy.toml", "--adopt", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = s.sweep(&["b/copy.toml", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
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
    let ran = common::sweep_config(tmp.path(), "e.toml", body, 400, &[]);
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
    assert!(
        ran.code == 0 || ran.code == 1,
        "exit {}: {}",
        ran.code,
        ran.stderr
    );
    let dir = tmp.path().join("results/extreme");
    // The folder is not left locked: a redraw runs.
    let again = common::sweep_config(tmp.path(), "e.toml", body, 400, &["--report-only"]);
    assert!(again.code == 0 || again.code == 1, "{}", again.stderr);
    let statuses = common::column(&dir.join("metrics.csv"), "status");
    assert_eq!(statuses.len(), 8, "every run is in the report");
    let failed = statuses.iter().filter(|s| *s != "ok").count();
    assert_eq!(ran.code, if failed > 0 { 1 } else { 0 }, "{}", ran.stderr);
}

/// Config errors only the data reveals exit 2 before the results folder exists; a grid too large
/// to run is refused at once (even for --dry-run); -0.0 and 0.0 are one value.
#[test]
fn data_dependent_errors_and_huge_grids_are_config_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"folds\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nC = [1.0, 2.0]\nmax_iter = 2\n[selection]\ncv = 100\n";
    let ran = common::sweep_config(tmp.path(), "cv.toml", body, 100, &[]);
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
    let ran = common::sweep_config(tmp.path(), "huge.toml", &body, 100, &["--dry-run"]);
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
    let ran = common::sweep_config(tmp.path(), "z.toml", body, 100, &["--dry-run"]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains(": 1 runs ->"), "{}", ran.stdout);
}

/// `[selection]` with one run on its split chooses nothing, and the README says so instead of
/// describing a CV column that is not there.
#[test]
fn a_selection_with_nothing_to_choose_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"one\"\n[split]\nrandom_state = 0\n[model]\nmax_iter = 2\n[output]\nrun_charts = \"none\"\n[selection]\ncv = 3\n";
    assert_eq!(
        common::sweep_config(tmp.path(), "one.toml", body, 300, &[]).code,
        0
    );
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
    let ran = common::sweep_config(tmp.path(), "s.toml", body, 100, &["--shard", "-1/2"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("expected I/N with 0 <= I < N") && !ran.stderr.contains("'-- -1'"),
        "{}",
        ran.stderr
    );
}
