"""Monte Carlo: bias and 95% coverage of the ML lag model's rho, betas and impacts.

A benchmark, not a test (it takes minutes): ``python benchmarks/montecarlo.py``.
Each replication draws X ~ N(0, 1) (two regressors) and e ~ N(0, 1) on a 20 x 20
rook lattice (row-standardised), sets y = (I - rho W)^-1 (X beta + e) with
rho = 0.5 and beta = (1, 1, -0.5), fits the lag model by ML with rtsmig, and
records whether each 95% interval (coefficients: Wald; impacts: percentile
interval of 1000 simulated draws, R's impacts(R=)) contains the truth. It also
times rtsmig's fit and spreg's ML_Lag (method "full", no impacts) on the same data.

Options: --reps N (default 500), --seed S (default 20261123), --n-side K (default 20).
Prints a Markdown table; the README quotes its latest output.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

import numpy as np
import scipy.sparse as sp
from libpysal.weights import lat2W

from rtsmig.dataset import Dataset
from rtsmig.models import FitSpec, fit
from rtsmig.models.impacts import spatial_impacts

RHO, BETA = 0.5, np.array([1.0, 1.0, -0.5])
NAMES = ("(Intercept)", "x1", "x2")


def lattice(side: int) -> sp.csr_array:
    w = lat2W(side, side, rook=True)
    w.transform = "r"
    return sp.csr_array(w.sparse)


def true_impacts(W: sp.csr_array) -> dict[tuple[str, str], float]:
    impacts, _ = spatial_impacts(W, NAMES[1:], np.append(BETA, RHO), beta_index=[1, 2], rho_index=3, se="none")
    return {(i.variable, i.effect): i.estimate for i in impacts}


def replicate(W: sp.csr_array, rng: np.random.Generator) -> tuple[Dataset, np.ndarray]:
    n = W.shape[0]
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    y = sp.linalg.spsolve(sp.identity(n, format="csc") - RHO * W.tocsc(), X @ BETA + rng.standard_normal(n))
    return Dataset(tuple(map(str, range(n))), y, X, "y", NAMES, W=W), X


def time_spreg(data: Dataset, W) -> float:
    import spreg  # imported here: only the timing column needs it

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # spreg 1.9 prints the model name
        spreg.ML_Lag(data.y[:, None], data.X[:, 1:], w=W, method="full", spat_impacts=None)
    return time.perf_counter() - start


def run(reps: int, seed: int, side: int) -> dict:
    W = lattice(side)
    w_pysal = lat2W(side, side, rook=True)
    w_pysal.transform = "r"
    truth = {**dict(zip(NAMES, BETA)), "rho": RHO, **true_impacts(W)}
    errors = {k: [] for k in truth}
    covered = {k: 0 for k in truth}
    timing = {"rtsmig": 0.0, "spreg": 0.0}
    rng = np.random.default_rng(seed)
    spec = FitSpec(model="lag", y="y", x=NAMES[1:], draws=1000, seed=1)
    for _ in range(reps):
        data, _ = replicate(W, rng)
        start = time.perf_counter()
        result = fit(spec, data)
        timing["rtsmig"] += time.perf_counter() - start
        timing["spreg"] += time_spreg(data, w_pysal)
        rows = {c.term: (c.estimate, c.ci_low, c.ci_high) for c in result.coefficients}
        rows |= {(i.variable, i.effect): (i.estimate, i.ci_low, i.ci_high) for i in result.impacts}
        for key, value in truth.items():
            estimate, low, high = rows[key]
            errors[key].append(estimate - value)
            covered[key] += low <= value <= high
    return {"truth": truth, "errors": errors, "covered": covered, "timing": timing, "reps": reps, "n": W.shape[0]}


def table(out: dict) -> str:
    lines = [
        f"Lag model, {out['n']} regions (rook lattice), {out['reps']} replications",
        "",
        "| parameter | true | mean bias | RMSE | 95% coverage |",
        "|:--|--:|--:|--:|--:|",
    ]
    for key, value in out["truth"].items():
        label = key if isinstance(key, str) else f"{key[0]} ({key[1]})"
        e = np.asarray(out["errors"][key])
        cover = out["covered"][key] / out["reps"]
        lines.append(f"| {label} | {value:.4f} | {e.mean():+.4f} | {np.sqrt(np.mean(e**2)):.4f} | {cover:.3f} |")
    t = out["timing"]
    lines += [
        "",
        (
            f"Mean fit time per replication: rtsmig {1e3 * t['rtsmig'] / out['reps']:.1f} ms "
            f"(ML + SEs + impacts with 1000 simulated draws), spreg ML_Lag {1e3 * t['spreg'] / out['reps']:.1f} ms "
            f"(ML + SEs, no impacts); ratio spreg/rtsmig {t['spreg'] / t['rtsmig']:.2f}."
        ),
        f"Monte Carlo standard error of a 95% coverage: {np.sqrt(0.95 * 0.05 / out['reps']):.3f}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--n-side", type=int, default=20)
    args = parser.parse_args()
    print(table(run(args.reps, args.seed, args.n_side)))


if __name__ == "__main__":
    main()
