//! A results folder as a capability: every file the binaries read, write or delete under a
//! results root goes through one [`Folder`], a `cap_std::fs::Dir` handle opened on the root.
//! Paths are relative and resolved one component at a time without following symbolic links
//! (`open_dir_nofollow`, `O_NOFOLLOW`), so no operation can leave the folder: not through `..`,
//! an absolute path or a link planted anywhere inside it. A link where the harness keeps a
//! folder is refused with an error that names it; a link where it writes a file is replaced as
//! a link (the rename replaces the entry, never what it points to); a link it deletes is removed
//! as a link. Files are written through a temporary file in their folder and renamed into place
//! (a reader never sees half a file), readable by the group and others as the umask allows.
//!
//! May touch: `error`.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};

use crate::error::{Error, Result};

/// The largest file the harness reads back from a results folder (a model of 784 x 10 f64
/// weights is 63 KB; predictions of 70,000 images about 1 MB).
pub const READ_CAP: u64 = 64 << 20;

/// The prefix of temporary files; a process killed mid-write leaves one, which the next
/// exclusive holder of the folder's lock removes.
pub const TEMP_PREFIX: &str = ".tmp-";

/// What an entry of the folder is, not following a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    File,
    Dir,
    Link,
    /// A FIFO, socket or device: never read or written.
    Other,
}

/// A results root opened as a capability (see the module header).
#[derive(Debug)]
pub struct Folder {
    dir: Dir,
    root: PathBuf,
}

/// The message for a symbolic link where the harness keeps a folder or file.
fn link_refused(path: &Path) -> Error {
    Error::Folder {
        path: path.to_path_buf(),
        message: "a symbolic link inside the results folder: the harness never follows links \
                  there (it writes and deletes only inside the folder); remove the link"
            .into(),
    }
}

/// The relative path's components, all plain names (no `..`, root or prefix).
fn names(rel: &Path) -> io::Result<Vec<&OsStr>> {
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a path that leaves the results folder",
            )),
        })
        .collect()
}

impl Folder {
    /// Opens an existing results root (the root itself is the user's choice and may be a link;
    /// nothing inside it is followed).
    pub fn open(root: &Path) -> Result<Folder> {
        let dir = Dir::open_ambient_dir(root, cap_std::ambient_authority()).map_err(|e| {
            Error::Folder {
                path: root.to_path_buf(),
                message: format!("{e} (check that the folder exists, or pass --out DIR)"),
            }
        })?;
        Ok(Folder {
            dir,
            root: root.to_path_buf(),
        })
    }

    /// Creates the results root if needed and opens it.
    pub fn create(root: &Path) -> Result<Folder> {
        std::fs::create_dir_all(root).map_err(|e| Error::Folder {
            path: root.to_path_buf(),
            message: format!(
                "{e} (check that the folder exists and is writable, or pass --out DIR)"
            ),
        })?;
        Folder::open(root)
    }

    /// The root as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A relative path as the user sees it (for messages).
    pub fn display(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }

    /// The folder holding `rel`'s last component, opened without following links (created
    /// where `create`), and that component. `Ok(None)` when a folder on the way is missing.
    fn parent(&self, rel: &Path, create: bool) -> Result<Option<(Dir, std::ffi::OsString)>> {
        let parts = names(rel).map_err(|e| Error::output(self.display(rel), e))?;
        let Some((last, folders)) = parts.split_last() else {
            return Err(Error::output(self.display(rel), "not a file name"));
        };
        let mut dir = self
            .dir
            .try_clone()
            .map_err(|e| Error::output(&self.root, e))?;
        let mut walked = PathBuf::new();
        for name in folders {
            walked.push(name);
            match self.kind_in(&dir, name) {
                Some(Kind::Dir) => {}
                Some(Kind::Link) => return Err(link_refused(&self.display(&walked))),
                Some(_) => {
                    return Err(Error::output(
                        self.display(&walked),
                        "not a folder where the harness keeps one",
                    ))
                }
                None if create => match dir.create_dir(name) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(Error::output(self.display(&walked), e)),
                },
                None => return Ok(None),
            }
            dir = dir.open_dir_nofollow(name).map_err(|e| {
                if self.kind_in(&dir, name) == Some(Kind::Link) {
                    link_refused(&self.display(&walked))
                } else {
                    Error::output(self.display(&walked), e)
                }
            })?;
        }
        Ok(Some((dir, last.to_os_string())))
    }

    /// Whether `name` in `dir` is a plain file (`false`: nothing is there); a link, folder,
    /// FIFO or device in its place is an error naming `shown`.
    fn plain_file_or_absent(&self, dir: &Dir, name: &OsStr, shown: &Path) -> Result<bool> {
        match self.kind_in(dir, name) {
            None => Ok(false),
            Some(Kind::File) => Ok(true),
            Some(Kind::Link) => Err(link_refused(shown)),
            Some(_) => Err(Error::Folder {
                path: shown.to_path_buf(),
                message: "not a plain file where the harness keeps one; remove it".into(),
            }),
        }
    }

    fn kind_in(&self, dir: &Dir, name: &OsStr) -> Option<Kind> {
        let meta = dir.symlink_metadata(name).ok()?;
        let kind = meta.file_type();
        Some(if kind.is_symlink() {
            Kind::Link
        } else if kind.is_dir() {
            Kind::Dir
        } else if kind.is_file() {
            Kind::File
        } else {
            Kind::Other
        })
    }

    /// What `rel` is, without following links; `None` where it (or a folder on the way, or a
    /// link on the way) is not there.
    pub fn kind(&self, rel: &Path) -> Option<Kind> {
        if names(rel).ok()?.is_empty() {
            return Some(Kind::Dir);
        }
        let (dir, name) = self.parent(rel, false).ok()??;
        self.kind_in(&dir, &name)
    }

    /// Whether `rel` is a plain file (not a link to one).
    pub fn is_file(&self, rel: &Path) -> bool {
        self.kind(rel) == Some(Kind::File)
    }

    /// Whether `rel` is a plain folder (not a link to one).
    pub fn is_dir(&self, rel: &Path) -> bool {
        self.kind(rel) == Some(Kind::Dir)
    }

    /// Writes `bytes` to `rel` atomically: a temporary file in the same folder, renamed into
    /// place. A file that already holds exactly these bytes is left alone (a redraw that changes
    /// nothing writes nothing); returns whether the file changed.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> Result<bool> {
        if let Ok(Some(old)) = self.read(rel) {
            if old == bytes {
                return Ok(false);
            }
        }
        let shown = self.display(rel);
        let (dir, name) = self.parent(rel, true)?.expect("created");
        if self.kind_in(&dir, &name) == Some(Kind::Dir) {
            return Err(Error::output(
                &shown,
                "a folder where the harness writes a file; move it away",
            ));
        }
        let suffix = Path::new(&name)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let (tmp_name, mut file) =
            create_temp(&dir, &suffix).map_err(|e| Error::output(&shown, e))?;
        let written = file
            .write_all(bytes)
            .and_then(|_| file.sync_data())
            .and_then(|_| dir.rename(&tmp_name, &dir, &name))
            .map_err(|e| Error::output(&shown, e));
        if written.is_err() {
            let _ = dir.remove_file(&tmp_name);
        }
        written.map(|_| true)
    }

    /// Reads `rel`, a plain file of at most [`READ_CAP`] bytes; `Ok(None)` where it is not
    /// there. A link, FIFO or device in its place is an error, never followed or waited on.
    pub fn read(&self, rel: &Path) -> Result<Option<Vec<u8>>> {
        let shown = self.display(rel);
        let Some((dir, name)) = self.parent(rel, false)? else {
            return Ok(None);
        };
        if !self.plain_file_or_absent(&dir, &name, &shown)? {
            return Ok(None);
        }
        let mut options = OpenOptions::new();
        options.read(true).follow(FollowSymlinks::No);
        options.custom_flags(libc_nonblock());
        let file = dir
            .open_with(&name, &options)
            .map_err(|e| Error::output(&shown, e))?;
        read_capped(file.into_std(), READ_CAP)
            .map(Some)
            .map_err(|e| Error::Folder {
                path: shown,
                message: e.to_string(),
            })
    }

    /// The entries of the folder `rel` (name and kind, links not followed), sorted; empty where
    /// it is not a plain folder.
    pub fn list(&self, rel: &Path) -> Vec<(String, Kind)> {
        let dir = if names(rel).map_or(true, |n| n.is_empty()) {
            self.dir.try_clone().ok()
        } else {
            match self.parent(rel, false) {
                Ok(Some((dir, name))) if self.kind_in(&dir, &name) == Some(Kind::Dir) => {
                    dir.open_dir_nofollow(&name).ok()
                }
                _ => None,
            }
        };
        let Some(dir) = dir else {
            return Vec::new();
        };
        let mut entries: Vec<(String, Kind)> = dir
            .entries()
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        let kind = self.kind_in(&dir, OsStr::new(&name))?;
                        Some((name, kind))
                    })
                    .collect()
            })
            .unwrap_or_default();
        entries.sort();
        entries
    }

    /// Removes the entry `rel` if it is there: a file or a link (as a link), or a folder with
    /// everything in it (links inside removed as links).
    pub fn remove(&self, rel: &Path) -> Result<()> {
        let shown = self.display(rel);
        let Some((dir, name)) = self.parent(rel, false)? else {
            return Ok(());
        };
        let removed = match self.kind_in(&dir, &name) {
            None => Ok(()),
            Some(Kind::Dir) => dir.remove_dir_all(&name),
            Some(_) => dir.remove_file_or_symlink(&name),
        };
        match removed {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::output(&shown, e)),
            _ => Ok(()),
        }
    }

    /// Removes the folder `rel` if it is empty (and there).
    pub fn remove_empty_dir(&self, rel: &Path) {
        if let Ok(Some((dir, name))) = self.parent(rel, false) {
            if self.kind_in(&dir, &name) == Some(Kind::Dir) {
                let _ = dir.remove_dir(&name);
            }
        }
    }

    /// Opens (creating) the plain file `rel` for reading and writing, for a lock; a link in its
    /// place is refused.
    pub fn open_lock_file(&self, rel: &Path) -> Result<std::fs::File> {
        let shown = self.display(rel);
        let (dir, name) = self.parent(rel, true)?.expect("created");
        self.plain_file_or_absent(&dir, &name, &shown)?;
        let mut options = OpenOptions::new();
        options
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .follow(FollowSymlinks::No);
        options.custom_flags(libc_nonblock());
        dir.open_with(&name, &options)
            .map(|f| f.into_std())
            .map_err(|e| Error::output(&shown, e))
    }

    /// Removes temporary files ([`TEMP_PREFIX`]) left anywhere in the folder by a process killed
    /// mid-write. Links are not followed.
    pub fn remove_temporaries(&self, rel: &Path) -> Result<()> {
        for (name, kind) in self.list(rel) {
            let path = rel.join(&name);
            match kind {
                Kind::Dir => self.remove_temporaries(&path)?,
                Kind::File if name.starts_with(TEMP_PREFIX) => self.remove(&path)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether a plain file can be created in the root (before any work is done).
    pub fn check_writable(&self) -> Result<()> {
        let (name, file) = create_temp(&self.dir, "").map_err(|e| Error::Folder {
            path: self.root.clone(),
            message: format!(
                "{e} (check that the folder exists and is writable, or pass --out DIR)"
            ),
        })?;
        drop(file);
        let _ = self.dir.remove_file(name);
        Ok(())
    }
}

/// `O_NONBLOCK`: opening a FIFO never waits for a writer.
fn libc_nonblock() -> i32 {
    #[cfg(target_os = "linux")]
    {
        0o4000
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        0x0004
    }
}

/// Creates a new temporary file (`.tmp-<unique><suffix>`, mode 0666 less the umask) in `dir`.
fn create_temp(dir: &Dir, suffix: &str) -> io::Result<(String, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "{TEMP_PREFIX}{}-{}-{nanos:x}{suffix}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut options = OpenOptions::new();
        options
            .write(true)
            .create_new(true)
            .follow(FollowSymlinks::No);
        options.mode(0o666);
        match dir.open_with(&name, &options) {
            Ok(file) => return Ok((name, file.into_std())),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reads an open file of at most `cap` bytes: a plain file only (a FIFO, socket or device is
/// refused at once), and never more than `cap + 1` bytes whatever it claims.
pub fn read_capped(file: std::fs::File, cap: u64) -> io::Result<Vec<u8>> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a plain file (a folder, FIFO, socket or device): name a file",
        ));
    }
    if meta.len() > cap {
        return Err(too_large(cap));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(bytes)
}

fn too_large(cap: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "larger than the {} MiB the harness reads: is this the right file?",
            cap >> 20
        ),
    )
}

/// Reads a user's input file (a config, an image, a model) of at most `cap` bytes: the path may
/// be a link the user made, but what it names must be a plain file; a FIFO or device is refused
/// at once instead of blocking or growing without bound.
pub fn read_input(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_nonblock())
        .open(path)?;
    read_capped(file, cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, Folder, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("results");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("victim"), b"mine").unwrap();
        let folder = Folder::create(&root).unwrap();
        (tmp, folder, outside)
    }

    #[test]
    fn writes_reads_and_removes_inside() {
        let (_tmp, f, _) = setup();
        f.write(Path::new("a/b/c.txt"), b"hello").unwrap();
        assert_eq!(f.read(Path::new("a/b/c.txt")).unwrap().unwrap(), b"hello");
        assert!(f.is_file(Path::new("a/b/c.txt")));
        assert!(f.is_dir(Path::new("a/b")));
        assert_eq!(f.list(Path::new("a/b")), vec![("c.txt".into(), Kind::File)]);
        f.remove(Path::new("a")).unwrap();
        assert_eq!(f.kind(Path::new("a")), None);
        assert_eq!(f.read(Path::new("a/b/c.txt")).unwrap(), None);
    }

    #[test]
    fn never_leaves_the_folder() {
        let (_tmp, f, outside) = setup();
        for rel in ["../outside/victim", "/etc/passwd", "a/../../outside/victim"] {
            assert!(f.write(Path::new(rel), b"x").is_err(), "{rel}");
            assert!(f.read(Path::new(rel)).is_err(), "{rel}");
        }
        // A link to a folder outside, where the harness keeps a folder: refused.
        symlink(&outside, f.root().join("runs")).unwrap();
        let err = f.write(Path::new("runs/victim"), b"x").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(f.read(Path::new("runs/victim")).is_err());
        assert!(f.list(Path::new("runs")).is_empty());
        // Removing it removes the link only.
        f.remove(Path::new("runs")).unwrap();
        assert_eq!(std::fs::read(outside.join("victim")).unwrap(), b"mine");
        // A link to a file outside, where the harness writes a file: replaced as a link.
        symlink(outside.join("victim"), f.root().join("metrics.csv")).unwrap();
        assert!(f.read(Path::new("metrics.csv")).is_err());
        f.write(Path::new("metrics.csv"), b"ours").unwrap();
        assert_eq!(std::fs::read(outside.join("victim")).unwrap(), b"mine");
        assert_eq!(f.read(Path::new("metrics.csv")).unwrap().unwrap(), b"ours");
        // A link as the lock: refused.
        symlink(outside.join("victim"), f.root().join(".lock")).unwrap();
        assert!(f.open_lock_file(Path::new(".lock")).is_err());
        assert_eq!(std::fs::read(outside.join("victim")).unwrap(), b"mine");
    }

    #[test]
    fn fifos_are_refused_at_once() {
        let (_tmp, f, outside) = setup();
        let fifo = f.root().join("run.json");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        assert!(f.read(Path::new("run.json")).is_err());
        let fifo2 = outside.join("config.toml");
        std::process::Command::new("mkfifo")
            .arg(&fifo2)
            .status()
            .unwrap();
        let err = read_input(&fifo2, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("not a plain file"), "{err}");
        let err = read_input(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("not a plain file"), "{err}");
    }

    #[test]
    fn temporaries_are_removed_and_large_files_refused() {
        let (_tmp, f, _) = setup();
        std::fs::create_dir_all(f.root().join("runs/x")).unwrap();
        std::fs::write(f.root().join("runs/x/.tmp-1-2-3.json"), b"half").unwrap();
        std::fs::write(f.root().join("runs/x/run.json"), b"{}").unwrap();
        f.remove_temporaries(Path::new("")).unwrap();
        assert_eq!(
            f.list(Path::new("runs/x")),
            vec![("run.json".into(), Kind::File)]
        );
        let big = f.root().join("big");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(READ_CAP + 1)
            .unwrap();
        assert!(f.read(Path::new("big")).is_err());
    }
}
