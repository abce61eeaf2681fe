//! `sweep <config> [--jobs N] [--dry-run] [--out DIR]`: run an experiment grid and write its
//! results under `<out>/<name>/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mnist_logreg::config::Config;
use mnist_logreg::sweep::{self, SweepOptions};

/// Fit linfa logistic regression on MNIST over the grid in CONFIG and write metrics, confusion
/// matrices and a summary under OUT/<name>/.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Experiment config (TOML), e.g. experiments/lbfgs.toml.
    config: PathBuf,
    /// Number of runs fitted at the same time.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    /// Print the expanded grid and exit without fitting.
    #[arg(long)]
    dry_run: bool,
    /// Results root folder.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Print only errors.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    if args.dry_run {
        print!("{}", sweep::describe_grid(&config));
        return ExitCode::SUCCESS;
    }
    let jobs = usize::from(args.jobs);
    if jobs > 1 && std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        // Share the cores between parallel fits instead of oversubscribing them.
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        std::env::set_var("MATMUL_NUM_THREADS", (cores / jobs).max(1).to_string());
    }
    let options = SweepOptions {
        out: args.out,
        jobs,
        quiet: args.quiet,
        ..SweepOptions::default()
    };
    match sweep::run(&config, &options) {
        Ok(outcome) => {
            if !args.quiet {
                let failed = outcome
                    .results
                    .iter()
                    .filter(|r| r.metrics.is_none())
                    .count();
                eprintln!(
                    "{} runs ({failed} failed) in {:.1} s; results in {}/ (summary.md)",
                    outcome.results.len(),
                    outcome.seconds,
                    outcome.results_dir.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn fail(e: mnist_logreg::Error) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(e.exit_code() as u8)
}
