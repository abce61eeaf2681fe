//! Which records a sweep may reuse: a run's record checked against its parameters, data and
//! files ([`Prior`]), the finished runs of a folder, and runs finished in sibling folders or
//! shards, copied (record and files) rather than refitted.
//!
//! May touch: `config`, `data` (the checksum), `digits`, `error`, `files`, `folder`, `metrics`
//! (the calibration of older records), `model`, `model_file` (the zero weights of older records).

use std::path::PathBuf;

use super::{ResultsDir, RunResult, MODEL_NPZ, PREDICTIONS_CSV};
use crate::config::{Config, Run};
use crate::data::Mnist;
use crate::digits::N_CLASSES;
use crate::error::{Error, Result};
use crate::folder::Kind;

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

impl ResultsDir {
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
            if let Some(bytes) = self.read(&path)? {
                digests.insert(name.to_string(), crate::files::sha256_hex(&bytes));
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
            match self
                .read(&path)
                .map(|b| b.map(|b| crate::files::sha256_hex(&b)))
            {
                Ok(Some(digest)) if &digest == expected => {}
                Ok(None) => return Some(format!("{}: missing", path.display())),
                Ok(Some(_)) => {
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
        self.write(&path, &json)
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
        let bytes = match self.read(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Prior::Missing,
            Err(e) => return Prior::Stale(e.one_line()),
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
        } else if result.engine != run.params.engine() {
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
        } else if let Err(why) = result.check(data.map(|data| data.labels.len())) {
            Prior::Stale(format!("{}: damaged record: {why}", path.display()))
        } else if result.metrics.is_some() && !self.is_file(&self.model_npz(&run.id)) {
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
            && !self.is_file(&self.predictions_csv(&run.id))
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
                let path = self.model_npz(&run.id);
                result.diagnostics.zero_weights = self
                    .read(&path)
                    .ok()
                    .flatten()
                    .and_then(|bytes| {
                        crate::model_file::SavedModel::from_bytes(&bytes, &path, "").ok()
                    })
                    .map(|m| crate::model::zero_share(m.coef.iter()));
            }
            if let Some(m) = result.metrics.as_mut().filter(|m| m.calibration.is_none()) {
                // Records written before calibration was computed: from the run's test
                // probabilities (checked against their digest above), where it kept them.
                m.calibration = self
                    .read(&self.predictions_csv(&run.id))
                    .ok()
                    .flatten()
                    .and_then(|bytes| calibration_from_predictions(&bytes, &result.test_set));
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

    /// The other results folders beside this one (`<out>/*/`, plain folders only): where a run
    /// with the same id may already be finished.
    pub fn siblings(&self) -> Vec<ResultsDir> {
        let Some(out) = self.root.parent() else {
            return Vec::new();
        };
        let name = self.root.file_name();
        ResultsDir::new(out.to_path_buf())
            .list(out)
            .into_iter()
            .filter(|(n, kind)| *kind == Kind::Dir && Some(std::ffi::OsStr::new(n)) != name)
            .map(|(n, _)| ResultsDir::new(out.join(n)))
            .collect()
    }

    /// Copies the runs of `config` that are finished in a folder beside this one (the same id,
    /// so the same parameters and data; the record passing every check a reused one passes)
    /// and not here: an override's folder, a copied config or another grid sharing runs reuses
    /// them instead of refitting. Returns the folders taken from and how many runs each gave.
    pub fn take_from_siblings(
        &self,
        config: &Config,
        data: &Mnist,
    ) -> Result<Vec<(PathBuf, usize)>> {
        // Checked once here: only the runs missing here are looked for beside it.
        let missing: Vec<&Run> = config
            .runs
            .iter()
            .filter(|run| !matches!(self.prior(run, config, data), Prior::Finished(_)))
            .collect();
        let mut taken: Vec<(PathBuf, usize)> = Vec::new();
        if missing.is_empty() {
            return Ok(taken);
        }
        let siblings = self.siblings();
        for run in missing {
            for sibling in &siblings {
                if let Prior::Finished(result) = sibling.prior(run, config, data) {
                    self.copy_run(sibling, &result)?;
                    match taken.iter_mut().find(|(root, _)| *root == sibling.root) {
                        Some((_, n)) => *n += 1,
                        None => taken.push((sibling.root.clone(), 1)),
                    }
                    break;
                }
            }
        }
        Ok(taken)
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
            self.copy_run(other, &result)?;
            copied += 1;
        }
        Ok(copied)
    }

    /// Copies a run checked finished in `other` into this folder: its files first, its record
    /// last (the record marks the run as done).
    fn copy_run(&self, other: &ResultsDir, result: &RunResult) -> Result<()> {
        let id = &result.run.id;
        for (from, to) in [
            (other.predictions_csv(id), self.predictions_csv(id)),
            (other.model_npz(id), self.model_npz(id)),
        ] {
            if let Some(bytes) = other.read(&from)? {
                self.write(&to, &bytes)?;
            }
        }
        self.save_record(result)
    }
}

/// The calibration of a predictions.csv's probabilities, if its rows are the test set's images
/// in order.
fn calibration_from_predictions(
    bytes: &[u8],
    test_set: &super::TestSet,
) -> Option<crate::metrics::Calibration> {
    let rows: Vec<super::ProbabilityRow> = csv::Reader::from_reader(bytes)
        .deserialize()
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let labels: Vec<u8> = rows.iter().map(|r| r.label).collect();
    if labels != test_set.labels {
        return None;
    }
    let p = ndarray::Array2::from_shape_vec(
        (rows.len(), N_CLASSES),
        rows.iter().flat_map(|r| r.probabilities()).collect(),
    )
    .ok()?;
    Some(crate::metrics::calibration(&labels, p.rows()))
}
