//! `results/<name>/manifest.json`: where a results folder came from. The config as given, the
//! expanded grid, crate versions, the git revision, data checksums, the machine, the command
//! line, and when the last invocation started and ended.
//!
//! May touch: `config`, `data`, `error`, `store` (the results folder).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::config::{Config, Run};
use crate::data::{self, Mnist};
use crate::error::{Error, Result};
use crate::store::ResultsDir;

#[derive(Debug, Serialize)]
struct Machine {
    os: &'static str,
    arch: &'static str,
    cores: usize,
    hostname: Option<String>,
}

#[derive(Debug, Serialize)]
struct DataProvenance {
    dir: PathBuf,
    /// Identifies the data the runs saw (files and subsample); run records carry it too.
    checksum: String,
    images: usize,
    subsample: Option<usize>,
    /// SHA-256 of each decompressed IDX file (checked on every load).
    files: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
struct Git {
    revision: String,
    /// Uncommitted changes to tracked files when the sweep ran, outside the results root (which
    /// sweeps themselves rewrite): code, configs, data.
    dirty: bool,
}

/// How the invocation was asked to run (the options that change what it does, not how it shows
/// progress).
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The shard it ran (`I/N`), if any.
    pub shard: Option<String>,
    pub force: bool,
    pub jobs: usize,
}

/// The provenance of the last invocation that wrote a results folder.
#[derive(Debug, Serialize)]
pub struct Manifest {
    tool: String,
    command_line: Vec<String>,
    working_dir: Option<PathBuf>,
    config_path: PathBuf,
    /// The config file and the results folder, resolved: which config owns this folder.
    config_file: Option<PathBuf>,
    results_dir: Option<PathBuf>,
    config_text: String,
    grid: Vec<Run>,
    shard: Option<String>,
    force: bool,
    jobs: usize,
    crate_versions: Vec<(String, String)>,
    git: Option<Git>,
    data: DataProvenance,
    machine: Machine,
    started_at: String,
    finished_at: Option<String>,
    runs_fitted: Option<usize>,
    runs_finished: Option<usize>,
    merged_from: Vec<PathBuf>,
    /// The invocations that wrote this folder before this one, oldest first: when, with which
    /// revision (and whether it was dirty), how many runs each fitted. A redraw that changed
    /// files adds to it (one that changed nothing writes no manifest); the record of the fit is
    /// never erased.
    history: Vec<serde_json::Value>,
}

/// When the fits of a results folder were made: the latest invocation that fitted runs (the
/// manifest itself or an entry of its history), its wall time (fits and cross-validation) and
/// its end.
pub fn last_fit(results_dir: &std::path::Path) -> Option<(f64, String)> {
    let dir = ResultsDir::new(results_dir.to_path_buf());
    let bytes = dir.read(&dir.manifest_json()).ok()??;
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    // Manifests written before the history was kept have none.
    let empty = Vec::new();
    let history = manifest
        .get("history")
        .and_then(|h| h.as_array())
        .unwrap_or(&empty);
    history
        .iter()
        .chain(std::iter::once(&manifest))
        .filter(|entry| {
            entry
                .get("runs_fitted")
                .and_then(|n| n.as_u64())
                .unwrap_or(0)
                > 0
        })
        .filter_map(|entry| {
            let time = |key: &str| {
                let text = entry.get(key)?.as_str()?;
                Some((humantime::parse_rfc3339(text).ok()?, text.to_string()))
            };
            let ((start, _), (end, end_text)) = (time("started_at")?, time("finished_at")?);
            Some((end.duration_since(start).ok()?.as_secs_f64(), end_text))
        })
        .next_back()
}

/// What the history keeps of an earlier manifest.
const HISTORY_KEYS: [&str; 7] = [
    "command_line",
    "started_at",
    "finished_at",
    "git",
    "runs_fitted",
    "runs_finished",
    "machine",
];

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The repository revision of the working directory, if it is a git checkout and git runs;
/// `results_root` (where sweeps write) does not count as a change.
fn git(results_root: &std::path::Path) -> Option<Git> {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let revision = run(&["rev-parse", "HEAD"])?;
    let top = run(&["rev-parse", "--show-toplevel"]).map(std::path::PathBuf::from);
    let mut status = vec![
        "status".to_string(),
        "--porcelain".into(),
        "--untracked-files=no".into(),
    ];
    if let (Some(top), Ok(root)) = (top, results_root.canonicalize()) {
        if let Ok(inside) = root.strip_prefix(&top) {
            if !inside.as_os_str().is_empty() {
                status.extend([
                    "--".into(),
                    ":/".into(),
                    format!(":(top,exclude){}", inside.display()),
                ]);
            }
        }
    }
    let status: Vec<&str> = status.iter().map(String::as_str).collect();
    let dirty = run(&status).map(|s| !s.is_empty()).unwrap_or(false);
    Some(Git { revision, dirty })
}

impl Manifest {
    /// Records the invocation as it starts.
    pub fn start(config: &Config, mnist: &Mnist, dir: &ResultsDir, invocation: Invocation) -> Self {
        let crate_versions = env!("MNIST_LOGREG_DEPENDENCIES")
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Manifest {
            tool: format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
            command_line: std::env::args().collect(),
            working_dir: std::env::current_dir().ok(),
            config_path: config.path.clone(),
            config_file: config.path.canonicalize().ok(),
            results_dir: dir.root.canonicalize().ok(),
            config_text: config.source.clone(),
            grid: config.runs.clone(),
            shard: invocation.shard,
            force: invocation.force,
            jobs: invocation.jobs,
            crate_versions,
            git: git(dir.root.parent().unwrap_or(&dir.root)),
            data: DataProvenance {
                dir: config.data.dir.clone(),
                checksum: mnist.checksum.clone(),
                images: mnist.labels.len(),
                subsample: config.data.subsample,
                files: data::file_checksums()
                    .into_iter()
                    .map(|(n, s)| (n.to_string(), s.to_string()))
                    .collect(),
            },
            machine: Machine {
                os: std::env::consts::OS,
                arch: std::env::consts::ARCH,
                cores: std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1),
                hostname: std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|s| s.trim().to_string()),
            },
            started_at: now(),
            finished_at: None,
            runs_fitted: None,
            runs_finished: None,
            merged_from: Vec::new(),
            history: Vec::new(),
        }
    }

    /// Records the end of the invocation.
    pub fn finish(&mut self, fitted: usize, finished: usize) {
        self.finished_at = Some(now());
        self.runs_fitted = Some(fitted);
        self.runs_finished = Some(finished);
    }

    /// Records the shard folders a merge read.
    pub fn merged_from(&mut self, shards: &[PathBuf]) {
        self.merged_from = shards.to_vec();
    }

    /// Writes `manifest.json` (atomically), carrying over the history of the one it replaces
    /// with that one's invocation added to it.
    pub fn write(&mut self, dir: &ResultsDir) -> Result<()> {
        let path: &Path = &dir.manifest_json();
        if let Some(previous) = dir
            .read(path)
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        {
            let mut history = previous
                .get("history")
                .and_then(|h| h.as_array())
                .cloned()
                .unwrap_or_default();
            let entry: serde_json::Map<String, serde_json::Value> = HISTORY_KEYS
                .iter()
                .filter_map(|&k| Some((k.to_string(), previous.get(k)?.clone())))
                .collect();
            history.push(serde_json::Value::Object(entry));
            self.history = history;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::output(path, e))?;
        dir.write(path, &json)
    }
}

/// Refuses to let a config named after its file write a results folder that another config file
/// of the same file name wrote (two `exp.toml` in different folders both default to
/// `results/exp/`), or a config whose `name` is another config's (a copied example, say). The
/// owner is taken from the folder's manifest; a folder whose recorded location differs (a
/// clone, a copy), whose owner no longer exists, or whose owner's text this config repeats is
/// taken over, and `adopt` (`--adopt`) takes it over on purpose.
pub fn check_owner(config: &Config, dir: &ResultsDir, adopt: bool) -> Result<()> {
    if adopt {
        return Ok(());
    }
    let Ok(Some(bytes)) = dir.read(&dir.manifest_json()) else {
        return Ok(());
    };
    let Ok(recorded) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(());
    };
    let path = |key: &str| {
        recorded
            .get(key)
            .and_then(|v| v.as_str())
            .map(PathBuf::from)
    };
    let (Some(owner), Some(root)) = (path("config_file"), path("results_dir")) else {
        return Ok(());
    };
    let same_folder = dir.root.canonicalize().ok().as_deref() == Some(root.as_path());
    let mine = config.path.canonicalize().ok().as_deref() == Some(owner.as_path());
    // A copy of the owner's text (a config moved or duplicated as is) writes the same grid.
    let same_text =
        recorded.get("config_text").and_then(|v| v.as_str()) == Some(config.source.as_str());
    if same_folder && !mine && !same_text && owner.is_file() {
        let fix = if config.named {
            "give this one another name = \"...\", pass --out DIR, or --adopt to take the folder over (its report is then redrawn from this config's runs)"
        } else {
            "give this one its own name = \"...\", pass --out DIR, or --adopt to take the folder over (its report is then redrawn from this config's runs)"
        };
        return Err(Error::Folder {
            path: dir.root.clone(),
            message: format!(
                "holds the results of another config, {}: {fix}",
                owner.display()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The latest invocation that fitted runs gives the sweep's time; a redraw after it does not.
    #[test]
    fn the_last_fit_is_the_latest_invocation_that_fitted() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |fitted: u64, start: &str, end: &str| serde_json::json!({"runs_fitted": fitted, "started_at": start, "finished_at": end});
        let mut manifest = entry(0, "2026-11-30T05:00:00Z", "2026-11-30T05:00:01Z");
        manifest["history"] = serde_json::json!([
            entry(3, "2026-11-30T01:00:00Z", "2026-11-30T01:01:40Z"),
            entry(2, "2026-11-30T02:00:00Z", "2026-11-30T02:00:30Z"),
        ]);
        std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).unwrap();
        assert_eq!(
            last_fit(dir.path()),
            Some((30.0, "2026-11-30T02:00:30Z".to_string()))
        );
        // Without a history (manifests written before it existed): the manifest itself.
        let only = entry(1, "2026-11-30T02:31:11Z", "2026-11-30T02:31:15Z");
        std::fs::write(dir.path().join("manifest.json"), only.to_string()).unwrap();
        assert_eq!(last_fit(dir.path()).map(|f| f.0), Some(4.0));
    }
}
