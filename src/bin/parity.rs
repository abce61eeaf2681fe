//! `parity CONFIG... [--out DIR]`: compare the harness with scikit-learn and the published
//! numbers, run by run, and write `DIR/parity.md`, `DIR/parity.csv` and the index of every
//! results folder, `DIR/README.md`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mnist_logreg::cli;
use mnist_logreg::config::Config;

/// Compare the results of `sweep` and `scripts/sklearn_reference.py` for the given configs.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Experiment configs whose results to compare, e.g. experiments/notebook-*.toml.
    #[arg(required = true)]
    configs: Vec<PathBuf>,
    /// Results root folder (both sides' results are read from it; the report is written to it).
    #[arg(long, default_value = "results")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args: Args = match cli::parse("parity") {
        Ok(args) => args,
        Err(code) => return code,
    };
    let result = args
        .configs
        .iter()
        .map(|p| Config::load(p))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|configs| mnist_logreg::parity::run(&configs, &args.out));
    match result {
        Ok(rows) => {
            eprintln!(
                "{} runs compared -> {}",
                rows.len(),
                args.out.join("parity.md").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => cli::fail(&e),
    }
}
