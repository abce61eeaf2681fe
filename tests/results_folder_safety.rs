//! The results folder's safety, through the binaries: results I/O, ownership, record checks,
//! chart sizes and inputs, one test per behaviour. Nothing is
//! touched that is not the harness's, no record is trusted that fails its checks, and every
//! mistake gets one line and exit 2.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{read_csv, run, sweep_in, write_config, Ran};

const SMALL: &str = "name = \"safe\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\n\
                     max_iter = 2\nC = [0.5, 1.0]\n[output]\nrun_charts = \"none\"\n";

/// A temporary world: `a/safe.toml` (SMALL), results in `results/`, and `outside/` with a file
/// and a folder that links may point at.
struct World {
    tmp: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("a")).unwrap();
        std::fs::create_dir_all(tmp.path().join("outside/folder")).unwrap();
        std::fs::write(tmp.path().join("outside/victim.txt"), b"the user's").unwrap();
        std::fs::write(tmp.path().join("outside/folder/kept.txt"), b"kept").unwrap();
        let w = World { tmp };
        w.config("a", SMALL);
        w
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
    fn config(&self, folder: &str, body: &str) -> PathBuf {
        std::fs::create_dir_all(self.path(folder)).unwrap();
        write_config(&self.path(folder), "safe.toml", body, 300)
    }
    fn sweep(&self, folder: &str, extra: &[&str]) -> Ran {
        let config = self.path(folder).join("safe.toml");
        let out = self.path("results");
        let mut args = vec![config.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        sweep_in(self.tmp.path(), &args)
    }
    fn folder(&self) -> PathBuf {
        self.path("results/safe")
    }
    fn run_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.folder().join("runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        ids
    }
    fn listed(&self) -> Vec<String> {
        let (header, rows) = read_csv(&self.folder().join("metrics.csv"));
        let i = header.iter().position(|h| h == "run_id").unwrap();
        rows.into_iter().map(|r| r[i].clone()).collect()
    }
    fn outside_unchanged(&self) {
        assert_eq!(
            std::fs::read(self.path("outside/victim.txt")).unwrap(),
            b"the user's"
        );
        let mut kept: Vec<String> = std::fs::read_dir(self.path("outside/folder"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            ["kept.txt"],
            "files appeared outside the results folder"
        );
    }
}

fn ok(ran: &Ran) {
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}

/// Exit 2 with a last line `error: ...` containing `says`.
fn refused(ran: &Ran, says: &str) {
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let last = ran.stderr.lines().last().unwrap_or("");
    assert!(last.starts_with("error: "), "{}", ran.stderr);
    assert!(
        ran.stderr.contains(says),
        "expected {says:?} in: {}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("panicked"), "{}", ran.stderr);
}

fn predict(args: &[&str]) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_predict"));
    cmd.args(args);
    run(cmd)
}

// ---- High 1: prune, ownership and the lock ----

/// `--prune --yes` from another config whose folder name is the same deletes nothing.
#[test]
fn prune_never_deletes_another_configs_runs() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let before = w.run_ids();
    w.config("b", &SMALL.replace("C = [0.5, 1.0]", "C = [2.0]"));
    refused(
        &w.sweep("b", &["--prune", "--yes"]),
        "holds the results of another config",
    );
    assert_eq!(w.run_ids(), before);
    assert_eq!(w.listed().len(), 2);
}

/// A prune waits for nobody: while another process holds the folder's lock it is refused.
#[test]
fn prune_respects_the_lock() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    w.config("a", &SMALL.replace("C = [0.5, 1.0]", "C = [1.0]"));
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(w.folder().join(".lock"))
        .unwrap();
    lock.lock().unwrap();
    refused(
        &w.sweep("a", &["--prune", "--yes"]),
        "another sweep is writing",
    );
    assert_eq!(w.run_ids().len(), 2);
    drop(lock);
    ok(&w.sweep("a", &["--prune", "--yes"]));
    assert_eq!(w.run_ids().len(), 1);
    assert_eq!(w.listed().len(), 1);
}

/// Pruning every run leaves no table or README describing them.
#[test]
fn pruning_every_run_leaves_no_report_of_them() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    w.config("a", &SMALL.replace("C = [0.5, 1.0]", "C = [3.0]"));
    ok(&w.sweep("a", &["--prune", "--yes"]));
    assert!(w.run_ids().is_empty());
    for file in ["metrics.csv", "README.md", "reference.json"] {
        assert!(
            !w.folder().join(file).exists(),
            "{file} describes deleted runs"
        );
    }
}

/// A user's own folders in runs/ (no run record, or not a run id) are never pruned.
#[test]
fn prune_keeps_a_users_own_folders() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    for name in ["my-notes", "0123456789ab"] {
        let dir = w.folder().join("runs").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    }
    let listed = w.sweep("a", &["--prune"]);
    ok(&listed);
    assert!(
        listed.stderr.contains("nothing to prune"),
        "{}",
        listed.stderr
    );
    ok(&w.sweep("a", &["--prune", "--yes"]));
    assert!(w.folder().join("runs/my-notes/notes.txt").exists());
    assert!(w.folder().join("runs/0123456789ab/notes.txt").exists());
}

/// `--report-only` of another config sharing run ids does not rewrite the owner's report.
#[test]
fn report_only_of_another_config_is_refused() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let readme = std::fs::read(w.folder().join("README.md")).unwrap();
    w.config("b", &SMALL.replace("C = [0.5, 1.0]", "C = [1.0]"));
    refused(
        &w.sweep("b", &["--report-only"]),
        "holds the results of another config",
    );
    assert_eq!(std::fs::read(w.folder().join("README.md")).unwrap(), readme);
}

/// A merge of folders without a finished run creates nothing.
#[test]
fn an_empty_merge_leaves_nothing_behind() {
    let w = World::new();
    std::fs::create_dir_all(w.path("empty")).unwrap();
    let empty = w.path("empty");
    refused(
        &w.sweep("a", &["--merge", empty.to_str().unwrap()]),
        "no finished run",
    );
    assert!(!w.folder().exists(), "a folder was created for nothing");
}

// ---- High 2: a failed fit inside cross-validation ----

/// Cross-validation scores of a failed fold fit (NaN) are written as null and read back: the
/// sweep finishes, reports the run and reuses it on a rerun (never "this is a bug").
#[test]
fn a_failed_fold_fit_is_reported_and_read_back() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    // Hand the record of one run a failed fold, as a failing fit writes it.
    let id = &w.run_ids()[0];
    let record = w.folder().join("runs").join(id).join("run.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    v["cv"] = serde_json::json!({
        "selection": {"cv": 2, "scoring": "accuracy", "shuffle_seed": null},
        "scores": [null, 0.9],
        "converged": [false, true],
    });
    std::fs::write(&record, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let config = SMALL.replace("[output]", "[selection]\ncv = 2\n[output]");
    w.config("a", &config);
    let ran = w.sweep("a", &[]);
    ok(&ran);
    assert!(!ran.stderr.contains("this is a bug"), "{}", ran.stderr);
    // The real failing case: f32 at the smallest C it accepts, inside a selection.
    let failing = "name = \"safe\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\n\
                   max_iter = 3\nC = [1e-30, 1.0]\ndtype = \"f32\"\n[selection]\ncv = 2\n\
                   [output]\nrun_charts = \"none\"\n";
    w.config("a", failing);
    let first = w.sweep("a", &[]);
    assert_eq!(first.code, 1, "a failed fit is exit 1: {}", first.stderr);
    let again = w.sweep("a", &[]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        again.stderr.contains("0 fitted now, 1 failed"),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("this is a bug"), "{}", again.stderr);
    let readme = std::fs::read_to_string(w.folder().join("README.md")).unwrap();
    assert!(
        readme.contains("not scored: 2 of 2 fold fits failed, so the choice left it out"),
        "{readme}"
    );
}

// ---- High 3: chart text and canvas bounded ----

/// 150 C values x two max_iter values: every chart stays within the canvas limit and a few MB.
#[test]
fn chart_text_and_size_are_bounded_for_large_grids() {
    let w = World::new();
    let body = "name = \"safe\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\n\
                max_iter = [1, 2]\nC = { logspace = [-4, 2], num = 150 }\n[output]\nrun_charts = \"none\"\n";
    w.config("a", body);
    let ran = w.sweep("a", &["--quiet"]);
    ok(&ran);
    for entry in std::fs::read_dir(w.folder()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "png") {
            let size = std::fs::metadata(&path).unwrap().len();
            assert!(size < 4 << 20, "{}: {size} bytes", path.display());
            let (width, height) = image::image_dimensions(&path).unwrap();
            assert!(
                width <= 4000 && height <= 6000,
                "{}: {width} x {height}",
                path.display()
            );
        }
    }
}

// ---- High 4: symbolic links in the results folder ----

/// A link planted where the harness keeps its lock, a folder or a table: refused (exit 2) or
/// replaced as a link; what it points to is never written or deleted.
#[test]
fn links_in_the_results_folder_are_never_followed() {
    for (entry, target, prune) in [
        (".lock", "outside/victim.txt", false),
        ("confusion", "outside/folder", false),
        ("confusion", "outside/folder", true),
        ("runs", "outside/folder", false),
        ("cv", "outside/folder", false),
        ("metrics.csv", "outside/victim.txt", false),
        ("README.md", "outside/victim.txt", false),
    ] {
        let w = World::new();
        let config = SMALL.replace("[output]", "[selection]\ncv = 2\n[output]");
        w.config("a", &config);
        ok(&w.sweep("a", &[]));
        let at = w.folder().join(entry);
        if at.is_dir() {
            std::fs::remove_dir_all(&at).unwrap();
        } else if at.exists() {
            std::fs::remove_file(&at).unwrap();
        }
        symlink(w.path(target), &at).unwrap();
        if prune {
            w.config("a", &config.replace("C = [0.5, 1.0]", "C = [1.0]"));
            let ran = w.sweep("a", &["--prune", "--yes"]);
            assert!(ran.code == 0 || ran.code == 2, "{entry}: {}", ran.stderr);
        } else {
            let ran = w.sweep("a", &["--force"]);
            match ran.code {
                2 => refused(&ran, "symbolic link"),
                0 => assert!(
                    !at.symlink_metadata().unwrap().is_symlink(),
                    "{entry}: written through the link"
                ),
                _ => panic!("{entry}: exit {}: {}", ran.code, ran.stderr),
            }
        }
        w.outside_unchanged();
    }
}

// ---- Medium: what predict trusts ----

/// A model file that is not the one its run's record describes is refused, as the sweep
/// refuses to reuse it.
#[test]
fn predict_checks_a_model_against_its_record() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let run = w.folder().join("runs").join(&w.run_ids()[1]);
    let other = w
        .folder()
        .join("runs")
        .join(&w.run_ids()[0])
        .join("model.npz");
    std::fs::copy(&other, run.join("model.npz")).unwrap();
    let image = w.path("digit.png");
    image::GrayImage::from_pixel(28, 28, image::Luma([0]))
        .save(&image)
        .unwrap();
    let ran = predict(&[run.to_str().unwrap(), image.to_str().unwrap()]);
    refused(&ran, "SHA-256 differs");
}

/// A reference.json naming a model anywhere but its run's own file is refused.
#[test]
fn predict_refuses_a_reference_pointing_elsewhere() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let reference = w.folder().join("reference.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&reference).unwrap()).unwrap();
    v["model"] = "../../outside/victim.txt".into();
    std::fs::write(&reference, serde_json::to_vec(&v).unwrap()).unwrap();
    let image = w.path("digit.png");
    image::GrayImage::from_pixel(28, 28, image::Luma([255]))
        .save(&image)
        .unwrap();
    let ran = predict(&[w.folder().to_str().unwrap(), image.to_str().unwrap()]);
    refused(&ran, "is not its run's model file");
}

/// Weights no fit makes (1e307) give an error, never `NaN %` with exit 0.
#[test]
fn predict_refuses_weights_beyond_floating_point() {
    use ndarray::{Array1, Array2};
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let run = w.folder().join("runs").join(&w.run_ids()[0]);
    let saved = mnist_logreg::model_file::SavedModel::read(&run.join("model.npz"), "").unwrap();
    let path = w.path("huge.npz");
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(&path).unwrap());
    npz.add_array("format_version", &Array1::from_elem(1, 1i64))
        .unwrap();
    let huge = Array2::from_shape_fn(saved.coef.dim(), |(k, _)| (k as f64 + 1.0) * 1e307);
    npz.add_array("coef", &huge).unwrap();
    npz.add_array("intercept", &saved.intercept).unwrap();
    npz.add_array("scaler_offset", &saved.scaler_offset)
        .unwrap();
    npz.add_array("scaler_scale", &saved.scaler_scale).unwrap();
    npz.add_array("classes", &Array1::from_iter(0..10i64))
        .unwrap();
    npz.add_array("ovr", &Array1::from_elem(1, 0i64)).unwrap();
    npz.add_array("run_json", &Array1::from_vec(b"{}".to_vec()))
        .unwrap();
    npz.finish().unwrap();
    let image = w.path("digit.png");
    let mut digit = image::GrayImage::from_pixel(28, 28, image::Luma([255]));
    for r in 6..22 {
        for c in 12..16 {
            digit.put_pixel(c, r, image::Luma([0]));
        }
    }
    digit.save(&image).unwrap();
    let ran = predict(&[path.to_str().unwrap(), image.to_str().unwrap()]);
    refused(&ran, "beyond floating point");
    assert!(!ran.stdout.contains("NaN"), "{}", ran.stdout);
}

/// `--chart` naming one of the input images is refused; the image is unchanged.
#[test]
fn predict_chart_never_overwrites_an_input() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let image = w.path("digit.png");
    image::GrayImage::from_pixel(28, 28, image::Luma([255]))
        .save(&image)
        .unwrap();
    let before = std::fs::read(&image).unwrap();
    let run = w.folder().join("runs").join(&w.run_ids()[0]);
    let ran = predict(&[
        run.to_str().unwrap(),
        image.to_str().unwrap(),
        "--chart",
        image.to_str().unwrap(),
    ]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert_eq!(std::fs::read(&image).unwrap(), before);
}

/// A compressed npz (numpy's savez_compressed) is read; a name with a newline prints on one
/// line; an animation whose first frame is blank is read from its last frame.
#[test]
fn predict_reads_compressed_models_escapes_names_and_animations() {
    use image::codecs::gif::GifEncoder;
    use image::{Frame, RgbaImage};
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let run = w.folder().join("runs").join(&w.run_ids()[0]);
    let saved = mnist_logreg::model_file::SavedModel::read(&run.join("model.npz"), "").unwrap();
    // Re-save every array compressed (deflate), the record's string among them.
    let compressed = w.path("compressed.npz");
    {
        let mut reader =
            zip::ZipArchive::new(std::fs::File::open(run.join("model.npz")).unwrap()).unwrap();
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&compressed).unwrap());
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for i in 0..reader.len() {
            let mut entry = reader.by_index(i).unwrap();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            writer.start_file(entry.name(), deflated).unwrap();
            std::io::Write::write_all(&mut writer, &bytes).unwrap();
        }
        writer.finish().unwrap();
    }
    let again = mnist_logreg::model_file::SavedModel::read(&compressed, "").unwrap();
    assert_eq!(again.run, saved.run);
    assert_eq!(saved.coef.dim().1, 784);
    let named = w.path("two\nlines.png");
    let mut digit = image::GrayImage::from_pixel(56, 56, image::Luma([255]));
    for r in 10..46 {
        for c in 24..32 {
            digit.put_pixel(c, r, image::Luma([0]));
        }
    }
    digit
        .save_with_format(&named, image::ImageFormat::Png)
        .unwrap();
    let ran = predict(&[compressed.to_str().unwrap(), named.to_str().unwrap()]);
    ok(&ran);
    assert_eq!(ran.stdout.lines().count(), 1, "{}", ran.stdout);
    assert!(ran.stdout.contains("two\\nlines.png"), "{}", ran.stdout);
    // A two-frame GIF: blank paper, then the digit.
    let gif = w.path("drawn.gif");
    {
        let mut encoder = GifEncoder::new(std::fs::File::create(&gif).unwrap());
        let blank = RgbaImage::from_pixel(56, 56, image::Rgba([255, 255, 255, 255]));
        let drawn = image::DynamicImage::ImageLuma8(digit).to_rgba8();
        encoder
            .encode_frames([Frame::new(blank), Frame::new(drawn)])
            .unwrap();
    }
    let ran = predict(&[run.to_str().unwrap(), gif.to_str().unwrap()]);
    ok(&ran);
    assert!(!ran.stderr.contains("blank"), "{}", ran.stderr);
}

// ---- Medium: inputs that never block and never grow without bound ----

/// `/dev/zero` and a FIFO as a config, an image or a model: refused at once.
#[test]
fn devices_and_fifos_are_refused_at_once() {
    let w = World::new();
    let fifo = w.path("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    for input in [Path::new("/dev/zero"), fifo.as_path()] {
        let ran = sweep_in(w.tmp.path(), &[input.to_str().unwrap()]);
        refused(&ran, "not a plain file");
        ok(&w.sweep("a", &[]));
        let model = w
            .folder()
            .join("runs")
            .join(&w.run_ids()[0])
            .join("model.npz");
        let ran = predict(&[model.to_str().unwrap(), input.to_str().unwrap()]);
        refused(&ran, "not a plain file");
        let image = w.path("digit.png");
        image::GrayImage::from_pixel(28, 28, image::Luma([255]))
            .save(&image)
            .unwrap();
        let ran = predict(&[input.to_str().unwrap(), image.to_str().unwrap()]);
        assert_eq!(ran.code, 2, "{}", ran.stderr);
    }
    assert!(start.elapsed() < Duration::from_secs(60));
}

// ---- Medium: records read back as strictly as fresh fits ----

/// A fold score no fit can have (7.5) is never trusted: the fold is fitted again and the choice
/// is the one the data make; `--force` refits the folds too.
#[test]
fn fold_records_are_checked_and_force_refits_them() {
    let w = World::new();
    let config = SMALL.replace("[output]", "[selection]\ncv = 2\n[output]");
    w.config("a", &config);
    ok(&w.sweep("a", &[]));
    let cv = w.folder().join("cv");
    let scores = |w: &World| -> Vec<f64> {
        w.run_ids()
            .iter()
            .flat_map(|id| {
                let record = w.folder().join("runs").join(id).join("run.json");
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
                v["cv"]["scores"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_f64().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let honest = scores(&w);
    // Fold records as an interrupted sweep leaves them (the key from the run's record).
    let plant = |score: f64| {
        for id in w.run_ids() {
            let record = w.folder().join("runs").join(&id).join("run.json");
            let Ok(bytes) = std::fs::read(&record) else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            for fold in 1..=2 {
                let dir = cv.join(&id);
                std::fs::create_dir_all(&dir).unwrap();
                let fold_record = serde_json::json!({
                    "selection": v["cv"]["selection"],
                    "engine": v["engine"],
                    "data_checksum": v["data_checksum"],
                    "score": score,
                    "converged": false,
                });
                std::fs::write(
                    dir.join(format!("fold-{fold}-of-2.json")),
                    serde_json::to_vec(&fold_record).unwrap(),
                )
                .unwrap();
            }
        }
    };
    // An impossible score, with the run records gone so that the folds are read back.
    plant(7.5);
    assert!(cv.is_dir());
    for id in w.run_ids() {
        std::fs::remove_file(w.folder().join("runs").join(id).join("run.json")).unwrap();
    }
    ok(&w.sweep("a", &[]));
    assert_eq!(scores(&w), honest);
    // The same records with a possible score are reused (as an interrupted sweep resumes):
    // the planted records are read, so the refusal above was the range check.
    plant(0.123);
    for id in w.run_ids() {
        std::fs::remove_file(w.folder().join("runs").join(id).join("run.json")).unwrap();
    }
    ok(&w.sweep("a", &[]));
    assert!(scores(&w).iter().all(|&s| s == 0.123), "{:?}", scores(&w));
    // A possible but planted score: --force does not reuse it.
    plant(0.123);
    ok(&w.sweep("a", &["--force"]));
    assert_eq!(scores(&w), honest);
}

/// `--dry-run` calls a damaged record "to refit", and says when the folder is another config's.
#[test]
fn dry_run_checks_records_and_ownership() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let id = w.run_ids()[0].clone();
    let record = w.folder().join("runs").join(&id).join("run.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    v["metrics"]["accuracy"] = 7.5.into();
    std::fs::write(&record, serde_json::to_vec(&v).unwrap()).unwrap();
    let dry = w.sweep("a", &["--dry-run"]);
    ok(&dry);
    let line = dry.stdout.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(line.contains("to refit"), "{}", dry.stdout);
    w.config("b", &SMALL.replace("C = [0.5, 1.0]", "C = [2.0]"));
    let dry = w.sweep("b", &["--dry-run"]);
    ok(&dry);
    assert!(
        dry.stdout.contains("holds the results of another config"),
        "{}",
        dry.stdout
    );
}

/// parity refuses a table with an accuracy no fit can have.
#[test]
fn parity_refuses_impossible_accuracies() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let metrics = w.folder().join("metrics.csv");
    let (header, mut rows) = read_csv(&metrics);
    let i = header.iter().position(|h| h == "accuracy").unwrap();
    rows[0][i] = "inf".into();
    let mut out = csv::Writer::from_path(&metrics).unwrap();
    out.write_record(&header).unwrap();
    for row in rows {
        out.write_record(&row).unwrap();
    }
    out.flush().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parity"));
    cmd.args([
        w.path("a/safe.toml").to_str().unwrap(),
        "--out",
        w.path("results").to_str().unwrap(),
    ]);
    refused(&run(cmd), "not a possible score");
}

// ---- Medium and low: overrides, reports and progress ----

/// A logspace range whose values overflow is refused, not run as C = inf.
#[test]
fn an_overflowing_range_is_refused() {
    let w = World::new();
    w.config(
        "a",
        &SMALL.replace("C = [0.5, 1.0]", "C = { logspace = [-4, 400], num = 3 }"),
    );
    refused(
        &w.sweep("a", &["--dry-run"]),
        "beyond what a 64-bit float holds",
    );
}

/// A folder made unwritable for this process: by its mode, or where that does not bind (root)
/// by the immutable attribute (`chattr +i`); restored when dropped. `None` where neither works.
struct ReadOnly(PathBuf, bool);

impl ReadOnly {
    fn make(dir: &Path) -> Option<ReadOnly> {
        use std::os::unix::fs::PermissionsExt;
        let probe = |dir: &Path| std::fs::write(dir.join("probe"), b"").is_err();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        if probe(dir) {
            return Some(ReadOnly(dir.to_path_buf(), false));
        }
        std::fs::remove_file(dir.join("probe")).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let chattr = |flag: &str| {
            Command::new("chattr")
                .args([flag, dir.to_str().unwrap()])
                .status()
                .is_ok_and(|s| s.success())
        };
        if chattr("+i") && probe(dir) {
            return Some(ReadOnly(dir.to_path_buf(), true));
        }
        chattr("-i");
        None
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.1 {
            let _ = Command::new("chattr")
                .args(["-i", self.0.to_str().unwrap()])
                .status();
        }
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}

/// `--prune --yes` on a folder it cannot write is input to fix (exit 2), as a sweep is.
#[test]
fn prune_on_a_read_only_folder_is_input_to_fix() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    w.config("a", &SMALL.replace("C = [0.5, 1.0]", "C = [1.0]"));
    let Some(_read_only) = ReadOnly::make(&w.folder()) else {
        // Root on a file system without chattr: nothing can make the folder read-only here.
        eprintln!("NOT CHECKED: neither the folder's mode nor chattr +i makes it read-only here");
        return;
    };
    let ran = w.sweep("a", &["--prune", "--yes"]);
    refused(&ran, "writable");
}

/// `model.random_state=` is checked against the model's key in a [[grid]], not the split's.
#[test]
fn a_model_seed_override_is_checked_against_the_models_key() {
    let w = World::new();
    let body =
        "name = \"safe\"\n[split]\ntrain_size = 0.8\n[model]\nsolver = \"sag\"\nmax_iter = 2\n\
                [[grid]]\nrandom_state = [0, 1]\n[output]\nrun_charts = \"none\"\n";
    w.config("a", body);
    ok(&w.sweep("a", &["--dry-run", "model.random_state=3"]));
    refused(
        &w.sweep("a", &["--dry-run", "split.random_state=3"]),
        "a [[grid]] of this config sets",
    );
}

/// The CV column named neg_log_loss shows minus the log-loss; progress lines tell runs that
/// differ only in fit_intercept apart.
#[test]
fn neg_log_loss_is_negative_and_progress_names_fit_intercept() {
    let w = World::new();
    let body =
        "name = \"safe\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 2\n\
                fit_intercept = [true, false]\n[selection]\ncv = 2\nscoring = \"neg_log_loss\"\n\
                [output]\nrun_charts = \"none\"\n";
    w.config("a", body);
    let ran = w.sweep("a", &[]);
    ok(&ran);
    let lines: Vec<&str> = ran.stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(lines.len(), 2, "{}", ran.stderr);
    assert!(
        lines.iter().any(|l| l.contains("fit_intercept=false")),
        "{}",
        ran.stderr
    );
    let readme = std::fs::read_to_string(w.folder().join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `") && l.contains(" ± "))
        .unwrap_or_else(|| panic!("{readme}"));
    let cell = row.split(" | ").find(|c| c.contains(" ± ")).unwrap();
    assert!(cell.trim().starts_with('-'), "{row}");
}

/// A rerun that fits nothing and changes no result writes nothing: every file keeps its bytes
/// and its modification time, the manifest included (a clone stays clean after the README's
/// command).
#[test]
fn a_rerun_that_changes_nothing_writes_nothing() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let snapshot = |w: &World| -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
        let mut files = Vec::new();
        let mut stack = vec![w.folder()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let meta = e.metadata().unwrap();
                if meta.is_dir() {
                    stack.push(e.path());
                } else if e.file_name() != ".lock" {
                    files.push((
                        e.path(),
                        std::fs::read(e.path()).unwrap(),
                        meta.modified().unwrap(),
                    ));
                }
            }
        }
        files.sort();
        files
    };
    let before = snapshot(&w);
    std::thread::sleep(Duration::from_millis(20));
    ok(&w.sweep("a", &[]));
    ok(&w.sweep("a", &["--report-only"]));
    assert!(
        before == snapshot(&w),
        "a rerun that fitted nothing rewrote files"
    );
}

/// On a full disk a sweep ends with one line naming the file it could not write, exit 1 (the
/// model file is built in memory, so no "ZipWriter drop failed" is glued to another line).
/// Uses a 64 KiB tmpfs where this process may mount one (as root).
#[test]
fn a_full_disk_is_one_line() {
    let w = World::new();
    let tiny = w.path("tiny");
    std::fs::create_dir_all(&tiny).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=64k",
            "tmpfs",
            tiny.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("NOT CHECKED: no tmpfs can be mounted here (not root)");
        return;
    }
    let config = w.path("a/safe.toml");
    let ran = sweep_in(
        w.tmp.path(),
        &[config.to_str().unwrap(), "--out", tiny.to_str().unwrap()],
    );
    let _ = Command::new("umount").arg(&tiny).status();
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let last = ran.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: ") && last.contains("No space left"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("ZipWriter"), "{}", ran.stderr);
    for line in ran.stderr.lines() {
        assert!(
            ["error: ", "safe: ", "[", "cross-validation"]
                .iter()
                .any(|p| line.starts_with(p)),
            "a line glued to another: {line:?}"
        );
    }
}

/// A redraw removes confusion matrices of runs that have no folder any more (they describe no
/// run); a file of the user's in confusion/ stays.
#[test]
fn a_redraw_removes_confusion_matrices_of_runs_that_are_gone() {
    let w = World::new();
    ok(&w.sweep("a", &[]));
    let confusion = w.folder().join("confusion");
    std::fs::write(confusion.join("abcdefabcdef.csv"), b"stale").unwrap();
    std::fs::write(confusion.join("abcdefabcdef.png"), b"stale").unwrap();
    std::fs::write(confusion.join("notes.txt"), b"mine").unwrap();
    ok(&w.sweep("a", &["--report-only"]));
    assert!(!confusion.join("abcdefabcdef.csv").exists());
    assert!(!confusion.join("abcdefabcdef.png").exists());
    assert!(confusion.join("notes.txt").exists());
    for id in w.run_ids() {
        assert!(confusion.join(format!("{id}.png")).exists());
    }
}

/// The lock holder's clean-up of `.tmp-*` files stays inside the results folder: a symbolic link
/// in it to a folder elsewhere is not followed.
#[cfg(unix)]
#[test]
fn clean_up_does_not_follow_links_out_of_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join(".tmp-precious"), b"keep me").unwrap();
    let dir = tmp.path().join("results/links");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("linked")).unwrap();
    std::fs::write(dir.join(".tmp-left-by-a-kill"), b"").unwrap();
    let body = "name = \"links\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 2\n[output]\nrun_charts = \"none\"\n";
    let ran = common::sweep_config(tmp.path(), "l.toml", body, 200, &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!dir.join(".tmp-left-by-a-kill").exists());
    assert_eq!(
        std::fs::read(elsewhere.join(".tmp-precious")).unwrap(),
        b"keep me"
    );
}

/// `--report-only` on a folder it cannot write exits 2 (input to fix), as a sweep does. (Skipped
/// where permissions do not bind, as for root.)
#[cfg(unix)]
#[test]
fn report_only_on_a_read_only_folder_is_input_to_fix() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"ro\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 2\n[output]\nrun_charts = \"none\"\n";
    assert_eq!(
        common::sweep_config(tmp.path(), "ro.toml", body, 200, &[]).code,
        0
    );
    let dir = tmp.path().join("results/ro");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join("probe"), b"").is_ok() {
        eprintln!("skipped: permissions do not bind for this user");
        return;
    }
    let ran = common::sweep_config(tmp.path(), "ro.toml", body, 200, &["--report-only"]);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(ran.code, 2, "{}", ran.stderr);
}
