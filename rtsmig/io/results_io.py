"""Read fitted results back from their folders for ``rtsmig table``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rtsmig.errors import InputError
from rtsmig.models.results import FitResult

RESULT_FILE = "result.json"


def read_result(path: str | os.PathLike) -> FitResult:
    """A FitResult from a results folder (its ``result.json``) or the JSON file itself."""
    path = Path(path)
    file = path / RESULT_FILE if path.is_dir() else path
    if not file.exists():
        raise InputError(f"{file}: no such file; pass a folder written by 'rtsmig fit' or its result.json")
    try:
        return FitResult.from_dict(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{file}: not a result written by 'rtsmig fit' ({exc}); refit to recreate it") from exc
