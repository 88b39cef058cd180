"""`python -m bot train`: the project's own model, models/varde.tar.gz, trained again only when what it
depends on changed since the last one (or when forced).

The lifecycle's candidates (bot/training/lifecycle.py) live in models/candidates/; a Rasa server that
(re)starts serves the history's live model unless this one is newer (history.serving_model).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from bot.rasa_process import rasa_environment
from bot.settings import PROJECT_ROOT, get_settings
from bot.training.fingerprints import files_fingerprint
from bot.training.model_files import latest_model

log = logging.getLogger("bot")

# Everything a trained model depends on; a change in any of these means a new model.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "bot/nlu")  # bot/nlu: our own NLU components
FINGERPRINT_FILE = PROJECT_ROOT / "models" / ".fingerprint"


def training_fingerprint() -> str:
    """The training inputs' fingerprint (a missing one counts as missing: fingerprints.files_fingerprint)."""
    return files_fingerprint(PROJECT_ROOT, TRAINING_INPUTS)


def train(force: bool = False) -> Path:
    """Train when the data changed since the last model (or when forced); return the model."""
    fingerprint = training_fingerprint()
    model = latest_model()
    if not force and model and FINGERPRINT_FILE.exists() and FINGERPRINT_FILE.read_text() == fingerprint:
        log.info("model %s is up to date with the training data", model.name)
        return model
    log.info("training a new model (this shows Rasa's progress)...")
    command = [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "varde", "--out", "models"]
    subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_environment(get_settings()), check=True)
    FINGERPRINT_FILE.write_text(fingerprint)
    model = latest_model()
    assert model is not None
    return model
