//! Parity with scikit-learn on a real-data subsample: the same config through `sweep` and
//! `scripts/sklearn_reference.py`, compared by the `parity` module. Needs the pinned scikit-learn
//! venv (`scripts/setup_python.sh`); `scripts/test.sh` sets it up and runs this test.

use std::path::{Path, PathBuf};
use std::process::Command;

use mnist_logreg::config::Config;
use mnist_logreg::data::repository_data_dir;

mod common;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MNIST_LOGREG_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no scikit-learn venv at {}: run scripts/test.sh (or scripts/setup_python.sh)",
        venv.display()
    );
    venv
}

/// Writes `body` with a [data] section on the first `subsample` images as `<dir>/<file>`, sweeps
/// it into `<dir>/results`, and returns the config file, the config and the results root.
fn swept(dir: &Path, file: &str, body: &str, subsample: usize) -> (PathBuf, Config, PathBuf) {
    let path = common::write_config(dir, file, body, subsample);
    let out = dir.join("results");
    let (config, _) = common::sweep_library(&path, &out);
    (path, config, out)
}

/// Runs `scripts/sklearn_reference.py` on the config at `path` into the results root `out`.
fn run_reference(path: &Path, out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sklearn_reference.py");
    let status = Command::new(python())
        .arg(&script)
        .arg(path)
        .arg("--out")
        .arg(out)
        .arg("--sweep")
        .arg(env!("CARGO_BIN_EXE_sweep"))
        .status()
        .unwrap();
    assert!(status.success(), "sklearn_reference.py failed");
}

/// Runs a Python snippet in the scikit-learn venv with `args`; fails with its output.
fn run_python(script: &str, args: &[&Path]) {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

const CONFIG: &str = r#"
name = "parity-ci"
[split]
train_size = 0.8
random_state = 0
[model]
C = 0.1
[output]
predictions = true
# The three runs share a split: each gets 3-fold cross-validation scores on both sides
# (GridSearchCV in the reference script).
[selection]
cv = 3
shuffle = true
random_state = 7
# Raw pixels, stopped early as the notebook; [0, 1] pixels; and one-vs-rest.
[[grid]]
scaler = "none"
max_iter = 25
[[grid]]
scaler = "unit"
max_iter = 100
[[grid]]
scaler = "unit"
multi_class = "ovr"
max_iter = 20
"#;

#[test]
#[ignore = "needs the scikit-learn venv: run scripts/test.sh"]
fn harness_matches_scikit_learn_on_a_real_subsample() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, config, out) = swept(tmp.path(), "parity-ci.toml", CONFIG, 4000);

    run_reference(&path, &out);

    let rows = mnist_logreg::parity::run(std::slice::from_ref(&config), &out).unwrap();
    assert_eq!(
        rows.len(),
        3,
        "every run found on both sides (the run ids agree)"
    );
    for row in &rows {
        assert_eq!(
            row.same_test_indices,
            Some(true),
            "{}: test indices differ",
            row.run_id
        );
        assert_eq!(row.harness_status, "ok");
        let diff = row.diff_pp.unwrap();
        let agreement = row.agreement_pct.unwrap();
        assert!(
            diff.abs() <= 1.0,
            "{}: accuracy gap {diff:+.2} pp",
            row.run_id
        );
        assert!(
            agreement >= 96.0,
            "{}: agreement {agreement:.2} %",
            row.run_id
        );
        // Same folds (StratifiedKFold, shuffled), same scaler per fold: the mean CV accuracies
        // agree as closely as the fits do.
        let (sk, h) = (row.sklearn_cv_mean.unwrap(), row.harness_cv_mean.unwrap());
        assert!(
            (sk - h).abs() <= 0.01,
            "{}: CV accuracy {h:.4} against GridSearchCV's {sk:.4}",
            row.run_id
        );
        assert!(row.mcnemar_p.is_some_and(|p| (0.0..=1.0).contains(&p)));
    }
    let report = std::fs::read_to_string(out.join("parity.md")).unwrap();
    assert!(
        report.contains(
            "selection by 3-fold cross-validation (accuracy), harness against GridSearchCV"
        ),
        "{report}"
    );
    assert!(report.contains("\nSelected: "), "{report}");
    assert!(report.contains("Test index sets identical to scikit-learn's: **yes** (3 of 3"));
}

/// The harness's metrics follow scikit-learn's definitions: its own predictions, scored by
/// scikit-learn's functions, give the same numbers, including on test sets so small that classes
/// are missing from the labels or the predictions (macro averages then run over the labels
/// present, as scikit-learn's `unique_labels`).
#[test]
#[ignore = "needs the scikit-learn venv: run scripts/test.sh"]
fn metrics_equal_scikit_learns_functions_when_classes_are_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"tiny\"\n[split]\ntest_size = [7, 12, 40]\nrandom_state = 3\n[model]\nmax_iter = 5\n[output]\npredictions = true\nrun_charts = \"none\"\n";
    let (_, _, out) = swept(tmp.path(), "tiny.toml", body, 600);
    let script = r#"
import csv, sys
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
root = sys.argv[1]
missing = 0
for row in csv.DictReader(open(f"{root}/metrics.csv")):
    preds = list(csv.DictReader(open(f"{root}/runs/{row['run_id']}/predictions.csv")))
    y = [int(p["label"]) for p in preds]
    p = [int(p["predicted"]) for p in preds]
    missing += len(set(range(10)) - set(y) - set(p)) > 0
    macro = precision_recall_fscore_support(y, p, average="macro", zero_division=0)
    expected = {"accuracy": accuracy_score(y, p), "precision_macro": macro[0],
                "recall_macro": macro[1], "f1_macro": macro[2],
                "f1_weighted": f1_score(y, p, average="weighted", zero_division=0)}
    for key, value in expected.items():
        got = float(row[key])
        assert abs(got - value) < 1e-12, f"{row['run_id']} {key}: harness {got}, scikit-learn {value}"
assert missing > 0, "no run had a missing class: the test proves nothing"
print("ok")
"#;
    run_python(script, &[&out.join("tiny")]);
}

/// Every finished run's `model.npz` loads with numpy in one line and, applied to the raw test
/// pixels, reproduces the harness's test predictions exactly: softmax and one-vs-rest, no scaler,
/// pixels/255 and a standard scaler, f64 and f32.
#[test]
#[ignore = "needs the scikit-learn venv: run scripts/test.sh"]
fn saved_models_reproduce_the_predictions_in_numpy() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"models\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 15\n[output]\npredictions = true\nrun_charts = \"none\"\n\
                [[grid]]\nscaler = [\"none\", \"unit\", \"standard\"]\n[[grid]]\nmulti_class = \"ovr\"\nscaler = \"unit\"\n\
                [[grid]]\ndtype = \"f32\"\nscaler = \"unit\"\n";
    let (_, _, out) = swept(tmp.path(), "models.toml", body, 3000);
    let data = repository_data_dir();
    let script = r#"
import csv, json, os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[3], "scripts"))
from sklearn_reference import load_mnist
root, data = sys.argv[1], sys.argv[2]
images, labels = load_mnist(data, 3000)
runs = 0
for run_id in sorted(os.listdir(os.path.join(root, "runs"))):
    m = np.load(os.path.join(root, "runs", run_id, "model.npz"))
    assert int(m["format_version"]) == 2
    meta = json.loads(str(m["run_json"]))
    assert meta["run_id"] == run_id, meta
    rows = list(csv.DictReader(open(os.path.join(root, "runs", run_id, "predictions.csv"))))
    index = np.array([int(r["index"]) for r in rows])
    x = (images[index].astype(np.float64) - m["scaler_offset"]) * m["scaler_scale"]
    z = x @ m["coef"].T + m["intercept"]
    # The probabilities as the README computes them, for either model kind.
    if int(m["ovr"]):
        p = 1 / (1 + np.exp(-z)); p /= p.sum(axis=1, keepdims=True)
    else:
        p = np.exp(z - z.max(axis=1, keepdims=True)); p /= p.sum(axis=1, keepdims=True)
    stored = np.array([[float(r[f"p{k}"]) for k in range(10)] for r in rows])
    assert np.abs(p - stored).max() <= 1e-6, (run_id, np.abs(p - stored).max())
    predicted = m["classes"][np.argmax(z, axis=1)]
    expected = np.array([int(r["predicted"]) for r in rows])
    differ = int((predicted != expected).sum())
    assert differ == 0, f"{run_id} ({meta['params']['scaler']}): {differ} of {len(rows)} predictions differ"
    runs += 1
assert runs == 5, runs
print("ok")
"#;
    run_python(
        script,
        &[
            &out.join("models"),
            &data,
            Path::new(env!("CARGO_MANIFEST_DIR")),
        ],
    );
}

/// The harness's lbfgs takes scipy's L-BFGS-B path, iterate for iterate: on 3,000 real images
/// (raw pixels, pixels/255, and one-vs-rest), 30 iterations, scipy's `minimize(method="L-BFGS-B")`
/// from the venv on scikit-learn's own objective (`LinearModelLoss`, with the options
/// `LogisticRegression` passes) gives the same objective after every iteration to 1e-10
/// relative, the same iteration count and the same number of evaluations.
#[test]
#[ignore = "needs the scikit-learn venv: run scripts/test.sh"]
fn lbfgs_follows_scipys_path_iterate_for_iterate() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"path\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[model]\nmax_iter = 30\n[output]\nrun_charts = \"none\"\n\
                [[grid]]\nscaler = [\"none\", \"unit\"]\n[[grid]]\nmulti_class = \"ovr\"\nscaler = \"unit\"\nmax_iter = 15\n";
    let (_, _, out) = swept(tmp.path(), "path.toml", body, 3000);
    let data = repository_data_dir();
    let script = r#"
import json, os, sys
import numpy as np
from sklearn.model_selection import train_test_split
sys.path.insert(0, os.path.join(sys.argv[3], "scripts"))
from sklearn_reference import load_mnist, scipy_lbfgs_path as scipy_path
root, data = sys.argv[1], sys.argv[2]
images, labels = load_mnist(data, 3000)
train, _ = train_test_split(np.arange(3000), train_size=0.8, random_state=0)

checked = 0
for run_id in sorted(os.listdir(os.path.join(root, "runs"))):
    run = json.load(open(os.path.join(root, "runs", run_id, "run.json")))
    params, diag = run["run"]["params"], run["diagnostics"]
    p = dict(params["model"], scaler=params["scaler"])
    x = images[train].astype(np.float64)
    if p["scaler"] == "unit":
        x = x / 255.0
    y = labels[train].astype(np.float64)
    harness = [t["objective"] for t in diag["trace"]]
    if p["multi_class"] == "multinomial":
        paths = [scipy_path(x, y, 10, p["C"], p["max_iter"])]
        expected = paths[0][0]
    else:
        paths = [scipy_path(x, (y == k).astype(np.float64), None, p["C"], p["max_iter"]) for k in range(10)]
        # The harness's one-vs-rest trace sums the ten objectives (a class that stopped stays).
        longest = max(len(q[0]) for q in paths)
        expected = [sum(q[0][min(i, len(q[0]) - 1)] for q in paths) for i in range(longest)]
    assert len(harness) == len(expected), f"{run_id}: {len(harness) - 1} iterations, scipy {len(expected) - 1}"
    for i, (h, s) in enumerate(zip(harness, expected)):
        assert abs(h - s) <= 1e-10 * abs(s), f"{run_id} iteration {i}: harness {h!r}, scipy {s!r}"
    assert diag["n_iter"] == max(q[1] for q in paths), (run_id, diag["n_iter"])
    assert diag["evaluations"] == sum(q[2] for q in paths), (run_id, diag["evaluations"], [q[2] for q in paths])
    checked += 1
assert checked == 3, checked
print("ok")
"#;
    run_python(
        script,
        &[
            &out.join("path"),
            &data,
            Path::new(env!("CARGO_MANIFEST_DIR")),
        ],
    );
}

/// The vendored SAG and SAGA (`linfa_logistic::SagParams`) against scikit-learn's `sag` and `saga` on
/// the same 1,000 MNIST images (pixels/255, tol 1e-4): random_state 0 and 3, C = 0.05 where both
/// converge (about 120 epochs for sag, 250 for saga) and C = 1 where neither does in 300 epochs,
/// and SAGA with an l1 part (l1_ratio 0.5 and 1 at C = 0.05): the same epoch count, the same
/// predictions on 1,000 other images to at least 99.9 %, and for l1 the same share of zero
/// weights to 1 %.
#[test]
#[ignore = "needs the scikit-learn venv (scripts/test.sh runs it)"]
fn sag_and_saga_follow_scikit_learn() {
    use linfa::prelude::{DatasetBase, Fit, ParamGuard};
    use linfa_logistic::SagParams;
    use mnist_logreg::config::DataConfig;
    // (saga, random_state, C, l1_ratio)
    let mut cases: Vec<(bool, u32, f64, f64)> = Vec::new();
    for saga in [false, true] {
        for seed in [0, 3] {
            for c in [0.05, 1.0] {
                cases.push((saga, seed, c, 0.0));
            }
        }
    }
    cases.extend([(true, 0, 0.05, 0.5), (true, 0, 0.05, 1.0)]);
    let key = |&(saga, seed, c, r): &(bool, u32, f64, f64)| {
        format!("{}-{seed}-{c:?}-{r:?}", if saga { "saga" } else { "sag" })
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = repository_data_dir();
    let out = tmp.path().join("sklearn.json");
    let plan = tmp.path().join("cases.json");
    let listed: Vec<serde_json::Value> = cases
        .iter()
        .map(|case| {
            serde_json::json!({"key": key(case), "solver": if case.0 { "saga" } else { "sag" },
                               "seed": case.1, "C": case.2, "l1_ratio": case.3})
        })
        .collect();
    std::fs::write(&plan, serde_json::to_string(&listed).unwrap()).unwrap();
    let script = r#"
import json, os, sys, time, warnings
import numpy as np
from sklearn.linear_model import LogisticRegression
sys.path.insert(0, os.path.join(sys.argv[3], "scripts"))
from sklearn_reference import load_mnist
data, out, cases = sys.argv[1], sys.argv[2], json.load(open(sys.argv[4]))
images, labels = load_mnist(data, 2000)
x = images.astype(np.float64) / 255.0
result = {}
for case in cases:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LogisticRegression(solver=case["solver"], C=case["C"], l1_ratio=case["l1_ratio"],
                               max_iter=300, random_state=case["seed"])
        start = time.perf_counter()
        m.fit(x[:1000], labels[:1000])
        seconds = time.perf_counter() - start
    result[case["key"]] = {"n_iter": int(m.n_iter_[0]), "seconds": seconds,
                           "zeros": float((m.coef_ == 0).mean()),
                           "pred": m.predict(x[1000:]).tolist()}
json.dump(result, open(out, "w"))
"#;
    run_python(
        script,
        &[&data, &out, Path::new(env!("CARGO_MANIFEST_DIR")), &plan],
    );
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let mnist = mnist_logreg::data::load(&DataConfig {
        cache_dir: data.join("cache"),
        dir: data.clone(),
        subsample: Some(2000),
    })
    .unwrap();
    let x = mnist.images.mapv(|v| f64::from(v) / 255.0);
    let (train, test) = (
        x.slice(ndarray::s![..1000, ..]),
        x.slice(ndarray::s![1000.., ..]),
    );
    let y: Vec<usize> = mnist.labels[..1000].iter().map(|&l| l as usize).collect();
    for case in &cases {
        let (saga, seed, c, l1_ratio) = *case;
        let start = std::time::Instant::now();
        let solver = if saga {
            SagParams::saga()
        } else {
            SagParams::sag()
        };
        let fit = solver
            .alpha((1.0 - l1_ratio) / c)
            .l1_penalty(l1_ratio / c)
            .tol(1e-4)
            .max_epochs(300)
            .seed(mnist_logreg::split::sag_seed(seed))
            .check()
            .unwrap()
            .fit(&DatasetBase::new(train, ndarray::ArrayView1::from(&y[..])))
            .unwrap();
        let report = fit.report().unwrap();
        let seconds = start.elapsed().as_secs_f64();
        let key = key(case);
        let sk = &reference[&key];
        let z = test.dot(fit.params()) + fit.intercept();
        let same = z
            .rows()
            .into_iter()
            .zip(sk["pred"].as_array().unwrap())
            .filter(|(row, p)| mnist_logreg::digits::argmax(*row) as u64 == p.as_u64().unwrap())
            .count();
        let zeros =
            fit.params().iter().filter(|&&w| w == 0.0).count() as f64 / fit.params().len() as f64;
        // Seconds are informative only (this test asserts no timing).
        eprintln!(
            "{key}: n_iter {} (scikit-learn {}), {same} of 1000 predictions the same, zero weights {:.1} % ({:.1} %); {:.1} ms per epoch (scikit-learn {:.1})",
            report.iterations,
            sk["n_iter"],
            100.0 * zeros,
            100.0 * sk["zeros"].as_f64().unwrap(),
            1000.0 * seconds / report.iterations as f64,
            1000.0 * sk["seconds"].as_f64().unwrap() / sk["n_iter"].as_f64().unwrap()
        );
        assert_eq!(report.iterations, sk["n_iter"].as_u64().unwrap(), "{key}");
        assert_eq!(report.converged(), report.iterations < 300, "{key}");
        assert!(same >= 999, "{key}: {same} of 1000 predictions the same");
        assert!(
            (zeros - sk["zeros"].as_f64().unwrap()).abs() <= 0.01,
            "{key}: zeros {zeros}"
        );
    }
}

/// Gradient descent against the reference script's numpy descent (`GradientDescent`): on 3,000
/// real images, one-vs-rest on pixels/255 without a penalty (notebook C's setting) and
/// multinomial with C = 1, the same iteration counts, identical test predictions, and the
/// objective after every iteration within 1e-9 relative, as parity.md reports it.
#[test]
#[ignore = "needs the scikit-learn venv: run scripts/test.sh"]
fn gradient_descent_follows_numpy_iteration_for_iteration() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "name = \"gd\"\n[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = \"unit\"\n\
                [model]\nsolver = \"gd\"\nmax_iter = 40\n[output]\npredictions = true\nrun_charts = \"none\"\n\
                [[grid]]\nmulti_class = \"ovr\"\nC = inf\nlearning_rate = [0.5, 2.0]\n\
                [[grid]]\nC = 1.0\nlearning_rate = 1.0\n";
    let (path, config, out) = swept(tmp.path(), "gd.toml", body, 3000);
    run_reference(&path, &out);
    let rows = mnist_logreg::parity::run(std::slice::from_ref(&config), &out).unwrap();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.agreement_pct, Some(100.0), "{}", row.run_id);
        assert_eq!(row.sklearn_n_iter, row.harness_n_iter, "{}", row.run_id);
        let trace = row.trace.expect("gd runs compare their paths");
        assert_eq!(trace.harness_points, 41, "{}", row.run_id);
        assert!(trace.holds(), "{}: {trace:?}", row.run_id);
        assert!(
            row.verdict
                .contains("met: objective after each iteration, 41 points against 41"),
            "{}",
            row.verdict
        );
    }
}
