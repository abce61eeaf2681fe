"""One scikit-learn fit of notebook A, and nothing else, for scripts/bench.py's timings and memory.

Loads the vendored MNIST as bytes, splits it as the notebook (train_test_split, train_size=0.8,
random_state=0), fits LogisticRegression(max_iter=100) (lbfgs, C = 1, multinomial) on the raw
pixels and predicts the test images. Prints one JSON line: fit seconds, accuracy, iterations.
The process's peak memory is what a fit needs (the pixels as floats, scikit-learn's own copies),
with no diagnostic copies: the benchmark measures it with /usr/bin/time.

    python scripts/bench_fit.py [--dtype float64|float32] [--csr] [--intelex] [--data DIR]
"""

import argparse
import gzip
import json
import os
import time
import warnings

import numpy as np

FILES = [("train-images.idx3-ubyte.gz", 16), ("train-labels.idx1-ubyte.gz", 8),
         ("t10k-images.idx3-ubyte.gz", 16), ("t10k-labels.idx1-ubyte.gz", 8)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--csr", action="store_true", help="hand scikit-learn a scipy CSR matrix")
    parser.add_argument("--intelex", action="store_true",
                        help="patch scikit-learn with scikit-learn-intelex first")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data", "mnist"))
    args = parser.parse_args()
    if args.intelex:
        from sklearnex import patch_sklearn
        patch_sklearn(verbose=False)
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    if args.intelex and not LogisticRegression.__module__.startswith("sklearnex"):
        raise SystemExit(f"scikit-learn-intelex did not patch LogisticRegression "
                         f"({LogisticRegression.__module__})")

    arrays = []
    for name, header in FILES:
        with gzip.open(os.path.join(args.data, name), "rb") as f:
            arrays.append(np.frombuffer(f.read(), dtype=np.uint8, offset=header))
    images = np.concatenate([arrays[0], arrays[2]]).reshape(-1, 784)
    labels = np.concatenate([arrays[1], arrays[3]]).astype(int)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, train_size=0.8,
                                                        random_state=0)
    x_train, x_test = x_train.astype(args.dtype), x_test.astype(args.dtype)
    if args.csr:
        from scipy.sparse import csr_matrix
        x_train, x_test = csr_matrix(x_train), csr_matrix(x_test)
    model = LogisticRegression(max_iter=100)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notebook's ConvergenceWarning
        model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - start
    accuracy = float((model.predict(x_test) == y_test).mean())
    print(json.dumps({"fit_seconds": fit_seconds, "accuracy": accuracy,
                      "n_iter": int(np.max(model.n_iter_)),
                      "coef_dtype": str(model.coef_.dtype)}))


if __name__ == "__main__":
    main()
