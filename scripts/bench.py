"""Harness vs scikit-learn on the same work, side by side in one invocation; writes results/bench.md.

Run through scripts/bench.sh (which builds the release binary and the Python venv first).

Every measurement runs one process at a time on an otherwise idle machine, so the ratios compare
like with like. Wall seconds and peak RSS come from /usr/bin/time around each process; fit
seconds and accuracies from the metrics.csv each side writes.
"""

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SWEEP = REPO / "target" / "release" / "sweep"
PYTHON = REPO / ".venv" / "bin" / "python"
# The same pinned scikit-learn plus scikit-learn-intelex (scripts/bench.sh makes it).
BENCH_PYTHON = REPO / ".venv-bench" / "bin" / "python"
REFERENCE = REPO / "scripts" / "sklearn_reference.py"
EVALUATION_SPEED = REPO / "target" / "release" / "examples" / "evaluation_speed"
# Runs the reference script with scikit-learn patched by scikit-learn-intelex (oneDAL), and fails
# unless LogisticRegression really is intelex's after patching.
INTELEX = """
import runpy, sys
from sklearnex import patch_sklearn
patch_sklearn(verbose=False)
import sklearn.linear_model
module = sklearn.linear_model.LogisticRegression.__module__
if not module.startswith("sklearnex"):
    sys.exit(f"scikit-learn-intelex did not patch LogisticRegression ({module})")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
# Text after this line in results/bench.md is written by hand and kept when the tables are redone.
ANALYSIS_MARKER = "<!-- analysis: kept by scripts/bench.py -->"

# One fit of the notebook configuration, and the same on pixels/255 (FACTS.md section 3:
# first 56000 train / last 14000 test).
FITS = {
    "notebook": '[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = "none"\n',
    "unit": '[split]\ntrain_size = 56000\nshuffle = false\n[preprocessing]\nscaler = "unit"\n',
}


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("r") as stats:
        full = ["/usr/bin/time", "-f", "%e %M", "-o", stats.name] + [str(c) for c in cmd]
        result = subprocess.run(full, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(map(str, cmd))} failed:\n{result.stderr}")
        wall, rss_kib = stats.read().split()[-2:]
        return float(wall), int(rss_kib) / 1024


def metrics(path):
    with open(path) as f:
        return {row["run_id"]: row for row in csv.DictReader(f)}


def write_config(work, name, body, dtype="f64"):
    path = work / f"{name}.toml"
    data = REPO / "data" / "mnist"
    path.write_text(f'name = "{name}"\n{body}[model]\nmax_iter = 100\ndtype = "{dtype}"\n'
                    f'[data]\ndir = "{data}"\ncache_dir = "{data / "cache"}"\n')
    return path


def harness(config, out, extra=(), env=None):
    """Runs the harness on config (refitting everything); returns (wall seconds, peak MiB)."""
    return timed([SWEEP, config, "--out", out, "--quiet", "--force", *extra], env)


def one_fit_rows(work, quick):
    rows, levers = [], []
    for setting, body in FITS.items():
        f64 = write_config(work, f"{setting}-f64", body)
        f32 = write_config(work, f"{setting}-f32", body, "f32")
        sk_wall, sk_rss = timed([PYTHON, REFERENCE, f64, "--out", work])
        sk = next(iter(metrics(work / f"{setting}-f64" / "sklearn" / "metrics.csv").values()))
        timed([BENCH_PYTHON, "-c", INTELEX, REFERENCE, f64, "--out", work / "intelex"])
        ix = next(iter(metrics(work / "intelex" / f"{setting}-f64" / "sklearn" / "metrics.csv").values()))
        for dtype, config in (("f64", f64), ("f32", f32)):
            wall, rss = harness(config, work)
            h = next(iter(metrics(work / config.stem / "metrics.csv").values()))
            rows.append({
                "setting": setting, "dtype": dtype,
                "sk_fit": float(sk["fit_seconds"]), "h_fit": float(h["fit_seconds"]),
                "ix_fit": float(ix["fit_seconds"]), "ix_acc": float(ix["accuracy"]),
                "sk_acc": float(sk["accuracy"]), "h_acc": float(h["accuracy"]),
                "sk_wall": sk_wall, "h_wall": wall, "sk_rss": sk_rss, "h_rss": rss,
            })
        if setting == "notebook" and not quick:
            # Threads inside one fit (rayon's pool, both sides pinned to the same count).
            for threads in ("1", "2"):
                harness(f64, work / f"threads{threads}", env={"RAYON_NUM_THREADS": threads})
                h = next(iter(metrics(work / f"threads{threads}" / f64.stem / "metrics.csv").values()))
                env = {"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
                timed([PYTHON, REFERENCE, f64, "--out", work / f"sk-threads{threads}"], env)
                sk_t = next(iter(metrics(work / f"sk-threads{threads}" / f"{setting}-f64" / "sklearn"
                                         / "metrics.csv").values()))
                levers.append((f"one notebook fit, f64, {threads} thread(s): harness (RAYON_NUM_THREADS) "
                               f"vs scikit-learn (OMP/OPENBLAS_NUM_THREADS) {float(sk_t['fit_seconds']):.1f} s",
                               float(h["fit_seconds"]), float(h["accuracy"])))
    return rows, levers


def sweep_rows(work, config, quick):
    """The whole sweep on both sides, and the harness with each sweep-level lever."""
    name = "lbfgs"
    sk_wall, sk_rss = timed([PYTHON, REFERENCE, config, "--out", work / "sk"])
    sk = metrics(work / "sk" / name / "sklearn" / "metrics.csv")
    variants = [("harness, defaults (f64, --jobs 1)", "defaults", config, [])]
    if not quick:
        variants.append(("harness, --jobs 2 (two runs at once, sharing rayon's pool)", "jobs2",
                         config, ["--jobs", "2"]))
        f32 = work / "lbfgs-f32.toml"
        f32.write_text(config.read_text().replace('dtype = "f64"', 'dtype = "f32"'))
        variants.append(("harness, f32", "f32", f32, []))
    out = []
    for label, folder, cfg, extra in variants:
        target = work / folder
        wall, rss = harness(cfg, target, extra)
        h = metrics(target / name / "metrics.csv")
        # Match runs by parameters (the f32 variant has other run ids).
        key = lambda r: (r["C"], r["max_iter"], r["train_size"])
        sk_by = {key(r): r for r in sk.values()}
        diffs = [100 * (float(r["accuracy"]) - float(sk_by[key(r)]["accuracy"])) for r in h.values()]
        slowest = max(h.values(), key=lambda r: float(r["fit_seconds"]))
        out.append({
            "label": label, "wall": wall, "rss": rss, "sk_wall": sk_wall, "sk_rss": sk_rss,
            "max_diff": max(abs(d) for d in diffs), "within": sum(abs(d) <= 0.2 for d in diffs),
            "runs": len(diffs), "fit_total": sum(float(r["fit_seconds"]) for r in h.values()),
            "slowest": f"{slowest['run_id']} (C={slowest['C']}, max_iter={slowest['max_iter']}): "
                       f"{float(slowest['fit_seconds']):.0f} s",
            "stall": sum(float(r["fit_seconds"]) for r in h.values() if int(r["max_iter"]) >= 200),
            "rows": h,
        })
    # f32 against f64, run by run (same parameters but the dtype).
    if len(out) == 3:
        f64_by = {key(r): r for r in out[0]["rows"].values()}
        gaps = [100 * abs(float(r["accuracy"]) - float(f64_by[key(r)]["accuracy"]))
                for r in out[2]["rows"].values()]
        out[2]["f32_gap"] = (max(gaps), sum(g <= 0.1 for g in gaps), len(gaps))
    return out


# sag and saga on the `unit` setting for a fixed number of epochs (tol = 0: neither side stops
# early), so that seconds per epoch compare the same work.
EPOCHS = 10
EPOCH_SOLVERS = {
    "sag": 'solver = "sag"\n',
    "saga, elastic net (l1_ratio 0.5)": 'solver = "saga"\nl1_ratio = 0.5\n',
}
EPOCHS_HEADING = "## One epoch of sag and saga"


def epoch_rows(work):
    """Seconds per epoch of each side's sag and saga on the same images and seed."""
    rows = []
    for i, (label, model) in enumerate(EPOCH_SOLVERS.items()):
        data = REPO / "data" / "mnist"
        config = work / f"epochs{i}.toml"
        config.write_text(
            f'name = "epochs{i}"\n{FITS["unit"]}[model]\n{model}max_iter = {EPOCHS}\ntol = 0.0\n'
            f'C = 1.0\nrandom_state = 0\n[data]\ndir = "{data}"\ncache_dir = "{data / "cache"}"\n')
        timed([PYTHON, REFERENCE, config, "--out", work])
        sk = next(iter(metrics(work / config.stem / "sklearn" / "metrics.csv").values()))
        harness(config, work)
        h = next(iter(metrics(work / config.stem / "metrics.csv").values()))
        for side in (sk, h):
            if int(side["n_iter"]) != EPOCHS:
                sys.exit(f"bench: {label} ran {side['n_iter']} epochs, not {EPOCHS}")
        rows.append({"label": label, "sk": float(sk["fit_seconds"]) / EPOCHS,
                     "h": float(h["fit_seconds"]) / EPOCHS,
                     "sk_acc": float(sk["accuracy"]), "h_acc": float(h["accuracy"])})
    return rows


def epochs_markdown(rows, started):
    lines = [EPOCHS_HEADING, "",
             f"`unit` setting (pixels/255, 56,000 training images), C = 1, random_state 0, "
             f"{EPOCHS} epochs with tol = 0 on both sides (the same sample order, so the same "
             f"work); fit seconds / {EPOCHS}. The harness's seconds include its checks after the "
             f"fit (one pass over the data). One process at a time, {started}. Target: an epoch "
             f"at least 2x faster than scikit-learn's sag (ratio <= 0.5).", "",
             "| solver | sklearn s / epoch | harness s / epoch | ratio | target | sklearn acc. | harness acc. |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r["h"] / r["sk"]
        lines.append(f"| {r['label']} | {r['sk']:.3f} | {r['h']:.3f} | {ratio:.2f}x | "
                     f"{'met' if ratio <= 0.5 else 'missed'} | {r['sk_acc']:.4f} | {r['h_acc']:.4f} |")
    return "\n".join(lines) + "\n"


def replace_section(text, heading, section):
    """`text` with the Markdown section under `heading` replaced by `section` (appended before
    the hand-written analysis when absent)."""
    if heading in text:
        before, rest = text.split(heading, 1)
        after = rest.split("\n## ", 1)
        tail = "\n## " + after[1] if len(after) == 2 else ""
        if ANALYSIS_MARKER in rest and ANALYSIS_MARKER not in tail:
            tail = "\n" + ANALYSIS_MARKER + rest.split(ANALYSIS_MARKER, 1)[1]
        return before + section + tail
    if ANALYSIS_MARKER in text:
        before, after = text.split(ANALYSIS_MARKER, 1)
        return before.rstrip("\n") + "\n\n" + section + "\n" + ANALYSIS_MARKER + after
    return text.rstrip("\n") + "\n\n" + section


def evaluation_speed():
    """One evaluation's GFLOP/s against the measured FMA peak (the engine's own benchmark)."""
    result = subprocess.run([EVALUATION_SPEED], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def markdown(fits, levers, sweeps, started, evaluation):
    lines = [
        "# Speed and memory: this harness vs scikit-learn",
        "",
        f"Generated by `scripts/bench.sh` on {platform.node()} ({os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}), {started}; each process ran alone.",
        "Ratios are harness / scikit-learn measured in this one invocation (below 1.0: the harness "
        "is faster). scikit-learn 1.9.1 (OpenBLAS) fits in float64; intelex is the same scikit-learn "
        "patched by scikit-learn-intelex (oneDAL, `patch_sklearn`, checked to be in effect). Every "
        "process uses every core (rayon, OpenMP and OpenBLAS defaults).",
        "",
        "## One fit",
        "",
        "`notebook`: raw pixels, 80/20 split, random_state 0 (notebook A). `unit`: pixels/255, "
        "first 56000 train / last 14000 test. Both C = 1, max_iter = 100, multinomial.",
        "",
        "| setting | harness dtype | sklearn fit s | intelex fit s | harness fit s | ratio to sklearn | ratio to intelex | sklearn acc. | intelex acc. | harness acc. | diff pp (harness - sklearn) | target (f64 <= 0.3x sklearn and <= 0.4x intelex; f32 <= 0.2x sklearn; accuracy within 0.2 pp) | sklearn peak MiB | harness peak MiB (target <= 200) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in fits:
        ratio = r["h_fit"] / r["sk_fit"]
        ratio_ix = r["h_fit"] / r["ix_fit"]
        diff = 100 * (r["h_acc"] - r["sk_acc"])
        equal = abs(diff) <= 0.2
        fast = ratio <= 0.3 and ratio_ix <= 0.4 if r["dtype"] == "f64" else ratio <= 0.2
        lines.append(
            f"| {r['setting']} | {r['dtype']} | {r['sk_fit']:.1f} | {r['ix_fit']:.1f} | {r['h_fit']:.2f} | "
            f"{ratio:.2f}x | {ratio_ix:.2f}x | {r['sk_acc']:.4f} | {r['ix_acc']:.4f} | {r['h_acc']:.4f} | "
            f"{diff:+.2f} | {'met' if equal and fast else 'missed'} | "
            f"{r['sk_rss']:.0f} | {r['h_rss']:.0f} ({'met' if r['h_rss'] <= 200 else 'missed'}) |")
    lines += ["", "## The whole `experiments/lbfgs.toml` sweep (13 runs)", "",
              "| variant | harness wall s | sklearn wall s | wall ratio | target (<= 0.25x) | runs within 0.2 pp of sklearn | largest diff pp | harness peak MiB | sklearn peak MiB | fit s in max_iter >= 200 runs | slowest run |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in sweeps:
        ratio = s["wall"] / s["sk_wall"]
        lines.append(
            f"| {s['label']} | {s['wall']:.0f} | {s['sk_wall']:.0f} | {ratio:.2f}x | "
            f"{'met' if ratio <= 0.25 else 'missed'} | {s['within']} of {s['runs']} | {s['max_diff']:.2f} | "
            f"{s['rss']:.0f} | {s['sk_rss']:.0f} | {s['stall']:.0f} of {s['fit_total']:.0f} | {s['slowest']} |")
    for s in sweeps:
        if "f32_gap" in s:
            worst, within, runs = s["f32_gap"]
            lines += ["", f"f32 against f64, run by run: {within} of {runs} runs within 0.1 pp "
                      f"(target: all), largest difference {worst:.2f} pp; peak RSS target <= 250 MiB "
                      f"({'met' if sweeps[0]['rss'] <= 250 else 'missed'}: {sweeps[0]['rss']:.0f} MiB)."]
    lines += ["", "## One evaluation against the machine's peak", "",
              "`cargo run --release -p linfa-logistic --example evaluation_speed` in this invocation: "
              "loss and gradient of 56,000 x 784 raw pixels, 10 classes, pixels stored as floats and "
              "as bytes (what the harness uses), against a loop of independent fused multiply-adds "
              "on the same threads. Target: >= 70 % of the peak.", "", "```", evaluation, "```"]
    if levers:
        lines += ["", "## Levers measured in this invocation", "",
                  "| lever | fit s | accuracy |", "|---|---|---|"]
        lines += [f"| {name} | {fit:.1f} | {acc:.4f} |" for name, fit, acc in levers]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one-fit comparisons and the default sweep only (no lever variants)")
    parser.add_argument("--out", default=str(REPO / "results" / "bench.md"))
    parser.add_argument("--epochs-only", action="store_true",
                        help="measure only sag's and saga's epochs and replace that section of --out")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.epochs_only:
        with tempfile.TemporaryDirectory() as tmp:
            section = epochs_markdown(epoch_rows(Path(tmp)), started)
        print(section, flush=True)
        out = Path(args.out)
        out.write_text(replace_section(out.read_text() if out.exists() else "", EPOCHS_HEADING, section))
        print(f"-> {args.out}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fits, levers = one_fit_rows(work, args.quick)
        for r in fits:
            print(f"{r['setting']} {r['dtype']}: harness {r['h_fit']:.1f} s ({r['h_acc']:.4f}) vs "
                  f"scikit-learn {r['sk_fit']:.1f} s ({r['sk_acc']:.4f})", flush=True)
        sweeps = sweep_rows(work, REPO / "experiments" / "lbfgs.toml", args.quick)
        for s in sweeps:
            print(f"sweep, {s['label']}: {s['wall']:.0f} s vs scikit-learn {s['sk_wall']:.0f} s", flush=True)
        evaluation = evaluation_speed()
        print(evaluation, flush=True)
        epochs = epochs_markdown(epoch_rows(work), started)
        print(epochs, flush=True)
    # Keep the hand-written analysis below the marker, if the file has one.
    out = Path(args.out)
    analysis = ""
    if out.exists() and ANALYSIS_MARKER in out.read_text():
        analysis = "\n" + ANALYSIS_MARKER + out.read_text().split(ANALYSIS_MARKER, 1)[1]
    out.write_text(markdown(fits, levers, sweeps, started, evaluation) + "\n" + epochs + analysis)
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
