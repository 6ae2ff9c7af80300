"""Every path a run file's plan writes, listed in one place and checked before anything is written.

:func:`output_paths` lists the weights files, the fit folders, the tables, the
scores, the mediation folders and the maps (with their sidecars) that a run may
write. :func:`check_outputs` resolves each one (following symbolic links) and
refuses the plan when one would land outside ``[output] folder``, on an input,
or on another output. The names of the run file are plain already
(:mod:`rtsmig.runfile.names`); what the check still catches is the disk: a
``weights`` or ``fits/...`` folder that is a symbolic link to elsewhere.

The same list tells a run which folders it may clean up (:func:`planned_folders`):
the hidden staging files a killed run left in them and the folders it created
but did not fill (:mod:`rtsmig.io.lock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rtsmig.errors import OutputError, RunFileError
from rtsmig.io.manifest import sidecar_path
from rtsmig.io.regions import input_files
from rtsmig.runfile.analyses_run import map_path, mediation_path, reliability_paths
from rtsmig.runfile.names import shown_key
from rtsmig.runfile.plan import fit_tasks, table_tasks, weights_tasks

if TYPE_CHECKING:
    from rtsmig.runfile.schema import RunFile

EQUATIONS = "equations"  # a mediation folder holds one results folder per equation here


@dataclass(frozen=True)
class Output:
    """A path the plan writes: what writes it (for messages), and whether it is a whole folder.

    ``inner`` paths lie inside a folder written whole (a mediation's equations):
    checked like the others, but never cleaned up on their own.
    """

    path: Path
    what: str
    folder: bool = False
    inner: bool = False


def output_paths(run: RunFile) -> list[Output]:
    """Every file and folder the run may write below ``run.folder``, in plan order."""
    out: list[Output] = []
    if run.index is not None:
        out += [Output(p, "[index]") for p in (run.scores, sidecar_path(run.scores), *reliability_paths(run))]
    for task in weights_tasks(run):
        what = f"the weights file of {shown_key('weights', task.name)}"
        out += [Output(task.path, what), Output(sidecar_path(task.path), what)]
    tasks = fit_tasks(run)
    out += [Output(t.folder, f"the fit {t.name}", folder=True) for t in tasks]
    out += [Output(t.path, f"the table {t.path.name} of [grid]") for t in table_tasks(run, tasks)]
    for m in run.mediations.values():
        what = shown_key("mediate", m.name)
        folder = mediation_path(run, m)
        out.append(Output(folder, what, folder=True))
        out += [Output(folder / EQUATIONS / c, what, inner=True) for c in (*m.spec.mediators, m.spec.y)]
    for m in run.maps.values():
        what = shown_key("maps", m.name)
        out += [Output(map_path(run, m), what), Output(sidecar_path(map_path(run, m)), what)]
    return out


def check_outputs(run: RunFile) -> None:
    """Refuse the plan if an output resolves outside ``run.folder``, onto an input, or onto another output.

    Raises
    ------
    OutputError
        An output that a symbolic link takes outside the output folder (exit 3).
    RunFileError
        Two outputs with one path, or an output that is an input (or holds one): exit 2.
    """
    root = _resolved(run.folder, run, "[output] folder")
    inputs = _inputs(run)
    seen: dict[Path, str] = {}
    for out in output_paths(run):
        target = _resolved(out.path, run, out.what)
        if target == root or not target.is_relative_to(root):
            raise OutputError(
                f"{out.path}: ({out.what}) resolves to {target}, outside the output folder {root}; "
                "remove the symbolic link in between or choose another [output] folder"
            )
        if target in seen:
            raise RunFileError(f"{run.path}: {out.what} and {seen[target]} would both write {out.path}; rename one")
        seen[target] = out.what
        for key, path in inputs:
            if path == target or (out.folder and path.is_relative_to(target)):
                raise RunFileError(
                    f"{run.path}: {key} {path} would be replaced by {out.what}; keep inputs out of the outputs"
                )


def _inputs(run: RunFile) -> list[tuple[str, Path]]:
    named = [("[inputs] regions", p) for p in input_files(run.regions)] + [("[inputs] data", run.data)]
    if run.index is not None:
        named.append(("[index] items", run.index.items))
    return [(key, _resolved(path, run, key)) for key, path in named]


def _resolved(path: Path, run: RunFile, what: str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte, a name too long
        raise RunFileError(f"{run.path}: {what}: {path} is not a usable path ({exc})") from exc


def outside_note(run: RunFile) -> Path | None:
    """The resolved output folder when it lies outside the run file's folder (``../out``, ``/data/out``), else None.

    Allowed, but the plan says so: such a run writes where a reader of the run
    file may not look.
    """
    folder = run.folder.resolve()
    return None if folder.is_relative_to(run.path.parent.resolve()) else folder


def planned_folders(run: RunFile) -> list[Path]:
    """The folders the outputs go into, from ``run.folder`` down, deepest last."""
    folders = {run.folder}
    for out in output_paths(run):
        if out.inner:
            continue
        parent = out.path.parent
        while parent != run.folder and parent.is_relative_to(run.folder):
            folders.add(parent)
            parent = parent.parent
    return sorted(folders, key=lambda p: (len(p.parts), str(p)))
