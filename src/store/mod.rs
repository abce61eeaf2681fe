//! Results on disk. Every finished run is one record, `runs/<run_id>/run.json`, written atomically
//! (temporary file, then rename) after the run's other files: a record that exists is complete.
//! Everything else in the folder (tables, charts, README) is derived from the records, so a
//! sweep can be killed at any point, resumed, sharded over machines and merged.
//!
//! May touch: `config`, `data` (the checksum), `digits`, `error`, `files`, `metrics`, `model` (diagnostics),
//! `model_file` (a model's zero weights for older records).

mod record;

use std::path::{Path, PathBuf};

use crate::config::{Config, Run};
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::files::{remove_stale, write_atomic};

pub use record::{CvScores, FoldKey, FoldRecord, RunResult, TestSet};

/// What became of a run's record when a sweep starts.
#[derive(Debug)]
pub enum Prior {
    /// No record: the run has to be fitted.
    Missing,
    /// A complete record for the same run and data: reused.
    Finished(Box<RunResult>),
    /// A record that cannot be reused; the reason says why. The run is fitted again.
    Stale(String),
}

/// A run's model file, beside its record.
pub const MODEL_NPZ: &str = "model.npz";
/// A results folder's reference run, for `predict RESULTS_DIR` (written by the report).
pub const REFERENCE_JSON: &str = "reference.json";
/// A run's test predictions, beside its record.
pub const PREDICTIONS_CSV: &str = "predictions.csv";

/// The results folder of one experiment and the files in it.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    pub root: PathBuf,
}

impl ResultsDir {
    pub fn new(root: PathBuf) -> Self {
        ResultsDir { root }
    }

    pub fn metrics_csv(&self) -> PathBuf {
        self.root.join("metrics.csv")
    }
    pub fn per_class_csv(&self) -> PathBuf {
        self.root.join("per_class.csv")
    }
    /// Where `scripts/sklearn_reference.py` writes its `metrics.csv` for the same config.
    pub fn sklearn_metrics_csv(&self) -> PathBuf {
        self.root.join("sklearn").join("metrics.csv")
    }
    pub fn readme_md(&self) -> PathBuf {
        self.root.join("README.md")
    }
    pub fn manifest_json(&self) -> PathBuf {
        self.root.join("manifest.json")
    }
    pub fn reference_json(&self) -> PathBuf {
        self.root.join(REFERENCE_JSON)
    }
    pub fn confusion_csv(&self, run_id: &str) -> PathBuf {
        self.root.join("confusion").join(format!("{run_id}.csv"))
    }
    pub fn confusion_png(&self, run_id: &str) -> PathBuf {
        self.root.join("confusion").join(format!("{run_id}.png"))
    }
    /// Folder of one run's own files.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(run_id)
    }
    pub fn record_json(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join("run.json")
    }
    pub fn predictions_csv(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join(PREDICTIONS_CSV)
    }
    /// One cross-validation fold's score of a run (see [`FoldRecord`]).
    pub fn fold_json(&self, run_id: &str, fold: usize, folds: usize) -> PathBuf {
        self.root
            .join("cv")
            .join(run_id)
            .join(format!("fold-{}-of-{folds}.json", fold + 1))
    }

    /// A fold's record, if one was written for exactly this selection, engine and data.
    pub fn fold_record(&self, run_id: &str, fold: usize, expected: &FoldKey) -> Option<FoldRecord> {
        let path = self.fold_json(run_id, fold, expected.selection.cv);
        let record: FoldRecord = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
        (record.key == *expected).then_some(record)
    }

    /// Writes a fold's record, so that an interrupted cross-validation resumes at its first
    /// missing fold.
    pub fn save_fold(&self, run_id: &str, fold: usize, record: &FoldRecord) -> Result<()> {
        let path = self.fold_json(run_id, fold, record.key.selection.cv);
        for folder in [self.root.join("cv"), self.root.join("cv").join(run_id)] {
            if is_symlink(&folder) {
                return Err(Error::Output {
                    path: folder,
                    message: "a symbolic link where the sweep keeps its fold records: the sweep \
                              writes only inside its results folder; remove the link"
                        .into(),
                });
            }
        }
        let text = serde_json::to_string_pretty(record).map_err(|e| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::Output {
                path: parent.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        write_atomic(&path, text.as_bytes())
    }

    /// The run folders (`runs/<id>/`) of runs that are not in `config`'s grid, sorted.
    pub fn runs_outside(&self, config: &Config) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.root.join("runs"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().is_dir())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|id| !config.runs.iter().any(|r| &r.id == id))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// Deletes a run's folder (a symbolic link in its place: the link only, never what it points
    /// to) and its confusion matrix files.
    pub fn remove_run(&self, run_id: &str) -> Result<()> {
        let runs = self.root.join("runs");
        if is_symlink(&runs) {
            return Err(Error::Output {
                path: runs,
                message: "a symbolic link: the sweep deletes only inside its results folder; \
                          remove the link"
                    .into(),
            });
        }
        remove_folder_here(&self.run_dir(run_id))?;
        remove_stale(&self.confusion_csv(run_id))?;
        remove_stale(&self.confusion_png(run_id))
    }

    /// Removes the fold records of `run_ids` (and the `cv` folder once it is empty).
    pub fn remove_folds(&self, run_ids: &[&str]) -> Result<()> {
        let cv = self.root.join("cv");
        if is_symlink(&cv) || !cv.is_dir() {
            return Ok(());
        }
        for id in run_ids {
            remove_folder_here(&cv.join(id))?;
        }
        // Only an empty folder is removed; another group's records may still be there.
        let _ = std::fs::remove_dir(&cv);
        Ok(())
    }

    /// The fitted model of a finished run (see [`crate::model_file`]).
    pub fn model_npz(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join(MODEL_NPZ)
    }

    /// Takes the folder's advisory lock (`.lock`) for this process: exclusive for a whole sweep,
    /// a report or a merge, shared for a shard (shards of one sweep may share a folder, each
    /// fitting its own runs). Another process holding it in a conflicting way is named in the
    /// error. With the exclusive lock, temporary files left by a killed process are removed.
    /// The lock is released when the returned file is dropped.
    pub fn lock(&self, shared: bool) -> Result<std::fs::File> {
        let path = self.root.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::output(&path, e))?;
        let taken = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match taken {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                // The text names the last exclusive holder; shards (shared holders) write none,
                // so a text naming a process that has ended is not the holder.
                let holder = if holder_is_running(&holder) {
                    holder.trim().to_string()
                } else {
                    String::new()
                };
                let holder = holder.as_str();
                return Err(Error::Folder {
                    path: self.root.clone(),
                    message: format!(
                        "another sweep is writing this folder ({}): wait for it to finish, or pass --out DIR",
                        if holder.is_empty() { "shards of a sweep" } else { holder }
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::output(&path, e)),
        }
        if !shared {
            let who = format!(
                "process {} since {}",
                std::process::id(),
                humantime::format_rfc3339_seconds(std::time::SystemTime::now())
            );
            // Best effort: the lock itself is what excludes; the text only names the holder.
            let _ = std::fs::write(&path, who);
            self.remove_temporaries(&self.root)?;
        }
        Ok(file)
    }

    /// Removes `.tmp-*` files under `dir`, left by a process killed mid-write. Symbolic links
    /// are not followed: a link to a folder elsewhere is not a folder of the results.
    fn remove_temporaries(&self, dir: &Path) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                self.remove_temporaries(&path)?;
            } else if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                remove_stale(&path)?;
            }
        }
        Ok(())
    }

    /// Creates the folder, or says why it cannot be written to (before any work is done).
    pub fn check_writable(&self) -> Result<()> {
        let unusable = |e: std::io::Error| Error::Folder {
            path: self.root.clone(),
            message: format!(
                "{e} (check that the folder exists and is writable, or pass --out DIR)"
            ),
        };
        std::fs::create_dir_all(&self.root).map_err(unusable)?;
        tempfile::tempfile_in(&self.root).map_err(unusable)?;
        Ok(())
    }

    /// The files a run keeps beside its record, by name (see [`RunResult::files`]).
    pub fn run_files(&self, run_id: &str) -> [(&'static str, PathBuf); 2] {
        [
            (MODEL_NPZ, self.model_npz(run_id)),
            (PREDICTIONS_CSV, self.predictions_csv(run_id)),
        ]
    }

    /// The SHA-256 of each of the run's files that exists, for its record.
    pub fn run_files_digests(
        &self,
        run_id: &str,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let mut digests = std::collections::BTreeMap::new();
        for (name, path) in self.run_files(run_id) {
            if path.is_file() {
                let digest =
                    crate::files::sha256_file(&path).map_err(|e| Error::output(&path, e))?;
                digests.insert(name.to_string(), digest);
            }
        }
        Ok(digests)
    }

    /// Why the run's files do not match its record, if they do not.
    fn files_mismatch(&self, result: &RunResult) -> Option<String> {
        for (name, path) in self.run_files(&result.run.id) {
            let Some(expected) = result.files.get(name) else {
                continue;
            };
            match crate::files::sha256_file(&path) {
                Ok(digest) if &digest == expected => {}
                Ok(_) => {
                    return Some(format!(
                        "{}: not the file its record describes (SHA-256 differs)",
                        path.display()
                    ))
                }
                Err(e) => return Some(format!("{}: {e}", path.display())),
            }
        }
        None
    }

    /// Persists a finished run. Call it last for a run: its record marks the run as done.
    pub fn save_record(&self, result: &RunResult) -> Result<()> {
        let path = self.record_json(&result.run.id);
        let json = serde_json::to_vec_pretty(result).map_err(|e| Error::output(&path, e))?;
        write_atomic(&path, &json)
    }

    /// Reads the record of `run`, if there is one, and says whether it can be reused with `data`
    /// for `config`: same parameters, engine and data, internally consistent, and with every
    /// file the config asks for.
    pub fn prior(&self, run: &Run, config: &Config, data: &Mnist) -> Prior {
        self.prior_on(run, config, Some(data))
    }

    /// [`ResultsDir::prior`], with the checks against the data left out when there are none
    /// (`--dry-run` does not load them: a record it calls finished is reused if the data are
    /// unchanged).
    pub fn prior_on(&self, run: &Run, config: &Config, data: Option<&Mnist>) -> Prior {
        let path = self.record_json(&run.id);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Prior::Missing,
            Err(e) => return Prior::Stale(format!("{}: {e}", path.display())),
        };
        let result: RunResult = match serde_json::from_slice(&bytes) {
            Ok(result) => result,
            Err(e) => return Prior::Stale(format!("{}: unreadable record ({e})", path.display())),
        };
        if result.run != *run {
            Prior::Stale(format!(
                "{}: the record is for other parameters",
                path.display()
            ))
        } else if result.engine != crate::model::engine_for(&run.params.model) {
            Prior::Stale(format!(
                "{}: the record was fitted by another engine ({})",
                path.display(),
                result.engine
            ))
        } else if data.is_some_and(|data| result.data_checksum != data.checksum) {
            Prior::Stale(format!(
                "{}: the record was made on other data (checksum {})",
                path.display(),
                result.data_checksum
            ))
        } else if result.test_set.id.is_empty() {
            Prior::Stale(format!(
                "{}: an older harness wrote this record (no per-image test predictions)",
                path.display()
            ))
        } else if let Some(Err(why)) = data.map(|data| result.check(data.labels.len())) {
            Prior::Stale(format!("{}: damaged record: {why}", path.display()))
        } else if result.metrics.is_some() && !self.model_npz(&run.id).is_file() {
            Prior::Stale(format!(
                "{}: the run's model file is missing",
                self.model_npz(&run.id).display()
            ))
        } else if result.metrics.is_some() && !result.files.contains_key(MODEL_NPZ) {
            Prior::Stale(format!(
                "{}: an older harness wrote this record (no checksums of the run's files)",
                path.display()
            ))
        } else if let Some(wanted) = config
            .cross_validates(run)
            .filter(|&sel| result.cv.as_ref().map(|cv| &cv.selection) != Some(sel))
        {
            Prior::Stale(format!(
                "{}: the config selects by {}-fold cross-validation and the record has no such scores",
                path.display(),
                wanted.cv
            ))
        } else if config.output.predictions
            && result.metrics.is_some()
            && !self.predictions_csv(&run.id).is_file()
        {
            Prior::Stale(format!(
                "{}: the config asks for predictions and there is none",
                self.predictions_csv(&run.id).display()
            ))
        } else if let Some(why) = self.files_mismatch(&result) {
            Prior::Stale(why)
        } else {
            let mut result = result;
            if result.diagnostics.zero_weights.is_none() && result.metrics.is_some() {
                // Records written before the share was recorded: from the model file (checked
                // against its digest above).
                result.diagnostics.zero_weights =
                    crate::model_file::SavedModel::read(&self.model_npz(&run.id), "")
                        .ok()
                        .map(|m| crate::model::zero_share(m.coef.iter()));
            }
            Prior::Finished(Box::new(result))
        }
    }

    /// The finished, reusable records of `config`'s runs, in config order; stale ones are
    /// reported through `warn`.
    pub fn finished(
        &self,
        config: &Config,
        data: &Mnist,
        mut warn: impl FnMut(String),
    ) -> Vec<RunResult> {
        config
            .runs
            .iter()
            .filter_map(|run| match self.prior(run, config, data) {
                Prior::Finished(result) => Some(*result),
                Prior::Missing => None,
                Prior::Stale(why) => {
                    warn(why);
                    None
                }
            })
            .collect()
    }

    /// Copies the records (and predictions) of `config`'s runs found in `other` into this folder,
    /// keeping records already here. Returns how many were copied.
    pub fn merge_from(&self, other: &ResultsDir, config: &Config, data: &Mnist) -> Result<usize> {
        let mut copied = 0;
        for run in &config.runs {
            if matches!(self.prior(run, config, data), Prior::Finished(_)) {
                continue;
            }
            let Prior::Finished(result) = other.prior(run, config, data) else {
                continue;
            };
            // The run's files first, its record last (the record marks the run as done).
            for (from, to) in [
                (
                    other.predictions_csv(&run.id),
                    self.predictions_csv(&run.id),
                ),
                (other.model_npz(&run.id), self.model_npz(&run.id)),
            ] {
                if from.is_file() {
                    let bytes = std::fs::read(&from).map_err(|e| Error::output(&from, e))?;
                    write_atomic(&to, &bytes)?;
                }
            }
            self.save_record(&result)?;
            copied += 1;
        }
        Ok(copied)
    }
}

/// Whether the lock text ("process PID since ...") names a process that still runs (Linux's
/// /proc; elsewhere the text is trusted).
fn holder_is_running(text: &str) -> bool {
    let Some(pid) = text
        .strip_prefix("process ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return false;
    };
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether `path` is a symbolic link (not followed).
fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Removes a folder inside a results folder; a symbolic link in its place is removed as a link,
/// never followed; a folder that is not there is fine.
fn remove_folder_here(folder: &Path) -> Result<()> {
    let removed = if is_symlink(folder) {
        std::fs::remove_file(folder)
    } else if folder.is_dir() {
        std::fs::remove_dir_all(folder)
    } else {
        Ok(())
    };
    removed.map_err(|e| Error::output(folder, e))
}
