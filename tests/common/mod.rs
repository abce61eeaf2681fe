//! Set-up shared by the integration tests: configs on the vendored data, the binaries run as a
//! user runs them, sweeps run through the library, CSV files read back.

#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mnist_logreg::config::Config;
use mnist_logreg::data::repository_data_dir;
use mnist_logreg::sweep::{self, SweepOptions, SweepOutcome};

/// A `[data]` section: the MNIST folder `dir`, the cache folder (default: the data's own), and the
/// first `subsample` images (default: all).
pub fn data_section(dir: &Path, cache_dir: Option<&str>, subsample: Option<usize>) -> String {
    let mut s = format!("\n[data]\ndir = {:?}\n", dir.display().to_string());
    if let Some(cache) = cache_dir {
        s.push_str(&format!("cache_dir = {cache:?}\n"));
    }
    if let Some(n) = subsample {
        s.push_str(&format!("subsample = {n}\n"));
    }
    s
}

/// Writes `body` as `<dir>/<file>` with a `[data]` section on the first `subsample` images of the
/// vendored data: the one way the tests write a config.
pub fn write_config(dir: &Path, file: &str, body: &str, subsample: usize) -> PathBuf {
    let path = dir.join(file);
    let data = data_section(&repository_data_dir(), None, Some(subsample));
    std::fs::write(&path, format!("{body}{data}")).unwrap();
    path
}

/// Writes `body` (on `subsample` images) as `<dir>/<file>`, sweeps it into `<dir>/results` with
/// the `extra` arguments, and returns the run.
pub fn sweep_config(dir: &Path, file: &str, body: &str, subsample: usize, extra: &[&str]) -> Ran {
    let path = write_config(dir, file, body, subsample);
    let out = dir.join("results");
    let mut args = vec![path.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    sweep_in(dir, &args)
}

/// The column `name` of every row of a CSV table.
pub fn column(path: &Path, name: &str) -> Vec<String> {
    let (header, rows) = read_csv(path);
    let i = header.iter().position(|h| h == name).unwrap();
    rows.into_iter().map(|r| r[i].clone()).collect()
}

/// What a binary did: exit code, stdout, stderr.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `sweep` with `args`, one rayon thread, no stdin (as a batch job runs it).
pub fn sweep_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sweep"));
    cmd.args(args)
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null());
    cmd
}

/// Runs a command to the end.
pub fn run(mut cmd: Command) -> Ran {
    let out = cmd.output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `sweep` with `args` in `cwd`.
pub fn sweep_in(cwd: &Path, args: &[&str]) -> Ran {
    let mut cmd = sweep_command(args);
    cmd.current_dir(cwd);
    run(cmd)
}

/// Sweeps the config at `path` through the library into `out`, quietly, on one job.
pub fn sweep_library(path: &Path, out: &Path) -> (Config, SweepOutcome) {
    let config = Config::load(path).unwrap();
    let options = SweepOptions {
        out: out.to_path_buf(),
        jobs: 1,
        progress: false,
        quiet: true,
        ..SweepOptions::default()
    };
    let outcome = sweep::run(&config, &options).unwrap();
    (config, outcome)
}

/// A CSV file as its header and rows of text.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}
