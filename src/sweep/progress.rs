//! Progress display: bars on a terminal, one line per event otherwise, nothing when quiet. The
//! overall bar and each line's time estimate count work, not runs: a fit's work is its iteration
//! budget times its training images (a fit shared by runs that differ only in max_iter counts
//! once, at the longest; each cross-validation fold counts its share), so the estimate is the
//! measured seconds per unit of work times the work left.
//!
//! May touch: `config`, `model` (fit status), `store` (run records), `sweep::plan` (the groups).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::SweepOptions;
use crate::config::{Run, Scoring};
use crate::model::FitStatus;
use crate::store::RunResult;

/// Progress display: bars on a terminal, one line per event otherwise.
pub(super) struct Progress {
    bars: Option<(MultiProgress, ProgressBar)>,
    quiet: bool,
    started: Instant,
    /// Work planned and done (see the module header).
    work: Mutex<(f64, f64)>,
    /// The overall bar's count of runs, "(2/5 runs)", shown after the estimate.
    runs: Mutex<String>,
}

/// Units of work on the overall bar (it counts in whole numbers).
const BAR_UNITS: u64 = 10_000;

/// The work of a fit: its iteration budget times its training images.
pub(super) fn fit_work(max_iter: u64, n_train: usize) -> f64 {
    max_iter as f64 * n_train as f64
}

/// The work of one fit shared by runs that differ only in max_iter: the longest's.
pub(super) fn family_work(family: &[&Run], n_train: usize) -> f64 {
    let longest = family
        .iter()
        .map(|r| r.params.model.max_iter)
        .max()
        .unwrap_or(0);
    fit_work(longest, n_train)
}

/// A cross-validation score as the progress lines show it: "91.02 ± 0.35 %" (accuracy) or
/// "log-loss 0.3100 ± 0.0100".
pub(super) fn cv_score(scoring: Scoring, mean: f64, sd: Option<f64>) -> String {
    match (scoring, sd) {
        (Scoring::Accuracy, Some(sd)) => format!("{:.2} ± {:.2} %", 100.0 * mean, 100.0 * sd),
        (Scoring::Accuracy, None) => format!("{:.2} %", 100.0 * mean),
        (Scoring::NegLogLoss, Some(sd)) => format!("log-loss {:.4} ± {sd:.4}", -mean),
        (Scoring::NegLogLoss, None) => format!("log-loss {:.4}", -mean),
    }
}

impl Progress {
    pub(super) fn new(options: &SweepOptions, work: f64) -> Self {
        let bars = (options.progress && !options.quiet).then(|| {
            let multi = MultiProgress::new();
            let overall = multi.add(ProgressBar::new(BAR_UNITS));
            overall.set_style(
                // No estimate until one has been measured: the message holds it.
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30.cyan/blue}] {percent} % of the work{msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            overall.enable_steady_tick(Duration::from_millis(500));
            overall.set_message("; time left: measuring");
            (multi, overall)
        });
        Progress {
            bars,
            quiet: options.quiet,
            started: Instant::now(),
            work: Mutex::new((work.max(1.0), 0.0)),
            runs: Mutex::new(String::new()),
        }
    }

    /// Counts `work` as done, and returns the estimate of the time left.
    pub(super) fn advance(&self, work: f64) -> Option<Duration> {
        let mut w = self.work.lock().unwrap_or_else(|e| e.into_inner());
        w.1 = (w.1 + work).min(w.0);
        let (total, done) = *w;
        drop(w);
        let estimate = (done > 0.0).then(|| {
            let per_unit = self.started.elapsed().as_secs_f64() / done;
            Duration::from_secs_f64(per_unit * (total - done))
        });
        if let Some((_, overall)) = &self.bars {
            overall.set_position((BAR_UNITS as f64 * done / total) as u64);
            let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            let left = match estimate {
                Some(_) => Self::left(estimate),
                None => "; time left: measuring".into(),
            };
            overall.set_message(format!("{left} {runs}"));
        }
        estimate
    }

    /// The line ending for an estimate: `; about 2m 10s left`.
    fn left(estimate: Option<Duration>) -> String {
        match estimate {
            Some(d) if d.as_secs() > 0 => format!(
                "; about {} left",
                humantime::format_duration(Duration::from_secs(d.as_secs()))
            ),
            _ => String::new(),
        }
    }

    /// A cross-validation event (its work already counted by [`Progress::advance`]), with the
    /// estimate of the time left.
    pub(super) fn cv_line(&self, text: String) {
        let left = Self::left(self.advance(0.0));
        self.line(format!("{text}{left}"));
    }

    pub(super) fn line(&self, text: String) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None if !self.quiet => eprintln!("{text}"),
            None => {}
        }
    }

    /// A bar for one run being fitted, following its iterations (only on a terminal); `what`
    /// leads it (the run id, or the fold and run id).
    pub(super) fn start(&self, run: &Run, what: String) -> Option<ProgressBar> {
        let (multi, _) = self.bars.as_ref()?;
        let bar = multi.add(ProgressBar::new(run.params.model.max_iter));
        bar.set_style(
            ProgressStyle::with_template(
                "  {prefix} [{bar:20}] {pos}/{len} iterations, objective {msg} {elapsed}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(what);
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }

    /// Follows a fit on its bar: the furthest iteration and the objective.
    pub(super) fn observe(bar: Option<&ProgressBar>, iteration: u64, objective: f64) {
        let Some(bar) = bar else { return };
        // One-vs-rest classes report in parallel: show the furthest.
        if iteration > bar.position() {
            bar.set_position(iteration);
        }
        // sag and saga compute no objective on the way.
        if objective.is_finite() {
            bar.set_message(format!("{objective:.6}"));
        } else {
            bar.set_message("- (not computed by sag/saga)");
        }
    }

    /// A run finished; `work` is its share of its fit. In a sweep that chooses by
    /// cross-validation, the line leads with the CV score, the test score after it.
    pub(super) fn finish(&self, done: usize, total: usize, result: &RunResult, work: f64) {
        let cv = result.cv.as_ref().map(|cv| {
            let (mean, sd) = cv.mean_sd();
            format!("CV {}; ", cv_score(cv.selection.scoring, mean, Some(sd)))
        });
        let outcome = match (&result.metrics, &result.diagnostics.status) {
            (Some(m), _) => format!(
                "{}test accuracy {:.2} % {}{}",
                cv.unwrap_or_default(),
                100.0 * m.accuracy,
                m.accuracy_interval().percent(),
                if result.diagnostics.converged {
                    ""
                } else {
                    ", not converged"
                }
            ),
            (None, FitStatus::Failed(reason)) => format!("FAILED: {reason}"),
            (None, FitStatus::Ok) => "no metrics".into(),
        };
        *self.runs.lock().unwrap_or_else(|e| e.into_inner()) = format!("({done}/{total} runs)");
        let left = Self::left(self.advance(work));
        self.line(format!(
            "[{done}/{total}] {} ({}): {outcome} in {:.1} s{left}",
            result.run.id,
            result.run.params.describe(),
            result.diagnostics.fit_seconds
        ));
    }

    pub(super) fn done(&self) {
        if let Some((_, overall)) = &self.bars {
            overall.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_is_the_measured_rate_times_the_work_left() {
        let options = SweepOptions {
            quiet: true,
            progress: false,
            ..SweepOptions::default()
        };
        let progress = Progress::new(&options, 100.0);
        std::thread::sleep(Duration::from_millis(30));
        // A quarter done: three times the time taken so far is left.
        let left = progress.advance(25.0).unwrap();
        let elapsed = progress.started.elapsed();
        assert!(left >= Duration::from_millis(90), "{left:?}");
        assert!(left <= 3 * elapsed, "{left:?} against {elapsed:?}");
        // Work never counts past the plan.
        assert_eq!(progress.advance(500.0), Some(Duration::ZERO));
        assert_eq!(fit_work(100, 56_000), 5.6e6);
    }
}
