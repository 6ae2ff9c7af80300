"""Exact queen contiguity at scale: rtsmig against libpysal, the builder alone or end to end.

A benchmark, not a test: ``python benchmarks/weights_scale.py``. Each size n is
a k x k lattice of unit squares (n = k**2, built with a vectorised ``shapely.box``).

Default mode, the builder alone, timed in the same run:

- rtsmig: ``contiguity_pairs(geoms, rook=False)`` (the neighbour pairs as positions);
- libpysal: ``Graph.build_contiguity(GeoSeries, rook=False)`` (default ``strict=False``,
  the vertex-set rule rtsmig reproduces), which includes building its Graph;
- optionally (``--graph``) rtsmig's ``build_contiguity``, i.e. the pairs plus the
  libpysal Graph that ``Edges.to_graph`` makes from them, for a like-for-like total.

Each measurement runs in a fresh process so that one builder's memory does not
hide another's peak; "peak MB" is the rise of the process's peak resident memory
(Linux VmHWM, reset just before the call; elsewhere ``ru_maxrss``) over its resident
memory once the lattice exists. The number of directed links is checked against
the lattice's count, 4k(k-1) rook plus 4(k-1)^2 diagonal.

``--end-to-end`` mode, the whole job as a user runs it: the lattice is written
once to a GeoParquet file (geoarrow encoding, the fastest layer for
``rtsmig weights build`` to read) with an integer ``id`` column, then each side
runs as a child process, imports and all:

- rtsmig: ``python -m rtsmig weights build FILE --id id --kind queen -o out.parquet``
  (read, build, islands policy, row-standardise, summary, weights file and sidecar);
- libpysal: a script that reads FILE with geopandas, then
  ``Graph.build_contiguity(rook=False).transform("r").to_parquet(out)``.

Seconds are wall-clock from start to exit; "peak MB" is the child's whole peak
resident memory (``ru_maxrss`` from ``os.wait4``). Both weights files are read
back and must hold the same ids, links and weights, bit for bit.

Options: --sizes (default 10000 250000 1000000; rounded down to squares),
--skip-libpysal-above N (default: never skip), --graph, --end-to-end,
--workdir (end to end: where the files go; default a temporary folder).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def lattice(side: int) -> np.ndarray:
    """``side**2`` unit squares, row by row, as a shapely array."""
    col, row = np.meshgrid(np.arange(side, dtype=float), np.arange(side, dtype=float))
    col, row = col.ravel(), row.ravel()
    return shapely.box(col, row, col + 1, row + 1)


def expected_links(side: int) -> int:
    """Directed queen links of a side x side lattice: rook 4k(k-1) plus diagonals 4(k-1)^2."""
    return 4 * side * (side - 1) + 4 * (side - 1) ** 2


def _status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` memory field in MB, or None off Linux."""
    if not STATUS.exists():
        return None
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def _reset_peak() -> bool:
    """Reset the peak-RSS mark (Linux: write 5 to clear_refs); False when not possible."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _maxrss_mb() -> float:
    # ru_maxrss is in kB on Linux and bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _links(builder: str, geoms: np.ndarray) -> int:
    """Run one builder; return its number of directed links."""
    if builder == "rtsmig":
        from rtsmig.weights.contiguity import contiguity_pairs

        heads, _ = contiguity_pairs(geoms, rook=False)
        return len(heads)
    import geopandas as gpd

    if builder == "rtsmig+Graph":
        from rtsmig.weights.contiguity import build_contiguity

        ids = np.arange(len(geoms)).astype(str)
        graph = build_contiguity(gpd.GeoSeries(geoms, index=ids), rook=False)
    else:
        from libpysal.graph import Graph

        graph = Graph.build_contiguity(gpd.GeoSeries(geoms), rook=False)
    return int(np.count_nonzero(graph.adjacency.to_numpy()))


def measure(builder: str, side: int) -> tuple[float, float | None, int]:
    """Seconds, peak-memory rise (MB) and link count of one builder on one lattice."""
    _links(builder, lattice(3))  # warm up: imports and first-call set-up are not timed
    geoms = lattice(side)
    gc.collect()
    if _reset_peak():
        before = _status_mb("VmRSS")
    else:
        before = _maxrss_mb()
    start = time.perf_counter()
    links = _links(builder, geoms)
    seconds = time.perf_counter() - start
    peak = _status_mb("VmHWM") if before is not None and CLEAR_REFS.exists() else _maxrss_mb()
    return seconds, (peak - before) if peak is not None else None, links


def in_child(builder: str, side: int) -> tuple[float, float | None, int]:
    """:func:`measure` in a fresh (spawned) process."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure, (builder, side))


def fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


LIBPYSAL_JOB = """
import sys
import geopandas as gpd
from libpysal.graph import Graph

frame = gpd.read_parquet(sys.argv[1]).set_index("id")
Graph.build_contiguity(frame, rook=False).transform("r").to_parquet(sys.argv[2])
"""


def write_layer(side: int, path: Path) -> None:
    """The lattice as GeoParquet, ids 0..n-1 in an ``id`` column."""
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"id": np.arange(side * side)}, geometry=lattice(side), crs="EPSG:3857")
    frame.to_parquet(path, geometry_encoding="geoarrow")


def run_child(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one child process; its failure ends the benchmark."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child cannot block on it
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{errors.read().decode()}")
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, kB on Linux
    return seconds, usage.ru_maxrss / scale


def check_same_weights(ours: Path, theirs: Path, side: int) -> None:
    """Both files hold the lattice's links with the same ids and weights, bit for bit."""
    from rtsmig.io.weights_io import read_edges

    a, b = read_edges(ours), read_edges(theirs)
    if len(a.heads) != expected_links(side):
        raise SystemExit(f"{ours}: {len(a.heads)} links, the lattice has {expected_links(side)}")
    for part in ("ids", "heads", "tails", "weights"):
        if not np.array_equal(getattr(a, part), getattr(b, part)):
            raise SystemExit(f"{ours} and {theirs} differ in their {part}")
    if a.transformation != b.transformation:
        raise SystemExit(f"{ours} is {a.transformation}-transformed, {theirs} {b.transformation}")


def end_to_end(args: argparse.Namespace, folder: Path) -> None:
    """The ``--end-to-end`` table: the CLI against a libpysal script, each in a child process."""
    header = ["n", "rtsmig s", "libpysal s", "libpysal/rtsmig", "rtsmig peak MB", "libpysal peak MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size in args.sizes:
        side = math.isqrt(size)
        n = side * side
        layer, ours_out, theirs_out = (folder / f"{stem}_{n}.parquet" for stem in ("lattice", "rtsmig", "libpysal"))
        write_layer(side, layer)
        rtsmig = [sys.executable, "-m", "rtsmig", "weights", "build", str(layer), "--id", "id"]
        ours, ours_mb = run_child([*rtsmig, "--kind", "queen", "-o", str(ours_out), "--quiet"])
        theirs = theirs_mb = None
        if args.skip_libpysal_above is None or n <= args.skip_libpysal_above:
            theirs, theirs_mb = run_child([sys.executable, "-c", LIBPYSAL_JOB, str(layer), str(theirs_out)])
            check_same_weights(ours_out, theirs_out, side)
        ratio = None if theirs is None else theirs / ours
        row = [f"{n:,}", f"{ours:.2f}", fmt(theirs, ".2f"), fmt(ratio, ".1f"), fmt(ours_mb, ".0f"), fmt(theirs_mb, ".0f")]
        print("| " + " | ".join(row) + " |", flush=True)
        for path in (layer, ours_out, theirs_out, ours_out.with_name(ours_out.name + ".json")):
            path.unlink(missing_ok=True)


def builder_alone(args: argparse.Namespace) -> None:
    """The default table: the contiguity builders alone, each in a spawned process."""
    header = ["n", "rtsmig s", "libpysal s", "libpysal/rtsmig", "rtsmig peak MB", "libpysal peak MB"]
    if args.graph:
        header[2:2] = ["rtsmig+Graph s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size in args.sizes:
        side = math.isqrt(size)
        n = side * side
        ours, ours_mb, links = in_child("rtsmig", side)
        if links != expected_links(side):
            raise SystemExit(f"n={n}: rtsmig found {links} links, the lattice has {expected_links(side)}")
        row = [f"{n:,}", f"{ours:.2f}"]
        if args.graph:
            with_graph, _, graph_links = in_child("rtsmig+Graph", side)
            assert graph_links == links
            row.append(f"{with_graph:.2f}")
        theirs = theirs_mb = None
        if args.skip_libpysal_above is None or n <= args.skip_libpysal_above:
            theirs, theirs_mb, their_links = in_child("libpysal", side)
            if their_links != links:
                raise SystemExit(f"n={n}: libpysal found {their_links} links, rtsmig {links}")
        ratio = None if theirs is None else theirs / ours
        row += [fmt(theirs, ".2f"), fmt(ratio, ".1f"), fmt(ours_mb, ".0f"), fmt(theirs_mb, ".0f")]
        print("| " + " | ".join(row) + " |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 250_000, 1_000_000])
    parser.add_argument("--skip-libpysal-above", type=int, default=None, metavar="N")
    parser.add_argument("--graph", action="store_true", help="also time build_contiguity (pairs + Graph)")
    parser.add_argument("--end-to-end", action="store_true", help="time the CLI against a libpysal script")
    parser.add_argument("--workdir", type=Path, default=None, help="end to end: folder for the files")
    args = parser.parse_args(argv)
    if not args.end_to_end:
        builder_alone(args)
    elif args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        end_to_end(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="weights_scale_") as folder:
            end_to_end(args, Path(folder))


if __name__ == "__main__":
    main()
