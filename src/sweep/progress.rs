//! Progress display: bars on a terminal, one line per event otherwise, nothing when quiet.
//!
//! May touch: `config`, `model` (fit status), `store` (run records).

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::SweepOptions;
use crate::config::Run;
use crate::model::FitStatus;
use crate::store::RunResult;

/// Progress display: bars on a terminal, one line per event otherwise.
pub(super) struct Progress {
    bars: Option<(MultiProgress, ProgressBar)>,
    quiet: bool,
}

impl Progress {
    pub(super) fn new(options: &SweepOptions, total: usize) -> Self {
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

    pub(super) fn line(&self, text: String) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None if !self.quiet => eprintln!("{text}"),
            None => {}
        }
    }

    /// A bar for one run being fitted, following its iterations (only on a terminal).
    pub(super) fn start(&self, run: &Run) -> Option<ProgressBar> {
        let (multi, _) = self.bars.as_ref()?;
        let bar = multi.add(ProgressBar::new(run.params.model.max_iter));
        bar.set_style(
            ProgressStyle::with_template(
                "  {prefix} [{bar:20}] {pos}/{len} iterations, objective {msg} {elapsed}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(run.id.clone());
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }

    pub(super) fn finish(&self, done: usize, total: usize, result: &RunResult) {
        let outcome = match (&result.metrics, &result.diagnostics.status) {
            (Some(m), _) => format!(
                "test accuracy {:.2} % {}{}",
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
        self.line(format!(
            "[{done}/{total}] {} ({}): {outcome} in {:.1} s",
            result.run.id,
            result.run.params.describe(),
            result.diagnostics.fit_seconds
        ));
        if let Some((_, overall)) = &self.bars {
            overall.inc(1);
        }
    }

    pub(super) fn done(&self) {
        if let Some((_, overall)) = &self.bars {
            overall.finish_and_clear();
        }
    }
}
