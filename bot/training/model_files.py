"""Model archives on disk: Rasa's id inside a .tar.gz, the archive of an id, the newest archive in a folder,
and where a model's evaluation reports go."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from bot.settings import PROJECT_ROOT


def model_metadata_id(model: Path) -> str | None:
    """Rasa's model_id from the archive's metadata.json (what GET /status reports as model_id)."""
    try:
        with tarfile.open(model, "r:gz") as archive:
            for member in archive:
                if member.name.lstrip("./") == "metadata.json":
                    handle = archive.extractfile(member)
                    return str(json.load(handle)["model_id"]) if handle else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return None
    return None


def find_model_file(model_id: str, folders: tuple[Path, ...]) -> Path | None:
    """The archive whose Rasa id is `model_id`: the folders in order, each newest first."""
    for folder in folders:
        for candidate in sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True):
            if model_metadata_id(candidate) == model_id:
                return candidate
    return None


def latest_model(folder: Path = PROJECT_ROOT / "models") -> Path | None:
    """The newest .tar.gz in the folder (by modification time): by default what `python -m bot train` made."""
    models = sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def evaluation_dir(model: Path) -> Path:
    """Rasa's test reports for a model: <name>.evaluation beside <name>.tar.gz."""
    return model.with_name(model.name.removesuffix(".tar.gz") + ".evaluation")
