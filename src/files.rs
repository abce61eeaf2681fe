//! File-system helpers shared by the stages that write: temporary files that end up readable by
//! the group and others as the umask allows (results and caches live on shared file systems).

use std::io;
use std::path::Path;

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
