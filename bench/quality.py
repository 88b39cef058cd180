"""NLU quality of the served model: `rasa test nlu` on the held-out set, per language (tests/nlu/<lang>.yml).

Both languages run in one child process (bot.training.rasa_runner, as the model lifecycle scores), so
TensorFlow loads once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.i18n import SUPPORTED_LANGUAGES
from bot.settings import PROJECT_ROOT

LANGUAGES = SUPPORTED_LANGUAGES


def rasa_commands(commands: list[list[str]], env: dict[str, str], log_file: Path, cwd: Path = PROJECT_ROOT) -> float:
    """Run Rasa CLI commands in one process; seconds taken (starting Python and TensorFlow included)."""
    started = time.monotonic()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        result = subprocess.run(
            [sys.executable, "-m", "bot.training.rasa_runner", *(json.dumps(c) for c in commands)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        raise RuntimeError(f"rasa {commands} failed with {result.returncode}; see {log_file}")
    return time.monotonic() - started


def nlu_scores(model: Path, out_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    commands = [
        ["test", "nlu", "--nlu", f"tests/nlu/{language}.yml", "--model", str(model),
         "--out", str(out_dir / language), "--no-plot"]
        for language in LANGUAGES
    ]  # fmt: skip
    seconds = rasa_commands(commands, env, out_dir / "rasa-test-nlu.log")
    result: dict[str, Any] = {"model": model.name, "seconds": round(seconds, 1), "languages": {}}
    for language in LANGUAGES:
        report = json.loads((out_dir / language / "intent_report.json").read_text(encoding="utf-8"))
        result["languages"][language] = {
            "examples": int(report["macro avg"]["support"]),
            "accuracy": round(float(report["accuracy"]), 4),
            "macro_f1": round(float(report["macro avg"]["f1-score"]), 4),
        }
    return result
