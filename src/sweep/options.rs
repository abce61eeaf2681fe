//! How a sweep is asked to run: the options, the shards of a grid, and what it returns.
//!
//! May touch: `manifest` (the invocation it records), `store` (run records).

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::manifest::Invocation;
use crate::store::RunResult;

/// How a sweep runs.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Results root: the experiment writes to `<out>/<name>/`.
    pub out: PathBuf,
    /// Runs fitted at the same time.
    pub jobs: usize,
    /// Show progress bars (otherwise plain lines on stderr, or nothing when `quiet`).
    pub progress: bool,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Refit runs that already have a record.
    pub force: bool,
    /// Run only this part of the grid.
    pub shard: Option<Shard>,
    /// Write into a folder that holds another config's results (`--adopt`).
    pub adopt: bool,
    /// Runs that differ only in max_iter share one fit (off with `--separate-fits`: every run
    /// fitted alone, the same results in more time; for comparisons with scikit-learn).
    pub shared_fits: bool,
}

/// One of `count` deterministic parts of a grid: run `i` (config order) belongs to shard
/// `i % count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based, as Slurm's `SLURM_ARRAY_TASK_ID`.
    pub index: usize,
    pub count: usize,
}

/// A `--shard` value that is not `I/N` with `0 <= I < N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {0:?}: expected I/N with 0 <= I < N, e.g. 0/4 (shards are numbered from 0, like Slurm array tasks)")]
pub struct ShardError(String);

impl std::str::FromStr for Shard {
    type Err = ShardError;
    /// Parses `I/N` with 0 <= I < N.
    fn from_str(s: &str) -> std::result::Result<Self, ShardError> {
        let bad = || ShardError(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the run at `position` (config order) is this shard's.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index
    }
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            out: PathBuf::from("results"),
            jobs: 1,
            progress: std::io::stderr().is_terminal(),
            quiet: false,
            force: false,
            shard: None,
            adopt: false,
            shared_fits: true,
        }
    }
}

/// What a finished sweep produced.
#[derive(Debug)]
pub struct SweepOutcome {
    pub results_dir: PathBuf,
    /// Every finished run of the config (reused and new), in config order.
    pub results: Vec<RunResult>,
    /// How many of them were fitted by this invocation.
    pub fitted: usize,
    pub seconds: f64,
}

impl SweepOptions {
    /// What the manifest records of these options.
    pub fn invocation(&self) -> Invocation {
        Invocation {
            shard: self.shard.map(|s| s.to_string()),
            force: self.force,
            jobs: self.jobs,
        }
    }
}
