//! File-system helpers shared by the stages that write: every file is written to a temporary
//! file in its folder and renamed into place (a reader never sees half a file), readable by the
//! group and others as the umask allows (results and caches live on shared file systems); CSV
//! rows serialised the same way everywhere.
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

/// The SHA-256 of a file's bytes, in hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    Ok(sha256_hex(&std::fs::read(path)?))
}

/// Writes `path` through a temporary file in the same folder: `write` gets the temporary path.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let suffix = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tmp = temp_file_in(dir, &suffix).map_err(|e| Error::output(dir, e))?;
    write(tmp.path())?;
    tmp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    Ok(())
}

/// Writes bytes to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|e| Error::output(tmp, e))
    })
}

/// Removes a file that is no longer part of the results, if it exists.
pub fn remove_stale(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::output(path, e)),
        _ => Ok(()),
    }
}

/// CSV text of `rows` (a header from the first row's field names; nothing for no rows).
pub fn csv_bytes<T: Serialize>(path: &Path, rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(|e| Error::output(path, e))?;
    }
    w.into_inner().map_err(|e| Error::output(path, e.error()))
}
