//! Helpers shared by the stages that write: temporary files that follow the umask (for the data
//! cache; results go through [`crate::folder`]), SHA-256 digests, CSV rows serialised the same
//! way everywhere.
//!
//! May touch: `error`.

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// A temporary file in `dir` (named `.tmp-*<suffix>`), created with mode 0666 less the umask,
/// like any file a program creates, instead of tempfile's private 0600: it keeps that mode when
/// renamed into place.
pub fn temp_file_in(dir: &Path, suffix: &str) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-").suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// CSV text of `rows` (a header from the first row's field names; nothing for no rows).
pub fn csv_bytes<T: Serialize>(path: &Path, rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(|e| Error::output(path, e))?;
    }
    w.into_inner().map_err(|e| Error::output(path, e.error()))
}
