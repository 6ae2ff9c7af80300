"""``rtsmig run``: the bundled strategy example, or a run file's whole grid."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from rtsmig.cli.options import QuietOption
from rtsmig.cli.progress import steps
from rtsmig.pipeline.strategy import MODELS, STEPS, run_strategy_example


def run(
    runfile: Annotated[
        Path | None, typer.Argument(help="A run file (TOML); without it, the bundled strategy example.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Strategy example: folder for its outputs.")] = Path(
        "rtsmig-out"
    ),
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Run file: fits in parallel processes [default: cores].")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Run file: refit even what is up to date.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Run file: list what would run, run nothing.")] = False,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Run file: fit on this Dask scheduler (tcp://HOST:PORT).")
    ] = None,
    dask_local: Annotated[
        int | None, typer.Option("--dask-local", min=1, help="Run file: fit on a local Dask cluster of N workers.")
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="When another run is writing the output folder, stop (exit 3), not wait.")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Run the strategy example, or every weights spec and fit of a run file.

    Without RUNFILE: synthetic data (examples/strategy/data.csv) on the bundled
    China prefectures -> strategy indices from the survey items (reliability
    tables) -> queen weights -> OLS, lag and error by ML -> comparison and
    impacts tables -> spatial mediation through the three channels -> maps, as
    examples/strategy/Makefile does.

    With RUNFILE: scores the [index] items, builds the named weights, fits every
    combination of the grid (models x methods x weights x variable sets), writes
    one comparison table per variable set and weights, then runs the [mediate]
    analyses and draws the [maps]. Like make, only what is out of date runs: a fit
    whose inputs (by SHA-256) and options match its manifest.json is skipped. A
    failed fit does not stop the others; the exit code reports failures.

    One run at a time writes an output folder: a second one waits for the
    first (or, with --no-wait, stops at once). Ctrl-C stops the run and its
    worker processes (exit 130); what was written before stays whole.

    Example: rtsmig run examples/strategy/grid.toml --jobs 2

    Example (Dask): rtsmig run grid.toml --scheduler tcp://10.0.0.5:8786
    """
    if runfile is None:
        with steps(STEPS, quiet) as step:
            tables = run_strategy_example(out, step, wait=not no_wait, waiting=_waiting)
        typer.echo(f"model folders: {', '.join(str(out / m) for m in MODELS)}", err=True)
        for path in tables.values():
            typer.echo(str(path))
        return
    if scheduler is not None and dask_local is not None:
        raise typer.BadParameter("use --scheduler or --dask-local, not both", param_hint="--dask-local")
    dask = None
    if scheduler is not None or dask_local is not None:
        from rtsmig.runfile.execute import DaskTarget

        dask = DaskTarget(scheduler, dask_local)
    _run_file(runfile, jobs or os.cpu_count() or 1, force, dry_run, quiet, dask, not no_wait)


def _waiting(folder: Path) -> None:
    typer.echo(f"waiting for the run holding {folder} ...", err=True)


def _run_file(runfile: Path, jobs: int, force: bool, dry_run: bool, quiet: bool, dask, wait: bool) -> None:
    from rtsmig.runfile.execute import plan_text, run_file
    from rtsmig.runfile.outputs import outside_note
    from rtsmig.runfile.plan import fit_tasks, weights_tasks
    from rtsmig.runfile.schema import read_runfile

    run = read_runfile(runfile)
    outside = outside_note(run)
    if dry_run:
        if outside is not None:
            typer.echo(f"note\toutput folder {outside} is outside the run file's folder")
        for line in plan_text(run, force):
            typer.echo(line)
        return
    if outside is not None:
        typer.echo(f"output folder: {outside} (outside the run file's folder)", err=True)
    total = (run.index is not None) + len(weights_tasks(run)) + len(fit_tasks(run)) + len(run.mediations) + len(run.maps)
    with steps(total, quiet) as step:
        summary = run_file(run, jobs=jobs, force=force, step=step, dask=dask, wait=wait, waiting=_waiting)
    typer.echo(
        f"{len(summary.built)} indices/weights built, {len(summary.fitted)} fits/mediations/maps run, "
        f"{len(summary.skipped)} up to date, {len(summary.failed)} failed", err=True,
    )
    for name, message, _ in summary.failed:
        typer.echo(f"failed: {name}: {message}", err=True)
    for path in summary.tables:
        typer.echo(str(path))
    if summary.failed:
        raise typer.Exit(summary.exit_code)
