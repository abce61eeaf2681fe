//! Loading the vendored MNIST files, safely.
//!
//! The repository vendors the four IDX files gzipped (`data/mnist/*.gz`). The `mnist` crate reads
//! only uncompressed files and panics on a missing, short or wrong file, so this module
//! decompresses once into a cache folder, checks size, magic number, count and the pinned SHA-256
//! of every file first, and only then hands the cache to the crate. Every problem becomes an
//! [`Error::Data`] naming the file and saying what to do.
//!
//! May touch: `config` (the `[data]` section), `digits`, `error`, `files`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::files::sha256_hex;
use ndarray::Array2;

use crate::config::DataConfig;
use crate::digits::{MNIST_LEN, N_PIXELS};
use crate::error::{Error, Result};

/// One IDX file as the pipeline expects it.
struct IdxFile {
    name: &'static str,
    magic: u32,
    count: u32,
    header_len: usize,
    item_len: usize,
    sha256: &'static str,
}

impl IdxFile {
    fn expected_len(&self) -> usize {
        self.header_len + self.count as usize * self.item_len
    }
}

/// The four files, with the SHA-256 of their decompressed bytes (see data/mnist/README.md).
const FILES: [IdxFile; 4] = [
    IdxFile {
        name: "train-images.idx3-ubyte",
        magic: 2051,
        count: 60_000,
        header_len: 16,
        item_len: N_PIXELS,
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    IdxFile {
        name: "train-labels.idx1-ubyte",
        magic: 2049,
        count: 60_000,
        header_len: 8,
        item_len: 1,
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    IdxFile {
        name: "t10k-images.idx3-ubyte",
        magic: 2051,
        count: 10_000,
        header_len: 16,
        item_len: N_PIXELS,
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    IdxFile {
        name: "t10k-labels.idx1-ubyte",
        magic: 2049,
        count: 10_000,
        header_len: 8,
        item_len: 1,
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const RESTORE: &str = "restore the vendored files with `git checkout -- data/mnist`";

/// The images in scikit-learn's `fetch_openml('mnist_784')` order: 60,000 training images, then
/// 10,000 test images (or the first `subsample` of them).
#[derive(Debug, Clone)]
pub struct Mnist {
    /// One row of 784 pixels (0..255) per image.
    pub images: Array2<u8>,
    /// Digit 0..9 per image.
    pub labels: Vec<u8>,
    /// SHA-256 over the four files' pinned checksums and the subsample: identifies the data.
    pub checksum: String,
}

fn data_error(file: &Path, message: impl Into<String>) -> Error {
    Error::Data {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

/// Checks decompressed IDX bytes: not gzip, right size, magic number, count, checksum.
fn validate_idx(file: &IdxFile, path: &Path, bytes: &[u8]) -> Result<()> {
    if bytes.starts_with(&GZIP_MAGIC) {
        return Err(data_error(
            path,
            format!("is gzip-compressed but an uncompressed IDX file was expected: {RESTORE}"),
        ));
    }
    if bytes.len() != file.expected_len() {
        return Err(data_error(
            path,
            format!(
                "expected {} bytes, found {} (truncated or not {}): {RESTORE}",
                file.expected_len(),
                bytes.len(),
                file.name
            ),
        ));
    }
    let word = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != file.magic {
        return Err(data_error(
            path,
            format!(
                "wrong magic number {} (expected {} for {}): {RESTORE}",
                word(0),
                file.magic,
                file.name
            ),
        ));
    }
    if word(4) != file.count {
        return Err(data_error(
            path,
            format!(
                "header says {} items, expected {}: {RESTORE}",
                word(4),
                file.count
            ),
        ));
    }
    let digest = sha256_hex(bytes);
    if digest != file.sha256 {
        return Err(data_error(
            path,
            format!(
                "SHA-256 is {digest}, expected {}: the file is corrupt; {RESTORE}",
                file.sha256
            ),
        ));
    }
    Ok(())
}

/// Reads `<dir>/<name>.gz`, decompresses and validates it.
fn decompress(file: &IdxFile, dir: &Path) -> Result<Vec<u8>> {
    let gz_path = dir.join(format!("{}.gz", file.name));
    let compressed = std::fs::read(&gz_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            data_error(&gz_path, format!("missing: {RESTORE}, or set [data] dir"))
        }
        _ => data_error(&gz_path, format!("cannot read: {e}")),
    })?;
    if !compressed.starts_with(&GZIP_MAGIC) {
        let hint = if compressed.len() >= 4
            && u32::from_be_bytes(compressed[..4].try_into().expect("4 bytes")) == file.magic
        {
            "it is an uncompressed IDX file; compress it with `gzip -9 -n`, or "
        } else {
            ""
        };
        return Err(data_error(
            &gz_path,
            format!("is not gzip-compressed: {hint}{RESTORE}"),
        ));
    }
    let mut bytes = Vec::with_capacity(file.expected_len());
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_end(&mut bytes)
        .map_err(|e| {
            data_error(
                &gz_path,
                format!("corrupt or truncated gzip data ({e}): {RESTORE}"),
            )
        })?;
    validate_idx(file, &gz_path, &bytes)?;
    Ok(bytes)
}

/// A temporary cache file untouched for this long was left by a killed load (writing one takes
/// well under a second); younger ones may belong to another process loading right now.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes the `.tmp-*` files a killed first load left in the cache folder (best effort; links
/// are not followed).
fn remove_abandoned_temporaries(cache: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let abandoned = entry.file_name().to_string_lossy().starts_with(".tmp-")
            && entry.file_type().is_ok_and(|t| t.is_file())
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= ABANDONED_AFTER));
        if abandoned {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Makes sure `<cache>/<name>` holds the validated, uncompressed file.
fn ensure_cached(file: &IdxFile, dir: &Path, cache: &Path) -> Result<()> {
    let path = cache.join(file.name);
    if let Ok(bytes) = std::fs::read(&path) {
        if validate_idx(file, &path, &bytes).is_ok() {
            return Ok(());
        }
        // A stale or damaged cache entry is rebuilt from the vendored file below.
    }
    let bytes = decompress(file, dir)?;
    std::fs::create_dir_all(cache).map_err(|e| {
        data_error(
            cache,
            format!("cannot create the cache folder: {e}; set [data] cache_dir"),
        )
    })?;
    remove_abandoned_temporaries(cache);
    let mut tmp = crate::files::temp_file_in(cache, "").map_err(|e| {
        data_error(
            cache,
            format!("cannot write the cache: {e}; set [data] cache_dir"),
        )
    })?;
    tmp.write_all(&bytes)
        .and_then(|_| tmp.flush())
        .map_err(|e| data_error(&path, format!("cannot write the cache: {e}")))?;
    tmp.persist(&path)
        .map_err(|e| data_error(&path, format!("cannot write the cache: {e}")))?;
    Ok(())
}

/// Loads MNIST as configured: validates (and if needed decompresses) the files, reads them with
/// the `mnist` crate, and keeps the first `subsample` images.
pub fn load(config: &DataConfig) -> Result<Mnist> {
    if !config.dir.is_dir() {
        return Err(data_error(
            &config.dir,
            format!("the MNIST folder is missing: run from the repository root, {RESTORE}, or set [data] dir"),
        ));
    }
    for file in &FILES {
        ensure_cached(file, &config.dir, &config.cache_dir)?;
    }
    let base = config.cache_dir.to_str().ok_or_else(|| {
        data_error(
            &config.cache_dir,
            "the path is not valid UTF-8; set [data] cache_dir",
        )
    })?;
    // Every file was validated above, so the crate's panics cannot fire.
    let raw = mnist::MnistBuilder::new()
        .base_path(base)
        .training_images_filename(FILES[0].name)
        .training_labels_filename(FILES[1].name)
        .test_images_filename(FILES[2].name)
        .test_labels_filename(FILES[3].name)
        .training_set_length(60_000)
        .validation_set_length(0)
        .test_set_length(10_000)
        .finalize();

    let n = config.n_samples();
    let mut pixels = raw.trn_img;
    pixels.extend_from_slice(&raw.tst_img);
    let mut labels = raw.trn_lbl;
    labels.extend_from_slice(&raw.tst_lbl);
    debug_assert_eq!(labels.len(), MNIST_LEN);
    pixels.truncate(n * N_PIXELS);
    labels.truncate(n);
    let images = Array2::from_shape_vec((n, N_PIXELS), pixels).expect("validated sizes");

    let mut id = String::new();
    for file in &FILES {
        id.push_str(file.sha256);
    }
    id.push_str(&format!(":first={n}"));
    Ok(Mnist {
        images,
        labels,
        checksum: sha256_hex(id.as_bytes()),
    })
}

/// The four decompressed files' names and pinned SHA-256 (every load checks them).
pub fn file_checksums() -> Vec<(&'static str, &'static str)> {
    FILES.iter().map(|f| (f.name, f.sha256)).collect()
}

/// Where the vendored data lives in this repository (for tests and tools run from elsewhere).
pub fn repository_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist")
}

/// All 70,000 images from the repository's vendored files (with their cache beside them), for
/// examples and tests.
pub fn load_repository_data() -> Result<Mnist> {
    let dir = repository_data_dir();
    load(&DataConfig {
        cache_dir: dir.join("cache"),
        dir,
        subsample: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_file() -> &'static IdxFile {
        &FILES[3]
    }

    proptest::proptest! {
        /// Arbitrary bytes, or a valid header over arbitrary content, never panic the
        /// validation, and only the exact pinned file passes.
        #[test]
        fn idx_validation_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..12_000),
            keep_header in proptest::prelude::any::<bool>(),
        ) {
            let f = labels_file();
            let mut bytes = bytes;
            if keep_header && bytes.len() >= 8 {
                bytes[..4].copy_from_slice(&f.magic.to_be_bytes());
                bytes[4..8].copy_from_slice(&f.count.to_be_bytes());
            }
            let result = validate_idx(f, Path::new("x"), &bytes);
            proptest::prop_assert!(result.is_err());
            let message = result.unwrap_err().to_string();
            proptest::prop_assert!(message.starts_with("x: ") && !message.contains('\n'));
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let f = labels_file();
        let p = Path::new("x");
        let short = vec![0u8; 100];
        assert!(validate_idx(f, p, &short)
            .unwrap_err()
            .to_string()
            .contains("expected 10008 bytes, found 100"));
        let mut wrong_magic = vec![0u8; f.expected_len()];
        wrong_magic[..4].copy_from_slice(&2051u32.to_be_bytes());
        assert!(validate_idx(f, p, &wrong_magic)
            .unwrap_err()
            .to_string()
            .contains("wrong magic number 2051"));
        let mut wrong_sum = vec![0u8; f.expected_len()];
        wrong_sum[..4].copy_from_slice(&2049u32.to_be_bytes());
        wrong_sum[4..8].copy_from_slice(&10_000u32.to_be_bytes());
        assert!(validate_idx(f, p, &wrong_sum)
            .unwrap_err()
            .to_string()
            .contains("SHA-256 is"));
        let gz = vec![0x1f, 0x8b, 8, 0];
        assert!(validate_idx(f, p, &gz)
            .unwrap_err()
            .to_string()
            .contains("is gzip-compressed"));
    }

    /// A killed first load leaves a `.tmp-*` in the cache: the next load removes it once it is
    /// old enough not to be another process's, and never follows a link.
    #[test]
    fn abandoned_cache_temporaries_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        let old = cache.join(".tmp-killed");
        let fresh = cache.join(".tmp-loading");
        std::fs::write(&old, b"half a file").unwrap();
        std::fs::write(&fresh, b"being written").unwrap();
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
        let outside = tmp.path().join("elsewhere");
        std::fs::write(&outside, b"not ours").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, cache.join(".tmp-link")).unwrap();
        remove_abandoned_temporaries(&cache);
        assert!(!old.exists());
        assert!(fresh.exists());
        assert_eq!(std::fs::read(&outside).unwrap(), b"not ours");
    }
}
