//! `sweep <config> [SECTION.KEY=VALUE...] [--jobs N] [--dry-run] [--plan] [--out DIR] [--force]
//! [--shard I/N] [--separate-fits] [--report-only] [--merge DIR...] [--prune [--yes]]`: run an experiment grid and write its results
//! under `<out>/<name>/` (`<out>/<name>+<overrides>+<digest>/` with overrides).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mnist_logreg::config::{Config, Override};
use mnist_logreg::report::Reference;
use mnist_logreg::sweep::{self, Shard, SweepOptions};
use mnist_logreg::{cli, text};

/// Fit linfa logistic regression on MNIST over the grid in CONFIG and write metrics, charts and
/// a README under OUT/<name>/. Runs finished earlier (same parameters, same data) are reused, so
/// an interrupted sweep resumes where it stopped.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Experiment config (TOML), e.g. experiments/lbfgs.toml.
    config: PathBuf,
    /// Overrides of the config's keys, SECTION.KEY=VALUE, e.g. model.C=0.1,1,10 or
    /// split.train_size=0.5 or 'model.C={ logspace = [-4, 2], num = 7 }'; their results go to
    /// OUT/<name>+<overrides>+<digest>/.
    #[arg(value_name = "SECTION.KEY=VALUE")]
    overrides: Vec<Override>,
    /// Number of runs fitted at the same time.
    #[arg(long, short, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    /// Print the expanded grid and exit without fitting.
    #[arg(long)]
    dry_run: bool,
    /// Print the expanded grid as JSON (run ids and every parameter by name) and exit: what
    /// scripts/sklearn_reference.py runs.
    #[arg(long, conflicts_with = "dry_run")]
    plan: bool,
    /// Results root folder.
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Print only errors.
    #[arg(long, short)]
    quiet: bool,
    /// Refit runs that already have a record instead of reusing them.
    #[arg(long)]
    force: bool,
    /// Write into a results folder that holds another config's results, taking it over.
    #[arg(long, conflicts_with_all = ["dry_run", "plan"])]
    adopt: bool,
    /// Fit only shard I of N (0-based; run i of the grid belongs to shard i mod N).
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    shard: Option<Shard>,
    /// List the runs in the results folder that this grid no longer has (with --yes: delete them
    /// and redraw the report).
    #[arg(long, conflicts_with_all = ["force", "shard", "merge", "dry_run", "plan"])]
    prune: bool,
    /// With --prune: delete the listed runs.
    #[arg(long, requires = "prune")]
    yes: bool,
    /// Fit every run on its own, also runs that differ only in max_iter (which otherwise share
    /// one fit): the same results in more time, the work scikit-learn does (for benchmarks).
    #[arg(long, conflicts_with_all = ["dry_run", "plan"])]
    separate_fits: bool,
    /// Redraw the tables, charts and README from the records already written; fit nothing.
    #[arg(long, conflicts_with_all = ["force", "shard", "merge", "dry_run", "plan"])]
    report_only: bool,
    /// Merge the results of shards (each a shard's --out folder, or the <name> folder in it) into
    /// OUT/<name>/.
    #[arg(long, value_name = "DIR", num_args = 1.., conflicts_with_all = ["force", "shard", "dry_run", "plan"])]
    merge: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = match cli::parse("sweep") {
        Ok(args) => args,
        Err(code) => return code,
    };
    let config = match Config::load_with(&args.config, &args.overrides) {
        Ok(config) => config,
        Err(e) => return cli::fail(&e),
    };
    if !args.overrides.is_empty() && !args.quiet && !args.plan {
        eprintln!(
            "overrides: {}; results go to {}/ (the edited config is in its manifest.json)",
            args.overrides
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            args.out.join(&config.name).display()
        );
    }
    if args.prune {
        let options = SweepOptions {
            out: args.out.clone(),
            quiet: true,
            adopt: args.adopt,
            ..SweepOptions::default()
        };
        return prune(&config, &options, args.yes);
    }
    if args.dry_run {
        print!("{}", sweep::describe_grid(&config, &args.out));
        return ExitCode::SUCCESS;
    }
    if args.plan {
        println!("{}", sweep::plan_json(&config));
        return ExitCode::SUCCESS;
    }
    let jobs = usize::from(args.jobs);
    let options = SweepOptions {
        out: args.out,
        jobs,
        quiet: args.quiet,
        force: args.force,
        shard: args.shard,
        adopt: args.adopt,
        shared_fits: !args.separate_fits,
        ..SweepOptions::default()
    };
    let outcome = if args.report_only {
        sweep::report_only(&config, &options)
    } else if !args.merge.is_empty() {
        sweep::merge(&config, &args.merge, &options)
    } else {
        sweep::run(&config, &options)
    };
    match outcome {
        Ok(outcome) => {
            let failed = outcome
                .results
                .iter()
                .filter(|r| r.metrics.is_none())
                .count();
            if !args.quiet {
                eprintln!(
                    "{} of {} runs finished ({} fitted now, {failed} failed) in {:.1} s; results in {}/ (README.md)",
                    outcome.results.len(),
                    config.runs.len(),
                    outcome.fitted,
                    outcome.seconds,
                    outcome.results_dir.display()
                );
                if let Some(Ok(reference)) = Reference::read(&outcome.results_dir) {
                    eprintln!("{}", reference.summary(&outcome.results_dir));
                }
            }
            // A failed fit is a failure while running (README: exit codes), though the report
            // of the others is written.
            if failed > 0 {
                ExitCode::from(cli::EXIT_FAILURE)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => cli::fail(&e),
    }
}

/// `--prune`: lists (or with `--yes` deletes) the runs the grid no longer has, then redraws.
fn prune(config: &Config, options: &SweepOptions, yes: bool) -> ExitCode {
    let pruned = match sweep::prune(config, options, yes) {
        Ok(pruned) => pruned,
        Err(e) => return cli::fail(&e),
    };
    if pruned.stale.is_empty() {
        eprintln!(
            "{}/: every run folder belongs to this grid; nothing to prune",
            options.out.join(&config.name).display()
        );
        return ExitCode::SUCCESS;
    }
    for path in &pruned.stale {
        println!("{}", text::escaped(&path.display().to_string()));
    }
    if pruned.deleted {
        eprintln!(
            "deleted {} run(s) and redrew the report",
            pruned.stale.len()
        );
    } else {
        eprintln!(
            "{} run(s) above are not in this grid; rerun with --prune --yes to delete them",
            pruned.stale.len()
        );
    }
    ExitCode::SUCCESS
}
