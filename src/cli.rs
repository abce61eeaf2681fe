//! What the binaries share: command lines parsed by clap with errors on one line, and errors
//! printed as one line with the README's exit code.
//!
//! May touch: `error`.

use std::process::ExitCode;

use crate::error::Error;

/// Parses the command line into `T`. `--help` and `--version` print clap's text and give
/// `Err(success)`; a bad command line prints one line (clap's message without its usage block,
/// pointing at `TOOL --help`) and gives `Err(2)`.
pub fn parse<T: clap::Parser>(tool: &str) -> Result<T, ExitCode> {
    match T::try_parse() {
        Ok(args) => Ok(args),
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            let text = e.to_string();
            let message = text
                .lines()
                .take_while(|line| !line.starts_with("Usage:"))
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("error: {message} (see `{tool} --help`)");
            Err(ExitCode::from(2))
        }
    }
}

/// The exit code of a failure while running (README: exit codes), such as a failed fit.
pub const EXIT_FAILURE: u8 = 1;

/// Prints `error: ...` on one line and gives the error's exit code.
pub fn fail(e: &Error) -> ExitCode {
    eprintln!("error: {}", e.one_line());
    ExitCode::from(e.exit_code() as u8)
}
