"""Provenance: what a run read, with which versions and options.

Written beside every output as ``manifest.json`` (results folders) or as the
``OUT.json`` sidecar of a weights file. It records file names, not absolute
paths, so that the same inputs give the same bytes on any machine.
"""

from __future__ import annotations

import functools
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from rtsmig import __version__
from rtsmig.io.atomic import sha256_file
from rtsmig.io.regions import input_files

DEPENDENCIES = (
    "geopandas", "libpysal", "numpy", "pandas", "pyarrow", "pyogrio",
    "scipy", "shapely", "spreg", "typer",
)


def dependency_versions() -> dict[str, str]:
    """Installed versions of the libraries whose behaviour shapes the numbers."""
    versions = {}
    for name in DEPENDENCIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe_input(path: str | os.PathLike) -> dict:
    """File name and SHA-256 of an input; a shapefile lists each of its parts."""
    files = input_files(path)
    return {
        "file": Path(path).name,
        "sha256": {f.name: file_digest(f) for f in files},
    }


def file_digest(path: Path) -> str:
    """SHA-256 of a file, hashed once per version of it in this process.

    A run file checks every fit against its manifest, and each check describes the
    same data and weights files; the (inode, size, mtime) key rehashes a file
    only when it has been written since.
    """
    st = os.stat(path)
    return _digest(str(Path(path).resolve()), st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _digest(path: str, inode: int, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def sidecar_path(path: str | os.PathLike) -> Path:
    """The record beside a single-file output: ``OUT`` -> ``OUT.json`` (weights, scores, maps)."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def manifest(command: str, inputs: dict[str, str | os.PathLike], options: dict) -> dict:
    """The provenance record of one command run."""
    return {
        "command": command,
        "rtsmig": __version__,
        "dependencies": dependency_versions(),
        "inputs": {role: describe_input(p) for role, p in sorted(inputs.items())},
        "options": options,
    }


def to_json(record: dict) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, final newline."""
    return json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def read_json(path: str | os.PathLike) -> dict | None:
    """A JSON file's content, or ``None`` when it does not exist or is not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
