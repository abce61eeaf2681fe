//! The sweep runner: load the data once, skip runs already finished (their records are reused),
//! split and scale once per (split, scaler, dtype) group, fit every run of the group on the
//! shared matrices (in parallel with `--jobs`), persist each run as soon as it finishes, and
//! write the report at the end. Also `--report-only`, `--shard` and `--merge`.
//!
//! Modules: `options` (how it is asked to run), `plan` (groups, families, `--dry-run`,
//! `--plan`), `execute` (fits on threads), `cv` (cross-validation), `progress`; this file holds
//! the entry points.
//!
//! May touch: `config`, `data`, `digits`, `error`, `manifest`, `metrics`, `model`, `model_file`,
//! `preprocessing`, `report`, `split`, `stats`, `store`, `tables`, `text`: every pipeline stage (it
//! is the orchestration).

mod cv;
mod execute;
mod family;
mod options;
mod plan;
mod progress;

use std::path::PathBuf;
use std::time::Instant;

use crate::config::Config;
use crate::data::{self, Mnist};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::model::Dtype;
use crate::report;
use crate::store::{ResultsDir, RunResult};

use execute::run_group;
pub use options::{Shard, ShardError, SweepOptions, SweepOutcome};
pub use plan::{describe_grid, plan_json};

/// The work of a group (see `progress`): each shared fit once, and each cross-validation fold
/// of each shared fit on its share of the training images.
fn group_work(config: &Config, group: &plan::Group) -> f64 {
    let n = group.indices.train.len();
    plan::families(&group.runs, group.shared_fits)
        .iter()
        .map(|family| {
            let fit = progress::family_work(family, n);
            let cv = config
                .cross_validates(family[0])
                .map_or(0.0, |sel| fit * (sel.cv - 1) as f64);
            fit + cv
        })
        .sum()
}

/// Each run's share of its shared fit's work (the fit split evenly among its runs).
fn run_shares<'a>(group: &plan::Group<'a>) -> Vec<(&'a str, f64)> {
    let n = group.indices.train.len();
    plan::families(&group.runs, group.shared_fits)
        .iter()
        .flat_map(|family| {
            let share = progress::family_work(family, n) / family.len() as f64;
            family.iter().map(move |r| (r.id.as_str(), share))
        })
        .collect()
}
use progress::Progress;

/// Orders results as the config lists their runs.
fn in_config_order(config: &Config, results: &mut [RunResult]) {
    results.sort_by_key(|r| config.runs.iter().position(|run| run.id == r.run.id));
}

/// Runs a sweep (or this process's shard of it) and writes `<out>/<name>/`. Runs with a record
/// for the same parameters and data are reused unless `force`.
pub fn run(config: &Config, options: &SweepOptions) -> Result<SweepOutcome> {
    let start = Instant::now();
    // The data first: a data error must not leave an empty results folder behind.
    let mnist = data::load(&config.data)?;
    // Errors the data reveals in the config (sizes, folds) before the folder exists.
    let mine: Vec<&crate::config::Run> = config
        .runs
        .iter()
        .enumerate()
        .filter(|(i, _)| options.shard.is_none_or(|s| s.owns(*i)))
        .map(|(_, run)| run)
        .collect();
    let planned = plan::plan(config, &mine, &mnist.labels, options.shared_fits)?;
    let (dir, _lock) = open_for_writing(config, options, options.shard.is_some())?;
    let mut manifest = Manifest::start(config, &mnist, &dir, options.invocation());
    // Runs already finished beside this folder (same id, same data) are copied, not refitted.
    let taken = if options.force {
        Vec::new()
    } else {
        dir.take_from_siblings(config, &mnist)?
    };
    let mut refitting = Vec::new();
    let finished = dir.finished(config, &mnist, |why| refitting.push(why));
    // With --force every run is refitted; until its new record replaces it, an old one still
    // describes a finished run and stays in the tables (a killed sweep loses nothing).
    let (mut results, mut replaced) = if options.force {
        (Vec::new(), finished)
    } else {
        (finished, Vec::new())
    };
    let groups = pending(planned, &results);
    if options.force {
        // --force refits everything, cross-validation folds included.
        let ids: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.runs.iter().map(|r| r.id.as_str()))
            .collect();
        dir.remove_folds(&ids)?;
    }
    let reused = results.len();
    let work: f64 = groups.iter().map(|g| group_work(config, g)).sum();
    let progress = Progress::new(options, work);
    announce(
        &progress, config, options, &taken, refitting, &groups, reused, &mnist, &dir,
    );
    let fitted_ids = fit_groups(
        config,
        options,
        &groups,
        &mnist,
        &dir,
        &progress,
        &mut results,
        &mut replaced,
    )?;
    let fitted = fitted_ids.len();
    progress.done();
    // Other shards sharing this folder may have finished runs meanwhile.
    let mut results = dir.finished(config, &mnist, |_| {});
    in_config_order(config, &mut results);
    // A run fitted now is never missing from the report: its record must read back as its own.
    if let Some(lost) = fitted_ids
        .iter()
        .find(|id| !results.iter().any(|r| &r.run.id == *id))
    {
        return Err(Error::Output {
            path: dir.run_dir(lost),
            message: "the run was fitted and its record written, but it does not read back as \
                      this run's: nothing was reported; this is a bug, please report it with the \
                      config"
                .into(),
        });
    }
    report::write_report(config, &dir, &results, &mnist)?;
    manifest.finish(fitted, results.len());
    // A rerun that fits nothing and changes no file writes nothing: the folder (and a clone of
    // the repository) stays as it was.
    if fitted > 0 || dir.changed() > 0 || !dir.is_file(&dir.manifest_json()) {
        manifest.write(&dir)?;
    }
    Ok(SweepOutcome {
        results_dir: dir.root,
        results,
        fitted,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The planned groups, less the runs already finished.
fn pending<'a>(planned: Vec<plan::Group<'a>>, finished: &[RunResult]) -> Vec<plan::Group<'a>> {
    planned
        .into_iter()
        .filter_map(|mut group| {
            group
                .runs
                .retain(|run| !finished.iter().any(|r| r.run.id == run.id));
            (!group.runs.is_empty()).then_some(group)
        })
        .collect()
}

/// The sweep's opening lines: runs taken from sibling folders, records refitted and why, and
/// what is to be fitted where.
#[allow(clippy::too_many_arguments)]
fn announce(
    progress: &Progress,
    config: &Config,
    options: &SweepOptions,
    taken: &[(PathBuf, usize)],
    refitting: Vec<String>,
    groups: &[plan::Group],
    reused: usize,
    mnist: &data::Mnist,
    dir: &ResultsDir,
) {
    for (folder, n) in taken {
        progress.line(format!(
            "{n} finished run(s) taken from {}/ (the same run ids on the same data)",
            folder.display()
        ));
    }
    for why in refitting {
        progress.line(format!("refitting: {why}"));
    }
    let todo: usize = groups.iter().map(|g| g.runs.len()).sum();
    // The manifest is written when the report is: a failed or interrupted invocation leaves the
    // last complete one's manifest next to the README it describes.
    progress.line(format!(
        "{}: {} of {} runs to fit{}{} in {} data group(s) on {} images, {} job(s) -> {}",
        config.name,
        todo,
        config.runs.len(),
        options
            .shard
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default(),
        if reused > 0 {
            format!(", {reused} already finished")
        } else {
            String::new()
        },
        groups.len(),
        mnist.labels.len(),
        options.jobs,
        dir.root.display()
    ));
}

/// Fits every pending group; each finished run joins `results` (replacing its old record in
/// `replaced`) and the tables are rewritten at once. Returns the ids fitted.
#[allow(clippy::too_many_arguments)]
fn fit_groups(
    config: &Config,
    options: &SweepOptions,
    groups: &[plan::Group],
    mnist: &data::Mnist,
    dir: &ResultsDir,
    progress: &Progress,
    results: &mut Vec<RunResult>,
    replaced: &mut Vec<RunResult>,
) -> Result<Vec<String>> {
    let todo: usize = groups.iter().map(|g| g.runs.len()).sum();
    let mut fitted_ids = Vec::new();
    for group in groups {
        let shares = run_shares(group);
        let sink = |result: RunResult| {
            fitted_ids.push(result.run.id.clone());
            let share = shares
                .iter()
                .find(|(id, _)| *id == result.run.id)
                .map_or(0.0, |(_, w)| *w);
            replaced.retain(|r| r.run.id != result.run.id);
            results.push(result);
            progress.finish(
                fitted_ids.len(),
                todo,
                results.last().expect("just pushed"),
                share,
            );
            let mut tables: Vec<RunResult> =
                results.iter().chain(replaced.iter()).cloned().collect();
            in_config_order(config, &mut tables);
            crate::tables::write_tables(dir, &tables)
        };
        match group.dtype {
            Dtype::F64 => {
                run_group::<f64>(group, mnist, config, dir, options.jobs, progress, sink)?
            }
            Dtype::F32 => {
                run_group::<f32>(group, mnist, config, dir, options.jobs, progress, sink)?
            }
        }
    }
    Ok(fitted_ids)
}

/// Opens `<out>/<name>/` for a mode that writes (a sweep or shard, `--report-only`, `--merge`,
/// `--prune --yes`): the one place where the folder is created, its lock taken (shared for a
/// shard, else exclusive) and its owner checked (under the lock, so that it cannot change
/// before the writes), whatever the mode.
fn open_for_writing(
    config: &Config,
    options: &SweepOptions,
    shared: bool,
) -> Result<(ResultsDir, std::fs::File)> {
    let dir = ResultsDir::new(options.out.join(&config.name));
    // Checked before the lock file is created in another config's folder, and again under the
    // lock, where the owner can no longer change before the writes.
    crate::manifest::check_owner(config, &dir, options.adopt)?;
    dir.check_writable()?;
    let lock = dir.lock(shared)?;
    crate::manifest::check_owner(config, &dir, options.adopt)?;
    Ok((dir, lock))
}

/// Redraws the report of `config` from the records already written, without fitting.
pub fn report_only(config: &Config, options: &SweepOptions) -> Result<SweepOutcome> {
    let mnist = data::load(&config.data)?;
    // Nothing to lock (and nothing to report) where the folder does not exist.
    let _lock = if options.out.join(&config.name).is_dir() {
        Some(open_for_writing(config, options, false)?)
    } else {
        None
    };
    redraw(config, options, &mnist)
}

/// What `--prune` found and did.
#[derive(Debug)]
pub struct Pruned {
    /// The run folders not in the grid (`runs/<id>/`).
    pub stale: Vec<PathBuf>,
    /// Whether they were deleted (and the report redrawn).
    pub deleted: bool,
}

/// `--prune`: the finished runs in `<out>/<name>/` that the grid no longer has; with `yes`,
/// deletes them (their folders, fold records and confusion matrices) and redraws the report,
/// under the folder's lock and only in a folder this config owns.
pub fn prune(config: &Config, options: &SweepOptions, yes: bool) -> Result<Pruned> {
    let listed = ResultsDir::new(options.out.join(&config.name));
    crate::manifest::check_owner(config, &listed, options.adopt)?;
    let ids = listed.runs_outside(config);
    let stale = ids.iter().map(|id| listed.run_dir(id)).collect();
    // With --yes the report is redrawn even when nothing is deleted: it then describes exactly
    // the finished runs (after an interrupted sweep, say).
    if !yes || !listed.root.is_dir() {
        return Ok(Pruned {
            stale,
            deleted: false,
        });
    }
    let mnist = data::load(&config.data)?;
    let (dir, _lock) = open_for_writing(config, options, false)?;
    // Listed again under the lock: what another process did meanwhile counts.
    for id in dir.runs_outside(config) {
        dir.remove_run(&id)?;
    }
    if dir.finished(config, &mnist, |_| {}).is_empty() {
        // Nothing of this grid is left to report: the derived files go with the runs.
        crate::report::remove_report(&dir)?;
    } else {
        redraw(config, options, &mnist)?;
    }
    Ok(Pruned {
        stale,
        deleted: true,
    })
}

/// Writes the report of the records in `<out>/<name>/` on already loaded data.
fn redraw(config: &Config, options: &SweepOptions, mnist: &Mnist) -> Result<SweepOutcome> {
    let start = Instant::now();
    let dir = ResultsDir::new(options.out.join(&config.name));
    let results = dir.finished(config, mnist, |why| {
        if !options.quiet {
            eprintln!("skipping: {why}")
        }
    });
    if results.is_empty() {
        return Err(Error::Folder {
            path: dir.root.clone(),
            message: format!(
                "no finished run of {} here: run `sweep {}` first (or pass the --out it used)",
                config.path.display(),
                config.path.display()
            ),
        });
    }
    report::write_report(config, &dir, &results, mnist)?;
    Ok(SweepOutcome {
        results_dir: dir.root,
        results,
        fitted: 0,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Collects the records of `config`'s runs from shard folders (each a shard's `--out` root or
/// its `<name>` folder) into `<out>/<name>/` and writes the report, as if one machine had run
/// the whole sweep.
pub fn merge(config: &Config, shards: &[PathBuf], options: &SweepOptions) -> Result<SweepOutcome> {
    // Every shard folder must exist before anything is copied.
    let shard_dirs = shards
        .iter()
        .map(|shard| {
            if !shard.is_dir() {
                return Err(Error::Folder {
                    path: shard.clone(),
                    message: "no such results folder to merge: pass each shard's --out folder"
                        .into(),
                });
            }
            // A shard's results root (its --out) or its experiment folder inside it.
            let nested = shard.join(&config.name);
            Ok(if nested.is_dir() {
                nested
            } else {
                shard.clone()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mnist = data::load(&config.data)?;
    // Nothing is created where nothing can be merged.
    let target = ResultsDir::new(options.out.join(&config.name));
    let available = std::iter::once(&target)
        .chain(
            &shard_dirs
                .iter()
                .map(|d| ResultsDir::new(d.clone()))
                .collect::<Vec<_>>(),
        )
        .any(|d| !d.finished(config, &mnist, |_| {}).is_empty());
    if !available {
        return Err(Error::Folder {
            path: shards[0].clone(),
            message: format!(
                "no finished run of {} in the folders to merge: pass the --out folders of the shards that ran",
                config.path.display()
            ),
        });
    }
    let (dir, _lock) = open_for_writing(config, options, false)?;
    let mut manifest = Manifest::start(config, &mnist, &dir, options.invocation());
    for shard in &shard_dirs {
        let n = dir.merge_from(&ResultsDir::new(shard.clone()), config, &mnist)?;
        if !options.quiet {
            eprintln!("{}: {n} run(s) taken", shard.display());
        }
    }
    let outcome = redraw(config, options, &mnist)?;
    manifest.finish(0, outcome.results.len());
    manifest.merged_from(shards);
    manifest.write(&dir)?;
    Ok(outcome)
}
