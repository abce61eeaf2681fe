//! Set-up shared by the integration tests: configs on the vendored data, the binaries run as a
//! user runs them, sweeps run through the library, CSV files read back.

#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mnist_logreg::config::Config;
use mnist_logreg::data::repository_data_dir;
use mnist_logreg::sweep::{self, SweepOptions, SweepOutcome};

/// Writes `body` as `<dir>/<file>` with a `[data]` section on the first `subsample` images of the
/// vendored data.
pub fn write_config(dir: &Path, file: &str, body: &str, subsample: usize) -> PathBuf {
    let path = dir.join(file);
    let data = repository_data_dir().display().to_string();
    std::fs::write(
        &path,
        format!("{body}\n[data]\ndir = {data:?}\nsubsample = {subsample}\n"),
    )
    .unwrap();
    path
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
