"""The trained model understands every held-out text the same through bot/graph_runner.py as through Rasa's
own dask runner: the same intent, confidence, ranking and entities."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.rasa_process import rasa_environment
from bot.settings import PROJECT_ROOT, get_settings


def test_the_trained_model_parses_alike_both_ways(trained_model: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.rasa.parse_both_ways", str(trained_model)],
        cwd=PROJECT_ROOT, env=rasa_environment(get_settings()), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(found["texts"]) >= 200  # four languages
    different = [text for text, rasas, ours in zip(found["texts"], found["rasas"], found["ours"], strict=True)
                 if rasas != ours]  # fmt: skip
    assert not different
    assert {parse["intent"]["name"] for parse in found["ours"]} >= {"greet", "order_status", "faq_shipping"}
