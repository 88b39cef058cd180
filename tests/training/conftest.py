"""A private copy of the project's training files, so that no test ever changes the repository's data/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.training.workspace import TRAINING_FILES, Workspace


def copy_training_files(root: Path) -> None:
    for name in TRAINING_FILES:
        source, target = PROJECT_ROOT / name, root / name
        if not source.exists():
            continue  # e.g. tests/test_stories.yml before anyone wrote it: conversation tests count 0/0
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)


def git(root: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=tests", "-c", "user.email=tests@example.invalid", *args]
    return subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def data_copy(tmp_path: Path) -> Workspace:
    """The training files in a git repository of their own, so a test can read `git diff`."""
    copy_training_files(tmp_path)
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "--message", "copy of the project's training files")
    return Workspace(
        root=tmp_path,
        models_dir=tmp_path / "models",
        database_url=f"sqlite:///{tmp_path / 'registry.db'}",
        rasa_urls=("http://127.0.0.1:9",),  # nothing listens: these tests never reach Rasa
    )
