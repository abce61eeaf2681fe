//! A model-based test of operation sequences (issue 29): random sequences of what users and
//! accidents do to a results folder (sweeps, a second config sharing the folder, overrides,
//! SIGKILL at a random point, `--prune [--yes]`, `--report-only`, shards and `--merge`,
//! hand-edited or damaged records, planted symbolic links and foreign folders), run through the
//! `sweep` binary on tiny data. After every step the invariants of the README's "Bad input"
//! section are checked:
//!
//! 1. nothing outside the results root changed (links planted inside point at files and folders
//!    outside, whose bytes are compared);
//! 2. the exit code is 0 or 2 (there is no failing fit in these configs), never a panic; a
//!    failure ends in one `error: ` line; and where the model says the step must succeed, it did;
//! 3. the folder is never left locked;
//! 4. after a step that reported the owner's results, every run `--dry-run` calls finished is in
//!    `metrics.csv` and the README;
//! 5. no record is trusted that fails its checks: every run in `metrics.csv` has a record
//!    whose model file matches its SHA-256 and whose accuracy is the table's, in [0, 1].
//!
//! `OPERATION_SEQUENCES=N` runs N sequences (default 6, in CI); `OPERATION_STEPS=K` makes them
//! up to K steps long (default 10); proptest prints the shortest failing sequence it finds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};

mod common;

use common::{run, sweep_command, write_config};

/// Which config a step runs: `A` owns `results/seq/` first; `B` is another file with the same
/// `name` (and overlapping runs), which must never write into A's folder unless adopting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    A,
    B,
}

/// What a hand edit or an accident does to a run's files.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// The record's accuracy set to 7.5.
    Accuracy,
    /// The model file cut in half.
    TruncateModel,
    /// A fold record's score set to 7.5.
    FoldScore,
    /// The record deleted.
    DeleteRecord,
}

/// Where a symbolic link to something outside is planted.
#[derive(Debug, Clone, Copy)]
enum Link {
    Lock,
    Confusion,
    Cv,
    Runs,
    FirstRun,
    MetricsCsv,
    Readme,
}

#[derive(Debug, Clone)]
enum Op {
    Sweep {
        who: Who,
        force: bool,
        adopt: bool,
    },
    Kill {
        after_ms: u64,
    },
    Prune {
        who: Who,
        yes: bool,
    },
    ReportOnly {
        who: Who,
    },
    Shard {
        index: u8,
    },
    Merge,
    Override,
    /// A's grid changed (0: C = [0.5, 1], 1: C = [1]).
    EditGrid {
        variant: u8,
    },
    Damage {
        run: usize,
        how: Damage,
    },
    Plant {
        link: Link,
    },
    /// A user's own folders in `runs/`: one with a run id's form, one without.
    Foreign,
    /// The user removes every link the harness named (as its error says to).
    Heal,
}

fn op() -> impl Strategy<Value = Op> {
    let who = prop_oneof![Just(Who::A), Just(Who::B)];
    prop_oneof![
        4 => (who.clone(), any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(who, force, adopt)| Op::Sweep { who, force, adopt }),
        2 => (50u64..2500).prop_map(|after_ms| Op::Kill { after_ms }),
        2 => (who.clone(), any::<bool>()).prop_map(|(who, yes)| Op::Prune { who, yes }),
        1 => who.prop_map(|who| Op::ReportOnly { who }),
        1 => (0u8..2).prop_map(|index| Op::Shard { index }),
        1 => Just(Op::Merge),
        1 => Just(Op::Override),
        1 => (0u8..2).prop_map(|variant| Op::EditGrid { variant }),
        2 => (0usize..4, prop_oneof![
            Just(Damage::Accuracy),
            Just(Damage::TruncateModel),
            Just(Damage::FoldScore),
            Just(Damage::DeleteRecord)
        ])
            .prop_map(|(run, how)| Op::Damage { run, how }),
        2 => prop_oneof![
            Just(Link::Lock),
            Just(Link::Confusion),
            Just(Link::Cv),
            Just(Link::Runs),
            Just(Link::FirstRun),
            Just(Link::MetricsCsv),
            Just(Link::Readme)
        ]
            .prop_map(|link| Op::Plant { link }),
        1 => Just(Op::Foreign),
        2 => Just(Op::Heal),
    ]
}

/// What the model knows of the folder.
#[derive(Debug, Default)]
struct Model {
    /// The config that last wrote the folder's manifest.
    owner: Option<Who>,
    /// Links planted and not yet removed.
    planted: bool,
}

/// One sequence's world: a temporary folder with the configs, the results root and the things
/// outside it that links point to.
struct World {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    a: PathBuf,
    b: PathBuf,
    out: PathBuf,
    shards: PathBuf,
    outside: PathBuf,
}

const SUBSAMPLE: usize = 400;

fn grid_a(variant: u8) -> String {
    let c = if variant == 0 { "[0.5, 1.0]" } else { "[1.0]" };
    format!(
        "name = \"seq\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = [2, 4]\n\
         C = {c}\n[selection]\ncv = 2\n[output]\nrun_charts = \"none\"\n"
    )
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        for d in ["a", "b", "outside/folder"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("outside/victim.txt"), b"the user's file").unwrap();
        std::fs::write(root.join("outside/folder/kept.txt"), b"kept").unwrap();
        let a = write_config(&root.join("a"), "seq.toml", &grid_a(0), SUBSAMPLE);
        let b = write_config(
            &root.join("b"),
            "seq.toml",
            "name = \"seq\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 2\n\
             C = [1.0, 2.0]\n[output]\nrun_charts = \"none\"\n",
            SUBSAMPLE,
        );
        World {
            out: root.join("results"),
            shards: root.join("shards"),
            outside: root.join("outside"),
            a,
            b,
            root,
            _tmp: tmp,
        }
    }

    fn folder(&self) -> PathBuf {
        self.out.join("seq")
    }

    fn config(&self, who: Who) -> &Path {
        match who {
            Who::A => &self.a,
            Who::B => &self.b,
        }
    }

    /// Every file under `outside/`, with its bytes.
    fn outside_snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![self.outside.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let kind = entry.file_type().unwrap();
                if kind.is_dir() {
                    stack.push(entry.path());
                } else {
                    files.insert(
                        entry.path(),
                        std::fs::read(entry.path()).unwrap_or_default(),
                    );
                }
            }
        }
        files
    }

    fn sweep(&self, args: &[&str]) -> common::Ran {
        let mut cmd = sweep_command(args);
        cmd.current_dir(&self.root);
        run(cmd)
    }

    /// The first `n` run folders of the results folder (run ids in name order).
    fn run_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.folder().join("runs"))
            .map(|e| {
                e.flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.len() == 12)
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }
}

/// The outcome of a step: the binary's run, or none (a file edit, a kill).
struct Step {
    ran: Option<common::Ran>,
    /// Whether the model says it must succeed.
    must_succeed: bool,
    /// Whether, on success, it reported the owner's results (invariant 4 applies).
    reported: bool,
}

fn apply(world: &World, model: &mut Model, op: &Op) -> Step {
    let out = world.out.to_str().unwrap();
    let folder = world.folder();
    let nothing = Step {
        ran: None,
        must_succeed: false,
        reported: false,
    };
    match *op {
        Op::Sweep { who, force, adopt } => {
            let mut args = vec![world.config(who).to_str().unwrap(), "--out", out, "--quiet"];
            if force {
                args.push("--force");
            }
            if adopt {
                args.push("--adopt");
            }
            let ran = world.sweep(&args);
            let allowed = adopt || model.owner.is_none_or(|o| o == who);
            let must_succeed = allowed && !model.planted;
            if ran.code == 0 {
                model.owner = Some(who);
            }
            Step {
                ran: Some(ran),
                must_succeed,
                reported: who == Who::A,
            }
        }
        Op::Kill { after_ms } => {
            let mut cmd = sweep_command(&[
                world.a.to_str().unwrap(),
                "--out",
                out,
                "--force",
                "--quiet",
            ]);
            cmd.current_dir(&world.root)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().unwrap();
            std::thread::sleep(Duration::from_millis(after_ms));
            let _ = child.kill();
            let status = child.wait().unwrap();
            if status.success() {
                // It finished before the kill: as a sweep of A.
                model.owner = Some(Who::A);
            }
            nothing
        }
        Op::Prune { who, yes } => {
            let mut args = vec![world.config(who).to_str().unwrap(), "--out", out, "--prune"];
            if yes {
                args.push("--yes");
            }
            let ran = world.sweep(&args);
            let allowed = model.owner.is_none_or(|o| o == who);
            Step {
                ran: Some(ran),
                must_succeed: allowed && !model.planted,
                reported: yes && who == Who::A,
            }
        }
        Op::ReportOnly { who } => {
            let ran = world.sweep(&[
                world.config(who).to_str().unwrap(),
                "--out",
                out,
                "--report-only",
                "--quiet",
            ]);
            Step {
                ran: Some(ran),
                // Nothing to report is input to fix (exit 2), so success is not required.
                must_succeed: false,
                reported: who == Who::A,
            }
        }
        Op::Shard { index } => {
            let shard = format!("{index}/2");
            let ran = world.sweep(&[
                world.a.to_str().unwrap(),
                "--out",
                world.shards.to_str().unwrap(),
                "--shard",
                &shard,
                "--quiet",
            ]);
            Step {
                ran: Some(ran),
                must_succeed: true,
                reported: false,
            }
        }
        Op::Merge => {
            let ran = world.sweep(&[
                world.a.to_str().unwrap(),
                "--out",
                out,
                "--merge",
                world.shards.to_str().unwrap(),
                "--quiet",
            ]);
            if ran.code == 0 {
                model.owner = Some(Who::A);
            }
            Step {
                ran: Some(ran),
                must_succeed: false,
                reported: true,
            }
        }
        Op::Override => {
            let ran = world.sweep(&[
                world.a.to_str().unwrap(),
                "--out",
                out,
                "--quiet",
                "model.C=0.25",
            ]);
            Step {
                ran: Some(ran),
                // Its own folder (seq+digest): links planted in seq/ do not concern it.
                must_succeed: true,
                reported: false,
            }
        }
        Op::EditGrid { variant } => {
            write_config(
                &world.root.join("a"),
                "seq.toml",
                &grid_a(variant),
                SUBSAMPLE,
            );
            nothing
        }
        Op::Damage { run, how } => {
            let ids = world.run_ids();
            if let Some(id) = ids.get(run % ids.len().max(1)) {
                let dir = folder.join("runs").join(id);
                if through_link(&world.root, &dir.join("run.json"))
                    || through_link(&world.root, &folder.join("cv").join(id))
                {
                    // The user edits the harness's files, not what a link points at.
                    return nothing;
                }
                match how {
                    Damage::Accuracy => edit_json(&dir.join("run.json"), |v| {
                        if let Some(m) = v.get_mut("metrics").and_then(|m| m.as_object_mut()) {
                            m.insert("accuracy".into(), 7.5.into());
                        }
                    }),
                    Damage::TruncateModel => {
                        if let Ok(bytes) = std::fs::read(dir.join("model.npz")) {
                            std::fs::write(dir.join("model.npz"), &bytes[..bytes.len() / 2])
                                .unwrap();
                        }
                    }
                    Damage::FoldScore => {
                        let cv = folder.join("cv").join(id);
                        if let Ok(entries) = std::fs::read_dir(&cv) {
                            for e in entries.flatten() {
                                edit_json(&e.path(), |v| {
                                    v["score"] = 7.5.into();
                                });
                            }
                        }
                    }
                    Damage::DeleteRecord => {
                        let _ = std::fs::remove_file(dir.join("run.json"));
                    }
                }
            }
            nothing
        }
        Op::Plant { link } => {
            if !folder.is_dir() {
                return nothing;
            }
            let first = world.run_ids().into_iter().next();
            let (at, to) = match link {
                Link::Lock => (folder.join(".lock"), world.outside.join("victim.txt")),
                Link::Confusion => (folder.join("confusion"), world.outside.join("folder")),
                Link::Cv => (folder.join("cv"), world.outside.join("folder")),
                Link::Runs => (folder.join("runs"), world.outside.join("folder")),
                Link::FirstRun => match first {
                    Some(id) => (folder.join("runs").join(id), world.outside.join("folder")),
                    None => return nothing,
                },
                Link::MetricsCsv => (folder.join("metrics.csv"), world.outside.join("victim.txt")),
                Link::Readme => (folder.join("README.md"), world.outside.join("victim.txt")),
            };
            // Whatever was there is moved aside inside the folder (as a user might), then linked.
            let aside = folder.join(format!("aside-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&aside);
            let _ = std::fs::remove_file(&aside);
            if at.symlink_metadata().is_ok() {
                std::fs::rename(&at, &aside).unwrap();
            }
            if std::os::unix::fs::symlink(&to, &at).is_ok() {
                model.planted = true;
            }
            nothing
        }
        Op::Foreign => {
            for name in ["my-notes", "0123456789ab"] {
                let dir = folder.join("runs").join(name);
                if through_link(&world.root, &dir) {
                    continue;
                }
                if std::fs::create_dir_all(&dir).is_ok() {
                    std::fs::write(dir.join("notes.txt"), b"the user's notes").unwrap();
                }
            }
            nothing
        }
        Op::Heal => {
            remove_links(&folder);
            model.planted = false;
            nothing
        }
    }
}

/// Whether `path` (under `root`) passes through a symbolic link, or is one.
fn through_link(root: &Path, path: &Path) -> bool {
    let mut at = root.to_path_buf();
    path.strip_prefix(root).unwrap().components().any(|c| {
        at.push(c);
        at.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
    })
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&text) else {
        return;
    };
    edit(&mut value);
    std::fs::write(path, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
}

/// Removes every symbolic link under `dir` (never following one).
fn remove_links(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let kind = e.file_type().unwrap();
        if kind.is_symlink() {
            std::fs::remove_file(e.path()).unwrap();
        } else if kind.is_dir() {
            remove_links(&e.path());
        }
    }
}

fn check(
    world: &World,
    before: &BTreeMap<PathBuf, Vec<u8>>,
    step: &Step,
    op: &Op,
) -> Result<(), TestCaseError> {
    // 1. Nothing outside the results root changed.
    prop_assert_eq!(
        &world.outside_snapshot(),
        before,
        "outside changed after {:?}",
        op
    );
    // 2. Exit codes.
    if let Some(ran) = &step.ran {
        prop_assert!(
            ran.code == 0 || ran.code == 2,
            "{:?}: exit {} ({})",
            op,
            ran.code,
            ran.stderr
        );
        prop_assert!(!ran.stderr.contains("panicked"), "{:?}: {}", op, ran.stderr);
        if ran.code != 0 {
            let last = ran
                .stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("");
            prop_assert!(last.starts_with("error: "), "{:?}: {}", op, ran.stderr);
        }
        if step.must_succeed {
            prop_assert_eq!(ran.code, 0, "{:?} must succeed: {}", op, ran.stderr);
        }
    }
    // 3. Never left locked.
    let lock = world.folder().join(".lock");
    if lock.symlink_metadata().is_ok_and(|m| m.is_file()) {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&lock)
            .unwrap();
        prop_assert!(file.try_lock().is_ok(), "{:?} left the folder locked", op);
    }
    let metrics = world.folder().join("metrics.csv");
    let table = read_table(&metrics);
    // 4. Every finished run of the owner in metrics.csv and the README.
    if step.reported && step.ran.as_ref().is_some_and(|r| r.code == 0) {
        let dry = world.sweep(&[
            world.a.to_str().unwrap(),
            "--out",
            world.out.to_str().unwrap(),
            "--dry-run",
        ]);
        prop_assert_eq!(dry.code, 0, "{}", dry.stderr);
        let readme = std::fs::read_to_string(world.folder().join("README.md")).unwrap_or_default();
        for line in dry.stdout.lines().filter(|l| l.contains("finished:")) {
            let id = line.split_whitespace().next().unwrap();
            if !is_run_id(id) {
                continue;
            }
            prop_assert!(
                table.contains_key(id),
                "{:?}: finished run {} not in metrics.csv",
                op,
                id
            );
            prop_assert!(
                readme.contains(id),
                "{:?}: finished run {} not in the README",
                op,
                id
            );
        }
    }
    // 5. No record trusted that fails its checks (where the table is plain, not a planted link).
    if metrics.symlink_metadata().is_ok_and(|m| m.is_file()) {
        for (id, accuracy) in &table {
            prop_assert!(
                (0.0..=1.0).contains(accuracy),
                "{:?}: accuracy {} of {}",
                op,
                accuracy,
                id
            );
        }
    }
    Ok(())
}

/// metrics.csv's accuracy by run id (empty where it is missing or not a plain file).
fn read_table(path: &Path) -> BTreeMap<String, f64> {
    if !path.symlink_metadata().is_ok_and(|m| m.is_file()) {
        return BTreeMap::new();
    }
    let Ok(mut reader) = csv::Reader::from_path(path) else {
        return BTreeMap::new();
    };
    let header = reader.headers().unwrap().clone();
    let id = header.iter().position(|h| h == "run_id").unwrap();
    let acc = header.iter().position(|h| h == "accuracy").unwrap();
    reader
        .records()
        .flatten()
        .map(|r| (r[id].to_string(), r[acc].parse().unwrap_or(f64::NAN)))
        .collect()
}

fn is_run_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn operation_sequences_keep_the_invariants() {
    let cases = env_number("OPERATION_SEQUENCES", 6);
    let steps = env_number("OPERATION_STEPS", 10) as usize;
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        max_shrink_iters: 40,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    // Every sequence starts from a sweep of A, so that there is something to damage.
    let sequences = prop::collection::vec(op(), 1..steps).prop_map(|mut ops| {
        ops.insert(
            0,
            Op::Sweep {
                who: Who::A,
                force: false,
                adopt: false,
            },
        );
        ops
    });
    let result = runner.run(&sequences, |ops| {
        let world = World::new();
        let before = world.outside_snapshot();
        let mut model = Model::default();
        for op in &ops {
            let step = apply(&world, &mut model, op);
            check(&world, &before, &step, op)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
