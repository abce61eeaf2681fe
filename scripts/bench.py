"""Harness vs scikit-learn on the same work, side by side in one invocation; writes results/bench.md.

Run through scripts/bench.sh (which builds the release binaries and the Python venvs first).

Every process runs alone, pinned with taskset to as many cores as it may use threads, with the
thread count set on both sides (RAYON_NUM_THREADS; OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
MKL_NUM_THREADS), and every timing is the median of --repeats processes (the variants interleaved
round by round, so slow phases of a noisy machine hit every variant) with the minimum and maximum.
Ratios are paired: harness / scikit-learn within a round, then their median, min and max.

Sections (--only picks some; each replaces its own section of --out, the rest is kept):
  fits        notebook A (raw pixels, 80/20, random_state 0, lbfgs, C = 1, max_iter = 100) on 1
              and 2 threads: stock scikit-learn on a dense float64 array, on a scipy CSR matrix and
              on float32, scikit-learn-intelex, the harness in f64 and f32 on the detected kernel
              path and forced to AVX2. scikit-learn runs scripts/bench_fit.py (the fit alone).
  sweep       experiments/lbfgs.toml on 2 threads: scikit-learn (scripts/sklearn_reference.py),
              the harness with --separate-fits (the same fits) and as a user runs it.
  evaluation  one evaluation, sparse storage against dense, per kernel path (examples/sparse_speed).
  epochs      sag and saga, seconds per epoch, 1 thread on both sides.
"""

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SWEEP = REPO / "target" / "release" / "sweep"
SPARSE_SPEED = REPO / "target" / "release" / "examples" / "sparse_speed"
PYTHON = REPO / ".venv" / "bin" / "python"
# The same pinned scikit-learn plus scikit-learn-intelex (scripts/bench.sh makes it).
BENCH_PYTHON = REPO / ".venv-bench" / "bin" / "python"
BENCH_FIT = REPO / "scripts" / "bench_fit.py"
REFERENCE = REPO / "scripts" / "sklearn_reference.py"
DATA = REPO / "data" / "mnist"
SECTIONS = ["fits", "sweep", "evaluation", "epochs"]
HEADINGS = {
    "fits": "## One fit: notebook A",
    "sweep": "## The `experiments/lbfgs.toml` sweep",
    "evaluation": "## One evaluation: sparse against dense storage",
    "epochs": "## One epoch of sag and saga",
}
# Text after this line in results/bench.md is written by hand and kept when the tables are redone.
ANALYSIS_MARKER = "<!-- analysis: kept by scripts/bench.py -->"
THREAD_VARIABLES = ["RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]

# The harness's notebook A fit: the notebook's split and model, the vendored data.
NOTEBOOK = ('[split]\ntrain_size = 0.8\nrandom_state = 0\n[preprocessing]\nscaler = "none"\n'
            '[model]\nmax_iter = 100\ndtype = "{dtype}"\n[data]\ndir = "{data}"\n'
            'cache_dir = "{cache}"\n')


def pinned(threads):
    """The command prefix and environment that pin a process to `threads` cores and threads."""
    cores = "0" if threads == 1 else f"0-{threads - 1}"
    env = {**os.environ, **{v: str(threads) for v in THREAD_VARIABLES}}
    return ["taskset", "-c", cores], env


def timed(cmd, threads, env=None):
    """Runs cmd pinned under /usr/bin/time; returns (stdout, wall seconds, peak RSS MiB)."""
    prefix, base = pinned(threads)
    with tempfile.NamedTemporaryFile("r") as stats:
        full = prefix + ["/usr/bin/time", "-f", "%e %M", "-o", stats.name] + [str(c) for c in cmd]
        result = subprocess.run(full, env={**base, **(env or {})}, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"bench: {' '.join(map(str, cmd))} failed:\n{result.stderr}")
        wall, rss_kib = stats.read().split()[-2:]
        return result.stdout, float(wall), int(rss_kib) / 1024


def metrics(path):
    with open(path) as f:
        return {row["run_id"]: row for row in csv.DictReader(f)}


def spread(values):
    """`median [min, max]` of a list of numbers."""
    return statistics.median(values), min(values), max(values)


def paired_ratios(values, reference):
    """Per-round ratios: each value over the reference measured in the same round."""
    return [v / r for v, r in zip(values, reference, strict=True)]


def fmt(values, digits=2):
    med, lo, hi = spread(values)
    return f"{med:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def describe():
    """CPU and kernel path, as the engine reports them (examples/sparse_speed --describe)."""
    out = subprocess.run([SPARSE_SPEED, "--describe"], capture_output=True, text=True, check=True)
    lines = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
    cpu = lines["CPU"]
    family = model = ""
    if Path("/proc/cpuinfo").exists():
        info = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
        fields = dict((k.strip(), v.strip()) for k, v in
                      (line.split(":", 1) for line in info.splitlines() if ":" in line))
        family, model = fields.get("cpu family", ""), fields.get("model", "")
        flags = fields.get("flags", "").split()
        isa = "AVX-512" if "avx512f" in flags else "AVX2 + FMA" if "avx2" in flags else "no AVX2"
        cpu = f"{cpu} (family {family} model {model}, {isa})"
    return cpu, lines["kernel path"].split()[0]


# ---------------------------------------------------------------------------------------------
# One fit

def fit_variants(work, detected):
    """(label, side, command, env, how to read fit seconds and accuracy) for each fit measured."""
    def sklearn(*flags, python=PYTHON):
        def read(stdout):
            r = json.loads(stdout.strip().splitlines()[-1])
            return r["fit_seconds"], r["accuracy"]
        return [python, BENCH_FIT, *flags], read

    def harness(dtype):
        config = work / f"notebook-{dtype}.toml"
        config.write_text(f'name = "notebook-{dtype}"\n' + NOTEBOOK.format(
            dtype=dtype, data=DATA, cache=DATA / "cache"))
        out = work / "harness"

        def read(_):
            row = next(iter(metrics(out / f"notebook-{dtype}" / "metrics.csv").values()))
            return float(row["fit_seconds"]), float(row["accuracy"])
        return [SWEEP, config, "--out", out, "--quiet", "--force"], read

    variants = [
        ("scikit-learn, float64 array", "sklearn", *sklearn(), {}),
        ("scikit-learn, scipy CSR (float64)", "sklearn", *sklearn("--csr"), {}),
        ("scikit-learn, float32 array (kept float32)", "sklearn", *sklearn("--dtype", "float32"), {}),
        ("scikit-learn-intelex, float64", "sklearn", *sklearn("--intelex", python=BENCH_PYTHON), {}),
        (f"harness f64 ({detected})", "harness", *harness("f64"), {}),
        (f"harness f32 ({detected})", "harness", *harness("f32"), {}),
    ]
    if detected != "avx2":
        forced = {"LINFA_LOGISTIC_KERNELS": "avx2"}
        variants += [("harness f64 (forced avx2)", "harness", *harness("f64"), forced),
                     ("harness f32 (forced avx2)", "harness", *harness("f32"), forced)]
    return variants


def fits_section(work, repeats, detected):
    variants = fit_variants(work, detected)
    rows = []
    for threads in (1, 2):
        runs = {label: [] for label, *_ in variants}
        for round_ in range(repeats):
            for label, _, cmd, read, env in variants:
                stdout, wall, rss = timed(cmd, threads, env)
                fit, accuracy = read(stdout)
                runs[label].append((fit, wall, rss, accuracy))
            print(f"fits, {threads} thread(s): round {round_ + 1} of {repeats} "
                  + ", ".join(f"{label} {runs[label][-1][0]:.2f} s" for label, *_ in variants),
                  flush=True)
        reference = [fit for fit, *_ in runs[variants[0][0]]]
        for label, side, *_ in variants:
            fits = [fit for fit, *_ in runs[label]]
            rows.append({
                "threads": threads, "label": label, "side": side, "fits": fits,
                "ratios": paired_ratios(fits, reference),
                "rss": [rss for *_, rss, _ in runs[label]],
                "accuracy": runs[label][-1][3],
            })
    return rows


def fits_markdown(rows, repeats, detected, started):
    lines = [
        HEADINGS["fits"], "",
        f"Measured {started}. `LogisticRegression(max_iter=100)` (lbfgs, C = 1, multinomial, "
        "tol 1e-4) on the raw pixels of notebook A's split (`train_test_split(train_size=0.8, "
        "random_state=0)`, 56,000 training images); the harness fits the same model on the same "
        "images. scikit-learn runs `scripts/bench_fit.py` (load the bytes, split, convert, fit, "
        "predict: nothing else, so its peak memory is what a fit needs); the harness is the "
        "`sweep` binary on a one-run config (its peak includes writing the run's charts and "
        f"report). Fit seconds as each side measures its fit call; median [min, max] of {repeats} "
        "processes per variant; ratio = fit seconds / scikit-learn's float64 fit of the same "
        "round. scikit-learn 1.9.1's lbfgs keeps float32 input in float32 (its coefficients "
        "come back float32); intelex runs oneDAL's own solver.", "",
        "| threads | variant | fit s | ratio to scikit-learn float64 | peak RSS MiB | accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "1" if r["label"].startswith("scikit-learn, float64") else fmt(r["ratios"]) + "x"
        lines.append(f"| {r['threads']} | {r['label']} | {fmt(r['fits'])} | {ratio} | "
                     f"{statistics.median(r['rss']):.0f} | {r['accuracy']:.4f} |")
    lines += ["", "Targets on 2 threads (issue 30), against the medians above:", ""]
    by = {(r["threads"], r["label"]): r for r in rows}
    avx512 = detected == "avx512"
    checks = []
    for dtype, target in (("f64", 0.15), ("f32", 0.10)):
        r = by.get((2, f"harness {dtype} ({detected})"))
        if r:
            med = statistics.median(r["ratios"])
            checks.append(f"notebook A fit {dtype} <= {target}x stock scikit-learn: "
                          f"{med:.2f}x, {'met' if med <= target else 'missed'}")
    r = by.get((2, f"harness f64 ({detected})"))
    if r:
        limit = 0.8 if avx512 else 1.8
        med = statistics.median(r["fits"])
        checks.append(f"notebook A f64 fit <= {limit} s on this {'AVX-512' if avx512 else 'AVX2'} "
                      f"machine: {med:.2f} s, {'met' if med <= limit else 'missed'}")
        rss = statistics.median(r["rss"])
        checks.append(f"peak RSS of the f64 fit <= 150 MiB: {rss:.0f} MiB, "
                      f"{'met' if rss <= 150 else 'missed'}")
        checks.append(f"notebook A accuracy 0.9172142857142858: {r['accuracy']!r}, "
                      f"{'met' if r['accuracy'] == 0.9172142857142858 else 'missed'}")
    lines += [f"- {c}" for c in checks]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The sweep

SWEEP_THREADS = 2


def sweep_section(work, repeats):
    config = REPO / "experiments" / "lbfgs.toml"
    name = "lbfgs"
    variants = [
        ("scikit-learn (one fit per setting and fold)", [PYTHON, REFERENCE, config, "--out", work / "sk"],
         work / "sk" / name / "sklearn" / "metrics.csv"),
        ("harness --separate-fits (the same fits)",
         [SWEEP, config, "--out", work / "separate", "--quiet", "--force", "--separate-fits"],
         work / "separate" / name / "metrics.csv"),
        ("harness as a user runs it (runs differing in max_iter share one fit)",
         [SWEEP, config, "--out", work / "shared", "--quiet", "--force"],
         work / "shared" / name / "metrics.csv"),
    ]
    walls = {label: [] for label, *_ in variants}
    rss = {label: [] for label, *_ in variants}
    for round_ in range(repeats):
        for label, cmd, _ in variants:
            _, wall, peak = timed(cmd, SWEEP_THREADS)
            walls[label].append(wall)
            rss[label].append(peak)
        print(f"sweep: round {round_ + 1} of {repeats} "
              + ", ".join(f"{walls[label][-1]:.0f} s" for label, *_ in variants), flush=True)
    sk = metrics(variants[0][2])
    key = lambda r: (r["C"], r["max_iter"], r["train_size"])
    sk_by = {key(r): r for r in sk.values()}
    rows = []
    for label, _, path in variants:
        h = metrics(path)
        diffs = [100 * (float(r["accuracy"]) - float(sk_by[key(r)]["accuracy"])) for r in h.values()]
        rows.append({"label": label, "walls": walls[label], "rss": rss[label],
                     "ratios": paired_ratios(walls[label], walls[variants[0][0]]),
                     "same": sum(d == 0 for d in diffs), "runs": len(diffs),
                     "max_diff": max(abs(d) for d in diffs)})
    return rows


def sweep_markdown(rows, repeats, started):
    lines = [
        HEADINGS["sweep"], "",
        f"Measured {started}, {SWEEP_THREADS} threads on both sides, median [min, max] of "
        f"{repeats} processes per variant. 13 runs (C, max_iter and train_size grids on raw "
        "pixels), the 9 on the notebook's split also scored by 5-fold cross-validation on its "
        "training images, and each run's predictions, CSV and (harness) charts and report. scikit-learn fits every "
        "setting and every fold on its own; `--separate-fits` makes the harness do the same work "
        "(the like-for-like ratio); by default it fits each family of runs that differ only in "
        "max_iter once, in CV too (the workflow figure). Wall seconds of the whole process.", "",
        "| variant | wall s | ratio to scikit-learn | peak RSS MiB | runs with scikit-learn's accuracy | largest diff pp |",
        "|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows):
        ratio = "1" if i == 0 else fmt(r["ratios"]) + "x"
        lines.append(f"| {r['label']} | {fmt(r['walls'], 0)} | {ratio} | "
                     f"{statistics.median(r['rss']):.0f} | {r['same']} of {r['runs']} | "
                     f"{r['max_diff']:.2f} |")
    med = statistics.median(rows[1]["ratios"])
    lines += ["", f"Target: like-for-like ratio <= 0.15x: {med:.2f}x, "
              f"{'met' if med <= 0.15 else 'missed'}."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# One evaluation

def evaluation_section(repeats, detected):
    paths = [detected] + (["avx2"] if detected == "avx512" else [])
    outputs = []
    for path in paths:
        env = {"LINFA_LOGISTIC_KERNELS": path}
        stdout, _, _ = timed([SPARSE_SPEED, "--repeat", repeats], 2, env)
        outputs.append((path, stdout.strip()))
        print(stdout, flush=True)
    return outputs


def evaluation_markdown(outputs, repeats, started):
    lines = [
        HEADINGS["evaluation"], "",
        f"Measured {started}: `cargo run --release --example sparse_speed -- --repeat {repeats}` "
        "with `LINFA_LOGISTIC_KERNELS` set to each path this CPU has (taskset to 2 cores): loss "
        "and gradient of MNIST's first 56,000 images, 10 classes, over a 20-iteration fit, "
        "milliseconds per evaluation, the pixels read densely (every byte) and sparsely (the "
        "non-zero bytes only; the same bits). Target (issue 30): sparse >= 4x faster than dense, "
        "on both kernel paths, f64 and f32.", ""]
    for path, out in outputs:
        lines += [f"`LINFA_LOGISTIC_KERNELS={path}`:", "", "```", out, "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# sag and saga epochs

EPOCHS = 10
EPOCH_SOLVERS = {
    "sag": 'solver = "sag"\n',
    "saga, elastic net (l1_ratio 0.5)": 'solver = "saga"\nl1_ratio = 0.5\n',
}


def epochs_section(work, repeats):
    """Seconds per epoch of each side's sag and saga on the same images and sample order."""
    rows = []
    for i, (label, model) in enumerate(EPOCH_SOLVERS.items()):
        config = work / f"epochs{i}.toml"
        config.write_text(
            f'name = "epochs{i}"\n[split]\ntrain_size = 56000\nshuffle = false\n'
            f'[preprocessing]\nscaler = "unit"\n[model]\n{model}max_iter = {EPOCHS}\ntol = 0.0\n'
            f'C = 1.0\nrandom_state = 0\n[data]\ndir = "{DATA}"\ncache_dir = "{DATA / "cache"}"\n')
        sk_s, h_s = [], []
        for _ in range(repeats):
            timed([PYTHON, REFERENCE, config, "--out", work], 1)
            sk = next(iter(metrics(work / config.stem / "sklearn" / "metrics.csv").values()))
            timed([SWEEP, config, "--out", work, "--quiet", "--force"], 1)
            h = next(iter(metrics(work / config.stem / "metrics.csv").values()))
            for side in (sk, h):
                if int(side["n_iter"]) != EPOCHS:
                    sys.exit(f"bench: {label} ran {side['n_iter']} epochs, not {EPOCHS}")
            sk_s.append(float(sk["fit_seconds"]) / EPOCHS)
            h_s.append(float(h["fit_seconds"]) / EPOCHS)
        print(f"epochs, {label}: scikit-learn {fmt(sk_s, 3)} s, harness {fmt(h_s, 3)} s", flush=True)
        rows.append({"label": label, "sk": sk_s, "h": h_s,
                     "ratios": paired_ratios(h_s, sk_s),
                     "sk_acc": float(sk["accuracy"]), "h_acc": float(h["accuracy"])})
    return rows


def epochs_markdown(rows, repeats, started):
    lines = [
        HEADINGS["epochs"], "",
        f"Measured {started}. Pixels/255, the first 56,000 images, C = 1, random_state 0, "
        f"{EPOCHS} epochs with tol = 0 on both sides (the same sample order, so the same work); "
        f"fit seconds / {EPOCHS}, median [min, max] of {repeats} processes, 1 thread and 1 core on "
        "both sides (both are sequential). The harness's seconds include its checks after the "
        "fit (one pass over the data). Target: an epoch at least 2x faster than scikit-learn's "
        "(ratio <= 0.5).", "",
        "| solver | scikit-learn s / epoch | harness s / epoch | ratio | target | scikit-learn acc. | harness acc. |",
        "|---|---|---|---|---|---|---|"]
    for r in rows:
        med = statistics.median(r["ratios"])
        lines.append(f"| {r['label']} | {fmt(r['sk'], 3)} | {fmt(r['h'], 3)} | {fmt(r['ratios'])}x | "
                     f"{'met' if med <= 0.5 else 'missed'} | {r['sk_acc']:.4f} | {r['h_acc']:.4f} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------

def header(cpu, detected):
    return "\n".join([
        "# Speed and memory: this harness against scikit-learn",
        "",
        f"Written by `scripts/bench.sh` on {platform.node()} ({os.cpu_count()} cores, "
        f"{platform.system()} {platform.machine()}). CPU: {cpu}. Kernel path the engine detects: "
        f"`{detected}` (`LINFA_LOGISTIC_KERNELS=portable|avx2|avx512` forces one). "
        "scikit-learn 1.9.1 with numpy's OpenBLAS; scikit-learn-intelex 2026.2.0 "
        "(`patch_sklearn`, checked to be in effect).",
        "",
        "Every process ran alone, pinned by `taskset` to as many cores as threads, with the "
        "thread count set on both sides (`RAYON_NUM_THREADS`; `OMP_NUM_THREADS`, "
        "`OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS`). Timings are medians with [min, max] of "
        "repeated processes, the variants interleaved round by round; a ratio is harness / "
        "scikit-learn within a round, summarised the same way. Sections are measured by "
        "`scripts/bench.py --only SECTION` and replaced one at a time: each gives its date.",
        "",
    ])


def replace_section(text, section_name, section):
    """`text` with the section under HEADINGS[section_name] replaced by `section`, the sections
    kept in SECTIONS order before the hand-written analysis."""
    parts = {}
    body, analysis = text, None
    if ANALYSIS_MARKER in text:
        body, analysis = text.split(ANALYSIS_MARKER, 1)
    for name in SECTIONS:
        heading = HEADINGS[name]
        if heading in body:
            rest = body.split(heading, 1)[1]
            parts[name] = heading + rest.split("\n## ", 1)[0].rstrip("\n") + "\n"
    parts[section_name] = section
    out = "\n".join(parts[name] for name in SECTIONS if name in parts)
    if analysis is not None:
        out += "\n" + ANALYSIS_MARKER + analysis
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to measure ({', '.join(SECTIONS)})")
    parser.add_argument("--repeats", type=int, default=5, help="processes per timing (>= 1)")
    parser.add_argument("--sweep-repeats", type=int, default=5,
                        help="processes per sweep timing (scikit-learn's sweep takes ~12 min)")
    parser.add_argument("--out", default=str(REPO / "results" / "bench.md"))
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown or args.repeats < 1 or args.sweep_repeats < 1:
        sys.exit(f"bench: --only {','.join(unknown)}: expected some of {', '.join(SECTIONS)}"
                 if unknown else "bench: --repeats and --sweep-repeats must be at least 1")
    cpu, detected = describe()
    print(f"CPU: {cpu}; kernel path: {detected}", flush=True)
    out = Path(args.out)
    text = out.read_text() if out.exists() else ""
    for name in only:
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if name == "fits":
                section = fits_markdown(fits_section(work, args.repeats, detected), args.repeats,
                                        detected, started)
            elif name == "sweep":
                section = sweep_markdown(sweep_section(work, args.sweep_repeats),
                                         args.sweep_repeats, started)
            elif name == "evaluation":
                section = evaluation_markdown(evaluation_section(args.repeats, detected),
                                              args.repeats, started)
            else:
                section = epochs_markdown(epochs_section(work, args.repeats), args.repeats, started)
        print(section, flush=True)
        text = replace_section(text, name, section)
        # Written after every section, so an interrupted run keeps what it measured.
        out.write_text(header(cpu, detected) + "\n" + text)
        print(f"-> {args.out} ({name})", flush=True)


if __name__ == "__main__":
    main()
