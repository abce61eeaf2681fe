//! Results on disk. Every finished run is one record, `runs/<run_id>/run.json`, written atomically
//! (temporary file, then rename) after the run's other files: a record that exists is complete.
//! Everything else in the folder (tables, charts, README) is derived from the records, so a
//! sweep can be killed at any point, resumed, sharded over machines and merged.
//!
//! May touch: `folder` (results files and inputs through one handle), `config`, `data` (the
//! checksum), `digits`, `error`, `files`, `metrics`, `model` (diagnostics), `model_file` (a
//! model's zero weights for older records), `named`, `stats`.

mod record;
mod reuse;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::folder::{Folder, Kind};

pub use record::{CvScores, FoldKey, FoldRecord, RunResult, TestSet};
pub use reuse::Prior;

/// A run's model file, beside its record.
pub const MODEL_NPZ: &str = "model.npz";
/// A results folder's reference run, for `predict RESULTS_DIR` (written by the report).
pub const REFERENCE_JSON: &str = "reference.json";
/// A run's test predictions, beside its record.
pub const PREDICTIONS_CSV: &str = "predictions.csv";

/// A row of [`PREDICTIONS_CSV`] with its probabilities (`index,label,predicted,p0..p9`).
#[derive(Debug, serde::Deserialize)]
pub struct ProbabilityRow {
    /// Position of the image in the 70,000-image order.
    pub index: usize,
    pub label: u8,
    p0: f64,
    p1: f64,
    p2: f64,
    p3: f64,
    p4: f64,
    p5: f64,
    p6: f64,
    p7: f64,
    p8: f64,
    p9: f64,
}

impl ProbabilityRow {
    /// Every digit's probability, digit 0 first.
    pub fn probabilities(&self) -> [f64; crate::digits::N_CLASSES] {
        [
            self.p0, self.p1, self.p2, self.p3, self.p4, self.p5, self.p6, self.p7, self.p8,
            self.p9,
        ]
    }
}

/// The results folder of one experiment and the files in it. Every file under it is read,
/// written and deleted through one capability handle of the folder ([`Folder`]): the paths its
/// methods name are under `root`, and nothing it does can reach outside it.
#[derive(Debug)]
pub struct ResultsDir {
    /// The folder as the user named it (for messages and links).
    pub root: PathBuf,
    folder: OnceLock<Folder>,
    /// How many files this handle changed (written with other bytes, or removed).
    changed: AtomicUsize,
}

impl Clone for ResultsDir {
    fn clone(&self) -> Self {
        ResultsDir::new(self.root.clone())
    }
}

impl ResultsDir {
    pub fn new(root: PathBuf) -> Self {
        ResultsDir {
            root,
            folder: OnceLock::new(),
            changed: AtomicUsize::new(0),
        }
    }

    /// The folder's handle: opened on first use (created where `create`); `None` where it does
    /// not exist and is not to be created.
    fn folder(&self, create: bool) -> Result<Option<&Folder>> {
        if let Some(folder) = self.folder.get() {
            return Ok(Some(folder));
        }
        let opened = if create {
            Folder::create(&self.root)?
        } else if self.root.is_dir() {
            Folder::open(&self.root)?
        } else {
            return Ok(None);
        };
        Ok(Some(self.folder.get_or_init(|| opened)))
    }

    /// `path` relative to the root (every path this type hands out is under it).
    fn rel<'a>(&self, path: &'a Path) -> Result<&'a Path> {
        path.strip_prefix(&self.root).map_err(|_| Error::Output {
            path: path.to_path_buf(),
            message: format!(
                "outside the results folder {}: the harness writes only there; this is a bug, please report it",
                self.root.display()
            ),
        })
    }

    /// Writes `path` (under the root) atomically; a file that already holds these bytes is left
    /// alone.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let rel = self.rel(path)?;
        if self.folder(true)?.expect("created").write(rel, bytes)? {
            self.changed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// How many files this handle changed so far (written with other bytes, or removed).
    pub fn changed(&self) -> usize {
        self.changed.load(Ordering::Relaxed)
    }

    /// Reads `path` (under the root), a plain file; `None` where it is not there.
    pub fn read(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        let rel = self.rel(path)?;
        match self.folder(false)? {
            Some(folder) => folder.read(rel),
            None => Ok(None),
        }
    }

    /// Removes `path` (under the root) if it is there: a file, a link (as a link) or a folder.
    pub fn remove(&self, path: &Path) -> Result<()> {
        let rel = self.rel(path)?;
        match self.folder(false)? {
            Some(folder) if folder.kind(rel).is_some() => {
                folder.remove(rel)?;
                self.changed.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// What `path` (under the root) is, links not followed.
    pub fn kind(&self, path: &Path) -> Option<Kind> {
        let rel = self.rel(path).ok()?;
        self.folder(false).ok()??.kind(rel)
    }

    /// Whether `path` (under the root) is a plain file.
    pub fn is_file(&self, path: &Path) -> bool {
        self.kind(path) == Some(Kind::File)
    }

    /// The entries of the folder `path` (under the root), sorted, links not followed.
    pub fn list(&self, path: &Path) -> Vec<(String, Kind)> {
        match (self.rel(path), self.folder(false)) {
            (Ok(rel), Ok(Some(folder))) => folder.list(rel),
            _ => Vec::new(),
        }
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
        let record: FoldRecord = serde_json::from_slice(&self.read(&path).ok()??).ok()?;
        (record.key == *expected && record.check().is_ok()).then_some(record)
    }

    /// Writes a fold's record, so that an interrupted cross-validation resumes at its first
    /// missing fold.
    pub fn save_fold(&self, run_id: &str, fold: usize, record: &FoldRecord) -> Result<()> {
        let path = self.fold_json(run_id, fold, record.key.selection.cv);
        let text = serde_json::to_string_pretty(record).map_err(|e| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        })?;
        self.write(&path, text.as_bytes())
    }

    /// The run folders (`runs/<id>/`) of runs that are not in `config`'s grid, sorted.
    pub fn runs_outside(&self, config: &Config) -> Vec<String> {
        self.list(&self.root.join("runs"))
            .into_iter()
            .filter(|(id, kind)| {
                // A run's folder: a run id's name and a file the sweep writes in it (a user's
                // own folder is never one), or a link in its place (removed as a link).
                let harness = || {
                    ["run.json", MODEL_NPZ, PREDICTIONS_CSV]
                        .iter()
                        .any(|f| self.is_file(&self.run_dir(id).join(f)))
                };
                crate::config::is_run_id(id)
                    && !config.runs.iter().any(|r| &r.id == id)
                    && (*kind == Kind::Link || (*kind == Kind::Dir && harness()))
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Deletes a run's folder (a symbolic link in its place: the link only, never what it points
    /// to), its fold records and its confusion matrix files.
    pub fn remove_run(&self, run_id: &str) -> Result<()> {
        self.remove(&self.run_dir(run_id))?;
        self.remove_folds(&[run_id])?;
        self.remove(&self.confusion_csv(run_id))?;
        self.remove(&self.confusion_png(run_id))
    }

    /// Removes the fold records of `run_ids` (and the `cv` folder once it is empty).
    pub fn remove_folds(&self, run_ids: &[&str]) -> Result<()> {
        let cv = self.root.join("cv");
        if self.kind(&cv) != Some(Kind::Dir) {
            return Ok(());
        }
        for id in run_ids {
            self.remove(&cv.join(id))?;
        }
        // Only an empty folder is removed; another group's records may still be there.
        if let Some(folder) = self.folder(false)? {
            folder.remove_empty_dir(Path::new("cv"));
        }
        Ok(())
    }

    /// The fitted model of a finished run (see [`crate::model_file`]).
    pub fn model_npz(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join(MODEL_NPZ)
    }

    /// A run's model, read through the folder's handle and checked; `None` where it has none.
    pub fn read_model(&self, run_id: &str) -> Result<Option<crate::model_file::SavedModel>> {
        let path = self.model_npz(run_id);
        let Some(bytes) = self.read(&path)? else {
            return Ok(None);
        };
        crate::model_file::SavedModel::from_bytes(
            &bytes,
            &path,
            "rerun the sweep with --force to rewrite the model files",
        )
        .map(Some)
    }

    /// Takes the folder's advisory lock (`.lock`) for this process: exclusive for a whole sweep,
    /// a report or a merge, shared for a shard (shards of one sweep may share a folder, each
    /// fitting its own runs). Another process holding it in a conflicting way is named in the
    /// error. With the exclusive lock, temporary files left by a killed process are removed.
    /// The lock is released when the returned file is dropped.
    pub fn lock(&self, shared: bool) -> Result<std::fs::File> {
        let folder = self.folder(true)?.expect("created");
        let path = self.root.join(".lock");
        let mut file = folder.open_lock_file(Path::new(".lock"))?;
        let taken = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match taken {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = std::io::Read::read_to_string(
                    &mut std::io::Read::take(&file, 4096),
                    &mut holder,
                );
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
            // Best effort, through the locked file itself: the lock is what excludes; the text
            // only names the holder.
            use std::io::{Seek, Write};
            let _ = file
                .set_len(0)
                .and_then(|_| file.rewind())
                .and_then(|_| file.write_all(who.as_bytes()));
            folder.remove_temporaries(Path::new(""))?;
        }
        Ok(file)
    }

    /// Creates the folder, or says why it cannot be written to (before any work is done).
    pub fn check_writable(&self) -> Result<()> {
        self.folder(true)?.expect("created").check_writable()
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
