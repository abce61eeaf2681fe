//! The sweep runner: load the data once, split and scale once per (split, scaler, dtype) group,
//! fit every run of the group on the shared matrices (in parallel with `--jobs`), and write each
//! run's files as soon as it finishes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::config::{Config, Run};
use crate::data::{self, Mnist};
use crate::error::{Error, Result};
use crate::metrics;
use crate::model::{self, Dtype, FitFloat, FitStatus, MultiClass, N_CLASSES};
use crate::preprocessing::{prepare, PreparedData, Scaler};
use crate::report::{ResultsDir, RunResult};
use crate::split::{train_test_split, SplitIndices, SplitSpec};

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
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            out: PathBuf::from("results"),
            jobs: 1,
            progress: std::io::stderr().is_terminal(),
            quiet: false,
        }
    }
}

/// What a finished sweep produced.
#[derive(Debug)]
pub struct SweepOutcome {
    pub results_dir: PathBuf,
    pub results: Vec<RunResult>,
    pub seconds: f64,
}

/// Runs sharing one split, scaler and dtype, and so one set of matrices.
struct Group<'a> {
    split: SplitSpec,
    scaler: Scaler,
    dtype: Dtype,
    indices: SplitIndices,
    runs: Vec<&'a Run>,
}

/// Groups runs by the data they need, in config order, and checks every split's training set
/// holds all ten digits, before anything is fitted.
fn plan<'a>(config: &'a Config, labels: &[u8]) -> Result<Vec<Group<'a>>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for run in &config.runs {
        let p = &run.params;
        if let Some(g) = groups
            .iter_mut()
            .find(|g| g.split == p.split && g.scaler == p.scaler && g.dtype == p.model.dtype)
        {
            g.runs.push(run);
            continue;
        }
        let indices = train_test_split(labels.len(), &p.split).map_err(|m| Error::Config {
            file: config.path.clone(),
            line: None,
            message: m,
        })?;
        let mut seen = [false; N_CLASSES];
        for &i in &indices.train {
            seen[labels[i] as usize] = true;
        }
        let missing: Vec<String> = (0..N_CLASSES)
            .filter(|&k| !seen[k])
            .map(|k| k.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::Config {
                file: config.path.clone(),
                line: None,
                message: format!(
                    "the training set of run {} has no image of digit {}: raise [data] subsample or train_size",
                    run.id,
                    missing.join(", ")
                ),
            });
        }
        groups.push(Group {
            split: p.split,
            scaler: p.scaler,
            dtype: p.model.dtype,
            indices,
            runs: vec![run],
        });
    }
    Ok(groups)
}

/// The expanded grid as a table, for `--dry-run`.
pub fn describe_grid(config: &Config) -> String {
    let mut s = format!(
        "{}: {} runs -> results/{}/ (data: first {} images)\n",
        config.path.display(),
        config.runs.len(),
        config.name,
        config.data.n_samples()
    );
    s.push_str(&format!(
        "{:<12} {:<11} {:>8} {:>8} {:>8} {:<8} {:<5} {:>10} {:>9} {:>6} {:>7}\n",
        "run_id",
        "multi_class",
        "C",
        "max_iter",
        "tol",
        "scaler",
        "dtype",
        "train_size",
        "test_size",
        "seed",
        "shuffle"
    ));
    for run in &config.runs {
        let p = &run.params;
        let size =
            |s: Option<crate::split::Size>| s.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        s.push_str(&format!(
            "{:<12} {:<11} {:>8} {:>8} {:>8} {:<8} {:<5} {:>10} {:>9} {:>6} {:>7}\n",
            run.id,
            p.model.multi_class.as_str(),
            p.model.c,
            p.model.max_iter,
            p.model.tol,
            p.scaler.as_str(),
            p.model.dtype.as_str(),
            size(p.split.train_size),
            size(p.split.test_size),
            p.split.random_state,
            p.split.shuffle
        ));
    }
    s
}

/// Progress display: bars on a terminal, one line per event otherwise.
struct Progress {
    bars: Option<(MultiProgress, ProgressBar)>,
    quiet: bool,
}

impl Progress {
    fn new(options: &SweepOptions, total: usize) -> Self {
        let bars = (options.progress && !options.quiet).then(|| {
            let multi = MultiProgress::new();
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30.cyan/blue}] {pos}/{len} runs {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            overall.enable_steady_tick(Duration::from_millis(500));
            (multi, overall)
        });
        Progress {
            bars,
            quiet: options.quiet,
        }
    }

    fn line(&self, text: String) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None if !self.quiet => eprintln!("{text}"),
            None => {}
        }
    }

    /// A spinner for one run being fitted (only on a terminal).
    fn start(&self, label: String) -> Option<ProgressBar> {
        let (multi, _) = self.bars.as_ref()?;
        let spinner = multi.add(ProgressBar::new_spinner());
        spinner.set_style(
            ProgressStyle::with_template("  {spinner} {msg} {elapsed}").expect("valid template"),
        );
        spinner.set_message(label);
        spinner.enable_steady_tick(Duration::from_millis(200));
        Some(spinner)
    }

    fn finish(&self, done: usize, total: usize, result: &RunResult) {
        let outcome = match (&result.metrics, &result.diagnostics.status) {
            (Some(m), _) => format!(
                "accuracy {:.4}{}",
                m.accuracy,
                if result.diagnostics.converged {
                    ""
                } else {
                    ", not converged"
                }
            ),
            (None, FitStatus::Failed(reason)) => format!("FAILED: {reason}"),
            (None, FitStatus::Ok) => "no metrics".into(),
        };
        self.line(format!(
            "[{done}/{total}] {} ({}): {outcome} in {:.1} s",
            result.run.id,
            result.describe(),
            result.diagnostics.fit_seconds
        ));
        if let Some((_, overall)) = &self.bars {
            overall.inc(1);
        }
    }

    fn done(&self) {
        if let Some((_, overall)) = &self.bars {
            overall.finish_and_clear();
        }
    }
}

/// Fits and evaluates one run on its group's matrices, and writes its own files.
fn execute<F: FitFloat>(
    run: &Run,
    data: &PreparedData<F>,
    indices: &SplitIndices,
    config: &Config,
    dir: &ResultsDir,
) -> Result<RunResult> {
    let outcome = model::fit(
        data.x_fit.view(),
        data.fit_scale,
        &data.y_train,
        &run.params.model,
    )
    .map_err(|message| Error::Fit {
        run_id: run.id.clone(),
        message,
    })?;
    let metrics = match outcome.diagnostics.status {
        FitStatus::Ok => {
            let decision = outcome.model.decision(data.x_test.view(), 1.0);
            let probabilities = outcome.model.probabilities(&decision);
            let ovr = run.params.model.multi_class == MultiClass::Ovr;
            let metrics = metrics::evaluate(
                &data.y_test,
                probabilities.view(),
                ovr.then(|| decision.view()),
            );
            if config.output.predictions {
                dir.write_predictions(
                    &run.id,
                    &indices.test,
                    &data.y_test,
                    &metrics.predicted,
                    &probabilities,
                )?;
            }
            Some(metrics)
        }
        FitStatus::Failed(_) => None,
    };
    let result = RunResult {
        run: run.clone(),
        subsample: config.data.subsample,
        n_train: indices.train.len(),
        n_test: indices.test.len(),
        diagnostics: outcome.diagnostics,
        metrics,
    };
    dir.write_run(&result)?;
    Ok(result)
}

/// Runs one group's fits on `jobs` threads; results arrive in `sink` as they finish.
fn run_group<F: FitFloat>(
    group: &Group,
    mnist: &Mnist,
    config: &Config,
    dir: &ResultsDir,
    jobs: usize,
    progress: &Progress,
    mut sink: impl FnMut(RunResult) -> Result<()>,
) -> Result<()> {
    let data = prepare::<F>(
        mnist.images.view(),
        &mnist.labels,
        &group.indices,
        group.scaler,
        group.dtype,
    )
    .map_err(|message| Error::Fit {
        run_id: group.runs[0].id.clone(),
        message,
    })?;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Result<RunResult>>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, group.runs.len()) {
            let tx = tx.clone();
            let (next, data) = (&next, &data);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(run) = group.runs.get(i) else { break };
                let spinner = progress.start(format!("{} fitting", run.id));
                let result = execute(run, data, &group.indices, config, dir);
                if let Some(s) = spinner {
                    s.finish_and_clear();
                }
                let failed = result.is_err();
                if tx.send(result).is_err() || failed {
                    // Stop taking work: the sweep is ending with an error.
                    next.store(usize::MAX / 2, Ordering::SeqCst);
                    break;
                }
            });
        }
        drop(tx);
        for result in rx {
            let result = result.and_then(&mut sink);
            if result.is_err() {
                next.store(usize::MAX / 2, Ordering::SeqCst);
                return result;
            }
        }
        Ok(())
    })
}

/// Runs a whole sweep and writes `<out>/<name>/`.
pub fn run(config: &Config, options: &SweepOptions) -> Result<SweepOutcome> {
    let start = Instant::now();
    let dir = ResultsDir::new(options.out.join(&config.name));
    dir.check_writable()?;
    let mnist = data::load(&config.data)?;
    let groups = plan(config, &mnist.labels)?;
    let total = config.runs.len();
    let progress = Progress::new(options, total);
    progress.line(format!(
        "{}: {total} runs in {} data group(s) on {} images, {} job(s) -> {}",
        config.name,
        groups.len(),
        mnist.labels.len(),
        options.jobs,
        dir.root.display()
    ));
    let mut results: Vec<RunResult> = Vec::with_capacity(total);
    for group in &groups {
        let sink = |result: RunResult| {
            results.push(result);
            progress.finish(results.len(), total, results.last().expect("just pushed"));
            dir.write_tables(&config.name, &results, total)
        };
        match group.dtype {
            Dtype::F64 => {
                run_group::<f64>(group, &mnist, config, &dir, options.jobs, &progress, sink)?
            }
            Dtype::F32 => {
                run_group::<f32>(group, &mnist, config, &dir, options.jobs, &progress, sink)?
            }
        }
    }
    progress.done();
    // Config order, whatever order parallel runs finished in.
    let order: Vec<&str> = config.runs.iter().map(|r| r.id.as_str()).collect();
    results.sort_by_key(|r| order.iter().position(|id| *id == r.run.id));
    dir.write_tables(&config.name, &results, total)?;
    Ok(SweepOutcome {
        results_dir: dir.root,
        results,
        seconds: start.elapsed().as_secs_f64(),
    })
}
