"""Coverage of `rtsmig mediate`'s Monte Carlo intervals on simulated strategy data with known paths.

For each model, REPS data sets from the strategy DGP (`rtsmig simulate`'s) on a queen
lattice, the channels entering migration (mediation) or not (no mediation, true
indirect effects zero); prints the share of the 95% intervals of the via-channel
effects (every cause, channel and part) that hold the true effect.

    python benchmarks/mediation_coverage.py --reps 50 --side 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from rtsmig.mediation import MediationSpec, mediate
from rtsmig.simulate import CHANNELS, DIMENSIONS, SimulationSpec, simulate_design

WITH = {"position": 0.8, "method": 0.5, "sustainability": 0.3, "flexibility": 0.6,
        "environment": 0.5, "technology": 0.4, "performance": 0.3}
WITHOUT = {d: WITH[d] for d in DIMENSIONS}


def queen_lattice(side: int) -> sp.csr_array:
    cells = np.arange(side * side).reshape(side, side)
    pairs = [(cells[:, :-1], cells[:, 1:]), (cells[:-1, :], cells[1:, :]),
             (cells[:-1, :-1], cells[1:, 1:]), (cells[:-1, 1:], cells[1:, :-1])]
    heads = np.concatenate([a.ravel() for a, _ in pairs] + [b.ravel() for _, b in pairs])
    tails = np.concatenate([b.ravel() for _, b in pairs] + [a.ravel() for a, _ in pairs])
    C = sp.csr_array((np.ones(heads.size), (heads, tails)), shape=(side * side,) * 2)
    return sp.csr_array(C / C.sum(axis=1)[:, None])


def truth(spec: SimulationSpec, W: np.ndarray, cause: str, channel: str) -> dict[str, float]:
    n = W.shape[0]
    theta = spec.theta.get(channel, 0.0) if spec.theta else 0.0
    S = np.linalg.solve(np.eye(n) - (spec.rho or 0.0) * W, spec.betas.get(channel, 0.0) * np.eye(n) + theta * W)
    S *= spec.channel_coefficients[channel][cause]
    internal, total = np.trace(S) / n, S.sum() / n
    return {"internal": internal, "external": total - internal, "total": total}


def coverage(model: str, betas: dict, reps: int, side: int, draws: int) -> tuple[float, int, float]:
    W = queen_lattice(side)
    dense = W.toarray()
    ids = [f"r{i}" for i in range(W.shape[0])]
    hits, seconds = [], 0.0
    for rep in range(reps):
        process = {"lam": 0.4} if model == "error" else {"rho": 0.4}
        if model == "durbin":
            process["theta"] = dict.fromkeys(betas, 0.2)
        spec = SimulationSpec(model=model, seed=1000 + rep, betas=betas, **process)
        frame = simulate_design(W, spec, ids)
        start = time.perf_counter()
        result = mediate(MediationSpec(model, "migration", DIMENSIONS, CHANNELS, draws=draws, seed=rep), frame, W)
        seconds += time.perf_counter() - start
        for cause in DIMENSIONS:
            for channel in CHANNELS:
                true = truth(spec, dense, cause, channel)
                for part in result.spec.parts:
                    e = result.effect(cause, "via " + channel, part)
                    hits.append(e.ci_low <= true[part] <= e.ci_high)
    return float(np.mean(hits)), len(hits), seconds / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--side", type=int, default=20)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    print(f"{args.reps} data sets per row, {args.side}x{args.side} queen lattice, {args.draws} draws, 95% intervals")
    print("| model | paths | coverage | intervals | mean seconds per analysis |")
    print("|---|---|---|---|---|")
    for label, betas in (("mediation", WITH), ("no mediation (truth 0)", WITHOUT)):
        for model in ("lag", "durbin", "error"):
            share, count, seconds = coverage(model, betas, args.reps, args.side, args.draws)
            print(f"| {model} | {label} | {share:.3f} | {count} | {seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
