"""ML lag and error fits from 2,500 to 1,000,000 regions: rtsmig against spreg, same run.

A benchmark, not a test: ``python benchmarks/scale.py`` (about half an hour with
the default sizes, most of it spreg). For each size n = k² it writes a rook
lattice (k x k) as a data CSV (id, y, x1, x2; y from a lag process with
rho = 0.5 for the lag model, an error process with lambda = 0.5 for the error
model) and a weights Parquet file, then runs, each in its own process and from
reading the inputs to writing the results:

- ``rtsmig fit DATA --weights W --model lag|error`` (default engine: auto;
  coefficients, SEs, fit statistics, and for the lag model impacts with 1,000
  simulated draws), and
- spreg's ``ML_Lag`` / ``ML_Error`` (``--spreg-method``, default ``LU``, its
  fastest ML method) on the same files, read with pandas and libpysal, with
  ``spat_impacts=None``. Above the first size where spreg fails or exceeds
  ``--spreg-timeout`` seconds it is not run again for that model.

Wall time and peak resident memory (the child's ``ru_maxrss``, from
``os.wait4``) are measured per process. The table gives the ratio spreg/rtsmig.

Options: --sizes 2500,10000,... --models lag,error --spreg-method LU
--spreg-timeout 600 --skip-spreg-above N --workdir DIR.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

PARAM = 0.5
BETA = np.array([1.0, 2.0, -1.0])
SPREG_SCRIPT = """
import sys, pandas as pd, numpy as np, spreg, contextlib, io
from libpysal.graph import read_parquet
data, weights, model, method = sys.argv[1:5]
frame = pd.read_csv(data, dtype={"id": str}).set_index("id")
graph = read_parquet(weights).transform("r")
w = graph.to_W()
y, X = frame[["y"]].to_numpy(), frame[["x1", "x2"]].to_numpy()
estimator = spreg.ML_Lag if model == "lag" else spreg.ML_Error
kwargs = {"spat_impacts": None} if model == "lag" else {}
import time
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    fit = estimator(y, X, w=w, method=method, **kwargs)
print(time.perf_counter() - start)
"""
# The estimation step alone (SEs and impacts included), timed inside one process.
RTSMIG_FIT_SCRIPT = """
import sys, time
from pathlib import Path
from rtsmig.models import FitSpec, fit
from rtsmig.pipeline.steps import load_dataset
data, weights, model = sys.argv[1:4]
dataset, _ = load_dataset(Path(data), "id", "y", ["x1", "x2"], Path(weights))
start = time.perf_counter()
fit(FitSpec(model=model, y="y", x=("x1", "x2")), dataset)
print(time.perf_counter() - start)
"""


def rook_edges(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of every rook link of a side x side grid, row-major positions."""
    cells = np.arange(side * side).reshape(side, side)
    a = np.concatenate([cells[:, :-1].ravel(), cells[:-1, :].ravel()])
    b = np.concatenate([cells[:, 1:].ravel(), cells[1:, :].ravel()])
    return np.concatenate([a, b]), np.concatenate([b, a])


def write_inputs(folder: Path, side: int, model: str) -> tuple[Path, Path]:
    """The lattice's data CSV and weights Parquet (libpysal's layout), written once per size and model."""
    from rtsmig.io import weights_io
    from rtsmig.weights.edges import Edges

    n = side * side
    data, weights = folder / f"{model}_{n}.csv", folder / f"rook_{n}.parquet"
    heads, tails = rook_edges(side)
    ids = np.array([f"r{i}" for i in range(n)], dtype=object)
    if not weights.exists():
        edges = Edges.from_positions(ids, heads, tails, np.ones(heads.size))
        if hasattr(weights_io, "write_edges"):
            weights_io.write_edges(edges, weights)
        else:  # through a libpysal Graph: slower, same file
            weights_io.write_weights(edges.to_graph(), weights)
    if not data.exists():
        C = sp.csr_array((np.ones(heads.size), (heads, tails)), shape=(n, n))
        W = sp.csr_array(C / C.sum(axis=1)[:, None])
        rng = np.random.default_rng(n)
        X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
        e = rng.standard_normal(n)
        signal = X @ BETA + e if model == "lag" else e
        filtered, term = signal.copy(), signal
        for _ in range(60):  # (I - 0.5 W)^-1 by its power series: 0.5^60 is below rounding
            term = PARAM * (W @ term)
            filtered += term
        y = filtered if model == "lag" else X @ BETA + filtered
        pd.DataFrame({"id": ids, "y": y, "x1": X[:, 1], "x2": X[:, 2]}).to_csv(data, index=False)
    return data, weights


def run(cmd: list[str], timeout: float | None) -> tuple[float, float, bool, str]:
    """Wall seconds, peak RSS in GB, success and standard output of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = None if timeout is None else start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            return math.inf, usage.ru_maxrss / 1e6, False, ""
        time.sleep(0.05)
    # Outputs are a line or two, far below the pipe's buffer, so waiting first cannot block.
    elapsed, out = time.perf_counter() - start, proc.stdout.read()
    return elapsed, usage.ru_maxrss / 1e6, os.waitstatus_to_exitcode(status) == 0, out


def rtsmig_cmd(data: Path, weights: Path, model: str, out: Path) -> list[str]:
    exe = shutil.which("rtsmig") or str(Path(sys.executable).with_name("rtsmig"))
    return [exe, "fit", str(data), "--id", "id", "--weights", str(weights), "--model", model,
            "--y", "y", "--x", "x1,x2", "-o", str(out), "--quiet"]


def measure_rtsmig(data: Path, weights: Path, model: str, out: Path) -> tuple[float, float, float] | None:
    """(process s, peak GB, fit s) of rtsmig, or None if it failed."""
    secs, gb, ok, _ = run(rtsmig_cmd(data, weights, model, out), None)
    _, _, fit_ok, fit_out = run([sys.executable, "-c", RTSMIG_FIT_SCRIPT, str(data), str(weights), model], None)
    return (secs, gb, float(fit_out.strip())) if ok and fit_ok else None


def measure_spreg(data: Path, weights: Path, model: str, method: str, timeout: float) -> tuple | str:
    """(process s, peak GB, fit s) of spreg, or why not ("timeout > T s" / "failed")."""
    secs, gb, ok, out = run([sys.executable, "-c", SPREG_SCRIPT, str(data), str(weights), model, method], timeout)
    if ok:
        return secs, gb, float(out.strip())
    return f"timeout (> {timeout:.0f} s), {gb:.2f} GB" if math.isinf(secs) else f"failed, {gb:.2f} GB"


def row(ours: tuple | None, theirs: tuple | str | None) -> str:
    """The table cells after n and model."""
    left = "failed | - | -" if ours is None else f"{ours[0]:.2f} | {ours[1]:.2f} | {ours[2]:.2f}"
    if theirs is None:
        return f"{left} | not run | - | - | - | -"
    if isinstance(theirs, str):
        return f"{left} | {theirs} | - | - | - | -"
    right = f"{theirs[0]:.2f} | {theirs[1]:.2f} | {theirs[2]:.2f}"
    ratios = "- | -" if ours is None else f"{theirs[0] / ours[0]:.1f} | {theirs[2] / ours[2]:.0f}"
    return f"{left} | {right} | {ratios}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2500,10000,40000,160000,1000000")
    parser.add_argument("--models", default="lag,error")
    parser.add_argument("--spreg-method", default="LU")
    parser.add_argument("--spreg-timeout", type=float, default=600.0)
    parser.add_argument("--skip-spreg-above", type=int, default=10**9)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rtsmig-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print("| n | model | rtsmig process s | rtsmig GB | rtsmig fit s | spreg process s | spreg GB "
          "| spreg fit s | ratio (process) | ratio (fit) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    spreg_alive = dict.fromkeys(args.models.split(","), True)
    for n in map(int, args.sizes.split(",")):
        side = math.isqrt(n)
        for model in args.models.split(","):
            data, weights = write_inputs(workdir, side, model)
            ours = measure_rtsmig(data, weights, model, workdir / f"out_{model}_{n}")
            theirs = None
            if spreg_alive[model] and n <= args.skip_spreg_above:
                theirs = measure_spreg(data, weights, model, args.spreg_method, args.spreg_timeout)
                spreg_alive[model] = isinstance(theirs, tuple)
            print(f"| {side * side:,} | {model} | {row(ours, theirs)} |", flush=True)
    print(f"\nspreg method: {args.spreg_method}; inputs in {workdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
