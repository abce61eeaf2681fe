#!/usr/bin/env python3
"""scikit-learn reference runs for a harness config.

Usage: .venv/bin/python scripts/sklearn_reference.py CONFIG [--out DIR] [--data DIR] [--sweep BIN]

Asks the harness for the runs of CONFIG (`sweep CONFIG --plan`: the grid expanded by its one
parameter table, with run ids and every parameter by name), so the grid, the run ids and the
parameter names are never restated here, and runs scikit-learn on each with the same semantics: the same 70,000 images in fetch_openml order, `train_test_split`, the same
scaler fitted on the training part, `LogisticRegression(solver='lbfgs')` (multinomial) or
`OneVsRestClassifier(LogisticRegression(...))`; for solver "gd", the same gradient descent in
numpy (`GradientDescent`, below: scikit-learn has no such solver). Writes the harness's CSV schema (metrics.csv,
per_class.csv, runs/<run_id>/predictions.csv when asked) under `<out>/<name>/sklearn/`.
"""

import argparse
import csv
import gzip
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (f1_score, log_loss,
                             precision_recall_fscore_support)
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler, MinMaxScaler, StandardScaler

FILES = [
    ("train-images.idx3-ubyte.gz", 16),
    ("train-labels.idx1-ubyte.gz", 8),
    ("t10k-images.idx3-ubyte.gz", 16),
    ("t10k-labels.idx1-ubyte.gz", 8),
]


def scipy_lbfgs_path(x, y, classes, c, max_iter, tol=1e-4):
    """What LogisticRegression(solver="lbfgs") hands scipy, run with a callback: scikit-learn's own
    objective (LinearModelLoss, with an intercept) minimised by scipy's L-BFGS-B with the options
    scikit-learn passes. `classes` is the number of classes (multinomial) or None (binary, y in
    {0, 1}). Returns the objective at the start and after every iteration, the iteration count and
    the number of evaluations. The one scipy driver of the project (tests/parity.rs and
    scripts/path_parting.py use it)."""
    from scipy.optimize import minimize
    from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss
    n, d = x.shape
    if classes is None:
        loss = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
        w0 = np.zeros(d + 1)
    else:
        loss = LinearModelLoss(base_loss=HalfMultinomialLoss(n_classes=classes), fit_intercept=True)
        w0 = np.zeros((classes, d + 1), order="F").ravel(order="F")
    path = [loss.loss(w0, x, y, None, 1.0 / (c * n))]

    def callback(intermediate_result):
        path.append(intermediate_result.fun)

    res = minimize(loss.loss_gradient, w0, method="L-BFGS-B", jac=True,
                   args=(x, y, None, 1.0 / (c * n), 1),
                   options={"maxiter": max_iter, "maxls": 50, "gtol": tol,
                            "ftol": 64 * np.finfo(float).eps},
                   callback=callback)
    return path, res.nit, res.nfev


def plan(config_path, sweep):
    """The harness's plan of CONFIG: name, data folder and subsample, selection, parameter names
    in table order, and the runs (id and parameters), in config order."""
    command = (sweep or ["cargo", "run", "--quiet", "--bin", "sweep", "--"]) + [config_path, "--plan"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr.strip() or f"error: {' '.join(command)} failed")
    return json.loads(done.stdout)


def selection_of(plan):
    """`[selection]` as cross_validate reads it (the harness's shuffle_seed is scikit-learn's
    shuffle + random_state)."""
    sel = plan.get("selection")
    if not sel:
        return None
    seed = sel.get("shuffle_seed")
    return {"cv": sel["cv"], "scoring": sel["scoring"], "shuffle": seed is not None,
            "random_state": seed}


def csv_text(value):
    """A parameter value as the harness's CSV writes it: booleans lower-case, no value empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value


def load_mnist(data_dir, subsample):
    """The 70,000 images in fetch_openml('mnist_784') order: training then test."""
    arrays = []
    for name, header in FILES:
        with gzip.open(os.path.join(data_dir, name), "rb") as f:
            arrays.append(np.frombuffer(f.read(), dtype=np.uint8, offset=header))
    images = np.concatenate([arrays[0], arrays[2]]).reshape(-1, 784)
    labels = np.concatenate([arrays[1], arrays[3]])
    n = subsample or len(labels)
    return images[:n], labels[:n]


def scaled(scaler, x_train, x_test):
    if scaler == "none":
        return x_train, x_test
    if scaler == "unit":
        return x_train / 255.0, x_test / 255.0
    s = {"standard": StandardScaler, "min_max": MinMaxScaler, "max_abs": MaxAbsScaler}[scaler]()
    return s.fit_transform(x_train), s.transform(x_test)


def scaler_step(scaler):
    """The scaler as a pipeline step (refitted on each fold's training rows)."""
    if scaler == "none":
        return "passthrough"
    if scaler == "unit":
        return FunctionTransformer(lambda x: x / 255.0)
    return {"standard": StandardScaler, "min_max": MinMaxScaler, "max_abs": MaxAbsScaler}[scaler]()


class GradientDescent(ClassifierMixin, BaseEstimator):
    """The harness's solver "gd" (notebook C's method) in a few lines of numpy: full-batch gradient
    descent from all-zero weights on scikit-learn's objective, mean log-loss + ||W||^2 / (2 C n)
    (no penalty for C = inf): W <- W - lr (X^T (P - Y) / n + W / (C n)), b <- b - lr mean(P - Y).
    P is the softmax over the classes (multi_class "multinomial"), or one sigmoid per class
    (multi_class "ovr": each class its own binary problem, as OneVsRestClassifier would fit them,
    computed side by side so that each pass over the data serves all ten). Each problem stops
    when its largest gradient component is <= tol (checked at every iterate, the start included)
    or after max_iter steps (with a ConvergenceWarning); a stopped class keeps its weights.
    `objective_path_` holds the objective at the start and after every step, one-vs-rest summed
    over the classes (a stopped class counted where it stopped), as the harness records it."""

    def __init__(self, learning_rate=0.1, C=1.0, max_iter=100, tol=1e-4, fit_intercept=True,
                 multi_class="multinomial"):
        self.learning_rate, self.C, self.max_iter = learning_rate, C, max_iter
        self.tol, self.fit_intercept, self.multi_class = tol, fit_intercept, multi_class

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        n, d = x.shape
        ovr = self.multi_class == "ovr"
        target = (y[:, None] == self.classes_[None, :]) * 1.0
        k = target.shape[1]
        w, b = np.zeros((d, k)), np.zeros(k)
        penalty = 0.0 if np.isinf(self.C) else 1.0 / (self.C * n)
        active = np.ones(k, dtype=bool)
        n_iter = np.zeros(k, dtype=int)
        self.objective_path_ = []
        for step in range(self.max_iter + 1):
            z = x @ w + b
            if ovr:
                p = 1.0 / (1.0 + np.exp(-z))
                loss = np.logaddexp(0, np.where(target == 1, -z, z)).sum()
            else:
                lse = z.max(axis=1, keepdims=True)
                lse = lse + np.log(np.exp(z - lse).sum(axis=1, keepdims=True))
                p = np.exp(z - lse)
                loss = (lse[:, 0] - (z * target).sum(axis=1)).sum()
            self.objective_path_.append(loss / n + penalty / 2 * (w ** 2).sum())
            residual = (p - target) / n
            grad_w = x.T @ residual + penalty * w
            grad_b = residual.sum(axis=0)
            largest = np.abs(grad_w).max(axis=0)
            if self.fit_intercept:
                largest = np.maximum(largest, np.abs(grad_b))
            # One-vs-rest: each class stops on its own gradient; multinomial: on the largest.
            done = largest <= self.tol if ovr else np.full(k, largest.max() <= self.tol)
            active &= ~done
            if not active.any() or step == self.max_iter:
                break
            n_iter[active] += 1
            w[:, active] -= self.learning_rate * grad_w[:, active]
            if self.fit_intercept:
                b[active] -= self.learning_rate * grad_b[active]
        if active.any():
            warnings.warn(f"gradient descent stopped after {step} steps", ConvergenceWarning)
        self.coef_, self.intercept_ = w.T, b
        self.n_iter_ = n_iter if ovr else n_iter[:1]
        return self

    def decision_function(self, x):
        return x @ self.coef_.T + self.intercept_

    def predict_proba(self, x):
        z = self.decision_function(x)
        if self.multi_class == "ovr":
            # OneVsRestClassifier's: each class's sigmoid, normalised to sum to one.
            p = 1.0 / (1.0 + np.exp(-z))
            return p / p.sum(axis=1, keepdims=True)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x):
        return self.classes_[np.argmax(self.decision_function(x), axis=1)]


def estimator(run):
    solver = run.get("solver", "lbfgs")
    if solver == "gd":
        return GradientDescent(learning_rate=run["learning_rate"], C=float(run["C"]),
                               max_iter=run["max_iter"], tol=run["tol"],
                               fit_intercept=run["fit_intercept"], multi_class=run["multi_class"])
    options = {}
    if run.get("l1_ratio", 0.0) > 0:
        options["l1_ratio"] = run["l1_ratio"]
    if solver in ("sag", "saga"):
        # The harness resolves sag's and saga's random_state (the split's unless given).
        options["random_state"] = run["model.random_state"]
    lr = LogisticRegression(C=float(run["C"]), max_iter=run["max_iter"], tol=run["tol"],
                            fit_intercept=run["fit_intercept"], solver=solver, **options)
    return lr if run["multi_class"] == "multinomial" else OneVsRestClassifier(lr)


def split_key(run):
    return (run["train_size"], run["test_size"], run["random_state"], run["shuffle"])


def cross_validate(runs, selection, images, labels):
    """[selection]: GridSearchCV over each split's runs (those sharing a split with another),
    one candidate per run, a Pipeline(scaler, model) so that the scaler is refitted per fold.
    Returns run id -> (scoring, mean, std) with GridSearchCV's mean_test_score and std_test_score."""
    groups = {}
    for rid, run in runs:
        groups.setdefault(split_key(run), []).append((rid, run))
    scores = {}
    for key, members in groups.items():
        if len(members) < 2:
            continue
        run0 = members[0][1]
        train_idx, _ = train_test_split(np.arange(len(labels)), train_size=run0["train_size"],
                                        test_size=run0["test_size"], random_state=run0["random_state"],
                                        shuffle=run0["shuffle"])
        shuffle = selection.get("shuffle", False)
        cv = StratifiedKFold(n_splits=selection["cv"], shuffle=shuffle,
                             random_state=selection.get("random_state") if shuffle else None)
        scoring = selection.get("scoring", "accuracy")
        # One candidate per run: the estimator itself is the grid parameter.
        grid = [{"scaler": [scaler_step(run["scaler"])], "model": [estimator(run)]} for _, run in members]
        dtype = np.float32 if run0["dtype"] == "f32" else np.float64
        pipeline = Pipeline([("scaler", "passthrough"), ("model", estimator(run0))])
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search = GridSearchCV(pipeline, grid, cv=cv, scoring=scoring, refit=False, n_jobs=1)
            search.fit(images[train_idx].astype(dtype), labels[train_idx].astype(int))
        means, stds = search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
        for (rid, _), mean, std in zip(members, means, stds):
            scores[rid] = (scoring, float(mean), float(std))
        best = members[int(np.argmax(means))][0]
        print(f"GridSearchCV over {len(members)} settings, {selection['cv']} folds: best {best} "
              f"in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return scores


def earlier_cv_scores(path, run_ids):
    """--keep-cv: run id -> (scoring, mean, std) from an earlier metrics.csv of this script; empty
    (so GridSearchCV runs) when there is none or it has no scores for these runs."""
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        rows = {r["run_id"]: r for r in csv.DictReader(f)}
    scores = {}
    for rid in run_ids:
        row = rows.get(rid)
        if row is None or not row.get("cv_mean"):
            continue
        scores[rid] = (row["cv_scoring"], float(row["cv_mean"]), float(row["cv_sd"]))
    if not scores or any(rid not in rows for rid in run_ids):
        return {}
    print(f"cross-validation scores of {len(scores)} runs kept from {path}", file=sys.stderr)
    return scores


def objective_and_gradient(coef, intercept, x, y, c, multi_class, fit_intercept, l1_ratio=0.0):
    """The harness's diagnostics (src/model/diagnose.rs): sklearn's objective and max |gradient|
    (with an l1 part: the smallest subgradient's)."""
    c = float(c)
    n = len(y)
    z = x @ coef.T + intercept
    onehot = np.eye(coef.shape[0])[y]
    if multi_class == "multinomial":
        zmax = z.max(axis=1, keepdims=True)
        lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
        loss = (lse - z[np.arange(n), y]).sum()
        residual = np.exp(z - lse[:, None]) - onehot
    else:
        sign = np.where(onehot == 1, -z, z)
        loss = np.logaddexp(0, sign).sum()
        residual = 1 / (1 + np.exp(-z)) - onehot
    l2, l1 = (1 - l1_ratio) / (c * n), l1_ratio / (c * n)
    if l1 == 0:
        objective = loss / n + (coef ** 2).sum() / (2 * c * n)
        grad = np.abs(x.T @ residual / n + coef.T / (c * n)).max()
    else:
        objective = loss / n + l2 / 2 * (coef ** 2).sum() + l1 * np.abs(coef).sum()
        smooth = x.T @ residual / n + l2 * coef.T
        w = coef.T
        grad = np.where(w == 0, np.maximum(np.abs(smooth) - l1, 0),
                        np.abs(smooth + l1 * np.sign(w))).max()
    if fit_intercept:
        grad = max(grad, np.abs(residual.sum(axis=0) / n).max())
    return objective, grad


def at_the_optimum(model_path, run, coef, intercept, objective, proba, x_train, y_train, raw_test):
    """The harness's fit of the same run (its model.npz, applied as the README's numpy code
    applies it) against scikit-learn's: the relative distance of the weights (intercepts included),
    the largest difference of a test probability, and the relative gap of the objectives, both
    computed here by the same function. Blank where the harness has no model for the run."""
    blank = {"weights_rel_distance": "", "max_probability_difference": "", "objective_rel_gap": ""}
    if not os.path.exists(model_path):
        return blank
    m = np.load(model_path)
    h_coef, h_intercept = m["coef"].astype(np.float64), m["intercept"].astype(np.float64)
    if h_coef.shape != coef.shape:
        return blank
    # The harness's model on the raw test pixels, its own scaling included (the README's code).
    x = (raw_test.astype(np.float64) - m["scaler_offset"]) * m["scaler_scale"]
    z = x @ h_coef.T + h_intercept
    # One-vs-rest: each class's sigmoid, normalised; multinomial: the softmax. ("ovr" is 0-d in
    # model files of version 2, one element in version 1.)
    if int(np.ravel(m["ovr"])[0]):
        p = 1 / (1 + np.exp(-z))
    else:
        p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    s_all = np.concatenate([coef.ravel(), np.ravel(intercept)]).astype(np.float64)
    h_all = np.concatenate([h_coef.ravel(), np.ravel(h_intercept)])
    h_objective, _ = objective_and_gradient(
        h_coef, h_intercept, x_train.astype(np.float64), y_train, run["C"], run["multi_class"],
        run["fit_intercept"], run.get("l1_ratio", 0.0))
    return {
        "weights_rel_distance": float(np.linalg.norm(h_all - s_all) / np.linalg.norm(s_all)),
        "max_probability_difference": float(np.abs(p - proba).max()),
        "objective_rel_gap": float((h_objective - objective) / objective),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--out", default="results")
    parser.add_argument("--data", default=None, help="MNIST folder (default: [data] dir or data/mnist)")
    parser.add_argument("--sweep", default=None,
                        help="the harness's sweep binary (default: cargo run --bin sweep)")
    parser.add_argument("--keep-cv", action="store_true",
                        help="take the cross-validation scores from the metrics.csv this script "
                             "wrote before for the same runs instead of rerunning GridSearchCV "
                             "(its folds and fits do not depend on the harness)")
    args = parser.parse_args()
    harness = plan(args.config, [args.sweep] if args.sweep else None)
    name = harness["name"]
    subsample = harness["subsample"]
    images, labels = load_mnist(args.data or harness["data_dir"], subsample)
    predictions = harness["predictions"]
    out_dir = os.path.join(args.out, name, "sklearn")
    os.makedirs(out_dir, exist_ok=True)

    runs = [(r["run_id"], r["params"]) for r in harness["runs"]]
    selection = selection_of(harness)
    cv_scores = {}
    if selection and args.keep_cv:
        cv_scores = earlier_cv_scores(os.path.join(out_dir, "metrics.csv"), [rid for rid, _ in runs])
    if selection and not cv_scores:
        cv_scores = cross_validate(runs, selection, images, labels)
    metric_rows, class_rows = [], []
    for i, (rid, run) in enumerate(runs, 1):
        idx = np.arange(len(labels))
        train_idx, test_idx = train_test_split(
            idx, train_size=run["train_size"], test_size=run["test_size"],
            random_state=run["random_state"], shuffle=run["shuffle"])
        dtype = np.float32 if run["dtype"] == "f32" else np.float64
        x_train, x_test = scaled(run["scaler"], images[train_idx].astype(dtype), images[test_idx].astype(dtype))
        y_train, y_test = labels[train_idx].astype(int), labels[test_idx].astype(int)
        model = estimator(run)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(x_train, y_train)
        seconds = time.perf_counter() - start
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        if isinstance(model, GradientDescent):
            coef, intercept = model.coef_, model.intercept_
            n_iter = [int(k) for k in model.n_iter_]
        elif run["multi_class"] == "multinomial":
            coef, intercept = model.coef_, model.intercept_
            n_iter = [int(model.n_iter_[0])]
        else:
            coef = np.vstack([e.coef_ for e in model.estimators_])
            intercept = np.concatenate([e.intercept_ for e in model.estimators_])
            n_iter = [int(e.n_iter_[0]) for e in model.estimators_]
        objective, grad = objective_and_gradient(
            coef.astype(np.float64), intercept.astype(np.float64), x_train.astype(np.float64), y_train,
            run["C"], run["multi_class"], run["fit_intercept"], run.get("l1_ratio", 0.0))
        proba = model.predict_proba(x_test)
        predicted = model.predict(x_test)
        # scikit-learn's own definitions throughout: per class over all ten digits (zero_division=0),
        # macro over the labels present in y_test or the predictions, weighted by support.
        digits = list(range(10))
        precision, recall, f1, support = precision_recall_fscore_support(
            y_test, predicted, labels=digits, zero_division=0)
        macro = precision_recall_fscore_support(y_test, predicted, average="macro", zero_division=0)
        f1_weighted = f1_score(y_test, predicted, average="weighted", zero_division=0)
        accuracy = float((predicted == y_test).mean())
        metric_rows.append({
            "run_id": rid,
            **{param: csv_text(run[param]) for param in harness["params"]},
            "subsample": subsample or "", "n_train": len(train_idx), "n_test": len(test_idx),
            "accuracy": accuracy, "train_accuracy": float((model.predict(x_train) == y_train).mean()),
            "precision_macro": macro[0], "recall_macro": macro[1], "f1_macro": macro[2],
            "f1_weighted": f1_weighted,
            "log_loss": log_loss(y_test, proba, labels=list(range(10))),
            "objective": objective, "grad_norm": grad, "zero_weights": float((coef == 0).mean()),
            "converged": str(converged).lower(),
            # n_iter_ as the harness counts it (one-vs-rest: the most any class took), and per class.
            "n_iter": max(n_iter), "n_iter_classes": ";".join(map(str, n_iter)),
            "status": "ok", "failure": "", "fit_scale": 1.0, "attempts": 1, "fit_seconds": seconds,
            "cv_scoring": cv_scores.get(rid, ("", "", ""))[0],
            "cv_mean": cv_scores.get(rid, ("", "", ""))[1],
            "cv_sd": cv_scores.get(rid, ("", "", ""))[2],
            # Gradient descent: the objective at the start and after every step (parity.md
            # compares it with the harness's trace, iteration by iteration).
            "objective_path": ";".join(repr(float(v)) for v in model.objective_path_)
            if isinstance(model, GradientDescent) else "",
        })
        metric_rows[-1].update(at_the_optimum(
            os.path.join(args.out, name, "runs", rid, "model.npz"), run, coef, intercept, objective,
            proba, x_train, y_train, images[test_idx]))
        for k in range(10):
            binary = ""
            if run["multi_class"] == "ovr":
                z = (model.estimators_[k].decision_function(x_test) if hasattr(model, "estimators_")
                     else model.decision_function(x_test)[:, k])
                binary = float(((z > 0) == (y_test == k)).mean())
            class_rows.append({"run_id": rid, "class": k, "precision": precision[k],
                               "recall": recall[k], "f1": f1[k], "support": int(support[k]),
                               "binary_accuracy": binary})
        if predictions:
            run_dir = os.path.join(out_dir, "runs", rid)
            os.makedirs(run_dir, exist_ok=True)
            with open(os.path.join(run_dir, "predictions.csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["index", "label", "predicted"] + [f"p{k}" for k in range(10)])
                for j in range(len(test_idx)):
                    w.writerow([test_idx[j], y_test[j], predicted[j]] + [f"{p:.6e}" for p in proba[j]])
        print(f"[{i}] {rid} ({run['multi_class']}, {run.get('solver', 'lbfgs')}, C={run['C']}, "
              f"max_iter={run['max_iter']}, "
              f"scaler={run['scaler']}): accuracy {accuracy:.4f}, "
              f"{'converged' if converged else 'not converged'} in {seconds:.1f} s", file=sys.stderr)

    for filename, rows in [("metrics.csv", metric_rows), ("per_class.csv", class_rows)]:
        with open(os.path.join(out_dir, filename), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)
    print(f"{len(metric_rows)} runs -> {out_dir}/", file=sys.stderr)


if __name__ == "__main__":
    main()
