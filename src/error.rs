//! The harness's error type: every variant renders as one line that names the file, key or value
//! at fault and says what to do about it.
//!
//! May touch: `text` (nothing else: every module may use it).

use std::path::PathBuf;

/// Anything that stops a sweep before or while it writes results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The experiment config is missing, unreadable or invalid.
    #[error("{}{}: {message}", file.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Config {
        file: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// A vendored MNIST file is missing, truncated, of the wrong kind or corrupt.
    #[error("{}: {message}", file.display())]
    Data { file: PathBuf, message: String },
    /// A results folder named on the command line cannot be used: it cannot be created or
    /// written, holds nothing to report, or does not exist to merge from.
    #[error("{}: {message}", path.display())]
    Folder { path: PathBuf, message: String },
    /// A saved model (`model.npz`) is missing, of another format version, or damaged.
    #[error("{}: {message}", path.display())]
    Model { path: PathBuf, message: String },
    /// An image given to `predict` cannot be read or holds no digit.
    #[error("{}: {message}", path.display())]
    Image { path: PathBuf, message: String },
    /// A result file or folder could not be written while the sweep ran.
    #[error("{}: {message}", path.display())]
    Output { path: PathBuf, message: String },
    /// linfa rejected a fit before starting it (bad hyperparameters or data).
    #[error("run {run_id}: {message}")]
    Fit { run_id: String, message: String },
}

/// The harness's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An output error from an I/O failure, with a hint on what to check.
    pub fn output(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        Error::Output {
            path: path.into(),
            message: format!(
                "{err} (check that the folder exists and is writable, or pass --out DIR)"
            ),
        }
    }

    /// A fit error for `run_id` from a stage's typed error (linfa's, a scaler's, a split's).
    pub fn fit(run_id: &str, err: impl std::fmt::Display) -> Self {
        Error::Fit {
            run_id: run_id.to_string(),
            message: err.to_string(),
        }
    }

    /// The message on one line: control characters (a newline in a file name or a value) are
    /// escaped, so a config cannot print a second line, let alone forge one.
    pub fn one_line(&self) -> String {
        crate::text::escaped(&self.to_string())
    }

    /// The process exit code (the README's table): 2 for input the user can fix (config, data,
    /// a results folder named on the command line, a model or image given to `predict`), 1 for
    /// a failure while running (a write, a fit linfa rejected).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config { .. }
            | Error::Data { .. }
            | Error::Folder { .. }
            | Error::Model { .. }
            | Error::Image { .. } => 2,
            Error::Output { .. } | Error::Fit { .. } => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_onto_one_line() {
        let e = Error::Config {
            file: PathBuf::from("a\nerror: forged.toml"),
            line: Some(3),
            message: "C = \"1\r\n\"".into(),
        };
        assert_eq!(
            e.one_line(),
            "a\\nerror: forged.toml line 3: C = \"1\\r\\n\""
        );
    }
}
