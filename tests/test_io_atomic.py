"""Atomic writes leave results as readable as any file the user writes (umask), not private."""

from __future__ import annotations

import os
import stat

import pytest

from rtsmig.io.atomic import write_folder, write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask, file_mode, folder_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_files_and_folders_follow_the_umask(tmp_path, umask, file_mode, folder_mode):
    old = os.umask(umask)
    try:
        write_text(tmp_path / "table.md", "x\n")
        write_folder(tmp_path / "fit", {"a.csv": "1\n"})
    finally:
        os.umask(old)
    assert _mode(tmp_path / "table.md") == file_mode
    assert _mode(tmp_path / "fit") == folder_mode
    assert _mode(tmp_path / "fit" / "a.csv") == file_mode
